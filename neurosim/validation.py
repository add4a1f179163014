"""One check for the array every evaluator takes: inputs of shape (n, n_inputs).

In the style of scikit-learn's ``check_array`` (Pedregosa et al. 2011, JMLR 12, "Scikit-learn:
Machine Learning in Python"; ``sklearn.utils.check_array``): the array is converted once, and a bad
one is refused with one line naming the input, the shape (or dtype, or values) found and what was
expected, e.g. ``argument 'inputs': shape (10, 63), expected (n, 64) for program p.npz``.
"""
import numpy as np

from neurosim.errors import ValidationError


def _expected_shape(n_inputs, min_rows):
    rows = "n" if min_rows == 0 else f"n ≥ {min_rows}"
    return f"({rows}, {n_inputs})"


def check_inputs(x, n_inputs, name="inputs", where=None, *, dtype=np.float64, min_rows=0,
                 promote_1d=False, param=None, error=ValidationError):
    """``x`` as a 2-D array (n, n_inputs), or :class:`ValidationError` naming ``name``.

    ``dtype``: the array's dtype (None: as given, numbers only); ``min_rows``: the least n;
    ``promote_1d``: a single vector (n_inputs,) becomes one row; ``where``: what fixes n_inputs
    (e.g. ``"for program p.npz"``), appended to the message; ``param``: the library parameter the
    error is about (see :meth:`NeurosimError.renamed`); ``error``: the NeurosimError subclass to
    raise (InputFileError when ``name`` is a file). Refuses non-numeric dtypes and NaN/inf.
    """
    suffix = f" {where}" if where else ""
    raw = np.asarray(x)
    if raw.dtype.kind not in "biuf":
        raise error(f"{name}: dtype {raw.dtype}, expected numbers{suffix}", param=param)
    arr = raw if dtype is None else raw.astype(dtype, copy=False)
    if promote_1d and arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_inputs or arr.shape[0] < min_rows:
        raise error(f"{name}: shape {arr.shape}, expected "
                              f"{_expected_shape(n_inputs, min_rows)}{suffix}", param=param)
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise error(f"{name}: {bad} NaN or infinite value(s), expected finite "
                              f"numbers{suffix}", param=param)
    return arr
