# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The core-grid tick kernel: batched, integer, bit-exact with neurosim.sim.reference.

One tick t, for every input b of the batch and every core c (in parallel over (c, b) pairs):

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
is kept per (input, core) pair and summed afterwards, which keeps results independent of the
number of threads.
"""
import numpy as np
cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t, uint8_t

cnp.import_array()


cdef inline int32_t _absdiff(int32_t a, int32_t b) noexcept nogil:
    return a - b if a >= b else b - a


cdef inline void _step_pair(
        int t, int slot, int b, int c, int A, int N, bint per_synapse, bint do_record,
        const uint8_t[:, :, ::1] xbar, const uint8_t[:, ::1] atype,
        const int32_t[:, :, ::1] typed_w, const int32_t[:, :, ::1] syn_w,
        const int32_t[:, ::1] row_nnz,
        const int32_t[:, ::1] leak, const int32_t[:, ::1] thr, const int32_t[:, ::1] beta,
        const uint8_t[:, ::1] reset_mode, const int32_t[:, ::1] reset_value,
        const uint8_t[:, ::1] floor_mode, const uint8_t[:, ::1] enabled,
        const int32_t[:, ::1] dest_core, const int32_t[:, ::1] dest_axon,
        const uint8_t[:, ::1] dest_delay, const int32_t[:, ::1] core_xy,
        const int32_t[:, ::1] out_index,
        int32_t[:, :, ::1] V, uint8_t[:, :, :, ::1] buf,
        int64_t[:, ::1] counts, int64_t[:, ::1] first,
        int64_t[:, ::1] pair_spikes, int64_t[:, ::1] pair_events, int64_t[:, ::1] pair_hops,
        uint8_t[:, :, :, ::1] record) noexcept nogil:
    cdef int a, n, k, dc, dslot
    cdef int32_t v
    cdef int32_t *vp = &V[b, c, 0]
    cdef const uint8_t *xb
    cdef const int32_t *w
    cdef int64_t events = 0, spikes = 0, hops = 0
    cdef bint fired
    for a in range(A):
        if buf[b, slot, c, a]:
            buf[b, slot, c, a] = 0
            events += row_nnz[c, a]
            xb = &xbar[c, a, 0]
            if per_synapse:
                w = &syn_w[c, a, 0]
            else:
                w = &typed_w[c, atype[c, a], 0]
            for n in range(N):
                vp[n] += xb[n] * w[n]
    for n in range(N):
        if not enabled[c, n]:
            continue
        v = vp[n] + leak[c, n]
        fired = v >= thr[c, n]
        if fired:
            if reset_mode[c, n] == 0:
                v = reset_value[c, n]
            elif reset_mode[c, n] == 1:
                v = v - thr[c, n]
        if v < -beta[c, n]:
            if floor_mode[c, n] == 0:
                v = -beta[c, n]
            else:
                v = -reset_value[c, n]
        vp[n] = v
        if fired:
            spikes += 1
            if do_record:
                record[t, b, c, n] = 1
            k = out_index[c, n]
            if k >= 0:
                counts[b, k] += 1
                if first[b, k] < 0:
                    first[b, k] = t
            dc = dest_core[c, n]
            if dc >= 0:
                dslot = (t + dest_delay[c, n]) & 15
                buf[b, dslot, dc, dest_axon[c, n]] = 1
                hops += (_absdiff(core_xy[c, 0], core_xy[dc, 0])
                         + _absdiff(core_xy[c, 1], core_xy[dc, 1]))
    pair_events[b, c] += events
    pair_spikes[b, c] += spikes
    pair_hops[b, c] += hops


def run_spiking(program, cnp.ndarray raster, bint record=False, int num_threads=0):
    """Run ``program`` on a spike raster of shape (ticks, batch, n_inputs), uint8.

    Returns a dict: ``counts`` (B, K), ``first_spike`` (B, K) (−1: none), ``pair_spikes``,
    ``pair_events``, ``pair_hops`` (B, C) and, if ``record``, ``record`` (T, B, C, N) uint8.
    """
    cdef int T = raster.shape[0], B = raster.shape[1]
    cdef int C = program.n_cores, A = program.n_axons, N = program.n_neurons
    cdef int K = program.n_outputs
    cdef bint per_synapse = program.synapse_weights is not None
    cdef const uint8_t[:, :, ::1] xbar = program.crossbar.view(np.uint8)
    cdef const uint8_t[:, ::1] atype = program.axon_type
    cdef const int32_t[:, :, ::1] typed_w = program.weights
    cdef const int32_t[:, :, ::1] syn_w = (program.synapse_weights if per_synapse
                                           else np.zeros((1, 1, 1), np.int32))
    cdef const int32_t[:, ::1] row_nnz = program.row_synapses()
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
    cdef int64_t[:, ::1] counts = counts_arr
    cdef int64_t[:, ::1] first = first_arr
    cdef int64_t[:, ::1] pair_spikes = spikes_arr
    cdef int64_t[:, ::1] pair_events = events_arr
    cdef int64_t[:, ::1] pair_hops = hops_arr
    cdef uint8_t[:, :, :, ::1] rec = record_arr

    cdef int M = in_idx.shape[0]
    cdef int t, slot, b, m, i, c
    cdef int threads = num_threads
    if threads <= 0:
        import os
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    with nogil:
        for t in range(T):
            slot = t & 15
            for b in range(B):
                for m in range(M):
                    if spikes_in[t, b, in_idx[m]]:
                        buf[b, slot, in_core[m], in_axon[m]] = 1
            for i in prange(C * B, schedule="static", num_threads=threads):
                c = i // B
                _step_pair(t, slot, i - c * B, c, A, N, per_synapse, record,
                           xbar, atype, typed_w, syn_w, row_nnz, leak, thr, beta, reset_mode,
                           reset_value, floor_mode, enabled, dest_core, dest_axon, dest_delay,
                           core_xy, out_index, V, buf, counts, first,
                           pair_spikes, pair_events, pair_hops, rec)
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
