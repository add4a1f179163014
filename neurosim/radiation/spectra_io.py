"""Import of particle spectra exported by CREME96, SPENVIS or OMERE.

Accepted files (text; one spectrum per file):

- lines starting with ``#``, ``*``, ``!``, ``'`` or ``"`` are comments, as are lines before the
  first numeric row (column headers); SPENVIS's quoted meta lines (``'*', 'UNIT', ...``) are
  comments by this rule;
- a numeric row has ≥ 2 numbers separated by commas, semicolons, tabs or spaces; the first column
  is the abscissa (LET or proton energy, finite and > 0), the column ``column`` (default 1, i.e.
  the second; for SPENVIS proton files with three or more columns 2, the third: SPENVIS prints
  energy, integral and differential flux) is the flux; further columns are ignored; a quoted or
  non-numeric line after the first numeric row ends the table (SPENVIS ends each block with
  ``'End of Block'``: the first block is read; ``#``, ``*`` and ``!`` comment lines inside the
  table are skipped);
- abscissae strictly increasing, fluxes finite and ≥ 0.

``kind="let"``: an integral LET spectrum F(>L). ``let_unit`` "MeV cm2/mg" (OMERE, SPENVIS) or
"MeV cm2/g" (CREME96 ``.let`` files); ``flux_unit`` "cm-2 s-1" (omnidirectional),
"cm-2 s-1 sr-1" or "m-2 s-1 sr-1" (CREME96: multiplied by 4π, and 10⁻⁴ for m²).
``kind="proton"``: a differential proton spectrum in MeV and "cm-2 s-1 MeV-1" (SPENVIS, OMERE)
or "m-2 s-1 sr-1 MeV-1" (CREME96 ``.flx``).

CREME96's own output layout (``.let``, ``.flx``, ``.tfx`` as the CREME96 web tool writes them
[tylka1997]) is read with ``fmt="creme96"``: a title line, ``%`` header lines, a grid line
``XMIN XMAX N ZMIN ZMAX ...`` and then N values, six a line, per species on the logarithmic grid
``XMIN·(XMAX/XMIN)^(i/(N−1))`` (the layout O'Brien's CREME96 reader parses [obrien2022]); the
first species block is read (for ``.flx``/``.tfx``: protons). A CREME96 file without that grid
line is read as a two-column table.

Presets: ``fmt="creme96"`` sets the CREME96 units, ``"spenvis"``/``"omere"`` the cm⁻² units.
An imported spectrum is taken as the spectrum *at the part*: export it from the tool behind the
shielding you fly (neurosim does not transport an imported spectrum again).
"""
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputFileError

FORMATS = {
    "creme96": {"let_unit": "MeV cm2/g", "flux_unit": "m-2 s-1 sr-1"},
    # SPENVIS prints energy, integral flux, differential flux (its trapped-proton files, e.g. the
    # SPENVIS 4.6.13 output in [loveless2025spenvis]): the differential flux is the third column
    "spenvis": {"let_unit": "MeV cm2/mg", "flux_unit": "cm-2 s-1", "proton_column": 2},
    "omere": {"let_unit": "MeV cm2/mg", "flux_unit": "cm-2 s-1"},
}
LET_UNITS = {"MeV cm2/mg": 1.0, "MeV cm2/g": 1e-3}
FLUX_UNITS = {"cm-2 s-1": 1.0, "cm-2 s-1 sr-1": 4 * np.pi, "m-2 s-1 sr-1": 4 * np.pi * 1e-4}
_SPLIT = re.compile(r"[,;\s]+")
_COMMENT = ("#", "*", "!", "'", '"')


@dataclass(frozen=True)
class Spectrum:
    """An imported spectrum: abscissa (LET in MeV cm²/mg or energy in MeV) and omnidirectional
    flux (cm⁻² s⁻¹ integral, or cm⁻² s⁻¹ MeV⁻¹ differential), with the file it came from."""

    kind: str
    x: np.ndarray
    flux: np.ndarray
    path: str


def _numbers(line):
    """The numbers of a row, or None if any field is not a number."""
    fields = [f for f in _SPLIT.split(line.strip()) if f]
    try:
        return [float(f) for f in fields]
    except ValueError:
        return None


def _read_rows(path, column):
    """(line numbers, abscissae, fluxes) of the first numeric block of ``path``."""
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read spectrum ({exc.strerror})") from None
    rows, started = [], False
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith(_COMMENT[:3]):
            continue
        values = None if line.lstrip().startswith(_COMMENT[3:]) else _numbers(line)
        if values is None or len(values) <= column:
            if started:
                break
            continue
        started = True
        rows.append((number, values[0], values[column]))
    if len(rows) < 2:
        raise InputFileError(f"{path}: found {len(rows)} numeric rows with a column {column + 1}; "
                             "expected a table of ≥ 2 rows (abscissa, flux)")
    return rows


def _first_row_width(path):
    """Number of values on the first numeric row of ``path`` (0 if none or unreadable)."""
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return 0
    for line in lines:
        values = None if line.lstrip().startswith(_COMMENT) else _numbers(line)
        if values:
            return len(values)
    return 0


def _creme96_grid(line):
    """(xmin, xmax, n) if ``line`` is a CREME96 grid line ``XMIN XMAX N ZMIN ZMAX ...``."""
    fields = line.split()
    try:
        xmin, xmax, n = float(fields[0]), float(fields[1]), int(fields[2])
        int(fields[3]), int(fields[4])
    except (ValueError, IndexError):
        return None
    return (xmin, xmax, n) if 0 < xmin < xmax and n >= 2 else None


def _read_creme96_native(path):
    """Rows (line, x, value) of the first species block of a CREME96 output file in its native
    layout (module doc), or None if ``path`` is not in that layout."""
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read spectrum ({exc.strerror})") from None
    headers = [i for i, line in enumerate(lines) if line.lstrip().startswith("%")]
    if not headers or headers[-1] + 1 >= len(lines):
        return None
    grid = _creme96_grid(lines[headers[-1] + 1])
    if grid is None:
        return None
    xmin, xmax, n = grid
    rows = []
    for number, line in enumerate(lines[headers[-1] + 2:], headers[-1] + 3):
        values = _numbers(line) if line.strip() else []
        if values is None:
            raise InputFileError(f"{path}: line {number}: {line.strip()[:40]!r}; expected the "
                                 f"{n} values of the CREME96 grid")
        rows.extend((number, v) for v in values)
        if len(rows) >= n:
            break
    if len(rows) < n:
        raise InputFileError(f"{path}: {len(rows)} values after the CREME96 grid line; "
                             f"expected {n}")
    x = np.exp(np.linspace(np.log(xmin), np.log(xmax), n))
    return [(number, xi, v) for (number, v), xi in zip(rows[:n], x)]


def _check(rows, path, xname):
    """Refuse abscissae that are not finite and > 0 or not increasing, and negative or
    non-finite fluxes (naming the line)."""
    for n, x, _ in rows:
        if not (np.isfinite(x) and x > 0):
            raise InputFileError(f"{path}: line {n}: {xname} {x}; expected a finite {xname} > 0")
    for (n0, x0, _), (n1, x1, _) in zip(rows, rows[1:]):
        if not x1 > x0:
            raise InputFileError(f"{path}: line {n1}: {xname} {x1} after {x0}; expected "
                                 f"strictly increasing {xname} values")
    for n, _, f in rows:
        if not np.isfinite(f) or f < 0:
            raise InputFileError(f"{path}: line {n}: flux {f}; expected a finite flux ≥ 0")


def _units(fmt, let_unit, flux_unit, path):
    """Resolve the units of a file from its format preset and explicit overrides."""
    preset = FORMATS.get(fmt, {}) if fmt else {}
    if fmt and fmt not in FORMATS:
        raise InputFileError(f"{path}: format {fmt!r}; expected one of {', '.join(FORMATS)}")
    let_unit = let_unit or preset.get("let_unit", "MeV cm2/mg")
    flux_unit = flux_unit or preset.get("flux_unit", "cm-2 s-1")
    if let_unit not in LET_UNITS:
        raise InputFileError(f"{path}: let_unit {let_unit!r}; expected one of {list(LET_UNITS)}")
    if flux_unit.replace(" MeV-1", "") not in FLUX_UNITS:
        raise InputFileError(f"{path}: flux_unit {flux_unit!r}; expected one of "
                             f"{list(FLUX_UNITS)} (with ' MeV-1' for a differential spectrum)")
    return let_unit, flux_unit.replace(" MeV-1", "")


def _rows(path, fmt, column):
    """Rows of ``path``: CREME96's native layout if ``fmt`` is "creme96" and the file has it,
    else the first numeric table."""
    native = _read_creme96_native(path) if fmt == "creme96" else None
    return native if native is not None else _read_rows(path, column)


def read_let_spectrum(path, fmt=None, let_unit=None, flux_unit=None, column=1):
    """An integral LET spectrum (MeV cm²/mg, cm⁻² s⁻¹ omnidirectional) from ``path``."""
    let_unit, flux_unit = _units(fmt, let_unit, flux_unit, path)
    rows = _rows(path, fmt, column)
    _check(rows, path, "LET")
    x = np.array([r[1] for r in rows]) * LET_UNITS[let_unit]
    return Spectrum("let", x, np.array([r[2] for r in rows]) * FLUX_UNITS[flux_unit], str(path))


def read_proton_spectrum(path, fmt=None, flux_unit=None, column=None):
    """A differential proton spectrum (MeV, cm⁻² s⁻¹ MeV⁻¹ omnidirectional) from ``path``;
    ``column`` defaults to the format's differential-flux column (SPENVIS: the third)."""
    _, flux_unit = _units(fmt, None, flux_unit, path)
    if column is None:
        preferred = FORMATS.get(fmt, {}).get("proton_column", 1)
        column = preferred if _first_row_width(path) > preferred else 1
    rows = _rows(path, fmt, column)
    _check(rows, path, "energy")
    x = np.array([r[1] for r in rows])
    return Spectrum("proton", x, np.array([r[2] for r in rows]) * FLUX_UNITS[flux_unit],
                    str(path))
