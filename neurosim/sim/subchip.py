"""Parts of a chip simulated on their own: packed spike trains and single-level sub-programs.

A spike train of one neuron (or the arrivals of one axon) over T ticks, for one input, is held as
W = ⌈T/64⌉ little-endian uint64 words: bit t of the train (word t // 64, bit t mod 64) is 1 when
the neuron fired (the axon received a spike) at tick t. On the chip (DESIGN.md "Neuron
semantics", :mod:`neurosim.sim.reference`) a neuron that fires at tick t puts a spike on its
destination axon at tick t + d (d its delay; ticks ≥ T are never seen), and an axon's arrivals are
the OR of its sources' shifted trains and of the external inputs that feed it (same tick), so

    arrivals(c, a) = OR_{external m → (c, a)} raster_m  OR  OR_{neuron n → (c, a)} (train_n << d_n)

with ``<<`` the shift of :func:`shift_trains` and bits ≥ T dropped.

A neuron's trajectory depends only on its own parameters, its random draws (a function of its
core's seed, the tick and its index) and the arrivals on the axons it is connected to. So the
cores of one *level* of a program without routing cycles (no route between them) can be run on
their own, their axons fed with the arrivals the rest of the chip gives them:
:func:`level_program` builds that program for the tick kernel, one raster column per (core,
axon); :func:`run_neurons` runs a few neurons of one core in numpy, the tick of
:mod:`neurosim.sim.reference` restricted to them (cheaper than the kernel, whose cost grows with
the arriving spikes of the whole core, when the neurons are few).
"""
import functools
from types import SimpleNamespace

import numpy as np

from neurosim.chip.program_fields import NEURON_EXTENSIONS, UNIT_MAP_FIELDS
from neurosim.sim.reference import draw_base, draws, potential_range, stochastic

WORD = 64
PER_CORE_FIELDS = ("crossbar", "axon_type", "weights", "synapse_weights", "leak", "threshold",
                   "floor", "reset_mode", "reset_value", "floor_mode", "initial_potential",
                   "dest_axon", "dest_delay", "core_xy", "neuron_group") + tuple(NEURON_EXTENSIONS)


def words(ticks):
    """W, the uint64 words of a packed train of ``ticks`` ticks."""
    return (int(ticks) + WORD - 1) // WORD


def pack_trains(spikes):
    """Pack a 0/1 array whose FIRST axis is the tick, (T, ...), into (..., W) uint64 trains."""
    T = spikes.shape[0]
    ticks_last = np.moveaxis(np.asarray(spikes).view(np.uint8), 0, -1)
    padded = np.zeros(ticks_last.shape[:-1] + (words(T) * WORD,), np.uint8)
    padded[..., :T] = ticks_last
    return np.packbits(padded, axis=-1, bitorder="little").view("<u8")


def unpack_trains(trains, ticks):
    """The inverse of :func:`pack_trains`: (..., W) uint64 → (T, ...) uint8."""
    bits = np.unpackbits(np.ascontiguousarray(trains).view(np.uint8), axis=-1, bitorder="little")
    return np.ascontiguousarray(np.moveaxis(bits[..., :ticks], -1, 0))


@functools.lru_cache(maxsize=8)
def tick_mask(ticks):
    """(W,) uint64 with bits 0..T−1 set (read-only: it is shared)."""
    bits = np.zeros((words(ticks) * WORD,), np.uint8)
    bits[:ticks] = 1
    mask = pack_trains(bits)
    mask.flags.writeable = False
    return mask


def shift_trains(trains, delay, ticks):
    """Trains (..., W) delayed by ``delay`` ticks (0 < delay < 64): bit t moves to t + delay,
    bits at ticks ≥ T dropped."""
    d = np.uint64(delay)
    out = trains << d
    out[..., 1:] |= trains[..., :-1] >> np.uint64(WORD - delay)
    return out & tick_mask(ticks)


def spike_counts(trains):
    """Spikes per train: popcount summed over the words, (...,) int64."""
    return np.bitwise_count(trains).sum(axis=-1, dtype=np.int64)


def external_arrivals(program, raster):
    """(B, C, A, W) arrivals of every (core, axon) from the external raster (T, B, n_inputs)."""
    T, B, _ = raster.shape
    C, A = program.crossbar.shape[:2]
    arr = np.zeros((B, C * A, words(T)), np.uint64)
    fed = pack_trains(raster[:, :, program.input_index])                  # (B, M, W)
    keys = program.input_core.astype(np.int64) * A + program.input_axon
    np.bitwise_or.at(arr, (slice(None), keys), fed)
    return arr.reshape(B, C, A, -1)


def routed_arrivals(program, trains, ticks, arrivals):
    """OR into ``arrivals`` (B, C, A, W) the spikes every enabled routed neuron's ``trains``
    (B, C, N, W) puts on its destination axon."""
    B, C, A, W = arrivals.shape
    flat = arrivals.reshape(B, C * A, W)
    src_c, src_n = np.nonzero(program.enabled & (program.dest_core >= 0))
    keys = program.dest_core[src_c, src_n].astype(np.int64) * A + program.dest_axon[src_c, src_n]
    delay = program.dest_delay[src_c, src_n]
    for d in np.unique(delay).tolist():
        sel = delay == d
        np.bitwise_or.at(flat, (slice(None), keys[sel]),
                         shift_trains(trains[:, src_c[sel], src_n[sel]], d, ticks))
    return arrivals


def core_levels(*programs):
    """Cores grouped by level, [[cores of level 0], [level 1], ...], such that every route of
    every program (enabled neuron with a destination) goes from a level to a later one; None when
    the routes form a cycle (a core routing to itself included)."""
    C = programs[0].n_cores
    edges = np.zeros((C, C), bool)
    for p in programs:
        c, n = np.nonzero(p.enabled & (p.dest_core >= 0))
        edges[c, p.dest_core[c, n]] = True
    level = np.zeros(C, np.int64)
    todo = np.ones(C, bool)
    depth = 0
    while todo.any():
        ready = todo & ~edges[todo].any(axis=0)       # no edge from a core still to place
        if not ready.any():
            return None
        level[ready] = depth
        todo &= ~ready
        depth += 1
    return [np.flatnonzero(level == k) for k in range(depth)]


def level_program(program, cores, enabled):
    """The cores ``cores`` of ``program`` as a program of their own: the neurons of ``enabled``
    (len(cores), N) enabled, no routes, each axon fed by its own raster column (core i's axon a
    is column i·A + a), the same random-draw seeds (a neuron's draws do not change)."""
    cores = np.asarray(cores, np.int64)
    S, A = cores.size, program.n_axons
    fields = {name: getattr(program, name)[cores] for name in PER_CORE_FIELDS
              if getattr(program, name) is not None}
    fields.update({name: None for name in UNIT_MAP_FIELDS})
    return program.replace(
        **fields, enabled=np.asarray(enabled, bool),
        dest_core=np.full((S, program.n_neurons), -1, np.int32),
        input_index=np.arange(S * A, dtype=np.int32),
        input_core=np.repeat(np.arange(S, dtype=np.int32), A),
        input_axon=np.tile(np.arange(A, dtype=np.int32), S),
        output_core=np.zeros(1, np.int32), output_neuron=np.zeros(1, np.int32),
        n_inputs=S * A, meta={})


def exact_drive_dtype(weights):
    """float32 when every sum of ``weights`` (A, n) over a subset of its rows is an integer below
    2^24 (then exact in float32), else float64 (exact below 2^53: any profile's weights)."""
    return np.float32 if np.abs(weights).sum(axis=0).max(initial=0) < 1 << 24 else np.float64


def drive_int_dtype(*weights):
    """int32 when every sum of rows of each of ``weights`` (A, n) fits it, else int64."""
    most = max(int(np.abs(w).sum(axis=0).max(initial=0)) for w in weights)
    return np.int32 if most < 1 << 31 else np.int64


def core_weights(program, core, neurons):
    """The integer weights (A, n) of the neurons ``neurons`` of ``core``: c_ij·s_j[type_i], or
    c_ij·w_ij (:meth:`ChipProgram.effective_weights` for these columns only)."""
    xbar = program.crossbar[core][:, neurons].astype(np.int64)
    if program.synapse_weights is not None:
        return xbar * program.synapse_weights[core][:, neurons]
    return xbar * program.weights[core][:, neurons][program.axon_type[core]]


def core_drive(program, core, arrivals, ticks):
    """The integration input of the enabled neurons of ``core`` at every tick,
    D[t, b, j] = Σ_i arrivals[b, i, t] · W[i, j], given the core's ``arrivals`` (B, A, W); as
    (column (N,) int64 of each enabled neuron in the table, −1 for the others; table (T, B, n)
    int32 unless :func:`drive_int_dtype` needs int64). One matrix product, exact in
    :func:`exact_drive_dtype`."""
    js = np.flatnonzero(program.enabled[core])
    column = np.full(program.n_neurons, -1, np.int64)
    column[js] = np.arange(js.size)
    W = core_weights(program, core, js)
    X = unpack_trains(arrivals, ticks).astype(exact_drive_dtype(W))            # (T, B, A)
    D = X.reshape(-1, X.shape[-1]) @ W.astype(X.dtype)                         # BLAS, 2-D
    return column, D.reshape(ticks, arrivals.shape[0], js.size).astype(drive_int_dtype(W))


def add_drive(drive, arrived, weights):
    """Add to ``drive`` (T, H, n) what spikes ``arrived`` (T, H, k) (0/±1) on k axons of weights
    ``weights`` (k, n) bring: one matrix product (exact in :func:`exact_drive_dtype`), over the
    (tick, input) rows that have a spike when they are few."""
    T, H, k = arrived.shape
    dtype = exact_drive_dtype(weights)
    w = weights.astype(dtype)
    t, h = np.nonzero(arrived.any(axis=2))
    if 4 * t.size <= T * H:                      # few (tick, input) pairs: only those rows
        drive[t, h] += (arrived[t, h].astype(dtype) @ w).astype(drive.dtype)
    else:
        drive += (arrived.reshape(T * H, k).astype(dtype) @ w).reshape(T, H, -1).astype(
            drive.dtype)
    return drive


def state_dtype(program, core, neurons, drive, mask):
    """int32 when no value a tick computes for these neurons can leave int32 — |V| ≤ 2^(P−1)
    after the clip, plus the largest drive, leak, α + η, β + η or R — else int64."""
    p, c, js = program, core, neurons
    biggest = [np.abs(drive).max(initial=0), np.abs(p.leak[c, js]).max(initial=0),
               p.threshold[c, js].max(initial=0), p.floor[c, js].max(initial=0),
               mask.max(initial=0), np.abs(p.reset_value[c, js]).max(initial=0)]
    bound = (1 << (p.profile.potential_bits - 1)) + sum(int(b) for b in biggest)
    return np.int32 if bound < 1 << 31 else np.int64


def neuron_constants(program, core, neurons, drive):
    """The per-neuron constants of :func:`run_neurons` (as a namespace), in the integer type
    :func:`state_dtype` picks, and the ``drive`` in it."""
    p, c, js = program, core, neurons
    enabled = p.enabled[c, js]
    mask = np.where(enabled, (np.uint64(1) << p.threshold_mask_bits[c, js].astype(np.uint64))
                    - np.uint64(1), 0).astype(np.uint32)
    dt = state_dtype(p, c, js, drive, mask)
    R, beta = p.reset_value[c, js].astype(dt), p.floor[c, js].astype(dt)
    floor_reset = p.floor_mode[c, js] == 1
    to_value, by_alpha = p.reset_mode[c, js] == 0, p.reset_mode[c, js] == 1
    return SimpleNamespace(
        dt=dt, drive=drive.astype(dt), enabled=enabled, all_enabled=bool(enabled.all()),
        mask=mask, leak=np.where(enabled, p.leak[c, js], 0).astype(dt),   # disabled: no leak
        alpha=p.threshold[c, js].astype(dt), beta=beta, R=R, floor_reset=floor_reset,
        floor_to=np.where(floor_reset, -R, -beta), to_value=to_value, by_alpha=by_alpha,
        stoch_leak=p.stochastic_leak[c, js], reversal=p.leak_reversal[c, js],
        reversal_used=bool(p.leak_reversal[c, js].any()), resets=(bool(to_value.any()),
                                                                  bool(by_alpha.any())),
        random=bool(p.stochastic_leak[c, js].any() or mask.any()),
        V0=np.clip(p.initial_potential[c, js], *potential_range(p.profile)).astype(dt))


def run_neurons(program, core, neurons, drive):
    """Fired (T, H, n) bool of the neurons ``neurons`` (n,) of ``core`` of ``program``, given
    their integration input ``drive`` (T, H, n) (Σ_i arriving_i · W[i, j] per tick) — the tick
    of :func:`neurosim.sim.reference.run_spiking` restricted to these neurons, with their draws
    (seed of the core, tick, neuron index). Stochastic synapses are not handled (their weights
    are drawn per tick: the caller runs such neurons in the kernel)."""
    p, c, js = program, core, np.asarray(neurons, np.int64)
    k = neuron_constants(p, c, js, drive)
    T, H = drive.shape[:2]
    vmin, vmax = potential_range(p.profile)
    V = np.broadcast_to(k.V0, (H, js.size)).copy()
    fired_all = np.zeros((T, H, js.size), bool)
    L, threshold, floor_lo = k.leak, k.alpha, -k.beta  # α + η, −β (− η in floor mode 1)
    for t in range(T):
        V += k.drive[t]
        if k.random:
            base = draw_base(p.prng_seed[c:c + 1], t)
            L = np.where(k.stoch_leak, stochastic(k.leak, draws(base, 1, p.n_neurons)[0, js]),
                         k.leak)
            eta = (draws(base, 0, p.n_neurons)[0, js] & k.mask).astype(k.dt)
            threshold, floor_lo = k.alpha + eta, -k.beta - np.where(k.floor_reset, eta, 0)
        V += np.where(k.reversal, np.sign(V) * L, L) if k.reversal_used else L
        np.minimum(np.maximum(V, vmin, out=V), vmax, out=V)
        fired = np.greater_equal(V, threshold, out=fired_all[t])
        if not k.all_enabled:
            fired &= k.enabled
        if k.resets[0]:
            np.copyto(V, k.R, where=fired & k.to_value)
        if k.resets[1]:
            np.subtract(V, threshold, out=V, where=fired & k.by_alpha)
        below = np.less(V, floor_lo)
        np.copyto(V, k.floor_to, where=below if k.all_enabled else below & k.enabled)
    return fired_all
