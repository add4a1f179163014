"""A fast rate-mode evaluator for missions: one compiled program, one evaluation set, many
FaultStates.

It computes exactly what :func:`neurosim.sim.simulate` (``mode="rate"``) computes — each enabled
neuron's steady-state rate r_j = clip((Σ_i ρ_i W[i, j] + λ_j) / α_j, 0, 1) in topological order,
ρ_i the rate arriving on axon i — and the same expected counters, but over the compact used part of
the program and incrementally:

* **Units.** Neurons of one core whose columns W[:, j], leaks and thresholds are identical (the
  compiler's fan-out copies) always have identical rates: they form one *unit*, computed once.
  Levels (a core's level is one more than the deepest core feeding it) are evaluated in order; the
  drive of the units of level ℓ is Σ_b R_b[:, S_b] @ W_{ℓ,b} + λ, with R_b the unit rates of an
  earlier level (or the inputs) and W_{ℓ,b} the axon weights summed per source unit. For the
  shipped digits network (3 cores, 522 neurons) that is a 64-64-64-10 network instead of
  768 axons × 522 neurons.
* **Faults as corrections.** A dead neuron, a neuron whose column changed (stuck crossbar bit,
  weight upset) or whose threshold changed is *irregular*: its own rate is computed from its unit's
  drive plus the changed entries, r_n = clip((D_u + Σ_{i: W'≠W} ρ_i (W'[i,n] − W[i,n])) / α'_n,
  0, 1) (0 when dead), and every unit it feeds receives the rank-k correction
  (ρ_actual − ρ_unit) @ W[axon, units]. A route dropped by a routing upset is the same correction
  with ρ_actual = 0. Levels before the first affected one are not recomputed.
* **Fallback.** A routing upset that sends spikes forward to another used axon (two sources then
  add, capped at 1) and a program with several sources on one axon go through the generic rate
  simulator: correct, slower, rare. A routing upset that sends spikes back to a core of the same
  or an earlier level creates feedback, which rate mode cannot evaluate in closed form
  (``simulate`` refuses it): that route is counted as dropped and ``approximated`` is incremented.

Counters are computed per core from batch-summed rates: spikes Σ_B r · T, synaptic events
Σ_axons Σ_B ρ_i · (connected neurons on i) · T, hops Σ_B r · (|Δrow| + |Δcol|) · T, neuron
updates (enabled neurons) · T · B — the definitions of :mod:`neurosim.sim.rate`.
"""
from dataclasses import dataclass

import numpy as np

from neurosim.chip.faults import _flip_routing, apply
from neurosim.sim.counters import ActivityCounters
from neurosim.sim.rate import core_order, run_rate


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
    neuron_sum: np.ndarray = None   # per used neuron: Σ_B rate (for dead-neuron statistics)

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


class FastRate:
    """Rate-mode evaluator of ``program`` on ``inputs`` (B, n_inputs) for many FaultStates."""

    def __init__(self, program, inputs, ticks=64):
        self.program = program
        self.ticks = int(ticks)
        self.X = np.ascontiguousarray(inputs, dtype=np.float64)
        self.B = self.X.shape[0]
        self.generic = False
        self.approximated = 0   # evaluations where a feedback route was counted as dropped
        try:
            self._build()
        except _Unsupported:
            self.generic = True
        self.base = self._evaluate_generic(program) if self.generic else self._evaluate_fast(
            _View(program, None), set(), {}, {}, set())
        self.base_out = self.base.out

    # ------------------------------------------------------------------ build
    def _build(self):
        p = self.program
        C, A, N = p.crossbar.shape
        try:
            order = core_order(p)
        except Exception:
            raise _Unsupported() from None
        used = p.enabled
        nid = np.full((C, N), -1, np.int64)
        nc, nj = np.nonzero(used)
        nid[nc, nj] = np.arange(nc.size)
        self.n_core, self.n_slot, self.nid = nc, nj, nid
        Nu = nc.size
        # axon sources
        src_in = np.full((C, A), -1, np.int64)
        src_n = np.full((C, A), -1, np.int64)
        key = p.input_core.astype(np.int64) * A + p.input_axon
        if np.unique(key).size != key.size:
            raise _Unsupported()
        src_in[p.input_core, p.input_axon] = p.input_index
        routed = used & (p.dest_core >= 0)
        rc, rj = np.nonzero(routed)
        dc, da = p.dest_core[rc, rj], p.dest_axon[rc, rj]
        k2 = dc.astype(np.int64) * A + da
        if np.unique(k2).size != k2.size or np.any(src_in[dc, da] >= 0):
            raise _Unsupported()
        src_n[dc, da] = nid[rc, rj]
        self.src_in, self.src_n = src_in, src_n
        self.dest_of = np.full(Nu, -1, np.int64)           # axon key (c*A + a) each neuron feeds
        self.dest_of[nid[rc, rj]] = k2
        # levels
        level = np.zeros(C, np.int64)
        for c in order:
            feeders = src_n[c][src_n[c] >= 0]
            if feeders.size:
                level[c] = 1 + level[nc[feeders]].max()
        self.core_level = level
        W = [p.effective_weights(c).astype(np.float64) for c in range(C)]
        self.W = W
        # units per core, numbered level by level
        unit_of = np.full(Nu, -1, np.int64)
        u_core, u_rep, u_leak, u_alpha, u_level = [], [], [], [], []
        n_units = 0
        level_ranges = []
        for lv in range(int(level.max()) + 1 if C else 0):
            u0 = n_units
            for c in np.nonzero(level == lv)[0]:
                js = np.nonzero(used[c])[0]
                if js.size == 0:
                    continue
                sig = np.concatenate([W[c][:, js].T, p.leak[c, js, None], p.threshold[c, js, None]],
                                     axis=1)
                _, first, inv = np.unique(sig, axis=0, return_index=True, return_inverse=True)
                inv = inv.ravel()
                unit_of[nid[c, js]] = n_units + inv
                for k in range(first.size):
                    j = js[first[k]]
                    u_core.append(c), u_rep.append(j), u_leak.append(p.leak[c, j])
                    u_alpha.append(p.threshold[c, j]), u_level.append(lv)
                n_units += first.size
            level_ranges.append((u0, n_units))
        self.unit_of = unit_of
        self.u_core = np.array(u_core, np.int64)
        self.u_rep = np.array(u_rep, np.int64)
        self.u_leak = np.array(u_leak, np.float64)
        self.u_alpha = np.array(u_alpha, np.float64)
        self.u_level = np.array(u_level, np.int64)
        self.level_ranges = level_ranges
        self.n_level = len(level_ranges)
        self.neuron_level = level[nc]
        # per level: source blocks and axon rows
        self.levels = []
        n_in = p.n_inputs
        for lv, (u0, u1) in enumerate(level_ranges):
            cores = np.nonzero(level == lv)[0]
            ac, aa = np.repeat(cores, A), np.tile(np.arange(A), cores.size)
            U = u1 - u0
            axw = np.zeros((ac.size, U))
            for ci, c in enumerate(cores):
                sel = np.nonzero(self.u_core[u0:u1] == c)[0]
                axw[ci * A:(ci + 1) * A, sel] = W[c][:, self.u_rep[u0 + sel]]
            row_of = {int(c) * A + int(a): r for r, (c, a) in enumerate(zip(ac, aa))}
            has_src = (src_in[ac, aa] >= 0) | (src_n[ac, aa] >= 0)
            all_axw = axw
            ac, aa, axw = ac[has_src], aa[has_src], axw[has_src]
            # source of each axon row: block 0 = inputs, block b+1 = units of level b
            blk = np.where(src_in[ac, aa] >= 0, 0, 0)
            col = src_in[ac, aa].copy()
            is_n = src_n[ac, aa] >= 0
            su = unit_of[src_n[ac, aa][is_n]]
            blk[is_n] = self.u_level[su] + 1
            col[is_n] = su - np.array([level_ranges[b][0] for b in self.u_level[su]], np.int64)
            blocks = []
            for b in np.unique(blk):
                rows = np.nonzero(blk == b)[0]
                cols, inv = np.unique(col[rows], return_inverse=True)
                wb = np.zeros((cols.size, U))
                np.add.at(wb, inv.ravel(), axw[rows])
                width = n_in if b == 0 else level_ranges[b - 1][1] - level_ranges[b - 1][0]
                full = cols.size == width and np.array_equal(cols, np.arange(width))
                blocks.append((int(b), None if full else cols, wb))
            self.levels.append({"u0": u0, "u1": u1, "blocks": blocks, "axw": all_axw,
                                "row_of": row_of, "leak": self.u_leak[u0:u1],
                                "alpha": self.u_alpha[u0:u1]})
        out_n = nid[p.output_core, p.output_neuron]
        if np.any(out_n < 0):
            raise _Unsupported()
        self.out_n = out_n
        self.row_nnz = p.row_synapses().astype(np.float64)
        self.x_sum = self.X.sum(axis=0)
        self.axon_keys_in = (p.input_core.astype(np.int64) * A + p.input_axon, p.input_index)

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, faults=None, core_xy=None):
        """FastResult of the program with ``faults`` applied (and cores at ``core_xy``).

        The fault semantics are those of :func:`neurosim.chip.faults.apply`, computed here for
        the affected neurons only (no program copy); the generic fallback calls ``apply``."""
        if (faults is None or faults.empty) and core_xy is None:
            return self.base
        if self.generic:
            return self._generic_with(faults, core_xy)
        p0 = self.program
        C, A, N = p0.crossbar.shape
        view = _View(p0, core_xy)
        dropped = set()
        extra = {}
        if faults is not None and faults.routing_flips.size:
            new = _flip_routing(p0, faults.routing_flips)
            for c, j in {(int(c), int(j)) for c, j, _ in faults.routing_flips}:
                n = self.nid[c, j]
                if n < 0:
                    continue
                d0, a0 = p0.dest_core[c, j], p0.dest_axon[c, j]
                d1, a1 = new["dest_core"][c, j], new["dest_axon"][c, j]
                if d1 == d0 and (a1 == a0 or d0 < 0):
                    continue
                if d1 < 0:
                    dropped.add(int(n))
                elif self.core_level[d1] > self.core_level[c]:
                    dropped.add(int(n))        # gone from its own axon ...
                    extra.setdefault(int(d1) * A + int(a1), []).append(int(n))   # ... added here
                else:
                    # feedback: rate mode has no closed form; the route counts as dropped
                    dropped.add(int(n))
                    self.approximated += 1
            view.dest_core = new["dest_core"]
        dead = set()
        enabled = p0.enabled
        if faults is not None and (faults.dead_neurons.size or faults.dead_cores.size):
            enabled = p0.enabled.copy()
            enabled[faults.dead_neurons[:, 0], faults.dead_neurons[:, 1]] = False
            enabled[faults.dead_cores] = False
            dead = set(np.nonzero(~enabled[self.n_core, self.n_slot])[0].tolist())
        view.enabled = enabled
        modified, alpha_new, cols = {}, {}, {}
        if faults is not None and (faults.stuck_synapses.size or faults.weight_flips.size
                                   or faults.threshold_flips.size):
            modified, alpha_new, cols = self._modified(faults, dead)
        if dead or cols:
            # connected *enabled* neurons per axon (ChipProgram.row_synapses)
            nnz = self.row_nnz.copy()
            for (c, j), xcol in cols.items():
                n = self.nid[c, j]
                if n >= 0 and n not in dead:
                    nnz[c] += xcol.astype(np.float64) - p0.crossbar[c, :, j]
            if dead:
                dn = np.fromiter(dead, np.int64, len(dead))
                np.subtract.at(nnz, self.n_core[dn], p0.crossbar[self.n_core[dn], :,
                                                                 self.n_slot[dn]])
            view.row_nnz = nnz
        return self._evaluate_fast(view, dead, modified, alpha_new, dropped, extra)

    def _modified(self, faults, dead):
        """Neurons whose column or threshold changed: {n: (core, axons, ΔW)}, {n: α'}, and the
        new crossbar column of every (core, neuron) whose column changed."""
        p0 = self.program
        typed = p0.synapse_weights is None
        wmax = p0.profile.weight_max
        mbits = int(np.log2(wmax + 1))
        per = {}
        for kind, arr in (("s", faults.stuck_synapses), ("w", faults.weight_flips),
                          ("t", faults.threshold_flips)):
            for row in arr.tolist():
                cj = (row[0], row[2]) if kind != "t" else (row[0], row[1])
                per.setdefault(cj, []).append((kind, row))
        modified, alpha_new, cols = {}, {}, {}
        for (c, j), items in per.items():
            xcol = p0.crossbar[c, :, j].copy()
            wrow = (p0.weights[c, :, j] if typed else p0.synapse_weights[c, :, j]).astype(np.int64)
            alpha = int(p0.threshold[c, j])
            for kind, row in items:
                if kind == "s":
                    xcol[row[1]] = bool(row[3])
                elif kind == "w":
                    w = int(wrow[row[1]])
                    sign, mag = w < 0, abs(w)
                    if row[3] == mbits:
                        sign = not sign
                    else:
                        mag ^= 1 << row[3]
                    mag = min(mag, wmax)
                    wrow[row[1]] = -mag if sign else mag
                else:
                    alpha ^= 1 << row[2]
            alpha = min(max(alpha, 1), p0.profile.threshold_max)
            if np.any(xcol != p0.crossbar[c, :, j]):
                cols[(c, j)] = xcol
            n = int(self.nid[c, j])
            if n < 0 or n in dead:
                continue
            col = xcol * (wrow[p0.axon_type[c]] if typed else wrow).astype(np.float64)
            diff = col - self.W[c][:, j]
            idx = np.nonzero(diff)[0]
            if idx.size == 0 and alpha == p0.threshold[c, j]:
                continue
            modified[n] = (c, idx, diff[idx])
            alpha_new[n] = float(alpha)
        return modified, alpha_new, cols

    def _generic_with(self, faults, core_xy):
        prog = apply(self.program, faults)
        if core_xy is not None:
            prog = prog.replace(core_xy=np.asarray(core_xy, np.int32))
        return self._evaluate_generic(prog)

    def _evaluate_fast(self, prog, dead, modified, alpha_new, dropped, extra=None):
        base = getattr(self, "base", None)
        extra = extra or {}
        irregular = dead | set(modified)
        if base is not None and not irregular and not dropped:
            blocks = self._base_blocks
            start = self.n_level
        else:
            lv_aff = [self.neuron_level[n] for n in irregular]
            A = prog.n_axons
            lv_aff += [self.core_level[self.dest_of[n] // A] for n in dropped]
            lv_aff += [self.core_level[key // A] for key in extra]
            start = min(lv_aff) if (lv_aff and base is not None) else 0
            blocks = list(self._base_blocks[:start + 1]) if base is not None else [self.X]
        irr_rate = {}           # neuron -> its own rate (B,)
        A = prog.n_axons

        def unit_rate(n):
            u = self.unit_of[n]
            b = self.u_level[u]
            return blocks[b + 1][:, u - self.level_ranges[b][0]]

        def axon_actual(n):
            """Rate actually arriving from neuron n on its destination axon."""
            if n in dropped or n in dead:
                return None
            if n in irr_rate:
                return irr_rate[n]
            return unit_rate(n)

        def neuron_rate(n):
            if n in dead:
                return None
            return irr_rate[n] if n in irr_rate else unit_rate(n)

        def assumed_rate(c, a):
            m = self.src_in[c, a]
            if m >= 0:
                return self.X[:, m]
            n = self.src_n[c, a]
            return None if n < 0 else unit_rate(int(n))

        def axon_rate(c, a):
            m = self.src_in[c, a]
            if m >= 0:
                r = self.X[:, m]
            else:
                n = self.src_n[c, a]
                r = None if n < 0 else axon_actual(int(n))
            more = extra.get(int(c) * A + int(a))
            if more:
                tot = np.zeros(self.B) if r is None else r.copy()
                for n2 in more:
                    x = neuron_rate(n2)
                    if x is not None:
                        tot += x
                r = np.minimum(tot, 1.0)
            return r

        perturbed = {int(self.dest_of[n]) for n in (irregular | dropped) if self.dest_of[n] >= 0}
        perturbed |= set(extra)
        for lv in range(start, self.n_level):
            L = self.levels[lv]
            D = L["leak"] + sum((blocks[b] if cols is None else blocks[b][:, cols]) @ wb
                                for b, cols, wb in L["blocks"])
            fix = [key for key in perturbed if self.core_level[key // A] == lv]
            if fix:
                delta = np.empty((self.B, len(fix)))
                for i, key in enumerate(fix):
                    c, a = divmod(key, A)
                    act, assumed = axon_rate(c, a), assumed_rate(c, a)
                    delta[:, i] = (0.0 if act is None else act) - (0.0 if assumed is None
                                                                    else assumed)
                D += delta @ L["axw"][[L["row_of"][key] for key in fix]]
            R = np.clip(D / L["alpha"], 0.0, 1.0)
            blocks.append(R)
            for n in irregular:
                if self.neuron_level[n] != lv:
                    continue
                if n in dead:
                    irr_rate[n] = np.zeros(self.B)
                    continue
                c, idx, dv = modified[n]
                d = D[:, self.unit_of[n] - L["u0"]].copy()
                for a, w in zip(idx.tolist(), dv.tolist()):
                    r = axon_rate(c, a)
                    if r is not None:
                        d += r * w
                irr_rate[n] = np.clip(d / alpha_new[n], 0.0, 1.0)
        if base is None:
            self._base_blocks = blocks
        out = np.stack([irr_rate[n] if n in irr_rate else unit_rate(n) for n in self.out_n],
                       axis=1)
        res = self._counters(prog, blocks, irr_rate, dropped, out)
        if extra:
            A = prog.n_axons
            for key in extra:
                r = axon_rate(*divmod(key, A))
                c = key // A
                old = self._ax_sum_last[key]
                res.events[c] += ((0.0 if r is None else r.sum()) - old) * \
                    (self.row_nnz if prog.row_nnz is None else prog.row_nnz)[c, key % A] * self.ticks
        return res

    def _counters(self, prog, blocks, irr_rate, dropped, out):
        T, C, A = self.ticks, prog.n_cores, prog.n_axons
        usum = np.concatenate([blk.sum(axis=0) for blk in blocks[1:]]) if len(blocks) > 1 \
            else np.zeros(0)
        s = usum[self.unit_of]
        for n, r in irr_rate.items():
            s[n] = r.sum()
        spikes = np.bincount(self.n_core, s, minlength=C) * T
        # axon batch sums
        ax = np.zeros(C * A)
        keys_in, idx_in = self.axon_keys_in
        np.add.at(ax, keys_in, self.x_sum[idx_in])
        fed = self.dest_of >= 0
        if dropped:
            fed = fed.copy()
            fed[list(dropped)] = False
        np.add.at(ax, self.dest_of[fed], s[fed])
        self._ax_sum_last = ax
        nnz = self.row_nnz if prog.row_nnz is None else prog.row_nnz
        events = (ax.reshape(C, A) * nnz).sum(axis=1) * T
        xy = prog.core_xy
        dc = prog.dest_core[self.n_core, self.n_slot]
        hop = np.where(dc >= 0, np.abs(xy[np.maximum(dc, 0)] - xy[self.n_core]).sum(axis=1), 0)
        hops = np.bincount(self.n_core, s * hop, minlength=C) * T
        updates = prog.enabled.sum(axis=1).astype(np.float64) * T * self.B
        powered = prog.enabled.any(axis=1).astype(np.float64)
        return FastResult(out, spikes, events, hops, updates, powered,
                          float(self.x_sum.sum() * T), s)

    def _evaluate_generic(self, prog):
        nr, out, c = run_rate(prog, self.X, self.ticks)
        xy = prog.core_xy
        hop = np.where(prog.dest_core >= 0,
                       np.abs(xy[np.maximum(prog.dest_core, 0)] - xy[:, None, :]).sum(axis=2), 0)
        hops = (nr.sum(axis=0) * hop).sum(axis=1) * self.ticks
        updates = prog.enabled.sum(axis=1).astype(np.float64) * self.ticks * self.B
        p0 = self.program
        s = nr.sum(axis=0)[p0.enabled] if nr.shape[1:] == p0.enabled.shape else None
        return FastResult(out, c.core_spikes, c.core_events, hops, updates,
                          prog.enabled.any(axis=1).astype(np.float64), c.input_spikes, s)


class _Unsupported(Exception):
    pass


class _View:
    """The few arrays of a faulted program the counters read (the rest is the pristine one)."""

    def __init__(self, program, core_xy):
        self.n_cores, self.n_axons = program.n_cores, program.n_axons
        self.core_xy = program.core_xy if core_xy is None else np.asarray(core_xy)
        self.dest_core = program.dest_core
        self.enabled = program.enabled
        self.row_nnz = None
