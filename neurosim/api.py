"""The Python API: the pipeline in seven calls, exported from the package as ``neurosim.*``.

::

    import neurosim as ns
    mlp = ns.train("digits", "nest", hidden=[64, 32])          # or ns.load_network("net.onnx")
    program = ns.compile(mlp, chip="truenorth")                # a placed ChipProgram
    result = ns.simulate(program, x_test[:100], ticks=64)      # output spike counts and rates
    report = ns.power(program, x_test[:100])                   # mW, µJ per inference, breakdown
    bounds = ns.bound(mlp, x_test[:100], fail_prob=0.05)       # Fep, Erf against Monte Carlo
    results = ns.run_mission("leo_10y.toml", model="nest.npz", runs=100, out_dir="runs/nest")
    frame = ns.load_results("runs/nest").to_dataframe()        # one row per run × checkpoint

Each function is a thin, documented door into the library module that does the work; the command
line (:mod:`neurosim.cli`) is the other door into the same functions.
"""
import os

import numpy as np

from neurosim import resources
from neurosim.bounds import report as _bound_report
from neurosim.chip.program import ChipProgram
from neurosim.compiler import compile as _compile
from neurosim.data import load as load_dataset
from neurosim.interchange import export_nir, load_network
from neurosim.mission import scenario as _scenario
from neurosim.mission.results import MissionResults
from neurosim.mission.runner import run_mission as _run_mission
from neurosim.mlp import MLP
from neurosim.energy import checkpoint_power
from neurosim.sim import simulate
from neurosim.sniff import file_kind
from neurosim.training import default_options
from neurosim.training import run as _train_run

__all__ = ["train", "compile", "simulate", "power", "bound", "run_mission", "load_results",
           "load_network", "load_dataset", "export_nir"]


def train(dataset, method="dense", hidden=(64,), data_dir=None, progress=False, **options):
    """Train an MLP on ``dataset`` (a built-in name or a ``.npz``/CSV path) with ``method``
    (``dense``, ``sparse-momentum`` or ``nest``) and ``hidden`` layer sizes; ``options`` are
    fields of :class:`neurosim.training.Options` (``epochs``, ``density``, ``seed``, …) over the
    method's default protocol (sparse momentum: the published one, ``dettmers2019``). Returns the
    MLP; its ``provenance`` holds the test accuracy and every option used."""
    mlp, _ = _train_run(dataset, method, list(hidden), default_options(method, **options),
                        data_dir=data_dir, progress=progress)
    return mlp


def compile(model, chip="truenorth", **options):
    """Compile ``model`` (an :class:`~neurosim.mlp.MLP` or any model file: MLP ``.npz``, NIR,
    ONNX) for the chip profile ``chip``; ``options`` are those of
    :func:`neurosim.compiler.compile` (``weight_encoding``, ``bits``, ``calibration``, …).
    Returns the :class:`~neurosim.chip.program.ChipProgram`; its ``meta["compiler"]`` is the
    compile report."""
    mlp = model if isinstance(model, MLP) else load_network(os.fspath(model))
    return _compile(mlp, chip, **options).program


def power(program, inputs, ticks=64, mode="spiking", inference_rate_hz=None, supply_v=None,
          profile=None):
    """Power and energy of ``program`` (a ChipProgram or its file) driven by ``inputs`` (batch,
    n_inputs) in [0, 1]: simulate, then the power model on the activity counters. Returns a
    :class:`neurosim.energy.PowerReport` (``power_mw``, ``energy_per_inference_uj``,
    ``breakdown``)."""
    program = program if isinstance(program, ChipProgram) else ChipProgram.load(program)
    result = simulate(program, np.asarray(inputs, np.float64), ticks=ticks, mode=mode)
    return checkpoint_power(result.counters, profile or program.profile.power_profile,
                            program.profile.tick_ms, inference_rate_hz, supply_v=supply_v)


def bound(network, inputs, **options):
    """Fep and Erf of ``network`` (an MLP, a ChipProgram, or a file of either) against the error
    observed by Monte Carlo crash injection on ``inputs``; ``options`` as
    :func:`neurosim.bounds.report` (``fail_prob`` or ``failures``, ``layer``, ``samples``, …).
    Returns the report dict."""
    if isinstance(network, (str, os.PathLike)):
        path = os.fspath(network)
        network = (ChipProgram.load(path) if _is_program(path) else load_network(path))
    return _bound_report(network, np.asarray(inputs, np.float64), **options)


def run_mission(scenario=None, out_dir=None, runs=None, model=None, chip=None, workers=None,
                executor=None, progress=True, resume=False, force=False):
    """Fly a mission: ``scenario`` (a TOML path or a shipped name; default ``leo_10y``) with
    optional overrides of ``[run] runs``, ``[run] model`` and ``[run] profile`` (``chip``), the
    results written to ``out_dir`` (default ``neurosim-results/<scenario>-<time>``). Returns the
    :class:`~neurosim.mission.results.MissionResults` of the finished directory. The local
    executor starts processes with ``spawn``: call it under ``if __name__ == "__main__":`` in a
    script."""
    path = os.fspath(scenario or _scenario.DEFAULT_SCENARIO)
    if not os.path.exists(path) and not path.endswith(".toml"):
        path += ".toml"                          # a shipped scenario by name: "leo_10y"
    path = resources.resolve(path, "scenarios")
    overrides = {key: value for key, value in (("run.runs", runs), ("run.profile", chip),
                                               ("run.model", model and os.path.abspath(model)))
                 if value is not None}
    summary = _run_mission(_scenario.load(path, overrides or None), out_dir=out_dir,
                           executor=executor, workers=workers, progress=progress, resume=resume,
                           force=force)
    return MissionResults(summary["out_dir"])


def load_results(results_dir):
    """The :class:`~neurosim.mission.results.MissionResults` of a mission's results directory
    (``summary``, ``runs`` arrays, ``to_dataframe()``, ``to_xarray()``)."""
    return MissionResults(results_dir)


def _is_program(path):
    return file_kind(path) == "program"
