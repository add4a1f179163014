import nir
import numpy as np
import pytest

from neurosim.chip.program import ChipProgram
from neurosim.errors import InputFileError
from neurosim.mlp import MLP, Layer
from neurosim.nir_io import from_graph, read_nir, to_graph, write_nir


def make_mlp(rng):
    w1 = rng.normal(size=(5, 4)).astype(np.float32)
    m1 = rng.random((5, 4)) < 0.6
    m1[0, 0] = True
    w1[0, 0] = 0.0  # an existing connection whose weight is exactly 0: mask must survive
    w2 = rng.normal(size=(4, 3)).astype(np.float32)
    return MLP([Layer(w1, rng.normal(size=4), m1), Layer.dense(w2, rng.normal(size=3))],
               "sigmoid", 2.5, {"dataset": "x", "test_accuracy": 0.5})


def test_round_trip_exact(tmp_path):
    net = make_mlp(np.random.default_rng(0))
    path = tmp_path / "net.nir"
    write_nir(net, path)
    back = read_nir(path)
    assert back.activation == "sigmoid" and back.steepness == 2.5
    assert back.provenance == net.provenance
    for a, b in zip(net.layers, back.layers):
        assert np.array_equal(a.weight, b.weight) and np.array_equal(a.bias, b.bias)
        assert np.array_equal(a.mask, b.mask)
    assert back.layers[0].mask[0, 0]
    x = np.random.default_rng(1).random((6, 5)).astype(np.float32)
    assert np.array_equal(net.forward(x), back.forward(x))
    g = nir.read(path)
    assert "subtract" in g.metadata["neurosim_reset"]
    assert g.nodes["layer0"].weight.shape == (4, 5)  # NIR's (out, in)
    np.testing.assert_allclose(g.nodes["spike0"].v_threshold, 1 / 2.5)


def test_foreign_graph_folds_gain_and_walks_edges():
    w1 = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]], dtype=np.float32)  # (out 3, in 2)
    w2 = np.array([[1.0, 1.0, 1.0]], dtype=np.float32)
    nodes = {"z_in": nir.Input({"input": np.array([2])}),
             "a_fc": nir.Affine(w1, np.array([0.5, 0.0, -1.0], dtype=np.float32)),
             "m_lif": nir.IF(r=np.array([1.0, 2.0, 1.0]), v_threshold=np.array([2.0, 1.0, 4.0]),
                             v_reset=np.zeros(3)),
             "b_out": nir.Linear(w2),
             "c_o": nir.Output({"output": np.array([1])})}
    edges = [("b_out", "c_o"), ("m_lif", "b_out"), ("z_in", "a_fc"), ("a_fc", "m_lif")]
    net = from_graph(nir.NIRGraph(nodes=nodes, edges=edges))
    assert net.activation == "clipped_relu" and net.sizes == [2, 3, 1]
    # gains r/θ = [0.5, 2, 0.25] scale the columns of W^T and the bias
    np.testing.assert_allclose(net.layers[0].weight, [[0.5, 0.0, 0.75], [1.0, -2.0, 0.125]])
    np.testing.assert_allclose(net.layers[0].bias, [0.25, 0.0, -0.25])
    assert not net.layers[0].mask[0, 1] and net.layers[0].mask[1, 1]
    x = np.array([[1.0, 1.0]], dtype=np.float32)
    # z = [1.75, -2, 0.625]; clip -> [1, 0, 0.625]; out = 1.625
    np.testing.assert_allclose(net.forward(x), [[1.625]])


def test_bad_graphs(tmp_path):
    bad = tmp_path / "x.nir"
    bad.write_bytes(b"nope")
    with pytest.raises(InputFileError, match=r"x.nir: is a text file, expected a NIR graph"):
        read_nir(bad)
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    with pytest.raises(InputFileError, match="x.nir: not a readable NIR file"):
        read_nir(bad)
    with pytest.raises(InputFileError, match="no such file"):
        read_nir(tmp_path / "none.nir")
    nodes = {"i": nir.Input({"input": np.array([2])}), "t": nir.Threshold(np.ones(2)),
             "o": nir.Output({"output": np.array([2])})}
    with pytest.raises(InputFileError, match="node 't' is Threshold, expected Affine or Linear"):
        from_graph(nir.NIRGraph(nodes=nodes, edges=[("i", "t"), ("t", "o")]))


def test_graph_structure():
    g = to_graph(make_mlp(np.random.default_rng(2)))
    assert g.edges == [("input", "layer0"), ("layer0", "spike0"), ("spike0", "layer1"),
                       ("layer1", "output")]


def _if_graph(v_threshold, weight=((1.0, -1.0), (0.5, 2.0))):
    """input → Affine 'a' → IF 'spk' → output, with the given thresholds and weights."""
    w = np.array(weight, dtype=np.float32)
    return nir.NIRGraph(nodes={
        "input": nir.Input({"input": np.array([2])}),
        "a": nir.Affine(w, np.zeros(2, np.float32)),
        "spk": nir.IF(r=np.ones(2, np.float32), v_threshold=np.array(v_threshold, np.float32),
                      v_reset=np.zeros(2, np.float32)),
        "output": nir.Output({"output": np.array([2])})},
        edges=[("input", "a"), ("a", "spk"), ("spk", "output")])


@pytest.mark.parametrize("threshold, shown", [([1.0, -1.0], "-1"), ([0.0, 1.0], "0")])
def test_non_positive_thresholds_are_refused_naming_node_and_field(tmp_path, threshold, shown):
    """Before: −1 compiled, and 0 was reported as "weight inf"."""
    path = tmp_path / "t.nir"
    nir.write(path, _if_graph(threshold))
    neuron = int(np.argmax(np.array(threshold) <= 0))
    with pytest.raises(InputFileError, match=rf"t.nir: node 'spk' field 'v_threshold' is {shown} "
                                             rf"\(neuron {neuron}\), expected > 0"):
        read_nir(path)


def test_nan_weights_in_a_nir_graph_are_refused(tmp_path):
    path = tmp_path / "n.nir"
    nir.write(path, _if_graph([1.0, 1.0], weight=((1.0, np.nan), (0.5, 2.0))))
    with pytest.raises(InputFileError, match=r"n.nir: node 'a' field 'weight' is nan at index "
                                             r"\(0, 1\), expected finite numbers"):
        read_nir(path)


def test_positive_thresholds_fold_their_gain():
    net = from_graph(_if_graph([2.0, 0.5]))
    np.testing.assert_allclose(net.layers[0].weight, [[0.5, 1.0], [-0.5, 4.0]])


def test_cli_compiles_a_nir_graph_by_content_and_refuses_a_bad_threshold(tmp_path, capsys):
    """A NIR file is recognised as HDF5 whatever its name; a threshold ≤ 0 exits 2 in one line
    naming the file, node and field, and writes nothing."""
    from neurosim.cli import main
    graph = tmp_path / "graph.h5"
    nir.write(graph, _if_graph([1.0, 1.0]))
    out = tmp_path / "p.npz"
    assert main(["compile", str(graph), "--chip", "ideal", "-o", str(out)]) == 0
    program = ChipProgram.load(out)
    assert (program.n_inputs, program.n_outputs) == (2, 2)
    out.unlink()
    capsys.readouterr()
    nir.write(graph, _if_graph([1.0, -1.0]))
    assert main(["compile", str(graph), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"neurosim compile: error: {graph}: node 'spk' field 'v_threshold' is -1 "
                   f"(neuron 1), expected > 0\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.h5"]
