"""Rate-mode evaluation of a faulty chip as a change of the fault-free one, level by level.

Only what the faults touch is computed. A fault makes some neurons *special*: dead (rate 0),
modified (column or threshold changed: r_n = clip((D_u + Σ_{a: W'≠W} ρ_a (W'[a,n] − W[a,n])) /
α'_n, 0, 1), D_u its unit's drive) or dropped (a routing upset took its spikes off its axon). The
rate arriving on an axon then changes by Δρ_a; the drives of the units of that core change by

    ΔD_u = Σ_{a changed} W[a, u] Δρ_a

and a unit whose rate r = clip((D⁰ + ΔD)/α, 0, 1) differs from its fault-free rate passes its
change Δr on to the axons its neurons feed, at deeper levels. Levels are taken in order, so every
Δρ arriving on a level is known when it is applied. Per level, one call of the compiled loop
(:mod:`neurosim._delta`, cext/delta.pyx) takes every unit the changed axons feed and computes ΔD,
Δr and the sums Σ_B Δr, Σ_B r in one pass per unit.

Rows of Δρ and Δr (B inputs each) live in one :class:`RowStore` per evaluator, reused from one
evaluation to the next: an axon fed by a regular neuron *refers* to its unit's Δr row (no copy
per neuron or per axon). No array of the program's size is copied: the fault-free drives D⁰
(:class:`neurosim.sim.unit_graph.UnitGraph`) are read, never written, and the fault-free rates
are recomputed where needed (clip(D⁰/α), the same division and clip as
:func:`neurosim.sim.unit_graph.rates`).

A routing upset that sends a neuron's spikes to another used axon at a deeper level (*extra*
route) adds its rate there, capped at 1: ρ_a = min(ρ_a,own + Σ r_extra, 1).

The counters are the fault-free ones plus the changes of the neurons and axons touched (the
definitions of :mod:`neurosim.sim.rate`): spikes Σ_B r·T per core, synaptic events
Σ_a (Σ_B ρ_a)·(connected enabled neurons on a)·T, hops Σ_B r·(|Δrow| + |Δcol|)·T.
"""
import numpy as np

from neurosim._delta import add_rows_in_order, apply_level, group_targets, pass_on

_EMPTY = np.zeros(0, np.int64)


class RowStore:
    """Growing arrays of Δρ / Δr rows (B inputs each), emptied by :meth:`reset` and kept (with
    their largest size) from one evaluation to the next: ``vals`` (R, B) float64, ``cols``
    (R, B) int32, ``nnz`` (R,) — a row is dense (nnz < 0) or its nonzeros packed at the front
    (cext/delta.pyx)."""

    def __init__(self, B, rows=256):
        self.B = B
        self.vals = np.empty((rows, B))
        self.cols = np.empty((rows, B), np.int32)
        self.nnz = np.empty(rows, np.int64)
        self.used = 0

    def reset(self):
        self.used = 0

    def reserve(self, n):
        """Room for ``n`` more rows (the arrays doubled when full); the first new row's index."""
        used, cap = self.used, self.nnz.size
        if used + n > cap:
            cap = max(2 * cap, used + n)
            for name in ("vals", "cols", "nnz"):
                old = getattr(self, name)
                new = np.empty((cap,) + old.shape[1:], old.dtype)
                new[:used] = old[:used]
                setattr(self, name, new)
        return used

    def add(self, row):
        """Index of a new dense row holding ``row`` (B,)."""
        i = self.reserve(1)
        self.vals[i] = row
        self.nnz[i] = -1
        self.used = i + 1
        return i

    def row(self, i):
        """(B,) row i, dense."""
        n = self.nnz[i]
        if n < 0:
            return self.vals[i].copy()
        out = np.zeros(self.B)
        out[self.cols[i, :n]] = self.vals[i, :n]
        return out

    def rows(self, idx):
        """(len(idx), B) rows ``idx``, dense (the packed ones scattered in one step)."""
        idx = np.asarray(idx, np.int64)
        out = np.zeros((idx.size, self.B))
        n = self.nnz[idx]
        dense = n < 0
        out[dense] = self.vals[idx[dense]]
        at = np.flatnonzero(~dense)
        if at.size:
            k, b = np.nonzero(np.arange(self.B) < n[at, None])   # entry b of packed row k
            r = idx[at[k]]
            out[at[k], self.cols[r, b]] = self.vals[r, b]
        return out


class Propagation:
    """One faulty evaluation over a :class:`~neurosim.sim.unit_graph.UnitGraph` ``g``, its rows
    in ``store`` (a :class:`RowStore`).

    ``dead`` (set of neurons), ``modified`` {n: (core, axons, ΔW)}, ``alpha_new`` {n: α'},
    ``dropped`` (set), ``extra`` {axon key: [neurons]}. :meth:`run` takes the levels in order;
    then :meth:`output_rates`, :meth:`neuron_sum_changes` and :meth:`axon_sums` give what
    changed."""

    def __init__(self, g, store, dead, modified, alpha_new, dropped, extra):
        self.g, self.store = g, store
        self.dead, self.modified, self.alpha_new = dead, modified, alpha_new
        self.dropped, self.extra = dropped, extra
        self.special = dead | set(modified) | dropped
        self.pending = {}          # level → [(axon keys, store rows, Σ_B ρ)] not yet applied
        self.arrived = {}          # level → (sorted axon keys, store rows, Σ_B ρ)
        self.touched = []          # per applied level: (neurons whose unit's rate changed, Σ_B Δr)
        self.special_rate = {}     # dead and modified neurons: their own rate (B,)
        self.drive_change = {}     # unit of a modified neuron → ΔD (B,)

    # ------------------------------------------------------------------ lookups
    def unit_rate(self, u):
        """(B,) rate of unit u on the faulty chip."""
        r = self.g.base_unit_rates([u])[0]
        row = self.g.unit_row[u]
        return r if row < 0 else r + self.store.row(row)

    def neuron_rate(self, n):
        """(B,) rate of neuron n on the faulty chip (its own: a dropped route does not change
        it)."""
        r = self.special_rate.get(n)
        return r if r is not None else self.unit_rate(int(self.g.unit_of[n]))

    def _arriving(self, keys):
        """(len(keys), B) rates arriving on the axon ``keys`` of one level of the faulty chip
        (that level applied or being)."""
        keys = np.asarray(keys, np.int64)
        rho = self.g.base_key_rates(keys)
        got = self.arrived.get(int(self.g.core_level[keys[0] // self.g.A]))
        if got is not None:
            at = np.minimum(np.searchsorted(got[0], keys), got[0].size - 1)
            hit = np.flatnonzero(got[0][at] == keys)
            if hit.size:
                rho[hit] += self.store.rows(got[1][at[hit]])
        return rho

    def _emit(self, keys, rows, sums):
        """Δρ (store ``rows``) arriving on the axon ``keys`` (c·A + a), Σ_B ρ ``sums``, grouped
        by level."""
        levels = self.g.core_level[keys // self.g.A]
        lo, hi = int(levels.min()), int(levels.max())
        if lo == hi:                     # the usual case: one level fed
            self.pending.setdefault(lo, []).append((keys, rows, sums))
            return
        for lv in np.unique(levels).tolist():
            mine = levels == lv
            self.pending.setdefault(lv, []).append((keys[mine], rows[mine], sums[mine]))

    # ------------------------------------------------------------------ the pass
    def run(self):
        """Apply the levels in order (the special neurons are marked in the graph's scratch
        mask, the units of the modified ones in its ``want_row``, meanwhile; the graph's
        ``unit_row`` maps each changed unit to its store row until :meth:`release`)."""
        g = self.g
        self.store.reset()
        marked = np.fromiter(self.special, np.int64, len(self.special))
        self.special_by_level = {}
        for n, lv in zip(marked.tolist(), g.neuron_level[marked].tolist()):
            self.special_by_level.setdefault(lv, []).append(n)
        extra_levels = {int(g.core_level[int(k) // g.A]) for k in self.extra}
        self.wanted = np.unique(g.unit_of[np.fromiter(self.modified, np.int64,
                                                      len(self.modified))])
        g.special_mask[marked] = True
        g.want_row[self.wanted] = np.arange(self.wanted.size)
        try:
            for lv in range(g.n_level):
                if lv in self.pending or lv in self.special_by_level or lv in extra_levels:
                    self._level(lv)
        finally:
            g.special_mask[marked] = False
            g.want_row[self.wanted] = -1
        return self

    def release(self):
        """Clear the graph's ``unit_row`` entries of this evaluation."""
        for neurons, _ in self.touched:
            self.g.unit_row[self.g.unit_of[neurons]] = -1

    def _level(self, lv):
        """Apply the Δρ arriving on the cores of level lv, compute its special neurons, emit
        what changed."""
        chunks = self.pending.pop(lv, [])
        if chunks:
            keys, rows, sums = chunks[0] if len(chunks) == 1 else (
                np.concatenate([c[i] for c in chunks]) for i in range(3))
            order = np.argsort(keys)
            self.arrived[lv] = (keys[order], rows[order], sums[order])
        self._extra_routes(lv)
        if lv in self.arrived:
            self._apply(*self.arrived[lv][:2])
        self._special_neurons(lv)

    def _apply(self, keys, rows):
        """The units fed by the axon ``keys`` (Δρ in store ``rows``): Δr into the store, and the
        moved ones (some Δr ≠ 0) passed on."""
        g, store = self.g, self.store
        units, ptr, src, w = group_targets(g.w_indptr, g.w_indices, g.w_data, keys, rows,
                                          g.unit_slot)
        t = units.size
        if t == 0:
            return
        first = store.reserve(t)
        wanted = np.zeros((self.wanted.size, g.B))
        unit_rows = np.empty(t, np.int64)
        dsum, rsum = np.empty(t), np.empty(t)
        store.used = apply_level(units, ptr, src, w, keys, rows, g.w_indptr, g.w_indices,
                                 g.w_data, g.unit_slot, store.vals, store.cols, store.nnz,
                                 first, g.D0, g.u_alpha, g.unit_sums0, g.want_row, wanted,
                                 unit_rows, dsum, rsum, g.R0)
        for u in units[g.want_row[units] >= 0].tolist():
            self.drive_change[u] = wanted[g.want_row[u]]
        neurons, neuron_dsum, keys, rows, sums = pass_on(
            units, unit_rows, dsum, rsum, g.unit_nptr, g.unit_neurons, g.dest_of,
            g.special_mask.view(np.uint8), g.unit_row)
        self.touched.append((neurons, neuron_dsum))
        if keys.size:                    # regular neurons of the moved units pass Δr on
            self._emit(keys, rows, sums)

    def _extra_routes(self, lv):
        """Axons of level lv that an upset routed extra neurons to: Δρ = min(ρ + Σ r, 1) − ρ⁰
        (new rows, set in one rebuild of the level's arrived rows)."""
        g = self.g
        mine = [int(k) for k in self.extra if g.core_level[int(k) // g.A] == lv]
        if not mine:
            return
        rows, sums = [], []
        for k in mine:
            rho = np.minimum(self._arriving([k])[0]
                             + sum(self.neuron_rate(n) for n in self.extra[k]), 1.0)
            rows.append(self.store.add(rho - g.base_key_rates([k])[0]))
            sums.append(rho.sum())
        keys, old_rows, old_sums = self.arrived.get(lv, (_EMPTY, _EMPTY, np.zeros(0)))
        keep = ~np.isin(keys, mine)
        keys = np.r_[keys[keep], mine]
        order = np.argsort(keys)
        self.arrived[lv] = (keys[order], np.r_[old_rows[keep], rows][order],
                            np.r_[old_sums[keep], sums][order])

    def _special_neurons(self, lv):
        """Own rates of the dead and modified neurons of level lv and what they (and the
        dropped ones) change on their axons: (actual − fault-free) rate, all rows added to the
        store at once."""
        g = self.g
        neurons = sorted(self.special_by_level.get(lv, ()))
        if not neurons:
            return
        at = np.array(neurons, np.int64)
        units = g.unit_of[at]
        base = g.base_unit_rates(units)
        actual = np.zeros((len(neurons), g.B))
        self._modified_rates([n for n in neurons if n in self.modified and n not in self.dead])
        for i, (n, u) in enumerate(zip(neurons, units.tolist())):
            if n in self.dead:
                self.special_rate[n] = actual[i]
                continue
            if n in self.modified:
                own = self.special_rate[n]
            else:
                row = g.unit_row[u]
                own = base[i] if row < 0 else base[i] + self.store.row(row)
            if n not in self.dropped:
                actual[i] = own
        dest = g.dest_of[at]
        fed = np.flatnonzero(dest >= 0)
        if fed.size:
            first = self.store.reserve(fed.size)
            self.store.vals[first:first + fed.size] = actual[fed] - base[fed]
            self.store.nnz[first:first + fed.size] = -1
            self.store.used = first + fed.size
            self._emit(dest[fed],
                       first + np.arange(fed.size), actual[fed].sum(axis=1))

    def _modified_rates(self, neurons):
        """Own rates (B,) of the modified ``neurons`` of one level into ``special_rate``:
        r_n = clip((D_u + Σ_a ΔW_a ρ_a) / α'_n, 0, 1), D_u = D⁰_u + ΔD_u of its unit u, the
        rates ρ of all their changed axons assembled at once; each neuron's Σ_a ΔW_a ρ_a is
        summed from 0 in axon order (the sums of a CSR product) and then added to D_u."""
        if not neurons:
            return
        g = self.g
        units = g.unit_of[neurons]
        d = np.asarray(g.D0[units], np.float64)
        for i, u in enumerate(units.tolist()):
            if u in self.drive_change:
                d[i] += self.drive_change[u]
        parts = [self.modified[n] for n in neurons]
        sizes = [idx.size for _, idx, _ in parts]
        if any(sizes):
            keys = np.concatenate([c * g.A + idx for c, idx, _ in parts])
            terms = np.concatenate([w for _, _, w in parts])[:, None] * self._arriving(keys)
            total = np.zeros_like(d)
            add_rows_in_order(np.repeat(np.arange(len(neurons)), sizes), terms, total)
            d += total
        alpha = np.array([self.alpha_new[n] for n in neurons])
        self.special_rate.update(zip(neurons, np.clip(d / alpha[:, None], 0.0, 1.0)))

    # ------------------------------------------------------------------ what changed
    def output_rates(self):
        """(B, K) output rates."""
        g = self.g
        out = g.base_unit_rates(g.out_units)
        rows = g.unit_row[g.out_units]
        moved = np.flatnonzero(rows >= 0)
        if moved.size:
            out[moved] += self.store.rows(rows[moved])
        for k, n in enumerate(g.out_n.tolist()):
            if n in self.special_rate:
                out[k] = self.special_rate[n]
        return out.T

    def neuron_sum_changes(self):
        """(neurons, Δ Σ_B r) of every neuron whose rate changed."""
        g = self.g
        ns, ds = [_EMPTY], [np.zeros(0)]
        own = np.zeros(g.n_core.size, bool)
        own[np.fromiter(self.special_rate, np.int64, len(self.special_rate))] = True
        for neurons, dsum in self.touched:
            keep = ~own[neurons]
            ns.append(neurons[keep]), ds.append(dsum[keep])
        if self.special_rate:            # Σ_B r − Σ_B r⁰ of the neurons with their own rate
            special = np.fromiter(self.special_rate, np.int64, len(self.special_rate))
            ns.append(special)
            ds.append(np.array(list(self.special_rate.values())).sum(axis=1)
                      - g.unit_sums0[g.unit_of[special]])
        return np.concatenate(ns), np.concatenate(ds)

    def axon_sums(self):
        """(axon keys, Σ_B ρ) of every axon whose arriving rate changed (the new rates summed,
        so that an axon whose source died sums to exactly 0)."""
        arrived = list(self.arrived.values())
        return (np.concatenate([a[0] for a in arrived]) if arrived else _EMPTY,
                np.concatenate([a[2] for a in arrived]) if arrived else np.zeros(0))
