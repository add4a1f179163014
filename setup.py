"""Build neurosim: the Python package plus the Cython tick kernel ``neurosim._core``.

OpenMP is used when the compiler supports it (probed by compiling a tiny program); otherwise the
kernel builds serially with the same results.
"""
import os
import subprocess
import sys
import tempfile

import numpy
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup


def _compiles(flag, source):
    """True when the C compiler ($CC or cc) builds ``source`` with ``flag``."""
    cc = os.environ.get("CC", "cc")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(source)
        try:
            return subprocess.run([cc, flag, src, "-o", os.path.join(tmp, "probe")],
                                  capture_output=True).returncode == 0
        except OSError:
            return False


def _openmp_flags():
    """Return (compile_args, link_args) for OpenMP, or empty lists if the compiler lacks it."""
    if os.environ.get("NEUROSIM_NO_OPENMP"):
        return [], []
    ok = _compiles("-fopenmp",
                   "#include <omp.h>\nint main(void){return omp_get_max_threads() < 1;}\n")
    return (["-fopenmp"], ["-fopenmp"]) if ok else ([], [])


def _native_flags():
    """``-march=native`` (the vector units of the building machine: the neuron pass and the row
    additions of cext/tick.c are written to vectorise) when the compiler accepts it, unless
    NEUROSIM_PORTABLE is set (for a build that must run on other machines)."""
    if os.environ.get("NEUROSIM_PORTABLE"):
        return []
    return ["-march=native"] if _compiles("-march=native", "int main(void){return 0;}\n") else []


omp_compile, omp_link = _openmp_flags()
extensions = [
    Extension(
        "neurosim._core",
        ["cext/core.pyx", "cext/tick.c"],
        include_dirs=[numpy.get_include(), "cext"],
        extra_compile_args=["-O3", "-fno-strict-aliasing"] + _native_flags() + omp_compile,
        extra_link_args=omp_link,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    ),
    Extension(                  # the mission rate evaluator's per-level loop (neurosim.sim.delta)
        "neurosim._delta",
        ["cext/delta.pyx"],
        include_dirs=[numpy.get_include()],
        # -fno-trapping-math: the clips of a row of drives become vector selects (no floating
        # exception is ever read; the values are IEEE's either way)
        extra_compile_args=["-O3", "-fno-trapping-math"] + _native_flags(),
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    ),
]

setup(
    name="neurosim",
    version="0.1.0",
    description="Neuromorphic-chip simulator with radiation fault injection, power model and robustness bounds",
    long_description=open("README.md").read() if os.path.exists("README.md") else "",
    long_description_content_type="text/markdown",
    python_requires=">=3.11",  # tomllib
    # models/ and scenarios/ stay at the top of the repository and are installed as package data
    # under neurosim/_shipped/ so that an installed neurosim finds them (neurosim.resources).
    packages=find_packages(include=["neurosim", "neurosim.*"])
    + ["neurosim._shipped.models", "neurosim._shipped.scenarios"],
    package_dir={"neurosim._shipped.models": "models",
                 "neurosim._shipped.scenarios": "scenarios"},
    package_data={"neurosim._shipped.models": ["*.npz", "*.toml"],
                  "neurosim._shipped.scenarios": ["*.toml"],
                  "neurosim.energy": ["*.csv"],
                  "neurosim.radiation": ["data/*.csv", "data/devices/*.toml"]},
    ext_modules=cythonize(extensions, language_level=3,
                          compiler_directives={"boundscheck": False, "wraparound": False,
                                               "cdivision": True, "initializedcheck": False}),
    install_requires=[
        "numpy>=1.24,<2.4; python_version < '3.12'",
        "numpy>=1.24; python_version >= '3.12'",
        "scipy>=1.10",
        "brian2==2.9.0; python_version < '3.12'",
        "brian2>=2.10; python_version >= '3.12'",
        "matplotlib>=3.7",
        "scikit-learn>=1.3",
        "nir>=1.0",
        "h5py>=3.8",
        "onnx>=1.14",
        "tqdm>=4.60",
        "sgp4>=2.20",  # orbits (Vallado's SGP4)
        "aep8>=1.1",  # IRBEM's AE8/AP8 trapped particles (pulls in astropy)
    ],
    extras_require={
        "dask": ["dask[distributed]>=2023.1"],
        # SANA-FE (GPL-3.0): `neurosim bench sim --peer sanafe` only, used through its Python API
        "peer": ["sanafe>=2.2.9"],
        "test": ["pytest>=7", "pytest-xdist>=3", "pandas>=2", "hypothesis>=6", "dask[distributed]>=2023.1",
                 "threadpoolctl>=3", "onnxruntime>=1.16"],
    },
    entry_points={"console_scripts": ["neurosim = neurosim.cli:main"]},
)
