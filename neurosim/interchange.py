"""Networks from other tools in, networks out: one entry point per direction.

``load_network(path)`` recognises a model file by its content (:func:`neurosim.sniff.sniff`),
never by its name:

    zip (``PK\\x03\\x04``)          neurosim's MLP ``.npz`` (a compiled program is refused by name)
    HDF5 (``\\x89HDF\\r\\n\\x1a\\n``)  a NIR graph (:mod:`neurosim.compiler.nir_io`, ``dt`` applies)
    ONNX protobuf                  an ONNX MLP (:mod:`neurosim.compiler.onnx_io`)

``export_nir(source, out)`` writes a NIR file from a model (any of the above, exported as the
rate-scaled IF network of :func:`neurosim.compiler.nir_io.to_graph`) or from a compiled program
``.npz`` (its ``meta["model"]["path"]`` is recompiled with the recorded options: the NIR export of
a program needs the compiler's logical stages, which a program file does not store).
"""
import os

import numpy as np

from neurosim.chip.program import ChipProgram
from neurosim.compiler import compile as compile_mlp
from neurosim.compiler.nir import compile_imported, to_nir
from neurosim.compiler.nir_io import read_nir, to_graph, write_graph
from neurosim.compiler.onnx_io import read_onnx
from neurosim.data import recorded_dataset
from neurosim.errors import InputFileError, NeurosimError, ValidationError
from neurosim.fileio import check_output_file
from neurosim.mlp import MLP
from neurosim.sniff import KIND_NAMES, describe_format, existing_file, file_kind, sniff

MODEL_FILES = "an MLP model (.npz), a NIR graph (HDF5) or an ONNX model"


def load_network(path, dt=None, reset=None) -> MLP:
    """The MLP in the file at ``path``, whatever its name (module docstring); ``dt`` (seconds)
    is the NIR time step (None: implied by the file or 1 ms) and ``reset`` the NIR reset
    ("subtract", "value" or None: by the file, :func:`neurosim.compiler.nir_io.from_graph`)."""
    path = existing_file(path, MODEL_FILES)
    fmt = sniff(path)
    if fmt == "zip":
        if file_kind(path) == "program":
            raise InputFileError(f"{path}: this is {KIND_NAMES['program']}, expected "
                                 f"{MODEL_FILES}")
        return MLP.load(path)
    if fmt == "hdf5":
        return read_nir(path, dt=dt, reset=reset)
    if fmt == "onnx":
        return read_onnx(path)
    raise InputFileError(f"{path}: {describe_format(path, fmt)}, expected {MODEL_FILES}")


def compile_network(path, profile="truenorth", calibration=None, dt=None, reset=None,
                    **options):
    """Compile the model file at ``path`` (any format :func:`load_network` reads) for
    ``profile``; returns (Compiled, the ``program.meta["model"]`` entry).

    ``calibration``: a dataset name or path, an array, or None — then the model's provenance
    dataset, and for an imported network (NIR, ONNX) without one, 1,000 uniform inputs
    (:func:`neurosim.compiler.nir.compile_imported`). ``dt``, ``reset``: as
    :func:`load_network`. ``options`` go to the compiler."""
    mlp = load_network(path, dt, reset)
    if "imported_from" in mlp.provenance:
        dataset = calibration if isinstance(calibration, str) else mlp.provenance.get("dataset")
        compiled = compile_imported(mlp, profile, calibration, **options)
    else:
        dataset = calibration if isinstance(calibration, str) else None
        if calibration is None:
            dataset = naming("calibration", recorded_dataset, path, mlp.provenance.get("dataset"),
                             "provenance dataset is", "argument 'calibration'")
        compiled = compile_mlp(mlp, profile,
                               calibration=dataset if calibration is None else calibration,
                               **options)
    meta = {"path": os.path.abspath(path), "dataset": dataset, "format": sniff(path)}
    if dt is not None:                  # a NIR model is read back with the same time step
        meta["dt"] = dt
    if reset is not None:               # ... and the same reset
        meta["reset"] = reset
    return compiled, meta


def export_nir(source, out, uniform_threshold=False, calibration=None, dt=None, reset=None):
    """Write ``source`` (a model file, or a compiled program ``.npz``) to ``out`` as NIR.

    A model becomes the rate-scaled IF network (thresholds 1 already: ``uniform_threshold`` is
    moot); a program becomes its stages as IF neurons with thresholds α, or 1 with
    ``uniform_threshold`` (weights divided by α). ``calibration``: inputs or a dataset name for
    the rate scales of a model (None: the model's provenance dataset); ``dt``, ``reset``: as
    :func:`load_network`. Returns a summary dict."""
    naming("out", check_output_file, out, "argument 'out'")
    source = existing_file(source, f"{MODEL_FILES}, or a compiled program .npz")
    if sniff(source) == "zip" and file_kind(source) == "program":
        compiled = _recompile(source)
        graph, kind = to_nir(compiled, uniform_threshold), "program"
    else:
        graph, kind = to_graph(load_network(source, dt, reset), calibration), "model"
    write_graph(graph, out)
    return {"source": source, "kind": kind, "output": os.fspath(out),
            "nodes": len(graph.nodes), "uniform_threshold": bool(uniform_threshold or
                                                                  kind == "model")}


def naming(param, check, *args):
    """``check(*args)``; a NeurosimError it raises is raised again naming ``param`` (the checks
    take a label for their message, not the parameter a front end renames)."""
    try:
        return check(*args)
    except NeurosimError as exc:
        raise type(exc)(str(exc), param=param) from None


def _recompile(program_path):
    """The Compiled object behind a program file: its model recompiled with its recorded
    options (compilation is deterministic for a given seed)."""
    program = ChipProgram.load(program_path)
    model = program.meta.get("model", {})
    path, dataset = model.get("path"), model.get("dataset")
    if not path or not os.path.isfile(path):
        raise InputFileError(f"{program_path}: field 'meta.model.path' is {path!r}, expected the "
                             f"model file it was compiled from (export the model instead)")
    report = program.meta.get("compiler", {})
    try:
        compiled = compile_mlp(load_network(path, model.get("dt"), model.get("reset")),
                               report.get("profile", "truenorth"),
                               weight_encoding=report.get("weight_encoding", "bitplane"),
                               calibration=dataset)
    except ValidationError as exc:
        raise InputFileError(f"{program_path}: recompiling {path}: {exc}") from None
    if not _same_neurons(compiled.program, program):
        raise InputFileError(f"{program_path}: recompiling {path} with default options gives "
                             f"other thresholds, expected the same program (export the model, "
                             f"or call neurosim.compiler.nir.to_nir on the compile result)")
    return compiled


def _same_neurons(a, b):
    """Same thresholds and leaks over the enabled neurons (placement may differ)."""
    return all(np.array_equal(np.sort(getattr(a, f)[a.enabled]), np.sort(getattr(b, f)[b.enabled]))
               for f in ("threshold", "leak"))
