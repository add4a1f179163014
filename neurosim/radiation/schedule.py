"""Rates over mission time: the solar cycle's windows of constant background rates, the solar
particle events of one run, and the mission means (:mod:`neurosim.radiation.timeline` samples
faults from them).

Mission year y is solar-active when (y + ``solar_cycle_phase_at_launch_years``) mod
``cycle_years`` < ``active_years`` ([spenvis]: 7 of 11). With ``cycle_model = "sunspot"`` (the
default) the rates follow the sunspot cycle month by month, λ_min + w(t)(λ_max − λ_min)
(:mod:`neurosim.radiation.solar_cycle`, [hathaway1994; hathaway2015]); with ``"steps"`` active
years use the solar-maximum rates of the physics, quiet years the solar-minimum ones.
"""
import numpy as np

from neurosim.radiation import solar_cycle
from neurosim.radiation.cosmic import sample_solar_events
from neurosim.radiation.environment import is_solar_active
from neurosim.radiation.environments import latchup_rate, mean_rates, solar_model, upset_rates

DAYS_PER_YEAR = 365.25
MONTH_DAYS = DAYS_PER_YEAR / 12  # background windows of the "sunspot" cycle model

def solar_years(values, total_days):
    """Whole mission years: (edges in days (n+1,), solar-active flag per year (n,)); year y is
    active when :func:`neurosim.radiation.environment.is_solar_active` says so for a cycle that
    started ``solar_cycle_phase_at_launch_years`` before launch."""
    return _edges(total_days, DAYS_PER_YEAR), np.array(
        [_active(values, y) for y in range(_n_windows(total_days, DAYS_PER_YEAR))], bool)


def _n_windows(total_days, length_days):
    return max(1, int(np.ceil(total_days / length_days - 1e-12)))


def _edges(total_days, length_days):
    """Window edges every ``length_days`` from 0, the last one at ``total_days``."""
    edges = np.minimum(np.arange(_n_windows(total_days, length_days) + 1) * length_days,
                       total_days)
    edges[-1] = total_days
    return edges


def _active(values, year):
    """Whether mission year ``year`` is solar-active (see :func:`solar_years`)."""
    se = values["solar_events"]
    return is_solar_active(year, -values["mission"]["solar_cycle_phase_at_launch_years"],
                           se["cycle_years"], se["active_years"])


def cycle_model(values):
    """``[solar_events] cycle_model``: "sunspot" (default) or "steps"
    (:mod:`neurosim.radiation.solar_cycle`)."""
    return values["solar_events"].get("cycle_model", solar_cycle.DEFAULT_CYCLE_MODEL)


def background_windows(values, total_days):
    """Windows of constant background rates: (edges in days (n+1,), solar-maximum weight w per
    window (n,)); a window's rate is λ_min + w (λ_max − λ_min). Steps: mission years, w = 1 in
    active years and 0 in quiet ones. Sunspot: months, w the month's mean of
    :func:`neurosim.radiation.solar_cycle.activity_weight`."""
    if cycle_model(values) != "sunspot":
        edges, active = solar_years(values, total_days)
        return edges, active.astype(np.float64)
    se = values["solar_events"]
    edges = _edges(total_days, MONTH_DAYS)
    weight = solar_cycle.mean_weights(edges / DAYS_PER_YEAR,
                                      -values["mission"]["solar_cycle_phase_at_launch_years"],
                                      se["cycle_years"], se["active_years"])
    return edges, weight


def active_share(values, total_days):
    """Share of the mission in solar-active years."""
    edges, active = solar_years(values, total_days)
    return float(np.diff(edges)[active].sum() / total_days) if total_days > 0 else 0.0


def max_weight(values, total_days):
    """Mission mean of the solar-maximum weight of the background rates (:func:`active_share`
    with steps)."""
    edges, weight = background_windows(values, total_days)
    return float(np.sum(np.diff(edges) * weight) / total_days) if total_days > 0 else 0.0


def mission_mean_rates(values, total_days):
    """Mission-average upsets/bit/day per class over ``total_days`` (solar events averaged in;
    :func:`neurosim.radiation.environments.mean_rates`)."""
    return mean_rates(values, active_share(values, total_days), max_weight(values, total_days))


def mission_latchup_rate(values, total_days):
    """Latch-ups per core per day over ``total_days``: the override or the physics weighted by
    the mission mean of the solar-maximum weight
    (:func:`neurosim.radiation.environments.latchup_rate`)."""
    return latchup_rate(values, max_weight(values, total_days))


def solar_events(values, total_days, rng):
    """The run's solar particle events: (start days, duration days, Φ₃₀ in cm⁻²), drawn by
    :func:`neurosim.radiation.cosmic.sample_solar_events` in active years, then the scheduled
    ones; events starting after the mission end are dropped."""
    se = values["solar_events"]
    years, fluence = sample_solar_events(solar_model(se), total_days / DAYS_PER_YEAR, rng,
                                         lambda y: _active(values, y))
    start = np.concatenate([years * DAYS_PER_YEAR, [e["start_day"] for e in se["scheduled"]]])
    dur = np.concatenate([np.full(years.size, se["event_duration_days"]),
                          [e["duration_days"] for e in se["scheduled"]]])
    fluence = np.concatenate([fluence, [e["fluence30_cm2"] for e in se["scheduled"]]])
    keep = start < total_days
    return start[keep], np.minimum(dur[keep], total_days - start[keep]), fluence[keep]


def upset_windows(values, total_days, rng):
    """Windows of constant upset statistics: (start (W,), length (W,), expected upsets per bit
    per class (W, 3) before ``rate_scale``, SAA share per class (W, 3)), and the event count:
    the background windows of :func:`background_windows` (rates and SAA shares interpolated
    between solar minimum and maximum by their weight), one window per solar event."""
    background, sigma30, saa_share, _ = upset_rates(values)
    edges, weight = background_windows(values, total_days)
    w = weight[:, None]
    bg = (1 - w) * np.asarray(background["min"])[None, :] + w * np.asarray(background["max"])
    saa = (1 - w) * np.asarray(saa_share["min"])[None, :] + w * np.asarray(saa_share["max"])
    start, dur, fluence = solar_events(values, total_days, rng)
    spe = fluence[:, None] * np.asarray(sigma30, np.float64)[None, :]
    lengths = np.diff(edges)
    return (np.concatenate([edges[:-1], start]), np.concatenate([lengths, dur]),
            np.concatenate([bg * lengths[:, None], spe]),
            np.concatenate([saa, np.zeros_like(spe)]), int(start.size))
