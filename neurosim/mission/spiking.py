"""Spiking-mode checkpoints: re-simulate only the evaluation inputs a FaultState can change.

The fault-free chip is simulated once (the tick kernel of :func:`neurosim.sim.simulate`), its
spike record kept as "did neuron n fire, did axon a receive a spike, for input b". A faulty chip
behaves exactly like the fault-free one on every input b for which no fault *triggers* along the
fault-free trajectory (by induction over the ticks: until a fault changes something, the state is
the fault-free state). A fault of a used neuron n of core c triggers on input b when:

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

Faults of unused neurons and no-op stuck bits never trigger. The faulty program
(:func:`neurosim.chip.faults.apply`) is simulated on the triggered inputs only, in one kernel
call, and their rows replace the fault-free ones: the result is the one ``simulate`` gives on all
inputs, bit for bit. Programs with stochastic neuron modes draw from
per-core generators; their draws do not depend on the batch, so the restriction holds for them
too (cext/tick.c draw_base(seed, tick)).
"""
import numpy as np

from neurosim import _core
from neurosim.chip.faults import apply
from neurosim.sim.encoding import encode
from neurosim.sim.incremental import FastResult

RECORD_CHUNK = 64   # inputs simulated together with the spike record on (bounds its memory)
# One kernel thread: the mission's workers already use every core (two kernel threads in each of
# two workers ran 1.5x slower than one on the 2-core machine, `python -m neurosim bench mission`).


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
        """Counts, first spikes and per-core counters of every input on the fault-free chip;
        fired (B, C, N) and axon_active (B, C, A) from the spike record."""
        p = self.program
        B = self.x.shape[0]
        C, A, N = p.crossbar.shape
        parts = [_core.run_spiking(p, np.ascontiguousarray(self.raster[:, s:s + RECORD_CHUNK]),
                                   record=True, num_threads=1) for s in range(0, B, RECORD_CHUNK)]
        self.fired = np.concatenate([r["record"].any(axis=0) for r in parts])
        self.base_rows = _rows(parts)
        self.base = self._result(self.base_rows, p)
        active = np.zeros((B, C * A), bool)
        fed = self.raster.any(axis=0)[:, p.input_index]
        np.logical_or.at(active, (slice(None), p.input_core.astype(np.int64) * A + p.input_axon),
                         fed)
        rc, rj = np.nonzero(p.enabled & (p.dest_core >= 0))
        keys = p.dest_core[rc, rj].astype(np.int64) * A + p.dest_axon[rc, rj]
        np.logical_or.at(active, (slice(None), keys), self.fired[:, rc, rj])
        self.axon_active = active.reshape(B, C, A)

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
        """FastResult of the faulty chip (cores at ``core_xy`` if moved: every input then)."""
        hit = np.ones(self.x.shape[0], bool) if core_xy is not None else self.triggered(fs)
        prog = apply(self.program, fs)
        if core_xy is not None:
            prog = prog.replace(core_xy=np.asarray(core_xy, np.int32))
        rows = {k: v.copy() for k, v in self.base_rows.items()}
        idx = np.flatnonzero(hit)
        if idx.size:
            r = _core.run_spiking(prog, np.ascontiguousarray(self.raster[:, idx]), num_threads=1)
            for k, v in _rows([r]).items():
                rows[k][idx] = v
        return self._result(rows, prog)

    def _result(self, rows, prog):
        """FastResult of per-input kernel ``rows`` of ``prog`` (hops and neuron updates, which the
        kernel reports as totals, shared evenly over the cores)."""
        C, T = prog.n_cores, self.ticks
        updates = int(prog.enabled.sum()) * T * self.x.shape[0]
        share = lambda total: np.full(C, total / C)
        return FastResult(rows["counts"] / T, rows["spikes"].sum(axis=0).astype(float),
                          rows["events"].sum(axis=0).astype(float),
                          share(float(rows["hops"].sum())), share(float(updates)),
                          prog.enabled.any(axis=1).astype(float),
                          float(self.raster.sum(dtype=np.int64)))


def _rows(results):
    """Per-input arrays of tick-kernel results (:func:`neurosim._core.run_spiking`, the kernel
    of ``simulate(backend="core")``), concatenated over the inputs: counts (B, K), per-core
    spikes, events and hops (B, C)."""
    return {"counts": np.concatenate([r["counts"] for r in results]),
            "spikes": np.concatenate([r["pair_spikes"] for r in results]),
            "events": np.concatenate([r["pair_events"] for r in results]),
            "hops": np.concatenate([r["pair_hops"] for r in results])}
