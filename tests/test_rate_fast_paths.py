"""The mission's rate evaluator with each of its large-program paths forced equals
simulate(mode="rate"): pull loop instead of push, no cached fault-free rates, changed neurons'
counters only (float64: 1e-12 on rates; float32 drives: 1e-6); and the row store reused from one
evaluation to the next leaves no trace."""
import numpy as np
import pytest

import neurosim._delta as kernel
from neurosim.sim import incremental, unit_graph
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
