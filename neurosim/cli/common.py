"""What every command shares: the ``--json`` flag, printing the result, the evaluation set of a
model or program (a built-in dataset or the user's own, by path), and the translation of library errors into
the flags the user typed."""
import json
import os
import sys

import numpy as np

from neurosim import data
from neurosim.validation import check_inputs

DATASET_HELP = "digits, mnist, fashion-mnist, synthetic, or a .npz / CSV directory path"


def add_json_flag(parser):
    """``--json``: print one JSON object (the command's result) instead of text."""
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def add_dt_flag(parser):
    """``--dt SECONDS`` and ``--reset``: the time step and reset rule under which a NIR graph's neurons are read
    (:func:`neurosim.compiler.nir_io.resolve_dt`; ignored for other model files)."""
    parser.add_argument("--dt", type=float, default=None, metavar="SECONDS",
                        help="time step of a NIR graph's LIF/CubaLIF neurons (default: implied "
                             "by the file, else 0.001)")
    parser.add_argument("--reset", choices=("subtract", "value"), default=None,
                        help="reset rule a NIR graph's spiking neurons are read with (default: "
                             "subtract for IF, snnTorch-style and neurosim's own graphs, value "
                             "otherwise; neurosim.compiler.nir_io)")


def print_json(result):
    """``result`` as one JSON object on stdout (numpy scalars and arrays as numbers and lists); a
    reader that stops early (``| head``) is not an error."""
    try:
        print(json.dumps(result, indent=2, sort_keys=True, default=_jsonable), flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _jsonable(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


# ------------------------------------------------------------------ errors
def flag_names(parser):
    """Each argument's ``dest`` → what the user types for it: its first option string, as the
    usage line shows it (``--fail-prob``, ``-o``), or a positional's metavar (``MODEL``)."""
    return {action.dest: (action.option_strings or [action.metavar or action.dest.upper()])[0]
            for action in parser._actions}  # argparse has no public list of a parser's arguments


def error_message(exc, parser):
    """The one line shown for a library error: its parameter (if it names one) as the flag of
    the running command's ``parser`` (``argument 'fail_prob'`` → ``--fail-prob``)."""
    return exc.renamed(flag_names(parser))


# ------------------------------------------------------------------ evaluation inputs
def evaluation_set(path, n_inputs, dataset=None, recorded=None, recorded_as="provenance dataset is",
                   data_dir=None, limit=None, hint=""):
    """(x, y, name): the test split (its first ``limit`` items) on which the model or program at
    ``path`` with ``n_inputs`` inputs is evaluated. The dataset is ``dataset`` (the flag: a
    built-in name or a path, :func:`neurosim.data.check_dataset`), else ``recorded`` (the one the
    file records, :func:`neurosim.data.recorded_dataset`), else digits; one of another width is
    refused in one line (``hint`` ends it: what to give instead)."""
    if dataset:
        name = data.check_dataset(dataset, "--dataset")
    elif recorded:
        name = data.recorded_dataset(path, recorded, recorded_as, "--dataset")
    else:
        name = "digits"
    _, _, x, y = data.load(name, data_dir=data_dir)
    if limit is not None:
        x, y = x[:limit], y[:limit]
    x = check_inputs(x, n_inputs, f"--dataset {name}", f"for {path}{hint}", dtype=None)
    return x, y, name
