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
    with pytest.raises(InputFileError, match=r"train-labels-idx1-ubyte: 4 labels but \S+"
                                             r"train-images-idx3-ubyte.gz has 5 train images"):
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


def _corrupt_deflate(raw):
    """A gzip member whose header is valid but whose deflate stream is garbage."""
    packed = bytearray(gzip.compress(raw))
    packed[12:20] = b"\xff" * 8
    return bytes(packed)


def test_a_corrupt_deflate_stream_is_one_line_naming_the_file(tmp_path):
    arrays = write_set(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").unlink()
    raw = idx_bytes(arrays["t10k-images-idx3-ubyte"])
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(_corrupt_deflate(raw))
    with pytest.raises(InputFileError, match=r"t10k-images-idx3-ubyte.gz: unreadable \((zlib\.)?error"
                                             r".*expected an IDX file") as e:
        data.load("mnist", data_dir=tmp_path)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("n_test, test_shape, message", [
    (0, (4, 3), r"t10k-images-idx3-ubyte: 0 images, expected at least one"),
    (3, (5, 5), r"t10k-images-idx3-ubyte: images of 5x5 pixels but \S+train-images-idx3-ubyte "
                r"has 4x3, expected the same size"),
    (3, (0, 3), r"t10k-images-idx3-ubyte: images of shape \(0, 3\), expected at least one pixel"),
])
def test_inconsistent_splits_are_named(tmp_path, n_test, test_shape, message):
    write_set(tmp_path)
    images = np.ones((n_test,) + test_shape)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(images))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(n_test)))
    with pytest.raises(InputFileError, match=message):
        data.load("mnist", data_dir=tmp_path)


def test_label_count_and_range_name_the_label_file(tmp_path):
    write_set(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(2)))
    with pytest.raises(InputFileError, match=r"t10k-labels-idx1-ubyte: 2 labels but \S+"
                                             r"t10k-images-idx3-ubyte has 3 test images"):
        data.load("mnist", data_dir=tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes([1, 12, 3]))
    with pytest.raises(InputFileError, match=r"t10k-labels-idx1-ubyte: test label 12, "
                                             r"expected 0..9"):
        data.load("mnist", data_dir=tmp_path)


def test_huge_declared_sizes_do_not_overflow(tmp_path):
    """Sizes 2^32−1 each: the expected length is computed in Python ints, never wraps around."""
    p = tmp_path / "x-idx3-ubyte"
    p.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", *[2**32 - 1] * 3) + bytes(8))
    with pytest.raises(InputFileError, match=r"24 bytes, expected 79228162458924105385300197391"):
        data.read_idx(str(p), 3)


# ------------------------------------------------------------------ your own data
def test_user_npz_uint8_is_divided_by_255_and_flattened(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (6, 2, 3)).astype(np.uint8)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=np.array([0, 1, 2, 0, 1, 2]),
             x_test=x[:2], y_test=np.array([2, 0]))
    xtr, ytr, xte, yte = data.load(str(tmp_path / "d.npz"))
    assert xtr.shape == (6, 6) and xtr.dtype == np.float32 and ytr.dtype == np.int64
    np.testing.assert_allclose(xtr, x.reshape(6, 6) / 255.0, rtol=1e-6)
    assert yte.tolist() == [2, 0]


def test_user_npz_other_ranges_are_min_max_scaled_by_the_training_set(tmp_path):
    x_train = np.array([[-2.0, 0.0], [2.0, 6.0]])
    x_test = np.array([[0.0, 10.0]])  # 10 is above the training max: clipped to 1
    np.savez(tmp_path / "d.npz", x_train=x_train, y_train=[0, 1], x_test=x_test, y_test=[1])
    xtr, _, xte, _ = data.load(tmp_path / "d.npz")
    np.testing.assert_allclose(xtr, [[0.0, 0.25], [0.5, 1.0]])  # (x + 2) / 8
    np.testing.assert_allclose(xte, [[0.25, 1.0]])


def test_user_csv_directory_with_a_header(tmp_path):
    (tmp_path / "train.csv").write_text("label,a,b\n1,0.5,0.25\n0,0,1\n")
    (tmp_path / "test.csv").write_text("0,1,0\n")
    xtr, ytr, xte, yte = data.load(str(tmp_path))
    np.testing.assert_allclose(xtr, [[0.5, 0.25], [0.0, 1.0]])
    assert ytr.tolist() == [1, 0] and yte.tolist() == [0] and xte.shape == (1, 2)


@pytest.mark.parametrize("arrays, message", [
    (dict(x_train=np.zeros((3, 2)), y_train=[0, 1], x_test=np.zeros((1, 2)), y_test=[0]),
     r"y_train has shape \(2,\), expected \(3,\), one label per sample"),
    (dict(x_train=np.zeros((2, 2)), y_train=[0, 1.5], x_test=np.zeros((1, 2)), y_test=[0]),
     r"y_train is 1.5 at index 1, expected integer class labels"),
    (dict(x_train=np.zeros((2, 2)), y_train=[0, 1], x_test=np.zeros((1, 3)), y_test=[0]),
     r"x_test has 3 features, expected 2 like x_train"),
    (dict(x_train=np.zeros((2, 2)), y_train=[0, 1], x_test=np.zeros((1, 2)), y_test=[4]),
     r"y_test is 4 at index 0, expected a class of y_train \(0..1\)"),
    (dict(x_train=np.zeros((2, 2)), y_train=[0, 0], x_test=np.zeros((1, 2)), y_test=[0]),
     r"y_train has only class 0, expected at least 2 classes"),
    (dict(x_train=np.array([[0, np.nan]]), y_train=[0], x_test=np.zeros((1, 2)), y_test=[0]),
     r"x_train is nan at index \(0, 1\), expected finite numbers"),
    (dict(x_train=np.zeros((2, 2)), y_train=[0, 1], x_test=np.zeros((1, 2))),
     r"field 'y_test' missing, expected x_train, y_train, x_test and y_test"),
])
def test_user_npz_problems_are_one_line_naming_the_array(tmp_path, arrays, message):
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(InputFileError, match=message) as err:
        data.load(str(tmp_path / "d.npz"))
    assert "\n" not in str(err.value) and "d.npz" in str(err.value)


def test_user_csv_problems_name_the_file_and_line(tmp_path):
    (tmp_path / "train.csv").write_text("1,0.5\n0,0.2,0.3\n")
    (tmp_path / "test.csv").write_text("0,1\n")
    with pytest.raises(InputFileError, match=r"train.csv: line 2 has 3 columns, expected 2"):
        data.load(str(tmp_path))
    (tmp_path / "train.csv").unlink()
    with pytest.raises(InputFileError, match=r"train.csv: no such file, expected a CSV"):
        data.load(str(tmp_path))


def test_check_dataset_accepts_names_and_paths_and_names_the_flag(tmp_path):
    assert data.check_dataset("digits") == "digits"
    assert data.check_dataset(str(tmp_path)) == str(tmp_path)
    with pytest.raises(ValidationError, match=r"--calibration 'nope': unknown, expected one of "
                                              r"digits.* or the path of a .npz file"):
        data.check_dataset("nope", "--calibration")
    assert data.recorded_dataset("m.npz", str(tmp_path), "provenance dataset is", "--x") \
        == str(tmp_path)
    with pytest.raises(InputFileError, match=r"m.npz: provenance dataset is 5, not one of digits, "
                                             r"mnist, fashion-mnist, synthetic; expected --x "
                                             r"DATASET"):
        data.recorded_dataset("m.npz", 5, "provenance dataset is", "--x")
