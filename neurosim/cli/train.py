"""``neurosim train`` (an MLP from a dataset or a recipe, or the density study) and ``neurosim
info`` (its statistics)."""
import sys

from neurosim import training as train
from neurosim.training import study
from neurosim.cli.common import DATASET_HELP, add_dt_flag, add_json_flag
from neurosim.errors import ValidationError, check_number
from neurosim.fileio import check_output_file
from neurosim.interchange import load_network

# flags that override a recipe's value (argparse dest = the training.Options field)
OPTION_FLAGS = ("density", "max_fan_in", "epochs", "batch_size", "seed")


def add_train(sub):
    p = sub.add_parser(
        "train", help="train an MLP (dense, sparse momentum or NeST) and save it as .npz",
        description="Train an MLP on a dataset and save it. Either give --dataset/--hidden/"
                    "--method (and options), or --recipe FILE.toml (see models/*.toml), which "
                    "reproduces a shipped model bit for bit.")
    p.add_argument("--recipe", help="TOML recipe (dataset, method, hidden and options)")
    p.add_argument("--dataset", help=DATASET_HELP)
    p.add_argument("--hidden", help="hidden layer sizes, e.g. 128,64 (NeST: the seed sizes)")
    p.add_argument("--method", help="dense, sparse-momentum or nest")
    p.add_argument("--density", type=float, help="sparse momentum: fraction of weights kept")
    p.add_argument("--max-fan-in", type=int, help="no neuron gets more than N inputs")
    p.add_argument("--epochs", type=int, help="training epochs")
    p.add_argument("--batch-size", type=int,
                   help="minibatch size (default 32; recipe key batch_size)")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--data-dir", help="directory of the IDX files (default $NEUROSIM_DATA)")
    p.add_argument("-o", "--output", help="output model .npz (required unless --study)")
    p.add_argument("--study", choices=["density"],
                   help="instead of one model: sparse momentum at --densities and dense over "
                        "--seeds (protocol dettmers2019; --dataset default fashion-mnist, "
                        "--hidden 300,100, --epochs 100); writes density.csv/.json/.png to --out "
                        "and resumes from its runs.json")
    p.add_argument("--out", help="study output directory (default density_study)")
    p.add_argument("--seeds", help="study seeds, comma-separated (default 0,1,2)")
    p.add_argument("--densities", help="study densities, comma-separated "
                                       "(default 0.01,0.02,0.05,0.1)")
    add_json_flag(p)


def train_command(args):
    """Train (from the flags or --recipe), save to -o; the summary is the --json object. With
    --study, run the study instead and return its table."""
    if args.study:
        return _study(args)
    if args.output is None:
        raise ValidationError("-o: missing, expected the output model .npz (or --study density)")
    check_output_file(args.output, "-o")  # before training: a bad path costs a line, not a run
    dataset, method, hidden, options = _what_to_train(args)
    for name in OPTION_FLAGS:
        if getattr(args, name) is not None:
            setattr(options, name, getattr(args, name))
    options.validate()
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


def _what_to_train(args):
    """(dataset, method, hidden, Options) from --recipe, or from --dataset, --hidden, --method."""
    required = ("dataset", "hidden", "method")
    if args.recipe:
        for flag in required:
            if getattr(args, flag) is not None:
                raise ValidationError(f"--{flag}: given with --recipe, expected one or the other")
        return train.load_recipe(args.recipe)
    for flag in required:
        if getattr(args, flag) is None:
            raise ValidationError(f"--{flag}: missing, expected it (or --recipe FILE)")
    return args.dataset, args.method, parse_hidden(args.hidden), train.default_options(
        args.method)


def _study(args):
    """``--study density``: the accuracy-vs-density table (:func:`neurosim.training.study`)."""
    def log(text):
        if not args.json:
            print(text, file=sys.stderr, flush=True)

    result = study.density_study(
        args.dataset or "fashion-mnist",
        densities=(study.parse_list(args.densities, "--densities", float) if args.densities
                   else study.DENSITIES),
        seeds=study.parse_list(args.seeds, "--seeds", int) if args.seeds else study.SEEDS,
        out_dir=args.out or "density_study", epochs=args.epochs or 100,
        hidden=parse_hidden(args.hidden) if args.hidden else (300, 100),
        data_dir=args.data_dir, log=log)
    if not args.json:
        for row in result["rows"]:
            print(row)
    return result


def parse_hidden(text):
    """'128,64' → [128, 64]."""
    try:
        hidden = [int(t) for t in str(text).split(",") if t.strip()]
    except ValueError:
        hidden = []
    if not hidden or min(hidden) < 1:
        raise ValidationError(f"--hidden: {text!r}, expected comma-separated positive integers "
                              f"such as 128,64")
    return hidden


def add_info(sub):
    p = sub.add_parser("info", help="print a model's per-layer statistics",
                       description="Per layer: inputs, outputs, nonzero weights, density, largest "
                                   "fan-in, max and mean |w|; plus activation and provenance.")
    p.add_argument("model", help="MLP .npz (from neurosim train), NIR graph or ONNX model (read "
                                 "by content)")
    add_dt_flag(p)
    add_json_flag(p)


def info_command(args):
    """A model's sizes, activation, per-layer statistics and provenance (an imported NIR or ONNX
    network as the MLP neurosim reads it)."""
    check_number(args.dt, "--dt", 0, low_open=True)
    mlp = load_network(args.model, args.dt, args.reset)
    result = {"sizes": mlp.sizes, "activation": mlp.activation, "steepness": mlp.steepness,
              "lipschitz": mlp.lipschitz, "params": mlp.n_params, "neurons": mlp.n_hidden,
              "layers": mlp.layer_stats(), "provenance": mlp.provenance}
    if not args.json:
        _print_info(args.model, mlp, result["layers"])
    return result


def _print_info(path, mlp, layers):
    print(f"{path}: sizes {'-'.join(map(str, mlp.sizes))}, {mlp.activation} "
          f"(K = {mlp.steepness:g}), {mlp.n_params} nonzero weights")
    print("layer  n_in  n_out  nonzero  density  max_fan_in  max|w|    mean|w|")
    for i, st in enumerate(layers):
        print(f"{i:5d} {st['n_in']:5d} {st['n_out']:6d} {st['nonzero']:8d} "
              f"{st['density']:8.4f} {st['max_fan_in']:11d}  {st['max_abs_w']:.4f}    "
              f"{st['mean_abs_w']:.4f}")
    if "imported_from" in mlp.provenance:
        print(f"provenance: imported from {mlp.provenance['imported_from']}")
    acc = mlp.provenance.get("test_accuracy")
    if acc is not None:  # provenance is free-form JSON: show what is there, as it is
        shown = f"{acc:.4f}" if isinstance(acc, (int, float)) else repr(acc)
        print(f"provenance: {mlp.provenance.get('method')} on {mlp.provenance.get('dataset')}"
              f", test accuracy {shown}")
