"""Input encoders: rates in [0, 1] → a spike raster of shape (ticks, batch, inputs), uint8.

Every backend is fed the same raster, so backends differ only in how they run the chip.

- ``deterministic``: an accumulator per input. A rate r gives k = ⌊r·T + ½⌋ spikes in T ticks,
  evenly spaced: input i spikes at tick t iff ⌊(t+1)·k/T⌋ > ⌊t·k/T⌋ (integer arithmetic, so the
  same on every machine).
- ``bernoulli``: input i spikes at tick t with probability r_i, independently, drawn from
  ``numpy.random.Generator(PCG64(seed))``.
"""
import numpy as np

from neurosim.errors import ValidationError
from neurosim.validation import check_inputs

ENCODINGS = ("deterministic", "bernoulli")


def check_rates(rates, n_inputs):
    """Validate and return rates as float64 (batch, n_inputs)."""
    rates = check_inputs(rates, n_inputs, "input rates", promote_1d=True)
    if rates.size and (rates.min() < 0 or rates.max() > 1):
        raise ValidationError(f"input rates span [{rates.min():g}, {rates.max():g}]; "
                              "expected values in [0, 1]")
    return rates


def encode(rates, ticks, encoding="deterministic", seed=0):
    """Spike raster (ticks, batch, inputs) uint8 for rates (batch, inputs)."""
    rates = np.asarray(rates, dtype=np.float64)
    if ticks < 1:
        raise ValidationError(f"ticks is {ticks}; expected at least 1")
    if encoding == "deterministic":
        k = np.floor(rates * ticks + 0.5).astype(np.int64)           # (B, I)
        t = np.arange(ticks + 1, dtype=np.int64)[:, None, None]      # (T+1, 1, 1)
        cumulative = (t * k[None]) // ticks                          # spikes emitted by tick t
        return np.diff(cumulative, axis=0).astype(np.uint8)
    if encoding == "bernoulli":
        rng = np.random.Generator(np.random.PCG64(seed))
        draws = rng.random((ticks,) + rates.shape)
        return (draws < rates[None]).astype(np.uint8)
    raise ValidationError(f"encoding '{encoding}' is unknown; expected one of {', '.join(ENCODINGS)}")
