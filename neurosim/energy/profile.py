"""Power profiles: the energy constants of one chip, each with its ``source``.

``truenorth``
    Fitted to published whole-chip measurements (:mod:`neurosim.energy.fit`): whole-chip static
    power P_s and the all-in marginal energy per synaptic event e_syn at V₀ = 0.8 V; hop, spike and
    neuron-update energies are folded into those two (0 here, so nothing is charged twice).
    ``power_gating = "none"``: every core of the chip leaks whether a program uses it or not.
``loihi``
    Davies et al., IEEE Micro 38(1) 2018, Table 2 — pre-silicon per-operation energies; Table 2
    has no static power, so it is 0 and Loihi figures are dynamic-only lower bounds.
a TOML file
    ``static_mw_per_core``, ``synaptic_event_pj``, ``neuron_update_idle_pj``, ``spike_pj``,
    ``hop_pj`` (required), ``neuron_update_active_pj`` (default = idle), ``power_gating``
    ("none" | "core", default "none"), ``chip_cores`` (default 4096), ``reference_voltage_v`` and
    ``voltage_range_v = [low, high]`` (optional: without them the supply cannot be changed),
    ``name``, ``description``; each constant a number or ``{value = …, source = "…"}``.
"""
import math
import os
import re
import tomllib
from dataclasses import dataclass, field

from neurosim.errors import InputFileError, ValidationError
from neurosim.energy.fit import CHIP_CORES, fit_truenorth

POWER_GATING = ("none", "core")


@dataclass(frozen=True)
class PowerProfile:
    """Energy constants of one chip at ``reference_voltage_v`` (units in the names; ``sources``
    maps each constant and setting to its source).

    static_mw_per_core: leakage and baseline of one core; synaptic_event_pj: one spike reaching
    one connected neuron; neuron_update_idle_pj / neuron_update_active_pj: one neuron for one tick
    without / with input; spike_pj: one spike entering or leaving the network; hop_pj: one spike
    crossing one core boundary. power_gating: "none" — every core of every chip in use draws its
    static power; "core" — only cores with an enabled neuron do (unused cores gated off).
    chip_cores: cores per chip. voltage_range_v: (low, high) supply the model accepts, None if the
    profile has no reference voltage.
    """

    name: str
    static_mw_per_core: float
    synaptic_event_pj: float
    neuron_update_idle_pj: float
    neuron_update_active_pj: float
    spike_pj: float
    hop_pj: float
    power_gating: str = "none"
    chip_cores: int = CHIP_CORES
    reference_voltage_v: float | None = None
    voltage_range_v: tuple | None = None
    sources: dict = field(default_factory=dict, compare=False, hash=False)
    description: str = ""

    CONSTANTS = ("static_mw_per_core", "synaptic_event_pj", "neuron_update_idle_pj",
                 "neuron_update_active_pj", "spike_pj", "hop_pj")

    def __post_init__(self):
        if self.power_gating not in POWER_GATING:
            raise ValidationError(f"power profile '{self.name}': power_gating is "
                                  f"{self.power_gating!r}; expected one of "
                                  f"{', '.join(POWER_GATING)}")

    def to_dict(self):
        return {"name": self.name, "description": self.description,
                "power_gating": {"value": self.power_gating,
                                 "source": self.sources.get("power_gating", "")},
                "chip_cores": self.chip_cores, "reference_voltage_v": self.reference_voltage_v,
                "voltage_range_v": list(self.voltage_range_v) if self.voltage_range_v else None,
                **{k: {"value": getattr(self, k), "source": self.sources.get(k, "")}
                   for k in self.CONSTANTS}}


_FOLDED = ("fitted into synaptic_event_pj (all-in marginal per event at ~21-hop routing); "
           "0 here so it is not charged twice")


def truenorth_profile(fit=None):
    """The TrueNorth profile from a :class:`~neurosim.energy.fit.TrueNorthFit` (default: the fit
    to the shipped measurements)."""
    fit = fit_truenorth() if fit is None else fit
    fitted = (f"least squares on the published points of truenorth_measurements.csv (Akopyan "
              f"et al. 2015 Fig. 17 and Sec. VII, secondary transcription), at "
              f"{fit.reference_v} V; Merolla et al. 2014's 72 mW held out")
    return PowerProfile(
        name="truenorth",
        static_mw_per_core=fit.static_chip_mw / CHIP_CORES,
        synaptic_event_pj=fit.synaptic_event_pj,
        neuron_update_idle_pj=0.0, neuron_update_active_pj=0.0, spike_pj=0.0, hop_pj=0.0,
        power_gating="none", chip_cores=CHIP_CORES, reference_voltage_v=fit.reference_v,
        voltage_range_v=(0.70, 1.05),
        description=f"TrueNorth fitted to published whole-chip power: {fit.static_chip_mw:.1f} mW "
                    f"static + {fit.synaptic_event_pj:.2f} pJ per synaptic event at "
                    f"{fit.reference_v} V; whole-chip static power",
        sources={
            "static_mw_per_core": f"whole-chip static power / 4,096 cores, {fitted}; includes "
                                  "the per-tick sweep of all 2^20 neurons",
            "synaptic_event_pj": f"marginal energy per synaptic event, {fitted}; hops, spikes "
                                 "and neuron updates folded in",
            "neuron_update_idle_pj": "in static_mw_per_core: every published point sweeps all "
                                     "neurons every tick; 0 here so it is not charged twice",
            "neuron_update_active_pj": _FOLDED, "spike_pj": _FOLDED, "hop_pj": _FOLDED,
            "power_gating": "assumption: TrueNorth's papers report whole-chip power only and "
                            "describe no per-core power gating, so every core leaks (none)",
            "voltage_range_v": "Akopyan et al. 2015 Sec. VII: operated at 0.70-1.05 V "
                               "(secondary transcription)",
        })


_DAVIES = "Davies et al., IEEE Micro 38(1):82 (2018), Table 2 (pre-silicon)"
LOIHI = PowerProfile(
    name="loihi",
    static_mw_per_core=0.0,
    synaptic_event_pj=23.6, neuron_update_idle_pj=52.0, neuron_update_active_pj=81.0,
    spike_pj=1.7, hop_pj=3.5, power_gating="none", chip_cores=128,
    description="Loihi per-operation energies (pre-silicon); no static power, so a lower bound",
    sources={
        "static_mw_per_core": f"not in {_DAVIES}: 0, so loihi power is dynamic only",
        "synaptic_event_pj": f"{_DAVIES}: synaptic spike op 23.6 pJ",
        "neuron_update_idle_pj": f"{_DAVIES}: neuron update, inactive, 52 pJ",
        "neuron_update_active_pj": f"{_DAVIES}: neuron update, active, 81 pJ",
        "spike_pj": f"{_DAVIES}: within-tile spike energy 1.7 pJ",
        "hop_pj": f"{_DAVIES}: 3.0 pJ E-W and 4.0 pJ N-S per hop; mean 3.5 pJ",
        "power_gating": "static power is 0 here, so the accounting makes no difference",
        "chip_cores": "Davies et al. 2018: 128 neuromorphic cores per chip",
    })

TRUENORTH = truenorth_profile()
POWER_PROFILES = {p.name: p for p in (TRUENORTH, LOIHI)}


# ------------------------------------------------------------------ profile files
def _line_of(text, key):
    """``line N: `` of the first ``key =`` assignment in the file text ('' if not found)."""
    for n, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*{re.escape(key)}\s*=", line):
            return f"line {n}: "
    return ""


def _read_toml(path):
    """(text, data) of a TOML file; one-line InputFileError otherwise."""
    try:
        with open(path, "rb") as f:
            raw_bytes = f.read()
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file; expected a TOML power profile") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read ({exc.strerror}); expected a TOML power "
                             f"profile") from None
    try:
        text = raw_bytes.decode("utf-8")
        return text, tomllib.loads(text)
    except UnicodeDecodeError:
        raise InputFileError(f"{path}: not UTF-8 text; expected a TOML power profile") from None
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\s*\(at line (\d+), column \d+\)", str(exc))
        line = f"line {found.group(1)}: " if found else ""
        reason = str(exc).replace(found.group(0), "") if found else str(exc)
        raise InputFileError(f"{path}: {line}not valid TOML ({reason}); expected KEY = VALUE "
                             f"lines of a power profile") from None


_SETTINGS = ("power_gating", "chip_cores", "reference_voltage_v", "voltage_range_v")


def _settings(data, bad):
    """The accounting and voltage settings of a profile file (defaults where absent)."""
    gating = data.get("power_gating", "none")
    if gating not in POWER_GATING:
        raise bad("power_gating", gating, f"one of {', '.join(POWER_GATING)}")
    cores = data.get("chip_cores", CHIP_CORES)
    if isinstance(cores, bool) or not isinstance(cores, int) or cores < 1:
        raise bad("chip_cores", cores, "an integer ≥ 1")
    v0 = data.get("reference_voltage_v")
    if v0 is not None and (isinstance(v0, bool) or not isinstance(v0, (int, float))
                           or not v0 > 0 or not math.isfinite(v0)):
        raise bad("reference_voltage_v", v0, "a finite number > 0 (volts)")
    vr = data.get("voltage_range_v")
    if vr is not None and (v0 is None or not isinstance(vr, list) or len(vr) != 2
                           or not all(isinstance(x, (int, float)) for x in vr)
                           or not 0 < vr[0] <= v0 <= vr[1]):
        raise bad("voltage_range_v", vr, "[low, high] volts with low ≤ reference_voltage_v ≤ "
                                         "high (and reference_voltage_v given)")
    return {"power_gating": gating, "chip_cores": cores,
            "reference_voltage_v": None if v0 is None else float(v0),
            "voltage_range_v": None if v0 is None else
            (tuple(float(x) for x in vr) if vr else (float(v0), float(v0)))}


def load_power_profile(path):
    """Read a user power profile from a TOML file (format: module docstring).

    Every error is one line naming the file, the line, the key, the value and what was expected.
    """
    text, data = _read_toml(path)

    def bad(key, value, expected):
        return ValidationError(f"{path}: {_line_of(text, key)}key '{key}' is {value!r}; "
                               f"expected {expected}")

    required = ("static_mw_per_core", "synaptic_event_pj", "neuron_update_idle_pj", "spike_pj",
                "hop_pj")
    allowed = set(PowerProfile.CONSTANTS) | {"name", "description"} | set(_SETTINGS)
    for key in data:
        if key not in allowed:
            raise ValidationError(f"{path}: {_line_of(text, key)}key '{key}' is unknown; "
                                  f"expected one of {', '.join(sorted(allowed))}")
    for key in required:
        if key not in data:
            raise ValidationError(f"{path}: key '{key}' is missing; expected a number ≥ 0 "
                                  f"(or {{value = …, source = \"…\"}})")
    name = data.get("name", os.path.splitext(os.path.basename(path))[0])
    if not isinstance(name, str) or not name:
        raise bad("name", name, "a non-empty string")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise bad("description", description, "a string")
    values, sources = {}, {}
    for key in PowerProfile.CONSTANTS:
        if key not in data:
            continue
        raw = data[key]
        source = f"user profile {path}"
        if isinstance(raw, dict):
            if "value" not in raw or set(raw) - {"value", "source"}:
                raise bad(key, raw, "a number or {value = NUMBER, source = \"…\"}")
            if not isinstance(raw.get("source", ""), str):
                raise bad(key, raw, "a string as its source")
            source = raw.get("source") or source
            raw = raw["value"]
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw) \
                or raw < 0:
            raise bad(key, raw, "a finite number ≥ 0")
        values[key], sources[key] = float(raw), source
    values.setdefault("neuron_update_active_pj", values["neuron_update_idle_pj"])
    sources.setdefault("neuron_update_active_pj", "not given: = neuron_update_idle_pj")
    settings = _settings(data, bad)
    sources["power_gating"] = (f"user profile {path}" if "power_gating" in data else
                               "not given: whole-chip static power (none), the default")
    return PowerProfile(name=name, description=description, sources=sources, **values,
                        **settings)


def get_power_profile(profile):
    """A PowerProfile from a PowerProfile, a built-in name, or a path to a ``.toml`` file."""
    if isinstance(profile, PowerProfile):
        return profile
    if profile in POWER_PROFILES:
        return POWER_PROFILES[profile]
    if isinstance(profile, str) and (profile.endswith(".toml") or os.path.exists(profile)):
        return load_power_profile(profile)
    raise ValidationError(f"power profile '{profile}' is unknown; expected one of "
                          f"{', '.join(sorted(POWER_PROFILES))} or a .toml file")
