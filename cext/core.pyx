# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The core-grid tick kernel: batched, integer, activity-driven, bit-exact with
neurosim.sim.reference.

The tick itself is C (cext/tick.c, described in cext/tick.h): arrival sets per (input, slot,
core) (a bit per axon) instead of a scan of every axon, one vectorised pass over the neurons of a
core (structure of int32 arrays, fire flags out as bits), routing only from the neurons that
fired, straight onto their destinations' arrival sets, OpenMP over cores. This module turns
a ChipProgram into those arrays and runs it.
"""
import os

import numpy as np
cimport numpy as cnp
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint32_t, uint64_t

from neurosim.sim.kernel_layout import kernel_arrays, potential_range

cnp.import_array()

cdef extern from "tick.h":
    ctypedef struct ns_chip:
        int C, A, N, T, B, K, M
        int per_synapse, do_record, block
        int32_t vmin, vmax
        const uint64_t *xbits
        const uint64_t *enabled_bits
        int NW
        const uint8_t *uniform
        const int32_t *uniform_prm
        const uint8_t *atype
        const uint64_t *type_bits
        const int16_t *typed_w
        const int32_t *typed_const
        const int16_t *syn_w
        const uint8_t *stoch_syn
        const uint8_t *core_stoch_syn
        const int32_t *leak
        const int32_t *thr
        const int32_t *floor_lo
        const int32_t *floor_to
        const int32_t *keep
        const int32_t *radd
        const uint8_t *core_extra
        const int32_t *leak_rev
        const int32_t *stoch_leak
        const uint32_t *thr_mask
        const int32_t *eta_reset
        const int32_t *eta_floor
        const uint32_t *seed
        const int64_t *route
        const uint8_t *core_outputs
        const int32_t *out_index
        const int32_t *in_idx
        const int32_t *in_core
        const int32_t *in_axon
        const uint8_t *raster
        int n_inputs
        int32_t *V
        uint64_t *flag
        int W
        uint64_t *fired
        int64_t *counts
        int64_t *first
        int64_t *pair_spikes
        int64_t *pair_events
        int64_t *pair_hops
        uint8_t *record
    void ns_run(ns_chip *p, int ticks, int threads) nogil
    int ns_openmp()

BATCH_BLOCK = 16   # inputs integrated together per crossbar row (rows stay in cache)
SLOTS = 16         # ring-buffer slots: delays 1..15 plus the current tick


cdef void *_ptr(cnp.ndarray arr):
    """Data pointer of a C-contiguous array (the caller keeps the array alive: the program's
    cache holds its layout, this function's locals the rest)."""
    assert arr.flags.c_contiguous
    return cnp.PyArray_DATA(arr)


def default_threads(n_items):
    """The CPUs available, or 1 when there are fewer than 4 work items per thread."""
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return 1 if n_items < 4 * threads else threads


def run_spiking(program, cnp.ndarray raster, bint record=False, int num_threads=0):
    """Run ``program`` on a spike raster of shape (ticks, batch, n_inputs), uint8.

    ``num_threads`` 0 picks :func:`default_threads`. Results do not depend on the number of
    threads.

    Returns a dict: ``counts`` (B, K), ``first_spike`` (B, K) (−1: none), ``pair_spikes``,
    ``pair_events``, ``pair_hops`` (B, C) and, if ``record``, ``record`` (T, B, C, N) uint8.
    """
    cdef int T = raster.shape[0], B = raster.shape[1]
    cdef int C = program.n_cores, A = program.n_axons, N = program.n_neurons
    cdef int K = program.n_outputs
    cdef dict arrays = kernel_arrays(program)   # the program's layout, built once per program

    spikes_in = np.ascontiguousarray(raster, dtype=np.uint8)
    V = np.empty((B, C, N), np.int32)
    V[...] = arrays["V0"]
    counts = np.zeros((B, K), np.int64)
    first = np.full((B, K), -1, np.int64)
    pair = {k: np.zeros((B, C), np.int64) for k in ("spikes", "events", "hops")}
    rec = np.zeros((T, B, C, N), np.uint8) if record else np.zeros(1, np.uint8)
    W = (A + 63) // 64
    flag = np.zeros((B, SLOTS, C, W), np.uint64)
    fired = np.zeros((B, C, (N + 63) // 64), np.uint64)

    cdef ns_chip chip
    chip.C, chip.A, chip.N, chip.B, chip.K = C, A, N, B, K
    chip.T = program.weights.shape[1]
    chip.M = program.input_index.shape[0]
    chip.n_inputs = spikes_in.shape[2]
    chip.per_synapse = program.synapse_weights is not None
    chip.do_record = record
    chip.block = BATCH_BLOCK
    chip.vmin, chip.vmax = potential_range(program.profile)
    chip.NW = (N + 63) // 64
    chip.W = W
    chip.xbits = <const uint64_t *> _ptr(arrays["xbits"])
    chip.enabled_bits = <const uint64_t *> _ptr(arrays["enabled_bits"])
    chip.atype = <const uint8_t *> _ptr(arrays["atype"])
    chip.type_bits = <const uint64_t *> _ptr(arrays["type_bits"])
    chip.typed_w = <const int16_t *> _ptr(arrays["typed_w"])
    chip.typed_const = <const int32_t *> _ptr(arrays["typed_const"])
    chip.syn_w = <const int16_t *> _ptr(arrays["syn_w"])
    chip.uniform = <const uint8_t *> _ptr(arrays["uniform"])
    chip.uniform_prm = <const int32_t *> _ptr(arrays["uniform_prm"])
    chip.leak = <const int32_t *> _ptr(arrays["leak"])
    chip.thr = <const int32_t *> _ptr(arrays["thr"])
    chip.floor_lo = <const int32_t *> _ptr(arrays["floor_lo"])
    chip.floor_to = <const int32_t *> _ptr(arrays["floor_to"])
    chip.keep = <const int32_t *> _ptr(arrays["keep"])
    chip.radd = <const int32_t *> _ptr(arrays["radd"])
    chip.core_extra = <const uint8_t *> _ptr(arrays["core_extra"])
    chip.leak_rev = <const int32_t *> _ptr(arrays["leak_rev"])
    chip.stoch_leak = <const int32_t *> _ptr(arrays["stoch_leak"])
    chip.thr_mask = <const uint32_t *> _ptr(arrays["thr_mask"])
    chip.eta_reset = <const int32_t *> _ptr(arrays["eta_reset"])
    chip.eta_floor = <const int32_t *> _ptr(arrays["eta_floor"])
    chip.stoch_syn = <const uint8_t *> _ptr(arrays["stoch_syn"])
    chip.core_stoch_syn = <const uint8_t *> _ptr(arrays["core_stoch_syn"])
    chip.seed = <const uint32_t *> _ptr(arrays["seed"])
    chip.route = <const int64_t *> _ptr(arrays["route"])
    chip.core_outputs = <const uint8_t *> _ptr(arrays["core_outputs"])
    chip.out_index = <const int32_t *> _ptr(arrays["out_index"])
    chip.in_idx = <const int32_t *> _ptr(arrays["in_idx"])
    chip.in_core = <const int32_t *> _ptr(arrays["in_core"])
    chip.in_axon = <const int32_t *> _ptr(arrays["in_axon"])
    chip.raster = <const uint8_t *> _ptr(spikes_in)
    chip.V = <int32_t *> _ptr(V)
    chip.flag = <uint64_t *> _ptr(flag)
    chip.fired = <uint64_t *> _ptr(fired)
    chip.counts = <int64_t *> _ptr(counts)
    chip.first = <int64_t *> _ptr(first)
    chip.pair_spikes = <int64_t *> _ptr(pair["spikes"])
    chip.pair_events = <int64_t *> _ptr(pair["events"])
    chip.pair_hops = <int64_t *> _ptr(pair["hops"])
    chip.record = <uint8_t *> _ptr(rec)

    blocks = (B + BATCH_BLOCK - 1) // BATCH_BLOCK
    cdef int threads = num_threads if num_threads > 0 else default_threads(C * blocks)
    with nogil:
        ns_run(&chip, T, threads)
    result = {"counts": counts, "first_spike": first, "pair_spikes": pair["spikes"],
              "pair_events": pair["events"], "pair_hops": pair["hops"]}
    if record:
        result["record"] = rec
    return result


def openmp_enabled():
    """True when the kernel was compiled with OpenMP (otherwise it runs serially)."""
    return bool(ns_openmp())
