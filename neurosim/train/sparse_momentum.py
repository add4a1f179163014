"""Sparse momentum (Dettmers & Zettlemoyer 2019, arXiv 1907.04840; REFERENCES.md §5).

Every layer starts at the same density d (random connections, fan-in capped). After each epoch
e but the last, with prune rate r_e = r_0·½(1 + cos(π e / E)) (r_0 = 0.5):

1. score each layer by the mean |momentum| of its active weights, c_l = mean_{M_l} |v_l|,
   normalised so Σ_l c_l = 1;
2. prune, in each layer, the round(r_e·n_l) active weights of smallest |w| (n_l active weights);
3. regrow the removed total P = Σ_l round(r_e·n_l) across layers in proportion to c_l
   (largest-remainder rounding; a layer with no room passes its share on to the others, by score);
4. inside layer l, regrow at the missing positions with the largest |momentum| (greedy, never
   exceeding ``max_fan_in`` inputs per neuron); new weights start at 0.

The total number of connections stays exactly Σ_l round(d·n_in_l·n_out_l).
The momentum is the optimiser's first-moment buffer over all positions (``common``).
"""
import math

import numpy as np

from neurosim.train.common import (Optimizer, capped_top_k, drop_smallest, fan_in_capacity, fit,
                                   init_params)


def prune_rate(epoch, epochs, r0):
    """r_e = r0·½(1 + cos(π e / E))."""
    return r0 * 0.5 * (1 + math.cos(math.pi * epoch / epochs))


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


def prune_regrow(p, opt, rate, max_fan_in):
    """One prune/redistribute/regrow step (module docstring, steps 1-4); returns regrown counts."""
    mom = [np.abs(opt.momentum_of(l)) for l in range(p.n_layers)]
    scores = np.array([mom[l][p.M[l]].mean() if p.M[l].any() else 0.0
                       for l in range(p.n_layers)])
    scores = scores / scores.sum() if scores.sum() > 0 else np.full(p.n_layers, 1 / p.n_layers)
    pruned = 0
    for l in range(p.n_layers):
        k = int(round(rate * p.M[l].sum()))
        if k == 0:
            continue
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

    def after_epoch(e):
        prune_regrow(p, opt, prune_rate(e, o.epochs, o.prune_rate), o.max_fan_in)

    return fit(p, opt, data, o, rng, bar, after_epoch=after_epoch)
