"""Dose and latch-up in a mission (power rises with dose, availability recorded) and sensitivity
sweeps (neurosim.mission.sweep): grid parsing and a tiny real sweep whose headline moves the way
the swept parameter says it must."""
import csv
import os

import numpy as np
import pytest

from neurosim.errors import ValidationError
from neurosim.mission import run_mission, sweep
from neurosim.mission import scenario as scn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TINY = f"""
[mission]
duration_years = 1.0
checkpoint_interval_days = 182.625
accuracy_requirement = 0.5

[environment]
preset = "geo"

[dose]
dose_rate_rad_per_year = 1000.0
die_log_sd = 0.0
core_log_sd = 0.01
source = "test: failure doses made sharp so that the sweep crosses the median"

[latchup]
recoverable_fraction = 1.0
destructive_fraction = 0.0
latent_fraction = 0.0
latent_stuck_bits = 0
source = "test"

[synapses]
stuck_rate_per_bit_year = 0.0
source = "test"

[run]
model = "{ROOT}/models/digits_dense.npz"
compile = {{ calibration_samples = 200, anneal = false }}
runs = 2
eval_inputs = 40
"""


def test_parse_grid_names_the_key_and_refuses_bad_input():
    assert sweep.parse_grid("dose.dose_rate_rad_per_year=1000,1500") == (
        "dose.dose_rate_rad_per_year", [1000.0, 1500.0])
    assert sweep.parse_grid("dose_rate=2000") == ("dose.dose_rate_rad_per_year", [2000.0])
    with pytest.raises(ValidationError, match="expected KEY=V1,V2"):
        sweep.parse_grid("dose_rate")
    with pytest.raises(ValidationError, match="values 'a,b'; expected numbers"):
        sweep.parse_grid("dose_rate=a,b")
    with pytest.raises(ValidationError, match="matches no scenario key"):
        sweep.parse_grid("warp_factor=9")


def test_sweep_over_the_dose_rate_kills_cores_past_the_failure_dose(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    # failure dose 35 krad (σ 0.01): 1 year at 20 krad/yr keeps every core, at 60 krad/yr none
    out = sweep.sweep(str(path), "dose.dose_rate_rad_per_year", [20000.0, 60000.0],
                      str(tmp_path / "sweep"), workers=1)
    low, high = out["rows"]
    assert low["dead_cores_final_mean"] == 0
    assert high["dead_cores_final_mean"] > 0
    assert high["final_accuracy_p50"] < low["final_accuracy_p50"]
    with open(out["csv"]) as f:
        rows = list(csv.DictReader(f))
    assert [float(r["dose.dose_rate_rad_per_year"]) for r in rows] == [20000.0, 60000.0]
    assert open(out["figure"], "rb").read(4) == b"\x89PNG"
    # a bad grid value is refused before any mission runs
    with pytest.raises(Exception, match="dose_rate_rad_per_year = -1.0"):
        sweep.sweep(str(path), "dose.dose_rate_rad_per_year", [1000.0, -1.0],
                    str(tmp_path / "bad"))
    assert not (tmp_path / "bad" / "dose.dose_rate_rad_per_year=1000").exists()


def test_mission_power_rises_with_dose_and_availability_is_recorded(tmp_path):
    path = tmp_path / "tiny.toml"
    # 30 krad in a year, below the 35 krad failure dose: no core is lost, leakage grows
    path.write_text(TINY.replace("dose_rate_rad_per_year = 1000.0",
                                 "dose_rate_rad_per_year = 30000.0"))
    summary = run_mission(scn.load(str(path)), out_dir=str(tmp_path / "out"), workers=1,
                          progress=False)
    with np.load(tmp_path / "out" / "runs.npz") as runs:
        power, dead = runs["power_mw"], runs["dead_cores"]
        availability = runs["availability"]
    assert dead.max() == 0
    # static power × L(D): +315·D/10^6 at D krad, so +0.47 % at 15 krad and +0.95 % at 30 krad
    assert np.all(np.diff(power, axis=1) > 0)
    assert power[:, -1].mean() / summary["power_mw_initial"] == pytest.approx(1.0095, abs=0.002)
    assert availability.shape == (2,) and np.all((availability > 0.999) & (availability <= 1))
    assert summary["availability_mean"] == pytest.approx(availability.mean())


def test_cli_sweep_refuses_a_bad_grid_with_exit_2(tmp_path, capsys):
    from neurosim.cli import main
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    assert main(["mission", str(path), "--sweep", "dose_rate", "--out",
                 str(tmp_path / "s"), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("neurosim mission: error: --sweep 'dose_rate': expected KEY=V1,V2")
    assert not (tmp_path / "s").exists()
