"""The solar cycle as a smooth activity weight between solar minimum and maximum.

Two models of a scenario's solar cycle (``[solar_events] cycle_model``):

- ``"sunspot"`` (the default): the background rates follow the sunspot cycle month by month,
  λ(t) = λ_min + w(t) (λ_max − λ_min), with w the cycle's sunspot number rescaled to [0, 1]
  between its minimum and its maximum. The cycle's shape is the function of Hathaway, Wilson and
  Reichmann [hathaway1994] with the parameters that Hathaway's review gives for the average cycle
  [hathaway2015] (§4.5 "Cycle shape", eq. 6),

      F(t) = A ((t − t₀)/b)³ / (exp(((t − t₀)/b)²) − c),   b = 56 months, c = 0.8,

  t₀ four months before the cycle's minimum (A = 195 sets only the scale, which w removes).
  Cycles follow each other every ``cycle_years`` and overlap: the sunspot number is the sum of
  the current cycle and the tail of the previous one (at 11 years F is still 10 % of its peak),
  so w(t) is continuous across cycle boundaries. Linear interpolation of the rates in w is an
  assumption: AP8 exists only as MIN and MAX, and the GCR modulation potential rises with the
  sunspot number roughly, not exactly, linearly [usoskin2011]. The cycle is placed so that the
  ``active_years`` with the highest mean weight are the active phase of the steps model: both
  models then agree on *when* the Sun is active and the scenario's
  ``solar_cycle_phase_at_launch_years`` means the same in both. Solar particle events stay a
  Poisson process in the active years in both models (the JPL model's convention [feynman1993]).
- ``"steps"``: mission year y is solar-active when (y + phase) mod ``cycle_years`` <
  ``active_years`` — the 7-of-11-year convention of the statistical solar-proton models
  [spenvis; ecss-e-st-10-04c]; active years take the solar-maximum rates (AP8-MAX, GCR at
  φ = 1100 MV), quiet years the solar-minimum ones, switched at whole mission years
  (:func:`neurosim.radiation.environment.is_solar_active`).

Where the constants come from: b, c and t₀ are the average-cycle fit quoted from [hathaway2015]
§4.5 ("The average cycle is well fit with A = 195, b = 56, c = 0.8, and t₀ = −4 months"), read in
two independent transcriptions (the review itself was not reachable from the session that made
this change). Earlier versions used c = 0.8 together with the amplitude-dependent rise time
b(a) = 27.12 + 25.15/(10³ a)^¼ months of [hathaway1994], as recalled: that relation was fitted
with the paper's own c (0.71 in the implementations that quote it), so mixing it with the
review's c = 0.8 was inconsistent; the average cycle avoids both the mix and an assumed
amplitude.

What the steps cost: over a whole cycle the mean weight is 7/11 = 0.64 with steps and 0.51 with
the sunspot shape (0.73 in the active years, 0.11 in the quiet ones); the README ("Radiation
model", solar cycle) gives what that is for the shipped scenarios.
"""
from functools import lru_cache

import numpy as np

AVERAGE_CYCLE_RISE_MONTHS = 56.0   # b of the average cycle [hathaway2015] §4.5
AVERAGE_CYCLE_ASYMMETRY = 0.8      # c of the average cycle [hathaway2015] §4.5
START_BEFORE_MINIMUM_MONTHS = 4.0  # −t₀ of the average cycle [hathaway2015] §4.5
MONTHS_PER_YEAR = 12.0
CYCLE_MODELS = ("steps", "sunspot")
DEFAULT_CYCLE_MODEL = "sunspot"


def cycle_shape(months, b=AVERAGE_CYCLE_RISE_MONTHS, c=AVERAGE_CYCLE_ASYMMETRY):
    """F = u³ / (exp(u²) − c), u = (t − t₀)/b, at ``months`` = t − t₀ since the cycle's start
    (0 before it) [hathaway1994; hathaway2015 eq. 6, unit amplitude]."""
    u = np.maximum(np.asarray(months, dtype=float), 0.0) / b
    return u ** 3 / (np.exp(u ** 2) - c)


def sunspot_number(months, cycle_years=11.0):
    """Relative sunspot number at ``months`` since the start of the current cycle (taken modulo
    the cycle length): the current cycle plus the tail of the previous one."""
    period = cycle_years * MONTHS_PER_YEAR
    x = np.mod(np.asarray(months, dtype=float), period)
    return cycle_shape(x) + cycle_shape(x + period)


@lru_cache(maxsize=8)
def _range_and_active_start(cycle_years, active_years):
    """(R_min, R_max, years from the cycle's start to the start of the ``active_years`` window of
    highest mean R) on a 0.01-year grid over one cycle."""
    step = 0.01
    t = np.arange(0.0, cycle_years, step)
    r = sunspot_number(t * MONTHS_PER_YEAR, cycle_years)
    n = int(round(active_years / step))
    wrapped = np.concatenate([r, r[:n]])          # the window may run into the next cycle
    sums = np.convolve(wrapped, np.ones(n), "valid")[:len(t)]
    return float(r.min()), float(r.max()), float(t[int(np.argmax(sums))])


def activity_weight(t_years, first_active_year=0.0, cycle_years=11.0, active_years=7.0):
    """w(t) = (R − R_min)/(R_max − R_min) ∈ [0, 1] at mission time ``t_years`` for a cycle whose
    active phase (the ``active_years`` of highest mean R) starts at mission year
    ``first_active_year``."""
    r_min, r_max, start = _range_and_active_start(float(cycle_years), float(active_years))
    since_start = np.asarray(t_years, dtype=float) - first_active_year + start
    r = sunspot_number(since_start * MONTHS_PER_YEAR, cycle_years)
    return np.clip((r - r_min) / (r_max - r_min), 0.0, 1.0)


def mean_weights(edges_years, first_active_year=0.0, cycle_years=11.0, active_years=7.0,
                 points=16):
    """Mean of :func:`activity_weight` over each interval of ``edges_years`` (midpoint rule with
    ``points`` points per interval; w changes by < 0.1 per month, so 16 points per month are
    exact to < 10⁻³)."""
    edges = np.asarray(edges_years, dtype=float)
    frac = (np.arange(points) + 0.5) / points
    t = edges[:-1, None] + frac[None, :] * np.diff(edges)[:, None]
    return activity_weight(t, first_active_year, cycle_years, active_years).mean(axis=1)
