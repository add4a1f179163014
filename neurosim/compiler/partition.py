"""Partition normalised layers into core-sized stages and pack them onto cores.

**Stages.** Layer l becomes a *weight stage* (neurons reading the layer's inputs through the
crossbar) and, if some neuron's fan-in exceeds what one core can take, a *sum stage*:

- a neuron of fan-in f ≤ F = ⌊A / k⌋ (A axons a core, k axons per input) is *direct*: one neuron
  computes r_j = clip(Σ_i ρ_i w_ij + b_j, 0, 1);
- a wider neuron is split over the input groups G_1..G_P (the input range cut into P = ⌈n_in/F⌉
  balanced contiguous chunks). Group p yields the partial sum z_p = Σ_{i∈G_p} ρ_i w_ij, carried by
  a signed relay pair  r⁺ = clip(z_p/σ_j, 0, 1),  r⁻ = clip(−z_p/σ_j, 0, 1)  (no leak). The sum
  stage recombines  r_j = clip(Σ_p σ_j (r⁺_p − r⁻_p) + b_j, 0, 1) = clip(Σ_p z_p + b_j, 0, 1),
  exact as long as |z_p| ≤ σ_j. σ_j is the calibration ``percentile`` of |z_p| (the largest over
  the groups). Relay weights are ±σ_j, one axon per relay (trinary types on typed chips). The
  sum stage adds one tick of latency. A neuron needs 2P ≤ A relay axons, so fan-in is capped at
  F·A/2 (8,192 inputs for bitplane-4 on TrueNorth).

**Packing** (next-fit, stages in reverse order): a core takes neurons while the union of their
(input, type) axons stays ≤ A and their neurons, copies included, stay ≤ N. A neuron has exactly
one destination axon, so a source neuron is **copied in its own core**, once per axon that reads
it downstream (one per used type per destination core); packing the consumers first tells how
many copies each producer needs. Output neurons have one copy and no destination.
"""
from dataclasses import dataclass

import numpy as np

from neurosim.compiler import quantise
from neurosim.errors import DoesNotFitError

FIT_CHUNK = 8192


@dataclass
class Stage:
    """Logical neurons of one stage as CSR synapse lists (sources in the stage's input space).

    source: "input" (external inputs), "main" (main neurons of layer − 1) or "relay" (this
    layer's weight stage); unit: MLP neuron index; sign: 0 main, +1/−1 relay pair member.
    """

    layer: int
    kind: str
    encoding: object
    source: str
    indptr: np.ndarray
    src: np.ndarray
    q: np.ndarray
    g: np.ndarray
    alpha: np.ndarray
    leak: np.ndarray
    unit: np.ndarray
    sign: np.ndarray
    sq_error: float
    sq_norm: float

    @property
    def n(self):
        return len(self.g)

    def keys(self, u):
        """Sorted axon keys (source · k + type) neuron u uses (unique: a neuron reads each
        source once and each digit of it at most once)."""
        if "_keys" not in self.__dict__:
            k = self.encoding.axons_per_input
            rows, t = np.nonzero(self.encoding.digits(self.q))
            neuron = np.repeat(np.arange(self.n), np.diff(self.indptr))[rows]
            key = self.src[rows] * k + t
            order = np.lexsort((key, neuron))
            self.__dict__["_keys"] = (np.searchsorted(neuron[order], np.arange(self.n + 1)),
                                      key[order])
        ptr, key = self.__dict__["_keys"]
        return key[ptr[u]:ptr[u + 1]]


def _stage(layer, kind, encoding, source, rows, bias, unit, sign, profile):
    """Quantise rows [(src, w)] with biases into a Stage."""
    lengths = np.array([len(s) for s, _ in rows], np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    src = np.concatenate([s for s, _ in rows]).astype(np.int64) if rows else np.zeros(0, np.int64)
    q = np.zeros(len(src), np.int64)
    n = len(rows)
    g, alpha, leak = (np.zeros(n, np.int64) for _ in range(3))
    sq_error = 0.0
    for lo in range(0, n, FIT_CHUNK):
        hi = min(lo + FIT_CHUNK, n)
        width = int(lengths[lo:hi].max()) if hi > lo else 0
        w = np.zeros((hi - lo, width))
        for r in range(lo, hi):
            w[r - lo, :lengths[r]] = rows[r][1]
        qq, g[lo:hi], alpha[lo:hi], leak[lo:hi], err = quantise.fit(w, bias[lo:hi], encoding,
                                                                    profile)
        for r in range(lo, hi):
            q[indptr[r]:indptr[r + 1]] = qq[r - lo, :lengths[r]]
        sq_error += float(err.sum())
    sq_norm = float(sum(float(np.dot(w, w)) for _, w in rows) + np.dot(bias, bias))
    return Stage(layer, kind, encoding, source, indptr, src, q, g, alpha, leak,
                 np.asarray(unit, np.int64), np.asarray(sign, np.int64), sq_error, sq_norm)


def build_stages(layers, calibration_rates, encoding, sum_encoding, profile, axons,
                 percentile=99.9, relays=True):
    """Stages of every layer (weight stage, then its sum stage if any), in forward order.

    ``calibration_rates[l]`` are the float rates entering layer l (for the relay scales σ_j).
    """
    stages = []
    F = axons // encoding.axons_per_input
    for l, layer in enumerate(layers):
        n_in, n_out = layer.weight.shape
        fan = layer.mask.sum(axis=0)
        relayed = fan > F
        if relayed.any():
            j = int(np.argmax(fan))
            limit = F * (axons // 2)
            if not relays or fan[j] > limit:
                how = (f"relay pairs extend it to {limit}" if relays else "relays are disabled")
                raise DoesNotFitError(
                    f"layer {l} neuron {j} has fan-in {int(fan[j])}; a {profile.name} core takes "
                    f"{F} inputs per neuron with {encoding.name} weights ({how}); retrain with "
                    f"the training option max_fan_in = {F}")
        source = "input" if l == 0 else "main"
        rows, bias, unit, sign = [], [], [], []
        for j in np.nonzero(~relayed)[0]:
            s = np.nonzero(layer.mask[:, j])[0]
            rows.append((s, layer.weight[s, j]))
            bias.append(layer.bias[j])
            unit.append(j)
            sign.append(0)
        wide = np.nonzero(relayed)[0]
        sigma = np.ones(0)
        if wide.size:
            P = -(-n_in // F)
            bounds = np.linspace(0, n_in, P + 1).round().astype(int)
            x = calibration_rates[l]
            sigma = np.full(wide.size, 1e-9)
            for p in range(P):
                z = x[:, bounds[p]:bounds[p + 1]] @ layer.weight[bounds[p]:bounds[p + 1]][:, wide]
                sigma = np.maximum(sigma, np.percentile(np.abs(z), percentile, axis=0))
            for p in range(P):
                for jj, j in enumerate(wide):
                    s = bounds[p] + np.nonzero(layer.mask[bounds[p]:bounds[p + 1], j])[0]
                    if s.size == 0:
                        continue
                    w = layer.weight[s, j] / sigma[jj]
                    for sg in (1, -1):
                        rows.append((s, sg * w))
                        bias.append(0.0)
                        unit.append(j)
                        sign.append(sg)
        stages.append(_stage(l, "weight", encoding, source, rows, np.array(bias, np.float64),
                             unit, sign, profile))
        if wide.size:
            ws = stages[-1]
            rows, bias = [], []
            for jj, j in enumerate(wide):
                members = np.nonzero((ws.unit == j) & (ws.sign != 0))[0]
                rows.append((members, sigma[jj] * ws.sign[members].astype(np.float64)))
                bias.append(layer.bias[j])
            stages.append(_stage(l, "sum", sum_encoding, "relay", rows, np.array(bias), wide,
                                 np.zeros(wide.size, np.int64), profile))
    return stages


def main_neurons(stages, layer):
    """(stage index, neuron index) of each unit's main neuron in ``layer``, shape (n_units, 2)."""
    found = {}
    for si, st in enumerate(stages):
        if st.layer == layer:
            for u in np.nonzero(st.sign == 0)[0]:
                found[int(st.unit[u])] = (si, int(u))
    return np.array([found[j] for j in sorted(found)], np.int64)


@dataclass
class Packing:
    """Cores of one stage: neurons (logical ids) and sorted axon keys of each core."""

    neurons: list
    keys: list


def pack(stage, demand, axons, neurons, profile):
    """Next-fit packing of a stage's neurons; ``demand[u]`` = neurons u occupies (its copies)."""
    order = np.lexsort((stage.sign, stage.unit, _first_group(stage)))
    packed_neurons, packed_keys = [], []
    cur_n, cur_keys, used = [], set(), 0
    for u in order:
        keys = stage.keys(u)
        d = int(demand[u])
        if d > neurons or len(keys) > axons:
            raise DoesNotFitError(
                f"layer {stage.layer}: a neuron needs {d} copies and {len(keys)} axons; a "
                f"{profile.name} core has {neurons} neurons and {axons} axons (reduce fan-out)")
        new = cur_keys.union(keys.tolist())
        if cur_n and (len(new) > axons or used + d > neurons):
            packed_neurons.append(np.array(cur_n, np.int64))
            packed_keys.append(np.array(sorted(cur_keys), np.int64))
            cur_n, new, used = [], set(keys.tolist()), 0
        cur_n.append(u)
        cur_keys = new
        used += d
    if cur_n:
        packed_neurons.append(np.array(cur_n, np.int64))
        packed_keys.append(np.array(sorted(cur_keys), np.int64))
    return Packing(packed_neurons, packed_keys)


def _first_group(stage):
    """Smallest source of each neuron: neurons reading the same input group pack together."""
    first = np.full(stage.n, -1, np.int64)
    nonempty = stage.indptr[1:] > stage.indptr[:-1]
    first[nonempty] = stage.src[stage.indptr[:-1][nonempty]]
    return first


def consumer_slots(packing, encoding, n_sources):
    """Per source neuron, the (local core, axon) slots that read it, as a list of arrays."""
    k = encoding.axons_per_input
    slots = [[] for _ in range(n_sources)]
    for c, keys in enumerate(packing.keys):
        for a, key in enumerate(keys):
            slots[int(key) // k].append((c, a))
    return [np.array(s, np.int64).reshape(-1, 2) for s in slots]
