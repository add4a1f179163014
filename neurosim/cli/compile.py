"""``neurosim compile`` (an MLP .npz, NIR graph or ONNX model onto the chip) and ``neurosim run``
(a compiled program on a dataset's test inputs)."""
import os
import time

import numpy as np

from neurosim import data
from neurosim.chip.program import ChipProgram
from neurosim.cli.common import DATASET_HELP, add_dt_flag, add_json_flag, evaluation_set
from neurosim.errors import NeurosimError, ValidationError, check_number
from neurosim.fileio import check_output_file
from neurosim.interchange import compile_network, load_network
from neurosim.sim import simulate


def add_compile(sub):
    p = sub.add_parser(
        "compile", help="compile a trained MLP, NIR graph or ONNX model into a placed chip program",
        description="Normalise, quantise, encode weights on axon types, split into cores (fan-out "
                    "copies, relay pairs for wide fan-in), place on the grid; print the report.")
    p.add_argument("model", help="MLP .npz, NIR graph or ONNX model (read by content)")
    p.add_argument("--chip", default="truenorth", choices=["truenorth", "ideal"],
                   help="chip profile (default truenorth)")
    p.add_argument("--weight-encoding", default="bitplane", choices=["trinary", "bitplane"],
                   help="weights on typed axons (ignored by ideal: one weight per synapse)")
    p.add_argument("--bits", type=int, default=4, help="bitplane bits, 2..4 (default 4)")
    p.add_argument("--calibration", default=None, metavar="DATASET",
                   help=f"dataset whose training inputs calibrate the scales ({DATASET_HELP}; "
                        f"default: the model's dataset, for an imported model without one 1,000 "
                        f"uniform random inputs)")
    p.add_argument("--percentile", type=float, default=99.9,
                   help="activation percentile that maps to rate 1 (default 99.9)")
    p.add_argument("--blocked", default=None, metavar="R,C;R,C",
                   help="grid cores placement must avoid")
    p.add_argument("--no-relays", action="store_true",
                   help="refuse fan-in beyond one core instead of splitting into relay pairs")
    p.add_argument("--seed", type=int, default=0, help="seed of calibration sampling and placement")
    add_dt_flag(p)
    p.add_argument("-o", "--output", required=True, help="program .npz to write")
    add_json_flag(p)


def compile_command(args):
    """Compile args.model (an MLP .npz, NIR graph or ONNX model, told apart by content) and save
    the program to -o; the compile report is the --json object."""
    check_output_file(args.output, "-o")
    check_number(args.bits, "--bits", 2, 4)
    check_number(args.percentile, "--percentile", 0, 100, low_open=True)
    check_number(args.seed, "--seed", 0)
    check_number(args.dt, "--dt", 0, low_open=True)
    calibration = args.calibration and data.check_dataset(args.calibration, "--calibration")
    options = dict(weight_encoding=args.weight_encoding, bits=args.bits,
                   blocked=parse_blocked(args.blocked), seed=args.seed,
                   relays=not args.no_relays, percentile=args.percentile)
    start = time.perf_counter()
    compiled, model_meta = compile_network(args.model, args.chip, calibration=calibration,
                                             dt=args.dt, reset=args.reset, **options)
    seconds = time.perf_counter() - start
    program = compiled.program
    program = program.replace(meta=dict(program.meta, model=model_meta))
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


def add_run(sub):
    p = sub.add_parser("run", help="run a compiled program on a dataset's test inputs",
                       description="Simulate a chip program (spiking or rate mode) and report "
                                   "accuracy and activity.")
    p.add_argument("program", help="program .npz from neurosim compile")
    p.add_argument("--dataset", required=True, help=DATASET_HELP)
    p.add_argument("--data-dir", default=None, help="directory of IDX files (mnist, fashion-mnist)")
    p.add_argument("--mode", default="spiking", choices=["spiking", "rate"])
    p.add_argument("--ticks", type=int, default=64, help="ticks per input (default 64)")
    p.add_argument("--backend", default="core", choices=["core", "reference", "brian2"])
    p.add_argument("--encoding", default="deterministic", choices=["deterministic", "bernoulli"],
                   help="input spike encoding")
    p.add_argument("--limit", type=int, default=None, help="first N test inputs only")
    p.add_argument("--seed", type=int, default=0, help="seed of bernoulli encoding")
    add_json_flag(p)


def run_command(args):
    """Run a compiled program on a dataset's test split: accuracy and activity (and the float
    MLP's accuracy when the compiled model file is still there)."""
    check_number(args.limit, "--limit", 1)
    check_number(args.ticks, "--ticks", 1)
    check_number(args.seed, "--seed", 0)
    program = ChipProgram.load(args.program)
    x, y, _ = evaluation_set(args.program, program.n_inputs, args.dataset,
                             data_dir=args.data_dir, limit=args.limit)
    start = time.perf_counter()
    res = simulate(program, x, ticks=args.ticks, mode=args.mode, backend=args.backend,
                   encoding=args.encoding, seed=args.seed)
    seconds = time.perf_counter() - start
    c = res.counters
    out = {"accuracy": float(np.mean(res.predictions() == y)), "ticks": args.ticks,
           "samples": int(len(y)), "mode": args.mode, "backend": res.backend,
           "spikes": c.spikes, "synaptic_events": c.synaptic_events, "hops": c.hops,
           "seconds": seconds}
    reference = _mlp_accuracy(program, x, y)
    if reference is not None:
        out["mlp_accuracy"] = reference
    if not args.json:
        mlp = f" (float MLP {reference:.4f})" if reference is not None else ""
        print(f"accuracy {out['accuracy']:.4f}{mlp} on {len(y)} {args.dataset} test inputs, "
              f"{args.mode} mode, {args.ticks} ticks: {c.spikes:.0f} spikes, "
              f"{c.synaptic_events:.0f} synaptic events, {c.hops:.0f} hops, {seconds:.2f} s")
    return out


def _mlp_accuracy(program, x, y):
    """The accuracy of the float MLP the program was compiled from, or None when its file is gone
    or is no longer that model."""
    model = program.meta.get("model", {})
    if not model.get("path") or not os.path.isfile(model["path"]):
        return None
    try:
        return load_network(model["path"], model.get("dt"), model.get("reset")).accuracy(x, y)
    except NeurosimError:  # the file there now is not the model compiled: no reference
        return None
