"""Sparse momentum [dettmers2019].

Every layer starts at the same density d (random connections, fan-in capped). After each epoch
e = 0..E−2 (0-based; none after the last) with prune rate r_e:

* ``prune_schedule = "epoch"`` (this package's first version): r_e = r_0·½(1 + cos(π e / E));
* ``"iteration"`` (the paper's code, TimDettmers/sparse_learning @ e19ff16,
  sparselearning/core.py ``CosineDecay``: PyTorch's CosineAnnealingLR stepped every minibatch
  over T = E·(minibatches per epoch) with η_min = ``prune_rate_min`` = 0.005): after epoch e,
  t/T = (e + 1)/E, so r_e = r_min + (r_0 − r_min)·½(1 + cos(π (e + 1)/E));

and then:

1. score each layer by the mean |momentum| of its active weights, c_l = mean_{M_l} |v_l|,
   normalised so Σ_l c_l = 1 (the paper's eq. 1-2; core.py ``gather_statistics``);
2. prune, in each layer, the k_l = round(r_e·n_l) active weights of smallest |w| (n_l active
   weights). With ``published`` rules (the protocol ``dettmers2019``) as in the code
   (funcs.py ``magnitude_prune``, core.py ``adjust_prune_rate``): k_l = ⌈r_l·n_l⌉, where a layer
   that is more than 80 % dense and whose score exceeds 1/L (L layers) is pruned at
   r_l = min(r_e, its sparsity) instead of r_e;
3. regrow the removed total P = Σ_l round(r_e·n_l) across layers in proportion to c_l
   (largest-remainder rounding; a layer with no room passes its share on to the others, by score);
4. inside layer l, regrow at the missing positions with the largest |momentum| (greedy, never
   exceeding ``max_fan_in`` inputs per neuron); new weights start at 0.

The total number of connections stays exactly Σ_l round(d·n_in_l·n_out_l). (The code instead
regrows ⌈c_l·(P + a)⌉ with a feedback term a that corrects the rounding drift, caps a layer at 99 %
of its free positions and spreads the excess equally over the layers; here the total is exact by
construction and the excess goes to the other layers by score.)
The momentum is the optimiser's first-moment buffer over all positions (``common``).
"""
import math

import numpy as np

from neurosim.training.common import (Optimizer, capped_top_k, drop_smallest, fan_in_capacity, fit,
                                   init_params)


def prune_rate(epoch, epochs, r0, r_min=0.0, schedule="epoch"):
    """r_e after epoch e (0-based): module docstring."""
    if schedule == "iteration":
        return r_min + (r0 - r_min) * 0.5 * (1 + math.cos(math.pi * (epoch + 1) / epochs))
    return r0 * 0.5 * (1 + math.cos(math.pi * epoch / epochs))


def layer_prune_counts(p, scores, rate, published):
    """k_l of step 2 (module docstring)."""
    counts = []
    for l, m in enumerate(p.M):
        n = int(m.sum())
        if not published:
            counts.append(int(round(rate * n)))
            continue
        sparsity = 1 - n / m.size
        r = min(rate, sparsity) if sparsity < 0.2 and scores[l] > 1 / len(p.M) else rate
        counts.append(min(math.ceil(r * n), n))
    return counts


def allocate(scores, total, room):
    """Split the integer ``total`` over layers ∝ ``scores`` (largest remainder), at most room[l]
    each; the share a full layer cannot take goes to the others in proportion to their scores."""
    scores = np.asarray(scores, dtype=np.float64)
    room = np.asarray(room, dtype=np.int64)
    alloc = np.zeros(len(scores), dtype=np.int64)
    left = int(total)
    while left > 0:
        open_ = (alloc < room)
        if not open_.any():
            break
        s = np.where(open_, scores, 0.0)
        s = s / s.sum() if s.sum() > 0 else open_ / open_.sum()
        share = s * left
        base = np.floor(share).astype(np.int64)
        rest = left - base.sum()
        order = np.argsort(-(share - base), kind="stable")
        base[order[:rest]] += 1
        add = np.minimum(base, room - alloc)
        alloc += add
        left -= int(add.sum())
    return alloc


def prune_regrow(p, opt, rate, max_fan_in, published=False):
    """One prune/redistribute/regrow step (module docstring, steps 1-4); returns regrown counts."""
    mom = [np.abs(opt.momentum_of(l)) for l in range(p.n_layers)]
    scores = np.array([mom[l][p.M[l]].mean() if p.M[l].any() else 0.0
                       for l in range(p.n_layers)])
    scores = scores / scores.sum() if scores.sum() > 0 else np.full(p.n_layers, 1 / p.n_layers)
    pruned = 0
    for l, k in enumerate(layer_prune_counts(p, scores, rate, published)):
        if k:
            drop_smallest(p, l, k)
            pruned += k
    p.apply_masks()
    room = [int(np.minimum(fan_in_capacity(m, max_fan_in), (~m).sum(axis=0)).sum()) for m in p.M]
    counts = allocate(scores, pruned, room)
    for l in range(p.n_layers):
        if counts[l]:
            score = np.where(p.M[l], -np.inf, mom[l])
            new = capped_top_k(score, int(counts[l]), fan_in_capacity(p.M[l], max_fan_in))
            p.M[l] |= new
            p.W[l][new] = 0
    return counts


def train(data, sizes, o, rng, bar):
    """Return (Params, best validation accuracy)."""
    p = init_params(sizes, o.activation, o.steepness, rng, [o.density] * (len(sizes) - 1),
                    o.max_fan_in)
    opt = Optimizer(o.optimizer, o.momentum, o.weight_decay)

    published = o.protocol == "dettmers2019"

    def after_epoch(e):
        rate = prune_rate(e, o.epochs, o.prune_rate, o.prune_rate_min, o.prune_schedule)
        prune_regrow(p, opt, rate, o.max_fan_in, published)

    return fit(p, opt, data, o, rng, bar, after_epoch=after_epoch)
