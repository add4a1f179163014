"""Power model: calibration point, linearity, static-only idle, dead cores, profiles, budget, CLI."""
import dataclasses
import json
import re

import numpy as np
import pytest

from neurosim import energy as power
from neurosim.chip import FaultState, empty_program
from neurosim.cli import main
from neurosim.errors import InputFileError, ValidationError
from neurosim.sim import simulate
from neurosim.sim.counters import ActivityCounters


def counters(ticks=10, batch=2, spikes=0.0, synaptic_events=0.0, neuron_updates=None, hops=0.0,
             input_spikes=0.0, cores_powered=3, neurons=100):
    if neuron_updates is None:
        neuron_updates = neurons * ticks * batch
    return ActivityCounters(ticks=ticks, batch=batch, spikes=spikes,
                            synaptic_events=synaptic_events, neuron_updates=neuron_updates,
                            hops=hops, input_spikes=input_spikes, cores_powered=cores_powered,
                            core_spikes=np.zeros(cores_powered), core_events=np.zeros(cores_powered))


def small_program(n_inputs=64, leak=0):
    """Two cores on a 64-input feed-forward path: inputs → 16 neurons on core 0 → 10 outputs on
    core 1 (placed 5 rows and 7 columns away, so every routed spike costs 12 hops)."""
    C, A, N = 2, 64, 16
    crossbar = np.zeros((C, A, N), bool)
    crossbar[0, :, :] = np.arange(A)[:, None] % N == np.arange(N)[None, :]   # input i → neuron i%16
    crossbar[1, :N, :10] = True
    weights = np.zeros((C, 4, N), np.int32)
    weights[:, 0] = 1
    enabled = np.zeros((C, N), bool)
    enabled[0], enabled[1, :10] = True, True
    dest_core = np.full((C, N), -1, np.int32)
    dest_core[0] = 1
    return empty_program(
        "truenorth", C, A, N, n_inputs=n_inputs, n_outputs=10, crossbar=crossbar,
        weights=weights, enabled=enabled, threshold=np.full((C, N), 2, np.int32),
        leak=np.full((C, N), leak, np.int32), dest_core=dest_core,
        dest_axon=np.tile(np.arange(N, dtype=np.int32), (C, 1)),
        core_xy=np.array([[0, 0], [5, 7]], np.int32),
        input_index=np.arange(n_inputs), input_core=np.zeros(n_inputs, np.int32),
        input_axon=np.arange(n_inputs) % A, output_core=np.ones(10, np.int32),
        output_neuron=np.arange(10, dtype=np.int32))


# ------------------------------------------------------------------ calibration
@pytest.fixture(scope="module")
def calibration():
    return power.calibration(ticks=100)


def test_fit_reproduces_each_published_point_within_its_stated_error(calibration):
    """Issue 16: every fitted point within its tolerance (±1 mW, the printed precision), the
    held-out point (Merolla et al. 2014, 72 mW at 0.775 V) within 10 %, and the profile carries
    the fit (the whole model at each point equals the regression)."""
    rows = {r["id"]: r for r in calibration["points"]}
    fitted = [r for r in rows.values() if r["role"] == "fit"]
    assert len(fitted) == 4
    for r in fitted:
        assert abs(r["predicted_mw"] - r["published_mw"]) <= r["tolerance_mw"], r["id"]
        assert r["within_tolerance"] is True
    held = rows["merolla_072mw"]
    assert held["role"] == "held_out" and held["published_mw"] == 72.0
    assert abs(held["error_rel"]) <= 0.10
    assert calibration["held_out"]["error_rel"] == pytest.approx(held["error_rel"])
    assert calibration["held_out"]["error_rel"] == pytest.approx(-0.054, abs=0.005)
    for r in rows.values():
        if r["role"] != "unused":
            assert r["model_mw"] == pytest.approx(r["predicted_mw"], rel=1e-9), r["id"]
        assert r["source"], r["id"]
    # the 0.70 V corner is reported, not fitted, and sits far from the static ∝ V line
    assert rows["akopyan_042mw"]["role"] == "check" and rows["akopyan_042mw"]["error_rel"] > 0.2
    assert rows["merolla_063mw"]["predicted_mw"] is None
    fit = calibration["fit"]
    assert fit["static_chip_mw"] == pytest.approx(64.3, abs=0.1)
    assert fit["synaptic_event_pj"] == pytest.approx(2.31, abs=0.01)
    assert calibration["fit_error"]["all_within_tolerance"] is True


def test_fit_is_least_squares_and_moves_with_the_data():
    """The fit is the least-squares solution: perturbing it raises the squared error, and a
    changed measurement changes the constants (they are fitted, not solved from one point)."""
    ms = power.load_measurements()
    fit = power.fit_truenorth(ms)
    rows = [m for m in ms if m.role == "fit"]

    def sse(static, pj):
        f = power.TrueNorthFit(static, pj, fit.reference_v, ms)
        return sum((f.predict_mw(m.supply_v, m.rate_hz, m.synapses_per_neuron)
                    - m.power_mw) ** 2 for m in rows)
    best = sse(fit.static_chip_mw, fit.synaptic_event_pj)
    for ds, de in ((0.1, 0), (-0.1, 0), (0, 0.02), (0, -0.02)):
        assert sse(fit.static_chip_mw + ds, fit.synaptic_event_pj + de) > best
    import dataclasses
    hotter = [dataclasses.replace(m, power_mw=m.power_mw + 10) if m.id == "akopyan_fig17_96hz"
              else m for m in ms]
    assert power.fit_truenorth(hotter).synaptic_event_pj > fit.synaptic_event_pj + 0.5
    # the held-out point is not in the fit: changing it changes nothing
    moved = [dataclasses.replace(m, power_mw=99.0) if m.role == "held_out" else m for m in ms]
    assert power.fit_truenorth(moved).static_chip_mw == fit.static_chip_mw


def test_simulated_workload_matches_the_published_operating_point(calibration):
    """The 20 Hz full-chip workload, simulated as a real ChipProgram and priced at 0.775 V,
    lands within 10 % of Merolla et al.'s 72 mW and 26 pJ per synaptic event all-in."""
    w = calibration["workload"]
    assert w["cores_powered"] == 4096
    assert w["mean_rate_hz"] == pytest.approx(20.0)
    assert w["synaptic_events_per_spike"] == pytest.approx(128, rel=0.02)
    assert w["power_mw"] == pytest.approx(72.0, rel=0.10)
    assert w["pj_per_synaptic_event"] == pytest.approx(26.0, rel=0.10)
    # all-in: P = pJ × event rate, nothing added on top (hops are folded, not charged)
    assert w["breakdown"]["hops"] == 0 and w["breakdown"]["spikes"] == 0
    assert sum(w["breakdown"].values()) == pytest.approx(w["power_mw"])


def test_every_constant_has_a_source():
    for prof in power.POWER_PROFILES.values():
        for key in power.PowerProfile.CONSTANTS + ("power_gating",):
            assert prof.sources.get(key), (prof.name, key)
    assert "pre-silicon" in power.LOIHI.sources["synaptic_event_pj"]
    assert "assumption" in power.TRUENORTH.sources["power_gating"]
    for m in power.load_measurements():
        assert m.source and m.quality in ("primary", "secondary"), m.id


# ------------------------------------------------------------------ whole chip, voltage, dose
def test_three_cores_draw_the_whole_chip_static_power():
    """Issue 16: under power_gating "none" a program on 3 cores draws the chip's full static
    power (4,096 cores), and energy per inference includes it; under "core" only 3 cores leak."""
    import dataclasses
    c = counters(ticks=10, batch=1, synaptic_events=500.0, cores_powered=3)
    chip_static = power.TRUENORTH.static_mw_per_core * 4096
    rep = power.power(c, "truenorth")
    assert rep.power_gating == "none" and rep.static_cores == 4096 and rep.chips == 1
    assert rep.breakdown["leakage"] == pytest.approx(chip_static)
    assert rep.static_mw == pytest.approx(64.27, abs=0.01)
    assert rep.energy_per_inference_uj == pytest.approx(
        rep.dynamic_energy_per_inference_uj + rep.static_mw / rep.inference_rate_hz * 1e3)
    gated = power.power(c, dataclasses.replace(power.TRUENORTH, power_gating="core"))
    assert gated.static_cores == 3
    assert gated.breakdown["leakage"] == pytest.approx(3 * power.TRUENORTH.static_mw_per_core)
    assert gated.dynamic_mw == pytest.approx(rep.dynamic_mw)
    # a program larger than one chip pays for every chip it occupies
    big = counters(ticks=10, batch=1, cores_powered=5000)
    assert power.power(big).static_cores == 8192
    with pytest.raises(ValidationError, match="power_gating"):
        dataclasses.replace(power.TRUENORTH, power_gating="rail")


def test_supply_voltage_scales_static_linearly_and_dynamic_quadratically():
    c = counters(ticks=10, batch=1, synaptic_events=1e6, cores_powered=3)
    ref = power.power(c)
    assert ref.supply_v == 0.8
    for v in (0.7, 0.9, 1.05):
        rep = power.power(c, supply_v=v)
        assert rep.static_mw == pytest.approx(ref.static_mw * v / 0.8)
        assert rep.dynamic_mw == pytest.approx(ref.dynamic_mw * (v / 0.8) ** 2)
    with pytest.raises(ValidationError, match="expected 0.7-1.05 V"):
        power.power(c, supply_v=1.2)
    with pytest.raises(ValidationError, match="no reference voltage"):
        power.power(c, "loihi", supply_v=0.9)


def test_power_rises_with_dose_at_fixed_activity():
    """Issue 16: leakage grows with total ionising dose, so at fixed activity power rises."""
    c = counters(ticks=10, batch=1, synaptic_events=1e5, cores_powered=3)
    doses = [0.0, 10.0, 30.0, 100.0, 1000.0]
    reps = [power.power_at_dose(c, d) for d in doses]
    p = [r.power_mw for r in reps]
    assert all(b > a for a, b in zip(p, p[1:]))
    assert all(r.dynamic_mw == pytest.approx(reps[0].dynamic_mw) for r in reps)
    # the sourced anchor: ×10^2.5 leakage at 1 Grad, linear in between (assumption)
    assert reps[3].leakage_factor == pytest.approx(1 + (10 ** 2.5 - 1) * 1e-4)
    assert reps[2].breakdown["leakage"] / reps[0].breakdown["leakage"] == pytest.approx(
        1 + (10 ** 2.5 - 1) * 30 / 1e6)
    assert power.checkpoint_power_mw(c, dose_krad=30.0) == pytest.approx(p[2])
    with pytest.raises(ValidationError, match="dose_krad"):
        power.power_at_dose(c, -1.0)


# ------------------------------------------------------------------ the model
# every component non-zero and only powered cores charged: exercises each term of the model
SPLIT = power.PowerProfile(name="split", static_mw_per_core=0.01, synaptic_event_pj=2.0,
                           neuron_update_idle_pj=5.0, neuron_update_active_pj=7.0, spike_pj=1.5,
                           hop_pj=2.3, power_gating="core", sources={})
GATED = dataclasses.replace(power.TRUENORTH, power_gating="core")


@pytest.mark.parametrize("profile", ["truenorth", "loihi", SPLIT])
def test_energy_linear_in_each_counter(profile):
    """E_d per inference = Σ e_k · n_k: adding Δ to one counter adds e_k·Δ, whatever else is."""
    prof = power.get_power_profile(profile)
    base = dict(spikes=50.0, synaptic_events=4000.0, hops=300.0, input_spikes=80.0)
    per_event_pj = {"spikes": prof.spike_pj, "input_spikes": prof.spike_pj, "hops": prof.hop_pj,
                    "synaptic_events": prof.synaptic_event_pj}
    e0 = power.power(counters(**base), prof).dynamic_energy_per_inference_uj
    for key, pj in per_event_pj.items():
        for delta in (10.0, 1000.0):
            changed = dict(base, **{key: base[key] + delta * 2})   # batch 2: Δ per inference
            e1 = power.power(counters(**changed), prof).dynamic_energy_per_inference_uj
            assert (e1 - e0) * 1e6 == pytest.approx(delta * pj, rel=1e-9), (key, delta)
    # static (cores gated): linear in powered cores and in enabled neurons (updates per tick)
    prof = dataclasses.replace(prof, power_gating="core")
    s = [power.power(counters(cores_powered=k, neurons=n), prof).static_mw
         for k, n in ((1, 100), (2, 100), (3, 100), (1, 300))]
    assert s[2] - s[1] == pytest.approx(s[1] - s[0]) == pytest.approx(prof.static_mw_per_core)
    assert s[3] - s[0] == pytest.approx(200 * prof.neuron_update_idle_pj * 1e-9 / 1e-3)


def test_loihi_active_neuron_updates():
    """Loihi charges 81 − 52 pJ more per update with input: A = min(S, U)."""
    c = counters(ticks=10, batch=1, synaptic_events=300.0, neurons=100)   # U = 1000, A = 300
    rep = power.power(c, "loihi")
    assert rep.dynamic_energy_per_inference_uj * 1e6 == pytest.approx(300 * (23.6 + 81 - 52))


def test_power_rate_and_energy_relations():
    c = counters(ticks=50, batch=4, spikes=400.0, synaptic_events=40000.0, hops=2000.0)
    rt = power.power(c, "truenorth")
    assert rt.realtime_rate_hz == pytest.approx(20.0)          # 50 ticks of 1 ms
    assert rt.inference_rate_hz == pytest.approx(20.0)
    slow = power.power(c, "truenorth", inference_rate_hz=5.0)
    assert slow.static_mw == pytest.approx(rt.static_mw)       # the chip ticks regardless
    assert slow.dynamic_mw == pytest.approx(rt.dynamic_mw / 4)
    assert slow.energy_per_inference_uj == pytest.approx(
        slow.dynamic_energy_per_inference_uj + slow.static_mw / 5.0 * 1e3)
    assert rt.energy_per_inference_uj == pytest.approx(rt.power_mw / 20.0 * 1e3)
    with pytest.raises(ValidationError, match="at most 20 Hz"):
        power.power(c, "truenorth", inference_rate_hz=25.0)


def test_no_input_spikes_draws_only_static_power():
    prog = small_program()
    x = np.zeros((3, 64), np.float32)
    res = simulate(prog, x, ticks=20)
    assert res.counters.spikes == 0 and res.counters.input_spikes == 0
    rep = power.power(res.counters, "truenorth")
    assert rep.dynamic_mw == 0 and rep.dynamic_energy_per_inference_uj == 0
    assert rep.power_mw == pytest.approx(rep.static_mw)
    assert rep.static_mw == pytest.approx(4096 * power.TRUENORTH.static_mw_per_core)
    split = power.power(res.counters, SPLIT)     # gated: 2 cores, 26 enabled neurons swept
    assert split.dynamic_mw == 0
    assert split.static_mw == pytest.approx(2 * 0.01 + 26 * 5.0 * 1e-6)
    # rate mode agrees, and inputs do cost something
    assert power.power(simulate(prog, x, ticks=20, mode="rate").counters).dynamic_mw == 0
    busy_c = simulate(prog, np.full((3, 64), 0.5, np.float32), ticks=20).counters
    busy = power.power(busy_c)
    assert busy.dynamic_mw > 0 and busy.breakdown["hops"] == 0     # hops folded into e_syn
    assert busy.static_mw == pytest.approx(rep.static_mw)
    assert power.power(busy_c, SPLIT).breakdown["hops"] > 0


def test_dead_cores_leak_on_a_whole_chip_and_draw_nothing_when_gated():
    """Issue 16 changes this test: a dead core of a powered chip still leaks (power_gating
    "none", TrueNorth's default); only a gated profile stops charging it."""
    prog = small_program()
    x = np.full((2, 64), 0.5, np.float32)
    healthy_c = simulate(prog, x, ticks=20).counters
    one = simulate(prog, x, ticks=20, faults=FaultState(dead_cores=[1])).counters
    both = simulate(prog, x, ticks=20, faults=FaultState(dead_cores=[0, 1])).counters
    assert one.cores_powered == 1 and both.cores_powered == 0
    chip = 4096 * power.TRUENORTH.static_mw_per_core
    for c in (healthy_c, one, both):
        assert power.power(c).breakdown["leakage"] == pytest.approx(chip)
    assert power.power(one).power_mw < power.power(healthy_c).power_mw   # fewer events
    rep = power.power(one, SPLIT)
    assert rep.breakdown["leakage"] == pytest.approx(0.01)
    assert rep.static_mw == pytest.approx(0.01 + 16 * 5.0 * 1e-6)
    assert rep.power_mw < power.power(healthy_c, SPLIT).power_mw
    none = power.power(both, SPLIT)
    assert none.static_mw == 0 and none.cores_powered == 0
    assert none.breakdown["hops"] == 0 and none.breakdown["neuron_updates"] == 0


def test_dead_chip_draws_nothing_but_its_input_spikes():
    prog = small_program()
    x = np.full((2, 64), 0.5, np.float32)
    c = simulate(prog, x, ticks=20, faults=FaultState(dead_cores=[0, 1])).counters
    rep = power.power(c, SPLIT)           # gated: the dead cores draw nothing
    assert rep.breakdown["synaptic_events"] == 0
    assert rep.power_mw == pytest.approx(rep.breakdown["spikes"])   # input spikes sent in


def test_checkpoint_power_with_latchup_and_mission_energy():
    c = counters(ticks=10, batch=1, synaptic_events=500.0, cores_powered=2)
    p0 = power.checkpoint_power_mw(c)
    p1 = power.checkpoint_power_mw(c, latched_cores=1)
    assert p1 - p0 == pytest.approx(power.LATCHUP_FACTOR * power.TRUENORTH.static_mw_per_core)
    assert power.checkpoint_power(c, latched_cores=1).static_mw == pytest.approx(
        (4096 + power.LATCHUP_FACTOR) * power.TRUENORTH.static_mw_per_core)
    assert power.checkpoint_power_mw(c, latched_cores=2, latchup_mw_per_core=5.0) \
        == pytest.approx(p0 + 10.0)
    assert power.checkpoint_power(c, latched_cores=1).breakdown["latchup"] > 0
    # 1 mW for a year = 8.766 Wh; a linear ramp 0 → 2 mW integrates to the same
    assert power.mission_energy_wh([0, 0.5, 1.0], [1.0, 1.0, 1.0]) == pytest.approx(8.766)
    assert power.mission_energy_wh([0, 1.0], [0.0, 2.0]) == pytest.approx(8.766)
    assert power.mission_energy_wh([0, 1.0], [1.0, 5.0], method="step") == pytest.approx(8.766)
    with pytest.raises(ValidationError):
        power.mission_energy_wh([0, 1], [1.0])
    with pytest.raises(ValidationError):
        power.mission_energy_wh([1, 0], [1.0, 1.0])


def test_budget_check():
    c = counters(ticks=100, batch=1, synaptic_events=1e6, cores_powered=10)
    rep = power.power(c, inference_rate_hz=2.0)
    e_mj = rep.dynamic_energy_per_inference_uj * 1e-3
    budget = rep.static_mw + 5 * e_mj                   # fits exactly 5 inferences/s
    ok = power.budget_check(rep, budget)
    assert ok["within_budget"] and ok["margin_mw"] == pytest.approx(3 * e_mj)
    assert ok["max_inference_rate_hz"] == pytest.approx(5.0)
    assert power.budget_check(rep, 1e6)["max_inference_rate_hz"] == pytest.approx(10.0)  # real time
    over = power.budget_check(rep, rep.static_mw / 2)
    assert not over["within_budget"] and over["margin_mw"] < 0
    assert over["max_inference_rate_hz"] == 0.0


# ------------------------------------------------------------------ profile files
def write(tmp_path, text, name="chip.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


GOOD = """name = "mychip"
static_mw_per_core = 0.01
synaptic_event_pj = {value = 3.0, source = "my measurement"}
neuron_update_idle_pj = 4
spike_pj = 1.0
hop_pj = 2.0
"""


def test_user_profile_from_toml(tmp_path):
    prof = power.get_power_profile(write(tmp_path, GOOD))
    assert prof.name == "mychip" and prof.synaptic_event_pj == 3.0
    assert prof.neuron_update_active_pj == 4.0                  # defaults to idle
    assert prof.sources["synaptic_event_pj"] == "my measurement"
    assert "chip.toml" in prof.sources["hop_pj"]
    c = counters(ticks=10, batch=1, synaptic_events=100.0, hops=10.0)
    assert power.power(c, prof).dynamic_energy_per_inference_uj * 1e6 == pytest.approx(320.0)
    assert prof.power_gating == "none" and prof.chip_cores == 4096       # whole chip by default
    assert power.power(c, prof).static_cores == 4096
    gated = power.get_power_profile(write(tmp_path, GOOD + 'power_gating = "core"\nchip_cores = 16'
                                          '\nreference_voltage_v = 0.9\n'
                                          'voltage_range_v = [0.8, 1.0]\n', "gated.toml"))
    assert gated.power_gating == "core" and gated.voltage_range_v == (0.8, 1.0)
    rep = power.power(c, gated, supply_v=1.0)
    assert rep.static_cores == 3
    assert rep.breakdown["leakage"] == pytest.approx(3 * 0.01 * 1.0 / 0.9)


@pytest.mark.parametrize("text, expected", [
    (GOOD.replace("hop_pj = 2.0", "hop_pj = -2.0"),
     "line 6: key 'hop_pj' is -2.0; expected a finite number ≥ 0"),
    (GOOD.replace("spike_pj = 1.0", 'spike_pj = "one"'), "line 5: key 'spike_pj' is 'one'; expected"),
    (GOOD.replace("hop_pj = 2.0", ""), "key 'hop_pj' is missing"),
    (GOOD + "hops_pj = 1\n", "line 7: key 'hops_pj' is unknown; expected one of"),
    (GOOD.replace("hop_pj = 2.0", "hop_pj = 2.0 pJ"), "line 6: not valid TOML"),
    (GOOD.replace('{value = 3.0, source = "my measurement"}', "{val = 3}"),
     "line 3: key 'synaptic_event_pj' is {'val': 3}; expected a number or"),
    (GOOD + 'power_gating = "rail"\n',
     "line 7: key 'power_gating' is 'rail'; expected one of none, core"),
    (GOOD + "voltage_range_v = [0.7, 1.0]\n",
     "line 7: key 'voltage_range_v' is [0.7, 1.0]; expected [low, high] volts"),
    (GOOD + "chip_cores = 0\n", "line 7: key 'chip_cores' is 0; expected an integer ≥ 1"),
])
def test_bad_profile_files(tmp_path, text, expected, capsys):
    path = write(tmp_path, text)
    with pytest.raises((InputFileError, ValidationError), match=re.escape(expected)):
        power.load_power_profile(path)
    prog = tmp_path / "p.npz"
    small_program().save(str(prog))
    code = main(["power", str(prog), "--profile", path, "--ticks", "4", "--limit", "2"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and path in err and "Traceback" not in err


def test_missing_profile_file_and_unknown_name(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        power.get_power_profile(str(tmp_path / "nope.toml"))
    with pytest.raises(ValidationError, match="expected one of loihi, truenorth"):
        power.get_power_profile("spinnaker")


# ------------------------------------------------------------------ CLI
def test_cli_power_on_a_program(tmp_path, capsys):
    prog = tmp_path / "p.npz"
    small_program().save(str(prog))
    code = main(["power", str(prog), "--dataset", "digits", "--limit", "20", "--ticks", "16",
                 "--budget-mw", "80", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("power_mw", "energy_per_inference_uj", "static_mw", "dynamic_mw", "breakdown",
                "cores_powered", "max_inference_rate_hz", "within_budget", "power_gating",
                "static_cores", "supply_v"):
        assert key in out
    assert out["cores_powered"] == 2 and out["inputs"] == 20
    # whole-chip accounting: 2 cores in use, the chip's 4,096 leak
    assert out["power_gating"] == "none" and out["static_cores"] == 4096
    assert out["budget_power_gating"] == "none"
    assert out["static_mw"] == pytest.approx(64.27, abs=0.01)
    assert out["within_budget"] is True and out["max_inference_rate_hz"] == pytest.approx(62.5)
    assert sum(out["breakdown"].values()) == pytest.approx(out["power_mw"])
    assert out["energy_per_inference_uj"] == pytest.approx(out["power_mw"] / 62.5 * 1e3)
    code = main(["power", str(prog), "--dataset", "digits", "--limit", "5", "--ticks", "16",
                 "--inference-rate", "100"])
    assert code == 2 and "at most 62.5 Hz" in capsys.readouterr().err
    # a budget below the chip's static power: over, nothing fits
    assert main(["power", str(prog), "--dataset", "digits", "--limit", "5", "--ticks", "16",
                 "--budget-mw", "0.05", "--json"]) == 0
    over = json.loads(capsys.readouterr().out)
    assert over["within_budget"] is False and over["max_inference_rate_hz"] == 0.0
    assert main(["power"]) == 2 and "PROGRAM is missing" in capsys.readouterr().err


def test_cli_power_names_the_program_when_its_dataset_is_unknown(tmp_path, capsys):
    prog = tmp_path / "p.npz"
    program = small_program()
    program.replace(meta=dict(program.meta, model={"dataset": "cifar"})).save(str(prog))
    assert main(["power", str(prog), "--limit", "2", "--ticks", "2"]) == 2
    assert capsys.readouterr().err == (
        f"neurosim power: error: {prog}: compiled for dataset 'cifar', not one of digits, mnist, "
        f"fashion-mnist, synthetic; expected --dataset DATASET\n")
    assert main(["power", str(prog), "--dataset", "digits", "--limit", "2", "--ticks", "2",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["inputs"] == 2


# slow (the calibration twice); in the default run, the same points, fit error and held-out error
# from the library: test_fit_reproduces_each_published_point_within_its_stated_error
@pytest.mark.slow
def test_cli_calibration_reports_each_point_the_fit_error_and_the_held_out_error(capsys):
    assert main(["power", "--calibration", "--ticks", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {r["id"] for r in out["points"]} >= {"akopyan_fig17_11hz", "akopyan_fig17_20hz",
                                                "akopyan_fig17_96hz", "akopyan_065mw",
                                                "merolla_072mw"}
    assert out["held_out"]["id"] == "merolla_072mw"
    assert out["held_out"]["within_tolerance"] is True
    assert out["fit_error"]["max_abs_error_mw"] <= 1.0
    assert out["power_gating"] == "none" and out["workload"]["ticks"] == 5
    assert main(["power", "--calibration", "--ticks", "5"]) == 0
    text = capsys.readouterr().out
    assert "held out merolla_072mw: -5.4" in text and "unused" in text
    assert main(["power", "--calibration", "--profile", "loihi"]) == 2
    assert "expected truenorth" in capsys.readouterr().err


def test_mission_power_does_not_fall_as_the_chip_ages():
    """GEO-like ageing at the power-model level: a core lost to TID at 30 krad (its events gone)
    still leaks on a powered chip, and the dose raises leakage, so the aged chip draws more than
    the new one; only cores isolated after a destructive latch-up lower it."""
    prog = small_program()
    x = np.full((2, 64), 0.5, np.float32)
    new = power.power(simulate(prog, x, ticks=20).counters)
    aged_c = simulate(prog, x, ticks=20, faults=FaultState(dead_cores=[1])).counters
    aged = power.power_at_dose(aged_c, 30.0)
    assert aged.power_mw > new.power_mw
    assert aged.dynamic_mw < new.dynamic_mw          # the activity did fall
    # ... unless cores are lost to destructive events: an isolated domain stops leaking
    burnt = power.power_at_dose(aged_c, 30.0, isolated_cores=64)
    assert burnt.power_mw < new.power_mw and burnt.static_cores == 4096 - 64
    with pytest.raises(ValidationError, match="isolated_cores is 5000"):
        power.power(aged_c, isolated_cores=5000)


def test_run_cli_supply_voltage(tmp_path):
    """The power command reads ``supply_v`` (the ``--supply-v`` flag): static power scales with
    V, and a supply outside the profile's range is refused."""
    import argparse
    from neurosim.cli import power as power_cli
    prog = tmp_path / "p.npz"
    small_program().save(str(prog))
    args = dict(program=str(prog), calibration=False, dataset="digits", data_dir=None, limit=4,
                inference_rate=None, ticks=8, mode="spiking", profile=None, budget_mw=None,
                json=True)
    ref = power_cli.run(argparse.Namespace(**args, supply_v=None))
    high = power_cli.run(argparse.Namespace(**args, supply_v=1.0))
    assert ref["supply_v"] == 0.8 and high["supply_v"] == 1.0
    assert high["static_mw"] == pytest.approx(ref["static_mw"] * 1.25)
    assert high["dynamic_mw"] == pytest.approx(ref["dynamic_mw"] * 1.5625)
    with pytest.raises(ValidationError, match="supply voltage is 1.3 V; expected 0.7-1.05 V"):
        power_cli.run(argparse.Namespace(**args, supply_v=1.3))
    with pytest.raises(ValidationError, match="--supply-v is -1"):
        power_cli.run(argparse.Namespace(**args, supply_v=-1.0))
