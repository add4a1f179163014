"""Several missions side by side: ``neurosim compare DIR... [--out DIR] [--json]``.

The study users run first: the dense, sparse-momentum and NeST digits models flown through the same
scenario. Over-provisioning (more cores, more neurons to lose before accuracy drops) against
compactness (fewer cores, less power, but each dead neuron costs more): the page plots cores used
and power against mission-average reliability, and reliability and median accuracy over time, with
a table of the headline numbers. Writes ``compare.html`` (self-contained, deterministic) and
``compare.json`` into the output directory.

Two reliabilities, each with its own name everywhere (page, table, JSON, README):

* **final reliability** (``reliability_final``): the share of runs meeting the accuracy
  requirement at the end of the mission (the report's headline figure);
* **mission-average reliability** (``reliability_mission_average``): that share averaged over
  the mission's checkpoints.

Each comes with its Wilson 95 % confidence interval over the runs (``..._ci95`` = [lo, hi]; see
:func:`neurosim.report.fmt.wilson_interval`). Powers are shown with the report's unit rule
(:func:`neurosim.report.fmt.power_unit`); the JSON keeps milliwatts (``power_mw``).
"""
from __future__ import annotations

import json
import os

import matplotlib
import numpy as np

from neurosim.errors import ValidationError
from neurosim.fileio import check_output_dir, write_text
from neurosim.mission.headline import headline, power_series, share_ci95
from neurosim.mission.results import MissionResults
from neurosim.report import plots
from neurosim.report.fmt import ci_range, num, pct, power_unit
from neurosim.report.blocks import e, missing
from neurosim.report.plots import (BLUE, GREEN, GREY, ORANGE, PURPLE, RED, SKY, STYLE, YELLOW,
                                   _fig, _title, wilson_band)
from neurosim.report.style import CSS

DEFAULT_OUT = "neurosim-compare"
CSS_CI = ".ci { font-size: 11px; color: var(--mute); }"
RELIABLE = 0.9   # "years reliable": mission time until reliability first drops below this


def _model_name(res):
    """The model's file name without extension and 'digits_' prefix, or None if not recorded."""
    model = res.model()
    if not model:
        return None
    name = os.path.splitext(os.path.basename(str(model)))[0]
    return name[len("digits_"):] if name.startswith("digits_") else name


def _label(res, others):
    """A short label: the model name when the compared missions' models all differ, else the
    results directory's name (e.g. one model in several scenarios)."""
    names = [_model_name(r) for r in others]
    if None not in names and len(set(names)) == len(names):
        return _model_name(res)
    return os.path.basename(res.path.rstrip(os.sep))


def mission_row(res):
    """The comparison numbers of one mission (JSON-ready)."""
    h = headline(res)
    comp = res.compile_report() or {}
    cores = res.s("cores") or comp.get("cores")
    if cores is None and "core_xy" in res.program_info:
        cores = len(res.program_info["core_xy"])
    _, p_mid, _ = power_series(res)
    mean_power = float(np.nanmean(p_mid)) if p_mid is not None and len(p_mid) else None
    rel = res.get("reliability")
    t = res.times()
    reliable_years = rel_mean = None
    if rel is not None and len(rel):
        rel_mean = float(np.nanmean(rel))
    if rel is not None and t is not None and len(rel) == len(t):
        below = np.flatnonzero(rel < RELIABLE)
        reliable_years = float(t[-1]) if not below.size else float(t[below[0]])
    return {
        "results": res.path,
        "years_reliable": reliable_years, "runs": h["runs"],
        "reliability_mission_average": rel_mean,
        "reliability_mission_average_ci95": share_ci95(rel_mean, h["runs"]),
        "scenario": str(res.name),
        "cores": int(cores) if cores is not None else None,
        "neurons": comp.get("neurons"),
        "power_mw": mean_power,
        "power_mw_initial": h["power_mw_initial"], "power_mw_final": h["power_mw_final"],
        "energy_per_inference_uj": h["energy_per_inference_uj"],
        "final_accuracy_p05": h["final_accuracy_p05"],
        "final_accuracy_p50": h["final_accuracy_p50"],
        "reliability_final": h["reliability_final"],
        "reliability_final_ci95": h["reliability_final_ci95"],
        "dead_neurons_final_mean": h["dead_neurons_final_mean"],
        "erf_informative": h["erf_informative"],
    }


def _clean(v):
    if isinstance(v, list):
        return [_clean(x) for x in v]
    if isinstance(v, (np.floating, np.integer)):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def compare(dirs):
    """Load the missions and return (results, rows)."""
    if len(dirs) < 2:
        raise ValidationError(f"{len(dirs)} results directory given; expected at least 2")
    results = [MissionResults(d) for d in dirs]
    rows = []
    for res in results:
        row = {k: _clean(v) for k, v in mission_row(res).items()}
        row["label"] = _label(res, results)
        rows.append(row)
    labels = [r["label"] for r in rows]
    if len(set(labels)) < len(labels):   # same model twice: fall back to directory names
        for r, res in zip(rows, results):
            r["label"] = os.path.basename(res.path.rstrip(os.sep))
    return results, rows


def _cell(row, key, kind, power_k):
    """One table cell's text (HTML-escaped)."""
    v = row.get(key)
    if v is None:
        return "–"
    if kind == "pct":
        return e(pct(v))
    if kind == "pct_ci":
        ci = ci_range(*(row.get(f"{key}_ci95") or (None, None)))
        return e(pct(v)) + (f'<br><span class="ci">{e(ci)}</span>' if ci else "")
    if kind == "int":
        return str(int(v))
    if kind == "power":
        return e(num(v * power_k))
    return e(num(v))


def power_scale(rows):
    """(factor, unit) of the table's power columns: the report's rule on the largest value."""
    powers = [r["power_mw"] for r in rows if r.get("power_mw") is not None]
    return power_unit(max(powers) if powers else None)


def render(results, rows):
    missions = []
    for res, row in zip(results, rows):
        t, rel, acc = launch_series(res)
        missions.append(dict(row, times=t, reliability_series=rel, accuracy_p50=acc))
    fig = compare_figure(missions)
    scen = sorted({r["scenario"] for r in rows})
    same = len(scen) == 1
    power_k, unit = power_scale(rows)
    cols = [("label", "mission", None), ("cores", "cores", "int"), ("neurons", "neurons", "int"),
            ("power_mw", f"mean power ({unit})", "power"),
            ("energy_per_inference_uj", "µJ / inference", "num"),
            ("final_accuracy_p50", "final accuracy p50", "pct"),
            ("final_accuracy_p05", "final accuracy p5", "pct"),
            ("reliability_mission_average", "mission-average reliability (95 % CI)", "pct_ci"),
            ("reliability_final", "final reliability (95 % CI)", "pct_ci"),
            ("years_reliable", "years ≥ 90 % reliable", "num"),
            ("dead_neurons_final_mean", "dead neurons", "num"), ("erf_informative", "Erf informative", "pct")]
    head = "".join(f'<th class="{"" if k == "label" else "num"}">{e(t)}</th>' for k, t, _ in cols)
    body = ""
    for r in rows:
        cells = [f"<td><b>{e(str(r['label']))}</b></td>"] + [
            f'<td class="num">{_cell(r, k, kind, power_k)}</td>' for k, _, kind in cols[1:]]
        body += "<tr>" + "".join(cells) + "</tr>"
    # the reading of the study, in one sentence
    lead = ""
    have = [r for r in rows if r["cores"] is not None
            and r["reliability_mission_average"] is not None]
    if len(have) >= 2:
        best = max(have, key=lambda r: (r["reliability_mission_average"], -r["cores"]))
        cheap = min(have, key=lambda r: (r["power_mw"] if r["power_mw"] is not None else 1e300,
                                         r["cores"]))
        lead = (f"<p class=\"lead\">Most reliable: <b>{e(best['label'])}</b> "
                f"({pct(best['reliability_mission_average'])} mission-average reliability on "
                f"{best['cores']} cores). Least power: <b>{e(cheap['label'])}</b> "
                f"({e(num(cheap['power_mw'] * power_k if cheap['power_mw'] is not None else None))}"
                f" {unit}, {pct(cheap['reliability_mission_average'])} mission-average "
                "reliability). Mission-average reliability: the share of runs meeting the "
                "accuracy requirement, averaged over the checkpoints; final reliability: that "
                "share at the end. Intervals: Wilson 95 % over the runs.</p>")
    dirs = "".join(f"<li><code>{e(r['label'])}</code>: <code>{e(os.path.basename(r['results']))}"
                   f"</code></li>" for r in rows)
    title = "Mission comparison" + (f": {scen[0]}" if same else "")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>neurosim — {e(title)}</title><style>{CSS}{CSS_CI}</style></head><body><main>",
        f"<header><h1>{e(title)}</h1><p class=\"sub\">{len(rows)} missions"
        + ("" if same else f" · scenarios: {e(', '.join(scen))}") + "</p></header>",
        '<section id="table"><h2>Missions side by side</h2>' + lead +
        f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        "</section>",
        '<section id="figure"><h2>Over-provisioning against compactness</h2>'
        '<p class="lead">Top: cores used and mean power against mission-average reliability, '
        "the share of runs meeting the accuracy requirement averaged over the mission's "
        "checkpoints, with its Wilson 95 % interval (up and to the left is better). Bottom: "
        "the share of runs meeting the requirement at each checkpoint (band: Wilson 95 %) and "
        "median accuracy over mission time.</p>"
        + (f'<figure><img src="{plots.to_data_uri(fig)}" alt="comparison"></figure>'
           if fig is not None else missing("figure")) + "</section>",
        f'<section id="sources"><h2>Results</h2><ul>{dirs}</ul></section>',
        "</main></body></html>"]) + "\n"


def write_compare(dirs, out=None, out_name="out"):
    """Write ``compare.html`` and ``compare.json`` into ``out`` (default ./neurosim-compare);
    return (html path, rows). ``out`` is checked (``out_name`` names it in the message) before the
    missions are read; both files are written atomically (:mod:`neurosim.fileio`)."""
    out = check_output_dir(out or DEFAULT_OUT, out_name)
    results, rows = compare(dirs)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "compare.html")
    write_text(path, render(results, rows))
    write_text(os.path.join(out, "compare.json"),
               json.dumps({"missions": rows}, indent=2, sort_keys=True) + "\n")
    return path, rows


# ------------------------------------------------------------------------------- figure
def compare_figure(missions):
    """Cores and power against mission-average reliability (one point per mission, with its
    Wilson 95 % interval), plus the share of runs meeting the requirement (Wilson band) and the
    median accuracy of each mission over time. ``missions`` is a list of dicts with keys label,
    cores, power_mw, runs, reliability_mission_average (share of runs meeting the requirement,
    averaged over the checkpoints), reliability_mission_average_ci95, times, reliability_series,
    accuracy_p50 (series start at launch)."""
    colours = [BLUE, ORANGE, GREEN, RED, PURPLE, SKY, YELLOW, GREY]
    powers = [m["power_mw"] for m in missions if m.get("power_mw") is not None]
    k_power, unit = power_unit(max(powers) if powers else None)
    with matplotlib.rc_context(STYLE):
        fig, axes = _fig(size=(8.8, 6.2), ncols=2, nrows=2)
        for (ax, key, label, k) in ((axes[0, 0], "cores", "cores used", 1.0),
                                    (axes[0, 1], "power_mw", f"mean power ({unit})", k_power)):
            _reliability_scatter(ax, missions, key, k, colours)
            ax.set_xlabel(label)
            if key == "cores":
                ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
            _title(ax, f"{label.split(' (')[0]} against mission-average reliability", 4.2)
        for (ax, key, label) in ((axes[1, 0], "reliability_series",
                                  "runs meeting the requirement"),
                                 (axes[1, 1], "accuracy_p50", "median accuracy")):
            for i, m in enumerate(missions):
                t, v = m.get("times"), m.get(key)
                if t is None or v is None:
                    continue
                colour = colours[i % len(colours)]
                ax.plot(t, v, color=colour, lw=1.8, label=m["label"])
                if key == "reliability_series":
                    lo, hi = wilson_band(v, m.get("runs"))
                    if lo is not None:
                        ax.fill_between(t, lo, hi, color=colour, alpha=0.12, lw=0)
            ax.set_xlabel("mission time (years)")
            ax.set_ylabel(label)
            ax.set_xlim(left=0)
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=None))
            _title(ax, f"{label} over time"
                   + (" (band: Wilson 95 %)" if key == "reliability_series" else ""), 4.2)
        axes[1, 1].legend(loc="lower left")
    return fig


def _reliability_scatter(ax, missions, key, k, colours):
    """One point per mission at (``key`` × ``k``, mission-average reliability) with its Wilson
    95 % interval as a vertical error bar; labels of points at nearly the same place stacked."""
    pts = [(i, m[key] * k, m["reliability_mission_average"]) for i, m in enumerate(missions)
           if m.get(key) is not None and m.get("reliability_mission_average") is not None]
    xs = [x for _, x, _ in pts]
    span = (max(xs) - min(xs)) if xs else 0
    placed = []
    for i, x, y in pts:
        colour = colours[i % len(colours)]
        ci = missions[i].get("reliability_mission_average_ci95")
        if ci and None not in ci:
            ax.errorbar([x], [y], yerr=[[y - ci[0]], [ci[1] - y]], color=colour, lw=1.2,
                        capsize=3, zorder=2)
        ax.scatter([x], [y], s=70, color=colour, zorder=3, edgecolor="white", linewidth=1.2)
        n = sum(1 for px, py in placed if abs(px - x) <= 0.04 * max(span, 1e-12)
                and abs(py - y) < 0.05)
        placed.append((x, y))
        ax.annotate(missions[i]["label"], (x, y), xytext=(7, 3 - 12 * n),
                    textcoords="offset points", fontsize=8.5, va="center")
    ax.set_ylabel("mission-average reliability")
    ax.set_ylim(-0.04, 1.08)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=None))
    if xs and span == 0:
        ax.set_xlim(xs[0] * 0.5 if xs[0] > 0 else -1, xs[0] * 1.5 if xs[0] > 0 else 1)
    else:
        ax.margins(x=0.3)
    ax.set_xlim(left=max(0.0, ax.get_xlim()[0]))


def launch_series(res):
    """(times, reliability, median accuracy) of a mission, starting at launch when the fault-free
    accuracy is known."""
    t = res.times()
    rel = res.get("reliability")
    _, acc, _ = res.percentile_series("accuracy")
    base, req = res.baseline_accuracy(), res.requirement()
    if base is not None and t is not None and len(t) and t[0] > 0:
        t2 = np.concatenate([[0.0], t])
        if rel is not None:
            rel = np.concatenate([[1.0 if req is None or base >= req else 0.0], rel])
        if acc is not None:
            acc = np.concatenate([[base], acc])
        t = t2
    return t, rel, acc
