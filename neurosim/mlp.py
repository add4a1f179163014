"""The multilayer perceptron that every other stage of neurosim consumes.

An MLP maps an input rate vector x ∈ [0, 1]^{n_in} to logits through L hidden layers and one
linear output layer:

    a_0 = x
    z_l = a_{l-1} W_l + b_l,        W_l ∈ R^{n_{l-1} × n_l}, zero wherever the mask M_l is False
    a_l = φ(z_l)                    l = 1..L (hidden)
    logits = a_L W_{L+1} + b_{L+1}  (output layer: linear)

Hidden activations φ with steepness K (relu, clipped_relu, sigmoid; their Lipschitz constants and
bounds C, the constants of [elmhamdi2017fep] and [elmhamdi2017erf]): ``neurosim.activation``.

A crashed ("dead") hidden neuron outputs 0, the failure model of El Mhamdi et al. 2017.

Files: ``.npz`` without pickle (see README "File formats"): ``format_version``, ``activation``,
``steepness``, ``provenance`` (a JSON string), ``n_layers`` and per layer ``weight_i``, ``bias_i``,
``mask_i``.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

import numpy as np

from neurosim import activation as phi
from neurosim.activation import ACTIVATIONS
from neurosim.errors import InputFileError, ValidationError
from neurosim.fileio import save_npz
from neurosim.sniff import first_nonfinite, json_object, number_array, read_npz, scalar
from neurosim.validation import check_inputs

FORMAT_VERSION = 1


@dataclass
class Layer:
    """One fully-described layer: z = a W + b with W exactly 0 wherever ``mask`` is False."""

    weight: np.ndarray  # float32 (n_in, n_out)
    bias: np.ndarray    # float32 (n_out,)
    mask: np.ndarray    # bool (n_in, n_out)

    def __post_init__(self):
        self.weight = np.array(self.weight, dtype=np.float32)
        self.bias = np.array(self.bias, dtype=np.float32)
        self.mask = np.array(self.mask, dtype=bool)
        if self.weight.ndim != 2:
            raise ValidationError(f"layer field 'weight': shape {self.weight.shape}, "
                                  f"expected 2-D (n_in, n_out)")
        if self.bias.shape != (self.weight.shape[1],):
            raise ValidationError(f"layer field 'bias': shape {self.bias.shape}, "
                                  f"expected ({self.weight.shape[1]},)")
        if self.mask.shape != self.weight.shape:
            raise ValidationError(f"layer field 'mask': shape {self.mask.shape}, "
                                  f"expected {self.weight.shape}")
        for name in ("weight", "bias"):
            values = getattr(self, name)
            idx = first_nonfinite(values)
            if idx is not None:
                raise ValidationError(f"layer field '{name}': {values[idx]} at index {idx}, "
                                      "expected finite numbers")
        self.weight[~self.mask] = 0.0

    @property
    def n_in(self) -> int:
        return self.weight.shape[0]

    @property
    def n_out(self) -> int:
        return self.weight.shape[1]

    def copy(self) -> "Layer":
        return Layer(self.weight, self.bias, self.mask)

    @classmethod
    def dense(cls, weight, bias) -> "Layer":
        """A layer where every connection exists."""
        w = np.asarray(weight, dtype=np.float32)
        return cls(w, bias, np.ones(w.shape, dtype=bool))


class MLP:
    """Hidden layers then a linear output layer; see the module docstring for the equations."""

    def __init__(self, layers, activation="relu", steepness=1.0, provenance=None):
        if activation not in ACTIVATIONS:
            raise ValidationError(f"MLP field 'activation': {activation!r}, "
                                  f"expected one of {', '.join(ACTIVATIONS)}")
        steepness = float(steepness)
        if not np.isfinite(steepness) or steepness <= 0:
            raise ValidationError(f"MLP field 'steepness': {steepness}, expected a finite K > 0")
        layers = list(layers)
        if not layers:
            raise ValidationError("MLP field 'layers': empty, expected at least the output layer")
        for i in range(1, len(layers)):
            if layers[i].n_in != layers[i - 1].n_out:
                raise ValidationError(f"MLP layer {i} field 'weight': n_in {layers[i].n_in}, "
                                      f"expected {layers[i - 1].n_out} (outputs of layer {i - 1})")
        self.layers: list[Layer] = layers
        self.activation = activation
        self.steepness = steepness
        self.provenance: dict = dict(provenance or {})

    # ----------------------------------------------------------------- constants
    @property
    def sizes(self) -> list[int]:
        """[n_in, h_1, ..., h_L, n_classes]."""
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @property
    def lipschitz(self) -> float:
        """K for relu and clipped_relu; K/4 for sigmoid (max slope of σ(Kz) is K·σ'(0) = K/4)."""
        return phi.lipschitz(self.activation, self.steepness)

    @property
    def bound_C(self) -> float:
        """sup φ: ∞ for relu, 1 for clipped_relu and sigmoid."""
        return phi.sup_bound(self.activation)

    @property
    def n_params(self) -> int:
        """Number of nonzero weights (biases not counted)."""
        return int(sum(np.count_nonzero(layer.weight) for layer in self.layers))

    @property
    def n_hidden(self) -> int:
        """Number of hidden neurons."""
        return int(sum(layer.n_out for layer in self.layers[:-1]))

    # ----------------------------------------------------------------- forward
    def activate(self, z) -> np.ndarray:
        """φ(z) with steepness K (module docstring)."""
        return phi.activate(z, self.activation, self.steepness)

    def hidden_outputs(self, x, dead=None) -> list[np.ndarray]:
        """[a_1, ..., a_L, logits] for a batch x of shape (B, n_in).

        ``dead``: None or one entry per hidden layer, each None or a bool array of shape (n_h,)
        or (B, n_h); a dead neuron's output is 0.
        """
        a = check_inputs(x, self.sizes[0], "MLP input", dtype=None)
        if a.dtype != np.float64:
            a = a.astype(np.float32, copy=False)
        n_hidden = len(self.layers) - 1
        if dead is not None and len(dead) != n_hidden:
            raise ValidationError(f"MLP argument 'dead': {len(dead)} entries, "
                                  f"expected one per hidden layer ({n_hidden})")
        outs = []
        for i, layer in enumerate(self.layers):
            z = a @ layer.weight.astype(a.dtype, copy=False) + layer.bias.astype(a.dtype, copy=False)
            if i == n_hidden:
                outs.append(z)
                break
            a = self.activate(z)
            if dead is not None and dead[i] is not None:
                a = np.where(np.asarray(dead[i], dtype=bool), a.dtype.type(0), a)
            outs.append(a)
        return outs

    def forward(self, x, dead=None) -> np.ndarray:
        """Logits (B, n_classes); dtype float64 if x is float64, else float32."""
        return self.hidden_outputs(x, dead)[-1]

    def predict(self, x) -> np.ndarray:
        return np.argmax(self.forward(x), axis=1)

    def accuracy(self, x, y) -> float:
        return float(np.mean(self.predict(x) == np.asarray(y)))

    # ----------------------------------------------------------------- statistics
    def layer_stats(self) -> list[dict]:
        """Per layer: n_in, n_out, nonzero, density (nonzero/(n_in n_out)), max_fan_in (most
        nonzero inputs of one neuron), max_abs_w, mean_abs_w (mean |w| over mask-True entries)."""
        stats = []
        for layer in self.layers:
            nz = layer.weight != 0
            n_conn = int(layer.mask.sum())
            absw = np.abs(layer.weight)
            stats.append({
                "n_in": layer.n_in,
                "n_out": layer.n_out,
                "nonzero": int(nz.sum()),
                "density": float(nz.sum() / nz.size),
                "max_fan_in": int(nz.sum(axis=0).max()) if nz.size else 0,
                "max_abs_w": float(absw.max()) if absw.size else 0.0,
                "mean_abs_w": float(absw[layer.mask].mean()) if n_conn else 0.0,
            })
        return stats

    def copy(self) -> "MLP":
        return MLP([layer.copy() for layer in self.layers], self.activation, self.steepness,
                   json.loads(json.dumps(self.provenance)))

    # ----------------------------------------------------------------- files
    def save(self, path) -> None:
        """Write ``.npz`` (no pickle) atomically: a temporary name, renamed when complete."""
        arrays = {
            "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
            "activation": np.array(self.activation),
            "steepness": np.array(self.steepness, dtype=np.float64),
            "provenance": np.array(json.dumps(self.provenance, sort_keys=True)),
            "n_layers": np.array(len(self.layers), dtype=np.int64),
        }
        for i, layer in enumerate(self.layers):
            arrays[f"weight_{i}"] = layer.weight
            arrays[f"bias_{i}"] = layer.bias
            arrays[f"mask_{i}"] = layer.mask
        save_npz(path, compressed=True, **arrays)

    @classmethod
    def load(cls, path) -> "MLP":
        """Read a file written by :meth:`save`; any problem is one InputFileError line naming
        the file and the field (see :mod:`neurosim.sniff` for what is refused and why)."""
        path = os.fspath(path)
        data = read_npz(path, "model")
        missing = [k for k in _HEADER_FIELDS if k not in data]
        if missing:
            raise InputFileError(f"{path}: field '{missing[0]}' missing, expected an MLP file "
                                 f"written by neurosim")
        version = scalar(data, path, "format_version", "int")
        if version != FORMAT_VERSION:
            raise InputFileError(f"{path}: field 'format_version' is {version}, "
                                 f"expected {FORMAT_VERSION}")
        provenance = json_object(data, path, "provenance")
        layers = [_load_layer(data, path, i) for i in range(_stored_layers(data, path))]
        try:
            return cls(layers, scalar(data, path, "activation", "str"),
                       scalar(data, path, "steepness", "float"), provenance)
        except ValidationError as exc:
            raise InputFileError(f"{path}: {exc}") from None


_HEADER_FIELDS = ("format_version", "activation", "steepness", "provenance", "n_layers")
_LAYER_FIELD = re.compile(r"^(weight|bias|mask)_(\d+)$")


def _stored_layers(data, path):
    """``n_layers``, checked against the layer arrays actually stored (none may be ignored)."""
    n_layers = scalar(data, path, "n_layers", "int")
    if n_layers < 1:
        raise InputFileError(f"{path}: field 'n_layers' is {n_layers}, expected at least 1")
    indices = set()
    for key in data:
        match = _LAYER_FIELD.match(key)
        if match:
            indices.add(int(match.group(2)))
        elif key not in _HEADER_FIELDS:
            raise InputFileError(f"{path}: field '{key}' is not an MLP field, expected "
                                 f"{', '.join(_HEADER_FIELDS)} and weight_i, bias_i, mask_i")
    extra = sorted(i for i in indices if i >= n_layers)
    if extra:
        raise InputFileError(f"{path}: field 'n_layers' is {n_layers} but layer {extra[-1]} is "
                             f"stored ({max(indices) + 1} layers), expected them to agree")
    for i in range(n_layers):
        for name in ("weight", "bias", "mask"):
            if f"{name}_{i}" not in data:
                raise InputFileError(f"{path}: field '{name}_{i}' missing, expected an MLP file "
                                     f"written by neurosim")
    return n_layers


def _load_layer(data, path, i):
    """Layer ``i``: float (or integer) weights and biases, finite; a bool (or 0/1) mask."""
    w = number_array(data, path, f"weight_{i}", "iuf", "floats")
    b = number_array(data, path, f"bias_{i}", "iuf", "floats")
    m = number_array(data, path, f"mask_{i}", "biu", "bool")
    if m.dtype.kind != "b" and not np.isin(m, (0, 1)).all():
        raise InputFileError(f"{path}: field 'mask_{i}' has values other than 0 and 1, "
                             f"expected bool")
    if w.ndim != 2 or 0 in w.shape:
        raise InputFileError(f"{path}: field 'weight_{i}' has shape {w.shape}, expected 2-D "
                             f"(n_in, n_out) with n_in, n_out ≥ 1")
    if w.shape == m.shape and np.any(w[~m.astype(bool)] != 0):
        raise InputFileError(f"{path}: field 'weight_{i}' has nonzero weights where "
                             f"mask_{i} is False, expected 0")
    try:
        return Layer(w, b, m)
    except ValidationError as exc:
        raise InputFileError(f"{path}: layer {i}: {exc}") from None
