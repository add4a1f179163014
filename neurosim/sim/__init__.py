"""simulate(): run a ChipProgram on a batch of input rates, spiking or rate-coded.

Backends (DESIGN.md "Simulation backends"): ``core`` (the Cython kernel, the production path),
``reference`` (plain numpy, the executable specification) and ``brian2`` (an outside check and the
performance yardstick). All spiking backends are fed the same input raster and agree bit for bit
(core, reference) or spike for spike (brian2).
"""
from dataclasses import dataclass

import numpy as np

from neurosim import _core
from neurosim.chip.faults import apply
from neurosim.errors import ValidationError
from neurosim.sim import brian2_backend, reference
from neurosim.sim.counters import ActivityCounters, powered_cores
from neurosim.sim.encoding import check_rates, encode
from neurosim.sim.rate import run_rate

BACKENDS = ("core", "reference", "brian2")
MODES = ("spiking", "rate")


@dataclass(frozen=True, eq=False)
class SimResult:
    """Outputs of one batch run.

    counts (B, K): output spikes per class (expected counts in rate mode); rates = counts / ticks;
    first_spike (B, K): tick of each output's first spike (−1: none; absent in rate mode);
    record (T, B, C, N) uint8: every spike, if requested; counters: ActivityCounters.
    """

    mode: str
    backend: str
    ticks: int
    counts: np.ndarray
    rates: np.ndarray
    first_spike: np.ndarray
    record: np.ndarray
    counters: ActivityCounters
    neuron_rates: np.ndarray = None

    def predictions(self):
        """Predicted class per input: most output spikes; ties go to the earliest first spike,
        then the lowest class index."""
        if self.first_spike is None:
            return np.argmax(self.counts, axis=1)
        first = np.where(self.first_spike < 0, np.iinfo(np.int64).max, self.first_spike)
        best = self.counts.max(axis=1, keepdims=True)
        candidates = np.where(self.counts == best, first, np.iinfo(np.int64).max)
        return np.argmin(candidates, axis=1)


def _kernel(backend):
    if backend == "core":
        return _core.run_spiking
    if backend == "reference":
        return reference.run_spiking
    if backend == "brian2":
        return brian2_backend.run_spiking
    raise ValidationError(f"backend '{backend}' is unknown; expected one of {', '.join(BACKENDS)}")


def simulate(program, rates, ticks=64, mode="spiking", backend="core", faults=None,
             encoding="deterministic", seed=0, record=False, raster=None):
    """Run ``program`` (with ``faults`` applied, if any) on input ``rates`` (batch, n_inputs).

    ``raster`` (ticks, batch, n_inputs) uint8 overrides the encoder for spiking runs.
    """
    if mode not in MODES:
        raise ValidationError(f"mode '{mode}' is unknown; expected one of {', '.join(MODES)}")
    if ticks < 1:
        raise ValidationError(f"ticks is {ticks}; expected at least 1")
    program = apply(program, faults)
    rates = check_rates(rates, program.n_inputs)
    if mode == "rate":
        neuron_rates, out_rates, counters = run_rate(program, rates, ticks)
        return SimResult(mode, "rate", ticks, out_rates * ticks, out_rates, None, None, counters,
                         neuron_rates)
    run = _kernel(backend)
    if raster is None:
        raster = encode(rates, ticks, encoding, seed)
    out = run(program, np.ascontiguousarray(raster, dtype=np.uint8), record=record)
    B = raster.shape[1]
    counters = ActivityCounters(
        ticks=ticks, batch=B,
        spikes=int(out["pair_spikes"].sum()), synaptic_events=int(out["pair_events"].sum()),
        neuron_updates=int(program.enabled.sum()) * ticks * B, hops=int(out["pair_hops"].sum()),
        input_spikes=int(raster.sum(dtype=np.int64)),
        cores_powered=powered_cores(program),
        core_spikes=out["pair_spikes"].sum(axis=0), core_events=out["pair_events"].sum(axis=0))
    counts = out["counts"]
    return SimResult(mode, backend, ticks, counts, counts / ticks, out["first_spike"],
                     out.get("record"), counters)
