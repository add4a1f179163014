"""neurosim: will a trained network still work on a neuromorphic chip after years of radiation?

Pipeline: dataset → train → MLP → compile → ChipProgram → simulate (+ faults) → power, bounds,
missions, report. See README.md.
"""
__version__ = "0.1.0"


def simulate(*args, **kwargs):
    """Run a ChipProgram on a batch of input rates. See :func:`neurosim.sim.simulate`."""
    from neurosim.sim import simulate as _simulate
    return _simulate(*args, **kwargs)
