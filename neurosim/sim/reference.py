"""The reference backend: the chip's tick semantics in plain numpy, written to be read.

This is the executable specification the Cython kernel is checked against, bit for bit. One tick
t, for all inputs b, cores c, axons i, neurons j at once (DESIGN.md "Neuron semantics"):

    arriving[b, c, i] = spike in ring-buffer slot t mod 16 (external inputs land in slot t mod 16)
    V[b, c, j] += Σ_i arriving[b, c, i] · W_c[i, j]          W_c[i, j] = c_ij · s_j[type_i]  (or w_ij)
    V += λ                                                   (enabled neurons)
    fired = V ≥ α;  V ← R | V − α | V  for reset mode 0 | 1 | 2
    V < −β  →  V ← −β (floor mode 0) | −R (floor mode 1)
    each fired neuron with a destination puts a spike into slot (t + delay) mod 16 of its
    destination (core, axon), costing |Δrow| + |Δcol| hops.
"""
import numpy as np

SLOTS = 16


def run_spiking(program, raster, record=False):
    """Same contract as ``neurosim._core.run_spiking``."""
    T, B, _ = raster.shape
    C, A, N = program.crossbar.shape
    K = program.n_outputs
    W = np.stack([program.effective_weights(c) for c in range(C)])           # (C, A, N) int64
    row_nnz = program.row_synapses().astype(np.int64)                        # (C, A)
    enabled = program.enabled
    alpha = program.threshold.astype(np.int64)
    beta = program.floor.astype(np.int64)
    R = program.reset_value.astype(np.int64)
    mode = program.reset_mode
    floor_reset = program.floor_mode == 1
    dest_core, dest_axon = program.dest_core, program.dest_axon
    delay = program.dest_delay.astype(np.int64)
    xy = program.core_xy.astype(np.int64)
    input_target = program.input_core.astype(np.int64) * A + program.input_axon

    V = np.broadcast_to(program.initial_potential.astype(np.int64), (B, C, N)).copy()
    buf = np.zeros((B, SLOTS, C, A), dtype=bool)
    counts = np.zeros((B, K), np.int64)
    first = np.full((B, K), -1, np.int64)
    pair_spikes = np.zeros((B, C), np.int64)
    pair_events = np.zeros((B, C), np.int64)
    pair_hops = np.zeros((B, C), np.int64)
    rec = np.zeros((T, B, C, N), np.uint8) if record else None
    batch_index = np.arange(B)[:, None]

    for t in range(T):
        slot = t % SLOTS
        arriving = buf[:, slot].reshape(B, C * A)
        external = raster[t][:, program.input_index].astype(bool)               # (B, M)
        np.logical_or.at(arriving, (batch_index, input_target[None, :]), external)
        arriving = arriving.reshape(B, C, A).copy()
        buf[:, slot] = False

        pair_events += (arriving * row_nnz[None]).sum(axis=2)
        V += np.einsum("bca,can->bcn", arriving.astype(np.int64), W)

        V = np.where(enabled, V + program.leak, V)
        fired = enabled & (V >= alpha)
        V = np.where(fired & (mode == 0), R, V)
        V = np.where(fired & (mode == 1), V - alpha, V)
        below = enabled & (V < -beta)
        V = np.where(below & ~floor_reset, -beta, V)
        V = np.where(below & floor_reset, -R, V)

        pair_spikes += fired.sum(axis=2)
        if record:
            rec[t] = fired
        out_fired = fired[:, program.output_core, program.output_neuron]         # (B, K)
        counts += out_fired
        first = np.where((first < 0) & out_fired, t, first)

        b, c, n = np.nonzero(fired & (dest_core >= 0))
        dc = dest_core[c, n]
        buf[b, (t + delay[c, n]) % SLOTS, dc, dest_axon[c, n]] = True
        np.add.at(pair_hops, (b, c), np.abs(xy[dc] - xy[c]).sum(axis=1))

    result = {"counts": counts, "first_spike": first, "pair_spikes": pair_spikes,
              "pair_events": pair_events, "pair_hops": pair_hops}
    if record:
        result["record"] = rec
    return result
