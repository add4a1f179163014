"""The arrays the tick kernel (cext/tick.c) reads, derived from a ChipProgram.

The kernel keeps the neuron state as a structure of int32 arrays with disabled neurons
neutralised (so its neuron pass has no branches), the crossbar as bits (a 256-neuron row is four
64-bit words, read as AVX-512 masks), and each neuron's way out as one int64. All of it is built
once per program (:func:`kernel_arrays`, kept in the program's cache); the arrays the kernel reads
at random — crossbar rows and routing words — sit on transparent huge pages
(:func:`huge_page_array`).
"""
import mmap

import numpy as np

from neurosim.errors import ValidationError
from neurosim.sim.reference import potential_range

INT32_MIN, INT32_MAX = np.iinfo(np.int32).min, np.iinfo(np.int32).max

__all__ = ["axon_type_bits", "crossbar_bits", "extension_arrays", "huge_page_array",
           "kernel_arrays", "neuron_arrays", "pack_bits", "potential_range", "routing_arrays",
           "shared_type_weights", "uniform_cores", "uniform_parameters"]


def neuron_arrays(program):
    """The neuron pass's structure of arrays, (C, N) int32 each, disabled neurons neutralised:
    leak (enabled ? λ : 0), thr (enabled ? α : INT32_MAX), floor_lo (enabled ? −β : INT32_MIN),
    floor_to (floor mode 0 ? −β : −R), and the reset V ← (V & keep) + radd: keep = 0, radd = R
    (mode 0); keep = −1, radd = −α (mode 1); keep = −1, radd = 0 (mode 2)."""
    en = program.enabled
    alpha, beta, R = program.threshold, program.floor, program.reset_value
    mode = program.reset_mode
    i32 = lambda x: np.ascontiguousarray(x, dtype=np.int32)
    return {
        "leak": i32(np.where(en, program.leak, 0)),
        "thr": i32(np.where(en, alpha, INT32_MAX)),
        "floor_lo": i32(np.where(en, -beta.astype(np.int64), INT32_MIN)),
        "floor_to": i32(np.where(program.floor_mode == 0, -beta.astype(np.int64),
                                 -R.astype(np.int64))),
        "keep": i32(np.where(mode == 0, 0, -1)),
        "radd": i32(np.select([mode == 0, mode == 1], [R, -alpha.astype(np.int64)], 0)),
    }


def extension_arrays(program):
    """The rest of the TrueNorth neuron as masks for the kernel, and per core whether any is
    set (cores without them take the plain pass)."""
    en = program.enabled
    tm = program.threshold_mask_bits.astype(np.uint64)
    mask = lambda x: np.ascontiguousarray(np.where(x, -1, 0), dtype=np.int32)
    stochastic_leak = program.stochastic_leak & en
    reversal = program.leak_reversal & en
    thr_mask = np.ascontiguousarray(np.where(en, (np.uint64(1) << tm) - np.uint64(1), 0),
                                    dtype=np.uint32)
    core_extra = (stochastic_leak.any(axis=1) | reversal.any(axis=1)
                  | (thr_mask != 0).any(axis=1)).astype(np.uint8)
    stoch_syn = np.ascontiguousarray(program.stochastic_synapse & en[:, None, :], dtype=np.uint8)
    return {
        "leak_rev": mask(reversal), "stoch_leak": mask(stochastic_leak), "thr_mask": thr_mask,
        "eta_reset": mask(program.reset_mode == 1), "eta_floor": mask(program.floor_mode == 1),
        "core_extra": core_extra, "stoch_syn": stoch_syn,
        "core_stoch_syn": np.ascontiguousarray(stoch_syn.any(axis=2), dtype=np.uint8),
        "seed": np.ascontiguousarray(program.prng_seed, dtype=np.uint32),
    }


AXON_BITS, CORE_BITS = 16, 24   # route fields: axon (bits 4..19), dest core (20..43), hops (44..)


def routing_arrays(program):
    """Per neuron, one int64 for the spike's way out: hops << 44 | dest core << 20 | axon << 4 |
    delay, hops = |Δrow| + |Δcol|; −1 without a destination. (C, N)."""
    A, C = program.n_axons, program.n_cores
    if A > 1 << AXON_BITS or C > 1 << CORE_BITS:
        raise ValidationError(f"program: {C} cores of {A} axons; the core kernel takes at most "
                              f"{1 << CORE_BITS} cores of {1 << AXON_BITS} axons")
    has = program.dest_core >= 0
    dest = np.where(has, program.dest_core, 0)
    row, col = program.core_xy[:, 0], program.core_xy[:, 1]
    hops = np.abs(row[dest] - row[:, None]) + np.abs(col[dest] - col[:, None])
    word = hops.astype(np.int64) << (4 + AXON_BITS + CORE_BITS)
    word |= dest.astype(np.int64) << (4 + AXON_BITS)
    word |= program.dest_axon.astype(np.int64) << 4
    word |= program.dest_delay
    word[~has] = -1
    return word


def pack_bits(flags):
    """(..., N) bool → (..., ⌈N/64⌉) uint64, neuron n = bit n mod 64 of word n // 64."""
    words = (flags.shape[-1] + 63) // 64
    packed = np.zeros(flags.shape[:-1] + (words * 8,), np.uint8)
    packed[..., :(flags.shape[-1] + 7) // 8] = np.packbits(flags, axis=-1, bitorder="little")
    return packed.view(np.uint64)


def axon_type_bits(program):
    """(C, T, ⌈A/64⌉) uint64: the axons of each type as a bit set (the kernel ANDs an arrival set
    with it instead of looking up each arriving axon's type)."""
    T = program.weights.shape[1]
    return pack_bits(program.axon_type[:, None, :] == np.arange(T)[None, :, None])


def crossbar_bits(program):
    """The crossbar as bits (C, A, ⌈N/64⌉) uint64 on huge pages (the kernel reads its rows at
    random: :func:`huge_page_array`), kept in the program's cache (it is derived from the
    crossbar alone, which a program never changes)."""
    if "crossbar_bits" not in program._cache:
        C, A, N = program.crossbar.shape
        bits = huge_page_array((C, A, (N + 63) // 64), np.uint64)
        for c in range(0, C, 64):   # 64 cores at a time: no crossbar-sized temporary
            bits[c:c + 64] = pack_bits(program.crossbar[c:c + 64])
        program._cache["crossbar_bits"] = bits
    return program._cache["crossbar_bits"]


def uniform_cores(neurons):
    """(C,) uint8: 1 where all six neuron arrays are constant along the core."""
    same = np.ones(next(iter(neurons.values())).shape[0], bool)
    for value in neurons.values():
        same &= (value == value[:, :1]).all(axis=1)
    return same.astype(np.uint8)


UNIFORM_FIELDS = ("leak", "thr", "keep", "radd", "floor_lo", "floor_to")
UNIFORM_STRIDE = 8   # NS_UNIFORM_STRIDE of cext/tick.h


def uniform_parameters(neurons):
    """(C, UNIFORM_STRIDE) int32: neuron 0's six pass parameters (UNIFORM_FIELDS) per core, the
    values a uniform core's pass broadcasts, packed so that a sweep reads one cache line per two
    cores instead of six scattered ones."""
    C = next(iter(neurons.values())).shape[0]
    packed = np.zeros((C, UNIFORM_STRIDE), np.int32)
    packed[:, :len(UNIFORM_FIELDS)] = np.stack([neurons[k][:, 0] for k in UNIFORM_FIELDS],
                                               axis=1)
    return packed


def shared_type_weights(program):
    """(C, T) int32: the weight s_j[type] when every neuron of the core has the same one for that
    axon type (the kernel then adds one broadcast value instead of reading the core's weight
    row), INT32_MIN where they differ (weights fit 16 bits, so it is never a weight); all
    INT32_MIN for per-synapse profiles (the kernel reads their rows)."""
    w = program.weights
    if program.synapse_weights is not None:
        return np.full(w.shape[:2], INT32_MIN, np.int32)
    return np.where((w == w[:, :, :1]).all(axis=2), w[:, :, 0], INT32_MIN).astype(np.int32)


KERNEL_DTYPES = {
    "xbits": np.uint64, "enabled_bits": np.uint64, "atype": np.uint8, "type_bits": np.uint64,
    "typed_w": np.int16, "typed_const": np.int32, "syn_w": np.int16, "uniform": np.uint8,
    "uniform_prm": np.int32, "route": np.int64, "core_outputs": np.uint8,
    "out_index": np.int32, "in_idx": np.int32, "in_core": np.int32, "in_axon": np.int32,
    "V0": np.int32, "leak": np.int32, "thr": np.int32, "floor_lo": np.int32,
    "floor_to": np.int32, "keep": np.int32, "radd": np.int32, "core_extra": np.uint8,
    "leak_rev": np.int32, "stoch_leak": np.int32, "thr_mask": np.uint32, "eta_reset": np.int32,
    "eta_floor": np.int32, "stoch_syn": np.uint8, "core_stoch_syn": np.uint8, "seed": np.uint32,
}

HUGE_PAGE_FIELDS = ("route",)   # crossbar_bits places "xbits" there itself
HUGE_PAGE = 2 << 20   # x86-64 transparent huge page
HUGE_PAGE_MIN_BYTES = HUGE_PAGE


def kernel_arrays(program):
    """Every read-only array the kernel takes, derived from ``program`` alone, C-contiguous in the
    kernel's dtypes, read only (the ``ns_chip`` fields of cext/tick.h of the same names; ``V0``
    is the initial potential saturated to the profile's width). Built once per program and kept
    in its cache: a program never changes (``ChipProgram.replace`` makes a new one with an empty
    cache), so repeated runs of one program (benchmarks, a mission's batches) skip the layout
    (≈ 90 ms per run on the full chip)."""
    if "kernel_arrays" not in program._cache:
        program._cache["kernel_arrays"] = _layout(program)
    return program._cache["kernel_arrays"]


def _layout(program):
    """The arrays of :func:`kernel_arrays`."""
    C, N, K = program.n_cores, program.n_neurons, program.n_outputs
    per_synapse = program.synapse_weights is not None
    out_index = np.full((C, N), -1, np.int32)
    out_index[program.output_core, program.output_neuron] = np.arange(K, dtype=np.int32)
    neurons = neuron_arrays(program)
    ext = extension_arrays(program)
    vmin, vmax = potential_range(program.profile)
    arrays = {
        "xbits": crossbar_bits(program), "enabled_bits": pack_bits(program.enabled),
        "atype": program.axon_type, "type_bits": axon_type_bits(program),
        "typed_w": program.weights, "typed_const": shared_type_weights(program),
        "syn_w": program.masked_synapse_weights_int16() if per_synapse else np.zeros(1),
        "uniform": uniform_cores(neurons), "uniform_prm": uniform_parameters(neurons),
        "route": routing_arrays(program), "core_outputs": (out_index >= 0).any(axis=1),
        "out_index": out_index, "in_idx": program.input_index, "in_core": program.input_core,
        "in_axon": program.input_axon,
        "V0": np.clip(program.initial_potential, vmin, vmax),
        **neurons, **ext,
    }
    return {name: _read_only(_placed(name, value)) for name, value in arrays.items()}


def _placed(name, value):
    """``value`` as a C-contiguous array of the kernel's dtype for ``name``; the routes, which the
    kernel reads at random, on huge pages (:func:`huge_page_array`; the crossbar's bits are
    placed there by :func:`crossbar_bits`)."""
    array = np.ascontiguousarray(value, dtype=KERNEL_DTYPES[name])
    if name not in HUGE_PAGE_FIELDS:
        return array
    placed = huge_page_array(array.shape, array.dtype)
    placed[...] = array
    return placed


def _read_only(array):
    """A read-only view of ``array`` (the array itself, which may be the program's, keeps its
    flags): a cached layout cannot be changed by accident."""
    view = array.view()
    view.flags.writeable = False
    return view


def huge_page_array(shape, dtype):
    """A zeroed array on transparent huge pages where the system offers them: private anonymous
    memory aligned to 2 MiB and madvise(MADV_HUGEPAGE)d (Linux's THP in ``madvise`` mode backs
    only advised regions, and only their 2 MiB-aligned parts). A random read into a large array on
    4 KiB pages misses the TLB almost every time, and in a virtual machine each miss is a
    two-level page walk: the full chip's 32 MiB of crossbar bits in numpy's own allocation cost
    1.9 CPU-ms per tick, here 1.2 (README, "neurosim bench sim"). Arrays under 2 MiB, and systems
    without MADV_HUGEPAGE, get an ordinary array."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes < HUGE_PAGE_MIN_BYTES or not hasattr(mmap, "MADV_HUGEPAGE"):
        return np.zeros(shape, dtype)
    region = mmap.mmap(-1, nbytes + HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    start = -np.frombuffer(region, np.uint8, count=1).ctypes.data % HUGE_PAGE
    region.madvise(mmap.MADV_HUGEPAGE, start, nbytes)
    return np.frombuffer(region, dtype, count=nbytes // dtype.itemsize,
                         offset=start).reshape(shape)
