"""Energy and power from activity counters, with TrueNorth fitted to published silicon.

- :mod:`~neurosim.energy.scaling` — supply voltage: static ∝ V, dynamic ∝ V² (assumption);
- :mod:`~neurosim.energy.fit` — least squares of whole-chip static power and marginal event energy
  on published measurements (``truenorth_measurements.csv``, a ``source`` per point);
- :mod:`~neurosim.energy.profile` — PowerProfile (constants, ``power_gating``, voltage range), the
  built-in ``truenorth`` and ``loihi`` profiles, TOML profiles;
- :mod:`~neurosim.energy.model` — :func:`power` on ActivityCounters (whole-chip or gated static,
  voltage, dose), budgets, mission checkpoints, :func:`power_at_dose`, mission energy;
- :mod:`~neurosim.energy.calibration` — published points, fit and held-out error (the command
  ``neurosim power`` is :mod:`neurosim.cli.power`).
"""
from neurosim.energy.calibration import calibration, published_points
from neurosim.energy.fit import TrueNorthFit, fit_errors, fit_truenorth, load_measurements
from neurosim.energy.model import (HOURS_PER_YEAR, LATCHUP_FACTOR, PowerReport, budget_check,
                                  checkpoint_power, checkpoint_power_mw, max_inference_rate_hz,
                                  mission_energy_wh, power, power_at_dose)
from neurosim.energy.profile import (LOIHI, POWER_PROFILES, TRUENORTH, PowerProfile,
                                    get_power_profile, load_power_profile, truenorth_profile)

__all__ = ["HOURS_PER_YEAR", "LATCHUP_FACTOR", "LOIHI", "POWER_PROFILES", "PowerProfile",
           "PowerReport", "TRUENORTH", "TrueNorthFit", "budget_check", "calibration",
           "checkpoint_power", "checkpoint_power_mw", "fit_errors", "fit_truenorth",
           "get_power_profile", "load_measurements", "load_power_profile",
           "max_inference_rate_hz", "mission_energy_wh", "power", "power_at_dose",
           "published_points", "truenorth_profile"]
