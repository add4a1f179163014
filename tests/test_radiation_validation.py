"""Validation of neurosim.radiation against published figures (issue 15, "Validation").

Each test takes its expected value from a publication or a published tool output, named in its
docstring, and states its tolerance. A case that misses its target is recorded in the README's
validation table with its ratio; it is not re-tuned here.
"""

import numpy as np
import pytest

from neurosim.radiation import cosmic, device, environment, orbit, rates, trapped

AP8_TOLERANCE = 0.25  # issue 15: orbit-averaged AP8 flux within 25 %


@pytest.mark.parametrize("altitude_km, inclination_deg, published_cm2_s", [
    (825.0, 98.8, 190.21),  # polar LEO (POES/Iridium-like)
    (530.0, 53.0, 50.715),  # Starlink shell, the ISS's inclination band
])
def test_ap8_min_orbit_average_above_10_mev_matches_spenvis(altitude_km, inclination_deg,
                                                             published_cm2_s):
    """AP-8 MIN orbit-averaged omnidirectional J(>10 MeV) against SPENVIS 4.6.13 (30-day orbit
    from 1 Jan 2026, circular, RAAN 0) as published in Loveless 2025 [loveless2025spenvis]:
    825 km 98.8°: 190.21 cm⁻² s⁻¹; 530 km 53°: 50.715 cm⁻² s⁻¹. Tolerance 25 % (issue 15)."""
    track = orbit.propagate(orbit.circular_orbit(altitude_km, inclination_deg))
    ours = trapped.average_above(trapped.trapped_flux(track, "p", "min"), 10.0)
    assert ours == pytest.approx(published_cm2_s, rel=AP8_TOLERANCE)


# ---------------------------------------------------------------- CREME96 cases [obrien2022]
# One orbit, one shielding, three device curves: CREME96 run by S. Davis for O'Brien 2022
# (Aerospace ATR-2022-00960, Table 1): 800 km circular, 90°, 100 mil (2.54 mm) Al sphere,
# solar quiet (1977) GCR, AP8MIN trapped protons. Rates per bit (per sensitive volume) per day.
CREME96_ORBIT = orbit.circular_orbit(800.0, 90.0)
CREME96_SHIELD_MM = 2.54  # 100 mil
RATE_TOLERANCE = 2.0  # issue 15: within 2x, the state of the art's own spread
PER_SR_M2_TO_OMNI_CM2 = 4 * np.pi * 1e-4  # CREME96 fluxes are per m² per sr


@pytest.fixture(scope="module")
def creme96_env():
    return environment.environment_spectra(CREME96_ORBIT, CREME96_SHIELD_MM, "min")


def within_factor(ours, published, factor):
    """True if ours/published lies in [1/factor, factor]."""
    return 1.0 / factor <= ours / published <= factor


@pytest.mark.parametrize("energy_mev, published_per_m2_sr_s", [(15.0, 1.2229e5), (100.0, 5.1402e4)])
def test_ap8min_orbit_average_matches_creme96(creme96_env, energy_mev, published_per_m2_sr_s):
    """AP8MIN orbit-averaged trapped-proton J(>E), 800 km 90°, from CREME96's TRAPPED_DRIVER
    (200 orbits × 200 steps) as printed in the headers of the files of [obrien2022]:
    1.2229e5 (> 15 MeV) and 5.1402e4 (> 100 MeV) protons m⁻² sr⁻¹ s⁻¹. Tolerance 25 %."""
    track = creme96_env.track
    ours = trapped.average_above(trapped.trapped_flux(track, "p", "min"), energy_mev)
    assert ours == pytest.approx(published_per_m2_sr_s * PER_SR_M2_TO_OMNI_CM2, rel=AP8_TOLERANCE)


def test_lm7912_proton_upset_rate_matches_creme96(creme96_env):
    """LM7912 proton Weibull E₀ 30 MeV, W 10 MeV, s 1, σ_sat 1e-11 cm² [koga2019]; CREME96 PUP
    (trapped AP8MIN + GCR protons behind 100 mil): 1.10564e-9 /s = 9.55271e-5 per bit per day
    [obrien2022, Table 1]. Tolerance 2x."""
    curve = device.Weibull(30.0, 10.0, 1.0, 1e-11)
    env = creme96_env
    ours = (rates.proton_rate(curve, env.proton_energy_mev, env.trapped_proton_shielded)
            + rates.proton_rate(curve, env.gcr.energy_mev_n, env.gcr.proton_differential()))
    assert within_factor(ours * rates.SECONDS_PER_DAY, 9.55271e-5, RATE_TOLERANCE)


def test_atmega1280_heavy_ion_rate_matches_creme96(creme96_env):
    """ATMEGA1280 heavy-ion Weibull L₀ 10, W 120 MeV cm²/mg, s 1.5, σ_sat 5e-5 cm², RPP
    70.71 × 70.71 × 1 µm [davis2020]; CREME96 HUP (IRPP, Z ≥ 2): 2.19981e-6 per bit per day
    [obrien2022, Table 1: 2.54608e-9 /s for 100 volumes]. Tolerance 2x."""
    curve = device.Weibull(10.0, 120.0, 1.5, 5e-5)
    ours = rates.irpp_rate(curve, 1.0, creme96_env.let_grid, creme96_env.let_integral)
    assert within_factor(ours * rates.SECONDS_PER_DAY, 2.19981e-6, RATE_TOLERANCE)


def test_lm7912_heavy_ion_rate_matches_creme96(creme96_env):
    """LM7912 heavy-ion Weibull L₀ 0.5, W 30 MeV cm²/mg, s 1, σ_sat 2e-5 cm², RPP 44.72 × 44.72
    × 1 µm [koga2019]; CREME96 HUP (IRPP, Z ≥ 2): 8.69132e-5 per bit per day [obrien2022,
    Table 1: 1.00594e-7 /s for 100 volumes]. Tolerance 2x. (Before the GCR He/O normalisation
    was corrected to AMS-02 ratios, ours/CREME96 was 2.35: a miss.)"""
    curve = device.Weibull(0.5, 30.0, 1.0, 2e-5)
    ours = rates.irpp_rate(curve, 1.0, creme96_env.let_grid, creme96_env.let_integral)
    assert within_factor(ours * rates.SECONDS_PER_DAY, 8.69132e-5, RATE_TOLERANCE)


# ---------------------------------------------------------------- GCR (CREME96 via SPENVIS)
@pytest.fixture(scope="module")
def polar_825_gcr():
    track = orbit.propagate(orbit.circular_orbit(825.0, 98.8))
    l_shell, _ = trapped.geomagnetic_coordinates(track)
    return cosmic.gcr_spectra("min", 0.0, l_shell, track.alt_km)


@pytest.mark.parametrize("z, published_per_m2_sr_s", [(1, 1260.2), (2, 134.90), (8, 3.5653),
                                                       (26, 0.40247)])
def test_gcr_integral_flux_matches_creme96_via_spenvis(polar_825_gcr, z, published_per_m2_sr_s):
    """Unshielded GCR integral flux above 1 MeV/n behind the magnetosphere, 825 km 98.8°, solar
    minimum: SPENVIS 4.6.13 CREME96 model, magnetic shielding on [loveless2025spenvis]
    (polar_leo_spenvis_gcf.txt): H 1260.2, He 134.90, O 3.5653, Fe 0.40247 m⁻² sr⁻¹ s⁻¹.
    Ours: omnidirectional flux / 4π, which includes the Earth's shadow (0.73 of the sky visible
    at 825 km), as CREME's geomagnetic transmission does (its GTRN help page: starting without
    GTRN "neglects the shielding provided by the solid Earth"); without the shadow ours would be
    1.4-1.6x. Tolerance 25 %."""
    gcr = polar_825_gcr
    integral = float((gcr.flux[z] * np.gradient(gcr.energy_mev_n)).sum())
    ours_per_m2_sr_s = integral / (4 * np.pi) * 1e4
    assert ours_per_m2_sr_s == pytest.approx(published_per_m2_sr_s, rel=0.25)
