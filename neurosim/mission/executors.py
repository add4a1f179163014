"""Where a mission's batches of runs execute: ``local`` (a process pool, ``spawn`` start, one BLAS
thread per worker) and ``dask`` (a ``LocalCluster`` started on demand, or the scheduler at
``scheduler`` joined); with the robustness around them: SIGINT/SIGTERM raise in the main thread and
are ignored by workers, workers die with their parent, a pool broken by a killed worker is
restarted for the unfinished batches (:data:`MAX_POOL_RESTARTS` times).
"""
import concurrent.futures as cf
import contextlib
import ctypes
import logging
import math
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import warnings
from concurrent.futures.process import BrokenProcessPool

from neurosim.errors import NeurosimError, ValidationError
from neurosim.mission.evaluate import run_batch, set_worker_model
from neurosim.mission.work import note

BLAS_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# Dask workers of a LocalCluster log only critical messages: an interrupt cancels their tasks,
# and each cancelled task would print a warning; a worker whose heartbeat meets the closing
# scheduler logs an error with a traceback. A task's exception, or a dead worker, still reaches
# this process through the task's future.
DASK_WORKER_ENV = dict(BLAS_ENV, DASK_LOGGING__DISTRIBUTED="critical")


class MissionStopped(NeurosimError):
    """A mission that stopped before its end, its finished batches kept in ``out_dir`` for
    ``resume=True``. The message is ``stopped`` (what happened), then how to continue: the Python
    call by default; :meth:`continue_with` puts another way (the CLI: its command line)."""

    def __init__(self, stopped, out_dir=None, param=None):
        self.stopped, self.out_dir = stopped, out_dir
        super().__init__(stopped if out_dir is None else
                         f"{stopped}; continue with: run_mission(scenario, out_dir={out_dir!r}, "
                         "resume=True)", param)

    def continue_with(self, how):
        """This error, its message ending with ``continue with: how``."""
        self.args = (f"{self.stopped}; continue with: {how}",)
        return self


class MissionInterrupted(MissionStopped):
    """SIGINT or SIGTERM stopped the mission. The exit code is the shell's 128 + signal number:
    130 for SIGINT (Ctrl-C), 143 for SIGTERM."""

    def __init__(self, stopped, signum, out_dir=None):
        super().__init__(stopped, out_dir)
        self.exit_code = 128 + int(signum)


class WorkersDied(MissionStopped):
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


def _batches(R, per_task):
    """(start, stop) of each task's runs, ``per_task`` runs each (the last may be shorter)."""
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
        raise ValidationError(f"argument 'workers' {n}: expected an integer ≥ 1 (0: all cores)",
                              param="workers")
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
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent_pid is not None:
        _die_with_parent(parent_pid)
    set_worker_model(model)


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
                note(f"a worker process died (killed from outside, e.g. by the out-of-memory "
                      f"killer); restarting the workers for the {len(todo)} unfinished batches "
                      f"(restart {attempt + 1} of {MAX_POOL_RESTARTS})")
        except BaseException:
            _stop_pool(pool)
            raise
    raise WorkersDied(f"worker processes died {MAX_POOL_RESTARTS + 1} times (killed from "
                      "outside, e.g. by the out-of-memory killer; try fewer argument 'workers')",
                      param="workers")


SCHEDULER_TIMEOUT_S = 10     # the Dask scheduler at ``scheduler`` must answer within this many s


def _quiet_dask():
    """Silence distributed's logging and warnings (they would print pages during shutdown)."""
    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    warnings.simplefilter("ignore")


def _dask_client(scheduler, workers):
    """(client, cluster or None): join ``scheduler`` (one line if nothing answers within
    SCHEDULER_TIMEOUT_S) or start a LocalCluster of ``workers`` processes."""
    from dask.distributed import Client, LocalCluster   # optional dependency (extra "dask")
    if scheduler:
        try:
            return Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            _quiet_dask()
            raise ValidationError(f"argument 'scheduler' {scheduler}: no Dask scheduler answered "
                                  f"within {SCHEDULER_TIMEOUT_S} s ({type(exc).__name__}); "
                                  "expected the address of a running scheduler, e.g. "
                                  "tcp://host:8786", param="scheduler") from None
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
    """Run the batches ``todo`` on Dask (the model scattered to every worker once), calling
    ``on_done((s, e), result)`` as each finishes."""
    try:
        from dask.distributed import as_completed   # optional dependency (extra "dask")
    except ImportError:
        raise ValidationError("argument 'executor' dask needs dask.distributed: pip install "
                              "'neurosim[dask]'", param="executor") from None
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


