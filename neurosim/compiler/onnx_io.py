"""ONNX import of MLPs (the ``onnx`` package only: the graph is read, never executed).

Accepted graph, in node order (what ``torch.onnx.export`` writes for a Linear/ReLU stack and
``tf2onnx`` for a Keras Dense stack):

    [Flatten] → (Gemm | MatMul → Add) → activation → … → (Gemm | MatMul → Add) [→ Softmax]

* ``Gemm(A, B, C)`` computes alpha·A·B' + beta·C with B' = Bᵀ if transB = 1 (torch's layout,
  weight (out, in)); transA must be 0. ``MatMul(A, W)`` with W (in, out), optionally ``Add(·, b)``.
  Weights and biases must be initializers (or Constant nodes).
* Activations (one kind for all hidden layers): ``Relu`` → relu; ``Sigmoid`` → sigmoid;
  ``Clip(min = 0, max = m)`` → clipped_relu with K = 1, the layer divided by m and the next
  layer's weights multiplied by m (clip(z, 0, m) = m·clip(z/m, 0, 1)).
* A final ``Softmax`` is dropped (it does not change the argmax).
Any other op is refused naming the node; so is a graph whose nodes do not form this chain: each
node must read the tensor the previous one wrote (the graph's one non-constant input first), and
the graph's output must be the last node's.
"""
import os

import numpy as np

from neurosim.errors import InputFileError, ValidationError
from neurosim.mlp import MLP, Layer
from neurosim.sniff import describe_format, existing_file, first_nonfinite, sniff

ACCEPTED = ("Gemm", "MatMul", "Add", "Relu", "Clip", "Sigmoid", "Flatten", "Softmax",
            "Constant", "Identity")
_ACTIVATION = {"Relu": "relu", "Sigmoid": "sigmoid", "Clip": "clipped_relu"}


def read_onnx(path) -> MLP:
    """The MLP in the ONNX file at ``path`` (module docstring); one InputFileError line
    otherwise."""
    import onnx  # local for start-up time: onnx loads protobuf (~0.5 s); only for ONNX files
    path = existing_file(path, "an ONNX model (.onnx)")
    fmt = sniff(path)
    if fmt != "onnx":
        raise InputFileError(f"{path}: {describe_format(path, fmt)}, expected an ONNX model")
    try:
        model = onnx.load(path)
    except Exception as exc:  # protobuf raises DecodeError and friends on a bad file
        raise InputFileError(f"{path}: not a readable ONNX model ({type(exc).__name__}), "
                             f"expected an ONNX model") from None
    return from_onnx(model, os.fspath(path))


def from_onnx(model, where="ONNX model") -> MLP:
    """The MLP of an ``onnx.ModelProto`` (module docstring)."""
    from onnx import numpy_helper  # local for start-up time (see read_onnx)
    consts = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    data_inputs = [i.name for i in model.graph.input if i.name not in consts]
    if len(data_inputs) != 1:
        raise InputFileError(f"{where}: {len(data_inputs)} graph inputs besides initializers "
                             f"({', '.join(data_inputs)}), expected 1 (an MLP)")
    reader = _Reader(where, consts, data_inputs[0])
    for node in model.graph.node:
        reader.node(node)
    outputs = [o.name for o in model.graph.output]
    if outputs != [reader.current]:
        raise InputFileError(f"{where}: graph output {', '.join(outputs)}, expected the last "
                             f"node's output '{reader.current}' (an MLP)")
    return reader.finish()


class _Reader:
    """Walks the nodes, collecting [weight (in, out), bias] pairs and activations; ``current``
    is the tensor the chain has reached."""

    def __init__(self, where, consts, data_input):
        self.where, self.consts, self.current = where, consts, data_input
        self.layers, self.acts, self.clip = [], [], []
        self.pending = None  # a MatMul waiting for its Add
        self.done = False

    def fail(self, node, what):
        raise InputFileError(f"{self.where}: node '{node.name or node.output[0]}' ({node.op_type}) "
                             f"{what}")

    def const(self, node, name, role):
        if name not in self.consts:
            self.fail(node, f"input '{name}' is not an initializer, expected the {role} as a "
                            f"constant")
        value = np.asarray(self.consts[name])
        if value.dtype.kind not in "iuf":
            self.fail(node, f"{role} has dtype {value.dtype}, expected numbers")
        idx = first_nonfinite(value.astype(np.float64))
        if idx is not None:
            self.fail(node, f"{role} is {value[idx]} at index {idx}, expected finite numbers")
        return value.astype(np.float64)

    def follow(self, node):
        """Refuse a node that does not read ``current`` (for Add: one of its inputs); then its
        output is ``current``."""
        data = [name for name in node.input if name and name not in self.consts]
        if data != [self.current]:
            self.fail(node, f"reads {', '.join(data) or 'constants only'}, expected the output "
                            f"of the node before it, '{self.current}' (a chain: an MLP)")
        self.current = node.output[0]

    def node(self, node):
        from onnx import helper, numpy_helper  # local for start-up time (see read_onnx)
        op = node.op_type
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if op not in ACCEPTED:
            self.fail(node, f"is not supported, expected {', '.join(ACCEPTED[:-2])} (an MLP)")
        if self.done:
            self.fail(node, "follows the final Softmax, expected nothing after it")
        if op == "Constant":
            self.consts[node.output[0]] = numpy_helper.to_array(attrs["value"])
            return
        self.follow(node)
        if op == "Identity":
            return
        elif op == "Flatten":
            if self.layers or self.pending is not None:
                self.fail(node, "comes after a layer, expected Flatten only at the start")
        elif op == "Gemm":
            self.gemm(node, attrs)
        elif op == "MatMul":
            self.pending = (node, self.const(node, node.input[1], "weight"))
            self.add_layer(node, self.pending[1], np.zeros(self.pending[1].shape[-1]))
        elif op == "Add":
            self.add_bias(node)
        elif op == "Softmax":
            self.done = True
        else:
            self.activation(node, op, attrs)

    def gemm(self, node, attrs):
        if attrs.get("transA", 0):
            self.fail(node, "has transA = 1, expected 0")
        w = self.const(node, node.input[1], "weight")
        w = (w.T if attrs.get("transB", 0) else w) * attrs.get("alpha", 1.0)
        b = (self.const(node, node.input[2], "bias") * attrs.get("beta", 1.0)
             if len(node.input) > 2 and node.input[2] else np.zeros(w.shape[1]))
        self.add_layer(node, w, b)

    def add_layer(self, node, w, b):
        if len(self.layers) > len(self.acts):
            self.fail(node, "follows a layer with no activation between, expected Relu, Clip "
                            "or Sigmoid")
        if w.ndim != 2:
            self.fail(node, f"weight has shape {w.shape}, expected 2-D")
        try:
            b = np.broadcast_to(b, (w.shape[1],))
        except ValueError:
            self.fail(node, f"bias has shape {b.shape}, expected ({w.shape[1]},)")
        self.layers.append([w, b.copy()])

    def add_bias(self, node):
        if self.pending is None or len(self.layers) == len(self.acts):
            self.fail(node, "is not the bias of a MatMul, expected Add only after MatMul")
        name = next((n for n in node.input if n in self.consts), None)
        if name is None:
            self.fail(node, "adds no constant, expected a bias initializer")
        b = self.const(node, name, "bias")
        w = self.layers[-1][0]
        try:
            self.layers[-1][1] = self.layers[-1][1] + np.broadcast_to(b, (w.shape[1],))
        except ValueError:
            self.fail(node, f"bias has shape {b.shape}, expected ({w.shape[1]},)")
        self.pending = None

    def activation(self, node, op, attrs):
        if len(self.layers) != len(self.acts) + 1:
            self.fail(node, "is not after a layer, expected an activation after Gemm/MatMul")
        if self.acts and self.acts[0] != _ACTIVATION[op]:
            self.fail(node, f"differs from the first activation ({self.acts[0]}), expected one "
                            f"kind for every hidden layer")
        self.acts.append(_ACTIVATION[op])
        self.pending = None
        self.clip.append(self.clip_max(node, attrs) if op == "Clip" else 1.0)

    def clip_max(self, node, attrs):
        low = attrs.get("min")
        high = attrs.get("max")
        if len(node.input) > 1 and node.input[1]:
            low = float(self.const(node, node.input[1], "min"))
        if len(node.input) > 2 and node.input[2]:
            high = float(self.const(node, node.input[2], "max"))
        if low != 0 or high is None or not high > 0:
            self.fail(node, f"clips to [{low}, {high}], expected [0, m] with m > 0")
        return float(high)

    def finish(self):
        if not self.layers:
            raise InputFileError(f"{self.where}: no Gemm or MatMul node, expected an MLP")
        if len(self.acts) != len(self.layers) - 1:
            raise InputFileError(f"{self.where}: the last layer has an activation "
                                 f"({self.acts[-1]}), expected a linear output layer (logits)")
        layers, carry = [], 1.0
        for i, (w, b) in enumerate(self.layers):
            m = self.clip[i] if i < len(self.clip) else 1.0
            try:
                layers.append(Layer.dense(w * carry / m, b / m))
            except ValidationError as exc:
                raise InputFileError(f"{self.where}: layer {i}: {exc}") from None
            carry = m
        activation = self.acts[0] if self.acts else "relu"
        try:
            return MLP(layers, activation, 1.0, {"imported_from": "ONNX"})
        except ValidationError as exc:
            raise InputFileError(f"{self.where}: {exc}") from None
