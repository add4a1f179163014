"""``neurosim bound``: Erf/Fep bounds of an MLP or compiled program against Monte Carlo crashes
(or, with --study, one of the papers' studies)."""
import os
import zipfile

import numpy as np

from neurosim.bounds.report import report
from neurosim.bounds.studies import STUDIES, input_grid, run as run_study
from neurosim.chip.program import ChipProgram
from neurosim.cli.common import DATASET_HELP, add_json_flag, evaluation_set
from neurosim.errors import InputFileError, ValidationError
from neurosim.validation import check_inputs
from neurosim.interchange import MODEL_FILES, load_network
from neurosim.mlp import MLP
from neurosim.sniff import describe_format, existing_file, file_kind, sniff

MAX_GRID_POINTS = 100_000   # --inputs grid:K refuses K^n above this (memory of the evaluations)
EXPECTED = f"{MODEL_FILES}, or a compiled ChipProgram .npz"


def add_arguments(sub):
    p = sub.add_parser(
        "bound", help="Erf/Fep bounds of an MLP or compiled program against Monte Carlo crashes",
        description="Compare the robustness bounds of El Mhamdi et al. (Fep: worst case; Erf: "
                    "average-case estimate; first-order Taylor estimate) with the output error "
                    "‖F_fail − F‖∞ observed by Monte Carlo crash injection on a dataset's test "
                    "set. A compiled ChipProgram .npz is evaluated in rate mode (C = 1, errors "
                    "on output rates; MLP units crash with all their copies). With --study, "
                    "reproduce one of the papers' studies (plots + CSV).")
    p.add_argument("model", nargs="?", metavar="MODEL_OR_PROGRAM",
                   help="MLP .npz, NIR graph, ONNX model (read by content) or compiled "
                        "ChipProgram .npz (not needed with --study)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--fail-prob", type=float, default=None, metavar="P",
                   help="crash probability of each hidden neuron, in [0, 1]")
    g.add_argument("--failures", default=None, metavar="F1,F2,...",
                   help="crashed neurons per hidden layer (one count per layer; one with --layer)")
    p.add_argument("--layer", type=int, default=None, metavar="L",
                   help="only hidden layer L fails (1 = first hidden layer)")
    p.add_argument("--samples", type=int, default=200, help="Monte Carlo crash samples (200)")
    p.add_argument("--dataset", default=None,
                   help=f"evaluation inputs (test split): {DATASET_HELP}; default: the model's "
                        f"provenance dataset, else digits (always digits for a program)")
    p.add_argument("--inputs", default=None, metavar="grid:K|FILE.npy",
                   help="evaluation inputs instead of --dataset: grid:K is K points per input "
                        "dimension on [0, 1]^n (at most 100,000 points in all), FILE.npy an "
                        "array (B, n) of input rates in [0, 1]")
    p.add_argument("--C", dest="C", type=float, default=None,
                   help="bound on hidden outputs (default: 1 for sigmoid/clipped_relu; for relu "
                        "the largest hidden activation on the evaluation set)")
    p.add_argument("--seed", type=int, default=0, help="seed of the Monte Carlo crash draws")
    p.add_argument("--study", default=None, choices=[*STUDIES, "all"],
                   help="run a study instead: writes PNG plots and CSV to --out")
    p.add_argument("--out", default=None, help="output directory of --study (bound_study_NAME)")
    p.add_argument("--quick", action="store_true", help="smaller --study, for a smoke test")
    add_json_flag(p)


def run(args):
    """The bounds report of MODEL_OR_PROGRAM (or the --study summary); the --json object."""
    verbose = not args.json
    if args.study is not None:
        return run_study(args.study, out_dir=args.out, quick=args.quick, seed=args.seed,
                         verbose=verbose)
    if args.model is None:
        raise ValidationError(f"MODEL_OR_PROGRAM: missing, expected {EXPECTED} (or --study NAME)")
    if args.fail_prob is None and args.failures is None:
        raise ValidationError("give one of --fail-prob P and --failures F1,F2,...")
    if args.inputs is not None and args.dataset is not None:
        raise ValidationError("--inputs and --dataset: both given, expected one of them")
    failures = _parse_failures(args.failures)
    net = load_model_or_program(args.model)
    x, source = _evaluation_inputs(args, net)
    out = report(net, x, fail_prob=args.fail_prob, failures=failures, layer=args.layer,
                 samples=args.samples, seed=args.seed, C=args.C)
    out["model"] = str(args.model)
    out["dataset"] = source
    if verbose:
        _print_report(args.model, out, source)
    return out


def _parse_failures(text):
    if text is None:
        return None
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise ValidationError(f"--failures: {text!r}, expected comma-separated integers such as "
                              f"2,0,1") from None


def _evaluation_inputs(args, net):
    """(inputs, description) from --inputs grid:K | FILE.npy, or --dataset (test split; an MLP's
    default is its provenance dataset, a program's digits)."""
    is_mlp = isinstance(net, MLP)
    n_in = net.sizes[0] if is_mlp else net.n_inputs
    if args.inputs is not None:
        return parse_inputs(args.inputs, n_in), args.inputs
    x, _, name = evaluation_set(args.model, n_in, args.dataset,
                                recorded=net.provenance.get("dataset") if is_mlp else None,
                                hint=" (give --inputs grid:K or --inputs FILE.npy)")
    return x, name


def parse_inputs(spec, n_in) -> np.ndarray:
    """``grid:K`` (K points per input dimension on [0, 1]^n_in, at most MAX_GRID_POINTS in all)
    or the path of a ``.npy`` array (B, n_in) of input rates in [0, 1]."""
    if spec.startswith("grid:"):
        return _grid(spec, n_in)
    if not os.path.isfile(spec):
        raise InputFileError(f"--inputs {spec}: no such file, expected grid:K or a .npy array "
                             f"(B, {n_in})")
    try:
        x = np.load(spec, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{spec}: not a readable .npy array ({exc}), expected (B, {n_in}) "
                             f"input rates") from None
    x = check_inputs(x, n_in, spec, "(input rates)", min_rows=1, error=InputFileError)
    if not np.all((x >= 0) & (x <= 1)):
        raise InputFileError(f"{spec}: values in [{x.min():g}, {x.max():g}], expected input rates "
                             f"in [0, 1]")
    return x


def _grid(spec, n_in):
    try:
        k = int(spec[5:])
    except ValueError:
        k = 0
    if k < 2:
        raise ValidationError(f"--inputs {spec}: expected grid:K with an integer K ≥ 2")
    if k ** n_in > MAX_GRID_POINTS:
        raise ValidationError(f"--inputs {spec}: {k}^{n_in} = {k ** n_in:,} points, above the "
                              f"limit of {MAX_GRID_POINTS:,} (use a smaller K or a .npy file)")
    return input_grid(n_in, k)


def load_model_or_program(path):
    """The MLP or ChipProgram at ``path``: a NIR graph or ONNX model by its content
    (:func:`neurosim.interchange.load_network`), an ``.npz`` by the names of its arrays
    (:func:`neurosim.sniff.file_kind`); one line for a file that is none of these."""
    fmt = sniff(existing_file(path, EXPECTED))
    if fmt in ("hdf5", "onnx"):
        return load_network(path)
    if fmt != "zip":
        raise InputFileError(f"{path}: {describe_format(path, fmt)}, expected {EXPECTED}")
    kind = file_kind(path)
    if kind == "program":
        return ChipProgram.load(path)
    if kind == "model":
        return MLP.load(path)
    if not zipfile.is_zipfile(path):
        raise InputFileError(f"{path}: not a readable .npz (a broken zip archive), expected "
                             f"{EXPECTED}")
    raise InputFileError(f"{path}: neither an MLP .npz (no field 'n_layers') nor a compiled "
                         f"ChipProgram .npz (no fields 'crossbar', 'meta_json')")


def _print_report(model, out, source):
    lo, hi = out["observed_ci95"]
    print(f"{model}: {'-'.join(map(str, out['sizes']))} {out['activation']}, "
          f"K = {out['K']:g}, C = {out['C']:g} ({out['C_source']})")
    print(f"  crashes per hidden layer: p = {out['fail_prob_per_layer']}, "
          f"f = {out['failures_per_layer']}")
    print(f"  Fep (worst case)          {out['fep']:.6g}")
    print(f"  Erf (average estimate)    {out['erf']:.6g}")
    t = out["taylor_mean"]
    print(f"  Taylor first-order        {'n/a (program)' if t is None else format(t, '.6g')}")
    print(f"  observed mean ‖ΔF‖∞       {out['observed_mean']:.6g}  "
          f"(95 % CI {lo:.4g}…{hi:.4g}, {out['samples']} samples × {out['n_inputs']} inputs "
          f"of {source})")
    if out.get("omega_max") is not None:
        print(f"  Omega (every subset)      max {out['omega_max']:.6g} "
              f"({'≤' if out['omega_max'] <= out['fep'] * (1 + 1e-9) else '>'} Fep), "
              f"mean {out['omega_mean']:.6g} "
              f"({'≤' if out['omega_mean'] <= out['erf'] else '>'} Erf)")
    t = out["tightness"]
    print(f"  tightness Erf/observed    {'n/a' if t is None else format(t, '.4g')}  "
          f"({'safe' if out['safe'] else 'NOT safe'}: observed "
          f"{'≤' if out['safe'] else '>'} Erf)")
