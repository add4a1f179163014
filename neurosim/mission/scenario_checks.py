"""Checking scenario values, with errors that point at the file's line.

:class:`FileContext` raises the one-line :class:`~neurosim.errors.InputFileError` every scenario
error is (``scenarios/x.toml:12: [upsets] weight_sram_rate_per_bit_day = -1.0: expected ...``):
tomllib gives lines only for syntax errors, so :func:`line_of` finds the key's line by scanning
the text. :func:`check_value` checks one value against its :class:`~neurosim.mission.schema.Key`;
:func:`check_events` the scheduled solar events.
"""
import math
import re

from neurosim.errors import InputFileError
from neurosim.mission.schema import EVENT_KEYS, EXPECT, MAX_TEXT_CHARS, range_text


def line_of(text, section, key):
    """Line (1-based) of ``key =`` inside ``[section]`` (or dotted ``section.key``), or None."""
    current = None
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        m = re.match(r"^\[\[?\s*([A-Za-z0-9_.\-]+)\s*\]\]?", s)
        if m:
            current = m.group(1).split(".")[0]
            if key is None and current == section:
                return i
            continue
        m = re.match(r"^([A-Za-z0-9_\-\"']+(?:\s*\.\s*[A-Za-z0-9_\-\"']+)*)\s*=", s)
        if not m:
            continue
        parts = [p.strip().strip("\"'") for p in m.group(1).split(".")]
        full = ([current] if current else []) + parts
        if key is not None and full[:2] == [section, key]:
            return i
        if key is None and full[:1] == [section]:
            return i
    return None


class FileContext:
    """The scenario file being validated (``path``, its ``text``): :meth:`fail` raises the one-line
    error that names the file, the line, the section and key, the value and what was expected."""

    def __init__(self, path, text):
        self.path, self.text = path, text

    def fail(self, section, key, what, value=None, show_value=True):
        line = line_of(self.text, section, key) if self.text else None
        loc = f"{self.path}:{line}:" if line else f"{self.path}:"
        name = f"[{section}]" + (f" {key}" if key else "")
        val = f" = {fmt_value(value)}" if show_value else ""
        raise InputFileError(f"{loc} {name}{val}: {what}")


def fmt_value(v, width=60):
    """A value as it would appear in TOML, on one line, shortened to ``width`` characters."""
    if isinstance(v, str):
        text = v.encode("unicode_escape").decode("ascii")
        return '"' + (text if len(text) <= width else text[:width] + "...") + '"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{...}"
    if isinstance(v, list):
        return "[...]"
    return repr(v)



def check_value(ctx, section, key, spec, value):
    """``value`` of ``[section] key`` checked against its :class:`~.schema.Key` ``spec`` (type,
    length, finiteness, range, choices); floats come back as float. ``ctx`` names the file."""
    t = spec.type
    ok = {"float": isinstance(value, (int, float)) and not isinstance(value, bool),
          "int": isinstance(value, int) and not isinstance(value, bool),
          "bool": isinstance(value, bool), "str": isinstance(value, str),
          "table": isinstance(value, dict),
          "events": isinstance(value, list) and all(isinstance(v, dict) for v in value),
          "list": isinstance(value, list) and all(isinstance(v, str) for v in value)}[t]
    if not ok:
        rng = range_text(spec)
        ctx.fail(section, key, f"expected {EXPECT[t]}" + (f" {rng}" if rng else "")
                 + f", got {type(value).__name__}", value)
    if t == "str" and len(value) > MAX_TEXT_CHARS:
        ctx.fail(section, key, f"{len(value):,} characters; expected at most {MAX_TEXT_CHARS:,}",
                 show_value=False)
    if t == "float":
        try:
            value = float(value)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            ctx.fail(section, key, "expected a finite number", value)
    if t in ("float", "int"):
        bad = ((spec.lo is not None and (value < spec.lo or (spec.lo_open and value == spec.lo)))
               or (spec.hi is not None and value > spec.hi))
        if bad:
            what = "a rate" if spec.rate and spec.lo == 0 and value < 0 else EXPECT[t]
            ctx.fail(section, key, f"expected {what} {range_text(spec)}", value)
    if spec.choices is not None and value not in spec.choices:
        ctx.fail(section, key, "expected one of " + ", ".join(
            repr(c) for c in spec.choices if c != "") + (" (or empty)" if "" in spec.choices
                                                         else ""), value)
    return value


def check_events(ctx, value):
    """The ``[[solar_events.scheduled]]`` tables checked key by key (:data:`~.schema.EVENT_KEYS`);
    the clean list."""
    out = []
    for i, ev in enumerate(value):
        for k in ev:
            if k not in EVENT_KEYS:
                ctx.fail("solar_events", "scheduled", f"event {i + 1}: unknown key '{k}'; "
                         "expected start_day, duration_days, fluence30_cm2, source", show_value=False)
        clean = {}
        for k, (t, lo, lo_open) in EVENT_KEYS.items():
            if k not in ev:
                ctx.fail("solar_events", "scheduled", f"event {i + 1}: key '{k}' is missing; "
                         f"expected {EXPECT[t]}", show_value=False)
            v = ev[k]
            if t == "float":
                if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                    ctx.fail("solar_events", "scheduled", f"event {i + 1}: '{k}' = {fmt_value(v)}; "
                             "expected a number", show_value=False)
                if v < lo or (lo_open and v == lo):
                    ctx.fail("solar_events", "scheduled", f"event {i + 1}: '{k}' = {fmt_value(v)}; "
                             f"expected a number {'>' if lo_open else '≥'} {lo}",
                             show_value=False)
                v = float(v)
            elif not isinstance(v, str) or not v.strip():
                ctx.fail("solar_events", "scheduled", f"event {i + 1}: 'source' = {fmt_value(v)}; "
                         "expected a non-empty string saying where the event comes from",
                         show_value=False)
            clean[k] = v
        out.append(clean)
    return out

