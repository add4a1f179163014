"""Normalise an MLP for rate coding: every layer's outputs become firing rates in [0, 1].

A rate-coded integrate-and-fire neuron with reset by subtraction fires at

    r_j = clip((Σ_i ρ_i W_ij + b_j) / α_j, 0, 1)      (one spike per tick at most)

so a ReLU layer a_l = max(0, K z_l) is reproduced up to a per-layer scale λ_l (Diehl et al. 2015;
Rueckauer et al. 2017):

    λ_0 = 1 (inputs are rates already)
    λ_l = the ``percentile`` (default 99.9) of the positive activations of hidden layer l on the
          calibration data (relu); λ_l = 1 for clipped_relu, whose outputs are in [0, 1] already
    Ŵ_l = K W_l λ_{l−1} / λ_l,   b̂_l = K b_l / λ_l,    r_l = clip(r_{l−1} Ŵ_l + b̂_l, 0, 1)

Activations above λ_l saturate at rate 1 (that is the price of the percentile).

The output layer is linear (logits z). Its neurons fire at r_k = clip((z_k + s) / λ_out, 0, 1): a
common shift s does not change the argmax, and it lifts the winning logit above zero so the winner
fires. With m = max_k z_k per calibration sample, s and λ_out map [P_0.1(m), P_99.9(m)] onto
[δ, 1] with δ = ``OUTPUT_FLOOR_RATE`` (0.1): even a low-confidence winner fires every ~10 ticks.
Losing classes may clip at 0, which cannot change the winner. The options ``output_shift`` and
``output_scale`` override s and λ_out (NIR import uses s = 0, λ_out = 1).

Biases are carried as the leak λ_j (added every tick), not by a bias axon: it costs no axon, no
spike and no synaptic event, and it is exact in rate mode.
"""
from dataclasses import dataclass

import numpy as np

from neurosim.errors import ValidationError

OUTPUT_FLOOR_RATE = 0.1


@dataclass(frozen=True)
class NormalisedLayer:
    """One layer in rate units: r_out = clip(r_in @ weight + bias, 0, 1)."""

    weight: np.ndarray   # float64 (n_in, n_out); 0 where the MLP has no connection
    bias: np.ndarray     # float64 (n_out,)
    mask: np.ndarray     # bool (n_in, n_out): connections that exist (nonzero weights)
    scale: float         # λ_l, the activation that rate 1 stands for (λ_out for the output)
    shift: float = 0.0   # s, added to the logits before scaling (output layer only)


def rate_forward(layers, x):
    """Rates of every layer [r_1, ..., r_out] for input rates x (B, n_in), float64."""
    out, r = [], np.asarray(x, dtype=np.float64)
    for layer in layers:
        r = np.clip(r @ layer.weight + layer.bias, 0.0, 1.0)
        out.append(r)
    return out


def normalise(mlp, calibration, percentile=99.9, output_shift=None, output_scale=None):
    """Return the list of NormalisedLayer (hidden layers, then the output layer)."""
    if mlp.activation == "sigmoid":
        raise ValidationError("MLP field 'activation' is 'sigmoid'; the compiler maps relu and "
                              "clipped_relu onto integrate-and-fire rates (retrain with "
                              "activation 'relu')")
    if not 0 < percentile <= 100:
        raise ValidationError(f"percentile is {percentile}; expected a value in (0, 100]")
    x = np.asarray(calibration, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != mlp.sizes[0] or len(x) == 0:
        raise ValidationError(f"calibration data has shape {x.shape}; expected (samples, "
                              f"{mlp.sizes[0]}) with at least one sample")
    K = mlp.steepness
    acts = mlp.hidden_outputs(x)
    layers, prev = [], 1.0
    for l, layer in enumerate(mlp.layers):
        w = layer.weight.astype(np.float64)
        b = layer.bias.astype(np.float64)
        mask = layer.mask & (layer.weight != 0)
        if l < len(mlp.layers) - 1:
            scale = 1.0 if mlp.activation == "clipped_relu" else _percentile_scale(acts[l],
                                                                                   percentile)
            layers.append(NormalisedLayer(K * w * prev / scale, K * b / scale, mask, scale))
            prev = scale
            continue
        m = acts[l].max(axis=1)
        lo, hi = np.percentile(m, 100 - percentile), np.percentile(m, percentile)
        span = max(hi - lo, 1e-6 * max(abs(hi), 1.0))
        scale = span / (1 - OUTPUT_FLOOR_RATE) if output_scale is None else float(output_scale)
        shift = OUTPUT_FLOOR_RATE * scale - lo if output_shift is None else float(output_shift)
        if not scale > 0:
            raise ValidationError(f"output_scale is {output_scale}; expected a positive number")
        layers.append(NormalisedLayer(w * prev / scale, (b + shift) / scale, mask, scale, shift))
    return layers


def _percentile_scale(a, percentile):
    positive = a[a > 0]
    return float(np.percentile(positive, percentile)) if positive.size else 1.0
