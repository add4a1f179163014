"""``neurosim power``: the calibration against published measurements, and the command itself.

:func:`calibration` reports every published TrueNorth point (``truenorth_measurements.csv``)
with the whole model's prediction at that operating point — built as activity counters of the
full chip (2^20 neurons at f Hz, s synaptic events per spike, spikes sent 21.3 cores in x and y,
real time) and run through :func:`~neurosim.power.model.power` at the point's supply voltage —
the fit error over the fitted points, and the error on the held-out point. It also simulates
Merolla et al.'s 20 Hz workload as a real ChipProgram (``full_chip_program``) at 0.775 V: a check
of the simulator's counters against the analytic ones, not another fit.
"""
import numpy as np

from neurosim.errors import InputFileError, ValidationError, check_number
from neurosim.power.fit import (CHIP_CORES, CHIP_NEURONS, HELD_OUT_TOLERANCE, fit_errors,
                                fit_truenorth)
from neurosim.power.model import budget_check, power
from neurosim.power.profile import get_power_profile, truenorth_profile
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
    from neurosim.chip.synthetic import full_chip_program   # 4,096-core build: only when asked
    from neurosim.sim import simulate
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


def _print_calibration(out):
    f = out["fit"]
    print(f"truenorth fit at {f['reference_v']} V: {f['static_chip_mw']:.2f} mW whole-chip "
          f"static + {f['synaptic_event_pj']:.3f} pJ per synaptic event (hops folded in)")
    for r in out["points"]:
        if r["role"] == "unused":
            print(f"  {r['id']:<20} {r['published_mw']:>5g} mW  unused: {r['source']}")
            continue
        print(f"  {r['id']:<20} {r['supply_v']:.3f} V {r['rate_hz']:>6g} Hz  published "
              f"{r['published_mw']:>5g} mW  model {r['predicted_mw']:6.2f} mW  "
              f"{100 * r['error_rel']:+6.2f} %  [{r['role']}, {r['quality']}]")
    e, h = out["fit_error"], out["held_out"]
    print(f"  fit error: max {e['max_abs_error_mw']:.2f} mW ({100 * e['max_abs_error_rel']:.2f} "
          f"%), rms {e['rms_error_mw']:.2f} mW over {e['points']} points; held out "
          f"{h['id']}: {100 * h['error_rel']:+.2f} % (tolerance ±10 %)")
    w = out["workload"]
    if w:
        print(f"  simulated 20 Hz workload ({w['ticks']} ticks, {w['cores_powered']} cores, "
              f"{w['mean_rate_hz']:.1f} Hz, {w['synaptic_events_per_spike']:.0f} events/spike) "
              f"at {w['supply_v']} V: {w['power_mw']:.1f} mW (published 72), "
              f"{w['pj_per_synaptic_event']:.1f} pJ per synaptic event all-in (published 26)")


def _load_program_inputs(args):
    """(program, x, dataset) for ``neurosim power PROGRAM``."""
    from neurosim import data
    from neurosim.chip.program import ChipProgram
    program = ChipProgram.load(args.program)
    dataset = args.dataset or program.meta.get("model", {}).get("dataset") or "digits"
    if not args.dataset and dataset not in data.DATASETS:
        raise InputFileError(f"{args.program}: compiled for dataset {dataset!r}, not one of "
                             f"{', '.join(data.DATASETS)}; expected --dataset DATASET")
    _, _, x, _ = data.load(dataset, data_dir=args.data_dir)
    if args.limit is not None:
        x = x[:args.limit]
    if x.shape[1] != program.n_inputs:
        raise ValidationError(f"dataset '{dataset}' has {x.shape[1]} inputs; program "
                              f"{args.program} expects {program.n_inputs}")
    return program, x, dataset


def _print_program(args, profile, dataset, x, ticks, report, out):
    accounting = ("whole chip: every core leaks" if report.power_gating == "none"
                  else "powered cores only")
    supply = "" if report.supply_v is None else f", {report.supply_v:g} V"
    print(f"{args.program} on {profile.name} ({dataset}, {x.shape[0]} inputs, {ticks} ticks, "
          f"{args.mode}{supply}): {report.power_mw:.4g} mW at "
          f"{report.inference_rate_hz:.4g} inferences/s ({report.static_mw:.4g} static + "
          f"{report.dynamic_mw:.4g} dynamic), {report.energy_per_inference_uj:.4g} µJ per "
          f"inference, {report.cores_powered} cores used; static power of {report.static_cores} "
          f"cores (power_gating {report.power_gating}: {accounting})")
    print("  " + ", ".join(f"{k} {v:.4g} mW" for k, v in report.breakdown.items()))
    if args.budget_mw is not None:
        verdict = "within" if out["within_budget"] else "OVER"
        print(f"  budget {args.budget_mw:g} mW ({accounting}): {verdict}, margin "
              f"{out['margin_mw']:.4g} mW; highest inference rate that fits "
              f"{out['max_inference_rate_hz']:.4g} Hz")


def run_cli(args):
    """``neurosim power``: see cli._add_power (``--supply-v`` read when the parser has it)."""
    from neurosim.sim import simulate
    check_number(args.ticks, "--ticks", 1)
    check_number(args.limit, "--limit", 1)
    check_number(args.inference_rate, "--inference-rate", 0, low_open=True)
    check_number(args.budget_mw, "--budget-mw", 0)
    supply_v = getattr(args, "supply_v", None)
    check_number(supply_v, "--supply-v", 0, low_open=True)
    if args.calibration:
        if args.program:
            raise ValidationError("PROGRAM given with --calibration; expected one or the other")
        if args.profile not in (None, "truenorth"):
            raise ValidationError(f"--profile is {args.profile!r} with --calibration; expected "
                                  f"truenorth (the only profile fitted to measurements)")
        out = calibration(ticks=100 if args.ticks is None else args.ticks)
        if not args.json:
            _print_calibration(out)
        return out
    if not args.program:
        raise ValidationError("PROGRAM is missing; expected a program .npz from neurosim "
                              "compile (or --calibration)")
    program, x, dataset = _load_program_inputs(args)
    profile = get_power_profile(args.profile or program.profile.power_profile)
    ticks = 64 if args.ticks is None else args.ticks
    res = simulate(program, x, ticks=ticks, mode=args.mode)
    options = dict(tick_ms=program.profile.tick_ms, supply_v=supply_v)
    report = power(res.counters, profile, inference_rate_hz=args.inference_rate, **options)
    realtime = power(res.counters, profile, **options)
    out = report.to_dict()
    out.update(dataset=dataset, inputs=int(x.shape[0]), ticks=ticks, mode=args.mode,
               realtime_power_mw=realtime.power_mw,
               max_inference_rate_hz=report.realtime_rate_hz, within_budget=None,
               budget_mw=None, margin_mw=None)
    if args.budget_mw is not None:
        out.update(budget_check(report, args.budget_mw))
    if not args.json:
        _print_program(args, profile, dataset, x, ticks, report, out)
    return out
