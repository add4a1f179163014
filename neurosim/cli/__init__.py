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
import os
import sys

from neurosim.errors import NeurosimError


def _json_flag(p):
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")


# ---------------------------------------------------------------- bench
def _add_bench(sub):
    p = sub.add_parser("bench", help="side-by-side benchmarks (simulator, mission, bounds)",
                       description="Run a benchmark and its yardstick in one run; report ratios.")
    p.add_argument("what", choices=["sim", "bounds", "mission"], help="which benchmark")
    p.add_argument("--batch", type=int, default=None, help="inputs per batch (default: 64 and 1)")
    p.add_argument("--ticks", type=int, default=None, help="ticks per input")
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    _json_flag(p)


def _run_bench(args):
    if args.what == "bounds":
        from neurosim.bounds import command
        return command.bench_bounds(quick=args.quick, verbose=not args.json)
    from neurosim import bench
    return bench.run(args.what, batch=args.batch, ticks=args.ticks, quick=args.quick,
                     verbose=not args.json)


# ---------------------------------------------------------------- bound
def _add_bound(sub):
    p = sub.add_parser(
        "bound", help="Erf/Fep bounds of an MLP or compiled program against Monte Carlo crashes",
        description="Compare the robustness bounds of El Mhamdi et al. (Fep: worst case; Erf: "
                    "average-case estimate; first-order Taylor estimate) with the output error "
                    "‖F_fail − F‖∞ observed by Monte Carlo crash injection on a dataset's test "
                    "set. A compiled ChipProgram .npz is evaluated in rate mode (C = 1, errors "
                    "on output rates; MLP units crash with all their copies). With --study, "
                    "reproduce one of the papers' studies (plots + CSV).")
    p.add_argument("model", nargs="?", metavar="MODEL_OR_PROGRAM",
                   help="MLP .npz or compiled ChipProgram .npz (not needed with --study)")
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
                        "dataset, else digits (always digits for a program)")
    p.add_argument("--inputs", default=None, metavar="grid:K|FILE.npy",
                   help="evaluation inputs instead of --dataset: grid:K is K points per input "
                        "dimension on [0, 1]^n (at most 100,000 points in all), FILE.npy an "
                        "array (B, n) of input rates in [0, 1]")
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
    from neurosim.bounds import command
    return command.run_cli(args)


# ---------------------------------------------------------------- train
def _add_train(sub):
    p = sub.add_parser(
        "train", help="train an MLP (dense, sparse momentum or NeST) and save it as .npz",
        description="Train an MLP on a dataset and save it. Either give --dataset/--hidden/"
                    "--method (and options), or --recipe FILE.toml (see models/*.toml), which "
                    "reproduces a shipped model bit for bit.")
    p.add_argument("--recipe", help="TOML recipe (dataset, method, hidden and options)")
    p.add_argument("--dataset", help="digits, mnist, fashion-mnist or synthetic")
    p.add_argument("--hidden", help="hidden layer sizes, e.g. 128,64 (NeST: the seed sizes)")
    p.add_argument("--method", help="dense, sparse-momentum or nest")
    p.add_argument("--density", type=float, help="sparse momentum: fraction of weights kept")
    p.add_argument("--max-fan-in", type=int, help="no neuron gets more than N inputs")
    p.add_argument("--epochs", type=int, help="training epochs")
    p.add_argument("--batch-size", type=int,
                   help="minibatch size (default 32; recipe key batch_size)")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--data-dir", help="directory of the IDX files (default $NEUROSIM_DATA)")
    p.add_argument("-o", "--output", required=True, help="output model .npz")
    _json_flag(p)


def _run_train(args):
    from neurosim import train
    from neurosim.errors import ValidationError
    from neurosim.fileio import check_output_file
    check_output_file(args.output, "-o")  # before training: a bad path costs a line, not a run
    if args.recipe:
        for flag in ("dataset", "hidden", "method"):
            if getattr(args, flag) is not None:
                raise ValidationError(f"--{flag}: given with --recipe, expected one or the other")
        dataset, method, hidden, options = train.load_recipe(args.recipe)
    else:
        for flag in ("dataset", "hidden", "method"):
            if getattr(args, flag) is None:
                raise ValidationError(f"--{flag}: missing, expected it (or --recipe FILE)")
        dataset, method = args.dataset, args.method
        hidden = train.parse_hidden(args.hidden)
        options = train.Options()
    for flag in ("density", "max_fan_in", "epochs", "batch_size", "seed"):
        if getattr(args, flag) is not None:
            setattr(options, flag, getattr(args, flag))
    options.validate(where="arguments")
    mlp, summary = train.run(dataset, method, hidden, options, data_dir=args.data_dir,
                             progress=not args.json, recipe=args.recipe)
    mlp.save(args.output)
    summary["output"] = args.output
    if not args.json:
        print(f"{method} on {dataset}: sizes {'-'.join(map(str, summary['sizes']))}, "
              f"test accuracy {summary['test_accuracy']:.4f}, {summary['params']} weights "
              f"(density {summary['density']:.4f}, max fan-in {summary['max_fan_in']}), "
              f"{summary['seconds']:.1f} s -> {args.output}")
    return summary


# ---------------------------------------------------------------- info
def _add_info(sub):
    p = sub.add_parser("info", help="print a model's per-layer statistics",
                       description="Per layer: inputs, outputs, nonzero weights, density, largest "
                                   "fan-in, max and mean |w|; plus activation and provenance.")
    p.add_argument("model", help="model .npz (written by neurosim train)")
    _json_flag(p)


def _run_info(args):
    from neurosim.mlp import MLP
    mlp = MLP.load(args.model)
    result = {"sizes": mlp.sizes, "activation": mlp.activation, "steepness": mlp.steepness,
              "lipschitz": mlp.lipschitz, "params": mlp.n_params, "neurons": mlp.n_hidden,
              "layers": mlp.layer_stats(), "provenance": mlp.provenance}
    if not args.json:
        print(f"{args.model}: sizes {'-'.join(map(str, mlp.sizes))}, {mlp.activation} "
              f"(K = {mlp.steepness:g}), {mlp.n_params} nonzero weights")
        print("layer  n_in  n_out  nonzero  density  max_fan_in  max|w|    mean|w|")
        for i, st in enumerate(result["layers"]):
            print(f"{i:5d} {st['n_in']:5d} {st['n_out']:6d} {st['nonzero']:8d} "
                  f"{st['density']:8.4f} {st['max_fan_in']:11d}  {st['max_abs_w']:.4f}    "
                  f"{st['mean_abs_w']:.4f}")
        acc = mlp.provenance.get("test_accuracy")
        if acc is not None:  # provenance is free-form JSON: show what is there, as it is
            shown = f"{acc:.4f}" if isinstance(acc, (int, float)) else repr(acc)
            print(f"provenance: {mlp.provenance.get('method')} on {mlp.provenance.get('dataset')}"
                  f", test accuracy {shown}")
    return result


# ---------------------------------------------------------------- compile
def _add_compile(sub):
    p = sub.add_parser(
        "compile", help="compile a trained MLP (or NIR graph) into a placed chip program",
        description="Normalise, quantise, encode weights on axon types, split into cores (fan-out "
                    "copies, relay pairs for wide fan-in), place on the grid; print the report.")
    p.add_argument("model", help="MLP .npz (from neurosim train) or NIR graph (.nir)")
    p.add_argument("--chip", default="truenorth", choices=["truenorth", "ideal"],
                   help="chip profile (default truenorth)")
    p.add_argument("--weight-encoding", default="bitplane", choices=["trinary", "bitplane"],
                   help="weights on typed axons (ignored by ideal: one weight per synapse)")
    p.add_argument("--bits", type=int, default=4, help="bitplane bits, 2..4 (default 4)")
    p.add_argument("--calibration", default=None, metavar="DATASET",
                   help="dataset whose training inputs calibrate the scales (default: the "
                        "model's dataset)")
    p.add_argument("--percentile", type=float, default=99.9,
                   help="activation percentile that maps to rate 1 (default 99.9)")
    p.add_argument("--blocked", default=None, metavar="R,C;R,C",
                   help="grid cores placement must avoid")
    p.add_argument("--no-relays", action="store_true",
                   help="refuse fan-in beyond one core instead of splitting into relay pairs")
    p.add_argument("--seed", type=int, default=0, help="seed of calibration sampling and placement")
    p.add_argument("-o", "--output", required=True, help="program .npz to write")
    _json_flag(p)


def _run_compile(args):
    from neurosim.compiler.commands import compile_command
    return compile_command(args)


# ---------------------------------------------------------------- run
def _add_run(sub):
    p = sub.add_parser("run", help="run a compiled program on a dataset's test inputs",
                       description="Simulate a chip program (spiking or rate mode) and report "
                                   "accuracy and activity.")
    p.add_argument("program", help="program .npz from neurosim compile")
    p.add_argument("--dataset", required=True, help="digits, mnist, fashion-mnist or synthetic")
    p.add_argument("--data-dir", default=None, help="directory of IDX files (mnist, fashion-mnist)")
    p.add_argument("--mode", default="spiking", choices=["spiking", "rate"])
    p.add_argument("--ticks", type=int, default=64, help="ticks per input (default 64)")
    p.add_argument("--backend", default="core", choices=["core", "reference", "brian2"])
    p.add_argument("--encoding", default="deterministic", choices=["deterministic", "bernoulli"],
                   help="input spike encoding")
    p.add_argument("--limit", type=int, default=None, help="first N test inputs only")
    p.add_argument("--seed", type=int, default=0, help="seed of bernoulli encoding")
    _json_flag(p)


def _run_run(args):
    from neurosim.compiler.commands import run_command
    return run_command(args)


# ---------------------------------------------------------------- power
def _add_power(sub):
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
                   help="test inputs that drive the program (default: the program's dataset)")
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
    _json_flag(p)


def _run_power(args):
    from neurosim import power
    return power.run_cli(args)


# ---------------------------------------------------------------- report
def _add_report(sub):
    p = sub.add_parser(
        "report", help="rebuild the HTML report of a mission from its saved results",
        description="Build RESULTS_DIR/report.html (one self-contained file: figures embedded, "
                    "no network needed) from a `neurosim mission` results directory: headline "
                    "numbers, overview, accuracy, reliability (with Wilson 95 % intervals), "
                    "Erf/Fep vs observed error, faults, power, core heat maps, provenance. The "
                    "same results give the same bytes. A bad --out (a directory, a missing or "
                    "read-only directory) is refused before anything is read.")
    p.add_argument("results", metavar="RESULTS_DIR", help="a `neurosim mission` output directory")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="where to write the HTML file (default RESULTS_DIR/report.html)")
    _json_flag(p)


def _run_report(args):
    from neurosim.report import html
    return html.run_cli(args)


# ---------------------------------------------------------------- compare
def _add_compare(sub):
    p = sub.add_parser(
        "compare", help="several missions side by side (table + figure in compare.html)",
        description="Compare mission results, e.g. the dense, sparse-momentum and NeST digits "
                    "models on one scenario: cores and power against mission-average "
                    "reliability (the share of runs meeting the accuracy requirement, averaged "
                    "over the checkpoints; over-provisioning against compactness), final "
                    "reliability (that share at the end), both with Wilson 95 % intervals, "
                    "reliability and accuracy over time. Writes compare.html and compare.json.")
    p.add_argument("results", nargs="+", metavar="DIR", help="two or more mission results directories")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory, created if needed (default ./neurosim-compare); "
                        "refused before any work if it is a file or cannot be written")
    _json_flag(p)


def _run_compare(args):
    from neurosim.report import compare
    return compare.run_cli(args)


# ---------------------------------------------------------------- mission
def _add_mission(sub):
    from neurosim.cli import mission as mission_command
    mission_command.add_arguments(sub)


def _run_mission(args):
    from neurosim.cli import mission as mission_command
    return mission_command.run(args)


COMMANDS = ["bench", "bound", "train", "info", "mission", "compile", "run", "power", "report", "compare"]


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
        try:
            print(json.dumps(result, indent=2, sort_keys=True, default=_jsonable), flush=True)
        except BrokenPipeError:  # the reader (e.g. `| head`) stopped early: not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _jsonable(obj):
    import numpy as np
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
