"""Writing a finished mission's results directory in the one results format
(:mod:`neurosim.mission.results` names the files, arrays and columns)."""
import csv
import io
import json
import os

import numpy as np

from neurosim import bounds, fileio
from neurosim.mission import scenario as scn
from neurosim.mission.provenance import provenance
from neurosim.mission.results import (CHECKPOINTS_FILE, POWER_COMPONENTS, PROGRAM_FILE,
                                      RUNS_FILE, SCENARIO_FILE, SUMMARY_FILE)
from neurosim.radiation.schedule import DAYS_PER_YEAR


def _pct(a, q):
    return np.percentile(a, q, axis=0)




def checkpoint_rows(times, m, req):
    """One dict per checkpoint (the checkpoints.csv columns) from the merged run arrays ``m``."""
    acc = m["accuracy"].astype(np.float64)
    reliable = acc >= req
    dead_total = m["dead_neurons"].sum(axis=2)
    viol = bound_violations(m)
    rows = []
    for k in range(len(times)):
        row = {
            "time_days": round(float(times[k]), 4), "time_years": round(float(times[k]) /
                                                                        DAYS_PER_YEAR, 5),
            "accuracy_p05": _pct(acc[:, k], 5), "accuracy_p50": _pct(acc[:, k], 50),
            "accuracy_p95": _pct(acc[:, k], 95), "accuracy_mean": acc[:, k].mean(),
            "reliability": reliable[:, k].mean(),
            "error_mean_p50": _pct(m["error_mean"][:, k], 50),
            "error_mean_p95": _pct(m["error_mean"][:, k], 95),
            "error_max_p50": _pct(m["error_max"][:, k], 50),
            "error_max_p95": _pct(m["error_max"][:, k], 95),
            "dead_neurons_mean": dead_total[:, k].mean(),
        }
        for g in range(m["dead_neurons"].shape[2]):
            row[f"dead_neurons_layer{g}_mean"] = m["dead_neurons"][:, k, g].mean()
        row.update({
            "dead_synapses_mean": m["dead_synapses"][:, k].sum(axis=1).mean(),
            "dead_cores_mean": m["dead_cores"][:, k].mean(),
            "spares_used_mean": m["spares_used"][:, k].mean(),
            "live_upsets_mean": m["live_upsets"][:, k].mean(),
            "upsets_mean": m["upsets"][:, k].mean(),
            "erf_mean": _finite_mean(m["erf"][:, k]),
            "fep_mean": _finite_mean(m["fep"][:, k]),
            "observed_error_mean": m["error_mean"][:, k].mean(),
            "observed_error_max": m["error_max"][:, k].max(),
            "bound_violations": int(viol[:, k].sum()),
            "power_mw_p05": _pct(m["power_mw"][:, k], 5), "power_mw_p50":
                _pct(m["power_mw"][:, k], 50), "power_mw_p95": _pct(m["power_mw"][:, k], 95),
        })
        if "power_breakdown_mw" in m:
            for j, comp in enumerate(POWER_COMPONENTS):
                row[f"power_{comp}_mw_mean"] = m["power_breakdown_mw"][:, k, j].mean(
                    dtype=np.float64)
        if "erf_units" in m:
            row["erf_units_mean"] = _finite_mean(m["erf_units"][:, k])
            row["fep_units_mean"] = _finite_mean(m["fep_units"][:, k])
        rows.append(row)
    return rows


def _finite_mean(a):
    """Mean of the finite values of ``a`` (NaN when there are none)."""
    a = np.asarray(a, np.float64)
    return float(np.mean(a[np.isfinite(a)])) if np.isfinite(a).any() else float("nan")


def bound_violations(m):
    """(R, K) bool: run-checkpoints whose mean observed error exceeds the chip-level Erf."""
    return (m["error_mean"] > m["erf"]) & np.isfinite(m["erf"])


def bound_comparison(model, m):
    """The chip-level bounds against the observed error of every run-checkpoint, like with like
    (:func:`neurosim.bounds.compare_checkpoints`: crash-only checkpoints binned by their dead
    counts per level); None when the program has no chip-level bound model."""
    if model.bound_model is None or "dead_per_level" not in m:
        return None
    counts = m["dead_per_level"]
    return bounds.compare_checkpoints(
        model.bound_model, counts.reshape(-1, counts.shape[-1]), m["error_mean"].ravel(),
        m["crash_only"].ravel(), error_max=m["error_max"].ravel())


def _csv_text(rows):
    """checkpoints.csv: a header and one line per row, floats with 6 significant digits."""
    header = list(rows[0])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([f"{x:.6g}" if isinstance(x, (float, np.floating)) else x
                    for x in row.values()])
    return buf.getvalue()


def write_outputs(scenario, model, m, out_dir, seconds, compute_s, n_tasks, workers, executor,
                  command_line=None, started=None):
    """Write every result file of a finished mission into ``out_dir`` (each atomically) from the
    merged run arrays ``m``; return the summary dict."""
    times = model.times_days
    K = len(times)
    R = m["accuracy"].shape[0]
    req = scenario["mission.accuracy_requirement"]
    acc = m["accuracy"].astype(np.float64)
    reliable = acc >= req
    dead_total = m["dead_neurons"].sum(axis=2)
    viol = bound_violations(m)
    os.makedirs(out_dir, exist_ok=True)
    fileio.write_text(os.path.join(out_dir, CHECKPOINTS_FILE),
                      _csv_text(checkpoint_rows(times, m, req)))
    arrays = {k: v for k, v in m.items()}
    arrays["time_days"] = times
    if model.core_spikes is not None:
        arrays["core_spikes"] = model.core_spikes
    arrays["power_components"] = np.array(POWER_COMPONENTS)
    fileio.save_npz(os.path.join(out_dir, RUNS_FILE), **arrays)
    resolved = os.path.join(out_dir, SCENARIO_FILE)
    scn.write_resolved(scenario, resolved)
    model.program.save(os.path.join(out_dir, PROGRAM_FILE))
    bp = model.base_power
    breakdown_final = ({c: float(m["power_breakdown_mw"][:, -1, j].mean(dtype=np.float64))
                        for j, c in enumerate(POWER_COMPONENTS)}
                       if "power_breakdown_mw" in m else None)
    evaluated = int(m["evaluated"].sum())
    summary = {
        "scenario": scenario.name, "scenario_file": scenario.path, "out_dir": out_dir,
        "runs": int(R), "checkpoints": int(K),
        "duration_years": float(scenario["mission.duration_years"]),
        "accuracy_requirement": float(req), "baseline_accuracy": model.base_accuracy,
        "final_accuracy_p50": float(_pct(acc[:, -1], 50)),
        "final_accuracy_p05": float(_pct(acc[:, -1], 5)),
        "final_accuracy_mean": float(acc[:, -1].mean()),
        "reliability_final": float(reliable[:, -1].mean()),
        "reliability_whole_mission": float(reliable.all(axis=1).mean()),
        "dead_neurons_final_mean": float(dead_total[:, -1].mean()),
        "dead_neurons_final_per_layer_mean": m["dead_neurons"][:, -1].mean(axis=0).tolist(),
        "dead_cores_final_mean": float(m["dead_cores"][:, -1].mean()),
        "availability_mean": float(m["availability"].mean()) if "availability" in m else None,
        "availability_p05": float(_pct(m["availability"], 5)) if "availability" in m else None,
        "isolated_cores_final_mean": float(m["isolated_cores"][:, -1].mean())
        if "isolated_cores" in m else None,
        "power_cycles_mean": float(m["power_cycles"][:, -1].mean())
        if "power_cycles" in m else None,
        "upsets_total_mean": float(m["upsets"].sum(axis=1).mean()),
        "live_upsets_mean": float(m["live_upsets"].mean()),
        "solar_events_mean": float(m["solar_events"].mean()),
        "error_mean_final_mean": float(m["error_mean"][:, -1].mean()),
        "erf_final_mean": float(np.nanmean(m["erf"][:, -1])) if np.isfinite(m["erf"]).any()
        else None,
        "fep_final_mean": float(np.nanmean(m["fep"][:, -1])) if np.isfinite(m["fep"]).any()
        else None,
        "bound_violations": int(viol.sum()),
        "bound_violations_crash_only": int((viol & m["crash_only"]).sum()),
        "bounds": bound_comparison(model, m),
        "erf_units_final_mean": _finite_mean(m["erf_units"][:, -1]) if "erf_units" in m
        else None,
        "checkpoints_crash_only": int(m["crash_only"].sum()),
        "power_mw_initial": float(model.base_power_mw),
        "power_mw_final_mean": float(m["power_mw"][:, -1].mean()),
        "power_breakdown_initial": {c: float(bp.breakdown[c]) for c in POWER_COMPONENTS}
        if bp is not None else None,
        "power_breakdown_final": breakdown_final,
        "energy_per_inference_uj": float(bp.energy_per_inference_uj) if bp is not None
        else None,
        "energy_per_inference_uj_final_mean": float(m["power_mw"][:, -1].mean(
            dtype=np.float64) / bp.inference_rate_hz * 1e3) if bp is not None else None,
        "inference_rate_hz": float(bp.inference_rate_hz) if bp is not None else None,
        "model": scenario["run.model"], "chip": model.program.profile.name,
        "cores": int(model.program.n_cores),
        "mission_energy_wh_mean": float(m["energy_wh"].mean()),
        "power_profile": model.power_profile,
        "checkpoint_evaluations": int(R * K), "evaluations_computed": evaluated,
        "checkpoint_evals_per_s": float(R * K / compute_s) if compute_s > 0 and n_tasks
        else None,
        "approximated_feedback_routes": int(m["approximated"][0]),
        "executor": executor, "workers": int(workers), "mode": scenario["run.mode"],
        "eval_inputs": int(len(model.x)), "seconds": float(seconds),
        "provenance": provenance(scenario, model, resolved, command_line, started),
    }
    fileio.write_text(os.path.join(out_dir, SUMMARY_FILE),
                      json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary
