"""The compile report and the unit map that takes chip neurons back to MLP units.

Report keys (``Compiled.report``, ``neurosim compile --json``):

- ``cores``, ``neurons`` (enabled), ``axons`` (allocated), ``crossbar_density`` = synapses /
  Σ_cores (axons × neurons used in the core);
- ``copy_neurons``: fan-out copies (neurons beyond one per logical neuron); ``relay_neurons``;
- ``latency_ticks``: stages − 1, the first tick an output can fire (every route has delay 1);
  ``relay_latency_ticks``: the part of it due to sum stages;
- ``hop_cost`` / ``hop_cost_rowmajor``: Σ ρ_uv · hops (spikes per tick × hops) after placement and
  for the naive row-major placement; ``hop_reduction`` = 1 − hop_cost / hop_cost_rowmajor;
- ``quantisation_error``: relative RMS error of all weights and biases (see :mod:`.quantise`);
- ``weight_encoding``, ``axons_per_input``, ``fan_in_per_core``, ``profile``.
"""
import numpy as np

from neurosim.chip.program_fields import (ROLE_COPY, ROLE_NONE, ROLE_RELAY_NEG, ROLE_RELAY_POS,
                                          ROLE_UNIT)


def make_report(program, stages, demand, encoding, profile, axons, hop_cost, hop_rowmajor):
    used_axons = np.zeros(program.n_cores, np.int64)
    used_axons[:] = (program.crossbar.any(axis=2)).sum(axis=1)
    used_neurons = program.enabled.sum(axis=1)
    synapses = int(program.crossbar.sum())
    mains = sum(int(d[st.sign == 0].sum() - (st.sign == 0).sum()) for st, d in zip(stages, demand))
    sq_err = sum(st.sq_error for st in stages)
    sq_norm = sum(st.sq_norm for st in stages)
    return {
        "profile": profile.name,
        "weight_encoding": encoding.name,
        "axons_per_input": encoding.axons_per_input,
        "fan_in_per_core": axons // encoding.axons_per_input,
        "cores": int(program.n_cores),
        "neurons": int(program.enabled.sum()),
        "axons": int(used_axons.sum()),
        "synapses": synapses,
        "crossbar_density": synapses / max(int((used_axons * used_neurons).sum()), 1),
        "copy_neurons": mains,
        "relay_neurons": int(sum((st.sign != 0).sum() for st in stages)),
        "latency_ticks": len(stages) - 1,
        "relay_latency_ticks": sum(st.kind == "sum" for st in stages),
        "hop_cost": hop_cost,
        "hop_cost_rowmajor": hop_rowmajor,
        "hop_reduction": 1.0 - hop_cost / hop_rowmajor if hop_rowmajor > 0 else 0.0,
        "quantisation_error": float(np.sqrt(sq_err / sq_norm)) if sq_norm > 0 else 0.0,
    }


def unit_map(stages, table, demand, layers, shape):
    """The ChipProgram unit map fields (module docstring of :mod:`neurosim.chip.program`): for
    every (core, neuron) of ``shape`` its MLP layer, unit and role (main, fan-out copy, relay
    r⁺ / r⁻), and per layer its size, scale λ_l and shift s."""
    unit_layer = np.full(shape, ROLE_NONE, np.int16)
    unit_index = np.full(shape, ROLE_NONE, np.int32)
    unit_role = np.full(shape, ROLE_NONE, np.int8)
    for s, st in enumerate(stages):
        core_of, slot_of = table[s]
        d = np.asarray(demand[s], np.int64)
        copy = np.arange(d.sum()) - np.repeat(np.cumsum(d) - d, d)
        core, neuron = np.repeat(core_of, d), np.repeat(slot_of, d) + copy
        sign = np.repeat(st.sign, d)
        unit_layer[core, neuron] = st.layer
        unit_index[core, neuron] = np.repeat(st.unit, d)
        unit_role[core, neuron] = np.select(
            [sign > 0, sign < 0, copy == 0], [ROLE_RELAY_POS, ROLE_RELAY_NEG, ROLE_UNIT], ROLE_COPY)
    return {"unit_layer": unit_layer, "unit_index": unit_index, "unit_role": unit_role,
            "layer_size": np.array([layer.weight.shape[1] for layer in layers], np.int32),
            "layer_scale": np.array([float(layer.scale) for layer in layers]),
            "layer_shift": np.array([float(layer.shift) for layer in layers])}
