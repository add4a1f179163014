"""The report's figures: matplotlib (Agg, no pyplot state), returned as embeddable data URIs.

Every function takes a :class:`~neurosim.mission.results.MissionResults` and returns a
``matplotlib.figure.Figure``, or ``None`` when the results do not record what the figure needs (the
page then shows a "not recorded" placeholder). :func:`to_data_uri` renders a figure as SVG (text
kept as text, fixed hash salt, no date) so that the same results always give the same bytes.
"""
from __future__ import annotations

import base64
import io
import textwrap

import numpy as np

import matplotlib
import matplotlib.ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from neurosim.mission.headline import erf_violations, power_series, wilson_interval
from neurosim.mission.results import POWER_COMPONENTS
from neurosim.report.fmt import power_unit

# palette (colour-blind safe: Okabe–Ito)
BLUE, ORANGE, GREEN, RED, PURPLE, SKY, YELLOW, GREY = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#777777")
INK = "#222222"

STYLE = {
    "font.family": ["DejaVu Sans"],
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9.5,
    "axes.edgecolor": "#999999",
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.8,
    "xtick.color": "#555555",
    "ytick.color": "#555555",
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "svg.fonttype": "none",
    "svg.hashsalt": "neurosim-report",
    "path.simplify": True,
}

WIDE = (8.6, 3.3)


def _fig(size=WIDE, ncols=1, nrows=1, **kw):
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=size, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def to_data_uri(fig, fmt="svg"):
    """Render ``fig`` deterministically and return a ``data:`` URI (SVG or PNG)."""
    buf = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        if fmt == "svg":
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
            mime = "image/svg+xml"
        else:
            fig.savefig(buf, format="png", dpi=130, metadata={"Software": None})
            mime = "image/png"
    return f"data:{mime};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


TITLE_EM = 0.7      # width of a bold title character in ems, generously (DejaVu Sans Bold ≈ 0.62)


def _title(ax, text, width_in, fontsize=9.5):
    """Set a title wrapped to the panel's width (``width_in`` inches, less 0.5 in for the axis
    labels) at :data:`TITLE_EM` per character, so that it is never cut, whatever font the browser
    draws the SVG's text with. Explicit line breaks in ``text`` are kept."""
    chars = max(12, int((width_in - 0.5) * 72 / (fontsize * TITLE_EM)))
    ax.set_title("\n".join(textwrap.fill(line, chars) for line in text.split("\n")),
                 fontsize=fontsize)


def _time_axis(ax, t):
    ax.set_xlabel("mission time (years)")
    if t is not None and len(t) and np.nanmax(t) > 0:
        ax.set_xlim(0 if np.nanmin(t) >= 0 else np.nanmin(t), np.nanmax(t))


def _launch(t, value, *series):
    """Prepend the launch point (t = 0, ``value``) to each series when the checkpoints start after
    launch and the launch value is known; returns (t, *series) unchanged otherwise."""
    if t is None or not len(t) or value is None or not t[0] > 0:
        return (t, *series)
    out = [np.concatenate([[0.0], t])]
    for a in series:
        if a is None:
            out.append(None)
        else:
            a = np.asarray(a, float)
            pad = np.full(a.shape[:-1] + (1,), float(value))
            out.append(np.concatenate([pad, a], axis=-1))
    return tuple(out)


def _ok(*arrays):
    return all(a is not None and len(a) and np.any(np.isfinite(a)) for a in arrays)


# ---------------------------------------------------------------------------- 2 accuracy
def accuracy_figure(res, max_traces=30):
    t = res.times()
    lo, mid, hi = res.percentile_series("accuracy")
    if not _ok(t, mid):
        return None
    base = res.baseline_accuracy()
    runs = res.run_array("accuracy")
    if runs is not None and runs.shape[1] != len(t):
        runs = None
    t, lo, mid, hi, runs = _launch(t, base, lo, mid, hi, runs)
    with matplotlib.rc_context(STYLE):
        fig, ax = _fig()
        ax = ax[0, 0]
        if runs is not None:
            for r in runs[_traces(runs, max_traces)]:
                ax.plot(t, r, color=BLUE, alpha=0.10, lw=0.7, zorder=1)
        if _ok(lo, hi):
            ax.fill_between(t, lo, hi, color=BLUE, alpha=0.18, lw=0, label="5–95 % of runs",
                            zorder=2)
        ax.plot(t, mid, color=BLUE, lw=2.0, label="median", zorder=3)
        if base is not None:
            ax.scatter([0], [base], s=40, marker="D", color=INK, zorder=5, clip_on=False,
                       label=f"fault-free chip ({base:.1%})")
        req = res.requirement()
        if req is not None:
            ax.axhline(req, color=RED, lw=1.3, ls="--", zorder=4)
            ax.annotate(f"requirement {req:.0%}" if req <= 1 else f"requirement {req:g}",
                        xy=(1, req), xycoords=("axes fraction", "data"), xytext=(-4, 4),
                        textcoords="offset points", ha="right", va="bottom", color=RED,
                        fontsize=8.5)
        # the axis spans every run, the worst included (not only the traces drawn)
        vals = [v for v in (lo, mid, hi, req, base, runs) if v is not None]
        vmin = float(np.nanmin([np.nanmin(v) for v in vals]))
        vmax = float(np.nanmax([np.nanmax(v) for v in vals]))
        if vmax <= 1.0 and vmin >= 0:
            pad = max(0.02, 0.08 * (vmax - vmin))
            ax.set_ylim(max(0.0, vmin - pad), min(1.0, vmax + pad) + 0.005)
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=None))
        ax.set_ylabel("test accuracy")
        _time_axis(ax, t)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=4)
    return fig


def _traces(runs, n):
    """Indices of the runs drawn as traces: the first ``n`` and, if not among them, the worst
    (lowest accuracy at any checkpoint), so the faint lines reach the bottom of the axis."""
    worst = int(np.nanargmin(np.nanmin(runs, axis=1))) if np.isfinite(runs).any() else 0
    first = list(range(min(n, len(runs))))
    return first if worst in first else first + [worst]


# ---------------------------------------------------------------------------- 3 reliability
def wilson_band(share, runs):
    """(lo, hi) arrays of the Wilson 95 % interval of each share of ``runs`` runs, or
    (None, None) when the number of runs is unknown."""
    if share is None or not runs:
        return None, None
    bounds = np.array([wilson_interval(p, runs) for p in share], dtype=float)
    return bounds[:, 0], bounds[:, 1]


def reliability_figure(res):
    """The share of runs meeting the requirement at each checkpoint, with its Wilson 95 % band."""
    t = res.times()
    rel = res.get("reliability")
    if not _ok(t, rel):
        return None
    lo, hi = wilson_band(rel, res.n_runs())
    base, req = res.baseline_accuracy(), res.requirement()
    if base is not None and req is not None:
        t, rel, lo, hi = _launch(t, 1.0 if base >= req else 0.0, rel, lo, hi)
    with matplotlib.rc_context(STYLE):
        fig, ax = _fig(size=(8.6, 2.8))
        ax = ax[0, 0]
        if lo is not None:
            ax.fill_between(t, lo, hi, step="post", color=GREEN, alpha=0.18, lw=0,
                            label=f"Wilson 95 % interval ({res.n_runs()} runs)")
        ax.step(t, rel, where="post", color=GREEN, lw=2.0, label="share of runs")
        ax.set_ylim(0, 1.04)
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=None))
        ax.set_ylabel("runs meeting\nthe requirement" if req is not None else "reliability")
        ax.legend(loc="lower left")
        _time_axis(ax, t)
    return fig


# ---------------------------------------------------------------------------- 4 bounds
def bounds_figure(res):
    """Erf, Fep and the observed error per checkpoint (log scale); below it, when the results
    hold the like-with-like comparison (summary ``bounds``), Erf/observed per bin against the
    dead fraction (:func:`_tightness_axes`). None when nothing is recorded."""
    t = res.times()
    erf = res.get("erf_mean")
    fep = res.get("fep_mean")
    obs = res.get("observed_error_mean")
    obs_max = res.get("observed_error_max")
    if t is None or not any(_ok(a) for a in (erf, fep, obs)):
        return None
    comparison = res.s("bounds")
    ratio_bins = _ratio_bins(comparison)
    with matplotlib.rc_context(STYLE):
        fig, axes = _fig(size=(8.6, 6.8) if ratio_bins else (8.6, 3.5), nrows=2 if ratio_bins
                         else 1)
        ax = axes[0, 0]
        if ratio_bins:
            _tightness_axes(axes[1, 0], ratio_bins, comparison["tight"]["ratio"])
        ax.set_yscale("log")

        def pos(a):
            a = np.asarray(a, float)
            return np.where(a > 0, a, np.nan)

        if _ok(fep):
            ax.plot(t, pos(fep), color=PURPLE, lw=1.6, ls="-.", label="Fep (worst-case bound)")
        if _ok(erf):
            ax.plot(t, pos(erf), color=ORANGE, lw=2.0, label="Erf (average-case estimate)")
        if _ok(obs_max):
            ax.plot(t, pos(obs_max), color=GREY, lw=1.0, ls=":", label="observed error, max")
        obs95 = res.get("error_mean_p95")
        if _ok(obs95):
            ax.plot(t, pos(obs95), color=BLUE, lw=0.9, ls="--",
                    label="observed mean error, 95th pct of runs")
        if _ok(obs):
            ax.plot(t, pos(obs), color=BLUE, lw=2.0, label="observed error, mean")
        if _ok(erf, obs):
            viol = erf_violations(erf, obs)
            other = np.isfinite(erf) & (erf == 0) & np.isfinite(obs) & (obs > 0)
            if other.any():
                ax.scatter(t[other], pos(obs)[other], s=22, facecolor="white", edgecolor=BLUE,
                           zorder=5, label="error with no dead neuron (Erf = 0)")
            if viol.any():
                ax.scatter(t[viol], pos(obs)[viol], s=26, color=RED, zorder=5,
                           label=f"mean observed > Erf ({int(viol.sum())} checkpoints)")
                dt = np.median(np.diff(t)) if len(t) > 1 else 0.1
                for i in np.flatnonzero(viol):
                    ax.axvspan(t[i] - dt / 2, t[i] + dt / 2, color=RED, alpha=0.07, lw=0)
        finite = [pos(a) for a in (erf, fep, obs, obs_max) if _ok(a)]
        top = max((np.nanmax(a) for a in finite if np.isfinite(a).any()), default=0)
        if top > 1 and (res.sc("run.mode") in (None, "rate", "spiking")):
            ax.axhline(1.0, color=INK, lw=0.8, ls=(0, (1, 3)))
            ax.annotate("largest possible error (output rates in [0, 1])", xy=(0, 1.0),
                        xycoords=("axes fraction", "data"), xytext=(4, 3),
                        textcoords="offset points", fontsize=8, color=INK)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3)
        finite = [a[np.isfinite(a)] for a in finite]
        finite = [a for a in finite if a.size]
        if not finite:
            ax.text(0.5, 0.5, "every error and bound is zero (no faults reached the network)",
                    transform=ax.transAxes, ha="center", va="center", color=GREY)
            ax.set_yscale("linear")
        ax.set_ylabel("output error ‖F_fail − F‖∞")
        _time_axis(ax, t)
    return fig


def _ratio_bins(comparison):
    """The bins of a bound comparison with an observed error (so a ratio Erf/observed)."""
    if not isinstance(comparison, dict):
        return []
    return [b for b in comparison.get("bins", []) if b.get("ratio")]


def _tightness_axes(ax, bins, tight):
    """Erf / observed mean error of each bin against its dead fraction, log-log: above 1 Erf
    held, inside the shaded band (1 to ``tight``×) it is tight; vacuous bins (Erf ≥ 1) hollow."""
    x = np.array([b["dead_fraction"] for b in bins])
    r = np.array([b["ratio"] for b in bins])
    vac = np.array([b["vacuous"] for b in bins])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.axhspan(1.0, tight, color=GREEN, alpha=0.12, lw=0,
               label=f"Erf held within {tight:g}× of the observed error")
    ax.axhline(1.0, color=INK, lw=0.8, ls=(0, (1, 3)))
    if (~vac).any():
        ax.scatter(x[~vac], r[~vac], s=24, color=ORANGE, zorder=5, label="bin, Erf < 1")
    if vac.any():
        ax.scatter(x[vac], r[vac], s=24, facecolor="white", edgecolor=ORANGE, zorder=5,
                   label="bin, Erf ≥ 1 (vacuous)")
    ax.set_xlabel("dead fraction of the chip neurons (crash-only checkpoints, by bin)")
    ax.set_ylabel("Erf / observed mean error")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3)


# ---------------------------------------------------------------------------- 5 faults
FAULT_KINDS = [
    # (label, colour, checkpoints.csv column, runs.npz array: runs × checkpoints [× layers])
    ("dead neurons", RED, "dead_neurons_mean", "dead_neurons"),
    ("dead cores", PURPLE, "dead_cores_mean", "dead_cores"),
    ("lost synapses", ORANGE, "dead_synapses_mean", "dead_synapses"),
    ("live upsets", BLUE, "live_upsets_mean", "live_upsets"),
    ("latched-up cores", GREY, "latched_cores_mean", "latched_cores"),
    ("spare cores used", GREEN, "spares_used_mean", "spares_used"),
]


def fault_series(res):
    """[(label, colour, mean over runs per checkpoint)] for every fault kind the results record:
    the checkpoint column, else the mean over runs of the runs.npz array (summed over layers when
    it has a layer axis). Kinds that stay zero are kept for the first four, dropped after."""
    out = []
    for i, (label, colour, column, run_name) in enumerate(FAULT_KINDS):
        v = res.get(column)
        if v is None and run_name in res.runs:
            a = np.asarray(res.runs[run_name], dtype=float)
            if a.ndim == 3:
                a = a.sum(axis=2)
            if a.ndim == 2 and a.shape[1] == res.n_checkpoints():
                v = a.mean(axis=0)
        if v is None:
            continue
        if i >= 4 and not np.any(np.nan_to_num(v) > 0):
            continue
        out.append((label, colour, v))
    return out


def faults_figure(res):
    t = res.times()
    series = fault_series(res)
    if t is None or not series:
        return None
    n = len(series)
    ncols = n if n <= 4 else 3
    nrows = (n + ncols - 1) // ncols
    t0 = t
    series = [(label, colour, _launch(t0, 0.0, v)[1]) for label, colour, v in series]
    t = _launch(t0, 0.0, t0)[0]
    with matplotlib.rc_context(STYLE):
        fig, axes = _fig(size=(8.6, 2.3 * nrows), ncols=ncols, nrows=nrows)
        for k, (label, colour, v) in enumerate(series):
            ax = axes[k // ncols, k % ncols]
            ax.fill_between(t, 0, v, color=colour, alpha=0.18, lw=0)
            ax.plot(t, v, color=colour, lw=1.8)
            _title(ax, f"{label}:\n{_fmt_count(v[-1])} at the end", 8.6 / ncols)
            top = float(np.nanmax(v))
            ax.set_ylim(bottom=0, top=top * 1.15 if top > 0 else 1.0)
            ax.set_xlim(float(np.nanmin(t)), float(np.nanmax(t)))
            ax.set_xlabel("years")
            if k % ncols == 0:
                ax.set_ylabel("mean over runs\n(each panel to its own scale)")
        for k in range(n, nrows * ncols):
            axes[k // ncols, k % ncols].set_visible(False)
    return fig


def _fmt_count(x):
    if x is None or not np.isfinite(x):
        return "–"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


# ---------------------------------------------------------------------------- 6 power


def power_components(res):
    """{component: mW series} of the power breakdown (the checkpoint columns
    ``power_{component}_mw_mean`` of :data:`~neurosim.mission.results.POWER_COMPONENTS`); {} when
    not recorded. Components that are zero throughout are left out."""
    out = {comp: res.get(f"power_{comp}_mw_mean") for comp in POWER_COMPONENTS}
    out = {k: v for k, v in out.items() if v is not None}
    nonzero = {k: v for k, v in out.items() if np.any(np.abs(np.nan_to_num(v)) > 0)}
    return nonzero or out


def power_breakdown(res):
    """(component names, mW at launch, mW at the end) — from the per-checkpoint component columns,
    else from summary.json dicts 'power_breakdown_initial' / 'power_breakdown_final' (component →
    mW); None if not recorded."""
    first = res.s("power_breakdown_initial")
    last = res.s("power_breakdown_final")
    if isinstance(first, dict) and first:
        names = [k for k in first if isinstance(first[k], (int, float))]
        f = np.array([float(first[k]) for k in names])
        if isinstance(last, dict):
            l_ = np.array([float(last.get(k, np.nan)) for k in names])
        else:
            l_ = None
        keep = [i for i in range(len(names)) if f[i] > 0 or (l_ is not None and l_[i] > 0)]
        if keep:
            return [names[i] for i in keep], f[keep], None if l_ is None else l_[keep]
    comps = power_components(res)
    if comps:
        names = list(comps)
        return (names, np.array([float(comps[n][0]) for n in names]),
                np.array([float(comps[n][-1]) for n in names]))
    return None


def power_figure(res):
    t = res.times()
    lo, mid, hi = power_series(res)
    bars = power_breakdown(res)
    if not _ok(t, mid) and bars is None:
        return None
    p0 = res.s("power_mw_initial")
    t, lo, mid, hi = _launch(t, p0, lo, mid, hi)
    budget = res.budget_mw()
    panels = int(_ok(t, mid)) + int(bars is not None)
    with matplotlib.rc_context(STYLE):
        if panels == 2:
            fig, axes = _fig(size=(8.6, 3.2), ncols=2, width_ratios=[1.7, 1])
            ax_t, ax_b = axes[0, 0], axes[0, 1]
        else:
            fig, axes = _fig(size=(8.6, 3.0))
            ax_t = axes[0, 0] if _ok(t, mid) else None
            ax_b = axes[0, 0] if ax_t is None else None
        if ax_t is not None:
            ax = ax_t
            top = float(np.nanmax(hi if _ok(hi) else mid))
            if budget is not None:
                top = max(top, budget)
            k, unit = power_unit(top)
            if _ok(lo, hi):
                ax.fill_between(t, lo * k, hi * k, color=ORANGE, alpha=0.2, lw=0,
                                label="5–95 % of runs")
            ax.plot(t, mid * k, color=ORANGE, lw=2.0, label="median" if _ok(lo, hi) else "power")
            if budget is not None:
                ax.axhline(budget * k, color=RED, lw=1.3, ls="--")
                ax.annotate(f"budget {budget * k:g} {unit}", xy=(1, budget * k),
                            xycoords=("axes fraction", "data"), xytext=(-4, 4),
                            textcoords="offset points", ha="right", va="bottom", color=RED,
                            fontsize=8.5)
            ax.set_ylim(0, top * k * 1.18 if top > 0 else 1)
            ax.set_ylabel(f"chip power ({unit})")
            _time_axis(ax, t)
            ax.set_title("power over mission time", fontsize=9.5)
            if _ok(lo, hi):
                ax.legend(loc="lower left")
        if ax_b is not None:
            ax = ax_b
            names, first, last = bars
            k, unit = power_unit(float(np.nanmax(np.concatenate(
                [first, last if last is not None else first]))))
            y = np.arange(len(names))
            labels = [n.replace("_", " ") for n in names]
            if last is not None:
                ax.barh(y - 0.2, first * k, height=0.38, color=SKY, label="launch")
                ax.barh(y + 0.2, last * k, height=0.38, color=ORANGE, label="end of mission")
                ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2)
            else:
                ax.barh(y, first * k, height=0.6, color=SKY)
            ax.set_yticks(y, labels)
            ax.invert_yaxis()
            ax.set_xlabel(unit)
            ax.grid(axis="y", visible=False)
            ax.set_title("breakdown", fontsize=9.5)
    return fig
