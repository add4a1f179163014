"""``neurosim bench mission``: checkpoint evaluations per second on 1 worker and on all workers."""
import os
import tempfile

from neurosim import resources
from neurosim.mission import scenario as scn
from neurosim.mission.runner import run_mission


def bench_mission(quick=False, verbose=True, scenario=None):
    """``neurosim bench mission``: leo_10y with 1,000 runs (quick: 100), 500 evaluation inputs,
    rate mode, on 1 worker and on all workers; reports checkpoint evaluations per second and the
    scaling. Outputs go to a temporary directory."""
    path = resources.resolve(scenario or scn.DEFAULT_SCENARIO, "scenarios")
    sc = scn.load(path, {"run.runs": 100 if quick else 1000})
    values = dict(sc.values)
    values["run"] = dict(values["run"], eval_inputs=500, mode="rate")
    sc = scn.Scenario(sc.path, values, sc.sources)
    cores = os.cpu_count() or 1
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
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
           "scaling_1_to_n": (many["checkpoint_evals_per_s"] / one["checkpoint_evals_per_s"])
           if one["checkpoint_evals_per_s"] else None,
           "identical_results": one["final_accuracy_p50"] == many["final_accuracy_p50"]
           and one["upsets_total_mean"] == many["upsets_total_mean"]}
    if verbose:
        print(f"scaling 1 -> {max(results)} workers: {out['scaling_1_to_n']:.2f}x")
    return out
