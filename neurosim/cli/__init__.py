"""The ``neurosim`` command: the parser, the command table, ``--json`` printing and exit codes.

Conventions (DESIGN.md): every command has ``--help``; ``--json`` prints exactly one JSON object
on stdout; exit 0 on success, 2 on bad input (a :class:`~neurosim.errors.NeurosimError`: one line
on stderr, no traceback), 130 on Ctrl-C. A library error that names a parameter
(``argument 'fail_prob'``, ``param="fail_prob"``) is shown with the running command's flag for it
(``--fail-prob``), found from the parser's own arguments (:func:`neurosim.cli.common.flag_names`).

One module per command group; each command is a pair ``(add_arguments(subparsers),
run(args) -> dict)`` in :data:`COMMANDS`, in pipeline order (the order ``--help`` lists them).
``run`` prints the text output itself (unless ``--json``) and returns the ``--json`` object.
Add a command by writing its pair and adding it to the table.
"""
import argparse
import sys
import warnings

from neurosim import __version__
from neurosim.cli import bench, bound, compile, environment, export, mission, power, report, train
from neurosim.cli.common import error_message, print_json
from neurosim.errors import NeurosimError, NeurosimWarning

COMMANDS = {
    "train": (train.add_train, train.train_command),
    "info": (train.add_info, train.info_command),
    "compile": (compile.add_compile, compile.compile_command),
    "run": (compile.add_run, compile.run_command),
    "export": (export.add_arguments, export.run),
    "power": (power.add_arguments, power.run),
    "bound": (bound.add_arguments, bound.run),
    "environment": (environment.add_arguments, environment.run),
    "mission": (mission.add_arguments, mission.run),
    "report": (report.add_report, report.report_command),
    "compare": (report.add_compare, report.compare_command),
    "bench": (bench.add_arguments, bench.run),
}

PIPELINE = ("dataset → train → MLP (or an imported NIR / ONNX model) → compile → chip program → "
            "run (simulate) → export (NIR) → power; "
            "bound (robustness bounds); environment (orbit → radiation rates); "
            "mission (radiation over years) → report, compare")


def build_parser():
    """The ``neurosim`` parser with one sub-command per :data:`COMMANDS` entry, in its order."""
    return _parser_and_commands()[0]


def _parser_and_commands():
    """(parser, {command name: its sub-parser})."""
    parser = argparse.ArgumentParser(
        prog="neurosim",
        description="Neuromorphic-chip simulator with radiation fault injection, power model "
                    "and robustness bounds.",
        epilog=f"Pipeline: {PIPELINE}. `neurosim COMMAND --help` explains a command.")
    parser.add_argument("--version", action="version", version=f"neurosim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_arguments, _ in COMMANDS.values():
        add_arguments(sub)
    return parser, sub.choices


def main(argv=None):
    """Run one command; returns the exit code (0 ok, 2 bad input, 130 interrupted)."""
    parser, commands = _parser_and_commands()
    args = parser.parse_args(argv)
    _, run = COMMANDS[args.command]
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning(args.command)
            result = run(args)
    except NeurosimError as exc:
        message = error_message(exc, commands[args.command])
        print(f"neurosim {args.command}: error: {message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"neurosim {args.command}: interrupted", file=sys.stderr)
        return 130
    if args.json:
        print_json(result)
    return 0


def _one_line_warning(command):
    """A ``warnings.showwarning`` that prints a :class:`NeurosimWarning` as one stderr line,
    ``neurosim COMMAND: warning: MESSAGE``, and any other warning the usual way."""
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, NeurosimWarning):
            print(f"neurosim {command}: warning: {message}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)
    return show
