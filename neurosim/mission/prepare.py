"""Preparing a mission (once, in the calling process): load the model named by ``[run] model``,
compile it for ``[run] profile`` with ``[run] compile`` options, take ``eval_inputs`` evaluation
inputs (the dataset's test split first, then training inputs if more are asked for), evaluate the
fault-free chip, and derive the chip network's constants for the bounds.

:class:`MissionModel` is everything a worker needs; it is sent to every worker once.
"""
import os
from dataclasses import dataclass, field

import numpy as np

from neurosim import bounds, data, resources
from neurosim import energy as pw
from neurosim.compiler import compile as compile_mlp
from neurosim.compiler.nir import compile_imported
from neurosim.errors import InputFileError, ValidationError
from neurosim.interchange import load_network
from neurosim.radiation.timeline import ChipLayout
from neurosim.sim.incremental import FastRate
from neurosim.validation import check_inputs


def model_path(path, scenario_path):
    """The file ``[run] model`` names (:func:`neurosim.resources.find`): as given, next to the
    scenario file, in its parent directory, then among the shipped models; an InputFileError
    naming the scenario file, the key and every place searched when there is none."""
    here = os.path.dirname(os.path.abspath(scenario_path))
    return resources.find(path, "models", f"{scenario_path}: [run] model",
                          near=[here, os.path.join(here, "..")])


@dataclass(eq=False)
class MissionModel:
    """Everything a worker needs: the compiled program, evaluation set, evaluator, layout."""

    values: dict
    program: object
    x: np.ndarray
    y: np.ndarray
    times_days: np.ndarray
    layout: object
    evaluator: object
    base_accuracy: float
    base_power_mw: float
    layer_of_neuron: np.ndarray      # (C, N) MLP layer of each used neuron, −1 unused
    n_layers: int
    constants: object                # bounds.NetworkConstants, MLP-unit view (None: no levels)
    level_of_neuron: np.ndarray      # (C, N) MLP-unit view's level, −1 unused
    hidden_level_sizes: np.ndarray
    power_profile: str
    tick_ms: float
    inference_rate_hz: float
    model_path: str = None
    base_power: object = None        # power.PowerReport of the fault-free chip
    core_spikes: np.ndarray = None   # (C,) spikes per inference per core, fault-free chip
    bound_model: object = None       # bounds.ChipBoundModel (None: not a feed-forward program)
    bounds_cache: dict = field(default_factory=dict)   # dead counts (bytes) → (erf, fep)
    spiking: object = None           # mission.spiking.SpikingCheckpoints, built in each worker

    @property
    def n_levels(self):
        """Levels of the chip-level bound model (0 without one)."""
        return len(self.bound_model.level_sizes) if self.bound_model is not None else 0


def prepare(scenario, program=None):
    """Compile the scenario's model and evaluate the fault-free chip (see the module docstring).
    ``program`` (a ChipProgram) skips compiling (resume reuses the saved one)."""
    v = scenario.values
    run = v["run"]
    mlp_path = model_path(run["model"], scenario.path)
    mlp = load_network(mlp_path, run["model_dt"] or None,      # an MLP .npz, a NIR graph or
                       run["model_reset"] or None)             # an ONNX model
    dataset = run["dataset"] or mlp.provenance.get("dataset") or "digits"
    if program is None:
        compile_network = compile_imported if "imported_from" in mlp.provenance else compile_mlp
        try:
            program = compile_network(mlp, run["profile"], **run["compile"]).program
        except TypeError as exc:
            raise InputFileError(f"{scenario.path}: [run] compile: {exc}") from None
    xtr, ytr, xte, yte = data.load(dataset)
    available = len(xte) + len(xtr)
    if run["eval_inputs"] > available:
        raise ValidationError(f"{scenario.path}: [run] eval_inputs = {run['eval_inputs']}: "
                              f"dataset '{dataset}' has {available} inputs (test and training); "
                              f"expected at most {available}")
    x = check_inputs(np.concatenate([xte, xtr])[:run["eval_inputs"]], program.n_inputs,
                     f"dataset '{dataset}'", f"for the model {mlp_path}")
    y = np.concatenate([yte, ytr])[:run["eval_inputs"]]
    ev = FastRate(program, x, run["ticks"])
    acc = float(np.mean(np.argmax(ev.base_out, axis=1) == y))
    group = np.where(program.enabled, program.neuron_group, -1).astype(np.int64)
    layout = ChipLayout.from_program(program)
    constants, level = chip_constants(program, ev)
    hidden_sizes = np.bincount(level[level >= 0], minlength=1)[:-1] if constants else None
    pprof = run["power_profile"] or program.profile.power_profile
    rate = run["inference_rate_hz"] or None
    base_report = pw.checkpoint_power(ev.base.counters(run["ticks"], len(x)), pprof,
                                      program.profile.tick_ms, rate)
    model = MissionModel(
        values=v, program=program, x=x, y=y, times_days=scenario.checkpoint_times_days(),
        layout=layout, evaluator=ev, base_accuracy=acc, base_power_mw=base_report.power_mw,
        layer_of_neuron=group, n_layers=int(group.max()) + 1, constants=constants,
        level_of_neuron=level, hidden_level_sizes=hidden_sizes, power_profile=pprof,
        tick_ms=program.profile.tick_ms, inference_rate_hz=rate, model_path=mlp_path,
        base_power=base_report, core_spikes=np.asarray(ev.base.spikes, np.float64) / len(x),
        bound_model=bound_model(program))
    return model


def bound_model(program):
    """The chip-level bound model of ``program`` (:func:`neurosim.bounds.chip_model`), or None for
    a program that is not feed-forward (it has no levels)."""
    try:
        return bounds.chip_model(program)
    except ValidationError:
        return None


def chip_constants(program, evaluator):
    """The MLP-unit view: NetworkConstants (K = 1, C = 1) of the compiled network, weights
    w_ij/α_j in rate units (the chip computes r_j = clip(Σ_i ρ_i w_ij/α_j + λ_j/α_j, 0, 1)), and
    the (C, N) level of every neuron. Not a bound per dead chip neuron (a dead bitplane copy
    changes a weight instead of crashing a unit): the mission's bounds are the chip-level model's
    (:func:`bound_model`); this view is kept for comparing with the MLP before compilation.

    A compiled program (one with a unit map) is mapped back to the MLP's structure by
    :func:`neurosim.bounds.program_constants` (copies' weights summed with their signs, relay
    pairs folded in) and a neuron's level is its MLP layer (copies and relays included). Other
    programs fall back to levels as layers with every chip neuron a node."""
    if program.has_unit_map():
        return bounds.program_constants(program), np.where(program.enabled, program.neuron_group,
                                                    -1).astype(np.int64)
    C, A, N = program.crossbar.shape
    level = np.full((C, N), -1, np.int64)
    if evaluator.generic:
        return None, level
    ev = evaluator.graph
    level[ev.n_core, ev.n_slot] = ev.neuron_level
    L = ev.n_level
    sizes = [program.n_inputs] + [int(np.sum(ev.neuron_level == lv)) for lv in range(L)]
    index_in_level = np.zeros(ev.n_core.size, np.int64)
    for lv in range(L):
        idx = np.nonzero(ev.neuron_level == lv)[0]
        index_in_level[idx] = np.arange(idx.size)
    mats = [np.zeros((sizes[lv], sizes[lv + 1])) for lv in range(L)]
    weights = [program.effective_weights(c) for c in range(C)]
    for n in range(ev.n_core.size):
        c, j, lv = ev.n_core[n], ev.n_slot[n], ev.neuron_level[n]
        col = weights[c][:, j] / program.threshold[c, j]
        axons = np.nonzero(col)[0]
        for a in axons:
            m, s = ev.src_in[c, a], ev.src_n[c, a]
            if m >= 0 and lv == 0:
                mats[0][m, index_in_level[n]] += col[a]
            elif s >= 0 and ev.neuron_level[s] == lv - 1:
                mats[lv][index_in_level[s], index_in_level[n]] += col[a]
    max_w = tuple(float(np.abs(m).max()) if m.size else 0.0 for m in mats)
    mean_w = tuple(float(np.abs(m).mean()) if m.size else 0.0 for m in mats)
    return bounds.NetworkConstants(tuple(sizes), max_w, mean_w, K=1.0, C=1.0,
                            activation="chip rate"), level


