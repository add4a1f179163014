"""SANA-FE (the optional extra ``peer``) reproduces neurosim's spikes on random delay-1 programs
with every reset and floor mode, and the mapping refuses what it cannot map, naming the field."""
import numpy as np
import pytest

from neurosim.chip.synthetic import mixed_program
from neurosim.errors import ValidationError

sanafe = pytest.importorskip("sanafe", reason="SANA-FE is not installed (the optional extra "
                                              "'peer': pip install \"neurosim[peer]\")")
from neurosim.bench import sanafe_peer  # noqa: E402  (after the skip: it needs sanafe to run)


def random_delay1_program(rng, n_cores):
    """A mixed network with random sizes of parameters: every reset and floor mode, hard resets
    below the floor included (the case the mapping folds into the reset value), disabled neurons,
    a random seed; only what maps (delay 1, one source per axon, no stochastic mode or leak
    reversal, far from the 20-bit saturation)."""
    prog = mixed_program(n_cores, seed=int(rng.integers(0, 2 ** 31)),
                         synapse_density=rng.uniform(0.05, 0.5))
    C, N = prog.n_cores, prog.n_neurons
    return prog.replace(
        reset_value=rng.integers(-40, 20, (C, N)), floor=rng.integers(0, 20, (C, N)),
        leak=rng.integers(-4, 5, (C, N)), enabled=rng.random((C, N)) < 0.95,
        prng_seed=rng.integers(0, 2 ** 32, C, dtype=np.uint32))   # maps: no stochastic mode


# seed 0 in the default run, seeds 1-3 in the slow run
@pytest.mark.parametrize("seed", [0, *(pytest.param(s, marks=pytest.mark.slow) for s in (1, 2, 3))])
def test_sanafe_agrees_spike_for_spike_on_random_delay1_programs(seed):
    rng = np.random.default_rng(seed)
    prog = random_delay1_program(rng, int(rng.integers(1, 5)))
    chip, offsets = sanafe_peer.build(prog)
    theirs, _, _ = sanafe_peer.run(chip, prog, offsets, 40)
    ours, _, _ = sanafe_peer._neurosim(prog, 40, 1)
    fired = ours.any(axis=0)
    assert set(prog.reset_mode[fired].tolist()) == {0, 1, 2}        # every mode exercised
    assert set(prog.floor_mode[prog.enabled].tolist()) == {0, 1}
    hard_below = fired & (prog.reset_mode == 0) & (prog.reset_value < -prog.floor)
    assert hard_below.any()                                          # the folded case too
    assert ours.sum() > 1000
    assert np.array_equal(ours, theirs)


def test_sanafe_refuses_delays_above_one_naming_the_field():
    prog = mixed_program(2, seed=1)
    delay = prog.dest_delay.copy()
    delay[1, 7] = 3
    with pytest.raises(ValidationError, match=r"'dest_delay' \(core 1, neuron 7\) is 3.*delay"):
        sanafe_peer.build(prog.replace(dest_delay=delay))


def test_sanafe_refuses_two_sources_on_one_axon():
    prog = mixed_program(2, seed=1)
    core, axon = prog.dest_core.copy(), prog.dest_axon.copy()
    core[0, 1], axon[0, 1] = core[0, 0], axon[0, 0]
    with pytest.raises(ValidationError, match="dest_core'/'dest_axon'.*ORs"):
        sanafe_peer.build(prog.replace(dest_core=core, dest_axon=axon))


@pytest.mark.parametrize("name", ["stochastic_synapse", "stochastic_leak", "leak_reversal",
                                  "threshold_mask_bits"])
def test_sanafe_refuses_each_truenorth_extension_naming_it(name):
    prog = mixed_program(1, seed=2)
    value = np.zeros_like(getattr(prog, name))
    value.flat[5] = 1
    with pytest.raises(ValidationError, match=f"'{name}' is set.*deterministic neuron only"):
        sanafe_peer.build(prog.replace(**{name: value}))


def saturating_program():
    """One core whose neurons never reset (mode 2) and gain up to 255 per driven axon per tick."""
    prog = mixed_program(1, seed=3, synapse_density=1.0)
    C, N = prog.n_cores, prog.n_neurons
    return prog.replace(weights=np.full(prog.weights.shape, 255), leak=np.zeros((C, N), int),
                        reset_mode=np.full((C, N), 2))


def test_potential_bound_is_the_drive_of_the_driven_axons():
    prog = saturating_program()
    # every axon driven, 256 of them at weight 255, no leak; M = max(|V0|, |R|, β, α) per neuron
    start = np.maximum.reduce([np.abs(prog.initial_potential), np.abs(prog.reset_value),
                               prog.floor, prog.threshold])
    assert np.array_equal(sanafe_peer.potential_bound(prog, 3), start + 3 * 256 * 255)


def test_sanafe_refuses_runs_that_could_reach_the_20_bit_saturation():
    prog = saturating_program()
    limit = 2 ** 19 - 1                             # truenorth: a 20-bit signed potential
    ok_ticks = (limit - 63) // (256 * 255)          # 8: α ≤ 63 bounds M for this program
    sanafe_peer.check_unsaturated(prog, ok_ticks)
    with pytest.raises(ValidationError, match=r"'ticks' is 9: neuron \(core 0, neuron \d+\) "
                                              r"could reach the 20-bit potential's saturation"):
        sanafe_peer.check_unsaturated(prog, 9)
    # the benchmark's network at its 200 ticks stays inside
    sanafe_peer.check_unsaturated(mixed_program(4, seed=4), 200)


# slow; in the default run, SANA-FE's agreement (seed 0 of the test above) and the sim
# benchmark's quick run (test_bench.py::test_bench_sim_quick_json)
@pytest.mark.slow
def test_bench_sim_peer_sanafe_quick_reports_agreement_and_ratios():
    from neurosim import bench
    out = bench.run("sim", quick=True, verbose=False, peer="sanafe")
    assert out["agree"] is True
    assert [row["cores"] for row in out["per_cores"]] == [4, 16]
    assert out["timing_model"] == "simple"
    for row in out["per_cores"]:
        assert row["spikes"] > 0 and row["first_difference"] is None
        assert row["ratio_1thread"] == pytest.approx(row["sanafe_s_1thread"]
                                                     / row["neurosim_s_1thread"])

