"""The headline numbers of a mission's results: what ``neurosim mission`` prints, the report's
cards and ``neurosim report --json`` (one function, so the terminal and the report agree)."""
import math

import numpy as np

from neurosim.mission.results import Z95


def wilson_interval(share, n, z=Z95):
    """The Wilson score interval (lo, hi) of a binomial proportion: ``share`` of ``n`` Bernoulli
    trials (Monte Carlo runs meeting the requirement).

    With p̂ = share: centre (p̂ + z²/2n)/(1 + z²/n), half-width
    z/(1 + z²/n)·√(p̂(1 − p̂)/n + z²/4n²) (Wilson 1927, JASA 22:209; Agresti & Coull 1998,
    Am. Stat. 52:119 recommend it over the normal interval for small n and shares near 0 or 1).
    For a share averaged over checkpoints, each run contributes the fraction of checkpoints it
    meets, whose variance is at most p(1 − p): the interval is then conservative.
    (None, None) when ``share`` or ``n`` is missing."""
    if not _finite(share) or not n or int(n) < 1:
        return None, None
    p, n = min(1.0, max(0.0, float(share))), int(n)
    d = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z / d * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _finite(v):
    """True for a finite number (not None, not NaN/inf, not a string)."""
    try:
        return v is not None and not isinstance(v, str) and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _last(a):
    return None if a is None or not len(a) else float(a[-1])


def _first(a):
    return None if a is None or not len(a) else float(a[0])


def erf_violations(erf, obs):
    """Checkpoints where the observed mean error exceeds Erf, among those where Erf > 0. Where
    Erf = 0 no neuron is dead: any error there comes from upsets or stuck bits, which are outside
    the bound's model, so it is shown apart and not counted."""
    erf, obs = np.asarray(erf, float), np.asarray(obs, float)
    ok = np.isfinite(erf) & np.isfinite(obs) & (erf > 0)
    return ok & (obs > erf)


def power_series(res):
    """(p5, p50, p95) of power in mW over the checkpoints (p5/p95 may be None)."""
    lo, mid, hi = res.percentile_series("power_mw")
    if mid is None:
        mid = res.get("power_mw")
    return lo, mid, hi


def inference_rate_hz(res):
    """The inference rate the power figures are for: [run] inference_rate_hz, or real time
    (one input every `ticks` ticks of 1 ms) when it is 0 or absent; None if unknown."""
    v = res.s("inference_rate_hz")
    if v is None:
        v = res.sc("run.inference_rate_hz")
    if v:
        return float(v)
    ticks = res.sc("run.ticks")
    if ticks:
        return 1000.0 / float(ticks)
    return None


def share_ci95(share, runs):
    """[lo, hi] of the Wilson 95 % interval of a share of ``runs`` runs (JSON-ready), or None."""
    lo, hi = wilson_interval(share, runs)
    return None if lo is None else [lo, hi]


def headline(res):
    """The headline numbers of a :class:`MissionResults` as a dict: what ``neurosim mission``
    prints, the report's cards and the ``--json`` output of ``neurosim report``.

    ``bounds_headline`` is the sentence of the bound comparison (summary ``bounds``,
    :func:`neurosim.bounds.compare_checkpoints`): how often Erf was informative on crash-only
    checkpoints and how often it held — never a bare yes. ``erf_violated_checkpoints`` counts the
    checkpoints whose mean observed error exceeds the mean Erf where Erf > 0 (all faults mixed;
    kept for results without the comparison)."""
    lo, mid, hi = res.percentile_series("accuracy")
    acc = {"p05": res.s("final_accuracy_p05"), "p50": res.s("final_accuracy_p50"),
           "p95": res.s("final_accuracy_p95")}
    for k, a in (("p05", lo), ("p50", mid), ("p95", hi)):
        if acc[k] is None:
            acc[k] = _last(a)
    rel = res.s("reliability_final")
    if rel is None:
        rel = _last(res.get("reliability"))
    runs = res.n_runs()
    dead = res.s("dead_neurons_final_mean")
    if dead is None:
        dead = _last(res.get("dead_neurons_mean"))
    _, p_mid, _ = power_series(res)
    p_start = res.s("power_mw_initial")
    p_end = res.s("power_mw_final_mean")
    p_start = _first(p_mid) if p_start is None else p_start
    p_end = _last(p_mid) if p_end is None else p_end
    energy = res.s("energy_per_inference_uj")
    energy_derived = False
    rate = inference_rate_hz(res)
    if energy is None and _finite(p_start) and rate:
        energy = float(p_start) / rate * 1e3          # mW / Hz = mJ per inference → µJ
        energy_derived = True
    erf = res.get("erf_mean")
    obs = res.get("observed_error_mean")
    violated = None
    if erf is not None and obs is not None and np.isfinite(erf).any():
        violated = int(erf_violations(erf, obs).sum())
    pairs = res.s("bound_violations")
    comparison = res.s("bounds")
    comparison = comparison if isinstance(comparison, dict) else None
    return {
        "scenario": res.name,
        "final_accuracy_p05": acc["p05"], "final_accuracy_p50": acc["p50"],
        "final_accuracy_p95": acc["p95"], "baseline_accuracy": res.baseline_accuracy(),
        "reliability_final": rel, "reliability_final_ci95": share_ci95(rel, runs), "runs": runs,
        "dead_neurons_final_mean": dead,
        "dead_cores_final_mean": res.s("dead_cores_final_mean"),
        "availability_mean": res.s("availability_mean"),
        "power_mw_initial": p_start, "power_mw_final": p_end,
        "energy_per_inference_uj": energy, "energy_per_inference_derived": energy_derived,
        "inference_rate_hz": rate, "mission_energy_wh": res.s("mission_energy_wh_mean"),
        "erf_violated_checkpoints": violated,
        "bounds_headline": comparison.get("headline") if comparison else None,
        "erf_informative": comparison.get("erf_informative") if comparison else None,
        "erf_held_bins": comparison.get("erf_held_bins") if comparison else None,
        "bound_violations_run_checkpoints": pairs if isinstance(pairs, int) else None,
        "bound_violations_crash_only": res.s("bound_violations_crash_only"),
        "requirement": res.requirement(), "budget_mw": res.budget_mw(),
        "reliability_note": reliability_note(res.baseline_accuracy(), res.requirement()),
    }


def reliability_note(baseline, requirement):
    """What a final reliability cannot say, or None: a fault-free chip already below the accuracy
    requirement makes every run fail it whatever the radiation does (a 0 % that says nothing
    about the faults)."""
    if requirement is None or not _finite(baseline) or float(baseline) >= requirement:
        return None
    return (f"the fault-free chip ({float(baseline):.1%}) is already below the requirement "
            f"({requirement:.0%}): this share says nothing about the faults")
