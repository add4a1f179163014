"""Import and export of MLPs as NIR graphs (Pedersen et al., Nat. Commun. 2024; ``nir`` package).

Import (``from_graph``, ``read_nir``) — the NIR standard's equations, read in rate code
------------------------------------------------------------------------------------------
Accepted: Input [→ Flatten] → (Affine|Linear [→ Scale] → IF|LIF|CubaLIF)* → Affine|Linear
[→ IF|LIF|CubaLIF] → Output, a Scale also before an Affine. Any other node is refused naming it
(convolutions, pooling, delays, subgraphs), and so is a graph with a cycle ("recurrent"). Order
comes from the edges only (``nir.read`` returns nodes in alphabetical order).

A spiking node after an Affine output z gets, per forward-Euler step of length dt, the potential
change Δv = g·z + c and fires when v crosses v_threshold θ; the chip (reset by subtraction) fires
at rate clip((g·z + c)/θ, 0, 1) per tick, so the MLP layer is W·g/θ, (b·g + c)/θ with
clipped_relu K = 1:

    IF       dv/dt = R I                        g = r,                c = 0   (exact)
    LIF      τ dv/dt = (v_leak − v) + R I       g = r·dt/τ,           c = dt/τ·(v_leak − θ/2)
    CubaLIF  τ_syn dI/dt = −I + w_in S; LIF     g = w_in·r·dt/τ_mem,  c = dt/τ_mem·(v_leak − θ/2)

* Leak (LIF, CubaLIF): the chip's leak is a constant added every tick, NIR's is proportional to v.
  Under reset by subtraction v saw-tooths between 0 and θ, mean θ/2, so −dt/τ·v is replaced by its
  mean −dt/τ·θ/2 (the "mean-potential" approximation; Rueckauer et al. 2017 treat the leak-free
  case). The neglected part, dt/τ·(v − θ/2), moves the rate by at most ±dt/(2τ) spikes per step;
  each import records that number per node in ``provenance["nir_import"]["notes"]``. dt/τ ≥ 1
  (a step that overshoots the equilibrium) is refused.
* Synaptic filter (CubaLIF): for constant input rates the current settles at I = w_in·z (unit DC
  gain), so the rate map is exact in steady state; the transient (time constant τ_syn) is dropped.
* v_leak ≠ 0 enters c (a neuron with v_leak > θ fires on its own: c > 0 keeps that).
* Reset: the chip subtracts θ on a spike (TrueNorth reset mode 1), which keeps the overshoot
  above θ. NIR's standard (and Norse) resets to v_reset instead; snnTorch and sinabs subtract.
  NIR 1.0 has no field for the mode, so ``reset`` chooses: "subtract", "value", or None (auto):
  subtract for a graph neurosim wrote (metadata ``neurosim_reset``), for IF nodes (sinabs) and
  for leaky nodes written the snnTorch way (dt implied by r = τ/dt); reset to value (the
  standard) otherwise. v_reset ≠ 0 is refused (the chip's rate code needs v_reset = 0).
* Reset to value is read with the same linear rate, and that is an approximation: a neuron
  driven to fire every n steps by subtraction fires every ⌈n⌉ steps after a reset to 0, so at
  rate ρ it fires up to ρ²/(1+ρ) spikes/step less (one step of the staircase 1/n → 1/(n+1)).
* Expected error, per spiking node: the leak term dt/(2τ) plus, for reset to value, ρ²/(1+ρ) at
  the node's highest reachable rate ρ (every input rate in [0, 1]: ρ = clip(max_j Σ_i
  max(W_ij, 0) + b_j, 0, 1)). Each import records it in ``provenance["nir_import"]["notes"]``;
  a node whose error exceeds ``RATE_TOLERANCE`` raises an :class:`ApproximationWarning` that
  names the node and the numbers.
* dt: ``dt`` argument; if None, τ/r when every leaky node has the same τ/r ≠ τ
  (snnTorch writes r = τ/dt, so that its per-step gain r·dt/τ is 1), else ``DEFAULT_DT`` = 1 ms
  (Norse's default step, and the TrueNorth tick).

Export (``to_graph``, ``write_nir``) — a rate-scaled IF network others can simulate
-------------------------------------------------------------------------------------
Each hidden layer l becomes Affine(Ŵ_l, b̂_l) → IF(r = 1, v_threshold = 1, v_reset = 0) with the
per-layer scales λ_l of :mod:`neurosim.compiler.normalise` (Ŵ_l = K W_l λ_{l−1}/λ_l,
b̂_l = K b_l/λ_l, λ_l the 99.9th percentile of layer l's activations on calibration data): an IF
neuron with reset by subtraction then fires at rate a_l/λ_l. The output layer is Affine(W λ_L, b)
→ Output: the prediction is the argmax of that Affine's output summed over time. Thresholds are
uniform (1), as snnTorch-style importers expect. Graph metadata: ``neurosim_reset`` (the reset
assumed), ``neurosim_readout``, and, for an exact read back by neurosim, ``neurosim_activation``,
``neurosim_steepness``, ``neurosim_scales`` (λ_1..λ_L, JSON) and ``neurosim_provenance`` (JSON). The
connectivity mask rides along as Affine metadata ``mask`` (out, in).
"""
from __future__ import annotations

import json
import os
import warnings

import numpy as np

from neurosim.compiler import calibration_inputs
from neurosim.compiler.normalise import normalise
from neurosim.errors import InputFileError, NeurosimWarning, ValidationError
from neurosim.fileio import atomic_write
from neurosim.mlp import MLP, Layer
from neurosim.sniff import describe_format, existing_file, first_nonfinite, sniff

DEFAULT_DT = 1e-3  # s; Norse's default integration step and the TrueNorth tick (1 ms)
RATE_TOLERANCE = 0.05  # spikes/step: a larger expected rate error warns (assumption: the
#                        tolerance under which tests/test_nir.py counts two rates as agreeing)
RESETS = ("subtract", "value")
RESET_SEMANTICS = ("subtract: v <- v - v_threshold on a spike (TrueNorth reset mode 1); "
                   "rate = clip(r * z / v_threshold, 0, 1) per step.")
READOUT = "prediction = argmax over the output node of the last Affine's output summed over time"
SPIKING = ("IF", "LIF", "CubaLIF")
AFFINE = ("Affine", "Linear")
_REFUSED = {"Conv1d": "a convolution", "Conv2d": "a convolution", "SumPool2d": "pooling",
            "AvgPool2d": "pooling", "Delay": "a delay", "NIRGraph": "a subgraph",
            "LI": "a non-spiking leaky integrator", "I": "a non-spiking integrator",
            "Threshold": "a threshold without integration", "CubaLI": "a non-spiking integrator"}


# ----------------------------------------------------------------------------------- export
def to_graph(mlp: MLP, calibration=None, percentile=99.9):
    """The rate-scaled IF graph of ``mlp`` (module docstring). ``calibration``: inputs (array)
    or a dataset name; None uses the model's provenance dataset."""
    import nir  # local for start-up time: nir loads h5py (~0.5 s); only when NIR is used
    scaled, scales = _rate_scaled_layers(mlp, calibration, percentile)
    nodes = {"input": nir.Input({"input": np.array([mlp.sizes[0]])})}
    edges, prev = [], "input"
    for i, (layer, (w, b)) in enumerate(zip(mlp.layers, scaled)):
        name = f"layer{i}"
        nodes[name] = nir.Affine(w.T.astype(np.float32), b.astype(np.float32),
                                 metadata={"mask": layer.mask.T.copy()})
        edges.append((prev, name))
        prev = name
        if i < len(mlp.layers) - 1:
            n = layer.n_out
            nodes[f"spike{i}"] = nir.IF(r=np.ones(n, np.float32),
                                        v_threshold=np.ones(n, np.float32),
                                        v_reset=np.zeros(n, np.float32))
            edges.append((prev, f"spike{i}"))
            prev = f"spike{i}"
    nodes["output"] = nir.Output({"output": np.array([mlp.sizes[-1]])})
    edges.append((prev, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={
        "neurosim_activation": mlp.activation, "neurosim_steepness": float(mlp.steepness),
        "neurosim_scales": json.dumps(scales),
        "neurosim_provenance": json.dumps(mlp.provenance, sort_keys=True),
        "neurosim_reset": RESET_SEMANTICS, "neurosim_readout": READOUT})


def _rate_scaled_layers(mlp, calibration, percentile):
    """[(Ŵ_l, b̂_l)] in (in, out) layout and the hidden scales [λ_1..λ_L] (module docstring)."""
    if mlp.activation == "sigmoid":
        raise ValidationError("MLP field 'activation' is 'sigmoid', expected relu or clipped_relu "
                              "(a sigmoid has no integrate-and-fire rate equivalent)")
    hidden = normalise(mlp, calibration_inputs(mlp, calibration), percentile)[:-1]
    scales = [float(h.scale) for h in hidden]
    last = scales[-1] if scales else 1.0
    out = mlp.layers[-1]
    return ([(h.weight, h.bias) for h in hidden]
            + [(out.weight.astype(np.float64) * last, out.bias.astype(np.float64))], scales)


def write_nir(mlp: MLP, path, calibration=None, percentile=99.9) -> None:
    """Write ``mlp`` as a NIR file (:func:`to_graph`), via a temporary name renamed when
    complete."""
    write_graph(to_graph(mlp, calibration, percentile), path)


def write_graph(graph, path) -> None:
    """Write the NIR ``graph`` to ``path`` via a temporary name renamed when complete."""
    import nir  # local for start-up time: nir loads h5py (~0.5 s); only when NIR is used
    with atomic_write(path, "wb", suffix=".nir") as (_, tmp):
        nir.write(tmp, graph)


# ----------------------------------------------------------------------------------- import
def _kind(node):
    return type(node).__name__


def refuse_recurrence(graph, where):
    """Refuse a graph with a cycle, naming a node on it: the chip's network is feed-forward."""
    succ = {}
    for a, b in graph.edges:
        succ.setdefault(a, []).append(b)
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in succ.get(node, []):
            if state.get(nxt) == "open":
                loop = path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt]
                raise InputFileError(f"{where}: node '{nxt}' is recurrent (cycle "
                                     f"{' -> '.join(loop)}), expected a feed-forward chain")
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for start in sorted(succ):
        if start not in state:
            visit(start, [start])


def _chain(graph, where):
    """The node names from the Input's successor up to (not including) the Output, in order."""
    refuse_recurrence(graph, where)
    for name, node in graph.nodes.items():
        if _kind(node) in _REFUSED:
            raise InputFileError(f"{where}: node '{name}' is {_kind(node)} ({_REFUSED[_kind(node)]}"
                                 f"), expected an MLP of Affine/Linear and IF/LIF/CubaLIF nodes")
    succ = {}
    for a, b in graph.edges:
        if a in succ:
            raise InputFileError(f"{where}: node '{a}' has several successors, expected a chain "
                                 f"(feed-forward MLP)")
        succ[a] = b
    starts = [n for n, node in graph.nodes.items() if _kind(node) == "Input"]
    if len(starts) != 1:
        raise InputFileError(f"{where}: {len(starts)} Input nodes, expected 1")
    unknown = sorted({n for edge in graph.edges for n in edge} - set(graph.nodes))
    if unknown:
        raise InputFileError(f"{where}: an edge names node '{unknown[0]}', which the graph "
                             f"does not have")
    order, node = [], succ.get(starts[0])
    while node is not None and _kind(graph.nodes[node]) != "Output":
        order.append(node)
        node = succ.get(node)
    if node is None:
        raise InputFileError(f"{where}: the chain from the Input node does not reach an Output "
                             f"node")
    return order


class ApproximationWarning(NeurosimWarning):
    """A NIR node read with an expected rate error above ``RATE_TOLERANCE`` (module
    docstring): the message names the node and the numbers."""


def ends_spiking(graph, where="NIR graph"):
    """True if the node before the Output is a spiking neuron (its rates are the outputs)."""
    order = _chain(graph, where)
    return bool(order) and _kind(graph.nodes[order[-1]]) in SPIKING


class _Builder:
    """Layers of the MLP being read: an open Affine (w, b in (in, out) layout) waits for its
    neuron; Scale nodes before an Affine wait in ``in_scale``."""

    def __init__(self, where):
        self.where, self.layers, self.open = where, [], None
        self.in_scale, self.in_scale_node = None, None

    def affine(self, name, node):
        if self.open is not None:
            raise InputFileError(f"{self.where}: node '{name}' follows '{self.open[0]}' with no "
                                 f"neuron between, expected IF, LIF or CubaLIF")
        w = _node_array(node, "weight", name, self.where)
        if w.ndim != 2:
            raise InputFileError(f"{self.where}: node '{name}' weight shape {w.shape}, "
                                 f"expected 2-D")
        b = (_node_array(node, "bias", name, self.where) if _kind(node) == "Affine"
             else np.zeros(w.shape[0]))
        mask = (node.metadata or {}).get("mask")
        mask = np.asarray(mask, dtype=bool) if mask is not None else (w != 0)
        if self.in_scale is not None:
            w = w * _broadcast(self.in_scale, (w.shape[1],), name, "scale", self.where)
            self.in_scale = None
        self.open = (name, w.T.copy(), np.broadcast_to(b, (w.shape[0],)).copy(), mask.T.copy())

    def scale(self, name, node):
        s = _node_array(node, "scale", name, self.where)
        if self.open is None:
            self.in_scale = s if self.in_scale is None else self.in_scale * s
            self.in_scale_node = name
            return
        oname, w, b, mask = self.open
        s = _broadcast(s, b.shape, name, "scale", self.where)
        self.open = (oname, w * s, b * s, mask)

    def neuron(self, gain, drive, theta):
        name, w, b, mask = self.open
        self.close(w * (gain / theta), (b * gain + drive) / theta, mask, name)

    def close(self, w, b, mask, name):
        try:
            self.layers.append(Layer(w.astype(np.float32), b.astype(np.float32), mask))
        except ValidationError as exc:
            raise InputFileError(f"{self.where}: node '{name}': {exc}") from None
        self.open = None


def from_graph(graph, where="NIR graph", dt=None, reset=None) -> MLP:
    """An MLP from a NIR graph (module docstring); ``dt`` in seconds (None: implied or 1 ms);
    ``reset`` "subtract", "value" or None (auto, module docstring). Warns
    (:class:`ApproximationWarning`) for a node whose expected rate error exceeds
    ``RATE_TOLERANCE``."""
    meta = dict(graph.metadata or {})
    if "neurosim_activation" in meta:
        return _recorded(graph, meta, where)
    order = _chain(graph, where)
    dt, dt_source = resolve_dt(graph, order, dt, where)
    resets = resolve_resets(graph, order, reset, dt_source)
    build, notes = _Builder(where), []
    for i, name in enumerate(order):
        node, kind = graph.nodes[name], _kind(graph.nodes[name])
        if kind == "Flatten" and not build.layers and build.open is None:
            continue
        if kind in AFFINE:
            build.affine(name, node)
        elif kind == "Scale":
            build.scale(name, node)
        elif kind in SPIKING and build.open is not None:
            gain, drive, theta, leak_error, note = neuron_rate_map(node, name,
                                                                   build.open[2].shape, dt, where)
            build.neuron(gain, drive, theta)
            bound, error_note = expected_error(name, build.layers[-1], leak_error,
                                               resets[name], dt)
            warn_if_inexact(bound, error_note, leak_error)
            notes += note + [error_note]
        else:
            where_ok = "; Flatten only before the first Affine" if kind == "Flatten" else ""
            raise InputFileError(f"{where}: node '{name}' is {kind}"
                                 f"{' here' if kind in SPIKING + ('Flatten',) else ''}, expected "
                                 f"Affine or Linear (optionally followed by {', '.join(SPIKING)})"
                                 f"{where_ok}")
    if build.in_scale is not None:
        raise InputFileError(f"{where}: node '{build.in_scale_node}' is a Scale with no Affine "
                             f"after it, expected Scale before or after an Affine")
    if build.open is not None:
        name, w, b, mask = build.open
        build.close(w, b, mask, name)
    if not build.layers:
        raise InputFileError(f"{where}: no Affine/Linear node, expected at least one")
    _check_io_shapes(graph, build.layers, where)
    try:
        return MLP(build.layers, "clipped_relu", 1.0, {
            "imported_from": "NIR", "reset_assumed": RESET_SEMANTICS,
            "nir_import": {"dt": dt, "dt_source": dt_source, "notes": notes, "reset": resets,
                           "output": "spiking rates" if ends_spiking(graph, where) else "logits"}})
    except ValidationError as exc:
        raise InputFileError(f"{where}: {exc}") from None


def _recorded(graph, meta, where):
    """The MLP neurosim wrote (its activation, steepness and scales undo the rate scaling)."""
    order = [n for n in _chain(graph, where) if _kind(graph.nodes[n]) in AFFINE]
    try:
        scales = json.loads(str(meta.get("neurosim_scales", "null")))
        provenance = json.loads(str(meta.get("neurosim_provenance", "{}")))
        steepness = float(meta.get("neurosim_steepness", 1.0))
        prev, layers = 1.0, []
        for i, name in enumerate(order):
            node = graph.nodes[name]
            w = _node_array(node, "weight", name, where).T
            b = _node_array(node, "bias", name, where)
            mask = (node.metadata or {}).get("mask")
            mask = np.asarray(mask, dtype=bool).T if mask is not None else w != 0
            if scales is not None:  # written by to_graph: undo Ŵ = K W λ_{l-1}/λ_l
                hidden = i < len(order) - 1
                scale = scales[i] if hidden else 1.0
                k = steepness if hidden else 1.0
                w, b = w * scale / (k * prev), b * scale / k
                prev = scale
            layers.append(Layer(w.astype(np.float32), b.astype(np.float32), mask))
        return MLP(layers, str(meta["neurosim_activation"]), steepness, provenance)
    except (ValueError, TypeError, IndexError, ValidationError) as exc:  # incl. JSONDecodeError
        raise InputFileError(f"{where}: {exc}") from None


def resolve_dt(graph, order, dt, where):
    """(dt in seconds, where it came from): the argument; else τ/r shared by every leaky node
    when r ≠ 1 (snnTorch's r = τ/dt); else ``DEFAULT_DT``."""
    if dt is not None:
        if not (np.isfinite(dt) and dt > 0):
            raise ValidationError(f"argument 'dt' is {dt}; expected a time step in seconds > 0",
                                  param="dt")
        return float(dt), "given"
    implied = []
    for name in order:
        node = graph.nodes[name]
        if _kind(node) in ("LIF", "CubaLIF"):
            tau = _node_array(node, "tau" if _kind(node) == "LIF" else "tau_mem", name, where)
            r = _node_array(node, "r", name, where)
            if np.any(r == 1) or np.any(r <= 0):
                return DEFAULT_DT, "default"
            implied.append(np.ravel(tau / r))
    if implied:
        values = np.concatenate(implied)
        if np.allclose(values, values[0], rtol=1e-4):
            return float(values[0]), "implied by r = tau/dt (snnTorch)"
    return DEFAULT_DT, "default"


def resolve_resets(graph, order, reset, dt_source):
    """{spiking node name: "subtract" or "value"}: ``reset`` for every node, or if None the
    module docstring's rule (neurosim's own graphs, IF nodes and snnTorch-style leaky nodes
    subtract; other leaky nodes reset to value, as the NIR standard and Norse do)."""
    if reset is not None and reset not in RESETS:
        raise ValidationError(f"argument 'reset' is {reset!r}; expected one of "
                              f"{', '.join(RESETS)}", param="reset")
    spiking = [n for n in order if _kind(graph.nodes[n]) in SPIKING]
    if reset is not None:
        return {name: reset for name in spiking}
    written_by_neurosim = "neurosim_reset" in (graph.metadata or {})
    snntorch = "snnTorch" in dt_source
    return {name: "subtract" if written_by_neurosim or snntorch or _kind(graph.nodes[name]) == "IF"
            else "value" for name in spiking}


def expected_error(name, layer, leak_error, reset, dt):
    """(bound, note): node ``name``'s expected rate error in spikes/step (module docstring),
    ``leak_error`` (dt/2τ) plus, for reset to value, ρ²/(1+ρ) at the highest rate ρ that
    ``layer`` (the node's rate map) reaches for input rates in [0, 1]; the note says so."""
    reach = float(np.clip((np.maximum(layer.weight, 0).sum(axis=0) + layer.bias).max(), 0, 1))
    staircase = reach ** 2 / (1 + reach) if reset == "value" else 0.0
    total = leak_error + staircase
    parts = [f"leak {leak_error:.3g} (dt/2tau, dt = {dt:g} s)"] if leak_error else []
    if staircase:
        parts.append(f"reset to v_reset read as reset by subtraction {staircase:.3g} "
                     f"(rho^2/(1+rho) at its highest rate rho = {reach:.3g})")
    note = (f"node '{name}': expected rate error up to {total:.3g} spikes/step"
            + (f" = {' + '.join(parts)}" if parts else " (exact rate map)"))
    return total, note


def warn_if_inexact(bound, note, leak_error):
    """An :class:`ApproximationWarning` with ``note`` when ``bound`` exceeds
    ``RATE_TOLERANCE``."""
    if bound > RATE_TOLERANCE:
        remedy = "; a smaller time step dt shrinks the leak term" if leak_error else ""
        warnings.warn(f"{note}, above {RATE_TOLERANCE}{remedy}", ApproximationWarning,
                      stacklevel=3)


def neuron_rate_map(node, name, shape, dt, where):
    """(g, c, θ, leak error, notes): the rate map Δv = g·z + c per step, threshold θ, of a
    spiking node (module docstring), each an array of ``shape``; the leak's rate error bound
    dt/(2τ) spikes/step (0 for IF)."""
    kind = _kind(node)

    def field(f):
        return _broadcast(_node_array(node, f, name, where), shape, name, f, where)

    theta = field("v_threshold")
    _positive(theta, name, "v_threshold", where)
    reset = field("v_reset") if getattr(node, "v_reset", None) is not None else np.zeros(shape)
    if np.any(reset != 0):
        j = int(np.argmax(reset != 0))
        raise InputFileError(f"{where}: node '{name}' field 'v_reset' is {reset[j]:g} (neuron "
                             f"{j}), expected 0 (the chip resets by subtracting the threshold)")
    r = field("r")
    if kind == "IF":
        return r, np.zeros(shape), theta, 0.0, []
    tau = field("tau" if kind == "LIF" else "tau_mem")
    _positive(tau, name, "tau" if kind == "LIF" else "tau_mem", where)
    k = dt / tau
    if np.any(k >= 1):
        j = int(np.argmax(k >= 1))
        raise InputFileError(f"{where}: node '{name}' has dt/tau = {k[j]:.3g} (neuron {j}; dt = "
                             f"{dt:g} s), expected < 1 (lower argument 'dt')",
                             param="dt")
    gain = r * k
    notes = [f"node '{name}': leak dt/tau up to {k.max():.3g} per step, mapped to a constant leak "
             f"(mean potential theta/2)"]
    if kind == "CubaLIF":
        tau_syn = field("tau_syn")
        _positive(tau_syn, name, "tau_syn", where)
        gain = gain * field("w_in")
        notes.append(f"node '{name}': synaptic filter tau_syn = {tau_syn.max():.3g} s "
                     f"({tau_syn.max() / dt:.3g} steps) replaced by its steady state I = w_in z "
                     f"(exact for constant rates)")
    drive = k * (field("v_leak") - theta / 2)
    return gain, drive, theta, float(k.max()) / 2, notes


def _check_io_shapes(graph, layers, where):
    """The Input (and Output, if typed) sizes agree with the first and last layers."""
    ends = (("Input", "input", layers[0].n_in), ("Output", "output", layers[-1].n_out))
    for kind, port, n in ends:
        node_name, node = next((k, v) for k, v in graph.nodes.items() if _kind(v) == kind)
        shape = np.asarray((getattr(node, f"{port}_type", None) or {}).get(port, []))
        if shape.size and shape.dtype.kind in "iu" and (shape > 0).all() \
                and int(np.prod(shape)) != n:
            raise InputFileError(f"{where}: node '{node_name}' has shape {shape.tolist()} "
                                 f"({int(np.prod(shape))} values), expected {n} to match the "
                                 f"{'first' if kind == 'Input' else 'last'} layer")


def _positive(values, name, field, where):
    if np.any(values <= 0):
        j = int(np.argmax(values <= 0))
        raise InputFileError(f"{where}: node '{name}' field '{field}' is {values[j]:g} "
                             f"(neuron {j}), expected > 0")


def _broadcast(value, shape, name, field, where):
    try:
        return np.broadcast_to(value, shape).astype(np.float64)
    except ValueError:
        raise InputFileError(f"{where}: node '{name}' field '{field}' has shape "
                             f"{np.shape(value)}, expected {shape}") from None


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


def read_graph(path):
    """The NIR graph in the file at ``path``: the file must exist and be HDF5 that ``nir`` can
    read; otherwise one InputFileError line."""
    import nir  # local for start-up time: nir loads h5py (~0.5 s); only when NIR is used
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


def read_nir(path, dt=None, reset=None) -> MLP:
    """Read a NIR file as an MLP (:func:`from_graph`); unreadable files and unsupported graphs
    are InputFileErrors."""
    return from_graph(read_graph(path), where=os.fspath(path), dt=dt, reset=reset)
