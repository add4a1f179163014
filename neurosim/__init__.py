"""neurosim: will a trained network still work on a neuromorphic chip after years of radiation?

Pipeline: dataset → train → MLP → compile → ChipProgram → simulate (+ faults) → power, bounds,
missions, report. The Python API is :mod:`neurosim.api`, exported here (``import neurosim as
ns; ns.train(...)``); the command line is :mod:`neurosim.cli`. See README.md.

Imports flow one way (tests/test_architecture.py checks it): a module imports only from its own
tier or the tiers below, and the packages of one tier import each other without a cycle::

    api, cli, bench
      → mission, bounds, energy, report
      → compiler, sim, radiation, training, interchange
      → chip, mlp, data
      → errors, fileio, resources, references, sniff
"""
import os as _os

__version__ = "0.1.0"

# The tick kernel meets an OpenMP barrier every tick; sleeping (not spinning) while waiting keeps
# it fast when other processes share the CPUs. Set before the kernel loads OpenMP (that is, before
# the API below imports the simulator); a user's own OMP_WAIT_POLICY wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from neurosim.api import (bound, compile, export_nir, load_dataset, load_network,  # noqa: E402
                          load_results, power, run_mission, simulate, train)

__all__ = ["train", "compile", "simulate", "power", "bound", "run_mission", "load_results",
           "load_network", "load_dataset", "export_nir", "__version__"]
