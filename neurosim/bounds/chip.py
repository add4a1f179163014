"""Bounds of a compiled ChipProgram in rate mode: the MLP-unit view and the chip-level model.

The chip in rate mode computes, for every enabled neuron j of core c,
r_j = clip((Σ_a ρ_a W_c[a, j] + λ_j) / α_j, 0, 1), with ρ_a the rate arriving on axon a (inputs and
routed neurons; several sources add, capped at 1). In rate units that is a network with K = 1 (clip
is 1-Lipschitz) and C = 1 (rates lie in [0, 1]) whose weights are W/α. Two views of it:

* **MLP-unit view** (:func:`program_constants`, :func:`program_unit_weights`): the chip neurons are
  mapped back to the MLP's units (``program.meta["layers"]``), copies' weights summed, relay pairs
  folded in; a crash kills a unit with all its copies. For comparing with the MLP before
  compilation.
"""
from __future__ import annotations

import numpy as np

from neurosim.bounds.observed import MonteCarloResult
from neurosim.bounds.theory import NetworkConstants, _per_layer
from neurosim.chip.faults import FaultState
from neurosim.errors import ValidationError
from neurosim.sim import simulate


# ====================================================================== MLP-unit view
def program_constants(program) -> NetworkConstants:
    """NetworkConstants (K = 1, C = 1) of a compiled ChipProgram, in the MLP's structure.

    The chip computes r_j = clip(Σ_a ρ_a W[a, j] / α_j + λ_j / α_j, 0, 1) (rate mode), so in rate
    units it is a network with K = 1 and C = 1 whose weights are the effective integer weights
    divided by the receiving neuron's threshold α_j. The per-layer normalisation scales λ_l are
    already inside those integers (the compiler writes Ŵ = W λ_{l−1} / λ_l), so nothing is
    rescaled here. ``program.meta["layers"]`` maps chip neurons back to MLP units:

    * fan-out / bitplane copies: every copy of unit i carries the same rate, so the weight of
      unit i onto unit j is the *signed* sum over the axons by which any copy of i reaches j's
      main neuron (two's-complement bitplanes split one level q into parts such as −8 + 4 + 2 + 1;
      counting |parts| separately would overstate |w| several times);
    * relay pairs of a split unit j: the pair r⁺ = clip(z_p/σ, 0, 1), r⁻ = clip(−z_p/σ, 0, 1)
      reaches j as r⁺ − r⁻ = clip(z_p/σ, −1, 1), a linear element while |z_p| ≤ σ, so unit i
      contributes (W[i, r⁺]/α_r⁺)·(W[r⁺, j]/α_j) through it (the r⁻ member carries the same
      partial sum negated and is not counted again);
    * sizes are the MLP's (n_in, N_1, …, N_L, n_out), max/mean |w| over the unit-level matrices
      (absent synapses = 0), as :func:`network_constants` does for an MLP.

    Raises ValidationError when the program carries no ``meta["layers"]`` (not compiled by
    :func:`neurosim.compiler.compile`).
    """
    mats = program_unit_weights(program)
    sizes = [mats[0].shape[0]] + [m.shape[1] for m in mats]
    return NetworkConstants(tuple(int(s) for s in sizes),
                            tuple(float(np.abs(m).max()) if m.size else 0.0 for m in mats),
                            tuple(float(np.abs(m).mean()) if m.size else 0.0 for m in mats),
                            K=1.0, C=1.0, activation="chip rate")


def _program_layers(program):
    layers = (program.meta or {}).get("layers")
    if not layers:
        raise ValidationError("program has no meta['layers'] (the map from chip neurons to MLP "
                              "units written by neurosim compile): cannot derive its bounds")
    return layers


def program_unit_weights(program) -> list:
    """The compiled network's unit-level weight matrices in rate units, one (N_{l−1}, N_l) per
    MLP layer (see :func:`program_constants`)."""
    layers = _program_layers(program)
    C, A, N = program.crossbar.shape
    # what feeds each axon: ("in", m) or ("n", core, neuron)
    src_in = np.full((C, A), -1, np.int64)
    src_in[program.input_core, program.input_axon] = program.input_index
    src_c = np.full((C, A), -1, np.int64)
    src_j = np.full((C, A), -1, np.int64)
    rc, rj = np.nonzero(program.enabled & (program.dest_core >= 0))
    src_c[program.dest_core[rc, rj], program.dest_axon[rc, rj]] = rc
    src_j[program.dest_core[rc, rj], program.dest_axon[rc, rj]] = rj
    cols = {}

    def column(c, j):
        if c not in cols:
            cols[c] = program.effective_weights(c).astype(np.float64) / np.maximum(
                program.threshold[c].astype(np.float64), 1.0)
        return cols[c][:, j]

    mats = []
    prev_owner = None  # (core, neuron) -> unit index of the previous layer
    n_prev = program.n_inputs
    for li, layer in enumerate(layers):
        units = layer["neurons"]
        relays = layer.get("relays") or [[] for _ in units]
        relay_index, relay_sign = {}, []
        for j, rl in enumerate(relays):
            for c, n, sign in rl:
                relay_index[(int(c), int(n))] = len(relay_index)
                relay_sign.append(int(sign))

        def incoming(c, n):
            """(previous-layer unit indices, weights, relay indices, relay weights) of (c, n)."""
            col = column(c, n)
            axons = np.nonzero(col)[0]
            su, sw, ru, rw = [], [], [], []
            for a in axons.tolist():
                if src_in[c, a] >= 0:
                    if li != 0:
                        raise ValidationError(f"program: core {c} neuron {n} of layer {li} reads "
                                              f"an external input; meta['layers'] disagrees with "
                                              f"the routing")
                    su.append(int(src_in[c, a])), sw.append(col[a])
                elif src_c[c, a] >= 0:
                    key = (int(src_c[c, a]), int(src_j[c, a]))
                    if prev_owner is not None and key in prev_owner:
                        su.append(prev_owner[key]), sw.append(col[a])
                    elif key in relay_index:
                        ru.append(relay_index[key]), rw.append(col[a])
                    else:
                        raise ValidationError(f"program: core {c} neuron {n} (layer {li}) is fed "
                                              f"by core {key[0]} neuron {key[1]}, which meta"
                                              f"['layers'] does not place in layer {li - 1}")
            return su, sw, ru, rw

        D = np.zeros((n_prev, len(units)))
        Q = np.zeros((n_prev, len(relay_index)))
        R = np.zeros((len(relay_index), len(units)))
        for (c, n), r in relay_index.items():
            if relay_sign[r] > 0:   # r⁻ mirrors r⁺ (see the docstring)
                su, sw, _, _ = incoming(c, n)
                np.add.at(Q[:, r], su, sw)
        for j, copies in enumerate(units):
            if not copies:
                raise ValidationError(f"program: meta['layers'][{li}] unit {j} has no neuron")
            c, n = int(copies[0][0]), int(copies[0][1])
            su, sw, ru, rw = incoming(c, n)
            np.add.at(D[:, j], su, sw)
            np.add.at(R[:, j], ru, rw)
        mats.append(D + Q @ R if relay_index else D)
        prev_owner = {(int(c), int(n)): j for j, copies in enumerate(units) for c, n in copies}
        n_prev = len(units)
    return mats


def program_dead_neurons(program, dead_units) -> np.ndarray:
    """(k, 2) (core, neuron) rows of every copy of the crashed units; ``dead_units`` maps a hidden
    layer (1-based) to the indices of its crashed MLP units."""
    layers = _program_layers(program)
    rows = [copies for l, js in dead_units.items() for j in js
            for copies in layers[l - 1]["neurons"][int(j)]]
    return np.asarray(rows, dtype=np.int64).reshape(-1, 2)


def program_monte_carlo_error(program, fail_prob_per_layer, inputs, samples, rng, *,
                              failures_per_layer=None, ticks=64) -> MonteCarloResult:
    """:func:`neurosim.bounds.observed.monte_carlo_error` for a compiled program in rate mode: each
    sample crashes MLP units (every copy of unit j, from ``meta["layers"]``) independently with
    probability p_l per hidden layer (or exactly f_l per layer), evaluates the program with those
    dead neurons (``simulate(mode="rate")``) and averages ‖r_fail(x) − r(x)‖∞ over the output rates
    and the inputs."""
    layers = _program_layers(program)
    hidden = [len(layer["neurons"]) for layer in layers[:-1]]
    L = len(hidden)
    samples = int(samples)
    if samples < 1:
        raise ValidationError(f"argument 'samples': {samples}, expected ≥ 1")
    x = check_program_inputs(program, inputs)
    if failures_per_layer is not None:
        f = _per_layer(failures_per_layer, L, "failures_per_layer", 0, hi_list=hidden).astype(int)
    else:
        p = _per_layer(fail_prob_per_layer, L, "fail_prob_per_layer", 0.0, hi=1.0)
    base = simulate(program, x, ticks=ticks, mode="rate").rates
    per_sample = np.empty(samples)
    for s in range(samples):
        dead = {}
        for l in range(1, L + 1):
            n = hidden[l - 1]
            if failures_per_layer is not None:
                dead[l] = np.argsort(rng.random(n))[:f[l - 1]]
            else:
                dead[l] = np.nonzero(rng.random(n) < p[l - 1])[0]
        rows = program_dead_neurons(program, dead)
        out = simulate(program, x, ticks=ticks, mode="rate",
                       faults=FaultState(dead_neurons=rows)).rates if rows.size else base
        per_sample[s] = np.abs(out - base).max(axis=1).mean()
    return MonteCarloResult.of(per_sample, len(x))


def check_program_inputs(program, inputs) -> np.ndarray:
    """``inputs`` as float64 (B ≥ 1, n_inputs of ``program``), or ValidationError naming them."""
    x = np.asarray(inputs, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != program.n_inputs or len(x) == 0:
        raise ValidationError(f"argument 'inputs': shape {x.shape}, expected (n_inputs ≥ 1, "
                              f"{program.n_inputs})")
    return x
