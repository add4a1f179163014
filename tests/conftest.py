"""pytest set-up shared by every test file: a report header naming the build under test.

Floating-point results (trained weights) depend on the numpy/BLAS build and its thread count, so
the header prints them at the top of every run: a failure report then names its build.
"""
import importlib.metadata
import pathlib

import numpy  # noqa: F401  (imported first so that threadpoolctl sees numpy's BLAS)
import scipy.linalg  # noqa: F401  (scipy may ship its own BLAS; load it so it is listed too)
import pytest
from threadpoolctl import threadpool_info

import neurosim
from neurosim import data as neurosim_data
from neurosim.mlp import MLP

HEADER_PACKAGES = ("numpy", "scipy", "brian2", "matplotlib", "nir", "h5py", "dask", "hypothesis",
                   "threadpoolctl", "Cython", "onnx", "onnxruntime", "sgp4", "aep8")


def package_versions(names=HEADER_PACKAGES):
    """'name version' for each package, 'name not installed' when absent."""
    out = []
    for name in names:
        try:
            out.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{name} not installed")
    return out


def blas_descriptions():
    """One line per BLAS/OpenMP library loaded in this process (threadpoolctl): internal API,
    version, CPU architecture (OpenBLAS) or core name, thread count and file."""
    lines = []
    for lib in threadpool_info():
        arch = lib.get("architecture") or lib.get("corename") or "?"
        lines.append(f"{lib.get('user_api')}: {lib.get('internal_api')} {lib.get('version')} "
                     f"({arch}, {lib.get('num_threads')} threads) {lib.get('filepath')}")
    return lines or ["no BLAS library loaded"]


def pytest_report_header(config):
    """Printed under pytest's platform line: the resolved versions and the BLAS build."""
    return (["versions: " + ", ".join(package_versions()),
             f"neurosim imported from {neurosim.__path__[0]}"]
            + ["BLAS " + line for line in blas_descriptions()])


@pytest.fixture(scope="module")
def digits():
    """(x_train, y_train, x_test, y_test) of scikit-learn's digits."""
    return neurosim_data.load("digits")


@pytest.fixture(scope="module")
def dense():
    """models/digits_dense.npz, a 64-…-10 ReLU MLP."""
    return MLP.load(pathlib.Path(__file__).resolve().parents[1] / "models" / "digits_dense.npz")
