"""One comparison of the bounds with the observed crash error, for an MLP or a compiled program.

:func:`report` returns what ``neurosim bound`` prints: Fep, Erf (and Erf with max |w|), the
first-order estimates (MLPs only), the Monte Carlo observed error with its 95 % CI, and — when
exactly one hidden layer fails by a given count — the exhaustive Omega over every crash subset.
"""
from __future__ import annotations

import math

import numpy as np

from neurosim.bounds.chip import check_program_inputs, program_constants, program_monte_carlo_error
from neurosim.bounds.observed import (DEFAULT_MAX_SUBSETS, _as_inputs, first_order,
                                      monte_carlo_error, omega)
from neurosim.bounds.theory import erf, fep, max_activation, network_constants
from neurosim.chip.program import ChipProgram
from neurosim.errors import ValidationError

CHIP_C_SOURCE = "rates in [0, 1] (chip, rate mode)"


def report(net, inputs, *, fail_prob=None, failures=None, layer=None, samples=200, seed=0,
           C=None, ticks=64, max_subsets=DEFAULT_MAX_SUBSETS) -> dict:
    """Bounds against the observed error of ``net`` (an MLP, or a ChipProgram in rate mode).

    Exactly one of ``fail_prob`` (scalar: every hidden layer, or only ``layer``) and ``failures``
    (one count per hidden layer, or one count when ``layer`` is given). For an MLP with relu, C
    defaults to the largest hidden activation on ``inputs`` (reported in ``C_source``); a program
    has C = 1 (``C`` must be None) and is evaluated in the MLP-unit view (units crash with all
    their copies; :mod:`neurosim.bounds.chip`), with ``ticks`` for the rate-mode counters.

    Keys: erf, fep, erf_max_w; taylor_mean and ablation_mean (mean over inputs of the first-order
    estimates of E‖Δy‖∞; None for a program: the chip's clipped, quantised network has no honest
    Taylor form); observed_mean, observed_ci95, observed_max (Monte Carlo, ``samples`` crash sets
    from ``default_rng(seed)``); tightness = erf / observed_mean (None when nothing was observed);
    safe = observed_mean ≤ erf; omega_max, omega_mean (exhaustive, when failures hit one layer
    with at most ``max_subsets`` subsets, MLPs only; else None); the per-layer crash
    probabilities and counts, K, C, C_source, samples, n_inputs, sizes, activation.
    """
    is_program = isinstance(net, ChipProgram)
    if is_program:
        if C is not None:
            raise ValidationError("argument 'C': not used for a compiled program (rates in "
                                  "[0, 1]: C = 1)", param="C")
        consts, C_source = program_constants(net), CHIP_C_SOURCE
        x = check_program_inputs(net, inputs)
    else:
        x = _as_inputs(net, inputs)
        C, C_source = _mlp_C(net, x, C)
        consts = network_constants(net, C=C)
    hidden = list(consts.hidden_sizes)
    layer = _check_layer_number(layer, consts.depth)
    p, f = crash_spec(fail_prob, failures, layer, hidden)
    rng = np.random.default_rng(seed)
    prob = p if fail_prob is not None else None
    counts = {} if failures is None else {"failures_per_layer": f.astype(int)}
    if is_program:
        mc = program_monte_carlo_error(net, prob, x, samples, rng, ticks=ticks, **counts)
    else:
        mc = monte_carlo_error(net, prob, x, samples, rng, **counts)
    e = erf(consts, p)
    obs = mc.mean
    out = {
        "erf": e, "fep": fep(consts, f), "erf_max_w": erf(consts, p, use="max"),
        "observed_mean": obs, "observed_ci95": [mc.ci95[0], mc.ci95[1]],
        "observed_max": mc.max,
        "tightness": (e / obs) if obs > 0 else None,  # undefined when nothing was observed
        "safe": bool(obs <= e),
        "fail_prob_per_layer": p.tolist(), "failures_per_layer": f.tolist(),
        "K": consts.K, "C": consts.C, "C_source": C_source, "samples": mc.samples,
        "n_inputs": mc.n_inputs, "sizes": list(consts.sizes),
    }
    if is_program:
        out.update(taylor_mean=None, ablation_mean=None, omega_max=None, omega_mean=None,
                   activation="chip rate", kind="program", profile=net.profile.name)
    else:
        fo = first_order(net, x, p)
        out.update(taylor_mean=float(fo.taylor_abs.mean()),
                   ablation_mean=float(fo.ablation_abs.mean()), activation=net.activation,
                   **_exhaustive(net, x, f if failures is not None else None, max_subsets))
    return out


def _mlp_C(mlp, x, C):
    """(C, where it came from): the argument, the activation's sup, or the largest activation."""
    if C is not None:
        return float(C), "argument"
    if math.isfinite(mlp.bound_C):
        return float(mlp.bound_C), f"sup of {mlp.activation}"
    return max_activation(mlp, x), "largest hidden activation on the evaluation set"


def _exhaustive(mlp, x, f, max_subsets):
    """omega_max / omega_mean when exactly one layer fails by a count with few enough subsets."""
    none = {"omega_max": None, "omega_mean": None}
    if f is None or np.count_nonzero(f) != 1:
        return none
    l = int(np.nonzero(f)[0][0]) + 1
    c = int(f[l - 1])
    if math.comb(mlp.sizes[l], c) > max_subsets:
        return none
    om = omega(mlp, l, c, x, max_subsets=max_subsets)
    return {"omega_max": om.max, "omega_mean": om.mean}


def _check_layer_number(layer, L):
    """None, or a hidden layer number 1..L."""
    if layer is None:
        return None
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= L:
        raise ValidationError(f"argument 'layer': {layer!r}, expected a hidden layer 1..{L}",
                              param="layer")
    return int(layer)


def crash_spec(fail_prob, failures, layer, hidden) -> tuple:
    """(p, f): crash probability and expected crash count per hidden layer, f = p · N, from
    exactly one of ``fail_prob`` (in every layer, or only ``layer``) and ``failures``."""
    if (fail_prob is None) == (failures is None):
        raise ValidationError("give exactly one of arguments 'fail_prob' and 'failures'")
    if fail_prob is not None:
        p = _fail_probabilities(fail_prob, layer, len(hidden))
        return p, p * np.asarray(hidden)
    f = _failure_counts(failures, layer, hidden)
    return f / np.asarray(hidden), f


def _fail_probabilities(fail_prob, layer, L):
    """Crash probability per hidden layer: ``fail_prob`` in every layer, or only in ``layer``."""
    fail_prob = float(fail_prob)
    if not 0.0 <= fail_prob <= 1.0:
        raise ValidationError(f"argument 'fail_prob': {fail_prob:g}, expected a probability in "
                              f"[0, 1]", param="fail_prob")
    if layer is None:
        return np.full(L, fail_prob)
    return np.where(np.arange(1, L + 1) == layer, fail_prob, 0.0)


def _failure_counts(failures, layer, hidden):
    L = len(hidden)
    vals = list(failures)
    if layer is not None:
        if len(vals) != 1:
            raise ValidationError(f"argument 'failures': {len(vals)} counts with argument 'layer' "
                                  f"{layer}, expected 1", param="failures")
        vals = [vals[0] if l == layer else 0 for l in range(1, L + 1)]
    if len(vals) != L:
        raise ValidationError(f"argument 'failures': {len(vals)} counts, expected one per hidden "
                              f"layer ({L}: widths {','.join(map(str, hidden))})", param="failures")
    for l, (v, n) in enumerate(zip(vals, hidden), start=1):
        if int(v) != v or not 0 <= v <= n:
            raise ValidationError(f"argument 'failures': layer {l} count {v}, expected an integer "
                                  f"in [0, {n}] (the layer's width)", param="failures")
    return np.asarray(vals, dtype=np.float64)
