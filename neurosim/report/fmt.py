"""Numbers as the report and the comparison show them: one rule each, shared by the page, the
figures and ``neurosim compare``.

* :func:`power_unit` — µW below 1 mW, mW from 1 mW (both pages, all figures);
* :func:`wilson_interval` — the 95 % confidence interval of a share of Monte Carlo runs;
* :func:`plural` — "1 day", "2 days";
* :func:`clip_text` — free text (scenario descriptions) cut to :data:`MAX_TEXT_CHARS`.
"""
from __future__ import annotations

import math

from neurosim.mission.headline import wilson_interval  # re-exported: the report's formatting

MAX_TEXT_CHARS = 2000       # free text (a description) shown in the report, at most


def finite(x):
    """True when ``x`` is a finite number."""
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def pct(x, digits=1):
    """'93.4 %' (``x`` a share in [0, 1]); '–' when not a number."""
    return f"{100 * float(x):.{digits}f} %" if finite(x) else "–"


def num(x, digits=3):
    """A number with ``digits`` significant digits (whole numbers from 100 up); '–' if absent."""
    if not finite(x):
        return "–"
    x = float(x)
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{digits}g}"


def power_unit(top_mw):
    """(factor, unit) to show powers up to ``top_mw`` milliwatts: (1000, 'µW') below 1 mW, else
    (1, 'mW'). The one unit rule of the report, its figures and the comparison."""
    return (1e3, "µW") if finite(top_mw) and abs(float(top_mw)) < 1.0 else (1.0, "mW")


def power_text(mw):
    """'85.6 µW' below 1 mW, '1.41 mW' from 1 mW (:func:`power_unit`)."""
    if not finite(mw):
        return "–"
    k, unit = power_unit(mw)
    return f"{num(float(mw) * k)} {unit}"


def ci_range(lo, hi, digits=1):
    """'81.2–97.6 %', or '' when the interval is unknown."""
    if not (finite(lo) and finite(hi)):
        return ""
    return f"{100 * lo:.{digits}f}–{100 * hi:.{digits}f} %"


def ci_text(lo, hi, digits=1):
    """'95 % CI 81.2–97.6 %', or '' when the interval is unknown."""
    r = ci_range(lo, hi, digits)
    return f"95 % CI {r}" if r else ""


def plural(n, unit):
    """'1 day', '2 days', '0.5 days' (``n`` via :func:`num`)."""
    return f"{num(n)} {unit}" + ("" if finite(n) and float(n) == 1 else "s")


def clip_text(text, limit=MAX_TEXT_CHARS):
    """``text`` cut to ``limit`` characters plus '… (N characters omitted)' when longer, so that a
    huge free-text field cannot blow up the page (a 50 MB description made a 105 MB report)."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} characters omitted)"
