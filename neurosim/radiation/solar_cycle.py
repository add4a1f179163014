"""The solar cycle as a smooth activity weight between solar minimum and maximum.

Two models of a scenario's solar cycle (``[solar_events] cycle_model``):

- ``"steps"`` (the default): mission year y is solar-active when (y + phase) mod ``cycle_years`` <
  ``active_years`` — the 7-of-11-year convention of the statistical solar-proton models
  [spenvis; ecss-e-st-10-04c]; active years take the solar-maximum rates (AP8-MAX, GCR at
  φ = 1100 MV), quiet years the solar-minimum ones, switched at whole mission years
  (:func:`neurosim.radiation.environment.is_solar_active`).
- ``"sunspot"``: the background rates follow the sunspot cycle month by month,
  λ(t) = λ_min + w(t) (λ_max − λ_min), with w = R/R_max the cycle shape of Hathaway, Wilson and
  Reichmann [hathaway1994],

      R(x) = a x³ / (exp(x²/b²) − c),  b = 27.12 + 25.15 / (10³ a)^¼ months,  c = 0.8,

  x the months since the cycle's minimum; the cycle restarts every ``cycle_years``. Linear
  interpolation of the rates in w is an assumption: AP8 exists only as MIN and MAX, and the GCR
  modulation potential rises with the sunspot number roughly, not exactly, linearly
  [usoskin2011]. The cycle's minimum is placed so that the ``active_years`` with the highest
  mean weight are the active phase of the steps model (for 7 of 11 years and the amplitude
  below they start 1.37 years after minimum, and the maximum comes 2.85 years into them): both
  models then agree on *when* the Sun is active and the scenario's
  ``solar_cycle_phase_at_launch_years`` means the same in both. Solar particle events stay a
  Poisson process in the active years in both models (the JPL model's convention
  [feynman1993]). The values of c and b(a) are as recalled from [hathaway1994] and Hathaway's
  review of the solar cycle; they were not re-read in the session that wrote this module.

What the steps cost: over a whole cycle the mean weight is 7/11 = 0.64 with steps and 0.47 with
the sunspot shape (the active years average w ≈ 0.69, the quiet ones w ≈ 0.09), so the step
model puts the mission-average background closer to solar maximum by 0.17 (λ_max − λ_min); the
README ("Radiation physics", solar cycle) gives what that is for the shipped scenarios.
"""
from functools import lru_cache

import numpy as np

SUNSPOT_SHAPE_C = 0.8   # asymmetry of the rise and fall, fixed for all cycles [hathaway1994]
SUNSPOT_CYCLE_A = 0.002  # amplitude: R_max ≈ 118, about the size of cycle 24 (116 in April
# 2014, version-2 sunspot numbers) — assumption: only the shape matters here; through b(a) the
# maximum comes 4.22 years after minimum, 4.04–4.57 years for cycles of R_max 155–75
MONTHS_PER_YEAR = 12.0
CYCLE_MODELS = ("steps", "sunspot")


def rise_time_months(a=SUNSPOT_CYCLE_A):
    """b(a) = 27.12 + 25.15 / (10³ a)^¼ months [hathaway1994]."""
    return 27.12 + 25.15 / (1e3 * a) ** 0.25


def sunspot_number(months, a=SUNSPOT_CYCLE_A, c=SUNSPOT_SHAPE_C):
    """R(x) = a x³ / (exp(x²/b²) − c) at ``months`` x ≥ 0 since the cycle's minimum (0 before
    it) [hathaway1994]."""
    x = np.maximum(np.asarray(months, dtype=float), 0.0)
    b = rise_time_months(a)
    return a * x ** 3 / (np.exp((x / b) ** 2) - c)


@lru_cache(maxsize=8)
def _peak_and_active_start(cycle_years, active_years):
    """(R_max, years from minimum to the start of the ``active_years`` window of highest mean
    R) on a 0.01-year grid over one cycle."""
    step = 0.01
    t = np.arange(0.0, cycle_years, step)
    r = sunspot_number(t * MONTHS_PER_YEAR)
    n = int(round(active_years / step))
    wrapped = np.concatenate([r, r[:n]])          # the window may run into the next cycle
    sums = np.convolve(wrapped, np.ones(n), "valid")[:len(t)]
    return float(r.max()), float(t[int(np.argmax(sums))])


def activity_weight(t_years, first_active_year=0.0, cycle_years=11.0, active_years=7.0):
    """w(t) = R/R_max ∈ [0, 1] at mission time ``t_years`` for a cycle whose active phase (the
    ``active_years`` of highest mean R) starts at mission year ``first_active_year``."""
    r_max, start = _peak_and_active_start(float(cycle_years), float(active_years))
    since_minimum = np.mod(np.asarray(t_years, dtype=float) - first_active_year + start,
                           cycle_years)
    return sunspot_number(since_minimum * MONTHS_PER_YEAR) / r_max


def mean_weights(edges_years, first_active_year=0.0, cycle_years=11.0, active_years=7.0,
                 points=16):
    """Mean of :func:`activity_weight` over each interval of ``edges_years`` (midpoint rule with
    ``points`` points per interval; w changes by < 0.1 per month, so 16 points per month are
    exact to < 10⁻³)."""
    edges = np.asarray(edges_years, dtype=float)
    frac = (np.arange(points) + 0.5) / points
    t = edges[:-1, None] + frac[None, :] * np.diff(edges)[:, None]
    return activity_weight(t, first_active_year, cycle_years, active_years).mean(axis=1)
