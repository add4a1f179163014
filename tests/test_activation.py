"""neurosim.activation: φ, its derivative and constants (module table), one copy for every user."""
import numpy as np
import pytest

from neurosim import activation as phi

Z = np.array([-3.0, -0.5, 0.0, 0.25, 0.5, 2.0])


@pytest.mark.parametrize("k", [1.0, 2.0])
def test_values_match_the_equations_of_the_table(k):
    np.testing.assert_allclose(phi.activate(Z, "relu", k), np.maximum(k * Z, 0))
    np.testing.assert_allclose(phi.activate(Z, "clipped_relu", k), np.minimum(np.maximum(k * Z, 0), 1))
    np.testing.assert_allclose(phi.activate(Z, "sigmoid", k), 1 / (1 + np.exp(-k * Z)), rtol=1e-15)


@pytest.mark.parametrize("name", phi.ACTIVATIONS)
def test_in_place_gives_the_same_function_and_writes_into_z(name):
    z = Z.copy()
    out = phi.activate_in_place(z, name, 2.0)
    assert out is z
    np.testing.assert_allclose(out, phi.activate(Z, name, 2.0), rtol=1e-15)


def test_sigmoid_does_not_overflow_at_large_arguments():
    with np.errstate(over="raise"):
        a = phi.activate(np.array([-1e4, 1e4]), "sigmoid", 1.0)
    np.testing.assert_array_equal(a, [0.0, 1.0])


@pytest.mark.parametrize("name", phi.ACTIVATIONS)
def test_derivative_matches_a_central_difference_away_from_kinks(name):
    z = np.array([-0.7, 0.2, 0.3, 0.9])
    h = 1e-6
    numeric = (phi.activate(z + h, name, 1.5) - phi.activate(z - h, name, 1.5)) / (2 * h)
    np.testing.assert_allclose(phi.derivative(z, phi.activate(z, name, 1.5), name, 1.5), numeric,
                               atol=1e-6)


def test_lipschitz_constant_bounds_the_slope_and_sup_bound_the_value():
    z = np.linspace(-5, 5, 2001)
    for name in phi.ACTIVATIONS:
        slope = np.abs(phi.derivative(z, phi.activate(z, name, 3.0), name, 3.0)).max()
        assert slope <= phi.lipschitz(name, 3.0) + 1e-12
        assert slope >= 0.99 * phi.lipschitz(name, 3.0)
    assert phi.lipschitz("sigmoid", 3.0) == 0.75
    assert phi.sup_bound("relu") == float("inf") and phi.sup_bound("sigmoid") == 1.0
