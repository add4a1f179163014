"""Running a mission: :func:`run_mission` with its results directory, lock and resume.

Runs go to workers in batches (tasks; :mod:`neurosim.mission.executors`); each finished batch is
written to ``OUT/.partial/batch_START_END.npz`` (temporary name, then rename). ``resume=True``
reuses the batches already there (the resolved scenario and the compiled program are checked to be
the same) and computes only the missing ones. When all are done the outputs are written, each
atomically (:func:`neurosim.mission.results.write_outputs`).
"""
import contextlib
import glob
import json
import os
import re
import shutil
import signal
import socket
import sys
import time
import zipfile

import numpy as np
from tqdm import tqdm

from neurosim import fileio
from neurosim.chip.program import ChipProgram
from neurosim.errors import NeurosimError, ValidationError
from neurosim.mission import scenario as scn
from neurosim.mission.executors import (MissionInterrupted, WorkersDied, _auto_per_task,
                                        _batches, _dask_client, _execute_dask, _execute_local,
                                        _signals_raise, _workers)
from neurosim.mission.prepare import prepare
from neurosim.mission.results import RESULT_FILES
from neurosim.mission.writer import write_outputs
from neurosim.mission.work import check_work, estimate_work, note


def default_out_dir(scenario):
    """neurosim-results/NAME-YYYYmmdd-HHMMSS (local time)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return os.path.join("neurosim-results", f"{scenario.name}-{stamp}")


def _latest_unfinished(scenario):
    """The newest neurosim-results/NAME-* directory with a .partial, or None."""
    cands = sorted(glob.glob(os.path.join("neurosim-results", f"{scenario.name}-*", ".partial")))
    return os.path.dirname(cands[-1]) if cands else None


def _fingerprint(scenario, per_task):
    """JSON of what must match for a resume: the scenario's values and the batching."""
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


def _held_error(out_dir, info):
    """The error for ``out_dir`` locked by the live mission ``info`` (pid, host, start)."""
    return ValidationError(
        f"argument 'out_dir' {out_dir}: another mission is writing there (pid {info.get('pid')} "
        f"on {info.get('host')}, started {info.get('started_utc')}; lock file "
        f"{os.path.join(out_dir, LOCK_NAME)}); wait for it or choose another argument 'out_dir'",
        param="out_dir")


def check_not_locked(out_dir):
    """Refuse early (before compiling) when a live mission holds ``out_dir``."""
    info, alive = _lock_holder(os.path.join(out_dir, LOCK_NAME))
    if alive:
        raise _held_error(out_dir, info)


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
                raise _held_error(out_dir, info) from None
            if info is not None:
                note(f"{path}: taking over the lock of pid {info.get('pid')} on "
                      f"{info.get('host')} (that process is no longer running)")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(me) + "\n")
        break
    else:
        raise ValidationError(f"argument 'out_dir' {out_dir}: could not take the lock {path}",
                              param="out_dir")
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
            note(f"{path}: truncated or corrupt (a kill mid-write?); recomputing runs {s}..{e - 1}")
            with contextlib.suppress(OSError):
                os.unlink(path)
    return done



def run_mission(scenario, out_dir=None, executor=None, workers=None, scheduler=None,
                resume=False, progress=True, command_line=None, force=False):
    """Run the mission described by ``scenario`` (a :class:`~neurosim.mission.scenario.Scenario`)
    and write the output directory. Returns the summary dict. ``command_line`` (a string) is
    recorded in the provenance (the CLI passes the command that was run).

    Before any work: the options, ``out_dir`` (:func:`neurosim.fileio.check_output_dir`), the
    work estimate (:func:`check_work`; ``force`` lifts the limits and allows overwriting a
    finished results directory) and the lock (:func:`results_lock`). ``resume`` continues the
    unfinished mission in ``out_dir`` (or the latest one under neurosim-results/); with nothing
    to continue it starts one; on a finished directory it returns the saved summary. SIGINT and
    SIGTERM stop the workers, keep the finished batches and raise :class:`MissionInterrupted`
    saying how to continue (:meth:`~neurosim.mission.executors.MissionStopped.continue_with`)."""
    started = time.time()
    executor = executor or scenario["run.executor"]
    if executor not in ("local", "dask"):
        raise ValidationError(f"argument 'executor' {executor!r}: expected local or dask",
                              param="executor")
    n_workers = _workers(workers if workers is not None else scenario["run.workers"])
    if resume and out_dir is None:
        out_dir = _latest_unfinished(scenario)
        if out_dir is None:
            out_dir = default_out_dir(scenario)
            note(f"resume: no unfinished neurosim-results/{scenario.name}-* directory; "
                  f"starting the mission in {out_dir}")
    out_dir = out_dir or default_out_dir(scenario)
    fileio.check_output_dir(out_dir, param="out_dir")
    if not force:               # with force the estimate after compiling warns (once)
        check_work(scenario, estimate_work(scenario))
    check_not_locked(out_dir)
    if executor == "dask" and scheduler:
        _dask_client(scheduler, n_workers)[0].close()     # refuse an address early
    partial = os.path.join(out_dir, ".partial")
    state = _state(out_dir)
    if state == "finished" and resume:
        _refuse_other_mission(out_dir, _finished_differences(out_dir, scenario))
        note(f"resume: {out_dir} holds a finished mission; nothing to run")
        with open(os.path.join(out_dir, "summary.json"), encoding="utf-8") as f:
            return dict(json.load(f), out_dir=out_dir)
    if state == "finished" and not force:
        raise ValidationError(f"argument 'out_dir' {out_dir}: already holds a finished mission; "
                              "use another argument 'out_dir', or argument 'force' to overwrite "
                              "it", param="out_dir")
    if state == "partial" and not resume and not force:
        raise ValidationError(f"argument 'out_dir' {out_dir}: holds an unfinished mission; "
                              "continue it with argument 'resume', or start over with argument "
                              "'force'", param="out_dir")
    if resume and state == "empty":
        note(f"resume: {out_dir} has no unfinished mission; starting it")
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
                f"{partial}", signum, out_dir) from None
        except WorkersDied as exc:
            raise WorkersDied(f"{exc}; finished batches kept in {partial}", out_dir,
                              exc.param) from None


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
        raise ValidationError(f"argument 'resume': {out_dir} was started with a different "
                              "scenario: " + "; ".join(diffs[:3])
                              + (f" (and {len(diffs) - 3} more)" if len(diffs) > 3 else "")
                              + "; use another argument 'out_dir', or argument 'force' to start "
                              "over", param="resume")


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
    path = os.path.join(partial, "program.npz")
    if not os.path.exists(path):
        return None
    try:
        return ChipProgram.load(path)
    except (NeurosimError, OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        note(f"{path}: unreadable; compiling the program again")
        return None


def _run_locked(scenario, model, out_dir, partial, resuming, fp, per_task, executor, n_workers,
                scheduler, progress, command_line, started):
    """The part of :func:`run_mission` that writes, under the lock."""
    if not resuming:                 # a new mission (force: over an older one): no stale files
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
    summary = write_outputs(scenario, model, merged, out_dir, time.time() - started, compute_s,
                             len(todo), n_workers, executor, command_line, started)
    shutil.rmtree(partial, ignore_errors=True)
    return summary


