"""Missions under bad input, kills, interrupts, races and resume (issue 12).

Subprocess tests run ``python -m neurosim mission`` on a tiny scenario and signal or kill it after
its first batch file appears. Waits are bounded (they fail only if something hangs); nothing here
asserts how long anything took."""
import calendar
import json
import math
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurosim import resources
from neurosim import mission
from neurosim.mission import executors, runner
from neurosim.cli import main
from neurosim.errors import NeurosimError
from neurosim.mission import scenario as scn
from test_mission import CHILD_ENV, PACKAGE_PARENT, ROOT, SMALL, _runs, _same

RUNS = 8
HANG = 120          # seconds: a wait longer than this means the process hangs (test fails)
ENV = CHILD_ENV


def _write(tmp_path, name="tiny", text=None, **replace):
    """SMALL with RUNS runs (one per batch) and the given line replacements."""
    text = text if text is not None else SMALL.replace("runs = 6", f"runs = {RUNS}")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    p = tmp_path / f"{name}.toml"
    p.write_text(text)
    return str(p)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("robust"))


@pytest.fixture(scope="module")
def reference(tiny, tmp_path_factory):
    """An uninterrupted run of the tiny scenario: (runs.npz arrays, summary)."""
    out = tmp_path_factory.mktemp("ref") / "out"
    summary = mission.run_mission(scn.load(tiny), out_dir=str(out), workers=1, progress=False)
    return _runs(out), summary


def _start(args):
    return subprocess.Popen([sys.executable, "-m", "neurosim", "mission", *args], env=ENV,
                            cwd=PACKAGE_PARENT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def _children(pid):
    """Pids of the process's multiprocessing workers (not its resource tracker)."""
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            out += [int(c) for c in f.read().split()]
    workers = []
    for c in out:
        try:
            with open(f"/proc/{c}/cmdline", "rb") as f:
                if b"spawn_main" in f.read():
                    workers.append(c)
        except OSError:
            pass
    return workers


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(cond, proc=None):
    deadline = time.time() + HANG
    while time.time() < deadline:
        if cond():
            return True
        if proc is not None and proc.poll() is not None:
            return cond()
        time.sleep(0.05)
    return False


def _first_batch_and_workers(proc, out, n_workers=2):
    partial = out / ".partial"
    assert _wait_for(lambda: any(partial.glob("batch_*.npz")), proc), "no batch was written"
    assert _wait_for(lambda: len(_children(proc.pid)) >= n_workers, proc)
    return _children(proc.pid)


def _cleanup(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _resume_from_message(err):
    """Run the command the message names (through cli.main) and return its exit code."""
    cmd = err.split("continue with: ", 1)[1].strip()
    argv = shlex.split(cmd)
    assert argv[:2] == ["neurosim", "mission"] and "--resume" in argv
    return main(argv[1:])


# ---------------------------------------------------------------------- interrupts
# Tests marked slow keep the default run short; each names the default test that covers the same
# behaviour. SIGTERM takes the path of SIGINT (Ctrl-C), which the default run checks.
@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130),
                                      pytest.param(signal.SIGTERM, 143, marks=pytest.mark.slow)])
def test_interrupt_keeps_batches_ends_workers_and_resumes(tiny, reference, tmp_path, sig, code):
    out = tmp_path / "out"
    proc = _start([tiny, "--out", str(out), "--workers", "2", "--json"])
    try:
        workers = _first_batch_and_workers(proc, out)
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)       # Ctrl-C in a terminal reaches the process group
        else:
            proc.send_signal(sig)          # `kill PID`
        _, err = proc.communicate(timeout=HANG)
    finally:
        _cleanup(proc)
    assert proc.returncode == code
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert str(out) in lines[0] and f"--out {out} --resume" in lines[0]
    assert _wait_for(lambda: not any(_alive(w) for w in workers)), "a worker survived"
    assert not (out / ".lock").exists()
    kept = sorted((out / ".partial").glob("batch_*.npz"))
    assert 1 <= len(kept) < RUNS
    for p in kept:                                  # finished batches are intact
        with np.load(p) as z:
            assert z["accuracy"].shape == (1, 24)
    assert _resume_from_message(lines[0]) == 0
    _same(reference[0], _runs(out))


# slow; in the default run: the local executor's interrupt (above), the Dask executor's results
# (test_mission.py::test_same_results_with_dask)
@pytest.mark.slow
def test_dask_interrupt_is_one_line_without_traceback(tiny, tmp_path):
    out = tmp_path / "out"
    proc = _start([tiny, "--out", str(out), "--executor", "dask", "--workers", "2", "--json"])
    try:
        assert _wait_for(lambda: any((out / ".partial").glob("batch_*.npz")), proc)
        os.killpg(proc.pid, signal.SIGINT)         # as Ctrl-C: the Dask workers get it too
        _, err = proc.communicate(timeout=HANG)
    finally:
        _cleanup(proc)
    assert proc.returncode == 130
    assert "Traceback" not in err and "Warning" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"--out {out} --resume" in lines[0], err


# slow; in the default run, the workers end with their parent when it is interrupted:
# test_interrupt_keeps_batches_ends_workers_and_resumes ("a worker survived")
@pytest.mark.slow
def test_workers_die_with_a_killed_parent(tiny, tmp_path):
    out = tmp_path / "out"
    proc = _start([tiny, "--out", str(out), "--workers", "2", "--json"])
    try:
        workers = _first_batch_and_workers(proc, out)
        proc.kill()
        proc.wait(timeout=HANG)
        assert _wait_for(lambda: not any(_alive(w) for w in workers)), "orphaned workers"
    finally:
        for w in _children(proc.pid) if _alive(proc.pid) else []:
            os.kill(w, signal.SIGKILL)
        _cleanup(proc)


# slow; in the default run: test_workers_that_keep_dying_stop_with_the_resume_command (a pool
# whose workers die) and the interrupt test (2 workers, results equal to one worker's)
@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_results_are_identical(tiny, reference, tmp_path):
    out = tmp_path / "out"
    proc = _start([tiny, "--out", str(out), "--workers", "2", "--json"])
    try:
        workers = _first_batch_and_workers(proc, out)
        os.kill(workers[0], signal.SIGKILL)        # as the out-of-memory killer would
        _, err = proc.communicate(timeout=HANG)
    finally:
        _cleanup(proc)
    assert proc.returncode == 0, err
    assert "restarting the workers" in err and "Traceback" not in err
    _same(reference[0], _runs(out))


def test_workers_that_keep_dying_stop_with_the_resume_command(tiny, tmp_path, monkeypatch,
                                                              capsys):
    """Every pool breaks: after MAX_POOL_RESTARTS restarts one line with the --resume command."""
    calls = []

    def broken(model, todo, workers, on_done):
        calls.append(len(todo))
        raise mission.WorkersDied("worker processes died 3 times")
    monkeypatch.setattr(runner, "_execute_local", broken)
    out = tmp_path / "out"
    assert main(["mission", tiny, "--out", str(out), "--workers", "1", "--json"]) == 1
    err = capsys.readouterr().err
    assert f"--out {out} --resume" in err and calls == [RUNS]
    assert (out / ".partial").is_dir() and not (out / ".lock").exists()


# ---------------------------------------------------------------------- resume
def test_resume_with_nothing_to_resume_starts(tiny, reference, tmp_path, capsys):
    out = tmp_path / "new"
    assert main(["mission", tiny, "--out", str(out), "--resume", "--workers", "1", "--json",
                 "--no-report"]) == 0
    err = capsys.readouterr().err
    assert "no unfinished mission; starting it" in err
    _same(reference[0], _runs(out))


def test_resume_on_finished_writes_the_missing_report(tiny, reference, tmp_path, capsys):
    out = tmp_path / "fin"
    assert main(["mission", tiny, "--out", str(out), "--workers", "1", "--json"]) == 0
    os.unlink(out / "report.html")                 # a kill while the report was written
    capsys.readouterr()
    assert main(["mission", tiny, "--out", str(out), "--resume", "--json"]) == 0
    cap = capsys.readouterr()
    assert "holds a finished mission" in cap.err
    assert (out / "report.html").exists() and json.loads(cap.out)["runs"] == RUNS
    assert main(["mission", tiny, "--out", str(out), "--resume", "--runs", "3"]) == 2
    assert f"[run] runs: 3 here, {RUNS} in {out}" in capsys.readouterr().err
    # without --resume a finished directory is not overwritten silently
    assert main(["mission", tiny, "--out", str(out), "--json"]) == 2
    assert "--force" in capsys.readouterr().err
    stamp = (out / "summary.json").stat().st_mtime_ns
    assert main(["mission", tiny, "--out", str(out), "--force", "--workers", "1", "--json",
                 "--no-report"]) == 0
    assert (out / "summary.json").stat().st_mtime_ns != stamp
    assert not (out / "report.html").exists()          # the old mission's report is not left


def _kill_after_batches(tiny, out, n=2):
    proc = _start([tiny, "--out", str(out), "--workers", "1", "--json"])
    try:
        assert _wait_for(lambda: len(list((out / ".partial").glob("batch_*.npz"))) >= n, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_resume_over_debris_recomputes_corrupt_batches(tiny, reference, tmp_path, capsys):
    out = tmp_path / "debris"
    _kill_after_batches(tiny, out)
    partial = out / ".partial"
    batches = sorted(partial.glob("batch_*.npz"))
    data = batches[0].read_bytes()
    batches[0].write_bytes(data[: len(data) // 2])                  # truncated mid-write
    (partial / (batches[1].name + ".tmp.npz")).write_bytes(b"PK\x03")   # older writer's debris
    (partial / ".batch_000007_000008.npz.abc.tmp.npz").write_bytes(b"")  # fileio's debris
    assert main(["mission", tiny, "--out", str(out), "--resume", "--workers", "1", "--json",
                 "--no-report"]) == 0
    err = capsys.readouterr().err
    assert f"{batches[0]}: truncated or corrupt" in err
    _same(reference[0], _runs(out))
    assert not any("tmp" in p for p in os.listdir(out))


# slow; in the default run: test_resume_on_finished_writes_the_missing_report checks the same line
@pytest.mark.slow
def test_resume_names_what_differs(tiny, tmp_path, capsys):
    out = tmp_path / "diff"
    _kill_after_batches(tiny, out, 1)
    assert main(["mission", tiny, "--out", str(out), "--resume", "--runs", "5", "--json"]) == 2
    err = capsys.readouterr().err
    assert f"[run] runs: 5 here, {RUNS} in {out}" in err
    assert len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------- concurrent writers
def test_live_lock_refuses_and_stale_lock_is_taken_over(tiny, reference, tmp_path, capsys):
    out = tmp_path / "locked"
    out.mkdir()
    lock = out / ".lock"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        import socket
        lock.write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname(),
                                    "started_utc": "2026-01-01T00:00:00Z"}))
        assert main(["mission", tiny, "--out", str(out), "--json"]) == 2
        err = capsys.readouterr().err
        assert f"pid {holder.pid}" in err and "another mission" in err
        assert sorted(os.listdir(out)) == [".lock"]
    finally:
        holder.kill()
        holder.wait()
    assert main(["mission", tiny, "--out", str(out), "--workers", "1", "--json",
                 "--no-report"]) == 0
    err = capsys.readouterr().err
    assert f"taking over the lock of pid {holder.pid}" in err
    assert not lock.exists()
    _same(reference[0], _runs(out))


# slow; in the default run: test_live_lock_refuses_and_stale_lock_is_taken_over (a live lock)
@pytest.mark.slow
def test_two_missions_on_one_out_the_second_refuses(tiny, tmp_path):
    """The second mission meets the first one's live lock (the first is given 25× the runs so
    that it is still running, however fast the evaluator, when the second starts)."""
    out = tmp_path / "race"
    first = _start([tiny, "--out", str(out), "--workers", "1", "--json", "--runs",
                    str(25 * RUNS)])
    try:
        assert _wait_for(lambda: (out / ".lock").exists(), first)
        second = _start([tiny, "--out", str(out), "--workers", "1", "--json"])
        _, err = second.communicate(timeout=HANG)
        assert second.returncode == 2 and f"pid {first.pid}" in err
        _, err = first.communicate(timeout=HANG)
        assert first.returncode == 0, err
    finally:
        _cleanup(first)
    assert json.loads((out / "summary.json").read_text())["runs"] == 25 * RUNS


# ---------------------------------------------------------------------- bounds on work
@pytest.mark.parametrize("replace,args,expect", [
    ({}, ["--runs", "1000000000000"], "1,000,000,000,000 × 24 checkpoints"),
    ({"rate_scale = 30.0": "rate_scale = 1e30"}, [], "expected fault events per run"),
    ({"rate_scale = 30.0": "rate_scale = 1.0\nweight_sram_rate_per_bit_day = 0.01"}, [],
     "expected fault events per run"),
    ({"duration_years = 2.0": "duration_years = 10.0\ncheckpoint_interval_days = 0.04"},
     ["--runs", "200"], "× 91,312 checkpoints"),
])
def test_work_above_the_limits_is_refused_before_it_starts(tmp_path, capsys, replace, args,
                                                          expect):
    path = _write(tmp_path, **replace)
    out = tmp_path / "out"
    assert main(["mission", path, "--out", str(out), "--json", *args]) == 2
    err = capsys.readouterr().err
    assert expect in err and "limit" in err and "--force" in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_many_faults_per_run_warn(tmp_path, capsys):
    sc = scn.load(_write(tmp_path))
    est = {"runs": 1, "checkpoints": 24, "evaluations": 24, "result_bytes": 1,
           "faults_per_run": 2 * mission.WARN_FAULTS_PER_RUN}
    mission.check_work(sc, est)
    assert f"{2 * mission.WARN_FAULTS_PER_RUN:.3g} expected fault events" in \
        capsys.readouterr().err


def test_expected_faults_match_the_sampled_upsets(tiny, reference):
    """The estimate is a mean of what the sampler draws: within a factor 2 of the reference
    mission's mean upsets (the SAA scrub and SECDED-free double flips make it an upper bound)."""
    sc = scn.load(tiny)
    model = mission.prepare(sc)
    est = mission.estimate_work(sc, model)
    upsets = reference[1]["upsets_total_mean"]
    assert upsets <= est["faults_per_run"] < 2 * upsets
    assert est["evaluations"] == RUNS * 24


# ---------------------------------------------------------------------- input validation
@pytest.mark.parametrize("replace,args,expect", [
    ({}, ["--workers", "-3"], "--workers -3: expected an integer ≥ 1"),
    ({}, ["--runs", "0"], "--runs 0: expected an integer ≥ 1"),
    ({"eval_inputs = 100": "eval_inputs = 1000000000"}, [],
     "[run] eval_inputs = 1000000000: dataset 'digits' has 1797 inputs"),
    ({'name = "small"': 'name = "../../x"'}, [], '[mission] name = "../../x": expected letters'),
    ({'name = "small"': 'name = ".hidden"'}, [], "not starting with '.'"),
    ({'name = "small"': 'name = "small"\ndescription = "' + "x" * 20_000 + '"'}, [],
     "[mission] description: 20,000 characters; expected at most 10,000"),
    ({}, ["--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"],
     "--scheduler tcp://127.0.0.1:9: no Dask scheduler answered"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch, replace, args,
                                                  expect):
    monkeypatch.setattr(executors, "SCHEDULER_TIMEOUT_S", 1)   # the unanswered --scheduler case
    path = _write(tmp_path, **replace)
    out = tmp_path / "out"
    assert main(["mission", path, "--out", str(out), "--json", *args]) == 2
    err = capsys.readouterr().err
    assert expect in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() or os.listdir(out) == []
    assert not os.path.exists(os.path.join(ROOT, "neurosim-results", "x"))


def test_missing_model_names_the_key_and_the_places_searched(tmp_path, capsys):
    path = _write(tmp_path, **{f'model = "{ROOT}/models/digits_dense.npz"':
                               'model = "models/nope.npz"'})
    assert main(["mission", path, "--out", str(tmp_path / "out"), "--json"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: [run] model = 'models/nope.npz': no such file" in err
    # beside the scenario, then the shipped models (the source tree's, or the installed copy's)
    assert str(tmp_path / "models") in err and resources.shipped_dir("models") in err
    assert not (tmp_path / "out").exists()


def test_output_path_problems_are_refused_before_any_work(tiny, tmp_path, capsys):
    a_file = tmp_path / "f"
    a_file.write_text("keep")
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    cases = [(a_file, "is a file"), (a_file / "sub", "is a file"),
             (locked / "out", "is not writable")]
    try:
        for out, expect in cases:
            if expect == "is not writable" and os.access(locked, os.W_OK):
                continue                                # running as root
            assert main(["mission", tiny, "--out", str(out), "--json"]) == 2
            err = capsys.readouterr().err
            assert f"--out {out}" in err and expect in err
    finally:
        locked.chmod(0o700)
    assert a_file.read_text() == "keep" and os.listdir(locked) == []


def test_provenance_records_the_start_of_the_run(tiny, tmp_path, monkeypatch):
    """Compiling is made to last 2.5 s: the recorded start is before it, not at the end."""
    prepare = mission.prepare

    def slow_prepare(*a, **kw):
        time.sleep(2.5)
        return prepare(*a, **kw)
    monkeypatch.setattr(runner, "prepare", slow_prepare)
    before = time.time()
    summary = mission.run_mission(scn.load(tiny), out_dir=str(tmp_path / "o"), workers=1,
                                  progress=False)
    started = calendar.timegm(time.strptime(summary["provenance"]["started_utc"],
                                            "%Y-%m-%dT%H:%M:%SZ"))
    assert int(before) <= started <= before + 1 < before + 2.5 <= before + summary["seconds"]


# ---------------------------------------------------------------------- fuzzing
KEYS = [(s, k) for s, keys in scn.SCHEMA.items() for k in keys]
JUNK = st.one_of(
    st.integers(min_value=-10**30, max_value=10**30), st.floats(allow_nan=True),
    st.text(max_size=20), st.booleans(), st.just("nan"), st.just("inf"), st.just("-inf"),
    st.just("1e400"), st.just("[1, 2]"), st.just("{ a = 1 }"), st.just('"x"'), st.just("["),
    st.just("10" * 30))


def _toml_literal(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) \
            else repr(v)
    if isinstance(v, int):
        return str(v)
    return v if v in ("nan", "inf", "-inf", "1e400", "[1, 2]", "{ a = 1 }", '"x"', "[") \
        or v.isdigit() else json.dumps(v)


def _set(lines, section, line):
    """Put ``line`` (``key = value``) into ``[section]``, replacing that key's line if present."""
    key = line.split(" =")[0]
    if f"[{section}]" not in lines:
        lines += [f"[{section}]", line]
        return
    i = lines.index(f"[{section}]") + 1
    while i < len(lines) and not lines[i].startswith("["):
        if lines[i].startswith(key + " ="):
            lines[i] = line
            return
        i += 1
    lines.insert(lines.index(f"[{section}]") + 1, line)


@st.composite
def malformed(draw):
    """SMALL with some lines changed: a key set to junk, a line dropped or duplicated, an unknown
    key or section, or random bytes."""
    lines = SMALL.replace("runs = 6", "runs = 2").splitlines()
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["set", "drop", "dup", "unknown_key", "unknown_section",
                                   "garbage"]))
        i = draw(st.integers(0, len(lines) - 1))
        if op == "set":
            section, key = draw(st.sampled_from(KEYS))
            _set(lines, section, f"{key} = {_toml_literal(draw(JUNK))}")
        elif op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "unknown_key":
            lines.insert(i, f"{draw(st.from_regex(r'[a-z_]{1,12}', fullmatch=True))} = 1")
        elif op == "unknown_section":
            lines.append(f"[{draw(st.from_regex(r'[a-z_.]{1,12}', fullmatch=True))}]")
        else:
            lines.insert(i, draw(st.text(max_size=30)))
    return "\n".join(lines)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=malformed())
def test_fuzz_malformed_scenarios(tmp_path, text):
    d = tempfile.mkdtemp(dir=tmp_path)
    path = os.path.join(d, "bad.toml")
    with open(path, "wb") as f:
        f.write(text.encode("utf-8", "surrogatepass"))
    try:
        sc = scn.load(str(path))
    except NeurosimError as exc:
        msg = str(exc)
        assert "\n" not in msg and str(path) in msg, msg
        assert os.listdir(d) == ["bad.toml"]
        out = os.path.join(d, "out")
        assert main(["mission", path, "--out", out, "--json"]) == 2
        assert not os.path.exists(out)
        return
    # a valid scenario: the checks before any work also raise only NeurosimError
    try:
        mission.check_work(sc, mission.estimate_work(sc))
    except NeurosimError:
        pass


@pytest.mark.parametrize("old,new", [
    ("duration_years = 2.0", "duration_years = nan"),
    ("rate_scale = 30.0", "rate_scale = inf"),
    ("duration_years = 2.0", "duration_years = " + "9" * 40),
    ("duration_years = 2.0", "duration_years = 1e400"),
    ("runs = 6", 'runs = "six"'),
    ("runs = 6", "runs = = 6"),
    ("[run]", "[nonsense]\n[run]"),
    ("[run]", "[[solar_events.x]]\na = 1\n[run]"),
    ("[run]", "[run]\nbogus = 1"),
])
def test_named_malformed_scenarios(tmp_path, old, new):
    """The kinds the issue names (NaN, inf, huge numbers, wrong types, broken syntax, unknown
    sections and keys): each a one-line NeurosimError naming the file."""
    path = tmp_path / "c.toml"
    path.write_text(SMALL.replace(old, new, 1))
    with pytest.raises(NeurosimError) as exc:
        scn.load(str(path))
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


def test_long_runs_are_batched_one_by_one_so_progress_moves():
    """Automatic batching caps the checkpoint evaluations per task: a 91k-checkpoint mission goes
    one run per task (the bar moves every run); a monthly 10-year one keeps 25 runs per task."""
    assert executors._auto_per_task(1000, 2, 91_312) == 1
    assert executors._auto_per_task(1000, 2, 120) == 25
    assert executors._auto_per_task(6, 2, 24) == 1
