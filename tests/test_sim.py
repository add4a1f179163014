"""The tick semantics: golden TrueNorth cases, reset and floor modes, known bugs elsewhere,
backend equality (core == reference, bit for bit), rate mode, and the full 4,096-core chip."""
from collections import Counter
from dataclasses import dataclass, field, fields

import numpy as np
import pytest

from neurosim import _core
from neurosim.chip import FaultState, apply, empty_program
from neurosim.chip.synthetic import full_chip_program
from neurosim.sim import simulate
from neurosim.sim.encoding import encode

BACKENDS = ["core", "reference"]


def one_neuron(alpha, leak, v0=0, reset_mode=0, reset_value=0, floor=0, floor_mode=0,
               type_weights=(0, 0, 0, 0), axon_types=(), **extra):
    """One core with one enabled neuron (neuron 0); one axon per entry of ``axon_types``, each
    fed by external input i and connected to the neuron; the neuron is output 0."""
    A = max(1, len(axon_types))
    crossbar = np.zeros((1, A, 1), bool)
    crossbar[0, :len(axon_types), 0] = True
    return empty_program(
        "truenorth", 1, A, 1, n_inputs=len(axon_types), n_outputs=1,
        crossbar=crossbar, axon_type=np.array([list(axon_types) or [0]]),
        weights=np.array(type_weights).reshape(1, 4, 1), leak=[[leak]], threshold=[[alpha]],
        initial_potential=[[v0]], reset_mode=[[reset_mode]], reset_value=[[reset_value]],
        floor=[[floor]], floor_mode=[[floor_mode]], enabled=[[True]],
        input_index=np.arange(len(axon_types)), input_core=np.zeros(len(axon_types)),
        input_axon=np.arange(len(axon_types)), **extra)


def spike_ticks(program, ticks, backend, raster=None):
    rates = np.zeros((1, program.n_inputs))
    result = simulate(program, rates, ticks=ticks, backend=backend, record=True, raster=raster)
    return list(np.nonzero(result.record[:, 0, 0, 0])[0])


def always(ticks, n_inputs):
    return np.ones((ticks, 1, n_inputs), np.uint8)


# ------------------------------------------------------------------ golden cases (REFERENCES §1)
@pytest.mark.parametrize("backend", BACKENDS)
def test_golden_period_10(backend):
    # α = 10, λ = +1: V reaches 10 on the 10th tick (0-indexed tick 9), then every 10 ticks
    assert spike_ticks(one_neuron(10, 1), 40, backend) == [9, 19, 29, 39]


@pytest.mark.parametrize("backend", BACKENDS)
def test_golden_phase_9(backend):
    # the same with V0 = 1: first spike on the 9th tick (1-indexed), period 10
    assert spike_ticks(one_neuron(10, 1, v0=1), 40, backend) == [8, 18, 28, 38]


@pytest.mark.parametrize("backend", BACKENDS)
def test_golden_period_6(backend):
    # α = 11, λ = 2, reset to 0: 2, 4, ..., 12 ≥ 11 on the 6th tick
    assert spike_ticks(one_neuron(11, 2), 30, backend) == [5, 11, 17, 23, 29]


@pytest.mark.parametrize("backend", BACKENDS)
def test_golden_input_every_tick_period_5_phase_1(backend):
    # A spike every tick through a 1-tick axonal delay (a relay neuron α = 1, λ = 1), s = 3,
    # λ = −1, α = 10, floor 0. Tick 0: no input yet, V = −1 → floored to 0; then +2 per tick:
    # V = 10 at 0-indexed tick 5 (1-indexed 6 ≡ 1 mod 5): period 5, phase 1.
    crossbar = np.zeros((2, 1, 1), bool)
    crossbar[1, 0, 0] = True
    prog = empty_program(
        "truenorth", 2, 1, 1, n_outputs=1, crossbar=crossbar,
        weights=np.array([[[0], [0], [0], [0]], [[3], [0], [0], [0]]]),
        leak=[[1], [-1]], threshold=[[1], [10]], enabled=[[True], [True]],
        dest_core=[[1], [-1]], dest_axon=[[0], [0]], dest_delay=[[1], [1]],
        output_core=[1], output_neuron=[0])
    for_backend = simulate(prog, np.zeros((1, 0)), ticks=21, backend=backend, record=True)
    ticks = list(np.nonzero(for_backend.record[:, 0, 1, 0])[0])
    assert ticks == [5, 10, 15, 20]
    assert [(t + 1) % 5 for t in ticks] == [1, 1, 1, 1]


# ------------------------------------------------------------------ reset and floor modes
@pytest.mark.parametrize("backend", BACKENDS)
def test_reset_modes(backend):
    # λ = 3, α = 10. Mode 0 (V ← 0): 3, 6, 9, 12* → period 4.
    assert spike_ticks(one_neuron(10, 3, reset_mode=0), 16, backend) == [3, 7, 11, 15]
    # Mode 1 (V ← V − α): 3, 6, 9, 12*→2, 5, 8, 11*→1, 4, 7, 10*→0, 3, 6, 9, 12*
    assert spike_ticks(one_neuron(10, 3, reset_mode=1), 14, backend) == [3, 6, 9, 13]
    # Mode 2 (no reset): once above α it fires every tick
    assert spike_ticks(one_neuron(10, 3, reset_mode=2), 7, backend) == [3, 4, 5, 6]
    # Mode 0 with R = 5: 3, 6, 9, 12*→5, 8, 11*→5, 8, 11*
    assert spike_ticks(one_neuron(10, 3, reset_mode=0, reset_value=5), 9, backend) == [3, 5, 7]


@pytest.mark.parametrize("backend", BACKENDS)
def test_floor_saturates_at_minus_beta(backend):
    # λ = −1, β = 5: V = −1 … −5, then stays at −5. One input spike of weight 16 at tick 10:
    # −5 + 16 − 1 = 10 ≥ α = 10 → spike at tick 10. Without a floor V would be −10 → 5: silent.
    prog = one_neuron(10, -1, floor=5, type_weights=(16, 0, 0, 0), axon_types=(0,))
    raster = np.zeros((12, 1, 1), np.uint8)
    raster[10] = 1
    assert spike_ticks(prog, 12, backend, raster=raster) == [10]


@pytest.mark.parametrize("backend", BACKENDS)
def test_floor_reset_to_minus_R(backend):
    # floor mode 1, R = 2, β = 5, λ = −1: −1 … −5, −6 → −2, −3, −4, −5, −6 → −2 (tick 9).
    # Tick 10 with an input of weight 13: −2 + 13 − 1 = 10 → spike. Saturating would give 7: none.
    raster = np.zeros((12, 1, 1), np.uint8)
    raster[10] = 1
    reset = one_neuron(10, -1, floor=5, floor_mode=1, reset_value=2,
                       type_weights=(13, 0, 0, 0), axon_types=(0,))
    saturate = one_neuron(10, -1, floor=5, floor_mode=0, reset_value=2,
                          type_weights=(13, 0, 0, 0), axon_types=(0,))
    assert spike_ticks(reset, 12, backend, raster=raster) == [10]
    assert spike_ticks(saturate, 12, backend, raster=raster) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_nemo_regression_floor_is_at_minus_beta_not_plus_beta(backend):
    # NeMo compared against +β: a positive sub-threshold potential (3 < β = 5) was floored.
    # Correct: 3, 6, 9, 12 → spike at tick 3.
    assert spike_ticks(one_neuron(10, 3, floor=5), 4, backend) == [3]


@pytest.mark.parametrize("backend", BACKENDS)
def test_nemo_regression_negative_weights_survive(backend):
    # NeMo ANDed weight with connectivity, losing negative weights. λ = +2, α = 10, an input
    # every tick on an axon of weight −5: V = −3 per tick → never fires. With the synapse lost
    # it would fire every 5 ticks.
    prog = one_neuron(10, 2, type_weights=(0, -5, 0, 0), axon_types=(1,), floor=100)
    assert spike_ticks(prog, 30, backend, raster=always(30, 1)) == []
    unconnected = prog.replace(crossbar=np.zeros_like(prog.crossbar))
    assert spike_ticks(unconnected, 30, backend, raster=always(30, 1)) == [4, 9, 14, 19, 24, 29]


@pytest.mark.parametrize("backend", BACKENDS)
def test_axon_types_select_the_neurons_weight(backend):
    # axons of types 0 and 3, s = (+7, 0, 0, −3): +4 per tick, α = 8 → spike every 2nd tick
    prog = one_neuron(8, 0, type_weights=(7, 0, 0, -3), axon_types=(0, 3))
    assert spike_ticks(prog, 8, backend, raster=always(8, 2)) == [1, 3, 5, 7]


def test_counters_of_a_hand_built_chain():
    # neuron (core 0) fires every tick, routed to core 1 at grid distance 3 + 4 = 7 hops;
    # core 1's axon drives 3 neurons → 3 synaptic events per arriving spike
    crossbar = np.zeros((2, 1, 3), bool)
    crossbar[1, 0, :] = True
    prog = empty_program(
        "truenorth", 2, 1, 3, n_outputs=1, crossbar=crossbar,
        leak=[[1, 0, 0], [0, 0, 0]], threshold=[[1, 1, 1], [100, 100, 100]],
        enabled=[[True, False, False], [True, True, True]],
        dest_core=[[1, -1, -1], [-1, -1, -1]], dest_axon=np.zeros((2, 3)), dest_delay=[[2, 1, 1], [1, 1, 1]],
        core_xy=[[0, 0], [3, 4]], output_core=[0], output_neuron=[0])
    for backend in BACKENDS:
        c = simulate(prog, np.zeros((2, 0)), ticks=10, backend=backend).counters
        assert c.spikes == 2 * 10            # batch of 2, 10 ticks
        assert c.hops == 2 * 10 * 7
        assert c.synaptic_events == 2 * 8 * 3   # delay 2: spikes of ticks 0..7 arrive by tick 9
        assert c.neuron_updates == 2 * 10 * 4
        assert c.cores_powered == 2


# ------------------------------------------------------------------ core == reference
# Random small programs with random faults, core against reference bit for bit. ~4 ms a program
# (both backends): the default run checks 250, the slow run 10,000 more in 10 chunks of distinct
# seeds, 10,250 together.
PROGRAMS_DEFAULT = 250
PROGRAMS_SLOW_CHUNKS = 10
PROGRAMS_PER_SLOW_CHUNK = 1000


@dataclass
class Coverage:
    """What the random programs exercised: programs per profile and encoding; fault kinds applied;
    reset modes of neurons that fired; floor modes of enabled neurons with a negative leak (driven
    towards their floor); delays of spikes sent; axon types of axons fed an external spike."""

    programs: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    reset_modes: set = field(default_factory=set)
    floor_modes: set = field(default_factory=set)
    delays: set = field(default_factory=set)
    axon_types: set = field(default_factory=set)

    def add(self, profile, encoding, program, raster, record):
        self.programs[profile] += 1
        self.programs[encoding] += 1
        fired = record.any(axis=(0, 1))                                      # (C, N)
        self.reset_modes.update(program.reset_mode[fired].tolist())
        self.floor_modes.update(program.floor_mode[program.enabled & (program.leak < 0)].tolist())
        self.delays.update(program.dest_delay[fired & (program.dest_core >= 0)].tolist())
        fed = raster.any(axis=(0, 1))[program.input_index]                    # per input-map entry
        if program.synapse_weights is None:
            self.axon_types.update(
                program.axon_type[program.input_core[fed], program.input_axon[fed]].tolist())


def check_core_equals_reference(seed, n_programs, random_program, random_faults):
    """Run ``n_programs`` random programs (both profiles in turn, 3 in 4 with random faults) on
    core and reference; assert equal spike records, counts, first spikes and counters; return the
    Coverage."""
    rng = np.random.default_rng(seed)
    cover = Coverage()
    for case in range(n_programs):
        profile = ("truenorth", "ideal")[case % 2]
        prog = random_program(rng, profile, max_cores=4, max_axons=16, max_neurons=16)
        faults = random_faults(rng, prog) if case % 4 else None
        ticks = int(rng.integers(1, 40))
        encoding = ("deterministic", "bernoulli")[int(rng.integers(0, 2))]
        rates = rng.random((int(rng.integers(1, 4)), prog.n_inputs))
        raster = encode(rates, ticks, encoding, seed=case)
        core, ref = [simulate(prog, rates, ticks=ticks, backend=b, faults=faults, record=True,
                              raster=raster) for b in BACKENDS]
        where = f"seed {seed}, program {case} ({profile}, faults {faults and faults.counts()})"
        assert np.array_equal(core.record, ref.record), f"{where}: spike records differ"
        assert np.array_equal(core.counts, ref.counts), where
        assert np.array_equal(core.first_spike, ref.first_spike), where
        assert core.counters == ref.counters, f"{where}: {core.counters} != {ref.counters}"
        if faults is not None:
            cover.faults.update({k: v for k, v in faults.counts().items() if v})
        cover.add(profile, encoding, apply(prog, faults), raster, core.record)
    return cover


def assert_covers_everything(cover, n_programs):
    assert cover.programs["truenorth"] + cover.programs["ideal"] == n_programs
    assert min(cover.programs[k] for k in ("truenorth", "ideal", "deterministic", "bernoulli")) > 0
    assert set(cover.faults) == {f.name for f in fields(FaultState)}
    assert cover.reset_modes == {0, 1, 2} and cover.floor_modes == {0, 1}
    assert cover.delays == set(range(1, 16)) and cover.axon_types == {0, 1, 2, 3}


def test_core_equals_reference_on_random_programs(random_program, random_faults):
    cover = check_core_equals_reference(2024, PROGRAMS_DEFAULT, random_program, random_faults)
    assert_covers_everything(cover, PROGRAMS_DEFAULT)


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(PROGRAMS_SLOW_CHUNKS))
def test_core_equals_reference_on_more_random_programs(random_program, random_faults, chunk):
    cover = check_core_equals_reference(10_000 + chunk, PROGRAMS_PER_SLOW_CHUNK, random_program,
                                        random_faults)
    assert_covers_everything(cover, PROGRAMS_PER_SLOW_CHUNK)


def test_default_and_slow_runs_check_ten_thousand_random_programs():
    assert PROGRAMS_DEFAULT + PROGRAMS_SLOW_CHUNKS * PROGRAMS_PER_SLOW_CHUNK >= 10_000


def test_core_results_do_not_depend_on_thread_count(random_program):
    rng = np.random.default_rng(5)
    prog = random_program(rng, max_cores=8, max_axons=32, max_neurons=32)
    raster = (rng.random((30, 6, prog.n_inputs)) < 0.5).astype(np.uint8)
    one = _core.run_spiking(prog, raster, record=True, num_threads=1)
    two = _core.run_spiking(prog, raster, record=True, num_threads=2)
    for key in one:
        assert np.array_equal(one[key], two[key]), key


def test_one_input_sweep_does_not_depend_on_thread_count(random_program):
    # batch 1 takes the per-thread sweep over ranges of cores (each thread routes into its own
    # range): 1, 2 and 3 threads give the same records, and the same as the reference
    rng = np.random.default_rng(8)
    for _ in range(5):
        prog = random_program(rng, max_cores=12, max_axons=24, max_neurons=24)
        raster = (rng.random((25, 1, prog.n_inputs)) < 0.5).astype(np.uint8)
        runs = [_core.run_spiking(prog, raster, record=True, num_threads=n) for n in (1, 2, 3)]
        ref = simulate_reference(prog, raster)
        for out in runs:
            for key in ref:
                assert np.array_equal(out[key], ref[key]), key


# ------------------------------------------------------------------ rate mode
def test_spiking_converges_to_rate_mode(random_program):
    rng = np.random.default_rng(11)
    errors = {}
    prog = random_program(rng, "truenorth", max_cores=4, max_axons=16, max_neurons=16,
                          feed_forward=True)
    C, _, N = prog.crossbar.shape
    prog = prog.replace(reset_mode=np.ones((C, N), np.uint8), floor=np.full((C, N), 10 ** 5),
                        threshold=rng.integers(8, 20, (C, N)), initial_potential=np.zeros((C, N)),
                        enabled=np.ones((C, N), bool))
    rates = rng.random((8, prog.n_inputs))
    expected = simulate(prog, rates, mode="rate").neuron_rates
    for ticks in (50, 5000):
        spiking = simulate(prog, rates, ticks=ticks, record=True)
        observed = spiking.record.mean(axis=0)          # (B, C, N) firing rate per tick
        errors[ticks] = np.abs(observed - expected).max()
    assert errors[5000] < 0.01
    assert errors[5000] < errors[50] / 5


def test_rate_mode_closed_form_by_hand():
    # two inputs at rates 0.5 and 0.25 on axons of weights +4 and +8 (types 0, 1), λ = 1,
    # α = 10: r = (0.5·4 + 0.25·8 + 1)/10 = 0.5
    prog = one_neuron(10, 1, type_weights=(4, 8, 0, 0), axon_types=(0, 1))
    out = simulate(prog, [[0.5, 0.25]], mode="rate", ticks=100)
    assert out.rates[0, 0] == pytest.approx(0.5)
    assert out.counters.synaptic_events == pytest.approx((0.5 + 0.25) * 100)
    assert out.counters.spikes == pytest.approx(50)


def test_rate_mode_refuses_a_routing_cycle():
    prog = one_neuron(10, 1, dest_core=[[0]], dest_axon=[[0]])
    with pytest.raises(Exception, match="feed-forward"):
        simulate(prog, np.zeros((1, 0)), mode="rate")


# ------------------------------------------------------------------ the full chip
def test_full_chip_builds_steps_and_fits_in_memory():
    prog = full_chip_program(seed=1)
    period = prog.meta["period_ticks"]
    result = simulate(prog, np.zeros((1, 0)), ticks=period)
    c = result.counters
    neurons = 4096 * 256
    # exactly one spike per neuron per period (20 Hz at 1 ms ticks) …
    assert c.spikes == neurons
    assert c.hops == pytest.approx(neurons * prog.meta["mean_hops_per_spike"])
    # … each arriving one tick later on its own axon; every neuron has exactly 128 synapses, so
    # one spike on every axon of the chip makes 4096 · 256 · 128 events
    arrived = simulate(prog, np.zeros((1, 0)), ticks=period + 1).counters
    assert arrived.synaptic_events == neurons * 128
    kernel_state = 16 * 4096 * 256 + 4096 * 256 * (4 + 1)   # ring buffer + V + fired flags
    total_mb = (prog.memory_bytes() + kernel_state) / 2 ** 20
    print(f"full chip: program {prog.memory_bytes() / 2**20:.0f} MiB, kernel state "
          f"{kernel_state / 2**20:.0f} MiB")
    assert total_mb < 1024


def test_rate_mode_caps_an_axon_fed_by_two_sources():
    # two always-on neurons (α = 1, λ = 1, rate 1) of core 0 both route to axon 0 of core 1.
    # Spiking ORs their spikes (one per tick), so the axon's rate is min(1 + 1, 1) = 1 and the
    # neuron (s = 10, λ = −5, α = 10) fires at (1 · 10 − 5) / 10 = 0.5; without the cap rate mode
    # would give clip((2 · 10 − 5) / 10) = 1.
    crossbar = np.zeros((2, 1, 2), bool)
    crossbar[1, 0, 0] = True
    prog = empty_program(
        "truenorth", 2, 1, 2, n_outputs=1, crossbar=crossbar,
        weights=np.array([[[0, 0]] * 4, [[10, 0], [0, 0], [0, 0], [0, 0]]]),
        leak=[[1, 1], [-5, 0]], threshold=[[1, 1], [10, 1]],
        enabled=[[True, True], [True, False]], dest_core=[[1, 1], [-1, -1]],
        dest_axon=[[0, 0], [0, 0]], floor=[[0, 0], [100, 0]], reset_mode=np.ones((2, 2)),
        output_core=[1], output_neuron=[0])
    rate = simulate(prog, np.zeros((1, 0)), mode="rate").rates[0, 0]
    spiking = simulate(prog, np.zeros((1, 0)), ticks=1000).rates[0, 0]
    assert rate == pytest.approx(0.5)
    assert spiking == pytest.approx(0.5, abs=0.002)


# ------------------------------------------------------------------ the rest of TrueNorth's neuron
def draw_ticks(ticks, q, core_seed=0, neuron=0):
    """ρ(c, t, j, q) of one neuron for t < ticks, by the formula of neurosim.sim.reference
    written out again here (so a kernel and a reference that agreed on a wrong draw would fail)."""
    def fmix(h):
        h ^= h >> 16
        h = (h * 0x85EBCA6B) & 0xFFFFFFFF
        h ^= h >> 13
        h = (h * 0xC2B2AE35) & 0xFFFFFFFF
        return h ^ (h >> 16)
    return [fmix((fmix(core_seed ^ fmix(t + 1)) + 4096 * q + neuron) & 0xFFFFFFFF)
            for t in range(ticks)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_stochastic_leak_fires_when_the_draw_is_at_most_the_leak(backend):
    # λ = 63 stochastic, α = 1, reset to 0: V gains 1 exactly when ρ mod 256 ≤ 63 (p = 64/256)
    prog = one_neuron(1, 63, stochastic_leak=[[True]])
    expected = [t for t, r in enumerate(draw_ticks(2000, 1)) if (r & 255) <= 63]
    got = spike_ticks(prog, 2000, backend)
    assert got == expected
    assert abs(len(got) / 2000 - 0.25) < 0.03


@pytest.mark.parametrize("backend", BACKENDS)
def test_stochastic_synapse_passes_sgn_w_with_probability_w_plus_1_over_256(backend):
    # an input every tick on an axon of weight +127, stochastic: +1 when ρ mod 256 ≤ 127
    prog = one_neuron(1, 0, type_weights=(127, 0, 0, 0), axon_types=(0,),
                      stochastic_synapse=np.array([True, False, False, False]).reshape(1, 4, 1))
    expected = [t for t, r in enumerate(draw_ticks(1000, 2 + 0)) if (r & 255) <= 127]
    got = spike_ticks(prog, 1000, backend, raster=always(1000, 1))
    assert got == expected
    assert abs(len(got) / 1000 - 0.5) < 0.05


@pytest.mark.parametrize("backend", BACKENDS)
def test_stochastic_threshold_adds_masked_draw(backend):
    # λ = 1, α = 1, TM = 2, reset to 0: fires when V ≥ 1 + (ρ & 3), η uniform in 0..3, so the
    # mean interval is about 2.5 ticks instead of 1
    prog = one_neuron(1, 1, threshold_mask_bits=[[2]])
    expected, v = [], 0
    for t, r in enumerate(draw_ticks(800, 0)):
        v += 1
        if v >= 1 + (r & 3):
            expected.append(t)
            v = 0
    got = spike_ticks(prog, 800, backend)
    assert got == expected
    assert 2.0 < 800 / len(got) < 3.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_core_has_its_own_seeded_sequence(backend):
    prog = one_neuron(1, 63, stochastic_leak=[[True]], prng_seed=[12345])
    expected = [t for t, r in enumerate(draw_ticks(500, 1, core_seed=12345)) if (r & 255) <= 63]
    assert spike_ticks(prog, 500, backend) == expected
    assert expected != [t for t, r in enumerate(draw_ticks(500, 1)) if (r & 255) <= 63]


@pytest.mark.parametrize("backend", BACKENDS)
def test_leak_reversal_leaks_away_from_zero_for_positive_leak(backend):
    # ε = 1, λ = +1: from V0 = −3 the potential moves away from 0 (−4, −5, …): never fires; with
    # ε = 0 it climbs to α = 1 on the 4th tick; at V0 = 0, sgn(0) = 0 holds it at 0
    kw = dict(floor=100)
    assert spike_ticks(one_neuron(1, 1, v0=-3, leak_reversal=[[True]], **kw), 20, backend) == []
    assert spike_ticks(one_neuron(1, 1, v0=-3, **kw), 5, backend) == [3, 4]
    assert spike_ticks(one_neuron(1, 1, v0=0, leak_reversal=[[True]], **kw), 20, backend) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_leak_reversal_leaks_towards_zero_for_negative_leak(backend):
    # ε = 1, λ = −1, V0 = −4: −3, −2, −1, 0, 0 …; one input of +1 at tick 6 then fires (α = 1).
    # Without ε the potential keeps falling to the floor −β = −100 and the input cannot lift it.
    raster = np.zeros((8, 1, 1), np.uint8)
    raster[6] = 1
    kw = dict(v0=-4, floor=100, type_weights=(2, 0, 0, 0), axon_types=(0,))
    assert spike_ticks(one_neuron(1, -1, leak_reversal=[[True]], **kw), 8, backend,
                       raster=raster) == [6]
    assert spike_ticks(one_neuron(1, -1, **kw), 8, backend, raster=raster) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_potential_saturates_at_the_hardware_width(backend):
    # truenorth: 20-bit V. A flipped bit 25 puts 2^25 in V0; reset by subtraction of α = 262,143
    # would fire 128 ticks in a row; saturated at 2^19 − 1 = 524,287 it fires twice (→ 262,144 → 1)
    prog = one_neuron(2 ** 18 - 1, 0, v0=2 ** 25, reset_mode=1)
    assert spike_ticks(prog, 10, backend) == [0, 1]


def with_random_extensions(rng, prog):
    """``prog`` with random stochastic synapse, leak and threshold modes, leak reversal and
    seeds, each on a random fraction of neurons."""
    C, _, N = prog.crossbar.shape
    T = prog.weights.shape[1]
    return prog.replace(
        stochastic_synapse=rng.random((C, T, N)) < rng.uniform(0, 0.6),
        stochastic_leak=rng.random((C, N)) < rng.uniform(0, 0.6),
        leak_reversal=rng.random((C, N)) < rng.uniform(0, 0.6),
        threshold_mask_bits=np.where(rng.random((C, N)) < 0.5, rng.integers(0, 5, (C, N)), 0),
        prng_seed=rng.integers(0, 2 ** 32, C, dtype=np.uint64),
        leak=np.where(rng.random((C, N)) < 0.3, rng.integers(-255, 256, (C, N)), prog.leak))


# seed 0 in the default run, seeds 1-3 (150 more programs) in the slow run
@pytest.mark.parametrize("seed", [0, *(pytest.param(s, marks=pytest.mark.slow) for s in (1, 2, 3))])
def test_core_equals_reference_with_the_whole_truenorth_neuron(random_program, seed):
    rng = np.random.default_rng(700 + seed)
    fired_extra = 0
    for case in range(50):
        profile = ("truenorth", "ideal")[case % 2]
        prog = with_random_extensions(rng, random_program(rng, profile, max_cores=4,
                                                          max_axons=16, max_neurons=16))
        raster = (rng.random((int(rng.integers(1, 40)), 2, prog.n_inputs)) < 0.5).astype(np.uint8)
        core = _core.run_spiking(prog, raster, record=True, num_threads=1)
        two = _core.run_spiking(prog, raster, record=True, num_threads=2)
        ref = simulate_reference(prog, raster)
        for key in ref:
            assert np.array_equal(core[key], ref[key]), f"seed {seed}, case {case}: {key}"
            assert np.array_equal(core[key], two[key]), f"seed {seed}, case {case}: {key}"
        fired_extra += int(core["record"].any(axis=(0, 1))[prog.stochastic_leak].sum())
    assert fired_extra > 0   # the stochastic neurons did fire


def simulate_reference(prog, raster):
    from neurosim.sim import reference
    return reference.run_spiking(prog, raster, record=True)


def test_programs_without_extensions_save_as_version_1_and_with_them_as_version_2(tmp_path):
    plain = one_neuron(10, 1)
    plain.save(tmp_path / "plain.npz")
    with np.load(tmp_path / "plain.npz") as f:
        assert int(f["format_version"]) == 1 and "stochastic_leak" not in f
    extended = one_neuron(10, 1, stochastic_leak=[[True]], prng_seed=[7])
    extended.save(tmp_path / "extended.npz")
    with np.load(tmp_path / "extended.npz") as f:
        assert int(f["format_version"]) == 2
        assert sorted(k for k in f if k in ("stochastic_leak", "prng_seed", "leak_reversal")) == [
            "prng_seed", "stochastic_leak"]
    back = type(extended).load(tmp_path / "extended.npz")
    assert back.stochastic_leak.tolist() == [[True]] and back.prng_seed.tolist() == [7]
    assert type(plain).load(tmp_path / "plain.npz").prng_seed.tolist() == [0]


def test_threshold_mask_bits_out_of_range_is_refused_naming_the_field():
    with pytest.raises(Exception, match="threshold_mask_bits.*core 0, neuron 0.*31"):
        one_neuron(10, 1, threshold_mask_bits=[[31]])
