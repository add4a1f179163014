"""``neurosim export``: a model or compiled program written as a NIR graph that other simulators
(snnTorch, Norse, sinabs, the ``nir`` package) read (:func:`neurosim.interchange.export_nir`)."""
from neurosim import data
from neurosim.cli.common import DATASET_HELP, add_dt_flag, add_json_flag
from neurosim.errors import check_number
from neurosim.interchange import export_nir


def add_arguments(sub):
    p = sub.add_parser(
        "export", help="write a model or compiled program as a NIR graph",
        description="A model (MLP .npz, NIR graph or ONNX model, read by content) becomes the "
                    "rate-scaled IF network a NIR consumer simulates to the model's accuracy "
                    "(thresholds 1); a compiled program .npz becomes its chip stages as IF "
                    "neurons with per-neuron thresholds, or thresholds 1 with "
                    "--uniform-threshold (weights divided by the threshold: exact under "
                    "subtract reset), which snnTorch-style importers require.")
    p.add_argument("source", metavar="MODEL_OR_PROGRAM",
                   help="MLP .npz, NIR graph, ONNX model or compiled program .npz")
    p.add_argument("--nir", dest="out", required=True, metavar="OUT.nir", help="NIR file to write")
    p.add_argument("--uniform-threshold", action="store_true",
                   help="a program's thresholds folded into its weights (every threshold 1)")
    p.add_argument("--calibration", default=None, metavar="DATASET",
                   help=f"dataset whose training inputs set a model's rate scales "
                        f"({DATASET_HELP}; default: the model's dataset)")
    add_dt_flag(p)
    add_json_flag(p)


def run(args):
    """Export MODEL_OR_PROGRAM to --nir (``args.out``); the summary (source, kind, output, nodes,
    uniform_threshold) is the --json object."""
    check_number(args.dt, "--dt", 0, low_open=True)
    calibration = args.calibration and data.check_dataset(args.calibration, "--calibration")
    out = export_nir(args.source, args.out, uniform_threshold=args.uniform_threshold,
                     calibration=calibration, dt=args.dt, reset=args.reset)
    if not args.json:
        print(f"{out['output']}: {out['kind']} {out['source']} as NIR, {out['nodes']} nodes")
    return out
