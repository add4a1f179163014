"""Bounds of a compiled ChipProgram in rate mode: the MLP-unit view and the chip-level model.

The chip in rate mode computes, for every enabled neuron j of core c,
r_j = clip((Σ_a ρ_a W_c[a, j] + λ_j) / α_j, 0, 1), with ρ_a the rate arriving on axon a (inputs and
routed neurons; several sources add, capped at 1). In rate units that is a network with K = 1 (clip
is 1-Lipschitz) and C = 1 (rates lie in [0, 1]) whose weights are W/α. Two views of it:

* **MLP-unit view** (:func:`program_constants`, :func:`program_unit_weights`): the chip neurons are
  mapped back to the MLP's units (the program's unit map), copies' weights summed, relay pairs
  folded in; a crash kills a unit with all its copies. For comparing with the MLP before
  compilation. It is *not* a bound per dead chip neuron: a dead bitplane copy (one part of a
  weight, e.g. −1 = −8 + 4 + 2 + 1) changes a weight instead of crashing a unit.
* **Chip-level model** (:func:`chip_model`, :class:`ChipBoundModel`): the compiled program as the
  network it is. Every enabled chip neuron is a node (copies and relays included); a crash sets its
  rate to 0. Nodes are grouped into *levels*: a core's level is one more than the deepest core
  routing into it (0 for cores fed only by inputs), a node's level is its core's, and the output
  neurons form their own level(s). The weight from node s to node j is w_sj = W_d[a_s, j] / α_j,
  a_s the axon of core d that s routes to. Per pair of levels (g', g):

      w_max(g', g) = max |w_sj|,   w_mean(g', g) = Σ |w_sj| / (N_g' N_g)      (s ∈ g', j ∈ g).

  Fep (worst case, per realisation; the argument of El Mhamdi & Guerraoui 2017, "When Neurons
  Fail", generalised to edges that skip levels). With f_g dead nodes in level g, let S_g bound the
  *sum* of the absolute rate errors of level g. A dead node's error is r ≤ C = 1; a surviving
  node j sees |Δz_j/α_j| ≤ Σ_s |w_sj| |Δr_s| (several sources on one axon add, and the cap at 1 is
  1-Lipschitz), so, levels in order,

      S_g = C f_g + (N_g − f_g) · K · Σ_{g' before g} w_max(g', g) · S_g'

  and a surviving output neuron of output level o errs by at most T_o = K Σ_g' w_max(g', o) S_g',
  a dead one by at most C, so

      ‖Δr_out‖∞ ≤ Fep = max_o [ T_o + min(f_o, 1) · max(C − T_o, 0) ]

  (for integer counts: T_o when no output neuron of o is dead, max(T_o, C) otherwise). It holds for
  *every* set of dead chip neurons with those counts and every input: nothing in it depends on
  which neurons died or on the input.

  Erf (average estimate, El Mhamdi, Guerraoui & Rouault 2017, "On the Robustness of a Neural
  Network"; the form of :mod:`neurosim.bounds.theory`): the same recursion with f_g = p_g N_g and
  w_mean in place of w_max, and min(p_o N_o, 1) for the output level (= 1 when a whole output
  neuron is dead; an upper estimate of P(one is dead) = 1 − (1 − p_o)^N_o otherwise). It is an
  estimate, not a bound.

  On a program with one chip neuron per MLP unit (``ideal`` profile, no copies, no relays) the
  levels are the MLP's layers and both equal the MLP-unit view (a test holds them together).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.bounds.observed import MonteCarloResult
from neurosim.bounds.theory import NetworkConstants, _per_layer
from neurosim.chip.faults import FaultState
from neurosim.errors import ValidationError
from neurosim.sim import simulate
from neurosim.sim.rate import core_order
from neurosim.validation import check_inputs


# ====================================================================== MLP-unit view
def program_constants(program) -> NetworkConstants:
    """NetworkConstants (K = 1, C = 1) of a compiled ChipProgram, in the MLP's structure.

    The chip computes r_j = clip(Σ_a ρ_a W[a, j] / α_j + λ_j / α_j, 0, 1) (rate mode), so in rate
    units it is a network with K = 1 and C = 1 whose weights are the effective integer weights
    divided by the receiving neuron's threshold α_j. The per-layer normalisation scales λ_l are
    already inside those integers (the compiler writes Ŵ = W λ_{l−1} / λ_l), so nothing is
    rescaled here. The program's unit map (``unit_neurons`` / ``unit_relays``) takes chip
    neurons back to MLP units:

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

    Raises ValidationError when the program carries no unit map (not compiled by
    :func:`neurosim.compiler.compile`).
    """
    mats = program_unit_weights(program)
    sizes = [mats[0].shape[0]] + [m.shape[1] for m in mats]
    return NetworkConstants(tuple(int(s) for s in sizes),
                            tuple(float(np.abs(m).max()) if m.size else 0.0 for m in mats),
                            tuple(float(np.abs(m).mean()) if m.size else 0.0 for m in mats),
                            K=1.0, C=1.0, activation="chip rate")


def _require_unit_map(program):
    """The number of MLP layers of ``program``'s unit map; ValidationError when it has none."""
    if not program.has_unit_map():
        raise ValidationError("program has no unit map (the map from chip neurons to MLP units "
                              "written by neurosim compile): cannot derive its bounds")
    return int(program.layer_size.size)


def program_unit_weights(program) -> list:
    """The compiled network's unit-level weight matrices in rate units, one (N_{l−1}, N_l) per
    MLP layer (see :func:`program_constants`)."""
    n_layers = _require_unit_map(program)
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
    for li in range(n_layers):
        units = program.unit_neurons(li)
        relays = program.unit_relays(li)
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
                                              f"an external input; the unit map disagrees with "
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
                                              f"by core {key[0]} neuron {key[1]}, which the "
                                              f"unit map does not place in layer {li - 1}")
            return su, sw, ru, rw

        D = np.zeros((n_prev, len(units)))
        Q = np.zeros((n_prev, len(relay_index)))
        R = np.zeros((len(relay_index), len(units)))
        for (c, n), r in relay_index.items():
            if relay_sign[r] > 0:   # r⁻ mirrors r⁺ (see the docstring)
                su, sw, _, _ = incoming(c, n)
                np.add.at(Q[:, r], su, sw)
        for j, copies in enumerate(units):
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
    _require_unit_map(program)
    rows = [program.unit_neurons(l - 1)[int(j)] for l, js in dead_units.items() for j in js]
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, 2), np.int64)


def program_monte_carlo_error(program, fail_prob_per_layer, inputs, samples, rng, *,
                              failures_per_layer=None, ticks=64) -> MonteCarloResult:
    """:func:`neurosim.bounds.observed.monte_carlo_error` for a compiled program in rate mode: each
    sample crashes MLP units (every copy of unit j, from the unit map) independently with
    probability p_l per hidden layer (or exactly f_l per layer), evaluates the program with those
    dead neurons (``simulate(mode="rate")``) and averages ‖r_fail(x) − r(x)‖∞ over the output rates
    and the inputs."""
    _require_unit_map(program)
    hidden = [int(n) for n in program.layer_size[:-1]]
    L = len(hidden)
    samples = int(samples)
    if samples < 1:
        raise ValidationError(f"argument 'samples': {samples}, expected ≥ 1", param="samples")
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
    return check_inputs(inputs, program.n_inputs, "argument 'inputs'", "for the program",
                        min_rows=1, param="inputs")


# ====================================================================== chip-level model
K_RATE = 1.0   # clip(z / α, 0, 1) is 1-Lipschitz in z / α
C_RATE = 1.0   # rates lie in [0, 1]


@dataclass(frozen=True, eq=False)
class ChipBoundModel:
    """The chip-level bound model of a program (module docstring).

    level_names: one name per level ("level 0", …, "output"); level_sizes: enabled chip neurons
    per level; is_output: which levels hold output neurons; max_w, sum_w: (G, G) arrays, entry
    [g', g] the largest and the summed |w_sj| over nodes s of level g' feeding nodes j of level
    g (0 where none); level_of_neuron: (C, N) level of every chip neuron, −1 for disabled ones.
    """

    level_names: tuple
    level_sizes: np.ndarray
    is_output: np.ndarray
    max_w: np.ndarray
    sum_w: np.ndarray
    level_of_neuron: np.ndarray

    @property
    def mean_w(self) -> np.ndarray:
        """w_mean(g', g) = Σ |w_sj| / (N_g' N_g)."""
        n = self.level_sizes.astype(np.float64)
        return self.sum_w / np.outer(n, n)

    def dead_counts(self, faults) -> np.ndarray:
        """Dead chip neurons per level under ``faults`` (a FaultState: dead neurons and cores)."""
        dead = np.zeros(self.level_of_neuron.shape, bool)
        if faults.dead_neurons.size:
            dead[faults.dead_neurons[:, 0], faults.dead_neurons[:, 1]] = True
        if faults.dead_cores.size:
            dead[faults.dead_cores] = True
        lv = self.level_of_neuron[dead]
        return np.bincount(lv[lv >= 0], minlength=len(self.level_sizes))

    def fep(self, dead_counts) -> np.ndarray:
        """Worst-case ‖Δr_out‖∞ for ``dead_counts`` (…, G) dead chip neurons per level."""
        f = self._per_level(dead_counts, "dead_counts", self.level_sizes)
        return _propagate_levels(self, f, self.max_w)

    def erf(self, dead_fraction) -> np.ndarray:
        """Average-case estimate of E‖Δr_out‖∞ for a dead fraction (…, G) per level."""
        p = self._per_level(dead_fraction, "dead_fraction", np.ones(len(self.level_sizes)))
        return _propagate_levels(self, p * self.level_sizes, self.mean_w)

    def bounds(self, dead_counts) -> tuple:
        """(erf, fep) at the dead fraction counts / N of each level, and for those counts."""
        f = self._per_level(dead_counts, "dead_counts", self.level_sizes)
        return self.erf(f / self.level_sizes), self.fep(f)

    def _per_level(self, value, name, top):
        v = np.asarray(value, dtype=np.float64)
        if v.ndim == 0 or v.shape[-1] != len(self.level_sizes):
            raise ValidationError(f"argument '{name}': shape {v.shape}, expected one value per "
                                  f"level ({len(self.level_sizes)}: {', '.join(self.level_names)})",
                                  param=name)
        bad = ~((v >= 0) & (v <= top))
        if bad.any():
            g = int(np.nonzero(bad)[-1][0])
            raise ValidationError(f"argument '{name}': {self.level_names[g]} value "
                                  f"{v[..., g].ravel()[0]:g}, expected a number in [0, {top[g]:g}]",
                                  param=name)
        return v


def _propagate_levels(model, f, w):
    """max over output levels of T_o + min(f_o, 1) · max(C − T_o, 0), S as in the module
    docstring (vectorised over leading axes of ``f``)."""
    n = model.level_sizes.astype(np.float64)
    S = np.zeros(f.shape)
    worst = np.zeros(f.shape[:-1])
    for g in range(n.size):
        t = K_RATE * (S[..., :g] @ w[:g, g])
        S[..., g] = C_RATE * f[..., g] + (n[g] - f[..., g]) * t
        if model.is_output[g]:
            worst = np.maximum(worst, t + np.minimum(f[..., g], 1.0) * np.maximum(C_RATE - t, 0.0))
    return worst


def chip_model(program) -> ChipBoundModel:
    """The chip-level bound model of a feed-forward ``program`` (module docstring)."""
    levels = _core_levels(program)
    C, A, N = program.crossbar.shape
    out = np.zeros((C, N), bool)
    out[program.output_core, program.output_neuron] = True
    enabled = program.enabled
    # level g: (core level, is output) in order; outputs after the hidden nodes of their level
    key = np.where(enabled, 2 * levels[:, None] + out, -1)
    present = np.unique(key[key >= 0])
    group = np.full(key.shape, -1, np.int64)
    group[key >= 0] = np.searchsorted(present, key[key >= 0])
    names = tuple(("output" if k % 2 else f"level {k // 2}") +
                  (f" (core level {k // 2})" if k % 2 and (present % 2).sum() > 1 else "")
                  for k in present.tolist())
    sizes = np.bincount(group[group >= 0], minlength=present.size)
    max_w, sum_w = _level_weights(program, group, present.size)
    return ChipBoundModel(names, sizes, (present % 2).astype(bool), max_w, sum_w, group)


def _core_levels(program) -> np.ndarray:
    """Level of each core: 0 if no enabled neuron routes into it, else 1 + the deepest feeder's."""
    order = core_order(program)
    routed = program.enabled & (program.dest_core >= 0)
    rc, rj = np.nonzero(routed)
    feeders = [[] for _ in range(program.n_cores)]
    for src, dst in set(zip(rc.tolist(), program.dest_core[rc, rj].tolist())):
        feeders[dst].append(src)
    level = np.zeros(program.n_cores, np.int64)
    for c in order:
        if feeders[c]:
            level[c] = 1 + max(level[f] for f in feeders[c])
    return level


def _level_weights(program, group, G):
    """(max_w, sum_w), each (G, G): |w_sj| = |W_d[a_s, j]| / α_j over every routed source s."""
    max_w = np.zeros((G, G))
    sum_w = np.zeros((G, G))
    src = program.enabled & (program.dest_core >= 0)
    sc, sj = np.nonzero(src)
    dest = program.dest_core[sc, sj]
    order = np.argsort(dest, kind="stable")
    sc, sj, dest = sc[order], sj[order], dest[order]
    starts = np.searchsorted(dest, np.arange(program.n_cores + 1))
    for d in np.unique(dest).tolist():
        rows = slice(starts[d], starts[d + 1])
        axons = program.dest_axon[sc[rows], sj[rows]]
        g_src = group[sc[rows], sj[rows]]
        w = np.abs(program.effective_weights(d)[axons].astype(np.float64)) / np.maximum(
            program.threshold[d].astype(np.float64), 1.0)
        for g in np.unique(group[d][group[d] >= 0]).tolist():
            cols = w[:, group[d] == g]
            np.maximum.at(max_w[:, g], g_src, cols.max(axis=1))
            np.add.at(sum_w[:, g], g_src, cols.sum(axis=1))
    return max_w, sum_w
