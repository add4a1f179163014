"""The bounds benchmark behind ``neurosim bench bounds`` (the ``neurosim bound`` command is in
:mod:`neurosim.cli.bound`).

Kept apart from the library (:mod:`neurosim.bounds.theory`, ``observed``, ``chip``, ``report``):
nothing in the library imports it.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from neurosim import data, resources, simulate
from neurosim.bounds.chip import chip_model
from neurosim.bounds.observed import omega
from neurosim.bounds.theory import NetworkConstants, erf, unit_bounds
from neurosim.chip.faults import FaultState
from neurosim.chip.profile import get_profile
from neurosim.chip.synthetic import full_chip_program
from neurosim.compiler import compile as compile_mlp
from neurosim.mlp import MLP, Layer


def bench_bounds(quick=False, verbose=True) -> dict:
    """`neurosim bench bounds`: the bounds' cost where it matters.

    1. Chip-level Erf/Fep of a full 4,096-core program (a feed-forward variant of
       :func:`neurosim.chip.synthetic.full_chip_program`: each core routes to the core below it,
       64 levels of 64 cores; ``quick``: a 16 × 16 grid): the model's one-off build, then per
       checkpoint the dead counts per level from a FaultState and Erf + Fep (target < 10 ms).
    2. Per-checkpoint share on the shipped digits model: counts + bounds against one rate-mode
       evaluation of the test set with dead neurons (``simulate``; target < 5 %).
    3. The MLP-unit Erf of a 4,096-core-sized network given its constants (4 hidden layers of
       262,144 neurons), and Omega throughput on a 4-16-16-16-1 sigmoid network.
    """
    out = _bench_chip_model(quick)
    out.update(_bench_checkpoint_share(quick))
    out.update(_bench_unit_view(quick))
    if verbose:
        print(f"chip-level model of a {out['chip_cores']:,}-core program ({out['chip_nodes']:,} "
              f"chip neurons, {out['chip_levels']} levels): built in "
              f"{out['chip_model_build_seconds']:.2f} s (once per program)")
        print(f"  per checkpoint: dead counts {out['chip_dead_counts_seconds'] * 1e3:.2f} ms + "
              f"Erf and Fep {out['chip_bounds_seconds'] * 1e3:.2f} ms = "
              f"{out['chip_checkpoint_seconds'] * 1e3:.2f} ms (target < 10 ms)")
        print(f"digits model, per checkpoint: bounds {out['checkpoint_bound_seconds'] * 1e3:.3f} ms "
              f"against a rate-mode evaluation of {out['checkpoint_eval_seconds'] * 1e3:.2f} ms "
              f"= {100 * out['checkpoint_bound_share']:.2f} % (target < 5 %)")
        print(f"MLP-unit Erf, 4,096-core-sized network ({out['chip_network_neurons']:,} neurons): "
              f"{out['erf_chip_network_seconds'] * 1e6:.1f} µs")
        print(f"Omega: {out['omega_evaluations']:,} subset×input evaluations in "
              f"{out['omega_seconds']:.3f} s = {out['omega_evaluations_per_second']:,.0f} /s "
              f"({out['omega_network']})")
    return out


def feed_forward_full_chip(grid=None):
    """:func:`full_chip_program` on every core (``grid`` rows × cols, default the profile's) with
    each core routing to the core below it (the last row routes nowhere; 10 of its neurons are the
    outputs): a feed-forward program as large as the chip."""
    profile = get_profile("truenorth")
    if grid is not None:
        profile = dataclasses.replace(profile, grid_rows=grid, grid_cols=grid)
    prog = full_chip_program(profile)
    cols = profile.grid_cols
    cores = np.arange(prog.n_cores)
    below = np.where(cores // cols < profile.grid_rows - 1, cores + cols, -1)
    last = int(cores[-1])
    return prog.replace(dest_core=np.repeat(below[:, None], prog.n_neurons, 1).astype(np.int32),
                        output_core=np.full(10, last, np.int32),
                        output_neuron=np.arange(10, dtype=np.int32))


def _best_of(fn, reps):
    """Smallest mean time per call of ``fn`` over 3 rounds of ``reps`` calls."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def _bench_chip_model(quick):
    prog = feed_forward_full_chip(16 if quick else None)
    t0 = time.perf_counter()
    model = chip_model(prog)
    build = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    faults = FaultState(dead_neurons=np.argwhere(rng.random(prog.enabled.shape) < 1e-4),
                        dead_cores=rng.choice(prog.n_cores, 2, replace=False))
    counts = model.dead_counts(faults)
    t_counts = _best_of(lambda: model.dead_counts(faults), 20)
    t_bounds = _best_of(lambda: model.bounds(counts), 200)
    erf_value, fep_value = model.bounds(counts)
    return {"chip_cores": prog.n_cores, "chip_nodes": int(model.level_sizes.sum()),
            "chip_levels": len(model.level_sizes), "chip_model_build_seconds": build,
            "chip_dead_counts_seconds": t_counts, "chip_bounds_seconds": t_bounds,
            "chip_checkpoint_seconds": t_counts + t_bounds,
            "chip_checkpoint_under_10ms": t_counts + t_bounds < 1e-2,
            "chip_dead": int(counts.sum()), "chip_erf": float(erf_value),
            "chip_fep": float(fep_value)}


def _bench_checkpoint_share(quick):
    mlp = MLP.load(resources.resolve("digits_dense.npz", "models"))
    prog = compile_mlp(mlp, "truenorth", anneal=False).program
    x = data.load("digits")[2][:100 if quick else None]
    model = chip_model(prog)
    faults = FaultState(dead_neurons=np.array([[0, 3], [1, 147], [2, 4]]))
    t_eval = _best_of(lambda: simulate(prog, x, mode="rate", faults=faults), 5)
    t_bound = _best_of(lambda: model.bounds(model.dead_counts(faults)), 200)
    return {"checkpoint_eval_seconds": t_eval, "checkpoint_bound_seconds": t_bound,
            "checkpoint_bound_share": t_bound / t_eval}


def _bench_unit_view(quick):
    rng = np.random.default_rng(0)
    n = 262_144
    consts = NetworkConstants((1024, n, n, n, n, 10), (1.0,) * 5, (0.004,) * 5, 1.0, 1.0)
    reps = 2_000 if quick else 20_000
    t_erf = _best_of(lambda: erf(consts, 0.01), reps)
    t_unit = _best_of(lambda: unit_bounds(consts, 0.01), reps)
    sizes = [4, 16, 16, 16, 1]
    layers = [Layer(rng.normal(size=(a, b)), np.zeros(b), np.ones((a, b), bool))
              for a, b in zip(sizes[:-1], sizes[1:])]
    mlp = MLP(layers, activation="sigmoid")
    x = rng.random((64 if quick else 256, 4))
    omega(mlp, 1, 3, x[:2])  # warm-up
    res = min((omega(mlp, 1, 3, x) for _ in range(3)), key=lambda r: r.seconds)
    return {
        "erf_chip_network_seconds": t_erf, "unit_bounds_seconds": t_unit,
        "erf_under_1ms": t_erf < 1e-3, "chip_network_neurons": 4 * n,
        "erf_value": erf(consts, 0.01), "omega_evaluations": res.evaluations,
        "omega_seconds": res.seconds,
        "omega_evaluations_per_second": res.evaluations / res.seconds,
        "omega_network": "4-16-16-16-1 sigmoid, layer 1, 3 crashes",
    }
