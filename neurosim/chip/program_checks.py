"""Validating a :class:`~neurosim.chip.program.ChipProgram` on construction (:func:`validate`):
shapes, dtypes (converted without silent loss), ranges against the profile, destinations that
exist, the neuron extensions and the unit map; every error names the field and the first bad
(core, neuron) or entry."""
import numpy as np

from neurosim.chip.profile import ChipProfile
from neurosim.chip.program_fields import (ARRAY_FIELDS, MAX_THRESHOLD_MASK_BITS, NEURON_EXTENSIONS,
                                          OPTIONAL_FIELDS, ROLE_NONE, ROLE_RELAY_NEG, ROLE_UNIT,
                                          UNIT_MAP_FIELDS, extension_default)
from neurosim.errors import ValidationError
from neurosim.sniff import first_nonfinite


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
    specs = dict(ARRAY_FIELDS)
    if profile.typed_weights:
        if prog.synapse_weights is not None:
            raise ValidationError(f"field 'synapse_weights' given for profile '{profile.name}', "
                                  "whose weights are per axon type")
    else:
        if prog.synapse_weights is None:
            raise ValidationError(f"field 'synapse_weights' missing; profile '{profile.name}' has "
                                  "one weight per synapse")
        specs.update(OPTIONAL_FIELDS)
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


def _validate_extensions(prog, dims):
    """Fill absent neuron extensions with their defaults; check dtypes, shapes and ranges."""
    for name, (dtype, spec) in NEURON_EXTENSIONS.items():
        want = tuple(dims[s] for s in spec)
        if getattr(prog, name) is None:
            object.__setattr__(prog, name, extension_default(name, want))
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
    for name, (dtype, spec) in UNIT_MAP_FIELDS.items():
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
