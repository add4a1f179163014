"""Where the shipped models and scenarios are.

In a source checkout they are ``models/`` and ``scenarios/`` at the top of the repository; an
installed neurosim carries copies as package data under ``neurosim/_shipped/``. A user path that
exists always wins.
"""
import os
from importlib import resources

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
