"""The spiking-mode mission evaluator (neurosim.mission.spiking) against simulate(): bit for bit
on every input, for many random FaultStates on random programs (feed-forward, with routing
cycles, with the stochastic neuron modes), with levels run in numpy and in the kernel; and the
pieces it is built from (packed spike trains, core levels, level programs, the numpy neuron
tick of neurosim.sim.subchip)."""
import numpy as np
import pytest

from neurosim import _core
from neurosim.chip import FaultState
from neurosim.mission import spiking as spiking_module
from neurosim.mission.spiking import SpikingCheckpoints
from neurosim.sim import simulate
from neurosim.sim.encoding import encode
from neurosim.sim.subchip import (core_drive, core_levels, external_arrivals, level_program,
                                  pack_trains, routed_arrivals, run_neurons, shift_trains,
                                  spike_counts, unpack_trains)


def with_neuron_modes(rng, program, stochastic_synapse=False):
    """``program`` with random stochastic leaks, threshold masks, leak reversal and seeds (and
    stochastic synapses when asked)."""
    C, N = program.enabled.shape
    extra = dict(stochastic_leak=rng.random((C, N)) < 0.3, leak_reversal=rng.random((C, N)) < 0.3,
                 threshold_mask_bits=rng.integers(0, 4, (C, N)),
                 prng_seed=rng.integers(0, 2 ** 32, C, dtype=np.uint64).astype(np.uint32))
    if stochastic_synapse:
        extra["stochastic_synapse"] = rng.random(program.stochastic_synapse.shape) < 0.3
    return program.replace(**extra)


def assert_equals_simulate(ev, program, x, fs):
    """The evaluator's FastResult of ``fs`` equals simulate() of the faulty chip: output rates,
    per-core spikes and synaptic events, hops."""
    got = ev.evaluate(fs)
    ref = simulate(program, x, ticks=ev.ticks, mode="spiking", faults=fs)
    np.testing.assert_array_equal(got.out, ref.rates)
    np.testing.assert_array_equal(got.spikes, ref.counters.core_spikes)
    np.testing.assert_array_equal(got.events, ref.counters.core_events)
    assert got.hops.sum() == pytest.approx(ref.counters.hops, rel=1e-12, abs=1e-9)


# ------------------------------------------------------------------ packed trains
def test_packed_trains_round_trip_shift_and_count():
    rng = np.random.default_rng(0)
    for T in (5, 64, 70, 130):
        spikes = rng.random((T, 3, 4)) < 0.3
        trains = pack_trains(spikes)
        assert trains.shape == (3, 4, (T + 63) // 64)
        np.testing.assert_array_equal(unpack_trains(trains, T), spikes)
        np.testing.assert_array_equal(spike_counts(trains), spikes.sum(axis=0))
        for d in [d for d in (1, 4, 7, 15) if d < T]:
            shifted = unpack_trains(shift_trains(trains, d, T), T)
            np.testing.assert_array_equal(shifted[d:], spikes[:T - d])
            assert not shifted[:d].any()


def test_arrivals_are_what_the_reference_delivers(random_program):
    # axon a of core c receives at tick t the external spikes of tick t and every source's
    # spikes of tick t - delay: the kernel's record of the next core's inputs tells the same
    rng = np.random.default_rng(1)
    for _ in range(10):
        p = random_program(rng)
        T = 40
        raster = encode(rng.random((6, p.n_inputs)), T)
        trains = pack_trains(_core.run_spiking(p, raster, record=True)["record"])
        arrivals = routed_arrivals(p, trains, T, external_arrivals(p, raster))
        # synaptic events = Σ arrivals × synapses onto enabled neurons, per input and core
        events = np.einsum("bca,ca->bc", spike_counts(arrivals), p.row_synapses())
        np.testing.assert_array_equal(events, _core.run_spiking(p, raster)["pair_events"])


def test_core_levels_order_routes_and_refuse_cycles(random_program):
    rng = np.random.default_rng(2)
    for _ in range(10):
        p = random_program(rng, feed_forward=True)
        levels = core_levels(p)
        level_of = np.empty(p.n_cores, int)
        for k, cores in enumerate(levels):
            level_of[cores] = k
        c, n = np.nonzero(p.enabled & (p.dest_core >= 0))
        assert (level_of[p.dest_core[c, n]] > level_of[c]).all()
        assert sorted(np.concatenate(levels).tolist()) == list(range(p.n_cores))
    p = random_program(rng, feed_forward=True)
    loop = p.replace(dest_core=np.zeros_like(p.dest_core), enabled=np.ones_like(p.enabled))
    assert core_levels(loop) is None                          # core 0 routes to itself


@pytest.mark.parametrize("stochastic_synapse", [False, True])
def test_level_program_reproduces_each_core(random_program, stochastic_synapse):
    # a core run on its own, fed its arrivals, fires exactly as inside the whole chip
    rng = np.random.default_rng(3)
    for _ in range(8):
        p = with_neuron_modes(rng, random_program(rng, feed_forward=True), stochastic_synapse)
        T = 30
        raster = encode(rng.random((5, p.n_inputs)), T)
        record = _core.run_spiking(p, raster, record=True)["record"]
        arrivals = routed_arrivals(p, pack_trains(record), T, external_arrivals(p, raster))
        for c in range(p.n_cores):
            sub = level_program(p, [c], p.enabled[c:c + 1])
            got = _core.run_spiking(sub, unpack_trains(arrivals[:, c], T), record=True)["record"]
            np.testing.assert_array_equal(got[:, :, 0], record[:, :, c])


def test_numpy_neurons_equal_the_kernel(random_program):
    # run_neurons from the fault-free drives, any subset of a core's neurons
    rng = np.random.default_rng(4)
    for _ in range(8):
        p = with_neuron_modes(rng, random_program(rng, feed_forward=True))
        T = 30
        raster = encode(rng.random((5, p.n_inputs)), T)
        record = _core.run_spiking(p, raster, record=True)["record"]
        arrivals = routed_arrivals(p, pack_trains(record), T, external_arrivals(p, raster))
        for c in range(p.n_cores):
            column, table = core_drive(p, c, arrivals[:, c], T)
            js = np.flatnonzero(p.enabled[c])
            js = js[rng.random(js.size) < 0.6]
            fired = run_neurons(p, c, js, table[:, :, column[js]].astype(np.int64))
            np.testing.assert_array_equal(fired, record[:, :, c][:, :, js].astype(bool))


# ------------------------------------------------------------------ the evaluator
@pytest.mark.parametrize("drives", [True, False])
def test_random_faults_equal_simulate_on_every_input(random_program, random_faults,
                                                     monkeypatch, drives):
    # drives: levels in numpy from the fault-free drive tables; else every level in the kernel
    if not drives:
        monkeypatch.setattr(spiking_module, "DRIVE_TABLE_BYTES", 0)
    rng = np.random.default_rng(5)
    for trial in range(24):
        p = random_program(rng, feed_forward=trial % 3 != 0)   # every third: routing cycles
        if trial % 2:
            p = with_neuron_modes(rng, p, stochastic_synapse=trial % 4 == 1)
        x = rng.random((12, p.n_inputs))
        ev = SpikingCheckpoints(p, x, 70 if trial % 5 == 0 else 32)   # 70 ticks: two words
        for _ in range(6):
            assert_equals_simulate(ev, p, x, random_faults(rng, p, scale=2))


def test_wired_programs_and_ideal_profile_equal_simulate(random_wired_program, random_program,
                                                         random_faults):
    rng = np.random.default_rng(6)
    programs = [random_wired_program(rng, single_source=k % 2 == 0) for k in range(8)] + \
        [random_program(rng, profile="ideal", feed_forward=True) for _ in range(4)]
    for p in programs:
        x = rng.random((10, p.n_inputs))
        ev = SpikingCheckpoints(p, x, 40)
        for _ in range(6):
            assert_equals_simulate(ev, p, x, random_faults(rng, p, scale=2))


def test_events_of_a_dead_neuron_that_never_fires(random_program):
    # it triggers nowhere, yet every spike on its axons now reaches one synapse less
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(30):
        p = random_program(rng, feed_forward=True)
        x = rng.random((10, p.n_inputs))
        ev = SpikingCheckpoints(p, x, 32)
        silent = np.argwhere(p.enabled & ~ev.fired.any(axis=0)
                             & (p.crossbar & ev.axon_active.any(axis=0)[:, :, None]).any(axis=1))
        if len(silent):
            fs = FaultState(dead_neurons=silent[:1])
            assert not ev.triggered(fs).any()
            assert ev.evaluate(fs).events.sum() < ev.base.events.sum()
            assert_equals_simulate(ev, p, x, fs)
            checked += 1
    assert checked >= 5


def test_moved_cores_equal_simulate(random_program, random_faults):
    rng = np.random.default_rng(8)
    p = random_program(rng, feed_forward=True)
    x = rng.random((10, p.n_inputs))
    ev = SpikingCheckpoints(p, x, 32)
    fs = random_faults(rng, p, scale=2)
    xy = np.roll(p.core_xy, 1, axis=0)
    got = ev.evaluate(fs, xy)
    ref = simulate(p.replace(core_xy=xy), x, ticks=32, mode="spiking", faults=fs)
    np.testing.assert_array_equal(got.out, ref.rates)
    assert got.hops.sum() == pytest.approx(ref.counters.hops, rel=1e-12, abs=1e-9)
