"""check_inputs: one line naming the input, the shape/dtype/values found and what was expected."""
import numpy as np
import pytest

from neurosim.errors import InputFileError, ValidationError
from neurosim.validation import check_inputs


def test_a_good_array_comes_back_2d_float64_with_its_values():
    x = check_inputs([[0, 1, 2]], 3)
    assert x.dtype == np.float64 and x.shape == (1, 3)
    np.testing.assert_array_equal(x, [[0.0, 1.0, 2.0]])


def test_the_wrong_width_names_the_input_the_shape_found_and_the_shape_expected():
    with pytest.raises(ValidationError, match=r"^inputs: shape \(10, 63\), expected \(n, 64\) "
                                              r"for program p.npz$"):
        check_inputs(np.zeros((10, 63)), 64, where="for program p.npz")


def test_a_vector_is_one_row_only_when_asked():
    assert check_inputs(np.zeros(4), 4, promote_1d=True).shape == (1, 4)
    with pytest.raises(ValidationError, match=r"shape \(4,\), expected \(n, 4\)"):
        check_inputs(np.zeros(4), 4)


def test_too_few_rows_are_refused_with_the_least_n():
    with pytest.raises(ValidationError, match=r"^argument 'inputs': shape \(0, 2\), expected "
                                              r"\(n ≥ 1, 2\)$") as err:
        check_inputs(np.zeros((0, 2)), 2, "argument 'inputs'", min_rows=1, param="inputs")
    assert err.value.param == "inputs"
    assert err.value.renamed({"inputs": "--inputs"}).startswith("--inputs: shape (0, 2)")


def test_nan_and_infinity_are_refused_and_counted():
    x = np.zeros((3, 2))
    x[0, 1], x[2, 0] = np.nan, np.inf
    with pytest.raises(ValidationError, match=r"^rates: 2 NaN or infinite value\(s\), expected "
                                              r"finite numbers$"):
        check_inputs(x, 2, "rates")


def test_a_non_numeric_array_is_refused_by_dtype():
    with pytest.raises(ValidationError, match=r"^inputs: dtype <U1, expected numbers$"):
        check_inputs([["a", "b"]], 2)


def test_dtype_none_keeps_the_given_dtype_and_error_picks_the_class():
    assert check_inputs(np.zeros((2, 3), np.float32), 3, dtype=None).dtype == np.float32
    with pytest.raises(InputFileError, match=r"^x.npy: shape \(2, 3\)"):
        check_inputs(np.zeros((2, 3)), 4, "x.npy", error=InputFileError)
