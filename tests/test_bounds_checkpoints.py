"""compare_checkpoints: crash-only bins against an independent computation; vacuity stated."""
import math
import statistics

import numpy as np
import pytest

from neurosim import data, resources, simulate
from neurosim.bounds import ChipBoundModel, chip_model, compare_checkpoints
from neurosim.chip.faults import FaultState
from neurosim.compiler import compile as compile_mlp
from neurosim.errors import ValidationError
from neurosim.mlp import MLP


@pytest.fixture(scope="module")
def digits_case():
    """The shipped digits model on truenorth and 70 'checkpoints': crash-only dead sets drawn for
    a few dead-count vectors (levels 0, 1, output), 5 with nothing dead, 6 outside the model."""
    mlp = MLP.load(resources.resolve("digits_dense.npz", "models"))
    prog = compile_mlp(mlp, "truenorth", anneal=False).program
    x = data.load("digits")[2][:80]
    base = simulate(prog, x, mode="rate").rates
    rng = np.random.default_rng(3)
    # independent level map: the compiler's layer of each neuron (no relays in this program)
    group = prog.neuron_group
    assert not np.isin(prog.unit_role, (2, 3)).any()
    per_level = [np.argwhere(group == g) for g in range(3)]
    vectors = [(0, 1, 0), (1, 0, 0), (0, 3, 0), (2, 2, 0), (0, 0, 1), (40, 0, 0)]
    counts, err_mean, err_max = [], [], []
    for v in vectors:
        for _ in range(int(rng.integers(1, 15))):
            rows = np.vstack([per_level[g][rng.choice(len(per_level[g]), k, replace=False)]
                              for g, k in enumerate(v)])
            e = np.abs(simulate(prog, x, mode="rate",
                                faults=FaultState(dead_neurons=rows)).rates - base).max(axis=1)
            counts.append(v), err_mean.append(e.mean()), err_max.append(e.max())
    n_crash = len(counts)
    counts += [(0, 0, 0)] * 5 + [(1, 0, 0)] * 6
    err_mean += [0.0] * 5 + [0.5] * 6
    err_max += [0.0] * 5 + [0.9] * 6
    crash = np.array([True] * (n_crash + 5) + [False] * 6)
    return prog, np.array(counts), np.array(err_mean), np.array(err_max), crash, n_crash


def independent_erf(model, v):
    """Erf by hand for levels (0, 1, output) with edges 0 → 1 → output only."""
    n = model.level_sizes
    w = model.sum_w / np.outer(n, n)
    s0 = v[0]
    s1 = v[1] + (n[1] - v[1]) * w[0, 1] * s0
    t = w[1, 2] * s1
    return t + min(v[2], 1) * max(1 - t, 0)


def test_bins_match_an_independent_computation(digits_case):
    prog, counts, err_mean, err_max, crash, n_crash = digits_case
    model = chip_model(prog)
    assert model.max_w[0, 2] == 0 and model.sum_w[0, 2] == 0   # no edge skips a level here
    res = compare_checkpoints(model, counts, err_mean, crash, error_max=err_max)
    assert (res["checkpoints"], res["outside_model"], res["no_dead"]) == (n_crash, 6, 5)
    groups = {}
    for v, e, c in zip(map(tuple, counts.tolist()), err_mean, crash):
        if c and sum(v):
            groups.setdefault(v, []).append(float(e))
    assert [tuple(b["dead_counts"]) for b in res["bins"]] == sorted(groups,
                                                                    key=lambda v: (sum(v), v))
    for b in res["bins"]:
        e = groups[tuple(b["dead_counts"])]
        assert b["n"] == len(e)
        assert b["observed_mean"] == pytest.approx(statistics.fmean(e))
        if len(e) > 1:
            half = 1.96 * statistics.stdev(e) / math.sqrt(len(e))
            assert b["observed_ci95"] == pytest.approx([statistics.fmean(e) - half,
                                                        statistics.fmean(e) + half])
        else:
            assert b["observed_ci95"] is None
        assert b["erf"] == pytest.approx(independent_erf(model, b["dead_counts"]))
        assert b["held"] == (statistics.fmean(e) <= b["erf"])
        assert b["vacuous"] == (b["erf"] >= 1)
        assert b["ratio"] == pytest.approx(b["erf"] / statistics.fmean(e))
    erfs = [independent_erf(model, v) for v in map(tuple, counts.tolist())]
    sel = crash & (counts.sum(axis=1) > 0)
    assert res["erf_informative"] == pytest.approx(np.mean(np.array(erfs)[sel] < 1))
    assert res["fep_held"] == 1.0                    # Fep holds for every realisation
    # a dead output neuron: Erf = C = 1, vacuous; so this comparison is not "all informative"
    out_bin = next(b for b in res["bins"] if b["dead_counts"] == [0, 0, 1])
    assert out_bin["erf"] == pytest.approx(1.0) and out_bin["vacuous"]
    informative = [b for b in res["bins"] if not b["vacuous"]]
    held = sum(b["held"] for b in informative)
    assert res["erf_held_bins"] == pytest.approx(held / len(informative))
    assert res["headline"].startswith(
        f"Erf informative on {100 * res['erf_informative']:.0f} % of {n_crash} crash-only "
        f"checkpoints; held on {100 * held / len(informative):.0f} % of bins")
    assert "6 checkpoints with upsets" in res["headline"]


def vacuous_model():
    """Two levels (4 hidden neurons → 2 outputs) with weights so large that one dead hidden
    neuron gives Erf ≥ 1."""
    return ChipBoundModel(("level 0", "output"), np.array([4, 2]), np.array([False, True]),
                          np.array([[0.0, 5.0], [0.0, 0.0]]), np.array([[0.0, 24.0], [0.0, 0.0]]),
                          np.zeros((1, 4), np.int64))


def test_headline_is_not_yes_when_every_checkpoint_is_vacuous():
    model = vacuous_model()
    counts = np.array([[1, 0], [1, 0], [2, 0], [3, 0]])
    res = compare_checkpoints(model, counts, [0.2, 0.3, 0.25, 0.4], [True] * 4)
    assert all(b["vacuous"] and b["held"] for b in res["bins"])   # "held", but saying nothing
    assert res["erf_informative"] == 0.0 and res["erf_held_bins"] is None
    assert res["tight"]["bins"] == 0
    h = res["headline"]
    assert "yes" not in h.lower() and "held on" not in h
    assert h.startswith("Erf informative on 0 % of 4 crash-only checkpoints")
    assert "says nothing" in h


def test_no_crash_only_checkpoint_and_validation():
    model = vacuous_model()
    res = compare_checkpoints(model, [[1, 0]], [0.5], [False])
    assert res["checkpoints"] == 0 and res["bins"] == [] and res["erf_informative"] is None
    assert res["headline"].startswith("no crash-only checkpoint with dead neurons")
    with pytest.raises(ValidationError, match="argument 'dead_counts'.*one count per level"):
        compare_checkpoints(model, [[1, 0, 0]], [0.5], [True])
    with pytest.raises(ValidationError, match="argument 'error_mean'"):
        compare_checkpoints(model, [[1, 0]], [0.5, 0.1], [True])
