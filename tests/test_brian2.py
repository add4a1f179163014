"""The brian2 backend agrees with the Cython kernel spike for spike (records, counts, counters).

Brian2 runs with its ``numpy`` code generation target, so nothing is compiled. Programs are tiny
and seeded, with every reset and floor mode, initial potentials, disabled neurons and delays 1..15.
"""
import numpy as np
import pytest

from neurosim import _core
from neurosim.chip.program import empty_program
from neurosim.errors import ValidationError
from neurosim.sim import simulate
from neurosim.sim import brian2_backend
from neurosim.sim.encoding import encode

KEYS = ("counts", "first_spike", "pair_spikes", "pair_events", "pair_hops", "record")


def assert_same(expected, got):
    for key in KEYS:
        if key in expected:
            np.testing.assert_array_equal(got[key], expected[key], err_msg=key)


def run_both(prog, ticks=40, batch=3, seed=0, **kw):
    rates = np.random.default_rng(seed).random((batch, prog.n_inputs))
    raster = encode(rates, ticks, "bernoulli", seed)
    want = _core.run_spiking(prog, raster, record=True)
    timing = {}
    got = brian2_backend.run_spiking(prog, raster, record=True, target="numpy", timing=timing,
                                     **kw)
    assert want["record"].any(), "test program never fires: it tests nothing"
    return want, got, timing


@pytest.mark.parametrize("seed,profile", [(s, "truenorth") for s in range(6)]
                         + [(s, "ideal") for s in range(6, 9)])
def test_random_single_source_programs_direct(random_wired_program, seed, profile):
    prog = random_wired_program(np.random.default_rng(seed), profile)
    want, got, timing = run_both(prog, seed=seed)
    assert timing["relay"] is False
    assert_same(want, got)


@pytest.mark.parametrize("seed", [10, 11, 12])
def test_random_programs_axon_relay(random_wired_program, seed):
    prog = random_wired_program(np.random.default_rng(seed))
    want, got, timing = run_both(prog, seed=seed, relay=True)
    assert timing["relay"] is True
    assert_same(want, got)


@pytest.mark.parametrize("seed", [20, 21, 22, 25])
def test_colliding_sources_are_ored(random_wired_program, seed):
    """Several sources on one axon (as after a routing upset): spikes in one tick count once."""
    prog = random_wired_program(np.random.default_rng(seed), single_source=False)
    want, got, timing = run_both(prog, seed=seed)
    assert timing["relay"] is True
    assert _simultaneous_arrivals(prog, want["record"]) > 0, "no collision: tests nothing"
    assert_same(want, got)


def _simultaneous_arrivals(prog, record):
    """Number of (input, tick, core, axon) where two or more neuron spikes arrive together."""
    t, b, c, n = np.nonzero(record)
    routed = prog.dest_core[c, n] >= 0
    t, b, c, n = t[routed], b[routed], c[routed], n[routed]
    key = np.stack([b, t + prog.dest_delay[c, n], prog.dest_core[c, n], prog.dest_axon[c, n]])
    _, hits = np.unique(key, axis=1, return_counts=True)
    return int((hits > 1).sum())


def test_direct_refuses_colliding_sources(random_wired_program):
    with pytest.raises(ValueError, match="one source"):
        prog = random_wired_program(np.random.default_rng(20), single_source=False)
        brian2_backend.run_spiking(prog, np.zeros((2, 1, prog.n_inputs), np.uint8), relay=False)


def _one_neuron(alpha, leak, v0=0, weight=0, with_input=False):
    prog = empty_program(
        "truenorth", 1, 1, 1, n_inputs=1 if with_input else 0, n_outputs=1,
        enabled=np.ones((1, 1), bool), threshold=np.full((1, 1), alpha, np.int32),
        leak=np.full((1, 1), leak, np.int32), initial_potential=np.full((1, 1), v0, np.int32),
        crossbar=np.ones((1, 1, 1), bool), weights=np.full((1, 4, 1), weight, np.int32),
        input_index=np.zeros(1 if with_input else 0, np.int32),
        input_core=np.zeros(1 if with_input else 0, np.int32),
        input_axon=np.zeros(1 if with_input else 0, np.int32))
    return prog


@pytest.mark.parametrize("alpha,leak,v0,weight,with_input,first,period", [
    (10, 1, 0, 0, False, 9, 10),     # α = 10, λ = +1: period 10
    (10, 1, 1, 0, False, 8, 10),     # initial V = 1: phase 9
    (11, 2, 0, 0, False, 5, 6),      # α = 11, λ = 2: period 6
    (10, -1, 0, 3, True, 4, 5),      # input every tick, s = 3, λ = −1: period 5, phase 1
])
def test_truenorth_golden_cases(alpha, leak, v0, weight, with_input, first, period):
    """The golden cases of the pytruenorth README (run on IBM's simulator and an NS1e board), through simulate(backend="brian2")."""
    prog = _one_neuron(alpha, leak, v0, weight, with_input)
    rates = np.ones((1, prog.n_inputs))
    res = simulate(prog, rates, ticks=60, backend="brian2", record=True)
    times = np.nonzero(res.record[:, 0, 0, 0])[0]
    assert times[0] == first
    assert (np.diff(times) == period).all()
    ref = simulate(prog, rates, ticks=60, backend="core", record=True)
    np.testing.assert_array_equal(res.record, ref.record)
    assert res.counters == ref.counters


def test_reset_and_floor_modes_hand_computed():
    """Two neurons driven by one input (+5 per tick) then a −20 kick: reset modes and floors."""
    prog = empty_program(
        "truenorth", 1, 2, 3, n_inputs=2, n_outputs=3, enabled=np.ones((1, 3), bool),
        crossbar=np.ones((1, 2, 3), bool), axon_type=np.array([[0, 1]], np.uint8),
        weights=np.array([[[5, 5, 5], [-20, -20, -20], [0, 0, 0], [0, 0, 0]]], np.int32),
        threshold=np.full((1, 3), 8, np.int32), reset_mode=np.array([[0, 1, 2]], np.uint8),
        reset_value=np.array([[1, 2, 3]], np.int32), floor=np.array([[4, 4, 4]], np.int32),
        floor_mode=np.array([[0, 1, 1]], np.uint8),
        input_index=np.array([0, 1], np.int32), input_core=np.zeros(2, np.int32),
        input_axon=np.array([0, 1], np.int32), output_core=np.zeros(3, np.int32),
        output_neuron=np.arange(3, dtype=np.int32))
    raster = np.zeros((6, 1, 2), np.uint8)
    raster[[0, 1, 2], 0, 0] = 1      # +5 at ticks 0, 1, 2
    raster[3, 0, 1] = 1              # −20 at tick 3
    raster[4, 0, 0] = 1              # +5 at tick 4
    got = brian2_backend.run_spiking(prog, raster, record=True)
    # neuron 0 (reset to R=1, floor saturate −4): V 5, 10→spike→1, 6, −14→−4, 1
    # neuron 1 (subtract α, floor reset to −R=−2): 5, 10→2, 7, −13→−2, 3
    # neuron 2 (no reset, floor reset to −R=−3): 5, 10 (spike), 15 (spike), −5→−3, 2
    expected = np.zeros((6, 3), np.uint8)
    expected[1] = 1
    expected[2, 2] = 1
    np.testing.assert_array_equal(got["record"][:, 0, 0, :], expected)
    np.testing.assert_array_equal(got["counts"], [[1, 1, 2]])
    want = _core.run_spiking(prog, raster, record=True)
    assert_same(want, got)


def test_brian2_refuses_the_stochastic_neuron_naming_the_field():
    prog = empty_program("truenorth", 1, 1, 1, enabled=[[True]], stochastic_leak=[[True]])
    with pytest.raises(ValidationError, match="'stochastic_leak'.*deterministic"):
        brian2_backend.run_spiking(prog, np.zeros((2, 1, 0), np.uint8))
