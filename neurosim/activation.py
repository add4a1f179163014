"""The hidden activations φ of an MLP, with steepness K, their slopes and constants.

    activation    φ(z)                              φ'(z)                 Lipschitz   sup C
    relu          max(0, K z)                       K·[z > 0]             K           ∞
    clipped_relu  min(max(0, K z), 1)               K·[0 < φ < 1]         K           1
    sigmoid       σ(K z) = 1 / (1 + exp(−K z))      K·φ·(1 − φ)           K/4         1

(El Mhamdi & Guerraoui 2017 [elmhamdi2017fep] use K and C in their bounds.) The sigmoid is
evaluated without overflow: exp of a non-positive number only in :func:`activate`, scipy's
``expit`` in :func:`activate_in_place` (float64 temporaries of the bounds' batched evaluator).
"""
import numpy as np
from scipy.special import expit

ACTIVATIONS = ("relu", "clipped_relu", "sigmoid")


def activate(z, activation, steepness):
    """φ(z) (module table), in the dtype of ``steepness · z``."""
    kz = steepness * np.asarray(z)
    if activation == "relu":
        return np.maximum(kz, 0)
    if activation == "clipped_relu":
        return np.clip(kz, 0, 1)
    e = np.exp(-np.abs(kz))
    return np.where(kz >= 0, 1 / (1 + e), e / (1 + e)).astype(kz.dtype, copy=False)


def activate_in_place(z, activation, steepness):
    """φ(z) computed in place on the float64 temporary ``z``, which is returned."""
    if steepness != 1.0:
        z *= steepness
    if activation == "relu":
        return np.maximum(z, 0.0, out=z)
    if activation == "clipped_relu":
        return np.clip(z, 0.0, 1.0, out=z)
    return expit(z, out=z)


def derivative(z, a, activation, steepness):
    """φ'(z) given z and a = φ(z) (module table), for back-propagation."""
    if activation == "relu":
        return (z > 0) * z.dtype.type(steepness)
    if activation == "clipped_relu":
        return ((a > 0) & (a < 1)) * z.dtype.type(steepness)
    return steepness * a * (1 - a)


def lipschitz(activation, steepness):
    """The Lipschitz constant K of φ (module table)."""
    return steepness / 4.0 if activation == "sigmoid" else steepness


def sup_bound(activation):
    """sup φ, C in the module table: ∞ for relu, 1 otherwise."""
    return float("inf") if activation == "relu" else 1.0
