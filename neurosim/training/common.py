"""Shared training machinery: parameters with masks, forward/backward, optimisers, mask tools.

Loss: softmax cross-entropy averaged over a minibatch of B examples,

    p = softmax(logits),  L = −(1/B) Σ_b log p_{b, y_b},  ∂L/∂logits = (p − onehot(y)) / B.

Backward through layer l (z_l = a_{l−1} W_l + b_l, a_l = φ(z_l)):

    ∂L/∂W_l = a_{l−1}ᵀ δ_l,   ∂L/∂b_l = Σ_b δ_l,   δ_{l−1} = (δ_l W_lᵀ) ⊙ φ'(z_{l−1})

with φ'(z) = K·[Kz > 0] (relu), K·[0 < Kz < 1] (clipped_relu), K·σ(Kz)(1 − σ(Kz)) (sigmoid).
Gradients are computed for *every* position of W, connected or not: sparse momentum regrows where
the momentum of missing weights is largest and NeST grows where their gradient is largest.
After every optimiser step W ← W ⊙ M, so a missing connection stays exactly 0.

Optimisers (per-parameter buffers over all positions):

    sgd  (Nesterov, L2 weight decay λ):  g ← g + λW;  v ← μ v + g;  W ← W − η (g + μ v)
    adam (Kingma & Ba 2015, decoupled weight decay as in AdamW, Loshchilov & Hutter 2019):
         m ← β1 m + (1−β1) g;  s ← β2 s + (1−β2) g²;  W ← W − η (m̂ / (√ŝ + ε) + λ W)
         with m̂ = m/(1−β1ᵗ), ŝ = s/(1−β2ᵗ)

The "momentum" used by sparse momentum is v (sgd) or m (adam).
Learning rate schedule (``learning_rate``): constant η0, cosine η0·½(1 + cos(π e / E)) over epochs
e = 0..E−1, or step η0·γ^⌊(i + 1)/S⌋ over minibatches i.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from neurosim.activation import activate, derivative
from neurosim.errors import ValidationError
from neurosim.mlp import MLP, Layer


@dataclass
class Params:
    """Trainable state: W (n_in, n_out), b (n_out,), mask M (bool) per layer; hidden then output."""

    W: list
    b: list
    M: list
    activation: str = "relu"
    steepness: float = 1.0

    @property
    def n_layers(self):
        return len(self.W)

    @property
    def n_connections(self):
        """Active (mask-enabled) weights over all layers."""
        return int(sum(m.sum() for m in self.M))

    def copy(self):
        return copy.deepcopy(self)

    def apply_masks(self):
        for w, m in zip(self.W, self.M):
            w *= m

    def forward(self, x):
        """Return (zs, acts): acts[0] = x, zs[l] and acts[l+1] for layer l (acts[-1] = logits)."""
        zs, acts = [], [x]
        for l in range(self.n_layers):
            z = acts[-1] @ self.W[l] + self.b[l]
            zs.append(z)
            acts.append(z if l == self.n_layers - 1 else activate(z, self.activation, self.steepness))
        return zs, acts

    def predict(self, x, batch=8192):
        return np.concatenate([np.argmax(self.forward(x[i:i + batch])[1][-1], axis=1)
                               for i in range(0, len(x), batch)])

    def loss(self, x, y):
        """Mean softmax cross-entropy."""
        logits = self.forward(x)[1][-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(y)), y]))

    def accuracy(self, x, y):
        return float(np.mean(self.predict(x) == y)) if len(y) else 0.0

    def to_mlp(self, provenance=None) -> MLP:
        return MLP([Layer(w, b, m) for w, b, m in zip(self.W, self.b, self.M)],
                   self.activation, self.steepness, provenance)

    @classmethod
    def from_mlp(cls, mlp: MLP, dtype=np.float32):
        return cls([layer.weight.astype(dtype) for layer in mlp.layers],
                   [layer.bias.astype(dtype) for layer in mlp.layers],
                   [layer.mask.copy() for layer in mlp.layers], mlp.activation, mlp.steepness)


def loss_and_grads(p: Params, x, y):
    """Mean softmax cross-entropy and its gradients.

    Returns (loss, gW, gb, deltas, acts) where deltas[l] = ∂L/∂z_l (pre-activations of layer l)
    and acts[l] the input of layer l; gW are dense (every position, masked or not).
    """
    zs, acts = p.forward(x)
    logits = zs[-1]
    shifted = logits - logits.max(axis=1, keepdims=True)
    expd = np.exp(shifted)
    sums = expd.sum(axis=1, keepdims=True)
    n = len(y)
    loss = float(np.mean(np.log(sums[:, 0]) - shifted[np.arange(n), y]))
    delta = expd / sums
    delta[np.arange(n), y] -= 1
    delta /= n
    gW, gb, deltas = [None] * p.n_layers, [None] * p.n_layers, [None] * p.n_layers
    for l in range(p.n_layers - 1, -1, -1):
        deltas[l] = delta
        gW[l] = acts[l].T @ delta
        gb[l] = delta.sum(axis=0)
        if l:
            delta = (delta @ p.W[l].T) * derivative(zs[l - 1], acts[l], p.activation,
                                                         p.steepness)
    return loss, gW, gb, deltas, acts


# ------------------------------------------------------------------ optimisers
@dataclass
class Optimizer:
    """SGD with Nesterov momentum or Adam (module docstring); buffers cover every position."""

    kind: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0
    m: list = field(default_factory=list)
    s: list = field(default_factory=list)

    def __post_init__(self):
        if self.kind not in ("sgd", "adam"):
            raise ValidationError(f"option 'optimizer': {self.kind!r}, expected 'sgd' or 'adam'")

    def _buffers(self, p):
        if not self.m:
            self.m = [np.zeros_like(a) for a in p.W + p.b]
            self.s = [np.zeros_like(a) for a in p.W + p.b] if self.kind == "adam" else []

    def momentum_of(self, l):
        """The momentum buffer of layer l's weights (v for sgd, m for adam)."""
        return self.m[l]

    def step(self, p: Params, gW, gb, lr):
        """One update of every weight and bias; sgd uses ``gW``/``gb`` as scratch (overwrites)."""
        self._buffers(p)
        self.t += 1
        params, grads = p.W + p.b, gW + gb
        mu, wd = self.momentum, self.weight_decay
        if self.kind == "sgd":
            for w, g, v in zip(params, grads, self.m):  # in place: g is this step's own array
                if wd:
                    g += wd * w
                v *= mu
                v += g
                g += mu * v
                g *= lr
                w -= g
        else:
            b1, b2 = mu, self.beta2
            c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
            for w, g, m, s in zip(params, grads, self.m, self.s):
                m *= b1
                m += (1 - b1) * g
                s *= b2
                s += (1 - b2) * g * g
                if wd:
                    w *= 1 - lr * wd
                w -= (lr / c1) * m / (np.sqrt(s / c2) + self.eps)
        p.apply_masks()


def learning_rate(epoch, epochs, lr0, schedule, iteration=0, step_iterations=25000, gamma=0.1):
    """η for minibatch ``iteration`` (0-based, counted over the whole run) of epoch e:

    constant η0; cosine η0·½(1 + cos(π e / E)) (per epoch); step η0·γ^⌊(i + 1) / S⌋ (PyTorch's
    StepLR(S, γ) stepped before every minibatch, as in Dettmers & Zettlemoyer's code)."""
    if schedule == "constant":
        return lr0
    if schedule == "step":
        return lr0 * gamma ** ((iteration + 1) // step_iterations)
    return lr0 * 0.5 * (1 + math.cos(math.pi * epoch / max(epochs, 1)))


# ------------------------------------------------------------------ masks
def capped_top_k(score, k, capacity):
    """Boolean mask choosing the k largest finite entries of ``score`` (n_in, n_out), greedily in
    descending order, taking at most ``capacity[j]`` entries in column j (−inf = not a candidate).

    Equivalent to: walk entries from the largest score down, accept an entry if its column still
    has room, stop after k acceptances. Ties break by flat index (deterministic).
    """
    flat = score.ravel()
    cand = np.flatnonzero(np.isfinite(flat))
    order = cand[np.argsort(-flat[cand], kind="stable")]
    cols = order % score.shape[1]
    # rank of each candidate among the candidates of its column, in descending score order
    by_col = np.argsort(cols, kind="stable")
    sorted_cols = cols[by_col]
    starts = np.searchsorted(sorted_cols, sorted_cols)
    rank = np.empty(len(order), dtype=np.int64)
    rank[by_col] = np.arange(len(order)) - starts
    accepted = order[rank < np.asarray(capacity)[cols]][:k]
    out = np.zeros(score.size, dtype=bool)
    out[accepted] = True
    return out.reshape(score.shape)


def drop_smallest(p: Params, l, k):
    """Unmask layer l's k active connections of smallest |w| (ties: first in C order). Writes
    through 2-D indices: the mask may be a non-contiguous array (a column selection after neuron
    removal), where ``ravel()`` would return a copy and the write would be lost."""
    active = np.flatnonzero(p.M[l])
    order = active[np.argsort(np.abs(p.W[l].ravel()[active]), kind="stable")]
    p.M[l][np.unravel_index(order[:k], p.M[l].shape)] = False


def keep_largest_inputs(p: Params, max_fan_in):
    """Cap every neuron's fan-in: keep its ``max_fan_in`` existing inputs of largest |w|."""
    for l in range(p.n_layers):
        score = np.where(p.M[l], np.abs(p.W[l]), -np.inf)
        k = max_fan_in * p.M[l].shape[1]
        p.M[l] &= capped_top_k(score, k, np.full(p.M[l].shape[1], max_fan_in))
    p.apply_masks()


def fan_in_capacity(mask, max_fan_in):
    """Free inputs per column under the cap (a large number when there is no cap)."""
    if max_fan_in is None:
        return np.full(mask.shape[1], mask.shape[0], dtype=np.int64)
    return np.maximum(max_fan_in - mask.sum(axis=0), 0)


def random_mask(shape, density, max_fan_in, rng):
    """Exactly round(density·n_in·n_out) connections at uniformly random positions, at most
    ``max_fan_in`` per column."""
    k = int(round(density * shape[0] * shape[1]))
    cap = np.full(shape[1], shape[0] if max_fan_in is None else max_fan_in)
    if k > int(np.minimum(cap, shape[0]).sum()):
        raise ValidationError(f"option 'density': {density} needs {k} connections in a "
                              f"{shape[0]}x{shape[1]} layer, but max_fan_in {max_fan_in} allows "
                              f"{int(np.minimum(cap, shape[0]).sum())}")
    return capped_top_k(rng.random(shape), k, cap)


def init_params(sizes, activation, steepness, rng, densities=None, max_fan_in=None,
                dtype=np.float32):
    """Masks (random at ``densities[l]``, dense by default, fan-in capped) and weights
    W ~ N(0, g²/fan_in) on existing connections, fan_in the mean connections per neuron, g = √2/K
    for relu types (He et al. 2015) and g = 4/K for sigmoid; biases 0."""
    W, b, M = [], [], []
    gain = (4.0 if activation == "sigmoid" else math.sqrt(2.0)) / steepness
    for l in range(len(sizes) - 1):
        shape = (sizes[l], sizes[l + 1])
        d = 1.0 if densities is None else densities[l]
        m = random_mask(shape, d, max_fan_in, rng)
        fan_in = max(m.sum() / shape[1], 1.0)
        W.append((rng.standard_normal(shape) * (gain / math.sqrt(fan_in)) * m).astype(dtype))
        b.append(np.zeros(shape[1], dtype=dtype))
        M.append(m)
    return Params(W, b, M, activation, steepness)


# ------------------------------------------------------------------ loops
def split_validation(x, y, fraction, rng):
    """Random hold-out of ``fraction`` of the training set: (x_fit, y_fit, x_val, y_val)."""
    n_val = int(round(fraction * len(y)))
    perm = rng.permutation(len(y))
    val, fit = perm[:n_val], perm[n_val:]
    return x[fit], y[fit], x[val], y[val]


def run_epoch(p: Params, opt: Optimizer, x, y, batch_size, lr, rng):
    """One pass over (x, y) in a random order; ``lr`` is η, or η(i) of the minibatch index i
    within the epoch. Returns the mean minibatch loss."""
    rate = lr if callable(lr) else (lambda i: lr)
    perm = rng.permutation(len(y))
    total = 0.0
    for k, i in enumerate(range(0, len(y), batch_size)):
        idx = perm[i:i + batch_size]
        loss, gW, gb, _, _ = loss_and_grads(p, x[idx], y[idx])
        opt.step(p, gW, gb, rate(k))
        total += loss * len(idx)
    return total / max(len(y), 1)


def batches_per_epoch(n, batch_size):
    return -(-n // batch_size)


def full_gradient(p: Params, x, y, batch=4096):
    """∂L/∂W over a whole set (L the mean loss over it), computed in chunks."""
    gW = [np.zeros_like(w) for w in p.W]
    for i in range(0, len(y), batch):
        _, g, _, _, _ = loss_and_grads(p, x[i:i + batch], y[i:i + batch])
        for l in range(p.n_layers):
            gW[l] += g[l] * (len(y[i:i + batch]) / len(y))
    return gW


def fit(p: Params, opt: Optimizer, data, o, rng, bar, after_epoch=None, epochs=None):
    """Minibatch training, keeping the parameters of ``o.model_selection``.

    ``data`` = (x_fit, y_fit, x_val, y_val); ``o`` the options (epochs, batch_size, lr,
    lr_schedule and its step, patience, model_selection). After each epoch the validation loss is
    measured; with ``best`` the parameters with the lowest so far are kept and training stops
    after ``o.patience`` epochs without improvement (0 = never); with ``last`` the parameters
    after the last epoch are returned (Dettmers & Zettlemoyer's code tests that model).
    ``after_epoch(e)`` runs after every epoch but the last (sparse momentum's prune/regrow).
    Returns (kept Params, its validation accuracy).
    """
    x, y, xv, yv = data
    epochs = o.epochs if epochs is None else epochs
    per_epoch = batches_per_epoch(len(y), o.batch_size)
    best, best_loss, best_acc, stale = p.copy(), np.inf, 0.0, 0
    for e in range(epochs):
        def lr(k, e=e):
            return learning_rate(e, epochs, o.lr, o.lr_schedule, e * per_epoch + k,
                                 o.lr_step_iterations, o.lr_gamma)
        loss = run_epoch(p, opt, x, y, o.batch_size, lr, rng)
        val_loss = p.loss(xv, yv)
        bar.update()
        bar.set_postfix(loss=f"{loss:.4f}", val_loss=f"{val_loss:.4f}")
        if o.model_selection == "best" and val_loss < best_loss:
            best, best_loss, best_acc, stale = p.copy(), val_loss, p.accuracy(xv, yv), 0
        elif o.model_selection == "best":
            stale += 1
            if o.patience and stale >= o.patience:
                break
        if after_epoch is not None and e < epochs - 1:
            after_epoch(e)
    if o.model_selection == "last":
        return p, p.accuracy(xv, yv)
    return best, best_acc


def progress_bar(total, desc, enabled):
    """A tqdm bar on stderr (disabled, with the same methods, when quiet)."""
    return tqdm(total=total, desc=desc, leave=False, unit="epoch", disable=not enabled)
