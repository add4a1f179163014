"""ActivityCounters: what the chip did, the only input (with the profile) of the power model."""
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class ActivityCounters:
    """Totals over a whole batch run.

    ``ticks`` is the ticks per input, ``batch`` the number of inputs; the other totals cover all
    inputs. In rate mode the totals are expectations (floats): rate × ticks.

    - spikes: neuron spikes emitted;
    - synaptic_events: (spike arriving on an axon) × (neurons connected to that axon);
    - neuron_updates: enabled neurons × ticks (every enabled neuron is updated every tick);
    - hops: Σ over routed spikes of the Manhattan distance |Δrow| + |Δcol| between cores;
    - input_spikes: spikes of the external inputs;
    - cores_powered: cores with at least one enabled neuron (dead and unused cores excluded);
    - core_spikes, core_events: per used core, for heat maps.
    """

    ticks: int
    batch: int
    spikes: float
    synaptic_events: float
    neuron_updates: float
    hops: float
    input_spikes: float
    cores_powered: int
    core_spikes: np.ndarray
    core_events: np.ndarray

    def per_inference(self):
        """Scalar totals divided by the batch size (one inference = one input for ``ticks``)."""
        return {k: v / self.batch for k, v in self.totals().items()}

    TOTALS = ("spikes", "synaptic_events", "neuron_updates", "hops", "input_spikes")

    def totals(self):
        """The scalar totals as floats (read field by field: ``asdict`` would deep-copy the
        per-core arrays)."""
        return {k: float(getattr(self, k)) for k in self.TOTALS}

    def __eq__(self, other):
        return isinstance(other, ActivityCounters) and all(
            np.array_equal(a, b) for a, b in zip(asdict(self).values(), asdict(other).values()))

    __hash__ = None


def powered_cores(program):
    """Number of cores with at least one enabled neuron."""
    return int(program.enabled.any(axis=1).sum())
