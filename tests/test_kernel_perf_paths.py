"""The tick kernel's fast paths (cext/tick.c) against the numpy reference, bit for bit.

The random programs of test_sim.py are small (≤ 24 axons), so these build busier ones that take
the paths the full chip takes: more arrivals per core and tick than the kernel queues at once
(FUSE = 32 rows), arrival sets of more than one 64-bit word, neuron counts that are not a
multiple of 16 (the vector pass's tail) and counts of whole 64-neuron words (the AVX2 pass), cores whose neurons share one weight per axon type
(broadcast weight) next to cores whose neurons do not (weight rows), and cores with uniform
neuron parameters next to mixed ones; with 1, 2 and 3 threads, batch 1 (the per-thread sweep)
and batch 3 (blocks of inputs).
"""
import numpy as np
import pytest

from neurosim import _core
from neurosim.chip import empty_program
from neurosim.sim import reference
from neurosim.sim.kernel_layout import INT32_MIN, routing_arrays, shared_type_weights

C, A, N, T = 6, 90, 40, 4
FUSE = 32   # rows the kernel queues before adding them (cext/tick.c)


def busy_program(seed, n=N):
    """Every axon of every core is fed by its own input; weights shared per type on even cores
    (types 0 and 1), per neuron elsewhere; uniform neuron parameters on cores 1 and 2."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(-6, 7, (C, T, n))
    weights[0::2, :2] = rng.integers(-6, 7, (C // 2, 2, 1))
    param = lambda low, high: rng.integers(low, high, (C, n))
    fields = dict(leak=param(-2, 3), threshold=param(4, 40), floor=param(0, 20),
                  reset_mode=param(0, 3), reset_value=param(-5, 6), floor_mode=param(0, 2))
    for name, value in fields.items():
        value[1:3] = value[1:3, :1]
    routed = rng.random((C, n)) < 0.85
    return empty_program(
        "truenorth", C, A, n, n_inputs=C * A, n_outputs=4,
        crossbar=rng.random((C, A, n)) < 0.5, axon_type=rng.integers(0, T, (C, A)),
        weights=weights, initial_potential=param(-5, 30), enabled=rng.random((C, n)) < 0.9,
        dest_core=np.where(routed, rng.integers(0, C, (C, n)), -1),
        dest_axon=rng.integers(0, A, (C, n)), dest_delay=rng.integers(1, 16, (C, n)),
        input_index=np.arange(C * A), input_core=np.repeat(np.arange(C), A),
        input_axon=np.tile(np.arange(A), C), output_core=np.array([0, 1, 3, 5]),
        output_neuron=np.array([0, 39, 17, 33]), **fields)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("n", [N, 150])
def test_busy_cores_match_the_reference_with_any_thread_count(seed, batch, n):
    # 40 neurons: one partial word (the AVX-512 pass's masked tail; scalar under AVX2);
    # 150: two whole words (the AVX2 pass) and a partial one
    prog = busy_program(seed, n)
    rng = np.random.default_rng(100 + seed)
    raster = (rng.random((40, batch, C * A)) < 0.6).astype(np.uint8)
    # the program exercises the paths the docstring names
    shared = shared_type_weights(prog)
    assert (shared[0::2, :2] != INT32_MIN).all() and (shared[1::2] == INT32_MIN).all()
    assert raster.reshape(40, batch, C, A).sum(axis=3).max() > FUSE
    ref = reference.run_spiking(prog, raster, record=True)
    spikes_per_tick = ref["record"].sum(axis=(1, 2, 3))
    assert spikes_per_tick.min() > 0 and spikes_per_tick.max() < batch * C * n
    for threads in (1, 2, 3):
        out = _core.run_spiking(prog, raster, record=True, num_threads=threads)
        for key in ref:
            assert np.array_equal(out[key], ref[key]), (key, threads)


def test_shared_type_weights_is_the_common_weight_or_int32_min():
    prog = empty_program("truenorth", 2, 3, 3, weights=np.array(
        [[[1, 1, 1], [2, 3, 2], [0, 0, 0], [-255, -255, -255]],
         [[5, 5, 4], [7, 7, 7], [1, 2, 3], [0, 0, 1]]]))
    assert shared_type_weights(prog).tolist() == [[1, INT32_MIN, 0, -255],
                                                  [INT32_MIN, 7, INT32_MIN, INT32_MIN]]
    per_synapse = empty_program("ideal", 2, 3, 3)
    assert (shared_type_weights(per_synapse) == INT32_MIN).all()


def test_routing_words_unpack_to_destination_axon_delay_and_hops():
    prog = empty_program("truenorth", 3, 8, 2, dest_core=[[2, -1], [0, 1], [-1, -1]],
                         dest_axon=[[7, 0], [3, 5], [0, 0]], dest_delay=[[15, 1], [1, 9], [1, 1]],
                         core_xy=[[0, 0], [3, 1], [10, 63]])
    route = routing_arrays(prog)
    assert (route[prog.dest_core < 0] == -1).all()
    has = prog.dest_core >= 0
    r = route[has]
    assert (r & 15).tolist() == [15, 1, 9]                      # delay
    assert ((r >> 4) & 0xffff).tolist() == [7, 3, 5]            # axon
    assert ((r >> 20) & 0xffffff).tolist() == [2, 0, 1]         # destination core
    assert (r >> 44).tolist() == [10 + 63, 3 + 1, 0]            # |Δrow| + |Δcol|
