"""The ChipProgram file format: an ``.npz`` of the program's arrays (no pickle) with
``format_version``, ``profile``, ``n_inputs`` and ``meta_json`` (the module docstring of
:mod:`neurosim.chip.program` gives the versions); :func:`write_program` writes one atomically,
:func:`read_program` reads and checks one (errors name the file and the field), converting the
unit map a version 1 or 2 file kept in ``meta["layers"]`` (:func:`unit_map_from_layers`)."""
import json

import numpy as np

from neurosim.chip.program_fields import (ARRAY_FIELDS, NEURON_EXTENSIONS, OPTIONAL_FIELDS,
                                          ROLE_COPY, ROLE_NONE, ROLE_RELAY_NEG, ROLE_RELAY_POS,
                                          ROLE_UNIT, UNIT_MAP_FIELDS)
from neurosim.errors import InputFileError
from neurosim.fileio import save_npz
from neurosim.sniff import json_object, read_npz, scalar

FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
PLAIN_VERSION = 1  # written when the neuron extensions are at their defaults and no unit map
EXTENSIONS_VERSION = 2  # the neuron extensions, no unit map
HEADER_FIELDS = ("format_version", "profile", "n_inputs", "meta_json")


def write_program(program, path):
    """Write ``program`` as ``.npz`` (no pickle), atomically (temporary name, then rename), with
    the lowest format version that holds it."""
    arrays = {name: getattr(program, name) for name in ARRAY_FIELDS}
    if program.synapse_weights is not None:
        arrays["synapse_weights"] = program.synapse_weights
    extensions = program.neuron_extensions_used()
    arrays.update({name: getattr(program, name) for name in extensions})
    version = EXTENSIONS_VERSION if extensions else PLAIN_VERSION
    if program.has_unit_map():
        arrays.update({name: getattr(program, name) for name in UNIT_MAP_FIELDS})
        version = FORMAT_VERSION
    save_npz(path, compressed=True, format_version=np.int32(version),
             profile=np.str_(program.profile.name), n_inputs=np.int64(program.n_inputs),
             meta_json=np.str_(json.dumps(program.meta, sort_keys=True)), **arrays)


def read_program(path):
    """(header, arrays) of the program file at ``path``: header ``profile`` (a name),
    ``n_inputs`` and ``meta``; arrays, the fields by name (a version 1 or 2 unit map converted).
    Errors are one line naming the file and the field (wrong kinds of file and pickles are
    refused by :func:`neurosim.sniff.read_npz`)."""
    contents = read_npz(path, "program")
    for key in HEADER_FIELDS[:3]:  # meta_json is optional: {} when absent
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
    for key in HEADER_FIELDS:
        contents.pop(key, None)
    missing = [k for k in ARRAY_FIELDS if k not in contents]
    if missing:
        raise InputFileError(f"{path}: field '{missing[0]}' is missing")
    known = set(ARRAY_FIELDS) | set(OPTIONAL_FIELDS)
    if version >= 2:
        known |= set(NEURON_EXTENSIONS)
    if version >= 3:
        known |= set(UNIT_MAP_FIELDS)
    unknown = sorted(set(contents) - known)
    if unknown:
        raise InputFileError(f"{path}: field '{unknown[0]}' is not a ChipProgram field")
    if version < 3 and "layers" in header["meta"]:
        contents.update(unit_map_from_layers(header["meta"].pop("layers"),
                                             np.shape(contents["enabled"]), path))
    return header, contents


def unit_map_from_layers(layers, shape, path):
    """The unit map arrays (:data:`UNIT_MAP_FIELDS`) of a version 1 or 2 file's
    ``meta["layers"]`` (the module docstring gives its form), for neurons of ``shape`` (C, N)."""
    where = f"{path}: field 'meta_json' entry 'layers'"
    if not isinstance(layers, list) or not layers:
        raise InputFileError(f"{where} is {layers!r}; expected a non-empty list of layers")
    arrays = {name: np.full(shape, ROLE_NONE, dtype)
              for name, (dtype, spec) in UNIT_MAP_FIELDS.items() if spec == "CN"}
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
