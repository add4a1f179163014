"""Power model: calibration point, linearity, static-only idle, dead cores, profiles, budget, CLI."""
import json

import numpy as np
import pytest

from neurosim import power
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


def test_calibration_point_full_chip(calibration):
    """Merolla et al. 2014: 72 mW ± 10 % and 26 pJ per synaptic event all-in, from a simulated
    full-chip workload (4,096 cores, 20 Hz, 128 synapses per neuron)."""
    c = calibration
    assert c["cores_powered"] == 4096
    assert c["mean_rate_hz"] == pytest.approx(20.0)
    assert c["synaptic_events_per_spike"] == pytest.approx(128, rel=0.02)
    assert c["power_mw"] == pytest.approx(72.0, rel=0.10)
    assert c["pj_per_synaptic_event"] == pytest.approx(26.0, rel=0.10)
    # all-in: P = pJ × event rate, nothing added on top
    events_per_s = c["power_mw"] * 1e-3 / (c["pj_per_synaptic_event"] * 1e-12)
    assert events_per_s == pytest.approx(2 ** 20 * 20 * 128, rel=0.02)
    assert sum(c["breakdown"].values()) == pytest.approx(c["power_mw"])
    assert c["static_mw"] + c["dynamic_mw"] == pytest.approx(c["power_mw"])


def test_truenorth_constants_solve_the_nominal_point_exactly():
    """At the nominal operating point (21.3 hops per axis) the model gives exactly 72 mW."""
    n = 2 ** 20
    spikes = n * 20.0
    nominal = counters(ticks=1000, batch=1, spikes=spikes, synaptic_events=spikes * 128,
                       neuron_updates=n * 1000, hops=spikes * 2 * 4095 / 192,
                       cores_powered=4096)
    rep = power.power(nominal, "truenorth")
    assert rep.power_mw == pytest.approx(72.0, rel=1e-12)
    assert rep.power_mw * 1e-3 / (spikes * 128) * 1e12 == pytest.approx(26.82, abs=0.01)
    # the assumed split, stated in the README: 63.2 mW static, 8.8 mW dynamic
    assert rep.static_mw == pytest.approx(63.2, abs=0.05)
    assert power.TRUENORTH.static_mw_per_core * 1e3 == pytest.approx(14.0, abs=0.05)
    # changing an assumption re-solves the static power, still 72 mW in total
    alt = power.truenorth_profile(marginal_synaptic_event_pj=10.0)
    assert power.power(nominal, alt).power_mw == pytest.approx(72.0, rel=1e-12)
    assert alt.static_mw_per_core < power.TRUENORTH.static_mw_per_core
    with pytest.raises(ValidationError, match="at most 72"):
        power.truenorth_profile(marginal_synaptic_event_pj=30.0)


def test_every_constant_has_a_source():
    for prof in power.POWER_PROFILES.values():
        for key in power.PowerProfile.CONSTANTS:
            assert prof.sources.get(key), (prof.name, key)
    assert "pre-silicon" in power.LOIHI.sources["synaptic_event_pj"]


# ------------------------------------------------------------------ the model
@pytest.mark.parametrize("profile", ["truenorth", "loihi"])
def test_energy_linear_in_each_counter(profile):
    """E_d per inference = Σ e_k · n_k: adding Δ to one counter adds e_k·Δ, whatever else is."""
    prof = power.get_power_profile(profile)
    base = dict(spikes=50.0, synaptic_events=4000.0, hops=300.0, input_spikes=80.0)
    per_event_pj = {"spikes": prof.spike_pj, "input_spikes": prof.spike_pj, "hops": prof.hop_pj,
                    "synaptic_events": prof.synaptic_event_pj}
    if profile == "loihi":   # active updates = min(S, U) stay = U while S ≥ U
        per_event_pj["synaptic_events"] = prof.synaptic_event_pj
    e0 = power.power(counters(**base), prof).dynamic_energy_per_inference_uj
    for key, pj in per_event_pj.items():
        for delta in (10.0, 1000.0):
            changed = dict(base, **{key: base[key] + delta * 2})   # batch 2: Δ per inference
            e1 = power.power(counters(**changed), prof).dynamic_energy_per_inference_uj
            assert (e1 - e0) * 1e6 == pytest.approx(delta * pj, rel=1e-9), (key, delta)
    # static: linear in powered cores and in enabled neurons (neuron updates per tick)
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
    assert rep.static_mw == pytest.approx(2 * power.TRUENORTH.static_mw_per_core
                                          + 26 * power.TRUENORTH.neuron_update_idle_pj * 1e-6)
    # rate mode agrees, and inputs do cost something
    assert power.power(simulate(prog, x, ticks=20, mode="rate").counters).dynamic_mw == 0
    busy = power.power(simulate(prog, np.full((3, 64), 0.5, np.float32), ticks=20).counters)
    assert busy.dynamic_mw > 0 and busy.breakdown["hops"] > 0
    assert busy.static_mw == pytest.approx(rep.static_mw)


def test_dead_cores_draw_nothing():
    prog = small_program()
    x = np.full((2, 64), 0.5, np.float32)
    healthy = power.power(simulate(prog, x, ticks=20).counters)
    one = simulate(prog, x, ticks=20, faults=FaultState(dead_cores=[1])).counters
    assert one.cores_powered == 1
    rep = power.power(one)
    assert rep.breakdown["leakage"] == pytest.approx(power.TRUENORTH.static_mw_per_core)
    assert rep.static_mw == pytest.approx(power.TRUENORTH.static_mw_per_core
                                          + 16 * power.TRUENORTH.neuron_update_idle_pj * 1e-6)
    assert rep.power_mw < healthy.power_mw
    none = power.power(simulate(prog, x, ticks=20, faults=FaultState(dead_cores=[0, 1])).counters)
    assert none.static_mw == 0 and none.cores_powered == 0
    assert none.breakdown["hops"] == 0 and none.breakdown["neuron_updates"] == 0


def test_dead_chip_draws_nothing_but_its_input_spikes():
    prog = small_program()
    x = np.full((2, 64), 0.5, np.float32)
    c = simulate(prog, x, ticks=20, faults=FaultState(dead_cores=[0, 1])).counters
    rep = power.power(c)
    assert rep.breakdown["synaptic_events"] == 0
    assert rep.power_mw == pytest.approx(rep.breakdown["spikes"])   # input spikes sent in


def test_checkpoint_power_with_latchup_and_mission_energy():
    c = counters(ticks=10, batch=1, synaptic_events=500.0, cores_powered=2)
    p0 = power.checkpoint_power_mw(c)
    p1 = power.checkpoint_power_mw(c, latched_cores=1)
    assert p1 - p0 == pytest.approx(power.LATCHUP_FACTOR * power.TRUENORTH.static_mw_per_core)
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


@pytest.mark.parametrize("text, expected", [
    (GOOD.replace("hop_pj = 2.0", "hop_pj = -2.0"),
     "line 6: key 'hop_pj' is -2.0; expected a finite number ≥ 0"),
    (GOOD.replace("spike_pj = 1.0", 'spike_pj = "one"'), "line 5: key 'spike_pj' is 'one'; expected"),
    (GOOD.replace("hop_pj = 2.0", ""), "key 'hop_pj' is missing"),
    (GOOD + "hops_pj = 1\n", "line 7: key 'hops_pj' is unknown; expected one of"),
    (GOOD.replace("hop_pj = 2.0", "hop_pj = 2.0 pJ"), "line 6: not valid TOML"),
    (GOOD.replace('{value = 3.0, source = "my measurement"}', "{val = 3}"),
     "line 3: key 'synaptic_event_pj' is {'val': 3}; expected a number or"),
])
def test_bad_profile_files(tmp_path, text, expected, capsys):
    path = write(tmp_path, text)
    with pytest.raises((InputFileError, ValidationError), match=expected.replace("{", "\\{")
                       .replace("}", "\\}").replace("(", "\\(")):
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
                 "--budget-mw", "0.05", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("power_mw", "energy_per_inference_uj", "static_mw", "dynamic_mw", "breakdown",
                "cores_powered", "max_inference_rate_hz", "within_budget"):
        assert key in out
    assert out["cores_powered"] == 2 and out["inputs"] == 20
    assert out["within_budget"] is True and out["max_inference_rate_hz"] == pytest.approx(62.5)
    assert sum(out["breakdown"].values()) == pytest.approx(out["power_mw"])
    assert out["energy_per_inference_uj"] == pytest.approx(out["power_mw"] / 62.5 * 1e3)
    code = main(["power", str(prog), "--dataset", "digits", "--limit", "5", "--ticks", "16",
                 "--inference-rate", "100"])
    assert code == 2 and "at most 62.5 Hz" in capsys.readouterr().err
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
