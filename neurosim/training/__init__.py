"""Training: ``run(dataset, method, hidden, options)`` and the TOML recipes that reproduce models.

Methods: ``dense`` (``dense.py``), ``sparse-momentum`` (``sparse_momentum.py``), ``nest``
(``nest.py``); shared optimiser, loss and mask code in ``common.py``. All randomness comes from one
``numpy.random.Generator`` seeded by ``seed`` (split, initialisation, minibatch order), so a recipe
reproduces its model bit for bit on the same numpy/BLAS build.

Recipe (TOML, one table): ``dataset``, ``method``, ``hidden`` (list of ints) and any of the
options below; unknown keys and wrong types are errors. ``protocol`` names a published training
protocol (``PROTOCOLS``) whose settings apply to every field the recipe does not give; it defaults
to ``DEFAULT_PROTOCOL[method]`` (sparse momentum: ``dettmers2019``), else ``none`` (the
``Options`` defaults).
"""
from __future__ import annotations

import dataclasses
import os
import time
import tomllib
from dataclasses import dataclass
from typing import Optional

import numpy as np

from neurosim.activation import ACTIVATIONS
from neurosim import data as datasets
from neurosim.errors import InputFileError, ValidationError
from neurosim.training import common, dense, nest, sparse_momentum

METHODS = ("dense", "sparse-momentum", "nest")
TRAINERS = {"dense": dense, "sparse-momentum": sparse_momentum, "nest": nest}

# Published training protocols: a recipe's ``protocol`` sets these fields, and any field the recipe
# gives overrides them.
#   dettmers2019: Dettmers & Zettlemoyer 2019, "Sparse networks from scratch: faster training
#   without losing performance", arXiv 1907.04840, §4 (MNIST: LeNet-300-100, 100 epochs, batch
#   100, SGD with Nesterov momentum 0.9, lr 0.1 decayed ×0.1 every 25,000 minibatches, L2 5e-4,
#   prune rate 0.5 with cosine decay, 10 % of the training set held out), checked against their
#   code TimDettmers/sparse_learning @ e19ff16: mnist_cifar/main.py (argparse defaults; StepLR
#   stepped every minibatch; the model after the last epoch is tested) and sparselearning/core.py
#   (CosineDecay: eta_min 0.005, T_max = minibatches per epoch × epochs, stepped every minibatch).
PROTOCOLS = {
    "none": {},
    "dettmers2019": {"optimizer": "sgd", "momentum": 0.9, "lr": 0.1, "weight_decay": 5e-4,
                     "batch_size": 100, "epochs": 100, "lr_schedule": "step",
                     "lr_step_iterations": 25000, "lr_gamma": 0.1, "prune_rate": 0.5,
                     "prune_rate_min": 0.005, "prune_schedule": "iteration",
                     "val_fraction": 0.1, "model_selection": "last"},
}
DEFAULT_PROTOCOL = {"sparse-momentum": "dettmers2019"}  # other methods: "none"


@dataclass
class Options:
    """Training options (defaults suit digits). See each trainer's docstring for its own."""

    activation: str = "relu"
    steepness: float = 1.0
    epochs: int = 30
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 0.002
    momentum: float = 0.9            # Nesterov μ (sgd) or β1 (adam)
    weight_decay: float = 0.0
    lr_schedule: str = "cosine"       # constant, cosine (over epochs) or step (over iterations)
    lr_step_iterations: int = 25000  # step schedule: η ← γ·η every this many minibatches
    lr_gamma: float = 0.1
    val_fraction: float = 0.1
    model_selection: str = "best"    # best (lowest validation loss) or last epoch
    patience: int = 0                # early-stopping patience in epochs; 0 = off
    max_fan_in: Optional[int] = None
    seed: int = 0
    protocol: str = "none"           # a published protocol whose settings were applied (PROTOCOLS)
    # sparse momentum
    density: float = 0.1
    prune_rate: float = 0.5
    prune_rate_min: float = 0.0      # η_min of the cosine prune-rate decay
    prune_schedule: str = "epoch"    # cosine over epochs from r0, or over iterations (dettmers2019)
    # nest
    seed_density: float = 0.1
    grow_rounds: int = 3
    grow_epochs: int = 10
    grow_connections: float = 0.5    # new connections per round, as a fraction of the active ones
    grow_neurons: int = 8            # new neurons per hidden layer per round
    grad_samples: int = 4096         # training examples used for growth gradients
    prune_rounds: int = 10
    prune_fraction: float = 0.3      # of each layer's active connections per round
    neuron_prune_fraction: float = 0.1
    retrain_epochs: int = 5
    tolerance: float = 0.01          # allowed validation-accuracy drop while pruning
    prune_refinements: int = 0       # halvings of the prune fractions after rejected rounds
    max_params: int = 0              # pruning stops at this many connections (0 = no target)
    prune_balance: str = "uniform"   # per-layer connection pruning: uniform or by size
    final_epochs: int = 0            # retraining of the final pruned network (0 = none)

    def validate(self, where=None):
        """Check every option; a bad one names the field of the recipe file ``where`` or, without
        a file, the argument (see :func:`bad_value`). Returns self."""
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "max_fan_in":
                if v is not None and (not isinstance(v, int) or v < 1):
                    raise bad_value(where, "max_fan_in", v, "a positive integer")
                continue
            kind = type(f.default)
            if kind is float and isinstance(v, int) and not isinstance(v, bool):
                v = float(v)
                setattr(self, f.name, v)
            if not isinstance(v, kind) or isinstance(v, bool):
                raise bad_value(where, f.name, v, kind.__name__)
        checks = [("activation", self.activation in ACTIVATIONS,
                   "relu, clipped_relu or sigmoid"),
                  ("optimizer", self.optimizer in ("sgd", "adam"), "sgd or adam"),
                  ("lr_schedule", self.lr_schedule in ("constant", "cosine", "step"),
                   "constant, cosine or step"),
                  ("lr_step_iterations", self.lr_step_iterations >= 1, "≥ 1"),
                  ("lr_gamma", 0 < self.lr_gamma <= 1, "in (0, 1]"),
                  ("model_selection", self.model_selection in ("best", "last"), "best or last"),
                  ("protocol", self.protocol in PROTOCOLS, " or ".join(PROTOCOLS)),
                  ("prune_rate_min", 0 <= self.prune_rate_min <= self.prune_rate,
                   "in [0, prune_rate]"),
                  ("prune_schedule", self.prune_schedule in ("epoch", "iteration"),
                   "epoch or iteration"),
                  ("epochs", self.epochs >= 1, "≥ 1"), ("batch_size", self.batch_size >= 1, "≥ 1"),
                  ("lr", self.lr > 0, "> 0"), ("steepness", self.steepness > 0, "> 0"),
                  ("val_fraction", 0 < self.val_fraction < 1, "in (0, 1)"),
                  ("density", 0 < self.density <= 1, "in (0, 1]"),
                  ("seed_density", 0 < self.seed_density <= 1, "in (0, 1]"),
                  ("prune_rate", 0 <= self.prune_rate < 1, "in [0, 1)"),
                  ("prune_fraction", 0 < self.prune_fraction < 1, "in (0, 1)"),
                  ("neuron_prune_fraction", 0 <= self.neuron_prune_fraction < 1, "in [0, 1)"),
                  ("momentum", 0 <= self.momentum < 1, "in [0, 1)"),
                  ("patience", self.patience >= 0, "≥ 0"),
                  ("final_epochs", self.final_epochs >= 0, "≥ 0"),
                  ("prune_refinements", self.prune_refinements >= 0, "≥ 0"),
                  ("max_params", self.max_params >= 0, "≥ 0"),
                  ("prune_balance", self.prune_balance in ("uniform", "size"), "uniform or size"),
                  ("seed", self.seed >= 0, "≥ 0")]
        for name, ok, expected in checks:
            if not ok:
                raise bad_value(where, name, getattr(self, name), expected)
        return self


def default_options(method, protocol=None, where=None, **fields):
    """Options for ``method``: the settings of ``protocol`` (default ``DEFAULT_PROTOCOL[method]``,
    else none), then ``fields`` over them; validated (``where`` as in :meth:`Options.validate`)."""
    protocol = DEFAULT_PROTOCOL.get(method, "none") if protocol is None else protocol
    if protocol not in PROTOCOLS:
        raise bad_value(where, "protocol", protocol, f"one of {', '.join(PROTOCOLS)}")
    return Options(**{**PROTOCOLS[protocol], **fields, "protocol": protocol}).validate(where)


def bad_value(where, name, value, expected):
    """The error for option ``name`` = ``value``: the field of the recipe file ``where``, or
    (``where`` None) the argument, with ``param`` set so that the CLI names its flag."""
    if where is None:
        return ValidationError(f"argument '{name}' is {value!r}, expected {expected}", param=name)
    return ValidationError(f"{where}: field '{name}' is {value!r}, expected {expected}")


def load_recipe(path):
    """Read a recipe TOML → (dataset, method, hidden, Options)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file, expected a recipe TOML") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputFileError(f"{path}: not valid TOML ({exc}), expected a recipe") from None
    for key in ("dataset", "method", "hidden"):
        if key not in doc:
            raise InputFileError(f"{path}: field '{key}' missing, expected it in the recipe")
    hidden = doc.pop("hidden")
    if (not isinstance(hidden, list) or not hidden
            or not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden)):
        raise InputFileError(f"{path}: field 'hidden' is {hidden!r}, expected a list of positive "
                             f"integers such as [64, 64]")
    dataset, method = doc.pop("dataset"), doc.pop("method")
    known = {f.name for f in dataclasses.fields(Options)}
    for key in doc:
        if key not in known:
            raise InputFileError(f"{path}: field '{key}' unknown, expected one of "
                                 f"dataset, method, hidden, {', '.join(sorted(known))}")
    try:
        check_method_dataset(method, dataset, where=path)
        options = default_options(method, doc.pop("protocol", None), where=path, **doc)
    except ValidationError as exc:
        raise InputFileError(str(exc)) from None
    return dataset, method, hidden, options


def check_method_dataset(method, dataset, where=None):
    """A known training method and dataset, built-in or a path (``where``: the recipe file, or
    None: arguments)."""
    if method not in METHODS:
        raise bad_value(where, "method", method, f"one of {', '.join(METHODS)}")
    if not isinstance(dataset, str):
        raise bad_value(where, "dataset", dataset, "a dataset name or path")
    subject = "argument 'dataset' is" if where is None else f"{where}: field 'dataset' is"
    try:
        datasets.check_dataset(dataset, subject)
    except ValidationError as exc:  # the same line, with the parameter the CLI names as a flag
        raise ValidationError(str(exc), param="dataset" if where is None else None) from None


def train(method, x_train, y_train, hidden, options: Options, n_classes=None, progress=False):
    """Train one network; returns (Params, validation accuracy)."""
    trainer = TRAINERS[method]
    rng = np.random.default_rng(options.seed)
    n_classes = int(y_train.max()) + 1 if n_classes is None else n_classes
    sizes = [x_train.shape[1]] + list(hidden) + [n_classes]
    data = common.split_validation(x_train, y_train, options.val_fraction, rng)
    bar = common.progress_bar(None, method, progress)
    try:
        return trainer.train(data, sizes, options, rng, bar)
    finally:
        bar.close()


def run(dataset, method, hidden, options: Options, data_dir=None, progress=False,
        recipe=None):
    """Load the data, train, measure test accuracy; returns (MLP, summary dict)."""
    check_method_dataset(method, dataset)
    options.validate()
    x_train, y_train, x_test, y_test = datasets.load(dataset, data_dir=data_dir)
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    start, cpu_start = time.perf_counter(), time.process_time()
    params, val_acc = train(method, x_train, y_train, hidden, options, n_classes, progress)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    test_acc = params.accuracy(x_test, y_test)
    provenance = {"dataset": dataset, "method": method, "hidden": list(hidden),
                  "options": dataclasses.asdict(options), "seed": options.seed,
                  "recipe": recipe, "validation_accuracy": val_acc, "test_accuracy": test_acc,
                  "numpy": np.__version__}
    mlp = params.to_mlp(provenance)
    stats = mlp.layer_stats()
    n_weights = sum(s["n_in"] * s["n_out"] for s in stats)
    summary = {"test_accuracy": test_acc, "params": mlp.n_params, "neurons": mlp.n_hidden,
               "density": mlp.n_params / n_weights,
               "max_fan_in": max(s["max_fan_in"] for s in stats), "seconds": seconds,
               "cpu_seconds": cpu_seconds,
               "sizes": mlp.sizes, "method": method, "dataset": dataset}
    return mlp, summary
