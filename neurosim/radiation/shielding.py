"""Charged particles through aluminium shielding, and their LET in silicon.

Model (continuous slowing down, straight ahead):

- stopping power S(E) of protons in Al and Si: NIST PSTAR [pstar] (``data/pstar_al_si.csv``);
- CSDA range R(E) = ∫₀ᴱ dE'/S(E'), with R(E₀) = E₀/S(E₀) below the first tabulated energy;
- a particle of energy E_in crossing t g/cm² leaves with E_out = R⁻¹(R(E_in) − t); the
  differential flux obeys φ_out(E_out) = φ_in(E_in) · S(E_in)/S(E_out) (particle conservation,
  dE_in/dE_out = S(E_in)/S(E_out));
- ions of charge Z and mass number A at the same energy per nucleon: R_ion = (A/Z²) R_p and
  S_ion = Z_eff² S_p, with Barkas' effective charge Z_eff = Z (1 − exp(−125 β Z^(−2/3)))
  [barkas1963] for the LET in silicon.

Geometry: the part sits at the centre of a spherical Al shell of thickness ``shielding_mm_al``,
so every arrival direction crosses the same thickness (the SPENVIS/SHIELDOSE "solid sphere"
convention). Nuclear attenuation and secondaries are neglected (assumption: at 1–10 mm Al this
removes < ~10 % of > 50 MeV protons, Petersen 2011 [petersen2011]).
"""
import csv
from functools import lru_cache
from importlib import resources

import numpy as np

from ..errors import ValidationError

AL_DENSITY_G_CM3 = 2.699  # [pstar] material table
PROTON_MASS_MEV = 938.272  # CODATA 2018
AMU_MEV = 931.494  # CODATA 2018
RANGE_TABLE_MAX_MEV = 1.0e7  # above every energy per nucleon of the GCR grid plus its shield loss


def check_shielding(mm_al, name="shielding_mm_al"):
    """Refuse a negative or non-finite thickness; return it as a float."""
    value = float(mm_al)
    if not np.isfinite(value) or value < 0:
        raise ValidationError(f"{name} is {mm_al}; expected a thickness ≥ 0 mm of Al")
    return value


def mm_al_to_g_cm2(mm_al):
    """Areal density (g/cm²) of ``mm_al`` millimetres of aluminium (ρ = 2.699 g/cm³)."""
    return check_shielding(mm_al) / 10.0 * AL_DENSITY_G_CM3


@lru_cache(maxsize=1)
def _pstar():
    """(energy MeV, S_Al, S_Si) arrays from the packaged PSTAR table."""
    text = resources.files("neurosim.radiation").joinpath("data/pstar_al_si.csv").read_text()
    rows = [r for r in csv.reader(line for line in text.splitlines() if not line.startswith("#"))]
    data = np.array([[float(x) for x in r] for r in rows[1:]])
    return data[:, 0], data[:, 1], data[:, 2]


def stopping_power(energy_mev, material="al"):
    """Proton electronic stopping power (MeV cm²/g) in ``material`` ("al" or "si"), log-log
    interpolation of PSTAR [pstar]; constant extrapolation beyond 10 GeV."""
    e, s_al, s_si = _pstar()
    s = s_al if material == "al" else s_si
    energy = np.clip(np.asarray(energy_mev, dtype=float), e[0], e[-1])
    return np.exp(np.interp(np.log(energy), np.log(e), np.log(s)))


@lru_cache(maxsize=2)
def _range_table(material):
    """(energy grid, CSDA range g/cm²) on a fine log grid up to :data:`RANGE_TABLE_MAX_MEV`,
    integrated from PSTAR (its stopping power held constant beyond 10 GeV, an assumption: it
    rises by a few per cent per decade there): without the extension every particle above 10 GeV would be
    given the 10 GeV range, and a shielded spectrum would copy its 10 GeV value up the tail."""
    e, _, _ = _pstar()
    grid = np.geomspace(e[0], RANGE_TABLE_MAX_MEV, 6000)
    inv = 1.0 / stopping_power(grid, material)
    steps = 0.5 * (inv[1:] + inv[:-1]) * np.diff(grid)
    first = grid[0] * inv[0]
    return grid, np.concatenate([[first], first + np.cumsum(steps)])


def csda_range(energy_mev, material="al"):
    """CSDA range (g/cm²) of a proton of ``energy_mev`` in ``material``: R(E) = ∫ dE/S(E)."""
    grid, rng = _range_table(material)
    energy = np.asarray(energy_mev, dtype=float)
    return np.exp(np.interp(np.log(np.maximum(energy, grid[0])), np.log(grid), np.log(rng)))


def energy_from_range(range_g_cm2, material="al"):
    """Inverse of :func:`csda_range`: the proton energy (MeV) whose CSDA range is given."""
    grid, rng = _range_table(material)
    r = np.maximum(np.asarray(range_g_cm2, dtype=float), rng[0])
    return np.exp(np.interp(np.log(r), np.log(rng), np.log(grid)))


def shield_spectrum(energy_mev, diff_flux, mm_al, z=1, a=1.0):
    """Differential flux behind ``mm_al`` of Al on the same energy grid (per nucleon for ions).

    ``energy_mev``: kinetic energy per nucleon (MeV/n) grid, increasing; ``diff_flux``: flux per
    MeV/n at those energies (trailing axes allowed). An ion (z, a) uses the scaled proton range
    R_ion(E/n) = (a/z²) R_p(E/n). Energies that would need an incident energy beyond the grid get
    zero flux.
    """
    energy = np.asarray(energy_mev, dtype=float)
    flux = np.asarray(diff_flux, dtype=float)
    t = mm_al_to_g_cm2(mm_al) * z * z / a
    if t == 0:
        return flux.copy()
    e_in = energy_from_range(csda_range(energy) + t)
    jac = stopping_power(e_in) / stopping_power(energy)
    return loglog_interp(e_in, energy, flux) * jac.reshape((-1,) + (1,) * (flux.ndim - 1))


def loglog_interp(x_new, x, y):
    """Interpolate y(x) (first axis) in log-log at x_new; zero outside [x0, x_last] or y ≤ 0."""
    logx = np.log(x)
    pos = y > 0
    logy = np.where(pos, np.log(np.where(pos, y, 1.0)), -700.0)
    idx = np.clip(np.searchsorted(logx, np.log(x_new)) - 1, 0, len(x) - 2)
    frac = (np.log(x_new) - logx[idx]) / (logx[idx + 1] - logx[idx])
    frac = frac.reshape((-1,) + (1,) * (y.ndim - 1))
    out = np.exp(logy[idx] + frac * (logy[idx + 1] - logy[idx]))
    inside = (x_new >= x[0]) & (x_new <= x[-1])
    valid = pos[idx] & pos[idx + 1] & inside.reshape((-1,) + (1,) * (y.ndim - 1))
    return np.where(valid, out, 0.0)


def beta(energy_per_nucleon_mev):
    """Speed v/c of a nucleus with kinetic energy ``energy_per_nucleon_mev`` per nucleon."""
    gamma = 1.0 + np.asarray(energy_per_nucleon_mev, dtype=float) / AMU_MEV
    return np.sqrt(1.0 - 1.0 / gamma ** 2)


def let_si(energy_per_nucleon_mev, z):
    """LET in silicon (MeV cm²/mg) of a nucleus of charge ``z`` at the given energy per nucleon:
    Z_eff² · S_p,Si(E/n) / 1000, Z_eff from Barkas [barkas1963]."""
    b = beta(energy_per_nucleon_mev)
    z_eff = z * (1.0 - np.exp(-125.0 * b * z ** (-2.0 / 3.0)))
    return z_eff ** 2 * stopping_power(energy_per_nucleon_mev, "si") / 1000.0
