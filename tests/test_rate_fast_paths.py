"""The mission's rate evaluator with each of its large-program paths forced equals
simulate(mode="rate"): pull loop instead of push, no cached fault-free rates, changed neurons'
counters only (float64: 1e-12 on rates; float32 drives: 1e-6); and the row store reused from one
evaluation to the next leaves no trace."""
import dataclasses

import numpy as np
import pytest

import neurosim._delta as kernel
from neurosim.chip.faults import FaultState
from neurosim.sim import incremental, simulate, unit_graph
from neurosim.sim.delta import RowStore
from neurosim.sim.incremental import FastRate
from test_mission_scaling import (compare_rate, compare_random_states, deep,  # noqa: F401
                                  random_faults)                              # (deep: fixture)


@pytest.fixture
def large_paths(monkeypatch):
    """Every path a large program takes, on the small network."""
    monkeypatch.setattr(kernel, "PUSH_BLOCK_BYTES", 0)
    for name in ("AXON_RATE_CACHE_BYTES", "RATE_CACHE_BYTES"):
        monkeypatch.setattr(unit_graph, name, 0)
    monkeypatch.setattr(incremental, "WHOLE_COUNTER_NEURONS", 0)


def test_large_program_paths_equal_simulate(deep, large_paths):
    prog, x = deep
    ev = FastRate(prog, x)
    assert ev.graph.R0 is None and ev.graph.RA0 is None
    assert compare_random_states(ev, prog, x, seed=5, trials=30) >= 22


def test_large_program_paths_in_float32_stay_within_their_tolerance(deep, large_paths):
    prog, x = deep
    ev = FastRate(prog, x, dtype=np.float32)
    rng = np.random.default_rng(6)
    assert sum(compare_rate(ev, prog, x, random_faults(prog, rng, 3, routing=False), 1e-6)
               for _ in range(10)) == 10


def test_evaluations_do_not_leak_into_each_other(deep):
    # the same FaultState evaluated before and after many others gives the same numbers, and
    # the graph's scratch maps are back to empty
    prog, x = deep
    ev = FastRate(prog, x)
    rng = np.random.default_rng(8)
    states = [random_faults(prog, rng, 2, routing=False) for _ in range(12)]
    first = ev.evaluate(states[0])
    for fs in states[1:]:
        ev.evaluate(fs)
    again = ev.evaluate(states[0])
    np.testing.assert_array_equal(first.out, again.out)
    np.testing.assert_array_equal(first.spikes, again.spikes)
    g = ev.graph
    assert np.all(g.unit_row == -1) and np.all(g.unit_slot == -1) and np.all(g.want_row == -1)
    assert not g.special_mask.any()
    assert ev.rows.used > 0 and not np.array_equal(first.out, ev.base_out)


@pytest.mark.parametrize("large", [False, True])
def test_many_modified_neurons_of_one_core_equal_simulate(deep, monkeypatch, large):
    # the modified neurons of a level are computed together (their changed axons' rates
    # assembled at once, Σ ΔW ρ as one sparse product): several neurons of one core whose
    # columns change on the same axons, on axons whose own rate changed (upstream dead neuron),
    # with thresholds flipped too, each equal to simulate within 1e-12
    if large:
        for name in ("AXON_RATE_CACHE_BYTES", "RATE_CACHE_BYTES"):
            monkeypatch.setattr(unit_graph, name, 0)
    prog, x = deep
    ev = FastRate(prog, x)
    g = ev.graph
    c = int(np.flatnonzero(g.core_level == g.core_level.max() - 1)[0])
    js = np.flatnonzero(prog.enabled[c])[:4]
    fed = np.flatnonzero(g.src_n[c] >= 0)             # axons of c fed by neurons
    a1, a2 = int(fed[0]), int(fed[-1])
    feeder = int(g.src_n[c, a1])
    stuck = [[c, a, j, 1 - int(prog.crossbar[c, a, j])] for j in js for a in (a1, a2)]
    flips = [[c, a1, int(j), 1] for j in js[:2]]
    thr = [[c, int(js[0]), 2], [c, int(js[-1]), 1]]
    fs = FaultState(dead_neurons=[[int(g.n_core[feeder]), int(g.n_slot[feeder])]],
                    stuck_synapses=stuck, weight_flips=flips, threshold_flips=thr)
    modified, _, _ = ev._modified(fs, set())
    assert len(modified) >= 3
    assert compare_rate(ev, prog, x, fs, 1e-12)


def test_store_rows_gathered_equal_one_by_one():
    # RowStore.rows (dense and packed rows gathered at once) equals row() of each
    rng = np.random.default_rng(2)
    B = 40
    store = RowStore(B, rows=2)
    for i in range(6):
        row = rng.normal(size=B) * (rng.random(B) < (0.2 if i % 2 else 0.9))
        r = store.add(row)
        if i % 2:
            nz = np.flatnonzero(row)
            store.vals[r, :nz.size], store.cols[r, :nz.size], store.nnz[r] = row[nz], nz, nz.size
    idx = np.array([5, 0, 3, 3, 2])
    np.testing.assert_array_equal(store.rows(idx), np.array([store.row(i) for i in idx]))
    assert store.rows(np.zeros(0, np.int64)).shape == (0, B)


def test_per_synapse_weights_equal_simulate(deep):
    # a program with a weight per synapse (no axon types): weight flips and stuck bits change
    # single synapses of the columns gathered by FastRate._modified
    prog, x = deep
    C, A, N = prog.crossbar.shape
    types = np.broadcast_to(prog.axon_type[:, :, None].astype(np.intp), (C, A, N))
    per_synapse = np.take_along_axis(prog.weights, types, axis=1).astype(np.int32)
    per_synapse[:, ::3] = -per_synapse[:, ::3]          # no longer one weight per axon type
    profile = dataclasses.replace(prog.profile, name="truenorth-per-synapse", typed_weights=False)
    prog = prog.replace(profile=profile, synapse_weights=per_synapse)
    ev = FastRate(prog, x)
    assert ev.graph is not None
    rng = np.random.default_rng(11)
    assert sum(compare_rate(ev, prog, x, random_faults(prog, rng, 4, routing=False), 1e-12)
               for _ in range(15)) == 15


def test_events_of_dead_and_rewired_neurons_of_one_core_equal_simulate(deep):
    # per-core synaptic events Σ_a (Σ_B ρ_a)·(connected enabled neurons on a)·T when on one
    # core a neuron dies, two others have crossbar bits stuck (one to 0, one to 1) and the dead
    # one has a stuck bit too (its column does not count): the connection counts are changed
    # all at once, each core equal to simulate
    prog, x = deep
    ev = FastRate(prog, x)
    g = ev.graph
    c = int(np.flatnonzero(g.core_level == g.core_level.max() - 1)[0])
    js = [int(j) for j in np.flatnonzero(prog.enabled[c])[:3]]
    on = np.flatnonzero(prog.crossbar[c, :, js[1]])
    off = np.flatnonzero(~prog.crossbar[c, :, js[2]])
    stuck = [[c, int(on[0]), js[1], 0], [c, int(off[0]), js[2], 1], [c, int(on[-1]), js[0], 0]]
    fs = FaultState(dead_neurons=[[c, js[0]]], stuck_synapses=stuck)
    ref = simulate(prog, x, ticks=64, mode="rate", faults=fs).counters
    got = ev.evaluate(fs).counters(64, len(x))
    assert not np.allclose(got.core_events, ev.base.counters(64, len(x)).core_events)
    np.testing.assert_allclose(got.core_events, ref.core_events, rtol=1e-12, atol=1e-9)
