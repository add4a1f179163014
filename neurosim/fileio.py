"""Writing files safely: check an output path before the work starts, write atomically.

Two rules (DESIGN.md, "Conventions"):

* **Check first.** A command that will write a file or a directory checks the path before it
  trains, compiles or simulates anything (:func:`check_output_file`, :func:`check_output_dir`), so
  a bad path costs the user one line, not an hour of work.
* **Never half-write.** Every output goes to a temporary name in the same directory and is renamed
  over the final name only when it is complete (:func:`atomic_write`); on any failure the temporary
  file is removed. Readers therefore see either the old file, the new file, or no file.
"""
import contextlib
import os
import tempfile

import numpy as np

from neurosim.errors import ValidationError


def _nearest_existing(path):
    """The deepest ancestor of ``path`` (or ``path`` itself) that exists."""
    p = os.path.abspath(path)
    while not os.path.exists(p):
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    return p


def _path_error(name, param, path, what):
    """The one-line refusal of output path ``path`` given as ``name`` (``argument 'param'`` when
    ``param`` is given: the CLI shows its flag there)."""
    name = f"argument '{param}'" if param else name
    return ValidationError(f"{name}{' ' + path if path else ''}: {what}", param=param)


def check_output_file(path, name="output", param=None):
    """Refuse, before any work, an output file path that cannot be written.

    ``name`` is what gave the path; ``param``, the library parameter that did (the error carries
    it, and the CLI shows its flag, e.g. ``-o``). Raises :class:`ValidationError` with one line
    naming it, the path and what was expected when the path is a directory, its parent is missing
    or is a file, or the directory is not writable."""
    path = os.fspath(path)
    if not path:
        raise _path_error(name, param, path, "empty path, expected a file name")
    if os.path.isdir(path):
        raise _path_error(name, param, path, "is a directory, expected a file name")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(parent):
        raise _path_error(name, param, path, f"directory {parent} does not exist")
    if not os.path.isdir(parent):
        raise _path_error(name, param, path, f"{parent} is a file, expected a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise _path_error(name, param, path, f"directory {parent} is not writable")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise _path_error(name, param, path, "the file exists and is not writable")
    return path


def check_output_dir(path, name="output directory", param=None):
    """Refuse, before any work, an output directory that cannot be created or written (``name``
    and ``param`` as for :func:`check_output_file`).

    The directory may exist (then it must be a writable directory) or not (then its nearest
    existing ancestor must be a writable directory, so that it can be created)."""
    path = os.fspath(path)
    if not path:
        raise _path_error(name, param, path, "empty path, expected a directory")
    if os.path.exists(path) and not os.path.isdir(path):
        raise _path_error(name, param, path, "is a file, expected a directory")
    anchor = _nearest_existing(path)
    if not os.path.isdir(anchor):
        raise _path_error(name, param, path, f"{anchor} is a file, expected a directory")
    if not os.access(anchor, os.W_OK | os.X_OK):
        raise _path_error(name, param, path, f"directory {anchor} is not writable")
    return path


@contextlib.contextmanager
def atomic_write(path, mode="w", suffix=""):
    """Open a temporary file next to ``path`` for writing; rename it to ``path`` on success.

    Yields ``(file, tmp_path)``: write through ``file`` (text for ``mode="w"``, bytes for
    ``"wb"``), or, for writers that take a path (``numpy.savez`` and friends), close nothing and
    write to ``tmp_path`` (its name ends in ``suffix``, e.g. ``".npz"``, so such writers do not
    append their own). On an exception the temporary file is removed and the exception re-raised;
    ``path`` is untouched."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=f".tmp{suffix}",
                               dir=directory)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f, tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_write(path) as (f, _):
        f.write(text)


def save_npz(path, compressed=False, **arrays):
    """``numpy.savez`` (or ``savez_compressed``) to ``path`` atomically, never with pickles."""
    with atomic_write(path, "wb", suffix=".npz") as (f, _):
        (np.savez_compressed if compressed else np.savez)(f, **arrays)
