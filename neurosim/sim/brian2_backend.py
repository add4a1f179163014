"""The ``brian2`` backend: a ChipProgram run as a Brian2 network, spike for spike like the kernel.

Same contract as :func:`neurosim.sim.reference.run_spiking` (the executable specification): a
spike raster (T, B, n_inputs) in, a dict with ``counts`` (B, K), ``first_spike`` (B, K),
``pair_spikes``, ``pair_events``, ``pair_hops`` (B, C) and optionally ``record`` (T, B, C, N) out.

The network
-----------
* ``neurons``: one NeuronGroup holding every *enabled* neuron of every core (disabled neurons never
  fire, so they are left out), with integer state ``v`` and integer constants ``leak`` (λ),
  ``alpha`` (α), ``beta`` (β), ``R``, ``rmode``, ``fmode``. No differential equation: every step of
  the neuron model is explicit code, scheduled with Brian2's ``when``/``order`` (below).
* ``inputs``: a SpikeGeneratorGroup of the external inputs; input i spikes at step s if the raster
  says so.
* Routing, in one of two forms (``relay``):

  - direct (``relay=False``): Synapses from each spike source (input entry m, or neuron j with a
    destination) straight onto every enabled neuron k of the destination core whose crossbar bit
    on the destination axon is 1, with integer weight w = c·s_k[type] (or w_ak), ``on_pre:
    v_post += w``. Exact only when every (core, axon) has at most one source (spikes from two
    sources reaching one axon in one tick would be integrated twice instead of ORed).
  - relay (``relay=True``): one extra NeuronGroup ``axons`` with one unit per (core, axon) that has
    a source. Sources set ``arrived_post = 1`` (idempotent, so several spikes in a tick are ORed,
    as on the chip); an axon with ``arrived > 0`` emits one spike that the axon→neuron Synapses
    integrate in the same step. Exact for any program (routing faults included).

  ``relay=None`` (default) picks direct when every axon has at most one source, else relay.
* Delays: a neuron's destination delay d (1..15 ticks) is a Brian2 *synaptic delay* of d − 1 ms
  on the synapses leaving it, because the neurons fire after the ``synapses`` slot (below) and
  their spikes are therefore pushed into the spike queue one step later, in the next step's
  ``synapses`` slot. External inputs have delay 0: they arrive in the tick they are emitted.

Order inside one 1-ms step (dt = 1 ms; one Brian2 step = one chip tick):

====================  =====  =============================================================
slot                  order  operation
====================  =====  =============================================================
start                 0      at the first step of each batch element: ``v ← V0``
thresholds            0      inputs emit this tick's spikes
synapses              0      spike queues push/pop: ``v_post += w`` (direct) or
                             ``arrived_post = 1`` (relay)
after_synapses        0      (relay) axons with ``arrived > 0`` spike
after_synapses        1      (relay) axon → neuron synapses: ``v_post += w``
after_synapses        2      leak: ``v += λ``
after_synapses        3      fire: ``v ≥ α`` (and the step lies inside a batch element)
resets                0      reset: ``v ← R | v − α | v`` (rmode 0 | 1 | 2); (relay) ``arrived ← 0``
resets                1      floor: ``v < −β → v ← −β | −R`` (fmode 0 | 1)
end                   0      spike monitors
====================  =====  =============================================================

which is the chip's integrate → leak → fire/reset → floor order.

Batch: the B inputs are run one after the other in *one* Brian2 run (time multiplexing), so the
network is built (and, for ``cpp_standalone``, compiled) once whatever B is: element b occupies
steps [b·P, b·P + T) with P = T + 15 when B > 1 (P = T when B = 1). At the first step of an element
``v`` is set back to the initial potentials; during the 15-step gap after an element nothing may
fire, so spikes still in flight (delays ≤ 15) land in the gap and are wiped by that reset. The
counters (synaptic events, spikes, hops) are computed from the spike monitors exactly as the
reference counts them: events = arriving axon spikes × connected neurons on that axon, attributed
to the destination core; spikes and hops (|Δrow| + |Δcol|) to the firing neuron's core, hops
counted when the spike is sent.

Code generation: ``target`` is ``"numpy"`` (no compiler; the tests), ``"cython"`` (compiled and
cached under ~/.cython/brian_extensions; the benchmark, warm) or ``"cpp_standalone"`` (a C++
project written under ``build_dir``, compiled and run once; single-threaded).
"""
import os
import tempfile
import time

import numpy as np

from neurosim.errors import ValidationError

GAP = 15  # ticks between batch elements: the longest delay, so no spike crosses into the next


def _routing(program):
    """Sources of every (core, axon): external entries and neurons with a destination.

    Returns dict with arrays: ext (input index, row) per input entry; neu (global neuron index,
    row, delay, source core) per enabled neuron with a destination; row = core·A + axon.
    """
    C, A, N = program.crossbar.shape
    en = program.enabled
    gid = np.full((C, N), -1, np.int64)
    gid[en] = np.arange(int(en.sum()))
    ext_row = program.input_core.astype(np.int64) * A + program.input_axon
    has = en & (program.dest_core >= 0)
    c, n = np.nonzero(has)
    neu_row = program.dest_core[c, n].astype(np.int64) * A + program.dest_axon[c, n]
    return dict(gid=gid, ext_input=program.input_index.astype(np.int64), ext_row=ext_row,
                neu_gid=gid[c, n], neu_row=neu_row,
                neu_delay=program.dest_delay[c, n].astype(np.int64), neu_core=c.astype(np.int64),
                neu_n=n.astype(np.int64))


def _row_targets(program, gid):
    """CSR over rows (core·A + axon): enabled neurons connected to each row and their weights."""
    C, A, N = program.crossbar.shape
    conn = program.crossbar & program.enabled[:, None, :]
    c, a, n = np.nonzero(conn)                       # row-major: sorted by row
    rows = c.astype(np.int64) * A + a
    if program.synapse_weights is not None:
        w = program.synapse_weights[c, a, n]
    else:
        w = program.weights[c, program.axon_type[c, a], n]
    ptr = np.zeros(C * A + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=C * A), out=ptr[1:])
    return ptr, gid[c, n], w.astype(np.int64)


def _expand(src, rows, ptr, tgt, w, delay):
    """For each source s with row r: one synapse to every target of row r."""
    lens = ptr[rows + 1] - ptr[rows]
    total = int(lens.sum())
    if total == 0:
        e = np.zeros(0, np.int64)
        return e, e, e, e
    starts = np.repeat(ptr[rows] - np.cumsum(lens) + lens, lens)
    idx = starts + np.arange(total)
    return np.repeat(src, lens), tgt[idx], w[idx], np.repeat(delay, lens)


def _empty_result(program, T, B, record):
    C, _, N = program.crossbar.shape
    K = program.n_outputs
    z = np.zeros((B, C), np.int64)
    out = {"counts": np.zeros((B, K), np.int64), "first_spike": np.full((B, K), -1, np.int64),
           "pair_spikes": z, "pair_events": z.copy(), "pair_hops": z.copy()}
    if record:
        out["record"] = np.zeros((T, B, C, N), np.uint8)
    return out


def run_spiking(program, raster, record=False, target="numpy", relay=None, build_dir=None,
                timing=None):
    """Run ``program`` on ``raster`` (T, B, n_inputs) as a Brian2 network (module docstring).

    ``target``: Brian2 code generation target, "numpy", "cython" or "cpp_standalone";
    ``relay``: None (auto), True or False (see the module docstring); ``build_dir``: directory of
    the ``cpp_standalone`` project (default: a fresh one under /tmp); ``timing``: a dict that, if
    given, receives ``build_s`` (network construction) and ``run_s`` (the simulation run, wall clock;
    for cpp_standalone the C++ main loop time Brian2 reports) and, for the runtime targets,
    ``run_cpu_s`` (CPU time of the run), in seconds, and ``relay`` (the routing form used).
    """
    used = [name for name in program.neuron_extensions_used() if name != "prng_seed"]
    if used:
        raise ValidationError(f"field '{used[0]}' is set; the brian2 backend models the "
                              "deterministic neuron only (use backend 'core' or 'reference')")
    raster = np.asarray(raster)
    T, B, _ = raster.shape
    C, A, N = program.crossbar.shape
    K = program.n_outputs
    n_en = int(program.enabled.sum())
    if n_en == 0:
        return _empty_result(program, T, B, record)

    t0 = time.perf_counter()
    route = _routing(program)
    gid = route["gid"]
    ptr, row_tgt, row_w = _row_targets(program, gid)
    src_rows = np.concatenate([route["ext_row"], route["neu_row"]])
    single_source = np.bincount(src_rows, minlength=C * A).max(initial=0) <= 1
    if relay is None:
        relay = not single_source
    if not relay and not single_source:
        raise ValueError("relay=False needs every (core, axon) to have at most one source")
    row_nnz = program.row_synapses().astype(np.int64).reshape(-1)

    P = T if B == 1 else T + GAP
    steps = B * P

    # local: start-up time (brian2 takes ~1 s to import; only this backend needs it)
    import brian2 as b2
    from brian2 import ms

    standalone = target == "cpp_standalone"
    if standalone:
        if build_dir is None:
            build_dir = tempfile.mkdtemp(prefix="neurosim_brian2_")
        b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    else:
        b2.set_device("runtime")
        b2.prefs.codegen.target = target
    try:
        b2.start_scope()
        clock = b2.Clock(dt=1 * ms)
        sl = np.nonzero(program.enabled)
        neurons = b2.NeuronGroup(
            n_en,
            """v : integer
               v0 : integer (constant)
               leak : integer (constant)
               alpha : integer (constant)
               beta : integer (constant)
               R : integer (constant)
               rmode : integer (constant)
               fmode : integer (constant)
               period : integer (constant, shared)
               ticks : integer (constant, shared)""",
            threshold="v >= alpha and timestep(t, dt) % period < ticks",
            reset="v = int(rmode == 0) * R + int(rmode == 1) * (v - alpha) + int(rmode == 2) * v",
            clock=clock, name="neurons", namespace={})
        # batch layout as shared variables, not namespace constants: code generation would
        # freeze constants into the code, and every new (T, B) would then need a recompile
        neurons.period = P
        neurons.ticks = T
        neurons.v0 = program.initial_potential[sl]
        neurons.v = program.initial_potential[sl]
        neurons.leak = program.leak[sl]
        neurons.alpha = program.threshold[sl]
        neurons.beta = program.floor[sl]
        neurons.R = program.reset_value[sl]
        neurons.rmode = program.reset_mode[sl].astype(np.int64)
        neurons.fmode = program.floor_mode[sl].astype(np.int64)
        neurons.set_event_schedule("spike", when="after_synapses", order=3)
        objects = [neurons]
        objects.append(neurons.run_regularly("v += leak", when="after_synapses", order=2,
                                             clock=clock, name="leak"))
        objects.append(neurons.run_regularly(
            "v = v + int(v < -beta) * (int(fmode == 0) * (-beta - v) + int(fmode == 1) * (-R - v))",
            when="resets", order=1, clock=clock, name="floor"))
        if B > 1:
            objects.append(neurons.run_regularly("v = v0", when="start", order=0,
                                                 dt=P * ms, name="batch_reset"))

        # external input spikes: input i at step b·P + t
        t_idx, b_idx, i_idx = np.nonzero(raster)
        inputs = b2.SpikeGeneratorGroup(max(program.n_inputs, 1), i_idx.astype(np.int64),
                                        (b_idx * P + t_idx) * ms, clock=clock, name="inputs")
        objects.append(inputs)

        def synapses(source, target_group, on_pre, i, j, w, delay, name, when=None, order=0):
            if i.size == 0:
                return None
            model = "w : integer (constant)" if w is not None else ""
            S = b2.Synapses(source, target_group, model=model, on_pre=on_pre, clock=clock,
                            name=name)
            S.connect(i=i, j=j)
            if w is not None:
                S.w = w
            if delay is not None:
                S.delay = delay * ms
            if when is not None:
                S.pre.when = when
                S.pre.order = order
            objects.append(S)
            return S

        if relay:
            used_rows = np.unique(src_rows)
            axon_of_row = np.full(C * A, -1, np.int64)
            axon_of_row[used_rows] = np.arange(used_rows.size)
            axons = b2.NeuronGroup(used_rows.size, "arrived : integer", threshold="arrived > 0",
                                   reset="arrived = 0", clock=clock, name="axons")
            axons.set_event_schedule("spike", when="after_synapses", order=0)
            objects.append(axons)
            synapses(inputs, axons, "arrived_post = 1", route["ext_input"],
                     axon_of_row[route["ext_row"]], None, None, "input_to_axon")
            synapses(neurons, axons, "arrived_post = 1", route["neu_gid"],
                     axon_of_row[route["neu_row"]], None, route["neu_delay"] - 1,
                     "neuron_to_axon")
            i, j, w, _ = _expand(np.arange(used_rows.size), used_rows, ptr, row_tgt, row_w,
                                 np.zeros(used_rows.size, np.int64))
            synapses(axons, neurons, "v_post += w", i, j, w, None, "axon_to_neuron",
                     when="after_synapses", order=1)
            axon_mon = b2.SpikeMonitor(axons, name="axon_spikes")
            objects.append(axon_mon)
        else:
            i, j, w, _ = _expand(route["ext_input"], route["ext_row"], ptr, row_tgt, row_w,
                                 np.zeros(route["ext_row"].size, np.int64))
            synapses(inputs, neurons, "v_post += w", i, j, w, None, "input_to_neuron")
            i, j, w, d = _expand(route["neu_gid"], route["neu_row"], ptr, row_tgt, row_w,
                                 route["neu_delay"] - 1)
            synapses(neurons, neurons, "v_post += w", i, j, w, d, "neuron_to_neuron")
            in_mon = b2.SpikeMonitor(inputs, name="input_spikes")
            objects.append(in_mon)
        neuron_mon = b2.SpikeMonitor(neurons, name="neuron_spikes")
        objects.append(neuron_mon)
        net = b2.Network(*objects)
        t1 = time.perf_counter()
        c1 = time.process_time()
        net.run(steps * ms, namespace={})
        run_cpu_s = time.process_time() - c1
        if standalone:
            b2.device.build(directory=build_dir, compile=True, run=True, with_output=False)
            run_s = float(b2.device._last_run_time)
        else:
            run_s = time.perf_counter() - t1
        if timing is not None:
            timing["build_s"] = t1 - t0
            timing["run_s"] = run_s
            if not standalone:
                timing["run_cpu_s"] = run_cpu_s
            timing["relay"] = bool(relay)

        # ---------------------------------------------------------------- read-out
        s_idx = np.asarray(neuron_mon.i[:], np.int64)
        s_step = np.round(np.asarray(neuron_mon.t / ms)).astype(np.int64)
        if relay:
            a_idx = np.asarray(axon_mon.i[:], np.int64)
            a_step = np.round(np.asarray(axon_mon.t / ms)).astype(np.int64)
        else:
            in_idx = np.asarray(in_mon.i[:], np.int64)
            in_step = np.round(np.asarray(in_mon.t / ms)).astype(np.int64)
    finally:
        if standalone:
            b2.device.reinit()
            b2.device.activate()
            b2.set_device("runtime")

    sb, st = s_step // P, s_step % P
    core_of = sl[0].astype(np.int64)[s_idx]
    neuron_of = sl[1].astype(np.int64)[s_idx]
    out = _empty_result(program, T, B, record)
    np.add.at(out["pair_spikes"], (sb, core_of), 1)
    if record:
        out["record"][st, sb, core_of, neuron_of] = 1

    out_gid = gid[program.output_core, program.output_neuron]                 # (K,) −1: disabled
    k_of_gid = np.full(n_en, -1, np.int64)
    k_of_gid[out_gid[out_gid >= 0]] = np.nonzero(out_gid >= 0)[0]
    k = k_of_gid[s_idx]
    hit = k >= 0
    np.add.at(out["counts"], (sb[hit], k[hit]), 1)
    first = np.full((B, K), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, (sb[hit], k[hit]), st[hit])
    out["first_spike"] = np.where(first == np.iinfo(np.int64).max, -1, first)

    # hops, when a spike with a destination is sent
    dcore = program.dest_core[core_of, neuron_of].astype(np.int64)
    routed = dcore >= 0
    xy = program.core_xy.astype(np.int64)
    hops = np.abs(xy[dcore[routed]] - xy[core_of[routed]]).sum(axis=1)
    np.add.at(out["pair_hops"], (sb[routed], core_of[routed]), hops)

    # synaptic events: arriving axon spikes × connected neurons, on the destination core
    if relay:
        rows = used_rows[a_idx]
        ab, at = a_step // P, a_step % P
        keep = at < T
        np.add.at(out["pair_events"], (ab[keep], rows[keep] // A), row_nnz[rows[keep]])
    else:
        # inputs: every entry m of a spiking input delivers a spike to its row at that tick
        order = np.argsort(route["ext_input"], kind="stable")
        in_ptr = np.zeros(max(program.n_inputs, 1) + 1, np.int64)
        np.cumsum(np.bincount(route["ext_input"], minlength=max(program.n_inputs, 1)),
                  out=in_ptr[1:])
        step_of, rows, _, _ = _expand(in_step, in_idx, in_ptr, route["ext_row"][order],
                                      np.zeros(order.size, np.int64), np.zeros(in_idx.size, np.int64))
        np.add.at(out["pair_events"], (step_of // P, rows // A), row_nnz[rows])
        # neurons: arrival at t + d, counted if inside the run
        sent_row = program.dest_core[core_of, neuron_of].astype(np.int64) * A + \
            program.dest_axon[core_of, neuron_of]
        arrive = st + program.dest_delay[core_of, neuron_of].astype(np.int64)
        keep = routed & (arrive < T)
        np.add.at(out["pair_events"], (sb[keep], sent_row[keep] // A), row_nnz[sent_row[keep]])
    return out
