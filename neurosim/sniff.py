"""What a file is, and reading neurosim's ``.npz`` files without trusting them.

One place for the questions every loader asks first (MLP models, ChipPrograms, and later bounds
and missions, which accept either):

* :func:`sniff` looks at the first bytes: ``PK\\x03\\x04`` (a zip, so possibly an ``.npz``),
  ``\\x89HDF\\r\\n\\x1a\\n`` (HDF5, e.g. a NIR graph), ``\\x1f\\x8b`` (gzip), text, or other bytes.
* :func:`npz_kind` tells a model from a compiled program by the names of its arrays.
* :func:`read_npz` reads every array of an ``.npz`` (never a pickle) or raises one
  :class:`InputFileError` line naming the file and, where it applies, the array; a file of the
  other neurosim kind is named as such ("this is a compiled chip program …").
* :func:`scalar`, :func:`json_object` and :func:`number_array` check the type of one field.
"""
import json
import os
import re
import zipfile
import zlib

import numpy as np

from neurosim.errors import InputFileError

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members; an empty zip
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
GZIP_MAGIC = b"\x1f\x8b"
_TOML_LINE = re.compile(r"^\s*(\[[^\]]*\]|[\w.\"'-]+\s*=)", re.MULTILINE)

# the arrays that mark each kind of neurosim .npz (their writers always store them)
_MARKERS = {"model": ("n_layers", "weight_0"), "program": ("crossbar", "meta_json")}
KIND_NAMES = {"model": "an MLP model (neurosim train output)",
              "program": "a compiled chip program (neurosim compile output)"}
_EXPECTED = {"model": "an MLP model .npz", "program": "a compiled chip program .npz"}
_READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, MemoryError,
                KeyError, NotImplementedError)


def sniff(path):
    """The format of ``path`` from its first bytes: "zip", "hdf5", "gzip", "onnx", "text",
    "empty" or "binary"; text is UTF-8 without NUL bytes in the first 4 KiB."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if not head:
        return "empty"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(HDF5_MAGIC):
        return "hdf5"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if looks_like_onnx(head):
        return "onnx"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a multi-byte character cut at the 4 KiB edge
            return "binary"
    return "binary" if b"\x00" in head else "text"


# ONNX ModelProto (onnx/onnx.proto3): field number → protobuf wire type (0 varint, 2 bytes)
_ONNX_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2}


def _varint(data, pos):
    """(value, next position) of the protobuf varint at ``pos``, or (None, pos) if cut off."""
    value, shift = 0, 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            return value, pos
    return None, pos


def looks_like_onnx(head):
    """True if ``head`` parses as the start of an ONNX ModelProto: it opens with field 1
    (ir_version, a varint 1..100) and every following field, up to the end of ``head`` or the
    graph (field 7), has a ModelProto field number and wire type."""
    pos, seen = 0, []
    while pos < len(head):
        key, pos = _varint(head, pos)
        if key is None:
            break
        field, wire = key >> 3, key & 7
        if _ONNX_FIELDS.get(field) != wire or (not seen and field != 1):
            return False
        value, pos = _varint(head, pos)
        if value is None:
            break
        if field == 1 and not 1 <= value <= 100:
            return False
        seen.append(field)
        if field == 7:
            break
        if wire == 2:
            pos += value
    return len(seen) >= 2 or (seen == [1] and pos >= len(head))


def describe_format(path, fmt):
    """A few words for a file of format ``fmt`` that is not what was expected."""
    if fmt == "text":
        with open(path, "rb") as f:
            head = f.read(4096).decode("utf-8", errors="replace")
        guess = (" (TOML?)" if _TOML_LINE.search(head) else
                 " (JSON?)" if head.lstrip().startswith(("{", "[")) else "")
        return f"is a text file{guess}"
    return {"empty": "is empty (0 bytes)", "hdf5": "is an HDF5 file (a NIR graph?)",
            "gzip": "is a gzip file", "onnx": "is an ONNX model",
            "binary": "is not a zip archive (unknown binary format)",
            "zip": "is a zip archive"}[fmt]


def existing_file(path, expected):
    """``path`` as a string if it is an existing regular file, else one InputFileError line."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise InputFileError(f"{path}: is a directory, expected {expected}")
    if not os.path.isfile(path):
        raise InputFileError(f"{path}: no such file, expected {expected}")
    return path


def npz_kind(names):
    """"model", "program" or None, from the array names of a neurosim ``.npz``."""
    for kind, markers in _MARKERS.items():
        if any(m in names for m in markers):
            return kind
    return None


def file_kind(path):
    """"model", "program" or None for the file at ``path`` (reads only the zip directory)."""
    path = existing_file(path, "a model or program .npz")
    if sniff(path) != "zip":
        return None
    try:
        with zipfile.ZipFile(path) as z:
            return npz_kind({n[:-4] if n.endswith(".npy") else n for n in z.namelist()})
    except _READ_ERRORS:
        return None


def read_arrays(path, want, expected=None):
    """Every array of the ``.npz`` at ``path``; ``want`` says what was expected (for messages)
    and ``expected`` ("model" or "program"), if given, refuses neurosim's other kind by name.
    Pickled (object) arrays are refused, never loaded."""
    path = existing_file(path, want)
    fmt = sniff(path)
    if fmt != "zip":
        raise InputFileError(f"{path}: {describe_format(path, fmt)}, expected {want}")
    try:
        npz = np.load(path, allow_pickle=False)
    except _READ_ERRORS as exc:
        raise InputFileError(f"{path}: not a readable .npz ({_first_line(exc)}), "
                             f"expected {want}") from None
    with npz:
        kind = npz_kind(npz.files)
        if expected is not None and kind is not None and kind != expected:
            raise InputFileError(f"{path}: this is {KIND_NAMES[kind]}, expected {want}")
        return {name: _member(npz, name, path, want) for name in npz.files}


def read_npz(path, expected):
    """Every array of the ``.npz`` at ``path``, which must be neurosim's ``expected`` kind
    ("model" or "program"); pickled (object) arrays are refused, never loaded."""
    return read_arrays(path, _EXPECTED[expected], expected)


def _member(npz, name, path, want):
    try:
        value = npz[name]
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise InputFileError(f"{path}: field '{name}' is an object array (pickled Python "
                                 f"objects), expected numbers or text; neurosim never loads "
                                 f"pickles") from None
        raise InputFileError(f"{path}: field '{name}' is unreadable ({_first_line(exc)}), "
                             f"expected {want}") from None
    except _READ_ERRORS as exc:
        raise InputFileError(f"{path}: field '{name}' is unreadable ({_first_line(exc)}), "
                             f"expected {want}") from None
    if not isinstance(value, np.ndarray):
        raise InputFileError(f"{path}: member '{name}' is not a numpy array, expected {want}")
    return value


def _first_line(exc):
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


_SCALAR_KINDS = {"int": ("iu", "an integer"), "float": ("iuf", "a number"),
                 "str": ("U", "a text string")}


def scalar(data, path, key, kind):
    """Field ``key`` of ``data`` as a Python int, float or str (``kind``); it must be a single
    value of that type (a string is never parsed as a number, nor a number read as text)."""
    value = data[key]
    kinds, what = _SCALAR_KINDS[kind]
    if value.shape != () or value.dtype.kind not in kinds:
        raise InputFileError(f"{path}: field '{key}' is {_show(value)}, expected {what}")
    item = value.item()
    if kind == "float" and not np.isfinite(item):
        raise InputFileError(f"{path}: field '{key}' is {item}, expected a finite number")
    return {"int": int, "float": float, "str": str}[kind](item)


def json_object(data, path, key):
    """Field ``key`` (a text scalar) parsed as a JSON object (a dict)."""
    text = scalar(data, path, key, "str")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}: field '{key}' is not JSON ({exc.msg} at character "
                             f"{exc.pos}), expected a JSON object") from None
    if not isinstance(value, dict):
        raise InputFileError(f"{path}: field '{key}' is JSON {type(value).__name__}, "
                             f"expected a JSON object")
    return value


def number_array(data, path, key, kinds, what):
    """Field ``key`` if its dtype kind is one of ``kinds`` (numpy kind letters: b bool, i/u
    integers, f floats) and, for floats, every value is finite; else one line naming the array,
    its dtype and ``what`` was expected. Text is never parsed as numbers."""
    value = data[key]
    if value.dtype.kind not in kinds:
        raise InputFileError(f"{path}: field '{key}' has dtype {value.dtype}, expected {what}")
    idx = first_nonfinite(value) if value.dtype.kind == "f" else None
    if idx is not None:
        raise InputFileError(f"{path}: field '{key}' has {value[idx]} at index {idx}, "
                             f"expected finite numbers")
    return value


def first_nonfinite(values):
    """The index (a tuple) of the first NaN or infinite entry of a float array, or None."""
    bad = ~np.isfinite(values)
    return tuple(int(i) for i in np.argwhere(bad)[0]) if bad.any() else None


def _show(value):
    """A short description of an array for messages: a scalar's value, else dtype and shape."""
    if value.shape == () and value.dtype.kind in "iufbU":
        text = repr(value.item())
        return (text[:40] + "…") if len(text) > 40 else text
    return f"an array of dtype {value.dtype} and shape {value.shape}"
