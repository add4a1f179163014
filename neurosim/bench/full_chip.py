"""The whole 4,096-core ``truenorth`` chip busy at 20 Hz, 128 synapses per neuron (Merolla et al.
2014's benchmark regime, :func:`neurosim.chip.synthetic.full_chip_program`), batch 1, run by the
``core`` kernel in a fresh child process (``python -m neurosim.bench.full_chip TICKS GRID``).

The child builds the program (``build_s``), runs it for 2 ticks (``layout_s``: the first run of a
program lays out its arrays for the kernel, kept in the program's cache for every later run), then
times the same run with 1 thread and with every thread available, whole ``run_spiking`` calls, and
reports ticks/s, the ratio to real time (1 ms ticks: ticks/s ÷ 1,000), CPU seconds per tick and
the machine's load average (the benchmark machine may be shared). Memory is the child's peak
resident set size (``VmHWM`` of /proc/self/status — not ``getrusage`` ``ru_maxrss``, which Linux
carries over from the forking parent across exec): interpreter + numpy + the program's arrays +
the kernel's layout and buffers, the whole process, so an upper bound on what the simulation
needs; the program's own arrays (``ChipProgram.memory_bytes``) are reported too.
"""
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np

from neurosim import _core
from neurosim.chip import synthetic
from neurosim.chip.profile import TRUENORTH

TICK_MS = 1.0   # TrueNorth's tick (Merolla et al. 2014): real time is 1,000 ticks/s
CHILD_CODE = ("import json, sys; from neurosim.bench.full_chip import child; "
              "print(json.dumps(child(int(sys.argv[1]), int(sys.argv[2]))))")


def rss_mb():
    """Peak resident set of this process image in MiB (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _timed_run(run, prog, ticks, threads):
    raster = np.zeros((ticks, 1, 0), np.uint8)
    t0, c0 = time.perf_counter(), time.process_time()
    out = run(prog, raster, num_threads=threads)
    return out, time.perf_counter() - t0, time.process_time() - c0


def child(ticks, grid):
    """Build the chip, run it with 1 and with all threads; the figures (module docstring)."""
    profile = TRUENORTH if grid == 64 else replace(TRUENORTH, name=f"truenorth-{grid}x{grid}",
                                                  grid_rows=grid, grid_cols=grid)
    hop = min(21, grid // 2)
    t0 = time.perf_counter()
    prog = synthetic.full_chip_program(profile, rate_hz=20.0, synapses_per_neuron=128,
                                       hop_rows=hop, hop_cols=hop, seed=0)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _core.run_spiking(prog, np.zeros((2, 1, 0), np.uint8))   # warm-up: builds the kernel's layout
    layout_s = time.perf_counter() - t0
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    rows = {}
    for n in sorted({1, threads}):
        out, wall, cpu = _timed_run(_core.run_spiking, prog, ticks, n)
        rows[n] = {"ticks_per_s": ticks / wall, "cpu_s_per_tick": cpu / ticks,
                   "spikes": int(out["pair_spikes"].sum()),
                   "synaptic_events": int(out["pair_events"].sum())}
    agree = len({(r["spikes"], r["synaptic_events"]) for r in rows.values()}) == 1
    best = rows[threads]
    C, _, N = prog.crossbar.shape
    return {"ticks": ticks, "cores": C, "threads": threads, "build_s": build_s,
            "layout_s": layout_s,
            "ticks_per_s": best["ticks_per_s"], "ticks_per_s_1thread": rows[1]["ticks_per_s"],
            "cpu_s_per_tick_1thread": rows[1]["cpu_s_per_tick"],
            "real_time_ratio": best["ticks_per_s"] * TICK_MS / 1000.0,
            "real_time_ratio_1thread": rows[1]["ticks_per_s"] * TICK_MS / 1000.0,
            "threads_agree": agree, "load_average": load,
            "peak_rss_mb": rss_mb(), "program_mb": prog.memory_bytes() / 2**20,
            "spikes": best["spikes"], "synaptic_events": best["synaptic_events"],
            "mean_rate_hz": best["spikes"] / (C * N * ticks) * 1000.0 / TICK_MS,
            "events_per_s": best["synaptic_events"] * best["ticks_per_s"] / ticks}


def run_child(ticks, grid):
    """Run :func:`child` in a fresh interpreter; its dict, or {'error': ...}."""
    pkg_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = pkg_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                    else "")
    # -P: do not put the working directory first on sys.path (a source checkout there has no
    # compiled kernel); the package that is running comes from PYTHONPATH instead
    # -c rather than -m: neurosim.bench imports this module before runpy would run it as __main__
    proc = subprocess.run([sys.executable, "-P", "-c", CHILD_CODE, str(ticks), str(grid)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"full-chip run failed: {last}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(quick=False, say=print):
    """The full-chip figures for ``neurosim bench sim`` (an 8 × 8 grid when ``quick``)."""
    grid, ticks = (8, 20) if quick else (64, 500)
    chip = run_child(ticks, grid)
    if "error" in chip:
        say(f"  full chip: {chip['error']}")
        return chip
    say(f"  full chip ({chip['cores']} truenorth cores, {chip['mean_rate_hz']:.1f} Hz mean, "
        f"batch 1, {ticks} ticks, load average {chip['load_average']:.1f}): "
        f"{chip['ticks_per_s']:.0f} ticks/s with {chip['threads']} threads, "
        f"{chip['ticks_per_s_1thread']:.0f} with 1 ({chip['cpu_s_per_tick_1thread'] * 1e3:.2f} "
        f"CPU-ms per tick); {chip['real_time_ratio']:.2f}x real time; "
        f"peak RSS {chip['peak_rss_mb']:.0f} MiB (program arrays {chip['program_mb']:.0f} MiB); "
        f"build {chip['build_s']:.1f} s, first-run layout {chip['layout_s']:.2f} s")
    return chip


if __name__ == "__main__":
    print(json.dumps(child(int(sys.argv[1]), int(sys.argv[2]))))
