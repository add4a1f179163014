"""The report's figures: matplotlib (Agg, no pyplot state), returned as embeddable data URIs.

Every function takes a :class:`~neurosim.report.results.MissionResults` and returns a
``matplotlib.figure.Figure``, or ``None`` when the results do not record what the figure needs (the
page then shows a "not recorded" placeholder). :func:`to_data_uri` renders a figure as SVG (text
kept as text, fixed hash salt, no date) so that the same results always give the same bytes.
"""
from __future__ import annotations

import base64
import io

import numpy as np

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

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


def _time_axis(ax, t):
    ax.set_xlabel("mission time (years)")
    if t is not None and len(t) and np.nanmax(t) > 0:
        ax.set_xlim(0 if np.nanmin(t) >= 0 else np.nanmin(t), np.nanmax(t))


def _ok(*arrays):
    return all(a is not None and len(a) and np.any(np.isfinite(a)) for a in arrays)


# ---------------------------------------------------------------------------- 2 accuracy
def accuracy_figure(res, max_traces=30):
    t = res.times()
    lo, mid, hi = res.percentile_series("accuracy")
    if not _ok(t, mid):
        return None
    with matplotlib.rc_context(STYLE):
        fig, ax = _fig()
        ax = ax[0, 0]
        runs = res.run_array("accuracy")
        if runs is not None and runs.shape[1] == len(t):
            for r in runs[:max_traces]:
                ax.plot(t, r, color=BLUE, alpha=0.10, lw=0.7, zorder=1)
        if _ok(lo, hi):
            ax.fill_between(t, lo, hi, color=BLUE, alpha=0.18, lw=0, label="5–95 % of runs",
                            zorder=2)
        ax.plot(t, mid, color=BLUE, lw=2.0, label="median", zorder=3)
        req = res.requirement()
        if req is not None:
            ax.axhline(req, color=RED, lw=1.3, ls="--", zorder=4)
            ax.annotate(f"requirement {req:.0%}" if req <= 1 else f"requirement {req:g}",
                        xy=(1, req), xycoords=("axes fraction", "data"), xytext=(-4, 4),
                        textcoords="offset points", ha="right", va="bottom", color=RED,
                        fontsize=8.5)
        vals = [v for v in (lo, mid, hi, req) if v is not None]
        vmin = float(np.nanmin([np.nanmin(v) for v in vals]))
        vmax = float(np.nanmax([np.nanmax(v) for v in vals]))
        if vmax <= 1.0 and vmin >= 0:
            pad = max(0.02, 0.08 * (vmax - vmin))
            ax.set_ylim(max(0.0, vmin - pad), min(1.0, vmax + pad) + 0.005)
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=None))
        ax.set_ylabel("test accuracy")
        _time_axis(ax, t)
        ax.legend(loc="lower left")
    return fig


# ---------------------------------------------------------------------------- 3 reliability
def reliability_figure(res):
    t = res.times()
    rel = res.get("reliability", "mission_reliability", "reliability_mean")
    if not _ok(t, rel):
        return None
    with matplotlib.rc_context(STYLE):
        fig, ax = _fig(size=(8.6, 2.8))
        ax = ax[0, 0]
        ax.fill_between(t, 0, rel, step="post", color=GREEN, alpha=0.15, lw=0)
        ax.step(t, rel, where="post", color=GREEN, lw=2.0)
        ax.set_ylim(0, 1.04)
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=None))
        req = res.requirement()
        ax.set_ylabel("runs meeting\nthe requirement" if req is not None else "reliability")
        _time_axis(ax, t)
    return fig


# ---------------------------------------------------------------------------- 4 bounds
def bounds_figure(res):
    t = res.times()
    erf = res.get("erf", "erf_mean", "erf_p50")
    fep = res.get("fep", "fep_mean", "fep_p50")
    obs = res.get("observed_error_mean", "error_mean", "observed_mean")
    obs_max = res.get("observed_error_max", "error_max", "observed_max")
    if t is None or not any(_ok(a) for a in (erf, fep, obs)):
        return None
    with matplotlib.rc_context(STYLE):
        fig, ax = _fig(size=(8.6, 3.5))
        ax = ax[0, 0]
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
        if _ok(obs):
            ax.plot(t, pos(obs), color=BLUE, lw=2.0, label="observed error, mean")
        if _ok(erf, obs):
            viol = np.isfinite(obs) & np.isfinite(erf) & (obs > erf)
            if viol.any():
                ax.scatter(t[viol], pos(obs)[viol], s=26, color=RED, zorder=5,
                           label=f"observed > Erf ({int(viol.sum())} checkpoints)")
                dt = np.median(np.diff(t)) if len(t) > 1 else 0.1
                for i in np.flatnonzero(viol):
                    ax.axvspan(t[i] - dt / 2, t[i] + dt / 2, color=RED, alpha=0.07, lw=0)
        finite = [pos(a) for a in (erf, fep, obs, obs_max) if _ok(a)]
        finite = [a[np.isfinite(a)] for a in finite]
        finite = [a for a in finite if a.size]
        if not finite:
            ax.text(0.5, 0.5, "every error and bound is zero (no faults reached the network)",
                    transform=ax.transAxes, ha="center", va="center", color=GREY)
            ax.set_yscale("linear")
        ax.set_ylabel("output error ‖F_fail − F‖∞")
        _time_axis(ax, t)
        ax.legend(loc="lower right", ncols=2)
    return fig


# ---------------------------------------------------------------------------- 5 faults
FAULT_KINDS = [
    # (label, colour, candidate column names)
    ("dead neurons", RED, ("dead_neurons_mean", "dead_neurons", "dead_neurons_p50")),
    ("dead cores", PURPLE, ("dead_cores_mean", "dead_cores", "dead_cores_p50")),
    ("stuck synapses", ORANGE, ("stuck_synapses_mean", "stuck_synapses", "stuck_bits_mean",
                                "stuck_synapses_p50", "dead_synapses_mean", "dead_synapses")),
    ("live upsets", BLUE, ("live_upsets_mean", "live_upsets", "upsets_mean", "upsets",
                           "live_upsets_p50")),
    ("latched-up cores", YELLOW, ("latched_cores_mean", "latched_cores", "latchups_mean")),
]


def fault_series(res):
    """[(label, colour, values)] for every fault kind the results record."""
    out = []
    for label, colour, names in FAULT_KINDS:
        v = res.get(*names)
        if v is not None:
            out.append((label, colour, v))
    return out


def faults_figure(res):
    t = res.times()
    series = fault_series(res)
    if t is None or not series:
        return None
    n = len(series)
    ncols = min(n, 4)
    nrows = (n + ncols - 1) // ncols
    with matplotlib.rc_context(STYLE):
        fig, axes = _fig(size=(8.6, 2.3 * nrows), ncols=ncols, nrows=nrows, sharex=True)
        for k, (label, colour, v) in enumerate(series):
            ax = axes[k // ncols, k % ncols]
            ax.fill_between(t, 0, v, color=colour, alpha=0.18, lw=0)
            ax.plot(t, v, color=colour, lw=1.8)
            ax.set_title(f"{label}", fontsize=9.5)
            ax.text(0.02, 0.97, f"end: {_fmt_count(v[-1])}", transform=ax.transAxes,
                    ha="left", va="top", fontsize=8.5, color=INK)
            ax.set_ylim(bottom=0, top=max(1.0, float(np.nanmax(v)) * 1.15))
            ax.set_xlim(float(np.nanmin(t)), float(np.nanmax(t)))
            ax.set_xlabel("years")
        for k in range(n, nrows * ncols):
            axes[k // ncols, k % ncols].set_visible(False)
        axes[0, 0].set_ylabel("mean over runs")
    return fig


def _fmt_count(x):
    if x is None or not np.isfinite(x):
        return "–"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


# ---------------------------------------------------------------------------- 6 power
POWER_COMPONENT_RX = r"^(?:power_)?(static|leakage|neuron|synap\w*|spike\w*|hop\w*|idle|active|" \
                     r"latch\w*)(?:_\w*)?_mw(?:_mean|_p50)?$"


def power_components(res):
    """{component: mW series} from checkpoint columns like 'power_synaptic_mw' or 'static_mw'
    (the total 'power_mw' and 'dynamic_mw' excluded); {} if the breakdown is not recorded."""
    import re
    out = {}
    for k in res.columns:
        m = re.match(POWER_COMPONENT_RX, k, re.I)
        if m and not re.match(r"^(power_)?(static|dynamic)_mw", k, re.I):
            out[m.group(1)] = res.columns[k]
    if not out:
        for part in ("static", "dynamic"):
            v = res.get(f"{part}_mw", f"power_{part}_mw", f"{part}_mw_mean")
            if v is not None:
                out[part] = v
    return out


def power_series(res):
    """(p5, p50, p95) of power in mW over the checkpoints (p5/p95 may be None)."""
    lo, mid, hi = res.percentile_series("power_mw")
    if mid is None:
        mid = res.get("power_mw", "power_mw_mean", "power_mean_mw", "power")
    return lo, mid, hi


def power_figure(res):
    t = res.times()
    lo, mid, hi = power_series(res)
    comps = power_components(res)
    if not _ok(t, mid) and not comps:
        return None
    budget = res.budget_mw()
    with matplotlib.rc_context(STYLE):
        fig, axes = _fig(size=(8.6, 3.2), ncols=2, width_ratios=[1.7, 1])
        ax = axes[0, 0]
        if _ok(t, mid):
            if _ok(lo, hi):
                ax.fill_between(t, lo, hi, color=ORANGE, alpha=0.2, lw=0, label="5–95 % of runs")
            ax.plot(t, mid, color=ORANGE, lw=2.0, label="median" if _ok(lo, hi) else "power")
            top = float(np.nanmax(hi if _ok(hi) else mid))
            if budget is not None:
                ax.axhline(budget, color=RED, lw=1.3, ls="--")
                ax.annotate(f"budget {budget:g} mW", xy=(1, budget),
                            xycoords=("axes fraction", "data"), xytext=(-4, 4),
                            textcoords="offset points", ha="right", va="bottom", color=RED,
                            fontsize=8.5)
                top = max(top, budget)
            ax.set_ylim(0, top * 1.18 if top > 0 else 1)
            ax.set_ylabel("chip power (mW)")
            _time_axis(ax, t)
            ax.set_title("power over mission time", fontsize=9.5)
            ax.legend(loc="lower left")
        else:
            ax.set_visible(False)
        ax = axes[0, 1]
        if comps:
            names = list(comps)
            first = np.array([float(comps[n][0]) for n in names])
            last = np.array([float(comps[n][-1]) for n in names])
            y = np.arange(len(names))
            ax.barh(y - 0.2, first, height=0.38, color=SKY, label="launch")
            ax.barh(y + 0.2, last, height=0.38, color=ORANGE, label="end of mission")
            ax.set_yticks(y, names)
            ax.invert_yaxis()
            ax.set_xlabel("mW")
            ax.grid(axis="y", visible=False)
            ax.set_title("breakdown", fontsize=9.5)
            ax.legend(loc="lower right")
        else:
            ax.text(0.5, 0.5, "breakdown\nnot recorded", transform=ax.transAxes, ha="center",
                    va="center", color=GREY)
            ax.set_axis_off()
    return fig


# ---------------------------------------------------------------------------- 7 core grid
DAMAGE_CMAP = LinearSegmentedColormap.from_list("damage", ["#fff5eb", "#fdae6b", "#e6550d",
                                                           "#7f2704"])
TRAFFIC_CMAP = LinearSegmentedColormap.from_list("traffic", ["#f7fbff", "#9ecae1", "#3182bd",
                                                             "#08306b"])


def core_maps(res):
    """(core_xy, damage per core, spikes per core, grid shape) from the results, each possibly
    None. damage: mean over runs of accumulated damage (dead neurons, or a damage score) per used
    core at the end of the mission; spikes: spikes per inference per core at launch."""
    xy = None
    for k in ("core_xy", "core_positions", "cores_xy"):
        if k in res.runs:
            xy = np.asarray(res.runs[k])
            break
    if xy is None:
        v = res.s("core_xy", "program.core_xy", "compile.core_xy")
        if v is not None:
            xy = np.asarray(v)
    damage = _per_core(res, ("core_damage", "core_dead_neurons", "dead_neurons_per_core",
                             "core_faults"))
    traffic = _per_core(res, ("core_spikes", "spikes_per_core", "core_traffic", "core_events"))
    rows = res.s("chip.grid_rows", "profile.grid_rows", "grid_rows")
    cols = res.s("chip.grid_cols", "profile.grid_cols", "grid_cols")
    shape = (int(rows), int(cols)) if rows and cols else None
    return xy, damage, traffic, shape


def _per_core(res, names):
    for name in names:
        for key in res.runs:
            if key.lower() == name:
                a = np.asarray(res.runs[key], dtype=float)
                # runs × checkpoints × cores → mean over runs at the last checkpoint;
                # runs × cores → mean over runs; cores → as is.
                if a.ndim == 3:
                    return a[:, -1, :].mean(axis=0)
                if a.ndim == 2:
                    return a.mean(axis=0)
                if a.ndim == 1:
                    return a
        v = res.s(name, f"cores.{name}")
        if v is not None:
            return np.asarray(v, dtype=float)
    return None


def core_grid_figure(res):
    xy, damage, traffic, shape = core_maps(res)
    if xy is None or (damage is None and traffic is None):
        return None
    xy = np.asarray(xy, dtype=int)
    while xy.ndim > 2:          # per run (and checkpoint): the launch layout of the first run
        xy = xy[0]
    r0, c0 = xy.min(axis=0)
    r1, c1 = xy.max(axis=0)
    # crop to the used cores (with a one-core margin inside the chip)
    if shape is not None:
        r0, c0 = max(r0 - 1, 0), max(c0 - 1, 0)
        r1, c1 = min(r1 + 1, shape[0] - 1), min(c1 + 1, shape[1] - 1)
    h, w = r1 - r0 + 1, c1 - c0 + 1
    panels = [(damage, DAMAGE_CMAP, "accumulated damage", "dead neurons per core (mean of runs)"),
              (traffic, TRAFFIC_CMAP, "spike traffic", "spikes per inference")]
    with matplotlib.rc_context(STYLE):
        aspect = h / max(w, 1)
        height = min(4.6, max(2.4, 3.9 * aspect + 0.8))
        fig, axes = _fig(size=(8.6, height), ncols=2)
        for ax, (vals, cmap, title, unit) in zip(axes[0], panels):
            ax.set_title(title, fontsize=9.5)
            ax.grid(False)
            if vals is None or len(vals) != len(xy):
                ax.text(0.5, 0.5, "not recorded", transform=ax.transAxes, ha="center",
                        va="center", color=GREY)
                ax.set_axis_off()
                continue
            img = np.full((h, w), np.nan)
            img[xy[:, 0] - r0, xy[:, 1] - c0] = vals
            cm = cmap.with_extremes(bad="#eeeeee")
            vmax = float(np.nanmax(vals)) if np.nanmax(vals) > 0 else 1.0
            im = ax.imshow(img, cmap=cm, vmin=0, vmax=vmax, interpolation="nearest",
                           extent=(c0 - 0.5, c1 + 0.5, r1 + 0.5, r0 - 0.5))
            ax.set_xlabel("core column")
            ax.set_ylabel("core row")
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=6))
            ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=6))
            for s in ax.spines.values():
                s.set_visible(False)
            cb = fig.colorbar(im, ax=ax, shrink=0.85, pad=0.02)
            cb.set_label(unit, fontsize=8.5)
            cb.outline.set_visible(False)
    return fig


# ---------------------------------------------------------------------------- compare
def compare_figure(missions):
    """Cores and power against final mission reliability (one point per mission), plus the
    reliability and median accuracy of each mission over time. ``missions`` is a list of dicts
    with keys label, cores, power_mw, reliability, times, reliability_series, accuracy_p50."""
    colours = [BLUE, ORANGE, GREEN, RED, PURPLE, SKY, YELLOW, GREY]
    with matplotlib.rc_context(STYLE):
        fig, axes = _fig(size=(8.8, 6.2), ncols=2, nrows=2)
        for (ax, key, label) in ((axes[0, 0], "cores", "cores used"),
                                 (axes[0, 1], "power_mw", "mean power (mW)")):
            for i, m in enumerate(missions):
                x, y = m.get(key), m.get("reliability")
                if x is None or y is None:
                    continue
                ax.scatter([x], [y], s=70, color=colours[i % len(colours)], zorder=3,
                           edgecolor="white", linewidth=1.2)
                ax.annotate(m["label"], (x, y), xytext=(6, 4), textcoords="offset points",
                            fontsize=8.5)
            ax.set_xlabel(label)
            ax.set_ylabel("final mission reliability")
            ax.set_ylim(-0.04, 1.08)
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=None))
            ax.margins(x=0.25)
            ax.set_title(f"{label} vs reliability", fontsize=9.5)
        for (ax, key, label) in ((axes[1, 0], "reliability_series", "reliability"),
                                 (axes[1, 1], "accuracy_p50", "median accuracy")):
            for i, m in enumerate(missions):
                t, v = m.get("times"), m.get(key)
                if t is None or v is None:
                    continue
                ax.plot(t, v, color=colours[i % len(colours)], lw=1.8, label=m["label"])
            ax.set_xlabel("mission time (years)")
            ax.set_ylabel(label)
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=None))
            ax.set_title(f"{label} over time", fontsize=9.5)
        axes[1, 1].legend(loc="lower left")
    return fig
