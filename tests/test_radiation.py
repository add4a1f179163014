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
from neurosim.radiation import snapshot
from neurosim.radiation import timeline as tlm
from neurosim.radiation.environments import PRESETS, upset_rates


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
dose_rate_rad_per_year = 150.0
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
def test_minimal_scenario_resolves_with_physics_rates(tmp_path):
    sc = scn.load(_write(tmp_path, MINIMAL))
    phys = sc.values["physics"]
    assert sc["orbit.altitude_km"] == 686.0 and sc["orbit.inclination_deg"] == 98.0
    assert sc["device.name"] == "sram-28nm-bulk" and sc["environment.shielding_mm_al"] == 10.0
    # LEO: trapped protons and GCR both contribute; AP8-MAX and φ = 1100 MV lower the total
    for k in ("weight_sram", "potential", "routing"):
        parts = phys["parts"]["min"][k]
        assert parts["trapped_proton"] > 0 and parts["gcr_heavy_ion"] > 0
    assert all(lo > hi > 0 for lo, hi in zip(phys["background"]["min"],
                                              phys["background"]["max"]))
    assert phys["trapped_saa_share"]["min"] >= 0.8               # SAA: most trapped upsets
    assert all(0 < x < 1 for x in phys["saa_share"]["min"])     # diluted by GCR upsets
    assert phys["mcu_share"] == [0.2, 0.2, 0.2]                  # the device's MCU share
    assert phys["spe_per_fluence30"][0] > 0
    assert sc.sources["upsets.weight_sram_rate_per_bit_day"].startswith(
        "physics: 686 km, 98° behind 10 mm Al, device(s) sram-28nm-bulk")
    assert sc["mission.name"] == "s"
    assert sc["mitigation.secded"] is False and sc["run.runs"] == 100
    assert len(sc.checkpoint_times_days()) == 24


def test_resolved_scenario_round_trips(tmp_path):
    sc = scn.load(os.path.join(SCEN, "solar_max_storm.toml"))
    out = tmp_path / "r.toml"
    scn.write_resolved(sc, str(out))
    again = scn.load(str(out))
    assert again == sc
    assert again["solar_events.scheduled"][0]["fluence30_cm2"] == 1e10
    assert again.values["physics"] == sc.values["physics"]


def test_every_shipped_scenario_loads():
    for name in ("leo_10y", "geo_15y", "solar_max_storm", "deep_space_5y", "seed_150_neurons"):
        sc = scn.load(os.path.join(SCEN, name + ".toml"))
        assert sc.name == name


def test_unknown_key(tmp_path):
    msg = _err(tmp_path, MINIMAL.replace("[dose]", "[dose]\ndose_rate_rad_per_yr = 3.0"))
    assert msg.startswith("FILE:15: [dose] dose_rate_rad_per_yr = 3.0: unknown key; expected "
                          "one of dose_rate_rad_per_year, ")


def test_unknown_section(tmp_path):
    msg = _err(tmp_path, MINIMAL + "\n[orbits]\naltitude_km = 500\n")
    assert msg == ("FILE:26: [orbits]: unknown section; expected one of [mission], "
                   "[environment], [orbit], [device], [upsets], [solar_events], [dose], "
                   "[latchup], [synapses], [mitigation], [run]")


def test_wrong_type(tmp_path):
    msg = _err(tmp_path, MINIMAL.replace("duration_years = 2.0", 'duration_years = "two"'))
    assert msg == ('FILE:3: [mission] duration_years = "two": expected a number > 0 and ≤ 100, '
                   'got str')


def test_negative_rate(tmp_path):
    msg = _err(tmp_path, MINIMAL.replace("[upsets]", "") + "\n[upsets]\n"
               "weight_sram_rate_per_bit_day = -1e-7\nsource = \"x\"\n")
    assert msg == "FILE:27: [upsets] weight_sram_rate_per_bit_day = -1e-07: expected a rate ≥ 0"


def test_missing_required(tmp_path):
    msg = _err(tmp_path, MINIMAL.replace("rate_per_core_day = 0.0", "rate_per_core_day = 1e-5"))
    assert msg == ("FILE: [latchup] recoverable_fraction: missing; expected a number ≥ 0 and ≤ 1 "
                   "(required because rate_per_core_day is not 0) with a source: no published "
                   "figure covers it (neurosim.references)")
    msg = _err(tmp_path, MINIMAL.replace("accuracy_requirement = 0.9", ""))
    assert msg == "FILE: [mission] accuracy_requirement: missing; expected a number ≥ 0 and ≤ 1"


def test_dose_rate_is_required_with_a_source(tmp_path):
    msg = _err(tmp_path, MINIMAL.replace("dose_rate_rad_per_year = 150.0\n", ""))
    assert msg == ("FILE: [dose] dose_rate_rad_per_year: missing; expected a number ≥ 0 with a "
                   "source: no published figure covers it (neurosim.references)")


def test_rates_need_a_source(tmp_path):
    msg = _err(tmp_path, MINIMAL.replace('source = "off"\n\n[synapses]', '\n[synapses]'))
    assert msg == ("FILE:18: [latchup]: a source string is required for rate_per_core_day: say "
                   "where the values come from (paper, table) or that they are an assumption")


@pytest.mark.parametrize("orbit, expected", [
    ("altitude_km = 500.0\ninclination_deg = 51.6\nheight = 3",
     "FILE:29: [orbit] height = 3: unknown key; expected one of altitude_km, inclination_deg, "
     "tle, kind, step_s, span_days"),
    ("altitude_km = 500.0\ninclination_deg = 190.0",          # the line of the key
     "FILE:28: [orbit] inclination_deg is 190.0; expected"),
    ("altitude_km = 80.0\ninclination_deg = 51.6", "FILE:27: [orbit] altitude_km is 80.0; "
                                                     "expected"),
    ('tle = ["1 25544U garbage", "2 25544 nonsense"]',
     "FILE:27: [orbit] tle = ['1 25544U garbage', '2 25544 nonsense'] does not parse"),
    ("inclination_deg = 51.6", "FILE:26: [orbit]: missing 'altitude_km'"),  # the section's
])
def test_bad_orbit_names_file_key_value(tmp_path, orbit, expected):
    msg = _err(tmp_path, MINIMAL + "\n[orbit]\n" + orbit + "\n")
    assert msg.startswith(expected), msg
    assert "\n" not in msg


def test_bad_shielding_and_device(tmp_path):
    msg = _err(tmp_path, MINIMAL.replace("shielding_mm_al = 10.0", "shielding_mm_al = -1.0"))
    assert msg == "FILE:8: [environment] shielding_mm_al = -1.0: expected a number ≥ 0"
    msg = _err(tmp_path, MINIMAL + '\n[device]\nname = "sram-3nm-magic"\n')
    assert msg.startswith('FILE:26: [device] name = "sram-3nm-magic": ')
    assert "cannot read device file" in msg and "sram-28nm-bulk" in msg
    (tmp_path / "dev.toml").write_text("name = 'x'\n[heavy_ion]\n")
    msg = _err(tmp_path, MINIMAL + '\n[device]\nweight_sram = "dev.toml"\n')
    assert msg.startswith("FILE:26: [device] weight_sram = ") and "dev.toml" in msg


def test_measured_rate_overrides_the_physics(tmp_path):
    sc = scn.load(_write(tmp_path, MINIMAL + '\n[upsets]\npotential_rate_per_bit_day = 4.04e-7'
                                             '\nsource = "Alsat-1 flight average"\n'))
    background, sigma30, _, _ = upset_rates(sc.values)
    # the override holds in both phases and gets no solar events on top (it contains them)
    assert background["min"][1] == background["max"][1] == 4.04e-7
    assert sigma30[1] == 0.0 and sigma30[0] > 0
    assert background["min"][0] == sc.values["physics"]["background"]["min"][0] != 4.04e-7
    assert sc.sources["upsets.potential_rate_per_bit_day"] == "Alsat-1 flight average"
    # the values are the source of truth: an override set after loading is honoured too
    v = {s: dict(x) if isinstance(x, dict) else x for s, x in sc.values.items()}
    v["upsets"]["routing_rate_per_bit_day"] = 1e-9
    assert upset_rates(v)[0]["max"][2] == 1e-9


def test_latchup_fractions_sum_to_one(tmp_path):
    text = MINIMAL.replace("rate_per_core_day = 0.0", "rate_per_core_day = 1e-5\n"
                           "recoverable_fraction = 0.5\ndestructive_fraction = 0.1\n"
                           "latent_fraction = 0.1\nlatent_stuck_bits = 4")
    msg = _err(tmp_path, text)
    assert msg == ("FILE:22: [latchup] latent_fraction = 0.1: recoverable_fraction + "
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


def _upsets_per_day(v, lay, phase="max", cls=slice(None)):
    """Expected upset events per day over the layout's cores in solar ``phase`` (no events)."""
    lam = np.asarray(v["physics"]["background"][phase])[cls] * v["upsets"]["rate_scale"]
    return float(np.sum(lam * lay.data_bits()[cls])) * lay.C


def test_upset_counts_match_poisson_expectation(tmp_path):
    v = _values(tmp_path, "\n[upsets]\nrate_scale = 1000.0\n")
    v["solar_events"]["cycle_model"] = "steps"    # constant rates per year (sunspot: _s4)
    lay = _layout()
    times = np.arange(1, 25) * 30.4375
    runs = 200
    counts = np.array([tlm.sample(v, lay, times, np.random.default_rng(s)).stats["upsets"]
                       for s in range(runs)])
    # launch at the start of an active phase: both years at solar maximum
    expect = _upsets_per_day(v, lay) * np.diff(np.concatenate([[0.0], times]))
    # mean of `runs` Poisson draws: sd = sqrt(λ/runs); 4 sd per checkpoint, and the total
    assert np.all(np.abs(counts.mean(axis=0) - expect) < 4 * np.sqrt(expect / runs))
    total = counts.sum(axis=1)
    assert abs(total.mean() - expect.sum()) < 4 * math.sqrt(expect.sum() / runs)
    assert abs(total.var() / expect.sum() - 1) < 0.25     # Poisson: variance = mean


def test_solar_minimum_years_use_the_solar_minimum_rates(tmp_path):
    text = MINIMAL.replace("accuracy_requirement = 0.9", "accuracy_requirement = 0.9\n"
                           "solar_cycle_phase_at_launch_years = 6.0")
    v = scn.load(_write(tmp_path, text + "\n[upsets]\nrate_scale = 1000.0\n")).values
    v["solar_events"]["cycle_model"] = "steps"    # constant rates per year (sunspot: _s4)
    lay = _layout()
    times = np.array([365.25, 730.5])
    counts = np.array([tlm.sample(v, lay, times, np.random.default_rng(s)).stats["upsets"]
                       for s in range(100)])
    # year 1 is the last active year (AP8-MAX, φ = 1100 MV), year 2 the first quiet one
    for k, phase in enumerate(("max", "min")):
        expect = _upsets_per_day(v, lay, phase) * 365.25
        assert abs(counts[:, k].mean() - expect) < 4 * math.sqrt(expect / 100)
    assert v["physics"]["background"]["min"][0] > v["physics"]["background"]["max"][0]


def test_scheduled_solar_event_adds_its_fluence_upsets(tmp_path):
    extra = ('\n[[solar_events.scheduled]]\nstart_day = 40.0\nduration_days = 5.0\n'
             'fluence30_cm2 = 1e12\nsource = "test"\n')
    v = _values(tmp_path, extra)
    lay = _layout()
    times = np.arange(1, 25) * 30.4375
    counts = np.array([tlm.sample(v, lay, times, np.random.default_rng(s)).stats["upsets"]
                       for s in range(100)])
    sigma30 = np.asarray(v["physics"]["spe_per_fluence30"])
    event = float(np.sum(sigma30 * 1e12 * lay.data_bits())) * lay.C
    expect2 = _upsets_per_day(v, lay) * 30.4375 + event     # the second month holds the event
    assert event > 10 * _upsets_per_day(v, lay) * 30.4375
    assert abs(counts[:, 1].mean() - expect2) < 4 * math.sqrt(expect2 / 100)
    assert abs(counts[:, 2].mean() - expect2 + event) < 4 * math.sqrt(expect2 / 100)


def test_drawn_solar_events_follow_the_statistical_model(tmp_path):
    v = scn.load(_write(tmp_path, MINIMAL.replace("events_per_active_year = 0.0",
                                                  "events_per_active_year = 6.0"))).values
    lay = _layout()
    n = [tlm.sample(v, lay, np.array([730.5]), np.random.default_rng(s)).solar_events
         for s in range(200)]
    # two active years at 6 events per active year: Poisson(12)
    assert abs(np.mean(n) - 12.0) < 4 * math.sqrt(12.0 / 200)


def test_tid_kills_cores_not_neurons(tmp_path):
    from scipy.stats import norm
    v = _values(tmp_path)
    # die spread 0: core and chip doses independent, σ = 0.1; 6 krad at 2 years
    v["dose"] = dict(v["dose"], dose_rate_rad_per_year=3000.0, failure_dose_median_krad=6.3,
                     die_log_sd=0.0, core_log_sd=0.1)
    lay = _layout()
    times = np.arange(1, 25) * 30.4375
    tls = [tlm.sample(v, lay, times, np.random.default_rng(s)) for s in range(300)]
    p = norm.cdf(math.log(6.0 / 6.3) / 0.1)
    p_core = 1 - (1 - p) ** 2                 # its own failure dose or the chip's
    dead = np.array([t.stats["dead_cores"][-1] for t in tls])
    assert abs(dead.mean() / lay.C - p_core) < 4 * math.sqrt(p_core * (1 - p_core) / 300)
    assert all(t.faults[-1].dead_neurons.size == 0 for t in tls)     # no per-neuron TID
    assert all(np.all(np.diff(t.stats["dead_cores"]) >= 0) for t in tls)
    assert tls[0].stats["dose_krad"][-1] == pytest.approx(6.0)
    # one die factor shared: with no core spread the cores of a run die together
    v["dose"] = dict(v["dose"], die_log_sd=0.3, core_log_sd=0.0)
    dead = [tlm.sample(v, lay, times, np.random.default_rng(s)).stats["dead_cores"][-1]
            for s in range(50)]
    assert set(dead) == {0, lay.C}


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
    flips, n = snapshot.flipped_bits(core, cls, pos, np.zeros(4, bool), positions, 32, 39,
                                 data_bits, True)
    c, p = flips[0]
    assert n == 2 and c.tolist() == [0, 0] and p.tolist() == [32 + 1, 32 + 2]
    flips, n = snapshot.flipped_bits(core, cls, pos, np.zeros(4, bool), data_bits, 1, 1,
                                 data_bits, False)
    assert n == 4
    # the same bit twice cancels
    flips, n = snapshot.flipped_bits(np.array([0, 0]), np.array([0, 0]), np.array([7, 7]),
                                 np.zeros(2, bool), data_bits, 1, 1, data_bits, False)
    assert n == 0


def test_column_interleave_puts_an_mcu_into_two_words_that_secded_corrects():
    """4 data + 3 check bits a word; class 0 has 4 words (28 positions). The MCU hits position 9:
    word 1, bit 2. Interleave 1: its partner is 9 ^ 1 = 8 (word 1, bit 1): two flips in one word,
    data bits 1·4 + 1 = 5 and 6 stay flipped. Interleave 2: word 1, bit 2 is column
    2·2 + 1 = 5, its partner column 4 is word 0, bit 2 (position 2): one flip per word,
    corrected. Interleave 3 (groups of words 0-2 and 3): column 2·3 + 1 = 7, partner 6 = word 0,
    bit 2; word 3 is alone in its group, so an MCU at position 23 (word 3, bit 2 = column
    21 + 2) pairs with column 22 = position 22 (word 3, bit 1): data bits 13 and 14 stay."""
    positions, data_bits = np.array([28, 14, 14]), np.array([16, 8, 8])

    def hit(pos, interleave):
        return snapshot.flipped_bits(np.array([5]), np.array([0]), np.array([pos]),
                                     np.array([True]), positions, 4, 7, data_bits, True,
                                     interleave)

    flips, n = hit(9, 1)
    assert n == 2 and flips[0][0].tolist() == [5, 5] and flips[0][1].tolist() == [5, 6]
    for k in (2, 3, 4):
        flips, n = hit(9, k)
        assert n == 0 and all(c.size == 0 for c, _ in flips.values())
    flips, n = hit(23, 3)
    assert n == 2 and flips[0][1].tolist() == [13, 14]
    # without SECDED the partner bits themselves: 9 and 8 (interleave 1), 9 and 2 (2)
    assert snapshot.flipped_bits(np.array([5]), np.array([0]), np.array([9]), np.array([True]),
                                 positions, 4, 7, data_bits, False, 2)[0][0][1].tolist() == [2, 9]


def test_column_interleave_reaches_the_timeline(tmp_path):
    """Every upset an MCU (multi_bit_fraction 1), SECDED on, monthly scrubs, 4 years, 3 runs:
    with interleave 1 every live event leaves two flipped bits in its word; with interleave 2
    or 4 none is left, from the same draws. The rate is low (about 0.3 live events per core at a
    checkpoint) so that no two events share a group of words, which would leave two flips in a
    word. 30 axons: the core SRAM has 30·16 + 864 = 1344 bits = 42 words, so no group holds a
    single word (with 43, word 42 would keep its MCUs, as flipped_bits documents)."""
    base = ("\n[upsets]\nrate_scale = 10.0\nmulti_bit_fraction = 1.0\nsource = \"test\"\n"
            "\n[mitigation]\nsecded = true\nscrub_period_days = 30.4375\n")
    lay = _layout(A=30)
    assert (-(-lay.data_bits() // 32)).tolist() == [42, 10, 10]
    times = np.arange(1, 49) * 30.4375
    tl = {k: [tlm.sample(_values(tmp_path, base + f"column_interleave = {k}\n"), lay, times,
                         np.random.default_rng(seed)) for seed in range(3)] for k in (1, 2, 4)}
    for k in (2, 4):
        assert all(np.array_equal(a.stats["upsets"], b.stats["upsets"])
                   for a, b in zip(tl[1], tl[k]))
        assert sum(t.stats["live_upsets"].sum() for t in tl[k]) == 0
    live = np.concatenate([t.stats["live_upsets"] for t in tl[1]])
    assert live.sum() > 0 and np.all(live % 2 == 0)   # 42 live bits in the 3 runs (radphys-9)


@pytest.mark.parametrize("value, expected", [
    ("0", "FILE:27: [mitigation] column_interleave = 0: expected an integer ≥ 1"),
    ("1.5", "FILE:27: [mitigation] column_interleave = 1.5: expected an integer ≥ 1, got float"),
])
def test_bad_column_interleave(tmp_path, capsys, value, expected):
    from neurosim.cli import main
    text = MINIMAL + f"\n[mitigation]\ncolumn_interleave = {value}\n"
    assert _err(tmp_path, text) == expected
    path, out = _write(tmp_path, text), tmp_path / "out"
    assert main(["mission", path, "--out", str(out), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "neurosim mission: error: " + expected.replace("FILE", path)
    assert not out.exists()


def test_spare_replaces_dead_core():
    death = np.array([100.0, np.inf, np.inf, 50.0, np.inf])   # slots 0,1,2; spares 3, 4
    service = snapshot.service_periods(3, 2, death, 1000.0)
    # spare 3 died at day 50 (before it was needed): spare 4 takes slot 0 at day 100
    assert service[0] == (0.0, 100.0, 0)
    assert service[4] == (100.0, np.inf, 0)
    assert 3 not in service


def _latchup(v, rate_per_core_day, cores_per_domain, **fractions):
    v["latchup"] = dict(v["latchup"], rate_per_core_day=rate_per_core_day,
                        power_domain_cores=cores_per_domain, **fractions)
    return v


def test_destructive_latchup_kills_its_domain(tmp_path):
    v = _latchup(_values(tmp_path), 1.0, 1, recoverable_fraction=0.0, destructive_fraction=1.0,
                 latent_fraction=0.0, latent_stuck_bits=0)
    lay = _layout()
    tl = tlm.sample(v, lay, np.array([30.0, 60.0]), np.random.default_rng(0))
    assert tl.faults[-1].dead_cores.ravel().tolist() == [0, 1]
    assert tl.stats["isolated_cores"][-1] == 2          # their domains are off for good
    v["mitigation"] = dict(v["mitigation"], spare_cores=1)
    tl = tlm.sample(v, lay, np.array([0.001]), np.random.default_rng(0))
    assert tl.faults[0].dead_cores.size == 0
    # one domain of both cores: the first destructive event kills both at once
    v = _latchup(v, 0.01, 2)
    v["mitigation"] = dict(v["mitigation"], spare_cores=0)
    times = np.arange(1, 101) * 1.0
    for seed in range(5):
        dead = tlm.sample(v, lay, times, np.random.default_rng(seed)).stats["dead_cores"]
        assert set(dead.tolist()) <= {0, 2}


def test_latchup_power_cycle_clears_every_upset_of_its_domain(tmp_path):
    v = _values(tmp_path, "\n[upsets]\nrate_scale = 3000.0\n")
    lay = _layout()
    times = np.arange(1, 61) * 1.0
    base = np.array([tlm.sample(v, lay, times, np.random.default_rng(s)).stats["live_upsets"]
                     for s in range(20)])
    # a whole-chip domain cycled about twice a day by latch-ups anywhere on the chip
    v = _latchup(v, 2.0 / 4096, 4096, recoverable_fraction=1.0, destructive_fraction=0.0,
                 latent_fraction=0.0, latent_stuck_bits=0)
    runs = [tlm.sample(v, lay, times, np.random.default_rng(s)) for s in range(20)]
    cycled = np.array([r.stats["live_upsets"] for r in runs])
    # without cycles upsets pile up for 60 days; with them only those since the last cycle live
    assert cycled[:, -20:].mean() < 0.1 * base[:, -20:].mean()
    assert all(r.stats["power_cycles"][-1] > 60 for r in runs)
    # each cycle reloads the chip's cores in use: 2 cores × 13 ms of outage per cycle
    lost = 1 - np.mean([r.availability for r in runs])
    per_cycle = 2 * 256 * 410 / 8 * 800e-9 / 86400
    assert lost == pytest.approx(2.0 * per_cycle, rel=0.3)


def test_sampling_is_deterministic_per_seed(tmp_path):
    v = _values(tmp_path, "\n[upsets]\nrate_scale = 1000.0\n")
    v = _latchup(v, 0.01, 1, recoverable_fraction=0.5, destructive_fraction=0.2,
                 latent_fraction=0.3, latent_stuck_bits=4)
    lay = _layout()
    times = np.arange(1, 13) * 30.4375
    a, b = (tlm.sample(v, lay, times, np.random.default_rng(7)) for _ in range(2))
    assert a.faults == b.faults and a.availability == b.availability
    assert all(np.array_equal(a.stats[k], b.stats[k]) for k in a.stats)


def test_tmr_masks_single_replica_faults(tmp_path):
    v = _values(tmp_path)
    v["dose"] = dict(v["dose"], dose_rate_rad_per_year=0.0,
                     random_failure_rate_per_neuron_year=0.1116)   # 20 % dead in 2 years
    lay = _layout()
    times = np.array([2 * 365.25])
    hidden = lambda tl: int(np.sum(tl.faults[-1].dead_neurons[:, 0] == 0))
    plain = [hidden(tlm.sample(v, lay, times, np.random.default_rng(s))) for s in range(60)]
    v["mitigation"] = dict(v["mitigation"], tmr_hidden=True)
    tmrs = [tlm.sample(v, lay, times, np.random.default_rng(s)) for s in range(60)]
    # 12 used hidden neurons: 20 % dead alone, 3p² − 2p³ = 10.4 % with 2 of 3 replicas needed
    assert np.mean(plain) == pytest.approx(12 * 0.2, rel=0.25)
    assert np.mean([hidden(t) for t in tmrs]) == pytest.approx(12 * 0.104, rel=0.35)
    assert tmrs[0].core_multiplicity[0].tolist() == [3, 1]


def test_presets_are_orbit_shielding_device_triples():
    assert set(PRESETS) == {"leo-sso", "leo-iss", "geo", "deep-space"}
    assert PRESETS["leo-sso"].orbit.altitude_km == 686.0
    assert PRESETS["leo-iss"].orbit.inclination_deg == 51.6
    for p in PRESETS.values():
        assert p.device == "sram-28nm-bulk" and p.shielding_mm_al >= 0


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
    p = 1 - math.exp(-sc["dose.random_failure_rate_per_neuron_year"] * 10.0)
    sd = math.sqrt(138 * p * (1 - p))
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
    v = _values(tmp_path, "\n[upsets]\nrate_scale = 2000.0\n\n"
                          "[mitigation]\nscrub_period_days = 30.0\n")
    v["solar_events"]["cycle_model"] = "steps"    # constant rates per year (sunspot: _s4)
    live = _live_upsets_monthly(v, 150)
    mean = live.mean(axis=0)
    assert not v["mitigation"]["secded"]
    flips_per_event = 1 + v["physics"]["mcu_share"][0]
    per_day = _upsets_per_day(v, _layout()) * flips_per_event
    half_period = per_day * 15.0          # expected live bits: uniform age in [0, 30) days
    first, last = mean[:8].mean(), mean[-8:].mean()
    # sd of a third's mean ≈ sqrt(level / (8·150)); 0.15 of the level (7.4) is 14 sd
    assert abs(first - last) < 0.15 * half_period, (first, last, half_period)
    assert abs(mean.mean() - half_period) < 0.15 * half_period
    # deterministic for a seed: the phase comes from the run's generator
    again = _live_upsets_monthly(v, 5)
    assert np.array_equal(again, live[:5])


def test_sampled_upsets_land_in_the_fields_of_the_memory_map(random_program, tmp_path):
    v = _values(tmp_path, "\n[upsets]\nrate_scale = 1e6\n\n[mitigation]\nsecded = false\n")
    prog = random_program(np.random.default_rng(4), "truenorth", max_cores=3, max_axons=40,
                          max_neurons=40)
    lay = tlm.ChipLayout.from_program(prog)
    fs = tlm.sample(v, lay, np.array([30.0]), np.random.default_rng(0)).faults[0]
    # every kind is hit, up to the top bit of its field, and apply accepts every coordinate
    assert fs.weight_flips[:, 3].max() == 8 and fs.threshold_flips[:, 2].max() == 17
    assert fs.potential_flips[:, 2].max() == 19 and fs.routing_flips[:, 2].max() == 19
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
    fs, n_dead, mult = snapshot.logical_state(lay, slot_core, host_slot, death, 5.0, flips, empty,
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
    fs, n_dead, mult = snapshot.logical_state(lay, slot_core, host_slot, death, 5.0, flips, empty,
                                          empty, np.zeros(0, bool))
    assert mult.tolist() == [2, 1] and n_dead == 0
    assert fs.weight_flips.tolist() == [[0, 1, 4, 2]]
    assert fs.dead_neurons.tolist() == [[0, 1], [0, 4], [1, 0]]
    # two replicas gone: the logical core is dead
    fs, n_dead, mult = snapshot.logical_state(lay, slot_core, np.array([0, -1, -1, 3]), death, 5.0,
                                          {k: (empty, empty) for k in range(3)}, empty, empty,
                                          np.zeros(0, bool))
    assert n_dead == 1 and fs.dead_cores.ravel().tolist() == [0]
    assert fs.dead_neurons.tolist() == [[1, 0]]


# ---------------------------------------------------------------------- neurosim environment
def _environment_args(scenario, figures=None, json=True):
    import argparse
    return argparse.Namespace(scenario=scenario, figures=figures, json=json)


@pytest.mark.parametrize("field, value, expected", [
    ("sigma_sat", "0.0", "field 'heavy_ion.sigma_sat' is 0.0; expected > 0"),
    ("onset", "-0.5", "field 'heavy_ion.onset' is -0.5; expected"),
])
def test_environment_command_refuses_a_bad_device_curve_in_one_line(tmp_path, capsys, field,
                                                                     value, expected):
    from neurosim.cli import main
    src = os.path.join(ROOT, "neurosim", "radiation", "data", "devices", "sram-28nm-bulk.toml")
    text = open(src).read()
    start = text.index("[heavy_ion]")
    line_start = text.index(f"\n{field} = ", start) + 1
    line_end = text.index("\n", line_start)
    text = (text[:line_start] + f'{field} = {{value = {value}, source = "test"}}'
            + text[line_end:])
    (tmp_path / "dev.toml").write_text(text)
    path = _write(tmp_path, MINIMAL + '\n[device]\nname = "dev.toml"\n')
    figures = tmp_path / "figs"
    assert main(["environment", path, "--figures", str(figures)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert f"{path}:26: [device] name = " in err and expected in err
    assert not figures.exists()


def test_environment_command_reports_rates_with_their_parts(tmp_path, capsys):
    from neurosim.cli import environment
    out = environment.run(_environment_args(os.path.join(SCEN, "leo_10y.toml")))
    sram = out["classes"]["weight_sram"]
    for phase in ("min", "max"):
        parts = sram["parts_per_bit_day"][phase]
        assert sram["rate_per_bit_day"][phase] == pytest.approx(
            parts["trapped_proton"] + parts["gcr_heavy_ion"] + parts["gcr_proton"])
    assert sram["rate_per_bit_day"]["min"] > sram["rate_per_bit_day"]["max"]
    assert out["trapped_saa_share"]["min"] > 0.9              # 686 km: the SAA dominates
    assert out["dose_rate_rad_per_year"] == 150.0 and capsys.readouterr().out == ""
    geo = environment.run(_environment_args(os.path.join(SCEN, "geo_15y.toml"), json=False))
    assert geo["classes"]["routing"]["parts_per_bit_day"]["min"]["trapped_proton"] == 0.0
    text = capsys.readouterr().out
    assert "environment of geo_15y: orbit 35786 km, 0°, 2.54 mm Al" in text
    assert "weight_sram  min" in text
    # the FOM cross-check: in GEO behind the scenario's shielding, the IRPP is the GEO
    # scenario's own heavy-ion rate; the measured 28 nm curve is far broader than the FOM's
    # usual shape (README: IRPP/FOM = 33)
    check = geo["classes"]["weight_sram"]["heavy_ion_cross_check_geo"]
    assert check["irpp_rate_per_bit_day"] == pytest.approx(
        geo["classes"]["weight_sram"]["parts_per_bit_day"]["min"]["gcr_heavy_ion"], rel=1e-12)
    assert 30 < check["irpp_over_fom"] < 50
    assert "heavy-ion cross-check in GEO (solar min, this shielding): IRPP" in text


def test_environment_command_reports_the_secded_fraction_at_the_scenarios_interleave(tmp_path,
                                                                                    capsys):
    """sram-28nm-bulk: MCU share 0.2, clusters of up to 8 cells. SECDED cannot correct an MCU
    while ⌈8 / k⌉ > 1: all of the 0.2 at interleave 1 to 4, none at 8; a scenario's
    multi_bit_fraction replaces the share; without SECDED the line says so."""
    from neurosim.cli import environment

    def fraction(extra):
        out = environment.run(_environment_args(_write(tmp_path, MINIMAL + extra), json=False))
        sram = out["classes"]["weight_sram"]
        assert sram["mcu_max_span"] == 8
        return out["column_interleave"], sram["secded_uncorrectable_fraction"]

    secded = "\n[mitigation]\nsecded = true\n"
    assert fraction(secded) == (1, 0.2)
    assert "SECDED cannot correct 20% of events at column interleave 1" in capsys.readouterr().out
    assert fraction(secded + "column_interleave = 4\n") == (4, 0.2)
    assert fraction(secded + "column_interleave = 8\n") == (8, 0.0)
    assert fraction(secded + '\n[upsets]\nmulti_bit_fraction = 0.05\nsource = "test"\n') == (
        1, 0.05)
    fraction("")
    assert "SECDED is off: every MCU stays in force" in capsys.readouterr().out


def test_report_names_the_column_interleave():
    from neurosim.report.sections import mitigation_text
    m = {"secded": True, "secded_word_data_bits": 32, "secded_word_check_bits": 7,
         "column_interleave": 1}
    assert mitigation_text(m) == "SECDED (32+7-bit words)"
    m["column_interleave"] = 4
    assert mitigation_text(m) == "SECDED (32+7-bit words, 4-way column interleave)"
    assert mitigation_text(dict(m, secded=False)) == "no ECC"


def test_environment_command_writes_figures_and_refuses_a_bad_directory(tmp_path):
    from neurosim.cli import environment
    from neurosim.errors import ValidationError
    figs = tmp_path / "figs"
    out = environment.run(_environment_args(os.path.join(SCEN, "geo_15y.toml"), str(figs)))
    names = sorted(os.path.basename(p) for p in out["figures"])
    assert names == ["ground_track.png", "let_spectrum.png", "proton_spectra.png"]
    assert all((figs / n).read_bytes()[:4] == b"\x89PNG" for n in names)
    assert not [p for p in os.listdir(figs) if p.startswith(".")]     # no temporary left
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValidationError, match="--figures .*is a file, expected a directory"):
        environment.run(_environment_args(os.path.join(SCEN, "leo_10y.toml"), str(blocker)))


def test_stuck_merge_keeps_the_last_permanent_event_and_lets_it_override_upsets():
    from types import SimpleNamespace

    from neurosim.radiation.snapshot import _last_per_position, _merge_stuck
    layout = SimpleNamespace(A=16, N=16)
    upsets = np.array([[2, 5, 7, 0], [0, 1, 1, 1], [2, 5, 7, 0], [1, 0, 3, 1]])
    permanent = np.array([[4, 9, 9, 1],
                          [1, 0, 3, 0],    # overrides the upset at (1, 0, 3)
                          [4, 9, 9, 0]])   # later event at the same bit: stuck at 0 wins
    last = _last_per_position(layout, permanent)
    assert last.tolist() == [[1, 0, 3, 0], [4, 9, 9, 0]]
    merged = _merge_stuck(layout, upsets, last)
    assert merged.tolist() == [[0, 1, 1, 1], [1, 0, 3, 0], [2, 5, 7, 0], [4, 9, 9, 0]]
    none = _last_per_position(layout, np.zeros((0, 4), np.int64))
    assert _merge_stuck(layout, upsets, none).tolist() == [[0, 1, 1, 1], [1, 0, 3, 1],
                                                          [2, 5, 7, 0]]


def test_canonical_rows_are_numpys_lexicographic_unique():
    from neurosim.radiation.snapshot import _canon
    rows = np.random.default_rng(3).integers(-2, 3, (200, 3))
    assert np.array_equal(_canon(rows, 3), np.unique(rows, axis=0))
    assert _canon(None, 4).shape == (0, 4)
