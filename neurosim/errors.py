"""Errors a user can cause, and nothing else.

Every message is one line that names *where* (file, field, core/neuron) the bad value is, *what*
the value was and *what was expected*. The CLI turns any ``NeurosimError`` into that line on
stderr and exit code 2, with no traceback.

A bad function argument is named as the library knows it, ``argument 'fail_prob'``, and the error
carries ``param="fail_prob"``; a front end that calls it something else shows
:meth:`NeurosimError.renamed` (the CLI passes its flags: ``--fail-prob``).
"""
import math
import re

_ARGUMENT = re.compile(r"argument '(\w+)'")


class NeurosimWarning(UserWarning):
    """Base class of the warnings a user should read (an approximation with its expected error):
    the CLI prints each as one line, ``neurosim CMD: warning: MESSAGE``."""


class NeurosimError(Exception):
    """Base class: a user-facing problem with an input (file, argument, model, program).

    ``param``: the library parameter the message is about (e.g. ``"fail_prob"``), or None when it
    is about a file or anything else a caller cannot rename."""

    exit_code = 2

    def __init__(self, message="", param=None):
        super().__init__(message)
        self.param = param

    def renamed(self, names):
        """The message with every ``argument 'NAME'`` whose NAME is a key of ``names`` replaced
        by ``names[NAME]``; unchanged when the error names no parameter (``param`` is None)."""
        if self.param is None:
            return str(self)
        return _ARGUMENT.sub(lambda m: names.get(m.group(1), m.group(0)), str(self))


class InputFileError(NeurosimError):
    """A file is missing, unreadable, corrupt, or not in the expected format."""


class ValidationError(NeurosimError):
    """A value is outside its allowed range or of the wrong shape/type."""


class DoesNotFitError(NeurosimError):
    """A network needs more chip resources (cores, axons, fan-in) than the profile has."""


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
