"""Random valid ChipPrograms and FaultStates for property tests (seeded, small)."""
import numpy as np

from neurosim.chip import FaultState, empty_program
from neurosim.chip.memory import CoreMemory


def random_program(rng, profile="truenorth", max_cores=5, max_axons=24, max_neurons=24,
                   feed_forward=False):
    """A random valid program: random sizes, crossbars, weights, neuron parameters, delays,
    grid positions, input and output maps. ``feed_forward`` routes only to later cores."""
    C = int(rng.integers(1, max_cores + 1))
    A = int(rng.integers(1, max_axons + 1))
    N = int(rng.integers(1, max_neurons + 1))
    n_inputs = int(rng.integers(1, 12))
    typed = profile == "truenorth"
    crossbar = rng.random((C, A, N)) < rng.uniform(0.1, 0.9)
    fields = dict(
        crossbar=crossbar,
        axon_type=rng.integers(0, 4 if typed else 1, (C, A)),
        leak=rng.integers(-3, 4, (C, N)),
        threshold=rng.integers(1, 20, (C, N)),
        floor=rng.integers(0, 15, (C, N)),
        reset_mode=rng.integers(0, 3, (C, N)),
        reset_value=rng.integers(-5, 6, (C, N)),
        floor_mode=rng.integers(0, 2, (C, N)),
        initial_potential=rng.integers(-5, 10, (C, N)),
        enabled=rng.random((C, N)) < 0.9,
        dest_delay=rng.integers(1, 16, (C, N)),
        core_xy=_grid_positions(rng, C),
    )
    if typed:
        fields["weights"] = rng.integers(-8, 9, (C, 4, N))
    else:
        fields["synapse_weights"] = rng.integers(-8, 9, (C, A, N))
    dest_core = rng.integers(0, C, (C, N))
    if feed_forward:  # core c routes only to cores c+1 .. C-1; the last core routes nowhere
        lowest = np.arange(C)[:, None] + 1
        dest_core = lowest + rng.integers(0, 1 << 30, (C, N)) % np.maximum(C - lowest, 1)
        dest_core = np.where(lowest < C, dest_core, -1)
    routed = rng.random((C, N)) < 0.8
    fields["dest_core"] = np.where(routed, dest_core, -1)
    fields["dest_axon"] = rng.integers(0, A, (C, N))
    M = int(rng.integers(1, 2 * A * C + 1))
    K = int(rng.integers(1, min(6, C * N + 1)))
    outputs = rng.choice(C * N, size=K, replace=False)
    return empty_program(
        profile, C, A, N, n_inputs=n_inputs, n_outputs=K,
        input_index=rng.integers(0, n_inputs, M), input_core=rng.integers(0, C, M),
        input_axon=rng.integers(0, A, M), output_core=outputs // N, output_neuron=outputs % N,
        **fields)


def _grid_positions(rng, C, rows=64, cols=64):
    flat = rng.choice(rows * cols, size=C, replace=False)
    return np.stack([flat // cols, flat % cols], axis=1)


def random_faults(rng, program, scale=3):
    """A random FaultState touching every kind of fault, each at 0..``scale`` places. Bits span
    the program's memory map (:class:`neurosim.chip.memory.CoreMemory`: weight magnitude and
    sign, every threshold, potential and routing bit); half the threshold and potential flips stay
    in the low bits, where they change a neuron's behaviour without silencing it."""
    C, A, N = program.crossbar.shape
    rows = program.profile.axon_types if program.synapse_weights is None else A
    top = CoreMemory.of_program(program).field_limits()
    top["potential"] = min(top["potential"], 30)   # int32 kernel: see test_sim's overflow note

    def n():
        return int(rng.integers(0, scale + 1))

    def register_bits(k, field):
        return rng.integers(0, 6 if rng.random() < 0.5 else top[field] + 1, k)

    return FaultState(
        dead_neurons=np.stack([rng.integers(0, C, k := n()), rng.integers(0, N, k)], axis=1),
        dead_cores=rng.integers(0, C, int(rng.random() < 0.2)),
        stuck_synapses=np.stack([rng.integers(0, C, k := n()), rng.integers(0, A, k),
                                 rng.integers(0, N, k), rng.integers(0, 2, k)], axis=1),
        weight_flips=np.stack([rng.integers(0, C, k := n()), rng.integers(0, rows, k),
                               rng.integers(0, N, k), rng.integers(0, top["weight"] + 1, k)],
                              axis=1),
        threshold_flips=np.stack([rng.integers(0, C, k := n()), rng.integers(0, N, k),
                                  register_bits(k, "threshold")], axis=1),
        potential_flips=np.stack([rng.integers(0, C, k := n()), rng.integers(0, N, k),
                                  register_bits(k, "potential")], axis=1),
        routing_flips=np.stack([rng.integers(0, C, k := n()), rng.integers(0, N, k),
                                rng.integers(0, top["routing"] + 1, k)], axis=1),
    )
