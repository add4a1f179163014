"""``neurosim bench sim``: the tick kernel against the numpy reference and Brian2, side by side.

Workload 1 — a feed-forward network on the ``ideal`` profile (one signed weight per synapse),
784 inputs → 1000 → 1000 → 10 IF neurons, all-to-all, one core per layer (core 0: 784 axons ×
1000 neurons, core 1: 1000 × 1000, core 2: 1000 × 10; arrays padded to 1000 × 1000), each neuron
routed with delay 1 to the axon of its own index in the next layer's core. Weights are integers
drawn uniformly from [−64, 64] by ``numpy.random.Generator(PCG64(0))``; leak 0; reset by
subtraction; floor β = 0 (saturating: the potential never goes below 0, a ReLU-like IF neuron).
Thresholds α_l = round(k_l · 64 · √fan_in) with k = (0.67, 0.49, 0.49), i.e. α = 1200, 1000,
1000 for the full sizes: about 2σ of the first layer's drive Σ w·x, so that ≈ 20 % of the first
layer and ≈ 17 % of the second spike per tick. Inputs: rates uniform in [0, 1] from
``Generator(PCG64(1))``, deterministic rate encoding. Every backend gets the same program and the
same raster; the figure of merit is synaptic events (arriving axon spike × connected neuron, the
ActivityCounters definition) per second of wall-clock simulation time.

Times are wall clock and, because the benchmark machine may be shared, also CPU seconds of the
process (``time.process_time``, all threads): "events per CPU-second" is what one core delivers
whatever else runs, and the ``*_cpu`` speedups compare one-threaded core with (one-threaded)
Brian2 on that measure. ``cpp_standalone`` has wall clock only (Brian2's own loop timer).

- ``core``: ``neurosim._core.run_spiking``, default threads (OpenMP over (core, input) pairs when
  built with OpenMP), and again with one thread ("per CPU core").
- ``reference``: the numpy specification, on a slice (first 2 inputs, first 20 ticks) because it is
  slow; its outputs are compared with ``core`` on the same slice.
- ``brian2``: :mod:`neurosim.sim.brian2_backend` with the Cython target, cache warmed by a short
  run first; time = ``Network.run`` wall-clock (construction of the network excluded). Brian2 runs
  the batch time-multiplexed in one run (see that module). ``cpp_standalone`` (single thread) is
  run in a child process, time = the C++ main loop time Brian2 reports; compile failures are
  reported, not raised. Both are compared with ``core`` output for output (counts, first spikes,
  per-core spikes, events and hops).

Workload 2 — the whole 4,096-core ``truenorth`` chip busy at 20 Hz
(:mod:`neurosim.bench.full_chip`): ticks/s with 1 thread and with every thread, the ratio to real
time, and peak memory.

``quick=True`` shrinks everything (64 → 100 → 100 → 10, 20 ticks, batches 4 and 1, Brian2's numpy
target, no cpp_standalone, an 8 × 8-core chip) for a smoke test.
"""
import multiprocessing as mp
import os
import time

import numpy as np

from neurosim import _core
from neurosim.chip.program import empty_program
from neurosim.errors import ValidationError
from neurosim.sim import brian2_backend, reference
from neurosim.sim.encoding import encode

SIZES = (784, 1000, 1000, 10)
QUICK_SIZES = (64, 100, 100, 10)
WEIGHT_MAX = 64
THRESHOLD_K = (0.67, 0.49, 0.49)
STANDALONE_DIR = "/tmp/neurosim_brian2_standalone"
KEYS = ("counts", "first_spike", "pair_spikes", "pair_events", "pair_hops")
TARGETS = {"speedup_batch64": 10.0, "speedup_batch1": 3.0, "events_per_s_per_core": 5e8,
           "full_chip_memory_mb": 1024.0}


def feedforward_program(sizes=SIZES, seed=0, weight_max=WEIGHT_MAX):
    """The benchmark's all-to-all IF network on the ``ideal`` profile (module docstring)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    L = len(sizes) - 1
    A, N = max(sizes[:-1]), max(sizes[1:])
    crossbar = np.zeros((L, A, N), bool)
    weights = np.zeros((L, A, N), np.int32)
    enabled = np.zeros((L, N), bool)
    dest_core = np.full((L, N), -1, np.int32)
    dest_axon = np.zeros((L, N), np.int32)
    threshold = np.ones((L, N), np.int32)
    for layer in range(L):
        fan_in, n = sizes[layer], sizes[layer + 1]
        crossbar[layer, :fan_in, :n] = True
        weights[layer, :fan_in, :n] = rng.integers(-weight_max, weight_max + 1, (fan_in, n))
        enabled[layer, :n] = True
        threshold[layer, :n] = round(THRESHOLD_K[min(layer, 2)] * weight_max * np.sqrt(fan_in))
        if layer < L - 1:
            dest_core[layer, :n] = layer + 1
            dest_axon[layer, :n] = np.arange(n)
    return empty_program(
        "ideal", L, A, N, n_inputs=sizes[0], n_outputs=sizes[-1], crossbar=crossbar,
        synapse_weights=weights, enabled=enabled, dest_core=dest_core, dest_axon=dest_axon,
        threshold=threshold, reset_mode=np.ones((L, N), np.uint8),
        input_index=np.arange(sizes[0], dtype=np.int32),
        input_core=np.zeros(sizes[0], np.int32), input_axon=np.arange(sizes[0], dtype=np.int32),
        output_core=np.full(sizes[-1], L - 1, np.int32),
        output_neuron=np.arange(sizes[-1], dtype=np.int32),
        neuron_group=np.where(enabled, np.arange(L)[:, None], -1).astype(np.int16),
        meta={"workload": "bench_feedforward", "sizes": list(sizes)})


def _same(a, b):
    return all(np.array_equal(a[k], b[k]) for k in KEYS)


def _timed(fn, *args, **kw):
    """(result, wall-clock seconds, CPU seconds of this process, all threads)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0, time.process_time() - c0


def _standalone_child(conn, program, raster, build_dir):
    try:
        timing = {}
        out = brian2_backend.run_spiking(program, raster, target="cpp_standalone",
                                         build_dir=build_dir, timing=timing)
        conn.send(("ok", {k: out[k] for k in KEYS}, timing))
    except BaseException as exc:  # report any failure to the parent, which reports it
        conn.send(("error", f"{type(exc).__name__}: {exc}".splitlines()[0][:300], None))
    finally:
        conn.close()


def _run_standalone(program, raster, timeout_s=1200):
    """Brian2 cpp_standalone in a child process: (outputs, timing) or (None, error message)."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_standalone_child, args=(child, program, raster, STANDALONE_DIR))
    proc.start()
    child.close()
    if not parent.poll(timeout_s):
        proc.terminate()
        proc.join()
        return None, f"cpp_standalone did not finish within {timeout_s} s"
    try:
        status, out, timing = parent.recv()
    except EOFError:
        status, out, timing = "error", "cpp_standalone child died without a result", None
    proc.join()
    if status != "ok":
        return None, out
    return out, timing


def bench_sim(batch=None, ticks=None, quick=False, verbose=True):
    """Benchmark the spiking backends (module docstring); returns the ``--json`` dict."""
    if batch is not None and batch < 1:
        raise ValidationError(f"argument 'batch' is {batch}; expected at least 1", param="batch")
    if ticks is not None and ticks < 2:
        raise ValidationError(f"argument 'ticks' is {ticks}; expected at least 2", param="ticks")
    say = print if verbose else (lambda *a, **k: None)
    sizes = QUICK_SIZES if quick else SIZES
    ticks = ticks or (20 if quick else 100)
    batches = [batch] if batch else ([4, 1] if quick else [64, 1])
    target = "numpy" if quick else "cython"
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    program = feedforward_program(sizes, seed=0)
    rates = np.random.Generator(np.random.PCG64(1)).random((max(batches), sizes[0]))
    raster_all = encode(rates, ticks, "deterministic")
    say(f"neurosim bench sim: {' -> '.join(map(str, sizes))} all-to-all IF on 'ideal', "
        f"{ticks} ticks, batches {batches}, brian2 target {target}")

    # warm-up: the kernel's first call and Brian2 code generation/compilation (cached for the
    # timed runs)
    _core.run_spiking(program, raster_all[:2, :1])
    t0 = time.perf_counter()
    for b in sorted({min(2, max(batches)), 1}):
        brian2_backend.run_spiking(program, raster_all[:3, :b], target=target)
    say(f"  brian2 {target} warm-up (code generation, compilation if the cache is cold): "
        f"{time.perf_counter() - t0:.1f} s")

    per_batch = {}
    agree = True
    for B in batches:
        raster = np.ascontiguousarray(raster_all[:, :B])
        row = {"batch": B}
        core_out, core_s, core_cpu = _timed(_core.run_spiking, program, raster)
        _, core1_s, core1_cpu = _timed(_core.run_spiking, program, raster, num_threads=1)
        events = int(core_out["pair_events"].sum())
        spikes = core_out["pair_spikes"].sum(axis=0) / (B * ticks)
        row.update(synaptic_events=events, core_s=core_s, core_1thread_s=core1_s,
                   core_events_per_s=events / core_s, core_events_per_s_1thread=events / core1_s,
                   core_events_per_cpu_s=events / core_cpu,
                   core_events_per_cpu_s_1thread=events / core1_cpu,
                   spike_fraction_per_tick=[float(x) for x in spikes / np.array(sizes[1:])])

        b_ref, t_ref = (B, ticks) if quick else (min(B, 2), min(ticks, 20))
        small = np.ascontiguousarray(raster[:t_ref, :b_ref])
        ref_out, ref_s, _ = _timed(reference.run_spiking, program, small)
        core_small = _core.run_spiking(program, small)
        row.update(reference_events_per_s=int(ref_out["pair_events"].sum()) / ref_s,
                   reference_slice=[t_ref, b_ref], reference_agrees=_same(ref_out, core_small))

        timing = {}
        b2_out = brian2_backend.run_spiking(program, raster, target=target, timing=timing)
        row.update(brian2_target=target, brian2_s=timing["run_s"],
                   brian2_build_s=timing["build_s"],
                   brian2_events_per_s=events / timing["run_s"],
                   brian2_events_per_cpu_s=events / timing["run_cpu_s"],
                   brian2_agrees=_same(b2_out, core_out))
        row["speedup_vs_brian2"] = row["core_events_per_s"] / row["brian2_events_per_s"]
        row["speedup_vs_brian2_1thread"] = (row["core_events_per_s_1thread"]
                                            / row["brian2_events_per_s"])
        row["speedup_vs_brian2_cpu"] = (row["core_events_per_cpu_s_1thread"]
                                        / row["brian2_events_per_cpu_s"])
        if not quick:
            sa_out, sa_timing = _run_standalone(program, raster)
            if sa_out is None:
                row["brian2_standalone_error"] = sa_timing
            else:
                row.update(brian2_standalone_s=sa_timing["run_s"],
                           brian2_standalone_events_per_s=events / sa_timing["run_s"],
                           brian2_standalone_agrees=_same(sa_out, core_out),
                           speedup_vs_brian2_standalone=events / core_s / (events / sa_timing["run_s"]))
                agree &= row["brian2_standalone_agrees"]
        agree &= row["reference_agrees"] and row["brian2_agrees"]
        per_batch[str(B)] = row
        say(f"  batch {B:3d}: {events:.3g} synaptic events; spiking fraction per tick "
            f"{', '.join(f'{x:.2f}' for x in row['spike_fraction_per_tick'])}")
        say(f"    core ({threads} threads) {row['core_events_per_s']:.3g} ev/s, 1 thread "
            f"{row['core_events_per_s_1thread']:.3g} ev/s")
        say(f"    reference  {row['reference_events_per_s']:.3g} ev/s (slice {t_ref} ticks x "
            f"{b_ref}; agrees with core: {row['reference_agrees']})")
        say(f"    brian2 {target} {row['brian2_events_per_s']:.3g} ev/s (agrees: "
            f"{row['brian2_agrees']}); core/brian2 = {row['speedup_vs_brian2']:.1f}x "
            f"({row['speedup_vs_brian2_1thread']:.1f}x with 1 thread)")
        say(f"    per CPU-second (contention-free): core 1 thread "
            f"{row['core_events_per_cpu_s_1thread']:.3g}, core {threads} threads "
            f"{row['core_events_per_cpu_s']:.3g}, brian2 {row['brian2_events_per_cpu_s']:.3g}; "
            f"core/brian2 = {row['speedup_vs_brian2_cpu']:.1f}x")
        if "brian2_standalone_events_per_s" in row:
            say(f"    brian2 cpp_standalone {row['brian2_standalone_events_per_s']:.3g} ev/s "
                f"(agrees: {row['brian2_standalone_agrees']}); core/standalone = "
                f"{row['speedup_vs_brian2_standalone']:.1f}x")
        elif "brian2_standalone_error" in row:
            say(f"    brian2 cpp_standalone failed: {row['brian2_standalone_error']}")

    # local import: `python -m neurosim.bench.full_chip` (the child) must not find the module
    # already imported by its package, or runpy warns
    from neurosim.bench import full_chip
    chip = full_chip.measure(quick=quick, say=say)

    main = per_batch[str(batches[0])]
    result = {
        "batch": batches[0], "ticks": ticks, "sizes": list(sizes), "threads": threads,
        "openmp": bool(_core.openmp_enabled()), "quick": quick,
        "core_events_per_s": main["core_events_per_s"],
        "core_events_per_s_1thread": main["core_events_per_s_1thread"],
        "reference_events_per_s": main["reference_events_per_s"],
        "brian2_events_per_s": main["brian2_events_per_s"],
        "brian2_target": target,
        "speedup_vs_brian2": main["speedup_vs_brian2"],
        "core_events_per_cpu_s_1thread": main["core_events_per_cpu_s_1thread"],
        "brian2_events_per_cpu_s": main["brian2_events_per_cpu_s"],
        "speedup_vs_brian2_cpu": main["speedup_vs_brian2_cpu"],
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "brian2_standalone_events_per_s": main.get("brian2_standalone_events_per_s"),
        "agree": bool(agree), "per_batch": per_batch,
        "full_chip_ticks_per_s": chip.get("ticks_per_s"),
        "full_chip_ticks_per_s_1thread": chip.get("ticks_per_s_1thread"),
        "full_chip_real_time_ratio": chip.get("real_time_ratio"),
        "full_chip_memory_mb": chip.get("peak_rss_mb"),
        "full_chip_memory_measure": "peak RSS (VmHWM) of a fresh child process that builds "
                                    "and runs the chip (interpreter and numpy included)",
        "full_chip": chip,
    }
    targets = {}
    for B, key in ((64, "speedup_batch64"), (1, "speedup_batch1")):
        if str(B) in per_batch and not quick:
            targets[key] = per_batch[str(B)]["speedup_vs_brian2"] >= TARGETS[key]
            targets[key + "_cpu"] = per_batch[str(B)]["speedup_vs_brian2_cpu"] >= TARGETS[key]
    targets["events_per_s_per_core"] = main["core_events_per_cpu_s_1thread"] >= TARGETS[
        "events_per_s_per_core"]
    if chip.get("peak_rss_mb") is not None:
        targets["full_chip_memory_mb"] = chip["peak_rss_mb"] <= TARGETS["full_chip_memory_mb"]
    result["targets_met"] = targets
    say(f"  targets met: {targets}; all backends agree: {agree}")
    return result
