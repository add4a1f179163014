import json

import numpy as np
import pytest

from neurosim.errors import InputFileError, ValidationError
from neurosim.mlp import MLP, Layer


def small_mlp(activation="relu", steepness=1.0):
    w1 = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, -1.0]], dtype=np.float32)
    m1 = np.array([[True, True, True], [False, True, True]])
    w2 = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]], dtype=np.float32)
    return MLP([Layer(w1, [0.1, 0.2, -0.3], m1), Layer.dense(w2, [0.0, 0.5])],
               activation, steepness, {"dataset": "hand"})


def test_forward_matches_hand_computation():
    net = small_mlp(steepness=2.0)
    x = np.array([[1.0, 1.0]], dtype=np.float32)
    # z1 = [1.1, -0.8, -0.8]; a1 = max(0, 2 z1) = [2.2, 0, 0]; logits = [2.2, 0.5]
    np.testing.assert_allclose(net.forward(x), [[2.2, 0.5]], rtol=1e-6)
    a1, logits = net.hidden_outputs(x)
    np.testing.assert_allclose(a1, [[2.2, 0, 0]], rtol=1e-6)
    assert net.predict(x).tolist() == [0]


def test_activations_and_constants():
    z = np.array([-1.0, 0.2, 3.0])
    relu, clip, sig = (small_mlp(a, 2.0) for a in ("relu", "clipped_relu", "sigmoid"))
    np.testing.assert_allclose(relu.activate(z), [0, 0.4, 6.0])
    np.testing.assert_allclose(clip.activate(z), [0, 0.4, 1.0])
    np.testing.assert_allclose(sig.activate(z), 1 / (1 + np.exp(-2 * z)))
    assert (relu.lipschitz, clip.lipschitz, sig.lipschitz) == (2.0, 2.0, 0.5)
    assert relu.bound_C == float("inf") and clip.bound_C == 1.0 and sig.bound_C == 1.0
    assert np.isfinite(sig.activate(np.array([-1e4, 1e4]))).all()


def test_dead_neurons_output_zero():
    net = small_mlp()
    x = np.array([[1.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    dead = np.array([True, False, False])
    a1, logits = net.hidden_outputs(x, dead=[dead])
    assert (a1[:, 0] == 0).all()
    # row 2: z1 = [1.1, -1.8, 0.2] -> a1 = [0 (dead), 0, 0.2] -> logits = [0.4, 0.3]
    np.testing.assert_allclose(logits, [[0.0, 0.5], [0.4, 0.3]], atol=1e-6)
    per_sample = np.array([[True, False, False], [False, False, False]])
    out = net.forward(x, dead=[per_sample])
    np.testing.assert_allclose(out[1], net.forward(x[1:])[0])
    assert out[0, 0] == 0


def test_mask_zeroes_weights_and_stats():
    net = small_mlp()
    # masked entry (1, 0) was 0 already; mask a nonzero one
    layer = Layer(np.ones((2, 2)), np.zeros(2), np.array([[True, False], [True, True]]))
    assert layer.weight[0, 1] == 0
    st = net.layer_stats()
    assert st[0] == {"n_in": 2, "n_out": 3, "nonzero": 5, "density": 5 / 6, "max_fan_in": 2,
                     "max_abs_w": 2.0, "mean_abs_w": pytest.approx(5.5 / 5)}
    assert st[1]["nonzero"] == 4 and st[1]["max_fan_in"] == 2
    assert st[1]["mean_abs_w"] == pytest.approx(5 / 6)  # zeros on existing connections count
    assert net.n_params == 9 and net.sizes == [2, 3, 2] and net.n_hidden == 3


def test_save_load_exact(tmp_path):
    net = small_mlp("sigmoid", 3.5)
    net.provenance["test_accuracy"] = 0.97
    p = tmp_path / "m.npz"
    net.save(p)
    back = MLP.load(p)
    assert back.activation == "sigmoid" and back.steepness == 3.5
    assert back.provenance == {"dataset": "hand", "test_accuracy": 0.97}
    for a, b in zip(net.layers, back.layers):
        assert np.array_equal(a.weight, b.weight) and a.weight.dtype == b.weight.dtype
        assert np.array_equal(a.bias, b.bias) and np.array_equal(a.mask, b.mask)
    assert list(tmp_path.iterdir()) == [p]


def test_load_errors(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        MLP.load(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(InputFileError, match="bad.npz: not a readable .npz"):
        MLP.load(bad)
    p = tmp_path / "m.npz"
    small_mlp().save(p)
    d = dict(np.load(p))
    d["format_version"] = np.array(7)
    np.savez(tmp_path / "v.npz", **d)
    with pytest.raises(InputFileError, match="'format_version' is 7, expected 1"):
        MLP.load(tmp_path / "v.npz")
    d = dict(np.load(p))
    del d["mask_1"]
    np.savez(tmp_path / "k.npz", **d)
    with pytest.raises(InputFileError, match="field 'mask_1' missing"):
        MLP.load(tmp_path / "k.npz")
    d = dict(np.load(p))
    d["provenance"] = np.array(json.dumps({"a": 1})[:-1])
    np.savez(tmp_path / "j.npz", **d)
    with pytest.raises(InputFileError, match="'provenance' is not JSON"):
        MLP.load(tmp_path / "j.npz")


def test_validation():
    with pytest.raises(ValidationError, match="activation"):
        small_mlp("tanh")
    with pytest.raises(ValidationError, match="n_in 3, expected 2"):
        MLP([Layer.dense(np.ones((4, 2)), np.zeros(2)), Layer.dense(np.ones((3, 1)), np.zeros(1))])
    with pytest.raises(ValidationError, match=r"input: shape \(1, 5\)"):
        small_mlp().forward(np.ones((1, 5)))


def test_nan_weight_in_a_model_file_is_named(tmp_path):
    from neurosim.cli import main
    good = tmp_path / "good.npz"
    MLP([Layer(np.ones((2, 3)), np.zeros(3), np.ones((2, 3), bool)),
         Layer(np.ones((3, 2)), np.zeros(2), np.ones((3, 2), bool))]).save(good)
    data = dict(np.load(good))
    data["weight_1"] = data["weight_1"].copy()
    data["weight_1"][2, 1] = np.nan
    np.savez(tmp_path / "nan.npz", **data)
    with pytest.raises(InputFileError, match=r"nan.npz: field 'weight_1' has nan at "
                                             r"index \(2, 1\), expected finite numbers"):
        MLP.load(tmp_path / "nan.npz")
    assert main(["compile", str(tmp_path / "nan.npz"), "-o", str(tmp_path / "p.npz")]) == 2
    assert not (tmp_path / "p.npz").exists()


def _saved_arrays(tmp_path):
    """The arrays of a valid 2-layer model file."""
    p = tmp_path / "good.npz"
    small_mlp().save(p)
    return dict(np.load(p))


def _strings(a):
    return np.array([[str(v) for v in row] for row in a])


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(provenance=np.array(5)), r"field 'provenance' is 5, expected a text string"),
    (lambda d: d.update(provenance=np.array("[1, 2]")), r"field 'provenance' is JSON list, expected a JSON object"),
    (lambda d: d.update(steepness=np.array("2.0")), r"field 'steepness' is '2.0', expected a number"),
    (lambda d: d.update(steepness=np.ones(3)), r"field 'steepness' is an array of dtype float64 and shape \(3,\), expected a number"),
    (lambda d: d.update(format_version=np.array("1")), r"field 'format_version' is '1', expected an integer"),
    (lambda d: d.update(format_version=np.array(1.0)), r"field 'format_version' is 1.0, expected an integer"),
    (lambda d: d.update(weight_0=_strings(d["weight_0"])), r"field 'weight_0' has dtype <U\d+, expected floats"),
    (lambda d: d.update(weight_1=d["weight_1"] != 0), r"field 'weight_1' has dtype bool, expected floats"),
    (lambda d: d.update(mask_0=_strings(d["mask_0"])), r"field 'mask_0' has dtype <U\d+, expected bool"),
    (lambda d: d.update(mask_0=d["mask_0"] * 2.0), r"field 'mask_0' has dtype float64, expected bool"),
    (lambda d: d.update(bias_1=np.array([np.inf, 0], np.float32)), r"field 'bias_1' has inf at index \(0,\)"),
    (lambda d: d.update(n_layers=np.array(1)), r"field 'n_layers' is 1 but layer 1 is stored \(2 layers\)"),
    (lambda d: d.update(n_layers=np.array(0)), r"field 'n_layers' is 0, expected at least 1"),
    (lambda d: d.update(extra=np.zeros(1)), r"field 'extra' is not an MLP field"),
    (lambda d: d.update(weight_0=np.zeros(3, np.float32)), r"field 'weight_0' has shape \(3,\), expected 2-D"),
])
def test_wrong_types_in_a_model_file_are_refused_naming_the_field(tmp_path, change, message):
    data = _saved_arrays(tmp_path)
    change(data)
    np.savez(tmp_path / "bad.npz", **data)
    with pytest.raises(InputFileError, match="bad.npz: " + message) as err:
        MLP.load(tmp_path / "bad.npz")
    assert "\n" not in str(err.value)


def test_string_weights_are_not_parsed(tmp_path):
    """Before: strings were parsed as floats (a max |w| of 0.758 read as 8.33)."""
    data = _saved_arrays(tmp_path)
    data["weight_0"] = np.array([["8.33", "0", "0"], ["0", "0", "0"]])
    np.savez(tmp_path / "s.npz", **data)
    with pytest.raises(InputFileError, match="'weight_0' has dtype <U4"):
        MLP.load(tmp_path / "s.npz")


def test_object_arrays_are_refused_without_numpys_pickle_advice(tmp_path):
    data = _saved_arrays(tmp_path)
    data["weight_0"] = np.array([[1.0, None, 0.0], [0.0, 1.0, 1.0]], dtype=object)
    np.savez(tmp_path / "o.npz", **data)
    with pytest.raises(InputFileError, match="field 'weight_0' is an object array") as err:
        MLP.load(tmp_path / "o.npz")
    assert "allow_pickle" not in str(err.value)


def test_wrong_kinds_of_file_are_named(tmp_path):
    from neurosim.chip.program import empty_program
    toml = tmp_path / "scenario.toml"
    toml.write_text('[run]\nmodel = "x.npz"\n')
    with pytest.raises(InputFileError, match=r"scenario.toml: is a text file \(TOML\?\), "
                                             r"expected an MLP model .npz") as err:
        MLP.load(toml)
    assert "allow_pickle" not in str(err.value)
    prog = tmp_path / "prog.npz"
    empty_program("truenorth", 1, n_axons=2, n_neurons=3).save(prog)
    with pytest.raises(InputFileError, match=r"prog.npz: this is a compiled chip program "
                                             r"\(neurosim compile output\), expected an MLP"):
        MLP.load(prog)
    h5 = tmp_path / "g.nir"
    h5.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    with pytest.raises(InputFileError, match=r"g.nir: is an HDF5 file \(a NIR graph\?\)"):
        MLP.load(h5)
    with pytest.raises(InputFileError, match=r": is a directory, expected an MLP model"):
        MLP.load(tmp_path)
    good = tmp_path / "good.npz"
    small_mlp().save(good)
    (tmp_path / "cut.npz").write_bytes(good.read_bytes()[:200])
    with pytest.raises(InputFileError, match=r"cut.npz: not a readable .npz \(BadZipFile"):
        MLP.load(tmp_path / "cut.npz")


def test_save_leaves_no_temporary_file_when_the_write_fails(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError):
        small_mlp().save(blocker / "m.npz")
    (tmp_path / "d").mkdir()
    with pytest.raises(OSError):
        small_mlp().save(tmp_path / "d")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "file"]
    assert list((tmp_path / "d").iterdir()) == []


def test_a_missing_shipped_file_names_the_key_and_every_place_looked(tmp_path):
    from neurosim import resources
    with pytest.raises(InputFileError, match=r"^\[run\] model = 'nope.npz': no such file; looked "
                                             r"in \S+/scen/nope.npz, nope.npz, \S+/nope.npz$"):
        resources.find("nope.npz", "models", "[run] model", near=[str(tmp_path / "scen")])
    found = resources.find("models/digits_dense.npz", "models", "--model")
    assert MLP.load(found).sizes[0] == 64


def test_info_shows_free_form_provenance_as_it_is(tmp_path, capsys):
    from neurosim.cli import main
    net = small_mlp()
    net.provenance = {"test_accuracy": "high", "method": [1], "dataset": "hand"}
    net.save(tmp_path / "m.npz")
    assert main(["info", str(tmp_path / "m.npz")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == ("provenance: [1] on hand, test accuracy "
                                                        "'high'")
    net.provenance = {"test_accuracy": 0.91234, "method": "dense", "dataset": "hand"}
    net.save(tmp_path / "m.npz")
    assert main(["info", str(tmp_path / "m.npz")]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("test accuracy 0.9123")


def test_file_kind_tells_models_from_programs_without_loading_them(tmp_path):
    from neurosim.chip.program import empty_program
    from neurosim.sniff import file_kind, sniff
    small_mlp().save(tmp_path / "m.npz")
    empty_program("truenorth", 1, n_axons=2, n_neurons=3).save(tmp_path / "p.npz")
    (tmp_path / "t.toml").write_text("a = 1\n")
    (tmp_path / "e.npz").write_bytes(b"")
    assert [file_kind(tmp_path / n) for n in ("m.npz", "p.npz", "t.toml")] == \
        ["model", "program", None]
    assert [sniff(tmp_path / n) for n in ("m.npz", "t.toml", "e.npz")] == ["zip", "text", "empty"]
