"""Mission scenario files (TOML, read with the standard library's ``tomllib``).

A scenario has the sections ``[mission] [environment] [orbit] [device] [upsets] [solar_events]
[dose] [latchup] [synapses] [mitigation] [run]``; ``SCHEMA`` below lists every key with its type,
range, default and unit (the unit is in the key's name). The upset and latch-up rates come from the
physics: the ``[environment]`` preset is an (orbit, shielding, device) triple and ``[orbit]``,
``shielding_mm_al`` and ``[device]`` replace any part of it; :func:`resolve` runs
:func:`neurosim.radiation.environments.scenario_rates` (cached on disk) and stores the result in
``values["physics"]`` (not written back: recomputed on load). A measured ``rate_per_bit_day`` in
``[upsets]`` replaces the physics for its class. Every rate or model figure given in the file
needs its section's ``source`` string saying where the numbers come from — or that they are an
assumption; defaults carry their own sources (``Key.src``). The dose rate has no default (no
dose-depth model yet).

Validation is strict: an unknown section or key, a wrong type, a negative rate, a value outside its
range or a missing required key raises :class:`~neurosim.errors.InputFileError` with one line::

    scenarios/x.toml:12: [upsets] weight_sram_rate_per_bit_day = -1.0: expected a number ≥ 0 ...

naming the file, the line (found by scanning the file for the key; tomllib itself gives lines only
for syntax errors), the section and key, the value and what was expected. Nothing is written before
a scenario validates.

:func:`resolve` returns a :class:`Scenario` with every default filled in and every value's source;
:func:`write_resolved` writes it back as TOML that :func:`load` reads to an equal scenario.
"""
import json
import math
import os
import re
import tomllib
from dataclasses import dataclass, field

from neurosim import fileio
from neurosim.errors import InputFileError, NeurosimError
from neurosim.radiation import environments as envs
from neurosim.radiation.cosmic import SolarEventModel
from neurosim.radiation.damage import FailureDoseModel
from neurosim.radiation.environments import CREME_UNCERTAINTY, PRESETS, SOLAR_CYCLE

DEFAULT_SCENARIO = "scenarios/leo_10y.toml"   # the main job: `neurosim mission` with no file

REQ = object()       # required
PRESET = object()    # required unless the environment preset gives it
OPT = object()       # optional, no default: absent means "from the physics"
_SPE = SolarEventModel()
_SPE_SRC = dict(_SPE.sources)
_FDM = FailureDoseModel()
MONTH_DAYS = 365.25 / 12
# Longest string value (descriptions, sources, names): assumption — ample for a paragraph and a
# citation, small enough that a report cannot be inflated by a pasted file.
MAX_TEXT_CHARS = 10_000
# A scenario name becomes a directory name under neurosim-results/: no separators, no leading dot.
NAME_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Key:
    """One scenario key: type ('float', 'int', 'bool', 'str', 'table', 'events', 'list'), default
    (a value, REQ, PRESET or OPT), inclusive range, allowed choices, whether it is a rate that
    needs a ``source``, a condition (another key of the section that must be > 0 or true for this
    key to be required; an absent OPT key counts as given by the physics), its meaning for the
    README, and ``src``: the source of the default value."""

    type: str
    default: object = REQ
    lo: float = None
    hi: float = None
    choices: tuple = None
    rate: bool = False
    when: str = None
    doc: str = ""
    lo_open: bool = False
    src: str = ""


def _k(*a, **kw):
    return Key(*a, **kw)


SCHEMA = {
    "mission": {
        "name": _k("str", "", doc="scenario name: letters, digits, '.', '_', '-', not starting "
                                   "with '.' (default: the file name without .toml)"),
        "description": _k("str", "", doc="free text (at most 10,000 characters, like every "
                                         "string)"),
        "duration_years": _k("float", REQ, 0, 100, lo_open=True, doc="mission length"),
        "checkpoint_interval_days": _k("float", MONTH_DAYS, 0, None, lo_open=True,
                                       doc="time between evaluations (default: a month, "
                                           "365.25/12 days)"),
        "solar_cycle_phase_at_launch_years": _k(
            "float", 0.0, 0, None, doc="years since the start of a solar-active phase at launch "
                                       "(0: start of solar maximum; 7: start of solar minimum)"),
        "accuracy_requirement": _k("float", REQ, 0, 1, doc="accuracy a run must keep to count as "
                                                           "reliable at a checkpoint"),
    },
    "environment": {
        "preset": _k("str", "", choices=("",) + tuple(PRESETS),
                     doc="an (orbit, shielding, device) triple: leo-sso (686 km, 98°), leo-iss "
                         "(420 km, 51.6°), geo, deep-space; or empty, with [orbit], "
                         "shielding_mm_al and [device] in the file"),
        "shielding_mm_al": _k("float", PRESET, 0, doc="aluminium-equivalent spherical "
                                                      "shielding (any value ≥ 0; default: the "
                                                      "preset's)"),
        "description": _k("str", "", doc="free text"),
        "source": _k("str", "", doc="where a custom environment's choices come from"),
    },
    "orbit": {
        "altitude_km": _k("float", OPT, doc="circular orbit altitude (≥ 100 km)"),
        "inclination_deg": _k("float", OPT, doc="circular orbit inclination, 0–180°"),
        "tle": _k("list", OPT, doc="two-line element set [line 1, line 2] instead of the two "
                                   "keys above"),
        "kind": _k("str", OPT, choices=("circular", "tle", "interplanetary"),
                   doc="'interplanetary' for cruise near 1 AU (no belts, no magnetosphere)"),
        "step_s": _k("float", OPT, doc="propagation step (default 30 s)"),
        "span_days": _k("float", OPT, doc="propagation span (default 4 days)"),
    },
    "device": {
        "name": _k("str", PRESET, doc="device of every memory class: a shipped device ("
                                      "sram-28nm-bulk, sram-65nm-bulk) or a device TOML file "
                                      "(relative to the scenario); also gives the latch-up "
                                      "curve"),
        "weight_sram": _k("str", "", doc="device of the crossbar/weight SRAM (default: name)"),
        "potential": _k("str", "", doc="device of the membrane potentials (default: name)"),
        "routing": _k("str", "", doc="device of the routing tables (default: name)"),
    },
    "upsets": {
        "weight_sram_rate_per_bit_day": _k("float", OPT, 0, rate=True,
                                           doc="measured upsets per bit per day in the core SRAM "
                                               "(crossbar bits, weights, thresholds); replaces "
                                               "the physics (default)"),
        "potential_rate_per_bit_day": _k("float", OPT, 0, rate=True,
                                         doc="measured rate of the membrane potentials"),
        "routing_rate_per_bit_day": _k("float", OPT, 0, rate=True,
                                       doc="measured rate of the routing tables"),
        "saa_share": _k("float", OPT, 0, 1, rate=True,
                        doc="share of background upsets in SAA passes (default: computed)"),
        "multi_bit_fraction": _k("float", OPT, 0, 1, rate=True,
                                 doc="share of upset events that flip two adjacent bits of a "
                                     "word (default: the device's MCU share)"),
        "rate_scale": _k("float", 1.0, 0, doc="multiplies every upset rate (sensitivity: "
                                              + CREME_UNCERTAINTY + ")"),
        "source": _k("str", "", doc="source of the rates given here"),
    },
    "solar_events": {
        "events_per_active_year": _k("float", _SPE.events_per_active_year, 0, rate=True,
                                     src=_SPE_SRC["events_per_active_year"],
                                     doc="mean solar particle events per solar-active year "
                                         "(Poisson; JPL model)"),
        "log10_fluence30_mean": _k("float", _SPE.log10_fluence30_mean, rate=True,
                                   src=_SPE_SRC["log10_fluence30_mean"],
                                   doc="mean of log10(event fluence > 30 MeV, cm⁻²)"),
        "log10_fluence30_sd": _k("float", _SPE.log10_fluence30_sd, 0, rate=True,
                                 src=_SPE_SRC["log10_fluence30_sd"],
                                 doc="standard deviation of log10(fluence)"),
        "spectral_index": _k("float", _SPE.spectral_index, 0, lo_open=True, rate=True,
                             src=_SPE_SRC["spectral_index"],
                             doc="γ of the event integral spectrum Φ(>E) ∝ E^−γ"),
        "event_duration_days": _k("float", 2.0, 0, lo_open=True, rate=True,
                                  src="assumption: large solar proton events last 1–3 days at "
                                      "> 30 MeV",
                                  doc="length of one event (its upsets are spread over it)"),
        "cycle_years": _k("float", 11.0, 0, lo_open=True, doc="solar cycle length (" +
                          SOLAR_CYCLE + ")"),
        "active_years": _k("float", 7.0, 0, doc="solar-active years per cycle (" + SOLAR_CYCLE
                           + ")"),
        "scheduled": _k("events", [], doc="events at fixed times: array of tables with "
                                          "start_day, duration_days, fluence30_cm2, source"),
        "source": _k("str", "", doc="source of the event statistics given here"),
    },
    "dose": {
        "dose_rate_rad_per_year": _k("float", REQ, 0, rate=True,
                                     doc="total ionising dose rate behind the shielding, "
                                         "rad(Si) per year (no dose-depth model yet: give it "
                                         "with a source)"),
        "failure_dose_median_krad": _k("float", _FDM.median_krad, 0, lo_open=True, rate=True,
                                       src=_FDM.source,
                                       doc="median failure dose of a core and of the chip's "
                                           "shared logic (log-normal)"),
        "die_log_sd": _k("float", _FDM.die_log_sd, 0, rate=True, src=_FDM.source,
                         doc="σ of ln(failure dose) between dies (shared by a chip's cores)"),
        "core_log_sd": _k("float", _FDM.core_log_sd, 0, rate=True, src=_FDM.source,
                          doc="σ of ln(failure dose) between the cores of one die"),
        "random_failure_rate_per_neuron_year": _k("float", 0.0, 0, rate=True,
                                                  doc="constant-hazard permanent neuron failures "
                                                      "(exponential times)"),
        "source": _k("str", "", doc="source of the values given here"),
    },
    "latchup": {
        "rate_per_core_day": _k("float", OPT, 0, rate=True,
                                doc="measured latch-ups per core per day; replaces the "
                                    "physics (the device's σ_SEL per chip / 4096 cores)"),
        "recoverable_fraction": _k("float", REQ, 0, 1, rate=True, when="rate_per_core_day",
                                   doc="share cleared by a power cycle of the domain"),
        "destructive_fraction": _k("float", REQ, 0, 1, rate=True, when="rate_per_core_day",
                                   doc="share that destroys the domain's cores"),
        "latent_fraction": _k("float", REQ, 0, 1, rate=True, when="rate_per_core_day",
                              doc="share cycled but leaving latent damage: stuck crossbar bits"),
        "latent_stuck_bits": _k("int", REQ, 0, rate=True, when="latent_fraction",
                                doc="crossbar bits stuck (at a random value) per latent event"),
        "power_domain_cores": _k("int", 1, 1, 4096, rate=True,
                                 src="assumption: each core its own power domain",
                                 doc="cores per power domain (1: per core; 4096: the chip)"),
        "sefi_rate_per_chip_day": _k("float", 0.0, 0, rate=True,
                                     doc="functional interrupts of router/scheduler per chip "
                                         "per day (no published figure: 0 unless given)"),
        "sefi_reset_seconds": _k("float", 1.0, 0, rate=True,
                                 src="assumption: a router/scheduler reset takes 1 s",
                                 doc="unavailability per SEFI"),
        "source": _k("str", "", doc="source of the values given here"),
    },
    "synapses": {
        "stuck_rate_per_bit_year": _k("float", REQ, 0, rate=True,
                                      doc="permanent stuck-at faults per crossbar bit per year"),
        "stuck_at_one_fraction": _k("float", REQ, 0, 1, rate=True, when="stuck_rate_per_bit_year",
                                    doc="share of stuck bits stuck at 1"),
        "source": _k("str", "", doc="source of the values given here"),
    },
    "mitigation": {
        "scrub_period_days": _k("float", 0.0, 0, doc="memory scrub (reload) period; 0: never"),
        "scrub_after_saa": _k("bool", False, doc="scrub after every SAA pass (SAA upsets never "
                                                 "live at a checkpoint)"),
        "secded": _k("bool", False, doc="single-error-correct, double-error-detect code per word"),
        "secded_word_data_bits": _k("int", 32, 1, doc="data bits per SECDED word"),
        "secded_word_check_bits": _k("int", 7, 0, doc="check bits per SECDED word (39-bit word)"),
        "spare_cores": _k("int", 0, 0, doc="spare cores; a dead core's contents are re-placed "
                                           "on a live spare"),
        "tmr_hidden": _k("bool", False, doc="triple modular redundancy of hidden-layer neurons"),
    },
    "run": {
        "model": _k("str", "models/digits_dense.npz", doc="MLP .npz (relative to the scenario "
                                                          "file, the working directory or the "
                                                          "shipped models)"),
        "dataset": _k("str", "", doc="evaluation dataset (default: the model's provenance)"),
        "profile": _k("str", "truenorth", doc="chip profile"),
        "compile": _k("table", {}, doc="options of neurosim.compiler.compile"),
        "runs": _k("int", 100, 1, doc="Monte Carlo runs"),
        "seed": _k("int", 0, 0, doc="scenario seed; run r uses SeedSequence(seed).spawn(R)[r]"),
        "eval_inputs": _k("int", 500, 1, doc="evaluation inputs (the test split first)"),
        "mode": _k("str", "rate", choices=("rate", "spiking"), doc="rate (closed form) or "
                                                                   "spiking (tick by tick)"),
        # at most 10^6 ticks: assumption, a bound on the work of one spiking evaluation
        "ticks": _k("int", 64, 1, 1_000_000, doc="ticks per input (spiking mode; counters in both)"),
        "executor": _k("str", "local", choices=("local", "dask"), doc="local processes or Dask"),
        "workers": _k("int", 0, 0, doc="worker processes; 0: all cores"),
        "runs_per_task": _k("int", 0, 0, doc="runs per task; 0: automatic"),
        "inference_rate_hz": _k("float", 0.0, 0, doc="inference rate for power; 0: real time"),
        "power_profile": _k("str", "", doc="power profile (default: the chip profile's)"),
    },
}
SECTIONS = tuple(SCHEMA)
EVENT_KEYS = {"start_day": ("float", 0, False), "duration_days": ("float", 0, True),
              "fluence30_cm2": ("float", 0, False), "source": ("str", None, False)}
_EXPECT = {"float": "a number", "int": "an integer", "bool": "true or false", "str": "a string",
           "table": "a table", "events": "an array of tables", "list": "an array of strings"}


@dataclass(frozen=True, eq=False)
class Scenario:
    """A validated scenario: ``values[section][key]`` with every default filled in,
    ``sources["section.key"]`` for every rate, ``path`` of the file it came from."""

    path: str
    values: dict
    sources: dict = field(default_factory=dict)

    def __getitem__(self, dotted):
        section, key = dotted.split(".", 1)
        return self.values[section][key]

    @property
    def name(self):
        return self.values["mission"]["name"]

    def __eq__(self, other):
        def strip(v):
            return {s: {k: x for k, x in d.items() if k != "source"} for s, d in v.items()}
        return isinstance(other, Scenario) and strip(self.values) == strip(other.values)

    __hash__ = None

    def checkpoint_times_days(self):
        """Checkpoint times k·Δ for k = 1..K, K = round(duration / Δ) (at least 1); the last one
        is moved to the mission end."""
        import numpy as np
        total = self["mission.duration_years"] * 365.25
        step = self["mission.checkpoint_interval_days"]
        k = max(1, int(round(total / step)))
        t = np.arange(1, k + 1, dtype=np.float64) * step
        t[-1] = total
        return t


# ---------------------------------------------------------------------- errors with lines
def _line_of(text, section, key):
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


class _Ctx:
    def __init__(self, path, text):
        self.path, self.text = path, text

    def fail(self, section, key, what, value=None, show_value=True):
        line = _line_of(self.text, section, key) if self.text else None
        loc = f"{self.path}:{line}:" if line else f"{self.path}:"
        name = f"[{section}]" + (f" {key}" if key else "")
        val = f" = {_fmt(value)}" if show_value else ""
        raise InputFileError(f"{loc} {name}{val}: {what}")


def _fmt(v, width=60):
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


def _range_text(spec):
    parts = []
    if spec.lo is not None:
        parts.append(("> " if spec.lo_open else "≥ ") + f"{spec.lo:g}")
    if spec.hi is not None:
        parts.append(f"≤ {spec.hi:g}")
    return " and ".join(parts)


def _check_value(ctx, section, key, spec, value):
    t = spec.type
    ok = {"float": isinstance(value, (int, float)) and not isinstance(value, bool),
          "int": isinstance(value, int) and not isinstance(value, bool),
          "bool": isinstance(value, bool), "str": isinstance(value, str),
          "table": isinstance(value, dict),
          "events": isinstance(value, list) and all(isinstance(v, dict) for v in value),
          "list": isinstance(value, list) and all(isinstance(v, str) for v in value)}[t]
    if not ok:
        rng = _range_text(spec)
        ctx.fail(section, key, f"expected {_EXPECT[t]}" + (f" {rng}" if rng else "")
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
            what = "a rate" if spec.rate and spec.lo == 0 and value < 0 else _EXPECT[t]
            ctx.fail(section, key, f"expected {what} {_range_text(spec)}", value)
    if spec.choices is not None and value not in spec.choices:
        ctx.fail(section, key, "expected one of " + ", ".join(
            repr(c) for c in spec.choices if c != "") + (" (or empty)" if "" in spec.choices
                                                         else ""), value)
    return value


def _check_events(ctx, value):
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
                         f"expected {_EXPECT[t]}", show_value=False)
            v = ev[k]
            if t == "float":
                if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                    ctx.fail("solar_events", "scheduled", f"event {i + 1}: '{k}' = {_fmt(v)}; "
                             "expected a number", show_value=False)
                if v < lo or (lo_open and v == lo):
                    ctx.fail("solar_events", "scheduled", f"event {i + 1}: '{k}' = {_fmt(v)}; "
                             f"expected a number {'>' if lo_open else '≥'} {lo}",
                             show_value=False)
                v = float(v)
            elif not isinstance(v, str) or not v.strip():
                ctx.fail("solar_events", "scheduled", f"event {i + 1}: 'source' = {_fmt(v)}; "
                         "expected a non-empty string saying where the event comes from",
                         show_value=False)
            clean[k] = v
        out.append(clean)
    return out


# ---------------------------------------------------------------------- loading
def load(path, overrides=None):
    """Read and validate the scenario file ``path``; ``overrides`` maps "section.key" to values
    (e.g. {"run.runs": 10} from the command line). Returns a resolved :class:`Scenario`."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputFileError(f"{path}: no such scenario file (expected a TOML file, e.g. "
                             "scenarios/leo_10y.toml)")
    try:
        with open(path, "rb") as f:
            raw_bytes = f.read()
        text = raw_bytes.decode("utf-8")
        raw = tomllib.loads(text)
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read the scenario file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise InputFileError(f"{path}: not valid TOML: nested too deeply") from None
    return resolve(raw, path=path, text=text, overrides=overrides)


def resolve(raw, path="<scenario>", text="", overrides=None):
    """Validate a parsed scenario (dict of sections) and fill in defaults and preset values."""
    ctx = _Ctx(path, text)
    raw = {s: dict(v) if isinstance(v, dict) else v for s, v in raw.items()}
    for dotted, value in (overrides or {}).items():
        s, k = dotted.split(".", 1)
        if not isinstance(raw.setdefault(s, {}), dict):
            ctx.fail(s, None, f"expected a table [{s}], got a {type(raw[s]).__name__}",
                     show_value=False)
        raw[s][k] = value
    for section, content in raw.items():
        if section not in SCHEMA:
            ctx.fail(section, None, "unknown section; expected one of "
                     + ", ".join(f"[{s}]" for s in SECTIONS), show_value=False)
        if not isinstance(content, dict):
            ctx.fail(section, None, f"expected a table [{section}], got a "
                     f"{type(content).__name__}", show_value=False)
        for key in content:
            if key not in SCHEMA[section]:
                ctx.fail(section, key, "unknown key; expected one of "
                         + ", ".join(SCHEMA[section]), content[key])
    for section in ("mission", "environment"):
        if section not in raw:
            ctx.fail(section, None, f"section is missing; expected a [{section}] table with "
                     + ", ".join(k for k, s in SCHEMA[section].items() if s.default is REQ),
                     show_value=False)
    env = raw["environment"]
    preset_name = env.get("preset", "")
    preset = PRESETS.get(preset_name) if isinstance(preset_name, str) else None
    values, sources = {}, {}
    for section, keys in SCHEMA.items():
        given = raw.get(section, {})
        out = {}
        for key, spec in keys.items():
            if key in given:
                out[key] = _check_value(ctx, section, key, spec, given[key])
        values[section] = out
    if values["environment"].get("preset") and values["environment"]["preset"] not in PRESETS:
        ctx.fail("environment", "preset", "unknown preset", preset_name)
    # fill in defaults, preset values and conditionally required keys
    for section, keys in SCHEMA.items():
        out = values[section]
        for key, spec in keys.items():
            if key in out:
                if spec.rate:
                    src = out.get("source", "")
                    sources[f"{section}.{key}"] = src
                continue
            dotted = f"{section}.{key}"
            if spec.default is OPT:
                continue
            if spec.default is PRESET:
                if preset is not None:
                    out[key] = _preset_value(preset, dotted)
                    sources[dotted] = f"preset {preset.name}"
                    continue
                ctx.fail(section, key, "missing; expected " + _EXPECT[spec.type] + " "
                         + _range_text(spec) + " (or an [environment] preset that gives it)",
                         show_value=False)
            if spec.default is REQ:
                cond = spec.when
                if cond is not None and not out.get(cond, True):
                    out[key] = 0 if spec.type in ("int", "float") else ""
                    continue
                ctx.fail(section, key, "missing; expected " + _EXPECT[spec.type] + " "
                         + _range_text(spec) + (f" (required because {cond} is not 0)"
                                                if cond else "")
                         + (" with a source: no published figure covers it (neurosim.references)"
                            if spec.rate else ""), show_value=False)
            if spec.src:
                sources[dotted] = spec.src
            out[key] = list(spec.default) if isinstance(spec.default, list) else (
                dict(spec.default) if isinstance(spec.default, dict) else spec.default)
    # every rate given in the file needs the section's source
    for section, keys in SCHEMA.items():
        given = raw.get(section, {})
        rates = [k for k in given if keys[k].rate]
        if rates and not values[section].get("source", "").strip():
            ctx.fail(section, "source" if "source" in given else None,
                     f"a source string is required for {', '.join(rates)}: say where the "
                     "values come from (paper, table) or that they are an assumption",
                     given.get("source", ""), show_value="source" in given)
    if not preset and not values["environment"]["source"].strip():
        ctx.fail("environment", "source" if "source" in env else "preset",
                 "no preset: give preset = one of " + ", ".join(PRESETS)
                 + " or a source string for the custom environment", env.get("preset", ""))
    values["solar_events"]["scheduled"] = _check_events(ctx, values["solar_events"]["scheduled"])
    sources["solar_events.cycle_years"] = sources["solar_events.active_years"] = SOLAR_CYCLE
    # cross-field checks
    lu = values["latchup"]
    if lu.get("rate_per_core_day", 1.0) > 0:
        total = lu["recoverable_fraction"] + lu["destructive_fraction"] + lu["latent_fraction"]
        if abs(total - 1.0) > 1e-6:
            ctx.fail("latchup", "latent_fraction", "recoverable_fraction + destructive_fraction "
                     f"+ latent_fraction = {total:g}; expected 1", lu["latent_fraction"])
    se = values["solar_events"]
    if se["active_years"] > se["cycle_years"]:
        ctx.fail("solar_events", "active_years", f"expected ≤ cycle_years ({se['cycle_years']:g})",
                 se["active_years"])
    m = values["mission"]
    if not m["name"]:
        m["name"] = os.path.splitext(os.path.basename(path))[0] if path else "scenario"
        if not NAME_PATTERN.fullmatch(m["name"]):
            m["name"] = "scenario"
    elif not NAME_PATTERN.fullmatch(m["name"]):
        ctx.fail("mission", "name", "expected letters, digits, '.', '_' or '-', not starting "
                 "with '.' (the name becomes a directory name)", m["name"][:80])
    k = m["duration_years"] * 365.25 / m["checkpoint_interval_days"]
    if k > 100_000:
        ctx.fail("mission", "checkpoint_interval_days", f"gives {k:.0f} checkpoints; expected at "
                 "most 100,000", m["checkpoint_interval_days"])
    opts = values["run"]["compile"]
    import inspect
    from neurosim.compiler import compile as _compile
    allowed = [p for p in inspect.signature(_compile).parameters if p not in ("mlp", "profile")]
    for key in opts:
        if key not in allowed:
            ctx.fail("run", "compile", f"unknown compile option '{key}'; expected one of "
                     + ", ".join(allowed), opts)
    values["physics"] = _physics(ctx, values, preset, sources)
    return Scenario(path=path, values=values, sources=sources)


def _preset_value(preset, dotted):
    """The value a physics preset gives for ``section.key``."""
    return {"environment.shielding_mm_al": preset.shielding_mm_al,
            "device.name": preset.device}[dotted]


def _device_path(name, scenario_path):
    """A shipped device name as is; a device file relative to the scenario's directory."""
    if name in envs.shipped_devices() or os.path.isabs(name) or not scenario_path:
        return name
    return os.path.join(os.path.dirname(os.path.abspath(scenario_path)), name)


def _physics(ctx, values, preset, sources):
    """Fill ``[orbit]`` from the preset if the file gives none, and compute the per-class rates
    (:func:`neurosim.radiation.environments.scenario_rates`) with the file's overrides."""
    if not values["orbit"]:
        if preset is None:
            ctx.fail("orbit", None, "section is missing; expected altitude_km and "
                     "inclination_deg, or tle, or kind = \"interplanetary\" (or an "
                     "[environment] preset)", show_value=False)
        values["orbit"] = envs.preset_orbit_table(preset.name)
    dev = values["device"]
    line = _line_of(ctx.text, "device", None) if ctx.text else None
    loc = f"{ctx.path}:{line}:" if line else f"{ctx.path}:"
    wheres = {key: f"{loc} [device] {key} = {_fmt(dev[key])}"
              for key in ("name",) + envs.MEMORY_CLASSES}
    for key in ("name",) + envs.MEMORY_CLASSES:
        if dev[key]:
            dev[key] = _device_path(dev[key], ctx.path)
    devices = {}
    for k in envs.MEMORY_CLASSES + ("latchup",):
        key = k if dev.get(k) else "name"
        devices[k] = (dev[key], wheres[key])
    orbit_line = _line_of(ctx.text, "orbit", None) if ctx.text else None
    where = f"{ctx.path}:{orbit_line}: [orbit]" if orbit_line else f"{ctx.path}: [orbit]"
    spe = envs.solar_model(values["solar_events"])
    try:
        rates = envs.scenario_rates(values["orbit"], values["environment"]["shielding_mm_al"],
                                    devices, spe, where=where)
    except NeurosimError as exc:
        text = str(exc)
        raise InputFileError(text if text.startswith(ctx.path) else f"{where}: {text}") from None
    physics = (f"physics: {envs.orbit_text(values['orbit'])} behind "
               f"{values['environment']['shielding_mm_al']:g} mm Al, device(s) "
               f"{', '.join(sorted(set(rates['devices'].values())))} "
               "(neurosim.radiation.environment_report, solar min/max)")
    for k in envs.MEMORY_CLASSES:
        sources.setdefault(f"upsets.{k}_rate_per_bit_day", physics)
    for key in ("saa_share", "multi_bit_fraction"):
        sources.setdefault(f"upsets.{key}", physics)
    sources.setdefault("latchup.rate_per_core_day", physics)
    return json.loads(json.dumps(rates))


# ---------------------------------------------------------------------- writing
def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else "nan"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(type(v).__name__)


def to_toml(scenario):
    """The resolved scenario as TOML text: every key, sources as comments; loads back equal."""
    lines = [f"# resolved scenario (defaults filled in) of {scenario.path}"]
    for section, keys in SCHEMA.items():
        vals = scenario.values[section]
        lines.append("")
        lines.append(f"[{section}]")
        srcs = {k: scenario.sources.get(f"{section}.{k}") for k in keys}
        if any(keys[k].rate for k in keys) and not vals.get("source", "").strip():
            vals = dict(vals, source="see the per-key comments (environment preset)")
        for key, spec in keys.items():
            if spec.type == "events" or key not in vals:
                continue
            comment = f"  # source: {srcs[key]}" if srcs[key] else ""
            lines.append(f"{key} = {_toml_value(vals[key])}{comment}")
        if section == "solar_events":
            for ev in vals["scheduled"]:
                lines.append("")
                lines.append("[[solar_events.scheduled]]")
                for k, x in ev.items():
                    lines.append(f"{k} = {_toml_value(x)}")
    return "\n".join(lines) + "\n"


def write_resolved(scenario, path):
    """Write :func:`to_toml` atomically (:func:`neurosim.fileio.write_text`)."""
    fileio.write_text(path, to_toml(scenario))


def to_json(scenario):
    """values and sources as plain JSON-able data (the resume fingerprint)."""
    return {"values": scenario.values, "sources": scenario.sources}
