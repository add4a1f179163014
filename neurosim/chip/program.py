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
:meth:`ChipProgram.load` converts that entry into the arrays (:func:`unit_map_from_layers`).
"""
import json
import os
from dataclasses import dataclass, field, fields, replace

import numpy as np

from neurosim.chip.profile import ChipProfile, get_profile
from neurosim.errors import InputFileError, ValidationError
from neurosim.fileio import save_npz
from neurosim.sniff import first_nonfinite, json_object, read_npz, scalar

FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
PLAIN_VERSION = 1  # written when the neuron extensions are at their defaults and no unit map
EXTENSIONS_VERSION = 2  # the neuron extensions, no unit map

# name -> (dtype, shape spec); shape letters: C cores, A axons, N neurons, T types, M, K
_ARRAY_FIELDS = {
    "crossbar": (np.bool_, "CAN"),
    "axon_type": (np.uint8, "CA"),
    "weights": (np.int32, "CTN"),
    "leak": (np.int32, "CN"),
    "threshold": (np.int32, "CN"),
    "floor": (np.int32, "CN"),
    "reset_mode": (np.uint8, "CN"),
    "reset_value": (np.int32, "CN"),
    "floor_mode": (np.uint8, "CN"),
    "initial_potential": (np.int32, "CN"),
    "enabled": (np.bool_, "CN"),
    "dest_core": (np.int32, "CN"),
    "dest_axon": (np.int32, "CN"),
    "dest_delay": (np.uint8, "CN"),
    "core_xy": (np.int32, "C2"),
    "input_index": (np.int32, "M"),
    "input_core": (np.int32, "M"),
    "input_axon": (np.int32, "M"),
    "output_core": (np.int32, "K"),
    "output_neuron": (np.int32, "K"),
    "neuron_group": (np.int16, "CN"),
}
_OPTIONAL_FIELDS = {"synapse_weights": (np.int32, "CAN")}
# the rest of the TrueNorth neuron (format version 2): name -> (dtype, shape spec)
_NEURON_EXTENSIONS = {
    "stochastic_synapse": (np.bool_, "CTN"),
    "stochastic_leak": (np.bool_, "CN"),
    "leak_reversal": (np.bool_, "CN"),
    "threshold_mask_bits": (np.uint8, "CN"),
    "prng_seed": (np.uint32, "C"),
}
# the unit map (format version 3): name -> (dtype, shape spec); L: MLP layers
_UNIT_MAP_FIELDS = {
    "unit_layer": (np.int16, "CN"),
    "unit_index": (np.int32, "CN"),
    "unit_role": (np.int8, "CN"),
    "layer_size": (np.int32, "L"),
    "layer_scale": (np.float64, "L"),
    "layer_shift": (np.float64, "L"),
}
ROLE_NONE, ROLE_UNIT, ROLE_COPY, ROLE_RELAY_POS, ROLE_RELAY_NEG = -1, 0, 1, 2, 3
MAX_THRESHOLD_MASK_BITS = 30  # α + η stays below 2^31 for every profile's α ≤ 2^30


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
        return [name for name in _NEURON_EXTENSIONS
                if not np.array_equal(getattr(self, name),
                                      _extension_default(name, getattr(self, name).shape))]

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
        """Write the program as ``.npz`` (no pickle), atomically (temporary name, then rename)."""
        arrays = {name: getattr(self, name) for name in _ARRAY_FIELDS}
        if self.synapse_weights is not None:
            arrays["synapse_weights"] = self.synapse_weights
        extensions = self.neuron_extensions_used()
        arrays.update({name: getattr(self, name) for name in extensions})
        version = EXTENSIONS_VERSION if extensions else PLAIN_VERSION
        if self.has_unit_map():
            arrays.update({name: getattr(self, name) for name in _UNIT_MAP_FIELDS})
            version = FORMAT_VERSION
        save_npz(path, compressed=True, format_version=np.int32(version),
                 profile=np.str_(self.profile.name), n_inputs=np.int64(self.n_inputs),
                 meta_json=np.str_(json.dumps(self.meta, sort_keys=True)), **arrays)

    @classmethod
    def load(cls, path):
        """Read a program written by :meth:`save`; errors are one line naming the file and the
        field (wrong kinds of file and pickles are refused by :func:`neurosim.sniff.read_npz`)."""
        path = os.fspath(path)
        contents = read_npz(path, "program")
        for key in _HEADER_FIELDS[:3]:  # meta_json is optional: {} when absent
            if key not in contents:
                raise InputFileError(f"{path}: field '{key}' is missing (not a neurosim program?)")
        version = scalar(contents, path, "format_version", "int")
        if version not in READABLE_VERSIONS:
            raise InputFileError(f"{path}: field 'format_version' is {version}; "
                                 f"this neurosim reads version "
                                 f"{' or '.join(map(str, READABLE_VERSIONS))}")
        header = {"profile": scalar(contents, path, "profile", "str"),
                  "n_inputs": scalar(contents, path, "n_inputs", "int"),
                  "meta": (_model_meta(json_object(contents, path, "meta_json"), path)
                           if "meta_json" in contents else {})}
        for key in _HEADER_FIELDS:
            contents.pop(key, None)
        missing = [k for k in _ARRAY_FIELDS if k not in contents]
        if missing:
            raise InputFileError(f"{path}: field '{missing[0]}' is missing")
        known = set(_ARRAY_FIELDS) | set(_OPTIONAL_FIELDS)
        if version >= 2:
            known |= set(_NEURON_EXTENSIONS)
        if version >= 3:
            known |= set(_UNIT_MAP_FIELDS)
        unknown = sorted(set(contents) - known)
        if unknown:
            raise InputFileError(f"{path}: field '{unknown[0]}' is not a ChipProgram field")
        if version < 3 and "layers" in header["meta"]:
            contents.update(unit_map_from_layers(header["meta"].pop("layers"),
                                                 np.shape(contents["enabled"]), path))
        try:
            return cls(profile=get_profile(header["profile"]), n_inputs=header["n_inputs"],
                       meta=header["meta"], **contents)
        except ValidationError as exc:
            raise InputFileError(f"{path}: {exc}") from None


_HEADER_FIELDS = ("format_version", "profile", "n_inputs", "meta_json")


def unit_map_from_layers(layers, shape, path):
    """The unit map arrays (:data:`_UNIT_MAP_FIELDS`) of a version 1 or 2 file's
    ``meta["layers"]`` (the module docstring gives its form), for neurons of ``shape`` (C, N)."""
    where = f"{path}: field 'meta_json' entry 'layers'"
    if not isinstance(layers, list) or not layers:
        raise InputFileError(f"{where} is {layers!r}; expected a non-empty list of layers")
    arrays = {name: np.full(shape, ROLE_NONE, dtype)
              for name, (dtype, spec) in _UNIT_MAP_FIELDS.items() if spec == "CN"}
    try:
        for l, layer in enumerate(layers):
            for j, copies in enumerate(layer["neurons"]):
                for k, (core, neuron) in enumerate(copies):
                    _assign_unit(arrays, core, neuron, l, j, ROLE_UNIT if k == 0 else ROLE_COPY)
            for j, members in enumerate(layer.get("relays") or []):
                for core, neuron, sign in members:
                    if sign not in (1, -1):
                        raise ValueError(f"relay sign {sign!r}, expected 1 or -1")
                    _assign_unit(arrays, core, neuron, l, j,
                                 ROLE_RELAY_POS if sign > 0 else ROLE_RELAY_NEG)
        arrays["layer_size"] = np.array([len(layer["neurons"]) for layer in layers], np.int32)
        arrays["layer_scale"] = np.array([float(layer["scale"]) for layer in layers])
        arrays["layer_shift"] = np.array([float(layer.get("shift", 0.0)) for layer in layers])
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise InputFileError(f"{where} is not a unit map ({type(exc).__name__}: {exc}); "
                             "expected per layer 'neurons', 'relays', 'scale'") from None
    return arrays


def _assign_unit(arrays, core, neuron, layer, unit, role):
    """Record that chip neuron (core, neuron) computes ``unit`` of ``layer`` in ``role``."""
    if isinstance(core, bool) or isinstance(neuron, bool) or min(int(core), int(neuron)) < 0:
        raise ValueError(f"neuron ({core!r}, {neuron!r}), expected indices ≥ 0")
    if arrays["unit_layer"][core, neuron] != ROLE_NONE:
        raise ValueError(f"core {core} neuron {neuron} listed twice")
    arrays["unit_layer"][core, neuron] = layer
    arrays["unit_index"][core, neuron] = unit
    arrays["unit_role"][core, neuron] = role


def _model_meta(meta, path):
    """``meta`` after checking its ``model`` entry (what ``neurosim compile`` records: the model
    file's ``path`` and ``dataset``, each a string or null), which run and power read."""
    model = meta.get("model", {})
    if not isinstance(model, dict):
        raise InputFileError(f"{path}: field 'meta_json' entry 'model' is JSON "
                             f"{type(model).__name__}, expected an object")
    for key in ("path", "dataset"):
        if not isinstance(model.get(key), (str, type(None))):
            raise InputFileError(f"{path}: field 'meta_json' entry 'model.{key}' is "
                                 f"{model[key]!r}, expected a string or null")
    return meta


# ---------------------------------------------------------------------- validation
def _coerce(prog, name, dtype):
    """Convert a field to its dtype without silent loss: NaN, infinities and fractions are errors."""
    value = np.asarray(getattr(prog, name))
    if value.dtype.kind not in "biuf":
        raise ValidationError(f"field '{name}' has dtype {value.dtype}; expected "
                              f"{np.dtype(dtype).name} (text and objects are never converted)")
    if dtype is np.bool_ and value.dtype.kind != "b" and not np.isin(value, (0, 1)).all():
        raise ValidationError(f"field '{name}' has values other than 0 and 1; expected bool")
    if value.dtype.kind == "f":
        idx = first_nonfinite(value)
        if idx is not None:
            raise ValidationError(f"field '{name}' has {value[idx]} at index {idx}; "
                                  "expected finite integers")
        if (value != np.round(value)).any() and dtype is not np.bool_:
            idx = tuple(int(i) for i in np.argwhere(value != np.round(value))[0])
            raise ValidationError(f"field '{name}' has non-integer {value[idx]} at index {idx}; "
                                  "expected integers")
    if dtype is not np.bool_ and value.dtype.kind in "iuf" and value.size:
        info = np.iinfo(dtype)
        if value.min() < info.min or value.max() > info.max:
            raise ValidationError(f"field '{name}' has values in [{value.min()}, {value.max()}], "
                                  f"beyond {np.dtype(dtype).name}")
    out = np.ascontiguousarray(value, dtype=dtype)
    object.__setattr__(prog, name, out)
    return out


def _check_range(name, arr, lo, hi, what):
    """Raise naming the first (core, neuron) whose value lies outside [lo, hi]."""
    bad = (arr < lo) | (arr > hi)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        labels = ("core", "neuron") if arr.ndim == 2 else ("core", "type", "neuron")[:arr.ndim]
        loc = ", ".join(f"{lab} {i}" for lab, i in zip(labels, idx))
        raise ValidationError(f"field '{name}' ({loc}) is {arr[idx]}; expected {what} "
                              f"in [{lo}, {hi}]")


def validate(prog):
    """Check shapes, dtypes, ranges and destinations; coerce arrays to their canonical dtypes."""
    profile = prog.profile
    if not isinstance(profile, ChipProfile):
        raise ValidationError(f"field 'profile' is {profile!r}; expected a ChipProfile")
    specs = dict(_ARRAY_FIELDS)
    if profile.typed_weights:
        if prog.synapse_weights is not None:
            raise ValidationError(f"field 'synapse_weights' given for profile '{profile.name}', "
                                  "whose weights are per axon type")
    else:
        if prog.synapse_weights is None:
            raise ValidationError(f"field 'synapse_weights' missing; profile '{profile.name}' has "
                                  "one weight per synapse")
        specs.update(_OPTIONAL_FIELDS)
    arrays = {name: _coerce(prog, name, dtype) for name, (dtype, _) in specs.items()}
    crossbar = arrays["crossbar"]
    if crossbar.ndim != 3:
        raise ValidationError(f"field 'crossbar' has shape {crossbar.shape}; expected (cores, axons, neurons)")
    C, A, N = crossbar.shape
    T = arrays["weights"].shape[1] if arrays["weights"].ndim == 3 else -1
    M = arrays["input_index"].shape[0] if arrays["input_index"].ndim == 1 else -1
    K = arrays["output_core"].shape[0] if arrays["output_core"].ndim == 1 else -1
    dims = {"C": C, "A": A, "N": N, "T": T, "M": M, "K": K, "2": 2}
    for name, (_, spec) in specs.items():
        want = tuple(dims[s] for s in spec)
        if arrays[name].shape != want:
            raise ValidationError(f"field '{name}' has shape {arrays[name].shape}; expected "
                                  f"{want} ({', '.join(spec)})")
    if C < 1:
        raise ValidationError("field 'crossbar' has 0 cores; expected at least 1")
    if C > profile.cores:
        raise ValidationError(f"program uses {C} cores; chip '{profile.name}' has {profile.cores}")
    if A > profile.axons_per_core or N > profile.neurons_per_core:
        raise ValidationError(f"cores have {A} axons x {N} neurons; chip '{profile.name}' allows "
                              f"{profile.axons_per_core} x {profile.neurons_per_core}")
    if profile.typed_weights and T != profile.axon_types:
        raise ValidationError(f"field 'weights' has {T} axon types; chip '{profile.name}' has "
                              f"{profile.axon_types}")
    if A and arrays["axon_type"].size and arrays["axon_type"].max() >= max(T, 1):
        _check_range("axon_type", arrays["axon_type"], 0, max(T, 1) - 1, "an axon type")
    weight_field = "weights" if profile.typed_weights else "synapse_weights"
    _check_range(weight_field, arrays[weight_field], profile.weight_min, profile.weight_max,
                 "a weight")
    _check_range("leak", arrays["leak"], profile.leak_min, profile.leak_max, "a leak")
    _check_range("threshold", arrays["threshold"], 1, profile.threshold_max, "a threshold α")
    _check_range("floor", arrays["floor"], 0, profile.floor_max, "a floor β")
    _check_range("reset_value", arrays["reset_value"], profile.reset_min, profile.reset_max,
                 "a reset value")
    _check_range("reset_mode", arrays["reset_mode"], 0, 2, "a reset mode")
    _check_range("floor_mode", arrays["floor_mode"], 0, 1, "a floor mode")
    _validate_extensions(prog, dims)
    _validate_unit_map(prog, dims)
    has_dest = arrays["dest_core"] >= 0
    _check_range("dest_core", arrays["dest_core"], -1, C - 1, "a used core index or -1")
    _check_range("dest_axon", np.where(has_dest, arrays["dest_axon"], 0), 0, A - 1, "an axon")
    _check_range("dest_delay", np.where(has_dest, arrays["dest_delay"], 1), 1, profile.max_delay,
                 "a delay in ticks")
    xy = arrays["core_xy"]
    if C:
        for axis, size, label in ((0, profile.grid_rows, "row"), (1, profile.grid_cols, "col")):
            bad = (xy[:, axis] < 0) | (xy[:, axis] >= size)
            if bad.any():
                c = int(np.argmax(bad))
                raise ValidationError(f"field 'core_xy' (core {c}) has {label} {xy[c, axis]}; "
                                      f"expected 0..{size - 1}")
        flat = xy[:, 0].astype(np.int64) * profile.grid_cols + xy[:, 1]
        if np.unique(flat).size != C:
            raise ValidationError("field 'core_xy' places two cores on the same grid position")
    if prog.n_inputs < 0:
        raise ValidationError(f"field 'n_inputs' is {prog.n_inputs}; expected ≥ 0")
    for name, hi in (("input_index", prog.n_inputs - 1), ("input_core", C - 1),
                     ("input_axon", A - 1), ("output_core", C - 1), ("output_neuron", N - 1)):
        if arrays[name].size and (arrays[name].min() < 0 or arrays[name].max() > hi):
            bad = int(np.argmax((arrays[name] < 0) | (arrays[name] > hi)))
            raise ValidationError(f"field '{name}' (entry {bad}) is {arrays[name][bad]}; "
                                  f"expected 0..{hi}")
    outputs = arrays["output_core"].astype(np.int64) * N + arrays["output_neuron"]
    if np.unique(outputs).size != outputs.size:
        dup = int(np.argmax([np.count_nonzero(outputs == o) > 1 for o in outputs]))
        raise ValidationError(f"fields 'output_core'/'output_neuron' (entry {dup}) read out "
                              "a neuron that another output class already reads; expected one "
                              "distinct neuron per class")


def _extension_default(name, shape):
    """The default of a neuron extension field: the deterministic neuron, seed = core index."""
    if name == "prng_seed":
        return np.arange(shape[0], dtype=np.uint32)
    return np.zeros(shape, _NEURON_EXTENSIONS[name][0])


def _validate_extensions(prog, dims):
    """Fill absent neuron extensions with their defaults; check dtypes, shapes and ranges."""
    for name, (dtype, spec) in _NEURON_EXTENSIONS.items():
        want = tuple(dims[s] for s in spec)
        if getattr(prog, name) is None:
            object.__setattr__(prog, name, _extension_default(name, want))
        value = _coerce(prog, name, dtype)
        if value.shape != want:
            raise ValidationError(f"field '{name}' has shape {value.shape}; expected "
                                  f"{want} ({', '.join(spec)})")
    _check_range("threshold_mask_bits", prog.threshold_mask_bits, 0, MAX_THRESHOLD_MASK_BITS,
                 "a number of threshold mask bits")


def _validate_unit_map(prog, dims):
    """Fill an absent unit map (L = 0, all −1); check dtypes, shapes, ranges and that every unit
    of every layer has exactly one main neuron."""
    sizes = prog.layer_size
    L = np.asarray(sizes).shape[0] if sizes is not None and np.ndim(sizes) == 1 else 0
    dims = dict(dims, L=L)
    for name, (dtype, spec) in _UNIT_MAP_FIELDS.items():
        want = tuple(dims[s] for s in spec)
        if getattr(prog, name) is None:
            object.__setattr__(prog, name, np.full(want, ROLE_NONE, dtype))
        if dtype is np.float64:
            value = _coerce_finite(prog, name)
        else:
            value = _coerce(prog, name, dtype)
        if value.shape != want:
            raise ValidationError(f"field '{name}' has shape {value.shape}; expected "
                                  f"{want} ({', '.join(spec)})")
    if L and prog.layer_size.min() < 1:
        bad = int(np.argmin(prog.layer_size))
        raise ValidationError(f"field 'layer_size' (layer {bad}) is {prog.layer_size[bad]}; "
                              "expected ≥ 1 unit")
    _check_range("unit_layer", prog.unit_layer, -1, L - 1, "an MLP layer or -1")
    _check_range("unit_role", prog.unit_role, -1, ROLE_RELAY_NEG, "a unit role or -1")
    mapped = prog.unit_layer >= 0
    for name in ("unit_index", "unit_role"):
        _first_bad(name, ~mapped & (getattr(prog, name) != ROLE_NONE), getattr(prog, name),
                   "-1 where unit_layer is -1")
    _first_bad("unit_role", mapped & (prog.unit_role == ROLE_NONE), prog.unit_role,
               "a role 0..3 where unit_layer is set")
    size = prog.layer_size[np.maximum(prog.unit_layer, 0)] if L else 0
    _first_bad("unit_index", mapped & ((prog.unit_index < 0) | (prog.unit_index >= size)),
               prog.unit_index, "a unit index 0..layer_size[unit_layer] - 1")
    for l in range(L):
        main = (prog.unit_layer == l) & (prog.unit_role == ROLE_UNIT)
        count = np.bincount(prog.unit_index[main], minlength=int(prog.layer_size[l]))
        if (count != 1).any():
            j = int(np.argmax(count != 1))
            raise ValidationError(f"field 'unit_role' gives unit {j} of layer {l} {count[j]} main "
                                  "neurons (role 0); expected exactly 1")


def _first_bad(name, bad, value, expected):
    """Raise naming the first (core, neuron) where ``bad`` holds."""
    if bad.any():
        core, neuron = (int(i) for i in np.argwhere(bad)[0])
        raise ValidationError(f"field '{name}' (core {core}, neuron {neuron}) is "
                              f"{value[core, neuron]}; expected {expected}")


def _coerce_finite(prog, name):
    """A float64 field as a contiguous array; NaN and infinities are errors."""
    value = np.asarray(getattr(prog, name))
    if value.dtype.kind not in "biuf":
        raise ValidationError(f"field '{name}' has dtype {value.dtype}; expected float64")
    idx = first_nonfinite(value)
    if idx is not None:
        raise ValidationError(f"field '{name}' has {value[idx]} at index {idx}; expected finite "
                              "numbers")
    out = np.ascontiguousarray(value, dtype=np.float64)
    object.__setattr__(prog, name, out)
    return out


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
