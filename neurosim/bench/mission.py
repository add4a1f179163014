"""``neurosim bench mission``: how missions scale with the workers, the network and the mode.

Three sections, all on the scenario ``leo_10y`` with 500 evaluation inputs:

1. **workers**: the shipped 3-core digits network, rate mode, 1,000 runs (``--quick``: 100) on 1
   worker and on all workers: checkpoint evaluations per second and the scaling;
2. **networks**: rate mode on all workers on the 3-core network, a ≥ 80-core 784-300-100-10
   network (Fashion-MNIST trained for one epoch when the data is found, else a random MLP of the
   same shape on random 784-pixel inputs: the output says which) and, without ``--quick``, a
   ≥ 1,000-core widened 784-1600-1600-10 random MLP: seconds, seconds per run, the extrapolated
   time of 1,000 runs and the growth factor of the time per run against the 3-core network;
3. **spiking**: the digits network in spiking mode, a few runs evaluated as before this
   benchmark's issue (one ``simulate`` of the whole evaluation set per changed checkpoint) and
   by the mission (:mod:`neurosim.mission.spiking`), on one process: seconds and the speed-up.

The wider networks are compiled without placement annealing (``anneal = false``, 200
calibration samples): placement changes the hop counts, not the evaluation's cost. Outputs go to
a temporary directory.
"""
import os
import tempfile
import time

import numpy as np

from neurosim import data, resources
from neurosim.api import train
from neurosim.chip.faults import apply
from neurosim.errors import NeurosimError
from neurosim.fileio import save_npz
from neurosim.mission import scenario as scn
from neurosim.mission.evaluate import run_batch, unchanged
from neurosim.mission.prepare import prepare
from neurosim.mission.runner import run_mission
from neurosim.mlp import MLP, Layer
from neurosim.radiation.timeline import sample
from neurosim.sim import simulate

EVAL_INPUTS = 500
FAST_COMPILE = {"anneal": False, "calibration_samples": 200}
# (runs, runs with --quick) per network of the networks section; None: skipped
NETWORK_RUNS = {"digits": (1000, 100), "fashion": (100, 10), "wide": (10, None)}
SPIKING_RUNS = (10, 2)
# Below this many runs the measured seconds are dominated by starting the workers and preparing
# the evaluator in each (a few seconds per worker: on the 85-core network 10 runs take ≈ 1 s per
# run, the whole 1,000 ≈ 0.39 s per run), so the extrapolation to 1,000 runs is an upper bound.
FEW_RUNS = 100
WIDE_SIZES = [784, 1600, 1600, 10]
FASHION_SIZES = [784, 300, 100, 10]


def bench_mission(quick=False, verbose=True, scenario=None):
    """``neurosim bench mission`` (module docstring); returns the dict ``--json`` prints."""
    path = resources.resolve(scenario or scn.DEFAULT_SCENARIO, "scenarios")
    with tempfile.TemporaryDirectory() as tmp:
        out = workers_section(path, tmp, quick, verbose)
        out["networks"] = networks_section(path, tmp, quick, verbose, out)
        out["spiking"] = spiking_section(path, quick, verbose)
    return out


def _scenario(path, runs, mode="rate", **run):
    """The scenario at ``path`` with ``runs`` runs, 500 evaluation inputs, ``mode`` and other
    [run] keys."""
    sc = scn.load(path, {"run.runs": runs})
    values = dict(sc.values)
    values["run"] = dict(values["run"], eval_inputs=EVAL_INPUTS, mode=mode, **run)
    return scn.Scenario(sc.path, values, sc.sources)


def _compute_seconds(summary):
    """Seconds spent evaluating runs (compiling and writing excluded)."""
    return summary["checkpoint_evaluations"] / summary["checkpoint_evals_per_s"]


def workers_section(path, tmp, quick, verbose):
    """Section 1: the 3-core network on 1 worker and on all workers."""
    sc = _scenario(path, 100 if quick else 1000)
    cores = os.cpu_count() or 1
    results = {}
    for w in sorted({1, cores}):
        s = run_mission(sc, out_dir=os.path.join(tmp, f"w{w}"), executor="local", workers=w,
                        progress=verbose)
        results[w] = s
        if verbose:
            print(f"workers {w}: {s['seconds']:.1f} s total, "
                  f"{s['checkpoint_evals_per_s']:.0f} checkpoint evaluations/s "
                  f"({s['evaluations_computed']} of {s['checkpoint_evaluations']} computed)")
    one, many = results[1], results[max(results)]
    out = {"scenario": sc.name, "runs": one["runs"], "checkpoints": one["checkpoints"],
           "eval_inputs": one["eval_inputs"], "workers": max(results),
           "seconds": many["seconds"], "seconds_1_worker": one["seconds"],
           "checkpoint_evals_per_s": many["checkpoint_evals_per_s"],
           "checkpoint_evals_per_s_1_worker": one["checkpoint_evals_per_s"],
           "evaluations_computed": many["evaluations_computed"],
           "compute_seconds": _compute_seconds(many),
           "scaling_1_to_n": (many["checkpoint_evals_per_s"] / one["checkpoint_evals_per_s"])
           if one["checkpoint_evals_per_s"] else None,
           "identical_results": one["final_accuracy_p50"] == many["final_accuracy_p50"]
           and one["upsets_total_mean"] == many["upsets_total_mean"],
           "load_average": os.getloadavg()[0]}
    if verbose:
        print(f"scaling 1 -> {max(results)} workers: {out['scaling_1_to_n']:.2f}x "
              f"(load average {out['load_average']:.1f})")
    return out


def random_mlp(sizes, dataset, seed=0):
    """A ReLU MLP of ``sizes`` with He-initialised Gaussian weights, zero biases; its provenance
    names ``dataset`` (the mission's evaluation inputs)."""
    rng = np.random.default_rng(seed)
    layers = [Layer(rng.normal(scale=np.sqrt(2.0 / a), size=(a, b)), np.zeros(b),
                    np.ones((a, b), bool)) for a, b in zip(sizes[:-1], sizes[1:])]
    return MLP(layers, activation="relu", provenance={"dataset": dataset})


def random_pixels_dataset(path, n_in, seed=0):
    """A .npz dataset of uniform random inputs in [0, 1] (labels 0..9) at ``path``."""
    rng = np.random.default_rng(seed)
    x = rng.random((2 * EVAL_INPUTS, n_in)).astype(np.float32)
    y = rng.integers(0, 10, 2 * EVAL_INPUTS)
    save_npz(path, x_train=x[:EVAL_INPUTS], y_train=y[:EVAL_INPUTS], x_test=x[EVAL_INPUTS:],
             y_test=y[EVAL_INPUTS:])
    return path


def fashion_network(tmp):
    """(model path, dataset, description) of the ≥ 80-core network: Fashion-MNIST trained for
    one epoch when its files are found, else a random 784-300-100-10 MLP on random inputs."""
    path = os.path.join(tmp, "fashion.npz")
    try:
        data.load("fashion-mnist")
    except NeurosimError:
        dataset = random_pixels_dataset(os.path.join(tmp, "pixels.npz"), FASHION_SIZES[0])
        random_mlp(FASHION_SIZES, dataset).save(path)
        return path, dataset, "random 784-300-100-10 MLP (no Fashion-MNIST files found)"
    train("fashion-mnist", hidden=FASHION_SIZES[1:-1], epochs=1).save(path)
    return path, "fashion-mnist", "784-300-100-10 trained on Fashion-MNIST for 1 epoch"


def wide_network(tmp, dataset):
    """(model path, dataset, description) of the ≥ 1,000-core widened random MLP."""
    path = os.path.join(tmp, "wide.npz")
    random_mlp(WIDE_SIZES, dataset).save(path)
    return path, dataset, "random " + "-".join(map(str, WIDE_SIZES)) + " MLP"


def networks_section(path, tmp, quick, verbose, workers):
    """Section 2: rate-mode missions on networks of growing size, all workers."""
    rows = []
    fashion = fashion_network(tmp)
    dataset = fashion[1]
    nets = [("digits", None), ("fashion", fashion),
            ("wide", None if quick else wide_network(tmp, dataset))]
    base = None
    for name, net in nets:
        runs = NETWORK_RUNS[name][1 if quick else 0]
        if runs is None or (name == "wide" and net is None):
            continue
        if name == "digits":
            s, desc = None, "shipped 3-core digits network (section workers)"
            seconds, cores, n_runs = workers["compute_seconds"], 3, workers["runs"]
        else:
            sc = _scenario(path, runs, model=net[0], dataset=net[1], compile=FAST_COMPILE)
            s = run_mission(sc, out_dir=os.path.join(tmp, name), executor="local",
                            progress=verbose)
            seconds, cores, n_runs, desc = _compute_seconds(s), s["cores"], runs, net[2]
        per_run = seconds / n_runs
        base = base or per_run
        row = {"network": name, "description": desc, "cores": cores, "runs": n_runs,
               "seconds": seconds, "seconds_per_run": per_run,
               "seconds_1000_runs": 1000 * per_run, "growth_vs_3_core": per_run / base,
               "extrapolation_is_upper_bound": n_runs < FEW_RUNS,
               "load_average": os.getloadavg()[0]}
        rows.append(row)
        if verbose:
            bound = " (an upper bound: few runs carry the workers' start-up)" \
                if n_runs < FEW_RUNS else ""
            print(f"{name}: {desc}, {cores} cores: {n_runs} runs in {seconds:.1f} s, "
                  f"{per_run:.3f} s/run, 1,000 runs ≈ {1000 * per_run / 60:.1f} min{bound}, "
                  f"{per_run / base:.1f}x the 3-core network (load average "
                  f"{row['load_average']:.1f})")
    return rows


def spiking_section(path, quick, verbose):
    """Section 3: spiking mode on the digits network, before (one simulate per changed
    checkpoint) and now (the mission's evaluator), the same runs, one process."""
    runs = SPIKING_RUNS[1 if quick else 0]
    model = prepare(_scenario(path, runs, mode="spiking"))
    t0 = time.perf_counter()
    before, calls = _spiking_before(model, runs)
    t1 = time.perf_counter()
    now = run_batch(0, runs, model)
    t2 = time.perf_counter()
    same = bool(np.array_equal(before.astype(now["accuracy"].dtype), now["accuracy"]))
    out = {"runs": runs, "seconds_before": t1 - t0, "seconds": t2 - t1,
           "speedup": (t1 - t0) / (t2 - t1), "simulate_calls_before": calls,
           "identical_accuracy": same, "load_average": os.getloadavg()[0]}
    if verbose:
        print(f"spiking, digits, {runs} runs: before {out['seconds_before']:.1f} s, now "
              f"{out['seconds']:.1f} s ({out['speedup']:.1f}x; accuracies identical: {same}; "
              f"load average {out['load_average']:.1f})")
    return out


def _spiking_before(model, runs):
    """((runs, K) accuracies, simulate calls) the way spiking missions were evaluated before:
    ``simulate`` of the faulty program on every input at every checkpoint whose FaultState
    changed."""
    v, ticks = model.values, model.values["run"]["ticks"]
    acc = np.zeros((runs, len(model.times_days)))
    calls = 0
    for r in range(runs):
        rng = np.random.default_rng(np.random.SeedSequence(v["run"]["seed"], spawn_key=(r,)))
        tl = sample(v, model.layout, model.times_days, rng)
        for k in range(len(model.times_days)):
            if unchanged(tl, k):
                acc[r, k] = acc[r, k - 1]
                continue
            prog = apply(model.program, tl.faults[k])
            if not np.array_equal(tl.core_xy[k], model.layout.core_xy):
                prog = prog.replace(core_xy=np.asarray(tl.core_xy[k], np.int32))
            res = simulate(prog, model.x, ticks=ticks, mode="spiking")
            calls += 1
            acc[r, k] = np.mean(np.argmax(res.rates, axis=1) == model.y)
    return acc, calls
