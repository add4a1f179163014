"""Command-line side of the bounds: ``neurosim bound`` and ``neurosim bench bounds``.

Kept apart from the library (:mod:`neurosim.bounds.theory`, ``observed``, ``chip``, ``report``):
this module reads files and flags, prints, and translates the library's parameter names into the
flags the user typed.
"""
from __future__ import annotations

import dataclasses
import os
import time
import zipfile

import numpy as np

from neurosim import data, resources, simulate
from neurosim.bounds.chip import chip_model
from neurosim.bounds.observed import omega
from neurosim.bounds.report import report
from neurosim.bounds.studies import input_grid, run as run_study
from neurosim.bounds.theory import NetworkConstants, erf, unit_bounds
from neurosim.chip.faults import FaultState
from neurosim.chip.profile import get_profile
from neurosim.chip.program import ChipProgram
from neurosim.chip.synthetic import full_chip_program
from neurosim.compiler import compile as compile_mlp
from neurosim.errors import InputFileError, ValidationError
from neurosim.mlp import MLP, Layer

MAX_GRID_POINTS = 100_000   # --inputs grid:K refuses K^n above this (memory of the evaluations)

# library parameter names -> the flags of `neurosim bound`
_FLAGS = (("arguments 'fail_prob' and 'failures'", "--fail-prob and --failures"),
          ("argument 'fail_prob'", "--fail-prob"), ("argument 'failures'", "--failures"),
          ("argument 'layer'", "--layer"), ("argument 'samples'", "--samples"),
          ("argument 'C'", "--C"), ("with layer ", "with --layer "))


def run_cli(args) -> dict:
    """``neurosim bound``: see ``neurosim bound --help``; returns the --json object."""
    verbose = not getattr(args, "json", False)
    if args.study is not None:
        return run_study(args.study, out_dir=args.out, quick=args.quick, seed=args.seed,
                         verbose=verbose)
    if args.model is None:
        raise ValidationError("MODEL: missing, expected an MLP .npz or a compiled ChipProgram "
                              ".npz (or --study NAME)")
    if args.fail_prob is None and args.failures is None:
        raise ValidationError("give one of --fail-prob P and --failures F1,F2,...")
    if args.samples < 1:
        raise ValidationError(f"--samples: {args.samples}, expected ≥ 1")
    if args.inputs is not None and args.dataset is not None:
        raise ValidationError("--inputs and --dataset: both given, expected one of them")
    failures = _parse_failures(args.failures)
    kind, net = load_model_or_program(args.model)
    if kind == "program" and args.C is not None:
        raise ValidationError("--C: not used for a compiled program (rates in [0, 1]: C = 1)")
    n_in = net.sizes[0] if kind == "mlp" else net.n_inputs
    x, source = _evaluation_inputs(args, net if kind == "mlp" else None, n_in)
    try:
        out = report(net, x, fail_prob=args.fail_prob, failures=failures, layer=args.layer,
                     samples=args.samples, seed=args.seed, C=args.C)
    except ValidationError as exc:
        raise ValidationError(_as_flags(str(exc))) from None
    out["model"] = str(args.model)
    out["dataset"] = source
    if verbose:
        _print_report(args.model, out, source)
    return out


def _as_flags(message):
    for name, flag in _FLAGS:
        message = message.replace(name, flag)
    return message


def _parse_failures(text):
    if text is None:
        return None
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise ValidationError(f"--failures: {text!r}, expected comma-separated integers such as "
                              f"2,0,1") from None


def _evaluation_inputs(args, mlp, n_in):
    """(inputs, description) from --inputs grid:K | FILE.npy, or --dataset (test split)."""
    if args.inputs is not None:
        x = parse_inputs(args.inputs, n_in)
        return x, args.inputs
    name = args.dataset or (mlp.provenance.get("dataset") if mlp is not None else None) \
        or "digits"
    x = data.load(name)[2]
    if x.shape[1] != n_in:
        raise ValidationError(f"--dataset {name}: {x.shape[1]} inputs, but {args.model} expects "
                              f"{n_in} (give --inputs grid:K or --inputs FILE.npy)")
    return x, name


def parse_inputs(spec, n_in) -> np.ndarray:
    """``grid:K`` (K points per input dimension on [0, 1]^n_in, at most MAX_GRID_POINTS in all)
    or the path of a ``.npy`` array (B, n_in) of input rates in [0, 1]."""
    if spec.startswith("grid:"):
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
    if not os.path.isfile(spec):
        raise InputFileError(f"--inputs {spec}: no such file, expected grid:K or a .npy array "
                             f"(B, {n_in})")
    try:
        x = np.load(spec, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{spec}: not a readable .npy array ({exc}), expected (B, {n_in}) "
                             f"input rates") from None
    if x.ndim != 2 or x.shape[1] != n_in or len(x) == 0 or not np.issubdtype(x.dtype, np.number):
        raise InputFileError(f"{spec}: array of shape {x.shape} ({x.dtype}), expected numbers of "
                             f"shape (B ≥ 1, {n_in})")
    x = x.astype(np.float64)
    if not np.all((x >= 0) & (x <= 1)):
        raise InputFileError(f"{spec}: values in [{x.min():g}, {x.max():g}], expected input rates "
                             f"in [0, 1]")
    return x


def load_model_or_program(path):
    """("mlp", MLP) or ("program", ChipProgram), told apart by the file's fields (a ChipProgram
    has ``profile``, an MLP ``n_layers``); one combined error for files that are neither."""
    if not os.path.isfile(path):
        raise InputFileError(f"{path}: no such file, expected an MLP .npz or a compiled "
                             f"ChipProgram .npz")
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = set(f.files)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputFileError(f"{path}: not a readable .npz ({exc}), expected an MLP .npz or a "
                             f"compiled ChipProgram .npz") from None
    if "profile" in keys and "n_inputs" in keys:
        return "program", ChipProgram.load(path)
    if "n_layers" in keys:
        return "mlp", MLP.load(path)
    raise InputFileError(f"{path}: neither an MLP .npz (no field 'n_layers') nor a compiled "
                         f"ChipProgram .npz (no fields 'profile', 'n_inputs')")


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


# ====================================================================== benchmark
def bench_bounds(quick=False, verbose=True) -> dict:
    """`neurosim bench bounds`: the bounds' cost where it matters.

    1. Chip-level Erf/Fep of a full 4,096-core program (a feed-forward variant of
       :func:`neurosim.chip.synthetic.full_chip_program`: each core routes to the core below it,
       64 levels of 64 cores; ``quick``: a 16 × 16 grid): the model's one-off build, then per
       checkpoint the dead counts per level from a FaultState and Erf + Fep (target < 10 ms).
    2. Per-checkpoint share on the shipped digits model: counts + bounds against one rate-mode
       evaluation of the test set with dead neurons (``simulate``; target < 5 %).
    3. The MLP-unit Erf of a 4,096-core-sized network given its constants (4 hidden layers of
       262,144 neurons), and Omega throughput on a 4-16-16-16-1 sigmoid network.
    """
    out = _bench_chip_model(quick)
    out.update(_bench_checkpoint_share(quick))
    out.update(_bench_unit_view(quick))
    if verbose:
        print(f"chip-level model of a {out['chip_cores']:,}-core program ({out['chip_nodes']:,} "
              f"chip neurons, {out['chip_levels']} levels): built in "
              f"{out['chip_model_build_seconds']:.2f} s (once per program)")
        print(f"  per checkpoint: dead counts {out['chip_dead_counts_seconds'] * 1e3:.2f} ms + "
              f"Erf and Fep {out['chip_bounds_seconds'] * 1e3:.2f} ms = "
              f"{out['chip_checkpoint_seconds'] * 1e3:.2f} ms (target < 10 ms)")
        print(f"digits model, per checkpoint: bounds {out['checkpoint_bound_seconds'] * 1e3:.3f} ms "
              f"against a rate-mode evaluation of {out['checkpoint_eval_seconds'] * 1e3:.2f} ms "
              f"= {100 * out['checkpoint_bound_share']:.2f} % (target < 5 %)")
        print(f"MLP-unit Erf, 4,096-core-sized network ({out['chip_network_neurons']:,} neurons): "
              f"{out['erf_chip_network_seconds'] * 1e6:.1f} µs")
        print(f"Omega: {out['omega_evaluations']:,} subset×input evaluations in "
              f"{out['omega_seconds']:.3f} s = {out['omega_evaluations_per_second']:,.0f} /s "
              f"({out['omega_network']})")
    return out


def feed_forward_full_chip(grid=None):
    """:func:`full_chip_program` on every core (``grid`` rows × cols, default the profile's) with
    each core routing to the core below it (the last row routes nowhere; 10 of its neurons are the
    outputs): a feed-forward program as large as the chip."""
    profile = get_profile("truenorth")
    if grid is not None:
        profile = dataclasses.replace(profile, grid_rows=grid, grid_cols=grid)
    prog = full_chip_program(profile)
    cols = profile.grid_cols
    cores = np.arange(prog.n_cores)
    below = np.where(cores // cols < profile.grid_rows - 1, cores + cols, -1)
    last = int(cores[-1])
    return prog.replace(dest_core=np.repeat(below[:, None], prog.n_neurons, 1).astype(np.int32),
                        output_core=np.full(10, last, np.int32),
                        output_neuron=np.arange(10, dtype=np.int32))


def _best_of(fn, reps):
    """Smallest mean time per call of ``fn`` over 3 rounds of ``reps`` calls."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def _bench_chip_model(quick):
    prog = feed_forward_full_chip(16 if quick else None)
    t0 = time.perf_counter()
    model = chip_model(prog)
    build = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    faults = FaultState(dead_neurons=np.argwhere(rng.random(prog.enabled.shape) < 1e-4),
                        dead_cores=rng.choice(prog.n_cores, 2, replace=False))
    counts = model.dead_counts(faults)
    t_counts = _best_of(lambda: model.dead_counts(faults), 20)
    t_bounds = _best_of(lambda: model.bounds(counts), 200)
    erf_value, fep_value = model.bounds(counts)
    return {"chip_cores": prog.n_cores, "chip_nodes": int(model.level_sizes.sum()),
            "chip_levels": len(model.level_sizes), "chip_model_build_seconds": build,
            "chip_dead_counts_seconds": t_counts, "chip_bounds_seconds": t_bounds,
            "chip_checkpoint_seconds": t_counts + t_bounds,
            "chip_checkpoint_under_10ms": t_counts + t_bounds < 1e-2,
            "chip_dead": int(counts.sum()), "chip_erf": float(erf_value),
            "chip_fep": float(fep_value)}


def _bench_checkpoint_share(quick):
    mlp = MLP.load(resources.resolve("digits_dense.npz", "models"))
    prog = compile_mlp(mlp, "truenorth", anneal=False).program
    x = data.load("digits")[2][:100 if quick else None]
    model = chip_model(prog)
    faults = FaultState(dead_neurons=np.array([[0, 3], [1, 147], [2, 4]]))
    t_eval = _best_of(lambda: simulate(prog, x, mode="rate", faults=faults), 5)
    t_bound = _best_of(lambda: model.bounds(model.dead_counts(faults)), 200)
    return {"checkpoint_eval_seconds": t_eval, "checkpoint_bound_seconds": t_bound,
            "checkpoint_bound_share": t_bound / t_eval}


def _bench_unit_view(quick):
    rng = np.random.default_rng(0)
    n = 262_144
    consts = NetworkConstants((1024, n, n, n, n, 10), (1.0,) * 5, (0.004,) * 5, 1.0, 1.0)
    reps = 2_000 if quick else 20_000
    t_erf = _best_of(lambda: erf(consts, 0.01), reps)
    t_unit = _best_of(lambda: unit_bounds(consts, 0.01), reps)
    sizes = [4, 16, 16, 16, 1]
    layers = [Layer(rng.normal(size=(a, b)), np.zeros(b), np.ones((a, b), bool))
              for a, b in zip(sizes[:-1], sizes[1:])]
    mlp = MLP(layers, activation="sigmoid")
    x = rng.random((64 if quick else 256, 4))
    omega(mlp, 1, 3, x[:2])  # warm-up
    res = min((omega(mlp, 1, 3, x) for _ in range(3)), key=lambda r: r.seconds)
    return {
        "erf_chip_network_seconds": t_erf, "unit_bounds_seconds": t_unit,
        "erf_under_1ms": t_erf < 1e-3, "chip_network_neurons": 4 * n,
        "erf_value": erf(consts, 0.01), "omega_evaluations": res.evaluations,
        "omega_seconds": res.seconds,
        "omega_evaluations_per_second": res.evaluations / res.seconds,
        "omega_network": "4-16-16-16-1 sigmoid, layer 1, 3 crashes",
    }
