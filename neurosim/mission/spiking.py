"""Spiking-mode checkpoints: the fault-free chip simulated once, each FaultState's changes
followed neuron by neuron, core level by core level.

**Fault-free record.** The fault-free chip is run once through the tick kernel (what
:func:`neurosim.sim.simulate` runs) with the spike record on; every neuron's spike train and every
axon's arrivals are kept packed, 64 ticks per word (:mod:`neurosim.sim.subchip`), with the
per-input counters and, for programs within :data:`DRIVE_TABLE_BYTES`, each core's fault-free
integration input per neuron and tick, D_p (computed on first use).

**Triggers.** A faulty chip behaves exactly like the fault-free one on every input b for which no
fault *triggers* along the fault-free trajectory (by induction over the ticks: until a fault
changes something, the state is the fault-free state). A fault of a used neuron n of core c
triggers on input b when, on the fault-free chip:

==================  ==========================================================================
fault               triggers on input b when, on the fault-free chip,
==================  ==========================================================================
dead neuron         n fired
dead core           a neuron of c fired
stuck synapse       axon a received a spike (and the bit differs from the program's)
weight flip         an axon of the flipped row (its type, or the axon itself) connected to n
                    (crossbar bit 1, or stuck at 1 in the same state) received a spike
threshold flip      n received a spike, or could reach a threshold without one (λ > 0 or V₀ > 0)
potential flip      always (the evaluation starts from the flipped potential)
routing flip        n fired (and n has a destination)
==================  ==========================================================================

Faults of unused neurons and no-op stuck bits never trigger.

**Propagation** (:class:`Propagation`). A neuron's spike train depends only on its parameters,
its draws and the arrivals on the axons it is connected to. When the routes of the pristine and
the faulty program together form no cycle, the cores are ordered in levels
(:func:`neurosim.sim.subchip.core_levels`) and, level by level, only the *active* neurons are run
— those whose parameters the faults changed (on the inputs where a fault triggers) and those
connected to an axon whose arrivals changed (on the inputs where they changed) — fed the faulty
arrivals of their axons. Their trains are compared with the fault-free ones; the arrivals of the
axons that a changed train (or a changed route) reaches are recomputed (OR of the sources' trains,
delayed) and passed on. Where nothing differs, nothing downstream changes: exact by induction.
A level runs in numpy from D_q = D_p + Σ_i (a_q − a_p)_i · W_q[i] + Σ_i (a_p)_i · (W_q − W_p)[i]
(:func:`neurosim.sim.subchip.run_neurons`, the reference tick restricted to those neurons); with
stochastic synapses among its active neurons, or without drive tables, in the kernel on a
program of the level's cores alone (:func:`neurosim.sim.subchip.level_program`).

The counters are the fault-free ones corrected where something changed: spikes and hops from the
changed trains, synaptic events from the changed arrivals and from the rows whose count of
synapses onto enabled neurons changed (a dead neuron reaches fewer synapses even on inputs where
it never fires), output counts from the output neurons' trains.

**Fallback.** A routing cycle (or a routing upset that creates one) or moved cores: the faulty
program (:func:`neurosim.chip.faults.apply`) is run whole in one kernel call on the triggered
inputs (every input when cores moved), their rows replacing the fault-free ones.

Either way the result is the one ``simulate`` gives on all inputs, bit for bit. Programs with
stochastic neuron modes draw from per-core generators whose draws depend on the core's seed, the
tick and the neuron, not on the batch or on which neurons run, so the restrictions hold for them
too (cext/tick.c draw_base(seed, tick)).
"""
import numpy as np

from neurosim import _core
from neurosim.chip.faults import apply
from neurosim.chip.program_fields import ARRAY_FIELDS, NEURON_EXTENSIONS, OPTIONAL_FIELDS
from neurosim.sim.encoding import encode
from neurosim.sim.incremental import FastResult, hop_lengths
from neurosim.sim.subchip import (add_drive, core_drive, core_levels, core_weights,
                                  drive_int_dtype, external_arrivals, level_program, pack_trains,
                                  routed_arrivals, run_neurons, shift_trains, spike_counts,
                                  unpack_trains)

RECORD_CHUNK = 64   # inputs simulated together with the spike record on (bounds its memory)
# One kernel thread: the mission's workers already use every core (two kernel threads in each of
# two workers ran 1.5x slower than one on the 2-core machine, `python -m neurosim bench mission`).
# The fault-free drives of every neuron (int32 per neuron, input and tick) are kept up to this
# size (digits network, 500 inputs, 64 ticks: 67 MB) and levels run in numpy from them (69 ms
# against 96 ms in the kernel for a 256-neuron level on 330 inputs, CPU time, `bench mission`'s
# states); larger programs run every level in the kernel (the size: assumption, a worker's
# memory).
DRIVE_TABLE_BYTES = 256 << 20
# per-neuron parameters, shaped (C, N) or (C, X, N)
NEURON_FIELDS = {name: spec for name, (_, spec) in
                 {**ARRAY_FIELDS, **OPTIONAL_FIELDS, **NEURON_EXTENSIONS}.items()
                 if spec[0] == "C" and spec[-1] == "N"}


class SpikingCheckpoints:
    """Spiking-mode evaluator of ``program`` on inputs ``x`` (B, n_inputs), ``ticks`` ticks,
    deterministic encoding (what :func:`neurosim.sim.simulate` uses by default)."""

    def __init__(self, program, x, ticks):
        self.program = program
        self.x = np.asarray(x, np.float64)
        self.ticks = int(ticks)
        self.raster = encode(self.x, self.ticks)
        self._fault_free()

    def _fault_free(self):
        """Rows (counts, per-core spikes, events, hops per input) of the fault-free chip; its
        packed trains (B, C, N, W) and arrivals (B, C, A, W) (:mod:`neurosim.sim.subchip`), their
        spike counts, and fired (B, C, N), axon_active (B, C, A) for :meth:`triggered`."""
        p, B, T = self.program, self.x.shape[0], self.ticks
        parts, trains = [], []
        for s in range(0, B, RECORD_CHUNK):
            r = _core.run_spiking(p, np.ascontiguousarray(self.raster[:, s:s + RECORD_CHUNK]),
                                  record=True, num_threads=1)
            trains.append(pack_trains(r.pop("record")))
            parts.append(r)
        self.trains = np.concatenate(trains)
        self.base_rows = _rows(parts)
        self.base_totals = _totals(self.base_rows)
        self.base = self.fast_result(self.base_rows["counts"], self.base_totals, p)
        self.input_trains = pack_trains(self.raster)                        # (B, n_inputs, W)
        self.arrivals = routed_arrivals(p, self.trains, T, external_arrivals(p, self.raster))
        self.neuron_spikes = spike_counts(self.trains).astype(np.int32)    # (B, C, N)
        self.axon_spikes = spike_counts(self.arrivals).astype(np.int32)    # (B, C, A)
        self.fired = self.neuron_spikes > 0
        self.axon_active = self.axon_spikes > 0
        self.row_synapses = p.row_synapses().astype(np.int64)
        self.hop_lengths = hop_lengths(p.core_xy, p.dest_core, np.arange(p.n_cores)[:, None])
        self.drives = {} if 4 * int(p.enabled.sum()) * B * T <= DRIVE_TABLE_BYTES else None

    def core_drive(self, c):
        """(column (N,), table (T, B, n)) of the fault-free drives of core c
        (:func:`neurosim.sim.subchip.core_drive`), computed on first use."""
        if c not in self.drives:
            self.drives[c] = core_drive(self.program, c, self.arrivals[:, c], self.ticks)
        return self.drives[c]

    def triggered(self, fs):
        """(B,) bool: the inputs on which a fault of ``fs`` triggers (module docstring)."""
        p, B = self.program, self.x.shape[0]
        en = p.enabled
        hit = np.zeros(B, bool)
        if fs.potential_flips.size and en[fs.potential_flips[:, 0], fs.potential_flips[:, 1]].any():
            return np.ones(B, bool)
        for c, n in fs.dead_neurons.tolist() + [r[:2] for r in fs.routing_flips.tolist()]:
            if en[c, n]:
                hit |= self.fired[:, c, n]
        for (c,) in fs.dead_cores.tolist():
            hit |= self.fired[:, c].any(axis=1)
        for c, a, n, v in fs.stuck_synapses.tolist():
            if en[c, n] and p.crossbar[c, a, n] != v:
                hit |= self.axon_active[:, c, a]
        for c, row, n, _ in fs.weight_flips.tolist():
            if en[c, n]:
                hit |= self.axon_active[:, c, self._flip_axons(fs, c, row, n)].any(axis=1)
        for c, n, _ in fs.threshold_flips.tolist():
            if en[c, n]:
                if p.leak[c, n] > 0 or p.initial_potential[c, n] > 0:
                    return np.ones(B, bool)
                hit |= self.axon_active[:, c, self._connected(fs, c, n)].any(axis=1)
        return hit

    def _connected(self, fs, c, n):
        """(A,) bool: axons of core c connected to neuron n (crossbar bit 1 or stuck at 1)."""
        col = self.program.crossbar[c, :, n].copy()
        s = fs.stuck_synapses
        ones = s[(s[:, 0] == c) & (s[:, 2] == n) & (s[:, 3] == 1)]
        col[ones[:, 1]] = True
        return col

    def _flip_axons(self, fs, c, row, n):
        """(A,) bool: connected axons whose weight is the flipped ``row``."""
        p = self.program
        rows = p.axon_type[c] if p.synapse_weights is None else np.arange(p.n_axons)
        return self._connected(fs, c, n) & (rows == row)

    def evaluate(self, fs, core_xy=None):
        """FastResult of the faulty chip, cores at ``core_xy`` if moved (module docstring)."""
        prog = apply(self.program, fs)
        levels = core_levels(self.program, prog) if core_xy is None else None
        if levels is None:
            return self._evaluate_whole(fs, prog, core_xy)
        return Propagation(self, prog, self.triggered(fs)).run(levels)

    def _evaluate_whole(self, fs, prog, core_xy):
        """The faulty program ``prog`` (cores at ``core_xy`` if moved: every input then) run whole
        on the inputs where a fault triggers; the synaptic events of the other inputs follow the
        rows whose synapse count changed (dead neurons, stuck bits)."""
        hit = np.ones(self.x.shape[0], bool) if core_xy is not None else self.triggered(fs)
        if core_xy is not None:
            prog = prog.replace(core_xy=np.asarray(core_xy, np.int32))
        rows = {k: v.copy() for k, v in self.base_rows.items()}
        rows["events"] += np.einsum("bca,ca->bc", self.axon_spikes,
                                    prog.row_synapses() - self.row_synapses)
        idx = np.flatnonzero(hit)
        if idx.size:
            r = _core.run_spiking(prog, np.ascontiguousarray(self.raster[:, idx]), num_threads=1)
            for k, v in _rows([r]).items():
                rows[k][idx] = v
        return self.fast_result(rows["counts"], _totals(rows), prog)

    def fast_result(self, counts, totals, prog):
        """FastResult of output ``counts`` (B, K) and per-core ``totals`` (spikes, events (C,),
        hops: a total) of ``prog`` (hops and neuron updates, which the kernel reports as totals,
        shared evenly over the cores)."""
        C, T = prog.n_cores, self.ticks
        spikes, events, hops = totals
        updates = int(prog.enabled.sum()) * T * self.x.shape[0]
        share = lambda total: np.full(C, total / C)
        return FastResult(counts / T, spikes.astype(float), events.astype(float),
                          share(float(hops)), share(float(updates)),
                          prog.enabled.any(axis=1).astype(float),
                          float(self.raster.sum(dtype=np.int64)))


def changed_neurons(program, faulty):
    """(C, N) bool: the neurons whose parameters (:data:`NEURON_FIELDS`: crossbar column,
    weights, threshold, potential, route, enabled, ...) differ between ``program`` and
    ``faulty``."""
    mask = np.zeros(program.enabled.shape, bool)
    for name, spec in NEURON_FIELDS.items():
        a, b = getattr(program, name), getattr(faulty, name)
        if a is not b:
            diff = a != b
            mask |= diff.any(axis=1) if len(spec) == 3 else diff
    return mask


class Propagation:
    """One FaultState's faulty chip, core level by core level (module docstring).

    ``trains[c]`` (B, N, W): the faulty trains of a core that was run; ``arrivals[c]`` (B, A, W):
    the faulty arrivals of a core whose arrivals changed, ``new_inputs[c]`` (B,) and
    ``new_axons[c]`` (A,) where they changed. Every other core and axon is fault-free."""

    def __init__(self, ev, faulty, hit):
        self.ev, self.faulty, self.hit = ev, faulty, hit
        self.faulted = changed_neurons(ev.program, faulty)
        self.trains, self.arrivals, self.new_inputs, self.new_axons = {}, {}, {}, {}
        en = faulty.enabled & (faulty.dest_core >= 0)
        src_c, src_n = np.nonzero(en)
        keys = faulty.dest_core[src_c, src_n].astype(np.int64) * faulty.n_axons \
            + faulty.dest_axon[src_c, src_n]
        order = np.argsort(keys, kind="stable")
        self.route_keys, self.route_src = keys[order], (src_c[order], src_n[order])
        self.input_keys = faulty.input_core.astype(np.int64) * faulty.n_axons + faulty.input_axon

    def run(self, levels):
        """FastResult after running, level by level, the cores with faulted neurons or changed
        arrivals."""
        for cores in levels:
            stage = [c for c in cores.tolist()
                     if self.faulted[c].any() or c in self.new_inputs]
            if stage:
                self.run_level(stage)
        return self.result()

    def active_neurons(self, c):
        """(N,) bool: neurons of core c that may differ: faulted, or connected (faulty crossbar)
        to an axon whose arrivals changed; enabled in one of the two programs."""
        ev, act = self.ev, self.faulted[c].copy()
        if c in self.new_axons:
            act |= self.faulty.crossbar[c][self.new_axons[c]].any(axis=0)
        return act & (ev.program.enabled[c] | self.faulty.enabled[c])

    def level_inputs(self, cores):
        """(B,) bool: inputs on which a fault of these cores triggers or their arrivals changed."""
        inputs = np.zeros(self.hit.shape, bool)
        for c in cores:
            if self.faulted[c].any():
                inputs |= self.hit
            if c in self.new_inputs:
                inputs |= self.new_inputs[c]
        return inputs

    def run_level(self, cores):
        """Run the active neurons of ``cores`` (one level) on the inputs where they may differ,
        fed their (faulty) arrivals — in numpy from the drive tables, else in the kernel —
        keep their trains and pass their changes downstream."""
        active = {c: self.active_neurons(c) for c in cores}
        idx = np.flatnonzero(self.level_inputs(cores))
        cores = [c for c in cores if active[c].any()]
        if not idx.size or not cores:
            return
        in_numpy = [c for c in cores if self.ev.drives is not None
                    and not self.faulty.stochastic_synapse[c][:, active[c]].any()]
        got = {c: self.run_numpy(c, active[c], idx) for c in in_numpy}
        in_kernel = [c for c in cores if c not in got]
        if in_kernel:
            got.update(zip(in_kernel,
                           self.run_kernel(in_kernel, [active[c] for c in in_kernel], idx)))
        for c in cores:
            cols = np.flatnonzero(active[c])
            trains = self.ev.trains[:, c].copy()
            trains[np.ix_(idx, cols)] = got[c]
            self.trains[c] = trains
            self.pass_changes(c, cols)

    def core_arrivals(self, c, idx):
        """(H, A, W) faulty arrivals of core c on inputs ``idx``."""
        return self.arrivals.get(c, self.ev.arrivals[:, c])[idx]

    def run_numpy(self, c, active, idx):
        """(H, n, W) trains of the ``active`` neurons of core c on inputs ``idx``
        (:func:`neurosim.sim.subchip.run_neurons`), their input the fault-free drive plus what
        the changed arrivals and weights add:
        D_q = D_p + Σ_i (a_q − a_p)_i · W_q[i] + Σ_i (a_p)_i · (W_q − W_p)[i]."""
        ev, p, q, T = self.ev, self.ev.program, self.faulty, self.ev.ticks
        js = np.flatnonzero(active)
        column, table = ev.core_drive(c)
        w_q, w_p = core_weights(q, c, js), core_weights(p, c, js)
        drive = table[:, idx[:, None], column[js]].astype(drive_int_dtype(w_p, w_q),
                                                           copy=False)           # (T, H, n)
        if c in self.new_axons:
            ks = np.flatnonzero(self.new_axons[c])
            moved = unpack_trains(self.arrivals[c][idx][:, ks], T).astype(np.int8) \
                - unpack_trains(ev.arrivals[idx, c][:, ks], T)
            add_drive(drive, moved, w_q[ks])
        dw = w_q - w_p
        ks = np.flatnonzero(dw.any(axis=1))
        if ks.size:
            add_drive(drive, unpack_trains(ev.arrivals[idx, c][:, ks], T), dw[ks])
        return pack_trains(run_neurons(q, c, js, drive))

    def run_kernel(self, cores, active, idx):
        """[(H, n, W) trains of the ``active`` neurons of each core] on inputs ``idx``: the
        cores as one program (:func:`neurosim.sim.subchip.level_program`), each axon fed its
        arrivals when it drives an active neuron (the others cannot change them)."""
        q, active = self.faulty, np.stack(active)
        arrivals = np.stack([self.core_arrivals(c, idx) for c in cores], axis=1)  # (H, S, A, W)
        arrivals *= (q.crossbar[cores] & active[:, None, :]).any(axis=2)[None, :, :, None]
        raster = unpack_trains(arrivals.reshape(idx.size, -1, arrivals.shape[-1]), self.ev.ticks)
        prog = level_program(q, cores, q.enabled[cores] & active)
        got = pack_trains(_core.run_spiking(prog, raster, record=True, num_threads=1)["record"])
        return [got[:, i][:, active[i]] for i in range(len(cores))]

    def pass_changes(self, c, cols):
        """Recompute the arrivals of every axon an active neuron ``cols`` of core c reaches (in
        either program) whose train or route changed."""
        ev, p, q = self.ev, self.ev.program, self.faulty
        mine, ff = self.trains[c][:, cols], ev.trains[:, c, cols]
        rerouted = (p.dest_core[c, cols] != q.dest_core[c, cols]) | \
            (p.dest_axon[c, cols] != q.dest_axon[c, cols]) | \
            (p.dest_delay[c, cols] != q.dest_delay[c, cols])
        fires = mine.any(axis=(0, 2)) | ff.any(axis=(0, 2))
        moved = cols[(mine != ff).any(axis=(0, 2)) | (rerouted & fires)]
        A = p.n_axons
        keys = [prog.dest_core[c, moved].astype(np.int64) * A + prog.dest_axon[c, moved]
                for prog in (p, q)]
        routed = [prog.enabled[c, moved] & (prog.dest_core[c, moved] >= 0) for prog in (p, q)]
        keys = np.unique(np.concatenate([k[r] for k, r in zip(keys, routed)]))
        if keys.size:
            self.recompute_axons(keys)

    def recompute_axons(self, keys):
        """Faulty arrivals of the axons ``keys`` (sorted core·A + axon): their external inputs OR
        their faulty sources' trains, delayed; recorded where they differ from the fault-free
        arrivals."""
        ev, q, A, T = self.ev, self.faulty, self.faulty.n_axons, self.ev.ticks
        new = np.zeros((ev.arrivals.shape[0], keys.size, ev.arrivals.shape[-1]), np.uint64)
        fed = np.isin(self.input_keys, keys)
        np.bitwise_or.at(new, (slice(None), np.searchsorted(keys, self.input_keys[fed])),
                         ev.input_trains[:, q.input_index[fed]])
        src = np.isin(self.route_keys, keys)
        slot = np.searchsorted(keys, self.route_keys[src])
        src_c, src_n = self.route_src[0][src], self.route_src[1][src]
        delay = q.dest_delay[src_c, src_n]
        for sc in np.unique(src_c).tolist():
            trains = self.trains[sc] if sc in self.trains else ev.trains[:, sc]
            for d in np.unique(delay[src_c == sc]).tolist():
                sel = (src_c == sc) & (delay == d)
                np.bitwise_or.at(new, (slice(None), slot[sel]),
                                 shift_trains(trains[:, src_n[sel]], d, T))
        dest_c, dest_a = keys // A, keys % A
        changed = (new != ev.arrivals[:, dest_c, dest_a]).any(axis=-1)           # (B, K)
        for k in np.flatnonzero(changed.any(axis=0)).tolist():
            dc, da = int(dest_c[k]), int(dest_a[k])
            if dc not in self.arrivals:
                self.arrivals[dc] = ev.arrivals[:, dc].copy()
                self.new_inputs[dc] = np.zeros(changed.shape[0], bool)
                self.new_axons[dc] = np.zeros(A, bool)
            self.arrivals[dc][:, da] = new[:, k]
            self.new_inputs[dc] |= changed[:, k]
            self.new_axons[dc][da] = True

    def result(self):
        """FastResult: the fault-free counts and counters corrected on the cores that were run
        (spikes, hops, outputs) and on the axons whose arrivals or synapse counts changed."""
        ev, p, q = self.ev, self.ev.program, self.faulty
        counts = ev.base_rows["counts"].copy()
        spikes, events, hops = (np.array(t) for t in ev.base_totals)
        hop_q = hop_lengths(q.core_xy, q.dest_core, np.arange(q.n_cores)[:, None])
        for c, trains in self.trains.items():
            n_q, n_p = spike_counts(trains), ev.neuron_spikes[:, c]
            spikes[c] += int((n_q - n_p).sum())
            hops += int((n_q * hop_q[c]).sum() - (n_p * ev.hop_lengths[c]).sum())
            outputs = np.flatnonzero(q.output_core == c)
            counts[:, outputs] = n_q[:, q.output_neuron[outputs]]
        rows = {c: (q.crossbar[c] & q.enabled[c]).sum(axis=1)         # synapses per axon
                for c in np.flatnonzero(self.faulted.any(axis=1)).tolist()}
        for c, arrivals in self.arrivals.items():
            more = spike_counts(arrivals) - ev.axon_spikes[:, c]
            events[c] += int((more * rows.get(c, ev.row_synapses[c])).sum())
        for c, row in rows.items():
            events[c] += int((ev.axon_spikes[:, c].sum(axis=0) * (row - ev.row_synapses[c])).sum())
        return ev.fast_result(counts, (spikes, events, hops), q)


def _rows(results):
    """Per-input arrays of tick-kernel results (:func:`neurosim._core.run_spiking`, the kernel
    of ``simulate(backend="core")``), concatenated over the inputs: counts (B, K), per-core
    spikes, events and hops (B, C)."""
    return {"counts": np.concatenate([r["counts"] for r in results]),
            "spikes": np.concatenate([r["pair_spikes"] for r in results]),
            "events": np.concatenate([r["pair_events"] for r in results]),
            "hops": np.concatenate([r["pair_hops"] for r in results])}


def _totals(rows):
    """(spikes (C,), events (C,), hops) summed over the inputs of per-input ``rows``."""
    return (rows["spikes"].sum(axis=0), rows["events"].sum(axis=0), int(rows["hops"].sum()))
