"""Spectra exported by other tools drive a scenario (issue 15, item 3): ``[environment]
let_spectrum`` replaces the modelled GCR heavy-ion LET spectrum, ``proton_spectrum`` the trapped
protons behind the shell; each file is taken as the spectrum at the part. The files are written
here: a SPENVIS-style integral LET table and a differential proton table."""
import numpy as np
import pytest

from neurosim.errors import InputFileError
from neurosim.mission import scenario as scn
from neurosim.radiation import device, rates
from test_radiation import MINIMAL

# test_radiation's minimal scenario in GEO (no trapped protons), the key under test at line 8
SCENARIO = MINIMAL.replace('preset = "leo-sso"\nshielding_mm_al = 10.0', 'preset = "geo"\n{extra}')
LET = np.geomspace(0.05, 100.0, 120)           # MeV cm²/mg
PROTON_E = np.geomspace(1.0, 1000.0, 400)      # MeV


def let_flux(scale=1.0):
    """F(>L) in cm⁻² s⁻¹: a made-up spectrum falling like the GCR's (steeply above ~1)."""
    return scale * 1e-3 * np.exp(-LET / 3.0) / (1.0 + LET ** 2)


def proton_flux():
    """A power-law differential spectrum (cm⁻² s⁻¹ MeV⁻¹): exact under log-log interpolation."""
    return 50.0 * PROTON_E ** -1.5


def write_table(path, x, y, header):
    path.write_text(header + "\n" + "".join(f"{float(a)!r}, {float(b)!r}\n" for a, b in zip(x, y)))
    return path.name


def load(tmp_path, extra):
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.format(extra=extra))
    return scn.load(str(path)).values["physics"]


@pytest.fixture(scope="module")
def cell():
    return device.load_device("sram-28nm-bulk").classes["weight_sram"]


def test_imported_let_spectrum_replaces_the_gcr_heavy_ions(tmp_path, cell):
    name = write_table(tmp_path / "let.txt", LET, let_flux(), "'LET (MeV cm2/mg)', 'F(>LET)'")
    phys = load(tmp_path, f'let_spectrum = "{name}"')
    expected = rates.irpp_rate(cell.heavy_ion, cell.depth_um, LET, let_flux()) * 86400
    for phase in ("min", "max"):   # one file: both solar phases
        got = phys["parts"][phase]["weight_sram"]["gcr_heavy_ion"]
        assert got == pytest.approx(expected, rel=1e-9)
    modelled = load(tmp_path, "")["parts"]["min"]["weight_sram"]["gcr_heavy_ion"]
    assert abs(expected / modelled - 1) > 0.5   # the file, not the model, set it


def test_changed_file_changes_the_rates_despite_the_cache(tmp_path):
    write_table(tmp_path / "let.txt", LET, let_flux(), "")
    first = load(tmp_path, 'let_spectrum = "let.txt"')
    write_table(tmp_path / "let.txt", LET, let_flux(2.0), "")
    second = load(tmp_path, 'let_spectrum = "let.txt"')
    ratio = (second["parts"]["min"]["weight_sram"]["gcr_heavy_ion"]
             / first["parts"]["min"]["weight_sram"]["gcr_heavy_ion"])
    assert ratio == pytest.approx(2.0, rel=1e-9)
    assert (second["latchup_per_core_day"]["min"]
            == pytest.approx(2.0 * first["latchup_per_core_day"]["min"], rel=1e-9))


def test_imported_proton_spectrum_is_the_trapped_term(tmp_path, cell):
    name = write_table(tmp_path / "p.txt", PROTON_E, proton_flux(), "# MeV, cm-2 s-1 MeV-1")
    phys = load(tmp_path, f'proton_spectrum = "{name}"')
    expected = rates.proton_rate(cell.proton, PROTON_E, proton_flux()) * 86400
    got = phys["parts"]["min"]["weight_sram"]["trapped_proton"]
    # the file's nodes kept, the model's added between them (log-log: exact for a power law)
    assert got == pytest.approx(expected, rel=2e-3)
    assert load(tmp_path, "")["parts"]["min"]["weight_sram"]["trapped_proton"] == 0.0  # GEO


def test_creme96_units_are_converted(tmp_path, cell):
    """CREME96 writes LET in MeV cm²/g and flux per m² s sr: × 1e-3 and × 4π·1e-4."""
    write_table(tmp_path / "q.let", LET * 1e3, let_flux() / (4 * np.pi * 1e-4), "% CREME96")
    phys = load(tmp_path, 'let_spectrum = "q.let"\nspectra_format = "creme96"')
    expected = rates.irpp_rate(cell.heavy_ion, cell.depth_um, LET, let_flux()) * 86400
    assert phys["parts"]["min"]["weight_sram"]["gcr_heavy_ion"] == pytest.approx(expected,
                                                                                 rel=1e-9)


@pytest.mark.parametrize("rows, expected", [
    ("1.0, 1e-3\n0.5, 1e-4\n", "line 3: LET 0.5 after 1.0; expected strictly increasing"),
    ("0.5, 1e-3\n1.0, -1e-4\n", "line 3"),
])
def test_bad_spectrum_is_one_line_naming_scenario_key_and_file_line(tmp_path, rows, expected):
    (tmp_path / "bad.txt").write_text("# LET, flux\n" + rows)
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.format(extra='let_spectrum = "bad.txt"'))
    with pytest.raises(InputFileError) as exc:
        scn.load(str(path))
    msg = str(exc.value)
    assert msg.startswith(f"{path}:8: [environment] let_spectrum: {tmp_path / 'bad.txt'}: ")
    assert expected in msg and "\n" not in msg


def test_missing_spectrum_file_is_refused(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.format(extra='proton_spectrum = "nowhere.txt"'))
    with pytest.raises(InputFileError) as exc:
        scn.load(str(path))
    assert str(exc.value).startswith(f"{path}:8: [environment] proton_spectrum: ")
    assert "nowhere.txt: cannot read spectrum" in str(exc.value)


def test_spenvis_proton_file_is_read_from_its_differential_column(tmp_path, cell):
    """SPENVIS prints energy, integral flux, differential flux: the third column is folded
    (the second, the integral flux, would give a rate ~80x too high on this spectrum)."""
    from test_radiation_iss_s5 import SPENVIS_530
    rows = "".join(f"{e!r}, {i!r}, {d!r}\n" for e, i, d in SPENVIS_530.tolist())
    (tmp_path / "tri.txt").write_text("'*', 'SPENVIS'\n'UNIT', 'MeV', '/cm2/s', '/cm2/s/MeV'\n"
                                      + rows + "'End of Block'\n")
    phys = load(tmp_path, 'proton_spectrum = "tri.txt"')
    expected = rates.proton_rate(cell.proton, SPENVIS_530[:, 0], SPENVIS_530[:, 2]) * 86400
    got = phys["parts"]["min"]["weight_sram"]["trapped_proton"]
    assert got == pytest.approx(expected, rel=0.02)  # 1.014: the model's nodes refine the fold


def test_spectrum_energies_must_be_positive(tmp_path):
    (tmp_path / "p.txt").write_text("0.0, 5.0\n1.0, 2.0\n")
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.format(extra='proton_spectrum = "p.txt"'))
    with pytest.raises(InputFileError) as exc:
        scn.load(str(path))
    assert "line 1: energy 0.0; expected a finite energy > 0" in str(exc.value)


def test_the_bad_file_is_blamed_on_its_own_key(tmp_path):
    write_table(tmp_path / "let.txt", LET, let_flux(), "")
    (tmp_path / "let.txt.bak").write_text("1.0, 1.0\n0.5, 1.0\n")
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.format(extra='let_spectrum = "let.txt"\n'
                                          'proton_spectrum = "let.txt.bak"'))
    with pytest.raises(InputFileError) as exc:
        scn.load(str(path))
    assert str(exc.value).startswith(f"{path}:9: [environment] proton_spectrum: ")
