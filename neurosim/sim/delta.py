"""Rate-mode evaluation of a faulty chip as a change of the fault-free one, level by level.

Only what the faults touch is computed. A fault makes some neurons *special*: dead (rate 0),
modified (column or threshold changed: r_n = clip((D_u + Σ_{a: W'≠W} ρ_a (W'[a,n] − W[a,n])) /
α'_n, 0, 1), D_u its unit's drive) or dropped (a routing upset took its spikes off its axon). The
rate arriving on an axon then changes by Δρ_a; the drives of the units of that core change by

    ΔD = W[changed axons, units touched]ᵀ @ Δρ             (one sparse product per level)

and a unit whose rate r = clip((D⁰ + ΔD)/α, 0, 1) differs from its fault-free rate passes its
change Δr on to the axons its neurons feed, at deeper levels. Levels are taken in order, every
touched core of a level in one sparse product (``axon_units`` rows of the changed axons), so every
Δρ arriving on a level is known when it is applied. No array of the program's size is copied:
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
    ``dropped`` (set), ``extra`` {axon key: [neurons]}. :meth:`run` takes the levels in order,
    all touched cores of a level in one sparse product; then ``arrived`` {level: (axon keys,
    Δρ (m, B))} holds every axon whose arriving rate changed, ``changed`` {level: (units, new
    drives (t, B), Δr (t, B))} every unit whose drive changed, ``special_rate`` {n: r (B,)} the
    dead and modified neurons' own rates. Arrays are unit-major (one row per unit or axon), like
    the drives D⁰."""

    def __init__(self, g, dead, modified, alpha_new, dropped, extra):
        self.g = g
        self.dead, self.modified, self.alpha_new = dead, modified, alpha_new
        self.dropped, self.extra = dropped, extra
        self.special = dead | set(modified) | dropped
        self.pending = {}          # level → [(axon keys, Δρ (m, B))] emitted, not yet applied
        self.arrived = {}
        self.changed = {}
        self.special_rate = {}

    # ------------------------------------------------------------------ lookups
    @staticmethod
    def _find(sorted_ids, ids):
        """(positions, found) of ``ids`` in the sorted array ``sorted_ids``."""
        at = np.searchsorted(sorted_ids, ids)
        found = at < sorted_ids.size
        found[found] = sorted_ids[at[found]] == np.asarray(ids)[found]
        return at, found

    def _changed_row(self, u):
        """(new drive, Δr) of unit u if its drive changed, else None."""
        got = self.changed.get(int(self.g.u_level[u]))
        if got is not None:
            at, found = self._find(got[0], [u])
            if found[0]:
                return got[1][at[0]], got[2][at[0]]
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

    def _arriving(self, key):
        """(B,) rate arriving on axon ``key`` of the faulty chip (its level applied or being)."""
        rho = self.g.base_key_rates([key])[0]
        got = self.arrived.get(int(self.g.core_level[key // self.g.A]))
        if got is not None:
            at, found = self._find(got[0], [key])
            if found[0]:
                return rho + got[1][at[0]]
        return rho

    def _emit(self, keys, drho):
        """Δρ (k, B) arriving on the axon ``keys`` (c·A + a), grouped by level."""
        levels = self.g.core_level[keys // self.g.A]
        lo, hi = int(levels.min()), int(levels.max())
        if lo == hi:                     # the usual case: one level fed
            self.pending.setdefault(lo, []).append((keys, drho))
            return
        for lv in np.unique(levels).tolist():
            mine = levels == lv
            self.pending.setdefault(lv, []).append((keys[mine], drho[mine]))

    # ------------------------------------------------------------------ the pass
    def run(self):
        """Apply the levels in order (the special neurons are marked in the graph's scratch
        mask meanwhile)."""
        g = self.g
        marked = np.fromiter(self.special, np.int64, len(self.special))
        self.special_by_level = {}
        for n, lv in zip(marked.tolist(), g.neuron_level[marked].tolist()):
            self.special_by_level.setdefault(lv, []).append(n)
        extra_levels = {int(g.core_level[int(k) // g.A]) for k in self.extra}
        g.special_mask[marked] = True
        try:
            for lv in range(g.n_level):
                if lv in self.pending or lv in self.special_by_level or lv in extra_levels:
                    self._level(lv)
        finally:
            g.special_mask[marked] = False
        return self

    def _level(self, lv):
        """Apply the Δρ arriving on the cores of level lv, compute its special neurons, emit
        what changed."""
        g = self.g
        chunks = self.pending.pop(lv, [])
        if chunks:
            keys = np.concatenate([k for k, _ in chunks])
            order = np.argsort(keys)
            self.arrived[lv] = (keys[order], np.concatenate([d for _, d in chunks])[order])
        self._extra_routes(lv)
        if lv in self.arrived:
            keys, drho = self.arrived[lv]
            live = np.flatnonzero(drho.any(axis=0))
            if live.size <= g.B // 2:      # else the column look-ups cost what they save
                units, d_new, dr = self._changes_on(keys, drho, live)
            else:
                units, dd = g.drive_changes(keys, drho)
                d_new = g.D0[units] + dd
                dr = rates(d_new, g.u_alpha[units]) - g.base_unit_rates(units)
            if units.size:
                self.changed[lv] = (units, d_new, dr)
                moved = np.any(dr != 0.0, axis=1)
                self._emit_units(units[moved], dr[moved])
        self._special_neurons(lv)

    def _changes_on(self, keys, drho, live):
        """(units, new drives, Δr) when Δρ is nonzero on the inputs ``live`` only: the product
        and the clip are taken on those columns; elsewhere the drive is D⁰ and Δr = 0 (the same
        numbers as on all columns)."""
        g = self.g
        units, dd = g.drive_changes(keys, drho[:, live])
        d_new = g.D0[units].astype(np.float64)
        d_new[:, live] += dd
        dr = np.zeros(d_new.shape)
        dr[:, live] = (rates(d_new[:, live], g.u_alpha[units])
                       - g.base_unit_rates(units)[:, live])
        return units, d_new, dr

    def _extra_routes(self, lv):
        """Axons of level lv that an upset routed extra neurons to: Δρ = min(ρ + Σ r, 1) − ρ⁰
        (set in one rebuild of the level's arrived rows)."""
        g = self.g
        mine = [int(k) for k in self.extra if g.core_level[int(k) // g.A] == lv]
        if not mine:
            return
        rows = [np.minimum(self._arriving(k) + sum(self.neuron_rate(n) for n in self.extra[k]),
                           1.0) - g.base_key_rates([k])[0] for k in mine]
        keys, drho = self.arrived.get(lv, (np.zeros(0, np.int64), np.zeros((0, g.B))))
        keep = ~np.isin(keys, mine)
        keys, drho = np.r_[keys[keep], mine], np.vstack([drho[keep]] + [r[None] for r in rows])
        order = np.argsort(keys)
        self.arrived[lv] = (keys[order], drho[order])

    def _emit_units(self, units, dr):
        """Every regular neuron of the changed ``units`` passes Δr on to its axon."""
        g = self.g
        col, neurons = g.members(units)
        keep = (g.dest_of[neurons] >= 0) & ~g.special_mask[neurons]
        if keep.any():
            self._emit(g.dest_of[neurons[keep]], dr[col[keep]])

    def _special_neurons(self, lv):
        """Own rates of the dead and modified neurons of level lv and what they (and the
        dropped ones) change on their axons: (actual − fault-free) rate."""
        g = self.g
        for n in sorted(self.special_by_level.get(lv, ())):
            u = int(g.unit_of[n])
            if n in self.dead:
                self.special_rate[n] = np.zeros(g.B)
            elif n in self.modified:
                c, idx, dw = self.modified[n]
                got = self._changed_row(u)
                d = g.D0[u].astype(np.float64) if got is None else got[0].copy()
                for a, w in zip(idx.tolist(), dw.tolist()):
                    d += self._arriving(c * g.A + a) * w
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
        units = g.out_units
        out = g.base_unit_rates(units)
        for lv in g.out_levels:
            if lv in self.changed:
                changed_units, _, dr = self.changed[lv]
                at, found = self._find(changed_units, units)
                out[found] += dr[at[found]]
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
            keep = ~np.isin(neurons, own) if own.size else slice(None)
            ns.append(neurons[keep]), ds.append(dr.sum(axis=1)[col[keep]])
        for n, r in self.special_rate.items():
            ns.append(np.array([n])), ds.append(np.array(
                [r.sum() - g.base_unit_rates([int(g.unit_of[n])]).sum()]))
        return np.concatenate(ns), np.concatenate(ds)

    def axon_sums(self):
        """(axon keys, Σ_B ρ) of every axon whose arriving rate changed (summed from the rates
        themselves, so that an axon whose source died sums to exactly 0)."""
        g = self.g
        keys = [k for k, _ in self.arrived.values()]
        sums = [(g.base_key_rates(k) + d).sum(axis=1) for k, d in self.arrived.values()]
        return (np.concatenate(keys) if keys else np.zeros(0, np.int64),
                np.concatenate(sums) if sums else np.zeros(0))
