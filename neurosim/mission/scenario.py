"""Mission scenario files (TOML, read with the standard library's ``tomllib``).

A scenario has the sections ``[mission] [environment] [orbit] [device] [upsets] [solar_events]
[dose] [latchup] [synapses] [mitigation] [run]``; :data:`neurosim.mission.schema.SCHEMA` lists
every key with its type, range, default and unit (the unit is in the key's name). The upset and
latch-up rates come from the physics: the ``[environment]`` preset is an (orbit, shielding,
device) triple and ``[orbit]``, ``shielding_mm_al`` and ``[device]`` replace any part of it;
:func:`resolve` runs :func:`neurosim.radiation.environments.scenario_rates` (cached on disk) and
stores the result in ``values["physics"]`` (not written back: recomputed on load). A measured
``rate_per_bit_day`` in ``[upsets]`` replaces the physics for its class. Every rate or model
figure given in the file needs its section's ``source`` string saying where the numbers come from
— or that they are an assumption; defaults carry their own sources (``Key.src``). The dose rate
has no default (no dose-depth model yet).

Validation is strict: an unknown section or key, a wrong type, a negative rate, a value outside its
range or a missing required key raises :class:`~neurosim.errors.InputFileError` with one line::

    scenarios/x.toml:12: [upsets] weight_sram_rate_per_bit_day = -1.0: expected a number ≥ 0 ...

naming the file, the line (found by scanning the file for the key; tomllib itself gives lines only
for syntax errors: :mod:`neurosim.mission.scenario_checks`), the section and key, the value and
what was expected. Nothing is written before a scenario validates.

:func:`resolve` returns a :class:`Scenario` with every default filled in and every value's source;
:func:`write_resolved` writes it back as TOML that :func:`load` reads to an equal scenario.
"""
import inspect
import json
import math
import os
import tomllib
from dataclasses import dataclass, field

import numpy as np

from neurosim import fileio
from neurosim.compiler import compile as compile_mlp
from neurosim.errors import InputFileError, NeurosimError
from neurosim.mission.scenario_checks import (FileContext, check_events, check_value, fmt_value,
                                              line_of)
from neurosim.mission.schema import (EXPECT, NAME_PATTERN, OPT, PRESET, REQ, SCHEMA, SECTIONS,
                                     range_text)
from neurosim.radiation import environments as envs
from neurosim.radiation import orbit as orbits
from neurosim.radiation.environments import PRESETS, SOLAR_CYCLE

DEFAULT_SCENARIO = "scenarios/leo_10y.toml"   # the main job: `neurosim mission` with no file


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
        total = self["mission.duration_years"] * 365.25
        step = self["mission.checkpoint_interval_days"]
        k = max(1, int(round(total / step)))
        t = np.arange(1, k + 1, dtype=np.float64) * step
        t[-1] = total
        return t


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
    ctx = FileContext(path, text)
    raw = _with_overrides(ctx, raw, overrides)
    _check_layout(ctx, raw)
    env = raw["environment"]
    preset_name = env.get("preset", "")
    preset = PRESETS.get(preset_name) if isinstance(preset_name, str) else None
    values = {section: {key: check_value(ctx, section, key, spec, raw.get(section, {})[key])
                        for key, spec in keys.items() if key in raw.get(section, {})}
              for section, keys in SCHEMA.items()}
    if values["environment"].get("preset") and values["environment"]["preset"] not in PRESETS:
        ctx.fail("environment", "preset", "unknown preset", preset_name)
    sources = _fill_defaults(ctx, values, preset)
    _require_sources(ctx, raw, values, preset)
    values["solar_events"]["scheduled"] = check_events(ctx, values["solar_events"]["scheduled"])
    sources["solar_events.cycle_years"] = sources["solar_events.active_years"] = SOLAR_CYCLE
    _check_across_keys(ctx, values, path)
    _check_compile_options(ctx, values["run"]["compile"])
    values["physics"] = _physics(ctx, values, preset, sources)
    return Scenario(path=path, values=values, sources=sources)


def _with_overrides(ctx, raw, overrides):
    """A copy of ``raw`` (its tables copied) with ``overrides`` ("section.key": value) set."""
    raw = {s: dict(v) if isinstance(v, dict) else v for s, v in raw.items()}
    for dotted, value in (overrides or {}).items():
        s, k = dotted.split(".", 1)
        if not isinstance(raw.setdefault(s, {}), dict):
            ctx.fail(s, None, f"expected a table [{s}], got a {type(raw[s]).__name__}",
                     show_value=False)
        raw[s][k] = value
    return raw


def _check_layout(ctx, raw):
    """Refuse unknown sections and keys, a section that is not a table and a missing [mission]
    or [environment]."""
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


def _fill_defaults(ctx, values, preset):
    """Fill in defaults, preset values and conditionally required keys of ``values`` (in place);
    refuse a missing required key. Returns the sources: "section.key" → where the value comes
    from (the section's ``source`` for a rate given in the file, the preset, the default's)."""
    sources = {}
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
                ctx.fail(section, key, "missing; expected " + EXPECT[spec.type] + " "
                         + range_text(spec) + " (or an [environment] preset that gives it)",
                         show_value=False)
            if spec.default is REQ:
                cond = spec.when
                if cond is not None and not out.get(cond, True):
                    out[key] = 0 if spec.type in ("int", "float") else ""
                    continue
                ctx.fail(section, key, "missing; expected " + EXPECT[spec.type] + " "
                         + range_text(spec) + (f" (required because {cond} is not 0)"
                                               if cond else "")
                         + (" with a source: no published figure covers it (neurosim.references)"
                            if spec.rate else ""), show_value=False)
            if spec.src:
                sources[dotted] = spec.src
            out[key] = list(spec.default) if isinstance(spec.default, list) else (
                dict(spec.default) if isinstance(spec.default, dict) else spec.default)
    return sources


def _require_sources(ctx, raw, values, preset):
    """Every rate given in the file needs its section's ``source``; a custom environment (no
    preset) needs one too."""
    for section, keys in SCHEMA.items():
        given = raw.get(section, {})
        rates = [k for k in given if keys[k].rate]
        if rates and not values[section].get("source", "").strip():
            ctx.fail(section, "source" if "source" in given else None,
                     f"a source string is required for {', '.join(rates)}: say where the "
                     "values come from (paper, table) or that they are an assumption",
                     given.get("source", ""), show_value="source" in given)
    env = raw["environment"]
    if not preset and not values["environment"]["source"].strip():
        ctx.fail("environment", "source" if "source" in env else "preset",
                 "no preset: give preset = one of " + ", ".join(PRESETS)
                 + " or a source string for the custom environment", env.get("preset", ""))


def _check_across_keys(ctx, values, path):
    """Checks that join keys: latch-up fractions sum to 1, active years within the cycle, a name
    that can be a directory name (default: the file's), at most 100,000 checkpoints."""
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


def _check_compile_options(ctx, opts):
    """``[run] compile`` may hold only options of :func:`neurosim.compiler.compile`."""
    allowed = [p for p in inspect.signature(compile_mlp).parameters if p not in ("mlp", "profile")]
    for key in opts:
        if key not in allowed:
            ctx.fail("run", "compile", f"unknown compile option '{key}'; expected one of "
                     + ", ".join(allowed), opts)


def _preset_value(preset, dotted):
    """The value a physics preset gives for ``section.key``."""
    return {"environment.shielding_mm_al": preset.shielding_mm_al,
            "device.name": preset.device}[dotted]


def _relative_to_scenario(path, scenario_path):
    """A file named in a scenario: absolute as is, else relative to the scenario's directory."""
    if os.path.isabs(path) or not scenario_path:
        return path
    return os.path.join(os.path.dirname(os.path.abspath(scenario_path)), path)


def _device_path(name, scenario_path):
    """A shipped device name as is; a device file relative to the scenario's directory."""
    return name if name in envs.shipped_devices() else _relative_to_scenario(name, scenario_path)


def _orbit(ctx, table):
    """The :class:`~neurosim.radiation.orbit.Orbit` of the ``[orbit]`` table, or the one-line
    error at the line of the offending key (of the section when no key is to blame)."""
    try:
        return orbits.orbit_from_dict(table)
    except NeurosimError as exc:
        line = ((exc.param and line_of(ctx.text, "orbit", exc.param))
                or line_of(ctx.text, "orbit", None)) if ctx.text else None
        raise InputFileError(f"{ctx.path}:{line}: {exc}" if line else f"{ctx.path}: {exc}") \
            from None


def _imported(ctx, env):
    """Spectra files of ``[environment]`` (paths made relative to the scenario, in place), read;
    a bad one is refused in one line naming the scenario key and the file's own line."""
    given = [key for key in envs.SPECTRUM_KEYS if env.get(key)]
    for key in given:
        env[key] = _relative_to_scenario(env[key], ctx.path)
    try:
        return envs.imported_spectra(env)
    except NeurosimError as exc:
        key = exc.param
        line = line_of(ctx.text, "environment", key) if ctx.text else None
        loc = f"{ctx.path}:{line}:" if line else f"{ctx.path}:"
        raise InputFileError(f"{loc} [environment] {key}: {exc}") from None


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
    line = line_of(ctx.text, "device", None) if ctx.text else None
    loc = f"{ctx.path}:{line}:" if line else f"{ctx.path}:"
    wheres = {key: f"{loc} [device] {key} = {fmt_value(dev[key])}"
              for key in ("name",) + envs.MEMORY_CLASSES}
    for key in ("name",) + envs.MEMORY_CLASSES:
        if dev[key]:
            dev[key] = _device_path(dev[key], ctx.path)
    devices = {}
    for k in envs.MEMORY_CLASSES + ("latchup",):
        key = k if dev.get(k) else "name"
        devices[k] = (dev[key], wheres[key])
    orb = _orbit(ctx, values["orbit"])
    imported = _imported(ctx, values["environment"])
    spe = envs.solar_model(values["solar_events"])
    try:
        rates = envs.scenario_rates(orb, values["environment"]["shielding_mm_al"], devices, spe,
                                    imported=imported)
    except NeurosimError as exc:    # a device file's, or SGP4 failing on the orbit
        text = str(exc)
        line = line_of(ctx.text, "orbit", None) if ctx.text else None
        where = f"{ctx.path}:{line}:" if line else f"{ctx.path}:"
        raise InputFileError(text if text.startswith(ctx.path) else f"{where} {text}") from None
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
