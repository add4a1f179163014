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

DATASETS = ("digits", "mnist", "fashion-mnist", "synthetic")
TEST_FRACTION = 0.25
DEBIAN_FASHION_DIR = "/usr/share/datasets/fashion-mnist"
IDX_FILES = {"train_images": ("train-images", "idx3-ubyte", 3),
             "train_labels": ("train-labels", "idx1-ubyte", 1),
             "test_images": ("t10k-images", "idx3-ubyte", 3),
             "test_labels": ("t10k-labels", "idx1-ubyte", 1)}


def load(name, data_dir=None, seed=0):
    """Load dataset ``name`` (one of ``DATASETS``); see the module docstring."""
    if name == "digits":
        return _digits(seed)
    if name in ("mnist", "fashion-mnist"):
        return _idx_dataset(name, data_dir)
    if name == "synthetic":
        return synthetic(seed=seed)
    raise ValidationError(f"dataset {name!r}: unknown, expected one of {', '.join(DATASETS)}")


def _digits(seed):
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
