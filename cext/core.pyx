# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The core-grid tick kernel: batched, integer, bit-exact with neurosim.sim.reference.

One tick t, for every input b of the batch and every core c (in parallel over work items of one
core and a block of up to 16 inputs):

1. integrate: for each axon i whose ring-buffer slot t mod 16 holds a spike,
   V_j += c_ij * s_j[type_i]   (or c_ij * w_ij for per-synapse profiles); the slot is cleared;
2. leak:      V_j += λ_j                                         (enabled neurons only)
3. fire:      V_j ≥ α_j → spike; V_j ← R_j | V_j − α_j | V_j     (reset mode 0 | 1 | 2)
4. floor:     V_j < −β_j → V_j ← −β_j (floor mode 0) | −R_j (floor mode 1)
5. route:     a spike of neuron j is written into slot (t + d_j) mod 16 of its destination axon,
              and costs |Δrow| + |Δcol| hops.

External input spikes of tick t are written into slot t mod 16 before step 1. Delays are 1..15,
so a neuron never writes the slot being read in the same tick; two neurons writing the same
destination byte both write 1, so the result does not depend on thread scheduling. Every counter
is kept per (input, core) pair, each pair owned by one work item, and summed afterwards, which
keeps results independent of the number of threads.
"""
import numpy as np
cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t

cnp.import_array()

cdef enum:
    BATCH_BLOCK = 16  # inputs integrated together per crossbar row (rows stay in cache)


cdef inline int32_t _absdiff(int32_t a, int32_t b) noexcept nogil:
    return a - b if a >= b else b - a


cdef struct Chip:
    # sizes
    int C, A, N, K, per_synapse, do_record
    # program (read-only)
    const uint8_t *xbar          # (C, A, N)
    const uint8_t *atype         # (C, A)
    const int16_t *typed_w       # (C, T, N): s_j[type]
    int T
    const int16_t *syn_w         # (C, A, N): c_ij · w_ij, precomputed (per-synapse profiles)
    const int32_t *row_nnz       # (C, A): enabled neurons on each axon
    const int32_t *row_len       # (C, A): last connected neuron + 1
    const int32_t *leak          # (C, N), and the same layout for every per-neuron field
    const int32_t *thr
    const int32_t *beta
    const uint8_t *reset_mode
    const int32_t *reset_value
    const uint8_t *floor_mode
    const uint8_t *enabled
    const int32_t *dest_core
    const int32_t *dest_axon
    const uint8_t *dest_delay
    const int32_t *core_xy       # (C, 2)
    const int32_t *out_index     # (C, N): output class or -1
    # state and results (written)
    int32_t *V                   # (B, C, N)
    uint8_t *buf                 # (B, 16, C, A)
    int64_t *counts              # (B, K)
    int64_t *first               # (B, K)
    int64_t *pair_spikes         # (B, C)
    int64_t *pair_events
    int64_t *pair_hops
    uint8_t *record              # (T, B, C, N) if do_record
    uint8_t *fired               # (B, C, N) scratch: who fired this tick
    int B


cdef inline void _integrate_block(const Chip *p, int slot, int c, int b0, int b1) noexcept nogil:
    """Step 1 for core c and inputs b0..b1-1: rows outermost, inputs inside, so each crossbar row
    and its weights are read once per block; a row stops at its last connected neuron."""
    cdef int A = p.A, N = p.N, C = p.C
    cdef int a, b, n, length
    cdef int64_t row = <int64_t>c * A
    cdef int32_t *vp
    cdef uint8_t *arrived
    cdef const uint8_t *xb
    cdef const int16_t *w
    for a in range(A):
        length = p.row_len[row + a]
        xb = p.xbar + (row + a) * N
        if p.per_synapse:
            w = p.syn_w + (row + a) * N
        else:
            w = p.typed_w + (<int64_t>c * p.T + p.atype[row + a]) * N
        for b in range(b0, b1):
            arrived = p.buf + ((<int64_t>b * 16 + slot) * C + c) * A + a
            if arrived[0]:
                arrived[0] = 0
                p.pair_events[<int64_t>b * C + c] += p.row_nnz[row + a]
                vp = p.V + (<int64_t>b * C + c) * N
                if p.per_synapse:
                    for n in range(length):
                        vp[n] += w[n]
                else:
                    for n in range(length):
                        vp[n] += xb[n] * w[n]


cdef inline void _step_pair(const Chip *p, int t, int b, int c) noexcept nogil:
    """Steps 2-5 (leak, fire/reset, floor, route) for core c and input b."""
    cdef int N = p.N, C = p.C, A = p.A
    cdef int n, k, dc
    cdef int64_t cn = <int64_t>c * N
    cdef int32_t *vp = p.V + (<int64_t>b * C + c) * N
    cdef int64_t spikes = 0, hops = 0
    # leak, fire, reset and floor for all neurons, branch-free so the compiler can vectorise it
    cdef uint8_t *fired_flags = p.fired + (<int64_t>b * C + c) * N
    cdef const int32_t *leak = p.leak + cn
    cdef const int32_t *thr = p.thr + cn
    cdef const int32_t *beta = p.beta + cn
    cdef const int32_t *rv = p.reset_value + cn
    cdef const uint8_t *rmode = p.reset_mode + cn
    cdef const uint8_t *fmode = p.floor_mode + cn
    cdef const uint8_t *en = p.enabled + cn
    cdef int32_t f, below, r0, r1, fz, vn, fired_here = 0
    for n in range(N):
        # masks are 0/1 integers; v + m·(x − v) selects x where m = 1
        vn = vp[n] + leak[n] * en[n]
        f = en[n] & (vn >= thr[n])
        r0 = rmode[n] == 0
        r1 = rmode[n] == 1
        vn = vn + f * (r0 * (rv[n] - vn) - r1 * thr[n])
        below = en[n] & (vn < -beta[n])
        fz = fmode[n] == 0
        vn = vn + below * (fz * (-beta[n]) + (1 - fz) * (-rv[n]) - vn)
        vp[n] = vn
        fired_flags[n] = <uint8_t> f
        fired_here += f
    spikes = fired_here
    # route the (few) spikes
    if spikes:
        for n in range(N):
            if not fired_flags[n]:
                continue
            if p.do_record:
                p.record[((<int64_t>t * p.B + b) * C + c) * N + n] = 1
            k = p.out_index[cn + n]
            if k >= 0:
                p.counts[<int64_t>b * p.K + k] += 1
                if p.first[<int64_t>b * p.K + k] < 0:
                    p.first[<int64_t>b * p.K + k] = t
            dc = p.dest_core[cn + n]
            if dc >= 0:
                p.buf[((<int64_t>b * 16 + ((t + p.dest_delay[cn + n]) & 15)) * C + dc) * A
                      + p.dest_axon[cn + n]] = 1
                hops += (_absdiff(p.core_xy[2 * c], p.core_xy[2 * dc])
                         + _absdiff(p.core_xy[2 * c + 1], p.core_xy[2 * dc + 1]))
    p.pair_spikes[<int64_t>b * C + c] += spikes
    p.pair_hops[<int64_t>b * C + c] += hops


def run_spiking(program, cnp.ndarray raster, bint record=False, int num_threads=0):
    """Run ``program`` on a spike raster of shape (ticks, batch, n_inputs), uint8.

    ``num_threads`` 0 picks the CPUs available, or 1 when there are fewer than 4 (core, input)
    pairs per thread. Results do not depend on the number of threads.

    Returns a dict: ``counts`` (B, K), ``first_spike`` (B, K) (−1: none), ``pair_spikes``,
    ``pair_events``, ``pair_hops`` (B, C) and, if ``record``, ``record`` (T, B, C, N) uint8.
    """
    cdef int T = raster.shape[0], B = raster.shape[1]
    cdef int C = program.n_cores, A = program.n_axons, N = program.n_neurons
    cdef int K = program.n_outputs
    cdef bint per_synapse = program.synapse_weights is not None
    cdef const uint8_t[:, :, ::1] xbar = program.crossbar.view(np.uint8)
    cdef const uint8_t[:, ::1] atype = program.axon_type
    cdef const int16_t[:, :, ::1] typed_w = program.weights.astype(np.int16)
    cdef const int16_t[:, :, ::1] syn_w = (program.masked_synapse_weights_int16() if per_synapse
                                           else np.zeros((1, 1, 1), np.int16))
    cdef const int32_t[:, ::1] row_nnz = program.row_synapses()
    cdef const int32_t[:, ::1] row_len = program.row_lengths()
    cdef const int32_t[:, ::1] leak = program.leak
    cdef const int32_t[:, ::1] thr = program.threshold
    cdef const int32_t[:, ::1] beta = program.floor
    cdef const uint8_t[:, ::1] reset_mode = program.reset_mode
    cdef const int32_t[:, ::1] reset_value = program.reset_value
    cdef const uint8_t[:, ::1] floor_mode = program.floor_mode
    cdef const uint8_t[:, ::1] enabled = program.enabled.view(np.uint8)
    cdef const int32_t[:, ::1] dest_core = program.dest_core
    cdef const int32_t[:, ::1] dest_axon = program.dest_axon
    cdef const uint8_t[:, ::1] dest_delay = program.dest_delay
    cdef const int32_t[:, ::1] core_xy = program.core_xy
    cdef const int32_t[::1] in_idx = program.input_index
    cdef const int32_t[::1] in_core = program.input_core
    cdef const int32_t[::1] in_axon = program.input_axon
    cdef const uint8_t[:, :, ::1] spikes_in = np.ascontiguousarray(raster, dtype=np.uint8)

    out_index_arr = np.full((C, N), -1, np.int32)
    out_index_arr[program.output_core, program.output_neuron] = np.arange(K, dtype=np.int32)
    cdef const int32_t[:, ::1] out_index = out_index_arr

    V_arr = np.empty((B, C, N), np.int32)
    V_arr[...] = program.initial_potential
    cdef int32_t[:, :, ::1] V = V_arr
    cdef uint8_t[:, :, :, ::1] buf = np.zeros((B, 16, C, A), np.uint8)
    counts_arr = np.zeros((B, K), np.int64)
    first_arr = np.full((B, K), -1, np.int64)
    spikes_arr = np.zeros((B, C), np.int64)
    events_arr = np.zeros((B, C), np.int64)
    hops_arr = np.zeros((B, C), np.int64)
    record_arr = (np.zeros((T, B, C, N), np.uint8) if record
                  else np.zeros((1, 1, 1, 1), np.uint8))
    cdef int64_t[:, ::1] pair_spikes = spikes_arr
    cdef int64_t[:, ::1] pair_events = events_arr
    cdef int64_t[:, ::1] pair_hops = hops_arr
    cdef uint8_t[:, :, :, ::1] rec = record_arr

    cdef Chip chip
    chip.C, chip.A, chip.N, chip.K, chip.B = C, A, N, K, B
    chip.T = typed_w.shape[1]
    chip.per_synapse = per_synapse
    chip.do_record = record
    chip.xbar = &xbar[0, 0, 0]
    chip.atype = &atype[0, 0]
    chip.typed_w = &typed_w[0, 0, 0]
    chip.syn_w = &syn_w[0, 0, 0]
    chip.row_nnz = &row_nnz[0, 0]
    chip.row_len = &row_len[0, 0]
    chip.leak = &leak[0, 0]
    chip.thr = &thr[0, 0]
    chip.beta = &beta[0, 0]
    chip.reset_mode = &reset_mode[0, 0]
    chip.reset_value = &reset_value[0, 0]
    chip.floor_mode = &floor_mode[0, 0]
    chip.enabled = &enabled[0, 0]
    chip.dest_core = &dest_core[0, 0]
    chip.dest_axon = &dest_axon[0, 0]
    chip.dest_delay = &dest_delay[0, 0]
    chip.core_xy = &core_xy[0, 0]
    chip.out_index = &out_index[0, 0]
    chip.V = &V[0, 0, 0]
    chip.buf = &buf[0, 0, 0, 0]
    chip.counts = <int64_t *> cnp.PyArray_DATA(counts_arr)
    chip.first = <int64_t *> cnp.PyArray_DATA(first_arr)
    chip.pair_spikes = &pair_spikes[0, 0]
    chip.pair_events = &pair_events[0, 0]
    chip.pair_hops = &pair_hops[0, 0]
    chip.record = &rec[0, 0, 0, 0]
    fired_arr = np.zeros((B, C, N), np.uint8)
    chip.fired = <uint8_t *> cnp.PyArray_DATA(fired_arr)

    cdef int M = in_idx.shape[0]
    cdef int t, slot, b, m, i, c, b0, b1, b2
    cdef int blocks = (B + BATCH_BLOCK - 1) // BATCH_BLOCK
    cdef int threads = num_threads
    if threads <= 0:
        import os
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        if C * blocks < 4 * threads:
            threads = 1  # too few work items per tick to repay a barrier per tick
    with nogil:
        for t in range(T):
            slot = t & 15
            for b in range(B):
                for m in range(M):
                    if spikes_in[t, b, in_idx[m]]:
                        buf[b, slot, in_core[m], in_axon[m]] = 1
            for i in prange(C * blocks, schedule="dynamic", num_threads=threads):
                c = i // blocks
                b0 = (i - c * blocks) * BATCH_BLOCK
                b1 = min(b0 + BATCH_BLOCK, B)
                _integrate_block(&chip, slot, c, b0, b1)
                for b2 in range(b0, b1):
                    _step_pair(&chip, t, b2, c)
    result = {"counts": counts_arr, "first_spike": first_arr, "pair_spikes": spikes_arr,
              "pair_events": events_arr, "pair_hops": hops_arr}
    if record:
        result["record"] = record_arr
    return result


cdef extern from *:
    """
    #ifdef _OPENMP
    #define NEUROSIM_OPENMP 1
    #else
    #define NEUROSIM_OPENMP 0
    #endif
    """
    int NEUROSIM_OPENMP


def openmp_enabled():
    """True when the kernel was compiled with OpenMP (otherwise prange runs serially)."""
    return bool(NEUROSIM_OPENMP)
