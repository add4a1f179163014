"""A fast rate-mode evaluator for missions: one compiled program, one evaluation set, many
FaultStates.

It computes what :func:`neurosim.sim.simulate` (``mode="rate"``) computes — each enabled
neuron's steady-state rate r_j = clip((Σ_i ρ_i W[i, j] + λ_j) / α_j, 0, 1) in topological order,
ρ_i the rate arriving on axon i — and the same expected counters, but at a cost proportional to
what the faults touch:

* the program is reduced to units, levels and per-core unit weights once
  (:class:`neurosim.sim.unit_graph.UnitGraph`), and the fault-free drives D⁰ are computed once;
* a FaultState is read as changes to a few neurons (:meth:`FastRate.evaluate`, the semantics of
  :func:`neurosim.chip.faults.apply` for the affected neurons only, no program copy), and the
  changes are propagated level by level (:class:`neurosim.sim.delta.Propagation`).

Exactness: in float64 the outputs equal ``simulate(mode="rate")`` to rounding (D⁰ + ΔD instead of
D computed afresh: ≤ 10⁻¹² on rates in the tests); networks whose drives exceed
:data:`neurosim.sim.unit_graph.FLOAT64_DRIVE_BYTES` keep D⁰ in float32 (rates within 10⁻⁶).

Fallback: a program the unit graph does not handle (several sources on one axon, a routing
cycle) goes through the generic rate simulator on ``apply``'s program: correct, slower, rare. A
routing upset that sends spikes back to a core of the same or an earlier level creates feedback,
which rate mode cannot evaluate in closed form (``simulate`` refuses it): that route is counted as
dropped and ``approximated`` is incremented.
"""
from dataclasses import dataclass

import numpy as np

from neurosim.chip.faults import _flip_routing, apply
from neurosim.sim.counters import ActivityCounters
from neurosim.sim.delta import Propagation, RowStore
from neurosim.sim.rate import run_rate
from neurosim.sim.unit_graph import UnitGraph, Unsupported

# Programs with at most this many used neurons have their hops summed over every neuron (cheaper
# than finding the changed ones below a few thousand: measured, assumption about the machine).
WHOLE_COUNTER_NEURONS = 4096


@dataclass
class FastResult:
    """Output rates (B, K) and per-core expected counter totals over the batch."""

    out: np.ndarray
    spikes: np.ndarray
    events: np.ndarray
    hops: np.ndarray
    updates: np.ndarray
    powered: np.ndarray
    input_spikes: float

    def counters(self, ticks, batch, multiplicity=None):
        """ActivityCounters; ``multiplicity`` (C,) scales each core (TMR replicas)."""
        m = np.ones_like(self.spikes) if multiplicity is None else np.asarray(multiplicity, float)
        return ActivityCounters(
            ticks=ticks, batch=batch, spikes=float((self.spikes * m).sum()),
            synaptic_events=float((self.events * m).sum()),
            neuron_updates=float((self.updates * m).sum()), hops=float((self.hops * m).sum()),
            input_spikes=float(self.input_spikes),
            cores_powered=int(np.round((self.powered * m).sum())),
            core_spikes=self.spikes * m, core_events=self.events * m)


def hop_lengths(core_xy, dest_core, src_core):
    """|Δrow| + |Δcol| from each ``src_core`` to its ``dest_core`` (0 where dest_core < 0)."""
    xy = np.asarray(core_xy)
    return np.where(dest_core >= 0,
                    np.abs(xy[np.maximum(dest_core, 0)] - xy[src_core]).sum(axis=-1), 0)


class FastRate:
    """Rate-mode evaluator of ``program`` on ``inputs`` (B, n_inputs) for many FaultStates.
    ``dtype`` of the fault-free drives: None picks float64 unless they are large (module
    docstring)."""

    def __init__(self, program, inputs, ticks=64, dtype=None):
        self.program = program
        self.ticks = int(ticks)
        self.X = np.ascontiguousarray(inputs, dtype=np.float64)
        self.B = self.X.shape[0]
        self.approximated = 0   # evaluations where a feedback route was counted as dropped
        try:
            self.graph = UnitGraph(program, self.X, dtype)
        except Unsupported:
            self.graph = None
        self.generic = self.graph is None
        self.rows = None if self.generic else RowStore(self.B)   # Δρ / Δr rows, reused
        self.base = self._evaluate_generic(program) if self.generic else self._base_result()
        self.base_out = self.base.out

    # ------------------------------------------------------------------ fault-free
    def _base_result(self):
        """The fault-free FastResult, and the per-neuron and per-axon batch sums the faulty
        evaluations start from."""
        g, p, T = self.graph, self.program, self.ticks
        C, A = g.C, g.A
        self.s0 = g.unit_sums0[g.unit_of]                            # Σ_B r per neuron
        ax = np.zeros(C * A)
        np.add.at(ax, p.input_core.astype(np.int64) * A + p.input_axon,
                  self.X.sum(axis=0)[p.input_index])
        fed = g.dest_of >= 0
        np.add.at(ax, g.dest_of[fed], self.s0[fed])
        self.ax0 = ax
        self.nnz0 = p.row_synapses().astype(np.float64).ravel()
        self.dest0 = p.dest_core[g.n_core, g.n_slot]
        self.hop0 = hop_lengths(p.core_xy, self.dest0, g.n_core)
        self.enabled_per_core = np.bincount(g.n_core, minlength=C)
        out = g.base_unit_rates(g.out_units).T
        return FastResult(
            out, np.bincount(g.n_core, self.s0, minlength=C) * T,
            (ax * self.nnz0).reshape(C, A).sum(axis=1) * T,
            np.bincount(g.n_core, self.s0 * self.hop0, minlength=C) * T,
            self.enabled_per_core.astype(np.float64) * T * self.B,
            (self.enabled_per_core > 0).astype(np.float64), float(self.X.sum() * T))

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, faults=None, core_xy=None):
        """FastResult of the program with ``faults`` applied (and cores at ``core_xy``)."""
        if (faults is None or faults.empty) and core_xy is None:
            return self.base
        if self.generic:
            return self._generic_with(faults, core_xy)
        dead = self._dead(faults)
        dropped, extra, new_dest = self._routes(faults, dead)
        modified, alpha_new, cols = {}, {}, {}
        if faults is not None and (faults.stuck_synapses.size or faults.weight_flips.size
                                   or faults.threshold_flips.size):
            modified, alpha_new, cols = self._modified(faults, dead)
        if not (dead or new_dest or modified or cols) and core_xy is None:
            return self.base            # the faults change no rate, route or connection
        prop = Propagation(self.graph, self.rows, dead, modified, alpha_new, dropped, extra)
        try:
            return self._faulty_result(prop.run(), dead, cols, new_dest, core_xy)
        finally:
            prop.release()

    def _dead(self, faults):
        """Used neurons that are dead (listed, or on a dead core)."""
        g = self.graph
        if faults is None or not (faults.dead_neurons.size or faults.dead_cores.size):
            return set()
        d = faults.dead_neurons
        dead = set(int(n) for n in g.nid[d[:, 0], d[:, 1]] if n >= 0)
        for c in faults.dead_cores[:, 0].tolist():
            dead.update(range(int(g.core_nptr[c]), int(g.core_nptr[c + 1])))
        return dead

    def _routes(self, faults, dead):
        """Routing upsets: dropped neurons, extra routes {axon key: [neurons]} and the new
        destination core of each neuron whose route changed {n: core or −1}."""
        dropped, extra, new_dest = set(), {}, {}
        if faults is None or not faults.routing_flips.size:
            return dropped, extra, new_dest
        g, p0, A = self.graph, self.program, self.graph.A
        new = _flip_routing(p0, faults.routing_flips)
        for c, j in {(int(c), int(j)) for c, j, _ in faults.routing_flips}:
            n = int(g.nid[c, j])
            d0, a0 = p0.dest_core[c, j], p0.dest_axon[c, j]
            d1, a1 = int(new["dest_core"][c, j]), int(new["dest_axon"][c, j])
            if n < 0 or (d1 == d0 and (a1 == a0 or d0 < 0)):
                continue
            new_dest[n] = d1
            dropped.add(n)
            if d1 >= 0 and g.core_level[d1] > g.core_level[c]:
                extra.setdefault(d1 * A + a1, []).append(n)     # added on its new axon
            elif d1 >= 0:
                self.approximated += 1     # feedback: no closed form; the route counts dropped
        return dropped, extra, new_dest

    def _modified(self, faults, dead):
        """Neurons whose column or threshold changed: {n: (core, axons, ΔW)}, {n: α'}, and the
        new crossbar column of every (core, neuron) whose column changed. The columns of all
        the (core, neuron) pairs hit are gathered at once; the faults are applied in
        :func:`neurosim.chip.faults.apply`'s order (stuck bits, weight flips, threshold flips,
        each in listed order); ΔW = x'·w'[type] − x·w[type] per axon."""
        p0 = self.program
        typed = p0.synapse_weights is None
        wmax = p0.profile.weight_max
        mbits = int(np.log2(wmax + 1))
        stuck, flips = faults.stuck_synapses.tolist(), faults.weight_flips.tolist()
        thr = faults.threshold_flips.tolist()
        at = {}                                  # (core, neuron) → row of the gathered arrays
        for c, _, j, _ in stuck + flips:
            at.setdefault((c, j), len(at))
        for c, j, _ in thr:
            at.setdefault((c, j), len(at))
        modified, alpha_new, cols = {}, {}, {}
        if not at:
            return modified, alpha_new, cols
        cs, js = np.array(list(at)).T
        x0 = p0.crossbar[cs, :, js]                                      # (k, A)
        w0 = (p0.weights if typed else p0.synapse_weights)[cs, :, js].astype(np.int64)
        x, w = x0.copy(), w0.copy()
        alpha0 = p0.threshold[cs, js].astype(np.int64)
        alpha = alpha0.tolist()
        for c, a, j, v in stuck:
            x[at[(c, j)], a] = bool(v)
        for c, a, j, bit in flips:
            i = at[(c, j)]
            w[i, a] = _flip_weight(int(w[i, a]), bit, mbits, wmax)
        for c, j, bit in thr:
            alpha[at[(c, j)]] ^= 1 << bit
        if typed:                                # weights per axon type → per axon
            types = p0.axon_type[cs]
            row = np.arange(len(at))[:, None]
            w, w0 = w[row, types], w0[row, types]
        diff = (x * w - x0 * w0).astype(np.float64)
        moved = (x != x0).any(axis=1).tolist()
        nids = self.graph.nid[cs, js].tolist()
        tmax = p0.profile.threshold_max
        hit, axon = np.nonzero(diff)             # row-major: each row's axons in order
        nonzero = diff[hit, axon]
        ends = np.cumsum(np.bincount(hit, minlength=len(at))).tolist()
        alpha0 = alpha0.tolist()
        for i, (c, j) in enumerate(at):
            if moved[i]:
                cols[(c, j)] = x[i]
            n = nids[i]
            if n < 0 or n in dead:
                continue
            a_i = min(max(alpha[i], 1), tmax)
            lo, hi = ends[i - 1] if i else 0, ends[i]
            if lo == hi and a_i == alpha0[i]:
                continue
            idx = axon[lo:hi]
            modified[n] = (c, idx, nonzero[lo:hi])
            alpha_new[n] = float(a_i)
        return modified, alpha_new, cols

    # ------------------------------------------------------------------ counters
    def _faulty_result(self, prop, dead, cols, new_dest, core_xy):
        """The fault-free counters plus the changes of the neurons and axons ``prop`` touched
        (spikes, hops, events) and of the dead neurons (updates, powered cores); a core with no
        enabled neuron left counts exactly 0."""
        g, T, C = self.graph, self.ticks, self.graph.C
        spikes, hops = self._neuron_counters(prop, new_dest, core_xy)
        events = self._events(prop, dead, cols)
        updates, powered = self.base.updates, self.base.powered
        if dead:
            lost = np.bincount(g.n_core[np.fromiter(dead, np.int64, len(dead))], minlength=C)
            updates = updates - lost * float(T * self.B)
            powered = (self.enabled_per_core - lost > 0).astype(np.float64)
            spikes[powered == 0] = 0.0
            hops[powered == 0] = 0.0
        return FastResult(prop.output_rates(), spikes, events, hops, updates, powered,
                          self.base.input_spikes)

    def _neuron_counters(self, prop, new_dest, core_xy):
        """(C,) spikes Σ s·T and hops Σ s·hop·T, s = Σ_B r per neuron: the fault-free ones plus
        the changes of the neurons whose rate or route changed (hops of every neuron when the
        cores moved or the program has at most :data:`WHOLE_COUNTER_NEURONS`)."""
        g, p0, T = self.graph, self.program, self.ticks
        ns, ds = prop.neuron_sum_changes()
        spikes = self.base.spikes + np.bincount(g.n_core[ns], ds, minlength=g.C) * T
        routed = np.fromiter(new_dest, np.int64, len(new_dest))
        if core_xy is not None or g.n_core.size <= WHOLE_COUNTER_NEURONS:
            s = self.s0.copy()
            s[ns] += ds
            dest = self.dest0.copy()
            dest[routed] = [new_dest[n] for n in routed.tolist()]
            hop = hop_lengths(p0.core_xy if core_xy is None else core_xy, dest, g.n_core)
            return spikes, np.bincount(g.n_core, s * hop, minlength=g.C) * T
        change = ds * self.hop0[ns]
        if routed.size:                  # s·hop' − s⁰·hop⁰ = Δs·hop⁰ + s·(hop' − hop⁰)
            ds_full = np.zeros(g.n_core.size)
            ds_full[ns] = ds
            hop = hop_lengths(p0.core_xy, np.array([new_dest[n] for n in routed.tolist()]),
                              g.n_core[routed])
            ns = np.concatenate([ns, routed])
            change = np.concatenate([change, (self.s0[routed] + ds_full[routed])
                                     * (hop - self.hop0[routed])])
        return spikes, self.base.hops + np.bincount(g.n_core[ns], change, minlength=g.C) * T

    def _events(self, prop, dead, cols):
        """(C,) Σ_a (Σ_B ρ_a)·nnz_a·T: the fault-free axon sums and connection counts with
        the changed ones set (axons whose rate changed; dead neurons and changed crossbar
        columns), summed again in one pass (C·A elements, the same sums as the fault-free
        ones where nothing changed)."""
        g, p0, A = self.graph, self.program, self.graph.A
        keys, sums = prop.axon_sums()
        ax = self.ax0.copy()
        ax[keys] = sums
        nnz = self.nnz0
        cores, change = [], []           # per changed column: its core, Δ connections (A,)
        live = [(c, j, x) for (c, j), x in cols.items()
                if (n := int(g.nid[c, j])) >= 0 and n not in dead]
        if live:
            c, j, x = (list(t) for t in zip(*live))
            cores.append(np.array(c, np.int64))
            change.append(np.array(x, np.float64) - p0.crossbar[c, :, j])
        if dead:
            d = np.fromiter(dead, np.int64, len(dead))
            cores.append(g.n_core[d])
            change.append(0.0 - p0.crossbar[g.n_core[d], :, g.n_slot[d]])
        if cores:                        # integer counts: exact in any order
            nnz = nnz.copy()
            np.add.at(nnz.reshape(g.C, A), np.concatenate(cores), np.concatenate(change))
        return (ax * nnz).reshape(g.C, A).sum(axis=1) * self.ticks

    # ------------------------------------------------------------------ generic fallback
    def _generic_with(self, faults, core_xy):
        prog = apply(self.program, faults)
        if core_xy is not None:
            prog = prog.replace(core_xy=np.asarray(core_xy, np.int32))
        return self._evaluate_generic(prog)

    def _evaluate_generic(self, prog):
        nr, out, c = run_rate(prog, self.X, self.ticks)
        C = prog.n_cores
        src = np.repeat(np.arange(C), prog.n_neurons).reshape(C, -1)
        hop = hop_lengths(prog.core_xy, prog.dest_core, src)
        hops = (nr.sum(axis=0) * hop).sum(axis=1) * self.ticks
        updates = prog.enabled.sum(axis=1).astype(np.float64) * self.ticks * self.B
        return FastResult(out, c.core_spikes, c.core_events, hops, updates,
                          prog.enabled.any(axis=1).astype(np.float64), c.input_spikes)


def _flip_weight(w, bit, magnitude_bits, weight_max):
    """A sign-magnitude weight code with one bit flipped (bit ``magnitude_bits`` is the sign),
    the magnitude capped at ``weight_max`` (:func:`neurosim.chip.faults.apply`)."""
    sign, mag = w < 0, abs(w)
    if bit == magnitude_bits:
        sign = not sign
    else:
        mag ^= 1 << bit
    mag = min(mag, weight_max)
    return -mag if sign else mag
