"""Errors a user can cause, and nothing else.

Every message is one line that names *where* (file, field, core/neuron) the bad value is, *what*
the value was and *what was expected*. The CLI turns any ``NeurosimError`` into that line on
stderr and exit code 2, with no traceback.
"""
import math


class NeurosimError(Exception):
    """Base class: a user-facing problem with an input (file, argument, model, program)."""

    exit_code = 2


class InputFileError(NeurosimError):
    """A file is missing, unreadable, corrupt, or not in the expected format."""


class ValidationError(NeurosimError):
    """A value is outside its allowed range or of the wrong shape/type."""


class DoesNotFitError(NeurosimError):
    """A network needs more chip resources (cores, axons, fan-in) than the profile has."""


def where(path=None, field=None, **coords):
    """Format a location prefix: ``file.npz: field 'weights' (core 3, neuron 17)``."""
    parts = []
    if path is not None:
        parts.append(f"{path}:")
    if field is not None:
        parts.append(f"field '{field}'")
    if coords:
        parts.append("(" + ", ".join(f"{k} {v}" for k, v in coords.items()) + ")")
    return " ".join(parts)


def check_number(value, name, low, high=None, low_open=False):
    """Refuse a number (a CLI flag or parameter ``name``) outside [low, high] — (low, high] with
    ``low_open`` — or not finite; ``None`` (not given) passes. Returns ``value``."""
    if value is None:
        return value
    above = value > low if low_open else value >= low
    if math.isfinite(value) and above and (high is None or value <= high):
        return value
    if high is not None:
        expected = f"a number in {'(' if low_open else '['}{low}, {high}]"
    else:
        kind = "an integer" if isinstance(value, int) else "a finite number"
        expected = f"{kind} {'>' if low_open else '≥'} {low}"
    raise ValidationError(f"{name} is {value}; expected {expected}")
