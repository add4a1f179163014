"""Figure 7 of the report: the used part of the core grid as heat maps of accumulated damage
(dead neurons per core at the end of the mission) and spike traffic (the layout when neither is
recorded)."""
from __future__ import annotations

import numpy as np

import matplotlib
import matplotlib.ticker
from matplotlib.collections import PatchCollection
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.patches import Rectangle

from neurosim.report.plots import GREY, INK, STYLE, _fig, _fmt_count


DAMAGE_CMAP = LinearSegmentedColormap.from_list("damage", ["#fff5eb", "#fdae6b", "#e6550d",
                                                           "#7f2704"])
LAYOUT_CMAP = LinearSegmentedColormap.from_list("layout", ["#dadaeb", "#9e9ac8", "#54278f"])
TRAFFIC_CMAP = LinearSegmentedColormap.from_list("traffic", ["#f7fbff", "#9ecae1", "#3182bd",
                                                             "#08306b"])


def core_maps(res):
    """(core_xy, damage per core, spikes per core, grid shape) from the results, each possibly
    None. damage: mean over runs of accumulated damage (dead neurons, or a damage score) per used
    core at the end of the mission; spikes: spikes per inference per core at launch."""
    xy = res.program_info.get("core_xy")
    damage = _per_core(res, "core_dead_neurons")
    traffic = _per_core(res, "core_spikes")
    return xy, damage, traffic, res.program_info.get("grid_shape")


def _per_core(res, name):
    """Per-core values of runs.npz ``name``: (runs, checkpoints, cores) → mean over runs at the
    last checkpoint; (cores,) as is; None when not recorded."""
    a = res.runs.get(name)
    if a is None:
        return None
    a = np.asarray(a, dtype=float)
    return a[:, -1, :].mean(axis=0) if a.ndim == 3 else a


MIN_WINDOW = 6


def core_grid_figure(res):
    xy, damage, traffic, shape = core_maps(res)
    layout = res.program_info.get("neurons_per_core")
    if xy is None or (damage is None and traffic is None and layout is None):
        return None
    xy = np.asarray(xy, dtype=int)
    while xy.ndim > 2:          # per run (and checkpoint): the launch layout of the first run
        xy = xy[0]
    r0, c0 = (int(v) for v in xy.min(axis=0))
    r1, c1 = (int(v) for v in xy.max(axis=0))
    # crop to the used cores with a one-core margin, at least MIN_WINDOW cores a side so that a
    # small mapping still reads as "a few cores on a grid"; clipped to the chip when known
    rows, cols = shape if shape is not None else (None, None)

    def window(lo, hi, size):
        lo, hi = lo - 1, hi + 1
        extra = MIN_WINDOW - (hi - lo + 1)
        if extra > 0:
            lo, hi = lo - extra // 2, hi + extra - extra // 2
        if lo < 0:
            lo, hi = 0, hi - lo
        if size is not None and hi > size - 1:
            lo, hi = max(0, lo - (hi - size + 1)), size - 1
        return lo, hi

    r0, r1 = window(r0, r1, rows)
    c0, c1 = window(c0, c1, cols)
    h, w = r1 - r0 + 1, c1 - c0 + 1
    panels = [(damage, DAMAGE_CMAP, "accumulated damage", "dead neurons per core (mean of runs)"),
              (traffic, TRAFFIC_CMAP, "spike traffic", "spikes per inference")]
    if damage is None and traffic is None:     # neither recorded: show where the network sits
        panels = [(layout, LAYOUT_CMAP, "layout (damage and traffic not recorded)",
                   "enabled neurons per core")]
    with matplotlib.rc_context(STYLE):
        aspect = h / max(w, 1)
        height = min(4.2, max(2.4, 3.3 * aspect + 0.9))
        fig, axes = _fig(size=(8.6 if len(panels) == 2 else 4.6, height), ncols=len(panels))
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
            cm = cmap.with_extremes(bad="#f2f2f2")
            vmax = float(np.nanmax(vals)) if np.nanmax(vals) > 0 else 1.0
            im = ax.imshow(img, cmap=cm, vmin=0, vmax=vmax, interpolation="nearest",
                           extent=(c0 - 0.5, c1 + 0.5, r1 + 0.5, r0 - 0.5))
            ax.set_xlabel("core column")
            ax.set_ylabel("core row")
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=6))
            ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=6))
            for s in ax.spines.values():
                s.set_visible(False)
            if len(xy) <= 400:     # outline each used core (a zero still reads as "used")
                ax.add_collection(PatchCollection(
                    [Rectangle((c - 0.5, r - 0.5), 1, 1) for r, c in xy], facecolor="none",
                    edgecolor="#888888", linewidth=0.6))
            if len(xy) <= 48:      # few cores: write each value in its square
                for (r, c), v in zip(xy, vals):
                    ax.text(c, r, _fmt_count(v), ha="center", va="center", fontsize=8,
                            color="white" if v > 0.6 * vmax else INK)
            cb = fig.colorbar(im, ax=ax, shrink=0.85, pad=0.02)
            cb.set_label(unit, fontsize=8.5)
            cb.outline.set_visible(False)
    return fig
