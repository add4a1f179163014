"""``neurosim power``: chip power and energy per inference of a compiled program, or the
calibration against published TrueNorth measurements."""
from neurosim import energy as power
from neurosim.chip.program import ChipProgram
from neurosim.cli.common import DATASET_HELP, add_json_flag, evaluation_set
from neurosim.errors import ValidationError, check_number
from neurosim.sim import simulate


def add_arguments(sub):
    p = sub.add_parser(
        "power", help="chip power and energy per inference of a compiled program",
        description="Simulate a compiled program on a dataset's test inputs and turn its activity "
                    "(synaptic events, neuron updates, spikes, hops, powered cores) into power "
                    "(mW) at an inference rate, energy per inference (µJ) and a breakdown by "
                    "component; check a power budget. --calibration runs Merolla et al.'s "
                    "full-chip operating point instead (72 mW, 26 pJ per synaptic event).")
    p.add_argument("program", nargs="?", help="program .npz from neurosim compile")
    p.add_argument("--calibration", action="store_true",
                   help="run the full-chip calibration workload instead of PROGRAM")
    p.add_argument("--dataset", default=None,
                   help=f"test inputs that drive the program: {DATASET_HELP} (default: the "
                        f"program's dataset)")
    p.add_argument("--data-dir", default=None, help="directory of IDX files (mnist, fashion-mnist)")
    p.add_argument("--limit", type=int, default=None, help="first N test inputs only")
    p.add_argument("--inference-rate", type=float, default=None, metavar="HZ",
                   help="required inferences per second (default: real time, 1000/ticks)")
    p.add_argument("--ticks", type=int, default=None,
                   help="ticks per input (default 64; 100 with --calibration)")
    p.add_argument("--mode", default="spiking", choices=["spiking", "rate"])
    p.add_argument("--profile", default=None, metavar="P|FILE.toml",
                   help="power profile: truenorth, loihi or a TOML file (default: the chip's)")
    p.add_argument("--budget-mw", type=float, default=None, metavar="B",
                   help="power budget: pass/fail, margin and the highest rate that fits")
    p.add_argument("--supply-v", type=float, default=None, metavar="V",
                   help="supply voltage in volts, within the profile's range (default: its "
                        "reference voltage; static power ∝ V, dynamic ∝ V²)")
    add_json_flag(p)


def run(args):
    """The calibration report (--calibration) or the program's power report; the --json object."""
    check_number(args.ticks, "--ticks", 1)
    check_number(args.limit, "--limit", 1)
    check_number(args.inference_rate, "--inference-rate", 0, low_open=True)
    check_number(args.budget_mw, "--budget-mw", 0)
    check_number(args.supply_v, "--supply-v", 0, low_open=True)
    if args.calibration:
        if args.program:
            raise ValidationError("PROGRAM given with --calibration; expected one or the other")
        if args.profile not in (None, "truenorth"):
            raise ValidationError(f"--profile is {args.profile!r} with --calibration; expected "
                                  f"truenorth (the only profile fitted to measurements)")
        out = power.calibration(ticks=100 if args.ticks is None else args.ticks)
        if not args.json:
            _print_calibration(out)
        return out
    if not args.program:
        raise ValidationError("PROGRAM is missing; expected a program .npz from neurosim "
                              "compile (or --calibration)")
    return _program_power(args)


def _program_power(args):
    program = ChipProgram.load(args.program)
    x, _, dataset = evaluation_set(args.program, program.n_inputs, args.dataset,
                                   recorded=program.meta.get("model", {}).get("dataset"),
                                   recorded_as="compiled for dataset", data_dir=args.data_dir,
                                   limit=args.limit)
    profile = power.get_power_profile(args.profile or program.profile.power_profile)
    ticks = 64 if args.ticks is None else args.ticks
    res = simulate(program, x, ticks=ticks, mode=args.mode)
    options = dict(tick_ms=program.profile.tick_ms, supply_v=args.supply_v)
    report = power.power(res.counters, profile, inference_rate_hz=args.inference_rate, **options)
    realtime = power.power(res.counters, profile, **options)
    out = report.to_dict()
    out.update(dataset=dataset, inputs=int(x.shape[0]), ticks=ticks, mode=args.mode,
               realtime_power_mw=realtime.power_mw,
               max_inference_rate_hz=report.realtime_rate_hz, within_budget=None,
               budget_mw=None, margin_mw=None)
    if args.budget_mw is not None:
        out.update(power.budget_check(report, args.budget_mw))
    if not args.json:
        _print_program(args, profile, report, out)
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


def _print_program(args, profile, report, out):
    accounting = ("whole chip: every core leaks" if report.power_gating == "none"
                  else "powered cores only")
    supply = "" if report.supply_v is None else f", {report.supply_v:g} V"
    print(f"{args.program} on {profile.name} ({out['dataset']}, {out['inputs']} inputs, "
          f"{out['ticks']} ticks, {args.mode}{supply}): {report.power_mw:.4g} mW at "
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
