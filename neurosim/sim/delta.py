"""Rate-mode evaluation of a faulty chip as a change of the fault-free one, level by level.

Only what the faults touch is computed. A fault makes some neurons *special*: dead (rate 0),
modified (column or threshold changed: r_n = clip((D_u + Σ_{a: W'≠W} ρ_a (W'[a,n] − W[a,n])) /
α'_n, 0, 1), D_u its unit's drive) or dropped (a routing upset took its spikes off its axon). The
rate arriving on an axon then changes by Δρ_a; the drives of the units of that core change by

    ΔD = Δρ (B, m) @ W[changed axons, units touched]        (one small product per core)

and a unit whose rate r = clip((D⁰ + ΔD)/α, 0, 1) differs from its fault-free rate passes its
change Δr on to the axons its neurons feed, at deeper levels. Cores are visited in level order, so
every Δρ arriving on a core is known when it is visited. No array of the program's size is copied:
the fault-free drives D⁰ (:class:`neurosim.sim.unit_graph.UnitGraph`) are read, never written.

A routing upset that sends a neuron's spikes to another used axon at a deeper level (*extra*
route) adds its rate there, capped at 1: ρ_a = min(ρ_a,own + Σ r_extra, 1).

The counters are the fault-free ones plus the changes of the neurons and axons touched (the
definitions of :mod:`neurosim.sim.rate`): spikes Σ_B r·T per core, synaptic events
Σ_a (Σ_B ρ_a)·(connected enabled neurons on a)·T, hops Σ_B r·(|Δrow| + |Δcol|)·T.
"""
import numpy as np

from neurosim.sim.unit_graph import rates


class Propagation:
    """One faulty evaluation over a :class:`~neurosim.sim.unit_graph.UnitGraph` ``g``.

    ``dead`` (set of neurons), ``modified`` {n: (core, axons, ΔW)}, ``alpha_new`` {n: α'},
    ``dropped`` (set), ``extra`` {axon key: [neurons]}. :meth:`run` visits the touched cores in
    level order; then ``arrived`` {core: (axons, Δρ (m, B))} holds every axon whose arriving rate
    changed, ``changed`` {core: (units, new drives (t, B), Δr (t, B))} every unit whose drive
    changed, ``special_rate`` {n: r (B,)} the dead and modified neurons' own rates. Arrays are
    unit-major (one row per unit or axon), like the drives D⁰."""

    def __init__(self, g, dead, modified, alpha_new, dropped, extra):
        self.g = g
        self.dead, self.modified, self.alpha_new = dead, modified, alpha_new
        self.dropped, self.extra = dropped, extra
        self.special = dead | set(modified) | dropped
        self.pending = {}          # core → [(axons, Δρ (m, B))] emitted, not yet visited
        self.arrived = {}
        self.changed = {}
        self.special_rate = {}

    # ------------------------------------------------------------------ rates
    def _changed_row(self, u):
        """(new drive, Δr) of unit u if its drive changed, else None."""
        got = self.changed.get(int(self.g.u_core[u]))
        if got is not None:
            i = np.searchsorted(got[0], u)
            if i < got[0].size and got[0][i] == u:
                return got[1][i], got[2][i]
        return None

    def unit_rate(self, u):
        """(B,) rate of unit u on the faulty chip."""
        r = self.g.base_unit_rates([u])[0]
        got = self._changed_row(u)
        return r if got is None else r + got[1]

    def neuron_rate(self, n):
        """(B,) rate of neuron n on the faulty chip (its own: a dropped route does not change
        it)."""
        r = self.special_rate.get(n)
        return r if r is not None else self.unit_rate(int(self.g.unit_of[n]))

    def _arriving(self, c, a):
        """(B,) rate arriving on axon (c, a) of the faulty chip (core c visited or being)."""
        rho = self.g.base_axon_rates(c, [a])[0]
        axons, drho = self.arrived.get(c, (None, None))
        if axons is not None:
            i = np.nonzero(axons == a)[0]
            if i.size:
                return rho + drho[i[0]]
        return rho

    def _emit(self, keys, drho):
        """Δρ (k, B) arriving on the axons ``keys`` (c·A + a), grouped by core."""
        A = self.g.A
        cores = keys // A
        if cores[0] == cores[-1] and (cores.size < 3 or np.all(cores == cores[0])):
            self.pending.setdefault(int(cores[0]), []).append((keys % A, drho))
            return
        order = np.argsort(cores, kind="stable")
        cores, keys, drho = cores[order], keys[order], drho[order]
        cut = np.flatnonzero(np.diff(cores)) + 1
        for lo, hi in zip([0, *cut.tolist()], [*cut.tolist(), cores.size]):
            self.pending.setdefault(int(cores[lo]), []).append((keys[lo:hi] % A, drho[lo:hi]))

    # ------------------------------------------------------------------ the pass
    def run(self):
        """Visit every touched core in level order (the special neurons are marked in the
        graph's scratch mask meanwhile)."""
        g = self.g
        by_level = {}
        for n in self.special:
            by_level.setdefault(int(g.neuron_level[n]), set()).add(int(g.n_core[n]))
        for key in self.extra:
            c = int(key) // g.A
            by_level.setdefault(int(g.core_level[c]), set()).add(c)
        marked = np.fromiter(self.special, np.int64, len(self.special))
        g.special_mask[marked] = True
        try:
            for lv in range(g.n_level):
                cores = by_level.get(lv, set()) | {c for c in self.pending
                                                   if g.core_level[c] == lv}
                for c in sorted(cores):
                    self._visit(c)
        finally:
            g.special_mask[marked] = False
        return self

    def _visit(self, c):
        """Apply the Δρ arriving on core c, compute its special neurons, emit what changed."""
        g = self.g
        chunks = self.pending.pop(c, [])
        if chunks:
            self.arrived[c] = (np.concatenate([a for a, _ in chunks]),
                               np.concatenate([d for _, d in chunks]))
        self._extra_routes(c)
        u0, u1 = g.core_units[c]
        if c in self.arrived and u1 > u0:
            axons, drho = self.arrived[c]
            w = g.weights[c][axons]
            touched = np.nonzero(w.any(axis=0))[0]
            if touched.size:
                units = u0 + touched
                d0 = g.D0[units]
                d_new = d0 + w[:, touched].T.astype(np.float64) @ drho
                dr = rates(d_new, g.u_alpha[units]) - g.base_unit_rates(units)
                self.changed[c] = (units, d_new, dr)
                moved = np.any(dr != 0.0, axis=1)
                self._emit_units(units[moved], dr[moved])
        self._special_neurons(c)

    def _extra_routes(self, c):
        """Axons of core c that an upset routed extra neurons to: Δρ = min(ρ + Σ r, 1) − ρ⁰."""
        g = self.g
        for key, ns in self.extra.items():
            cc, a = divmod(int(key), g.A)
            if cc != c:
                continue
            total = self._arriving(c, a) + sum(self.neuron_rate(n) for n in ns)
            d = np.minimum(total, 1.0) - g.base_axon_rates(c, [a])[0]
            axons, drho = self.arrived.get(c, (np.zeros(0, np.int64), np.zeros((0, g.B))))
            keep = axons != a
            self.arrived[c] = (np.r_[axons[keep], a], np.vstack([drho[keep], d]))

    def _emit_units(self, units, dr):
        """Every regular neuron of the changed ``units`` passes Δr on to its axon."""
        g = self.g
        col, neurons = g.members(units)
        keep = (g.dest_of[neurons] >= 0) & ~g.special_mask[neurons]
        if keep.any():
            self._emit(g.dest_of[neurons[keep]], dr[col[keep]])

    def _special_neurons(self, c):
        """Own rates of the dead and modified neurons of core c and what they (and the dropped
        ones) change on their axons: (actual − fault-free) rate."""
        g = self.g
        lo, hi = g.core_nptr[c], g.core_nptr[c + 1]
        for n in sorted(x for x in self.special if lo <= x < hi):
            u = int(g.unit_of[n])
            if n in self.dead:
                self.special_rate[n] = np.zeros(g.B)
            elif n in self.modified:
                _, idx, dw = self.modified[n]
                got = self._changed_row(u)
                d = g.D0[u].astype(np.float64) if got is None else got[0].copy()
                for a, w in zip(idx.tolist(), dw.tolist()):
                    d += self._arriving(c, a) * w
                self.special_rate[n] = np.clip(d / self.alpha_new[n], 0.0, 1.0)
            if g.dest_of[n] < 0:
                continue
            actual = 0.0 if (n in self.dead or n in self.dropped) else self.neuron_rate(n)
            d = actual - g.base_unit_rates([u])[0]
            self._emit(g.dest_of[n:n + 1], d[None])

    # ------------------------------------------------------------------ what changed
    def output_rates(self):
        """(B, K) output rates."""
        g = self.g
        units = g.unit_of[g.out_n]
        out = g.base_unit_rates(units)
        for c in np.unique(g.u_core[units]).tolist():
            if c in self.changed:
                changed_units, _, dr = self.changed[c]
                at = np.searchsorted(changed_units, units)
                hit = (at < changed_units.size) & (changed_units[np.minimum(
                    at, changed_units.size - 1)] == units)
                out[hit] += dr[at[hit]]
        for k, n in enumerate(g.out_n.tolist()):
            if n in self.special_rate:
                out[k] = self.special_rate[n]
        return out.T

    def neuron_sum_changes(self):
        """(neurons, Δ Σ_B r) of every neuron whose rate changed."""
        g = self.g
        ns, ds = [np.zeros(0, np.int64)], [np.zeros(0)]
        own = np.fromiter(self.special_rate, np.int64, len(self.special_rate))
        for units, _, dr in self.changed.values():
            col, neurons = g.members(units)
            keep = ~np.isin(neurons, own)
            ns.append(neurons[keep]), ds.append(dr.sum(axis=1)[col[keep]])
        for n, r in self.special_rate.items():
            ns.append(np.array([n])), ds.append(np.array(
                [r.sum() - g.base_unit_rates([int(g.unit_of[n])]).sum()]))
        return np.concatenate(ns), np.concatenate(ds)

    def axon_sums(self):
        """(axon keys, Σ_B ρ) of every axon whose arriving rate changed (summed from the rates
        themselves, so that an axon whose source died sums to exactly 0)."""
        g = self.g
        keys = [c * g.A + axons for c, (axons, _) in self.arrived.items()]
        sums = [(g.base_axon_rates(c, axons) + drho).sum(axis=1)
                for c, (axons, drho) in self.arrived.items()]
        return (np.concatenate(keys) if keys else np.zeros(0, np.int64),
                np.concatenate(sums) if sums else np.zeros(0))
