"""ChipProgram: a network placed on a chip, as a struct of numpy arrays over the used cores.

C used cores, each with A axons and N neurons (A ≤ profile.axons_per_core, N ≤
profile.neurons_per_core), T axon types.

=====================  ==============  =======  ==================================================
field                  shape           dtype    meaning
=====================  ==============  =======  ==================================================
crossbar               (C, A, N)       bool     c_ij: axon i drives neuron j
axon_type              (C, A)          uint8    type of each axon, < T
weights                (C, T, N)       int32    s_j[type] (typed profiles)
synapse_weights        (C, A, N)       int32    w_ij (profiles with typed_weights=False), else absent
leak                   (C, N)          int32    λ_j, added every tick
threshold              (C, N)          int32    α_j ≥ 1
floor                  (C, N)          int32    β_j ≥ 0 (the potential's floor is −β_j)
reset_mode             (C, N)          uint8    0: V←R, 1: V←V−α, 2: no reset
reset_value            (C, N)          int32    R_j
floor_mode             (C, N)          uint8    0: saturate at −β, 1: reset to −R
initial_potential      (C, N)          int32    V_j at tick 0
enabled                (C, N)          bool     neuron in use (disabled: never leaks or fires)
dest_core              (C, N)          int32    index of the destination core, −1: none
dest_axon              (C, N)          int32    axon in the destination core
dest_delay             (C, N)          uint8    1..max_delay ticks
core_xy                (C, 2)          int32    (row, col) of each core on the grid
input_index            (M,)            int32    external input feeding entry m
input_core/input_axon  (M,)            int32    where entry m's spikes arrive (same tick)
output_core/neuron     (K,)            int32    the neuron read out for output class k
neuron_group           (C, N)          int16    layer (or group) of each neuron, −1: unused
stochastic_synapse     (C, T, N)       bool     b_j[type]: sgn(s) with probability (|s|+1)/256
stochastic_leak        (C, N)          bool     c_j: sgn(λ) with probability (|λ|+1)/256
leak_reversal          (C, N)          bool     ε_j: the leak is multiplied by sgn(V) (towards 0
                                                for λ < 0, away from 0 for λ > 0)
threshold_mask_bits    (C, N)          uint8    TM_j: threshold α + η, η = ρ & (2^TM − 1), 0..30
prng_seed              (C,)            uint32   seed of each core's random draws
unit_layer             (C, N)          int16    MLP layer whose unit the neuron computes, −1: none
unit_index             (C, N)          int32    that unit's index in its layer, −1: none
unit_role              (C, N)          int8     0 the unit's main neuron, 1 a fan-out copy, 2 the
                                                r⁺ and 3 the r⁻ member of a relay pair, −1: none
layer_size             (L,)            int32    units of MLP layer l (L = 0: no unit map)
layer_scale            (L,)            float64  λ_l: rate 1 stands for activation λ_l
layer_shift            (L,)            float64  the output shift s (0 for hidden layers)
=====================  ==============  =======  ==================================================

The last five fields are the rest of the TrueNorth neuron (Cassidy et al., IJCNN 2013; draws as
defined in :mod:`neurosim.sim.reference`). They are optional: absent, they take the deterministic
defaults (all False, TM 0, seed = core index), which is the neuron of format version 1.

Several sources may drive one (core, axon) — a routing upset can make it so: in spiking mode
their spikes are ORed (one spike per tick), in rate mode their rates add, capped at 1. The file
format (``save``/``load``) is an ``.npz`` of exactly these arrays plus ``format_version``,
``profile`` and ``n_inputs``, ``meta_json``; no pickle. The five neuron extensions are written only
when they differ from their defaults, and then with format version 2; version 1 files (and
version 2 files without them) load with the defaults.

The last six fields are the *unit map* :func:`neurosim.compiler.compile` writes (the map from
chip neurons back to the MLP's units; L = 0 and all −1 for programs that are not compiled from an
MLP). A program with a unit map is written with format version 3. Files of versions 1 and 2 carried
it as nested JSON lists in ``meta["layers"]`` (per layer: ``neurons[j]`` the (core, neuron) of
unit j, main first, ``relays[j]`` its (core, neuron, sign) relay members, ``scale``, ``shift``);
:meth:`ChipProgram.load` converts that entry into the arrays
(:func:`neurosim.chip.program_file.unit_map_from_layers`).
"""
import os
from dataclasses import dataclass, field, fields, replace

import numpy as np

from neurosim.chip.profile import ChipProfile, get_profile
from neurosim.chip.program_checks import validate
from neurosim.chip.program_fields import (NEURON_EXTENSIONS, ROLE_COPY, ROLE_RELAY_NEG,
                                          ROLE_RELAY_POS, ROLE_UNIT, extension_default)
from neurosim.chip.program_file import read_program, write_program
from neurosim.errors import InputFileError, ValidationError


@dataclass(frozen=True, eq=False)
class ChipProgram:
    """A validated program for one ChipProfile (see the module docstring for the fields)."""

    profile: ChipProfile
    n_inputs: int
    crossbar: np.ndarray
    axon_type: np.ndarray
    weights: np.ndarray
    leak: np.ndarray
    threshold: np.ndarray
    floor: np.ndarray
    reset_mode: np.ndarray
    reset_value: np.ndarray
    floor_mode: np.ndarray
    initial_potential: np.ndarray
    enabled: np.ndarray
    dest_core: np.ndarray
    dest_axon: np.ndarray
    dest_delay: np.ndarray
    core_xy: np.ndarray
    input_index: np.ndarray
    input_core: np.ndarray
    input_axon: np.ndarray
    output_core: np.ndarray
    output_neuron: np.ndarray
    neuron_group: np.ndarray
    synapse_weights: np.ndarray = None
    stochastic_synapse: np.ndarray = None
    stochastic_leak: np.ndarray = None
    leak_reversal: np.ndarray = None
    threshold_mask_bits: np.ndarray = None
    prng_seed: np.ndarray = None
    unit_layer: np.ndarray = None
    unit_index: np.ndarray = None
    unit_role: np.ndarray = None
    layer_size: np.ndarray = None
    layer_scale: np.ndarray = None
    layer_shift: np.ndarray = None
    meta: dict = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        validate(self)

    # ------------------------------------------------------------------ sizes
    @property
    def n_cores(self):
        return self.crossbar.shape[0]

    @property
    def n_axons(self):
        return self.crossbar.shape[1]

    @property
    def n_neurons(self):
        return self.crossbar.shape[2]

    @property
    def n_outputs(self):
        return self.output_core.shape[0]

    def __getstate__(self):
        """Pickled without ``_cache`` (derived arrays, e.g. the kernel layout: ~100 MiB on the full
        chip): a worker that receives the program rebuilds what it uses."""
        state = dict(self.__dict__)
        state["_cache"] = {}
        return state

    def replace(self, **changes):
        """A new program with some arrays replaced; unchanged arrays are shared (copy-on-write)."""
        return replace(self, _cache={}, **changes)

    def row_synapses(self):
        """Connected enabled neurons per axon, shape (C, A) int32: the synaptic events one
        arriving spike causes (a disabled — unused or dead — neuron integrates nothing)."""
        if "row_synapses" not in self._cache:
            counts = np.empty(self.crossbar.shape[:2], np.int32)
            for c in range(self.n_cores):  # core by core: no crossbar-sized temporary
                counts[c] = (self.crossbar[c] & self.enabled[c]).sum(axis=1)
            self._cache["row_synapses"] = counts
        return self._cache["row_synapses"]

    def masked_synapse_weights_int16(self):
        """c_ij · w_ij as int16 (C, A, N), for per-synapse profiles: what the kernel adds per
        arriving spike (profile weights fit 16 bits)."""
        if "synapse_weights_int16" not in self._cache:
            out = np.empty(self.crossbar.shape, np.int16)
            for c in range(self.n_cores):
                np.multiply(self.synapse_weights[c], self.crossbar[c], out=out[c], casting="unsafe")
            self._cache["synapse_weights_int16"] = out
        return self._cache["synapse_weights_int16"]

    def row_lengths(self):
        """Per axon, the index of its last connected neuron + 1 (0 if none), shape (C, A) int32:
        how far the kernel must walk a crossbar row."""
        if "row_lengths" not in self._cache:
            lengths = np.empty(self.crossbar.shape[:2], np.int32)
            N = self.n_neurons
            for c in range(self.n_cores):
                row = self.crossbar[c]
                lengths[c] = np.where(row.any(axis=1), N - np.argmax(row[:, ::-1], axis=1), 0)
            self._cache["row_lengths"] = lengths
        return self._cache["row_lengths"]

    def effective_weights(self, core):
        """The integer weight matrix (A, N) of one core: c_ij·s_j[type_i], or c_ij·w_ij."""
        xbar = self.crossbar[core].astype(np.int64)
        if self.synapse_weights is not None:
            return xbar * self.synapse_weights[core]
        return xbar * self.weights[core][self.axon_type[core]]

    def neuron_extensions_used(self):
        """Names of the neuron extension fields (stochastic modes, leak reversal, threshold mask,
        seed) that differ from their defaults, in declaration order."""
        return [name for name in NEURON_EXTENSIONS
                if not np.array_equal(getattr(self, name),
                                      extension_default(name, getattr(self, name).shape))]

    def has_unit_map(self):
        """True when the program maps its neurons back to MLP units (compiled from an MLP)."""
        return self.layer_size.size > 0

    def unit_neurons(self, layer):
        """Per unit j of MLP ``layer``, a (k, 2) int64 array of the (core, neuron) computing it:
        its main neuron first, then its fan-out copies (all identical) in (core, neuron) order."""
        return self._unit_rows(layer, (ROLE_UNIT, ROLE_COPY))[0]

    def unit_relays(self, layer):
        """Per unit j of MLP ``layer``, a (k, 3) int64 array of its relay members (core, neuron,
        sign), sign +1 for r⁺ and −1 for r⁻; empty (0, 3) for a unit that was not split."""
        rows, roles = self._unit_rows(layer, (ROLE_RELAY_POS, ROLE_RELAY_NEG))
        sign = [np.where(r == ROLE_RELAY_POS, 1, -1)[:, None] for r in roles]
        return [np.hstack([rw, sg]) for rw, sg in zip(rows, sign)]

    def _unit_rows(self, layer, roles):
        """(per unit of ``layer``: (core, neuron) rows with a role in ``roles``, ordered by role,
        core, neuron; the matching roles), cached (Monte Carlo asks for them per sample)."""
        key = ("unit_rows", layer, roles)
        if key not in self._cache:
            self._cache[key] = self._find_unit_rows(layer, roles)
        return self._cache[key]

    def _find_unit_rows(self, layer, roles):
        """See :meth:`_unit_rows`."""
        core, neuron = np.nonzero((self.unit_layer == layer) & np.isin(self.unit_role, roles))
        unit = self.unit_index[core, neuron].astype(np.int64)
        role = self.unit_role[core, neuron]
        order = np.lexsort((neuron, core, role, unit))
        rows = np.stack([core, neuron], axis=1)[order].astype(np.int64)
        cuts = np.cumsum(np.bincount(unit, minlength=int(self.layer_size[layer])))[:-1]
        return np.split(rows, cuts), np.split(role[order], cuts)

    def memory_bytes(self):
        """Bytes held by the program's arrays."""
        return sum(getattr(self, f.name).nbytes for f in fields(self)
                   if isinstance(getattr(self, f.name), np.ndarray))

    # ------------------------------------------------------------------ files
    def save(self, path):
        """Write the program as ``.npz`` (no pickle), atomically (temporary name, then rename):
        :func:`neurosim.chip.program_file.write_program`."""
        write_program(self, path)

    @classmethod
    def load(cls, path):
        """Read a program written by :meth:`save`; errors are one line naming the file and the
        field (:func:`neurosim.chip.program_file.read_program`, then validation)."""
        path = os.fspath(path)
        header, arrays = read_program(path)
        try:
            return cls(profile=get_profile(header["profile"]), n_inputs=header["n_inputs"],
                       meta=header["meta"], **arrays)
        except ValidationError as exc:
            raise InputFileError(f"{path}: {exc}") from None


def empty_program(profile, n_cores, n_axons=None, n_neurons=None, n_inputs=0, n_outputs=0,
                  **overrides):
    """A program of ``n_cores`` idle cores (all neurons disabled, no synapses) to fill in.

    Defaults: threshold 1, floor 0, reset mode 0 to 0, saturating floor, no destination, cores
    placed row-major. ``overrides`` replace any field.
    """
    profile = get_profile(profile)
    A = profile.axons_per_core if n_axons is None else n_axons
    N = profile.neurons_per_core if n_neurons is None else n_neurons
    C = n_cores
    T = profile.axon_types
    cols = profile.grid_cols
    base = dict(
        crossbar=np.zeros((C, A, N), bool), axon_type=np.zeros((C, A), np.uint8),
        weights=np.zeros((C, T, N), np.int32), leak=np.zeros((C, N), np.int32),
        threshold=np.ones((C, N), np.int32), floor=np.zeros((C, N), np.int32),
        reset_mode=np.zeros((C, N), np.uint8), reset_value=np.zeros((C, N), np.int32),
        floor_mode=np.zeros((C, N), np.uint8), initial_potential=np.zeros((C, N), np.int32),
        enabled=np.zeros((C, N), bool), dest_core=np.full((C, N), -1, np.int32),
        dest_axon=np.zeros((C, N), np.int32), dest_delay=np.ones((C, N), np.uint8),
        core_xy=np.stack([np.arange(C) // cols, np.arange(C) % cols], axis=1).astype(np.int32),
        input_index=np.zeros(0, np.int32), input_core=np.zeros(0, np.int32),
        input_axon=np.zeros(0, np.int32), output_core=np.zeros(n_outputs, np.int32),
        output_neuron=np.zeros(n_outputs, np.int32), neuron_group=np.full((C, N), -1, np.int16),
        synapse_weights=None if profile.typed_weights else np.zeros((C, A, N), np.int32),
    )
    base.update(overrides)
    return ChipProgram(profile=profile, n_inputs=n_inputs, **base)
