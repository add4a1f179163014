"""ChipProfile: what a chip can hold, and the built-in profiles ``truenorth`` and ``ideal``.

A profile is a description, not behaviour: the grid of cores, the size of one core, the ranges of
every neuron parameter and the tick length. Energy constants live in :mod:`neurosim.energy`, keyed
by ``power_profile`` (so a power model can be swapped without touching the chip description).

Neuron model (one tick, every enabled neuron j of a core; [cassidy2013]):

    V_j += Σ_i a_i(t) · c_ij · s_j[type_i]      (integrate; a_i(t)=1 if axon i receives a spike)
    V_j += λ_j                                  (leak)
    if V_j ≥ α_j: spike; V_j ← R_j | V_j − α_j | V_j   (reset mode 0 | 1 | 2)
    if V_j < −β_j: V_j ← −β_j (floor mode 0, saturate) | −R_j (floor mode 1, reset)

The potential is a signed register of ``potential_bits`` bits: it saturates after the leak.

With ``typed_weights=False`` (the ``ideal`` profile) the synaptic weight is a full signed integer
per synapse, w_ij, instead of c_ij · s_j[type_i].

The bit widths of a core's memory (weights, thresholds, potentials, routing entries) follow from
these ranges and the grid: :class:`neurosim.chip.memory.CoreMemory`.
"""
from dataclasses import dataclass, field

from neurosim.errors import ValidationError

MAX_DELAY_SLOTS = 16  # ring-buffer slots: delays 1..15 plus the current tick


@dataclass(frozen=True)
class ChipProfile:
    """A neuromorphic chip's structure and parameter ranges.

    Fields are in the units their names say; ``sources`` maps each field to where its value comes
    from.
    """

    name: str
    grid_rows: int
    grid_cols: int
    axons_per_core: int
    neurons_per_core: int
    axon_types: int
    typed_weights: bool          # True: w_ij = c_ij · s_j[type_i]; False: one weight per synapse
    weight_min: int
    weight_max: int
    leak_min: int
    leak_max: int
    threshold_max: int           # α in [1, threshold_max]
    floor_max: int               # β in [0, floor_max]
    reset_min: int
    reset_max: int
    max_delay: int               # delays in [1, max_delay] ticks
    tick_ms: float
    power_profile: str
    potential_bits: int = 31     # V saturates at [−2^(bits−1), 2^(bits−1) − 1] after the leak
    sources: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def cores(self):
        """Number of physical cores on the grid."""
        return self.grid_rows * self.grid_cols


_TN_SRC = "[merolla2014]; [akopyan2015]"
_TN_NEURON_SRC = ("[cassidy2013] (neuron parameter widths: 9-bit signed weights and leak, 18-bit "
                  "threshold and floor; widths unverified)")

TRUENORTH = ChipProfile(
    name="truenorth",
    grid_rows=64, grid_cols=64,
    axons_per_core=256, neurons_per_core=256, axon_types=4, typed_weights=True,
    weight_min=-255, weight_max=255,
    leak_min=-255, leak_max=255,
    threshold_max=2 ** 18 - 1, floor_max=2 ** 18 - 1,
    reset_min=-(2 ** 18 - 1), reset_max=2 ** 18 - 1,
    max_delay=15, tick_ms=1.0,
    power_profile="truenorth", potential_bits=20,
    sources={
        "potential_bits": "assumption: a 20-bit signed membrane potential (the 18-bit "
                          "threshold and floor ranges plus sign and one bit of headroom); not "
                          "verified against Cassidy et al. 2013",
        "grid_rows": _TN_SRC, "grid_cols": _TN_SRC, "axons_per_core": _TN_SRC,
        "neurons_per_core": _TN_SRC, "tick_ms": _TN_SRC,
        "axon_types": "[cassidy2013] (4 axon types, per-neuron weight per type)",
        "weight_min": "[cassidy2013] (sign ±1 times 8-bit magnitude)",
        "weight_max": "[cassidy2013] (sign ±1 times 8-bit magnitude)",
        "leak_min": _TN_NEURON_SRC, "leak_max": _TN_NEURON_SRC,
        "threshold_max": _TN_NEURON_SRC, "floor_max": _TN_NEURON_SRC,
        "reset_min": _TN_NEURON_SRC, "reset_max": _TN_NEURON_SRC,
        "max_delay": "[akopyan2015] (axonal delay 1-15 ticks)",
    },
)

IDEAL = ChipProfile(
    name="ideal",
    grid_rows=64, grid_cols=64,
    axons_per_core=4096, neurons_per_core=4096, axon_types=1, typed_weights=False,
    weight_min=-(2 ** 15 - 1), weight_max=2 ** 15 - 1,
    leak_min=-(2 ** 20), leak_max=2 ** 20,
    threshold_max=2 ** 30, floor_max=2 ** 30,
    reset_min=-(2 ** 30), reset_max=2 ** 30,
    max_delay=15, tick_ms=1.0,
    power_profile="truenorth", potential_bits=31,
    sources={
        "potential_bits": "neurosim yardstick: 31 bits keep V + one tick's input (4,096 axons "
                          "x 2^15) + leak inside int32",
        "*": "neurosim yardstick: the TrueNorth neuron and grid with one 16-bit signed weight per "
             "synapse and cores wide enough that the MLPs neurosim trains need no fan-in or "
             "fan-out splitting; not a physical chip",
    },
)

PROFILES = {p.name: p for p in (TRUENORTH, IDEAL)}


def get_profile(name_or_profile):
    """Return a built-in profile by name (or pass a ChipProfile through)."""
    if isinstance(name_or_profile, ChipProfile):
        return name_or_profile
    try:
        return PROFILES[name_or_profile]
    except KeyError:
        raise ValidationError(
            f"chip profile '{name_or_profile}' is unknown; expected one of "
            f"{', '.join(sorted(PROFILES))}") from None
