"""The calibration against published measurements (``neurosim power --calibration``).

:func:`calibration` reports every published TrueNorth point (``truenorth_measurements.csv``)
with the whole model's prediction at that operating point — built as activity counters of the
full chip (2^20 neurons at f Hz, s synaptic events per spike, spikes sent 21.3 cores in x and y,
real time) and run through :func:`~neurosim.energy.model.power` at the point's supply voltage —
the fit error over the fitted points, and the error on the held-out point. It also simulates
Merolla et al.'s 20 Hz workload as a real ChipProgram (``full_chip_program``) at 0.775 V: a check
of the simulator's counters against the analytic ones, not another fit.
"""
import numpy as np

from neurosim.chip.synthetic import full_chip_program
from neurosim.energy.fit import (CHIP_CORES, CHIP_NEURONS, HELD_OUT_TOLERANCE, fit_errors,
                                fit_truenorth)
from neurosim.energy.model import power
from neurosim.energy.profile import truenorth_profile
from neurosim.errors import ValidationError
from neurosim.sim import simulate
from neurosim.sim.counters import ActivityCounters

HOPS_PER_SPIKE = 2 * (64 ** 2 - 1) / (3 * 64)   # uniform random destination on 64 × 64, x and y
WORKLOAD_RATE_HZ = 20.0                          # Merolla et al. 2014's operating point
WORKLOAD_SYNAPSES = 128
WORKLOAD_SUPPLY_V = 0.775


def full_chip_counters(rate_hz, synapses_per_neuron, ticks=1000):
    """ActivityCounters of one second-long inference of the whole chip at a published point."""
    spikes = CHIP_NEURONS * rate_hz * ticks / 1000.0
    return ActivityCounters(
        ticks=ticks, batch=1, spikes=spikes, synaptic_events=spikes * synapses_per_neuron,
        neuron_updates=float(CHIP_NEURONS * ticks), hops=spikes * HOPS_PER_SPIKE,
        input_spikes=0.0, cores_powered=CHIP_CORES, core_spikes=np.zeros(0),
        core_events=np.zeros(0))


def published_points(fit=None):
    """fit_errors rows with ``model_mw`` — the whole model's power at each point — and
    ``model_error_rel`` (equal to the regression's up to rounding: a check that the profile
    carries the fit)."""
    fit = fit_truenorth() if fit is None else fit
    profile = truenorth_profile(fit)
    rows = fit_errors(fit)
    for row in rows:
        row["model_mw"] = row["model_error_rel"] = None
        if row["role"] != "unused":
            counters = full_chip_counters(row["rate_hz"], row["synapses_per_neuron"])
            mw = power(counters, profile, supply_v=row["supply_v"]).power_mw
            row["model_mw"] = mw
            row["model_error_rel"] = mw / row["published_mw"] - 1.0
    return rows


def _summary(rows):
    fitted = [r for r in rows if r["role"] == "fit"]
    held = [r for r in rows if r["role"] == "held_out"]
    errors = np.array([r["error_mw"] for r in fitted])
    return ({"points": len(fitted), "max_abs_error_mw": float(np.abs(errors).max()),
             "rms_error_mw": float(np.sqrt(np.mean(errors ** 2))),
             "max_abs_error_rel": float(max(abs(r["error_rel"]) for r in fitted)),
             "all_within_tolerance": all(r["within_tolerance"] for r in fitted)},
            {k: held[0][k] for k in ("id", "published_mw", "predicted_mw", "error_mw",
                                     "error_rel", "within_tolerance", "source")}
            | {"tolerance_rel": HELD_OUT_TOLERANCE})


def simulated_workload(profile, ticks=100, backend="core", seed=0):
    """Merolla et al.'s 20 Hz, 128-synapse operating point as a real ChipProgram, simulated for
    ``ticks`` on ``backend`` and priced at 0.775 V: power_mw and pj_per_synaptic_event (all-in
    = P / event rate), with the measured rate, events per spike and hops per spike."""
    if ticks < 1:
        raise ValidationError(f"ticks is {ticks}; expected at least 1")
    program = full_chip_program("truenorth", rate_hz=WORKLOAD_RATE_HZ,
                                synapses_per_neuron=WORKLOAD_SYNAPSES, seed=seed)
    c = simulate(program, np.zeros((1, 0), np.float32), ticks=ticks, backend=backend).counters
    report = power(c, profile, tick_ms=program.profile.tick_ms, supply_v=WORKLOAD_SUPPLY_V)
    seconds = c.ticks * program.profile.tick_ms * 1e-3
    return {"power_mw": report.power_mw, "target_power_mw": 72.0,
            "pj_per_synaptic_event": report.power_mw * 1e-3 * seconds / c.synaptic_events * 1e12,
            "target_pj_per_synaptic_event": 26.0, "supply_v": WORKLOAD_SUPPLY_V,
            "static_mw": report.static_mw, "dynamic_mw": report.dynamic_mw,
            "breakdown": report.breakdown, "ticks": ticks, "cores_powered": c.cores_powered,
            "mean_rate_hz": c.spikes / (c.neuron_updates * program.profile.tick_ms * 1e-3),
            "synaptic_events_per_spike": c.synaptic_events / max(c.spikes, 1),
            "mean_hops_per_spike": c.hops / max(c.spikes, 1)}


def calibration(ticks=100, simulate_workload=True):
    """The published points, the fit, its error and the held-out error (module docstring); with
    ``simulate_workload`` also the simulated 20 Hz full-chip workload (about 10 s)."""
    fit = fit_truenorth()
    profile = truenorth_profile(fit)
    rows = published_points(fit)
    fit_error, held_out = _summary(rows)
    out = {"profile": profile.name, "power_gating": profile.power_gating,
           "fit": {"static_chip_mw": fit.static_chip_mw,
                   "synaptic_event_pj": fit.synaptic_event_pj,
                   "reference_v": fit.reference_v,
                   "method": "ordinary least squares in mW over the role=fit points: "
                             "P = P_s·(V/V0) + e_syn·events/s·(V/V0)^2",
                   "hops": "folded into synaptic_event_pj (no hop, spike or neuron-update "
                           "energy charged on top)"},
           "points": rows, "fit_error": fit_error, "held_out": held_out, "workload": None}
    if simulate_workload:
        out["workload"] = simulated_workload(profile, ticks=ticks)
    return out
