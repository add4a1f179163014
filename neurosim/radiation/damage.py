"""Permanent damage and power-domain events as the chip suffers them: per core and per chip.

TrueNorth updates the 256 neurons of a core with one time-multiplexed neuron circuit and keeps
their parameters and state in the core's SRAM (Akopyan et al., IEEE TCAD 34(10), 2015). Total
ionising dose (TID) degrades the transistors of that circuit and memory, so TID fails a *core*
(or the chip's shared routing, scheduling and clocking, failing the *chip*), never one neuron at a
time, and raises leakage before it does. A single-event latch-up draws current on a *power
domain*; detection cycles the domain's power and reloads it, which clears every upset in the
domain and costs the inferences lost during the reboot. This module holds those models; the
timeline and the mission call them (see README "Permanent damage").

Leakage versus dose (28 nm bulk high-k metal-gate CMOS)::

    L(D) = 1 + (L_ref − 1) · D / D_ref          L_ref = 10^2.5 at D_ref = 1 Grad(Si)

The anchor is measured: isolated nMOSFETs of a commercial 28 nm HKMG bulk process show an
off-current 2–3 orders of magnitude higher after 1 Grad ("Total Ionizing Dose effects on a 28 nm
Hi-K metal-gate CMOS technology up to 1 Grad", EPFL Infoscience record 227861; L_ref = 10^2.5, the
geometric middle). The linear path from 0 to the anchor, and chip static power following the
nMOSFET off-current, are **assumptions** (the measured curve is not linear, and pMOSFETs degrade
differently). At mission doses (tens of krad) it gives a rise of order 1 %.

Failure dose of a core and of the chip (log-normal, shared die factor)::

    ln D_die  = ln D_median + σ_die · z_die                  one draw per chip
    ln D_core = ln D_die + σ_core · z_core                   one draw per core
    ln D_chip = ln D_die + σ_core · z_chip                   the chip's shared logic

D_median = 35 krad(Si): the failure dose of commercial microcontrollers, 33–37 krad
[mcu-tid2020] (secondary), the figure the shipped scenarios use; no TID test of TrueNorth or of its 28 nm process was
found, so this is a stand-in. σ_die = 0.3 (as the shipped scenarios: assumption) and σ_core = 0.1
(cores of one die are far more alike than dies: assumption).
"""
import math
from dataclasses import dataclass

import numpy as np

from neurosim.errors import ValidationError

DAYS_PER_YEAR = 365.25
LEAKAGE_REFERENCE_DOSE_KRAD = 1.0e6       # 1 Grad(Si): the anchor dose (EPFL record 227861)
LEAKAGE_AT_REFERENCE_DOSE = 10 ** 2.5     # ×316: middle of the measured 2–3 decades
_LEAKAGE_SLOPE_PER_KRAD = (LEAKAGE_AT_REFERENCE_DOSE - 1.0) / LEAKAGE_REFERENCE_DOSE_KRAD


def leakage_factor(dose_krad):
    """L(D) = 1 + (L_ref − 1)·D/D_ref: the factor on static power after ``dose_krad`` krad(Si)
    (module docstring; linear form an assumption). Accepts a scalar or an array."""
    if isinstance(dose_krad, (int, float)):           # the per-checkpoint path: no numpy
        if not (math.isfinite(dose_krad) and dose_krad >= 0):
            raise ValidationError(f"dose_krad is {dose_krad}; expected a finite number ≥ 0 "
                                  f"(krad)")
        return 1.0 + _LEAKAGE_SLOPE_PER_KRAD * dose_krad
    dose = np.asarray(dose_krad, dtype=np.float64)
    if not (np.isfinite(dose).all() and (dose >= 0).all()):
        raise ValidationError(f"dose_krad is {dose_krad}; expected a finite number ≥ 0 (krad)")
    factor = 1.0 + _LEAKAGE_SLOPE_PER_KRAD * dose
    return float(factor) if factor.ndim == 0 else factor


def dose_krad_at(time_days, dose_rate_rad_per_year):
    """Accumulated dose D(t) = Ḋ·t in krad(Si) at ``time_days`` (scalar or array)."""
    return np.asarray(time_days, np.float64) * dose_rate_rad_per_year / DAYS_PER_YEAR * 1e-3


# ------------------------------------------------------------------ failure doses
@dataclass(frozen=True)
class FailureDoseModel:
    """Log-normal failure dose of a core and of the chip's shared logic (module docstring)."""

    median_krad: float = 35.0
    die_log_sd: float = 0.3
    core_log_sd: float = 0.1
    source: str = ("median 35 krad: commercial MCUs fail at 33-37 krad ([mcu-tid2020], secondary), a "
                   "stand-in (no TrueNorth or 28 nm TID failure data found); σ_die 0.3 and "
                   "σ_core 0.1: assumptions")

    def __post_init__(self):
        if not self.median_krad > 0 or self.die_log_sd < 0 or self.core_log_sd < 0:
            raise ValidationError(f"FailureDoseModel: median_krad {self.median_krad}, die_log_sd "
                                  f"{self.die_log_sd}, core_log_sd {self.core_log_sd}; expected "
                                  f"median > 0 and σ ≥ 0")


@dataclass(frozen=True)
class FailureDoses:
    """Sampled failure doses (krad): ``core_krad[c]`` per core, ``chip_krad[k]`` per chip;
    ``chip_of_core[c]`` names the chip of each core."""

    core_krad: np.ndarray
    chip_krad: np.ndarray
    chip_of_core: np.ndarray

    def failure_days(self, dose_rate_rad_per_year):
        """(core_days, chip_days): when each core and chip fails at a constant dose rate (inf at
        rate 0); a core also stops when its chip does."""
        if dose_rate_rad_per_year <= 0:
            inf = np.inf
            return np.full(self.core_krad.shape, inf), np.full(self.chip_krad.shape, inf)
        per_day = dose_rate_rad_per_year / DAYS_PER_YEAR * 1e-3
        chip_days = self.chip_krad / per_day
        core_days = np.minimum(self.core_krad / per_day, chip_days[self.chip_of_core])
        return core_days, chip_days


def failure_probability(dose_krad, model):
    """Probability that one core (or one chip's shared logic) has failed by ``dose_krad``:
    Φ(ln(D / D_median) / √(σ_die² + σ_core²)) — the marginal over dies of the model above. The
    knife edge of a mission is here: at 35 krad and σ ≈ 0.32, 15 years at 1,000 / 2,000 / 2,500
    rad/yr give 0.4 % / 31 % / 59 %."""
    sd = math.hypot(model.die_log_sd, model.core_log_sd)
    if dose_krad <= 0:
        return 0.0
    if sd == 0:
        return float(dose_krad >= model.median_krad)
    z = math.log(dose_krad / model.median_krad) / sd
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def sample_failure_doses(chip_of_core, model, rng):
    """One run's failure doses for cores on chips ``chip_of_core`` (int array, chip index per
    core) under ``model`` (:class:`FailureDoseModel`), drawn with ``rng``."""
    chip_of_core = np.asarray(chip_of_core, np.int64)
    chips = int(chip_of_core.max()) + 1 if chip_of_core.size else 1
    ln_die = np.log(model.median_krad) + model.die_log_sd * rng.standard_normal(chips)
    core = np.exp(ln_die[chip_of_core] + model.core_log_sd * rng.standard_normal(
        chip_of_core.size))
    chip = np.exp(ln_die + model.core_log_sd * rng.standard_normal(chips))
    return FailureDoses(core_krad=core, chip_krad=chip, chip_of_core=chip_of_core)


# ------------------------------------------------------------------ power domains
def domain_map(n_cores, domain="chip", cores_per_chip=4096):
    """The power domain of each core: ``"chip"`` (one domain per chip of ``cores_per_chip``),
    ``"core"`` (each core its own) or an int k (groups of k consecutive cores)."""
    cores = np.arange(n_cores)
    if domain == "chip":
        return cores // cores_per_chip
    if domain == "core":
        return cores
    if isinstance(domain, int) and not isinstance(domain, bool) and domain >= 1:
        return cores // domain
    raise ValidationError(f"power domain is {domain!r}; expected 'chip', 'core' or a group size "
                          f"≥ 1")


def _first_event_after(times, owners, event_times, event_owners):
    """For each (time, owner), the first event time of the same owner at or after ``time``
    (inf if none)."""
    times = np.asarray(times, np.float64)
    owners = np.asarray(owners, np.int64)
    out = np.full(times.shape, np.inf)
    event_times = np.asarray(event_times, np.float64)
    event_owners = np.asarray(event_owners, np.int64)
    for owner in np.unique(event_owners):
        mine = np.sort(event_times[event_owners == owner])
        sel = owners == owner
        idx = np.searchsorted(mine, times[sel], side="left")
        out[sel] = np.where(idx < mine.size, mine[np.minimum(idx, mine.size - 1)], np.inf)
    return out


def upsets_cleared_at(upset_days, upset_cores, cycle_days, cycle_domains, domain_of_core):
    """When each upset is cleared by a power cycle: the first cycle of the upset's power domain at
    or after the upset (inf if none). A cycle powers the whole domain down and reloads its program
    from the golden copy, so *every* upset of every core in the domain goes — not only those of
    the core that latched. ``domain_of_core`` from :func:`domain_map`."""
    domain_of_core = np.asarray(domain_of_core, np.int64)
    return _first_event_after(upset_days, domain_of_core[np.asarray(upset_cores, np.int64)],
                              cycle_days, cycle_domains)


def cores_killed_at(destructive_days, destructive_domains, domain_of_core):
    """Death time of each core from destructive latch-ups: the first destructive event of its
    domain (inf if none) — a destructive latch-up burns the domain's supply, so all its cores go
    (spares elsewhere can take over)."""
    domain_of_core = np.asarray(domain_of_core, np.int64)
    return _first_event_after(np.zeros(domain_of_core.size), domain_of_core, destructive_days,
                              destructive_domains)


# ------------------------------------------------------------------ events on power domains
CORE_SRAM_BITS = 256 * 410              # Merolla et al. 2014: a core's SRAM, 256 rows × 410 bits
CONFIG_SECONDS_PER_BYTE = 800e-9        # one bit per 10 MHz scan-chain cycle (assumption)


def reload_days(cores):
    """Time to reload ``cores`` cores after a power cycle, in days: their SRAM (256 × 410 bits
    each, Merolla et al. 2014) shifted in at 800 ns per byte — one bit per cycle of a 10 MHz scan
    chain (Akopyan et al. 2015 gives the 10 MHz configuration clock, as transcribed: secondary;
    one serial chain is an assumption, so this is an upper bound). A whole chip: ≈ 43 s."""
    return cores * CORE_SRAM_BITS / 8 * CONFIG_SECONDS_PER_BYTE / 86400.0


@dataclass(frozen=True)
class DomainEventModel:
    """Rates and outcomes of latch-up on power domains and of functional interrupts (SEFI) of the
    chip's router and scheduler. No rate has a default: no published latch-up or SEFI rate of
    TrueNorth was found, so a scenario must state (and source) its own."""

    latchup_rate_per_domain_day: float
    destructive_fraction: float
    sefi_rate_per_chip_day: float
    sefi_reset_days: float = 1.0 / 86400.0     # assumption: a router/scheduler reset takes 1 s

    def __post_init__(self):
        rates = (self.latchup_rate_per_domain_day, self.sefi_rate_per_chip_day,
                 self.sefi_reset_days)
        if min(rates) < 0 or not 0 <= self.destructive_fraction <= 1:
            raise ValidationError(f"DomainEventModel: rates {rates} and destructive_fraction "
                                  f"{self.destructive_fraction}; expected rates ≥ 0 and a "
                                  f"fraction in [0, 1]")


@dataclass(frozen=True)
class DomainEvents:
    """One run's sampled events (days): latch-ups (time, domain, destructive) and SEFIs (time,
    chip)."""

    latchup_days: np.ndarray
    latchup_domains: np.ndarray
    destructive: np.ndarray
    sefi_days: np.ndarray
    sefi_chips: np.ndarray


def sample_domain_events(n_domains, n_chips, mission_days, model, rng):
    """Poisson latch-ups per domain and SEFIs per chip over ``mission_days``, times uniform, each
    latch-up destructive with probability ``model.destructive_fraction``; sorted by time."""
    n_lu = rng.poisson(model.latchup_rate_per_domain_day * mission_days, n_domains)
    lu_dom = np.repeat(np.arange(n_domains), n_lu)
    lu_t = rng.random(lu_dom.size) * mission_days
    destructive = rng.random(lu_dom.size) < model.destructive_fraction
    n_sefi = rng.poisson(model.sefi_rate_per_chip_day * mission_days, n_chips)
    sefi_chip = np.repeat(np.arange(n_chips), n_sefi)
    sefi_t = rng.random(sefi_chip.size) * mission_days
    lu_order, sefi_order = np.argsort(lu_t, kind="stable"), np.argsort(sefi_t, kind="stable")
    return DomainEvents(lu_t[lu_order], lu_dom[lu_order], destructive[lu_order],
                        sefi_t[sefi_order], sefi_chip[sefi_order])


def chip_availability(events, domain_of_core, model, mission_days):
    """Share of the mission a one-chip system answers: every recoverable latch-up takes its
    domain down for :func:`reload_days` of its cores (the chip's answer needs every domain), every
    SEFI for ``model.sefi_reset_days``; overlapping outages merged."""
    domain_of_core = np.asarray(domain_of_core, np.int64)
    cores_in = np.bincount(domain_of_core)
    recoverable = ~events.destructive
    intervals = [(t, t + reload_days(cores_in[d])) for t, d in
                 zip(events.latchup_days[recoverable], events.latchup_domains[recoverable])]
    intervals += [(t, t + model.sefi_reset_days) for t in events.sefi_days]
    return 1.0 - _lost_days(intervals, mission_days) / mission_days


# ------------------------------------------------------------------ availability
def _merge(intervals):
    """Sorted, merged [start, end) intervals."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [tuple(m) for m in merged]


def _lost_days(intervals, mission_days):
    """Time inside [0, mission_days] covered by the union of ``intervals``."""
    return sum(max(0.0, min(e, mission_days) - max(s, 0.0)) for s, e in _merge(intervals))


def outage_intervals(event_days, downtime_days):
    """Merged [start, end) outages of length ``downtime_days`` after each event (days), sorted."""
    return _merge((float(t), float(t) + downtime_days) for t in event_days)


def availability(event_days, downtime_days, mission_days):
    """Share of [0, mission_days] the chip answers: 1 − (merged outage time inside the mission) /
    mission_days. Events are latch-up power cycles and functional-interrupt resets, each taking
    ``downtime_days`` to detect, reboot and reload (a scalar)."""
    if not mission_days > 0 or downtime_days < 0:
        raise ValidationError(f"availability: mission_days {mission_days}, downtime_days "
                              f"{downtime_days}; expected mission_days > 0 and downtime ≥ 0")
    lost = _lost_days(outage_intervals(event_days, downtime_days), mission_days)
    return 1.0 - lost / mission_days
