"""neurosim: will a trained network still work on a neuromorphic chip after years of radiation?

Pipeline: dataset → train → MLP → compile → ChipProgram → simulate (+ faults) → power, bounds,
missions, report. See README.md.
"""
import os as _os

__version__ = "0.1.0"

# The tick kernel meets an OpenMP barrier every tick; sleeping (not spinning) while waiting keeps
# it fast when other processes share the CPUs. Set before the kernel loads OpenMP; a user's own
# OMP_WAIT_POLICY wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def simulate(*args, **kwargs):
    """Run a ChipProgram on a batch of input rates. See :func:`neurosim.sim.simulate`."""
    from neurosim.sim import simulate as _simulate
    return _simulate(*args, **kwargs)
