"""``neurosim mission``: a Monte Carlo radiation mission (the work is
:func:`neurosim.mission.run_cli` until the mission package's command code moves here)."""
from neurosim import mission
from neurosim.cli.common import add_json_flag


def add_arguments(sub):
    p = sub.add_parser(
        "mission", help="Monte Carlo radiation mission: accuracy, errors, faults, power over years",
        description="Run a mission scenario (TOML; see README 'Scenario files'): sample each "
                    "run's radiation fault timeline, evaluate the compiled network at every "
                    "checkpoint, and write summary.json, checkpoints.csv, runs.npz, the "
                    "resolved scenario and report.html to the output directory; print the "
                    "headline table (final accuracy p5/p50/p95, reliability, dead neurons, "
                    "power, Erf safe) and the report's path. Ctrl-C (exit 130) or SIGTERM "
                    "(exit 143) keeps the finished batches and prints the --resume command.")
    p.add_argument("scenario", nargs="?", default=None,
                   help="scenario file (default: the shipped scenarios/leo_10y.toml)")
    p.add_argument("--runs", type=int, default=None, help="Monte Carlo runs (default: [run] runs)")
    p.add_argument("--out", default=None,
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
                   help="fly this MLP .npz instead of the scenario's [run] model (e.g. "
                        "models/digits_nest.npz), to compare models on the same scenario")
    p.add_argument("--chip", choices=["truenorth", "ideal"], default=None,
                   help="chip profile instead of the scenario's [run] profile")
    p.add_argument("--no-report", action="store_true",
                   help="do not write report.html (build it later with `neurosim report DIR`)")
    add_json_flag(p)


def run(args):
    """Run the mission; the summary (with its report's path) is the --json object."""
    return mission.run_cli(args)
