"""Galactic cosmic rays, geomagnetic shielding and solar particle events.

GCR (per species Z, A; energies per nucleon):

- local interstellar spectrum of protons [usoskin2005], J_LIS(T) = 1.9·10⁴ P^−2.78 /
  (1 + 0.4866 P^−2.51) m⁻² s⁻¹ sr⁻¹ GeV⁻¹ (T in GeV, P = √(T(T+2m_p)) in GV); heavier species
  have the same shape in energy per nucleon scaled by their abundance relative to protons
  (:data:`GCR_SPECIES`, every element from H to Se and six ultra-heavy groups up to Z = 90:
  He and O from AMS-02 ratios [aguilar2021], the major species up to Ni relative to O from
  HEAO-3 [engelmann1990], the other elements up to Ni from the model of Matthiä et al.
  [matthia2013], Cu–Se relative to Fe from CREME96's element table [obrien2022], the
  ultra-heavy groups from balloon data [uh1973]; see there);
- solar modulation by the force-field approximation [gleeson1968]:
  J(T) = J_LIS(T+Φ) · T(T+2m)/((T+Φ)(T+Φ+2m)), Φ = (Z/A)·φ, with φ = 400 MV at solar minimum
  and 1100 MV at solar maximum (:data:`MODULATION_MV`);
- geomagnetic transmission along the track: a particle of rigidity R reaches a sample if
  R > R_c = 14.9/L² GV (Størmer's vertical cutoff of a dipole written with McIlwain's L
  [smart2005]) and arrives from the part of the sky not hidden by the Earth, a fraction
  (1 + cos α)/2 with sin α = R_E/r. Error: vertical dipole cutoffs differ from trajectory-traced
  ones by up to ~20 % in rigidity at mid-latitudes and ignore the east–west asymmetry
  [smart2005]; using L from the real (IRBEM) field keeps the SAA's low cutoffs.

Solar particle events (protons only; heavy ions in events neglected — assumption): the JPL
model's form [feynman1993], as specified in ECSS-E-ST-10-04C Annex I.2.3 (eqs. I-5, I-6)
[ecss-e-st-10-04c]: events occur only in solar-active years, as a Poisson process of w =
:attr:`SolarEventModel.events_per_active_year`; log10 of each event's fluence above 30 MeV is
normal (μ, σ); the event's integral spectrum is Φ(>E) = Φ₃₀ (E/30 MeV)^−γ (assumption). The
values of w, μ, σ are of the JPL-91 order but were not transcribed from ECSS Table I-2
(assumption; replace them with the table's values).
"""
from dataclasses import dataclass

import numpy as np

from . import shielding

GCR_ENERGIES_MEV_N = np.geomspace(1.0, 1.0e5, 160)  # MeV per nucleon
LET_GRID = np.geomspace(1e-3, 120.0, 140)  # MeV cm²/mg
MODULATION_MV = {"min": 400.0, "max": 1100.0}  # assumption: the range of φ in Usoskin et al.'s
# reconstruction for recent solar minima/maxima [usoskin2011]
STORMER_GV = 14.9  # vertical cutoff coefficient of the geomagnetic dipole [smart2005]

# (Z, A, abundance relative to protons at equal energy per nucleon).
# He and O are normalised with AMS-02 flux ratios at equal rigidity R ≈ 9.7 GV [aguilar2021]:
# p/He = 5.549 and He/O = 34.40. He and O (A/Z = 2) at equal R have equal energy per nucleon, so
# He/O carries over unchanged; a proton of the same energy per nucleon has half the rigidity, and
# with the LIS's high-energy index γ = 2.78 [usoskin2005] the ratio at equal energy per nucleon is
# He/p = 2^(1−γ) / 5.549 ≈ 0.052 (the factor 2 of dR/d(T/n) for A/Z = 2 times 2^−γ).
# Earlier versions used p/He = 7, a ratio of particle numbers over the whole spectrum [simpson1983],
# as if it held at equal energy per nucleon: He, and every heavier species scaled from it, came out
# 2.4-2.9x CREME96's fluxes (README validation table). The heavy ratios relative to O (B 0.33,
# C 1.1, N 0.27, Ne 0.16, Mg 0.20, Si 0.16, S 0.03, Ca 0.025, Fe 0.11, Ni 0.006) are rounded from
# HEAO-3-C2 at a few GeV/n [engelmann1990] (±30 %).
AMS_P_PER_HE_AT_EQUAL_R = 5.549  # [aguilar2021], R = 9.67 GV
AMS_HE_PER_O_AT_EQUAL_R = 34.40  # [aguilar2021], R = 9.67 GV
LIS_HIGH_ENERGY_INDEX = 2.78  # [usoskin2005]
_HE_PER_P = 2.0 ** (1.0 - LIS_HIGH_ENERGY_INDEX) / AMS_P_PER_HE_AT_EQUAL_R
_O_PER_P = _HE_PER_P / AMS_HE_PER_O_AT_EQUAL_R
HEAO3_SPECIES = (
    (1, 1.0, 1.0), (2, 4.0, _HE_PER_P), (5, 11.0, 0.33 * _O_PER_P),
    (6, 12.0, 1.10 * _O_PER_P), (7, 14.0, 0.27 * _O_PER_P), (8, 16.0, _O_PER_P),
    (10, 20.0, 0.16 * _O_PER_P), (12, 24.0, 0.20 * _O_PER_P), (14, 28.0, 0.16 * _O_PER_P),
    (16, 32.0, 0.03 * _O_PER_P), (20, 40.0, 0.025 * _O_PER_P), (26, 56.0, 0.11 * _O_PER_P),
    (28, 58.0, 0.006 * _O_PER_P),
)
# The other elements up to Ni — Li, Be and the odd-Z and sub-iron species, which carry 18 % of
# the flux above LET 20 MeV cm²/mg behind 100 mil (Fe 75 %) — from the GCR model of Matthiä et al.
# [matthia2013] (the ISO 15390 form fitted per element, Z = 1–28): J_Z ∝ C_Z β^α_Z R^−γ_Z times a
# modulation factor that depends on R only. Each element's abundance relative to O is the ratio
# of the model's intensities above 1 GeV/n (W = 50, moderate activity; the ratios change by ≤ 1.2 %
# between W = 0 and 50 and by < 8 % when taken at 2 GeV/n instead): (Z, A of the most abundant
# stable isotope — assumption, as for the species above; ratio to O). The species above come out
# of the same model within 15 % of the HEAO-3 ratios (B 0.29, C 1.04, N 0.28, Ne 0.165, Mg 0.21,
# Si 0.166, S 0.034, Ca 0.022, Fe 0.113, Ni 0.0058). Only the abundance is taken: the spectral
# shape is the common one of this module, as for every heavy species.
MATTHIA_PER_O = ((3, 7.0, 0.142), (4, 9.0, 0.0797), (9, 19.0, 0.0254), (11, 23.0, 0.0361),
                 (13, 27.0, 0.0387), (15, 31.0, 0.0082), (17, 35.0, 0.0073), (18, 40.0, 0.0136),
                 (19, 39.0, 0.0097), (21, 45.0, 0.0044), (22, 48.0, 0.0145), (23, 51.0, 0.0074),
                 (24, 52.0, 0.0147), (25, 55.0, 0.0105), (27, 59.0, 0.0011))
NI_AND_LIGHTER = tuple(sorted(HEAO3_SPECIES + tuple((z, a, r * _O_PER_P)
                                                    for z, a, r in MATTHIA_PER_O)))
# Cu to Se (Z = 29–34), which neither HEAO-3's major species, the model above nor the balloon
# groups below cover: abundance relative to Fe from CREME96's GCR model (Nymmik's element table
# [tylka1997]), as the ratio of the integral fluxes above 1 GeV/n per element in the CREME96
# flux file of [obrien2022] (q800a90i.FLX: 800 km 90°, solar quiet 1977). CREME96 gives these
# elements Fe's spectral shape (the ratios are the same, to 0.2 %, above 0.1, 1 and 3 GeV/n), as
# this module does: (Z, A of the most abundant stable isotope — assumption; ratio to Fe).
CREME96_PER_FE = ((29, 63.0, 6.85e-4), (30, 64.0, 8.84e-4), (31, 69.0, 6.60e-5),
                  (32, 74.0, 1.43e-4), (33, 75.0, 9.07e-6), (34, 80.0, 5.34e-5))
_FE_PER_P = dict((z, ab) for z, _, ab in HEAO3_SPECIES)[26]
CU_TO_SE = tuple((z, a, r * _FE_PER_P) for z, a, r in CREME96_PER_FE)
# Ultra-heavy nuclei, Z > 35 [uh1973]: balloon flights from Palestine, Texas, in September 1968
# (near the maximum of cycle 20) measured integral fluxes above 1 GeV/n per charge group,
# m⁻² sr⁻¹ s⁻¹: 35–40 (16 ± 4)e-6, 41–50 (28 ± 6)e-6, 51–60 (9 ± 2)e-6, 61–70 (1.8 ± 0.7)e-6,
# 71–85 (3 ± 1)e-6, ≥ 86 (1.0 ± 0.6)e-6. Each group is one representative nucleus (Z, A of its
# most abundant stable isotope: Rb, Rh, Cs, Tb, Pt, Th — assumption), with the spectral shape of
# the other species and the abundance that gives it the measured intensity above 1 GeV/n at solar
# maximum (φ = 1100 MV). Z = 29–34 (Cu–Se) are not in that measurement (see :data:`CU_TO_SE`).
# Checked against CREME96 (README validation table): F(>L) for L = 32–80 MeV cm²/mg comes out
# 1.6–2.1× CREME96's, whose abundances come from later satellite data.
UH_GROUPS_J_ABOVE_1GEV_N = ((37, 85.0, 16e-6), (45, 103.0, 28e-6), (55, 133.0, 9e-6),
                            (65, 159.0, 1.8e-6), (78, 195.0, 3.0e-6), (90, 232.0, 1.0e-6))
UH_NORMALISATION = {"energy_mev_n": 1000.0, "solar": "max"}  # [uh1973]: > 1 GeV/n, 1968


def proton_lis(t_mev):
    """Interstellar proton intensity [usoskin2005] in cm⁻² s⁻¹ sr⁻¹ MeV⁻¹ at kinetic energy
    ``t_mev`` (MeV)."""
    t_gev = np.asarray(t_mev, dtype=float) / 1000.0
    p = np.sqrt(t_gev * (t_gev + 2 * shielding.PROTON_MASS_MEV / 1000.0))
    per_m2_gev = 1.9e4 * p ** -2.78 / (1 + 0.4866 * p ** -2.51)
    return per_m2_gev / 1e4 / 1e3


def modulated_intensity(t_mev_n, z, a, abundance, solar):
    """Force-field modulated intensity of one species (cm⁻² s⁻¹ sr⁻¹ (MeV/n)⁻¹) at 1 AU."""
    phi_n = (z / a) * MODULATION_MV[solar]
    m = shielding.AMU_MEV
    t = np.asarray(t_mev_n, dtype=float)
    return abundance * proton_lis(t + phi_n) * t * (t + 2 * m) / ((t + phi_n) * (t + phi_n + 2 * m))


def integral_intensity_above(t_mev_n, z, a, abundance, solar):
    """∫ J dT above ``t_mev_n`` (MeV/n) of :func:`modulated_intensity` (cm⁻² s⁻¹ sr⁻¹), on
    :data:`GCR_ENERGIES_MEV_N` (trapezoids)."""
    e = GCR_ENERGIES_MEV_N[GCR_ENERGIES_MEV_N >= t_mev_n]
    return float(np.trapezoid(modulated_intensity(e, z, a, abundance, solar), e))


def ultra_heavy_species():
    """(Z, A, abundance relative to protons) of the groups of :data:`UH_GROUPS_J_ABOVE_1GEV_N`:
    the abundance that gives each group its measured intensity above 1 GeV/n at solar maximum."""
    e0, solar = UH_NORMALISATION["energy_mev_n"], UH_NORMALISATION["solar"]
    return tuple((z, a, j / (1e4 * integral_intensity_above(e0, z, a, 1.0, solar)))
                 for z, a, j in UH_GROUPS_J_ABOVE_1GEV_N)


GCR_SPECIES = NI_AND_LIGHTER + CU_TO_SE + ultra_heavy_species()


def rigidity_gv(t_mev_n, z, a):
    """Magnetic rigidity (GV) of a nucleus with kinetic energy ``t_mev_n`` per nucleon."""
    t = np.asarray(t_mev_n, dtype=float)
    return (a / z) * np.sqrt(t * (t + 2 * shielding.AMU_MEV)) / 1000.0


def cutoff_rigidity_gv(l_shell):
    """Størmer vertical cutoff R_c = 14.9/L² GV [smart2005]."""
    return STORMER_GV / np.asarray(l_shell, dtype=float) ** 2


def visible_sky_fraction(alt_km):
    """Fraction of 4π not hidden by the Earth at altitude ``alt_km``: (1 + cos α)/2, with
    sin α = R_E/(R_E + h)."""
    sin_a = 6371.0 / (6371.0 + np.asarray(alt_km, dtype=float))
    return 0.5 * (1 + np.sqrt(1 - sin_a ** 2))


def transmission(rigidity, l_shell=None, alt_km=None):
    """Orbit-averaged geomagnetic transmission of particles of ``rigidity`` (GV, any shape):
    mean over samples of [R > R_c] × visible fraction. ``l_shell=None`` (interplanetary): 1."""
    r = np.asarray(rigidity, dtype=float)
    if l_shell is None:
        return np.ones_like(r)
    rc = np.sort(cutoff_rigidity_gv(l_shell))
    shadow = float(np.mean(visible_sky_fraction(alt_km)))
    return shadow * np.searchsorted(rc, r.ravel(), side="left").reshape(r.shape) / len(rc)


@dataclass(frozen=True)
class GcrSpectra:
    """GCR at the part: per species, omnidirectional differential flux (cm⁻² s⁻¹ (MeV/n)⁻¹)
    on :data:`GCR_ENERGIES_MEV_N` behind the shielding and the magnetosphere."""

    solar: str
    shielding_mm_al: float
    energy_mev_n: np.ndarray
    flux: dict  # Z -> array

    def proton_differential(self):
        """GCR proton differential flux (cm⁻² s⁻¹ MeV⁻¹) at the part."""
        return self.flux[1]

    def let_integral(self, let_grid=LET_GRID, min_z=2):
        """Integral LET flux F(>L) (cm⁻² s⁻¹, omnidirectional) of the species in :attr:`flux`
        with Z ≥ ``min_z`` (protons are counted through their nuclear-reaction cross-section
        instead)."""
        de = np.gradient(self.energy_mev_n)
        total = np.zeros(len(let_grid))
        for z, flux in self.flux.items():
            if z < min_z:
                continue
            let = shielding.let_si(self.energy_mev_n, z)
            weight = flux * de
            total += (weight[None, :] * (let[None, :] > np.asarray(let_grid)[:, None])).sum(1)
        return total


def gcr_spectra(solar="min", shielding_mm_al=0.0, l_shell=None, alt_km=None):
    """:class:`GcrSpectra` for ``solar`` ("min"/"max") behind ``shielding_mm_al`` of Al, with
    the geomagnetic transmission of a track (``l_shell``/``alt_km`` per sample; None = none)."""
    e = GCR_ENERGIES_MEV_N
    flux = {}
    for z, a, abundance in GCR_SPECIES:
        outside = 4 * np.pi * modulated_intensity(e, z, a, abundance, solar)
        outside = outside * transmission(rigidity_gv(e, z, a), l_shell, alt_km)
        flux[z] = shielding.shield_spectrum(e, outside, shielding_mm_al, z=z, a=a)
    return GcrSpectra(solar, float(shielding_mm_al), e, flux)


@dataclass(frozen=True)
class SolarEventModel:
    """JPL-type solar proton event statistics (see module doc); ``sources`` per field."""

    events_per_active_year: float = 6.0
    log10_fluence30_mean: float = 7.5  # cm⁻², > 30 MeV
    log10_fluence30_sd: float = 0.9
    spectral_index: float = 2.0  # γ of the integral spectrum Φ(>E) ∝ E^−γ
    sources: tuple = (
        ("events_per_active_year", "assumption: order of the JPL-91 event frequency "
                                   "[feynman1993], not transcribed from its tables"),
        ("log10_fluence30_mean", "assumption: order of JPL-91 > 30 MeV event fluences "
                                 "[feynman1993]"),
        ("log10_fluence30_sd", "assumption: order of JPL-91 [feynman1993]"),
        ("spectral_index", "assumption: typical 10–100 MeV integral index of large events"),
    )

    def mean_fluence30(self):
        """E[Φ₃₀] of the log-normal: 10^(μ + (σ ln10)²/2 / ln10)."""
        ln10 = np.log(10.0)
        return float(np.exp(self.log10_fluence30_mean * ln10
                            + 0.5 * (self.log10_fluence30_sd * ln10) ** 2))

    def differential_fluence(self, fluence30, energy_mev):
        """Event differential fluence (cm⁻² MeV⁻¹): −dΦ/dE of Φ₃₀ (E/30)^−γ."""
        e = np.asarray(energy_mev, dtype=float)
        g = self.spectral_index
        return np.asarray(fluence30)[..., None] * g / 30.0 * (e / 30.0) ** (-g - 1)


def sample_solar_events(model, duration_years, rng, active_years):
    """Draw the events of a mission: returns (times in years, Φ₃₀ per event in cm⁻²).

    ``active_years``: a function year → bool (solar-active?) or a boolean array per whole
    year; events are a Poisson process of rate ``model.events_per_active_year`` in active
    years and none in quiet ones [feynman1993].
    """
    times = []
    for year in range(int(np.ceil(duration_years))):
        active = active_years(year) if callable(active_years) else bool(active_years[year])
        span = min(1.0, duration_years - year)
        if not active or span <= 0:
            continue
        n = rng.poisson(model.events_per_active_year * span)
        times.extend(year + span * rng.random(n))
    times = np.sort(np.asarray(times, dtype=float))
    fluence = 10 ** rng.normal(model.log10_fluence30_mean, model.log10_fluence30_sd, len(times))
    return times, fluence
