"""The environment figures in the mission report's overview (issue 15): the ground track over the
AP8 flux map, the proton spectra before and after the shielding and the LET spectrum with the
device's Weibull curve, drawn for the mission's own orbit, shielding and device."""
import html
import os
import re

from test_report import chromium, fake_results, figures_in, png_pixels, sections_of

from neurosim.mission.results import MissionResults
from neurosim.report import environment as report_env
from neurosim.report import html as report_html

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _rewrite_scenario(d, old, new):
    path = os.path.join(d, "scenario.resolved.toml")
    text = open(path, encoding="utf-8").read()
    assert old in text
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(old, new))


def test_overview_draws_the_environment_of_the_scenario(tmp_path):
    d = fake_results(str(tmp_path / "m"))          # preset leo-sso behind 10 mm Al
    res = MissionResults(d)
    orbit_table, shielding, device = report_env.environment_inputs(res)
    assert (orbit_table["altitude_km"], orbit_table["inclination_deg"]) == (686.0, 98.0)
    assert (shielding, device) == (10.0, "sram-28nm-bulk")
    overview = sections_of(open(report_html.write_report(d), encoding="utf-8").read())["overview"]
    figs = figures_in(overview)
    assert len(figs) == len(report_env.ENVIRONMENT_FIGURES) == 3
    track, protons, let = figs
    assert track.startswith(PNG_MAGIC) and len(track) > 20_000     # ~10⁴ coloured track points
    protons, let = protons.decode(), let.decode()
    # the figures are of this scenario: its shielding, the trapped and GCR spectra, the Weibull
    assert "behind 10 mm Al" in protons and "trapped p, outside" in protons
    assert "GCR protons at part" in protons
    assert "Weibull" in let and "solar min" in let
    assert "686 km, 98°" in overview and "10 mm Al" in overview
    assert "sram-28nm-bulk" in overview
    assert "environment inputs" not in report_html.missing_pieces(res)


def test_the_shielding_of_the_scenario_changes_the_figure(tmp_path):
    thin = fake_results(str(tmp_path / "thin"))
    _rewrite_scenario(thin, "shielding_mm_al = 10.0", "shielding_mm_al = 1.0")
    text = open(report_html.write_report(thin), encoding="utf-8").read()
    protons = figures_in(sections_of(text)["overview"])[1].decode()
    assert "behind 1 mm Al" in protons and "behind 10 mm Al" not in protons


def test_imported_spectra_are_drawn_and_named(tmp_path):
    """A scenario that flies another tool's LET spectrum: the report names the file, and a file
    that no longer reads shows a named placeholder instead of figures."""
    d = fake_results(str(tmp_path / "m"))
    let = tmp_path / "creme_let.txt"
    let.write_text("0.1, 1e-3\n1.0, 1e-4\n10.0, 1e-6\n100.0, 1e-9\n")
    _rewrite_scenario(d, "shielding_mm_al = 10.0",
                      f'shielding_mm_al = 10.0\nlet_spectrum = "{let}"')
    overview = sections_of(report_html.render(MissionResults(d)))["overview"]
    assert "The LET spectrum is imported from creme_let.txt." in overview
    figs = figures_in(overview)
    assert len(figs) == 3 and "imported from creme_let.txt" in figs[2].decode()
    let.write_text("1.0, 1e-4\n0.1, 1e-3\n")
    overview = sections_of(report_html.render(MissionResults(d)))["overview"]
    assert "line 2: LET 0.1 after 1.0" in html.unescape(overview)
    assert figures_in(overview) == []


def test_missing_environment_inputs_show_a_named_placeholder(tmp_path):
    d = fake_results(str(tmp_path / "m"))
    _rewrite_scenario(d, 'preset = "leo-sso"\n', "")
    res = MissionResults(d)
    assert "[orbit]" in report_env.environment_missing(res)
    assert "environment inputs" in report_html.missing_pieces(res)
    overview = sections_of(report_html.render(res))["overview"]
    assert figures_in(overview) == []
    assert re.search(r'class="missing">Not recorded: the scenario&#x27;s \[orbit\] table', overview)


def test_a_device_file_that_is_gone_is_named(tmp_path):
    d = fake_results(str(tmp_path / "m"))
    gone = str(tmp_path / "moved" / "chip.toml")
    _rewrite_scenario(d, "[run]\n", f'[device]\nname = "{gone}"\n[run]\n')
    res = MissionResults(d)
    assert report_env.environment_missing(res) == f"the device file {gone} named by the scenario"
    assert gone in sections_of(report_html.render(res))["overview"]


def test_report_with_environment_figures_renders_in_chromium(tmp_path):
    d = fake_results(str(tmp_path / "m"))
    path = report_html.write_report(d)
    dom, console, png = chromium(path, tmp_path)
    assert not console, "\n".join(console)
    overview = dom[dom.index('<section id="overview">'):dom.index('<section id="accuracy">')]
    # three environment images, each with its caption, after the mission and chip tables
    assert overview.count("<img") == 3
    for _, _, caption in report_env.ENVIRONMENT_FIGURES:
        assert f"<figcaption>{caption}</figcaption>" in html.unescape(overview)
    px = png_pixels(png)
    assert px.shape[1] == 1280 and px.std() > 20
