"""Import and export of MLPs as NIR graphs (Pedersen et al., Nat. Commun. 2024; the ``nir`` package).

Export (``write_nir``): a chain ``input → layer0 (Affine) → spike0 (IF) → layer1 → … → layerL
(Affine) → output``. NIR's Affine computes y = W x + b with W of shape (out, in): the transpose of
the MLP's (in, out) weights. Each hidden layer's IF has r = 1, v_threshold = 1/K, v_reset = 0;
the output layer has no neuron node (its Affine output is the logits). The connectivity mask rides
along as Affine metadata ``mask`` (out, in). The graph metadata records ``neurosim_activation``,
``neurosim_steepness``, ``neurosim_provenance`` (JSON) and ``neurosim_reset``:

    reset by subtraction, v ← v − v_threshold (TrueNorth reset mode 1), under which an IF neuron
    driven by a constant input z fires at rate clip(r·z / v_threshold, 0, 1) per step — the
    MLP's clipped_relu with K = r/v_threshold. NIR's own IF semantics reset to v_reset instead;
    a NIR consumer that resets to v_reset = 0 fires at a lower rate for suprathreshold input.

Import (``read_nir``): walk the edges from the Input node (``nir.read`` returns nodes in
alphabetical order, so order comes from edges only). Accepted chain: Affine or Linear nodes, each
optionally followed by an IF, LIF or CubaLIF node, then Output. If the graph carries
``neurosim_activation`` the recorded MLP is restored exactly. Otherwise the spiking nodes are read in
rate code as clipped_relu (K = 1) with each neuron's gain r/v_threshold folded into its incoming
weights and bias (exact for IF with reset by subtraction; for LIF/CubaLIF the leak is ignored — an
approximation); a spiking node after the last Affine has only its gain folded (the logits are the
output neurons' scaled input currents). Masks: the ``mask`` metadata if present, else W ≠ 0.
"""
from __future__ import annotations

import json
import os

import numpy as np

from neurosim.errors import InputFileError, ValidationError
from neurosim.fileio import atomic_write
from neurosim.mlp import MLP, Layer
from neurosim.sniff import describe_format, existing_file, first_nonfinite, sniff

RESET_SEMANTICS = ("subtract: v <- v - v_threshold on a spike (TrueNorth reset mode 1); "
                   "rate = clip(r * z / v_threshold, 0, 1) per step. NIR's IF resets to "
                   "v_reset instead; neurosim ignores v_reset.")
SPIKING = ("IF", "LIF", "CubaLIF")


def to_graph(mlp: MLP):
    """The NIR graph of ``mlp`` (module docstring)."""
    import nir  # optional interchange dependency, imported only when NIR is used
    nodes = {"input": nir.Input({"input": np.array([mlp.sizes[0]])})}
    edges, prev = [], "input"
    last = len(mlp.layers) - 1
    for i, layer in enumerate(mlp.layers):
        name = f"layer{i}"
        nodes[name] = nir.Affine(layer.weight.T.copy(), layer.bias.copy(),
                                 metadata={"mask": layer.mask.T.copy()})
        edges.append((prev, name))
        prev = name
        if i < last:
            n = layer.n_out
            spike = f"spike{i}"
            nodes[spike] = nir.IF(r=np.ones(n, dtype=np.float32),
                                  v_threshold=np.full(n, 1 / mlp.steepness, dtype=np.float32),
                                  v_reset=np.zeros(n, dtype=np.float32))
            edges.append((prev, spike))
            prev = spike
    nodes["output"] = nir.Output({"output": np.array([mlp.sizes[-1]])})
    edges.append((prev, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={
        "neurosim_activation": mlp.activation, "neurosim_steepness": float(mlp.steepness),
        "neurosim_provenance": json.dumps(mlp.provenance, sort_keys=True),
        "neurosim_reset": RESET_SEMANTICS})


def write_nir(mlp: MLP, path) -> None:
    """Write ``mlp`` as a NIR file, via a temporary name renamed when complete."""
    import nir  # optional interchange dependency, imported only when NIR is used
    with atomic_write(path, "wb", suffix=".nir") as (_, tmp):
        nir.write(tmp, to_graph(mlp))


def _chain(graph, where):
    succ = {}
    for a, b in graph.edges:
        if a in succ:
            raise InputFileError(f"{where}: node '{a}' has several successors, expected a chain "
                                 f"(feed-forward MLP)")
        succ[a] = b
    starts = [n for n, node in graph.nodes.items() if type(node).__name__ == "Input"]
    if len(starts) != 1:
        raise InputFileError(f"{where}: {len(starts)} Input nodes, expected 1")
    unknown = sorted({n for edge in graph.edges for n in edge} - set(graph.nodes))
    if unknown:
        raise InputFileError(f"{where}: an edge names node '{unknown[0]}', which the graph "
                             f"does not have")
    order, node = [], succ.get(starts[0])
    while node is not None and type(graph.nodes[node]).__name__ != "Output":
        if node in order:
            raise InputFileError(f"{where}: cycle at node '{node}', expected a chain")
        order.append(node)
        node = succ.get(node)
    if node is None:
        raise InputFileError(f"{where}: the chain from the Input node does not reach an Output "
                             f"node")
    return order


def from_graph(graph, where="NIR graph") -> MLP:
    """An MLP from a NIR graph (module docstring)."""
    meta = dict(graph.metadata or {})
    recorded = "neurosim_activation" in meta
    layers, i = [], 0
    order = _chain(graph, where)
    while i < len(order):
        name, node = order[i], graph.nodes[order[i]]
        kind = type(node).__name__
        if kind not in ("Affine", "Linear"):
            raise InputFileError(f"{where}: node '{name}' is {kind}, expected Affine or Linear "
                                 f"(optionally followed by {', '.join(SPIKING)})")
        w = _node_array(node, "weight", name, where).astype(np.float32)
        if w.ndim != 2:
            raise InputFileError(f"{where}: node '{name}' weight shape {w.shape}, expected 2-D")
        b = (_node_array(node, "bias", name, where).astype(np.float32) if kind == "Affine"
             else np.zeros(w.shape[0], dtype=np.float32))
        mask = node.metadata.get("mask") if node.metadata else None
        mask = np.asarray(mask, dtype=bool).T if mask is not None else (w != 0).T
        w, b = w.T.copy(), b.copy()
        i += 1
        if i < len(order) and type(graph.nodes[order[i]]).__name__ in SPIKING:
            gain = _spiking_gain(graph.nodes[order[i]], order[i], b.shape, where)
            if not recorded:
                w = (w * gain).astype(np.float32)
                b = (b * gain).astype(np.float32)
            i += 1
        try:
            layers.append(Layer(w, b, mask))
        except Exception as exc:
            raise InputFileError(f"{where}: node '{name}': {exc}") from None
    if not layers:
        raise InputFileError(f"{where}: no Affine/Linear node, expected at least one")
    try:
        if recorded:
            provenance = json.loads(str(meta.get("neurosim_provenance", "{}")))
            return MLP(layers, str(meta["neurosim_activation"]),
                       float(meta.get("neurosim_steepness", 1.0)), provenance)
        return MLP(layers, "clipped_relu", 1.0, {"imported_from": "NIR",
                                                 "reset_assumed": RESET_SEMANTICS})
    except (ValueError, TypeError, ValidationError) as exc:  # JSONDecodeError is a ValueError
        raise InputFileError(f"{where}: {exc}") from None


def _node_array(node, field, name, where):
    """``node.field`` as a float64 array: numbers only (never text), every value finite."""
    try:
        value = np.asarray(getattr(node, field))
    except AttributeError:
        raise InputFileError(f"{where}: node '{name}' has no field '{field}'") from None
    if value.dtype.kind not in "biuf":
        raise InputFileError(f"{where}: node '{name}' field '{field}' has dtype {value.dtype}, "
                             f"expected numbers")
    value = value.astype(np.float64)
    idx = first_nonfinite(value)
    if idx is not None:
        raise InputFileError(f"{where}: node '{name}' field '{field}' is {value[idx]} at index "
                             f"{idx}, expected finite numbers")
    return value


def _spiking_gain(node, name, shape, where):
    """The rate-code gain r / v_threshold of a spiking node, per neuron (``shape``); a threshold
    must be > 0 (a neuron with threshold ≤ 0 fires every step whatever its input)."""
    r, threshold = (_node_array(node, field, name, where) for field in ("r", "v_threshold"))
    try:
        r, threshold = np.broadcast_to(r, shape), np.broadcast_to(threshold, shape)
    except ValueError:
        raise InputFileError(f"{where}: node '{name}' fields 'r'/'v_threshold' have shapes "
                             f"{np.shape(r)}/{np.shape(threshold)}, expected {shape}") from None
    if (threshold <= 0).any():
        j = int(np.argmax(threshold <= 0))
        raise InputFileError(f"{where}: node '{name}' field 'v_threshold' is {threshold[j]:g} "
                             f"(neuron {j}), expected > 0")
    return r / threshold


def read_graph(path):
    """The NIR graph in the file at ``path``: the file must exist and be HDF5 that ``nir`` can
    read; otherwise one InputFileError line."""
    import nir  # optional interchange dependency, imported only when NIR is used
    path = existing_file(path, "a NIR graph (.nir, HDF5)")
    fmt = sniff(path)
    if fmt != "hdf5":
        raise InputFileError(f"{path}: {describe_format(path, fmt)}, expected a NIR graph "
                             f"(.nir, HDF5)")
    try:
        graph = nir.read(path)
    except Exception as exc:  # nir/h5py raise many kinds on a bad file
        raise InputFileError(f"{path}: not a readable NIR file ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''}), expected a NIR "
                             f"graph") from None
    return graph


def read_nir(path) -> MLP:
    """Read a NIR file as an MLP; unreadable files and unsupported graphs are InputFileErrors."""
    return from_graph(read_graph(path), where=os.fspath(path))
