"""The mission report: one self-contained HTML file (inline CSS, figures as data URIs, no script,
no network) built from a results directory alone, byte for byte the same on every rebuild.

Sections (their ``id`` and heading are fixed; tests and users link to them):

0. headline numbers — final accuracy p5/p50/p95, final reliability (95 % CI), dead neurons, power,
   energy per inference, how often Erf was informative and held;
1. ``overview``    — scenario, orbit, duration, chip, model, cores used, compile summary;
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
"""
from __future__ import annotations

import html
import os

import numpy as np

from neurosim.fileio import check_output_file, write_text
from neurosim.mission.headline import headline, inference_rate_hz
from neurosim.mission.results import MissionResults
from neurosim.report import core_grid, plots
from neurosim.report.fmt import (ci_text, clip_text, finite, num, pct, plural,
                                 power_text, wilson_interval)
from neurosim.report.style import CSS

SECTIONS = [
    ("overview", "1. Mission overview"),
    ("accuracy", "2. Accuracy over mission time"),
    ("reliability", "3. Reliability over mission time"),
    ("bounds", "4. Erf and Fep against the observed error"),
    ("faults", "5. Faults over time"),
    ("power", "6. Power and energy"),
    ("cores", "7. The core grid"),
    ("provenance", "8. Provenance"),
]

e = html.escape


# ------------------------------------------------------------------------------- formatting
def _value(v):
    """Format a summary/scenario value for a table cell."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return num(v, 4)
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k} = {_value(x)}" for k, x in v.items())
    return str(v)


def _table(rows, cls=""):
    body = "".join(f"<tr><th>{e(str(k))}</th><td>{v}</td></tr>" for k, v in rows
                   if v is not None)
    return f'<table class="{cls}">{body}</table>'


def _missing(what):
    return f'<div class="missing">Not recorded: {e(what)}</div>'


def _figure(fig, caption=None, fmt="svg"):
    """A figure as an <img> with a data URI; narrower figures keep their width relative to the
    full-width ones (plots.WIDE)."""
    width = min(100.0, 100.0 * fig.get_figwidth() / plots.WIDE[0])
    uri = plots.to_data_uri(fig, fmt)
    alt = e(caption or "figure")
    cap = f"<figcaption>{e(caption)}</figcaption>" if caption else ""
    style = f' style="width:{width:.0f}%"' if width < 99.5 else ""
    return f'<figure><img src="{uri}" alt="{alt}"{style}>{cap}</figure>'


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


# ------------------------------------------------------------------------------- sections
def _section(sid, body, lead=None):
    title = dict(SECTIONS)[sid]
    lead_html = f'<p class="lead">{lead}</p>' if lead else ""
    return f'<section id="{sid}"><h2>{e(title)}</h2>{lead_html}{body}</section>'


def _overview(res):
    sc = res.sc
    orbit = sc("environment.preset") or (
        "custom" if isinstance(res.scenario.get("environment"), dict) else None)
    desc = sc("environment.description")
    if orbit is not None and desc:
        orbit = f"{orbit} — {clip_text(desc)}"
    shielding = sc("environment.shielding_mm_al")
    runs = res.s("runs")
    if runs is None:
        a = res.run_array("accuracy")
        runs = a.shape[0] if a is not None else sc("run.runs")
    times = res.times()
    n_ck = res.s("checkpoints")
    if n_ck is None and times is not None:
        n_ck = len(times)
    mission_rows = [
        ("scenario", e(str(res.name))),
        ("orbit / environment", e(_value(orbit)) if orbit is not None else "not recorded"),
        ("shielding", e(f"{num(shielding)} mm Al") if finite(shielding) else _opt(shielding)),
        ("duration", f"{num(res.duration_years())} years" if res.duration_years() else "–"),
        ("checkpoints", e(_value(n_ck)) if n_ck is not None else "–"),
        ("checkpoint interval", _interval(sc)),
        ("solar-cycle phase at launch", _opt(sc("mission.solar_cycle_phase_at_launch_years"),
                                             " years into the cycle")),
        ("accuracy requirement", pct(res.requirement(), 1) if res.requirement() is not None
         else "not recorded"),
        ("Monte Carlo runs", e(_value(runs)) if runs is not None else "–"),
        ("evaluation", _opt(sc("run.mode"), " mode" + (
            f", {sc('run.eval_inputs')} inputs" if sc("run.eval_inputs") else "") + (
            f", {sc('run.ticks')} ticks" if sc("run.mode") == "spiking" and sc("run.ticks")
            else ""))),
    ]
    model, chip = res.model(), res.chip()
    comp = res.compile_report() or {}
    cores = res.s("cores") or comp.get("cores")
    if cores is None and "core_xy" in res.program_info:
        cores = len(res.program_info["core_xy"])
    grid = res.program_info.get("grid_shape")
    chip_rows = [
        ("chip profile", e(_value(chip) + (f" ({grid[0]} × {grid[1]} cores)" if grid else ""))
         if chip is not None else "not recorded"),
        ("power profile", _opt(res.s("power_profile"))),
        ("inference rate", e(f"{num(inference_rate_hz(res))} Hz")
         if inference_rate_hz(res) else None),
        ("model", e(os.path.basename(str(model))) if model is not None else "not recorded"),
        ("cores used", e(_value(cores)) if cores is not None else "not recorded"),
    ]
    compile_keys = [("neurons", "neurons (enabled)"), ("synapses", "synapses"),
                    ("axons", "axons"), ("crossbar_density", "crossbar density"),
                    ("weight_encoding", "weight encoding"), ("copy_neurons", "fan-out copies"),
                    ("relay_neurons", "relay neurons"), ("latency_ticks", "latency (ticks)"),
                    ("quantisation_error", "quantisation error (rel. RMS)"),
                    ("hop_reduction", "hop cost saved by placement")]
    for k, label in compile_keys:
        if k in comp:
            v = comp[k]
            if k in ("crossbar_density", "hop_reduction"):
                v = pct(v)
            else:
                v = e(_value(v))
            chip_rows.append((label, v))
    mitig = sc("mitigation")
    if isinstance(mitig, dict) and mitig:
        chip_rows.append(("mitigation", e(_mitigation(mitig))))
    body = ('<div class="grid2"><div><h3>Mission</h3>' + _table(mission_rows) +
            '</div><div><h3>Chip and model</h3>' + _table(chip_rows) + "</div></div>")
    if not comp:
        body += _missing("compile summary (summary.json 'compile' or program.npz "
                         "meta['compiler']: neurons, synapses, axons, encoding, latency, "
                         "quantisation error)")
    return _section("overview", body)


def _mitigation(m):
    """The [mitigation] table in words."""
    parts = []
    scrub = m.get("scrub_period_days")
    if scrub is not None:
        parts.append(f"scrub every {plural(scrub, 'day')}" if scrub else "no scrubbing")
    if m.get("scrub_after_saa"):
        parts.append("scrub after each SAA pass")
    if "secded" in m:
        parts.append(f"SECDED ({m.get('secded_word_data_bits', '?')}+"
                     f"{m.get('secded_word_check_bits', '?')}-bit words)" if m["secded"]
                     else "no ECC")
    if "spare_cores" in m:
        n = int(m["spare_cores"])
        parts.append(f"{n} spare core{'s' if n != 1 else ''}" if n else "no spare cores")
    if "tmr_hidden" in m:
        parts.append("TMR of hidden neurons" if m["tmr_hidden"] else "no TMR")
    known = {"scrub_period_days", "scrub_after_saa", "secded", "secded_word_data_bits",
             "secded_word_check_bits", "spare_cores", "tmr_hidden"}
    parts += [f"{k} = {_value(v)}" for k, v in m.items() if k not in known]
    return "; ".join(parts)


def _opt(v, suffix=""):
    """A table cell for an optional value (None: the row is left out)."""
    return None if v is None or v == "" else e(_value(v) + suffix)


def _interval(sc):
    days = sc("mission.checkpoint_interval_days")
    if days is None:
        return None
    days = float(days)
    named = {round(365.25 / 12, 3): "monthly", 7.0: "weekly", 1.0: "daily",
             round(365.25, 3): "yearly", round(365.25 / 4, 3): "quarterly"}
    label = named.get(round(days, 3))
    return e(f"{num(days, 3)} days" + (f" ({label})" if label else ""))


def _fig_section(sid, fig, what_missing, lead=None, caption=None, fmt="svg"):
    body = _figure(fig, caption, fmt) if fig is not None else _missing(what_missing)
    return _section(sid, body, lead)


def _accuracy(res, h):
    lo, mid, hi = res.percentile_series("accuracy")
    lead = None
    if mid is not None and len(mid):
        start = h["baseline_accuracy"] if h["baseline_accuracy"] is not None else mid[0]
        lead = (f"Median test accuracy goes from <b>{pct(start)}</b> at launch to "
                f"<b>{pct(mid[-1])}</b> after {num(res.duration_years())} years; "
                f"the worst 5 % of runs end at or below <b>{pct(h['final_accuracy_p05'])}</b>.")
    return _fig_section("accuracy", plots.accuracy_figure(res),
                        "accuracy percentiles per checkpoint (checkpoints.csv accuracy_p05/"
                        "accuracy_p50/accuracy_p95 or runs.npz accuracy)", lead,
                        "Faint lines: individual Monte Carlo runs. Band: 5th–95th percentile "
                        "over runs. Dashed: the accuracy requirement.")


def _reliability(res, h):
    rel = res.get("reliability")
    lead = None
    if rel is not None and len(rel):
        req = res.requirement()
        below = np.flatnonzero(rel < 0.9)
        t = res.times()
        when = (f"; it first drops below 90 % at {num(t[below[0]])} years"
                if below.size and t is not None else "; it never drops below 90 %")
        lo, hi = wilson_interval(rel[-1], res.n_runs())
        ci = f" ({ci_text(lo, hi)} over {res.n_runs()} runs)" if lo is not None else ""
        lead = (f"Share of Monte Carlo runs whose accuracy meets the requirement"
                f"{' of ' + pct(req, 1) if req is not None else ''} at each checkpoint. "
                f"Final reliability (the share at the end of the mission): "
                f"<b>{pct(rel[-1])}</b>{e(ci)}{when}. The band is the Wilson 95 % confidence "
                "interval of each share: runs are Bernoulli trials, so with few runs the "
                "share is known only roughly.")
    return _fig_section("reliability", plots.reliability_figure(res),
                        "reliability per checkpoint (checkpoints.csv 'reliability')", lead)


def _bounds(res, h):
    """Section 4: Erf and Fep against the observed error over time; the like-with-like comparison
    (crash-only checkpoints binned by dead counts per level: n, mean observed, 95 % CI, Erf,
    ratio, held, vacuous) and Erf/observed against the dead fraction."""
    lead = None
    comparison = res.s("bounds")
    if isinstance(comparison, dict):
        lead = (f"<b>{e(comparison['headline'])}.</b> Erf estimates the expected output error of "
                "random crash sets with a given number of dead chip neurons per level; it is "
                "compared with the mean observed error of the run-checkpoints whose only faults "
                "are dead neurons or cores, grouped by their dead counts per level. Fep bounds "
                "the error of every such set. A bound at or above 1 (the largest possible rate "
                "error) is vacuous.")
    elif h["erf_violated_checkpoints"] is not None:
        v = h["erf_violated_checkpoints"]
        lead = (f"Averaged over runs, the observed output error exceeds the Erf estimate at {v} "
                f"checkpoint{'s' if v != 1 else ''} (red), all faults mixed: these results do "
                "not record the like-with-like comparison (crash-only checkpoints by dead "
                "counts).")
    fig = plots.bounds_figure(res)
    body = (_figure(fig, "Log scale; zero values (no fault yet) are not drawn. Below, when "
                    "recorded: Erf / observed mean error of each bin against its dead "
                    "fraction.") if fig is not None else
            _missing("Erf, Fep and observed error per checkpoint (checkpoints.csv erf_mean, "
                     "fep_mean, observed_error_mean, observed_error_max)"))
    if isinstance(comparison, dict):
        body += f"<p>{e(_tight_caption(comparison))}</p>" + _bounds_table(comparison)
    return _section("bounds", body, lead)


MAX_BIN_ROWS = 40     # rows of the per-bin table shown; the rest are counted (summary.json has all)


def _bounds_table(comparison):
    """The per-bin table of the bound comparison and the checkpoints outside the model."""
    levels = ", ".join(comparison.get("levels", []))
    rows = []
    for b in comparison["bins"][:MAX_BIN_ROWS]:
        ci = b["observed_ci95"]
        rows.append("<tr>" + "".join(f'<td class="num">{v}</td>' for v in (
            e(" / ".join(str(c) for c in b["dead_counts"])), b["n"], num(b["observed_mean"]),
            f"{num(ci[0])} – {num(ci[1])}" if ci else "–", num(b["erf"]),
            num(b["ratio"]) if b["ratio"] is not None else "–",
            "yes" if b["held"] else "no", "yes" if b["vacuous"] else "no")) + "</tr>")
    head = "".join(f'<th class="num">{t}</th>' for t in (
        "dead per level", "n", "mean observed", "95 % CI", "Erf", "Erf / observed", "held",
        "vacuous"))
    more = len(comparison["bins"]) - MAX_BIN_ROWS
    note = (f"<p>{comparison['checkpoints']:,} crash-only run-checkpoints with dead neurons "
            f"(levels: {e(levels)}); {comparison['outside_model']:,} with upsets, stuck bits "
            f"or routing faults are outside the bounds' model and not in the table; "
            f"{comparison['no_dead']:,} had no fault at all."
            + (f" {more:,} more bins are in summary.json (bounds.bins)." if more > 0 else "")
            + "</p>")
    table = (f'<table class="data"><tr>{head}</tr>{"".join(rows)}</table>' if rows else "")
    return "<h3>Erf against the observed error, like with like</h3>" + note + table


def _tight_caption(comparison):
    """The regime where Erf is within 10× of the observed error (the tightness figure's text)."""
    t = comparison["tight"]
    if not t["bins"]:
        return f"Tightness: no bin where Erf held within {t['ratio']:g}× of the observed error."
    return (f"Tightness: Erf held within {t['ratio']:g}× of the observed error in {t['bins']} "
            f"bins, at dead fractions {num(t['dead_fraction_min'])} – "
            f"{num(t['dead_fraction_max'])} of the chip neurons.")


def _faults(res, h):
    series = plots.fault_series(res)
    lead = None
    if series:
        lead = "Mean count over Monte Carlo runs at each checkpoint: " + ", ".join(
            f"{label} <b>{plots._fmt_count(v[-1])}</b>" for label, _, v in series) + \
            " at the end of the mission. Permanent faults only accumulate; upsets live until " \
            "the next scrub. Lost synapses count stuck-at-0 crossbar bits and live crossbar " \
            "upsets alike, so the count drops when a checkpoint falls just after a scrub."
    return _fig_section("faults", plots.faults_figure(res),
                        "fault counts by kind per checkpoint (checkpoints.csv dead_neurons_mean, "
                        "dead_cores_mean, stuck_synapses_mean, live_upsets_mean)", lead)


def _power(res, h):
    parts = []
    if finite(h["power_mw_initial"]):
        parts.append(f"Chip power <b>{power_text(h['power_mw_initial'])}</b> at launch, "
                     f"<b>{power_text(h['power_mw_final'])}</b> at the end of the mission "
                     f"(mean over runs)")
    if finite(h["energy_per_inference_uj"]):
        parts.append(f"energy per inference at launch <b>{num(h['energy_per_inference_uj'])} µJ"
                     "</b>" + (f" (power ÷ {num(h['inference_rate_hz'])} inferences/s)"
                               if h["energy_per_inference_derived"] else ""))
    e_end = res.s("energy_per_inference_uj_final_mean")
    if finite(h["energy_per_inference_uj"]) and finite(e_end):
        parts[-1] += f", <b>{num(e_end)} µJ</b> at the end (mean over runs)"
    if finite(h["mission_energy_wh"]):
        parts.append(f"mission energy <b>{num(h['mission_energy_wh'])} Wh</b>")
    if plots.power_breakdown(res) is None:
        parts.append("the breakdown by component is not recorded")
    if h["budget_mw"] is not None:
        worst = max(v for v in (h["power_mw_initial"], h["power_mw_final"], 0.0) if finite(v))
        parts.append(("within" if worst <= h["budget_mw"] else "<b>over</b>") +
                     f" the {power_text(h['budget_mw'])} budget")
    else:
        parts.append("no power budget given in the scenario")
    lead = "; ".join(parts) + "." if parts else None
    return _fig_section("power", plots.power_figure(res),
                        "power per checkpoint (checkpoints.csv power_mw and its breakdown)", lead)


def _cores(res, h):
    fig = core_grid.core_grid_figure(res)
    xy, damage, traffic, _ = core_grid.core_maps(res)
    missing = [n for n, v in (("core positions (core_xy)", xy),
                              ("per-core damage (core_dead_neurons)", damage),
                              ("per-core spike traffic (core_spikes)", traffic)) if v is None]
    if fig is None:
        return _section("cores", _missing("; ".join(missing) + " (runs.npz)"))
    n = len(np.asarray(xy).reshape(-1, 2)) if np.ndim(xy) == 2 else None
    lead = (f"The {n} used cores at their places on the chip's grid" if n else
            "The used cores at their places on the chip's grid") + \
        " (cropped to the used area; grey: unused). "
    if damage is not None:
        lead += "Accumulated damage: neurons dead by the end of the mission, mean over runs. "
    if traffic is not None:
        lead += "Spike traffic: spikes per inference on the fault-free chip."
    if damage is None and traffic is None:
        lead += "Shading: enabled neurons per core, from the compiled program."
    body = _figure(fig, None)
    if missing:
        body += _missing("; ".join(missing) + " (runs.npz)")
    return _section("cores", body, lead)


def _provenance(res):
    prov = res.s("provenance")
    prov = prov if isinstance(prov, dict) else {}
    rows = []
    versions = prov.get("versions") or res.s("versions")
    if isinstance(versions, dict):
        for k in sorted(versions):
            if k.endswith("_git_commit"):
                rows.append((f"{k[:-len('_git_commit')]} git commit",
                             f"<code>{e(_value(versions[k]))}</code>"))
            elif versions[k] is not None:
                rows.append((f"{k} version", e(_value(versions[k]))))
    elif versions is not None:
        rows.append(("versions", e(_value(versions))))
    for key, label in (("neurosim_version", "neurosim version"), ("python", "python"),
                       ("platform", "platform")):
        v = prov.get(key, res.s(key))
        if v is not None:
            rows.append((label, e(_value(v))))
    seed = prov.get("seed", res.s("seed")) if prov.get("seed", res.s("seed")) is not None \
        else res.sc("run.seed")
    rows.append(("scenario seed", e(_value(seed)) if seed is not None else "not recorded"))
    run_seeds = res.runs.get("seeds", res.runs.get("run_seeds"))
    if run_seeds is None and prov.get("run_seeds") is not None:
        run_seeds = np.asarray(prov["run_seeds"])
    if run_seeds is not None:
        rs = np.asarray(run_seeds).ravel()
        first = ", ".join(str(x) for x in rs[:4]) + (" …" if len(rs) > 4 else "")
        rows.append(("run seeds",
                     e(f"{len(rs)} seeds spawned from the scenario seed (first: {first})")))
    elif seed is not None and ("run_index" in res.runs or res.s("runs")):
        rows.append(("run seeds", "run <i>r</i> draws from <code>numpy.random.SeedSequence("
                                  f"{e(_value(seed))}, spawn_key=(r,))</code>, the same whatever "
                                  "the executor and the number of workers"))
    h, how = res.scenario_hash()
    rows.append(("scenario hash", (f"<code>{e(h)}</code> <span style='color:#656d76'>"
                                   f"({e(how)})</span>") if h else "not recorded"))
    for key, hkey, label in (("scenario_file", "scenario_file_sha256", "scenario file as given"),
                             ("model_file", "model_sha256", "model file")):
        if prov.get(key) or prov.get(hkey):
            rows.append((label, f"<code>{e(str(prov.get(key) or ''))}</code>"
                         + (f"<br>SHA-256 <code>{e(str(prov[hkey]))}</code>"
                            if prov.get(hkey) else "")))
    cmd = prov.get("command_line", prov.get("command", res.s("command_line")))
    if isinstance(cmd, list):
        cmd = " ".join(str(c) for c in cmd)
    rows.append(("command line", f"<code>{e(str(cmd))}</code>" if cmd else "not recorded"))
    for key, label in (("executor", "executor"), ("workers", "workers"),
                       ("seconds", "wall time (s)"), ("started", "started"),
                       ("started_utc", "started (UTC)"),
                       ("host", "host")):
        v = prov.get(key, res.s(key))
        if v is not None:
            rows.append((label, e(_value(v))))
    rows.append(("results directory", f"<code>{e(os.path.basename(res.path))}</code>"))
    import matplotlib
    import neurosim
    rows.append(("report built with", e(f"neurosim {neurosim.__version__}, matplotlib "
                                        f"{matplotlib.__version__}")))
    body = _table(rows)
    if res.scenario_text:
        body += ("<details><summary>resolved scenario "
                 f"({e(os.path.basename(res.scenario_file))})</summary>"
                 f"<pre>{e(_clip_lines(res.scenario_text))}</pre></details>")
    else:
        body += _missing("the resolved scenario file")
    return _section("provenance", body)


def _clip_lines(text):
    """``text`` with every line cut by :func:`~neurosim.report.fmt.clip_text` (a scenario's
    free-text values are single TOML lines)."""
    return "\n".join(clip_text(line) for line in text.split("\n"))


# ------------------------------------------------------------------------------- the page
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
        _overview(res), _accuracy(res, h), _reliability(res, h), _bounds(res, h),
        _faults(res, h), _power(res, h), _cores(res, h), _provenance(res),
        "<footer>Generated by neurosim from the saved results; rebuild with "
        f"<code>neurosim report {e(os.path.basename(res.path))}</code>.</footer>",
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(results_dir, out=None, out_name="--out"):
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
               ("provenance", res.s("provenance")), ("resolved scenario", res.scenario_text)]
    return [name for name, v in checks if v is None]
