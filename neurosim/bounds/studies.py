"""Studies: do Fep and Erf behave as El Mhamdi, Guerraoui & Rouault (2017) claim?

``neurosim bound --study NAME [--out DIR]`` writes ``NAME.csv`` and ``NAME.png`` (matplotlib Agg)
into DIR and prints the findings; ``run()`` returns them as a dict.

random      4-4-4-4-4-1 networks (no biases, linear output, weights N(0, 1), sigmoid(z): K = 1/4,
            C = 1); every crash subset (c = 1..4) of every hidden layer over a grid of inputs in
            [0, 1]^4. Claims: Omega_max ≤ Fep always; Erf ≥ Omega_mean.
lipschitz   The same networks with sigmoid(s·z), s swept over two decades; one crash per failing
            layer. Claim: error polynomial in K with degree rising with the failing layer's
            distance from the output (Erf: degree L − l). Fitted log-log slopes at small and large s.
depth       Width 4, depth L = 1..8, sigmoid(4z) (K = 1) and sigmoid(z) (K = 1/4), one crash in
            the first hidden layer. Claim: exponential in depth (Erf: factor K w̄ N per layer).
            Fitted per-layer factor of the (geometric-mean) observed error and its log residual.
weights     4-4-4-4-4-1, sigmoid(z), one crash in layer 1, (a) every layer's weights scaled by σ;
            (b) random per-layer scales; error vs Π_{l ≥ 2} w̄^(l). Claim: proportional to the
            product of the mean |w| (Erf: slope 1 in log-log against the product).
mnist-like  A trained network (models/digits_dense.npz if present, else a small dense relu MLP
            trained here on digits; fashion-mnist too when its data are installed): Erf and E[Fep]
            vs the Monte Carlo observed mean error for crash probabilities 0.1 %…20 % in every
            hidden layer; tightness = Erf / observed.
"""
from __future__ import annotations

import csv
import io
import itertools
import math
import os
import time

import numpy as np

from neurosim import data, training as train
from neurosim.bounds import observed, theory
from neurosim.errors import InputFileError, ValidationError
from neurosim.fileio import atomic_write, check_output_dir, write_text
from neurosim.mlp import MLP, Layer

STUDIES = ("random", "lipschitz", "depth", "weights", "mnist-like")


def random_network(sizes, rng, *, scale=1.0, activation="sigmoid", steepness=1.0, scales=None):
    """No biases, Gaussian weights N(0, scale²) (per layer ``scales`` if given), linear output."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        s = scales[i] if scales is not None else scale
        layers.append(Layer(rng.normal(scale=s, size=(a, b)), np.zeros(b), np.ones((a, b), bool)))
    return MLP(layers, activation=activation, steepness=steepness)


def input_grid(n_in, points):
    """Regular grid of ``points`` values per axis in [0, 1]^n_in, shape (points^n_in, n_in)."""
    axis = np.linspace(0.0, 1.0, points)
    return np.array(list(itertools.product(axis, repeat=n_in)), dtype=np.float64)


def _unit(L, l, value):
    v = np.zeros(L)
    v[l - 1] = value
    return v


# ---------------------------------------------------------------------------- 1. random
def random_rows(n_networks=20, grid_points=5, seed=0, sizes=(4, 4, 4, 4, 4, 1)):
    """One row per (network, failing layer, crash count c ≥ 1): Omega max/mean, Fep, Erf."""
    rng = np.random.default_rng(seed)
    x = input_grid(sizes[0], grid_points)
    L = len(sizes) - 2
    rows = []
    for k in range(n_networks):
        net = random_network(sizes, rng)
        for l in range(1, L + 1):
            n = sizes[l]
            for c in range(1, n + 1):
                om = observed.omega(net, l, c, x)
                rows.append({
                    "network": k, "layer": l, "crashes": c,
                    "omega_max": om.max, "omega_mean": om.mean,
                    "fep": theory.fep(net, _unit(L, l, c)),
                    "erf": theory.erf(net, _unit(L, l, c / n)),
                    "erf_max_w": theory.erf(net, _unit(L, l, c / n), use="max"),
                })
    return rows


def study_random(quick=False, seed=0):
    rows = random_rows(n_networks=5 if quick else 30, grid_points=3 if quick else 5, seed=seed)
    om_max = np.array([r["omega_max"] for r in rows])
    om_mean = np.array([r["omega_mean"] for r in rows])
    fep = np.array([r["fep"] for r in rows])
    erf = np.array([r["erf"] for r in rows])
    findings = {
        "cases": len(rows),
        "omega_max_le_fep": int(np.sum(om_max <= fep * (1 + 1e-9))),
        "erf_ge_omega_mean": int(np.sum(erf >= om_mean)),
        "fep_over_omega_max_min": float(np.min(fep / om_max)),
        "fep_over_omega_max_median": float(np.median(fep / om_max)),
        "erf_over_omega_mean_min": float(np.min(erf / om_mean)),
        "erf_over_omega_mean_median": float(np.median(erf / om_mean)),
    }

    def plot(fig):
        ax = fig.subplots(1, 2)
        lo = min(om_mean.min(), om_max.min())
        hi = max(fep.max(), erf.max())
        ax[0].loglog(om_max, fep, ".", alpha=0.5)
        ax[0].plot([lo, hi], [lo, hi], "k--", lw=1)
        ax[0].set(xlabel="Omega_max (exhaustive)", ylabel="Fep", title="worst case: Fep ≥ Omega_max")
        ax[1].loglog(om_mean, erf, ".", alpha=0.5, color="C1")
        ax[1].plot([lo, hi], [lo, hi], "k--", lw=1)
        ax[1].set(xlabel="Omega_mean (exhaustive)", ylabel="Erf",
                  title="average: Erf ≥ Omega_mean")
    return rows, findings, plot


# ---------------------------------------------------------------------------- 2. lipschitz
def _slope(x, y):
    ok = (np.asarray(y) > 0)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(np.asarray(x)[ok]), np.log(np.asarray(y)[ok]), 1)[0])


def study_lipschitz(quick=False, seed=0):
    sizes = (4, 4, 4, 4, 4, 1)
    L = 4
    steep = np.logspace(-2, 1.5, 8 if quick else 15)
    n_net = 4 if quick else 12
    x = input_grid(4, 3 if quick else 4)
    rng = np.random.default_rng(seed)
    bases = [random_network(sizes, rng) for _ in range(n_net)]
    rows = []
    for s in steep:
        for l in range(1, L + 1):
            oms, erfs = [], []
            for net in bases:
                net_s = MLP(net.layers, activation="sigmoid", steepness=float(s))
                oms.append(observed.omega(net_s, l, 1, x).mean)
                erfs.append(theory.erf(net_s, _unit(L, l, 0.25)))
            rows.append({"steepness": float(s), "K": float(s) / 4, "layer": l,
                         "omega_mean": float(np.mean(oms)), "erf": float(np.mean(erfs))})
    findings = {}
    for l in range(1, L + 1):
        r = [row for row in rows if row["layer"] == l]
        K = np.array([row["K"] for row in r])
        om = np.array([row["omega_mean"] for row in r])
        er = np.array([row["erf"] for row in r])
        small, large = K <= 0.1, K >= 1.0
        findings[f"layer{l}_erf_degree"] = _slope(K, er)
        findings[f"layer{l}_omega_slope_small_K"] = _slope(K[small], om[small])
        findings[f"layer{l}_omega_slope_large_K"] = _slope(K[large], om[large])

    def plot(fig):
        ax = fig.subplots(1, 1)
        for l in range(1, L + 1):
            r = [row for row in rows if row["layer"] == l]
            K = [row["K"] for row in r]
            ax.loglog(K, [row["omega_mean"] for row in r], "o-", color=f"C{l}",
                      label=f"Omega_mean, fail layer {l}")
            ax.loglog(K, [row["erf"] for row in r], "--", color=f"C{l}", label=f"Erf, layer {l}")
        ax.set(xlabel="Lipschitz K of sigmoid(s z) (= s/4)", ylabel="output error",
               title="error vs K (4-4-4-4-4-1, one crash)")
        ax.legend(fontsize=7)
    return rows, findings, plot


# ---------------------------------------------------------------------------- 3. depth / weights
def study_depth(quick=False, seed=0):
    """Two regimes: sigmoid(4z) (K = 1, saturating) and sigmoid(z) (K = 1/4, near-linear)."""
    depths = list(range(1, 6 if quick else 9))
    n_net = 4 if quick else 16
    x = input_grid(4, 3)
    rng = np.random.default_rng(seed)
    rows, findings = [], {}
    for steep in (4.0, 1.0):
        for d in depths:
            sizes = (4,) + (4,) * d + (1,)
            oms, erfs = [], []
            for _ in range(n_net):
                net = random_network(sizes, rng, steepness=steep)
                oms.append(observed.omega(net, 1, 1, x).mean)
                erfs.append(theory.erf(net, _unit(d, 1, 0.25)))
            rows.append({"steepness": steep, "K": steep / 4, "depth": d,
                         "omega_mean": float(np.mean(oms)),
                         "omega_geomean": float(np.exp(np.mean(np.log(oms)))),
                         "erf": float(np.mean(erfs))})
        r = [row for row in rows if row["steepness"] == steep]
        dd = np.array(depths, dtype=float)
        om = np.array([row["omega_geomean"] for row in r])
        er = np.array([row["erf"] for row in r])
        fit = np.polyfit(dd, np.log(om), 1)
        tag = f"K{steep / 4:g}"
        findings[f"{tag}_omega_factor_per_layer"] = float(np.exp(fit[0]))
        findings[f"{tag}_omega_log_fit_rms_residual"] = float(
            np.sqrt(np.mean((np.log(om) - np.polyval(fit, dd)) ** 2)))
        findings[f"{tag}_erf_factor_per_layer"] = float(np.exp(np.polyfit(dd, np.log(er), 1)[0]))
        findings[f"{tag}_erf_ge_omega_all_depths"] = bool(np.all(
            er >= np.array([row["omega_mean"] for row in r])))
        findings[f"{tag}_erf_over_omega_at_max_depth"] = float(er[-1] / r[-1]["omega_mean"])

    def plot(fig):
        ax = fig.subplots(1, 1)
        for i, steep in enumerate((4.0, 1.0)):
            r = [row for row in rows if row["steepness"] == steep]
            ax.semilogy(depths, [row["omega_geomean"] for row in r], "o-", color=f"C{i}",
                        label=f"Omega_mean (geometric mean over nets), K = {steep / 4:g}")
            ax.semilogy(depths, [row["erf"] for row in r], "s--", color=f"C{i}",
                        label=f"Erf, K = {steep / 4:g}")
        ax.set(xlabel="hidden layers L", ylabel="output error",
               title="one crash in layer 1 vs depth (width 4, sigmoid(s z), N(0,1) weights)")
        ax.legend(fontsize=8)
    return rows, findings, plot


def study_weights(quick=False, seed=0):
    sizes = (4, 4, 4, 4, 4, 1)
    L = 4
    n_net = 4 if quick else 12
    x = input_grid(4, 3)
    rng = np.random.default_rng(seed)
    rows = []
    for sigma in np.logspace(-1, 1, 6 if quick else 11):
        oms, erfs, prods = [], [], []
        for _ in range(n_net):
            net = random_network(sizes, rng, scale=float(sigma))
            c = theory.network_constants(net)
            oms.append(observed.omega(net, 1, 1, x).mean)
            erfs.append(theory.erf(net, _unit(L, 1, 0.25)))
            prods.append(float(np.prod(c.mean_abs_w[1:])))
        rows.append({"sweep": "uniform", "sigma": float(sigma), "prod_mean_abs_w": float(np.mean(prods)),
                     "omega_mean": float(np.mean(oms)), "erf": float(np.mean(erfs))})
    for _ in range(40 if quick else 200):
        scales = np.exp(rng.uniform(np.log(0.1), np.log(1.0), size=L + 1))
        net = random_network(sizes, rng, scales=scales)
        c = theory.network_constants(net)
        rows.append({"sweep": "per-layer", "sigma": float("nan"),
                     "prod_mean_abs_w": float(np.prod(c.mean_abs_w[1:])),
                     "omega_mean": observed.omega(net, 1, 1, x).mean,
                     "erf": theory.erf(net, _unit(L, 1, 0.25))})
    uni = [r for r in rows if r["sweep"] == "uniform"]
    sig = np.array([r["sigma"] for r in uni])
    om = np.array([r["omega_mean"] for r in uni])
    per = [r for r in rows if r["sweep"] == "per-layer"]
    pp = np.array([r["prod_mean_abs_w"] for r in per])
    po = np.array([r["omega_mean"] for r in per])
    findings = {
        "erf_slope_vs_sigma": _slope(sig, [r["erf"] for r in uni]),
        "omega_slope_vs_sigma_small": _slope(sig[sig <= 0.4], om[sig <= 0.4]),
        "omega_slope_vs_sigma_large": _slope(sig[sig >= 2.5], om[sig >= 2.5]),
        "omega_slope_vs_product_per_layer": _slope(pp, po),
        "omega_vs_product_log_corr": float(np.corrcoef(np.log(pp), np.log(po))[0, 1]),
        "erf_ge_omega_per_layer_cases": int(sum(r["erf"] >= r["omega_mean"] for r in per)),
        "per_layer_cases": len(per),
    }

    def plot(fig):
        ax = fig.subplots(1, 2)
        ax[0].loglog(sig, om, "o-", label="Omega_mean")
        ax[0].loglog(sig, [r["erf"] for r in uni], "s--", label="Erf")
        ax[0].set(xlabel="weight scale σ (all layers)", ylabel="output error",
                  title="one crash in layer 1, sigmoid(z)")
        ax[0].legend()
        ax[1].loglog(pp, po, ".", label="Omega_mean")
        ax[1].loglog(pp, [r["erf"] for r in per], ".", label="Erf")
        ax[1].set(xlabel="Π_{l≥2} mean|w^(l)|", ylabel="output error",
                  title="random per-layer scales")
        ax[1].legend()
    return rows, findings, plot


# ---------------------------------------------------------------------------- 4. mnist-like
def _train_dense(x, y, hidden=(32, 32), epochs=40, seed=0):
    """Small dense relu MLP trained by :func:`neurosim.training.train` (used only when no shipped
    model fits the dataset)."""
    options = train.Options(epochs=epochs, seed=seed)
    params, _ = train.train("dense", x, y, hidden, options)
    return params.to_mlp({"trainer": "neurosim.training dense (bound study fallback)",
                          "hidden": list(hidden), "epochs": epochs, "seed": seed})


def _trained_networks(quick, seed):
    """[(label, mlp, x_test, y_test)] — shipped models if present, else trained here."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = []
    for name, model_files, hidden in (
            ("digits", ("digits_dense.npz",), (32, 32)),
            ("fashion-mnist", ("fashion_mnist_dense.npz", "fashion-mnist_dense.npz",
                               "fashion_dense.npz"), (64, 32))):
        try:
            xtr, ytr, xte, yte = data.load(name)
        except InputFileError:  # data not installed: this study covers the others
            continue
        paths = [os.path.join(here, "models", f) for f in model_files]
        paths = [p for p in paths if os.path.isfile(p)]
        net = MLP.load(paths[0]) if paths else None
        if net is not None and net.sizes[0] == xte.shape[1]:
            src = "models/" + os.path.basename(paths[0])
        else:
            if name != "digits" and quick:
                continue
            n_tr = len(xtr) if name == "digits" else 10_000
            net = _train_dense(xtr[:n_tr], ytr[:n_tr], hidden=hidden,
                               epochs=15 if quick else (40 if name == "digits" else 8), seed=seed)
            src = f"trained in the study ({n_tr} examples)"
        n_te = 300 if quick else (len(xte) if name == "digits" else 1000)
        out.append((name, net, src, xte[:n_te].astype(np.float64), yte[:n_te]))
    return out


def study_mnist_like(quick=False, seed=0):
    probs = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2]
    samples = 60 if quick else 300
    rows, findings = [], {}
    nets = _trained_networks(quick, seed)
    if not nets:
        raise ValidationError("mnist-like study: no dataset available (digits needs scikit-learn)")
    for name, net, src, x, y in nets:
        acc = net.accuracy(x, y)
        C = theory.max_activation(net, x) if not math.isfinite(net.bound_C) else net.bound_C
        consts = theory.network_constants(net, C=C)
        L = consts.depth
        for p in probs:
            mc = observed.monte_carlo_error(net, p, x, samples, np.random.default_rng(seed))
            fo = observed.first_order(net, x, p)
            e = theory.erf(consts, p)
            rows.append({
                "dataset": name, "model": src, "sizes": "-".join(map(str, consts.sizes)),
                "accuracy": acc, "C": C, "K": consts.K, "p": p, "erf": e,
                "expected_fep": theory.erf(consts, p, use="max"),
                "fep_at_pN": theory.fep(consts, [p * n for n in consts.hidden_sizes]),
                "taylor_first_order": float(fo.taylor_abs.mean()),
                "ablation_first_order": float(fo.ablation_abs.mean()),
                "observed_mean": mc.mean, "observed_ci95_lo": mc.ci95[0],
                "observed_ci95_hi": mc.ci95[1], "observed_max": mc.max,
                "tightness": e / mc.mean if mc.mean > 0 else float("inf"),
                "safe": bool(mc.mean <= e),
            })
        r = [row for row in rows if row["dataset"] == name]
        t = np.array([row["tightness"] for row in r])
        findings[name] = {
            "model": src, "sizes": r[0]["sizes"], "accuracy": acc, "C": C, "layers": L,
            "safe_all_p": bool(all(row["safe"] for row in r)),
            "tightness_min": float(t.min()), "tightness_max": float(t.max()),
            "ablation_over_observed_at_0.1pct": r[0]["ablation_first_order"] / r[0]["observed_mean"]
            if r[0]["observed_mean"] > 0 else float("nan"),
            "ablation_over_observed_at_20pct": r[-1]["ablation_first_order"] / r[-1]["observed_mean"],
        }

    def plot(fig):
        ax = fig.subplots(1, len(nets), squeeze=False)[0]
        for a, (name, *_rest) in zip(ax, nets):
            r = [row for row in rows if row["dataset"] == name]
            p = [row["p"] for row in r]
            a.loglog(p, [row["observed_mean"] for row in r], "o-", label="observed (MC)")
            a.fill_between(p, [row["observed_ci95_lo"] for row in r],
                           [row["observed_ci95_hi"] for row in r], alpha=0.3)
            a.loglog(p, [row["erf"] for row in r], "s--", label="Erf (mean |w|)")
            a.loglog(p, [row["expected_fep"] for row in r], "^:", label="E[Fep] (max |w|)")
            a.loglog(p, [row["ablation_first_order"] for row in r], "x-.",
                     label="first order (ablation)")
            a.set(xlabel="crash probability per hidden neuron", ylabel="E ‖ΔF‖∞",
                  title=f"{name}: {r[0]['sizes']}")
            a.legend(fontsize=7)
    return rows, findings, plot


# ---------------------------------------------------------------------------- driver
_FUNCS = {"random": study_random, "lipschitz": study_lipschitz, "depth": study_depth,
          "weights": study_weights, "mnist-like": study_mnist_like}


def _write(out_dir, name, rows, plot):
    """``name``.csv and ``name``.png into ``out_dir``, each written atomically."""
    # local for start-up time: matplotlib takes ~0.9 s to import and only the studies draw (a
    # Figure of its own, no pyplot: no global backend or figure list is touched)
    from matplotlib.figure import Figure
    os.makedirs(out_dir, exist_ok=True)
    keys = list(rows[0].keys())
    for r in rows:
        keys += [k for k in r if k not in keys]
    text = io.StringIO()
    w = csv.DictWriter(text, fieldnames=keys, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    csv_path = os.path.join(out_dir, f"{name}.csv")
    png_path = os.path.join(out_dir, f"{name}.png")
    fig = Figure(figsize=(11, 4.5))
    plot(fig)
    fig.tight_layout()
    with atomic_write(png_path, "wb", suffix=".png") as (f, _):
        fig.savefig(f, format="png", dpi=110)
    write_text(csv_path, text.getvalue())
    return [csv_path, png_path]


def run(study, out_dir=None, quick=False, seed=0, verbose=True) -> dict:
    """Run one study (or "all"), write CSV + PNG, return {study: findings, files, seconds}."""
    names = STUDIES if study == "all" else (study,)
    result = {}
    for name in names:
        if name not in _FUNCS:
            raise ValidationError(f"argument 'study': {name!r}, expected one of {', '.join(STUDIES)}, all",
                                  param="study")
        d = out_dir or f"bound_study_{name}"
        check_output_dir(d, "out_dir")
        t0 = time.perf_counter()
        rows, findings, plot = _FUNCS[name](quick=quick, seed=seed)
        files = _write(d, name.replace("-", "_"), rows, plot)
        result[name] = {"findings": findings, "files": files,
                        "seconds": time.perf_counter() - t0}
        if verbose:
            print(f"study {name} ({result[name]['seconds']:.1f} s): {', '.join(files)}")
            _print_findings(findings, "  ")
    return result


def _print_findings(f, indent):
    for k, v in f.items():
        if isinstance(v, dict):
            print(f"{indent}{k}:")
            _print_findings(v, indent + "  ")
        else:
            print(f"{indent}{k}: {v:.4g}" if isinstance(v, float) else f"{indent}{k}: {v}")
