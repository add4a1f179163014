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
    p.add_argument("what", choices=["sim"], help="which benchmark")
    p.add_argument("--batch", type=int, default=None, help="inputs per batch (default: 64 and 1)")
    p.add_argument("--ticks", type=int, default=None, help="ticks per input")
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    _json_flag(p)


def _run_bench(args):
    from neurosim import bench
    return bench.run(args.what, batch=args.batch, ticks=args.ticks, quick=args.quick,
                     verbose=not args.json)


COMMANDS = ["bench"]


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
