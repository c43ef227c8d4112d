"""aiaas_lib.numpy_nn.gradcheck: central differences and the relative error."""
import subprocess
import sys

import numpy as np
import pytest

from aiaas_lib.numpy_nn import gradcheck


def test_numerical_gradient_of_a_cubic_is_exact_to_rounding():
    x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    # d/dx sum(x³) = 3x²; the central difference of a cubic errs by eps² = 1e-12 exactly
    np.testing.assert_allclose(gradcheck.numerical_gradient(lambda a: float(np.sum(a**3)), x), 3 * x**2,
                               rtol=1e-7, atol=1e-8)


def test_numerical_gradient_restores_x():
    x = np.array([0.1, 0.2, 0.3])
    before = x.copy()
    gradcheck.numerical_gradient(lambda a: float(np.sum(np.sin(a))), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([0.1, 0.2])

    def f(_):
        raise ArithmeticError("boom")

    with pytest.raises(ArithmeticError):
        gradcheck.numerical_gradient(f, x)
    assert x.tolist() == [0.1, 0.2]


def test_numerical_gradient_through_a_closure_over_x():
    w = np.array([2.0, 3.0])
    grad = gradcheck.numerical_gradient(lambda _: float(w[0] * w[1]), w)  # f ignores its argument
    np.testing.assert_allclose(grad, [3.0, 2.0], rtol=1e-9)


def test_numerical_gradient_of_a_scalar_array():
    grad = gradcheck.numerical_gradient(lambda a: float(a**2), np.array(3.0))
    np.testing.assert_allclose(grad, 6.0, rtol=1e-9)


def test_numerical_gradient_on_a_non_contiguous_view():
    base = np.arange(12.0).reshape(3, 4)
    view = base[:, ::2]
    np.testing.assert_allclose(gradcheck.numerical_gradient(lambda a: float(np.sum(a**2)), view), 2 * view,
                               rtol=1e-6)  # rounding: |f| ~ 300, so ~300 * 1e-16 / 1e-6 = 3e-8 absolute


def test_relative_error_is_max_difference_over_max_magnitude():
    assert gradcheck.relative_error(np.array([1.0, -2.0]), np.array([1.5, -2.0])) == 0.5 / 4.0


def test_relative_error_of_zeros_is_zero():
    assert gradcheck.relative_error(np.zeros((2, 2)), np.zeros((2, 2))) == 0.0


def test_relative_error_is_symmetric():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.1, 1.9, 3.0])
    assert gradcheck.relative_error(a, b) == gradcheck.relative_error(b, a)


def test_importing_numpy_nn_does_not_import_tensorflow_or_keras():
    code = "import sys, aiaas_lib.numpy_nn; print([m for m in ('tensorflow', 'keras') if m in sys.modules])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    out = proc.stdout.strip()
    assert out == "[]"


# ------------------------------------------------------------------------------------------ error paths
def test_relative_error_rejects_different_shapes():
    with pytest.raises(ValueError, match=r"a has shape \(2,\) but b has shape \(3,\)"):
        gradcheck.relative_error(np.zeros(2), np.zeros(3))


@pytest.mark.parametrize("x", [[1.0, 2.0], np.array([1, 2]), np.array([1.0], dtype=np.float32)])
def test_numerical_gradient_rejects_non_float64_arrays(x):
    with pytest.raises(ValueError, match="x must be a float64 numpy array"):
        gradcheck.numerical_gradient(lambda a: 0.0, x)


@pytest.mark.parametrize("eps", [0.0, -1e-6])
def test_numerical_gradient_rejects_non_positive_eps(eps):
    with pytest.raises(ValueError, match=rf"eps={eps} must be > 0"):
        gradcheck.numerical_gradient(lambda a: 0.0, np.zeros(2), eps=eps)
