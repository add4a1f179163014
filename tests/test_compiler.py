"""Compiler: MLP → ChipProgram. Accuracy on digits, rate-mode equivalence, relays, placement."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import neurosim
from neurosim.chip.program import ChipProgram
from neurosim.compiler import compile
from neurosim.compiler.nir import compile_nir, to_nir
from neurosim.compiler.normalise import rate_forward
from neurosim.errors import DoesNotFitError, InputFileError, ValidationError
from neurosim.mlp import MLP
from neurosim.compiler.nir_io import from_graph, to_graph
from neurosim.sim import simulate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compiled(dense, digits):
    x = digits[0]
    return {"ideal": compile(dense, "ideal", calibration=x),
            "bitplane": compile(dense, "truenorth", "bitplane", calibration=x),
            "trinary": compile(dense, "truenorth", "trinary", calibration=x)}


def sources_per_axon(program):
    """How many sources (inputs and routed neurons) drive each (core, axon)."""
    count = np.zeros((program.n_cores, program.n_axons), np.int64)
    np.add.at(count, (program.input_core, program.input_axon), 1)
    routed = program.dest_core >= 0
    np.add.at(count, (program.dest_core[routed], program.dest_axon[routed]), 1)
    return count


# ------------------------------------------------------------------ accuracy on digits
@pytest.mark.parametrize("name, rate_tol, spike_tol", [("ideal", 0.005, 0.015),
                                                       ("bitplane", 0.015, 0.025)])
def test_digits_accuracy(compiled, dense, digits, name, rate_tol, spike_tol):
    _, _, xt, yt = digits
    float_acc = dense.accuracy(xt, yt)
    rate = simulate(compiled[name].program, xt, mode="rate")
    spike = simulate(compiled[name].program, xt, ticks=64)
    assert abs(np.mean(rate.predictions() == yt) - float_acc) <= rate_tol
    assert abs(np.mean(spike.predictions() == yt) - float_acc) <= spike_tol


def test_trinary_runs_and_reports(compiled, digits):
    _, _, xt, yt = digits
    c = compiled["trinary"]
    assert c.report["weight_encoding"] == "trinary" and c.report["fan_in_per_core"] == 128
    assert 0.7 < np.mean(simulate(c.program, xt, mode="rate").predictions() == yt)


# ------------------------------------------------------------------ equivalences
@pytest.mark.parametrize("name", ["ideal", "bitplane", "trinary"])
def test_rate_mode_equals_float_quantised_network(compiled, digits, name):
    c = compiled[name]
    xt = digits[2]
    rate = simulate(c.program, xt, mode="rate").rates
    np.testing.assert_allclose(rate, c.stage_rates(xt), atol=1e-12)
    if name == "ideal":  # 16-bit weights: the quantised network is the normalised float one
        np.testing.assert_allclose(rate, rate_forward(c.layers, xt)[-1], atol=2e-3)


def test_normalisation_reproduces_relu_network(dense, digits):
    x, _, xt, _ = digits
    c = compile(dense, "ideal", calibration=x, percentile=100.0)
    out = c.layers[-1]
    logits = dense.forward(xt.astype(np.float64))
    # percentile 100: no hidden clipping, so (logits + s)/λ_out is exact where it lies in [0, 1]
    expected = np.clip((logits + out.shift) / out.scale, 0, 1)
    np.testing.assert_allclose(rate_forward(c.layers, xt)[-1], expected, atol=1e-5)


def test_relay_pairs_reproduce_partial_sum_split(random_mlp, digits):
    x = digits[0][:600]      # every calibration sample is used: σ_j covers each partial sum
    mlp = random_mlp(np.random.default_rng(1), [64, 24, 10], density=1.0, bias_std=0.05)
    whole = compile(mlp, "ideal", calibration=x, percentile=100.0)
    split = compile(mlp, "ideal", calibration=x, percentile=100.0, max_axons=16)
    assert whole.report["relay_neurons"] == 0
    # 64 inputs in groups of 16: 4 relay pairs per neuron of both layers (fan-in 64 and 24)
    assert split.report["relay_neurons"] == 2 * 4 * 24 + 2 * 2 * 10
    assert split.report["relay_latency_ticks"] == 2
    xs = x[:200]
    r_split = simulate(split.program, xs, mode="rate").rates
    np.testing.assert_allclose(r_split, split.stage_rates(xs), atol=1e-12)
    np.testing.assert_allclose(r_split, simulate(whole.program, xs, mode="rate").rates,
                               atol=1e-3)
    for st in (st for st in split.stages if st.kind == "sum"):   # weights ±σ_j, one magnitude
        mags = np.abs(st.q)
        assert all(len(np.unique(mags[st.indptr[u]:st.indptr[u + 1]])) == 1 for u in range(st.n))


@pytest.mark.parametrize("name", ["bitplane", "trinary"])
def test_core_equals_reference_on_compiled(compiled, digits, name):
    prog = compiled[name].program
    xt = digits[2][:12]
    a = simulate(prog, xt, ticks=24, backend="core", record=True)
    b = simulate(prog, xt, ticks=24, backend="reference", record=True)
    assert np.array_equal(a.record, b.record) and a.counters == b.counters


def test_core_equals_reference_with_relays(random_mlp, digits):
    mlp = random_mlp(np.random.default_rng(2), [64, 40, 10], density=1.0, bias_std=0.05)
    c = compile(mlp, "truenorth", "trinary", calibration=digits[0], max_axons=48)
    assert c.report["relay_neurons"] > 0
    xt = digits[2][:8]
    a = simulate(c.program, xt, ticks=20, backend="core", record=True)
    b = simulate(c.program, xt, ticks=20, backend="reference", record=True)
    assert np.array_equal(a.record, b.record)


def test_brian2_reproduces_compiled_spikes(digits):
    from neurosim.sim import brian2_backend
    nest = MLP.load(ROOT / "models" / "digits_nest.npz")
    prog = compile(nest, "truenorth", "trinary", calibration=digits[0]).program
    from neurosim.sim.encoding import encode
    raster = encode(digits[2][:3], 16)
    a = brian2_backend.run_spiking(prog, raster, record=True, target="numpy")
    b = simulate(prog, digits[2][:3], ticks=16, backend="core", record=True)
    assert np.array_equal(a["record"], b.record) and a["record"].sum() > 0


# ------------------------------------------------------------------ unit map and old files
UNIT_MAP = ("unit_layer", "unit_index", "unit_role", "layer_size", "layer_scale", "layer_shift")


def legacy_layers(prog):
    """``meta["layers"]`` as format versions 1 and 2 wrote it (lists of JSON numbers)."""
    out = []
    for l, size in enumerate(prog.layer_size.tolist()):
        out.append({"layer": l, "kind": "output" if l == prog.layer_size.size - 1 else "hidden",
                    "size": size, "scale": float(prog.layer_scale[l]),
                    "shift": float(prog.layer_shift[l]),
                    "neurons": [u.tolist() for u in prog.unit_neurons(l)],
                    "relays": [r.tolist() for r in prog.unit_relays(l)]})
    return out


def save_legacy(prog, path):
    """``prog`` saved as an old file: no unit map arrays, the map as JSON in meta["layers"]."""
    old = prog.replace(meta=dict(prog.meta, layers=legacy_layers(prog)),
                       **{name: None for name in UNIT_MAP})
    assert not old.has_unit_map()
    old.save(path)
    with np.load(path) as f:
        assert int(f["format_version"]) < 3 and "unit_role" not in f.files


@pytest.fixture(scope="module")
def relayed(random_mlp):
    """A compile whose hidden units are split into relay pairs (fan-in beyond 32-axon cores)."""
    net = random_mlp(np.random.default_rng(5), [12, 10, 6], density=1.0, bias_std=0.05)
    return compile(net, "truenorth", calibration=np.random.default_rng(0).random((200, 12)),
                   max_axons=32, anneal=False)


def test_unit_map_roles_count_copies_and_relays(compiled, relayed):
    # the roles agree with the compile report's neuron counts
    for c in (compiled["bitplane"], relayed):
        prog, rep = c.program, c.report
        assert np.count_nonzero(prog.unit_role == 1) == rep["copy_neurons"]
        assert np.count_nonzero(prog.unit_role >= 2) == rep["relay_neurons"]
        assert np.array_equal(prog.unit_role >= 0, prog.enabled)
        assert np.array_equal(np.where(prog.enabled, prog.unit_layer, -1), prog.neuron_group)
    assert np.count_nonzero(relayed.program.unit_role == 2) > 0
    assert (np.count_nonzero(relayed.program.unit_role == 2)
            == np.count_nonzero(relayed.program.unit_role == 3))


@pytest.mark.parametrize("which", ["bitplane", "relayed"])
def test_old_file_with_meta_layers_loads_with_the_unit_map(compiled, relayed, which, tmp_path):
    c = relayed if which == "relayed" else compiled[which]
    prog = c.program
    save_legacy(prog, tmp_path / "old.npz")
    back = ChipProgram.load(tmp_path / "old.npz")
    assert "layers" not in back.meta and back.meta == prog.meta
    for name in UNIT_MAP:
        assert np.array_equal(getattr(back, name), getattr(prog, name)), name
        assert getattr(back, name).dtype == getattr(prog, name).dtype, name
    from neurosim import bounds
    assert bounds.program_constants(back) == bounds.program_constants(prog)
    back.save(tmp_path / "new.npz")         # saved again: format version 3 with the arrays
    with np.load(tmp_path / "new.npz") as f:
        assert int(f["format_version"]) == 3 and "unit_role" in f.files


def test_old_file_with_broken_meta_layers_is_refused_in_one_line(compiled, tmp_path):
    prog = compiled["bitplane"].program
    layers = legacy_layers(prog)
    layers[0]["neurons"][0] = [[prog.n_cores + 5, 0]]          # a core the program lacks
    old = prog.replace(meta=dict(prog.meta, layers=layers), **{n: None for n in UNIT_MAP})
    old.save(tmp_path / "old.npz")
    with pytest.raises(InputFileError, match=r"old\.npz: field 'meta_json' entry 'layers' is "
                                             r"not a unit map \(IndexError"):
        ChipProgram.load(tmp_path / "old.npz")


def test_unit_map_validation_names_the_field(compiled):
    prog = compiled["bitplane"].program
    role = prog.unit_role.copy()
    c, n = np.argwhere(role == 0)[0]
    role[c, n] = 1                                            # a unit left without a main neuron
    with pytest.raises(ValidationError, match="field 'unit_role' gives unit .* main neurons"):
        prog.replace(unit_role=role)
    index = prog.unit_index.copy()
    index[c, n] = prog.layer_size[prog.unit_layer[c, n]]      # one past the layer's units
    with pytest.raises(ValidationError, match=rf"field 'unit_index' \(core {c}, neuron {n}\)"):
        prog.replace(unit_index=index)
    with pytest.raises(ValidationError, match="field 'layer_scale' has nan"):
        prog.replace(layer_scale=np.full(prog.layer_size.shape, np.nan))


def test_program_constants_of_the_digits_model_are_unchanged(dense):
    # values of the meta["layers"] reader (main at 53d655c) on the same compile
    from neurosim import bounds
    k = bounds.program_constants(compile(dense, "truenorth", anneal=False).program)
    assert k.sizes == (64, 64, 64, 10)
    assert k.max_abs_w == pytest.approx((0.20632279534109818, 0.35294117647058826,
                                         0.4509090909090909), rel=1e-9)
    assert k.mean_abs_w == pytest.approx((0.04772452935040711, 0.06534272956566445,
                                          0.11558628307036874), rel=1e-9)


# ------------------------------------------------------------------ structure
@pytest.mark.parametrize("name", ["ideal", "bitplane", "trinary"])
def test_programs_validate_and_map_back(compiled, dense, name, tmp_path):
    c = compiled[name]
    prog = c.program
    path = tmp_path / "p.npz"
    prog.save(path)
    loaded = ChipProgram.load(path)      # validates on construction
    for name in ("unit_layer", "unit_index", "unit_role", "layer_size", "layer_scale",
                 "layer_shift"):
        assert np.array_equal(getattr(loaded, name), getattr(prog, name)), name
    assert sources_per_axon(prog).max() == 1          # no two sources share an axon
    listed = np.zeros_like(prog.enabled)
    for layer, size in enumerate(prog.layer_size):
        assert size == dense.sizes[layer + 1]
        for unit in prog.unit_neurons(layer):
            for core, neuron in unit:
                assert prog.neuron_group[core, neuron] == layer
                listed[core, neuron] = True
        for unit in prog.unit_relays(layer):
            for core, neuron, _ in unit:
                listed[core, neuron] = True
    assert np.array_equal(listed, prog.enabled)
    assert np.array_equal(prog.neuron_group >= 0, prog.enabled)
    out = prog.unit_neurons(len(prog.layer_size) - 1)
    assert [tuple(u[0]) for u in out] == list(zip(prog.output_core.tolist(),
                                                  prog.output_neuron.tolist()))
    r = c.report
    for key in ("cores", "neurons", "axons", "crossbar_density", "copy_neurons",
                "relay_neurons", "latency_ticks", "hop_cost", "hop_cost_rowmajor",
                "quantisation_error", "weight_encoding", "profile"):
        assert key in r
    assert r["cores"] == prog.n_cores and r["neurons"] == int(prog.enabled.sum())


def test_bitplane_digits_encode_levels():
    from neurosim.chip.profile import TRUENORTH
    from neurosim.compiler.encode import get_encoding
    enc = get_encoding("bitplane", TRUENORTH, 4)
    q = np.arange(-8, 8)
    assert np.array_equal(enc.digits(q) @ np.array(enc.coef), q)
    tri = get_encoding("trinary", TRUENORTH)
    assert np.array_equal(tri.digits(np.array([-1, 0, 1])) @ np.array(tri.coef), [-1, 0, 1])
    assert enc.gmax * 8 <= 255


def test_placement_beats_rowmajor_on_100_cores(random_mlp):
    rng = np.random.default_rng(0)
    mlp = random_mlp(np.random.default_rng(3), [128, 512, 512, 10], density=1.0, bias_std=0.05)
    c = compile(mlp, "truenorth", "bitplane", calibration=rng.random((300, 128)))
    r = c.report
    assert r["cores"] >= 100
    assert r["hop_cost"] <= 0.7 * r["hop_cost_rowmajor"]
    xs = rng.random((5, 128))
    np.testing.assert_allclose(simulate(c.program, xs, mode="rate").rates, c.stage_rates(xs),
                               atol=1e-12)


def test_blocked_cores_are_avoided(dense, digits):
    blocked = [(0, 0), (0, 1), (1, 0)]
    c = compile(dense, "truenorth", calibration=digits[0][:100], blocked=blocked)
    assert not {tuple(p) for p in c.program.core_xy.tolist()} & set(blocked)


# ------------------------------------------------------------------ refusals
def test_fan_in_refusal_names_the_fix(random_mlp, digits):
    mlp = random_mlp(np.random.default_rng(0), [64, 16, 10], density=1.0, bias_std=0.05)
    with pytest.raises(DoesNotFitError, match=r"fan-in 64.*32 inputs.*max_fan_in = 32"):
        compile(mlp, "truenorth", "bitplane", calibration=digits[0], relays=False, max_axons=128)


def test_network_too_big_for_grid(random_mlp, digits):
    mlp = random_mlp(np.random.default_rng(0), [64, 300, 10], density=1.0, bias_std=0.05)
    with pytest.raises(DoesNotFitError, match=r"needs \d+ cores; chip 'truenorth' has 4 "):
        compile(mlp, "truenorth", calibration=digits[0][:50],
                blocked=[(r, c) for r in range(64) for c in range(64) if r or c > 3])


# ------------------------------------------------------------------ NIR
def test_nir_export_is_the_quantised_network(compiled, digits):
    c = compiled["bitplane"]
    xt = digits[2][:50].astype(np.float64)
    mlp = from_graph(to_nir(c))
    np.testing.assert_allclose(np.clip(mlp.forward(xt), 0, 1), c.stage_rates(xt), atol=1e-6)


def test_compile_nir_snn_graph(dense, digits):
    x, _, xt, yt = digits
    graph = to_graph(dense)
    c = compile_nir(graph, "ideal", calibration=x)
    acc = np.mean(simulate(c.program, xt, mode="rate").predictions() == yt)
    assert abs(acc - dense.accuracy(xt, yt)) <= 0.005


# ------------------------------------------------------------------ CLI
# slow (three interpreters); in the default run, the `python -m neurosim` entry:
# test_cli.py::test_version_through_python_m; compile then run --json, accuracy within 0.005 of
# the MLP's: test_cli.py::test_a_dataset_given_as_a_path_works_in_train_compile_run_and_bound;
# bad flags, one line and exit 2: test_out_of_range_flags_are_refused_before_loading
@pytest.mark.slow
def test_cli_compile_and_run(tmp_path):
    out = tmp_path / "prog.npz"
    parent = Path(neurosim.__file__).resolve().parents[1]   # the neurosim under test
    env = {"PYTHONPATH": str(parent)}
    cmd = [sys.executable, "-m", "neurosim"]
    res = subprocess.run(cmd + ["compile", str(ROOT / "models" / "digits_dense.npz"), "--chip",
                                "ideal", "-o", str(out), "--json"],
                         capture_output=True, text=True, env=env, cwd=parent)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["profile"] == "ideal"
    res = subprocess.run(cmd + ["run", str(out), "--dataset", "digits", "--mode", "rate",
                                "--json"],
                         capture_output=True, text=True, env=env, cwd=parent)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert abs(got["accuracy"] - got["mlp_accuracy"]) <= 0.005
    assert {"ticks", "spikes", "synaptic_events", "hops", "seconds"} <= set(got)
    res = subprocess.run(cmd + ["compile", str(ROOT / "models" / "digits_dense.npz"),
                                "--blocked", "70,1", "-o", str(out)],
                         capture_output=True, text=True, env=env, cwd=parent)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1


def test_placement_survives_cores_whose_edges_carry_no_spikes():
    # a core connected only by zero-rate edges has no traffic-weighted centroid (0/0): annealing
    # must leave it where it is instead of failing on NaN
    from neurosim.chip import TRUENORTH
    from neurosim.compiler.place import hop_cost, place
    u, v = np.array([0, 1, 2]), np.array([1, 2, 3])
    w = np.array([5.0, 0.0, 0.0])
    xy = place((u, v, w), 4, TRUENORTH, seed=1, iterations=500)
    assert len({tuple(p) for p in xy.tolist()}) == 4
    assert np.isfinite(hop_cost((u, v, w), xy))


def bad_output_paths(tmp_path):
    """(path, message) for output files that cannot be written; the last only when not root
    (root may write anywhere)."""
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    cases = [(tmp_path / "adir", r"is a directory, expected a file name"),
             (tmp_path / "missing" / "p.npz", r"directory \S+missing does not exist"),
             (tmp_path / "afile" / "p.npz", r"\S+afile is a file, expected a directory")]
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        cases.append((locked / "p.npz", r"directory \S+locked is not writable"))
    return cases


def _no_temporary_files(tmp_path):
    return [p for p in tmp_path.rglob("*") if ".tmp" in p.name] == []


@pytest.mark.parametrize("command", [
    ["compile", str(ROOT / "models" / "digits_dense.npz")],
    ["train", "--dataset", "digits", "--hidden", "8", "--method", "dense", "--epochs", "1"],
])
def test_commands_refuse_a_bad_output_before_working(tmp_path, capsys, monkeypatch, command):
    """compile and train check -o first: neither compiles nor trains (both are replaced by a
    failing stub here), one line, exit 2, no temporary file."""
    from neurosim import compiler, training as train
    from neurosim.cli import main
    monkeypatch.setattr(compiler, "compile", lambda *a, **k: pytest.fail("compiled anyway"))
    monkeypatch.setattr(train, "run", lambda *a, **k: pytest.fail("trained anyway"))
    for path, message in bad_output_paths(tmp_path):
        assert main(command + ["-o", str(path)]) == 2
        err = capsys.readouterr().err
        assert re.search(rf"^neurosim {command[0]}: error: -o {re.escape(str(path))}: "
                         rf"{message}\n$", err), err
    assert _no_temporary_files(tmp_path)


@pytest.mark.parametrize("argv, message", [
    (["run", "P", "--dataset", "digits", "--limit", "-440"], r"--limit is -440; expected an integer ≥ 1"),
    (["run", "P", "--dataset", "digits", "--limit", "0"], r"--limit is 0; expected an integer ≥ 1"),
    (["run", "P", "--dataset", "digits", "--ticks", "0"], r"--ticks is 0; expected"),
    (["run", "P", "--dataset", "digits", "--seed", "-1"], r"--seed is -1; expected"),
    (["compile", "M", "-o", "OUT", "--bits", "9"], r"--bits is 9; expected a number in \[2, 4\]"),
    (["compile", "M", "-o", "OUT", "--percentile", "0"], r"--percentile is 0.0; expected a number in \(0, 100\]"),
    (["compile", "M", "-o", "OUT", "--percentile", "nan"], r"--percentile is nan; expected"),
    (["compile", "M", "-o", "OUT", "--calibration", "cifar"], r"--calibration 'cifar': unknown, expected one of digits"),
    (["compile", "M", "-o", "OUT", "--blocked", "3"], r"--blocked is '3'; expected ROW,COL;ROW,COL"),
    (["compile", "M", "-o", "OUT", "--blocked", "1,2,3"], r"--blocked is '1,2,3'; expected ROW,COL"),
    (["power", "P", "--limit", "-3"], r"--limit is -3; expected"),
    (["power", "P", "--ticks", "-1"], r"--ticks is -1; expected"),
    (["power", "P", "--inference-rate", "0"], r"--inference-rate is 0.0; expected a finite number > 0"),
    (["power", "P", "--budget-mw", "-5"], r"--budget-mw is -5.0; expected a finite number ≥ 0"),
    (["power", "P", "--budget-mw", "inf"], r"--budget-mw is inf; expected"),
])
def test_out_of_range_flags_are_refused_before_loading(tmp_path, capsys, argv, message):
    """The program/model named "P"/"M" does not exist: the flag is checked first."""
    from neurosim.cli import main
    argv = [str(tmp_path / "p.npz") if a == "OUT" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and err.count("\n") == 1, err


def test_run_limit_takes_the_first_inputs(tmp_path, capsys):
    from neurosim.cli import main
    out = tmp_path / "prog.npz"
    assert main(["compile", str(ROOT / "models" / "digits_dense.npz"), "--chip", "ideal",
                 "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["run", str(out), "--dataset", "digits", "--mode", "rate", "--limit", "7",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 7


def test_run_skips_the_float_reference_when_the_model_file_was_replaced(tmp_path, capsys):
    from neurosim.cli import main
    model, out = tmp_path / "m.npz", tmp_path / "prog.npz"
    model.write_bytes((ROOT / "models" / "digits_dense.npz").read_bytes())
    assert main(["compile", str(model), "--chip", "ideal", "-o", str(out)]) == 0
    argv = ["run", str(out), "--dataset", "digits", "--mode", "rate", "--limit", "20", "--json"]
    capsys.readouterr()
    assert main(argv) == 0
    assert "mlp_accuracy" in json.loads(capsys.readouterr().out)
    model.write_text("[not a model]\n")
    assert main(argv) == 0
    got = json.loads(capsys.readouterr().out)
    assert "mlp_accuracy" not in got and got["samples"] == 20


@pytest.mark.parametrize("provenance, shown", [({"dataset": "cifar"}, "'cifar'"),
                                               ({"dataset": 5}, "5"), ({}, "None")])
def test_compile_names_the_model_when_its_provenance_dataset_is_unusable(tmp_path, capsys,
                                                                          provenance, shown):
    from neurosim.cli import main
    mlp = MLP.load(ROOT / "models" / "digits_dense.npz")
    mlp.provenance = provenance
    mlp.save(tmp_path / "m.npz")
    assert main(["compile", str(tmp_path / "m.npz"), "-o", str(tmp_path / "p.npz")]) == 2
    assert capsys.readouterr().err == (
        f"neurosim compile: error: {tmp_path / 'm.npz'}: provenance dataset is {shown}, not one "
        f"of digits, mnist, fashion-mnist, synthetic; expected --calibration DATASET\n")
    assert main(["compile", str(tmp_path / "m.npz"), "--calibration", "digits", "--chip",
                 "ideal", "-o", str(tmp_path / "p.npz")]) == 0
    assert ChipProgram.load(tmp_path / "p.npz").meta["model"]["dataset"] == "digits"
