"""The shipped models' recipes achieve what they claim, on any numpy/BLAS build.

Retraining is not bit-exact across machines: float32 sums are rounded in an order that depends on
the BLAS build, its CPU kernel and its thread count, and a last-bit difference grows over training
(NeST then prunes along another path: here, one BLAS thread gives the shipped 64-40-35-10 with
1,640 weights, two threads 64-39-37-10 with 1,652). So
a recipe is checked by what it must achieve — accuracy, size and architecture family — not by its
last bits, and the check is run under perturbed arithmetic (one and two BLAS threads, and training
inputs moved by one float32 ulp) to show that it holds whatever the build sums like.

Accuracy tolerance (one-sided: a recipe that does better has not failed its claim): at least the
shipped model's test accuracy minus ACCURACY_TOLERANCE (one test image is 0.22 points), taken
from measured spreads, since a build difference acts like another seed:
- dense and sparse momentum: 1.0 point. Seed spreads (models/*.toml, README "neurosim train"):
  dense 97.0 % ± 0.2 (seeds 0-4: the floor 96.1 % is 4.5 standard deviations below), sparse
  momentum 96.9 % ± 0.4 (seeds 0-9, min 96.2: 0.5 points below the shipped 96.7 %). Inputs moved
  by one ulp (10 and 15 draws) left both accuracies unchanged. 1.0 point still catches sparse momentum that lost its regrowth
  (a static random mask averages 95.6 %, below the 95.7 % floor).
- NeST: 2.5 points. Its pruning path branches on last bits: 40 runs of the recipe with inputs
  moved by one ulp (different draws, one BLAS thread) gave 96.6 % ± 0.5, min 95.1 (two runs
  below 95.4), 1,505-1,700 weights, hidden widths up to 43. The floor 94.4 % is 4 standard
  deviations below that mean and 0.7 points below the worst run.
"""
import contextlib
import json

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import neurosim.data
from neurosim import cli
from neurosim.mlp import MLP
from neurosim.training import Options, load_recipe
from neurosim.training import run as train_run

DIGITS = ["digits_dense", "digits_sparse_momentum", "digits_nest"]
ACCURACY_TOLERANCE = {"dense": 0.010, "sparse-momentum": 0.010, "nest": 0.025}  # docstring
NEST_SIZE_BAND = 0.15          # NeST weights within ±15 % of the shipped model's 1,640: seeds 0-9
#                                gave 1,556-1,672, the ulp-perturbed runs 1,505-1,700 (-8 %/+4 %)
NEST_MIN_REDUCTION = 5.0       # NeST's recipe claim: ≥ 5x fewer weights than digits_dense


def n_weights(sizes):
    """Weights of the dense network of these layer sizes."""
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def recipe_shortfalls(name, model):
    """What ``model`` misses of the claims of recipe ``models/<name>.toml``; [] if none."""
    shipped = MLP.load(f"models/{name}.npz")
    _, method, hidden, options = load_recipe(f"models/{name}.toml")
    out = []
    family = (model.sizes[0], model.sizes[-1], len(model.sizes))
    if family != (shipped.sizes[0], shipped.sizes[-1], len(shipped.sizes)):
        out.append(f"architecture {model.sizes}: expected {shipped.sizes[0]} inputs, "
                   f"{shipped.sizes[-1]} outputs, {len(shipped.sizes) - 1} layers")
    floor = shipped.provenance["test_accuracy"] - ACCURACY_TOLERANCE[method]
    if model.provenance["test_accuracy"] < floor:
        out.append(f"test accuracy {model.provenance['test_accuracy']:.4f} < {floor:.4f}")
    out += SIZE_CLAIMS[method](model, shipped, hidden, options)
    return out


def dense_size(model, shipped, hidden, options):
    """Dense: the shipped sizes, every weight present."""
    if model.sizes != shipped.sizes or model.n_params != n_weights(shipped.sizes):
        return [f"dense {model.sizes} with {model.n_params} weights: expected {shipped.sizes} "
                f"with {n_weights(shipped.sizes)}"]
    return []


def sparse_momentum_size(model, shipped, hidden, options):
    """Sparse momentum: the recipe's sizes at its density (exact up to one weight per layer)."""
    target = options.density * n_weights(model.sizes)
    if model.sizes[1:-1] != hidden or abs(model.n_params - target) >= len(model.sizes) - 1:
        return [f"sparse momentum {model.sizes} with {model.n_params} weights: expected hidden "
                f"{hidden} with {target:.0f} weights (density {options.density})"]
    return []


def nest_size(model, shipped, hidden, options):
    """NeST: hidden widths within the seed's, weights within the band around the shipped
    model's and at least 5x fewer than digits_dense's."""
    out = []
    if any(w > seed for w, seed in zip(model.sizes[1:-1], hidden)):
        out.append(f"NeST hidden widths {model.sizes[1:-1]} exceed the seed's {hidden}")
    low, high = ((1 - NEST_SIZE_BAND) * shipped.n_params, (1 + NEST_SIZE_BAND) * shipped.n_params)
    dense = MLP.load("models/digits_dense.npz").n_params
    if not low <= model.n_params <= min(high, dense / NEST_MIN_REDUCTION):
        out.append(f"NeST {model.n_params} weights: expected {low:.0f}-{high:.0f} and at most "
                   f"{dense / NEST_MIN_REDUCTION:.0f} ({NEST_MIN_REDUCTION:g}x fewer than dense)")
    return out


SIZE_CLAIMS = {"dense": dense_size, "sparse-momentum": sparse_momentum_size, "nest": nest_size}


def inputs_moved_by_one_ulp(load):
    """``neurosim.data.load`` with a tenth of the nonzero training pixels moved up by one float32
    ulp: the last-bit change a different BLAS makes, on any machine (the test set is untouched)."""
    def perturbed(*args, **kwargs):
        x_train, y_train, x_test, y_test = load(*args, **kwargs)
        hit = (np.random.default_rng(12).random(x_train.shape) < 0.1) & (x_train > 0)
        moved = np.where(hit, np.nextafter(x_train, np.float32(2)), x_train)
        return moved.astype(x_train.dtype), y_train, x_test, y_test
    return perturbed


@contextlib.contextmanager
def arithmetic(kind, monkeypatch):
    """The arithmetic the training runs under: 1 or 2 BLAS threads, or inputs moved by one ulp
    (with one thread: two threads are slow on a loaded 2-core machine)."""
    if kind == "ulp":
        monkeypatch.setattr(neurosim.data, "load", inputs_moved_by_one_ulp(neurosim.data.load))
    with threadpool_limits(limits=2 if kind == "2 threads" else 1):
        yield


@pytest.mark.parametrize("kind", ["1 thread", "ulp",
                                  pytest.param("2 threads", marks=pytest.mark.slow)])
@pytest.mark.parametrize("name", DIGITS)
def test_recipe_achieves_its_claims_under_perturbed_arithmetic(tmp_path, name, kind, capsys,
                                                               monkeypatch):
    out = tmp_path / f"{name}.npz"
    with arithmetic(kind, monkeypatch):
        assert cli.main(["train", "--recipe", f"models/{name}.toml", "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    again = MLP.load(out)
    assert summary["params"] == again.n_params
    assert recipe_shortfalls(name, again) == []
    if kind == "ulp":  # the perturbation reached the weights: bit-exactness is not what passed
        shipped = MLP.load(f"models/{name}.npz")
        assert shipped.sizes != again.sizes or any(
            not np.array_equal(a.weight, b.weight) for a, b in zip(shipped.layers, again.layers))


@pytest.mark.parametrize("name", DIGITS)
def test_shipped_models_meet_their_own_claims(name):
    assert recipe_shortfalls(name, MLP.load(f"models/{name}.npz")) == []


def test_claims_catch_a_wrong_size_family_and_accuracy():
    dense = MLP.load("models/digits_dense.npz")
    sparse = MLP.load("models/digits_sparse_momentum.npz")
    # the dense model is no NeST result (8,832 weights); sparse momentum's 256 hidden neurons
    # exceed NeST's 64-wide seed and its 2 layers are not NeST's 3
    assert any("NeST 8832 weights" in s for s in recipe_shortfalls("digits_nest", dense))
    wrong = recipe_shortfalls("digits_nest", sparse)
    assert any("architecture" in s for s in wrong) and any("exceed the seed" in s for s in wrong)
    assert any("sparse momentum" in s for s in recipe_shortfalls("digits_sparse_momentum", dense))
    # one epoch of the dense recipe is far below 97.1 % - 1 point
    _, method, hidden, options = load_recipe("models/digits_dense.toml")
    short, _ = train_run("digits", method, hidden, Options(**{**vars(options), "epochs": 1}))
    assert recipe_shortfalls("digits_dense", short) == [
        f"test accuracy {short.provenance['test_accuracy']:.4f} < "
        f"{dense.provenance['test_accuracy'] - ACCURACY_TOLERANCE['dense']:.4f}"]


@pytest.mark.parametrize("name", ["fashion_dense", "fashion_sparse_momentum", "fashion_nest"])
def test_fashion_recipes_are_valid(name):
    dataset, method, hidden, options = load_recipe(f"models/{name}.toml")
    assert dataset == "fashion-mnist" and hidden == [300, 100]
    assert method == name.split("_", 1)[1].replace("_", "-")
    if method == "nest":  # the 10x size target of the issue: 266,200 / 10
        assert 0 < options.max_params <= 26620
    else:  # the figures in the recipes were measured under the published protocol
        assert options.protocol == "dettmers2019" and options.epochs == 100
