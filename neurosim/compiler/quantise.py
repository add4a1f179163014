"""Quantise normalised neurons to integer weights, threshold α and leak.

A neuron with normalised weights w_i (rate units) and bias b becomes integers (q_i, g, α, leak):

    effective weight  g q_i / α ≈ w_i,     leak / α ≈ b
    q_i = clip(round(w_i α / g), qmin, qmax),   leak = clip(round(b α), leak_min, leak_max)

so that the rate clip((Σ ρ_i g q_i + leak)/α, 0, 1) approximates clip(Σ ρ_i w_i + b, 0, 1).
(g, α) are chosen per neuron to minimise the squared error

    E = Σ_i (g q_i / α − w_i)² + (leak / α − b)²

in two passes: first the step size u = g/α ∈ {m/qmax · f} with g = g_max, m = max_i |w_i| and f
on a geometric grid from 1 to 1/16 (f < 1 clips the largest weights to buy resolution for the
rest, which pays for trinary); then, at the best f, g ∈ {g_max, g_max/2, …, 1} (a smaller g gives
a smaller α, hence a leak that fits its range). The ``direct`` encoding has g = 1. α is capped at
``ALPHA_MAX`` so membrane potentials stay far from the kernel's 32-bit range.

The reported quantisation error is the relative RMS error of all weights and biases,
sqrt(Σ E / Σ (Σ_i w_i² + b²)).
"""
import numpy as np

ALPHA_MAX = 1 << 22
STEP_FACTORS = np.geomspace(1.0, 1.0 / 16, 13)


def fit(w, b, encoding, profile):
    """Quantise neurons given as rows: w (U, F) float (zero padded), b (U,).

    Returns (q (U, F) int64, g (U,), alpha (U,), leak (U,), squared error (U,)).
    """
    w = np.asarray(w, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    U = w.shape[0]
    m = np.abs(w).max(axis=1) if w.shape[1] else np.zeros(U)
    m = np.where(m > 0, m, np.maximum(np.abs(b), 1e-9))
    alpha_max = min(profile.threshold_max, ALPHA_MAX)
    qmax = max(encoding.qmax, -encoding.qmin)

    def error(g, f):
        alpha = np.clip(np.round(g * qmax / (m * f)), 1, alpha_max)
        return _quantise(w, b, g, alpha, encoding, profile)[-1]

    # pass 1: the step factor f per neuron, at g = g_max
    g = np.full(U, encoding.gmax, np.float64)
    errs = np.stack([error(g, f) for f in STEP_FACTORS])
    f = STEP_FACTORS[np.argmin(errs, axis=0)]
    # pass 2: the scale g per neuron, at that f
    gs = np.unique(np.maximum(encoding.gmax >> np.arange(8), 1)).astype(np.float64)
    errs = np.stack([error(np.full(U, gv), f) for gv in gs])
    g = gs[np.argmin(errs, axis=0)]
    alpha = np.clip(np.round(g * qmax / (m * f)), 1, alpha_max)
    q, leak, err = _quantise(w, b, g, alpha, encoding, profile)
    return q, g.astype(np.int64), alpha.astype(np.int64), leak.astype(np.int64), err


def _quantise(w, b, g, alpha, encoding, profile):
    step = g / alpha
    q = np.clip(np.round(w / step[:, None]), encoding.qmin, encoding.qmax)
    leak = np.clip(np.round(b * alpha), profile.leak_min, profile.leak_max)
    err = ((q * step[:, None] - w) ** 2).sum(axis=1) + (leak / alpha - b) ** 2
    return q.astype(np.int64), leak, err
