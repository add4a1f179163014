"""Energy and power from activity counters: a component model per power profile.

The model (one inference = one input presented for T ticks of τ seconds; counts per inference from
:class:`~neurosim.sim.counters.ActivityCounters`; C = powered cores, N = enabled neurons =
neuron_updates / T; S synaptic events, K spikes emitted, I input spikes, H hops, U = N·T neuron
updates, A = min(S, U) active neuron updates — an upper bound: each synaptic event can make at most
one neuron-tick active)::

    static  P_s = C · p_core                       leakage and baseline of every powered core
                + N · e_idle / τ                   every enabled neuron is updated every tick
    dynamic E_d = S · e_syn                        per synaptic event (spike × connected neuron)
                + (K + I) · e_spike                per spike put on (or taken off) the network
                + H · e_hop                        per spike per hop, |Δrow| + |Δcol|
                + A · (e_active − e_idle)          extra cost of an update with input

    power at inference rate r:     P(r) = P_s + r · E_d
    energy per inference at r:     E(r) = E_d + P_s / r
    real-time rate:                r_rt = 1 / (T · τ)   (inputs back to back, 1 ms ticks)

The chip ticks in real time whether or not an input is being processed, so P_s is paid at every
rate; a rate above r_rt would need faster-than-real-time ticking and is refused. Dead and unused
cores draw nothing (``cores_powered`` counts cores with at least one enabled neuron): unused cores
are taken as power-gated, the way Esser et al. (NIPS 2015) charged a network only for the cores
it occupies. "static" in the outputs is what the powered chip draws with no spike at all (leakage
plus the per-tick neuron sweep); "dynamic" is everything that scales with activity. A program with
no input spikes and no self-driven neuron therefore draws exactly P_s.

Profiles (constants in pJ per event and mW per core, each with a ``source``):

``truenorth``
    Calibrated on Merolla et al. (Science 2014): 72 mW for the whole chip (4,096 cores, 2^20
    neurons) at 20 Hz mean rate, 128 active synapses per neuron, spikes sent ~21 cores in x and y
    (uniform random destinations on a 64-wide grid: (64² − 1) / (3 · 64) = 21.3 per axis), in real
    time: 26.8 pJ per synaptic event *all-in*. The static/active split of TrueNorth is not
    published in what we found, so the split is an explicit, documented assumption
    (:func:`truenorth_profile`): marginal synaptic event e_syn = 2.5 pJ (= 1 / 400 GSOPS/W, the
    chip's quoted peak efficiency, which bounds the marginal cost from above; secondary, unverified),
    hop 2.3 pJ (Merolla 2014 supplement, secondary quote), spike injection 2.3 pJ (assumed equal to
    one hop), neuron update 5.5 pJ (e_syn scaled by Loihi's idle-update/synaptic-op ratio 52/23.6,
    an assumption), and the per-core leakage solves P = 72 mW exactly at the nominal operating
    point. Result: 63.2 mW static (57.4 mW leakage = 14.0 µW per core, 5.8 mW neuron sweep) and
    8.8 mW dynamic (6.7 synaptic, 2.1 hops, 0.05 spikes) — 88 % static at the calibration point.
``loihi``
    Davies et al., IEEE Micro 38(1) 2018, Table 2 — pre-silicon figures: 23.6 pJ per synaptic
    spike op, 52 pJ idle / 81 pJ active neuron update, 1.7 pJ per spike within a tile, 3.0 pJ E–W
    and 4.0 pJ N–S per hop (3.5 pJ mean, since hops are counted in x and y together). Table 2 has
    no static power: it is 0 here, so Loihi figures are dynamic-only lower bounds.
a TOML file
    ``static_mw_per_core``, ``synaptic_event_pj``, ``neuron_update_idle_pj``, ``spike_pj``,
    ``hop_pj`` (required), ``neuron_update_active_pj`` (optional, default = idle), ``name``,
    ``description``; each constant a number or an inline table ``{value = …, source = "…"}``.

Mission use: :func:`checkpoint_power` on the counters of the faulty program at each checkpoint (a
dead neuron stops spiking, so its downstream events vanish; a dead core stops drawing; a latched-up
core may draw more — ``latched_cores`` × ``latchup_mw_per_core``), then :func:`mission_energy_wh`
over the power-vs-time series.
"""
from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field

import numpy as np

from neurosim.errors import InputFileError, ValidationError

HOURS_PER_YEAR = 365.25 * 24.0
LATCHUP_FACTOR = 10.0   # default extra draw of a latched-up core, in units of its static power

# ------------------------------------------------------------------ the calibration point
MEROLLA_POWER_MW = 72.0
MEROLLA_PJ_PER_SYNAPTIC_EVENT = 26.0
MEROLLA_RATE_HZ = 20.0
MEROLLA_SYNAPSES = 128
MEROLLA_CORES = 4096
MEROLLA_NEURONS = 4096 * 256
MEROLLA_HOPS_PER_SPIKE = 2 * (64 ** 2 - 1) / (3 * 64)   # uniform random destination, x and y
CALIBRATION_TOLERANCE = 0.10
_MEROLLA = ("Merolla et al., Science 345:668 (2014): 72 mW at 0.775 V, 20 Hz mean rate, 128 active "
            "synapses per neuron, spikes sent ~21 cores in x and y, real time; 26 pJ per synaptic "
            "event all-in")


@dataclass(frozen=True)
class PowerProfile:
    """Energy constants of one chip (units in the names; ``sources`` maps each to its source).

    static_mw_per_core: leakage and baseline of a powered core; synaptic_event_pj: one spike
    reaching one connected neuron; neuron_update_idle_pj / neuron_update_active_pj: one neuron for
    one tick without / with input; spike_pj: one spike entering or leaving the network; hop_pj:
    one spike crossing one core boundary.
    """

    name: str
    static_mw_per_core: float
    synaptic_event_pj: float
    neuron_update_idle_pj: float
    neuron_update_active_pj: float
    spike_pj: float
    hop_pj: float
    sources: dict = field(default_factory=dict, compare=False, hash=False)
    description: str = ""

    CONSTANTS = ("static_mw_per_core", "synaptic_event_pj", "neuron_update_idle_pj",
                 "neuron_update_active_pj", "spike_pj", "hop_pj")

    def to_dict(self):
        return {"name": self.name, "description": self.description,
                **{k: {"value": getattr(self, k), "source": self.sources.get(k, "")}
                   for k in self.CONSTANTS}}


def truenorth_profile(marginal_synaptic_event_pj=2.5, neuron_update_pj=None, hop_pj=2.3,
                      spike_pj=2.3, total_mw=MEROLLA_POWER_MW):
    """The calibrated TrueNorth profile; the assumed static/active split is its arguments.

    Every argument but the per-core static power is assumed (see the module docstring); the
    static power then follows from P = ``total_mw`` at Merolla's nominal operating point::

        p_core = (P − e_syn·S − e_spike·K − e_hop·H − e_nu·N/τ) / 4096
        S = 2^20 · 20 · 128 /s,  K = 2^20 · 20 /s,  H = K · 42.7,  N = 2^20,  τ = 1 ms

    ``neuron_update_pj`` defaults to e_syn · 52/23.6 (Loihi's idle-update/synaptic-op ratio).
    """
    if neuron_update_pj is None:
        neuron_update_pj = marginal_synaptic_event_pj * 52.0 / 23.6
    spikes = MEROLLA_NEURONS * MEROLLA_RATE_HZ
    per_s = {"synaptic_events": spikes * MEROLLA_SYNAPSES, "spikes": spikes,
             "hops": spikes * MEROLLA_HOPS_PER_SPIKE, "neuron_updates": MEROLLA_NEURONS * 1000.0}
    active_mw = 1e-9 * (marginal_synaptic_event_pj * per_s["synaptic_events"]
                        + spike_pj * per_s["spikes"] + hop_pj * per_s["hops"]
                        + neuron_update_pj * per_s["neuron_updates"])
    static = (total_mw - active_mw) / MEROLLA_CORES
    if static < 0:
        raise ValidationError(f"truenorth_profile: the assumed active energies add up to "
                              f"{active_mw:.1f} mW at the calibration point; expected at most "
                              f"{total_mw} mW")
    assumed = "assumption (TrueNorth's static/active split is not published)"
    return PowerProfile(
        name="truenorth",
        static_mw_per_core=static,
        synaptic_event_pj=marginal_synaptic_event_pj,
        neuron_update_idle_pj=neuron_update_pj,
        neuron_update_active_pj=neuron_update_pj,
        spike_pj=spike_pj, hop_pj=hop_pj,
        description="TrueNorth, calibrated to 72 mW / 26 pJ per synaptic event all-in at "
                    "Merolla et al.'s operating point; static/active split assumed",
        sources={
            "static_mw_per_core": f"solved so that the whole model gives {total_mw} mW at the "
                                  f"operating point of {_MEROLLA}; leakage + baseline per core",
            "synaptic_event_pj": f"{assumed}: marginal energy ≤ 1/(400 GSOPS/W) = 2.5 pJ, the "
                                 "chip's quoted peak efficiency (Merolla et al. 2014; secondary, "
                                 "unverified); taken at that bound",
            "neuron_update_idle_pj": f"{assumed}: synaptic event × 52/23.6, Loihi's "
                                     "idle-update/synaptic-op ratio (Davies et al. 2018 Table 2); "
                                     "TrueNorth updates every neuron every tick",
            "neuron_update_active_pj": "TrueNorth's sources do not distinguish: = idle",
            "spike_pj": f"{assumed}: injection/ejection of a spike taken equal to one hop",
            "hop_pj": "Merolla et al. 2014 supplement: ~2.3 pJ per spike per hop (secondary "
                      "quote, unverified)",
        })


_DAVIES = "Davies et al., IEEE Micro 38(1):82 (2018), Table 2 (pre-silicon)"
LOIHI = PowerProfile(
    name="loihi",
    static_mw_per_core=0.0,
    synaptic_event_pj=23.6, neuron_update_idle_pj=52.0, neuron_update_active_pj=81.0,
    spike_pj=1.7, hop_pj=3.5,
    description="Loihi per-operation energies (pre-silicon); no static power, so a lower bound",
    sources={
        "static_mw_per_core": f"not in {_DAVIES}: 0, so loihi power is dynamic only",
        "synaptic_event_pj": f"{_DAVIES}: synaptic spike op 23.6 pJ",
        "neuron_update_idle_pj": f"{_DAVIES}: neuron update, inactive, 52 pJ",
        "neuron_update_active_pj": f"{_DAVIES}: neuron update, active, 81 pJ",
        "spike_pj": f"{_DAVIES}: within-tile spike energy 1.7 pJ",
        "hop_pj": f"{_DAVIES}: 3.0 pJ E-W and 4.0 pJ N-S per hop; mean 3.5 pJ",
    })

TRUENORTH = truenorth_profile()
POWER_PROFILES = {p.name: p for p in (TRUENORTH, LOIHI)}


# ------------------------------------------------------------------ profile files
def _line_of(text, key):
    """``line N: `` of the first ``key =`` assignment in the file text ('' if not found)."""
    import re
    for n, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*{re.escape(key)}\s*=", line):
            return f"line {n}: "
    return ""


def load_power_profile(path):
    """Read a user power profile from a TOML file (format: module docstring).

    Every error is one line naming the file, the line, the key, the value and what was expected.
    """
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
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise InputFileError(f"{path}: not UTF-8 text; expected a TOML power profile") from None
    except tomllib.TOMLDecodeError as exc:
        import re
        found = re.search(r"\s*\(at line (\d+), column \d+\)", str(exc))
        line = f"line {found.group(1)}: " if found else ""
        reason = str(exc).replace(found.group(0), "") if found else str(exc)
        raise InputFileError(f"{path}: {line}not valid TOML ({reason}); expected KEY = VALUE "
                             f"lines of a power profile") from None

    def bad(key, value, expected):
        return ValidationError(f"{path}: {_line_of(text, key)}key '{key}' is {value!r}; "
                               f"expected {expected}")

    required = ("static_mw_per_core", "synaptic_event_pj", "neuron_update_idle_pj", "spike_pj",
                "hop_pj")
    allowed = set(PowerProfile.CONSTANTS) | {"name", "description"}
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
    return PowerProfile(name=name, description=description, sources=sources, **values)


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


# ------------------------------------------------------------------ the model
@dataclass(frozen=True)
class PowerReport:
    """Power and energy of one workload at one inference rate (units in the names).

    breakdown (mW): leakage, neuron_updates, synaptic_events, spikes, hops, latchup; their sum is
    power_mw. static_mw = leakage + idle neuron sweep + latchup; dynamic_mw = the rest.
    """

    profile: str
    power_mw: float
    static_mw: float
    dynamic_mw: float
    energy_per_inference_uj: float
    dynamic_energy_per_inference_uj: float
    inference_rate_hz: float
    realtime_rate_hz: float
    cores_powered: int
    breakdown: dict

    def to_dict(self):
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _components(counters, profile):
    """Per-inference dynamic energies (pJ) and static power parts (mW)."""
    per = counters.per_inference()
    ticks = counters.ticks
    s, k, i = per["synaptic_events"], per["spikes"], per["input_spikes"]
    h, u = per["hops"], per["neuron_updates"]
    active = min(s, u)
    dyn_pj = {
        "synaptic_events": s * profile.synaptic_event_pj,
        "spikes": (k + i) * profile.spike_pj,
        "hops": h * profile.hop_pj,
        "neuron_updates": active * (profile.neuron_update_active_pj
                                    - profile.neuron_update_idle_pj),
    }
    return dyn_pj, u / ticks


def power(counters, profile="truenorth", tick_ms=1.0, inference_rate_hz=None, latched_cores=0,
          latchup_mw_per_core=None):
    """Power and energy of the activity in ``counters`` (see the module docstring).

    inference_rate_hz: required inferences per second (default: real time, 1 / (T·τ));
    latched_cores: cores in latch-up, each drawing ``latchup_mw_per_core`` on top (default
    ``LATCHUP_FACTOR`` × the profile's static power per core — an assumption, not a measurement).
    Returns a :class:`PowerReport`.
    """
    profile = get_power_profile(profile)
    if tick_ms <= 0:
        raise ValidationError(f"tick_ms is {tick_ms}; expected > 0")
    tau = tick_ms * 1e-3
    realtime = 1.0 / (counters.ticks * tau)
    rate = realtime if inference_rate_hz is None else float(inference_rate_hz)
    if not (rate > 0) or rate > realtime * (1 + 1e-9):
        raise ValidationError(
            f"inference rate {rate:g} Hz: expected > 0 and at most {realtime:g} Hz (one input "
            f"every {counters.ticks} ticks of {tick_ms:g} ms, real-time ticking)")
    if latchup_mw_per_core is None:
        latchup_mw_per_core = LATCHUP_FACTOR * profile.static_mw_per_core
    if latched_cores < 0 or latchup_mw_per_core < 0:
        raise ValidationError(f"latched_cores {latched_cores}, latchup_mw_per_core "
                              f"{latchup_mw_per_core}: expected ≥ 0")
    dyn_pj, enabled = _components(counters, profile)
    leakage = counters.cores_powered * profile.static_mw_per_core
    sweep = enabled * profile.neuron_update_idle_pj * 1e-9 / tau     # pJ/s → mW: × 1e-9
    latchup = latched_cores * latchup_mw_per_core
    breakdown = {"leakage": leakage, "latchup": latchup,
                 "neuron_updates": sweep + rate * dyn_pj["neuron_updates"] * 1e-9}
    for key in ("synaptic_events", "spikes", "hops"):
        breakdown[key] = rate * dyn_pj[key] * 1e-9
    static = leakage + sweep + latchup
    e_dyn_pj = sum(dyn_pj.values())
    dynamic = rate * e_dyn_pj * 1e-9
    total = static + dynamic
    return PowerReport(
        profile=profile.name, power_mw=total, static_mw=static, dynamic_mw=dynamic,
        energy_per_inference_uj=total / rate * 1e3, dynamic_energy_per_inference_uj=e_dyn_pj * 1e-6,
        inference_rate_hz=rate, realtime_rate_hz=realtime, cores_powered=counters.cores_powered,
        breakdown=breakdown)


def max_inference_rate_hz(report, budget_mw):
    """Highest inference rate whose power fits ``budget_mw``: min(r_rt, (B − P_s) / E_d); 0 if
    the static power alone exceeds the budget."""
    if budget_mw < report.static_mw:
        return 0.0
    e_dyn_mj = report.dynamic_energy_per_inference_uj * 1e-3      # mW · s = mJ
    if e_dyn_mj <= 0:
        return report.realtime_rate_hz
    return min(report.realtime_rate_hz, (budget_mw - report.static_mw) / e_dyn_mj)


def budget_check(report, budget_mw):
    """Pass/fail of ``report`` against ``budget_mw``: within_budget, margin_mw (budget − power,
    negative when over), max_inference_rate_hz."""
    if not (budget_mw >= 0) or not math.isfinite(budget_mw):
        raise ValidationError(f"argument 'budget_mw' is {budget_mw}; expected a finite number "
                              f"≥ 0", param="budget_mw")
    return {"budget_mw": float(budget_mw), "within_budget": bool(report.power_mw <= budget_mw),
            "margin_mw": float(budget_mw - report.power_mw),
            "max_inference_rate_hz": max_inference_rate_hz(report, budget_mw)}


# ------------------------------------------------------------------ mission
def checkpoint_power(counters, profile="truenorth", tick_ms=1.0, inference_rate_hz=None,
                     latched_cores=0, latchup_mw_per_core=None):
    """Power at one mission checkpoint: the counters of the faulty program (dead neurons and
    cores already applied, so ``cores_powered`` and the events reflect the damage), plus the cores
    in latch-up. Same arguments as :func:`power`; returns a :class:`PowerReport`."""
    return power(counters, profile, tick_ms=tick_ms, inference_rate_hz=inference_rate_hz,
                 latched_cores=latched_cores, latchup_mw_per_core=latchup_mw_per_core)


def checkpoint_power_mw(counters, profile="truenorth", tick_ms=1.0, inference_rate_hz=None,
                        latched_cores=0, latchup_mw_per_core=None):
    """:func:`checkpoint_power` → its ``power_mw`` (float)."""
    return checkpoint_power(counters, profile, tick_ms, inference_rate_hz, latched_cores,
                            latchup_mw_per_core).power_mw


def mission_energy_wh(times_years, power_mw, method="trapezoid"):
    """Total energy (Wh) of a power-vs-mission-time series.

    E = ∫ P dt with t in hours (1 year = 365.25 · 24 h) and P in W: ``trapezoid`` interpolates
    linearly between checkpoints; ``step`` holds each checkpoint's power until the next one. The
    series starts at times_years[0] (normally 0) and ends at the last checkpoint.
    """
    t = np.asarray(times_years, dtype=np.float64).ravel()
    p = np.asarray(power_mw, dtype=np.float64).ravel()
    if t.shape != p.shape or t.size == 0:
        raise ValidationError(f"mission_energy_wh: {t.size} times and {p.size} powers; expected "
                              f"the same number, at least one")
    if np.any(np.diff(t) < 0) or not np.all(np.isfinite(t)) or not np.all(np.isfinite(p)):
        raise ValidationError("mission_energy_wh: times must be finite and non-decreasing and "
                              "powers finite")
    hours = t * HOURS_PER_YEAR
    watts = p * 1e-3
    dt = np.diff(hours)
    if method == "trapezoid":
        return float(np.sum(dt * (watts[1:] + watts[:-1]) / 2.0))
    if method == "step":
        return float(np.sum(dt * watts[:-1]))
    raise ValidationError(f"method '{method}' is unknown; expected trapezoid or step")


# ------------------------------------------------------------------ calibration
def calibration(profile="truenorth", ticks=100, hop_rows=21, hop_cols=21, backend="core", seed=0):
    """Merolla et al.'s operating point as a real ChipProgram, simulated, through the model.

    ``full_chip_program`` (every core of the chip profile, 20 Hz exactly, 128 active synapses per
    neuron, spikes sent ``hop_rows``/``hop_cols`` cores away) runs ``ticks`` ticks on ``backend``;
    its counters give ``power_mw`` at real-time ticking and ``pj_per_synaptic_event`` = P / (rate
    of synaptic events), all-in. The targets are 72 mW ± 10 % and 26 pJ.
    """
    from neurosim.chip.synthetic import full_chip_program
    from neurosim.sim import simulate
    if ticks < 1:
        raise ValidationError(f"ticks is {ticks}; expected at least 1")
    program = full_chip_program("truenorth", rate_hz=MEROLLA_RATE_HZ,
                                synapses_per_neuron=MEROLLA_SYNAPSES, hop_rows=hop_rows,
                                hop_cols=hop_cols, seed=seed)
    res = simulate(program, np.zeros((1, 0), np.float32), ticks=ticks, backend=backend)
    c = res.counters
    report = power(c, profile, tick_ms=program.profile.tick_ms)
    seconds = c.ticks * program.profile.tick_ms * 1e-3
    pj = report.power_mw * 1e-3 * seconds / c.synaptic_events * 1e12
    within = abs(report.power_mw / MEROLLA_POWER_MW - 1) <= CALIBRATION_TOLERANCE
    return {"power_mw": report.power_mw, "pj_per_synaptic_event": pj,
            "target_power_mw": MEROLLA_POWER_MW,
            "target_pj_per_synaptic_event": MEROLLA_PJ_PER_SYNAPTIC_EVENT,
            "within_tolerance": bool(within), "tolerance": CALIBRATION_TOLERANCE,
            "static_mw": report.static_mw, "dynamic_mw": report.dynamic_mw,
            "breakdown": report.breakdown, "profile": report.profile, "ticks": ticks,
            "cores_powered": c.cores_powered,
            "mean_rate_hz": c.spikes / (c.neuron_updates * program.profile.tick_ms * 1e-3),
            "synaptic_events_per_spike": c.synaptic_events / max(c.spikes, 1),
            "mean_hops_per_spike": c.hops / max(c.spikes, 1), "source": _MEROLLA}
