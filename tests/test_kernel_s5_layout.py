"""The kernel's layout of a program (neurosim.sim.kernel_layout.kernel_arrays) is built once per
program and reused: a rerun gives the same results as the first run and as the reference, the
layout cannot be changed through the cache, and a program derived with faults gets its own. Large
arrays the kernel reads at random sit on 2 MiB-aligned (huge-page) memory."""
import mmap

import numpy as np
import pytest

from neurosim import _core
from neurosim.chip import FaultState, apply
from neurosim.chip.synthetic import mixed_program
from neurosim.sim import reference
from neurosim.sim.kernel_layout import (HUGE_PAGE, KERNEL_DTYPES, crossbar_bits, huge_page_array,
                                       kernel_arrays, pack_bits)

KEYS = ("counts", "first_spike", "pair_spikes", "pair_events", "pair_hops", "record")


def idle_raster(ticks, batch=1):
    return np.zeros((ticks, batch, 0), np.uint8)


def test_layout_is_built_once_per_program_and_typed_as_the_kernel_reads_it():
    prog = mixed_program(3, seed=1)
    first = kernel_arrays(prog)
    assert kernel_arrays(prog) is first
    assert set(first) == set(KERNEL_DTYPES)
    for name, array in first.items():
        assert array.dtype == KERNEL_DTYPES[name], name
        assert array.flags.c_contiguous, name
    assert first["route"].shape == (3, 256) and first["V0"].shape == (3, 256)


def test_cached_layout_is_read_only_and_the_program_keeps_its_flags():
    prog = mixed_program(2, seed=2)
    arrays = kernel_arrays(prog)
    with pytest.raises(ValueError):
        arrays["route"][0, 0] = 0
    with pytest.raises(ValueError):
        arrays["V0"][0, 0] = 0
    # atype is the program's own uint8 axon_type (no copy): only the view is read only
    prog.axon_type[0, 0] = prog.axon_type[0, 0]


@pytest.mark.parametrize("threads", [1, 2])
def test_a_rerun_on_the_cached_layout_equals_the_first_run_and_the_reference(threads):
    prog = mixed_program(4, seed=5)
    ref = reference.run_spiking(prog, idle_raster(30), record=True)
    v0 = kernel_arrays(prog)["V0"].copy()
    runs = [_core.run_spiking(prog, idle_raster(30), record=True, num_threads=threads)
            for _ in range(2)]
    assert ref["pair_spikes"].sum() > 0
    for out in runs:
        for key in KEYS:
            assert np.array_equal(out[key], ref[key]), key
    assert np.array_equal(kernel_arrays(prog)["V0"], v0)   # the run did not write the layout


def test_a_faulted_program_gets_its_own_layout():
    prog = mixed_program(3, seed=7)
    pristine = _core.run_spiking(prog, idle_raster(25), record=True)
    hurt = apply(prog, FaultState(dead_neurons=[(1, n) for n in range(256)]))
    assert "kernel_arrays" not in hurt._cache
    out = _core.run_spiking(hurt, idle_raster(25), record=True)
    ref = reference.run_spiking(hurt, idle_raster(25), record=True)
    for key in KEYS:
        assert np.array_equal(out[key], ref[key]), key
    assert out["pair_spikes"][0, 1] == 0 < pristine["pair_spikes"][0, 1]


@pytest.mark.skipif(not hasattr(mmap, "MADV_HUGEPAGE"), reason="no MADV_HUGEPAGE on this system")
def test_huge_page_arrays_are_zeroed_writable_and_2_mib_aligned():
    big = huge_page_array((3, HUGE_PAGE // 8 + 5), np.int64)
    assert big.shape == (3, HUGE_PAGE // 8 + 5) and big.dtype == np.int64
    assert big.ctypes.data % HUGE_PAGE == 0 and big.flags.c_contiguous
    assert not big.any()
    big[-1, -1] = 7   # the whole array is usable, to its last element
    assert big.sum() == 7
    small = huge_page_array((10, 10), np.int32)
    assert small.shape == (10, 10) and not small.any()


@pytest.mark.skipif(not hasattr(mmap, "MADV_HUGEPAGE"), reason="no MADV_HUGEPAGE on this system")
def test_crossbar_bits_on_huge_pages_equal_the_packed_crossbar():
    prog = mixed_program(260, seed=4)   # 2.03 MiB of bits, in blocks of 64 cores and one of 4
    bits = crossbar_bits(prog)
    assert bits.ctypes.data % HUGE_PAGE == 0
    assert np.array_equal(bits, pack_bits(prog.crossbar))
    assert kernel_arrays(prog)["xbits"].ctypes.data == bits.ctypes.data   # no second copy
