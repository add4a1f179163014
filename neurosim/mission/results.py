"""The one results format of a mission: names, the writer, the reader and the headline.

A results directory (written by :func:`write_outputs` at the end of ``neurosim mission``) holds:

- ``summary.json``    the run's headline numbers, the bound comparison (``bounds``), provenance;
- ``checkpoints.csv`` one row per checkpoint (mission time, accuracy percentiles, reliability,
  error percentiles, fault counts by kind, Erf/Fep/observed error, power …);
- ``runs.npz``        per run × checkpoint arrays (:func:`empty_results`; per-core arrays for heat
  maps; ``dead_per_level`` per run × checkpoint × bound-model level);
- ``scenario.resolved.toml`` the scenario with every default filled in;
- ``program.npz``     the compiled program (the report reads only its small fields).

:class:`MissionResults` reads a directory back; :func:`headline` computes the numbers the terminal
table and the report both show; :meth:`MissionResults.to_dataframe` gives one row per run ×
checkpoint. The reader is lenient on purpose: a quantity that is absent is ``None`` — the report
then shows a "not recorded" placeholder for that piece instead of failing (results directories of
older versions). Only a directory without ``summary.json`` *and* without ``checkpoints.csv`` is an
error.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import tomllib

import numpy as np

from neurosim import bounds, fileio
from neurosim.chip.profile import get_profile
from neurosim.errors import InputFileError, ValidationError
from neurosim.mission import scenario as scn
from neurosim.mission.provenance import provenance
from neurosim.radiation.timeline import DAYS_PER_YEAR

# ---------------------------------------------------------------------- names
SUMMARY_FILE = "summary.json"
CHECKPOINTS_FILE = "checkpoints.csv"
RUNS_FILE = "runs.npz"
SCENARIO_FILE = "scenario.resolved.toml"
PROGRAM_FILE = "program.npz"
REPORT_FILE = "report.html"
RESULT_FILES = (SUMMARY_FILE, CHECKPOINTS_FILE, RUNS_FILE, SCENARIO_FILE, PROGRAM_FILE,
                REPORT_FILE)
POWER_COMPONENTS = ("leakage", "neuron_updates", "synaptic_events", "spikes", "hops", "latchup")
# per run × checkpoint arrays of runs.npz, one row per run × checkpoint in to_dataframe()
RUN_CHECKPOINT_ARRAYS = ("accuracy", "error_mean", "error_max", "erf", "fep", "erf_units",
                         "fep_units", "crash_only", "power_mw", "evaluated", "dead_cores",
                         "live_upsets", "upsets", "spares_used", "latched_cores")
RELIABILITY_GOOD = 0.9   # a final reliability at or above this is shown as good (assumption:
                         # the report's colour threshold, not a requirement of any mission)
Z95 = 1.959963984540054  # the standard normal's 97.5 % quantile: a two-sided 95 % interval


def empty_results(R, K, G, C, L=0, start=0):
    """The per-run result arrays of :func:`neurosim.mission.evaluate.run_batch` for runs
    start..start+R−1 (R runs, K checkpoints, G MLP layers, C cores, L bound-model levels), zeroed
    (bounds NaN)."""
    P = len(POWER_COMPONENTS)
    return {
        "accuracy": np.zeros((R, K), np.float32),
        "error_mean": np.zeros((R, K), np.float32), "error_max": np.zeros((R, K), np.float32),
        "dead_neurons": np.zeros((R, K, G), np.int32),
        "dead_synapses": np.zeros((R, K, G), np.int32),
        "dead_per_level": np.zeros((R, K, L), np.int32),
        "dead_cores": np.zeros((R, K), np.int16), "live_upsets": np.zeros((R, K), np.int32),
        "upsets": np.zeros((R, K), np.int32), "spares_used": np.zeros((R, K), np.int16),
        "latched_cores": np.zeros((R, K), np.int16), "erf": np.full((R, K), np.nan),
        "fep": np.full((R, K), np.nan), "erf_units": np.full((R, K), np.nan),
        "fep_units": np.full((R, K), np.nan), "crash_only": np.zeros((R, K), bool),
        "power_mw": np.zeros((R, K), np.float32), "evaluated": np.zeros((R, K), bool),
        "power_breakdown_mw": np.zeros((R, K, P), np.float32),
        "core_dead_neurons": np.zeros((R, K, C), np.int16),
        "energy_wh": np.zeros(R), "solar_events": np.zeros(R, np.int32),
        "run_index": np.arange(start, start + R),
    }


def percentile_column(base, p):
    """Name of the checkpoints.csv column of percentile ``p`` of ``base``: accuracy_p05."""
    return f"{base}_p{p:02d}"


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




def _norm(name):
    """Normalise a column name for lookup: lower case, '_p05' ≡ '_p5', separators dropped."""
    n = name.strip().lower()
    n = re.sub(r"p0+(\d)", r"p\1", n)
    return re.sub(r"[^a-z0-9]", "", n)


def _num(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


class MissionResults:
    """One mission's saved results. Attributes: ``path``, ``summary`` (dict), ``columns`` (dict of
    column name → float array, in file order), ``runs`` (dict of name → array), ``scenario``
    (parsed dict or {}), ``scenario_text`` and ``scenario_file`` (or None)."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        if not os.path.isdir(self.path):
            raise InputFileError(f"{path}: not a directory; expected a mission results directory "
                                 f"(with summary.json and checkpoints.csv)")
        summary_path = os.path.join(self.path, "summary.json")
        csv_path = os.path.join(self.path, "checkpoints.csv")
        if not os.path.exists(summary_path) and not os.path.exists(csv_path):
            raise InputFileError(f"{path}: no summary.json or checkpoints.csv; expected the output "
                                 f"directory of `neurosim mission`")
        self.summary = {}
        if os.path.exists(summary_path):
            try:
                with open(summary_path, encoding="utf-8") as f:
                    self.summary = json.load(f)
            except (OSError, ValueError) as e:
                raise InputFileError(f"{summary_path}: unreadable JSON ({e})") from None
            if not isinstance(self.summary, dict):
                raise InputFileError(f"{summary_path}: expected a JSON object")
        self.columns = {}
        self.text_columns = {}
        if os.path.exists(csv_path):
            self._read_csv(csv_path)
        self.runs = {}
        runs_path = os.path.join(self.path, "runs.npz")
        if os.path.exists(runs_path):
            try:
                with np.load(runs_path, allow_pickle=False) as z:
                    self.runs = {k: z[k] for k in z.files}
            except (OSError, ValueError) as e:
                raise InputFileError(f"{runs_path}: unreadable npz ({e})") from None
        self.scenario, self.scenario_text, self.scenario_file = {}, None, None
        self._read_scenario()
        self._index = {}
        n = self.n_checkpoints()
        for k in self.columns:
            self._index.setdefault(_norm(k), []).append((self.columns, k))
        for k, a in self.runs.items():     # 1-D per-checkpoint arrays only
            if np.ndim(a) == 1 and len(a) == n and np.asarray(a).dtype.kind in "fiub":
                self._index.setdefault(_norm(k), []).append((self.runs, k))
        self.program_info = self._read_program()

    def n_runs(self):
        """Number of Monte Carlo runs: summary.json 'runs', else the rows of runs.npz accuracy,
        else the scenario's [run] runs; None if not recorded."""
        n = self.s("runs")
        if n is None:
            a = self.run_array("accuracy")
            n = a.shape[0] if a is not None else self.sc("run.runs", "run.monte_carlo_runs")
        try:
            return int(n) if n is not None else None
        except (TypeError, ValueError):
            return None

    def n_checkpoints(self):
        if self.columns:
            return len(next(iter(self.columns.values())))
        a = self.runs.get("accuracy")
        return a.shape[-1] if a is not None and np.ndim(a) == 2 else 0

    def _read_program(self):
        """Small fields of program.npz: {core_xy, profile, grid_shape, meta, neurons_per_core};
        {} when there is no (readable) program."""
        path = os.path.join(self.path, "program.npz")
        if not os.path.exists(path):
            return {}
        info = {}
        try:
            with np.load(path, allow_pickle=False) as z:
                if "core_xy" in z.files:
                    info["core_xy"] = np.asarray(z["core_xy"])
                if "profile" in z.files:
                    info["profile"] = str(z["profile"])
                if "meta_json" in z.files:
                    info["meta"] = json.loads(str(z["meta_json"]))
                if "enabled" in z.files:
                    info["neurons_per_core"] = np.asarray(z["enabled"]).sum(axis=1)
        except (OSError, ValueError, KeyError):
            return {}
        if "profile" in info:
            try:
                prof = get_profile(info["profile"])
                info["grid_shape"] = (prof.grid_rows, prof.grid_cols)
            except ValidationError:   # a profile this version does not know: no grid shape
                pass
        return info

    def compile_report(self):
        """The compiler's report: summary.json 'compile' or program.npz meta['compiler']."""
        c = self.s("compile", "compile_report")
        if isinstance(c, dict):
            return c
        c = self.program_info.get("meta", {}).get("compiler")
        return c if isinstance(c, dict) else None

    def model(self):
        m = self.s("model", "model_path", "run.model")
        if isinstance(m, dict):
            m = m.get("name") or m.get("path")
        return m or self.sc("run.model")

    def chip(self):
        c = self.s("chip", "profile", "chip_profile")
        if isinstance(c, dict):
            c = c.get("name")
        return c or self.sc("run.profile", "run.chip") or self.program_info.get("profile")

    def baseline_accuracy(self):
        v = self.s("baseline_accuracy", "fault_free_accuracy", "accuracy_fault_free")
        return float(v) if v is not None else None

    # ------------------------------------------------------------------ reading
    def _read_csv(self, csv_path):
        try:
            with open(csv_path, newline="", encoding="utf-8") as f:
                rows = list(csv.reader(f))
        except OSError as e:
            raise InputFileError(f"{csv_path}: unreadable ({e})") from None
        rows = [r for r in rows if r and not r[0].startswith("#")]
        if not rows:
            return
        header, body = rows[0], rows[1:]
        for j, name in enumerate(header):
            values = [r[j] if j < len(r) else "" for r in body]
            nums = np.array([_num(v) for v in values], dtype=float)
            if len(values) and np.all(np.isnan(nums)) and any(v.strip() for v in values):
                self.text_columns[name] = values
            else:
                self.columns[name] = nums

    def _read_scenario(self):
        names = ["scenario.resolved.toml", "scenario.toml", "scenario_resolved.toml",
                 "resolved_scenario.toml",
                 "resolved.toml"]
        found = [n for n in names if os.path.exists(os.path.join(self.path, n))]
        if not found:
            found = sorted(n for n in os.listdir(self.path) if n.endswith(".toml"))
        if found:
            self.scenario_file = os.path.join(self.path, found[0])
            with open(self.scenario_file, "rb") as f:
                raw = f.read()
            self.scenario_text = raw.decode("utf-8", "replace")
            try:
                self.scenario = tomllib.loads(self.scenario_text)
            except tomllib.TOMLDecodeError:
                self.scenario = {}
        elif isinstance(self.summary.get("scenario"), dict):
            self.scenario = self.summary["scenario"]

    # ------------------------------------------------------------------ lookup
    def get(self, *names):
        """The first of ``names`` present as a checkpoint column or a runs.npz array (matching
        case-insensitively, '_p05' ≡ '_p5'), as a float array; None if none is present."""
        for name in names:
            for source, key in self._index.get(_norm(name), []):
                try:
                    return np.asarray(source[key], dtype=float)
                except (TypeError, ValueError):
                    continue
        return None

    def column_names(self):
        return list(self.columns)

    def find(self, pattern):
        """Checkpoint columns whose name matches the regex ``pattern`` (case-insensitive)."""
        rx = re.compile(pattern, re.I)
        return [k for k in self.columns if rx.search(k)]

    def s(self, *keys, default=None):
        """A value from summary.json by one of several dotted paths ('power.final_mw')."""
        return _lookup(self.summary, keys, default)

    def sc(self, *keys, default=None):
        """A value from the resolved scenario by one of several dotted paths
        ('mission.duration_years')."""
        return _lookup(self.scenario, keys, default)

    # ------------------------------------------------------------------ derived quantities
    @property
    def name(self):
        sc = self.summary.get("scenario")
        if isinstance(sc, str) and sc:
            return sc
        return (self.s("scenario_name", "scenario.name", "name")
                or self.sc("mission.name", "name")
                or os.path.basename(self.path.rstrip(os.sep)))

    def times(self):
        """Mission time of each checkpoint in years (None if not recorded)."""
        t = self.get("time_years", "t_years", "mission_time_years", "years", "time")
        if t is None:
            t_days = self.get("time_days", "t_days", "days")
            if t_days is not None:
                t = t_days / 365.25
        if t is None:
            t_months = self.get("time_months", "month", "months")
            if t_months is not None:
                t = t_months / 12.0
        if t is None and self.columns:
            n = len(next(iter(self.columns.values())))
            dur = self.duration_years()
            if dur and n > 1:
                t = np.linspace(0.0, dur, n)
        return t

    def duration_years(self):
        v = self.s("duration_years", "mission.duration_years")
        if v is None:
            v = self.sc("mission.duration_years", "duration_years")
        return float(v) if v is not None else None

    def requirement(self):
        v = self.s("accuracy_requirement", "requirement", "mission.accuracy_requirement",
                   "required_accuracy")
        if v is None:
            v = self.sc("mission.accuracy_requirement", "mission.requirement",
                        "mission.required_accuracy", "mission.min_accuracy")
        try:
            return float(v) if v is not None else None
        except (TypeError, ValueError):
            return None

    def budget_mw(self):
        v = self.s("budget_mw", "power.budget_mw", "power_budget_mw")
        if v is None:
            v = self.sc("run.power_budget_mw", "mission.power_budget_mw", "power.budget_mw",
                        "mission.budget_mw", "run.budget_mw", "budget_mw")
        try:
            return float(v) if v is not None else None
        except (TypeError, ValueError):
            return None

    def percentile_series(self, base):
        """(p5, p50, p95) arrays of ``base`` (e.g. 'accuracy'); missing ones are None. Falls back
        to computing them from a runs.npz array (runs × checkpoints) of that name."""
        def col(p):
            return self.get(f"{base}_p{p:02d}", f"{base}_p{p}", f"{base}_{p}",
                            f"{base}_q{p:02d}", f"p{p:02d}_{base}", f"{base}_pct{p}")
        lo, mid, hi = col(5), col(50), col(95)
        if mid is None:
            mid = self.get(f"{base}_median")
        arr = self.run_array(base)
        if arr is not None and (lo is None or mid is None or hi is None):
            q = np.nanpercentile(arr, [5, 50, 95], axis=0)
            lo = q[0] if lo is None else lo
            mid = q[1] if mid is None else mid
            hi = q[2] if hi is None else hi
        return lo, mid, hi

    def run_array(self, *names):
        """A 2-D runs × checkpoints array from runs.npz, or None."""
        for name in names:
            for key in self.runs:
                if _norm(key) == _norm(name):
                    a = np.asarray(self.runs[key])
                    if a.ndim == 2 and a.dtype.kind in "fiub":
                        return a.astype(float)
        return None

    def scenario_hash(self):
        """The scenario hash recorded by the runner, else sha256 of the saved resolved scenario."""
        h = self.s("scenario_hash", "provenance.scenario_hash", "provenance.scenario_sha256")
        if h:
            return str(h), "recorded"
        if self.scenario_text is not None:
            return hashlib.sha256(self.scenario_text.encode()).hexdigest(), "computed from " + \
                os.path.basename(self.scenario_file)
        return None, None


def _lookup(tree, keys, default):
    """The first of the dotted paths ``keys`` that exists in the nested dict ``tree`` and is not
    None, else ``default``."""
    for key in keys:
        node = tree
        for part in key.split("."):
            if not (isinstance(node, dict) and part in node):
                break
            node = node[part]
        else:
            if node is not None:
                return node
    return default


# ---------------------------------------------------------------------- headline
def wilson_interval(share, n, z=Z95):
    """The Wilson score interval (lo, hi) of a binomial proportion: ``share`` of ``n`` Bernoulli
    trials (Monte Carlo runs meeting the requirement).

    With p̂ = share: centre (p̂ + z²/2n)/(1 + z²/n), half-width
    z/(1 + z²/n)·√(p̂(1 − p̂)/n + z²/4n²) (Wilson 1927, JASA 22:209; Agresti & Coull 1998,
    Am. Stat. 52:119 recommend it over the normal interval for small n and shares near 0 or 1).
    For a share averaged over checkpoints, each run contributes the fraction of checkpoints it
    meets, whose variance is at most p(1 − p): the interval is then conservative.
    (None, None) when ``share`` or ``n`` is missing."""
    if not _finite(share) or not n or int(n) < 1:
        return None, None
    p, n = min(1.0, max(0.0, float(share))), int(n)
    d = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z / d * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _finite(v):
    """True for a finite number (not None, not NaN/inf, not a string)."""
    try:
        return v is not None and not isinstance(v, str) and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _last(a):
    return None if a is None or not len(a) else float(a[-1])


def _first(a):
    return None if a is None or not len(a) else float(a[0])


def erf_violations(erf, obs):
    """Checkpoints where the observed mean error exceeds Erf, among those where Erf > 0. Where
    Erf = 0 no neuron is dead: any error there comes from upsets or stuck bits, which are outside
    the bound's model, so it is shown apart and not counted."""
    erf, obs = np.asarray(erf, float), np.asarray(obs, float)
    ok = np.isfinite(erf) & np.isfinite(obs) & (erf > 0)
    return ok & (obs > erf)


def power_series(res):
    """(p5, p50, p95) of power in mW over the checkpoints (p5/p95 may be None)."""
    lo, mid, hi = res.percentile_series("power_mw")
    if mid is None:
        mid = res.get("power_mw")
    return lo, mid, hi


def inference_rate_hz(res):
    """The inference rate the power figures are for: [run] inference_rate_hz, or real time
    (one input every `ticks` ticks of 1 ms) when it is 0 or absent; None if unknown."""
    v = res.s("inference_rate_hz")
    if v is None:
        v = res.sc("run.inference_rate_hz")
    if v:
        return float(v)
    ticks = res.sc("run.ticks")
    if ticks:
        return 1000.0 / float(ticks)
    return None


def share_ci95(share, runs):
    """[lo, hi] of the Wilson 95 % interval of a share of ``runs`` runs (JSON-ready), or None."""
    lo, hi = wilson_interval(share, runs)
    return None if lo is None else [lo, hi]


def headline(res):
    """The headline numbers of a :class:`MissionResults` as a dict: what ``neurosim mission``
    prints, the report's cards and the ``--json`` output of ``neurosim report``.

    ``bounds_headline`` is the sentence of the bound comparison (summary ``bounds``,
    :func:`neurosim.bounds.compare_checkpoints`): how often Erf was informative on crash-only
    checkpoints and how often it held — never a bare yes. ``erf_violated_checkpoints`` counts the
    checkpoints whose mean observed error exceeds the mean Erf where Erf > 0 (all faults mixed;
    kept for results without the comparison)."""
    lo, mid, hi = res.percentile_series("accuracy")
    acc = {"p05": res.s("final_accuracy_p05"), "p50": res.s("final_accuracy_p50"),
           "p95": res.s("final_accuracy_p95")}
    for k, a in (("p05", lo), ("p50", mid), ("p95", hi)):
        if acc[k] is None:
            acc[k] = _last(a)
    rel = res.s("reliability_final")
    if rel is None:
        rel = _last(res.get("reliability"))
    runs = res.n_runs()
    dead = res.s("dead_neurons_final_mean")
    if dead is None:
        dead = _last(res.get("dead_neurons_mean"))
    _, p_mid, _ = power_series(res)
    p_start = res.s("power_mw_initial")
    p_end = res.s("power_mw_final_mean")
    p_start = _first(p_mid) if p_start is None else p_start
    p_end = _last(p_mid) if p_end is None else p_end
    energy = res.s("energy_per_inference_uj")
    energy_derived = False
    rate = inference_rate_hz(res)
    if energy is None and _finite(p_start) and rate:
        energy = float(p_start) / rate * 1e3          # mW / Hz = mJ per inference → µJ
        energy_derived = True
    erf = res.get("erf_mean")
    obs = res.get("observed_error_mean")
    violated = None
    if erf is not None and obs is not None and np.isfinite(erf).any():
        violated = int(erf_violations(erf, obs).sum())
    pairs = res.s("bound_violations")
    comparison = res.s("bounds")
    comparison = comparison if isinstance(comparison, dict) else None
    return {
        "scenario": res.name,
        "final_accuracy_p05": acc["p05"], "final_accuracy_p50": acc["p50"],
        "final_accuracy_p95": acc["p95"], "baseline_accuracy": res.baseline_accuracy(),
        "reliability_final": rel, "reliability_final_ci95": share_ci95(rel, runs), "runs": runs,
        "dead_neurons_final_mean": dead,
        "power_mw_initial": p_start, "power_mw_final": p_end,
        "energy_per_inference_uj": energy, "energy_per_inference_derived": energy_derived,
        "inference_rate_hz": rate, "mission_energy_wh": res.s("mission_energy_wh_mean"),
        "erf_violated_checkpoints": violated,
        "bounds_headline": comparison.get("headline") if comparison else None,
        "erf_informative": comparison.get("erf_informative") if comparison else None,
        "erf_held_bins": comparison.get("erf_held_bins") if comparison else None,
        "bound_violations_run_checkpoints": pairs if isinstance(pairs, int) else None,
        "bound_violations_crash_only": res.s("bound_violations_crash_only"),
        "requirement": res.requirement(), "budget_mw": res.budget_mw(),
    }
