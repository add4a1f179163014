"""Where the shipped models and scenarios are.

In a source checkout they are ``models/`` and ``scenarios/`` at the top of the repository; an
installed neurosim carries copies as package data under ``neurosim/_shipped/``. A user path that
exists always wins.
"""
import os
from importlib import resources

from neurosim.errors import InputFileError

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shipped_dir(kind):
    """Directory of the shipped ``models`` or ``scenarios``."""
    if kind not in ("models", "scenarios"):
        raise ValueError(f"kind must be 'models' or 'scenarios', not {kind!r}")
    repo_dir = os.path.join(_REPO, kind)
    if os.path.isfile(os.path.join(_REPO, "setup.py")) and os.path.isdir(repo_dir):
        return repo_dir  # a source checkout (or an editable install of one)
    return str(resources.files("neurosim._shipped").joinpath(kind))


def resolve(path, kind):
    """``path`` as given if it exists; else the shipped file of that name (``models/x.npz`` or
    ``x.npz``); else ``path`` unchanged, so the caller's missing-file error names what was asked."""
    if os.path.exists(path):
        return path
    candidate = os.path.join(shipped_dir(kind), os.path.basename(path))
    return candidate if os.path.exists(candidate) else path


def search_path(path, kind, near=()):
    """Where a file named ``path`` is looked for, in order: ``path`` relative to each directory
    in ``near`` (e.g. the scenario's directory and its parent, so that a scenario's paths mean
    the same from any working directory), ``path`` itself (absolute, or relative to the current
    directory), and the shipped file of that name."""
    places = [] if os.path.isabs(path) else [os.path.join(d, path) for d in near]
    places.append(path)
    places.append(os.path.join(shipped_dir(kind), os.path.basename(path)))
    return places


def find(path, kind, name, near=()):
    """The first existing file of :func:`search_path`; else one InputFileError line naming the
    parameter ``name`` (e.g. ``[run] model`` or ``model``), the value and every place looked."""
    places = search_path(path, kind, near)
    for place in places:
        if os.path.isfile(place):
            return place
    raise InputFileError(f"{name} = {path!r}: no such file; looked in {', '.join(places)}")
