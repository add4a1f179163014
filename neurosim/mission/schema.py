"""The scenario schema: every section and key of a mission scenario file, with its type, default,
range, unit (in the key's name), meaning and the source of its default (:data:`SCHEMA`).

:mod:`neurosim.mission.scenario` validates files against it (the value checks are in
:mod:`neurosim.mission.scenario_checks`) and writes resolved scenarios in its order. Defaults that
are model figures come from the radiation models that own them
(:class:`~neurosim.radiation.cosmic.SolarEventModel`,
:class:`~neurosim.radiation.damage.FailureDoseModel`), with their sources.
"""
import re
from dataclasses import dataclass

from neurosim.radiation.cosmic import SolarEventModel
from neurosim.radiation.damage import FailureDoseModel
from neurosim.radiation.environments import CREME_UNCERTAINTY, PRESETS, SOLAR_CYCLE
from neurosim.radiation.solar_cycle import CYCLE_MODELS, DEFAULT_CYCLE_MODEL

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


_k = Key   # short name for the table below


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
        "let_spectrum": _k("str", "", doc="integral LET spectrum at the part exported by "
                                          "CREME96, SPENVIS or OMERE (a file, relative to the "
                                          "scenario): replaces the modelled GCR heavy ions"),
        "proton_spectrum": _k("str", "", doc="differential trapped-proton spectrum at the part "
                                             "(a file): replaces the AP8 protons behind the "
                                             "shell"),
        "spectra_format": _k("str", "spenvis", choices=("creme96", "spenvis", "omere"),
                             doc="layout and units of those files (README: spectra from other "
                                 "tools)"),
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
                                 doc="share of upset events that flip two physically adjacent "
                                     "cells (one word, or two with [mitigation] "
                                     "column_interleave ≥ 2; default: the device's MCU share)"),
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
        "cycle_model": _k("str", DEFAULT_CYCLE_MODEL, choices=CYCLE_MODELS,
                          doc="background rates over the solar cycle: 'sunspot' (monthly, the "
                              "Hathaway–Wilson–Reichmann shape of the average cycle "
                              "[hathaway1994; hathaway2015]; neurosim.radiation.solar_cycle) or "
                              "'steps' (solar maximum in the active years, minimum otherwise, "
                              "whole years)"),
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
        "column_interleave": _k("int", 1, 1,
                                src="assumption: no interleaving, MCUs stay in one word",
                                doc="SECDED words interleaved per row: physically adjacent cells "
                                    "hold the same bit of k words, so a 2-cell upset hits two "
                                    "words and SECDED corrects it when k ≥ 2"),
        "spare_cores": _k("int", 0, 0, doc="spare cores; a dead core's contents are re-placed "
                                           "on a live spare"),
        "tmr_hidden": _k("bool", False, doc="triple modular redundancy of hidden-layer neurons"),
    },
    "run": {
        "model": _k("str", "models/digits_dense.npz", doc="MLP .npz (relative to the scenario "
                                                          "file, the working directory or the "
                                                          "shipped models)"),
        "model_dt": _k("float", 0.0, 0, doc="time step (s) a NIR model's leaky neurons are read "
                                            "with; 0: implied by the file, else 0.001"),
        "model_reset": _k("str", "", choices=("", "subtract", "value"),
                          doc="reset rule a NIR model's neurons are read with; '': by the file "
                              "(neurosim.compiler.nir_io)"),
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
# what a value of each type is called in an error message
EXPECT = {"float": "a number", "int": "an integer", "bool": "true or false", "str": "a string",
          "table": "a table", "events": "an array of tables", "list": "an array of strings"}


def range_text(spec):
    """A key's range as text: "≥ 0 and ≤ 1", "> 0" or "" (no range)."""
    parts = []
    if spec.lo is not None:
        parts.append(("> " if spec.lo_open else "≥ ") + f"{spec.lo:g}")
    if spec.hi is not None:
        parts.append(f"≤ {spec.hi:g}")
    return " and ".join(parts)

