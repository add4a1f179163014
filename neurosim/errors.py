"""Errors a user can cause, and nothing else.

Every message is one line that names *where* (file, field, core/neuron) the bad value is, *what*
the value was and *what was expected*. The CLI turns any ``NeurosimError`` into that line on
stderr and exit code 2, with no traceback.
"""


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
