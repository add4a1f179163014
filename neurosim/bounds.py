"""Robustness bounds for neuron crashes: Fep, Erf, Omega, Monte Carlo, first-order estimators.

Setting (REFERENCES.md §4; El Mhamdi, Guerraoui & Rouault). An MLP (``neurosim.mlp.MLP``) has
hidden layers l = 1..L with N_l neurons and a linear output layer L+1. ``W_l`` (N_{l-1} × N_l) holds
the *incoming* weights of layer l, so layer 1's weights come from the input and layer L+1's weights
feed the output. The hidden activation φ is K-Lipschitz and bounded: 0 ≤ φ ≤ C.

    activation      φ(z)                      K (Lipschitz)   C
    relu            max(0, s z)               s               ∞ (must be supplied)
    clipped_relu    min(max(0, s z), 1)       s               1
    sigmoid         1 / (1 + exp(−s z))       s / 4           1

(s is ``mlp.steepness``; the sigmoid convention is sigmoid(s·z), whose largest slope is s/4.)

A crashed neuron outputs 0, so its own output error is at most C. Output error means the sup
norm ‖F_fail(x) − F(x)‖∞ over the output logits. Layers are numbered from 1 everywhere in this
module (``layer=1`` is the first hidden layer), as in the papers; ``MLP.forward``'s ``dead`` list
is 0-based.

Bounds
------
Fep (worst case, "When Neurons Fail", arXiv 1706.08884) for f_l crashed neurons in layer l, with
w_m^(l) = max |W_l|. Let E_l be a bound, in units of C, on the *sum* of the absolute output errors
of the neurons of layer l:

    E_0 = 0
    E_l = f_l + (N_l − f_l) · K · w_m^(l) · E_{l−1}              l = 1..L
    ‖ΔF‖∞ ≤ Fep = C · w_m^(L+1) · E_L

Why: a crashed neuron's error is |φ(z)| ≤ C; a surviving neuron j's error is
|φ(z_j + Δz_j) − φ(z_j)| ≤ K |Δz_j| ≤ K Σ_i |W_ij| |Δa_i| ≤ K w_m^(l) Σ_i |Δa_i|; an output is linear,
so its error is ≤ w_m^(L+1) Σ_i |Δa_i|. Closed form:

    Fep = C · w_m^(L+1) · Σ_{l=1..L} f_l · Π_{l'=l+1..L} K · w_m^(l') · (N_l' − f_l').

Fep is multilinear (affine in each f_l separately, and the factors of a term involve distinct
layers), so for independent per-layer counts f_l (e.g. f_l ~ Binomial(N_l, p_l)):

    E[Fep(f)] = Fep(E f) = Fep(f_l = p_l N_l).                                   (★)

Erf (average case, "On the Robustness of a Neural Network", SRDS 2017, arXiv 1707.08167). The
constant printed in the paper is unverified here, so this module uses the following form and
tests its claims instead (REFERENCES §4): take (★) and replace the worst-case weight w_m^(l) by the
mean absolute weight w̄^(l):

    Erf(p) = C · w̄^(L+1) · Σ_{l=1..L} p_l N_l · Π_{l'=l+1..L} K · w̄^(l') · (1 − p_l') N_l'.

w̄^(l) = Σ |W_l| / (N_{l−1} N_l), the mean over *all* entries, absent (masked) synapses counting as
0 (= ``layer_stats()['mean_abs_w'] × density``). Derivation: if the error of layer l−1 is spread
evenly over its N_{l−1} neurons (each Δa_i = E_{l−1}/N_{l−1}), a surviving neuron sees
K Σ_i |W_ij| Δa_i, whose average over j is exactly K w̄^(l) E_{l−1}; the expected number of crashed
neurons is p_l N_l and of survivors (1 − p_l) N_l. Erf is therefore not a proven bound: it keeps
the worst case's assumptions that errors add with one sign, that every neuron works at slope K and
that a crashed neuron lost C, and replaces only the extremal weight by the typical one. Trends it
claims: polynomial in K with degree L − l for a failure in layer l (degree = number of hidden
layers the error still crosses), exponential in depth with rate log(K w̄ N (1 − p)) per layer,
proportional to each layer's w̄. ``erf(..., use="max")`` gives E[Fep] of (★).

Truth
-----
Omega (exhaustive): for a hidden layer l and c crashes, every one of the C(N_l, c) subsets over a
set of inputs; ω(x, S) = ‖F_S(x) − F(x)‖∞; report max and mean over (S, x).
Monte Carlo: for networks too large for Omega, sample crash sets (each neuron independently with
probability p_l, or exactly f_l per layer) and average ω over the inputs.

First-order per-input estimators (El Mhamdi, Guerraoui, Kucharavy, Volodin, arXiv 1902.01686), for
independent crashes with probability p_l of the neurons a_{l,i} of layer l (y the logits):

    E Δy ≈ Σ_l p_l Σ_i [y(x | a_{l,i} = 0) − y(x)]          (ablation sum; exact to first order in p)
    E Δy ≈ −Σ_l p_l Σ_i a_{l,i} ∂y/∂a_{l,i}                (Taylor)
    Var Δy ≈ Σ_l p_l (1 − p_l) Σ_i (a_{l,i} ∂y/∂a_{l,i})²    (Taylor; ≈ p Σ … for small p)

and, for the quantity the bounds speak of, the first-order expected sup-norm error
E ‖Δy‖∞ ≈ Σ_l p_l Σ_i ‖y(x | a_{l,i} = 0) − y(x)‖∞ (for small p at most one neuron is down; Taylor
version: Σ_l p_l Σ_i ‖a_{l,i} ∂y/∂a_{l,i}‖∞). Gradients are computed analytically (back-propagation
in numpy, float64).
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from neurosim.errors import ValidationError

DEFAULT_MAX_SUBSETS = 1_000_000
_CHUNK_ELEMS = 4_000_000  # floats per intermediate array in the batched evaluations


# ====================================================================== constants
@dataclass(frozen=True)
class NetworkConstants:
    """What the bounds need from a network.

    sizes: (n_in, N_1, ..., N_L, n_out); max_abs_w / mean_abs_w: one entry per weight layer
    1..L+1 (mean over all N_{l-1}·N_l entries, absent synapses = 0); K: Lipschitz constant of φ;
    C: sup of φ (hidden outputs lie in [0, C]).
    """

    sizes: tuple
    max_abs_w: tuple
    mean_abs_w: tuple
    K: float
    C: float
    activation: str = ""

    def __post_init__(self):
        n_w = len(self.sizes) - 1
        if n_w < 1 or len(self.max_abs_w) != n_w or len(self.mean_abs_w) != n_w:
            raise ValidationError(
                f"NetworkConstants: {len(self.sizes)} sizes need {n_w} entries in max_abs_w and "
                f"mean_abs_w, got {len(self.max_abs_w)} and {len(self.mean_abs_w)}")
        if not (self.K >= 0 and math.isfinite(self.K)):
            raise ValidationError(f"NetworkConstants field 'K': {self.K}, expected finite K ≥ 0")
        if not (self.C >= 0 and math.isfinite(self.C)):
            raise ValidationError(
                f"NetworkConstants field 'C': {self.C}, expected finite C ≥ 0"
                + (f" (activation '{self.activation}' is unbounded: pass C explicitly, e.g. the "
                   f"largest hidden activation observed, or C=1 for a chip in rate mode)"
                   if self.activation == "relu" else ""))

    @property
    def hidden_sizes(self) -> tuple:
        return tuple(self.sizes[1:-1])

    @property
    def depth(self) -> int:
        """L, the number of hidden layers."""
        return len(self.sizes) - 2


def network_constants(mlp, *, C=None, K=None) -> NetworkConstants:
    """Constants of ``mlp``; K and C default from the activation (module table).

    relu has C = ∞: C must then be given (e.g. ``max_activation(mlp, x)`` on data, or 1 for a chip
    in rate mode), otherwise ValidationError naming the activation.
    """
    if K is None:
        K = float(mlp.lipschitz)
    if C is None:
        C = float(mlp.bound_C)
        if not math.isfinite(C):
            raise ValidationError(
                f"activation '{mlp.activation}' is unbounded (C = ∞): pass C explicitly, e.g. the "
                f"largest hidden activation observed on your data (bounds.max_activation) or C=1 "
                f"for a chip in rate mode")
    mx, mean = [], []
    for layer in mlp.layers:
        w = np.abs(np.asarray(layer.weight, dtype=np.float64))
        mx.append(float(w.max()) if w.size else 0.0)
        mean.append(float(w.mean()) if w.size else 0.0)
    return NetworkConstants(tuple(int(s) for s in mlp.sizes), tuple(mx), tuple(mean), float(K),
                            float(C), mlp.activation)


def max_activation(mlp, inputs) -> float:
    """Largest hidden activation of ``mlp`` over ``inputs`` (an empirical C for relu)."""
    outs = mlp.hidden_outputs(np.asarray(inputs, dtype=np.float64))[:-1]
    return float(max((o.max() for o in outs if o.size), default=0.0))


def _constants(net, C, K) -> NetworkConstants:
    if isinstance(net, NetworkConstants):
        if C is None and K is None:
            return net
        return NetworkConstants(net.sizes, net.max_abs_w, net.mean_abs_w,
                                net.K if K is None else float(K), net.C if C is None else float(C),
                                net.activation)
    return network_constants(net, C=C, K=K)


def _per_layer(value, L, name, lo, hi_list=None, hi=None):
    """A scalar (same for every hidden layer) or a length-L sequence, each in [lo, hi]."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(L, float(arr))
    if arr.ndim != 1 or arr.shape[0] != L:
        raise ValidationError(f"argument '{name}': {arr.shape[0] if arr.ndim == 1 else arr.shape} "
                              f"values, expected one per hidden layer ({L})")
    for l, v in enumerate(arr, start=1):
        top = hi_list[l - 1] if hi_list is not None else hi
        if not np.isfinite(v) or v < lo or v > top:
            raise ValidationError(f"argument '{name}': layer {l} value {v:g}, "
                                  f"expected a number in [{lo}, {top}]")
    return arr


# ====================================================================== Fep and Erf
def _propagate(sizes, w, K, C, f):
    """C · w^(L+1) · E_L with E_l = f_l + (N_l − f_l) K w^(l) E_{l−1}, E_0 = 0 (pure Python: fast)."""
    e = 0.0
    for l in range(1, len(sizes) - 1):
        n = sizes[l]
        fl = f[l - 1]
        e = fl + (n - fl) * K * w[l - 1] * e
    return C * w[-1] * e


def fep(mlp, failures_per_layer, *, C=None, K=None) -> float:
    """Worst-case output error ‖F_fail − F‖∞ for f_l crashed neurons in each hidden layer l.

    ``failures_per_layer``: one count per hidden layer (a scalar applies to all); real values in
    [0, N_l] are accepted so that Fep(p·N) (= E[Fep] for binomial counts, eq. ★) can be computed.
    ``mlp`` may also be a :class:`NetworkConstants`. Equations: module docstring.
    """
    c = _constants(mlp, C, K)
    f = _per_layer(failures_per_layer, c.depth, "failures_per_layer", 0, hi_list=c.hidden_sizes)
    return float(_propagate(c.sizes, c.max_abs_w, c.K, c.C, f))


def erf(mlp, fail_prob_per_layer, *, use="mean", C=None, K=None) -> float:
    """Average-case estimate of E‖F_fail − F‖∞ for independent crashes with probability p_l.

    Erf(p) = C · w̄^(L+1) · Σ_l p_l N_l Π_{l'>l} K w̄^(l') (1 − p_l') N_l'  (``use="mean"``);
    ``use="max"`` puts max |w| in place of w̄ and equals E[Fep(f)] for f_l ~ Binomial(N_l, p_l).
    Derivation and what it is (not a proof): module docstring.
    """
    c = _constants(mlp, C, K)
    if use not in ("mean", "max"):
        raise ValidationError(f"argument 'use': {use!r}, expected 'mean' or 'max'")
    p = _per_layer(fail_prob_per_layer, c.depth, "fail_prob_per_layer", 0.0, hi=1.0)
    w = c.mean_abs_w if use == "mean" else c.max_abs_w
    f = [pl * n for pl, n in zip(p, c.hidden_sizes)]
    return float(_propagate(c.sizes, w, c.K, c.C, f))


def chip_bounds(constants: NetworkConstants, dead_fraction_per_layer) -> tuple:
    """(erf, fep) for a compiled network at one mission checkpoint.

    ``constants``: a NetworkConstants of the network as the chip computes it — hidden widths,
    K (1 for rate mode: rate = clip(z/α, 0, 1) is 1-Lipschitz in z/α), C = 1 (rates in [0, 1]) and
    per-layer max/mean |w| in the same units; build it with ``NetworkConstants(sizes, max_abs_w,
    mean_abs_w, K=1.0, C=1.0)`` or ``network_constants(mlp, C=1.0, K=1.0)``.
    ``dead_fraction_per_layer``: fraction of dead neurons in each hidden layer (scalar = all).
    erf = Erf(p_l = dead fraction); fep = Fep(f_l = dead fraction · N_l), a true worst-case bound
    for that many dead neurons.
    """
    p = _per_layer(dead_fraction_per_layer, constants.depth, "dead_fraction_per_layer", 0.0, hi=1.0)
    f = [pl * n for pl, n in zip(p, constants.hidden_sizes)]
    e = _propagate(constants.sizes, constants.mean_abs_w, constants.K, constants.C, f)
    w = _propagate(constants.sizes, constants.max_abs_w, constants.K, constants.C, f)
    return float(e), float(w)


# ====================================================================== compiled programs
def program_constants(program) -> NetworkConstants:
    """NetworkConstants (K = 1, C = 1) of a compiled ChipProgram, in the MLP's structure.

    The chip computes r_j = clip(Σ_a ρ_a W[a, j] / α_j + λ_j / α_j, 0, 1) (rate mode), so in rate
    units it is a network with K = 1 and C = 1 whose weights are the effective integer weights
    divided by the receiving neuron's threshold α_j. The per-layer normalisation scales λ_l are
    already inside those integers (the compiler writes Ŵ = W λ_{l−1} / λ_l), so nothing is
    rescaled here. ``program.meta["layers"]`` maps chip neurons back to MLP units:

    * fan-out / bitplane copies: every copy of unit i carries the same rate, so the weight of
      unit i onto unit j is the *signed* sum over the axons by which any copy of i reaches j's
      main neuron (two's-complement bitplanes split one level q into parts such as −8 + 4 + 2 + 1;
      counting |parts| separately would overstate |w| several times);
    * relay pairs of a split unit j: the pair r⁺ = clip(z_p/σ, 0, 1), r⁻ = clip(−z_p/σ, 0, 1)
      reaches j as r⁺ − r⁻ = clip(z_p/σ, −1, 1), a linear element while |z_p| ≤ σ, so unit i
      contributes (W[i, r⁺]/α_r⁺)·(W[r⁺, j]/α_j) through it (the r⁻ member carries the same
      partial sum negated and is not counted again);
    * sizes are the MLP's (n_in, N_1, …, N_L, n_out), max/mean |w| over the unit-level matrices
      (absent synapses = 0), as :func:`network_constants` does for an MLP.

    Raises ValidationError when the program carries no ``meta["layers"]`` (not compiled by
    :func:`neurosim.compiler.compile`).
    """
    mats = program_unit_weights(program)
    sizes = [mats[0].shape[0]] + [m.shape[1] for m in mats]
    return NetworkConstants(tuple(int(s) for s in sizes),
                            tuple(float(np.abs(m).max()) if m.size else 0.0 for m in mats),
                            tuple(float(np.abs(m).mean()) if m.size else 0.0 for m in mats),
                            K=1.0, C=1.0, activation="chip rate")


def _program_layers(program):
    layers = (program.meta or {}).get("layers")
    if not layers:
        raise ValidationError("program has no meta['layers'] (the map from chip neurons to MLP "
                              "units written by neurosim compile): cannot derive its bounds")
    return layers


def program_unit_weights(program) -> list:
    """The compiled network's unit-level weight matrices in rate units, one (N_{l−1}, N_l) per
    MLP layer (see :func:`program_constants`)."""
    layers = _program_layers(program)
    C, A, N = program.crossbar.shape
    # what feeds each axon: ("in", m) or ("n", core, neuron)
    src_in = np.full((C, A), -1, np.int64)
    src_in[program.input_core, program.input_axon] = program.input_index
    src_c = np.full((C, A), -1, np.int64)
    src_j = np.full((C, A), -1, np.int64)
    rc, rj = np.nonzero(program.enabled & (program.dest_core >= 0))
    src_c[program.dest_core[rc, rj], program.dest_axon[rc, rj]] = rc
    src_j[program.dest_core[rc, rj], program.dest_axon[rc, rj]] = rj
    cols = {}

    def column(c, j):
        if c not in cols:
            cols[c] = program.effective_weights(c).astype(np.float64) / np.maximum(
                program.threshold[c].astype(np.float64), 1.0)
        return cols[c][:, j]

    mats = []
    prev_owner = None  # (core, neuron) -> unit index of the previous layer
    n_prev = program.n_inputs
    for li, layer in enumerate(layers):
        units = layer["neurons"]
        relays = layer.get("relays") or [[] for _ in units]
        relay_index, relay_sign = {}, []
        for j, rl in enumerate(relays):
            for c, n, sign in rl:
                relay_index[(int(c), int(n))] = len(relay_index)
                relay_sign.append(int(sign))

        def incoming(c, n):
            """(previous-layer unit indices, weights, relay indices, relay weights) of (c, n)."""
            col = column(c, n)
            axons = np.nonzero(col)[0]
            su, sw, ru, rw = [], [], [], []
            for a in axons.tolist():
                if src_in[c, a] >= 0:
                    if li != 0:
                        raise ValidationError(f"program: core {c} neuron {n} of layer {li} reads "
                                              f"an external input; meta['layers'] disagrees with "
                                              f"the routing")
                    su.append(int(src_in[c, a])), sw.append(col[a])
                elif src_c[c, a] >= 0:
                    key = (int(src_c[c, a]), int(src_j[c, a]))
                    if prev_owner is not None and key in prev_owner:
                        su.append(prev_owner[key]), sw.append(col[a])
                    elif key in relay_index:
                        ru.append(relay_index[key]), rw.append(col[a])
                    else:
                        raise ValidationError(f"program: core {c} neuron {n} (layer {li}) is fed "
                                              f"by core {key[0]} neuron {key[1]}, which meta"
                                              f"['layers'] does not place in layer {li - 1}")
            return su, sw, ru, rw

        D = np.zeros((n_prev, len(units)))
        Q = np.zeros((n_prev, len(relay_index)))
        R = np.zeros((len(relay_index), len(units)))
        for (c, n), r in relay_index.items():
            if relay_sign[r] > 0:   # r⁻ mirrors r⁺ (see the docstring)
                su, sw, _, _ = incoming(c, n)
                np.add.at(Q[:, r], su, sw)
        for j, copies in enumerate(units):
            if not copies:
                raise ValidationError(f"program: meta['layers'][{li}] unit {j} has no neuron")
            c, n = int(copies[0][0]), int(copies[0][1])
            su, sw, ru, rw = incoming(c, n)
            np.add.at(D[:, j], su, sw)
            np.add.at(R[:, j], ru, rw)
        mats.append(D + Q @ R if relay_index else D)
        prev_owner = {(int(c), int(n)): j for j, copies in enumerate(units) for c, n in copies}
        n_prev = len(units)
    return mats


def program_dead_neurons(program, dead_units) -> np.ndarray:
    """(k, 2) (core, neuron) rows of every copy of the crashed units; ``dead_units`` maps a hidden
    layer (1-based) to the indices of its crashed MLP units."""
    layers = _program_layers(program)
    rows = [copies for l, js in dead_units.items() for j in js
            for copies in layers[l - 1]["neurons"][int(j)]]
    return np.asarray(rows, dtype=np.int64).reshape(-1, 2)


def program_monte_carlo_error(program, fail_prob_per_layer, inputs, samples, rng, *,
                              failures_per_layer=None, ticks=64) -> MonteCarloResult:
    """:func:`monte_carlo_error` for a compiled program in rate mode: each sample crashes MLP
    units (every copy of unit j, from ``meta["layers"]``) independently with probability p_l per
    hidden layer (or exactly f_l per layer), evaluates the program with those dead neurons
    (:class:`neurosim.radiation.fast_rate.FastRate`, identical to ``simulate(mode="rate")``) and
    averages ‖r_fail(x) − r(x)‖∞ over the output rates and the inputs."""
    from neurosim.chip.faults import FaultState
    from neurosim.radiation.fast_rate import FastRate
    layers = _program_layers(program)
    hidden = [len(layer["neurons"]) for layer in layers[:-1]]
    L = len(hidden)
    samples = int(samples)
    if samples < 1:
        raise ValidationError(f"argument 'samples': {samples}, expected ≥ 1")
    x = np.asarray(inputs, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != program.n_inputs or len(x) == 0:
        raise ValidationError(f"argument 'inputs': shape {x.shape}, expected (n_inputs ≥ 1, "
                              f"{program.n_inputs})")
    if failures_per_layer is not None:
        f = _per_layer(failures_per_layer, L, "failures_per_layer", 0, hi_list=hidden).astype(int)
    else:
        p = _per_layer(fail_prob_per_layer, L, "fail_prob_per_layer", 0.0, hi=1.0)
    ev = FastRate(program, x, ticks)
    base = ev.base_out
    per_sample = np.empty(samples)
    for s in range(samples):
        dead = {}
        for l in range(1, L + 1):
            n = hidden[l - 1]
            if failures_per_layer is not None:
                dead[l] = np.argsort(rng.random(n))[:f[l - 1]]
            else:
                dead[l] = np.nonzero(rng.random(n) < p[l - 1])[0]
        rows = program_dead_neurons(program, dead)
        out = ev.evaluate(FaultState(dead_neurons=rows)).out if rows.size else base
        per_sample[s] = np.abs(out - base).max(axis=1).mean()
    mean = float(per_sample.mean())
    std = float(per_sample.std(ddof=1)) if samples > 1 else 0.0
    half = 1.96 * std / math.sqrt(samples)
    return MonteCarloResult(mean, std, (mean - half, mean + half), float(per_sample.max()),
                            samples, len(x), per_sample)


# ====================================================================== batched evaluation
def _as_inputs(mlp, inputs):
    x = np.asarray(inputs, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != mlp.sizes[0] or x.shape[0] == 0:
        raise ValidationError(f"argument 'inputs': shape {x.shape}, expected (n_inputs ≥ 1, "
                              f"{mlp.sizes[0]})")
    return x


def _weights(mlp):
    return [(np.asarray(layer.weight, dtype=np.float64), np.asarray(layer.bias, dtype=np.float64))
            for layer in mlp.layers]


def _act(mlp, z):
    """φ(z), the same function as ``MLP.activate`` (module table), computed in place on the
    float64 temporary ``z`` (scipy's expit for the sigmoid: stable and fast)."""
    s = mlp.steepness
    if s != 1.0:
        z *= s
    if mlp.activation == "relu":
        return np.maximum(z, 0.0, out=z)
    if mlp.activation == "clipped_relu":
        return np.clip(z, 0.0, 1.0, out=z)
    return expit(z, out=z)


def _run_from(mlp, wb, a, start, keep=None):
    """Logits from the activations ``a`` of hidden layer ``start`` (0 = the input).

    ``a`` may carry leading batch axes, e.g. (m, B, N_start); ``keep`` maps a hidden layer index
    (1-based) > start to a 0/1 float array (m, N_l) multiplied onto that layer's outputs.
    """
    L = len(wb) - 1
    for i in range(start, L + 1):
        w, b = wb[i]
        z = a @ w + b
        if i == L:
            return z
        a = _act(mlp, z)
        if keep is not None and keep.get(i + 1) is not None:
            a *= keep[i + 1][:, None, :]
    raise AssertionError("unreachable")


def _check_layer(mlp, layer):
    L = len(mlp.layers) - 1
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= L:
        raise ValidationError(f"argument 'layer': {layer!r}, expected a hidden layer 1..{L}")
    return int(layer)


# ====================================================================== Omega
@dataclass(frozen=True)
class OmegaResult:
    """Exhaustive crash error for one (layer, crash count): max and mean of ‖F_S(x) − F(x)‖∞."""

    layer: int
    crashes: int
    max: float
    mean: float
    n_subsets: int
    n_inputs: int
    worst_subset: tuple
    seconds: float

    @property
    def evaluations(self) -> int:
        return self.n_subsets * self.n_inputs


def omega(mlp, layer, crashes, inputs, *, max_subsets=DEFAULT_MAX_SUBSETS) -> OmegaResult:
    """Every subset of ``crashes`` neurons of hidden ``layer`` (1-based), over ``inputs`` (B, n_in).

    The layer's clean activations are computed once; subsets are evaluated in batches of arrays
    (m, B, N_l) through the layers above. Refuses (ValidationError) when C(N_l, crashes) exceeds
    ``max_subsets``.
    """
    t0 = time.perf_counter()
    layer = _check_layer(mlp, layer)
    n = mlp.sizes[layer]
    if isinstance(crashes, bool) or not isinstance(crashes, (int, np.integer)) \
            or not 0 <= crashes <= n:
        raise ValidationError(f"argument 'crashes': {crashes!r}, expected an integer in [0, {n}] "
                              f"(width of layer {layer})")
    crashes = int(crashes)
    count = math.comb(n, crashes)
    if count > max_subsets:
        raise ValidationError(f"Omega for {crashes} crashes in layer {layer} (width {n}) needs "
                              f"{count:,} subsets, above the limit of {max_subsets:,}: use "
                              f"monte_carlo_error, or raise max_subsets")
    x = _as_inputs(mlp, inputs)
    wb = _weights(mlp)
    outs = mlp.hidden_outputs(x)
    base, a = outs[-1], outs[layer - 1]
    B = x.shape[0]
    width = max(mlp.sizes[layer:])
    chunk = max(1, _CHUNK_ELEMS // (B * width))
    worst, worst_s, total = -1.0, (), 0.0
    combos = itertools.combinations(range(n), crashes)
    done = 0
    while done < count:
        block = list(itertools.islice(combos, chunk))
        m = len(block)
        idx = np.array(block, dtype=np.int64).reshape(m, crashes)
        keep = np.ones((m, n))
        keep[np.repeat(np.arange(m), crashes), idx.ravel()] = 0.0
        y = _run_from(mlp, wb, a[None, :, :] * keep[:, None, :], layer)
        err = np.abs(y - base).max(axis=2)  # (m, B)
        total += float(err.sum())
        per = err.max(axis=1)
        k = int(per.argmax())
        if per[k] > worst:
            worst, worst_s = float(per[k]), tuple(int(i) for i in idx[k])
        done += m
    return OmegaResult(layer, crashes, max(worst, 0.0), total / (count * B), count, B, worst_s,
                       time.perf_counter() - t0)


def omega_bruteforce(mlp, layer, crashes, inputs):
    """(max, mean) by a plain loop over itertools.combinations and ``mlp.forward`` (for tests)."""
    x = np.asarray(inputs, dtype=np.float64)
    base = mlp.forward(x)
    L = len(mlp.layers) - 1
    n = mlp.sizes[layer]
    errs = []
    for subset in itertools.combinations(range(n), crashes):
        dead = [None] * L
        d = np.zeros(n, dtype=bool)
        d[list(subset)] = True
        dead[layer - 1] = d
        errs.append(np.abs(mlp.forward(x, dead=dead) - base).max(axis=1))
    errs = np.concatenate(errs)
    return float(errs.max()), float(errs.mean())


# ====================================================================== Monte Carlo
@dataclass(frozen=True)
class MonteCarloResult:
    """Per crash sample: mean over inputs of ‖F_fail(x) − F(x)‖∞; summarised over samples."""

    mean: float
    std: float
    ci95: tuple
    max: float
    samples: int
    n_inputs: int
    per_sample: np.ndarray = field(repr=False)


def monte_carlo_error(mlp, fail_prob_per_layer, inputs, samples, rng, *,
                      failures_per_layer=None) -> MonteCarloResult:
    """Monte Carlo estimate of E‖F_fail − F‖∞ (averaged over ``inputs``) for random crashes.

    Each sample draws one crash set, applied to every input (a chip's dead neurons are dead for all
    inputs): neuron i of hidden layer l is dead with probability p_l independently, or — when
    ``failures_per_layer`` is given instead (pass ``fail_prob_per_layer=None``) — exactly f_l
    neurons chosen uniformly. ci95 = mean ± 1.96 · std / √samples (normal approximation).
    """
    x = _as_inputs(mlp, inputs)
    L = len(mlp.layers) - 1
    hidden = mlp.sizes[1:-1]
    samples = int(samples)
    if samples < 1:
        raise ValidationError(f"argument 'samples': {samples}, expected ≥ 1")
    if not isinstance(rng, np.random.Generator):
        raise ValidationError("argument 'rng': expected a numpy.random.Generator")
    if failures_per_layer is not None:
        f = _per_layer(failures_per_layer, L, "failures_per_layer", 0, hi_list=hidden)
        if np.any(f != np.round(f)):
            raise ValidationError(f"argument 'failures_per_layer': {f.tolist()}, expected integers")
        f = f.astype(int)
        active = [l for l in range(1, L + 1) if f[l - 1] > 0]
    else:
        p = _per_layer(fail_prob_per_layer, L, "fail_prob_per_layer", 0.0, hi=1.0)
        active = [l for l in range(1, L + 1) if p[l - 1] > 0]
    if not active:
        z = np.zeros(samples)
        return MonteCarloResult(0.0, 0.0, (0.0, 0.0), 0.0, samples, x.shape[0], z)
    wb = _weights(mlp)
    outs = mlp.hidden_outputs(x)
    base = outs[-1]
    start = active[0]
    a0 = outs[start - 1]
    B = x.shape[0]
    chunk = max(1, _CHUNK_ELEMS // (B * max(mlp.sizes[start:])))
    per_sample = np.empty(samples)
    done = 0
    while done < samples:
        m = min(chunk, samples - done)
        keep = {}
        for l in active:
            n = hidden[l - 1]
            if failures_per_layer is not None:
                # exactly f_l dead: the f_l smallest of m×n uniform keys per row
                order = np.argsort(rng.random((m, n)), axis=1)[:, :f[l - 1]]
                k = np.ones((m, n))
                np.put_along_axis(k, order, 0.0, axis=1)
            else:
                k = (rng.random((m, n)) >= p[l - 1]).astype(np.float64)
            keep[l] = k
        y = _run_from(mlp, wb, a0[None, :, :] * keep[start][:, None, :], start, keep)
        per_sample[done:done + m] = np.abs(y - base).max(axis=2).mean(axis=1)
        done += m
    mean = float(per_sample.mean())
    std = float(per_sample.std(ddof=1)) if samples > 1 else 0.0
    half = 1.96 * std / math.sqrt(samples)
    return MonteCarloResult(mean, std, (mean - half, mean + half), float(per_sample.max()),
                            samples, B, per_sample)


# ====================================================================== first order
def _activation_slope(mlp, z):
    """dφ/dz at z (module table), analytic."""
    s = mlp.steepness
    if mlp.activation == "relu":
        return s * (z > 0)
    if mlp.activation == "clipped_relu":
        return s * ((s * z > 0) & (s * z < 1))
    a = mlp.activate(z)
    return s * a * (1.0 - a)


def output_jacobians(mlp, inputs):
    """[∂y/∂a_1, ..., ∂y/∂a_L], each (B, N_l, n_out): back-propagation through the MLP (float64)."""
    x = _as_inputs(mlp, inputs)
    wb = _weights(mlp)
    L = len(wb) - 1
    zs, a = [], x
    for i in range(L):
        z = a @ wb[i][0] + wb[i][1]
        zs.append(z)
        a = mlp.activate(z)
    B = x.shape[0]
    g = np.broadcast_to(wb[L][0], (B,) + wb[L][0].shape)  # ∂y/∂a_L
    jac = [None] * L
    jac[L - 1] = np.array(g)
    for h in range(L - 1, 0, -1):  # ∂y/∂a_h = W_{h+1} diag(φ'(z_{h+1})) ∂y/∂a_{h+1}
        g = np.einsum("ij,bj,bjk->bik", wb[h][0], _activation_slope(mlp, zs[h]), g)
        jac[h - 1] = g
    return jac


@dataclass(frozen=True)
class FirstOrder:
    """Per-input first-order estimates (arrays over the B inputs); see the module docstring.

    ablation_mean, taylor_mean, taylor_var: (B, n_out) estimates of E Δy and Var Δy;
    ablation_abs, taylor_abs: (B,) first-order estimates of E‖Δy‖∞.
    """

    ablation_mean: np.ndarray
    taylor_mean: np.ndarray
    taylor_var: np.ndarray
    ablation_abs: np.ndarray
    taylor_abs: np.ndarray


def first_order(mlp, inputs, fail_prob_per_layer) -> FirstOrder:
    """First-order estimators of the output change for independent crashes (arXiv 1902.01686)."""
    x = _as_inputs(mlp, inputs)
    L = len(mlp.layers) - 1
    p = _per_layer(fail_prob_per_layer, L, "fail_prob_per_layer", 0.0, hi=1.0)
    wb = _weights(mlp)
    outs = mlp.hidden_outputs(x)
    base = outs[-1]
    B, n_out = base.shape
    jac = output_jacobians(mlp, x)
    abl_mean = np.zeros((B, n_out))
    abl_abs = np.zeros(B)
    t_mean = np.zeros((B, n_out))
    t_var = np.zeros((B, n_out))
    t_abs = np.zeros(B)
    for l in range(1, L + 1):
        if p[l - 1] == 0:
            continue
        a = outs[l - 1]
        n = a.shape[1]
        contrib = a[:, :, None] * jac[l - 1]  # (B, N_l, n_out): a_i ∂y/∂a_i
        t_mean -= p[l - 1] * contrib.sum(axis=1)
        t_var += p[l - 1] * (1 - p[l - 1]) * (contrib ** 2).sum(axis=1)
        t_abs += p[l - 1] * np.abs(contrib).max(axis=2).sum(axis=1)
        chunk = max(1, _CHUNK_ELEMS // (B * max(mlp.sizes[l:])))
        for s in range(0, n, chunk):
            idx = np.arange(s, min(n, s + chunk))
            keep = np.ones((idx.size, n))
            keep[np.arange(idx.size), idx] = 0.0
            d = _run_from(mlp, wb, a[None, :, :] * keep[:, None, :], l) - base  # (m, B, n_out)
            abl_mean += p[l - 1] * d.sum(axis=0)
            abl_abs += p[l - 1] * np.abs(d).max(axis=2).sum(axis=0)
    return FirstOrder(abl_mean, t_mean, t_var, abl_abs, t_abs)


# ====================================================================== CLI entry
def bound_report(mlp, inputs, *, fail_prob=None, failures=None, layer=None, samples=200,
                 seed=0, C=None) -> dict:
    """What ``neurosim bound`` prints: erf, fep, taylor_mean, observed_mean, observed_ci95, …

    Exactly one of ``fail_prob`` (scalar, every hidden layer or only ``layer``) and ``failures``
    (a list with one count per hidden layer, or one count when ``layer`` is given). For relu
    networks C defaults to the largest hidden activation on ``inputs`` (reported in ``C_source``).
    taylor_mean is the mean over inputs of the first-order Taylor estimate of E‖Δy‖∞;
    tightness = erf / observed_mean (None when the observed error is 0).
    """
    L = len(mlp.layers) - 1
    hidden = mlp.sizes[1:-1]
    if layer is not None:
        layer = _check_layer(mlp, layer)
    if (fail_prob is None) == (failures is None):
        raise ValidationError("give exactly one of --fail-prob and --failures")
    x = _as_inputs(mlp, inputs)
    C_source = "argument"
    if C is None:
        if math.isfinite(mlp.bound_C):
            C, C_source = float(mlp.bound_C), f"sup of {mlp.activation}"
        else:
            C, C_source = max_activation(mlp, x), "largest hidden activation on the evaluation set"
    consts = network_constants(mlp, C=C)
    if fail_prob is not None:
        p = _fail_probabilities(fail_prob, layer, L)
        f = p * np.asarray(hidden)
        mc = monte_carlo_error(mlp, p, x, samples, np.random.default_rng(seed))
    else:
        f = _failure_counts(failures, layer, hidden)
        p = f / np.asarray(hidden)
        mc = monte_carlo_error(mlp, None, x, samples, np.random.default_rng(seed),
                               failures_per_layer=f.astype(int))
    e = erf(consts, p)
    w = fep(consts, f)
    fo = first_order(mlp, x, p)
    obs = mc.mean
    return {
        "erf": e, "fep": w,
        "erf_max_w": erf(consts, p, use="max"),
        "taylor_mean": float(fo.taylor_abs.mean()),
        "ablation_mean": float(fo.ablation_abs.mean()),
        "observed_mean": obs, "observed_ci95": [mc.ci95[0], mc.ci95[1]],
        "observed_max": mc.max,
        "tightness": (e / obs) if obs > 0 else None,  # undefined when nothing was observed
        "safe": bool(obs <= e),
        "fail_prob_per_layer": p.tolist(), "failures_per_layer": f.tolist(),
        "K": consts.K, "C": consts.C, "C_source": C_source, "samples": mc.samples,
        "n_inputs": mc.n_inputs, "sizes": list(consts.sizes), "activation": mlp.activation,
    }


def program_bound_report(program, inputs, *, fail_prob=None, failures=None, layer=None,
                         samples=200, seed=0, ticks=64) -> dict:
    """:func:`bound_report` for a compiled ChipProgram in rate mode (K = 1, C = 1, errors on the
    output rates): erf and fep from :func:`program_constants`, observed error by
    :func:`program_monte_carlo_error` (MLP units crash with all their copies).

    taylor_mean and ablation_mean are None: the first-order estimators differentiate a smooth
    float network, and the chip's is a clipped, quantised one whose output layer is clipped too
    (losing classes sit at rate 0 with zero gradient), so the MLP's Taylor form has no honest
    counterpart here.
    """
    consts = program_constants(program)
    L = consts.depth
    hidden = list(consts.hidden_sizes)
    if layer is not None:
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) \
                or not 1 <= layer <= L:
            raise ValidationError(f"--layer: {layer!r}, expected a hidden layer 1..{L}")
    if (fail_prob is None) == (failures is None):
        raise ValidationError("give exactly one of --fail-prob and --failures")
    rng = np.random.default_rng(seed)
    if fail_prob is not None:
        p = _fail_probabilities(fail_prob, layer, L)
        f = p * np.asarray(hidden)
        mc = program_monte_carlo_error(program, p, inputs, samples, rng, ticks=ticks)
    else:
        f = _failure_counts(failures, layer, hidden)
        p = f / np.asarray(hidden)
        mc = program_monte_carlo_error(program, None, inputs, samples, rng,
                                       failures_per_layer=f.astype(int), ticks=ticks)
    e = erf(consts, p)
    w = fep(consts, f)
    obs = mc.mean
    return {
        "erf": e, "fep": w, "erf_max_w": erf(consts, p, use="max"),
        "taylor_mean": None, "ablation_mean": None,
        "observed_mean": obs, "observed_ci95": [mc.ci95[0], mc.ci95[1]],
        "observed_max": mc.max,
        "tightness": (e / obs) if obs > 0 else None,
        "safe": bool(obs <= e),
        "fail_prob_per_layer": p.tolist(), "failures_per_layer": f.tolist(),
        "K": consts.K, "C": consts.C, "C_source": "rates in [0, 1] (chip, rate mode)",
        "samples": mc.samples, "n_inputs": mc.n_inputs, "sizes": list(consts.sizes),
        "activation": "chip rate", "kind": "program", "profile": program.profile.name,
    }


def _fail_probabilities(fail_prob, layer, L):
    """Crash probability per hidden layer: ``fail_prob`` in every layer, or only in ``layer``."""
    fail_prob = float(fail_prob)
    if not 0.0 <= fail_prob <= 1.0:
        raise ValidationError(f"--fail-prob: {fail_prob:g}, expected a probability in [0, 1]")
    if layer is None:
        return np.full(L, fail_prob)
    return np.where(np.arange(1, L + 1) == layer, fail_prob, 0.0)


def _failure_counts(failures, layer, hidden):
    L = len(hidden)
    vals = list(failures)
    if layer is not None:
        if len(vals) != 1:
            raise ValidationError(f"--failures: {len(vals)} counts with --layer {layer}, "
                                  f"expected 1")
        vals = [vals[0] if l == layer else 0 for l in range(1, L + 1)]
    if len(vals) != L:
        raise ValidationError(f"--failures: {len(vals)} counts, expected one per hidden layer "
                              f"({L}: widths {','.join(map(str, hidden))})")
    for l, (v, n) in enumerate(zip(vals, hidden), start=1):
        if int(v) != v or not 0 <= v <= n:
            raise ValidationError(f"--failures: layer {l} count {v}, expected an integer in "
                                  f"[0, {n}] (the layer's width)")
    return np.asarray(vals, dtype=np.float64)


def _load_model_or_program(path):
    """("mlp", MLP) or ("program", ChipProgram), told apart by the file's fields (a ChipProgram
    has ``profile``, an MLP ``n_layers``); one combined error for files that are neither."""
    import os
    import zipfile
    from neurosim.errors import InputFileError
    if not os.path.isfile(path):
        raise InputFileError(f"{path}: no such file, expected an MLP .npz or a compiled "
                             f"ChipProgram .npz")
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = set(f.files)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputFileError(f"{path}: not a readable .npz ({exc}), expected an MLP .npz or a "
                             f"compiled ChipProgram .npz") from None
    if "profile" in keys and "n_inputs" in keys:
        from neurosim.chip.program import ChipProgram
        return "program", ChipProgram.load(path)
    if "n_layers" in keys:
        from neurosim.mlp import MLP
        return "mlp", MLP.load(path)
    raise InputFileError(f"{path}: neither an MLP .npz (no field 'n_layers') nor a compiled "
                         f"ChipProgram .npz (no fields 'profile', 'n_inputs')")


# ====================================================================== benchmark
def bench_bounds(quick=False, verbose=True) -> dict:
    """`neurosim bench bounds`: Erf/Fep time for a 4,096-core-sized network; Omega throughput.

    The chip-sized network is described by its constants only (4 hidden layers of 262,144
    neurons = 1,048,576 neurons, 256 fan-in): Erf needs O(L) work once the per-layer |w|
    statistics exist. Omega throughput: subset × input evaluations per second on a 4-16-16-16-1
    sigmoid network (all 560 3-crash subsets of a 16-wide layer over 256 inputs).
    """
    from neurosim.mlp import MLP, Layer
    rng = np.random.default_rng(0)
    n = 262_144
    consts = NetworkConstants((1024, n, n, n, n, 10), (1.0,) * 5, (0.004,) * 5, 1.0, 1.0)
    reps = 2_000 if quick else 20_000
    t0 = time.perf_counter()
    for _ in range(reps):
        e = erf(consts, 0.01)
    t_erf = (time.perf_counter() - t0) / reps
    t0 = time.perf_counter()
    for _ in range(reps):
        chip_bounds(consts, 0.01)
    t_chip = (time.perf_counter() - t0) / reps
    sizes = [4, 16, 16, 16, 1]
    layers = [Layer(rng.normal(size=(a, b)), np.zeros(b), np.ones((a, b), bool))
              for a, b in zip(sizes[:-1], sizes[1:])]
    mlp = MLP(layers, activation="sigmoid")
    x = rng.random((64 if quick else 256, 4))
    omega(mlp, 1, 3, x[:2])  # warm-up
    res = min((omega(mlp, 1, 3, x) for _ in range(3)), key=lambda r: r.seconds)
    out = {
        "erf_chip_network_seconds": t_erf,
        "chip_bounds_seconds": t_chip,
        "erf_under_1ms": t_erf < 1e-3,
        "chip_network_neurons": 4 * n,
        "erf_value": e,
        "omega_evaluations": res.evaluations,
        "omega_seconds": res.seconds,
        "omega_evaluations_per_second": res.evaluations / res.seconds,
        "omega_network": "4-16-16-16-1 sigmoid, layer 1, 3 crashes",
    }
    if verbose:
        print(f"Erf, 4,096-core network ({4 * n:,} neurons): {t_erf * 1e6:.1f} µs "
              f"(chip_bounds {t_chip * 1e6:.1f} µs; target < 1 ms)")
        print(f"Omega: {res.evaluations:,} subset×input evaluations in {res.seconds:.3f} s = "
              f"{res.evaluations / res.seconds:,.0f} /s ({out['omega_network']})")
    return out


def run_cli(args) -> dict:
    """``neurosim bound``: see ``neurosim bound --help``; returns the --json object."""
    verbose = not getattr(args, "json", False)
    if args.study is not None:
        from neurosim import bound_studies
        return bound_studies.run(args.study, out_dir=args.out, quick=args.quick, seed=args.seed,
                                 verbose=verbose)
    if args.model is None:
        raise ValidationError("MODEL: missing, expected an MLP .npz or a compiled ChipProgram "
                              ".npz (or --study NAME)")
    if args.fail_prob is None and args.failures is None:
        raise ValidationError("give one of --fail-prob P and --failures F1,F2,...")
    if args.samples < 1:
        raise ValidationError(f"--samples: {args.samples}, expected ≥ 1")
    failures = None
    if args.failures is not None:
        try:
            failures = [int(v) for v in args.failures.split(",")]
        except ValueError:
            raise ValidationError(f"--failures: {args.failures!r}, expected comma-separated "
                                  f"integers such as 2,0,1") from None
    from neurosim import data
    kind, net = _load_model_or_program(args.model)
    if kind == "mlp":
        name = args.dataset or net.provenance.get("dataset") or "digits"
        n_in = net.sizes[0]
    else:
        if args.C is not None:
            raise ValidationError("--C: not used for a compiled program (rates in [0, 1]: C = 1)")
        name = args.dataset or "digits"
        n_in = net.n_inputs
    x = data.load(name)[2]
    if x.shape[1] != n_in:
        raise ValidationError(f"--dataset {name}: {x.shape[1]} inputs, but {args.model} expects "
                              f"{n_in}")
    if kind == "mlp":
        out = bound_report(net, x, fail_prob=args.fail_prob, failures=failures, layer=args.layer,
                           samples=args.samples, seed=args.seed, C=args.C)
    else:
        out = program_bound_report(net, x, fail_prob=args.fail_prob, failures=failures,
                                   layer=args.layer, samples=args.samples, seed=args.seed)
    out["model"] = str(args.model)
    out["dataset"] = name
    if verbose:
        lo, hi = out["observed_ci95"]
        print(f"{args.model}: {'-'.join(map(str, out['sizes']))} {out['activation']}, "
              f"K = {out['K']:g}, C = {out['C']:g} ({out['C_source']})")
        print(f"  crashes per hidden layer: p = {out['fail_prob_per_layer']}, "
              f"f = {out['failures_per_layer']}")
        print(f"  Fep (worst case)          {out['fep']:.6g}")
        print(f"  Erf (average estimate)    {out['erf']:.6g}")
        t = out["taylor_mean"]
        print(f"  Taylor first-order        {'n/a (program)' if t is None else format(t, '.6g')}")
        print(f"  observed mean ‖ΔF‖∞       {out['observed_mean']:.6g}  "
              f"(95 % CI {lo:.4g}…{hi:.4g}, {out['samples']} samples × {out['n_inputs']} inputs "
              f"of {name})")
        t = out["tightness"]
        print(f"  tightness Erf/observed    {'n/a' if t is None else format(t, '.4g')}  "
              f"({'safe' if out['safe'] else 'NOT safe'}: observed "
              f"{'≤' if out['safe'] else '>'} Erf)")
    return out
