"""Accuracy against density: sparse momentum at several densities and dense, over seeds, beside
the published figures (``neurosim train --study density``).

Every run uses the protocol ``dettmers2019`` (``neurosim.training.PROTOCOLS``): sparse momentum at
each density, and dense (density 1) with the same optimiser, schedule and hold-out, as the paper's
dense baseline. Test accuracy is that of the model after the last epoch, as in the paper's code.

Published figures (``PUBLISHED``): Dettmers & Zettlemoyer 2019, arXiv 1907.04840, MNIST,
LeNet-300-100; from their results file ``results/MNIST_sparse_summary.csv`` (TimDettmers/
sparse_learning @ e19ff16), columns "Full Dense" and "Sparse Momentum" with their standard
errors, at sparsity 0.99/0.98/0.95/0.90 (density 1/2/5/10 %). They are MNIST figures; ours are
on the dataset asked for (Fashion-MNIST by default), so the comparison is of the gap to dense,
not of the accuracies themselves.

Files written to ``out_dir`` (each atomically, through ``neurosim.fileio``):
``runs.json`` (one record per run, rewritten after every run; a later call with the same
dataset, hidden sizes and epochs skips the runs it already holds), ``density.csv`` and
``density.json`` (the table) and ``density.png`` (the plot).
"""
from __future__ import annotations

import csv
import io
import json
import os

import numpy as np

from neurosim.errors import ValidationError
from neurosim.fileio import atomic_write, check_output_dir, write_text
from neurosim.training import default_options
from neurosim.training import run as train_run

DENSITIES = (0.01, 0.02, 0.05, 0.1)
SEEDS = (0, 1, 2)
# density -> (test accuracy %, standard error in points); 1.0 is the dense network.
PUBLISHED = {1.0: (98.69, 0.011), 0.1: (98.67, 0.026), 0.05: (98.53, 0.033),
             0.02: (98.20, 0.018), 0.01: (97.53, 0.047)}
PUBLISHED_SOURCE = ("Dettmers & Zettlemoyer 2019 (arXiv 1907.04840), MNIST LeNet-300-100, "
                    "TimDettmers/sparse_learning results/MNIST_sparse_summary.csv")


def parse_list(text, flag, kind):
    """'0,1,2' → [0, 1, 2] (``kind`` int or float); one-line error naming ``flag``."""
    try:
        values = [kind(t) for t in str(text).split(",") if t.strip()]
    except ValueError:
        values = []
    if not values:
        example = "0,1,2" if kind is int else "0.01,0.05"
        raise ValidationError(f"{flag}: {text!r}, expected comma-separated numbers such as "
                              f"{example}")
    return values


def check_study_arguments(densities, seeds, epochs):
    """One-line errors for densities outside (0, 1), negative seeds, epochs < 1."""
    if not densities or any(not 0 < d < 1 for d in densities):
        raise ValidationError(f"argument 'densities' is {list(densities)!r}; expected values "
                              "in (0, 1)", param="densities")
    if not seeds or any(int(s) != s or s < 0 for s in seeds):
        raise ValidationError(f"argument 'seeds' is {list(seeds)!r}; expected integers ≥ 0",
                              param="seeds")
    if int(epochs) != epochs or epochs < 1:
        raise ValidationError(f"argument 'epochs' is {epochs!r}; expected an integer ≥ 1",
                              param="epochs")


def run_one(dataset, hidden, density, seed, epochs, data_dir):
    """Train one network under ``dettmers2019``; returns its record for ``runs.json``."""
    method = "dense" if density == 1.0 else "sparse-momentum"
    fields = {"seed": int(seed), "epochs": int(epochs)}
    if method != "dense":
        fields["density"] = float(density)
    options = default_options(method, "dettmers2019", **fields)
    mlp, summary = train_run(dataset, method, list(hidden), options, data_dir=data_dir)
    return {"dataset": dataset, "hidden": list(hidden), "epochs": int(epochs),
            "density": float(density), "seed": int(seed), "method": method,
            "test_accuracy": summary["test_accuracy"],
            "validation_accuracy": mlp.provenance["validation_accuracy"],
            "params": summary["params"], "seconds": summary["seconds"],
            "cpu_seconds": summary["cpu_seconds"]}


def load_runs(path, dataset, hidden, epochs):
    """The records of ``runs.json`` made with this dataset, hidden sizes and epochs ([] if none)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        runs = json.load(f)
    return [r for r in runs if (r["dataset"], r["hidden"], r["epochs"])
            == (dataset, list(hidden), int(epochs))]


def summarise(runs, densities):
    """One table row per density (dense first): mean, standard deviation and per-seed test
    accuracy in %, the gap to dense, and the published accuracy and gap beside them."""
    dense = [r["test_accuracy"] for r in runs if r["density"] == 1.0]
    dense_mean = 100 * float(np.mean(dense)) if dense else float("nan")
    rows = []
    for d in (1.0, *sorted(densities, reverse=True)):
        acc = [100 * r["test_accuracy"] for r in sorted(runs, key=lambda r: r["seed"])
               if r["density"] == d]
        secs = [r["seconds"] for r in runs if r["density"] == d]
        cpu = [r.get("cpu_seconds", float("nan")) for r in runs if r["density"] == d]
        published = PUBLISHED.get(d, (float("nan"), float("nan")))
        rows.append({
            "density": d, "seeds": len(acc),
            "test_accuracy_mean": float(np.mean(acc)) if acc else float("nan"),
            "test_accuracy_std": float(np.std(acc, ddof=1)) if len(acc) > 1 else float("nan"),
            "test_accuracy_per_seed": " ".join(f"{a:.2f}" for a in acc),
            "gap_to_dense": dense_mean - float(np.mean(acc)) if acc else float("nan"),
            "params": int(np.mean([r["params"] for r in runs if r["density"] == d])) if acc else 0,
            "seconds_mean": float(np.mean(secs)) if secs else float("nan"),
            "cpu_seconds_mean": float(np.mean(cpu)) if cpu else float("nan"),
            "published_accuracy": published[0], "published_se": published[1],
            "published_gap_to_dense": PUBLISHED[1.0][0] - published[0]})
    return [{k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}
            for row in rows]


def table_csv(rows):
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


def write_plot(path, rows, dataset):
    """Gap to dense against density, ours (mean ± std over seeds) and the paper's."""
    # Local for start-up time: `neurosim train` imports this module, and matplotlib.pyplot takes
    # about 1.7 s to import (python -X importtime, loaded 2-core machine); only the study draws.
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sparse = [r for r in rows if r["density"] < 1]
    x = [100 * r["density"] for r in sparse]
    fig, ax = plt.subplots(figsize=(6, 4))
    try:
        ax.errorbar(x, [r["gap_to_dense"] for r in sparse],
                    yerr=[r["test_accuracy_std"] for r in sparse], fmt="o-", capsize=3,
                    label=f"ours: {dataset}, LeNet-300-100 (mean ± sd over seeds)")
        ax.errorbar(x, [r["published_gap_to_dense"] for r in sparse],
                    yerr=[r["published_se"] for r in sparse], fmt="s--", capsize=3,
                    label="Dettmers & Zettlemoyer 2019: MNIST (± s.e.)")
        ax.set(xscale="log", xlabel="density (% of weights)",
               ylabel="test accuracy below dense (points)",
               title="Sparse momentum: accuracy lost against density")
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.minorticks_off()  # only the studied densities are labelled on the log axis
        ax.legend(fontsize=7)
        fig.tight_layout()
        with atomic_write(path, "wb", suffix=".png") as (f, _):
            fig.savefig(f, format="png", dpi=110)
    finally:
        plt.close(fig)


def density_study(dataset="fashion-mnist", densities=DENSITIES, seeds=SEEDS,
                  out_dir="density_study", epochs=100, hidden=(300, 100), data_dir=None,
                  log=None):
    """Train dense and sparse momentum at ``densities`` for every seed; write the table and the
    plot (module docstring). ``log(text)`` is told of every finished run. Returns
    {"rows": table, "runs": records, "files": paths written}."""
    check_study_arguments(densities, seeds, epochs)
    check_output_dir(out_dir, param="out_dir")
    os.makedirs(out_dir, exist_ok=True)
    runs_path = os.path.join(out_dir, "runs.json")
    runs = load_runs(runs_path, dataset, hidden, epochs)
    done = {(r["density"], r["seed"]) for r in runs}
    for density in (1.0, *densities):
        for seed in seeds:
            if (float(density), int(seed)) in done:
                continue
            runs.append(run_one(dataset, hidden, float(density), seed, epochs, data_dir))
            write_text(runs_path, json.dumps(runs, indent=1))
            if log is not None:
                r = runs[-1]
                log(f"density {r['density']:g} seed {r['seed']}: test "
                    f"{100 * r['test_accuracy']:.2f} %, {r['params']} weights, "
                    f"{r['seconds']:.0f} s")
    files = write_report(out_dir, runs, densities, dataset, hidden, epochs)
    return {"rows": summarise(runs, densities), "runs": runs, "files": [runs_path, *files]}


def write_report(out_dir, runs, densities, dataset, hidden, epochs):
    """Write ``density.csv``, ``density.json`` and ``density.png`` for the records ``runs``
    (every run done, or some: a density without runs gets an empty row); returns the paths."""
    rows = summarise(runs, densities)
    files = {name: os.path.join(out_dir, name)
             for name in ("density.csv", "density.json", "density.png")}
    write_text(files["density.csv"], table_csv(rows))
    write_text(files["density.json"], json.dumps(
        {"dataset": dataset, "hidden": list(hidden), "epochs": epochs, "published": PUBLISHED_SOURCE,
         "rows": rows, "runs": runs}, indent=1))
    write_plot(files["density.png"], rows, dataset)
    return list(files.values())
