"""Synthetic whole-chip workloads with a known operating point (benchmarks, power calibration).

``full_chip_program`` builds Merolla et al. (2014)'s benchmark regime on every core of a profile:
every neuron fires at ``rate_hz``, has ``synapses_per_neuron`` active synapses, and sends its spikes
about ``hop_rows`` cores in y and ``hop_cols`` cores in x.

How the rate is made exact: neurons come in twins (2k, 2k+1) with the same initial potential, so
twins always spike in the same tick. Axon 2k (type 0, weight +1) and axon 2k+1 (type 1, weight −1)
of the destination core receive the twins' spikes together, and every neuron connects to both
axons of a pair or to neither. Synaptic input therefore cancels exactly in every tick (while still
costing synaptic events), and each neuron's potential follows its leak alone: λ = 1, α = ⌊1000 /
(rate_hz · tick_ms)⌉, reset by subtraction → exactly one spike every α ticks.
"""
import numpy as np

from neurosim.chip.profile import get_profile
from neurosim.chip.program import ChipProgram


def _pair_shift(size, shift):
    """A permutation of 0..size−1 that moves most positions by exactly ``shift``.

    Positions are swapped within blocks of 2·shift (p ↔ p + shift); a last partial block swaps by
    half its length. Returns the permutation.
    """
    perm = np.arange(size)
    start = 0
    while start < size:
        block = min(2 * shift, size - start)
        half = block // 2
        if half == 0:
            break
        idx = np.arange(start, start + 2 * half)
        perm[idx] = np.where(idx - start < half, idx + half, idx - half)
        start += 2 * half
    return perm


def full_chip_program(profile="truenorth", rate_hz=20.0, synapses_per_neuron=128, hop_rows=21,
                      hop_cols=21, seed=0):
    """Every core of ``profile`` busy at a fixed operating point (see the module docstring)."""
    profile = get_profile(profile)
    if not profile.typed_weights or profile.axon_types < 2:
        raise ValueError("full_chip_program needs a profile with at least 2 axon types")
    rng = np.random.Generator(np.random.PCG64(seed))
    R, Cg = profile.grid_rows, profile.grid_cols
    C, A, N = R * Cg, profile.axons_per_core, profile.neurons_per_core
    pairs = A // 2
    pairs_per_neuron = synapses_per_neuron // 2
    period = int(round(1000.0 / (rate_hz * profile.tick_ms)))

    crossbar = np.zeros((C, A, N), dtype=bool)
    chunk = 64
    for start in range(0, C, chunk):
        stop = min(C, start + chunk)
        keys = rng.random((stop - start, N, pairs))
        chosen = np.argpartition(keys, pairs_per_neuron - 1, axis=2)[:, :, :pairs_per_neuron]
        core_idx = np.arange(stop - start)[:, None, None]
        neuron_idx = np.arange(N)[None, :, None]
        crossbar[start + core_idx, 2 * chosen, neuron_idx] = True
        crossbar[start + core_idx, 2 * chosen + 1, neuron_idx] = True

    axon_type = np.tile((np.arange(A) % 2).astype(np.uint8), (C, 1))
    weights = np.zeros((C, profile.axon_types, N), np.int32)
    weights[:, 0], weights[:, 1] = 1, -1
    twin_phase = rng.integers(0, period, size=(C, N // 2))
    initial = np.repeat(twin_phase, 2, axis=1).astype(np.int32)

    rows, cols = np.divmod(np.arange(C), Cg)
    dest_rows = _pair_shift(R, hop_rows)[rows]
    dest_cols = _pair_shift(Cg, hop_cols)[cols]
    dest_core = np.repeat((dest_rows * Cg + dest_cols)[:, None], N, axis=1).astype(np.int32)
    dest_axon = np.tile(np.arange(N, dtype=np.int32) % A, (C, 1))
    hops = np.abs(dest_rows - rows) + np.abs(dest_cols - cols)
    return ChipProgram(
        profile=profile, n_inputs=0, crossbar=crossbar, axon_type=axon_type, weights=weights,
        leak=np.ones((C, N), np.int32), threshold=np.full((C, N), period, np.int32),
        floor=np.zeros((C, N), np.int32), reset_mode=np.ones((C, N), np.uint8),
        reset_value=np.zeros((C, N), np.int32), floor_mode=np.zeros((C, N), np.uint8),
        initial_potential=initial, enabled=np.ones((C, N), bool), dest_core=dest_core,
        dest_axon=dest_axon, dest_delay=np.ones((C, N), np.uint8),
        core_xy=np.stack([rows, cols], axis=1).astype(np.int32),
        input_index=np.zeros(0, np.int32), input_core=np.zeros(0, np.int32),
        input_axon=np.zeros(0, np.int32), output_core=np.zeros(0, np.int32),
        output_neuron=np.zeros(0, np.int32), neuron_group=np.zeros((C, N), np.int16),
        meta={"workload": "full_chip", "rate_hz": rate_hz,
              "synapses_per_neuron": synapses_per_neuron,
              "mean_hops_per_spike": float(hops.mean()), "period_ticks": period})


def mixed_program(n_cores, seed=0, profile="truenorth", synapse_density=0.25):
    """A self-driven network of ``n_cores`` fully used cores with mixed parameters: every reset
    mode (0, 1, 2) and floor mode (0, 1), random leaks, thresholds, floors, reset values, initial
    potentials and typed weights; each neuron routed with delay 1 to its own axon (a random
    permutation of the chip's axons: no two neurons share one); no external input. The SANA-FE
    side-by-side benchmark's network (neurons are driven by their leaks and initial potentials,
    so activity does not depend on an input encoder).

    Ranges (assumptions, chosen so that neurons of every mode fire): weights −8..8, leak −2..3,
    α 8..63, β 0..31, R −8..8, V0 −16..31; crossbar density ``synapse_density``.
    """
    profile = get_profile(profile)
    rng = np.random.Generator(np.random.PCG64(seed))
    C, A, N, T = n_cores, profile.axons_per_core, profile.neurons_per_core, profile.axon_types
    if N > A:
        raise ValueError("mixed_program needs at least as many axons as neurons per core")
    flat = np.arange(C)
    target = rng.permutation(C * A)[:C * N].reshape(C, N)
    return ChipProgram(
        profile=profile, n_inputs=0, crossbar=rng.random((C, A, N)) < synapse_density,
        axon_type=rng.integers(0, T, (C, A)), weights=rng.integers(-8, 9, (C, T, N)),
        leak=rng.integers(-2, 4, (C, N)), threshold=rng.integers(8, 64, (C, N)),
        floor=rng.integers(0, 32, (C, N)), reset_mode=rng.integers(0, 3, (C, N)),
        reset_value=rng.integers(-8, 9, (C, N)), floor_mode=rng.integers(0, 2, (C, N)),
        initial_potential=rng.integers(-16, 32, (C, N)), enabled=np.ones((C, N), bool),
        dest_core=target // A, dest_axon=target % A,
        dest_delay=np.ones((C, N), np.uint8),
        core_xy=np.stack([flat // profile.grid_cols, flat % profile.grid_cols], axis=1),
        input_index=np.zeros(0, np.int32), input_core=np.zeros(0, np.int32),
        input_axon=np.zeros(0, np.int32), output_core=np.zeros(0, np.int32),
        output_neuron=np.zeros(0, np.int32), neuron_group=np.zeros((C, N), np.int16),
        meta={"workload": "mixed", "seed": seed, "synapse_density": synapse_density})
