"""Radiation, fourth session (issue 15): the sunspot-shaped solar cycle of the background rates."""
import math

import numpy as np

from test_radiation import MINIMAL, _layout, _write

from neurosim.mission import scenario as scn
from neurosim.radiation import cosmic, environment, orbit, rates, solar_cycle
from neurosim.radiation import schedule
from neurosim.radiation import timeline as tlm


def _values(tmp_path, model, phase=0.0, extra="\n[upsets]\nrate_scale = 1000.0\n"):
    text = MINIMAL.replace("accuracy_requirement = 0.9", "accuracy_requirement = 0.9\n"
                           f"solar_cycle_phase_at_launch_years = {phase}")
    v = scn.load(_write(tmp_path, text + extra)).values
    v["solar_events"]["cycle_model"] = model     # the scenario key is added by the schema
    return v


# ---------------------------------------------------------------------- the cycle shape
def test_sunspot_shape_peaks_where_its_derivative_vanishes():
    # F = x³/(e^u − c), u = x²/b²: dF/dx = 0  ⇔  3 (e^u − c) = 2 u e^u
    x = np.linspace(0.0, 132.0, 132_001)
    peak = x[np.argmax(solar_cycle.cycle_shape(x))]
    u = (peak / solar_cycle.AVERAGE_CYCLE_RISE_MONTHS) ** 2
    c = solar_cycle.AVERAGE_CYCLE_ASYMMETRY
    assert abs(3 * (math.exp(u) - c) - 2 * u * math.exp(u)) < 1e-3
    assert 57 < peak < 60    # the average cycle peaks ~4.9 years after its start [hathaway2015]
    assert solar_cycle.cycle_shape(0.0) == 0.0 and solar_cycle.cycle_shape(-5.0) == 0.0


def test_activity_weight_puts_the_active_phase_on_the_cycle_maximum():
    t = np.linspace(0.0, 11.0, 110_001)[:-1]
    w = solar_cycle.activity_weight(t)        # active phase = mission years [0, 7)
    assert w.min() >= 0.0 and abs(w.max() - 1.0) < 1e-6
    active = t < 7.0
    assert w[active].mean() > 0.7 and w[~active].mean() < 0.15
    # the 7-year window starting at 0 has the highest mean weight: shifted windows have less
    for shift in (-0.5, -0.1, 0.1, 0.5):
        shifted = solar_cycle.activity_weight(t[active] + shift)
        assert shifted.mean() < w[active].mean()
    # the minimum falls in the quiet years, 1.45 years before the active phase
    assert abs(t[np.argmin(w)] - (11.0 - 1.45)) < 0.02


def test_mean_weights_are_the_interval_means():
    edges = np.array([0.0, 0.5, 3.0, 7.0, 11.0])
    fine = [solar_cycle.activity_weight(np.linspace(a, b, 20_001)).mean()
            for a, b in zip(edges[:-1], edges[1:])]
    got = solar_cycle.mean_weights(edges, points=400)
    assert np.allclose(got, fine, atol=2e-3)


# ---------------------------------------------------------------------- in the timeline
def test_steps_remain_selectable(tmp_path):
    v = _values(tmp_path, "steps")
    edges, weight = schedule.background_windows(v, 3 * 365.25)
    years, active = schedule.solar_years(v, 3 * 365.25)
    assert np.array_equal(edges, years) and np.array_equal(weight, active.astype(float))


def test_sunspot_windows_are_months_weighted_along_the_cycle(tmp_path):
    v = _values(tmp_path, "sunspot")
    edges, weight = schedule.background_windows(v, 2 * 365.25)
    assert len(edges) == 25 and np.allclose(np.diff(edges), 365.25 / 12)
    assert np.allclose(weight, solar_cycle.mean_weights(edges / 365.25))
    # launch at the start of the active phase: activity still rising towards the maximum
    assert np.all(np.diff(weight) > 0) and 0.25 < weight[0] < 0.4 < 0.85 < weight[-1] < 1


def test_sunspot_cycle_sets_the_sampled_upset_counts(tmp_path):
    v = _values(tmp_path, "sunspot", extra="\n[upsets]\nrate_scale = 100000.0\n")
    lay = _layout()
    times = np.array([365.25, 730.5])
    runs = 100
    counts = np.array([tlm.sample(v, lay, times, np.random.default_rng(s)).stats["upsets"]
                       for s in range(runs)])
    bg = v["physics"]["background"]
    per_bit = lay.data_bits() * lay.C * v["upsets"]["rate_scale"]
    edges, weight = schedule.background_windows(v, 730.5)
    for year in range(2):
        months = slice(12 * year, 12 * year + 12)
        lam = [(1 - w) * np.asarray(bg["min"]) + w * np.asarray(bg["max"])
               for w in weight[months]]
        expect = float(sum(np.sum(l * per_bit) for l in lam) * 365.25 / 12)
        steps = float(np.sum(np.asarray(bg["max"]) * per_bit) * 365.25)   # an active year
        sd = math.sqrt(expect / runs)
        assert abs(counts[:, year].mean() - expect) < 4 * sd
        assert abs(steps - expect) > 10 * sd          # the test can tell the two models apart


def test_mission_means_use_the_mean_solar_maximum_weight(tmp_path):
    days = 11 * 365.25
    v = _values(tmp_path, "sunspot")
    w = schedule.max_weight(v, days)
    t = np.linspace(0.0, 11.0, 110_001)[:-1]
    assert abs(w - solar_cycle.activity_weight(t).mean()) < 1e-3      # a whole cycle: 0.506
    assert 0.49 < w < 0.52
    bg = v["physics"]["background"]
    expect = (1 - w) * np.asarray(bg["min"]) + w * np.asarray(bg["max"])   # no solar events
    assert np.allclose(schedule.mission_mean_rates(v, days), expect, rtol=1e-12)
    steps = _values(tmp_path, "steps")
    assert schedule.max_weight(steps, days) == schedule.active_share(steps, days) == 7 / 11


# ---------------------------------------------------------------------- ions heavier than Ni
# CREME96 integral LET spectrum, Z = 2–92, 800 km 90°, 100 mil Al, solar quiet 1977, silicon:
# q800a90i100Z2.DLT of [obrien2022] (differential, 1002 log bins from 1 to 1.1e5 MeV cm²/g, per
# m² sr s), integrated above L and made omnidirectional (× 4π × 1e-4): cm⁻² s⁻¹.
CREME96_F_ABOVE = {32.0: 3.533e-10, 40.0: 1.326e-10, 60.0: 3.027e-11,
                   80.0: 5.554e-12}
UH_TOLERANCE = 2.5      # the balloon abundances [uh1973] run ~2× CREME96's satellite-era ones


def test_ultra_heavy_ions_fill_the_let_spectrum_above_nickel():
    env = environment.environment_spectra(orbit.circular_orbit(800.0, 90.0), 2.54, "min")
    ours = {L: float(rates.integral_flux_at(env.let_grid, env.let_integral, L))
            for L in CREME96_F_ABOVE}
    for L, published in CREME96_F_ABOVE.items():
        assert 1 / UH_TOLERANCE < ours[L] / published < UH_TOLERANCE, (L, ours[L], published)
    # without the ultra-heavy groups nothing reaches beyond Ni's largest LET in Si (~30.5)
    nickel_and_lighter = [z for z, _, _ in cosmic.NI_AND_LIGHTER]
    assert max(nickel_and_lighter) == 28
    assert len(cosmic.GCR_SPECIES) == len(nickel_and_lighter) + len(cosmic.CU_TO_SE) + 6
    light = cosmic.GcrSpectra(env.gcr.solar, env.gcr.shielding_mm_al, env.gcr.energy_mev_n,
                              {z: f for z, f in env.gcr.flux.items() if z <= 28})
    truncated = light.let_integral(np.array([32.0, 40.0]))
    assert np.all(truncated == 0.0)
