"""The one results format of a mission: names, the writer, the reader and the headline.

A results directory (written by :func:`neurosim.mission.writer.write_outputs` at the end of ``neurosim mission``) holds:

- ``summary.json``    the run's headline numbers, the bound comparison (``bounds``), provenance;
- ``checkpoints.csv`` one row per checkpoint (mission time, accuracy percentiles, reliability,
  error percentiles, fault counts by kind, Erf/Fep/observed error, power …);
- ``runs.npz``        per run × checkpoint arrays (:func:`empty_results`; per-core arrays for heat
  maps; ``dead_per_level`` per run × checkpoint × bound-model level);
- ``scenario.resolved.toml`` the scenario with every default filled in;
- ``program.npz``     the compiled program (the report reads only its small fields).

:class:`MissionResults` reads a directory back; :func:`neurosim.mission.headline.headline` computes the numbers the terminal
table and the report both show; :meth:`MissionResults.to_dataframe` gives one row per run ×
checkpoint. The reader is lenient on purpose: a quantity that is absent is ``None`` — the report
then shows a "not recorded" placeholder for that piece instead of failing (results directories of
older versions). Only a directory without ``summary.json`` *and* without ``checkpoints.csv`` is an
error.
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import tomllib

import numpy as np

from neurosim.chip.profile import get_profile
from neurosim.errors import InputFileError, ValidationError

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
                         "live_upsets", "upsets", "spares_used", "latched_cores",
                         "isolated_cores", "power_cycles")
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
        "isolated_cores": np.zeros((R, K), np.int16), "power_cycles": np.zeros((R, K), np.int32),
        "energy_wh": np.zeros(R), "solar_events": np.zeros(R, np.int32),
        "availability": np.ones(R), "run_index": np.arange(start, start + R),
    }


def percentile_column(base, p):
    """Name of the checkpoints.csv column of percentile ``p`` of ``base``: accuracy_p05."""
    return f"{base}_p{p:02d}"


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
        self.program_info = self._read_program()

    def n_runs(self):
        """Number of Monte Carlo runs: summary.json 'runs', else the rows of runs.npz accuracy,
        else the scenario's [run] runs; None if not recorded."""
        n = self.s("runs")
        if n is None:
            a = self.run_array("accuracy")
            n = a.shape[0] if a is not None else self.sc("run.runs")
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
        c = self.s("compile")
        if isinstance(c, dict):
            return c
        c = self.program_info.get("meta", {}).get("compiler")
        return c if isinstance(c, dict) else None

    def model(self):
        m = self.s("model")
        if isinstance(m, dict):
            m = m.get("name") or m.get("path")
        return m or self.sc("run.model")

    def chip(self):
        c = self.s("chip")
        if isinstance(c, dict):
            c = c.get("name")
        return c or self.sc("run.profile") or self.program_info.get("profile")

    def baseline_accuracy(self):
        v = self.s("baseline_accuracy")
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
        """The resolved scenario (SCENARIO_FILE): its text and parsed values ({} if absent or not
        TOML)."""
        path = os.path.join(self.path, SCENARIO_FILE)
        if not os.path.exists(path):
            return
        self.scenario_file = path
        with open(path, "rb") as f:
            self.scenario_text = f.read().decode("utf-8", "replace")
        try:
            self.scenario = tomllib.loads(self.scenario_text)
        except tomllib.TOMLDecodeError:
            self.scenario = {}

    # ------------------------------------------------------------------ lookup
    def get(self, name):
        """The checkpoints.csv column ``name`` (else a 1-D per-checkpoint runs.npz array of that
        name) as a float array; None if the results do not record it."""
        if name in self.columns:
            return np.asarray(self.columns[name], dtype=float)
        a = self.runs.get(name)
        if a is not None and np.ndim(a) == 1 and len(a) == self.n_checkpoints() and \
                np.asarray(a).dtype.kind in "fiub":
            return np.asarray(a, dtype=float)
        return None

    def column_names(self):
        return list(self.columns)

    def s(self, key):
        """The summary.json value at the dotted path ``key`` ('provenance.seed'), or None."""
        return _lookup(self.summary, key)

    def sc(self, key):
        """The resolved scenario's value at the dotted path ``key`` ('mission.duration_years'), or
        None."""
        return _lookup(self.scenario, key)

    # ------------------------------------------------------------------ derived quantities
    @property
    def name(self):
        sc = self.summary.get("scenario")
        if isinstance(sc, str) and sc:
            return sc
        return self.sc("mission.name") or os.path.basename(self.path.rstrip(os.sep))

    def times(self):
        """Mission time of each checkpoint in years (checkpoints.csv ``time_years``; None if not
        recorded)."""
        return self.get("time_years")

    def duration_years(self):
        v = self.s("duration_years")
        if v is None:
            v = self.sc("mission.duration_years")
        return float(v) if v is not None else None

    def requirement(self):
        """The accuracy requirement (summary, else the scenario's [mission]); None if absent."""
        v = self.s("accuracy_requirement")
        if v is None:
            v = self.sc("mission.accuracy_requirement")
        return float(v) if v is not None else None

    def budget_mw(self):
        """The power budget in mW: ``[run] power_budget_mw`` of the scenario; None (no line) when
        the scenario gives none (the shipped scenario format has no budget key yet)."""
        v = self.sc("run.power_budget_mw")
        return float(v) if v is not None else None

    def percentile_series(self, base):
        """(p5, p50, p95) arrays of ``base`` (e.g. 'accuracy'): the checkpoint columns
        :func:`percentile_column`, else computed from the runs.npz array of that name (runs ×
        checkpoints); missing ones are None."""
        lo, mid, hi = (self.get(percentile_column(base, p)) for p in (5, 50, 95))
        arr = self.run_array(base)
        if arr is not None and (lo is None or mid is None or hi is None):
            q = np.nanpercentile(arr, [5, 50, 95], axis=0)
            lo = q[0] if lo is None else lo
            mid = q[1] if mid is None else mid
            hi = q[2] if hi is None else hi
        return lo, mid, hi

    def run_array(self, name):
        """The runs.npz array ``name`` of shape (runs, checkpoints) as floats, or None."""
        a = self.runs.get(name)
        if a is None or np.ndim(a) != 2 or np.asarray(a).dtype.kind not in "fiub":
            return None
        return np.asarray(a, dtype=float)

    def to_dataframe(self):
        """A pandas DataFrame with one row per run × checkpoint: ``run``, ``checkpoint``,
        ``time_days`` and every per run × checkpoint array of runs.npz
        (:data:`RUN_CHECKPOINT_ARRAYS`), plus ``dead_neurons_layer{g}`` and
        ``dead_level{l}`` columns (dead chip neurons per MLP layer and per bound-model level).
        Needs pandas (not a dependency of neurosim)."""
        try:
            import pandas as pd   # optional: only this method needs it
        except ImportError:
            raise ValidationError("MissionResults.to_dataframe needs pandas, which neurosim does "
                                  "not install: pip install pandas") from None
        return pd.DataFrame(self._long_columns())

    def to_xarray(self):
        """An xarray Dataset with dimensions (run, checkpoint[, layer, level]) of the runs.npz
        arrays, coordinates ``time_days``. Needs xarray (not a dependency of neurosim)."""
        try:
            import xarray as xr   # optional: only this method needs it
        except ImportError:
            raise ValidationError("MissionResults.to_xarray needs xarray, which neurosim does "
                                  "not install: pip install xarray") from None
        R, K = self._run_checkpoint_shape()
        data = {}
        for name, a in self.runs.items():
            a = np.asarray(a)
            if a.shape[:2] != (R, K):
                continue
            extra = {"dead_neurons": "layer", "dead_synapses": "layer",
                     "dead_per_level": "level", "power_breakdown_mw": "power_component",
                     "core_dead_neurons": "core"}.get(name)
            if a.ndim == 2:
                data[name] = (("run", "checkpoint"), a)
            elif a.ndim == 3 and extra:
                data[name] = (("run", "checkpoint", extra), a)
        coords = {"run": np.arange(R), "checkpoint": np.arange(K)}
        if "time_days" in self.runs:
            coords["time_days"] = ("checkpoint", np.asarray(self.runs["time_days"]))
        return xr.Dataset(data, coords=coords)

    def _run_checkpoint_shape(self):
        a = self.runs.get("accuracy")
        if a is None or np.ndim(a) != 2:
            raise InputFileError(f"{os.path.join(self.path, RUNS_FILE)}: no per run × checkpoint "
                                 "arrays (expected 'accuracy' of shape (runs, checkpoints))")
        return a.shape

    def _long_columns(self):
        """{column: 1-D array of R·K values} in run-major order (see :meth:`to_dataframe`)."""
        R, K = self._run_checkpoint_shape()
        cols = {"run": np.repeat(np.arange(R), K), "checkpoint": np.tile(np.arange(K), R)}
        if "time_days" in self.runs:
            cols["time_days"] = np.tile(np.asarray(self.runs["time_days"], float), R)
        for name in RUN_CHECKPOINT_ARRAYS:
            if name in self.runs and np.shape(self.runs[name]) == (R, K):
                cols[name] = np.asarray(self.runs[name]).ravel()
        for name, label in (("dead_neurons", "dead_neurons_layer"),
                            ("dead_per_level", "dead_level")):
            a = self.runs.get(name)
            if a is not None and np.ndim(a) == 3 and a.shape[:2] == (R, K):
                for g in range(a.shape[2]):
                    cols[f"{label}{g}"] = a[:, :, g].ravel()
        return cols

    def scenario_hash(self):
        """The scenario hash recorded by the runner, else sha256 of the saved resolved scenario."""
        h = self.s("provenance.scenario_sha256")
        if h:
            return str(h), "recorded"
        if self.scenario_text is not None:
            return hashlib.sha256(self.scenario_text.encode()).hexdigest(), "computed from " + \
                os.path.basename(self.scenario_file)
        return None, None


def _lookup(tree, key):
    """The value at the dotted path ``key`` in the nested dict ``tree``, or None."""
    node = tree
    for part in key.split("."):
        if not (isinstance(node, dict) and part in node):
            return None
        node = node[part]
    return node
