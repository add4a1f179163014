"""Datasets as ``(x_train, y_train, x_test, y_test)``: float32 rates in [0, 1], int64 labels.

``digits``
    scikit-learn's bundled 8×8 handwritten digits (1,797 images, 64 inputs, pixel values 0..16),
    scaled by 1/16; a stratified split seeded by ``seed``: in each class a fraction ``TEST_FRACTION``
    (rounded) goes to the test set.
``mnist``, ``fashion-mnist``
    The standard IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each optionally ``.gz``; a ``.`` in place
    of the ``-`` before ``idx`` is also accepted) from, in order: ``data_dir`` (or ``$NEUROSIM_DATA``)
    and its sub-directory named after the dataset; for fashion-mnist also Debian's package
    ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``). Pixels are scaled by 1/255;
    the split is the published 60,000/10,000 one (``seed`` is unused).
``synthetic``
    For bound experiments: x ~ U[0, 1]^n_in (seeded), labelled by the argmax of a random teacher
    MLP n_in-h-n_classes (ReLU, weights N(0, 1/fan_in)); the teacher's output biases are set to
    minus the mean logit over the drawn inputs, so classes are roughly balanced.

Your own data (``name`` is a path to an existing file or directory):

``data.npz``
    arrays ``x_train`` (n, ...), ``y_train`` (n,), ``x_test`` (m, ...), ``y_test`` (m,); inputs are
    flattened to (n, features). No pickles.
a directory with ``train.csv`` and ``test.csv``
    one sample per line: the integer label first, then the features, comma-separated; a first line
    that is not numbers (a header) is skipped.

Scaling rule (:func:`scale_inputs`), the same for both: unsigned 8-bit integers are divided by 255;
values already in [0, 1] are kept; anything else is mapped by the training set's overall minimum
and maximum, x' = (x − min)/(max − min), and test values are clipped to [0, 1]. Labels are integers
0..C−1 (C ≥ 2 classes, the training labels naming every class up to the largest); test labels must
be classes of the training set.

IDX format (LeCun et al.): bytes 0-1 zero, byte 2 the type code (0x08 = unsigned byte), byte 3
the number of dimensions d, then d big-endian uint32 sizes, then the data in C order.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

from neurosim.errors import InputFileError, ValidationError
from neurosim.sniff import first_nonfinite, read_arrays

DATASETS = ("digits", "mnist", "fashion-mnist", "synthetic")
TEST_FRACTION = 0.25
DEBIAN_FASHION_DIR = "/usr/share/datasets/fashion-mnist"
IDX_FILES = {"train_images": ("train-images", "idx3-ubyte", 3),
             "train_labels": ("train-labels", "idx1-ubyte", 1),
             "test_images": ("t10k-images", "idx3-ubyte", 3),
             "test_labels": ("t10k-labels", "idx1-ubyte", 1)}


def is_user_dataset(name):
    """True if ``name`` names the user's own data (an existing path), not a built-in dataset."""
    return name not in DATASETS and os.path.exists(os.fspath(name))


def check_dataset(name, label="dataset"):
    """Refuse, in one line naming ``label`` (the parameter that gave ``name``; the CLI passes its
    flag), a name that is neither built-in nor an existing path."""
    if name in DATASETS or is_user_dataset(name):
        return name
    raise ValidationError(f"{label} {name!r}: unknown, expected one of {', '.join(DATASETS)} or "
                          f"the path of a .npz file or a directory with train.csv and test.csv")


def recorded_dataset(path, name, recorded_as, label):
    """``name``, the dataset a model or program file records, when it is usable (built-in, or an
    existing path); else one line naming the file, the value (``recorded_as`` says where it came
    from, e.g. "provenance dataset is") and ``label``, the parameter that would give one (the CLI
    passes its flag)."""
    if isinstance(name, str) and (name in DATASETS or is_user_dataset(name)):
        return name
    raise InputFileError(f"{path}: {recorded_as} {name!r}, not one of {', '.join(DATASETS)}; "
                         f"expected {label} DATASET")


def load(name, data_dir=None, seed=0):
    """Load dataset ``name`` (one of ``DATASETS``, or the path of your own data); see the module
    docstring."""
    if is_user_dataset(name):
        return load_user(name)
    if name == "digits":
        return _digits(seed)
    if name in ("mnist", "fashion-mnist"):
        return _idx_dataset(name, data_dir)
    if name == "synthetic":
        return synthetic(seed=seed)
    raise ValidationError(f"dataset {name!r}: unknown, expected one of {', '.join(DATASETS)}")


def load_user(path):
    """Your own dataset from a ``.npz`` file or a directory of CSVs (module docstring)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        parts = [_read_csv(os.path.join(path, f"{split}.csv")) for split in ("train", "test")]
        arrays = {"x_train": parts[0][0], "y_train": parts[0][1], "x_test": parts[1][0],
                  "y_test": parts[1][1]}
    else:
        arrays = _read_dataset_npz(path)
    x_train, x_test = scale_inputs(arrays["x_train"], arrays["x_test"], path)
    y_train, y_test = check_labels(arrays["y_train"], arrays["y_test"], len(x_train), len(x_test),
                                   path)
    return x_train, y_train, x_test, y_test


def _read_dataset_npz(path):
    arrays = read_arrays(path, "a dataset .npz (x_train, y_train, x_test, y_test)")
    for key in ("x_train", "y_train", "x_test", "y_test"):
        if key not in arrays:
            raise InputFileError(f"{path}: field '{key}' missing, expected x_train, y_train, "
                                 f"x_test and y_test")
        if arrays[key].dtype.kind not in "biuf":
            raise InputFileError(f"{path}: field '{key}' has dtype {arrays[key].dtype}, "
                                 f"expected numbers")
    return arrays


def _read_csv(path):
    """(x, y) of one CSV file: label first, then features; an optional header line."""
    if not os.path.isfile(path):
        raise InputFileError(f"{path}: no such file, expected a CSV of label,feature,... lines")
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    if lines and not _numeric(lines[0]):
        lines = lines[1:]
    rows = []
    for i, line in enumerate(lines):
        try:
            rows.append([float(v) for v in line.split(",")])
        except ValueError:
            raise InputFileError(f"{path}: line {i + 1}: {line[:40]!r} is not numbers, expected "
                                 f"label,feature,...") from None
        if len(rows[-1]) != len(rows[0]):
            raise InputFileError(f"{path}: line {i + 1} has {len(rows[-1])} columns, expected "
                                 f"{len(rows[0])} like the first")
    if not rows or len(rows[0]) < 2:
        raise InputFileError(f"{path}: no rows of label,feature,..., expected at least one")
    table = np.array(rows)
    return table[:, 1:], table[:, 0]


def _numeric(line):
    try:
        [float(v) for v in line.split(",")]
        return True
    except ValueError:
        return False


def scale_inputs(x_train, x_test, where):
    """(x_train, x_test) as float32 (n, features) in [0, 1] (module docstring's rule)."""
    x_train = np.asarray(x_train)
    x_test = np.asarray(x_test)
    for name, x in (("x_train", x_train), ("x_test", x_test)):
        if x.ndim < 2 or len(x) == 0 or x[0].size == 0:
            raise InputFileError(f"{where}: {name} has shape {x.shape}, expected (samples, "
                                 f"features) with at least one of each")
        bad = first_nonfinite(x.astype(np.float64))
        if bad is not None:
            raise InputFileError(f"{where}: {name} is {_item(x[bad])} at index {bad}, expected "
                                 f"finite numbers")
    x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    if x_train.shape[1] != x_test.shape[1]:
        raise InputFileError(f"{where}: x_test has {x_test.shape[1]} features, expected "
                             f"{x_train.shape[1]} like x_train")
    if x_train.dtype == np.uint8:
        return (x_train / np.float32(255)).astype(np.float32), \
            (x_test / np.float32(255)).astype(np.float32)
    lo, hi = float(x_train.min()), float(x_train.max())
    if lo >= 0 and hi <= 1:
        return x_train.astype(np.float32), np.clip(x_test, 0, 1).astype(np.float32)
    span = hi - lo if hi > lo else 1.0
    return ((x_train - lo) / span).astype(np.float32), \
        np.clip((x_test - lo) / span, 0, 1).astype(np.float32)


def check_labels(y_train, y_test, n_train, n_test, where):
    """Integer labels 0..C−1 (C ≥ 2), one per sample; test labels among the training classes."""
    out = []
    for name, y, n in (("y_train", y_train, n_train), ("y_test", y_test, n_test)):
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != n:
            raise InputFileError(f"{where}: {name} has shape {y.shape}, expected ({n},), one "
                                 f"label per sample")
        if y.dtype.kind not in "biuf" or np.any(y != np.round(y)) or np.any(y < 0):
            j = int(np.argmax((y != np.round(y)) | (y < 0))) if y.dtype.kind in "biuf" else 0
            raise InputFileError(f"{where}: {name} is {_item(y[j])} at index {j}, expected integer "
                                 f"class labels 0, 1, ...")
        out.append(y.astype(np.int64))
    classes = int(out[0].max()) + 1
    if classes < 2:
        raise InputFileError(f"{where}: y_train has only class 0, expected at least 2 classes")
    if out[1].max() >= classes:
        j = int(np.argmax(out[1] >= classes))
        raise InputFileError(f"{where}: y_test is {out[1][j]} at index {j}, expected a class of "
                             f"y_train (0..{classes - 1})")
    return out[0], out[1]


def _item(value):
    """A label for a message: its plain Python value (``1.5``, not ``np.float64(1.5)``)."""
    return repr(value.item()) if hasattr(value, "item") else repr(value)


def _digits(seed):
    # local for start-up time: sklearn takes ~1.6 s to import, and only the digits need it
    from sklearn.datasets import load_digits
    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        test[idx[:int(round(TEST_FRACTION * len(idx)))]] = True
    return x[~test], y[~test], x[test], y[test]


def synthetic(n_in=20, n_hidden=32, n_classes=4, n_train=4000, n_test=1000, seed=0):
    """Inputs U[0,1]^n_in labelled by a seeded random ReLU teacher (module docstring)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n_train + n_test, n_in)).astype(np.float32)
    w1 = rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_hidden))
    b1 = rng.normal(0, 0.1, n_hidden)
    w2 = rng.normal(0, 1 / np.sqrt(n_hidden), (n_hidden, n_classes))
    logits = np.maximum(x @ w1 + b1, 0) @ w2
    y = np.argmax(logits - logits.mean(axis=0), axis=1).astype(np.int64)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def _search_dirs(name, data_dir):
    roots = [os.fspath(data_dir)] if data_dir is not None else (
        [os.environ["NEUROSIM_DATA"]] if os.environ.get("NEUROSIM_DATA") else [])
    dirs = []
    for root in roots:
        dirs += [os.path.join(root, name), root]
    if name == "fashion-mnist" and data_dir is None:
        dirs.append(DEBIAN_FASHION_DIR)
    return dirs


def _find(directory, stem, kind):
    for sep in ("-", "."):
        for ext in ("", ".gz"):
            path = os.path.join(directory, f"{stem}{sep}{kind}{ext}")
            if os.path.isfile(path):
                return path
    return None


def _idx_dataset(name, data_dir):
    dirs = _search_dirs(name, data_dir)
    if not dirs:
        raise InputFileError(f"dataset {name!r}: no data directory, expected argument 'data_dir' "
                             f"or $NEUROSIM_DATA pointing at the IDX files "
                             f"(train-images-idx3-ubyte[.gz], ...)", param="data_dir")
    found = None
    for d in dirs:
        if _find(d, "train-images", "idx3-ubyte"):
            found = d
            break
    directory = found or dirs[0]
    paths, arrays = {}, {}
    for key, (stem, kind, ndim) in IDX_FILES.items():
        paths[key] = _find(directory, stem, kind)
        if paths[key] is None:
            raise InputFileError(f"{os.path.join(directory, f'{stem}-{kind}')}[.gz]: no such file, "
                                 f"expected the {name} IDX file (searched {', '.join(dirs)})")
        arrays[key] = read_idx(paths[key], ndim)
    _check_split_files(paths, arrays)
    out = []
    for split in ("train", "test"):
        x, y = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        out += [x.reshape(len(x), -1).astype(np.float32) / np.float32(255), y.astype(np.int64)]
    return tuple(out)


def _check_split_files(paths, arrays):
    """The four IDX arrays make a dataset: every split has images (of ≥ 1 pixel) and as many
    labels 0..9 as images, and train and test images have the same size."""
    for split in ("train", "test"):
        images, labels = f"{split}_images", f"{split}_labels"
        x, y = arrays[images], arrays[labels]
        if len(x) == 0:
            raise InputFileError(f"{paths[images]}: 0 images, expected at least one")
        if x[0].size == 0:
            raise InputFileError(f"{paths[images]}: images of shape {x.shape[1:]}, expected at "
                                 f"least one pixel")
        if len(x) != len(y):
            raise InputFileError(f"{paths[labels]}: {len(y)} labels but {paths[images]} has "
                                 f"{len(x)} {split} images, expected equal counts")
        if y.max() > 9:
            raise InputFileError(f"{paths[labels]}: {split} label {int(y.max())}, expected 0..9")
    train, test = arrays["train_images"].shape[1:], arrays["test_images"].shape[1:]
    if train != test:
        raise InputFileError(f"{paths['test_images']}: images of {test[0]}x{test[1]} pixels but "
                             f"{paths['train_images']} has {train[0]}x{train[1]}, expected the "
                             f"same size")


def read_idx(path, ndim):
    """Read an unsigned-byte IDX file (optionally gzip) of ``ndim`` dimensions as a uint8 array."""
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise InputFileError(f"{path}: unreadable ({type(exc).__name__}: {exc}), expected an "
                             f"IDX file") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] != ndim:
        raise InputFileError(f"{path}: header {raw[:4].hex() or 'empty'}, expected IDX magic "
                             f"0000080{ndim} (unsigned bytes, {ndim} dimensions)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise InputFileError(f"{path}: {len(raw)} bytes, expected at least {header} (IDX header)")
    shape = tuple(int(v) for v in np.frombuffer(raw[4:header], dtype=">u4"))
    expected = header + math.prod(shape)  # Python ints: no overflow for 4-byte sizes
    if len(raw) != expected:
        raise InputFileError(f"{path}: {len(raw)} bytes, expected {expected} for shape {shape}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
