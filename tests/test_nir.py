"""NIR import by the standard's equations, exports others can simulate, and real files.

Agreement numbers (prediction by prediction, against each framework's own update rule written
in ``nir_frameworks.py``) are measured on a 20-32-4 synthetic-data network; the thresholds below
are the measured values rounded down, so a regression shows.
"""
import json
import warnings
from pathlib import Path

import nir
import numpy as np
import pytest

import neurosim as ns
from neurosim import data
from neurosim.chip.program import ChipProgram
from neurosim.cli import main
from neurosim.compiler import compile as compile_mlp
from neurosim.compiler.nir import compile_imported, to_nir
from neurosim.errors import InputFileError, ValidationError
from neurosim.mlp import MLP, Layer
from neurosim.compiler.nir_io import (DEFAULT_DT, ApproximationWarning, from_graph, read_nir,
                                      to_graph, write_nir)
from neurosim.interchange import export_nir, load_network
from neurosim.sim import simulate
from neurosim.training import Options, run
from nir_frameworks import framework_counts, framework_graph, norse_lif_box, run_chain

FIXTURES = Path(__file__).resolve().parent / "fixtures"


# ----------------------------------------------------------------- an independent NIR simulator
def simulate_nir(graph, x, steps, reset="subtract", v0=0.0):
    """Simulate a NIR graph of Affine/Linear and IF nodes (any DAG) from the NIR equations:
    Affine y = W s + b; IF v ← v + r·I, spike z = [v > θ], then v ← v − θ z ("subtract") or
    v ← v_reset where z ("value"). Input: the constant current x every step. Returns the Output
    node's input summed over the steps (spike counts, or summed currents for an Affine readout).
    Written from the NIR node definitions only, not from neurosim's code."""
    preds = {}
    for a, b in graph.edges:
        preds.setdefault(b, []).append(a)
    order, seen = [], set()

    def visit(n):
        if n in seen:
            return
        seen.add(n)
        for p in preds.get(n, []):
            visit(p)
        order.append(n)

    for n in graph.nodes:
        visit(n)
    v = {n: None for n in graph.nodes}
    total = 0.0
    for _ in range(steps):
        out = {}
        for n in order:
            node = graph.nodes[n]
            kind = type(node).__name__
            if kind == "Input":
                out[n] = x
                continue
            inp = sum(out[p] for p in preds[n])
            if kind == "Affine":
                out[n] = inp @ np.asarray(node.weight, float).T + np.asarray(node.bias, float)
            elif kind == "Linear":
                out[n] = inp @ np.asarray(node.weight, float).T
            elif kind == "IF":
                theta = np.asarray(node.v_threshold, float)
                vn = (np.full(inp.shape, v0) * theta if v[n] is None else v[n]) \
                    + np.asarray(node.r, float) * inp
                z = (vn > theta).astype(float)
                v[n] = vn - theta * z if reset == "subtract" else np.where(z > 0, node.v_reset, vn)
                out[n] = z
            elif kind == "Output":
                out[n] = inp
                total = total + inp
    return total


# ----------------------------------------------------------------- export: MLP
def test_export_round_trips_through_nir_read(tmp_path, dense, digits):
    path = tmp_path / "net.nir"
    write_nir(dense, path)
    g = nir.read(path)
    assert [type(g.nodes[n]).__name__ for n in ("layer0", "spike0", "layer1", "output")] == \
        ["Affine", "IF", "Affine", "Output"]
    np.testing.assert_array_equal(g.nodes["spike0"].v_threshold, 1.0)  # uniform thresholds
    assert g.nodes["layer0"].weight.shape == (dense.sizes[1], 64)  # NIR's (out, in)
    back = read_nir(path)  # restored exactly from the recorded scales
    assert back.activation == dense.activation and back.provenance == dense.provenance
    for a, b in zip(dense.layers, back.layers):
        np.testing.assert_allclose(b.weight, a.weight, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b.bias, a.bias, rtol=1e-5, atol=1e-6)
        assert np.array_equal(a.mask, b.mask)
    xt = digits[2]
    np.testing.assert_allclose(back.forward(xt), dense.forward(xt), rtol=1e-4, atol=1e-4)


def test_export_is_simulated_by_an_independent_reference_to_the_mlp_accuracy(dense, digits):
    """Before: 70.7 % (subtract reset) for the digits model. Now within 1 point of the MLP."""
    _, _, xt, yt = digits
    graph = to_graph(dense)
    mlp_acc = dense.accuracy(xt, yt)
    counts = simulate_nir(graph, xt.astype(float), steps=256)
    ref_acc = np.mean(np.argmax(counts, 1) == yt)
    assert abs(ref_acc - mlp_acc) <= 0.01, (ref_acc, mlp_acc)
    graph.metadata = {}  # no private metadata: neurosim reads the rate code as written
    foreign = from_graph(graph)
    assert abs(foreign.accuracy(xt, yt) - mlp_acc) <= 0.01


def test_sigmoid_export_is_refused_in_one_line(dense):
    net = MLP(dense.layers, "sigmoid", 1.0)
    with pytest.raises(Exception, match="activation' is 'sigmoid', expected relu"):
        to_graph(net, calibration=np.zeros((2, 64)))


# ----------------------------------------------------------------- export: program
def test_program_export_with_uniform_thresholds_is_exact(dense, digits):
    x, _, xt, yt = digits
    compiled = compile_mlp(dense, "ideal", calibration=x)
    per_neuron = to_nir(compiled)
    uniform = to_nir(compiled, uniform_threshold=True)
    assert any(np.ptp(n.v_threshold) > 0 for n in per_neuron.nodes.values()
               if isinstance(n, nir.IF))
    assert all(np.all(n.v_threshold == 1) for n in uniform.nodes.values() if isinstance(n, nir.IF))
    a = simulate_nir(per_neuron, xt[:200].astype(float), 64)
    b = simulate_nir(uniform, xt[:200].astype(float), 64)
    assert np.mean(np.abs(a - b).sum(1) == 0) >= 0.99  # the same spike counts (float rounding)
    chip = simulate(compiled.program, xt, ticks=64).predictions()
    ref = np.argmax(simulate_nir(uniform, xt.astype(float), 64), 1)
    assert abs(np.mean(chip == yt) - np.mean(ref == yt)) <= 0.01


# ----------------------------------------------------------------- import: framework styles
@pytest.fixture(scope="module")
def synthetic_net():
    """A 20-32-4 ReLU MLP trained on the synthetic data, and its layers rate-scaled in NIR's
    (out, in) layout: hidden rates in [0, 1]; the output shifted and scaled (as the compiler
    does, :mod:`neurosim.compiler.normalise`) so that the winning class drives 0.15..0.6 per
    step, from the 1st to the 99th percentile: the winner always fires, so every framework
    decides every input (with no output spike, argmax of all-zero counts is a tie)."""
    mlp, _ = run("synthetic", "dense", [32], Options(epochs=30, seed=0))
    xtr, _, xte, _ = data.load("synthetic")
    g = to_graph(mlp, xtr)
    w = [(g.nodes[n].weight.astype(float), g.nodes[n].bias.astype(float))
         for n in ("layer0", "layer1")]
    z = np.clip(xtr @ w[0][0].T + w[0][1], 0, 1) @ w[1][0].T + w[1][1]
    lo, hi = np.percentile(z.max(1), [1, 99])
    s = 0.45 / (hi - lo)
    return xtr, xte[:500].astype(float), [w[0], (w[1][0] * s, (w[1][1] - lo) * s + 0.15)]


# style, neuron parameters, the framework's gain per step (weights are divided by it so every
# style sees the same drive), and the least agreement of the chip and of the imported MLP: the
# issue's 95 %, or the measured value less one point where that is higher (measured, numpy 2.3 /
# OpenBLAS: chip 99.0, 99.0, 98.8, 96.2, 95.6, 99.6 %; MLP 99.2, 99.2, 99.0, 96.4, 95.8, 99.2 %)
CASES = {
    "snntorch_leaky_beta0.9": ("snntorch_leaky", dict(theta=1.0, beta=0.9), 1.0, 0.98, 0.98),
    "snntorch_leaky_beta0.99": ("snntorch_leaky", dict(theta=1.0, beta=0.99), 1.0, 0.98, 0.98),
    "snntorch_synaptic": ("snntorch_synaptic", dict(theta=1.0, alpha=0.8, beta=0.9), 5.0, 0.97,
                          0.98),
    "norse_lif": ("norse_lif", dict(theta=1.0, tau=0.01, v_leak=0.0), 0.1, 0.95, 0.95),
    "norse_cubalif": ("norse_cuba", dict(theta=1.0, tau=0.01, tau_syn=0.005, v_leak=0.0), 0.1,
                      0.95, 0.95),
    "sinabs_iaf": ("sinabs", dict(theta=1.0), 1.0, 0.98, 0.98),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_framework_graphs_agree_with_the_framework_rule(synthetic_net, case):
    style, params, gain, chip_min, mlp_min = CASES[case]
    xtr, x, base = synthetic_net
    weights = [(w / gain, b / gain) for w, b in base]
    expected = np.argmax(framework_counts(style, weights, params, x, 500), 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mlp = from_graph(framework_graph(style, weights, params))
    # Norse resets to 0 (a staircase the chip's linear rate misses: warned with its bound);
    # snnTorch and sinabs subtract, as the chip does, with leak errors of at most 0.05
    warned = {str(w.message).split("'")[1] for w in caught
              if issubclass(w.category, ApproximationWarning)}
    assert warned == ({"lif0", "lif1"} if style.startswith("norse") else set())
    chip = simulate(compile_imported(mlp, "ideal", calibration=xtr).program, x, ticks=500)
    assert np.mean(mlp.predict(x) == expected) >= mlp_min
    assert np.mean(chip.predictions() == expected) >= chip_min


def test_snntorch_dt_is_implied_and_the_gain_is_one(synthetic_net):
    """snnTorch writes r = τ/dt (dt = 1e-4): the per-step gain r·dt/τ is 1, not r/θ = 10."""
    _, _, base = synthetic_net
    mlp = from_graph(framework_graph("snntorch_leaky", base, dict(theta=1.0, beta=0.9)))
    info = mlp.provenance["nir_import"]
    assert info["dt"] == pytest.approx(1e-4) and "snnTorch" in info["dt_source"]
    # W·g/θ with g = 1; bias gets the mean-potential leak −(dt/τ)·θ/2 = −0.05
    np.testing.assert_allclose(mlp.layers[0].weight, base[0][0].T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mlp.layers[0].bias, base[0][1] - 0.05, rtol=1e-5, atol=1e-6)
    assert info["reset"] == {"lif0": "subtract", "lif1": "subtract"}
    assert "expected rate error up to 0.05 spikes/step = leak 0.05" in info["notes"][1]


@pytest.mark.filterwarnings("ignore::neurosim.compiler.nir_io.ApproximationWarning")
def test_norse_dt_defaults_and_can_be_given(synthetic_net):
    _, _, base = synthetic_net
    graph = framework_graph("norse_lif", base, dict(theta=1.0, tau=0.01, v_leak=0.0))
    assert from_graph(graph).provenance["nir_import"]["dt"] == DEFAULT_DT
    fine = from_graph(graph, dt=1e-4)  # gain dt/τ = 0.01
    np.testing.assert_allclose(fine.layers[0].weight, base[0][0].T * 0.01, rtol=1e-5, atol=1e-8)
    with pytest.raises(InputFileError, match=r"node 'lif0' has dt/tau = 2 .*expected < 1 "
                                             r"\(lower argument 'dt'\)") as err:
        from_graph(graph, dt=0.02)
    assert err.value.param == "dt"
    with pytest.raises(ValidationError, match=r"argument 'dt' is -1.0; expected a time step"):
        from_graph(graph, dt=-1.0)


@pytest.mark.filterwarnings("ignore::neurosim.compiler.nir_io.ApproximationWarning")
def test_cubalif_gain_includes_w_in():
    ones = np.ones(2)
    g = nir.NIRGraph(nodes={
        "in": nir.Input({"input": np.array([2])}),
        "fc": nir.Linear(np.eye(2)),
        "cuba": nir.CubaLIF(tau_syn=0.002 * ones, tau_mem=0.01 * ones, r=2 * ones,
                            v_leak=0.3 * ones, v_threshold=ones, w_in=np.array([1.0, 3.0])),
        "out": nir.Output({"output": np.array([2])})},
        edges=[("in", "fc"), ("fc", "cuba"), ("cuba", "out")])
    mlp = from_graph(g, dt=1e-3)
    # g = w_in·r·dt/τ_mem = [0.2, 0.6]; c = dt/τ_mem·(v_leak − θ/2) = 0.1·(0.3 − 0.5) = −0.02
    np.testing.assert_allclose(np.diag(mlp.layers[0].weight), [0.2, 0.6], rtol=1e-6)
    np.testing.assert_allclose(mlp.layers[0].bias, [-0.02, -0.02], rtol=1e-5)
    assert mlp.provenance["nir_import"]["output"] == "spiking rates"


def test_v_reset_other_than_zero_is_refused_in_one_line():
    ones = np.ones(2)
    g = nir.NIRGraph(nodes={
        "in": nir.Input({"input": np.array([2])}), "fc": nir.Linear(np.eye(2)),
        "if": nir.IF(r=ones, v_threshold=ones, v_reset=np.array([0.0, -0.5])),
        "out": nir.Output({"output": np.array([2])})},
        edges=[("in", "fc"), ("fc", "if"), ("if", "out")])
    with pytest.raises(InputFileError, match=r"node 'if' field 'v_reset' is -0.5 \(neuron 1\), "
                                             r"expected 0"):
        from_graph(g)


def test_leading_flatten_scale_and_shapes_are_accepted():
    g = nir.NIRGraph(nodes={
        "in": nir.Input({"input": np.array([2, 2])}),
        "flat": nir.Flatten({"input": np.array([2, 2])}, start_dim=0, end_dim=-1),
        "fc": nir.Affine(np.ones((3, 4)), np.zeros(3)),
        "sc": nir.Scale(np.array([1.0, 2.0, 3.0])),
        "if": nir.IF(r=np.ones(3), v_threshold=np.ones(3) * 2),
        "out": nir.Output({"output": np.array([3])})},
        edges=[("in", "flat"), ("flat", "fc"), ("fc", "sc"), ("sc", "if"), ("if", "out")])
    mlp = from_graph(g)
    assert mlp.sizes == [4, 3]
    np.testing.assert_allclose(mlp.layers[0].weight[0], [0.5, 1.0, 1.5])


def test_a_trailing_scale_is_refused_not_dropped():
    ones = np.ones(2)
    g = nir.NIRGraph(nodes={
        "in": nir.Input({"input": np.array([2])}), "fc": nir.Linear(np.eye(2)),
        "if": nir.IF(r=ones, v_threshold=ones), "sc": nir.Scale(2 * ones),
        "out": nir.Output({"output": np.array([2])})},
        edges=[("in", "fc"), ("fc", "if"), ("if", "sc"), ("sc", "out")])
    with pytest.raises(InputFileError, match=r"node 'sc' is a Scale with no Affine after it"):
        from_graph(g)


def test_input_shape_that_disagrees_is_refused():
    g = nir.NIRGraph(nodes={
        "in": nir.Input({"input": np.array([5])}), "fc": nir.Affine(np.ones((3, 4)), np.zeros(3)),
        "out": nir.Output({"output": np.array([3])})}, edges=[("in", "fc"), ("fc", "out")],
        type_check=False)  # nir checks types itself when it builds a graph; files may not
    with pytest.raises(InputFileError, match=r"node 'in' has shape \[5\] \(5 values\), expected 4"):
        from_graph(g)


def test_convolution_is_refused_naming_the_node():
    g = nir.NIRGraph(nodes={
        "in": nir.Input({"input": np.array([1, 4, 4])}),
        "conv": nir.Conv2d(input_shape=(4, 4), weight=np.ones((2, 1, 3, 3)), stride=1, padding=0,
                           dilation=1, groups=1, bias=np.zeros(2)),
        "out": nir.Output({"output": np.array([2, 2, 2])})},
        edges=[("in", "conv"), ("conv", "out")], type_check=False)
    with pytest.raises(InputFileError, match=r"node 'conv' is Conv2d \(a convolution\)"):
        from_graph(g)


# ----------------------------------------------------------------- import: the NIR paper's files
def _rates_agree(a, b, steps, tol=0.05):
    """Fraction of inputs whose rates (spikes per step) differ by at most ``tol``."""
    return float(np.mean(np.abs(a - b) / steps <= tol))


def _lif_norse_rates(dt, steps=1000):
    """Rates (spikes/step) of the paper's lif_norse.nir neuron for 200 constant inputs in [0, 1]:
    Norse's LIFBox rule at ``dt``, and (after the import at ``dt``) the imported MLP's rate map,
    the ideal chip and the TrueNorth chip; and the import's approximation warnings."""
    x = np.linspace(0, 1, 200)[:, None]
    node = nir.read(FIXTURES / "lif_norse.nir").nodes["1"]
    params = {"dt": dt, "tau": float(node.tau[0]), "v_leak": 0.0,
              "theta": float(node.v_threshold[0])}
    norse = run_chain([(np.eye(1), np.zeros(1), params)], norse_lif_box, x, steps)[:, 0] / steps
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mlp = read_nir(FIXTURES / "lif_norse.nir", dt=dt)
    ours = {"mlp": np.clip(mlp.forward(x), 0, 1)[:, 0]}
    for chip in ("ideal", "truenorth"):
        program = compile_imported(mlp, chip, calibration=x).program
        ours[chip] = simulate(program, x, ticks=steps).counts[:, 0] / steps
    return norse, ours, [w for w in caught if issubclass(w.category, ApproximationWarning)]


@pytest.mark.parametrize("dt, bound, leak, staircase", [(1e-4, 0.125, 0.02, 0.105),
                                                        (DEFAULT_DT, 0.7, 0.2, 0.5)])
def test_paper_lif_norse_file_warns_with_an_error_bound_that_holds(dt, bound, leak, staircase):
    """paper/01_lif/lif_norse.nir (Norse: LIF tau = 2.5 ms, theta = 0.1, reset to 0; the paper
    runs it at dt = 0.1 ms). Measured at 0.1 ms, the share of the 200 inputs whose rate is within
    0.05 spikes/step of Norse's: the rate map and the ideal chip 93.5 % (largest error 0.076),
    the TrueNorth chip 100 % (its 4-bit weights lower the gain ~13 %, which happens to offset the
    reset's loss). Below 95 % because Norse resets to 0 where the chip subtracts theta: reset to
    0 drops the overshoot, so the rate is the staircase 1/ceil(n), which no linear rate follows
    (at x = 0.85 Norse fires every 4 steps, the map every 3.1). That is inherent, so the import
    warns with its bound, leak dt/2tau + rho^2/(1+rho) at the highest rate rho (0.38 at 0.1 ms;
    1 at the default 1 ms, where dt/tau = 0.4). The bound must hold input by input and be at
    most three times the largest error seen."""
    norse, ours, caught = _lif_norse_rates(dt)
    assert len(caught) == 1
    assert str(caught[0].message).startswith(
        f"node '1': expected rate error up to {bound:.3g} spikes/step = leak {leak:.3g} "
        f"(dt/2tau, dt = {dt:g} s) + reset to v_reset read as reset by subtraction "
        f"{staircase:.3g}")
    worst = {name: float(np.abs(rates - norse).max()) for name, rates in ours.items()}
    assert all(bound / 3 <= err <= bound for err in worst.values()), worst
    if dt == 1e-4:
        assert _rates_agree(ours["mlp"], norse, 1) >= 0.93
        assert _rates_agree(ours["ideal"], norse, 1) >= 0.93


def test_reset_can_be_given_and_an_exact_if_graph_does_not_warn():
    """reset="subtract" reads the Norse file without the staircase term (its bound at 0.1 ms is
    the leak's 0.02: no warning); an IF graph (sinabs) is exact; a bad value is refused."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ApproximationWarning)
        mlp = read_nir(FIXTURES / "lif_norse.nir", dt=1e-4, reset="subtract")
        sinabs = from_graph(_if_graph([1.0, 1.0]))
    assert mlp.provenance["nir_import"]["reset"] == {"1": "subtract"}
    assert mlp.provenance["nir_import"]["notes"][-1] == (
        "node '1': expected rate error up to 0.02 spikes/step = leak 0.02 (dt/2tau, "
        "dt = 0.0001 s)")
    assert sinabs.provenance["nir_import"]["reset"] == {"spk": "subtract"}
    assert sinabs.provenance["nir_import"]["notes"] == [
        "node 'spk': expected rate error up to 0 spikes/step (exact rate map)"]
    with pytest.raises(ValidationError, match=r"argument 'reset' is 'zero'; expected one of "
                                              r"subtract, value") as err:
        read_nir(FIXTURES / "lif_norse.nir", reset="zero")
    assert err.value.param == "reset"


@pytest.mark.filterwarnings("ignore::neurosim.compiler.nir_io.ApproximationWarning")
def test_paper_two_lif_file_keeps_the_self_firing_neuron():
    """paper/.../two_lif_neurons.nir: v_leak = 1.2 > θ = 1 makes LIF1 fire on its own (NIR:
    every 18 steps at dt = 1 ms, rate 0.056); before, v_leak was dropped (rate 0)."""
    mlp = read_nir(FIXTURES / "two_lif_neurons.nir")
    hidden = np.clip(mlp.hidden_outputs(np.zeros((1, 1)))[0], 0, 1)
    assert hidden[0, 0] == pytest.approx(0.1 * (1.2 - 0.5), rel=1e-5)  # 0.07 vs 0.056 exact
    assert mlp.forward(np.zeros((1, 1)))[0, 0] < 0  # LIF2 (θ = 20) never fires, as in NIR


def test_paper_braille_file_is_refused_as_recurrent():
    with pytest.raises(InputFileError, match=r"braille_noDelay_bias_zero.nir: node '.*' is "
                                             r"recurrent \(cycle lif1.lif -> lif1.w_rec -> "
                                             r"lif1.lif\)"):
        read_nir(FIXTURES / "braille_noDelay_bias_zero.nir")


def test_paper_rockpool_file_is_refused_because_nir_cannot_read_it():
    with pytest.raises(InputFileError, match=r"lif_rockpool.nir: not a readable NIR file "
                                             r"\(ValueError: Type inference error"):
        read_nir(FIXTURES / "lif_rockpool.nir")


# ----------------------------------------------------------------- files and errors
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


def test_foreign_if_graph_folds_gain_and_walks_edges():
    w1 = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]], dtype=np.float32)  # (out 3, in 2)
    nodes = {"z_in": nir.Input({"input": np.array([2])}),
             "a_fc": nir.Affine(w1, np.array([0.5, 0.0, -1.0], dtype=np.float32)),
             "m_if": nir.IF(r=np.array([1.0, 2.0, 1.0]), v_threshold=np.array([2.0, 1.0, 4.0]),
                            v_reset=np.zeros(3)),
             "b_out": nir.Linear(np.array([[1.0, 1.0, 1.0]], dtype=np.float32)),
             "c_o": nir.Output({"output": np.array([1])})}
    edges = [("b_out", "c_o"), ("m_if", "b_out"), ("z_in", "a_fc"), ("a_fc", "m_if")]
    net = from_graph(nir.NIRGraph(nodes=nodes, edges=edges))
    assert net.activation == "clipped_relu" and net.sizes == [2, 3, 1]
    np.testing.assert_allclose(net.layers[0].weight, [[0.5, 0.0, 0.75], [1.0, -2.0, 0.125]])
    np.testing.assert_allclose(net.layers[0].bias, [0.25, 0.0, -0.25])
    assert not net.layers[0].mask[0, 1] and net.layers[0].mask[1, 1]
    # z = [1.75, -2, 0.625]; clip -> [1, 0, 0.625]; out = 1.625
    np.testing.assert_allclose(net.forward(np.array([[1.0, 1.0]], dtype=np.float32)), [[1.625]])


def test_bad_files(tmp_path):
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
    with pytest.raises(InputFileError, match=r"node 't' is Threshold \(a threshold without"):
        from_graph(nir.NIRGraph(nodes=nodes, edges=[("i", "t"), ("t", "o")]))


@pytest.mark.parametrize("threshold, shown", [([1.0, -1.0], "-1"), ([0.0, 1.0], "0")])
def test_non_positive_thresholds_are_refused_naming_node_and_field(tmp_path, threshold, shown):
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


def test_compile_of_a_nir_graph_recognised_by_content(tmp_path):
    """A NIR file named .h5 loads through load_network and compiles with its output rates."""
    graph = tmp_path / "graph.h5"
    nir.write(graph, _if_graph([1.0, 1.0]))
    mlp = load_network(graph)
    program = compile_imported(mlp, "ideal").program
    assert (program.n_inputs, program.n_outputs) == (2, 2)
    assert isinstance(program, ChipProgram)


def test_layer_shapes_survive_a_mask_of_zero_weights():
    rng = np.random.default_rng(0)
    w1 = rng.normal(size=(5, 4)).astype(np.float32)
    m1 = rng.random((5, 4)) < 0.6
    m1[0, 0] = True
    w1[0, 0] = 0.0  # an existing connection whose weight is exactly 0: the mask must survive
    net = MLP([Layer(w1, rng.normal(size=4), m1), Layer.dense(rng.normal(size=(4, 3)),
                                                              rng.normal(size=3))], "relu", 2.5)
    back = from_graph(to_graph(net, calibration=rng.random((50, 5))))
    assert back.steepness == 2.5 and back.layers[0].mask[0, 0]
    assert np.array_equal(back.layers[0].mask, net.layers[0].mask)


# ----------------------------------------------------------------- interchange entry points
def test_export_nir_of_a_model_and_of_its_program(tmp_path, dense, digits):
    """export_nir takes a model or a compiled program by content; the program file is
    recompiled from its recorded model and must reproduce the same thresholds."""
    model = tmp_path / "m.npz"
    dense.save(model)
    summary = export_nir(model, tmp_path / "m.nir")
    assert summary["kind"] == "model" and nir.read(tmp_path / "m.nir").nodes["spike0"]
    compiled = compile_mlp(dense, "truenorth", calibration="digits")
    program = compiled.program.replace(meta=dict(compiled.program.meta,
                                                 model={"path": str(model), "dataset": "digits"}))
    program.save(tmp_path / "p.npz")
    summary = export_nir(tmp_path / "p.npz", tmp_path / "p.nir", uniform_threshold=True)
    assert summary["kind"] == "program" and summary["uniform_threshold"]
    g = nir.read(tmp_path / "p.nir")
    xt = digits[2][:100].astype(float)
    same = simulate_nir(to_nir(compiled, uniform_threshold=True), xt, 32)
    np.testing.assert_array_equal(simulate_nir(g, xt, 32), same)
    with pytest.raises(InputFileError, match=r"p.npz: this is a compiled chip program"):
        load_network(tmp_path / "p.npz")


def test_export_nir_checks_the_output_before_working(tmp_path, dense):
    model = tmp_path / "m.npz"
    dense.save(model)
    with pytest.raises(ValidationError, match=r"argument 'out' .*missing/x.nir: directory .* "
                                              r"does not exist") as err:
        export_nir(model, tmp_path / "missing" / "x.nir")
    assert err.value.param == "out"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_cli_compiles_a_nir_graph_by_content_and_refuses_a_bad_threshold(tmp_path, capsys):
    """A NIR file is recognised as HDF5 whatever its name; a threshold ≤ 0 exits 2 in one line
    naming the file, node and field, and writes nothing."""
    graph = tmp_path / "graph.h5"
    nir.write(graph, _if_graph([1.0, 1.0]))
    out = tmp_path / "p.npz"
    assert main(["compile", str(graph), "--chip", "ideal", "-o", str(out)]) == 0
    program = ChipProgram.load(out)
    assert (program.n_inputs, program.n_outputs) == (2, 2)
    out.unlink()
    capsys.readouterr()
    nir.write(graph, _if_graph([1.0, -1.0]))
    for command in (["compile", str(graph), "-o", str(out)], ["info", str(graph)],
                    ["export", str(graph), "--nir", str(tmp_path / "x.nir")]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert err == (f"neurosim {command[0]}: error: {graph}: node 'spk' field 'v_threshold' "
                       f"is -1 (neuron 1), expected > 0\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.h5"]


def test_cli_compile_of_the_norse_file_warns_and_reports_the_expected_error(tmp_path, capsys):
    """``neurosim compile lif_norse.nir --dt 1e-4 --json``: the warning is one stderr line that
    carries the bound, and the compile report (also saved in the program's meta) records the
    reset and the notes."""
    out = tmp_path / "p.npz"
    assert main(["compile", str(FIXTURES / "lif_norse.nir"), "--dt", "1e-4", "--chip",
                 "ideal", "-o", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("neurosim compile: warning: node '1': expected rate error up "
                                   "to 0.125 ")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    report = json.loads(captured.out)["nir_import"]
    assert report["reset"] == {"1": "value"} and report["dt"] == 1e-4
    assert report["notes"][-1].startswith("node '1': expected rate error up to 0.125")
    assert ChipProgram.load(out).meta["compiler"]["nir_import"] == report


def test_a_foreign_nir_file_with_an_upper_case_name_goes_through_info_bound_and_a_mission(
        tmp_path, capsys, dense, digits):
    """The digits model as a foreign NIR graph (neurosim's metadata stripped, so it is read by
    the NIR equations as an IF network) in a file named NET.NIR: info shows its layers, bound
    runs on it, and a mission flies it at the model's accuracy."""
    graph = to_graph(dense)
    graph.metadata = {}
    path = tmp_path / "NET.NIR"
    nir.write(path, graph)
    info = json.loads(_cli_out(capsys, ["info", str(path), "--json"]))
    assert info["sizes"] == dense.sizes
    bound = json.loads(_cli_out(capsys, ["bound", str(path), "--dataset", "digits",
                                         "--fail-prob", "0.05", "--samples", "20", "--json"]))
    assert bound["fep"] >= bound["erf"] >= 0
    result = ns.run_mission("leo_10y", runs=2, out_dir=str(tmp_path / "m"), workers=1,
                            progress=False, model=str(path))
    _, _, xt, yt = digits
    assert abs(result.summary["baseline_accuracy"] - dense.accuracy(xt, yt)) <= 0.03


def _cli_out(capsys, argv):
    """stdout of ``neurosim ARGV`` (exit code 0 asserted)."""
    assert main(argv) == 0
    return capsys.readouterr().out
