"""The mission report: one self-contained HTML file (inline CSS, figures as data URIs, no script,
no network) built from a results directory alone, byte for byte the same on every rebuild.

Sections (their ``id`` and heading are fixed; tests and users link to them):

0. headline numbers — final accuracy p5/p50/p95, final reliability (95 % CI), dead neurons, power,
   energy per inference, how often Erf was informative and held;
1. ``overview``    — scenario, orbit, duration, chip, model, cores used, compile summary, and the
   environment of the scenario's orbit and shielding: ground track over the AP8 flux map,
   proton spectra before and after the shielding, LET spectrum with the device's Weibull curve
   (:mod:`neurosim.report.environment`);
2. ``accuracy``    — accuracy over mission time: median, 5–95 % band, requirement line;
3. ``reliability`` — share of runs meeting the requirement over time, Wilson 95 % band;
4. ``bounds``      — Erf and Fep against the observed error (log scale), the like-with-like table
   (crash-only checkpoints binned by dead counts per level) and Erf/observed against the dead
   fraction;
5. ``faults``      — faults over time by kind;
6. ``power``       — power over time, its breakdown, energy per inference, budget line;
7. ``cores``       — the core grid as heat maps of accumulated damage and spike traffic;
8. ``provenance``  — versions, seeds, scenario hash, command line, the resolved scenario.

A piece the results do not record is shown as a grey "not recorded" box naming what is missing.
This module assembles the page; the sections are in :mod:`neurosim.report.sections`, the HTML
building blocks in :mod:`neurosim.report.blocks`.
"""
from __future__ import annotations

import os

from neurosim.fileio import check_output_file, write_text
from neurosim.mission.headline import headline
from neurosim.mission.results import MissionResults
from neurosim.report import core_grid, plots, sections
from neurosim.report.blocks import SECTIONS, e
from neurosim.report.environment import environment_missing
from neurosim.report.fmt import ci_text, clip_text, finite, num, pct, power_text
from neurosim.report.style import CSS

# Names the tests and older callers read from this module.
MAX_BIN_ROWS = sections.MAX_BIN_ROWS
_mitigation = sections.mitigation_text
__all__ = ["SECTIONS", "build_report", "headline", "missing_pieces", "render", "write_report"]


# ------------------------------------------------------------------------------- headline
def _cards(h):
    cards = []
    req = h["requirement"]
    p50 = h["final_accuracy_p50"]
    cls = "neutral"
    if req is not None and finite(p50):
        cls = "good" if h["final_accuracy_p05"] is not None and \
            float(h["final_accuracy_p05"]) >= req else ("good" if float(p50) >= req else "bad")
    cards.append(("final accuracy (median)", pct(p50),
                  f"p5 {pct(h['final_accuracy_p05'])} · p95 {pct(h['final_accuracy_p95'])}", cls))
    rel = h["reliability_final"]
    cls = "neutral" if not finite(rel) else ("good" if float(rel) >= 0.9 else "bad")
    detail = f"runs ≥ {pct(req, 0)} accuracy at the end" if req is not None else \
        "share of runs meeting the requirement at the end"
    ci = ci_text(*(h["reliability_final_ci95"] or (None, None)))
    if ci:
        detail += f"; {ci} ({h['runs']} runs)"
    if h.get("reliability_note"):
        detail += f"; {h['reliability_note']}"
        cls = "neutral"
    cards.append(("final reliability", pct(rel), detail, cls))
    cards.append(("dead neurons", num(h["dead_neurons_final_mean"]),
                  "mean over runs, end of mission", "neutral"))
    p0, p1, budget = h["power_mw_initial"], h["power_mw_final"], h["budget_mw"]
    detail = f"at launch {power_text(p0)}" if finite(p0) else "not recorded"
    if finite(h["energy_per_inference_uj"]):
        detail += f"; {num(h['energy_per_inference_uj'])} µJ per inference"
    cls = "neutral"
    if budget is not None and finite(p1):
        cls = "good" if max(float(p0 or 0), float(p1)) <= budget else "bad"
        detail += f"; budget {power_text(budget)}"
    cards.append(("chip power, end", power_text(p1), detail, cls))
    cards.append(_bounds_card(h))
    out = []
    for label, value, detail, cls in cards:
        out.append(f'<div class="card {cls}"><div class="label">{e(label)}</div>'
                   f'<div class="value">{e(value)}</div>'
                   f'<div class="detail">{e(detail)}</div></div>')
    return '<div class="cards">' + "".join(out) + "</div>"


def _bounds_card(h):
    """(label, value, detail, class) of the bounds card: the bound comparison's sentence (how
    often Erf was informative and held), never a bare yes."""
    if h["bounds_headline"] is not None:
        share = h["erf_informative"]
        held = h["erf_held_bins"]
        cls = "neutral" if held is None else ("good" if held >= 0.9 else "bad")
        return ("Erf informative", pct(share, 0) if share is not None else "–",
                h["bounds_headline"], cls)
    v = h["erf_violated_checkpoints"]
    if v is None:
        return ("Erf vs observed", "–", "bounds not recorded", "neutral")
    return ("Erf vs observed", f"{v} > Erf",
            f"mean observed error > Erf at {v} checkpoint{'s' if v != 1 else ''} (all faults "
            "mixed; the like-with-like comparison is not recorded in these results)", "neutral")


def render(res):
    """The report of ``res`` (a MissionResults) as an HTML string."""
    h = headline(res)
    model, chip = res.model(), res.chip()
    desc = res.sc("mission.description")
    sub = []
    if model:
        sub.append(f"model {os.path.basename(str(model))}")
    if chip:
        sub.append(f"on {chip}")
    if res.duration_years():
        sub.append(f"{num(res.duration_years())} years")
    runs = res.s("runs")
    if runs:
        sub.append(f"{runs} Monte Carlo runs")
    nav = "".join(f'<a href="#{sid}">{e(title)}</a>' for sid, title in SECTIONS)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>neurosim mission report — {e(str(res.name))}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<header><h1>Mission report: {e(str(res.name))}</h1>"
        f'<p class="sub">{e(" · ".join(sub))}'
        + (f"<br>{e(clip_text(desc))}" if desc else "") + "</p></header>",
        _cards(h), f"<nav>{nav}</nav>",
        sections.overview(res), sections.accuracy(res, h), sections.reliability(res, h),
        sections.bounds(res, h), sections.faults(res, h), sections.power(res, h),
        sections.cores(res, h), sections.provenance(res),
        "<footer>Generated by neurosim from the saved results; rebuild with "
        f"<code>neurosim report {e(os.path.basename(res.path))}</code>.</footer>",
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(results_dir, out=None, out_name="out"):
    """Build ``report.html`` from a mission results directory and return its path.

    ``out`` defaults to ``RESULTS_DIR/report.html``; it is checked (``out_name`` names it in the
    message) before the results are read, and written atomically (:mod:`neurosim.fileio`).
    Deterministic: the same results give the same bytes (no build timestamp; SVG figures with a
    fixed hash salt and no date).
    """
    return build_report(results_dir, out, out_name)[0]


def build_report(results_dir, out, out_name):
    """Check the output path (the one given before reading anything, the default once the
    results directory is known to exist), render and write; return (path, results)."""
    if out is not None:
        check_output_file(out, out_name)
    res = MissionResults(results_dir)
    path = out if out is not None else check_output_file(
        os.path.join(res.path, "report.html"), "the report in RESULTS_DIR")
    write_text(path, render(res))
    return path, res


def missing_pieces(res):
    """Names of the optional pieces the results do not record (for ``--json`` and the tests)."""
    checks = [
        ("accuracy", res.percentile_series("accuracy")[1]),
        ("reliability", res.get("reliability")),
        ("erf", res.get("erf_mean")),
        ("fep", res.get("fep_mean")),
        ("observed_error_mean", res.get("observed_error_mean")),
        ("fault counts", plots.fault_series(res) or None),
        ("power_mw", plots.power_series(res)[1]),
        ("power breakdown", plots.power_components(res) or None),
        ("energy per inference", headline(res)["energy_per_inference_uj"]),
    ]
    xy, damage, traffic, _ = core_grid.core_maps(res)
    checks += [("core_xy", xy), ("per-core damage", damage), ("per-core spikes", traffic),
               ("compile summary", res.compile_report()),
               ("provenance", res.s("provenance")), ("resolved scenario", res.scenario_text),
               ("environment inputs", None if environment_missing(res) else True)]
    return [name for name, v in checks if v is None]
