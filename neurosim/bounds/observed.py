"""What crashes really do to an MLP: Omega (exhaustive), Monte Carlo, first-order estimators.

Notation as in :mod:`neurosim.bounds.theory` (hidden layers numbered from 1; output error the sup
norm ‖F_fail(x) − F(x)‖∞ over the logits).

Truth
-----
Omega (exhaustive): for a hidden layer l and c crashes, every one of the C(N_l, c) subsets over a
set of inputs; ω(x, S) = ‖F_S(x) − F(x)‖∞; report max and mean over (S, x).
Monte Carlo: for networks too large for Omega, sample crash sets (each neuron independently with
probability p_l, or exactly f_l per layer) and average ω over the inputs.

First-order per-input estimators (El Mhamdi, Guerraoui, Kucharavy & Volodin 2019, "The Probabilistic
Fault Tolerance of Neural Networks in the Continuous Limit", arXiv 1902.01686), for
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

from neurosim.activation import activate_in_place
from neurosim.bounds.theory import _per_layer
from neurosim.errors import ValidationError
from neurosim.validation import check_inputs

_CHUNK_ELEMS = 4_000_000  # floats per intermediate array in the batched evaluations
DEFAULT_MAX_SUBSETS = 1_000_000


# ====================================================================== batched evaluation
def _as_inputs(mlp, inputs):
    return check_inputs(inputs, mlp.sizes[0], "argument 'inputs'", "for the MLP", min_rows=1,
                        promote_1d=True, param="inputs")


def _weights(mlp):
    return [(np.asarray(layer.weight, dtype=np.float64), np.asarray(layer.bias, dtype=np.float64))
            for layer in mlp.layers]


def _act(mlp, z):
    """φ(z), the function of ``MLP.activate``, in place on the float64 temporary ``z``."""
    return activate_in_place(z, mlp.activation, mlp.steepness)


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
        raise ValidationError(f"argument 'layer': {layer!r}, expected a hidden layer 1..{L}",
                              param="layer")
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
                              f"(width of layer {layer})", param="crashes")
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

    @classmethod
    def of(cls, per_sample, n_inputs) -> "MonteCarloResult":
        """Summary of per-sample errors: ci95 = mean ± 1.96 · std / √samples (normal approx.)."""
        samples = per_sample.size
        mean = float(per_sample.mean())
        std = float(per_sample.std(ddof=1)) if samples > 1 else 0.0
        half = 1.96 * std / math.sqrt(samples)
        return cls(mean, std, (mean - half, mean + half), float(per_sample.max()), samples,
                   n_inputs, per_sample)


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
        raise ValidationError(f"argument 'samples': {samples}, expected ≥ 1", param="samples")
    if not isinstance(rng, np.random.Generator):
        raise ValidationError("argument 'rng': expected a numpy.random.Generator", param="rng")
    if failures_per_layer is not None:
        f = _per_layer(failures_per_layer, L, "failures_per_layer", 0, hi_list=hidden)
        if np.any(f != np.round(f)):
            raise ValidationError(f"argument 'failures_per_layer': {f.tolist()}, expected integers",
                                  param="failures_per_layer")
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
    return MonteCarloResult.of(per_sample, B)


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
