"""Power and energy of a workload from its activity counters (the component model).

One inference = one input presented for T ticks of τ seconds; counts per inference from
:class:`~neurosim.sim.counters.ActivityCounters`: N enabled neurons (neuron_updates / T), S
synaptic events, K spikes, I input spikes, H hops, A = min(S, N·T) updates with input (an upper
bound). At supply V (profile reference V₀; ``scaling``: static ∝ V, dynamic ∝ V²) and accumulated
dose D (``radiation.damage.leakage_factor`` L(D))::

    static   P_s = C_s · p_core · (V/V₀) · L(D)             leakage of the charged cores
                 + N · e_idle / τ · (V/V₀)²                 every enabled neuron swept every tick
                 + latched cores · p_latch                  latch-up current until the power cycle
    dynamic  E_d = (S·e_syn + (K + I)·e_spike + H·e_hop + A·(e_active − e_idle)) · (V/V₀)²

    P(r) = P_s + r · E_d        E(r) = E_d + P_s / r        r ≤ r_rt = 1 / (T · τ)

C_s, the cores whose static power is charged, follows the profile's ``power_gating``:
``"none"`` (the default, and TrueNorth's) — every core of every chip in use, used or not, dead or
alive: chips × ``chip_cores`` − ``isolated_cores`` (cores whose power domain was switched off for
good after a destructive latch-up); ``"core"`` — only powered cores (``cores_powered``: at least
one enabled neuron), unused and dead cores gated off. The chip ticks in real time whether or not an
input is in flight, so P_s is paid at every rate, and energy per inference includes P_s / r.
"""
import math
from dataclasses import dataclass

import numpy as np

from neurosim.errors import ValidationError
from neurosim.energy.profile import get_power_profile
from neurosim.energy.scaling import dynamic_scale, static_scale
from neurosim.radiation.damage import leakage_factor

HOURS_PER_YEAR = 365.25 * 24.0
LATCHUP_FACTOR = 10.0   # assumption: a latched-up core draws 10 × its static power on top


@dataclass(frozen=True)
class PowerReport:
    """Power and energy of one workload at one inference rate (units in the names).

    breakdown (mW): leakage, neuron_updates, synaptic_events, spikes, hops, latchup; their sum is
    power_mw. static_mw = leakage + idle neuron sweep + latchup; dynamic_mw = the rest.
    power_gating says which cores' static power is charged (``static_cores`` of them, on
    ``chips`` chips); supply_v and dose_krad are the conditions, leakage_factor = L(dose).
    """

    profile: str
    power_mw: float
    static_mw: float
    dynamic_mw: float
    energy_per_inference_uj: float
    dynamic_energy_per_inference_uj: float
    inference_rate_hz: float
    realtime_rate_hz: float
    cores_powered: int
    breakdown: dict
    power_gating: str = "none"
    static_cores: int = 0
    chips: int = 1
    supply_v: float | None = None
    dose_krad: float = 0.0
    leakage_factor: float = 1.0

    def to_dict(self):
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def chips_in_use(cores_powered, chip_cores):
    """Chips a program occupies: ⌈cores_powered / chip_cores⌉, at least 1 (a chip whose cores all
    died is still powered)."""
    return max(1, math.ceil(cores_powered / chip_cores))


def static_cores(profile, cores_powered, chips=None, isolated_cores=0):
    """(cores whose static power is charged, chips): all cores of the chips but the isolated ones
    under ``power_gating = "none"``, the powered cores under ``"core"``."""
    chips = chips_in_use(cores_powered, profile.chip_cores) if chips is None else int(chips)
    if not 0 <= isolated_cores <= chips * profile.chip_cores:
        raise ValidationError(f"isolated_cores is {isolated_cores}; expected 0 to "
                              f"{chips * profile.chip_cores} (the cores of {chips} chip(s))")
    if profile.power_gating == "none":
        return chips * profile.chip_cores - int(isolated_cores), chips
    return int(cores_powered), chips


def voltage_scales(profile, supply_v):
    """(supply V, static factor, dynamic factor); V = the profile's reference when not given."""
    if supply_v is None:
        return profile.reference_voltage_v, 1.0, 1.0
    if profile.reference_voltage_v is None:
        raise ValidationError(f"supply voltage {supply_v} V: power profile '{profile.name}' has "
                              "no reference voltage; expected no argument 'supply_v' for it",
                              param="supply_v")
    low, high = profile.voltage_range_v
    if not (low <= supply_v <= high):
        raise ValidationError(f"supply voltage is {supply_v} V; expected {low}-{high} V for "
                              f"power profile '{profile.name}'")
    v0 = profile.reference_voltage_v
    return float(supply_v), static_scale(supply_v, v0), dynamic_scale(supply_v, v0)


def _dynamic_pj(counters, profile):
    """Per-inference dynamic energies (pJ at the reference voltage) and enabled neurons."""
    per = counters.per_inference()
    s, k, i = per["synaptic_events"], per["spikes"], per["input_spikes"]
    h, u = per["hops"], per["neuron_updates"]
    active = min(s, u)
    dyn_pj = {
        "synaptic_events": s * profile.synaptic_event_pj,
        "spikes": (k + i) * profile.spike_pj,
        "hops": h * profile.hop_pj,
        "neuron_updates": active * (profile.neuron_update_active_pj
                                    - profile.neuron_update_idle_pj),
    }
    return dyn_pj, u / counters.ticks


def _inference_rate(counters, tick_ms, inference_rate_hz):
    """(rate, real-time rate) in Hz; a rate above real time is refused."""
    if tick_ms <= 0:
        raise ValidationError(f"tick_ms is {tick_ms}; expected > 0")
    realtime = 1.0 / (counters.ticks * tick_ms * 1e-3)
    rate = realtime if inference_rate_hz is None else float(inference_rate_hz)
    if not (rate > 0) or rate > realtime * (1 + 1e-9):
        raise ValidationError(
            f"inference rate {rate:g} Hz: expected > 0 and at most {realtime:g} Hz (one input "
            f"every {counters.ticks} ticks of {tick_ms:g} ms, real-time ticking)")
    return rate, realtime


def power(counters, profile="truenorth", tick_ms=1.0, inference_rate_hz=None, latched_cores=0,
          latchup_mw_per_core=None, supply_v=None, dose_krad=0.0, chips=None, isolated_cores=0):
    """Power and energy of the activity in ``counters`` (see the module docstring).

    inference_rate_hz: required inferences per second (default: real time, 1 / (T·τ));
    latched_cores: cores in latch-up, each drawing ``latchup_mw_per_core`` on top (default
    ``LATCHUP_FACTOR`` × the core's static power — an assumption, not a measurement); supply_v:
    supply in volts (default the profile's reference); dose_krad: accumulated total ionising dose
    (raises leakage); chips: chips in use (default ⌈cores_powered / chip_cores⌉, at least 1);
    isolated_cores: cores switched off for good (destructive latch-up), which stop leaking.
    Returns a :class:`PowerReport`.
    """
    profile = get_power_profile(profile)
    rate, realtime = _inference_rate(counters, tick_ms, inference_rate_hz)
    volts, s_scale, d_scale = voltage_scales(profile, supply_v)
    leak = leakage_factor(dose_krad)
    core_static_mw = profile.static_mw_per_core * s_scale * leak
    if latchup_mw_per_core is None:
        latchup_mw_per_core = LATCHUP_FACTOR * core_static_mw
    if latched_cores < 0 or latchup_mw_per_core < 0:
        raise ValidationError(f"latched_cores {latched_cores}, latchup_mw_per_core "
                              f"{latchup_mw_per_core}: expected ≥ 0")
    charged, n_chips = static_cores(profile, counters.cores_powered, chips, isolated_cores)
    dyn_pj, enabled = _dynamic_pj(counters, profile)
    dyn_pj = {k: v * d_scale for k, v in dyn_pj.items()}
    tau = tick_ms * 1e-3
    sweep = enabled * profile.neuron_update_idle_pj * d_scale * 1e-9 / tau   # pJ/s → mW: × 1e-9
    breakdown = {"leakage": charged * core_static_mw,
                 "latchup": latched_cores * latchup_mw_per_core,
                 "neuron_updates": sweep + rate * dyn_pj["neuron_updates"] * 1e-9}
    for key in ("synaptic_events", "spikes", "hops"):
        breakdown[key] = rate * dyn_pj[key] * 1e-9
    static = breakdown["leakage"] + sweep + breakdown["latchup"]
    e_dyn_pj = sum(dyn_pj.values())
    dynamic = rate * e_dyn_pj * 1e-9
    total = static + dynamic
    return PowerReport(
        profile=profile.name, power_mw=total, static_mw=static, dynamic_mw=dynamic,
        energy_per_inference_uj=total / rate * 1e3, dynamic_energy_per_inference_uj=e_dyn_pj * 1e-6,
        inference_rate_hz=rate, realtime_rate_hz=realtime, cores_powered=counters.cores_powered,
        breakdown=breakdown, power_gating=profile.power_gating, static_cores=charged,
        chips=n_chips, supply_v=volts, dose_krad=float(dose_krad), leakage_factor=leak)


def max_inference_rate_hz(report, budget_mw):
    """Highest inference rate whose power fits ``budget_mw``: min(r_rt, (B − P_s) / E_d); 0 if
    the static power alone exceeds the budget."""
    if budget_mw < report.static_mw:
        return 0.0
    e_dyn_mj = report.dynamic_energy_per_inference_uj * 1e-3      # mW · s = mJ
    if e_dyn_mj <= 0:
        return report.realtime_rate_hz
    return min(report.realtime_rate_hz, (budget_mw - report.static_mw) / e_dyn_mj)


def budget_check(report, budget_mw):
    """Pass/fail of ``report`` against ``budget_mw``: within_budget, margin_mw (budget − power,
    negative when over), max_inference_rate_hz, and the static accounting the check used."""
    if not (budget_mw >= 0) or not math.isfinite(budget_mw):
        raise ValidationError(f"argument 'budget_mw' is {budget_mw}; expected a finite number "
                              f"≥ 0", param="budget_mw")
    return {"budget_mw": float(budget_mw), "within_budget": bool(report.power_mw <= budget_mw),
            "margin_mw": float(budget_mw - report.power_mw),
            "max_inference_rate_hz": max_inference_rate_hz(report, budget_mw),
            "budget_power_gating": report.power_gating}


# ------------------------------------------------------------------ mission
def checkpoint_power(counters, profile="truenorth", tick_ms=1.0, inference_rate_hz=None,
                     latched_cores=0, latchup_mw_per_core=None, supply_v=None, dose_krad=0.0,
                     chips=None, isolated_cores=0):
    """Power at one mission checkpoint: the counters of the faulty program (dead neurons and
    cores already applied), the cores in latch-up, the dose accumulated by then and the cores
    isolated after destructive latch-ups. Same arguments as :func:`power`; returns a
    :class:`PowerReport`."""
    return power(counters, profile, tick_ms=tick_ms, inference_rate_hz=inference_rate_hz,
                 latched_cores=latched_cores, latchup_mw_per_core=latchup_mw_per_core,
                 supply_v=supply_v, dose_krad=dose_krad, chips=chips,
                 isolated_cores=isolated_cores)


def checkpoint_power_mw(counters, profile="truenorth", tick_ms=1.0, inference_rate_hz=None,
                        latched_cores=0, latchup_mw_per_core=None, supply_v=None, dose_krad=0.0,
                        chips=None, isolated_cores=0):
    """:func:`checkpoint_power` → its ``power_mw`` (float)."""
    return checkpoint_power(counters, profile, tick_ms, inference_rate_hz, latched_cores,
                            latchup_mw_per_core, supply_v, dose_krad, chips,
                            isolated_cores).power_mw


def power_at_dose(counters, dose_krad, profile="truenorth", **options):
    """Power (a :class:`PowerReport`) of the activity in ``counters`` after ``dose_krad`` of total
    ionising dose: static power × L(dose) (``radiation.damage.leakage_factor``), so at fixed
    activity power rises with dose. ``options`` as :func:`power`. The mission calls it once per
    checkpoint with D(t) = Ḋ·t."""
    return power(counters, profile, dose_krad=dose_krad, **options)


def mission_energy_wh(times_years, power_mw, method="trapezoid"):
    """Total energy (Wh) of a power-vs-mission-time series.

    E = ∫ P dt with t in hours (1 year = 365.25 · 24 h) and P in W: ``trapezoid`` interpolates
    linearly between checkpoints; ``step`` holds each checkpoint's power until the next one. The
    series starts at times_years[0] (normally 0) and ends at the last checkpoint.
    """
    t = np.asarray(times_years, dtype=np.float64).ravel()
    p = np.asarray(power_mw, dtype=np.float64).ravel()
    if t.shape != p.shape or t.size == 0:
        raise ValidationError(f"mission_energy_wh: {t.size} times and {p.size} powers; expected "
                              f"the same number, at least one")
    if np.any(np.diff(t) < 0) or not np.all(np.isfinite(t)) or not np.all(np.isfinite(p)):
        raise ValidationError("mission_energy_wh: times must be finite and non-decreasing and "
                              "powers finite")
    hours = t * HOURS_PER_YEAR
    watts = p * 1e-3
    dt = np.diff(hours)
    if method == "trapezoid":
        return float(np.sum(dt * (watts[1:] + watts[:-1]) / 2.0))
    if method == "step":
        return float(np.sum(dt * watts[:-1]))
    raise ValidationError(f"method '{method}' is unknown; expected trapezoid or step")
