"""Trapped protons and electrons along a track: NASA AP8/AE8 [sawyer1976; vette1991] through
IRBEM [irbem] as wrapped by the ``aep8`` package.

For each sample of the track, IRBEM gives McIlwain's L and B/B₀ (in the field model each AP8/AE8
version was built with, :data:`FIELD_MODEL`) and the omnidirectional integral flux J(>E) (cm⁻² s⁻¹) on an energy grid.
The orbit average is the mean over samples (equal time steps); the differential flux is
−dJ/dE by finite differences in log E.

SAA share: the fraction of the orbit-averaged trapped-proton flux above 10 MeV that is received
inside the South Atlantic Anomaly, taken as the geographic box latitude −50°…0°, longitude
−90°…+40° (assumption: the box encloses the AP8 > 10 MeV contour at 300–1000 km; Heirtzler
2002 [heirtzler2002] describes the anomaly's extent). At high inclination the rest comes from the
outer-belt horns, which carry few protons above 10 MeV.
"""
import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import aep8
import numpy as np
from astropy import units as u

PROTON_ENERGIES_MEV = np.geomspace(0.1, 400.0, 48)  # AP8 covers 0.1–400 MeV [sawyer1976]
# AE8 tabulates 0.04–7 MeV [vette1991]; the aep8 package returns 0 below 0.05 MeV (checked here)
ELECTRON_ENERGIES_MEV = np.geomspace(0.05, 7.0, 24)
SAA_BOX = {"lat_deg": (-50.0, 0.0), "lon_deg": (-90.0, 40.0)}  # assumption, see module doc
EARTH_RADIUS_KM = 6371.2  # IRBEM's Earth radius unit (km)
# The field model each version was built with [irbem] (and the aep8 wrapper follows): AE8 MIN, AE8
# MAX and AP8 MIN on Jensen & Cain 1960, AP8 MAX on GSFC 12/66 updated to 1970.
FIELD_MODEL = {("p", "min"): "jensen-cain-1960", ("e", "min"): "jensen-cain-1960",
               ("e", "max"): "jensen-cain-1960", ("p", "max"): "gsfc-12/66"}
_VERSION_OF_FIELD = {"jensen-cain-1960": ("p", "min"), "gsfc-12/66": ("p", "max")}


@dataclass(frozen=True)
class TrappedFlux:
    """Integral flux J(>E) (cm⁻² s⁻¹) per track sample (rows) and energy (columns)."""

    particle: str
    solar: str
    energy_mev: np.ndarray
    integral: np.ndarray
    l_shell: np.ndarray

    def average_integral(self):
        """Orbit-averaged J(>E), one value per energy."""
        return self.integral.mean(axis=0)

    def average_differential(self):
        """Orbit-averaged differential flux (cm⁻² s⁻¹ MeV⁻¹): −dJ/dE of the average."""
        return differential_from_integral(self.energy_mev, self.average_integral())


def differential_from_integral(energy_mev, integral):
    """−dJ/dE on the same grid (central differences in log E), floored at 0."""
    dj_dlne = np.gradient(integral, np.log(energy_mev), axis=-1)
    return np.maximum(-dj_dlne / energy_mev, 0.0)


def geomagnetic_coordinates(track, solar="min", particle="p"):
    """McIlwain L and B/B₀ at every sample, in the field model of AP8/AE8 ``solar``
    (:data:`FIELD_MODEL`; IRBEM).

    IRBEM takes Earth-fixed (GEO) positions in units of its Earth radius, 6371.2 km. The
    ``aep8`` public wrapper converts an astropy location with astropy's equatorial radius
    (6378.1 km), which moves a LEO sample by ~7 km outwards, so the positions are passed to
    its IRBEM routine directly. The AP8/AE8 field models have fixed epochs: the time argument
    has no effect (checked: identical L and B for 1970 and 2020).
    """
    return _field_coordinates(track.xyz_km, FIELD_MODEL[particle, solar])


def _field_coordinates(xyz_km, field):
    """(L, B/B₀) of Earth-fixed positions ``xyz_km`` in the named field model."""
    x, y, z = (np.asarray(xyz_km) / EARTH_RADIUS_KM).T
    t = np.zeros(x.shape, dtype=int)
    b, l_shell = aep8.model(*_VERSION_OF_FIELD[field])._geomag(t, x, y, z)  # noqa: SLF001
    return np.asarray(l_shell), np.asarray(b)


def coordinates_by_field(track, fields):
    """{field: (L, B/B₀)} along ``track`` for each named field model, on two processes.

    Field-line tracing is most of the cost of a scenario's rates (for a 4-day track at 30 s:
    ≈ 2.5 s in Jensen & Cain 1960, ≈ 5 s in GSFC 12/66, on one core). IRBEM keeps its state in
    Fortran globals, so the work is shared between processes, not threads: a forked child
    computes the second half of the samples in every field model while this process computes
    the first half. Each sample is computed on its own, so the halves join into exactly the
    numbers of one pass. Where ``fork`` is unavailable (or this process is a daemon, which may not
    have children) or the child fails, this process computes everything.
    """
    fields = sorted(set(fields))
    xyz = np.asarray(track.xyz_km)
    first, second = xyz[: len(xyz) // 2], xyz[len(xyz) // 2:]
    pool = pending = None
    if (len(xyz) > 1 and "fork" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon):  # a daemon may have no children
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    try:
        if pool is not None:
            with warnings.catch_warnings():  # Python ≥ 3.12 warns on any fork of a threaded
                warnings.simplefilter("ignore", DeprecationWarning)  # process; the child: IRBEM
                try:
                    pending = pool.submit(_coordinates_of_fields, second, fields)
                except (OSError, RuntimeError):  # no process to be had: compute it here
                    pending = None
        head = _coordinates_of_fields(first, fields)
        try:
            tail = pending.result() if pending else _coordinates_of_fields(second, fields)
        except (BrokenProcessPool, OSError):  # the child died: compute its half here instead
            tail = _coordinates_of_fields(second, fields)
    finally:
        if pool is not None:
            pool.shutdown()
    return {f: tuple(np.concatenate([h, t]) for h, t in zip(head[f], tail[f])) for f in fields}


def _coordinates_of_fields(xyz_km, fields):
    """{field: (L, B/B₀)} of the positions ``xyz_km`` in each named field model."""
    return {f: _field_coordinates(xyz_km, f) for f in fields}


def trapped_flux(track, particle="p", solar="min", energies=None, coords=None):
    """:class:`TrappedFlux` of ``particle`` ("p" or "e") for AP8/AE8 ``solar`` ("min"/"max").

    Samples outside the model's domain (IRBEM returns NaN or a negative fill) get zero flux.
    ``coords`` = (L, B/B₀) in the version's field model (:data:`FIELD_MODEL`) to reuse them.
    """
    if energies is None:
        energies = PROTON_ENERGIES_MEV if particle == "p" else ELECTRON_ENERGIES_MEV
    l_shell, bb0 = coords if coords is not None else geomagnetic_coordinates(track, solar, particle)
    model = aep8.model(particle, solar)
    with warnings.catch_warnings():  # IRBEM flags samples outside its L range with NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        flux = model.integral_flux_for_geomagnetic_coordinates(
            l_shell[:, None], bb0[:, None], np.asarray(energies) * u.MeV)
    flux = flux.to_value(u.cm ** -2 / u.s)
    flux = np.where(np.isfinite(flux) & (flux > 0), flux, 0.0)
    return TrappedFlux(particle, solar, np.asarray(energies), flux, l_shell)


def in_saa(track):
    """Boolean per sample: inside the SAA box :data:`SAA_BOX`."""
    (lat0, lat1), (lon0, lon1) = SAA_BOX["lat_deg"], SAA_BOX["lon_deg"]
    return ((track.lat_deg >= lat0) & (track.lat_deg <= lat1)
            & (track.lon_deg >= lon0) & (track.lon_deg <= lon1))


def saa_share(track, flux, threshold_mev=10.0):
    """Fraction of the orbit-averaged proton flux above ``threshold_mev`` received in the SAA
    box (0 when there is no flux at all)."""
    j = integral_above(flux, threshold_mev)
    total = j.sum()
    return float(j[in_saa(track)].sum() / total) if total > 0 else 0.0


def integral_above(flux, energy_mev):
    """J(>energy) per sample: log-log interpolation between the two grid energies around it
    (linear where either value is 0)."""
    e = np.log(flux.energy_mev)
    k = int(np.clip(np.searchsorted(e, np.log(energy_mev)) - 1, 0, len(e) - 2))
    w = (np.log(energy_mev) - e[k]) / (e[k + 1] - e[k])
    lo, hi = flux.integral[:, k], flux.integral[:, k + 1]
    both = (lo > 0) & (hi > 0)
    log_lo, log_hi = np.log(np.where(both, lo, 1.0)), np.log(np.where(both, hi, 1.0))
    log_mix = np.exp((1 - w) * log_lo + w * log_hi)
    return np.where(both, log_mix, (1 - w) * lo + w * hi)


def average_above(flux, energy_mev):
    """Orbit-averaged integral flux J(>energy_mev) (cm⁻² s⁻¹)."""
    return float(integral_above(flux, energy_mev).mean())


def saa_modulation(track, flux, threshold_mev=10.0):
    """Per-sample ratio of J(>threshold) to its orbit average: the within-orbit modulation of the
    trapped-proton upset rate (mean 1; ≫ 1 during SAA passes, 0 elsewhere). With
    ``track.time_s`` it tells a mission when SAA passes happen (for ``scrub_after_saa``)."""
    j = integral_above(flux, threshold_mev)
    mean = j.mean()
    return j / mean if mean > 0 else np.zeros_like(j)


def saa_passes(track, flux=None):
    """(start_s, end_s) arrays of the SAA passes of ``track`` (runs of consecutive samples in
    the SAA box; with ``flux``, only samples where J(>10 MeV) exceeds its orbit average count):
    the times at which a mission with ``scrub_after_saa`` scrubs. Times repeat with the
    track's period pattern; tile them over the mission with ``track.time_s[-1]``."""
    inside = in_saa(track)
    if flux is not None:
        inside &= saa_modulation(track, flux) > 1.0
    edges = np.diff(np.concatenate([[0], inside.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return track.time_s[starts], track.time_s[ends]
