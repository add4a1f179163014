"""Rate mode: the steady state of a feed-forward ChipProgram for constant input rates.

Each enabled neuron j of core c fires at

    r_j = clip((Σ_i ρ_i · W_c[i, j] + λ_j) / α_j, 0, 1)

where ρ_i is the rate arriving on axon i (an input's rate, or the rate of the neuron routed
there; several sources add, capped at 1). Cores are evaluated once each in topological order.
This is what spiking mode with reset by subtraction (mode 1) converges to as ticks grow: the
potential gains Σρw + λ per tick on average and loses α per spike. For reset to R or no reset it is
an approximation.

Counters are expectations over ``ticks`` ticks: spikes = Σ r · T, synaptic events =
Σ ρ_i · (neurons on axon i) · T, hops = Σ r · (|Δrow| + |Δcol|) · T.
"""
import numpy as np

from neurosim.errors import ValidationError
from neurosim.sim.counters import ActivityCounters, powered_cores


def core_order(program):
    """Cores in topological order of the spike routes; raises if the routes form a cycle."""
    if "core_order" in program._cache:
        return program._cache["core_order"]
    C = program.n_cores
    routed = program.dest_core >= 0
    src = np.repeat(np.arange(C), program.n_neurons).reshape(C, -1)[routed]
    edges = np.unique(np.stack([src, program.dest_core[routed]], axis=1), axis=0)
    indegree = np.bincount(edges[:, 1], minlength=C) if edges.size else np.zeros(C, np.int64)
    successors = [[] for _ in range(C)]
    for s, d in edges:
        successors[s].append(d)
    ready = [c for c in range(C) if indegree[c] == 0]
    order = []
    while ready:
        c = ready.pop(0)
        order.append(c)
        for d in successors[c]:
            indegree[d] -= 1
            if indegree[d] == 0:
                ready.append(d)
    if len(order) < C:
        stuck = sorted(set(range(C)) - set(order))
        raise ValidationError(f"rate mode needs a feed-forward program; cores {stuck[:5]} are on "
                              "a routing cycle (use mode='spiking')")
    program._cache["core_order"] = order
    return order


def _float_weights(program):
    if "float_weights" not in program._cache:
        program._cache["float_weights"] = [program.effective_weights(c).astype(np.float64)
                                           for c in range(program.n_cores)]
    return program._cache["float_weights"]


def run_rate(program, rates, ticks):
    """Neuron rates of every core, output rates and expected counters for input ``rates`` (B, I)."""
    B = rates.shape[0]
    C, A, N = program.crossbar.shape
    weights = _float_weights(program)
    axon_rate = np.zeros((B, C, A))
    np.add.at(axon_rate, (slice(None), program.input_core, program.input_axon),
              rates[:, program.input_index])
    np.minimum(axon_rate, 1.0, out=axon_rate)
    neuron_rate = np.zeros((B, C, N))
    xy = program.core_xy
    for c in core_order(program):
        drive = axon_rate[:, c] @ weights[c] + program.leak[c]
        r = np.clip(drive / program.threshold[c], 0.0, 1.0) * program.enabled[c]
        neuron_rate[:, c] = r
        routed = np.nonzero(program.dest_core[c] >= 0)[0]
        if routed.size:
            dc, da = program.dest_core[c, routed], program.dest_axon[c, routed]
            np.add.at(axon_rate, (slice(None), dc, da), r[:, routed])
            axon_rate[:, dc, da] = np.minimum(axon_rate[:, dc, da], 1.0)
    hop_dist = np.where(program.dest_core >= 0,
                        np.abs(xy[np.maximum(program.dest_core, 0)] - xy[:, None, :]).sum(axis=2),
                        0)
    row_nnz = program.row_synapses()
    core_events = (axon_rate * row_nnz[None]).sum(axis=(0, 2)) * ticks
    core_spikes = neuron_rate.sum(axis=(0, 2)) * ticks
    counters = ActivityCounters(
        ticks=ticks, batch=B,
        spikes=float(core_spikes.sum()), synaptic_events=float(core_events.sum()),
        neuron_updates=float(program.enabled.sum()) * ticks * B,
        hops=float((neuron_rate * hop_dist[None]).sum() * ticks),
        input_spikes=float(rates[:, :program.n_inputs].sum() * ticks),
        cores_powered=powered_cores(program), core_spikes=core_spikes, core_events=core_events)
    out_rates = neuron_rate[:, program.output_core, program.output_neuron]
    return neuron_rate, out_rates, counters
