"""``neurosim mission``: run a mission scenario, write its report, print the headline table."""
import os
import shlex

from neurosim import resources
from neurosim.cli.common import add_json_flag
from neurosim.errors import InputFileError, ValidationError
from neurosim.mission import MissionStopped, run_mission, sweep
from neurosim.mission import scenario as scn
from neurosim.mission.headline import headline
from neurosim.mission.results import MissionResults
from neurosim.report import write_report
from neurosim.report.fmt import ci_text, num, pct, power_text


def add_arguments(sub):
    """Declare ``neurosim mission`` and its flags on the sub-command parsers ``sub``."""
    p = sub.add_parser(
        "mission", help="Monte Carlo radiation mission: accuracy, errors, faults, power over years",
        description="Run a mission scenario (TOML; see README 'Scenario files'): sample each "
                    "run's radiation fault timeline, evaluate the compiled network at every "
                    "checkpoint, and write summary.json, checkpoints.csv, runs.npz, the "
                    "resolved scenario and report.html to the output directory; print the "
                    "headline table (final accuracy p5/p50/p95, reliability, dead neurons, "
                    "power, the bounds against the observed error) and the report's path. "
                    "Ctrl-C (exit 130) or SIGTERM "
                    "(exit 143) keeps the finished batches and prints the --resume command.")
    p.add_argument("scenario", nargs="?", default=None,
                   help="scenario file (default: the shipped scenarios/leo_10y.toml)")
    p.add_argument("--runs", type=int, default=None, help="Monte Carlo runs (default: [run] runs)")
    p.add_argument("--out", dest="out_dir", default=None,
                   help="output directory (default: ./neurosim-results/<scenario>-<timestamp>/)")
    p.add_argument("--executor", choices=["local", "dask"], default=None,
                   help="local process pool (default) or Dask")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="join the Dask scheduler at ADDR instead of starting a LocalCluster")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes, ≥ 1 (default and 0: all cores)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted mission in --out (or the latest unfinished "
                        "one); starts it when there is nothing to continue; on a finished one "
                        "writes a missing report.html")
    p.add_argument("--force", action="store_true",
                   help="run above the work limits (checkpoint evaluations, memory, expected "
                        "faults per run) and overwrite a finished or unfinished mission in --out")
    p.add_argument("--model", default=None, metavar="PATH",
                   help="fly this model instead of the scenario's [run] model: an MLP .npz "
                        "(e.g. models/digits_nest.npz), a NIR graph or an ONNX model (read by "
                        "content), to compare models on the same scenario")
    p.add_argument("--chip", choices=["truenorth", "ideal"], default=None,
                   help="chip profile instead of the scenario's [run] profile")
    p.add_argument("--no-report", action="store_true",
                   help="do not write report.html (build it later with `neurosim report DIR`)")
    p.add_argument("--sweep", dest="spec", default=None, metavar="KEY=V1,V2,...",
                   help="sensitivity study: run the scenario once per value of one scenario key "
                        "(e.g. dose.dose_rate_rad_per_year=1000,1500,2000) into OUT/KEY=V/ and "
                        "write OUT/sweep.csv and OUT/sweep.png (the headline against the value)")
    add_json_flag(p)


def load_scenario(path=None, runs=None, model=None, chip=None, workers=None):
    """The scenario at ``path`` (default: the shipped leo_10y) with command-line overrides:
    ``runs`` ([run] runs), ``model`` ([run] model; a path that exists from the current directory
    is made absolute) and ``chip`` ([run] profile); ``workers`` (--workers) is only checked here,
    before the scenario is read."""
    path = path or resources.resolve(scn.DEFAULT_SCENARIO, "scenarios")
    if not os.path.exists(path):
        path = resources.resolve(path, "scenarios")
    if runs is not None and (not isinstance(runs, int) or runs < 1):
        raise ValidationError(f"--runs {runs}: expected an integer ≥ 1")
    if workers is not None and (not isinstance(workers, int) or workers < 0):
        raise ValidationError(f"--workers {workers}: expected an integer ≥ 1 (0: all cores)")
    overrides = {}
    if runs is not None:
        overrides["run.runs"] = runs
    if model is not None:
        found = model if os.path.exists(model) else resources.resolve(model, "models")
        if not os.path.isfile(found):
            raise InputFileError(f"--model {model}: no such file (expected an MLP .npz, a NIR "
                                 "graph or an ONNX model, e.g. models/digits_nest.npz)")
        overrides["run.model"] = os.path.abspath(found)
    if chip is not None:
        overrides["run.profile"] = chip
    return scn.load(path, overrides or None)


def command_line(args):
    """The ``neurosim mission`` command equivalent to the parsed ``args`` (for the provenance)."""
    parts = ["neurosim", "mission"] + ([args.scenario] if args.scenario else [])
    for opt, flag in (("runs", "--runs"), ("out_dir", "--out"), ("executor", "--executor"),
                      ("scheduler", "--scheduler"), ("workers", "--workers"),
                      ("model", "--model"), ("chip", "--chip")):
        v = getattr(args, opt, None)
        if v is not None:
            parts += [flag, str(v)]
    for flag in ("resume", "force", "no_report", "json"):
        if getattr(args, flag, False):
            parts.append("--" + flag.replace("_", "-"))
    return shlex.join(parts)


def resume_command(command_line, out_dir, scenario_path):
    """The command that continues this mission: ``command_line`` (or ``neurosim mission
    SCENARIO``) with ``--out out_dir --resume`` and without --force."""
    parts = shlex.split(command_line) if command_line else ["neurosim", "mission", scenario_path]
    kept, skip = [], False
    for p in parts:
        if skip:
            skip = False
        elif p == "--out":
            skip = True
        elif p not in ("--resume", "--force") and not p.startswith("--out="):
            kept.append(p)
    return shlex.join(kept + ["--out", out_dir, "--resume"])


def terminal_table(h, summary, report_path=None):
    """The short table ``neurosim mission`` prints, from
    :func:`neurosim.mission.headline.headline` (the numbers of the report's headline cards, so the
    terminal and the report agree)."""
    req = h["requirement"]
    ci = ci_text(*(h["reliability_final_ci95"] or (None, None)))
    rows = [
        ("final accuracy p5 / p50 / p95",
         f"{pct(h['final_accuracy_p05'])} / {pct(h['final_accuracy_p50'])} / "
         f"{pct(h['final_accuracy_p95'])}  (fault-free {pct(h['baseline_accuracy'])})"),
        (f"final reliability (accuracy >= {pct(req, 0)})" if req is not None
         else "final reliability",
         f"{pct(h['reliability_final'])} of {h['runs']} runs at the end"
         + (f" ({ci})" if ci else "")
         + (f"; {h['reliability_note']}" if h.get("reliability_note") else "")),
        ("dead neurons", f"{num(h['dead_neurons_final_mean'])} at the end (mean over runs)"
                         + (f"; dead cores {num(h['dead_cores_final_mean'])}"
                            if h.get("dead_cores_final_mean") is not None else "")),
        ("availability", "– (not recorded)" if h.get("availability_mean") is None else
         f"{h['availability_mean']:.6%} of the mission (latch-up reloads, SEFI resets)"),
        ("power", f"{power_text(h['power_mw_initial'])} at launch, "
                  f"{power_text(h['power_mw_final'])} at the end; "
                  f"{num(h['energy_per_inference_uj'])} µJ per inference"
                  + (f"; budget {power_text(h['budget_mw'])}" if h["budget_mw"] is not None
                     else "")),
        ("bounds", h["bounds_headline"] or "– (bounds not recorded)"),
    ]
    if report_path:
        rows.append(("report", report_path))
    width = max(len(k) for k, _ in rows)
    head = (f"mission {summary['scenario']}: {os.path.basename(str(summary.get('model')))} on "
            f"{summary.get('chip')} ({summary.get('cores')} cores), {summary['runs']} runs x "
            f"{summary['checkpoints']} checkpoints over {summary['duration_years']:g} years in "
            f"{summary['seconds']:.1f} s")
    return "\n".join([head] + [f"  {k:<{width}}  {v}" for k, v in rows])


def _sweep(args, scenario):
    """``--sweep``: :func:`neurosim.mission.sweep.sweep` of the loaded scenario's file with the
    command line's run, model and chip; prints one line per grid value; the --json object."""
    key, grid = sweep.parse_grid(args.spec)
    run = scenario.values["run"]
    out_dir = args.out_dir or os.path.join("neurosim-results", f"{scenario.name}-sweep")
    out = sweep.sweep(scenario.path, key, grid, out_dir, workers=args.workers,
                      progress=not args.json, overrides={"run.runs": run["runs"],
                                                         "run.model": run["model"],
                                                         "run.profile": run["profile"]})
    if not args.json:
        for row in out["rows"]:
            print(f"  {key} = {row[key]:g}: final accuracy p50 {pct(row['final_accuracy_p50'])}, "
                  f"reliability {pct(row['reliability_final'])}, dead cores "
                  f"{num(row['dead_cores_final_mean'])}, availability "
                  f"{pct(row['availability_mean'])}")
        print(f"  {out['csv']}\n  {out['figure']}")
    return out


def run(args):
    """``neurosim mission``: see :func:`add_arguments`. Runs the mission, writes report.html into the
    results directory (unless --no-report) and prints the headline table (or, with --json, the
    summary with a ``report`` key)."""
    scenario = load_scenario(args.scenario, args.runs, getattr(args, "model", None),
                             getattr(args, "chip", None), args.workers)
    if getattr(args, "spec", None):
        return _sweep(args, scenario)
    line = command_line(args)
    try:
        summary = run_mission(scenario, out_dir=args.out_dir, executor=args.executor,
                              workers=args.workers, scheduler=args.scheduler,
                              resume=args.resume, progress=not args.json, command_line=line,
                              force=getattr(args, "force", False))
    except MissionStopped as exc:     # stopped: continue with this command, not a Python call
        if exc.out_dir is None:
            raise
        raise exc.continue_with(resume_command(line, exc.out_dir, scenario.path)) from None
    # a resumed finished mission whose report a kill cut short gets it now
    report = None if getattr(args, "no_report", False) else write_report(summary["out_dir"])
    summary = dict(summary, report=report)
    if not args.json:
        h = headline(MissionResults(summary["out_dir"]))
        print(terminal_table(h, summary, report))
        if report is None:
            print(f"  results: {summary['out_dir']}")
    return summary


