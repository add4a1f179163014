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

from neurosim.sim.kernel_layout import (axon_type_bits, crossbar_bits, extension_arrays,
                                       neuron_arrays, pack_bits, potential_range, routing_arrays,
                                       shared_type_weights, uniform_cores, uniform_parameters)

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
    """Data pointer of a C-contiguous array (the caller keeps the array alive)."""
    assert arr.flags.c_contiguous
    return cnp.PyArray_DATA(arr)


cdef void *_held(dict keep, str name, value, dtype):
    """Data pointer of ``value`` as a C-contiguous ``dtype`` array, held in ``keep[name]``."""
    keep[name] = np.ascontiguousarray(value, dtype=dtype)
    return _ptr(keep[name])


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
    per_synapse = program.synapse_weights is not None
    cdef dict keep = {}   # every array the kernel points into stays referenced here

    spikes_in = np.ascontiguousarray(raster, dtype=np.uint8)
    keep["raster"] = spikes_in
    out_index = np.full((C, N), -1, np.int32)
    out_index[program.output_core, program.output_neuron] = np.arange(K, dtype=np.int32)
    V = np.empty((B, C, N), np.int32)
    vmin, vmax = potential_range(program.profile)
    V[...] = np.clip(program.initial_potential, vmin, vmax)
    counts = np.zeros((B, K), np.int64)
    first = np.full((B, K), -1, np.int64)
    pair = {k: np.zeros((B, C), np.int64) for k in ("spikes", "events", "hops")}
    rec = np.zeros((T, B, C, N), np.uint8) if record else np.zeros(1, np.uint8)

    cdef ns_chip chip
    chip.C, chip.A, chip.N, chip.B, chip.K = C, A, N, B, K
    chip.T = program.weights.shape[1]
    chip.M = program.input_index.shape[0]
    chip.n_inputs = spikes_in.shape[2]
    chip.per_synapse = per_synapse
    chip.do_record = record
    chip.block = BATCH_BLOCK
    chip.vmin, chip.vmax = vmin, vmax
    chip.NW = (N + 63) // 64
    chip.xbits = <const uint64_t *> _held(keep, "xbits", crossbar_bits(program), np.uint64)
    chip.enabled_bits = <const uint64_t *> _held(keep, "enabled_bits", pack_bits(program.enabled),
                                                 np.uint64)
    chip.atype = <const uint8_t *> _held(keep, "atype", program.axon_type, np.uint8)
    chip.type_bits = <const uint64_t *> _held(keep, "type_bits", axon_type_bits(program),
                                              np.uint64)
    chip.typed_w = <const int16_t *> _held(keep, "typed_w", program.weights, np.int16)
    chip.typed_const = <const int32_t *> _held(keep, "typed_const", shared_type_weights(program),
                                               np.int32)
    chip.syn_w = <const int16_t *> _held(keep, 
        "syn_w", program.masked_synapse_weights_int16() if per_synapse else np.zeros(1),
        np.int16)
    neurons = neuron_arrays(program)
    chip.uniform = <const uint8_t *> _held(keep, "uniform", uniform_cores(neurons), np.uint8)
    chip.uniform_prm = <const int32_t *> _held(keep, "uniform_prm", uniform_parameters(neurons),
                                               np.int32)
    chip.leak = <const int32_t *> _held(keep, "leak", neurons["leak"], np.int32)
    chip.thr = <const int32_t *> _held(keep, "thr", neurons["thr"], np.int32)
    chip.floor_lo = <const int32_t *> _held(keep, "floor_lo", neurons["floor_lo"], np.int32)
    chip.floor_to = <const int32_t *> _held(keep, "floor_to", neurons["floor_to"], np.int32)
    chip.keep = <const int32_t *> _held(keep, "keep", neurons["keep"], np.int32)
    chip.radd = <const int32_t *> _held(keep, "radd", neurons["radd"], np.int32)
    ext = extension_arrays(program)
    chip.core_extra = <const uint8_t *> _held(keep, "core_extra", ext["core_extra"], np.uint8)
    chip.leak_rev = <const int32_t *> _held(keep, "leak_rev", ext["leak_rev"], np.int32)
    chip.stoch_leak = <const int32_t *> _held(keep, "stoch_leak", ext["stoch_leak"], np.int32)
    chip.thr_mask = <const uint32_t *> _held(keep, "thr_mask", ext["thr_mask"], np.uint32)
    chip.eta_reset = <const int32_t *> _held(keep, "eta_reset", ext["eta_reset"], np.int32)
    chip.eta_floor = <const int32_t *> _held(keep, "eta_floor", ext["eta_floor"], np.int32)
    chip.stoch_syn = <const uint8_t *> _held(keep, "stoch_syn", ext["stoch_syn"], np.uint8)
    chip.core_stoch_syn = <const uint8_t *> _held(keep, "core_stoch_syn", ext["core_stoch_syn"],
                                                np.uint8)
    chip.seed = <const uint32_t *> _held(keep, "seed", ext["seed"], np.uint32)
    chip.route = <const int64_t *> _held(keep, "route", routing_arrays(program), np.int64)
    chip.core_outputs = <const uint8_t *> _held(keep, "core_outputs", (out_index >= 0).any(axis=1),
                                                np.uint8)
    chip.out_index = <const int32_t *> _held(keep, "out_index", out_index, np.int32)
    chip.in_idx = <const int32_t *> _held(keep, "in_idx", program.input_index, np.int32)
    chip.in_core = <const int32_t *> _held(keep, "in_core", program.input_core, np.int32)
    chip.in_axon = <const int32_t *> _held(keep, "in_axon", program.input_axon, np.int32)
    chip.raster = <const uint8_t *> _ptr(spikes_in)
    chip.V = <int32_t *> _ptr(V)
    chip.W = (A + 63) // 64
    chip.flag = <uint64_t *> _held(keep, "flag", np.zeros((B, SLOTS, C, chip.W), np.uint64),
                                   np.uint64)
    chip.fired = <uint64_t *> _held(keep, "fired", np.zeros((B, C, chip.NW), np.uint64),
                                    np.uint64)
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
