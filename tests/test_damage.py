"""Permanent damage per core and chip, power-domain latch-up and availability (radiation.damage)."""
import numpy as np
import pytest

from neurosim.errors import ValidationError
from neurosim.radiation import damage


def test_latchup_clears_every_upset_in_its_domain():
    """Issue 16: a latch-up cycles its power domain and reloads it — every upset of every core in
    that domain is gone at the cycle, whichever core latched; other domains keep theirs."""
    domain = damage.domain_map(8, domain=4)                   # cores 0-3 → 0, cores 4-7 → 1
    assert domain.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    upset_days = np.array([1.0, 2.0, 3.0, 2.5, 6.0, 1.0, 9.0])
    upset_cores = np.array([0, 3, 2, 5, 1, 7, 6])
    cycle_days = np.array([4.0, 8.0])
    cycle_domains = np.array([0, 0])                          # two latch-ups, both in domain 0
    cleared = damage.upsets_cleared_at(upset_days, upset_cores, cycle_days, cycle_domains, domain)
    assert cleared.tolist() == [4.0, 4.0, 4.0, np.inf, 8.0, np.inf, np.inf]
    # whole-chip domain: the same latch-up clears the other group's upsets too
    chip = damage.domain_map(8, domain="chip", cores_per_chip=4096)
    cleared = damage.upsets_cleared_at(upset_days, upset_cores, cycle_days, cycle_domains, chip)
    assert cleared.tolist() == [4.0, 4.0, 4.0, 4.0, 8.0, 4.0, np.inf]
    # per-core domains: only the latched core's (core 0 here) upsets
    per_core = damage.domain_map(8, domain="core")
    cleared = damage.upsets_cleared_at(upset_days, upset_cores, [4.0], [0], per_core)
    assert cleared.tolist() == [4.0] + [np.inf] * 6
    # no latch-up: nothing cleared
    assert np.all(np.isinf(damage.upsets_cleared_at(upset_days, upset_cores, [], [], chip)))


def test_destructive_latchup_kills_its_whole_domain():
    domain = damage.domain_map(6, domain=3)
    killed = damage.cores_killed_at([5.0, 2.0], [1, 1], domain)
    assert killed.tolist() == [np.inf] * 3 + [2.0] * 3
    with pytest.raises(ValidationError, match="power domain"):
        damage.domain_map(6, domain="rack")


def test_failure_doses_per_core_and_chip():
    """Cores of one die share its die factor, the chip's shared logic fails the chip, and a core
    stops when its chip does; the medians are the model's."""
    model = damage.FailureDoseModel()
    rng = np.random.default_rng(1)
    chip_of_core = np.repeat(np.arange(400), 16)               # 400 chips of 16 cores
    d = damage.sample_failure_doses(chip_of_core, model, rng)
    assert d.core_krad.shape == (6400,) and d.chip_krad.shape == (400,)
    assert np.median(d.core_krad) == pytest.approx(35.0, rel=0.08)
    ln = np.log(d.core_krad).reshape(400, 16)
    assert ln.std(axis=1).mean() == pytest.approx(0.1, rel=0.15)   # within a die: σ_core
    assert ln.mean(axis=1).std() == pytest.approx(0.3, rel=0.15)   # die to die: σ_die
    core_days, chip_days = d.failure_days(2000.0)
    assert chip_days[0] == pytest.approx(d.chip_krad[0] * 1e3 / 2000.0 * 365.25)
    assert np.all(core_days <= chip_days[chip_of_core])
    assert np.any(core_days < chip_days[chip_of_core])
    inf_core, inf_chip = d.failure_days(0.0)
    assert np.all(np.isinf(inf_core)) and np.all(np.isinf(inf_chip))
    with pytest.raises(ValidationError, match="median"):
        damage.FailureDoseModel(median_krad=0.0)


def test_leakage_rises_with_dose_from_the_sourced_anchor():
    assert damage.leakage_factor(0.0) == 1.0
    assert damage.leakage_factor(1e6) == pytest.approx(10 ** 2.5)
    f = damage.leakage_factor(np.array([0.0, 10.0, 100.0, 1000.0]))
    assert np.all(np.diff(f) > 0)
    assert damage.dose_krad_at(365.25, 2000.0) == pytest.approx(2.0)
    with pytest.raises(ValidationError, match="dose_krad"):
        damage.leakage_factor(np.nan)


def test_availability_merges_overlapping_outages():
    # two events 0.5 day apart with 1-day reboots overlap: 1.5 days lost, not 2
    assert damage.outage_intervals([3.0, 3.5, 10.0], 1.0) == [(3.0, 4.5), (10.0, 11.0)]
    assert damage.availability([3.0, 3.5, 10.0], 1.0, 100.0) == pytest.approx(1 - 2.5 / 100)
    # an outage running past the end of the mission counts only inside it
    assert damage.availability([99.5], 1.0, 100.0) == pytest.approx(1 - 0.5 / 100)
    assert damage.availability([], 1.0, 100.0) == 1.0
    with pytest.raises(ValidationError):
        damage.availability([1.0], 1.0, 0.0)


def test_domain_events_and_chip_availability():
    """Latch-ups cost their domain's reload time, SEFIs their reset, destructive latch-ups no
    reload (the domain is dead); the sampled counts follow the rates."""
    whole_chip = damage.reload_days(4096) * 86400
    assert whole_chip == pytest.approx(4096 * 256 * 410 / 8 * 800e-9)    # ≈ 43 s
    assert 40 < whole_chip < 45
    model = damage.DomainEventModel(latchup_rate_per_domain_day=0.01, destructive_fraction=0.25,
                                    sefi_rate_per_chip_day=0.02)
    ev = damage.sample_domain_events(64, 1, 1000.0, model, np.random.default_rng(3))
    assert ev.latchup_days.size == pytest.approx(640, rel=0.2)
    assert ev.sefi_days.size == pytest.approx(20, rel=0.6)
    assert np.all(np.diff(ev.latchup_days) >= 0)
    assert ev.destructive.mean() == pytest.approx(0.25, abs=0.06)
    domain = damage.domain_map(4096, domain=64)                       # 64 domains of 64 cores
    a = damage.chip_availability(ev, domain, model, 1000.0)
    expected = (np.count_nonzero(~ev.destructive) * damage.reload_days(64)
                + ev.sefi_days.size * model.sefi_reset_days) / 1000.0
    assert 1 - a == pytest.approx(expected, rel=1e-6)        # rare events: no overlaps here
    with pytest.raises(ValidationError, match="destructive_fraction"):
        damage.DomainEventModel(0.01, 1.5, 0.0)


def test_failure_probability_matches_the_sampled_doses():
    model = damage.FailureDoseModel()
    d = damage.sample_failure_doses(np.repeat(np.arange(2000), 8), model,
                                    np.random.default_rng(7))
    for dose in (15.0, 30.0, 37.5):
        p = damage.failure_probability(dose, model)
        assert np.mean(d.core_krad <= dose) == pytest.approx(p, abs=0.03)
    # the GEO knife edge in the docstring: 15 years at 1,000 / 2,000 / 2,500 rad/yr
    probs = [damage.failure_probability(r * 15 / 1000, model) for r in (1000, 2000, 2500)]
    assert probs == pytest.approx([0.004, 0.31, 0.59], abs=0.01)
    assert damage.failure_probability(0.0, model) == 0.0
