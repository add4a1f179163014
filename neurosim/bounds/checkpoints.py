"""Erf and Fep against the error observed at mission checkpoints, compared like with like.

Erf estimates the expected output error over random crash sets with given dead counts per level;
Fep bounds the error of every such set. A mission checkpoint speaks to them only when its *only*
faults are dead neurons or cores (*crash-only*); upsets, stuck bits and routing faults are outside
the bounds' model and are counted separately, never mixed into the comparison.
:func:`compare_checkpoints` groups the crash-only checkpoints with at least one dead chip neuron
into bins of identical dead counts per level (the chip-level model's levels,
:mod:`neurosim.bounds.chip`), so each bin's mean observed error is an estimate of exactly the
expectation Erf speaks of, and states where the bounds say nothing: a rate error is at most 1, so
Erf ≥ 1 or Fep ≥ 1 is *vacuous*.
"""
from __future__ import annotations

import math

import numpy as np

from neurosim.errors import ValidationError

MAX_RATE_ERROR = 1.0   # output rates lie in [0, 1]
Z95 = 1.96             # normal-approximation 95 % interval of a mean
TIGHT_RATIO = 10.0     # "tight": Erf within this factor of the observed mean error


def compare_checkpoints(model, dead_counts, error_mean, crash_only, *, error_max=None,
                        max_error=MAX_RATE_ERROR) -> dict:
    """The bound comparison of a mission's run-checkpoints.

    ``model``: the program's :class:`~neurosim.bounds.chip.ChipBoundModel`; ``dead_counts``
    (n, G): dead chip neurons per level of each run-checkpoint (``model.dead_counts``);
    ``error_mean`` (n,): mean over the evaluation inputs of ‖Δr_out‖∞; ``crash_only`` (n,): the
    checkpoint's only faults are dead neurons/cores; ``error_max`` (n,), optional: max over the
    inputs, checked against Fep (which must hold for every checkpoint).

    Returns a dict: ``checkpoints`` (crash-only with ≥ 1 dead neuron), ``outside_model`` (with
    upsets, stuck bits or routing faults), ``no_dead`` (crash-only, nothing dead); per-checkpoint
    shares ``erf_informative`` and ``fep_informative`` (bound < ``max_error``); ``fep_held``
    (share of checkpoints with error_max ≤ Fep, None without ``error_max``); ``bins``: one dict
    per distinct dead-count vector — dead_counts, dead_fraction (all levels), n, observed_mean,
    observed_ci95 (mean ± 1.96 s/√n; None for n < 2), erf, fep, ratio (erf / observed_mean, None
    when nothing was observed), held (observed_mean ≤ erf), vacuous (erf ≥ max_error),
    fep_vacuous; ``erf_held_bins`` (share of the non-vacuous bins where Erf held; None when there
    are none); ``tight`` (the dead fractions of the bins where Erf held within a factor 10 of the
    observed error); ``headline``.
    """
    counts, err, crash, err_max = _check(model, dead_counts, error_mean, crash_only, error_max)
    any_dead = counts.sum(axis=1) > 0
    sel = crash & any_dead
    erf, fep = model.bounds(counts[sel]) if sel.any() else (np.zeros(0), np.zeros(0))
    bins = _bins(counts[sel], err[sel], erf, fep, model.level_sizes.sum(), max_error)
    informative = [b for b in bins if not b["vacuous"]]
    held = sum(b["held"] for b in informative)
    out = {
        "checkpoints": int(sel.sum()), "outside_model": int((~crash).sum()),
        "no_dead": int((crash & ~any_dead).sum()),
        "erf_informative": _share(erf < max_error), "fep_informative": _share(fep < max_error),
        "fep_held": None if err_max is None else _share(err_max[sel] <= fep * (1 + 1e-9)),
        "bins": bins, "erf_held_bins": held / len(informative) if informative else None,
        "max_error": max_error, "levels": list(model.level_names),
        "tight": _tight(informative),
    }
    out["headline"] = headline(out)
    return out


def headline(comparison) -> str:
    """One honest sentence: how often Erf said something, and how often it held when it did."""
    n = comparison["checkpoints"]
    outside = comparison["outside_model"]
    tail = (f"; {outside} checkpoints with upsets, stuck bits or routing faults are outside the "
            f"bounds' model" if outside else "")
    if n == 0:
        return "no crash-only checkpoint with dead neurons: nothing to compare the bounds with" \
            + tail
    share = 100 * comparison["erf_informative"]
    if comparison["erf_held_bins"] is None:
        return (f"Erf informative on 0 % of {n} crash-only checkpoints (Erf ≥ "
                f"{comparison['max_error']:g}, the largest possible error, on all): the bound "
                f"says nothing here" + tail)
    informative = [b for b in comparison["bins"] if not b["vacuous"]]
    held = sum(b["held"] for b in informative)
    return (f"Erf informative on {share:.0f} % of {n} crash-only checkpoints; held on "
            f"{100 * comparison['erf_held_bins']:.0f} % of bins ({held} of {len(informative)} "
            f"non-vacuous bins)" + tail)


def _check(model, dead_counts, error_mean, crash_only, error_max):
    counts = np.asarray(dead_counts)
    G = len(model.level_sizes)
    if counts.ndim != 2 or counts.shape[1] != G:
        raise ValidationError(f"argument 'dead_counts': shape {counts.shape}, expected (n, {G}) "
                              f"(one count per level: {', '.join(model.level_names)})",
                              param="dead_counts")
    n = counts.shape[0]
    arrays = []
    for name, value in (("error_mean", error_mean), ("crash_only", crash_only),
                        ("error_max", error_max)):
        if value is None:
            arrays.append(None)
            continue
        a = np.asarray(value)
        if a.shape != (n,):
            raise ValidationError(f"argument '{name}': shape {a.shape}, expected ({n},) (one per "
                                  f"row of dead_counts)", param=name)
        arrays.append(a.astype(bool) if name == "crash_only" else a.astype(np.float64))
    return (counts, *arrays)


def _share(mask):
    return float(np.mean(mask)) if np.size(mask) else None


def _bins(counts, err, erf, fep, n_nodes, max_error):
    """One row per distinct dead-count vector, in order of total dead, then counts."""
    if counts.shape[0] == 0:
        return []
    keys, inverse = np.unique(counts, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    order = np.lexsort(tuple(keys.T[::-1]) + (keys.sum(axis=1),))  # total dead first
    rows = []
    for b in order.tolist():
        idx = np.nonzero(inverse == b)[0]
        e = err[idx]
        mean = float(e.mean())
        half = Z95 * float(e.std(ddof=1)) / math.sqrt(idx.size) if idx.size > 1 else None
        bound = float(erf[idx[0]])
        rows.append({
            "dead_counts": keys[b].tolist(), "dead_fraction": float(keys[b].sum() / n_nodes),
            "n": int(idx.size), "observed_mean": mean,
            "observed_ci95": None if half is None else [mean - half, mean + half],
            "erf": bound, "fep": float(fep[idx[0]]),
            "ratio": bound / mean if mean > 0 else None, "held": bool(mean <= bound),
            "vacuous": bool(bound >= max_error), "fep_vacuous": bool(fep[idx[0]] >= max_error),
        })
    return rows


def _tight(bins):
    """Dead fractions of the bins where Erf held within TIGHT_RATIO of the observed mean."""
    fr = [b["dead_fraction"] for b in bins
          if b["held"] and b["ratio"] is not None and b["ratio"] <= TIGHT_RATIO]
    return {"ratio": TIGHT_RATIO, "bins": len(fr),
            "dead_fraction_min": min(fr) if fr else None,
            "dead_fraction_max": max(fr) if fr else None}
