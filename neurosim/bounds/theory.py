"""Robustness bounds for neuron crashes on an MLP: the network constants, Fep and Erf (numpy only).

Setting (El Mhamdi & Guerraoui 2017, "When Neurons Fail", IPDPS, arXiv 1706.08884; El Mhamdi,
Guerraoui & Rouault 2017, "On the Robustness of a Neural Network", SRDS, arXiv 1707.08167). An MLP (``neurosim.mlp.MLP``) has
hidden layers l = 1..L with N_l neurons and a linear output layer L+1. ``W_l`` (N_{l-1} × N_l) holds
the *incoming* weights of layer l, so layer 1's weights come from the input and layer L+1's weights
feed the output. The hidden activation φ is K-Lipschitz and bounded: 0 ≤ φ ≤ C; K and C of each
activation (relu, clipped_relu, sigmoid with steepness s = ``mlp.steepness``; C = ∞ for relu, which
must then be supplied) are in the table of ``neurosim.activation``.

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
tests its claims instead (:mod:`neurosim.bounds.studies`): take (★) and replace the worst-case weight w_m^(l) by the
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
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurosim.errors import ValidationError


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
                              f"values, expected one per hidden layer ({L})", param=name)
    for l, v in enumerate(arr, start=1):
        top = hi_list[l - 1] if hi_list is not None else hi
        if not np.isfinite(v) or v < lo or v > top:
            raise ValidationError(f"argument '{name}': layer {l} value {v:g}, "
                                  f"expected a number in [{lo}, {top}]", param=name)
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
        raise ValidationError(f"argument 'use': {use!r}, expected 'mean' or 'max'", param="use")
    p = _per_layer(fail_prob_per_layer, c.depth, "fail_prob_per_layer", 0.0, hi=1.0)
    w = c.mean_abs_w if use == "mean" else c.max_abs_w
    f = [pl * n for pl, n in zip(p, c.hidden_sizes)]
    return float(_propagate(c.sizes, w, c.K, c.C, f))


def unit_bounds(constants: NetworkConstants, dead_fraction_per_layer) -> tuple:
    """(erf, fep) of a network in its MLP-unit view, for a dead fraction per hidden layer.

    ``constants``: the network's NetworkConstants (for a compiled program in rate mode,
    :func:`neurosim.bounds.chip.program_constants`: K = 1, C = 1, weights w/α in rate units).
    erf = Erf(p_l); fep = Fep(f_l = p_l · N_l). This view crashes whole MLP units; on a chip, a dead
    fan-out copy or relay changes a weight instead, so per dead *chip* neuron use the chip-level
    model (:mod:`neurosim.bounds.chip`), whose Fep holds for every dead set.
    """
    p = _per_layer(dead_fraction_per_layer, constants.depth, "dead_fraction_per_layer", 0.0, hi=1.0)
    f = [pl * n for pl, n in zip(p, constants.hidden_sizes)]
    e = _propagate(constants.sizes, constants.mean_abs_w, constants.K, constants.C, f)
    w = _propagate(constants.sizes, constants.max_abs_w, constants.K, constants.C, f)
    return float(e), float(w)


chip_bounds = unit_bounds  # the name the mission used before the chip-level model existed
