"""Assemble packed stages into ChipProgram arrays (before placement: cores row-major).

Every compiled neuron is an integrate-and-fire neuron with reset by subtraction (mode 1), so its
spike rate converges to the rate-mode value clip((Σ ρ w + λ)/α, 0, 1). It starts at
V_0 = ⌊v_init · α⌋ (default ½α: a count over T ticks then rounds rate·T instead of flooring it)
and its potential is floored at −β with β = ⌈floor · α⌉ (default one threshold below zero: a
neuron driven negative early recovers within a few ticks). Every route has delay 1.

Core order: stages in forward order, each stage's cores in packing order.
"""
import numpy as np

from neurosim.chip.program import ChipProgram
from neurosim.compiler.partition import consumer_slots, main_neurons, pack
from neurosim.errors import DoesNotFitError


def pack_all(stages, profile, axons, neurons):
    """Pack stages consumers-first; returns (packings, slots) with slots[s][u] the consumer
    (local core, axon) pairs of neuron u of stage s and ``consumer[s]`` their stage."""
    S = len(stages)
    demand = [np.ones(st.n, np.int64) for st in stages]
    slots = [[np.zeros((0, 2), np.int64)] * st.n for st in stages]
    consumer = [-1] * S
    packings = [None] * S
    for s in reversed(range(S)):
        st = stages[s]
        packings[s] = pack(st, demand[s], axons, neurons, profile)
        if st.source == "relay":
            producer = s - 1
            per_source = consumer_slots(packings[s], st.encoding, stages[producer].n)
            for u, sl in enumerate(per_source):
                if len(sl):
                    slots[producer][u] = sl
                    demand[producer][u] = len(sl)
            consumer[producer] = s
        elif st.source == "main":
            main = main_neurons(stages, st.layer - 1)
            per_source = consumer_slots(packings[s], st.encoding, len(main))
            for j, (ps, pu) in enumerate(main):
                if len(per_source[j]):
                    slots[ps][pu] = per_source[j]
                    demand[ps][pu] = len(per_source[j])
                consumer[ps] = s
    return packings, slots, demand, consumer


def assemble(stages, profile, axons, neurons, n_inputs, v_init=0.5, floor=1.0, meta=None):
    """Build the ChipProgram (row-major placement) and the neuron table of every stage."""
    packings, slots, demand, consumer = pack_all(stages, profile, axons, neurons)
    offsets = np.cumsum([0] + [len(p.neurons) for p in packings])
    C = int(offsets[-1])
    if C > profile.cores:
        raise DoesNotFitError(f"network needs {C} cores; chip '{profile.name}' has "
                              f"{profile.cores}")
    A = max(len(k) for p in packings for k in p.keys)
    N = max(int(demand[s][nl].sum()) for s, p in enumerate(packings) for nl in p.neurons)
    A, N = max(A, 1), max(N, 1)
    typed = profile.typed_weights
    T = profile.axon_types
    arr = {
        "crossbar": np.zeros((C, A, N), bool), "axon_type": np.zeros((C, A), np.uint8),
        "weights": np.zeros((C, T, N), np.int32), "leak": np.zeros((C, N), np.int32),
        "threshold": np.ones((C, N), np.int32), "floor": np.zeros((C, N), np.int32),
        "reset_mode": np.ones((C, N), np.uint8), "reset_value": np.zeros((C, N), np.int32),
        "floor_mode": np.zeros((C, N), np.uint8),
        "initial_potential": np.zeros((C, N), np.int32), "enabled": np.zeros((C, N), bool),
        "dest_core": np.full((C, N), -1, np.int32), "dest_axon": np.zeros((C, N), np.int32),
        "dest_delay": np.ones((C, N), np.uint8), "neuron_group": np.full((C, N), -1, np.int16),
    }
    if not typed:
        arr["synapse_weights"] = np.zeros((C, A, N), np.int32)
    inputs = []
    # table[s]: (core, first neuron slot) of every logical neuron of stage s
    table = []
    for s, (st, pk) in enumerate(zip(stages, packings)):
        core_of = np.zeros(st.n, np.int64)
        slot_of = np.zeros(st.n, np.int64)
        for c, nl in enumerate(pk.neurons):
            d = demand[s][nl]
            core_of[nl] = offsets[s] + c
            slot_of[nl] = np.concatenate([[0], np.cumsum(d)[:-1]])
        table.append((core_of, slot_of))
        _fill_stage(arr, st, pk, offsets[s], demand[s], core_of, slot_of, typed, floor, v_init,
                    profile)
        if st.source == "input":
            k = st.encoding.axons_per_input
            for c, keys in enumerate(pk.keys):
                inputs.append(np.stack([keys // k, np.full(len(keys), offsets[s] + c),
                                        np.arange(len(keys))], axis=1))
    for s, st in enumerate(stages):
        if consumer[s] < 0:
            continue
        core_of, slot_of = table[s]
        for u in range(st.n):
            sl = slots[s][u]
            if len(sl):
                c, n0 = core_of[u], slot_of[u]
                arr["dest_core"][c, n0:n0 + len(sl)] = offsets[consumer[s]] + sl[:, 0]
                arr["dest_axon"][c, n0:n0 + len(sl)] = sl[:, 1]
    inp = np.concatenate(inputs) if inputs else np.zeros((0, 3), np.int64)
    out_units = main_neurons(stages, stages[-1].layer)
    out_core = np.array([table[s][0][u] for s, u in out_units], np.int32)
    out_neuron = np.array([table[s][1][u] for s, u in out_units], np.int32)
    program = ChipProgram(
        profile=profile, n_inputs=n_inputs,
        core_xy=np.stack([np.arange(C) // profile.grid_cols,
                          np.arange(C) % profile.grid_cols], axis=1).astype(np.int32),
        input_index=inp[:, 0], input_core=inp[:, 1], input_axon=inp[:, 2],
        output_core=out_core, output_neuron=out_neuron, meta=dict(meta or {}),
        synapse_weights=arr.pop("synapse_weights", None), **arr)
    return program, table, demand, offsets


def _fill_stage(arr, st, pk, offset, demand, core_of, slot_of, typed, floor, v_init, profile):
    enc = st.encoding
    k = enc.axons_per_input
    coef = np.array(enc.coef, np.int64)
    for c, (nl, keys) in enumerate(zip(pk.neurons, pk.keys)):
        cg = offset + c
        arr["axon_type"][cg, :len(keys)] = keys % k if typed else 0
        for u in nl:
            n0, d = slot_of[u], demand[u]
            cols = slice(n0, n0 + d)
            lo, hi = st.indptr[u], st.indptr[u + 1]
            q = st.q[lo:hi]
            rows, t = np.nonzero(enc.digits(q))
            axon = np.searchsorted(keys, st.src[lo:hi][rows] * k + t)
            arr["crossbar"][cg, axon, cols] = True
            if typed:
                arr["weights"][cg, :k, cols] = (st.g[u] * coef)[:, None]
            else:
                arr["synapse_weights"][cg, axon, cols] = q[rows][:, None]
            alpha = st.alpha[u]
            arr["threshold"][cg, cols] = alpha
            arr["leak"][cg, cols] = st.leak[u]
            arr["floor"][cg, cols] = min(profile.floor_max, int(np.ceil(floor * alpha)))
            arr["initial_potential"][cg, cols] = int(np.floor(v_init * alpha))
            arr["enabled"][cg, cols] = True
            arr["neuron_group"][cg, cols] = st.layer
