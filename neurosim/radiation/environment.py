"""The particle environment of a scenario and its rates: orbit + shielding + device → report.

Pipeline (each step in its own module):

1. :func:`neurosim.radiation.orbit.propagate` — the ground track;
2. :func:`neurosim.radiation.trapped.trapped_flux` — AP8/AE8 along it, orbit average, SAA share;
3. :func:`neurosim.radiation.shielding.shield_spectrum` — protons behind the Al shell;
4. :func:`neurosim.radiation.cosmic.gcr_spectra` — GCR through magnetosphere and shell, and
   the integral LET spectrum; solar-event protons through the same filters;
5. :mod:`neurosim.radiation.rates` — per memory class and for latch-up.

:func:`environment_spectra` is memoised in memory (one computation per distinct input per
process) and :func:`environment_report` additionally on disk, as JSON named by the SHA-256 of its
inputs, under ``$NEUROSIM_CACHE_DIR`` or ``~/.cache/neurosim/radiation``; a mission calls
:func:`environment_report` once per solar phase and reads the numbers from the dict.
"""
import hashlib
import json
import os
from dataclasses import asdict, dataclass, replace
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from .. import fileio
from ..errors import ValidationError
from . import cosmic, orbit, rates, shielding, trapped
from .device import MEMORY_CLASSES, load_device, secded_uncorrectable_fraction

MODEL_VERSION = "radphys-9"  # bump when a model changes, so cached reports are recomputed
SPE_ENERGIES_MEV = trapped.PROTON_ENERGIES_MEV


@dataclass(frozen=True)
class EnvironmentSpectra:
    """Everything at the part for one (orbit, shielding, solar phase). Fluxes are
    omnidirectional; differential in cm⁻² s⁻¹ MeV⁻¹, integral in cm⁻² s⁻¹."""

    orbit: orbit.Orbit
    shielding_mm_al: float
    solar: str
    proton_energy_mev: np.ndarray
    trapped_proton: np.ndarray  # orbit average, outside the shielding
    trapped_proton_shielded: np.ndarray
    trapped_proton_above_10mev: float
    trapped_electron_above_1mev: float
    electron_energy_mev: np.ndarray
    trapped_electron_integral: np.ndarray  # orbit-averaged AE8 J(>E), outside the shielding
    saa_share: float
    gcr: cosmic.GcrSpectra
    let_grid: np.ndarray
    let_integral: np.ndarray
    spe_events_per_year: float
    spe_mean_fluence30: float
    spe_fluence_per_fluence30: np.ndarray  # event fluence at the part per unit Φ₃₀ (cm⁻² MeV⁻¹)
    track: object  # orbit.Track or None
    track_flux_above_10mev: np.ndarray  # per sample (AP8), for maps and the SAA modulation


def _spe_at_part(model, l_shell, alt_km, mm_al):
    """Differential event fluence at the part per unit Φ₃₀ (transmitted, then shielded)."""
    e = SPE_ENERGIES_MEV
    outside = model.differential_fluence(1.0, e)
    outside = outside * cosmic.transmission(cosmic.rigidity_gv(e, 1, 1.0), l_shell, alt_km)
    return shielding.shield_spectrum(e, outside, mm_al)


@lru_cache(maxsize=16)
def _track_and_coordinates(orb):
    """The ground track of ``orb`` and (L, B/B₀) along it in every AP8/AE8 field model, computed
    at once (:func:`~neurosim.radiation.trapped.coordinates_by_field`): solar minimum and
    maximum need different field models, and a mission needs both phases."""
    track = orbit.propagate(orb)
    return track, trapped.coordinates_by_field(track, set(trapped.FIELD_MODEL.values()))


@lru_cache(maxsize=16)
def environment_spectra(orb, shielding_mm_al, solar="min", spe_model=cosmic.SolarEventModel()):
    """:class:`EnvironmentSpectra` of ``orb`` behind ``shielding_mm_al`` mm Al in solar phase
    ``solar`` ("min" or "max"). Solar events occur only at solar maximum (active years)."""
    mm = shielding.check_shielding(shielding_mm_al)
    if solar not in ("min", "max"):
        raise ValidationError(f"solar phase is {solar!r}; expected 'min' or 'max'")
    e = trapped.PROTON_ENERGIES_MEV
    if orb.near_earth:
        track, coords = _track_and_coordinates(orb)
        protons = trapped.trapped_flux(track, "p", solar,
                                       coords=coords[trapped.FIELD_MODEL["p", solar]])
        electrons = trapped.trapped_flux(track, "e", solar,
                                         coords=coords[trapped.FIELD_MODEL["e", solar]])
        diff = protons.average_differential()
        l_shell, alt = protons.l_shell, track.alt_km
        above10 = trapped.integral_above(protons, 10.0)
        share = trapped.saa_share(track, protons)
        e_above1 = trapped.average_above(electrons, 1.0)
        e_integral = electrons.average_integral()
    else:
        track, l_shell, alt, diff = None, None, None, np.zeros_like(e)
        above10, share, e_above1 = np.zeros(0), 0.0, 0.0
        e_integral = np.zeros_like(trapped.ELECTRON_ENERGIES_MEV)
    gcr = cosmic.gcr_spectra(solar, mm, l_shell, alt)
    return EnvironmentSpectra(
        orb, mm, solar, e, diff, shielding.shield_spectrum(e, diff, mm),
        float(above10.mean()) if above10.size else 0.0, float(e_above1),
        trapped.ELECTRON_ENERGIES_MEV, e_integral, float(share), gcr,
        cosmic.LET_GRID, gcr.let_integral(),
        spe_model.events_per_active_year if solar == "max" else 0.0,
        spe_model.mean_fluence30(), _spe_at_part(spe_model, l_shell, alt, mm), track, above10)


@dataclass(frozen=True, eq=False)
class ImportedSpectra:
    """Spectra exported by CREME96, SPENVIS or OMERE (:mod:`neurosim.radiation.spectra_io`),
    taken as the spectra *at the part* (behind the shielding the user flies; not transported
    again): ``let``, an integral LET spectrum, replaces the modelled GCR heavy-ion LET spectrum
    (both solar phases, and latch-up); ``proton``, a differential proton spectrum, replaces the
    AP8 trapped protons behind the shell (GCR protons and solar events stay modelled: export
    trapped protons only). The SAA share and J(>10 MeV) stay those of the AP8 model."""

    let: object = None
    proton: object = None

    def digest(self):
        """SHA-256 of the spectra's numbers (the cache key's part)."""
        h = hashlib.sha256()
        for spec in (self.let, self.proton):
            h.update(b"-" if spec is None else spec.kind.encode() + spec.x.tobytes()
                     + spec.flux.tobytes())
        return h.hexdigest()

    def apply(self, env):
        """``env`` with the imported spectra in place of the modelled ones. The proton grid
        becomes the union of the model's and the file's energies, so the file's own nodes are
        kept exactly: the file's spectrum is linear between its nodes there (what a trapezoid
        fold on the file's own grid assumes, also across a node where the file prints 0), the
        model's spectra log-log; each is zero outside its range, and two nodes just outside the
        file's range keep the trapezoid from adding a ramp beyond its first and last energies."""
        changes = {}
        if self.let is not None:
            changes.update(let_grid=self.let.x, let_integral=self.let.flux)
        if self.proton is not None:
            x = self.proton.x
            edges = [np.nextafter(x[0], 0.0), np.nextafter(x[-1], np.inf)]
            grid = np.union1d(np.union1d(env.proton_energy_mev, x), edges)
            on_grid = partial(shielding.loglog_interp, grid, env.proton_energy_mev)
            changes.update(proton_energy_mev=grid, trapped_proton=on_grid(env.trapped_proton),
                           trapped_proton_shielded=np.interp(grid, x, self.proton.flux,
                                                             left=0.0, right=0.0),
                           spe_fluence_per_fluence30=on_grid(env.spe_fluence_per_fluence30))
        return replace(env, **changes)


def _class_entry(env, cell, interleave):
    """Report entry of one memory class."""
    parts = rates.cell_rates(env, cell)
    trapped_share = parts["trapped_proton"] / parts["total"] if parts["total"] > 0 else 0.0
    return {
        "rate_per_bit_day": parts["total"],
        "background_rate_per_bit_day": parts["total"] - parts["solar"],
        "parts_per_bit_day": {k: parts[k] for k in ("trapped_proton", "gcr_heavy_ion",
                                                    "gcr_proton", "solar")},
        "trapped_share": trapped_share,
        "saa_share_of_upsets": trapped_share * env.saa_share,
        "solar_upsets_per_bit_per_fluence30": parts["solar_per_event_per_fluence30"],
        "petersen_fom_geo_rate_per_bit_day": parts["fom_geo"],
        "mcu_share": cell.mcu_share,
        "mcu_max_span": cell.mcu_max_span,
        "secded_uncorrectable_fraction": secded_uncorrectable_fraction(cell, interleave),
    }


def _report(env, device, interleave):
    """The report dict of ``env`` and ``device`` (see :func:`environment_report`)."""
    return {
        "orbit": asdict(env.orbit),
        "shielding_mm_al": env.shielding_mm_al,
        "solar": env.solar,
        "device": device.name,
        "saa_share": env.saa_share,
        "trapped_proton_above_10mev_cm2_s": env.trapped_proton_above_10mev,
        "trapped_electron_above_1mev_cm2_s": env.trapped_electron_above_1mev,
        "trapped_electron_spectrum": {
            "energy_mev": env.electron_energy_mev.tolist(),
            "integral_cm2_s": env.trapped_electron_integral.tolist(),
            "differential_cm2_s_mev": trapped.differential_from_integral(
                env.electron_energy_mev, env.trapped_electron_integral).tolist()},
        "gcr_let_above_1_cm2_s": float(rates.integral_flux_at(env.let_grid, env.let_integral,
                                                              1.0)),
        "spe_events_per_year": env.spe_events_per_year,
        "classes": {name: _class_entry(env, device.classes[name], interleave)
                    for name in MEMORY_CLASSES},
        "latchup_per_chip_day": rates.latchup_rate_per_chip_day(env, device.latchup),
        "model_version": MODEL_VERSION,
    }


def cache_dir():
    """Directory of cached reports: ``$NEUROSIM_CACHE_DIR`` or ``~/.cache/neurosim/radiation``."""
    root = os.environ.get("NEUROSIM_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "neurosim" / "radiation"


def report_key(orb, shielding_mm_al, device, solar, interleave, spe_model, imported=None):
    """SHA-256 of every input of a report (and :data:`MODEL_VERSION`)."""
    inputs = [MODEL_VERSION, asdict(orb), float(shielding_mm_al), repr(device), solar,
              int(interleave), repr(spe_model)]
    if imported is not None:
        inputs.append(imported.digest())
    payload = json.dumps(inputs, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def scenario_spectra(orb, shielding_mm_al, solar="min", spe_model=cosmic.SolarEventModel(),
                     imported=None):
    """:func:`environment_spectra`, with ``imported`` (:class:`ImportedSpectra`) applied."""
    env = environment_spectra(orb, shielding_mm_al, solar, spe_model)
    return env if imported is None else imported.apply(env)


def environment_report(orb, shielding_mm_al, device, solar="min", interleave=1,
                       spe_model=cosmic.SolarEventModel(), use_disk_cache=True, imported=None):
    """Rates of ``device`` on ``orb`` behind ``shielding_mm_al`` mm Al, solar phase ``solar``.

    Returns a JSON-ready dict: ``classes[<memory class>]`` with ``rate_per_bit_day`` (total,
    solar events averaged in), ``background_rate_per_bit_day`` (without solar events: use it
    when events are drawn one by one with :func:`neurosim.radiation.cosmic.sample_solar_events`),
    ``parts_per_bit_day`` (trapped_proton, gcr_heavy_ion, gcr_proton, solar), ``trapped_share``,
    ``saa_share_of_upsets``, ``solar_upsets_per_bit_per_fluence30`` (for discrete events),
    ``petersen_fom_geo_rate_per_bit_day``, MCU figures and the fraction SECDED cannot correct
    at column interleave ``interleave``; ``latchup_per_chip_day``; ``saa_share`` (of the
    > 10 MeV trapped-proton flux); orbit-averaged fluxes. ``imported``: an
    :class:`ImportedSpectra` in place of the modelled spectra. Cached on disk (module doc).
    """
    key = report_key(orb, shielding_mm_al, device, solar, interleave, spe_model, imported)
    path = cache_dir() / f"{key}.json"
    if use_disk_cache and path.is_file():
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            pass  # a damaged cache entry is recomputed and rewritten
    report = _report(scenario_spectra(orb, shielding_mm_al, solar, spe_model, imported), device,
                     interleave)
    report = json.loads(json.dumps(report))  # the same types whether computed or read back
    if use_disk_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fileio.write_text(str(path), json.dumps(report, indent=1))
        except OSError:
            pass  # an unwritable cache only costs the recomputation next time
    return report


def solar_cycle_rates(orb, shielding_mm_al, device, interleave=1):
    """Reports for solar minimum and maximum: ``{"min": report, "max": report}`` (AP8 MIN/MAX,
    GCR modulation φ = 400/1100 MV, solar events only at maximum)."""
    return {phase: environment_report(orb, shielding_mm_al, device, phase, interleave)
            for phase in ("min", "max")}


def is_solar_active(year, first_active_year=0, cycle_years=11, active_years=7):
    """True if mission year ``year`` falls in the 7 active years of the 11-year cycle
    [spenvis; ecss-e-st-10-04c]; the cycle's active phase starts at ``first_active_year``."""
    return (year - first_active_year) % cycle_years < active_years


@dataclass(frozen=True)
class PhysicsPreset:
    """A preset as an (orbit, shielding, device) triple; its rates come from
    :func:`environment_report`. ``rate_per_bit_day`` overrides of measured rates stay a
    scenario-level option (the scenario's own ``rate_per_bit_day`` wins over the physics)."""

    name: str
    description: str
    orbit: orbit.Orbit
    shielding_mm_al: float
    device: str


PHYSICS_PRESETS = {
    "leo-sso": PhysicsPreset("leo-sso", "sun-synchronous LEO, 686 km, 98° (the Alsat-1 orbit)",
                             orbit.circular_orbit(686.0, 98.0), 3.0, "sram-28nm-bulk"),
    "leo-iss": PhysicsPreset("leo-iss", "ISS-like LEO, 420 km, 51.6°",
                             orbit.circular_orbit(420.0, 51.6), 3.0, "sram-28nm-bulk"),
    "geo": PhysicsPreset("geo", "geostationary orbit, 35,786 km, 0°",
                         orbit.circular_orbit(35786.0, 0.0, step_s=600.0, span_days=2.0), 2.54,
                         "sram-28nm-bulk"),
    "deep-space": PhysicsPreset("deep-space", "interplanetary cruise near 1 AU",
                                orbit.interplanetary_orbit(), 2.54, "sram-28nm-bulk"),
}
# Shielding of the presets: 3 mm Al (a small-satellite box wall) and 2.54 mm (100 mil, the
# CREME96 convention in GEO) — assumptions, stated in the README.

ALSAT1_FLIGHT_RATE_PER_BIT_DAY = 4.04e-7  # validation point, not a default [alsat1]


def report_from_tables(orbit_table, shielding_mm_al, device_name_or_path, solar="min",
                       interleave=1, where="[orbit]"):
    """The scenario loader's entry point: ``[orbit]`` table (see
    :func:`neurosim.radiation.orbit.orbit_from_dict`; ``where`` prefixes its error messages,
    e.g. ``"mission.toml: [orbit]"``), shielding (mm Al), a shipped device name or a device TOML
    path, solar phase, column interleave → :func:`environment_report`."""
    orb = orbit.orbit_from_dict(orbit_table, where)
    mm = shielding.check_shielding(shielding_mm_al)
    return environment_report(orb, mm, load_device(device_name_or_path), solar, interleave)


def preset_report(name, solar="min", interleave=1):
    """:func:`environment_report` of the preset triple ``name`` (:data:`PHYSICS_PRESETS`)."""
    preset = PHYSICS_PRESETS[name]
    return environment_report(preset.orbit, preset.shielding_mm_al, load_device(preset.device),
                              solar, interleave)
