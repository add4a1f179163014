"""The sections of the mission report (see :mod:`neurosim.report.html` for the page): each
function returns one ``<section>`` built from a :class:`~neurosim.mission.results.MissionResults`
(and, where it needs them, the headline numbers ``h`` of
:func:`neurosim.mission.headline.headline`).
"""
from __future__ import annotations

import os

import matplotlib
import numpy as np

from neurosim import __version__
from neurosim.mission.headline import inference_rate_hz
from neurosim.report import core_grid, plots
from neurosim.report.blocks import (e, fig_section, figure, missing, opt, section, table,
                                    value_text)
from neurosim.report.environment import environment_block
from neurosim.report.fmt import (ci_text, clip_text, finite, num, pct, plural, power_text,
                                 wilson_interval)


def overview(res):
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
        ("orbit / environment", e(value_text(orbit)) if orbit is not None else "not recorded"),
        ("shielding", e(f"{num(shielding)} mm Al") if finite(shielding) else opt(shielding)),
        ("duration", f"{num(res.duration_years())} years" if res.duration_years() else "–"),
        ("checkpoints", e(value_text(n_ck)) if n_ck is not None else "–"),
        ("checkpoint interval", _interval(sc)),
        ("solar-cycle phase at launch", opt(sc("mission.solar_cycle_phase_at_launch_years"),
                                             " years into the cycle")),
        ("accuracy requirement", pct(res.requirement(), 1) if res.requirement() is not None
         else "not recorded"),
        ("Monte Carlo runs", e(value_text(runs)) if runs is not None else "–"),
        ("evaluation", opt(sc("run.mode"), " mode" + (
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
        ("chip profile", e(value_text(chip) + (f" ({grid[0]} × {grid[1]} cores)" if grid else ""))
         if chip is not None else "not recorded"),
        ("power profile", opt(res.s("power_profile"))),
        ("inference rate", e(f"{num(inference_rate_hz(res))} Hz")
         if inference_rate_hz(res) else None),
        ("model", e(os.path.basename(str(model))) if model is not None else "not recorded"),
        ("cores used", e(value_text(cores)) if cores is not None else "not recorded"),
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
                v = e(value_text(v))
            chip_rows.append((label, v))
    mitig = sc("mitigation")
    if isinstance(mitig, dict) and mitig:
        chip_rows.append(("mitigation", e(mitigation_text(mitig))))
    body = ('<div class="grid2"><div><h3>Mission</h3>' + table(mission_rows) +
            '</div><div><h3>Chip and model</h3>' + table(chip_rows) + "</div></div>")
    if not comp:
        body += missing("compile summary (summary.json 'compile' or program.npz "
                         "meta['compiler']: neurons, synapses, axons, encoding, latency, "
                        "quantisation error)")
    return section("overview", body + environment_block(res))


def mitigation_text(m):
    """The [mitigation] table in words."""
    parts = []
    scrub = m.get("scrub_period_days")
    if scrub is not None:
        parts.append(f"scrub every {plural(scrub, 'day')}" if scrub else "no scrubbing")
    if m.get("scrub_after_saa"):
        parts.append("scrub after each SAA pass")
    if "secded" in m:
        k = int(m.get("column_interleave", 1))
        parts.append(f"SECDED ({m.get('secded_word_data_bits', '?')}+"
                     f"{m.get('secded_word_check_bits', '?')}-bit words"
                     + (f", {k}-way column interleave)" if k > 1 else ")") if m["secded"]
                     else "no ECC")
    if "spare_cores" in m:
        n = int(m["spare_cores"])
        parts.append(f"{n} spare core{'s' if n != 1 else ''}" if n else "no spare cores")
    if "tmr_hidden" in m:
        parts.append("TMR of hidden neurons" if m["tmr_hidden"] else "no TMR")
    known = {"scrub_period_days", "scrub_after_saa", "secded", "secded_word_data_bits",
             "secded_word_check_bits", "column_interleave", "spare_cores", "tmr_hidden"}
    parts += [f"{k} = {value_text(v)}" for k, v in m.items() if k not in known]
    return "; ".join(parts)


def _interval(sc):
    days = sc("mission.checkpoint_interval_days")
    if days is None:
        return None
    days = float(days)
    named = {round(365.25 / 12, 3): "monthly", 7.0: "weekly", 1.0: "daily",
             round(365.25, 3): "yearly", round(365.25 / 4, 3): "quarterly"}
    label = named.get(round(days, 3))
    return e(f"{num(days, 3)} days" + (f" ({label})" if label else ""))


def accuracy(res, h):
    lo, mid, hi = res.percentile_series("accuracy")
    lead = None
    if mid is not None and len(mid):
        start = h["baseline_accuracy"] if h["baseline_accuracy"] is not None else mid[0]
        lead = (f"Median test accuracy goes from <b>{pct(start)}</b> at launch to "
                f"<b>{pct(mid[-1])}</b> after {num(res.duration_years())} years; "
                f"the worst 5 % of runs end at or below <b>{pct(h['final_accuracy_p05'])}</b>.")
    return fig_section("accuracy", plots.accuracy_figure(res),
                        "accuracy percentiles per checkpoint (checkpoints.csv accuracy_p05/"
                        "accuracy_p50/accuracy_p95 or runs.npz accuracy)", lead,
                        "Faint lines: individual Monte Carlo runs. Band: 5th–95th percentile "
                        "over runs. Dashed: the accuracy requirement.")


def reliability(res, h):
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
    return fig_section("reliability", plots.reliability_figure(res),
                        "reliability per checkpoint (checkpoints.csv 'reliability')", lead)


def bounds(res, h):
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
    body = (figure(fig, "Log scale; zero values (no fault yet) are not drawn. Below, when "
                    "recorded: Erf / observed mean error of each bin against its dead "
                    "fraction.") if fig is not None else
            missing("Erf, Fep and observed error per checkpoint (checkpoints.csv erf_mean, "
                     "fep_mean, observed_error_mean, observed_error_max)"))
    if isinstance(comparison, dict):
        body += f"<p>{e(_tight_caption(comparison))}</p>" + _bounds_table(comparison)
    return section("bounds", body, lead)


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


def faults(res, h):
    series = plots.fault_series(res)
    lead = None
    if series:
        lead = "Mean count over Monte Carlo runs at each checkpoint: " + ", ".join(
            f"{label} <b>{plots._fmt_count(v[-1])}</b>" for label, _, v in series) + \
            " at the end of the mission. Permanent faults only accumulate; upsets live until " \
            "the next scrub. Lost synapses count stuck-at-0 crossbar bits and live crossbar " \
            "upsets alike, so the count drops when a checkpoint falls just after a scrub."
    return fig_section("faults", plots.faults_figure(res),
                        "fault counts by kind per checkpoint (checkpoints.csv dead_neurons_mean, "
                        "dead_cores_mean, stuck_synapses_mean, live_upsets_mean)", lead)


def power(res, h):
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
    return fig_section("power", plots.power_figure(res),
                        "power per checkpoint (checkpoints.csv power_mw and its breakdown)", lead)


def cores(res, h):
    fig = core_grid.core_grid_figure(res)
    xy, damage, traffic, _ = core_grid.core_maps(res)
    absent = [n for n, v in (("core positions (core_xy)", xy),
                              ("per-core damage (core_dead_neurons)", damage),
                              ("per-core spike traffic (core_spikes)", traffic)) if v is None]
    if fig is None:
        return section("cores", missing("; ".join(absent) + " (runs.npz)"))
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
    body = figure(fig, None)
    if absent:
        body += missing("; ".join(absent) + " (runs.npz)")
    return section("cores", body, lead)


def provenance(res):
    prov = res.s("provenance")
    prov = prov if isinstance(prov, dict) else {}
    rows = []
    versions = prov.get("versions") or res.s("versions")
    if isinstance(versions, dict):
        for k in sorted(versions):
            if k.endswith("_git_commit"):
                rows.append((f"{k[:-len('_git_commit')]} git commit",
                             f"<code>{e(value_text(versions[k]))}</code>"))
            elif versions[k] is not None:
                rows.append((f"{k} version", e(value_text(versions[k]))))
    elif versions is not None:
        rows.append(("versions", e(value_text(versions))))
    for key, label in (("neurosim_version", "neurosim version"), ("python", "python"),
                       ("platform", "platform")):
        v = prov.get(key, res.s(key))
        if v is not None:
            rows.append((label, e(value_text(v))))
    seed = prov.get("seed", res.s("seed")) if prov.get("seed", res.s("seed")) is not None \
        else res.sc("run.seed")
    rows.append(("scenario seed", e(value_text(seed)) if seed is not None else "not recorded"))
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
                                  f"{e(value_text(seed))}, spawn_key=(r,))</code>, the same "
                                  "whatever the executor and the number of workers"))
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
            rows.append((label, e(value_text(v))))
    rows.append(("results directory", f"<code>{e(os.path.basename(res.path))}</code>"))
    rows.append(("report built with", e(f"neurosim {__version__}, matplotlib "
                                        f"{matplotlib.__version__}")))
    body = table(rows)
    if res.scenario_text:
        body += ("<details><summary>resolved scenario "
                 f"({e(os.path.basename(res.scenario_file))})</summary>"
                 f"<pre>{e(_clip_lines(res.scenario_text))}</pre></details>")
    else:
        body += missing("the resolved scenario file")
    return section("provenance", body)


def _clip_lines(text):
    """``text`` with every line cut by :func:`~neurosim.report.fmt.clip_text` (a scenario's
    free-text values are single TOML lines)."""
    return "\n".join(clip_text(line) for line in text.split("\n"))
