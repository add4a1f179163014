"""The mission report, `neurosim report` and `neurosim compare`.

The report is checked on a real small seeded mission (through ``neurosim.mission``) when the runner
is importable, and on synthetic results with the runner's layout otherwise (and always, for the
"not recorded" placeholders). Headless Chromium renders the page: no console errors, the headings
in the rendered DOM, a non-blank screenshot. Chromium is required (CI installs Debian's package).
"""
import csv
import json
import os
import re
import shutil
from xml.etree import ElementTree
import subprocess

import numpy as np
import pytest

from neurosim.report import html as report_html
from neurosim.report.compare import write_compare
from neurosim.report.environment import ENVIRONMENT_FIGURES
from neurosim.errors import ValidationError
from neurosim.mission.results import MissionResults

CHROMIUM = "/usr/bin/chromium"
HEADINGS = [title for _, title in report_html.SECTIONS]


# ------------------------------------------------------------------------------ synthetic results
def fake_results(path, label="dense", cores=12, power0=1.2, seed=0, runs=6, checkpoints=9,
                 with_cores=True, with_bounds=True):
    """A results directory with the mission runner's layout (summary.json, checkpoints.csv,
    runs.npz, scenario.resolved.toml, program.npz reduced to the fields the report reads), made
    from seeded random numbers."""
    rng = np.random.default_rng(seed)
    os.makedirs(path, exist_ok=True)
    t = np.linspace(2.0 / checkpoints, 2.0, checkpoints)
    G = 2
    dead = np.cumsum(rng.poisson(1.5, (runs, checkpoints, G)), axis=1)
    dead_total = dead.sum(axis=2)
    acc = np.clip(0.95 - 0.004 * dead_total + rng.normal(0, 0.005, (runs, checkpoints)), 0, 1)
    req = 0.9
    err = 0.002 * dead_total + 1e-4
    erf = 1.5 * err
    err = err * np.where(t > 1.6, 2.0, 1.0)
    power = power0 * (1 - 0.002 * dead_total)
    cols = {
        "time_days": t * 365.25, "time_years": t,
        "accuracy_p05": np.percentile(acc, 5, axis=0),
        "accuracy_p50": np.percentile(acc, 50, axis=0),
        "accuracy_p95": np.percentile(acc, 95, axis=0),
        "accuracy_mean": acc.mean(axis=0),
        "reliability": (acc >= req).mean(axis=0),
        "error_mean_p50": np.percentile(err, 50, axis=0),
        "error_mean_p95": np.percentile(err, 95, axis=0),
        "dead_neurons_mean": dead_total.mean(axis=0),
        "dead_neurons_layer0_mean": dead[:, :, 0].mean(axis=0),
        "dead_neurons_layer1_mean": dead[:, :, 1].mean(axis=0),
        "dead_synapses_mean": 4 * t,
        "dead_cores_mean": 0.1 * t,
        "spares_used_mean": 0.05 * t,
        "live_upsets_mean": rng.poisson(2, checkpoints).astype(float),
        "upsets_mean": rng.poisson(5, checkpoints).astype(float),
    }
    if with_bounds:
        cols.update(erf_mean=erf.mean(axis=0), fep_mean=20 * erf.mean(axis=0),
                    observed_error_mean=err.mean(axis=0), observed_error_max=err.max(axis=0) * 1.5,
                    bound_violations=(err > erf).sum(axis=0))
    cols.update(power_mw_p05=np.percentile(power, 5, axis=0),
                power_mw_p50=np.percentile(power, 50, axis=0),
                power_mw_p95=np.percentile(power, 95, axis=0),
                power_leakage_mw_mean=np.full(checkpoints, 0.7 * power0),
                power_neuron_updates_mw_mean=np.full(checkpoints, 0.1 * power0),
                power_synaptic_events_mw_mean=0.15 * power.mean(axis=0),
                power_spikes_mw_mean=0.01 * power.mean(axis=0),
                power_hops_mw_mean=0.04 * power.mean(axis=0),
                power_latchup_mw_mean=np.zeros(checkpoints))
    with open(os.path.join(path, "checkpoints.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(list(cols))
        for i in range(checkpoints):
            w.writerow([f"{float(cols[k][i]):.6g}" for k in cols])
    arrays = {"accuracy": acc.astype(np.float32), "dead_neurons": dead.astype(np.int32),
              "error_mean": err, "power_mw": power, "run_index": np.arange(runs),
              "time_days": t * 365.25, "latched_cores": np.zeros((runs, checkpoints), np.int16),
              "energy_wh": np.full(runs, 0.1)}
    if with_bounds:
        arrays.update(erf=erf, fep=20 * erf)
    xy = np.array([[10 + r, 20 + c] for r in range(3) for c in range(4)])[:cores]
    if with_cores:
        arrays["core_dead_neurons"] = np.cumsum(rng.poisson(0.3, (runs, checkpoints, cores)),
                                                axis=1).astype(np.int16)
        arrays["core_spikes"] = rng.uniform(0, 50, cores)
    np.savez(os.path.join(path, "runs.npz"), **arrays)
    compile_report = {"profile": "truenorth", "weight_encoding": "trinary", "cores": cores,
                      "neurons": 300, "synapses": 9000, "axons": 900, "crossbar_density": 0.3,
                      "latency_ticks": 3, "quantisation_error": 0.01, "hop_reduction": 0.4}
    np.savez(os.path.join(path, "program.npz"), core_xy=xy.astype(np.int32),
             profile=np.str_("truenorth"),
             meta_json=np.str_(json.dumps({"compiler": compile_report})))
    summary = {"scenario": f"test-{label}", "runs": runs, "checkpoints": checkpoints,
               "duration_years": 2.0, "accuracy_requirement": req, "baseline_accuracy": 0.955,
               "final_accuracy_p50": float(np.percentile(acc[:, -1], 50)),
               "final_accuracy_p05": float(np.percentile(acc[:, -1], 5)),
               "reliability_final": float((acc[:, -1] >= req).mean()),
               "dead_neurons_final_mean": float(dead_total[:, -1].mean()),
               "power_mw_initial": power0, "power_mw_final_mean": float(power[:, -1].mean()),
               "mission_energy_wh_mean": 0.1, "power_profile": "truenorth", "mode": "rate",
               "bound_violations": int((err > erf).sum()) if with_bounds else 0,
               "bound_violations_crash_only": 0, "seconds": 1.0}
    with open(os.path.join(path, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2, sort_keys=True)
    with open(os.path.join(path, "scenario.resolved.toml"), "w") as f:
        f.write(f'[mission]\nname = "test-{label}"\nduration_years = 2.0\n'
                f"checkpoint_interval_days = {2 * 365.25 / checkpoints}\n"
                f"accuracy_requirement = {req}\n[environment]\npreset = \"leo-sso\"\n"
                f"shielding_mm_al = 10.0\n[run]\nmodel = \"models/digits_{label}.npz\"\n"
                f"profile = \"truenorth\"\nseed = {seed}\nruns = {runs}\nticks = 64\n"
                f"inference_rate_hz = 0.0\n")
    return path


# ------------------------------------------------------------------------------ a real mission
def small_scenario(path, model="models/digits_dense.npz"):
    """The shipped leo_10y scenario made small: 3 years, quarterly checkpoints (12), 4 runs, 100
    evaluation inputs, and a dose rate high enough that neurons and cores die within 3 years."""
    from neurosim import resources
    text = open(resources.resolve("scenarios/leo_10y.toml", "scenarios"), encoding="utf-8").read()
    for key, value in (("duration_years", "3.0"), ("checkpoint_interval_days", "91.3125"),
                       ("runs", "4"), ("eval_inputs", "100"), ("model", f'"{model}"'),
                       ("dose_rate_rad_per_year", "9000.0")):
        text, n = re.subn(rf"^{key}\s*=.*$", f"{key} = {value}", text, flags=re.M)
        assert n == 1, key
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return str(path)


@pytest.fixture(scope="module")
def real_mission(tmp_path_factory):
    """A small seeded mission through the real runner (`neurosim mission`, which writes the
    report), and its report."""
    from neurosim.cli import main
    base = tmp_path_factory.mktemp("mission")
    out = str(base / "leo_small")
    scenario = small_scenario(base / "leo_small.toml")
    assert main(["mission", scenario, "--out", out, "--workers", "1", "--json"]) == 0
    report = os.path.join(out, "report.html")
    assert os.path.exists(report)
    return out, report


@pytest.fixture(scope="module")
def real_missions(real_mission, tmp_path_factory):
    """The compare study in small: the dense, sparse-momentum and NeST digits models on the same
    small scenario (`neurosim mission --model`)."""
    from neurosim.cli import main
    base = tmp_path_factory.mktemp("study")
    scenario = small_scenario(base / "leo_small.toml")
    dirs = [real_mission[0]]
    for label in ("sparse_momentum", "nest"):
        out = str(base / label)
        assert main(["mission", scenario, "--model", f"models/digits_{label}.npz", "--out", out,
                     "--workers", "1", "--no-report", "--json"]) == 0
        dirs.append(out)
    return dirs


# ------------------------------------------------------------------------------ chromium
def chromium(html_path, tmp_path, height=4200):
    """Load ``html_path`` headless: (rendered DOM, console lines, screenshot path)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: the report test needs Debian's chromium "
                    f"(`apt-get install -y chromium`; CI installs it in .ci/run)")
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
    url = "file://" + os.path.abspath(html_path)
    png = tmp_path / "report.png"
    run = subprocess.run(base + [f"--user-data-dir={tmp_path / 'chrome-profile'}", "--dump-dom",
                                 f"--screenshot={png}", f"--window-size=1280,{height}", url],
                         capture_output=True, text=True, timeout=90)
    console = [l for l in run.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l]
    return run.stdout, console, png


def png_pixels(path):
    """The screenshot as an RGB array (Pillow comes with matplotlib)."""
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int32)


# ------------------------------------------------------------------------------ helpers
def sections_of(text):
    """{section id: its HTML} of a report."""
    out = {}
    for m in re.finditer(r'<section id="([a-z]+)">(.*?)</section>', text, re.S):
        out[m.group(1)] = m.group(2)
    return out


def figures_in(section_html):
    """Decoded figures (bytes) embedded in a section."""
    import base64
    return [base64.b64decode(m.group(2)) for m in
            re.finditer(r'<img src="data:image/(svg\+xml|png);base64,([A-Za-z0-9+/=]+)"',
                        section_html)]


FIGURE_SECTIONS = ["accuracy", "reliability", "bounds", "faults", "power", "cores"]


def check_report(text, expect_complete=True):
    secs = sections_of(text)
    assert list(secs) == [sid for sid, _ in report_html.SECTIONS]
    for sid, title in report_html.SECTIONS:
        assert f"<h2>{title}</h2>" in secs[sid]
    for sid in FIGURE_SECTIONS:
        figs = figures_in(secs[sid])
        if expect_complete:
            assert len(figs) == 1, sid
            svg = figs[0].decode()
            # a real plot: an SVG with drawn paths and axis text
            assert svg.lstrip().startswith("<?xml") and "<svg" in svg
            assert svg.count("<path") > 10 or "<image" in svg, sid
            ElementTree.fromstring(figs[0])     # well-formed: the browser can draw it
            assert len(figs[0]) > 5000, sid
    # self-contained: no script, no external resource
    assert "<script" not in text.lower()
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "<link" not in text.lower()
    return secs


# ------------------------------------------------------------------------------ tests
def test_report_has_every_section_with_figures(tmp_path):
    d = fake_results(str(tmp_path / "m"))
    path = report_html.write_report(d)
    assert path == os.path.join(d, "report.html")
    text = open(path, encoding="utf-8").read()
    secs = check_report(text)
    assert "Not recorded" not in text
    # headline numbers at the top, before the first section
    top = text[:text.index('<section id="overview">')]
    s = json.load(open(os.path.join(d, "summary.json")))
    assert f"{100 * s['final_accuracy_p50']:.1f} %" in top
    assert f"{100 * s['reliability_final']:.1f} %" in top
    # older results without the like-with-like comparison: the count, never a bare yes/no
    assert "Erf vs observed" in top and ">yes<" not in top and ">no<" not in top
    assert "mean observed error &gt; Erf at 2 checkpoints" in top
    assert "digits_dense.npz" in secs["overview"] and "trinary" in secs["overview"]
    h = report_html.headline(MissionResults(d))
    assert h["erf_violated_checkpoints"] == 2 and h["bounds_headline"] is None
    assert h["final_accuracy_p50"] == pytest.approx(s["final_accuracy_p50"])


def test_report_shows_placeholders_for_missing_pieces(tmp_path):
    d = fake_results(str(tmp_path / "m"), with_cores=False, with_bounds=False)
    os.remove(os.path.join(d, "runs.npz"))
    text = open(report_html.write_report(d), encoding="utf-8").read()
    secs = check_report(text, expect_complete=False)
    for sid in ("bounds", "cores"):
        assert "Not recorded" in secs[sid] and not figures_in(secs[sid]), sid
    for sid in ("accuracy", "reliability", "faults", "power"):
        assert len(figures_in(secs[sid])) == 1, sid
    res = MissionResults(d)
    missing = report_html.missing_pieces(res)
    assert {"erf", "fep", "observed_error_mean", "per-core damage", "per-core spikes",
            "provenance"} == set(missing)


def test_report_cli_bad_input(tmp_path, capsys):
    from neurosim.cli import main
    assert main(["report", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "not a directory" in err and "Traceback" not in err
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "summary.json" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "empty")]) == 2
    assert "at least 2" in capsys.readouterr().err


# slow (two more real missions); in the default run, compare's table, HTML and JSON of two
# results directories written by fake_results: test_report_and_compare_use_one_power_unit
@pytest.mark.slow
def test_compare_three_missions(real_missions, tmp_path, capsys):
    """The dense, sparse-momentum and NeST digits models flown through the same small scenario."""
    from neurosim.cli import main
    dirs = real_missions
    cores = [MissionResults(d).compile_report()["cores"] for d in dirs]
    out_dir = tmp_path / "cmp"
    capsys.readouterr()
    assert main(["compare", *dirs, "--out", str(out_dir), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["missions"]
    assert [r["label"] for r in rows] == ["dense", "sparse_momentum", "nest"]
    assert [r["cores"] for r in rows] == cores
    assert len({r["scenario"] for r in rows}) == 1
    for r, d in zip(rows, dirs):
        s = json.load(open(os.path.join(d, "summary.json")))
        assert r["reliability_final"] == pytest.approx(s["reliability_final"])
        per_checkpoint = MissionResults(d).get("reliability")
        assert r["reliability_mission_average"] == pytest.approx(per_checkpoint.mean())
        for key in ("reliability_final", "reliability_mission_average"):
            lo, hi = r[f"{key}_ci95"]
            assert lo <= r[key] <= hi and hi - lo > 0.2       # 4 runs: a wide interval
        assert r["final_accuracy_p50"] == pytest.approx(s["final_accuracy_p50"])
        assert r["power_mw"] > 0
    assert "reliability" not in rows[0] and "reliability_mean" not in rows[0]
    text = open(out["html"], encoding="utf-8").read()
    assert "mission-average reliability" in text and "final reliability" in text
    assert ">mission reliability<" not in text and "(95 % CI)" in text
    assert json.load(open(out["json"]))["missions"] == rows
    figs = figures_in(text)
    assert len(figs) == 1 and figs[0].count(b"<path") > 20
    for label in ("dense", "sparse_momentum", "nest"):
        assert f"<b>{label}</b>" in text
    assert "<script" not in text
    first = open(out["html"], "rb").read()
    assert main(["compare", *dirs, "--out", str(out_dir)]) == 0
    assert open(out["html"], "rb").read() == first


def test_report_of_results_from_an_older_runner(real_mission, tmp_path):
    """A results directory written before the runner recorded provenance, the power breakdown,
    energy per inference and the per-core arrays still renders, with placeholders."""
    src = real_mission[0]
    old = str(tmp_path / "old")
    shutil.copytree(src, old)
    os.remove(os.path.join(old, "report.html"))
    with open(os.path.join(old, "summary.json")) as f:
        s = json.load(f)
    for key in ("provenance", "power_breakdown_initial", "power_breakdown_final",
                "energy_per_inference_uj", "energy_per_inference_uj_final_mean",
                "inference_rate_hz", "model", "chip", "cores"):
        s.pop(key, None)
    with open(os.path.join(old, "summary.json"), "w") as f:
        json.dump(s, f)
    with np.load(os.path.join(old, "runs.npz")) as z:
        keep = {k: z[k] for k in z.files if k not in ("core_dead_neurons", "core_spikes",
                                                       "power_breakdown_mw",
                                                       "power_components")}
    np.savez(os.path.join(old, "runs.npz"), **keep)
    with open(os.path.join(old, "checkpoints.csv"), newline="") as f:
        rows = list(csv.reader(f))
    cols = [j for j, n in enumerate(rows[0]) if not re.fullmatch(r"power_[a-z_]+_mw_mean", n)]
    with open(os.path.join(old, "checkpoints.csv"), "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([[r[j] for j in cols] for r in rows])
    text = open(report_html.write_report(old), encoding="utf-8").read()
    secs = check_report(text, expect_complete=False)
    missing = set(report_html.missing_pieces(MissionResults(old)))
    assert {"power breakdown", "per-core damage", "per-core spikes", "provenance"} <= missing
    assert "Not recorded" in secs["cores"] and "not recorded" in secs["provenance"]
    assert len(figures_in(secs["cores"])) == 1       # the layout map from program.npz
    h = report_html.headline(MissionResults(old))
    assert h["energy_per_inference_derived"] and h["energy_per_inference_uj"] > 0


def render_in_chromium(html_path, tmp_path, headings):
    dom, console, png = chromium(html_path, tmp_path)
    assert not console, "console output while loading the page:\n" + "\n".join(console)
    for title in headings:
        assert f"<h2>{title}</h2>" in dom, title
    assert png.exists() and png.stat().st_size > 20_000
    px = png_pixels(png)
    assert px.shape[1] == 1280
    # not blank: real variation, and a good share of non-background pixels (text, plots)
    assert px.std() > 20
    background = np.all(px == px[5, 5], axis=2).mean()
    assert background < 0.9
    return dom, px


def test_report_of_a_real_mission(real_mission, capsys):
    out, report = real_mission
    text = open(report, encoding="utf-8").read()
    secs = check_report(text)          # every section; one non-empty figure in each plot section
    s = json.load(open(os.path.join(out, "summary.json")))
    res = MissionResults(out)
    h = report_html.headline(res)
    assert h["final_accuracy_p50"] == pytest.approx(s["final_accuracy_p50"])
    assert h["reliability_final"] == pytest.approx(s["reliability_final"])
    assert h["dead_neurons_final_mean"] == pytest.approx(s["dead_neurons_final_mean"])
    assert s["dead_neurons_final_mean"] > 0          # the scenario does damage
    top = text[:text.index('<section id="overview">')]
    assert f"{100 * s['final_accuracy_p50']:.1f} %" in top
    assert f"{100 * s['reliability_final']:.1f} %" in top
    assert h["bounds_headline"] == s["bounds"]["headline"]
    assert "Erf informative" in top and report_html.e(h["bounds_headline"]) in top
    # the times, checkpoints and the compile summary come from the runner's files
    assert len(res.times()) == s["checkpoints"] == 12
    assert res.compile_report()["cores"] == len(res.program_info["core_xy"])
    assert f"<td>{res.compile_report()['cores']}</td>" in secs["overview"]
    assert "leo-sso" in secs["overview"] and "digits_dense.npz" in secs["overview"]
    # a fresh mission records everything the report shows
    assert report_html.missing_pieces(res) == []
    assert "Not recorded" not in text and "not recorded" not in text
    assert h["energy_per_inference_uj"] == pytest.approx(s["energy_per_inference_uj"])
    assert not h["energy_per_inference_derived"]
    assert "breakdown" in figures_in(secs["power"])[0].decode()
    cores_svg = figures_in(secs["cores"])[0].decode()
    assert "accumulated damage" in cores_svg and "spike traffic" in cores_svg
    assert s["provenance"]["scenario_sha256"] in secs["provenance"]
    assert "neurosim mission " in secs["provenance"]


def test_report_of_a_real_mission_renders_in_headless_chromium(real_mission, tmp_path):
    out, report = real_mission
    dom, px = render_in_chromium(report, tmp_path, HEADINGS)
    assert dom.count("<img") == len(FIGURE_SECTIONS) + len(ENVIRONMENT_FIGURES)
    assert "Mission report: leo_10y" in dom


def test_report_of_a_real_mission_rebuilds_identically(real_mission, tmp_path, capsys):
    from neurosim.cli import main
    out, report = real_mission
    copy = str(tmp_path / os.path.basename(out))     # same name: the page shows it
    shutil.copytree(out, copy)
    os.remove(os.path.join(copy, "report.html"))
    capsys.readouterr()
    assert main(["report", copy, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["report"] == os.path.join(os.path.abspath(copy), "report.html")
    assert open(result["report"], "rb").read() == open(report, "rb").read()
    assert result["sections"] == [sid for sid, _ in report_html.SECTIONS]
    s = json.load(open(os.path.join(out, "summary.json")))
    assert result["final_accuracy_p50"] == pytest.approx(s["final_accuracy_p50"])
    assert result["bounds_headline"] == report_html.headline(MissionResults(out))["bounds_headline"]
    assert "accuracy" not in result["not_recorded"]


def test_chromium_check_sees_console_errors(tmp_path):
    """The console check is live: a page with a script error is caught (the report has none)."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><h2>x</h2><script>notDefined();</script>"
                    "</body></html>")
    dom, console, _ = chromium(page, tmp_path, height=300)
    assert "<h2>x</h2>" in dom
    assert any("notDefined" in line for line in console)


def test_compare_labels_by_model_only_when_the_models_differ():
    from types import SimpleNamespace
    from neurosim.report.compare import _label

    def mission(model, path):
        return SimpleNamespace(model=lambda: model, path=path)
    varied = [mission("models/digits_dense.npz", "/r/a"), mission("models/digits_nest.npz", "/r/b")]
    assert [_label(m, varied) for m in varied] == ["dense", "nest"]
    same = [mission("models/digits_dense.npz", "/r/leo/"), mission("models/digits_dense.npz", "/r/geo")]
    assert [_label(m, same) for m in same] == ["leo", "geo"]


# ------------------------------------------------------------------------------ reading aids
def test_wilson_interval_known_values():
    from neurosim.report.fmt import wilson_interval
    lo, hi = wilson_interval(0.5, 10)                   # Agresti & Coull (1998), n = 10
    assert (lo, hi) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    lo, hi = wilson_interval(0.0, 10)                   # no successes: not the degenerate [0, 0]
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson_interval(1.0, 200)
    assert hi == 1.0 and lo == pytest.approx(0.9812, abs=1e-4)
    assert wilson_interval(0.5, None) == (None, None)


def test_report_names_final_reliability_with_its_interval(tmp_path):
    from neurosim.report.fmt import wilson_interval
    d = fake_results(str(tmp_path / "m"), runs=6)
    text = open(report_html.write_report(d), encoding="utf-8").read()
    top = text[:text.index('<section id="overview">')]
    s = json.load(open(os.path.join(d, "summary.json")))
    lo, hi = wilson_interval(s["reliability_final"], 6)
    assert ">final reliability<" in top and "mission reliability" not in text
    assert f"95 % CI {100 * lo:.1f}–{100 * hi:.1f} % (6 runs)" in top
    h = report_html.headline(MissionResults(d))
    assert h["reliability_final_ci95"] == [pytest.approx(lo), pytest.approx(hi)]
    # the reliability figure draws the interval as a band and says what it is
    svg = figures_in(sections_of(text)["reliability"])[0].decode()
    assert "Wilson 95 % interval (6 runs)" in svg


def _with_a_bad_run(d, worst=0.42):
    z = dict(np.load(os.path.join(d, "runs.npz")))
    z["accuracy"] = z["accuracy"].copy()
    z["accuracy"][3, -2] = worst
    np.savez(os.path.join(d, "runs.npz"), **z)


def test_accuracy_axis_includes_the_worst_run(tmp_path):
    from neurosim.report import plots
    d = fake_results(str(tmp_path / "m"), runs=40)
    _with_a_bad_run(d)
    ax = plots.accuracy_figure(MissionResults(d)).axes[0]
    assert ax.get_ylim()[0] < 0.42
    # the worst run is drawn even when it is not among the first traces
    drawn = [ln.get_ydata() for ln in ax.get_lines()]
    assert any(np.min(y) == pytest.approx(0.42) for y in drawn if len(y) > 2)
    assert plots.accuracy_figure(MissionResults(d), max_traces=2) is not None


def test_fault_panels_scale_to_their_data_and_titles_fit(tmp_path):
    from matplotlib.text import Text
    from neurosim.report import plots
    d = fake_results(str(tmp_path / "m"))          # dead cores reach 0.2, spares 0.1
    fig = plots.faults_figure(MissionResults(d))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    titles = {}                                     # the style puts titles on the left
    for ax in fig.axes:
        if ax.get_visible():
            artist = next(t for t in ax.get_children()
                          if isinstance(t, Text) and t.get_text() == ax.get_title("left"))
            titles[artist.get_text().replace("\n", " ")] = (ax, artist)
    cores = next(ax for t, (ax, _) in titles.items() if t.startswith("dead cores"))
    assert cores.get_ylim()[1] < 0.5                # not a 0–1 axis with a flat line at 0
    assert "own scale" in fig.axes[0].get_ylabel()
    assert len(titles) == 5                         # latch-ups stay zero: dropped
    ncols = len({round(ax.get_position().x0, 3) for ax, _ in titles.values()})
    for title, (ax, artist) in titles.items():
        assert title.endswith("at the end"), title
        # the browser may draw the SVG's text in a wider font than matplotlib measured: every
        # line fits its panel even at 0.7 em per character
        for line in artist.get_text().split("\n"):
            assert len(line) * 9.5 * 0.7 / 72 <= fig.get_figwidth() / ncols - 0.5, line
        box = artist.get_window_extent(renderer)
        assert box.x0 >= fig.bbox.x0 - 1 and box.x1 <= fig.bbox.x1 + 1, title
        # no title runs into the next panel
        assert box.x1 <= ax.get_position().x1 * fig.bbox.width + 40, title


def test_scrub_period_in_words():
    assert report_html._mitigation({"scrub_period_days": 1.0}) == "scrub every 1 day"
    assert report_html._mitigation({"scrub_period_days": 30.0}) == "scrub every 30 days"
    assert report_html._mitigation({"scrub_period_days": 0.5}) == "scrub every 0.5 days"


def test_report_and_compare_use_one_power_unit(tmp_path, capsys):
    from neurosim.cli import main
    a = fake_results(str(tmp_path / "a"), label="dense", power0=0.5)
    b = fake_results(str(tmp_path / "b"), label="nest", power0=0.3, seed=1)
    with open(os.path.join(a, "scenario.resolved.toml"), "a") as f:
        f.write("power_budget_mw = 0.8\n")                 # in [run]
    report = open(report_html.write_report(a), encoding="utf-8").read()
    assert "500 µW" in report[:report.index('<section id="overview">')]
    power = sections_of(report)["power"]
    assert "the 800 µW budget" in power and " mW" not in power
    capsys.readouterr()
    assert main(["compare", a, b, "--out", str(tmp_path / "cmp")]) == 0
    printed = capsys.readouterr().out
    assert "power µW" in printed.splitlines()[0]
    text = open(tmp_path / "cmp" / "compare.html", encoding="utf-8").read()
    assert "mean power (µW)" in text and "(mW)" not in text
    rows = json.load(open(tmp_path / "cmp" / "compare.json"))["missions"]
    assert rows[0]["power_mw"] < 1.0                # the JSON stays in milliwatts


def test_huge_free_text_is_capped(tmp_path):
    from neurosim.report.fmt import MAX_TEXT_CHARS, clip_text
    assert clip_text("x" * (MAX_TEXT_CHARS + 7)) == "x" * MAX_TEXT_CHARS + \
        "… (7 characters omitted)"
    assert clip_text("short") == "short"
    d = fake_results(str(tmp_path / "m"))
    plain = len(open(report_html.write_report(d), encoding="utf-8").read())
    big = 2_000_000
    path = os.path.join(d, "scenario.resolved.toml")
    line = f'description = "{"D" * big}"'
    toml = open(path).read().replace("[mission]\n", f"[mission]\n{line}\n", 1)
    open(path, "w").write(toml)
    text = open(report_html.write_report(d), encoding="utf-8").read()
    # shown twice (the page's subtitle and the resolved scenario), each cut to the limit
    assert len(text) < plain + 3 * MAX_TEXT_CHARS
    assert f"({big - MAX_TEXT_CHARS:,} characters omitted)" in text
    assert f"({len(line) - MAX_TEXT_CHARS:,} characters omitted)" in text


def test_provenance_labels_the_start_time(tmp_path):
    d = fake_results(str(tmp_path / "m"))
    s = json.load(open(os.path.join(d, "summary.json")))
    s["provenance"] = {"started_utc": "2026-11-30T15:00:00Z"}
    json.dump(s, open(os.path.join(d, "summary.json"), "w"))
    prov = sections_of(open(report_html.write_report(d), encoding="utf-8").read())["provenance"]
    assert "<th>started (UTC)</th><td>2026-11-30T15:00:00Z</td>" in prov


BAD_OUT = {
    "a directory": lambda t: t / "adir",
    "a missing parent": lambda t: t / "nowhere" / "r.html",
    "a path under a file": lambda t: t / "afile" / "r.html",
}


@pytest.mark.parametrize("case", sorted(BAD_OUT))
def test_report_out_refused_before_any_work(tmp_path, capsys, case):
    from neurosim.cli import main
    d = fake_results(str(tmp_path / "m"))
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    before = sorted(os.listdir(tmp_path)) + sorted(os.listdir(d))
    capsys.readouterr()
    out = str(BAD_OUT[case](tmp_path))
    assert main(["report", d, "--out", out]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--out" in err and out in err
    assert "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) + sorted(os.listdir(d)) == before   # nothing left behind
    # checked before the results are read: a bad results directory is not what is reported
    assert main(["report", str(tmp_path / "no-results"), "--out", out]) == 2
    assert "--out" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_report_out_not_writable(tmp_path, capsys):
    from neurosim.cli import main
    d = fake_results(str(tmp_path / "m"))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    assert main(["report", d, "--out", str(ro / "r.html")]) == 2
    assert "not writable" in capsys.readouterr().err
    assert os.listdir(ro) == []


def test_compare_out_refused_before_any_work(tmp_path, capsys):
    from neurosim.cli import main
    a = fake_results(str(tmp_path / "a"))
    b = fake_results(str(tmp_path / "b"), label="nest", seed=1)
    (tmp_path / "afile").write_text("x")
    for out in (tmp_path / "afile", tmp_path / "afile" / "cmp"):
        capsys.readouterr()
        assert main(["compare", a, b, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "--out" in err and "Traceback" not in err
        assert main(["compare", str(tmp_path / "x"), "--out", str(out)]) == 2  # before reading
        assert "--out" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["a", "afile", "b"]
    # a compare that fails on its input leaves no output directory behind
    assert main(["compare", a, str(tmp_path / "missing"), "--out", str(tmp_path / "c")]) == 2
    assert not (tmp_path / "c").exists()


def test_results_one_row_per_run_and_checkpoint(tmp_path):
    """MissionResults' long table (what to_dataframe wraps): run-major rows, each value the runs.npz
    entry of its (run, checkpoint); to_dataframe needs pandas and says so when it is missing."""
    d = fake_results(str(tmp_path / "m"), runs=3, checkpoints=4)
    res = MissionResults(d)
    cols = res._long_columns()
    runs = np.load(os.path.join(d, "runs.npz"))
    assert list(cols["run"]) == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    assert list(cols["checkpoint"]) == [0, 1, 2, 3] * 3
    row = 6                                          # run 1, checkpoint 2
    assert cols["accuracy"][row] == runs["accuracy"][1, 2]
    assert cols["error_mean"][row] == runs["error_mean"][1, 2]
    assert cols["time_days"][row] == runs["time_days"][2]
    assert cols["dead_neurons_layer1"][row] == runs["dead_neurons"][1, 2, 1]
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ValidationError, match="pip install pandas"):
            res.to_dataframe()
    else:
        df = res.to_dataframe()
        assert len(df) == 12 and df["accuracy"].iloc[row] == runs["accuracy"][1, 2]


def test_report_bounds_section_shows_the_comparison_of_the_summary(real_mission):
    """Section 4 carries summary['bounds']: its sentence, one table row per bin (at most
    MAX_BIN_ROWS) with n, mean observed and Erf of that bin, and the tightness regime."""
    out, report = real_mission
    b = json.load(open(os.path.join(out, "summary.json")))["bounds"]
    sec = sections_of(open(report, encoding="utf-8").read())["bounds"]
    assert report_html.e(b["headline"]) in sec and "yes" not in b["headline"]
    rows = re.findall(r"<tr>(<td.*?)</tr>", sec)
    assert len(rows) == min(len(b["bins"]), report_html.MAX_BIN_ROWS) > 0
    for row, bin_ in zip(rows, b["bins"]):
        cells = re.findall(r'<td class="num">(.*?)</td>', row)
        assert cells[0] == " / ".join(str(c) for c in bin_["dead_counts"])
        assert cells[1] == str(bin_["n"])
        assert cells[4] == report_html.num(bin_["erf"])
        assert cells[7] == ("yes" if bin_["vacuous"] else "no")
    assert f"{b['outside_model']:,} with upsets" in sec and "Tightness:" in sec


def test_reliability_below_a_fault_free_shortfall_says_it_means_nothing():
    # a model whose fault-free accuracy is under the requirement fails it in every run: the
    # headline must say so instead of a bare 0 %
    from neurosim.mission.headline import reliability_note
    note = reliability_note(0.892, 0.9)
    assert note == ("the fault-free chip (89.2%) is already below the requirement (90%): "
                    "this share says nothing about the faults")
    assert reliability_note(0.9, 0.9) is None and reliability_note(0.97, 0.9) is None
    assert reliability_note(0.5, None) is None and reliability_note(float("nan"), 0.9) is None
