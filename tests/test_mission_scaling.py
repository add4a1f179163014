"""Missions that scale with the network: the rate evaluator's change propagation equals
simulate(mode="rate") on a deep network and within its stated tolerance in float32; spiking
checkpoints re-simulated on the triggered inputs only equal simulate bit for bit; faults that act
the same share one evaluation; a spiking mission equals the old per-checkpoint simulate."""
import os

import numpy as np
import pytest

from neurosim.bench.mission import _spiking_before, random_mlp
from neurosim.chip.faults import FaultState
from neurosim.compiler import compile as compile_mlp
from neurosim.errors import ValidationError
from neurosim.mission import scenario as scn
from neurosim.mission.evaluate import effective_key, run_batch
from neurosim.mission.prepare import prepare
from neurosim.mission.spiking import SpikingCheckpoints
from neurosim.sim import simulate
from neurosim.sim.incremental import FastRate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEO = os.path.join(ROOT, "scenarios", "leo_10y.toml")


@pytest.fixture(scope="module")
def deep():
    """A 16-12-8-4 ReLU network on 32-axon cores: partial sums and relays, six levels."""
    net = random_mlp([16, 12, 8, 4], "synthetic", seed=3)
    x = np.random.default_rng(0).random((80, 16))
    x[:40, 0] = 0.0             # input 0 silent on half of the inputs
    return compile_mlp(net, "truenorth", calibration=x, max_axons=32, anneal=False).program, x


def random_faults(prog, rng, k, dead_core=False, routing=True, potential=False):
    """A FaultState with about ``k`` faults of each kind on used neurons."""
    used = np.argwhere(prog.enabled)
    C, A, N = prog.crossbar.shape
    pick = lambda: used[rng.integers(0, len(used), k)]
    s, w, t, r, q = pick(), pick(), pick(), pick(), pick()
    return FaultState(
        dead_neurons=pick()[: k // 2],
        dead_cores=[int(rng.integers(0, C))] if dead_core else None,
        stuck_synapses=np.c_[s[:, 0], rng.integers(0, A, k), s[:, 1], rng.integers(0, 2, k)],
        weight_flips=np.c_[w[:, 0], rng.integers(0, 4, k), w[:, 1], rng.integers(0, 9, k)],
        threshold_flips=np.c_[t[:, 0], t[:, 1], rng.integers(0, 18, k)],
        routing_flips=np.c_[r[:, 0], r[:, 1], rng.integers(0, 20, k)] if routing else None,
        potential_flips=np.c_[q[:, 0], q[:, 1], rng.integers(0, 20, k)] if potential else None)


def compare_rate(ev, prog, x, fs, atol):
    """Assert ev.evaluate(fs) equals simulate(mode="rate"); False when rate mode refuses fs."""
    try:
        ref = simulate(prog, x, ticks=64, mode="rate", faults=fs)
    except ValidationError:
        return False          # a routing upset made a feedback loop
    got = ev.evaluate(fs)
    np.testing.assert_allclose(got.out, ref.rates, atol=atol, rtol=0)
    c = got.counters(64, len(x))
    for key in ("spikes", "synaptic_events", "neuron_updates", "hops", "cores_powered"):
        assert getattr(c, key) == pytest.approx(getattr(ref.counters, key), rel=1e-6), key
    np.testing.assert_allclose(c.core_spikes, ref.counters.core_spikes, rtol=1e-6, atol=1e-6)
    return True


def compare_random_states(ev, prog, x, seed, trials):
    """How many of ``trials`` random fault states (1–4 faults of each kind, a dead core every
    fifth, routing upsets every other) ``ev`` evaluates as simulate does (within 1e-12)."""
    rng = np.random.default_rng(seed)
    return sum(compare_rate(ev, prog, x, random_faults(prog, rng, int(rng.integers(1, 5)),
                                                       dead_core=trial % 5 == 2,
                                                       routing=trial % 2 == 1), 1e-12)
               for trial in range(trials))


def test_change_propagation_equals_simulate_on_a_deep_network(deep):
    prog, x = deep
    ev = FastRate(prog, x)
    assert not ev.generic and ev.graph.n_level >= 4 and ev.graph.dtype == np.float64
    assert compare_random_states(ev, prog, x, seed=1, trials=40) >= 30


def test_uncached_lookups_equal_simulate(deep, monkeypatch):
    # The paths large programs take (no cached fault-free rates, changed neurons' counters only)
    # give the same results as the small-program ones.
    from neurosim.sim import incremental, unit_graph
    for name in ("AXON_RATE_CACHE_BYTES", "RATE_CACHE_BYTES"):
        monkeypatch.setattr(unit_graph, name, 0)
    monkeypatch.setattr(incremental, "WHOLE_COUNTER_NEURONS", 0)
    prog, x = deep
    ev = FastRate(prog, x)
    assert ev.graph.R0 is None and ev.graph.RA0 is None
    assert compare_random_states(ev, prog, x, seed=5, trials=20) >= 15


def test_faults_that_change_nothing_return_the_fault_free_result(deep):
    # A stuck bit equal to the program's and a weight upset of a type no connected axon has
    # change no rate, route or connection: the fault-free result itself, as simulate says.
    prog, x = deep
    ev = FastRate(prog, x)
    c, a, j = (int(v) for v in np.argwhere(prog.crossbar & prog.enabled[:, None, :])[0])
    unused = [t for t in range(4) if not np.any(prog.crossbar[c, prog.axon_type[c] == t, j])]
    flips = [[c, unused[0], j, 0]] if unused else None
    fs = FaultState(stuck_synapses=[[c, a, j, 1]], weight_flips=flips)
    assert ev.evaluate(fs) is ev.base
    assert compare_rate(ev, prog, x, fs, 1e-12)


def test_float32_drives_stay_within_their_tolerance(deep):
    # The stated tolerance of float32 drives (neurosim.sim.unit_graph): rates within 1e-6.
    prog, x = deep
    ev = FastRate(prog, x, dtype=np.float32)
    assert ev.graph.D0.dtype == np.float32
    rng = np.random.default_rng(2)
    compared = sum(compare_rate(ev, prog, x, random_faults(prog, rng, 3, routing=False), 1e-6)
                   for _ in range(15))
    assert compared == 15
    ref = simulate(prog, x, ticks=64, mode="rate")
    np.testing.assert_allclose(ev.base_out, ref.rates, atol=1e-6)


def test_spiking_checkpoints_equal_simulate_bit_for_bit(deep):
    prog, x = deep
    sp = SpikingCheckpoints(prog, x, 64)
    rng = np.random.default_rng(4)
    # a synapse added on an axon of input 0: it triggers only where input 0 spikes
    c, a = prog.input_core[prog.input_index == 0][0], prog.input_axon[prog.input_index == 0][0]
    n = np.flatnonzero(prog.enabled[c] & ~prog.crossbar[c, a])[0]
    one_axon = FaultState(stuck_synapses=[[c, a, n, 1]])
    np.testing.assert_array_equal(sp.triggered(one_axon), np.arange(len(x)) >= 40)
    states = [one_axon] + [random_faults(prog, rng, 1 + trial % 3, dead_core=trial == 5,
                                         potential=trial == 7) for trial in range(12)]
    for fs in states:
        got = sp.evaluate(fs)
        ref = simulate(prog, x, ticks=64, mode="spiking", faults=fs)
        np.testing.assert_array_equal(got.out, ref.rates)
        np.testing.assert_array_equal(got.spikes, ref.counters.core_spikes)
        np.testing.assert_array_equal(got.events, ref.counters.core_events)
        assert got.hops.sum() == pytest.approx(ref.counters.hops, rel=1e-12)
    # a potential flip on a used neuron triggers on every input
    c, n = np.argwhere(prog.enabled)[0]
    assert sp.triggered(FaultState(potential_flips=[[c, n, 3]])).all()


def test_faults_that_act_the_same_share_a_key():
    sc = scn.load(LEO, {"run.runs": 1, "run.eval_inputs": 20})
    model = prepare(sc)
    p = model.program
    unused = np.argwhere(~p.enabled)[0]
    c, a, n = np.argwhere(p.crossbar & p.enabled[:, None, :])[0]
    no_route = np.argwhere(p.enabled & (p.dest_core < 0))[0]
    empty = effective_key(model, FaultState(), None)
    no_ops = FaultState(dead_neurons=[unused], stuck_synapses=[[c, a, n, 1]],
                        routing_flips=[[no_route[0], no_route[1], 2]],
                        potential_flips=[[c, n, 4]])       # rate mode ignores potentials
    assert effective_key(model, no_ops, None) == empty
    assert effective_key(model, FaultState(stuck_synapses=[[c, a, n, 0]]), None) != empty
    assert effective_key(model, FaultState(), np.zeros((p.n_cores, 2))) != empty
    model.values["run"]["mode"] = "spiking"
    assert effective_key(model, FaultState(potential_flips=[[c, n, 4]]), None) != empty


def test_spiking_mission_equals_one_simulate_per_checkpoint():
    sc = scn.load(LEO, {"run.runs": 2, "run.eval_inputs": 40, "run.mode": "spiking",
                        "mission.duration_years": 3.0, "upsets.rate_scale": 20.0})
    model = prepare(sc)
    got = run_batch(0, 2, model)
    before, calls = _spiking_before(model, 2)
    assert got["evaluated"].sum() == calls >= 6     # the faults changed during the runs
    np.testing.assert_array_equal(got["accuracy"], before.astype(np.float32))
