"""Fixtures shared by the interchange tests: the digits data and the shipped dense model."""
from pathlib import Path

import pytest

from neurosim import data
from neurosim.mlp import MLP

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digits():
    """(x_train, y_train, x_test, y_test) of scikit-learn's digits."""
    return data.load("digits")


@pytest.fixture(scope="module")
def dense():
    """models/digits_dense.npz, a 64-…-10 ReLU MLP."""
    return MLP.load(ROOT / "models" / "digits_dense.npz")
