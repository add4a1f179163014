"""Tests of neurosim.bounds: Fep, Erf, Omega, Monte Carlo, first-order estimators, CLI."""
import itertools
import json
import math

import numpy as np
import pytest

from neurosim import bounds
from neurosim.bench import bounds as bench_bounds_module
from neurosim.bounds import observed, studies, theory
from neurosim.errors import NeurosimError, ValidationError
from neurosim.mlp import MLP, Layer


def ones_mlp(activation="clipped_relu", steepness=1.0):
    sizes = [4, 3, 2, 1]
    return MLP([Layer(np.ones((a, b)), np.zeros(b), np.ones((a, b), bool))
                for a, b in zip(sizes[:-1], sizes[1:])], activation=activation, steepness=steepness)


# ------------------------------------------------------------------ Fep / Erf closed forms
def test_fep_all_ones_closed_form():
    # All-ones 4-3-2-1 network: N_1 = 3, N_2 = 2, every w_m = w̄ = 1. The recursion gives
    #   E_1 = f_1,  E_2 = f_2 + (2 − f_2) K f_1,  Fep = C · 1 · E_2 = C (f_2 + (2 − f_2) K f_1).
    net = ones_mlp("clipped_relu")  # K = 1, C = 1
    assert bounds.fep(net, [1, 0]) == pytest.approx(2.0)
    assert bounds.fep(net, [0, 1]) == pytest.approx(1.0)
    assert bounds.fep(net, [1, 1]) == pytest.approx(2.0)
    assert bounds.fep(net, [3, 0]) == pytest.approx(6.0)
    assert bounds.fep(net, [2, 2]) == pytest.approx(2.0)  # layer 2 all dead: only its own C's
    # sigmoid(2z): K = 2/4 = 0.5, C = 1
    sig = ones_mlp("sigmoid", steepness=2.0)
    assert bounds.fep(sig, [3, 0]) == pytest.approx(0.5 * 2 * 3)
    assert bounds.fep(sig, [1, 1]) == pytest.approx(1 + 1 * 0.5 * 1)
    # explicit C and K override
    assert bounds.fep(net, [1, 1], C=3.0, K=2.0) == pytest.approx(3.0 * (1 + 1 * 2 * 1))


def test_erf_all_ones_closed_form():
    # Erf = C (p_2 N_2 + (1 − p_2) N_2 K p_1 N_1) = C (2 p_2 + 2 (1 − p_2) K 3 p_1)
    net = ones_mlp("clipped_relu")
    assert bounds.erf(net, [0.1, 0.1]) == pytest.approx(0.2 + 2 * 0.9 * 0.3)
    assert bounds.erf(net, 0.5) == pytest.approx(1.0 + 2 * 0.5 * 1.5)
    assert bounds.erf(net, [0.0, 0.0]) == 0.0


def test_fep_erf_use_max_and_mean_weights():
    # 2-2-1 network: W_1 = [[1, -3], [0, 2]], W_2 = [[0.5], [-1]]; max |w| (3, 1), mean |w| (1.5, 0.75)
    layers = [Layer(np.array([[1.0, -3.0], [0.0, 2.0]]), np.zeros(2), np.ones((2, 2), bool)),
              Layer(np.array([[0.5], [-1.0]]), np.zeros(1), np.ones((2, 1), bool))]
    net = MLP(layers, activation="clipped_relu")
    # L = 1: Fep = C w_m^(2) f_1 = 1 · 1 · f_1; Erf = w̄^(2) p N_1 = 0.75 · 2p
    assert bounds.fep(net, [2]) == pytest.approx(2.0)
    assert bounds.erf(net, 0.25) == pytest.approx(0.75 * 0.5)
    assert bounds.erf(net, 0.25, use="max") == pytest.approx(1.0 * 0.5)
    # three layers: 2-2-2-1 with the same first layer twice
    layers3 = [layers[0], Layer(np.array([[1.0, -3.0], [0.0, 2.0]]), np.zeros(2),
                                np.ones((2, 2), bool)), layers[1]]
    net3 = MLP(layers3, activation="clipped_relu")
    # Fep(f=(1,0)) = 1 · (f_2 + (2 − 0) · 1 · 3 · 1) = 6
    assert bounds.fep(net3, [1, 0]) == pytest.approx(6.0)
    # Erf(p=(0.5, 0)) = 0.75 · (0 + 2 · 1.5 · 1) = 2.25
    assert bounds.erf(net3, [0.5, 0.0]) == pytest.approx(2.25)


def test_sparse_mean_counts_absent_synapses_as_zero():
    mask = np.array([[True, False], [False, True]])
    layers = [Layer(np.array([[2.0, 9.0], [9.0, 2.0]]), np.zeros(2), mask),
              Layer(np.ones((2, 1)), np.zeros(1), np.ones((2, 1), bool))]
    c = bounds.network_constants(MLP(layers, activation="clipped_relu"))
    assert c.mean_abs_w[0] == pytest.approx(1.0)  # (2 + 2) / 4
    assert c.max_abs_w[0] == pytest.approx(2.0)


def test_relu_requires_C_and_validation():
    net = ones_mlp("relu")
    with pytest.raises(ValidationError, match="relu"):
        bounds.fep(net, [1, 0])
    assert bounds.fep(net, [1, 0], C=2.0) == pytest.approx(4.0)
    with pytest.raises(ValidationError, match="layer 1"):
        bounds.fep(ones_mlp(), [4, 0])  # more failures than the width 3
    with pytest.raises(ValidationError, match="one per hidden layer"):
        bounds.fep(ones_mlp(), [1, 0, 0])
    with pytest.raises(ValidationError, match=r"\[0.0, 1.0\]"):
        bounds.erf(ones_mlp(), 1.5)


def test_expected_fep_equals_fep_of_mean_counts(random_mlp):
    # (★): Fep is multilinear in the f_l, so E[Fep(f)] = Fep(p N) for independent binomial f_l.
    net = random_mlp(np.random.default_rng(3), [5, 6, 5, 4, 3, 2], "sigmoid", 4.0, weight_std=1.0)
    c = bounds.network_constants(net)
    p = np.array([0.3, 0.2, 0.5, 0.1])
    rng = np.random.default_rng(7)
    n_draw = 200_000
    f = [rng.binomial(n, pl, size=n_draw).astype(float) for n, pl in zip(c.hidden_sizes, p)]
    vals = theory._propagate(c.sizes, c.max_abs_w, c.K, c.C, f)  # vectorised over draws
    target = bounds.fep(c, p * np.array(c.hidden_sizes))
    se = vals.std() / math.sqrt(n_draw)
    assert abs(vals.mean() - target) < 4 * se
    assert target == pytest.approx(bounds.erf(c, p, use="max"))
    # and it is not a trivial identity: Fep of rounded-down counts differs by many standard errors
    assert abs(bounds.fep(c, np.floor(p * np.array(c.hidden_sizes))) - target) > 20 * se


# ------------------------------------------------------------------ Omega
def test_omega_all_ones_hand_values():
    # relu, x = 0.25·1: z_1 = 1 → a_1 = (1,1,1); z_2 = 3 → a_2 = (3,3); y = 6.
    # one crash in layer 1: z_2 = 2 → y = 4, error 2; one crash in layer 2: y = 3, error 3.
    net = ones_mlp("relu")
    x = np.full((1, 4), 0.25)
    r1 = bounds.omega(net, 1, 1, x)
    assert (r1.max, r1.mean, r1.n_subsets) == (pytest.approx(2.0), pytest.approx(2.0), 3)
    r2 = bounds.omega(net, 2, 1, x)
    assert (r2.max, r2.mean, r2.n_subsets) == (pytest.approx(3.0), pytest.approx(3.0), 2)
    assert bounds.omega(net, 1, 3, x).max == pytest.approx(6.0)
    assert bounds.omega(net, 1, 0, x).max == 0.0
    # worst-case bound with C = 3 (largest hidden activation): Fep(1,0) = 3 · 2 = 6 ≥ 2
    assert bounds.fep(net, [1, 0], C=bounds.max_activation(net, x)) == pytest.approx(6.0)


@pytest.mark.parametrize("activation,steepness", [("sigmoid", 1.0), ("relu", 1.0),
                                                  ("clipped_relu", 1.0), ("sigmoid", 2.5),
                                                  ("clipped_relu", 0.7)])
def test_omega_vectorised_equals_bruteforce(random_mlp, activation, steepness):
    net = random_mlp(np.random.default_rng(11), [4, 6, 5, 4, 3], activation, steepness,
                     weight_std=1.0, bias_std=0.3)
    x = np.random.default_rng(1).random((17, 4))
    for layer, n in zip((1, 2, 3), (6, 5, 4)):
        for c in range(n + 1):
            r = bounds.omega(net, layer, c, x)
            mx, mean = bounds.omega_bruteforce(net, layer, c, x)
            assert r.n_subsets == math.comb(n, c)
            assert r.max == pytest.approx(mx, rel=1e-5, abs=1e-6)
            assert r.mean == pytest.approx(mean, rel=1e-5, abs=1e-6)
    # worst subset is really the worst: recompute it
    r = bounds.omega(net, 2, 2, x)
    dead = [None, np.isin(np.arange(5), r.worst_subset), None]
    worst = np.abs(net.forward(x.astype(np.float64), dead=dead) - net.forward(x.astype(np.float64)))
    assert worst.max() == pytest.approx(r.max, rel=1e-5)


def test_omega_chunking_matches(random_mlp, monkeypatch):
    net = random_mlp(np.random.default_rng(5), [3, 8, 4, 2], "sigmoid", weight_std=1.0)
    x = np.random.default_rng(2).random((9, 3))
    full = bounds.omega(net, 1, 3, x)
    monkeypatch.setattr(observed, "_CHUNK_ELEMS", 50)  # forces one subset per batch
    small = bounds.omega(net, 1, 3, x)
    assert small.max == pytest.approx(full.max) and small.mean == pytest.approx(full.mean)


def test_omega_refuses_too_many_subsets(random_mlp):
    net = random_mlp(np.random.default_rng(0), [4, 40, 2], "sigmoid", weight_std=1.0)
    with pytest.raises(ValidationError, match=r"137,846,528,820 subsets.*limit of 1,000"):
        bounds.omega(net, 1, 20, np.zeros((1, 4)), max_subsets=1000)
    with pytest.raises(ValidationError, match="hidden layer 1..1"):
        bounds.omega(net, 2, 1, np.zeros((1, 4)))
    with pytest.raises(ValidationError, match=r"\[0, 40\]"):
        bounds.omega(net, 1, 41, np.zeros((1, 4)))


def test_random_study_invariants_on_seeded_networks():
    # 4-4-4-4-4-1, no bias, linear output, Gaussian weights, sigmoid; every subset of every layer
    rows = studies.random_rows(n_networks=3, grid_points=3, seed=1)
    assert len(rows) == 3 * 4 * 4  # networks × layers × crash counts 1..4
    for r in rows:
        assert r["omega_max"] <= r["fep"] * (1 + 1e-9)
        assert r["omega_mean"] <= r["omega_max"] + 1e-12
        assert r["omega_mean"] > 0
        assert r["erf"] >= r["omega_mean"]


# ------------------------------------------------------------------ Monte Carlo
def test_monte_carlo_exact_count_matches_omega_mean(random_mlp):
    # exactly c crashes in one layer, uniform subsets: the MC mean converges to Omega's mean
    net = random_mlp(np.random.default_rng(4), [4, 6, 5, 2], "sigmoid",
                     weight_std=1.0, bias_std=0.3)
    x = np.random.default_rng(3).random((20, 4))
    om = bounds.omega(net, 1, 2, x)
    mc = bounds.monte_carlo_error(net, None, x, 3000, np.random.default_rng(0),
                                  failures_per_layer=[2, 0])
    assert mc.ci95[0] - 2 * mc.std / math.sqrt(3000) <= om.mean <= mc.ci95[1] + \
        2 * mc.std / math.sqrt(3000)
    assert mc.max <= om.max + 1e-9


def test_monte_carlo_probability_matches_exact_enumeration(random_mlp):
    # 5 neurons in the one hidden layer, p = 0.3: E = Σ_c C(5,c) p^c (1−p)^{5−c} Omega_mean(c)
    net = random_mlp(np.random.default_rng(8), [3, 5, 2], "sigmoid", weight_std=1.0, bias_std=0.3)
    x = np.random.default_rng(4).random((10, 3))
    p = 0.3
    exact = sum(math.comb(5, c) * p ** c * (1 - p) ** (5 - c) * bounds.omega(net, 1, c, x).mean
                for c in range(6))
    mc = bounds.monte_carlo_error(net, p, x, 20_000, np.random.default_rng(1))
    assert abs(mc.mean - exact) < 4 * mc.std / math.sqrt(mc.samples)
    assert mc.ci95[0] < mc.mean < mc.ci95[1]
    # deterministic given the generator's seed
    again = bounds.monte_carlo_error(net, p, x, 20_000, np.random.default_rng(1))
    assert again.mean == mc.mean


# ------------------------------------------------------------------ first order
def test_jacobian_matches_finite_differences(random_mlp):
    net = random_mlp(np.random.default_rng(9), [3, 5, 4, 2], "sigmoid", 2.0,
                     weight_std=1.0, bias_std=0.3)
    x = np.random.default_rng(5).random((4, 3))
    jac = bounds.output_jacobians(net, x)
    wb = observed._weights(net)
    outs = net.hidden_outputs(x.astype(np.float64))
    h = 1e-6
    for l in (1, 2):
        a = outs[l - 1]
        for i in range(a.shape[1]):
            d = np.zeros_like(a)
            d[:, i] = h
            num = (observed._run_from(net, wb, a + d, l) - observed._run_from(net, wb, a - d, l)) / (2 * h)
            np.testing.assert_allclose(jac[l - 1][:, i, :], num, rtol=1e-5, atol=1e-8)


def test_taylor_equals_ablation_when_output_is_linear_in_the_layer(random_mlp):
    # failing only the last hidden layer: y is linear in a_L, so Taylor = ablation exactly
    net = random_mlp(np.random.default_rng(2), [4, 6, 5, 3], "relu", weight_std=1.0, bias_std=0.3)
    x = np.random.default_rng(6).random((8, 4))
    fo = bounds.first_order(net, x, [0.0, 0.05])
    np.testing.assert_allclose(fo.taylor_mean, fo.ablation_mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fo.taylor_abs, fo.ablation_abs, rtol=1e-9, atol=1e-12)
    assert np.abs(fo.taylor_mean).max() > 1e-3


def _mc_signed(net, x, p, samples, rng):
    """Δy per sample and input with one crash set per sample (reference Monte Carlo)."""
    L = len(net.layers) - 1
    B = x.shape[0]
    xr = np.tile(x, (samples, 1))
    dead = []
    for l in range(L):
        n = net.sizes[l + 1]
        d = rng.random((samples, n)) < p[l]
        dead.append(np.repeat(d, B, axis=0))
    y = net.forward(xr, dead=dead).reshape(samples, B, -1)
    return y - net.forward(x)[None]


def test_first_order_matches_monte_carlo_for_small_p(random_mlp):
    net = random_mlp(np.random.default_rng(12), [4, 6, 5, 3], "sigmoid", 2.0,
                     weight_std=1.0, bias_std=0.3)
    x = np.random.default_rng(7).random((3, 4))
    p = np.array([0.003, 0.003])
    fo = bounds.first_order(net, x, p)
    d = _mc_signed(net, x, p, 60_000, np.random.default_rng(3))
    se = d.std(axis=0) / math.sqrt(d.shape[0])
    # E Δy: exact to first order; remaining bias O(p N) ≈ 3 % of the value
    np.testing.assert_array_less(np.abs(d.mean(axis=0) - fo.ablation_mean),
                                 4 * se + 0.05 * np.abs(fo.ablation_mean))
    # E ‖Δy‖∞ per input
    dabs = np.abs(d).max(axis=2)
    se_abs = dabs.std(axis=0) / math.sqrt(d.shape[0])
    np.testing.assert_array_less(np.abs(dabs.mean(axis=0) - fo.ablation_abs),
                                 4 * se_abs + 0.05 * fo.ablation_abs)
    # Taylor is close to ablation here (smooth network, small activations changes)
    np.testing.assert_allclose(fo.taylor_abs, fo.ablation_abs, rtol=0.5)


def test_taylor_variance_matches_monte_carlo(random_mlp):
    # last hidden layer only, p = 0.2: Var Δy = p (1 − p) Σ (a_i ∂y/∂a_i)² exactly
    net = random_mlp(np.random.default_rng(13), [4, 6, 5, 3], "clipped_relu",
                     weight_std=1.0, bias_std=0.3)
    x = np.random.default_rng(8).random((3, 4))
    p = np.array([0.0, 0.2])
    fo = bounds.first_order(net, x, p)
    d = _mc_signed(net, x, p, 40_000, np.random.default_rng(4))
    np.testing.assert_allclose(d.var(axis=0), fo.taylor_var, rtol=0.05)
    np.testing.assert_allclose(d.mean(axis=0), fo.taylor_mean,
                               atol=4 * np.sqrt(fo.taylor_var.max() / 40_000))


# ------------------------------------------------------------------ chip function, bench, CLI
def test_chip_bounds_matches_erf_and_fep(random_mlp):
    net = random_mlp(np.random.default_rng(21), [6, 8, 7, 3], "clipped_relu", weight_std=1.0)
    c = bounds.network_constants(net, C=1.0, K=1.0)
    e, w = bounds.chip_bounds(c, [0.25, 0.5])
    assert e == pytest.approx(bounds.erf(net, [0.25, 0.5]))
    assert w == pytest.approx(bounds.fep(net, [2, 3.5]))
    assert e < w


def test_bench_bounds_quick():
    out = bench_bounds_module.bench_bounds(quick=True, verbose=False)
    assert out["erf_under_1ms"]
    assert out["omega_evaluations"] == math.comb(16, 3) * 64
    # quick chip-level part: a 16 × 16 grid, 16 core levels + the output level
    assert (out["chip_cores"], out["chip_nodes"], out["chip_levels"]) == (256, 65_536, 17)
    assert out["chip_dead"] > 256          # two whole dead cores and a few neurons
    assert out["chip_fep"] >= out["chip_erf"] > 0


def test_cli_bound(random_mlp, tmp_path, capsys):
    from neurosim import cli
    net = random_mlp(np.random.default_rng(1), [64, 12, 10, 10], "sigmoid", 4.0,
                     weight_std=1.0, bias_std=0.3)
    path = tmp_path / "net.npz"
    net.save(path)
    rc = cli.main(["bound", str(path), "--fail-prob", "0.05", "--samples", "100", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("erf", "fep", "taylor_mean", "observed_mean", "observed_ci95", "tightness",
                "safe"):
        assert key in out
    assert out["erf"] == pytest.approx(bounds.erf(net, 0.05))
    assert out["fep"] == pytest.approx(bounds.fep(net, [0.6, 0.5]))
    assert out["tightness"] == pytest.approx(out["erf"] / out["observed_mean"])
    assert out["safe"] == (out["observed_mean"] <= out["erf"])
    rc = cli.main(["bound", str(path), "--failures", "2", "--layer", "2", "--samples", "50",
                   "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["failures_per_layer"] == [0, 2]
    assert out["fep"] == pytest.approx(bounds.fep(net, [0, 2]))
    for bad, msg in ((["--fail-prob", "1.5"], "--fail-prob"),
                     (["--failures", "1,2,3"], "expected one per hidden layer"),
                     (["--failures", "13,0"], "layer 1 count 13"),
                     (["--failures", "1,x"], "--failures")):
        assert cli.main(["bound", str(path)] + bad) == 2
        err = capsys.readouterr().err
        assert msg in err and len(err.strip().splitlines()) == 1
    assert cli.main(["bound", str(path), "--fail-prob", "0", "--samples", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["erf"], out["observed_mean"], out["tightness"], out["safe"]) == (0.0, 0.0, None, True)
    assert cli.main(["bound", str(tmp_path / "missing.npz"), "--fail-prob", "0.1"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_lipschitz_study_degrees_and_files(tmp_path):
    # claim (2): for one crash in layer l of a 4-hidden-layer sigmoid network, the error grows as
    # K^(L − l) while sigmoid(s z) is near-linear (small K); Erf's degree is exactly L − l.
    res = studies.run("lipschitz", out_dir=str(tmp_path), quick=True, verbose=False)
    f = res["lipschitz"]["findings"]
    for l in range(1, 5):
        assert f[f"layer{l}_erf_degree"] == pytest.approx(4 - l, abs=1e-9)
        assert f[f"layer{l}_omega_slope_small_K"] == pytest.approx(4 - l, abs=0.1)
        assert f[f"layer{l}_omega_slope_large_K"] < 0.5  # saturation: the claim stops holding
    assert (tmp_path / "lipschitz.csv").read_text().startswith("steepness,K,layer,")
    assert (tmp_path / "lipschitz.png").stat().st_size > 10_000


def test_erf_is_not_a_bound_when_large_weights_line_up():
    # Erf replaces max |w| by mean |w|, which assumes the crash error meets typical weights. A
    # network whose one large-weight path carries everything defeats it (why Erf is an estimate):
    # clipped relu, x = 1 → a_1 = (1, 1, 1, 1); layer 2: neuron 1 gets 0.24 from each (z = 0.96,
    # linear region), neuron 2 gets 0.001; output weights (1, 0.001). One crash in layer 1 lowers
    # a_2,1 by 0.24 → Omega = 0.24 for every subset. Erf(p_1 = 1/4) = C w̄3 (p N_1) K w̄2 N_2
    # = 1 · 0.5005 · 1 · 1 · 0.1205 · 2 = 0.1206.
    w2 = np.column_stack([np.full(4, 0.24), np.full(4, 0.001)])
    layers = [Layer(np.ones((1, 4)), np.zeros(4), np.ones((1, 4), bool)),
              Layer(w2, np.zeros(2), np.ones((4, 2), bool)),
              Layer(np.array([[1.0], [0.001]]), np.zeros(1), np.ones((2, 1), bool))]
    net = MLP(layers, activation="clipped_relu")
    om = bounds.omega(net, 1, 1, np.ones((1, 1)))
    assert om.mean == pytest.approx(0.24, rel=1e-5)
    assert bounds.erf(net, [0.25, 0.0]) == pytest.approx(0.5005 * 0.1205 * 2, rel=1e-4)
    assert om.mean > 1.9 * bounds.erf(net, [0.25, 0.0])
    # the worst case still holds: E_1 = 1, E_2 = 2 · 1 · 0.24 · 1 = 0.48, Fep = 1 · 1 · 0.48
    assert bounds.fep(net, [1, 0]) == pytest.approx(0.48, rel=1e-5)
    assert om.max <= bounds.fep(net, [1, 0])


# ------------------------------------------------------------------ compiled programs
@pytest.fixture(scope="module")
def compiled_digits(tmp_path_factory):
    """The shipped digits dense model compiled for TrueNorth (no annealing: placement does not
    change rates), saved as a program .npz."""
    from neurosim import resources
    from neurosim.compiler import compile as compile_mlp
    mlp = MLP.load(resources.resolve("digits_dense.npz", "models"))
    compiled = compile_mlp(mlp, "truenorth", anneal=False)
    path = tmp_path_factory.mktemp("prog") / "program.npz"
    compiled.program.save(path)
    mpath = path.parent / "mlp.npz"
    mlp.save(mpath)
    return mlp, compiled, path, mpath


def test_program_unit_weights_are_the_normalised_layers(compiled_digits):
    # Copies (bitplanes: −1 = −8 + 4 + 2 + 1) are summed with their signs, so the unit-level
    # matrices are the normalised float layers up to 4-bit quantisation.
    _, compiled, _, _ = compiled_digits
    mats = bounds.program_unit_weights(compiled.program)
    for m, layer in zip(mats, compiled.layers):
        assert m.shape == layer.weight.shape
        assert np.corrcoef(m.ravel(), layer.weight.ravel())[0, 1] > 0.99
        assert np.abs(m).mean() == pytest.approx(np.abs(layer.weight).mean(), rel=0.03)
    c = bounds.program_constants(compiled.program)
    assert c.sizes == (64, 64, 64, 10) and (c.K, c.C) == (1.0, 1.0)
    from neurosim.mission import chip_constants
    from neurosim.sim.incremental import FastRate
    prog = compiled.program
    assert chip_constants(prog, FastRate(prog, np.zeros((1, 64))))[0] == c


def test_program_unit_weights_fold_relay_pairs(random_mlp):
    # A small relu network whose fan-in (12 inputs × 4 bitplane axons) exceeds 32-axon cores:
    # every hidden unit is split into relay pairs; folding r⁺ gives the normalised weights back.
    from neurosim.compiler import compile as compile_mlp
    net = random_mlp(np.random.default_rng(5), [12, 10, 6], "relu", weight_std=1.0, bias_std=0.3)
    x = np.random.default_rng(0).random((200, 12))
    compiled = compile_mlp(net, "truenorth", calibration=x, max_axons=32, anneal=False)
    assert any(len(r) for r in compiled.program.unit_relays(0))
    for m, layer in zip(bounds.program_unit_weights(compiled.program), compiled.layers):
        assert np.corrcoef(m.ravel(), layer.weight.ravel())[0, 1] > 0.98
        assert np.abs(m).mean() == pytest.approx(np.abs(layer.weight).mean(), rel=0.1)


def test_program_crash_evaluation_equals_simulate(compiled_digits):
    # One crash draw: the fast evaluator used by the Monte Carlo equals simulate(mode="rate").
    from neurosim import data, simulate
    from neurosim.chip.faults import FaultState
    from neurosim.sim.incremental import FastRate
    _, compiled, _, _ = compiled_digits
    prog = compiled.program
    x = data.load("digits")[2][:40]
    rows = bounds.program_dead_neurons(prog, {1: [3, 17], 2: [5]})
    assert len(rows) == sum(len(prog.unit_neurons(l)[j])
                            for l, j in ((0, 3), (0, 17), (1, 5)))
    fs = FaultState(dead_neurons=rows)
    fast = FastRate(prog, x).evaluate(fs).out
    slow = simulate(prog, x, mode="rate", faults=fs).rates
    assert np.allclose(fast, slow, atol=1e-9)


def test_cli_bound_program(compiled_digits, capsys, tmp_path):
    from neurosim import cli
    mlp, compiled, path, mpath = compiled_digits
    rc = cli.main(["bound", str(path), "--fail-prob", "0.05", "--samples", "40", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("erf", "fep", "observed_mean", "tightness"):
        assert math.isfinite(out[key])
    lo, hi = out["observed_ci95"]
    assert out["observed_mean"] > 0 and lo <= out["observed_mean"] <= hi
    assert out["taylor_mean"] is None and out["kind"] == "program" and out["C"] == 1.0
    c = bounds.program_constants(compiled.program)
    assert out["erf"] == pytest.approx(bounds.erf(c, 0.05))
    assert out["fep"] == pytest.approx(bounds.fep(c, [3.2, 3.2]))
    assert out["safe"] == (out["observed_mean"] <= out["erf"])
    # Same crashes on the MLP: its error is in logits, the chip's in output rates, and rate 1
    # stands for λ_out logits, so compare the chip with MLP error / λ_out. Measured ratio ≈ 0.6:
    # the chip's output and hidden rates are clipped to [0, 1] (losing classes sit at 0, strong
    # units saturate), which only removes error, and 4-bit weights add a little noise either way;
    # hence the tolerance [0.2, 1.5] (the same order, with room for 40-sample noise).
    rc = cli.main(["bound", str(mpath), "--fail-prob", "0.05", "--samples", "100", "--json"])
    assert rc == 0
    ref = json.loads(capsys.readouterr().out)
    scale = compiled.program.layer_scale[-1]
    assert 0.2 <= out["observed_mean"] / (ref["observed_mean"] / scale) <= 1.5
    # exact counts, one layer
    assert cli.main(["bound", str(path), "--failures", "4", "--layer", "2", "--samples", "10",
                     "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["failures_per_layer"] == [0, 4] and out["observed_mean"] > 0
    neither = tmp_path / "neither.npz"
    np.savez(neither, a=np.zeros(3))
    garbage = tmp_path / "garbage.npz"
    garbage.write_text("not a zip")
    for args, msg in (([str(path), "--failures", "1"], "expected one per hidden layer"),
                      ([str(path), "--failures", "65,0"], "layer 1 count 65"),
                      ([str(path), "--fail-prob", "0.1", "--C", "2"], "--C"),
                      ([str(path), "--fail-prob", "0.1", "--layer", "3"], "--layer"),
                      ([str(path), "--fail-prob", "0.1", "--dataset", "synthetic"], "inputs"),
                      ([str(neither), "--fail-prob", "0.1"], "neither an MLP"),
                      ([str(garbage), "--fail-prob", "0.1"], "is a text file")):
        assert cli.main(["bound"] + args) == 2, args
        err = capsys.readouterr().err
        assert msg in err and len(err.strip().splitlines()) == 1, err
