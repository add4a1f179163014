"""Monte Carlo missions: how a compiled network degrades over years of mission time.

``run_mission(scenario, out_dir, ...)``:

1. **Prepare** (once, in the calling process): load the model named by ``[run] model``, compile it
   for ``[run] profile`` with ``[run] compile`` options, take ``eval_inputs`` evaluation inputs
   (the dataset's test split first, then training inputs if more are asked for), evaluate the
   fault-free chip, and derive the chip network's constants for the bounds
   (:func:`chip_constants`).
2. **Runs.** Run r draws its fault timeline (:mod:`neurosim.radiation.timeline`) with the generator
   ``default_rng(SeedSequence(seed).spawn(R)[r])`` — built directly as
   ``SeedSequence(seed, spawn_key=(r,))``, which is the same sequence — so results do not depend on
   the executor, the number of workers or the batching. At every checkpoint the FaultState in force
   is evaluated on the evaluation set (rate mode: :class:`~neurosim.radiation.fast_rate.FastRate`;
   spiking mode: :func:`neurosim.sim.simulate`); a checkpoint whose FaultState (and core placement)
   equals the previous one reuses its result.
3. **Per checkpoint**: accuracy; output error against the fault-free chip per input,
   ω(x) = ‖F_fail(x) − F(x)‖∞ on output rates (mean and max over the inputs); dead neurons per
   layer, lost synapses (crossbar bits 1 → 0), dead cores, live upsets, spares used, latched cores;
   ``erf`` and ``fep`` from :func:`neurosim.bounds.chip_bounds` with each hidden level's dead
   fraction; power (mW) from :func:`neurosim.power.checkpoint_power_mw` on the faulty program's
   counters (TMR replicas counted, latched cores at the power model's latch-up draw).
4. **Streaming.** Runs go to workers in batches (tasks); each finished batch is written to
   ``OUT/.partial/batch_START_END.npz`` (temporary name, then rename). ``resume=True`` reuses the
   batches already there (the resolved scenario and the compiled program are checked to be the
   same) and computes only the missing ones. When all are done the outputs are written, each
   atomically: ``summary.json``, ``checkpoints.csv``, ``runs.npz``, ``scenario.resolved.toml``,
   ``program.npz``.

Executors: ``local`` (a process pool, ``spawn`` start, one BLAS thread per worker) and ``dask``
(a ``LocalCluster`` started on demand, or the scheduler at ``scheduler`` joined).

Bounds: the chip computes r_j = clip(Σ_i ρ_i w_ij/α_j + λ_j/α_j, 0, 1), a network with K = 1 and
C = 1 whose layers are the MLP's layers and whose weights are w_ij/α_j summed (with their signs)
over the axons by which any copy of unit i reaches unit j
(:func:`neurosim.bounds.program_constants`); a hidden layer's dead fraction counts its chip
neurons (copies and relays included). ``bound_violations`` counts (run, checkpoint) pairs whose
observed mean error exceeds Erf; ``bound_violations_crash_only`` counts those among checkpoints
whose only faults are dead neurons and cores — what the bound speaks about (upsets and stuck bits
are outside its model).
"""
import contextlib
import csv
import ctypes
import glob
import io
import json
import math
import os
import re
import shlex
import shutil
import signal
import socket
import sys
import threading
import time
import warnings
import zipfile
from dataclasses import dataclass

import numpy as np

from neurosim import fileio
from neurosim.errors import InputFileError, NeurosimError, ValidationError
from neurosim.radiation import scenario as scn
from neurosim.radiation.timeline import DAYS_PER_YEAR, ChipLayout, sample

POWER_COMPONENTS = ("leakage", "neuron_updates", "synaptic_events", "spikes", "hops", "latchup")
BLAS_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# Dask workers of a LocalCluster log only errors: an interrupt cancels their tasks, and each
# cancelled task would print a warning.
DASK_WORKER_ENV = dict(BLAS_ENV, DASK_LOGGING__DISTRIBUTED="error")
DEFAULT_SCENARIO = "scenarios/leo_10y.toml"


# ====================================================================== preparation
@dataclass(eq=False)
class MissionModel:
    """Everything a worker needs: the compiled program, evaluation set, evaluator, layout."""

    values: dict
    program: object
    x: np.ndarray
    y: np.ndarray
    times_days: np.ndarray
    layout: object
    evaluator: object
    base_accuracy: float
    base_power_mw: float
    layer_of_neuron: np.ndarray      # (C, N) MLP layer of each used neuron, −1 unused
    n_layers: int
    constants: object                # bounds.NetworkConstants of the chip network, or None
    level_of_neuron: np.ndarray      # (C, N) level, −1 unused
    hidden_level_sizes: np.ndarray
    power_profile: str
    tick_ms: float
    inference_rate_hz: float
    model_path: str = None
    base_power: object = None        # power.PowerReport of the fault-free chip
    core_spikes: np.ndarray = None   # (C,) spikes per inference per core, fault-free chip


def _model_candidates(path, scenario_path):
    """Where ``[run] model`` is looked for, in order: next to the scenario file, in its parent
    directory, from the working directory, among the shipped models (absolute: only there)."""
    from neurosim import resources
    if os.path.isabs(path):
        return [path]
    here = os.path.dirname(os.path.abspath(scenario_path))
    return [os.path.join(here, path), os.path.join(here, "..", path), path,
            os.path.join(resources.shipped_dir("models"), os.path.basename(path))]


def _model_path(path, scenario_path):
    """The first existing :func:`_model_candidates`; an InputFileError naming the scenario file,
    the key and the places searched when there is none."""
    cands = _model_candidates(path, scenario_path)
    for c in cands:
        if os.path.isfile(c):
            return c
    dirs = list(dict.fromkeys(os.path.dirname(os.path.abspath(c)) for c in cands))
    raise InputFileError(f"{scenario_path}: [run] model = {path!r}: no such file (looked in "
                         + ", ".join(dirs) + ")")


def prepare(scenario, program=None):
    """Compile the scenario's model and evaluate the fault-free chip (see the module docstring).
    ``program`` (a ChipProgram) skips compiling (resume reuses the saved one)."""
    from neurosim import data
    from neurosim.mlp import MLP
    from neurosim.radiation.fast_rate import FastRate
    v = scenario.values
    run = v["run"]
    mlp_path = _model_path(run["model"], scenario.path)
    mlp = MLP.load(mlp_path)
    dataset = run["dataset"] or mlp.provenance.get("dataset") or "digits"
    if program is None:
        from neurosim.compiler import compile as compile_mlp
        try:
            program = compile_mlp(mlp, run["profile"], **run["compile"]).program
        except TypeError as exc:
            raise InputFileError(f"{scenario.path}: [run] compile: {exc}") from None
    xtr, ytr, xte, yte = data.load(dataset)
    available = len(xte) + len(xtr)
    if run["eval_inputs"] > available:
        raise ValidationError(f"{scenario.path}: [run] eval_inputs = {run['eval_inputs']}: "
                              f"dataset '{dataset}' has {available} inputs (test and training); "
                              f"expected at most {available}")
    x = np.concatenate([xte, xtr])[:run["eval_inputs"]].astype(np.float64)
    y = np.concatenate([yte, ytr])[:run["eval_inputs"]]
    if x.shape[1] != program.n_inputs:
        raise ValidationError(f"dataset '{dataset}' has {x.shape[1]} inputs; the model "
                              f"{mlp_path} expects {program.n_inputs}")
    ev = FastRate(program, x, run["ticks"])
    acc = float(np.mean(np.argmax(ev.base_out, axis=1) == y))
    group = np.where(program.enabled, program.neuron_group, -1).astype(np.int64)
    layout = ChipLayout.from_program(program)
    constants, level = chip_constants(program, ev)
    hidden_sizes = np.bincount(level[level >= 0], minlength=1)[:-1] if constants else None
    from neurosim import power as pw
    pprof = run["power_profile"] or program.profile.power_profile
    rate = run["inference_rate_hz"] or None
    base_report = pw.checkpoint_power(ev.base.counters(run["ticks"], len(x)), pprof,
                                      program.profile.tick_ms, rate)
    model = MissionModel(
        values=v, program=program, x=x, y=y, times_days=scenario.checkpoint_times_days(),
        layout=layout, evaluator=ev, base_accuracy=acc, base_power_mw=base_report.power_mw,
        layer_of_neuron=group, n_layers=int(group.max()) + 1, constants=constants,
        level_of_neuron=level, hidden_level_sizes=hidden_sizes, power_profile=pprof,
        tick_ms=program.profile.tick_ms, inference_rate_hz=rate, model_path=mlp_path,
        base_power=base_report, core_spikes=np.asarray(ev.base.spikes, np.float64) / len(x))
    return model


def chip_constants(program, evaluator):
    """NetworkConstants (K = 1, C = 1) of the compiled network, weights w_ij/α_j in rate units
    (see the module docstring), and the (C, N) level of every neuron.

    A compiled program (``meta["layers"]``) is mapped back to the MLP's structure by
    :func:`neurosim.bounds.program_constants` (copies' weights summed with their signs, relay
    pairs folded in) and a neuron's level is its MLP layer (copies and relays included). Other
    programs fall back to levels as layers with every chip neuron a node."""
    from neurosim.bounds import NetworkConstants
    if (program.meta or {}).get("layers"):
        from neurosim.bounds import program_constants
        return program_constants(program), np.where(program.enabled, program.neuron_group,
                                                    -1).astype(np.int64)
    C, A, N = program.crossbar.shape
    level = np.full((C, N), -1, np.int64)
    if evaluator.generic:
        return None, level
    ev = evaluator
    level[ev.n_core, ev.n_slot] = ev.neuron_level
    L = ev.n_level
    sizes = [program.n_inputs] + [int(np.sum(ev.neuron_level == lv)) for lv in range(L)]
    index_in_level = np.zeros(ev.n_core.size, np.int64)
    for lv in range(L):
        idx = np.nonzero(ev.neuron_level == lv)[0]
        index_in_level[idx] = np.arange(idx.size)
    mats = [np.zeros((sizes[lv], sizes[lv + 1])) for lv in range(L)]
    for n in range(ev.n_core.size):
        c, j, lv = ev.n_core[n], ev.n_slot[n], ev.neuron_level[n]
        col = ev.W[c][:, j] / program.threshold[c, j]
        axons = np.nonzero(col)[0]
        for a in axons:
            m, s = ev.src_in[c, a], ev.src_n[c, a]
            if m >= 0 and lv == 0:
                mats[0][m, index_in_level[n]] += col[a]
            elif s >= 0 and ev.neuron_level[s] == lv - 1:
                mats[lv][index_in_level[s], index_in_level[n]] += col[a]
    max_w = tuple(float(np.abs(m).max()) if m.size else 0.0 for m in mats)
    mean_w = tuple(float(np.abs(m).mean()) if m.size else 0.0 for m in mats)
    return NetworkConstants(tuple(sizes), max_w, mean_w, K=1.0, C=1.0,
                            activation="chip rate"), level


# ====================================================================== one batch of runs
_MODEL = None


def _init_worker(model):
    global _MODEL
    _MODEL = model


def run_batch(start, stop, model=None):
    """Runs start..stop−1 of the mission; returns a dict of arrays with leading axis = runs."""
    from neurosim import power as pw
    from neurosim.bounds import chip_bounds
    model = model if model is not None else _MODEL
    v = model.values
    run = v["run"]
    seed = run["seed"]
    times = model.times_days
    K = len(times)
    R = stop - start
    G = model.n_layers
    ev = model.evaluator
    B = len(model.x)
    ticks = run["ticks"]
    C = model.program.n_cores
    out = _empty_results(R, K, G, C, start)
    base_out = ev.base_out
    crossbar = model.program.crossbar
    group = model.layer_of_neuron
    level = model.level_of_neuron
    n_hidden_levels = len(model.hidden_level_sizes) if model.constants else 0
    spiking = run["mode"] == "spiking"
    approx0 = ev.approximated
    for i, r in enumerate(range(start, stop)):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(r,)))
        tl = sample(v, model.layout, times, rng)
        out["solar_events"][i] = tl.solar_events
        prev = None
        for k in range(K):
            fs = tl.faults[k]
            xy_changed = not np.array_equal(tl.core_xy[k], model.layout.core_xy)
            same = prev is not None and fs is tl.faults[k - 1] and np.array_equal(
                tl.core_xy[k], tl.core_xy[k - 1]) and np.array_equal(
                tl.core_multiplicity[k], tl.core_multiplicity[k - 1]) and \
                tl.stats["latched_cores"][k] == tl.stats["latched_cores"][k - 1]
            if not same:
                if spiking:
                    res = _spiking(model, fs, tl.core_xy[k] if xy_changed else None)
                else:
                    res = ev.evaluate(fs, tl.core_xy[k] if xy_changed else None)
                o = res.out
                pred = np.argmax(o, axis=1)
                err = np.abs(o - base_out).max(axis=1)
                mask = np.zeros(group.shape, bool)
                if fs.dead_neurons.size:
                    mask[fs.dead_neurons[:, 0], fs.dead_neurons[:, 1]] = True
                if fs.dead_cores.size:
                    mask[fs.dead_cores] = True
                mask &= group >= 0
                dn = np.bincount(group[mask], minlength=G)[:G]
                ss = fs.stuck_synapses
                lost = ss[(ss[:, 3] == 0) & crossbar[ss[:, 0], ss[:, 1], ss[:, 2]]] if ss.size \
                    else ss
                ds = np.bincount(group[lost[:, 0], lost[:, 2]], minlength=G)[:G] if lost.size \
                    else np.zeros(G, np.int64)
                if n_hidden_levels:
                    dl = np.bincount(level[mask], minlength=n_hidden_levels + 1)
                    frac = dl[:n_hidden_levels] / model.hidden_level_sizes
                    e_rf, f_ep = chip_bounds(model.constants, np.minimum(frac, 1.0))
                else:
                    e_rf = f_ep = np.nan
                counters = res.counters(ticks, B, tl.core_multiplicity[k])
                prep = pw.checkpoint_power(counters, model.power_profile, model.tick_ms,
                                           model.inference_rate_hz,
                                           int(tl.stats["latched_cores"][k]))
                pmw = prep.power_mw
                pbd = [prep.breakdown[c] for c in POWER_COMPONENTS]
                core_dead = mask.sum(axis=1)
                crash_only = not (fs.stuck_synapses.size or fs.weight_flips.size
                                  or fs.threshold_flips.size or fs.routing_flips.size)
                prev = (float(np.mean(pred == model.y)), float(err.mean()), float(err.max()),
                        dn, ds, e_rf, f_ep, pmw, crash_only, pbd, core_dead)
                out["evaluated"][i, k] = True
            (out["accuracy"][i, k], out["error_mean"][i, k], out["error_max"][i, k],
             out["dead_neurons"][i, k], out["dead_synapses"][i, k], out["erf"][i, k],
             out["fep"][i, k], out["power_mw"][i, k], out["crash_only"][i, k],
             out["power_breakdown_mw"][i, k], out["core_dead_neurons"][i, k]) = prev
        for key in ("dead_cores", "live_upsets", "upsets", "spares_used", "latched_cores"):
            out[key][i] = tl.stats[key]
        t_years = np.concatenate([[0.0], times / DAYS_PER_YEAR])
        p_series = np.concatenate([[model.base_power_mw], out["power_mw"][i].astype(np.float64)])
        out["energy_wh"][i] = pw.mission_energy_wh(t_years, p_series)
    out["approximated"] = np.array([ev.approximated - approx0])
    return out


def _spiking(model, fs, core_xy):
    from neurosim.chip.faults import apply
    from neurosim.radiation.fast_rate import FastResult
    from neurosim.sim import simulate
    prog = apply(model.program, fs)
    if core_xy is not None:
        prog = prog.replace(core_xy=np.asarray(core_xy, np.int32))
    r = simulate(prog, model.x, ticks=model.values["run"]["ticks"], mode="spiking")
    c = r.counters
    C = prog.n_cores
    share = lambda total: np.full(C, total / C)
    return FastResult(r.rates, c.core_spikes.astype(float), c.core_events.astype(float),
                      share(c.hops), share(c.neuron_updates),
                      prog.enabled.any(axis=1).astype(float), c.input_spikes)


# ====================================================================== bounds on work
# Limits a mission may exceed only with --force. They are ASSUMPTIONS about the machine this
# project targets (2 cores, 24 GiB of memory), not physics:
#   * checkpoint evaluations (runs × checkpoints): 2 workers evaluate roughly 10^2–10^3
#     checkpoints per second in rate mode (`neurosim bench mission`), so 10^7 is hours to a day;
MAX_CHECKPOINT_EVALUATIONS = 10_000_000
#   * the results arrays are held about twice (the batches and the merged arrays): 4 GiB each
#     stays well inside 24 GiB next to the workers' models;
MAX_RESULT_BYTES = 4 * 2**30
#   * expected fault events per run: the shipped scenarios expect 10^2–10^4; sampling and
#     evaluating 10^6 takes minutes per run, so above it a rate is more likely a unit slip than
#     intended; a warning is printed above 10^5 (seconds per run).
MAX_FAULTS_PER_RUN = 1_000_000
WARN_FAULTS_PER_RUN = 100_000


def _empty_results(R, K, G, C, start=0):
    """The per-run result arrays of :func:`run_batch` for runs start..start+R−1 (R runs, K
    checkpoints, G MLP layers, C cores), zeroed (``erf``/``fep`` NaN)."""
    P = len(POWER_COMPONENTS)
    return {
        "accuracy": np.zeros((R, K), np.float32),
        "error_mean": np.zeros((R, K), np.float32), "error_max": np.zeros((R, K), np.float32),
        "dead_neurons": np.zeros((R, K, G), np.int32),
        "dead_synapses": np.zeros((R, K, G), np.int32),
        "dead_cores": np.zeros((R, K), np.int16), "live_upsets": np.zeros((R, K), np.int32),
        "upsets": np.zeros((R, K), np.int32), "spares_used": np.zeros((R, K), np.int16),
        "latched_cores": np.zeros((R, K), np.int16), "erf": np.full((R, K), np.nan),
        "fep": np.full((R, K), np.nan), "crash_only": np.zeros((R, K), bool),
        "power_mw": np.zeros((R, K), np.float32), "evaluated": np.zeros((R, K), bool),
        "power_breakdown_mw": np.zeros((R, K, P), np.float32),
        "core_dead_neurons": np.zeros((R, K, C), np.int16),
        "energy_wh": np.zeros(R), "solar_events": np.zeros(R, np.int32),
        "run_index": np.arange(start, start + R),
    }


def _mean_solar_multiplier(values, total_days):
    """Time-averaged upset-rate multiplier of the solar events (timeline.solar_segments):
    1 + ν·(active/cycle)·d/365.25·(E[M] − 1) with E[10^X] = 10^(μ + σ²·ln10/2) for X ~ N(μ, σ),
    plus each scheduled event's duration·(multiplier − 1)/T. Infinite when it overflows."""
    se = values["solar_events"]
    with np.errstate(over="ignore", invalid="ignore"):
        mean_m = np.float64(10.0) ** (se["log10_multiplier_mean"]
                                      + se["log10_multiplier_sd"] ** 2 * math.log(10) / 2)
        share = se["active_years"] / se["cycle_years"]
        extra = se["events_per_active_year"] * share * se["event_duration_days"] / DAYS_PER_YEAR \
            * (mean_m - 1.0) if se["events_per_active_year"] > 0 else 0.0
        extra += sum(ev["duration_days"] * max(ev["multiplier"] - 1.0, 0.0)
                     for ev in se["scheduled"]) / total_days
    return float(1.0 + max(extra, 0.0))


def expected_faults_per_run(values, layout, total_days):
    """Expected fault events of one run: upsets Σ_k λ_k·s·bits_k·m̄·T over the memory classes of
    every physical core (timeline.ChipLayout.data_bits; m̄ :func:`_mean_solar_multiplier`), stuck
    bits rate·A·N·T/365.25 and latch-ups rate·T per physical core (spares and TMR replicas
    included). NaN (an ∞·0) counts as infinite."""
    up, syn, lu, mit = (values[k] for k in ("upsets", "synapses", "latchup", "mitigation"))
    cores = layout.C + (2 * int(layout.hidden_cores.sum()) if mit["tmr_hidden"] else 0) \
        + mit["spare_cores"]
    rates = np.array([up["weight_sram_rate_per_bit_day"], up["potential_rate_per_bit_day"],
                      up["routing_rate_per_bit_day"]], np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        upsets = float(np.sum(rates * layout.data_bits())) * up["rate_scale"] \
            * _mean_solar_multiplier(values, total_days) * total_days
        stuck = syn["stuck_rate_per_bit_year"] * layout.A * layout.N * total_days / DAYS_PER_YEAR
        latchups = lu["rate_per_core_day"] * total_days * (1 + lu["latent_stuck_bits"])
        total = float(np.float64(cores) * (upsets + stuck + latchups))
    return math.inf if math.isnan(total) else total


def estimate_work(scenario, model=None):
    """What the mission will cost: runs, checkpoints, checkpoint evaluations, bytes of the results
    arrays and (with a prepared ``model``) expected fault events per run. Without a model the
    bytes are a lower bound (one layer, one core): enough to refuse absurd run counts before
    anything is compiled or allocated."""
    runs = int(scenario["run.runs"])
    K = len(scenario.checkpoint_times_days())
    G, C = (model.n_layers, model.program.n_cores) if model is not None else (1, 1)
    per_run = sum(a.nbytes for a in _empty_results(1, K, G, C).values())
    est = {"runs": runs, "checkpoints": K, "evaluations": runs * K,
           "result_bytes": runs * per_run, "faults_per_run": None}
    if model is not None:
        est["faults_per_run"] = expected_faults_per_run(
            scenario.values, model.layout, float(model.times_days[-1]))
    return est


def check_work(scenario, est, force=False):
    """Refuse (ValidationError, one line naming the estimate and the limit) work above the
    limits unless ``force``; warn on stderr above WARN_FAULTS_PER_RUN expected faults per run."""
    where = f"{scenario.path}: [run] runs = {est['runs']:,} × {est['checkpoints']:,} checkpoints"
    problems = []
    if est["evaluations"] > MAX_CHECKPOINT_EVALUATIONS:
        problems.append(f"{where} = {est['evaluations']:,} checkpoint evaluations; limit "
                        f"{MAX_CHECKPOINT_EVALUATIONS:,}")
    if est["result_bytes"] > MAX_RESULT_BYTES:
        problems.append(f"{where} need {est['result_bytes'] / 2**30:,.1f} GiB of results "
                        f"arrays; limit {MAX_RESULT_BYTES / 2**30:g} GiB")
    f = est["faults_per_run"]
    if f is not None and f > MAX_FAULTS_PER_RUN:
        problems.append(f"{scenario.path}: the rates give {f:.3g} expected fault events per run "
                        f"(upsets, stuck bits, latch-ups); limit {MAX_FAULTS_PER_RUN:,} "
                        "(check the units: rates are per bit per day)")
    if problems and not force:
        raise ValidationError(problems[0] + " (an assumption about a 2-core/24 GiB machine); "
                              "use --force to run anyway")
    for p in problems:
        _note(f"warning: {p}; running anyway (--force)")
    if f is not None and WARN_FAULTS_PER_RUN < f <= MAX_FAULTS_PER_RUN:
        _note(f"warning: {scenario.path}: the rates give {f:.3g} expected fault events per run "
              f"(more than {WARN_FAULTS_PER_RUN:,}: slow; check the units, rates are per bit per "
              "day)")


def _note(message):
    """One line on stderr (resume notes, lock take-over, warnings)."""
    print(f"neurosim mission: {message}", file=sys.stderr, flush=True)


# ====================================================================== interrupts
class MissionInterrupted(NeurosimError):
    """SIGINT or SIGTERM stopped the mission; finished batches are kept for --resume. The exit
    code is the shell's 128 + signal number: 130 for SIGINT (Ctrl-C), 143 for SIGTERM."""

    def __init__(self, message, signum):
        super().__init__(message)
        self.exit_code = 128 + int(signum)


class WorkersDied(NeurosimError):
    """Worker processes kept dying (e.g. the OOM killer) after MAX_POOL_RESTARTS restarts."""

    exit_code = 1


class _Signalled(KeyboardInterrupt):
    """Raised in the main thread by the SIGINT/SIGTERM handler of :func:`_signals_raise`."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
MAX_POOL_RESTARTS = 2        # a worker killed from outside: restart the pool this many times


@contextlib.contextmanager
def _signals_raise():
    """SIGINT and SIGTERM raise :class:`_Signalled` in the main thread; once one arrived, both are
    ignored until the mission has cleaned up (a second Ctrl-C cannot cut the cleanup short).
    Handlers can be set in the main thread only; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        raise _Signalled(signum)

    old = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def resume_command(command_line, out_dir, scenario_path):
    """The command that continues this mission: ``command_line`` (or ``neurosim mission
    SCENARIO``) with ``--out out_dir --resume`` and without --force."""
    parts = shlex.split(command_line) if command_line else ["neurosim", "mission", scenario_path]
    kept, skip = [], False
    for p in parts:
        if skip:
            skip = False
        elif p == "--out":
            skip = True
        elif p not in ("--resume", "--force") and not p.startswith("--out="):
            kept.append(p)
    return shlex.join(kept + ["--out", out_dir, "--resume"])


# ====================================================================== executors
def _batches(R, per_task):
    return [(s, min(R, s + per_task)) for s in range(0, R, per_task)]


# Checkpoint evaluations per task at most (automatic batching): assumption, a few seconds of work
# at ~10^3 evaluations/s, so the progress bar (one step per finished batch) keeps moving; 25 runs
# of a monthly 10-year mission fit.
MAX_EVALUATIONS_PER_TASK = 3000


def _auto_per_task(R, workers, K=1):
    """Runs per task: about six tasks per worker, at most 25 runs and at most
    MAX_EVALUATIONS_PER_TASK checkpoint evaluations (K checkpoints per run), at least 1."""
    return max(1, min(25, math.ceil(R / (max(1, workers) * 6)), MAX_EVALUATIONS_PER_TASK // K))


def _workers(n):
    """Worker processes: ``n`` ≥ 1, or all cores for 0/None; negative counts are refused."""
    if n is not None and (not isinstance(n, int) or n < 0):
        raise ValidationError(f"--workers {n}: expected an integer ≥ 1 (0: all cores)")
    return n if n else (os.cpu_count() or 1)


PR_SET_PDEATHSIG = 1         # <linux/prctl.h>


def _die_with_parent(parent_pid):
    """End this worker when its parent dies: on Linux the kernel sends SIGKILL
    (prctl(PR_SET_PDEATHSIG)); everywhere a daemon thread exits when os.getppid() changes
    (re-parented), checked every second."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    if os.getppid() != parent_pid:
        os._exit(1)
    threading.Thread(target=watch, daemon=True, name="neurosim-parent-watch").start()


def _init_worker(model, parent_pid=None):
    """Worker start-up: Ctrl-C reaches the whole process group, but the parent ends the workers
    (so workers ignore SIGINT: no worker tracebacks; set here too for pools started outside the
    main thread); die with the parent; keep the model."""
    global _MODEL
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent_pid is not None:
        _die_with_parent(parent_pid)
    _MODEL = model


@contextlib.contextmanager
def _worker_environment(values):
    """Set environment ``values`` while workers start (they inherit the environment)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, val in saved.items():
            if val is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = val


def _stop_pool(pool):
    """Kill the pool's worker processes now and drop its queued tasks (no waiting for running
    batches). Uses the executor's process table (``_processes``, CPython)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        with contextlib.suppress(OSError, ValueError):
            p.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            p.join(5)


def _execute_local(model, todo, workers, on_done):
    """Run the batches ``todo`` on a spawn process pool, calling ``on_done((s, e), result)`` in
    this process as each finishes. A worker killed from outside breaks the pool: the finished
    batches are kept, the pool restarted for the rest (MAX_POOL_RESTARTS times), then
    :class:`WorkersDied`."""
    import concurrent.futures as cf
    import multiprocessing as mp
    from concurrent.futures.process import BrokenProcessPool
    ctx = mp.get_context("spawn")
    todo = list(todo)
    for attempt in range(MAX_POOL_RESTARTS + 1):
        pool = cf.ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx,
                                      initializer=_init_worker, initargs=(model, os.getpid()))
        futs, collected = {}, set()
        try:
            # submit spawns the workers: they inherit one BLAS thread and an ignored SIGINT
            with _worker_environment(BLAS_ENV), _sigint_ignored():
                futs = {pool.submit(run_batch, s, e): (s, e) for s, e in todo}
            for f in cf.as_completed(futs):
                on_done(futs[f], f.result())
                collected.add(futs[f])
            pool.shutdown(wait=True)
            return
        except BrokenProcessPool:
            _stop_pool(pool)
            succeeded = {b for f, b in futs.items()
                         if f.done() and not f.cancelled() and f.exception() is None}
            for f, b in futs.items():       # finished before the break, not yet collected
                if b in succeeded - collected:
                    on_done(b, f.result())
            todo = [b for b in todo if b not in succeeded]
            if not todo:
                return
            if attempt < MAX_POOL_RESTARTS:
                _note(f"a worker process died (killed from outside, e.g. by the out-of-memory "
                      f"killer); restarting the workers for the {len(todo)} unfinished batches "
                      f"(restart {attempt + 1} of {MAX_POOL_RESTARTS})")
        except BaseException:
            _stop_pool(pool)
            raise
    raise WorkersDied(f"worker processes died {MAX_POOL_RESTARTS + 1} times (killed from "
                      "outside, e.g. by the out-of-memory killer; try fewer --workers)")


SCHEDULER_TIMEOUT_S = 10     # --scheduler ADDR must answer within this many seconds


def _quiet_dask():
    """Silence distributed's logging and warnings (they would print pages during shutdown)."""
    import logging
    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    warnings.simplefilter("ignore")


def _dask_client(scheduler, workers):
    """(client, cluster or None): join ``scheduler`` (one line if nothing answers within
    SCHEDULER_TIMEOUT_S) or start a LocalCluster of ``workers`` processes."""
    from dask.distributed import Client, LocalCluster
    if scheduler:
        try:
            return Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            _quiet_dask()
            raise ValidationError(f"--scheduler {scheduler}: no Dask scheduler answered within "
                                  f"{SCHEDULER_TIMEOUT_S} s ({type(exc).__name__}); expected "
                                  "the address of a running scheduler, e.g. tcp://host:8786") \
                from None
    with _sigint_ignored(), warnings.catch_warnings():
        warnings.simplefilter("ignore")   # "port 8787 in use": there is no dashboard to serve
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    return Client(cluster), cluster


@contextlib.contextmanager
def _sigint_ignored():
    """Ignore SIGINT while worker processes start: they inherit the ignored disposition (Python
    then installs no KeyboardInterrupt handler), so a Ctrl-C to the process group reaches only
    this process, which ends the workers. A Ctrl-C while the workers start is lost."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _execute_dask(model, todo, workers, scheduler, on_done):
    try:
        from dask.distributed import as_completed
    except ImportError:
        raise ValidationError("--executor dask needs dask.distributed: pip install "
                              "'neurosim[dask]'") from None
    with _worker_environment(DASK_WORKER_ENV):
        client, cluster = _dask_client(scheduler, workers)
        try:
            mfut = client.scatter(model, broadcast=True)
            futs = {client.submit(run_batch, s, e, mfut, pure=False): (s, e) for s, e in todo}
            for f in as_completed(list(futs)):
                on_done(futs[f], f.result())
        except BaseException:
            _quiet_dask()
            raise
        finally:
            with contextlib.suppress(Exception):
                client.close(timeout=5)
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.close(timeout=5)


# ====================================================================== files and locks
def default_out_dir(scenario):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return os.path.join("neurosim-results", f"{scenario.name}-{stamp}")


def _latest_unfinished(scenario):
    cands = sorted(glob.glob(os.path.join("neurosim-results", f"{scenario.name}-*", ".partial")))
    return os.path.dirname(cands[-1]) if cands else None


def _fingerprint(scenario, per_task):
    return json.dumps({"scenario": scn.to_json(scenario)["values"], "runs_per_task": per_task},
                      sort_keys=True, default=str)


def _flat(values):
    """{"[section] key": value} of a fingerprint's scenario values."""
    out = {}
    for section, keys in (values or {}).items():
        for key, v in (keys.items() if isinstance(keys, dict) else [("", keys)]):
            out[f"[{section}] {key}"] = v
    return out


def fingerprint_differences(old, new, out_dir):
    """What differs between the scenario a results directory was started with (``old``
    fingerprint JSON) and this one (``new``), key by key: "[run] runs: 100 here, 200 in DIR"."""
    a, b = _flat(json.loads(new)["scenario"]), _flat(json.loads(old).get("scenario"))
    short = lambda v: _short(json.dumps(v, default=str))
    return [f"{k}: {short(a.get(k))} here, {short(b.get(k))} in {out_dir}"
            for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def _short(text, width=60):
    return text if len(text) <= width else text[:width] + "..."


LOCK_NAME = ".lock"
LOCK_UNREADABLE_GRACE_S = 60   # a lock file being written (empty) is taken as held this long


def _lock_holder(path):
    """(info dict, alive) of the lock file at ``path``: alive unless its pid is dead on this host
    (a lock from another host is taken as alive; an unreadable one while it is young)."""
    try:
        with open(path, encoding="utf-8") as f:
            info = json.loads(f.read())
        pid, host = int(info["pid"]), str(info["host"])
    except FileNotFoundError:
        return None, False
    except (OSError, ValueError, KeyError, TypeError):
        with contextlib.suppress(OSError):
            young = time.time() - os.path.getmtime(path) < LOCK_UNREADABLE_GRACE_S
            return {"pid": "?", "host": "?", "started_utc": "?"}, young
        return None, False
    if host != socket.gethostname():
        return info, True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return info, False
    except PermissionError:
        return info, True
    return info, True


def _held_message(out_dir, info):
    return (f"--out {out_dir}: another mission is writing there (pid {info.get('pid')} on "
            f"{info.get('host')}, started {info.get('started_utc')}; lock file "
            f"{os.path.join(out_dir, LOCK_NAME)}); wait for it or choose another --out")


def check_not_locked(out_dir):
    """Refuse early (before compiling) when a live mission holds ``out_dir``."""
    info, alive = _lock_holder(os.path.join(out_dir, LOCK_NAME))
    if alive:
        raise ValidationError(_held_message(out_dir, info))


@contextlib.contextmanager
def results_lock(out_dir):
    """Hold OUT/.lock (created with O_EXCL: pid, host, start time) while the mission writes
    ``out_dir``; a lock whose pid is dead on this host is taken over with a one-line note. The
    lock is removed on exit, also on an interrupt or an error."""
    path = os.path.join(out_dir, LOCK_NAME)
    me = {"pid": os.getpid(), "host": socket.gethostname(),
          "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            info, alive = _lock_holder(path)
            if alive:
                raise ValidationError(_held_message(out_dir, info)) from None
            if info is not None:
                _note(f"{path}: taking over the lock of pid {info.get('pid')} on "
                      f"{info.get('host')} (that process is no longer running)")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(me) + "\n")
        break
    else:
        raise ValidationError(f"--out {out_dir}: could not take the lock {path}")
    try:
        yield
    finally:
        info, _ = _lock_holder(path)
        if info is not None and info.get("pid") == me["pid"]:
            with contextlib.suppress(OSError):
                os.unlink(path)


def _remove_debris(*dirs):
    """Remove temporary files a kill left mid-write (``*.tmp*``: fileio's ``.NAME.XXXX.tmp`` and
    older ``NAME.tmp.npz``)."""
    for d in dirs:
        for path in glob.glob(os.path.join(d, "*.tmp*")) + glob.glob(os.path.join(d, ".*.tmp*")):
            with contextlib.suppress(OSError):
                os.unlink(path)


BATCH_NAME = re.compile(r"batch_(\d+)_(\d+)\.npz")


def _load_batches(partial, batches):
    """The finished batches in ``partial`` that belong to ``batches``: {(s, e): arrays}. A file
    that does not load or whose arrays do not hold runs s..e−1 (a kill mid-write) is removed and
    recomputed, with a one-line note."""
    done = {}
    wanted = set(batches)
    for path in sorted(glob.glob(os.path.join(partial, "batch_*.npz"))):
        m = BATCH_NAME.fullmatch(os.path.basename(path))
        if not m or (int(m.group(1)), int(m.group(2))) not in wanted:
            continue
        s, e = int(m.group(1)), int(m.group(2))
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            ok = np.array_equal(arrays["run_index"], np.arange(s, e)) and all(
                a.shape[:1] == (e - s,) for k, a in arrays.items() if k != "approximated")
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            ok = False
        if ok:
            done[(s, e)] = arrays
        else:
            _note(f"{path}: truncated or corrupt (a kill mid-write?); recomputing runs {s}..{e - 1}")
            with contextlib.suppress(OSError):
                os.unlink(path)
    return done


RESULT_FILES = ("summary.json", "checkpoints.csv", "runs.npz", "scenario.resolved.toml",
                "program.npz", "report.html")


# ====================================================================== the runner
def run_mission(scenario, out_dir=None, executor=None, workers=None, scheduler=None,
                resume=False, progress=True, command_line=None, force=False):
    """Run the mission described by ``scenario`` (a :class:`~neurosim.radiation.scenario.Scenario`)
    and write the output directory. Returns the summary dict. ``command_line`` (a string) is
    recorded in the provenance (the CLI passes the command that was run).

    Before any work: the options, ``out_dir`` (:func:`neurosim.fileio.check_output_dir`), the
    work estimate (:func:`check_work`; ``force`` lifts the limits and allows overwriting a
    finished results directory) and the lock (:func:`results_lock`). ``resume`` continues the
    unfinished mission in ``out_dir`` (or the latest one under neurosim-results/); with nothing
    to continue it starts one; on a finished directory it returns the saved summary. SIGINT and
    SIGTERM stop the workers, keep the finished batches and raise :class:`MissionInterrupted`
    naming the ``--resume`` command."""
    started = time.time()
    executor = executor or scenario["run.executor"]
    if executor not in ("local", "dask"):
        raise ValidationError(f"--executor {executor!r}: expected local or dask")
    n_workers = _workers(workers if workers is not None else scenario["run.workers"])
    if resume and out_dir is None:
        out_dir = _latest_unfinished(scenario)
        if out_dir is None:
            out_dir = default_out_dir(scenario)
            _note(f"--resume: no unfinished neurosim-results/{scenario.name}-* directory; "
                  f"starting the mission in {out_dir}")
    out_dir = out_dir or default_out_dir(scenario)
    fileio.check_output_dir(out_dir, "--out")
    if not force:               # with --force the estimate after compiling warns (once)
        check_work(scenario, estimate_work(scenario))
    check_not_locked(out_dir)
    if executor == "dask" and scheduler:
        _dask_client(scheduler, n_workers)[0].close()     # refuse an address early
    partial = os.path.join(out_dir, ".partial")
    state = _state(out_dir)
    if state == "finished" and resume:
        _refuse_other_mission(out_dir, _finished_differences(out_dir, scenario))
        _note(f"--resume: {out_dir} holds a finished mission; nothing to run")
        with open(os.path.join(out_dir, "summary.json"), encoding="utf-8") as f:
            return dict(json.load(f), out_dir=out_dir)
    if state == "finished" and not force:
        raise ValidationError(f"--out {out_dir}: already holds a finished mission; use another "
                              "--out, or --force to overwrite it")
    if state == "partial" and not resume and not force:
        raise ValidationError(f"--out {out_dir}: holds an unfinished mission; continue it with "
                              "--resume, or start over with --force")
    if resume and state == "empty":
        _note(f"--resume: {out_dir} has no unfinished mission; starting it")
    resuming = resume and state == "partial"
    per_task = scenario["run.runs_per_task"] or _auto_per_task(
        scenario["run.runs"], n_workers, len(scenario.checkpoint_times_days()))
    fp = _fingerprint(scenario, per_task)
    if resuming:
        per_task, fp = _resume_fingerprint(partial, scenario, fp, out_dir)
    model = prepare(scenario, _saved_program(partial) if resuming else None)
    check_work(scenario, estimate_work(scenario, model), force)
    os.makedirs(out_dir, exist_ok=True)
    with _signals_raise(), results_lock(out_dir):
        try:
            return _run_locked(scenario, model, out_dir, partial, resuming, fp, per_task,
                               executor, n_workers, scheduler, progress, command_line, started)
        except KeyboardInterrupt as exc:
            signum = getattr(exc, "signum", signal.SIGINT)
            n_done = len(glob.glob(os.path.join(partial, "batch_*.npz")))
            raise MissionInterrupted(
                f"interrupted by {signal.Signals(signum).name}: {n_done} finished batches kept in "
                f"{partial}; continue with: "
                f"{resume_command(command_line, out_dir, scenario.path)}", signum) from None
        except WorkersDied as exc:
            raise WorkersDied(f"{exc}; finished batches kept in {partial}; continue with: "
                              f"{resume_command(command_line, out_dir, scenario.path)}") from None


def _state(out_dir):
    """"partial" (OUT/.partial exists), "finished" (summary.json, no .partial) or "empty"."""
    if os.path.isdir(os.path.join(out_dir, ".partial")):
        return "partial"
    return "finished" if os.path.exists(os.path.join(out_dir, "summary.json")) else "empty"


def _resume_fingerprint(partial, scenario, fp, out_dir):
    """(runs per task, fingerprint) to resume with: the saved batching when only it differs; a
    ValidationError naming the differences when the scenario does."""
    try:
        with open(os.path.join(partial, "fingerprint.json"), encoding="utf-8") as f:
            old = f.read()
        json.loads(old)
    except (OSError, ValueError):
        return json.loads(fp)["runs_per_task"], fp
    _refuse_other_mission(out_dir, fingerprint_differences(old, fp, out_dir))
    per_task = json.loads(old).get("runs_per_task") or json.loads(fp)["runs_per_task"]
    return per_task, _fingerprint(scenario, per_task)


def _refuse_other_mission(out_dir, diffs):
    """ValidationError naming up to three differences (``diffs``) when there are any."""
    if diffs:
        raise ValidationError(f"--resume: {out_dir} was started with a different scenario: "
                              + "; ".join(diffs[:3]) + (f" (and {len(diffs) - 3} more)"
                                                        if len(diffs) > 3 else "")
                              + "; use another --out, or --force to start over")


def _finished_differences(out_dir, scenario):
    """Differences between the finished mission's scenario.resolved.toml and ``scenario``
    (``source`` strings aside: the resolved file rewrites them); none if it does not load."""
    try:
        old = scn.load(os.path.join(out_dir, "scenario.resolved.toml"))
    except NeurosimError:
        return []
    return [d for d in fingerprint_differences(_fingerprint(old, 0), _fingerprint(scenario, 0),
                                               out_dir) if not d.split(":")[0].endswith(" source")]


def _saved_program(partial):
    """The program compiled when the mission started (None if it is missing or unreadable)."""
    from neurosim.chip.program import ChipProgram
    path = os.path.join(partial, "program.npz")
    if not os.path.exists(path):
        return None
    try:
        return ChipProgram.load(path)
    except (NeurosimError, OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        _note(f"{path}: unreadable; compiling the program again")
        return None


def _run_locked(scenario, model, out_dir, partial, resuming, fp, per_task, executor, n_workers,
                scheduler, progress, command_line, started):
    """The part of :func:`run_mission` that writes, under the lock."""
    if not resuming:                 # a new mission (--force: over an older one): no stale files
        shutil.rmtree(partial, ignore_errors=True)
        for name in RESULT_FILES:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(out_dir, name))
    os.makedirs(partial, exist_ok=True)
    _remove_debris(out_dir, partial)
    program_path = os.path.join(partial, "program.npz")
    if not os.path.exists(program_path):
        model.program.save(program_path)
    fileio.write_text(os.path.join(partial, "fingerprint.json"), fp)
    R = scenario["run.runs"]
    batches = _batches(R, per_task)
    done = _load_batches(partial, batches)
    todo = [b for b in batches if b not in done]
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=R, initial=sum(e - s for s, e in done), unit="run",
                   desc=f"mission {scenario.name}", file=sys.stderr)

    def on_done(b, res):
        s, e = b
        fileio.save_npz(os.path.join(partial, f"batch_{s:06d}_{e:06d}.npz"), **res)
        done[b] = res
        if bar is not None:
            bar.update(e - s)

    t_run = time.time()
    try:
        if todo and executor == "dask":
            _execute_dask(model, todo, n_workers, scheduler, on_done)
        elif todo:
            _execute_local(model, todo, n_workers, on_done)
    finally:
        if bar is not None:
            bar.close()
    compute_s = time.time() - t_run
    keys = set.intersection(*(set(done[b]) for b in batches))   # batches of an older version
    merged = {k: np.concatenate([done[b][k] for b in batches])
              for k in done[batches[0]] if k in keys and k != "approximated"}
    merged["approximated"] = np.array([sum(int(done[b]["approximated"][0]) for b in batches)])
    summary = _write_outputs(scenario, model, merged, out_dir, time.time() - started, compute_s,
                             len(todo), n_workers, executor, command_line, started)
    shutil.rmtree(partial, ignore_errors=True)
    return summary


def _pct(a, q):
    return np.percentile(a, q, axis=0)


def _sha256(path):
    import hashlib
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def _git_commit():
    """The commit of the neurosim checkout this code runs from, or None (installed package)."""
    import subprocess
    here = os.path.dirname(os.path.abspath(__file__))
    if not os.path.exists(os.path.join(os.path.dirname(here), ".git")):
        return None
    try:
        r = subprocess.run(["git", "-C", here, "rev-parse", "HEAD"], capture_output=True,
                           text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def provenance(scenario, model, resolved_path, command_line=None, started=None):
    """What produced the results: versions (neurosim, its git commit when run from a checkout,
    Python, numpy, scipy, brian2, matplotlib — looked up without importing them), the command
    line, SHA-256 of the resolved scenario as saved (``sha256sum scenario.resolved.toml``), of the
    scenario file as given and of the model file, the scenario seed (run r draws from
    ``SeedSequence(seed, spawn_key=(r,))``), the platform and the start time (UTC) of the run
    (``started``, a ``time.time()`` value; default now)."""
    import importlib.metadata as md
    import platform
    import neurosim
    versions = {"neurosim": neurosim.__version__, "python": platform.python_version(),
                "numpy": np.__version__}
    for dist in ("scipy", "brian2", "matplotlib", "Cython"):
        try:
            versions[dist.lower()] = md.version(dist)
        except md.PackageNotFoundError:
            versions[dist.lower()] = None
    commit = _git_commit()
    if commit:
        versions["neurosim_git_commit"] = commit
    return {
        "versions": versions,
        "command_line": command_line or "neurosim.mission.run_mission(...) (library call)",
        "scenario_sha256": _sha256(resolved_path),
        "scenario_file": scenario.path, "scenario_file_sha256": _sha256(scenario.path),
        "model_file": model.model_path, "model_sha256": _sha256(model.model_path)
        if model.model_path else None,
        "seed": int(scenario["run.seed"]),
        "platform": platform.platform(),
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started or time.time())),
    }


def _write_outputs(scenario, model, m, out_dir, seconds, compute_s, n_tasks, workers, executor,
                   command_line=None, started=None):
    times = model.times_days
    K = len(times)
    R = m["accuracy"].shape[0]
    req = scenario["mission.accuracy_requirement"]
    acc = m["accuracy"].astype(np.float64)
    reliable = acc >= req
    dead_total = m["dead_neurons"].sum(axis=2)
    viol = (m["error_mean"] > m["erf"]) & np.isfinite(m["erf"])
    rows = []
    for k in range(K):
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
            "erf_mean": np.nanmean(m["erf"][:, k]) if np.isfinite(m["erf"][:, k]).any()
            else float("nan"),
            "fep_mean": np.nanmean(m["fep"][:, k]) if np.isfinite(m["fep"][:, k]).any()
            else float("nan"),
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
        rows.append(row)
    header = list(rows[0])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([f"{x:.6g}" if isinstance(x, (float, np.floating)) else x
                    for x in row.values()])
    os.makedirs(out_dir, exist_ok=True)
    fileio.write_text(os.path.join(out_dir, "checkpoints.csv"), buf.getvalue())
    arrays = {k: v for k, v in m.items()}
    arrays["time_days"] = times
    if model.core_spikes is not None:
        arrays["core_spikes"] = model.core_spikes
    arrays["power_components"] = np.array(POWER_COMPONENTS)
    fileio.save_npz(os.path.join(out_dir, "runs.npz"), **arrays)
    resolved = os.path.join(out_dir, "scenario.resolved.toml")
    scn.write_resolved(scenario, resolved)
    model.program.save(os.path.join(out_dir, "program.npz"))
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
    fileio.write_text(os.path.join(out_dir, "summary.json"),
                 json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


# ====================================================================== CLI and bench
def load_scenario(path=None, runs=None, model=None, chip=None, workers=None):
    """The scenario at ``path`` (default: the shipped leo_10y) with command-line overrides:
    ``runs`` ([run] runs), ``model`` ([run] model; a path that exists from the current directory
    is made absolute) and ``chip`` ([run] profile); ``workers`` (--workers) is only checked here,
    before the scenario is read."""
    from neurosim import resources
    path = path or resources.resolve(DEFAULT_SCENARIO, "scenarios")
    if not os.path.exists(path):
        path = resources.resolve(path, "scenarios")
    if runs is not None and (not isinstance(runs, int) or runs < 1):
        raise ValidationError(f"--runs {runs}: expected an integer ≥ 1")
    if workers is not None and (not isinstance(workers, int) or workers < 0):
        raise ValidationError(f"--workers {workers}: expected an integer ≥ 1 (0: all cores)")
    overrides = {}
    if runs is not None:
        overrides["run.runs"] = runs
    if model is not None:
        found = model if os.path.exists(model) else resources.resolve(model, "models")
        if not os.path.isfile(found):
            raise InputFileError(f"--model {model}: no such file (expected an MLP .npz, e.g. "
                                 "models/digits_nest.npz)")
        overrides["run.model"] = os.path.abspath(found)
    if chip is not None:
        overrides["run.profile"] = chip
    return scn.load(path, overrides or None)


def command_line(args):
    """The ``neurosim mission`` command equivalent to the parsed ``args`` (for the provenance)."""
    parts = ["neurosim", "mission"] + ([args.scenario] if args.scenario else [])
    for opt in ("runs", "out", "executor", "scheduler", "workers", "model", "chip"):
        v = getattr(args, opt, None)
        if v is not None:
            parts += [f"--{opt}", str(v)]
    for flag in ("resume", "force", "no_report", "json"):
        if getattr(args, flag, False):
            parts.append("--" + flag.replace("_", "-"))
    return shlex.join(parts)


def terminal_table(h, summary, report_path=None):
    """The short table ``neurosim mission`` prints, from :func:`neurosim.report.html.headline`
    (the numbers of the report's headline cards, so the terminal and the report agree)."""
    from neurosim.report.html import num, pct, power_text
    req = h["requirement"]
    rows = [
        ("final accuracy p5 / p50 / p95",
         f"{pct(h['final_accuracy_p05'])} / {pct(h['final_accuracy_p50'])} / "
         f"{pct(h['final_accuracy_p95'])}  (fault-free {pct(h['baseline_accuracy'])})"),
        (f"reliability (accuracy >= {pct(req, 0)})" if req is not None else "reliability",
         f"{pct(h['reliability_final'])} of runs at the end"),
        ("dead neurons", f"{num(h['dead_neurons_final_mean'])} at the end (mean over runs)"),
        ("power", f"{power_text(h['power_mw_initial'])} at launch, "
                  f"{power_text(h['power_mw_final'])} at the end; "
                  f"{num(h['energy_per_inference_uj'])} µJ per inference"
                  + (f"; budget {power_text(h['budget_mw'])}" if h["budget_mw"] is not None
                     else "")),
    ]
    if h["erf_safe"] is None:
        rows.append(("Erf safe", "– (bounds not recorded)"))
    else:
        v = h["erf_violated_checkpoints"]
        rows.append(("Erf safe", "yes (mean observed error <= Erf at every checkpoint)"
                     if h["erf_safe"] else f"NO (mean observed error > Erf at {v} of "
                     f"{summary['checkpoints']} checkpoints)"))
    if report_path:
        rows.append(("report", report_path))
    width = max(len(k) for k, _ in rows)
    head = (f"mission {summary['scenario']}: {os.path.basename(str(summary.get('model')))} on "
            f"{summary.get('chip')} ({summary.get('cores')} cores), {summary['runs']} runs x "
            f"{summary['checkpoints']} checkpoints over {summary['duration_years']:g} years in "
            f"{summary['seconds']:.1f} s")
    return "\n".join([head] + [f"  {k:<{width}}  {v}" for k, v in rows])


def run_cli(args):
    """``neurosim mission``: see cli._add_mission. Runs the mission, writes report.html into the
    results directory (unless --no-report) and prints the headline table (or, with --json, the
    summary with a ``report`` key)."""
    scenario = load_scenario(args.scenario, args.runs, getattr(args, "model", None),
                             getattr(args, "chip", None), args.workers)
    summary = run_mission(scenario, out_dir=args.out, executor=args.executor,
                          workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                          progress=not args.json, command_line=command_line(args),
                          force=getattr(args, "force", False))
    from neurosim.report import write_report
    from neurosim.report.html import headline
    from neurosim.report.results import MissionResults
    # a resumed finished mission whose report a kill cut short gets it now
    report = None if getattr(args, "no_report", False) else write_report(summary["out_dir"])
    summary = dict(summary, report=report)
    if not args.json:
        h = headline(MissionResults(summary["out_dir"]))
        print(terminal_table(h, summary, report))
        if report is None:
            print(f"  results: {summary['out_dir']}")
    return summary


def bench_mission(quick=False, verbose=True, scenario=None):
    """``neurosim bench mission``: leo_10y with 1,000 runs (quick: 100), 500 evaluation inputs,
    rate mode, on 1 worker and on all workers; reports checkpoint evaluations per second and the
    scaling. Outputs go to a temporary directory."""
    import tempfile
    sc = load_scenario(scenario, 100 if quick else 1000)
    values = dict(sc.values)
    values["run"] = dict(values["run"], eval_inputs=500, mode="rate")
    sc = scn.Scenario(sc.path, values, sc.sources)
    cores = os.cpu_count() or 1
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for w in sorted({1, cores}):
            s = run_mission(sc, out_dir=os.path.join(tmp, f"w{w}"), executor="local", workers=w,
                            progress=verbose)
            results[w] = s
            if verbose:
                print(f"workers {w}: {s['seconds']:.1f} s total, "
                      f"{s['checkpoint_evals_per_s']:.0f} checkpoint evaluations/s "
                      f"({s['evaluations_computed']} of {s['checkpoint_evaluations']} computed)")
    one, many = results[1], results[max(results)]
    out = {"scenario": sc.name, "runs": one["runs"], "checkpoints": one["checkpoints"],
           "eval_inputs": one["eval_inputs"], "workers": max(results),
           "seconds": many["seconds"], "seconds_1_worker": one["seconds"],
           "checkpoint_evals_per_s": many["checkpoint_evals_per_s"],
           "checkpoint_evals_per_s_1_worker": one["checkpoint_evals_per_s"],
           "evaluations_computed": many["evaluations_computed"],
           "scaling_1_to_n": (many["checkpoint_evals_per_s"] / one["checkpoint_evals_per_s"])
           if one["checkpoint_evals_per_s"] else None,
           "identical_results": one["final_accuracy_p50"] == many["final_accuracy_p50"]
           and one["upsets_total_mean"] == many["upsets_total_mean"]}
    if verbose:
        print(f"scaling 1 -> {max(results)} workers: {out['scaling_1_to_n']:.2f}x")
    return out
