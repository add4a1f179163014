import gzip
import struct

import numpy as np
import pytest

from neurosim import data
from neurosim.errors import InputFileError, ValidationError


def idx_bytes(arr):
    arr = np.asarray(arr, dtype=np.uint8)
    return bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def write_set(d, n_train=5, n_test=3, gz=False, rng=None):
    rng = rng or np.random.default_rng(1)
    d.mkdir(parents=True, exist_ok=True)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 4, 3)),
              "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 4, 3)),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test)}
    for name, arr in arrays.items():
        raw = idx_bytes(arr)
        if gz:
            (d / (name + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (d / name).write_bytes(raw)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_idx_loader_values(tmp_path, gz):
    arrays = write_set(tmp_path, gz=gz)
    xtr, ytr, xte, yte = data.load("mnist", data_dir=tmp_path)
    assert xtr.dtype == np.float32 and ytr.dtype == np.int64 and xtr.shape == (5, 12)
    np.testing.assert_array_equal(xtr, arrays["train-images-idx3-ubyte"].reshape(5, 12).astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(yte, arrays["t10k-labels-idx1-ubyte"])
    assert xte.shape == (3, 12) and 0 <= xtr.min() and xtr.max() <= 1


def test_subdirectory_and_env(tmp_path, monkeypatch):
    arrays = write_set(tmp_path / "fashion-mnist", n_train=2)
    monkeypatch.setenv("NEUROSIM_DATA", str(tmp_path))
    xtr, ytr, _, _ = data.load("fashion-mnist")
    np.testing.assert_array_equal(ytr, arrays["train-labels-idx1-ubyte"])


def test_missing_file_names_it(tmp_path):
    write_set(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(InputFileError, match=r"t10k-labels-idx1-ubyte\[\.gz\]: no such file") as e:
        data.load("mnist", data_dir=tmp_path)
    assert "\n" not in str(e.value)


def test_corrupt_files(tmp_path):
    write_set(tmp_path)
    p = tmp_path / "train-images-idx3-ubyte"
    good = p.read_bytes()
    p.write_bytes(good[:-7])
    with pytest.raises(InputFileError, match=r"train-images-idx3-ubyte: 69 bytes, expected 76"):
        data.load("mnist", data_dir=tmp_path)
    p.write_bytes(b"\x00\x00\x0d\x03" + good[4:])
    with pytest.raises(InputFileError, match=r"header 00000d03, expected IDX magic 00000803"):
        data.load("mnist", data_dir=tmp_path)
    p.unlink()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(InputFileError, match=r"train-images-idx3-ubyte.gz: unreadable"):
        data.load("mnist", data_dir=tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(good))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(4)))
    with pytest.raises(InputFileError, match="train images 5 but labels 4"):
        data.load("mnist", data_dir=tmp_path)


def test_digits_split_is_stratified_and_seeded():
    xtr, ytr, xte, yte = data.load("digits", seed=0)
    assert xtr.shape[1] == 64 and len(xtr) + len(xte) == 1797
    assert xtr.dtype == np.float32 and xtr.max() == 1.0 and xtr.min() == 0.0
    counts_te = np.bincount(yte)
    counts_all = np.bincount(np.concatenate([ytr, yte]))
    np.testing.assert_array_equal(counts_te, np.round(counts_all * 0.25).astype(int))
    again = data.load("digits", seed=0)
    other = data.load("digits", seed=1)
    assert np.array_equal(again[0], xtr) and not np.array_equal(other[0], xtr)


def test_synthetic_balanced_and_learnable():
    xtr, ytr, xte, yte = data.load("synthetic", seed=3)
    assert xtr.shape == (4000, 20) and xte.shape == (1000, 20)
    frac = np.bincount(ytr, minlength=4) / len(ytr)
    assert frac.min() > 0.1
    assert np.array_equal(data.load("synthetic", seed=3)[1], ytr)


def test_unknown_dataset_and_no_dir(monkeypatch):
    with pytest.raises(ValidationError, match="'cifar': unknown, expected one of digits"):
        data.load("cifar")
    monkeypatch.delenv("NEUROSIM_DATA", raising=False)
    with pytest.raises(InputFileError, match="no data directory"):
        data.load("mnist")
