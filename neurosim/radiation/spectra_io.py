"""Import of particle spectra exported by CREME96, SPENVIS or OMERE.

Accepted files (text; one spectrum per file):

- lines starting with ``#``, ``*``, ``!``, ``'`` or ``"`` are comments, as are lines before the
  first numeric row (column headers); SPENVIS's quoted meta lines (``'*', 'UNIT', ...``) are
  comments by this rule;
- a numeric row has ≥ 2 numbers separated by commas, semicolons, tabs or spaces; the first column
  is the abscissa (LET or proton energy), the column ``column`` (default 1, i.e. the second) is
  the flux; further columns are ignored; a quoted or non-numeric line after the first numeric
  row ends the table (SPENVIS ends each block with ``'End of Block'``: the first block is read;
  ``#``, ``*`` and ``!`` comment lines inside the table are skipped);
- abscissae strictly increasing, fluxes finite and ≥ 0.

``kind="let"``: an integral LET spectrum F(>L). ``let_unit`` "MeV cm2/mg" (OMERE, SPENVIS) or
"MeV cm2/g" (CREME96 ``.let`` files); ``flux_unit`` "cm-2 s-1" (omnidirectional),
"cm-2 s-1 sr-1" or "m-2 s-1 sr-1" (CREME96: multiplied by 4π, and 10⁻⁴ for m²).
``kind="proton"``: a differential proton spectrum in MeV and "cm-2 s-1 MeV-1" (SPENVIS, OMERE)
or "m-2 s-1 sr-1 MeV-1" (CREME96 ``.flx``).

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
    "spenvis": {"let_unit": "MeV cm2/mg", "flux_unit": "cm-2 s-1"},
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


def _check(rows, path, xname):
    """Refuse non-increasing abscissae and negative or non-finite fluxes (naming the line)."""
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


def read_let_spectrum(path, fmt=None, let_unit=None, flux_unit=None, column=1):
    """An integral LET spectrum (MeV cm²/mg, cm⁻² s⁻¹ omnidirectional) from ``path``."""
    let_unit, flux_unit = _units(fmt, let_unit, flux_unit, path)
    rows = _read_rows(path, column)
    _check(rows, path, "LET")
    x = np.array([r[1] for r in rows]) * LET_UNITS[let_unit]
    return Spectrum("let", x, np.array([r[2] for r in rows]) * FLUX_UNITS[flux_unit], str(path))


def read_proton_spectrum(path, fmt=None, flux_unit=None, column=1):
    """A differential proton spectrum (MeV, cm⁻² s⁻¹ MeV⁻¹ omnidirectional) from ``path``."""
    _, flux_unit = _units(fmt, None, flux_unit, path)
    rows = _read_rows(path, column)
    _check(rows, path, "energy")
    x = np.array([r[1] for r in rows])
    return Spectrum("proton", x, np.array([r[2] for r in rows]) * FLUX_UNITS[flux_unit],
                    str(path))
