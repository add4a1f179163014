"""The reference backend: the chip's tick semantics in plain numpy, written to be read.

This is the executable specification the Cython kernel is checked against, bit for bit. One tick
t, for all inputs b, cores c, axons i, neurons j at once (DESIGN.md "Neuron semantics"; the
TrueNorth neuron of Cassidy et al., IJCNN 2013):

    arriving[b, c, i] = spike in ring-buffer slot t mod 16 (external inputs land in slot t mod 16)
    W_c[i, j] = c_ij · s_j[type_i]  (or c_ij · w_ij); where stochastic_synapse[c, type_i, j]:
                sgn(W) if |W| ≥ ρ(c, t, j, 2 + i) mod 256 else 0
    V[b, c, j] += Σ_i arriving[b, c, i] · W_c[i, j]
    L = λ, or where stochastic_leak: sgn(λ) if |λ| ≥ ρ(c, t, j, 1) mod 256 else 0
    V += L, or where leak_reversal (ε): V += sgn(V) · L               (enabled neurons)
    V ← clip(V, −2^(P−1), 2^(P−1) − 1), P = profile.potential_bits  (hardware width)
    η = ρ(c, t, j, 0) & (2^TM_j − 1)                                  (stochastic threshold)
    fired = V ≥ α + η;  V ← R | V − (α + η) | V  for reset mode 0 | 1 | 2
    V < −β (floor mode 0) or −(β + η) (floor mode 1)  →  V ← −β | −R
    each fired neuron with a destination puts a spike into slot (t + delay) mod 16 of its
    destination (core, axon), costing |Δrow| + |Δcol| hops.

The initial potential is clipped to the same width. Random draws: a counter-based generator per
core, the same for every input of a batch (an input's result does not depend on its batch):

    ρ(c, t, j, q) = fmix32(base(c, t) + 4096·q + j)   (mod 2^32)
    base(c, t)    = fmix32(prng_seed[c] XOR fmix32(t + 1))

fmix32 is MurmurHash3's 32-bit finaliser (h ^= h >> 16; h *= 0x85EBCA6B; h ^= h >> 13;
h *= 0xC2B2AE35; h ^= h >> 16). A draw is a pure function of (seed, tick, neuron, purpose), so
it does not depend on the order in which a kernel visits axons, cores or threads. A stochastic
synapse or leak of magnitude m therefore contributes ±1 with probability (m + 1)/256 (m ≤ 255).
"""
import numpy as np

SLOTS = 16
DRAWS_PER_PURPOSE = 4096   # neurons per core at most, so (q, j) ↦ 4096·q + j is one-to-one


def fmix32(h):
    """MurmurHash3's 32-bit finaliser on a uint32 array (wrapping arithmetic)."""
    h = np.asarray(h, np.uint32)
    with np.errstate(over="ignore"):   # multiplication modulo 2^32 is the point
        h = h ^ (h >> np.uint32(16))
        h = h * np.uint32(0x85EBCA6B)
        h = h ^ (h >> np.uint32(13))
        h = h * np.uint32(0xC2B2AE35)
        return h ^ (h >> np.uint32(16))


def draw_base(seed, t):
    """base(c, t) for every core: ``seed`` (C,) uint32, tick ``t``."""
    return fmix32(np.asarray(seed, np.uint32) ^ fmix32(np.uint32((t + 1) & 0xFFFFFFFF)))


def draws(base, q, n_neurons):
    """ρ(c, t, j, q) for every core c and neuron j < n_neurons: (C, N) uint32 for a scalar ``q``,
    (C, A, N) for ``q`` of shape (A, 1)."""
    q = np.asarray(q, np.uint32)
    j = np.arange(n_neurons, dtype=np.uint32)
    shape = (-1,) + (1,) * max(q.ndim, 1)
    with np.errstate(over="ignore"):
        return fmix32(base.reshape(shape) + q * np.uint32(DRAWS_PER_PURPOSE) + j)


def potential_range(profile):
    """(vmin, vmax) of a signed register of ``profile.potential_bits`` bits."""
    half = 1 << (profile.potential_bits - 1)
    return -half, half - 1


def stochastic(value, rho):
    """Cassidy et al.'s F(value, ρ): sgn(value) if |value| ≥ ρ mod 256, else 0."""
    return np.where(np.abs(value) >= (rho & np.uint32(255)), np.sign(value), 0)


def synapse_weights(program, W, base):
    """W (C, A, N) with the stochastic synapses of this tick drawn."""
    C, A, N = W.shape
    st = program.stochastic_synapse & program.enabled[:, None, :]          # (C, T, N)
    st_rows = st[np.arange(C)[:, None], program.axon_type]                 # (C, A, N)
    if program.synapse_weights is not None:
        st_rows = np.broadcast_to(st[:, :1, :], W.shape)
    rho = draws(base, 2 + np.arange(A, dtype=np.uint32)[:, None], N)
    return np.where(st_rows, stochastic(W, rho), W)


def leak_step(program, V, base):
    """V after the leak (plain, stochastic or reversed), enabled neurons only."""
    N = program.n_neurons
    leak = program.leak.astype(np.int64)
    L = np.where(program.stochastic_leak, stochastic(leak, draws(base, 1, N)), leak)
    L = np.where(program.leak_reversal, np.sign(V) * L, L)
    return np.where(program.enabled, V + L, V)


def run_spiking(program, raster, record=False):
    """Same contract as ``neurosim._core.run_spiking``."""
    T, B, _ = raster.shape
    C, A, N = program.crossbar.shape
    K = program.n_outputs
    W = np.stack([program.effective_weights(c) for c in range(C)])           # (C, A, N) int64
    any_stochastic_synapse = bool((program.stochastic_synapse & program.enabled[:, None]).any())
    row_nnz = program.row_synapses().astype(np.int64)                        # (C, A)
    enabled = program.enabled
    alpha = program.threshold.astype(np.int64)
    beta = program.floor.astype(np.int64)
    R = program.reset_value.astype(np.int64)
    mode = program.reset_mode
    floor_reset = program.floor_mode == 1
    mask = np.where(enabled, (np.uint64(1) << program.threshold_mask_bits.astype(np.uint64))
                    - np.uint64(1), 0).astype(np.uint32)
    vmin, vmax = potential_range(program.profile)
    dest_core, dest_axon = program.dest_core, program.dest_axon
    delay = program.dest_delay.astype(np.int64)
    xy = program.core_xy.astype(np.int64)
    input_target = program.input_core.astype(np.int64) * A + program.input_axon

    V = np.broadcast_to(np.clip(program.initial_potential.astype(np.int64), vmin, vmax),
                        (B, C, N)).copy()
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
        base = draw_base(program.prng_seed, t)
        arriving = buf[:, slot].reshape(B, C * A)
        external = raster[t][:, program.input_index].astype(bool)               # (B, M)
        np.logical_or.at(arriving, (batch_index, input_target[None, :]), external)
        arriving = arriving.reshape(B, C, A).copy()
        buf[:, slot] = False

        pair_events += (arriving * row_nnz[None]).sum(axis=2)
        W_t = synapse_weights(program, W, base) if any_stochastic_synapse else W
        V += np.einsum("bca,can->bcn", arriving.astype(np.int64), W_t)

        V = np.clip(leak_step(program, V, base), vmin, vmax)
        eta = (draws(base, 0, N) & mask).astype(np.int64)                     # (C, N)
        fired = enabled & (V >= alpha + eta)
        V = np.where(fired & (mode == 0), R, V)
        V = np.where(fired & (mode == 1), V - alpha - eta, V)
        below = enabled & (V < -beta - np.where(floor_reset, eta, 0))
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
