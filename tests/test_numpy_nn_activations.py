"""aiaas_lib.numpy_nn.activations against keras.activations and tf.GradientTape (float64, rtol 1e-12)."""
import numpy as np
import pytest

from aiaas_lib.numpy_nn import activations

Z = np.array([[-3.0, -0.5, 0.0, 0.25, 2.0], [1.0, -1.0, 4.0, -4.0, 0.5]])
UPSTREAM = np.array([[0.5, -1.0, 2.0, 1.0, -0.25], [1.0, 1.0, -2.0, 0.5, 3.0]])
EXTREME = np.array([[-1e4, -800.0, 0.0, 800.0, 1e4]])
NAMES = ["linear", "relu", "sigmoid", "tanh", "softmax"]


@pytest.fixture(scope="module")
def tf():
    from aiaas_lib.env import import_tensorflow

    return import_tensorflow()


def keras_activation(name):
    import keras

    return keras.activations.get(name)


@pytest.mark.parametrize("name", NAMES)
def test_forward_equals_keras(tf, name):
    f, _ = activations.get(name)
    np.testing.assert_allclose(f(Z), keras_activation(name)(tf.constant(Z)).numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_backward_rule_equals_gradient_tape(tf, name):
    _, f_grad = activations.get(name)
    z = tf.constant(Z)
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = tf.reduce_sum(keras_activation(name)(z) * UPSTREAM)
    np.testing.assert_allclose(f_grad(Z, UPSTREAM), tape.gradient(loss, z).numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["linear", "relu", "sigmoid", "tanh"])
def test_elementwise_derivative_is_grad_with_unit_upstream(name):
    _, f_grad = activations.get(name)
    np.testing.assert_array_equal(f_grad(Z), f_grad(Z, np.ones_like(Z)))


def test_softmax_jacobian_equals_tape_jacobian(tf):
    z = tf.constant(Z)
    with tf.GradientTape() as tape:
        tape.watch(z)
        s = tf.nn.softmax(z)
    full = tape.batch_jacobian(s, z).numpy()  # (n, k, k): ds_i / dz_j per row
    np.testing.assert_allclose(activations.softmax_grad(Z), full, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_extreme_inputs_stay_finite(name):
    f, f_grad = activations.get(name)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # no overflow or 0/0 on the way
        assert np.isfinite(f(EXTREME)).all() and np.isfinite(f_grad(EXTREME, np.ones_like(EXTREME))).all()


def test_sigmoid_saturates_exactly():
    assert activations.sigmoid(np.array([-1e4, 1e4])).tolist() == [0.0, 1.0]


def test_softmax_rows_sum_to_one_and_shift_invariant():
    s = activations.softmax(Z)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(activations.softmax(Z + 1000.0), s, rtol=1e-12)


def test_relu_derivative_at_zero_is_zero_like_tensorflow():
    assert activations.relu_grad(np.array([0.0])).tolist() == [0.0]


def test_none_means_linear():
    assert activations.get(None) is activations.ACTIVATIONS["linear"]


@pytest.mark.parametrize("name", ["gelu", "ReLU", 3])
def test_unknown_activation_raises(name):
    with pytest.raises(ValueError, match=rf"Unknown activation {name!r}; expected None or one of \['linear'"):
        activations.get(name)
