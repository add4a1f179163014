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
import csv
import glob
import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass

import numpy as np

from neurosim.errors import InputFileError, ValidationError
from neurosim.radiation import scenario as scn
from neurosim.radiation.timeline import DAYS_PER_YEAR, ChipLayout, sample

POWER_COMPONENTS = ("leakage", "neuron_updates", "synaptic_events", "spikes", "hops", "latchup")
BLAS_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
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


def _model_path(path, scenario_path):
    from neurosim import resources
    if os.path.isabs(path):
        return path
    here = os.path.join(os.path.dirname(os.path.abspath(scenario_path)), path)
    if os.path.exists(here):
        return here
    if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(scenario_path)), "..", path)):
        return os.path.join(os.path.dirname(os.path.abspath(scenario_path)), "..", path)
    return resources.resolve(path, "models")


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
    P = len(POWER_COMPONENTS)
    out = {
        "accuracy": np.zeros((R, K), np.float32),
        "error_mean": np.zeros((R, K), np.float32), "error_max": np.zeros((R, K), np.float32),
        "dead_neurons": np.zeros((R, K, G), np.int32), "dead_synapses": np.zeros((R, K, G),
                                                                                  np.int32),
        "dead_cores": np.zeros((R, K), np.int16), "live_upsets": np.zeros((R, K), np.int32),
        "upsets": np.zeros((R, K), np.int32), "spares_used": np.zeros((R, K), np.int16),
        "latched_cores": np.zeros((R, K), np.int16), "erf": np.full((R, K), np.nan),
        "fep": np.full((R, K), np.nan), "crash_only": np.zeros((R, K), bool),
        "power_mw": np.zeros((R, K), np.float32), "evaluated": np.zeros((R, K), bool),
        "power_breakdown_mw": np.zeros((R, K, P), np.float32),
        "core_dead_neurons": np.zeros((R, K, C), np.int16),
        "energy_wh": np.zeros(R), "solar_events": np.zeros(R, np.int32),
        "run_index": np.arange(start, stop),
    }
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


# ====================================================================== executors
def _batches(R, per_task):
    return [(s, min(R, s + per_task)) for s in range(0, R, per_task)]


def _auto_per_task(R, workers):
    return max(1, min(25, math.ceil(R / (max(1, workers) * 6))))


def _workers(n):
    return n if n and n > 0 else (os.cpu_count() or 1)


def _execute_local(model, todo, workers, on_done):
    import concurrent.futures as cf
    import multiprocessing as mp
    saved = {k: os.environ.get(k) for k in BLAS_ENV}
    os.environ.update(BLAS_ENV)
    try:
        ctx = mp.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                    initializer=_init_worker, initargs=(model,)) as pool:
            futs = {pool.submit(run_batch, s, e): (s, e) for s, e in todo}
            try:
                for f in cf.as_completed(futs):
                    on_done(futs[f], f.result())
            except BaseException:
                for f in futs:
                    f.cancel()
                raise
    finally:
        for k, val in saved.items():
            if val is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = val


def _execute_dask(model, todo, workers, scheduler, on_done):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ValidationError("--executor dask needs dask.distributed: pip install "
                              "'neurosim[dask]'") from None
    saved = {k: os.environ.get(k) for k in BLAS_ENV}
    os.environ.update(BLAS_ENV)
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        try:
            mfut = client.scatter(model, broadcast=True)
            futs = {}
            for s, e in todo:
                futs[client.submit(run_batch, s, e, mfut, pure=False)] = (s, e)
            for f in as_completed(list(futs)):
                on_done(futs[f], f.result())
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
        for k, val in saved.items():
            if val is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = val


# ====================================================================== files
def _atomic_savez(path, **arrays):
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _atomic_text(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def default_out_dir(scenario):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return os.path.join("neurosim-results", f"{scenario.name}-{stamp}")


def _latest_unfinished(scenario):
    cands = sorted(glob.glob(os.path.join("neurosim-results", f"{scenario.name}-*", ".partial")))
    return os.path.dirname(cands[-1]) if cands else None


def _fingerprint(scenario, per_task):
    return json.dumps({"scenario": scn.to_json(scenario)["values"], "runs_per_task": per_task},
                      sort_keys=True, default=str)


# ====================================================================== the runner
def run_mission(scenario, out_dir=None, executor=None, workers=None, scheduler=None,
                resume=False, progress=True, command_line=None):
    """Run the mission described by ``scenario`` (a :class:`~neurosim.radiation.scenario.Scenario`)
    and write the output directory. Returns the summary dict. ``command_line`` (a string) is
    recorded in the provenance (the CLI passes the command that was run)."""
    t0 = time.time()
    run = scenario.values["run"]
    R = run["runs"]
    executor = executor or run["executor"]
    if executor not in ("local", "dask"):
        raise ValidationError(f"--executor {executor!r}: expected local or dask")
    n_workers = _workers(workers if workers is not None else run["workers"])
    if resume and out_dir is None:
        out_dir = _latest_unfinished(scenario)
        if out_dir is None:
            raise ValidationError(f"--resume: no unfinished neurosim-results/{scenario.name}-* "
                                  "directory; give --out DIR")
    if resume and not os.path.isdir(os.path.join(out_dir, ".partial")):
        raise ValidationError(f"--resume: {out_dir} has no unfinished mission (no .partial/)")
    out_dir = out_dir or default_out_dir(scenario)
    partial = os.path.join(out_dir, ".partial")
    per_task = run["runs_per_task"] or _auto_per_task(R, n_workers)
    fp = _fingerprint(scenario, per_task)
    program = None
    if resume:
        try:
            with open(os.path.join(partial, "fingerprint.json")) as f:
                old = f.read()
        except OSError:
            old = None
        if old is not None and old != fp:
            old_pt = json.loads(old).get("runs_per_task")
            if json.loads(old)["scenario"] == json.loads(fp)["scenario"]:
                per_task, fp = old_pt, _fingerprint(scenario, old_pt)
            else:
                raise ValidationError(f"--resume: {out_dir} was started with a different "
                                      "scenario; use a new --out")
        if os.path.exists(os.path.join(partial, "program.npz")):
            from neurosim.chip.program import ChipProgram
            program = ChipProgram.load(os.path.join(partial, "program.npz"))
    elif os.path.exists(os.path.join(out_dir, "summary.json")) or os.path.isdir(partial):
        raise ValidationError(f"--out {out_dir}: already holds a mission; use --resume or "
                              "another directory")
    model = prepare(scenario, program)
    os.makedirs(partial, exist_ok=True)
    if program is None:
        model.program.save(os.path.join(partial, "program.npz"))
    _atomic_text(os.path.join(partial, "fingerprint.json"), fp)
    batches = _batches(R, per_task)
    done = {}
    for path in glob.glob(os.path.join(partial, "batch_*.npz")):
        s, e = (int(x) for x in os.path.basename(path)[6:-4].split("_"))
        if (s, e) in batches:
            with np.load(path) as z:
                done[(s, e)] = {k: z[k] for k in z.files}
    todo = [b for b in batches if b not in done]
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=R, initial=sum(e - s for s, e in done), unit="run",
                   desc=f"mission {scenario.name}", file=sys.stderr)

    def on_done(b, res):
        s, e = b
        _atomic_savez(os.path.join(partial, f"batch_{s:06d}_{e:06d}.npz"), **res)
        done[b] = res
        if bar is not None:
            bar.update(e - s)

    t_run = time.time()
    try:
        if todo:
            if executor == "dask":
                _execute_dask(model, todo, n_workers, scheduler, on_done)
            else:
                _execute_local(model, todo, n_workers, on_done)
    finally:
        if bar is not None:
            bar.close()
    compute_s = time.time() - t_run
    keys = set.intersection(*(set(done[b]) for b in batches))   # batches of an older version
    merged = {k: np.concatenate([done[b][k] for b in batches])
              for k in done[batches[0]] if k in keys and k != "approximated"}
    merged["approximated"] = np.array([sum(int(done[b]["approximated"][0]) for b in batches)])
    summary = _write_outputs(scenario, model, merged, out_dir, time.time() - t0, compute_s,
                             len(todo), n_workers, executor, command_line)
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


def provenance(scenario, model, resolved_path, command_line=None):
    """What produced the results: versions (neurosim, its git commit when run from a checkout,
    Python, numpy, scipy, brian2, matplotlib — looked up without importing them), the command
    line, SHA-256 of the resolved scenario as saved (``sha256sum scenario.resolved.toml``), of the
    scenario file as given and of the model file, the scenario seed (run r draws from
    ``SeedSequence(seed, spawn_key=(r,))``), the platform and the start time (UTC)."""
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
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time())),
    }


def _write_outputs(scenario, model, m, out_dir, seconds, compute_s, n_tasks, workers, executor,
                   command_line=None):
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
    lines = []
    header = list(rows[0])
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([f"{x:.6g}" if isinstance(x, (float, np.floating)) else x
                    for x in row.values()])
    del lines
    os.makedirs(out_dir, exist_ok=True)
    _atomic_text(os.path.join(out_dir, "checkpoints.csv"), buf.getvalue())
    arrays = {k: v for k, v in m.items()}
    arrays["time_days"] = times
    if model.core_spikes is not None:
        arrays["core_spikes"] = model.core_spikes
    arrays["power_components"] = np.array(POWER_COMPONENTS)
    _atomic_savez(os.path.join(out_dir, "runs.npz"), **arrays)
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
        "provenance": provenance(scenario, model, resolved, command_line),
    }
    _atomic_text(os.path.join(out_dir, "summary.json"),
                 json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


# ====================================================================== CLI and bench
def load_scenario(path=None, runs=None, model=None, chip=None):
    """The scenario at ``path`` (default: the shipped leo_10y) with command-line overrides:
    ``runs`` ([run] runs), ``model`` ([run] model; a path that exists from the current directory
    is made absolute) and ``chip`` ([run] profile)."""
    from neurosim import resources
    path = path or resources.resolve(DEFAULT_SCENARIO, "scenarios")
    if not os.path.exists(path):
        path = resources.resolve(path, "scenarios")
    if runs is not None and (not isinstance(runs, int) or runs < 1):
        raise ValidationError(f"--runs {runs}: expected an integer ≥ 1")
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
    import shlex
    parts = ["neurosim", "mission"] + ([args.scenario] if args.scenario else [])
    for opt in ("runs", "out", "executor", "scheduler", "workers", "model", "chip"):
        v = getattr(args, opt, None)
        if v is not None:
            parts += [f"--{opt}", str(v)]
    for flag in ("resume", "no_report", "json"):
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
                             getattr(args, "chip", None))
    summary = run_mission(scenario, out_dir=args.out, executor=args.executor,
                          workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                          progress=not args.json, command_line=command_line(args))
    from neurosim.report import write_report
    from neurosim.report.html import headline
    from neurosim.report.results import MissionResults
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
