"""The work behind ``neurosim compile`` and ``neurosim run`` (the CLI only parses arguments)."""
import os
import time

import numpy as np

from neurosim.data import DATASETS
from neurosim.errors import InputFileError, NeurosimError, ValidationError, check_number
from neurosim.fileio import check_output_file
from neurosim.sniff import sniff


def parse_blocked(text):
    """'3,4;10,2' → [(3, 4), (10, 2)]; every item exactly two integers (the grid range is
    checked by placement)."""
    if not text:
        return []
    try:
        cores = [tuple(int(v) for v in item.split(",")) for item in text.split(";") if item]
    except ValueError:
        cores = [()]
    if any(len(core) != 2 for core in cores):
        raise ValidationError(f"--blocked is {text!r}; expected ROW,COL;ROW,COL …")
    return cores


def compile_command(args):
    """Compile args.model (.npz MLP or NIR graph) and save the program to args.output."""
    from neurosim.chip.profile import get_profile
    from neurosim.compiler import compile as compile_mlp
    from neurosim.compiler.nir import compile_nir
    from neurosim.mlp import MLP
    from neurosim.nir_io import read_graph
    check_output_file(args.output, "-o")
    check_number(args.bits, "--bits", 2, 4)
    check_number(args.percentile, "--percentile", 0, 100, low_open=True)
    check_number(args.seed, "--seed", 0)
    if args.calibration is not None and args.calibration not in DATASETS:
        raise ValidationError(f"--calibration {args.calibration!r}: unknown dataset, expected "
                              f"one of {', '.join(DATASETS)}")
    profile = get_profile(args.chip)
    options = dict(weight_encoding=args.weight_encoding, bits=args.bits,
                   blocked=parse_blocked(args.blocked), seed=args.seed,
                   relays=not args.no_relays, percentile=args.percentile)
    start = time.perf_counter()
    if _is_nir(args.model):
        graph = read_graph(args.model)
        calibration = None
        if args.calibration:
            from neurosim.compiler import calibration_inputs
            calibration = calibration_inputs(None, args.calibration)
        compiled = compile_nir(graph, profile, calibration, where=args.model, **options)
        mlp_meta = {}
    else:
        mlp = MLP.load(args.model)
        dataset = _calibration_dataset(args, mlp)
        compiled = compile_mlp(mlp, profile, calibration=dataset, **options)
        mlp_meta = {"path": os.path.abspath(args.model), "dataset": dataset}
    seconds = time.perf_counter() - start
    program = compiled.program
    program = program.replace(meta=dict(program.meta, model=mlp_meta))
    program.save(args.output)
    report = dict(compiled.report, seconds=seconds, output=args.output)
    if not args.json:
        r = report
        print(f"{args.output}: {r['cores']} cores, {r['neurons']} neurons ({r['copy_neurons']} "
              f"copies, {r['relay_neurons']} relays), {r['axons']} axons, density "
              f"{r['crossbar_density']:.3f}; {r['weight_encoding']} weights, quantisation error "
              f"{r['quantisation_error']:.4f}; latency {r['latency_ticks']} ticks; hop cost "
              f"{r['hop_cost']:.1f} (row-major {r['hop_cost_rowmajor']:.1f}); {seconds:.2f} s")
    return report


def _calibration_dataset(args, mlp):
    """The dataset whose inputs calibrate: ``--calibration``, else the model's provenance one."""
    if args.calibration:
        return args.calibration
    name = mlp.provenance.get("dataset")
    if name not in DATASETS:
        raise InputFileError(f"{args.model}: provenance dataset is {name!r}, not one of "
                             f"{', '.join(DATASETS)}; expected --calibration DATASET")
    return name


def _is_nir(path):
    """A NIR graph: an HDF5 file, or (when it cannot be read) a name ending in ``.nir``."""
    if os.path.isfile(path):
        return sniff(path) == "hdf5" or (path.endswith(".nir") and sniff(path) != "zip")
    return path.endswith(".nir")


def run_command(args):
    """Run a compiled program on a dataset's test split; accuracy and activity."""
    from neurosim import data
    from neurosim.chip.program import ChipProgram
    from neurosim.mlp import MLP
    from neurosim.sim import simulate
    check_number(args.limit, "--limit", 1)
    check_number(args.ticks, "--ticks", 1)
    check_number(args.seed, "--seed", 0)
    program = ChipProgram.load(args.program)
    _, _, x, y = data.load(args.dataset, data_dir=args.data_dir)
    if args.limit is not None:
        x, y = x[:args.limit], y[:args.limit]
    if x.shape[1] != program.n_inputs:
        raise ValidationError(f"dataset '{args.dataset}' has {x.shape[1]} inputs; program "
                              f"{args.program} expects {program.n_inputs}")
    start = time.perf_counter()
    res = simulate(program, x, ticks=args.ticks, mode=args.mode, backend=args.backend,
                   encoding=args.encoding, seed=args.seed)
    seconds = time.perf_counter() - start
    c = res.counters
    out = {"accuracy": float(np.mean(res.predictions() == y)), "ticks": args.ticks,
           "samples": int(len(y)), "mode": args.mode, "backend": res.backend,
           "spikes": c.spikes, "synaptic_events": c.synaptic_events, "hops": c.hops,
           "seconds": seconds}
    model = program.meta.get("model", {}).get("path")
    if model and os.path.isfile(model):
        try:
            out["mlp_accuracy"] = MLP.load(model).accuracy(x, y)
        except NeurosimError:  # the file there now is not the model compiled: no reference
            pass
    if not args.json:
        mlp = f" (float MLP {out['mlp_accuracy']:.4f})" if "mlp_accuracy" in out else ""
        print(f"accuracy {out['accuracy']:.4f}{mlp} on {len(y)} {args.dataset} test inputs, "
              f"{args.mode} mode, {args.ticks} ticks: {c.spikes:.0f} spikes, "
              f"{c.synaptic_events:.0f} synaptic events, {c.hops:.0f} hops, {seconds:.2f} s")
    return out
