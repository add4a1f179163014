"""The shipped models are reproduced bit for bit by their recipes (same numpy/BLAS build, one
BLAS thread: summation order, and so the last bits, depends on the thread count)."""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from neurosim import cli
from neurosim.mlp import MLP


@pytest.mark.parametrize("name", ["digits_dense", "digits_sparse_momentum", "digits_nest"])
def test_recipe_reproduces_shipped_model(tmp_path, name, capsys):
    out = tmp_path / f"{name}.npz"
    with threadpool_limits(limits=1):
        assert cli.main(["train", "--recipe", f"models/{name}.toml", "-o", str(out), "--json"]) == 0
    capsys.readouterr()
    shipped, again = MLP.load(f"models/{name}.npz"), MLP.load(out)
    assert shipped.sizes == again.sizes
    for a, b in zip(shipped.layers, again.layers):
        assert np.array_equal(a.weight, b.weight) and np.array_equal(a.bias, b.bias)
        assert np.array_equal(a.mask, b.mask)
    assert shipped.provenance["test_accuracy"] == again.provenance["test_accuracy"]


@pytest.mark.parametrize("name", ["fashion_dense", "fashion_sparse_momentum", "fashion_nest"])
def test_fashion_recipes_are_valid(name):
    from neurosim.train import load_recipe
    dataset, method, hidden, options = load_recipe(f"models/{name}.toml")
    assert dataset == "fashion-mnist" and hidden == [300, 100]
    assert method == name.split("_", 1)[1].replace("_", "-")
    if method == "nest":  # the 10x size target of the issue: 266,200 / 10
        assert 0 < options.max_params <= 26620
