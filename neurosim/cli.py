"""The ``neurosim`` command: argparse sub-commands, each a thin call into the library.

Conventions (DESIGN.md): every sub-command has ``--help``; ``--json`` prints exactly one JSON
object on stdout; exit 0 on success, 2 on bad input with a one-line message and no traceback.

Each sub-command is a pair of functions in this file: ``_add_NAME(subparsers)`` declares its
arguments and ``_run_NAME(args) -> dict`` does the work and returns the result object that
``--json`` prints (the human-readable text is printed by the run function itself when not --json).
Register a new command by adding its name to ``COMMANDS``.
"""
import argparse
import json
import sys

from neurosim.errors import NeurosimError


def _json_flag(p):
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")


# ---------------------------------------------------------------- bench
def _add_bench(sub):
    p = sub.add_parser("bench", help="side-by-side benchmarks (simulator, mission, bounds)",
                       description="Run a benchmark and its yardstick in one run; report ratios.")
    p.add_argument("what", choices=["sim", "bounds"], help="which benchmark")
    p.add_argument("--batch", type=int, default=None, help="inputs per batch (default: 64 and 1)")
    p.add_argument("--ticks", type=int, default=None, help="ticks per input")
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    _json_flag(p)


def _run_bench(args):
    if args.what == "bounds":
        from neurosim import bounds
        return bounds.bench_bounds(quick=args.quick, verbose=not args.json)
    from neurosim import bench
    return bench.run(args.what, batch=args.batch, ticks=args.ticks, quick=args.quick,
                     verbose=not args.json)


# ---------------------------------------------------------------- bound
def _add_bound(sub):
    p = sub.add_parser(
        "bound", help="Erf/Fep bounds of a trained MLP against Monte Carlo crash simulation",
        description="Compare the robustness bounds of El Mhamdi et al. (Fep: worst case; Erf: "
                    "average-case estimate; first-order Taylor estimate) with the output error "
                    "‖F_fail − F‖∞ observed by Monte Carlo crash injection on a dataset's test "
                    "set. With --study, reproduce one of the papers' studies (plots + CSV).")
    p.add_argument("model", nargs="?", help="MLP .npz file (not needed with --study)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--fail-prob", type=float, default=None, metavar="P",
                   help="crash probability of each hidden neuron, in [0, 1]")
    g.add_argument("--failures", default=None, metavar="F1,F2,...",
                   help="crashed neurons per hidden layer (one count per layer; one with --layer)")
    p.add_argument("--layer", type=int, default=None, metavar="L",
                   help="only hidden layer L fails (1 = first hidden layer)")
    p.add_argument("--samples", type=int, default=200, help="Monte Carlo crash samples (200)")
    p.add_argument("--dataset", default=None,
                   help="evaluation inputs (test split); default: the model's provenance "
                        "dataset, else digits")
    p.add_argument("--C", dest="C", type=float, default=None,
                   help="bound on hidden outputs (default: 1 for sigmoid/clipped_relu; for relu "
                        "the largest hidden activation on the evaluation set)")
    p.add_argument("--seed", type=int, default=0, help="seed of the Monte Carlo crash draws")
    p.add_argument("--study", default=None,
                   choices=["random", "lipschitz", "depth", "weights", "mnist-like", "all"],
                   help="run a study instead: writes PNG plots and CSV to --out")
    p.add_argument("--out", default=None, help="output directory of --study (bound_study_NAME)")
    p.add_argument("--quick", action="store_true", help="smaller --study, for a smoke test")
    _json_flag(p)


def _run_bound(args):
    from neurosim import bounds
    return bounds.run_cli(args)


COMMANDS = ["bench", "bound"]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="neurosim",
        description="Neuromorphic-chip simulator with radiation fault injection, power model "
                    "and robustness bounds.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        globals()[f"_add_{name}"](sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = globals()[f"_run_{args.command.replace('-', '_')}"](args)
    except NeurosimError as exc:
        print(f"neurosim {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"neurosim {args.command}: interrupted", file=sys.stderr)
        return 130
    if getattr(args, "json", False):
        print(json.dumps(result, indent=2, sort_keys=True, default=_jsonable))
    return 0


def _jsonable(obj):
    import numpy as np
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
