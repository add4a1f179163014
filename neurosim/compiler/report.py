"""The compile report and the meta that maps chip neurons back to MLP layers.

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


def layer_meta(stages, table, demand, layers):
    """Per MLP layer: scale, shift, and the chip neurons of each unit (module docstring of
    :mod:`neurosim.compiler`)."""
    out = []
    for l, layer in enumerate(layers):
        n = layer.weight.shape[1]
        neurons = [[] for _ in range(n)]
        relays = [[] for _ in range(n)]
        for s, st in enumerate(stages):
            if st.layer != l:
                continue
            core_of, slot_of = table[s]
            for u in range(st.n):
                j, c, n0 = int(st.unit[u]), int(core_of[u]), int(slot_of[u])
                if st.sign[u] == 0:
                    neurons[j] += [[c, n0 + k] for k in range(int(demand[s][u]))]
                else:
                    relays[j].append([c, n0, int(st.sign[u])])
        out.append({"layer": l, "kind": "output" if l == len(layers) - 1 else "hidden",
                    "size": n, "scale": float(layer.scale), "shift": float(layer.shift),
                    "neurons": neurons, "relays": relays})
    return out
