"""Robustness bounds for neuron crashes, and what crashes really do.

Modules (imports flow down this list; nothing here imports mission or radiation):

* :mod:`.report`   — :func:`report`: the bounds against the observed error, for an MLP or a program;
* :mod:`.studies`  — the papers' studies (random, lipschitz, depth, weights, mnist-like);
* :mod:`.checkpoints` — Erf and Fep against mission checkpoints, like with like (crash-only bins);
* :mod:`.chip`     — a compiled ChipProgram in rate mode: the MLP-unit view and the chip-level
  model (every chip neuron a node);
* :mod:`.observed` — Omega (exhaustive), Monte Carlo, first-order estimators on an MLP;
* :mod:`.theory`   — network constants, Fep (worst case) and Erf (average estimate); numpy only.

:mod:`.command` holds the command-line side (``neurosim bound``, ``neurosim bench bounds``).
"""
from neurosim.bounds.checkpoints import compare_checkpoints
from neurosim.bounds.chip import (ChipBoundModel, check_program_inputs, chip_model,
                                  program_constants, program_dead_neurons,
                                  program_monte_carlo_error, program_unit_weights)
from neurosim.bounds.observed import (FirstOrder, MonteCarloResult, OmegaResult, first_order,
                                      monte_carlo_error, omega, omega_bruteforce,
                                      output_jacobians)
from neurosim.bounds.report import report
from neurosim.bounds.theory import (NetworkConstants, chip_bounds, erf, fep, max_activation,
                                    network_constants, unit_bounds)

__all__ = [
    "NetworkConstants", "network_constants", "max_activation", "fep", "erf", "unit_bounds",
    "chip_bounds", "omega", "omega_bruteforce", "OmegaResult", "monte_carlo_error",
    "MonteCarloResult", "first_order", "FirstOrder", "output_jacobians", "program_constants",
    "program_unit_weights", "program_dead_neurons", "program_monte_carlo_error",
    "check_program_inputs", "ChipBoundModel", "chip_model", "compare_checkpoints", "report",
]
