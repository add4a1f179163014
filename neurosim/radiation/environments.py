"""Scenario environments: (orbit, shielding, device) → per-memory-class rates for the timeline.

A scenario's ``[environment] preset`` names an (orbit, shielding, device) triple of
:data:`neurosim.radiation.environment.PHYSICS_PRESETS` (``leo-sso`` 686 km 98°, ``leo-iss`` 420 km
51.6°, ``geo``, ``deep-space``); an ``[orbit]`` table, ``shielding_mm_al`` and a ``[device]``
table replace any part of it. :func:`scenario_rates` runs the physics
(:func:`neurosim.radiation.environment.environment_report`, cached on disk by the hash of its
inputs) for solar minimum and maximum and returns what :mod:`neurosim.radiation.timeline` draws
from, per memory class ``k``:

- ``background[phase][k]``: upsets/bit/day without solar particle events (trapped protons, GCR
  heavy ions and protons) at solar ``min`` (AP8-MIN, GCR φ = 400 MV) and ``max`` (AP8-MAX,
  φ = 1100 MV);
- ``spe_per_fluence30[k]``: upsets/bit per cm⁻² of event fluence above 30 MeV (events are drawn
  one by one, :func:`neurosim.radiation.cosmic.sample_solar_events`);
- ``saa_share[phase][k]``: share of the background upsets that happen in SAA passes (trapped
  share × SAA share of the > 10 MeV proton flux);
- ``mcu_share[k]`` and ``mcu_span[k]``: share of multi-cell events and cells per cluster (device);
- ``latchup_per_core_day[phase]``: the device's latch-up rate per chip / cores per chip.

These are the physics alone. The scenario's overrides are applied when the rates are used
(:func:`upset_rates`, :func:`latchup_rate`), so the scenario values stay the one source of truth: a
measured ``rate_per_bit_day`` in ``[upsets]`` replaces the physics for its class in both phases
and sets its ``spe_per_fluence30`` to 0 (a flight-measured rate already contains the flares of its
mission, so nothing is added on top of it); ``saa_share`` and ``multi_bit_fraction`` replace the
computed shares; ``[latchup] rate_per_core_day`` the latch-up rate.

Comparison point (not a default; another device): Alsat-1 measured 4.04e-7 upsets/bit/day in
commercial memories on the ``leo-sso`` orbit over 8 years ([alsat1];
:data:`ALSAT1_FLIGHT_RATE_PER_BIT_DAY`); the shipped 28 nm device gives 2.1e-7 (solar minimum)
and 9.7e-8 (maximum) there (README "Radiation physics").
"""
from dataclasses import asdict

from neurosim.errors import NeurosimError
from neurosim.radiation import cosmic, environment, orbit, spectra_io
from neurosim.radiation.device import MEMORY_CLASSES, load_device, shipped_devices
from neurosim.radiation.environment import ALSAT1_FLIGHT_RATE_PER_BIT_DAY, PHYSICS_PRESETS

__all__ = ["PRESETS", "ALSAT1_FLIGHT_RATE_PER_BIT_DAY", "MEMORY_CLASSES", "scenario_rates",
           "preset_orbit_table", "shipped_devices"]

PRESETS = PHYSICS_PRESETS
PHASES = ("min", "max")
CORES_PER_CHIP = 4096  # TrueNorth: 64 × 64 cores [merolla2014]
SOLAR_CYCLE = ("11-year solar cycle, 7 solar-active years (SPENVIS; JPL model in "
               "[ecss-e-st-10-04c] Annex I)")
CREME_UNCERTAINTY = "predicted rates uncertain by ≥ 2× (CREME vs CRRES: ratio 0.8–2.4)"


def preset_orbit_table(name):
    """The ``[orbit]`` table of preset ``name`` (what a scenario file would write)."""
    orb = PRESETS[name].orbit
    if not orb.near_earth:
        return {"kind": orb.kind}
    return {k: v for k, v in asdict(orb).items() if k != "tle" or v}


def orbit_text(table):
    """A short description of an ``[orbit]`` table: "686 km, 98°", "TLE", "interplanetary"."""
    if table.get("kind") == "interplanetary":
        return "interplanetary"
    if "tle" in table:
        return "TLE orbit"
    return f"{table['altitude_km']:g} km, {table['inclination_deg']:g}°"


def _device(name_or_path, where):
    """A device by shipped name or TOML path; errors prefixed with ``where`` (file, key and the
    value as written)."""
    try:
        return load_device(name_or_path)
    except NeurosimError as exc:
        raise type(exc)(f"{where}: {exc}") from None


SPECTRUM_KEYS = ("let_spectrum", "proton_spectrum")


def imported_spectra(environment_table):
    """The :class:`~neurosim.radiation.environment.ImportedSpectra` of an ``[environment]``
    table's ``let_spectrum`` and ``proton_spectrum`` files (paths as given, read as
    ``spectra_format``), or None if it names neither. A bad file raises the reader's one-line
    error (file, line, value, expected) with the key in ``param``."""
    files = {k: environment_table.get(k) or None for k in SPECTRUM_KEYS}
    if not any(files.values()):
        return None
    fmt = environment_table.get("spectra_format") or "spenvis"
    readers = {"let_spectrum": spectra_io.read_let_spectrum,
               "proton_spectrum": spectra_io.read_proton_spectrum}
    read = {}
    for key, path in files.items():
        try:
            read[key] = readers[key](path, fmt) if path else None
        except NeurosimError as exc:     # the error names the key it came from in ``param``
            raise type(exc)(str(exc), key) from None
    return environment.ImportedSpectra(read["let_spectrum"], read["proton_spectrum"])


def scenario_rates(orbit_table, shielding_mm_al, devices, spe_model, interleave=1,
                   where="[orbit]", imported=None):
    """Rates of a scenario's environment (module doc) as a JSON-ready dict.

    ``orbit_table``: an ``[orbit]`` table or an :class:`~neurosim.radiation.orbit.Orbit`;
    ``devices``: memory class → (device name or path, ``where`` text for its errors), plus
    ``"latchup"`` for the latch-up curve; ``spe_model`` a
    :class:`~neurosim.radiation.cosmic.SolarEventModel`; ``imported``: spectra from other tools
    (:func:`imported_spectra`) in place of the modelled ones.
    """
    orb = (orbit_table if isinstance(orbit_table, orbit.Orbit)
           else orbit.orbit_from_dict(orbit_table, where))
    loaded = {k: _device(*devices[k]) for k in MEMORY_CLASSES + ("latchup",)}
    reports = {}

    def report(name, phase):
        key = (repr(loaded[name]), phase)      # the same device for several classes: once
        if key not in reports:
            reports[key] = environment.environment_report(
                orb, shielding_mm_al, loaded[name], phase, interleave, spe_model,
                imported=imported)
        return reports[key]

    out = {"background": {}, "saa_share": {}, "latchup_per_core_day": {}, "parts": {},
           "spe_per_fluence30": [], "mcu_share": [], "mcu_span": [], "trapped_saa_share": {},
           "trapped_proton_above_10mev_cm2_s": {}, "trapped_electron_above_1mev_cm2_s": {},
           "trapped_electron_spectrum": {}}
    for phase in PHASES:
        first = report(MEMORY_CLASSES[0], phase)
        out["trapped_saa_share"][phase] = first["saa_share"]
        out["trapped_proton_above_10mev_cm2_s"][phase] = first["trapped_proton_above_10mev_cm2_s"]
        for key in ("trapped_electron_above_1mev_cm2_s", "trapped_electron_spectrum"):
            out[key][phase] = first[key]
        entries = [report(k, phase)["classes"][k] for k in MEMORY_CLASSES]
        out["background"][phase] = [e["background_rate_per_bit_day"] for e in entries]
        out["saa_share"][phase] = [_saa_share_of_background(e, report(k, phase)["saa_share"])
                                   for k, e in zip(MEMORY_CLASSES, entries)]
        out["parts"][phase] = {k: e["parts_per_bit_day"] for k, e in zip(MEMORY_CLASSES, entries)}
        out["latchup_per_core_day"][phase] = (report("latchup", phase)["latchup_per_chip_day"]
                                              / CORES_PER_CHIP)
    for k in MEMORY_CLASSES:
        entry = report(k, "max")["classes"][k]
        out["spe_per_fluence30"].append(entry["solar_upsets_per_bit_per_fluence30"])
        out["mcu_share"].append(entry["mcu_share"])
        out["mcu_span"].append(entry["mcu_max_span"])
    out["devices"] = {k: loaded[k].name for k in loaded}
    out["orbit"] = asdict(orb)
    return out


def _saa_share_of_background(entry, saa_share):
    """Share of a class's background upsets (without solar events) in SAA passes: trapped-proton
    share of the background × SAA share of the trapped-proton flux."""
    background = entry["background_rate_per_bit_day"]
    trapped = entry["parts_per_bit_day"]["trapped_proton"]
    return trapped / background * saa_share if background > 0 else 0.0


def upset_rates(values):
    """The rates a run draws from, overrides applied: ``(background, spe_per_fluence30,
    saa_share, mcu_share)`` — background and SAA share ``{phase: [per class]}``, the others
    ``[per class]`` (module doc)."""
    phys, up = values["physics"], values["upsets"]
    background = {p: list(phys["background"][p]) for p in PHASES}
    spe = list(phys["spe_per_fluence30"])
    for i, k in enumerate(MEMORY_CLASSES):
        measured = up.get(f"{k}_rate_per_bit_day")
        if measured is not None:
            for p in PHASES:
                background[p][i] = measured
            spe[i] = 0.0
    saa = ({p: [up["saa_share"]] * len(MEMORY_CLASSES) for p in PHASES} if "saa_share" in up
           else phys["saa_share"])
    mcu = ([up["multi_bit_fraction"]] * len(MEMORY_CLASSES) if "multi_bit_fraction" in up
           else phys["mcu_share"])
    return background, spe, saa, mcu


def latchup_rate(values, max_weight):
    """Latch-ups per core per day: ``[latchup] rate_per_core_day`` if given, else the physics
    interpolated between solar minimum and maximum by ``max_weight`` (the mission mean of the
    solar-maximum weight: the share of solar-active time with the steps cycle model)."""
    measured = values["latchup"].get("rate_per_core_day")
    if measured is not None:
        return measured
    per_core = values["physics"]["latchup_per_core_day"]
    return (1 - max_weight) * per_core["min"] + max_weight * per_core["max"]


def mean_rates(values, active_share, max_weight=None):
    """Mission-average upsets/bit/day per class (overrides applied): background interpolated
    between solar minimum and maximum by ``max_weight`` (default ``active_share``: the steps
    cycle model), plus the long-run average of solar events, which occur in the solar-active
    share of the mission, ν·share·E[Φ₃₀]·σ₃₀ per day."""
    weight = active_share if max_weight is None else max_weight
    background, spe, _, _ = upset_rates(values)
    model = solar_model(values["solar_events"])
    spe_per_day = model.events_per_active_year * active_share * model.mean_fluence30() / 365.25
    return [(1 - weight) * lo + weight * hi + spe_per_day * s
            for lo, hi, s in zip(background["min"], background["max"], spe)]


def solar_model(values):
    """A :class:`~neurosim.radiation.cosmic.SolarEventModel` from ``[solar_events]`` values."""
    return cosmic.SolarEventModel(
        events_per_active_year=values["events_per_active_year"],
        log10_fluence30_mean=values["log10_fluence30_mean"],
        log10_fluence30_sd=values["log10_fluence30_sd"],
        spectral_index=values["spectral_index"])
