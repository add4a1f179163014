"""pytest set-up shared by every test file: a report header naming the build under test, the
data fixtures (digits, the shipped dense model) and the random-object factories (MLPs, chip
programs, fault states) the property tests draw from.

Floating-point results (trained weights) depend on the numpy/BLAS build and its thread count, so
the header prints them at the top of every run: a failure report then names its build.

The factories take a ``numpy.random.Generator`` and draw in a fixed order, so a seed always gives
the same object; tests that pin a seed depend on that order: change it only with those tests.
"""
import importlib.metadata
import pathlib

import numpy as np  # imported first so that threadpoolctl sees numpy's BLAS
import scipy.linalg  # noqa: F401  (scipy may ship its own BLAS; load it so it is listed too)
import pytest
from threadpoolctl import threadpool_info

import neurosim
from neurosim import data as neurosim_data
from neurosim.chip import FaultState, empty_program
from neurosim.chip.memory import CoreMemory
from neurosim.mlp import MLP, Layer

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


# ------------------------------------------------------------------ random objects
def make_random_mlp(rng, sizes, activation="relu", steepness=1.0, *, density=None, weight_std=None,
                    bias_std=0.0, every_unit_has_input=False):
    """An MLP with layer ``sizes`` and random parameters. Per layer (n_in → n_out), in this order:
    a connection mask when ``density`` is given (each connection present with probability
    ``density``; with ``every_unit_has_input`` one random input row is forced on, so no unit is
    cut off), otherwise every connection; weights ~ N(0, ``weight_std``²) on the mask, by default
    ``weight_std`` = 1/√(n_in · density) (the fan-in scaling of LeCun et al. 1998, "Efficient
    BackProp", keeping pre-activations of order 1); biases ~ N(0, ``bias_std``²), zeros when
    ``bias_std`` is 0."""
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        if density is None:
            mask = np.ones((n_in, n_out), bool)
        else:
            mask = rng.random((n_in, n_out)) < density
            if every_unit_has_input:
                mask[rng.integers(0, n_in), :] = True
        std = 1 / np.sqrt(n_in * (1.0 if density is None else density)) if weight_std is None \
            else weight_std
        weight = rng.normal(0, std, (n_in, n_out)) * mask
        bias = rng.normal(0, bias_std, n_out) if bias_std else np.zeros(n_out)
        layers.append(Layer(weight, bias, mask))
    return MLP(layers, activation, steepness)


def make_random_program(rng, profile="truenorth", max_cores=5, max_axons=24, max_neurons=24,
                        feed_forward=False):
    """A random valid program: random sizes, crossbars, weights, neuron parameters, delays,
    grid positions, input and output maps. ``feed_forward`` routes only to later cores."""
    C = int(rng.integers(1, max_cores + 1))
    A = int(rng.integers(1, max_axons + 1))
    N = int(rng.integers(1, max_neurons + 1))
    n_inputs = int(rng.integers(1, 12))
    typed = profile == "truenorth"
    crossbar = rng.random((C, A, N)) < rng.uniform(0.1, 0.9)
    fields = dict(
        crossbar=crossbar,
        axon_type=rng.integers(0, 4 if typed else 1, (C, A)),
        leak=rng.integers(-3, 4, (C, N)),
        threshold=rng.integers(1, 20, (C, N)),
        floor=rng.integers(0, 15, (C, N)),
        reset_mode=rng.integers(0, 3, (C, N)),
        reset_value=rng.integers(-5, 6, (C, N)),
        floor_mode=rng.integers(0, 2, (C, N)),
        initial_potential=rng.integers(-5, 10, (C, N)),
        enabled=rng.random((C, N)) < 0.9,
        dest_delay=rng.integers(1, 16, (C, N)),
        core_xy=_grid_positions(rng, C),
    )
    if typed:
        fields["weights"] = rng.integers(-8, 9, (C, 4, N))
    else:
        fields["synapse_weights"] = rng.integers(-8, 9, (C, A, N))
    dest_core = rng.integers(0, C, (C, N))
    if feed_forward:  # core c routes only to cores c+1 .. C-1; the last core routes nowhere
        lowest = np.arange(C)[:, None] + 1
        dest_core = lowest + rng.integers(0, 1 << 30, (C, N)) % np.maximum(C - lowest, 1)
        dest_core = np.where(lowest < C, dest_core, -1)
    routed = rng.random((C, N)) < 0.8
    fields["dest_core"] = np.where(routed, dest_core, -1)
    fields["dest_axon"] = rng.integers(0, A, (C, N))
    M = int(rng.integers(1, 2 * A * C + 1))
    K = int(rng.integers(1, min(6, C * N + 1)))
    outputs = rng.choice(C * N, size=K, replace=False)
    return empty_program(
        profile, C, A, N, n_inputs=n_inputs, n_outputs=K,
        input_index=rng.integers(0, n_inputs, M), input_core=rng.integers(0, C, M),
        input_axon=rng.integers(0, A, M), output_core=outputs // N, output_neuron=outputs % N,
        **fields)


def _grid_positions(rng, C, rows=64, cols=64):
    flat = rng.choice(rows * cols, size=C, replace=False)
    return np.stack([flat // cols, flat % cols], axis=1)


def make_random_faults(rng, program, scale=3):
    """A random FaultState touching every kind of fault, each at 0..``scale`` places. Bits span
    the program's memory map (:class:`neurosim.chip.memory.CoreMemory`: weight magnitude and
    sign, every threshold, potential and routing bit); half the threshold and potential flips stay
    in the low bits, where they change a neuron's behaviour without silencing it."""
    C, A, N = program.crossbar.shape
    rows = program.profile.axon_types if program.synapse_weights is None else A
    top = CoreMemory.of_program(program).field_limits()

    def n():
        return int(rng.integers(0, scale + 1))

    def register_bits(k, field):
        return rng.integers(0, 6 if rng.random() < 0.5 else top[field] + 1, k)

    return FaultState(
        dead_neurons=np.stack([rng.integers(0, C, k := n()), rng.integers(0, N, k)], axis=1),
        dead_cores=rng.integers(0, C, int(rng.random() < 0.2)),
        stuck_synapses=np.stack([rng.integers(0, C, k := n()), rng.integers(0, A, k),
                                 rng.integers(0, N, k), rng.integers(0, 2, k)], axis=1),
        weight_flips=np.stack([rng.integers(0, C, k := n()), rng.integers(0, rows, k),
                               rng.integers(0, N, k), rng.integers(0, top["weight"] + 1, k)],
                              axis=1),
        threshold_flips=np.stack([rng.integers(0, C, k := n()), rng.integers(0, N, k),
                                  register_bits(k, "threshold")], axis=1),
        potential_flips=np.stack([rng.integers(0, C, k := n()), rng.integers(0, N, k),
                                  register_bits(k, "potential")], axis=1),
        routing_flips=np.stack([rng.integers(0, C, k := n()), rng.integers(0, N, k),
                                rng.integers(0, top["routing"] + 1, k)], axis=1),
    )


def make_random_wired_program(rng, profile="truenorth", single_source=True):
    """A small random program: 1-3 cores of ≤ 6 axons × ≤ 6 neurons, random neuron parameters,
    destinations with delays 1..15. With ``single_source`` every (core, axon) has at most one
    source (input entry or neuron); otherwise sources collide on purpose."""
    C = int(rng.integers(1, 4))
    A = int(rng.integers(3, 7))
    N = int(rng.integers(2, 7))
    typed = profile == "truenorth"
    rows = [(c, a) for c in range(C) for a in range(A)]
    rng.shuffle(rows)
    n_inputs = int(rng.integers(1, 4))
    M = min(len(rows), n_inputs + int(rng.integers(0, 3)))
    ext = rows[:M]
    free = rows[M:]
    fields = dict(
        crossbar=rng.random((C, A, N)) < 0.6,
        leak=rng.integers(-2, 3, (C, N)).astype(np.int32),
        threshold=rng.integers(1, 9, (C, N)).astype(np.int32),
        floor=rng.integers(0, 8, (C, N)).astype(np.int32),
        reset_mode=rng.integers(0, 3, (C, N)).astype(np.uint8),
        reset_value=rng.integers(-3, 4, (C, N)).astype(np.int32),
        floor_mode=rng.integers(0, 2, (C, N)).astype(np.uint8),
        initial_potential=rng.integers(-6, 7, (C, N)).astype(np.int32),
        enabled=rng.random((C, N)) < 0.9,
        input_index=np.concatenate([np.arange(n_inputs), rng.integers(0, n_inputs, M)])[:M]
        .astype(np.int32),
        input_core=np.array([r[0] for r in ext], np.int32),
        input_axon=np.array([r[1] for r in ext], np.int32),
    )
    if typed:
        fields["axon_type"] = rng.integers(0, 4, (C, A)).astype(np.uint8)
        fields["weights"] = rng.integers(-6, 7, (C, 4, N)).astype(np.int32)
    else:
        fields["synapse_weights"] = rng.integers(-6, 7, (C, A, N)).astype(np.int32)
    dest_core = np.full((C, N), -1, np.int32)
    dest_axon = np.zeros((C, N), np.int32)
    cells = [(c, n) for c in range(C) for n in range(N)]
    rng.shuffle(cells)
    for k, (c, n) in enumerate(cells):
        if single_source:
            if k >= len(free) or rng.random() < 0.15:
                continue
            dest_core[c, n], dest_axon[c, n] = free[k]
        elif rng.random() < 0.9:
            dc, da = rows[int(rng.integers(0, 2))]  # two rows for all: collisions
            dest_core[c, n], dest_axon[c, n] = dc, da
    fields["dest_core"] = dest_core
    fields["dest_axon"] = dest_axon
    fields["dest_delay"] = rng.integers(1, 16, (C, N)).astype(np.uint8)
    K = int(rng.integers(1, 4))
    cells = rng.permutation(C * N)[:K]
    fields["output_core"] = (cells // N).astype(np.int32)
    fields["output_neuron"] = (cells % N).astype(np.int32)
    fields["core_xy"] = rng.permutation(64 * 64)[:C].reshape(C, 1).repeat(2, 1).astype(np.int32)
    fields["core_xy"][:, 0] //= 64
    fields["core_xy"][:, 1] %= 64
    return empty_program(profile, C, A, N, n_inputs=n_inputs, n_outputs=K, **fields)


@pytest.fixture(scope="session")
def random_mlp():
    """Factory: ``random_mlp(rng, sizes, activation, steepness, density=, weight_std=, bias_std=,
    every_unit_has_input=)`` → MLP (:func:`make_random_mlp`)."""
    return make_random_mlp


@pytest.fixture(scope="session")
def random_program():
    """Factory: ``random_program(rng, profile, max_cores, max_axons, max_neurons, feed_forward)``
    → a random valid ChipProgram (:func:`make_random_program`)."""
    return make_random_program


@pytest.fixture(scope="session")
def random_faults():
    """Factory: ``random_faults(rng, program, scale)`` → a FaultState touching every kind of fault
    (:func:`make_random_faults`)."""
    return make_random_faults


@pytest.fixture(scope="session")
def random_wired_program():
    """Factory: ``random_wired_program(rng, profile, single_source)`` → a tiny program whose axons
    have one source each, or colliding sources (:func:`make_random_wired_program`)."""
    return make_random_wired_program
