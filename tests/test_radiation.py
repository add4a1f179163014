"""Radiation engine: scenario validation, sampled fault counts against their expectations, SECDED,
spare cores, the seed article's 150-neuron satellite."""
import math
import os

import numpy as np
import pytest

from neurosim.chip.faults import apply
from neurosim.chip.memory import THRESHOLD, WEIGHT, CoreMemory
from neurosim.chip.profile import TRUENORTH
from neurosim.errors import InputFileError
from neurosim.mission import scenario as scn
from neurosim.radiation import timeline as tlm
from neurosim.radiation.environments import PRESETS

from programs import random_program

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCEN = os.path.join(ROOT, "scenarios")

MINIMAL = """
[mission]
duration_years = 2.0
accuracy_requirement = 0.9

[environment]
preset = "leo-sso"
shielding_mm_al = 10.0

[solar_events]
events_per_active_year = 0.0
source = "off"

[dose]
neuron_failure_dose_median_krad = 35.0
neuron_failure_dose_log_sd = 0.3
core_failure_dose_median_krad = 35.0
core_failure_dose_log_sd = 0.3
source = "test"

[latchup]
rate_per_core_day = 0.0
source = "off"

[synapses]
stuck_rate_per_bit_year = 0.0
source = "off"
"""


def _write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def _err(tmp_path, text):
    path = _write(tmp_path, text)
    with pytest.raises(InputFileError) as exc:
        scn.load(path)
    return str(exc.value).replace(path, "FILE")


# ---------------------------------------------------------------------- validation
def test_minimal_scenario_resolves_with_preset_sources(tmp_path):
    sc = scn.load(_write(tmp_path, MINIMAL))
    assert sc["upsets.weight_sram_rate_per_bit_day"] == 4.04e-7
    assert sc["dose.dose_rate_rad_per_year"] == 150.0
    assert sc.sources["upsets.weight_sram_rate_per_bit_day"].startswith("preset leo-sso: Alsat-1")
    assert sc["mission.name"] == "s"
    assert sc["mitigation.secded"] is False and sc["run.runs"] == 100
    assert len(sc.checkpoint_times_days()) == 24


def test_resolved_scenario_round_trips(tmp_path):
    sc = scn.load(os.path.join(SCEN, "solar_max_storm.toml"))
    out = tmp_path / "r.toml"
    scn.write_resolved(sc, str(out))
    again = scn.load(str(out))
    assert again == sc
    assert again["solar_events.scheduled"][0]["multiplier"] == 3000.0


def test_every_shipped_scenario_loads():
    for name in ("leo_10y", "geo_15y", "solar_max_storm", "deep_space_5y", "seed_150_neurons"):
        sc = scn.load(os.path.join(SCEN, name + ".toml"))
        assert sc.name == name


def test_unknown_key(tmp_path):
    msg = _err(tmp_path, MINIMAL.replace("[dose]", "[dose]\ndose_rate_rad_per_yr = 3.0"))
    assert msg.startswith("FILE:15: [dose] dose_rate_rad_per_yr = 3.0: unknown key; expected "
                          "one of dose_rate_rad_per_year, ")


def test_unknown_section(tmp_path):
    msg = _err(tmp_path, MINIMAL + "\n[orbit]\naltitude_km = 500\n")
    assert msg == ("FILE:29: [orbit]: unknown section; expected one of [mission], [environment], "
                   "[upsets], [solar_events], [dose], [latchup], [synapses], [mitigation], [run]")


def test_wrong_type(tmp_path):
    msg = _err(tmp_path, MINIMAL.replace("duration_years = 2.0", 'duration_years = "two"'))
    assert msg == ('FILE:3: [mission] duration_years = "two": expected a number > 0 and ≤ 100, '
                   'got str')


def test_negative_rate(tmp_path):
    msg = _err(tmp_path, MINIMAL.replace("[upsets]", "") + "\n[upsets]\n"
               "weight_sram_rate_per_bit_day = -1e-7\nsource = \"x\"\n")
    assert msg == "FILE:30: [upsets] weight_sram_rate_per_bit_day = -1e-07: expected a rate ≥ 0"


def test_missing_required(tmp_path):
    msg = _err(tmp_path, MINIMAL.replace("rate_per_core_day = 0.0", "rate_per_core_day = 1e-5"))
    assert msg == ("FILE: [latchup] recoverable_fraction: missing; expected a number ≥ 0 and ≤ 1 "
                   "(required because rate_per_core_day is not 0) with a source: no published "
                   "figure in REFERENCES.md §3")
    msg = _err(tmp_path, MINIMAL.replace("accuracy_requirement = 0.9", ""))
    assert msg == "FILE: [mission] accuracy_requirement: missing; expected a number ≥ 0 and ≤ 1"


def test_preset_without_figure_requires_it(tmp_path):
    msg = _err(tmp_path, MINIMAL.replace('"leo-sso"', '"geo"').replace("10.0\n", "2.54\n", 1))
    assert msg == ("FILE: [upsets] multi_bit_fraction: missing; expected a number ≥ 0 and ≤ 1 "
                   "(preset 'geo' has no sourced figure for it: give it with a source)")


def test_rates_need_a_source(tmp_path):
    msg = _err(tmp_path, MINIMAL.replace('source = "off"\n\n[synapses]', '\n[synapses]'))
    assert msg == ("FILE:21: [latchup]: a source string is required for rate_per_core_day: say "
                   "where the values come from (paper, table) or that they are an assumption")


def test_shielding_must_match_preset(tmp_path):
    msg = _err(tmp_path, MINIMAL.replace("shielding_mm_al = 10.0", "shielding_mm_al = 5.0"))
    assert msg.startswith("FILE:8: [environment] shielding_mm_al = 5.0: preset 'leo-sso' rates "
                          "hold for 10 mm Al; give upsets.weight_sram_rate_per_bit_day")


def test_latchup_fractions_sum_to_one(tmp_path):
    text = MINIMAL.replace("rate_per_core_day = 0.0", "rate_per_core_day = 1e-5\n"
                           "recoverable_fraction = 0.5\ndestructive_fraction = 0.1\n"
                           "latent_fraction = 0.1\nlatent_stuck_bits = 4")
    msg = _err(tmp_path, text)
    assert msg == ("FILE:25: [latchup] latent_fraction = 0.1: recoverable_fraction + "
                   "destructive_fraction + latent_fraction = 0.7; expected 1")


def test_toml_syntax_error_names_line(tmp_path):
    msg = _err(tmp_path, MINIMAL.replace("duration_years = 2.0", "duration_years = = 2"))
    assert msg.startswith("FILE: not valid TOML: ") and "line 3" in msg


def test_cli_bad_scenario_exit_2_nothing_written(tmp_path, capsys):
    from neurosim.cli import main
    path = _write(tmp_path, MINIMAL.replace("duration_years = 2.0", "duration_years = -2.0"))
    out = tmp_path / "out"
    assert main(["mission", path, "--out", str(out), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"neurosim mission: error: {path}:3: [mission] duration_years = -2.0: "
                   "expected a number > 0 and ≤ 100")
    assert not out.exists()


# ---------------------------------------------------------------------- sampling
def _layout(C=2, A=32, N=16, used_n=12, used_a=24):
    used = np.zeros((C, N), bool)
    used[:, :used_n] = True
    ua = np.zeros((C, A), bool)
    ua[:, :used_a] = True
    xb = np.random.default_rng(0).random((C, A, N)) < 0.3
    hidden = np.ones(C, bool)
    hidden[-1] = False
    return tlm.ChipLayout(C=C, memory=CoreMemory.from_profile(TRUENORTH, A, N), used_neurons=used,
                          used_axons=ua, hidden_cores=hidden, crossbar=xb,
                          core_xy=np.array([[0, c] for c in range(C)], np.int32),
                          spare_xy=np.array([[1, c] for c in range(8)], np.int32))


def _values(tmp_path, extra=""):
    return scn.load(_write(tmp_path, MINIMAL + extra)).values


def test_upset_counts_match_poisson_expectation(tmp_path):
    v = _values(tmp_path, "\n[upsets]\nrate_scale = 200.0\n")
    lay = _layout()
    times = np.arange(1, 25) * 30.4375
    runs = 200
    counts = np.array([tlm.sample(v, lay, times, np.random.default_rng(s)).stats["upsets"]
                       for s in range(runs)])
    lam = 4.04e-7 * 200
    per_day = lam * lay.data_bits().sum() * lay.C
    expect = per_day * np.diff(np.concatenate([[0.0], times]))
    # mean of `runs` Poisson draws: sd = sqrt(λ/runs); 4 sd per checkpoint, and the total
    assert np.all(np.abs(counts.mean(axis=0) - expect) < 4 * np.sqrt(expect / runs))
    total = counts.sum(axis=1)
    assert abs(total.mean() - expect.sum()) < 4 * math.sqrt(expect.sum() / runs)
    assert abs(total.var() / expect.sum() - 1) < 0.25     # Poisson: variance = mean


def test_solar_event_burst_multiplies_rate(tmp_path):
    extra = ('\n[upsets]\nrate_scale = 1000.0\n\n[[solar_events.scheduled]]\nstart_day = 40.0\n'
             'duration_days = 5.0\nmultiplier = 50.0\nsource = "test"\n')
    v = _values(tmp_path, extra)
    lay = _layout()
    times = np.arange(1, 25) * 30.4375
    counts = np.array([tlm.sample(v, lay, times, np.random.default_rng(s)).stats["upsets"]
                       for s in range(100)])
    base = 4.04e-7 * 1000 * lay.data_bits().sum() * lay.C
    expect2 = base * (30.4375 + 5 * 49)          # second month holds the event
    assert abs(counts[:, 1].mean() - expect2) < 4 * math.sqrt(expect2 / 100)


def test_tid_deaths_follow_lognormal_failure_dose(tmp_path):
    from scipy.stats import norm
    v = _values(tmp_path, "").copy()
    v["dose"] = dict(v["dose"], dose_rate_rad_per_year=3000.0, core_failure_dose_median_krad=1e6)
    lay = _layout()
    times = np.arange(1, 25) * 30.4375
    dead = np.array([tlm.sample(v, lay, times, np.random.default_rng(s)).faults[-1]
                     .dead_neurons.shape[0] for s in range(200)])
    p = norm.cdf((math.log(6000.0) - math.log(35000.0)) / 0.3)
    n = lay.used_neurons.sum()
    assert abs(dead.mean() - p * n) < 4 * math.sqrt(p * (1 - p) * n / 200) + 1e-9
    # permanent faults only accumulate
    tl = tlm.sample(v, lay, times, np.random.default_rng(1))
    sizes = [f.dead_neurons.shape[0] for f in tl.faults]
    assert sizes == sorted(sizes)


def test_upsets_live_until_scrub(tmp_path):
    v = _values(tmp_path, "\n[upsets]\nrate_scale = 3000.0\n\n[mitigation]\n"
                          "scrub_period_days = 30.4375\n")
    lay = _layout()
    times = np.arange(1, 13) * 30.4375
    tl = tlm.sample(v, lay, times, np.random.default_rng(0))
    # checkpoints coincide with scrubs: each sees the month's upsets, then they are gone
    # live counts flipped bits (a multi-bit event flips two), upsets counts events
    assert np.all(tl.stats["live_upsets"] <= 2 * tl.stats["upsets"])
    assert tl.stats["live_upsets"].sum() > 0


def test_secded_corrects_single_bits_only():
    positions = np.array([39 * 4, 39, 39])
    data_bits = np.array([128, 32, 32])
    core = np.array([0, 0, 0, 1])
    cls = np.zeros(4, np.int64)
    pos = np.array([3, 40, 41, 5])              # word 0: 1 bit; word 1: 2 bits; core 1: 1 bit
    flips, n = tlm._flipped_bits(core, cls, pos, np.zeros(4, bool), positions, 32, 39,
                                 data_bits, True)
    c, p = flips[0]
    assert n == 2 and c.tolist() == [0, 0] and p.tolist() == [32 + 1, 32 + 2]
    flips, n = tlm._flipped_bits(core, cls, pos, np.zeros(4, bool), data_bits, 1, 1,
                                 data_bits, False)
    assert n == 4
    # the same bit twice cancels
    flips, n = tlm._flipped_bits(np.array([0, 0]), np.array([0, 0]), np.array([7, 7]),
                                 np.zeros(2, bool), data_bits, 1, 1, data_bits, False)
    assert n == 0


def test_spare_replaces_dead_core():
    core_tid = np.array([100.0, np.inf, np.inf, 50.0, np.inf])   # slots 0,1,2; spares 3, 4
    service = tlm._service(3, 2, core_tid, np.zeros(0, int), np.zeros(0), np.zeros(0, int), 1000.0)
    # spare 3 died at day 50 (before it was needed): spare 4 takes slot 0 at day 100
    assert service[0] == (0.0, 100.0, 0)
    assert service[4] == (100.0, np.inf, 0)
    assert 3 not in service


def test_destructive_latchup_without_spare_kills_core(tmp_path):
    v = _values(tmp_path)
    v["latchup"] = dict(rate_per_core_day=1.0, recoverable_fraction=0.0,
                        destructive_fraction=1.0, latent_fraction=0.0, latent_stuck_bits=0,
                        source="test")
    lay = _layout()
    tl = tlm.sample(v, lay, np.array([30.0, 60.0]), np.random.default_rng(0))
    assert tl.faults[-1].dead_cores.ravel().tolist() == [0, 1]
    v["mitigation"] = dict(v["mitigation"], spare_cores=1)
    tl = tlm.sample(v, lay, np.array([0.001]), np.random.default_rng(0))
    assert tl.faults[0].dead_cores.size == 0


def test_tmr_masks_single_replica_faults(tmp_path):
    v = _values(tmp_path)
    v["dose"] = dict(v["dose"], dose_rate_rad_per_year=3000.0, core_failure_dose_median_krad=1e6,
                     neuron_failure_dose_median_krad=6.0, neuron_failure_dose_log_sd=0.01)
    lay = _layout()
    times = np.array([365.0, 2 * 365.0])
    plain = tlm.sample(v, lay, times, np.random.default_rng(3))
    v["mitigation"] = dict(v["mitigation"], tmr_hidden=True)
    tmr = tlm.sample(v, lay, times, np.random.default_rng(3))
    # at day 365 (3 krad < 6 krad) nothing is dead; at day 730 (6 krad) about half the neurons of
    # every replica: TMR needs 2 of 3 replicas dead, so fewer hidden neurons are lost
    hidden = lambda fs: int(np.sum(fs.dead_neurons[:, 0] == 0))
    assert hidden(plain.faults[0]) == hidden(tmr.faults[0]) == 0
    assert 0 < hidden(tmr.faults[1]) < hidden(plain.faults[1]) + 6
    assert tmr.core_multiplicity[0].tolist() == [3, 1]


def test_presets_are_sourced():
    for p in PRESETS.values():
        assert set(p.values) == set(p.sources)
        assert all(s for s in p.sources.values())
    assert PRESETS["leo-sso"].values["upsets.weight_sram_rate_per_bit_day"] == 4.04e-7
    assert PRESETS["geo"].values["upsets.weight_sram_rate_per_bit_day"] == 5.29e-9


def test_seed_150_neurons_loses_about_50():
    from neurosim.compiler import compile as compile_mlp
    from neurosim.mlp import MLP
    sc = scn.load(os.path.join(SCEN, "seed_150_neurons.toml"))
    prog = compile_mlp(MLP.load(os.path.join(ROOT, "models", "digits_dense.npz")), "ideal",
                       calibration_samples=200, anneal=False).program
    lay = tlm.ChipLayout.from_program(prog)
    assert lay.used_neurons.sum() == 138
    times = sc.checkpoint_times_days()
    dead = np.array([tlm.sample(sc.values, lay, times, np.random.default_rng(s)).faults[-1]
                     .dead_neurons.shape[0] for s in range(150)])
    sd = math.sqrt(138 * 0.362 * 0.638)
    assert abs(dead.mean() - 50.0) < 4 * sd / math.sqrt(150) + 0.5


def _live_upsets_monthly(v, runs, seed0=0):
    """Live upsets of ``runs`` runs at 24 monthly (30.4375-day) checkpoints."""
    lay = _layout()
    times = np.arange(1, 25) * 30.4375
    return np.array([tlm.sample(v, lay, times, np.random.default_rng(seed0 + s))
                     .stats["live_upsets"] for s in range(runs)], float)


def test_scrub_phase_keeps_checkpoints_from_aliasing(tmp_path):
    """30-day scrubs read at 30.44-day checkpoints: with every run scrubbing at day 0, 30, 60 …
    the window of live upsets seen grows by 0.44 days a month (0.4 days at the first checkpoint,
    10.5 at the 24th), a ramp that is sampling, not degradation. With a random phase per run the
    mean over runs is flat at half a period's worth of upsets."""
    v = _values(tmp_path, "\n[upsets]\nrate_scale = 300.0\n\n"
                          "[mitigation]\nscrub_period_days = 30.0\n")
    live = _live_upsets_monthly(v, 150)
    mean = live.mean(axis=0)
    assert not v["mitigation"]["secded"]
    flips_per_event = 1 + v["upsets"]["multi_bit_fraction"]
    per_day = 4.04e-7 * 300.0 * _layout().data_bits().sum() * _layout().C * flips_per_event
    half_period = per_day * 15.0          # expected live bits: uniform age in [0, 30) days
    first, last = mean[:8].mean(), mean[-8:].mean()
    # sd of a third's mean ≈ sqrt(level / (8·150)); 0.15 of the level (7.4) is 14 sd
    assert abs(first - last) < 0.15 * half_period, (first, last, half_period)
    assert abs(mean.mean() - half_period) < 0.15 * half_period
    # deterministic for a seed: the phase comes from the run's generator
    again = _live_upsets_monthly(v, 5)
    assert np.array_equal(again, live[:5])


def test_sampled_upsets_land_in_the_fields_of_the_memory_map(tmp_path):
    v = _values(tmp_path, "\n[upsets]\nrate_scale = 1e5\n\n[mitigation]\nsecded = false\n")
    prog = random_program(np.random.default_rng(4), "truenorth", max_cores=3, max_axons=40,
                          max_neurons=40)
    lay = tlm.ChipLayout.from_program(prog)
    fs = tlm.sample(v, lay, np.array([30.0]), np.random.default_rng(0)).faults[0]
    # every kind is hit, up to the top bit of its field, and apply accepts every coordinate
    assert fs.weight_flips[:, 3].max() == 8 and fs.threshold_flips[:, 2].max() == 17
    assert fs.potential_flips[:, 2].max() == 18 and fs.routing_flips[:, 2].max() == 19
    assert np.all(fs.weight_flips[:, 1] < 4) and fs.stuck_synapses.size
    apply(prog, fs)
    # only used neurons, and crossbar bits only on driven axons
    assert lay.used_neurons[fs.threshold_flips[:, 0], fs.threshold_flips[:, 1]].all()
    s = fs.stuck_synapses
    assert lay.used_axons[s[:, 0], s[:, 1]].all() and lay.used_neurons[s[:, 0], s[:, 2]].all()
    # an upset crossbar bit reads as the flipped pristine bit
    assert np.all(s[:, 3] == 1 - prog.crossbar[s[:, 0], s[:, 1], s[:, 2]])


def test_tmr_vote_by_hand():
    lay = _layout()                                  # core 0 hidden (3 replicas), core 1 output
    slot_core = np.array([0, 0, 0, 1])
    host_slot = np.arange(4)                         # physical core p hosts slot p
    death = np.full((4, lay.N), np.inf)
    death[[0, 1], 1] = 1.0                           # neuron 1 dead in two replicas: dead
    death[2, 2] = 1.0                                # neuron 2 dead in one replica: masked
    death[3, 0] = 1.0                                # the output core has one copy: dead
    mem = lay.memory
    _, th = mem.encode([THRESHOLD, THRESHOLD], [3, 3], [5, 7])
    _, w = mem.encode([WEIGHT], [4], [2], row=[1])
    empty = np.zeros(0, np.int64)
    flips = {0: (np.array([0, 1, 2]), np.concatenate([th, w])), 1: (empty, empty),
             2: (empty, empty)}
    fs, n_dead, mult = tlm._logical_state(lay, slot_core, host_slot, death, 5.0, flips, empty,
                                          empty, np.zeros(0, bool))
    assert fs.dead_neurons.tolist() == [[0, 1], [1, 0]]
    # neuron 3's threshold is hit in replicas 0 and 1 (different bits): the union shows
    assert fs.threshold_flips.tolist() == [[0, 3, 5], [0, 3, 7]]
    assert fs.weight_flips.size == 0                 # one replica only: outvoted
    assert n_dead == 0 and mult.tolist() == [3, 1]
    # replica 2 gone: a fault in one more replica is a fault in two of three, and the neuron
    # carries the union (dead in replica 2, a weight flip in replica 1)
    host_slot = np.array([0, 1, -1, 3])
    flips[0] = (np.array([1]), w)
    fs, n_dead, mult = tlm._logical_state(lay, slot_core, host_slot, death, 5.0, flips, empty,
                                          empty, np.zeros(0, bool))
    assert mult.tolist() == [2, 1] and n_dead == 0
    assert fs.weight_flips.tolist() == [[0, 1, 4, 2]]
    assert fs.dead_neurons.tolist() == [[0, 1], [0, 4], [1, 0]]
    # two replicas gone: the logical core is dead
    fs, n_dead, mult = tlm._logical_state(lay, slot_core, np.array([0, -1, -1, 3]), death, 5.0,
                                          {k: (empty, empty) for k in range(3)}, empty, empty,
                                          np.zeros(0, bool))
    assert n_dead == 1 and fs.dead_cores.ravel().tolist() == [0]
    assert fs.dead_neurons.tolist() == [[1, 0]]
