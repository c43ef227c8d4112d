"""aiaas_lib.numpy_nn.losses against keras.losses (values) and tf.GradientTape (gradients).

Tolerances: Keras runs in float64 here (``dtype="float64"`` on each loss), so values agree to rounding;
the issue asks for 1e-7 and we check rtol=1e-7. Gradients: relative error <= 1e-9.
"""
import numpy as np
import pytest

from aiaas_lib.numpy_nn import losses
from aiaas_lib.numpy_nn.gradcheck import relative_error

Y_BIN = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
P = np.array([[0.9, 0.2], [0.3, 0.6], [0.5, 0.99]])
Z = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
LABELS = np.array([0, 1])
EXTREME = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])


@pytest.fixture(scope="module")
def tf():
    from aiaas_lib.env import import_tensorflow

    return import_tensorflow()


@pytest.fixture(scope="module")
def keras(tf):
    import keras

    return keras


def keras_value_and_grad(tf, loss, y, y_hat):
    """Keras loss value and its gradient w.r.t. y_hat (a plain float64 tensor: no logits shortcut)."""
    y_hat = tf.Variable(y_hat, dtype=tf.float64)
    with tf.GradientTape() as tape:
        value = loss(y, y_hat)
    return float(value), tape.gradient(value, y_hat).numpy()


def cases(keras):
    """(our loss, our gradient, the Keras loss, y, y_hat) for every loss and form."""
    k = keras.losses
    bce, bce_grad = losses.binary_cross_entropy, losses.binary_cross_entropy_grad
    return {
        "mse-2d": (losses.mse, losses.mse_grad, k.MeanSquaredError(dtype="float64"), Y_BIN, P),
        "mse-1d": (losses.mse, losses.mse_grad, k.MeanSquaredError(dtype="float64"), Y_BIN[:, 0], P[:, 0]),
        "bce-probs": (bce, bce_grad, k.BinaryCrossentropy(dtype="float64"), Y_BIN, P),
        "bce-logits": (lambda y, z: bce(y, z, from_logits=True),
                       lambda y, z: bce_grad(y, z, from_logits=True),
                       k.BinaryCrossentropy(from_logits=True, dtype="float64"), Y_BIN, P * 8 - 4),
        "softmax-ce-int": (losses.softmax_cross_entropy, losses.softmax_cross_entropy_grad,
                           k.SparseCategoricalCrossentropy(from_logits=True, dtype="float64"), LABELS, Z),
        "softmax-ce-onehot": (losses.softmax_cross_entropy, losses.softmax_cross_entropy_grad,
                              k.CategoricalCrossentropy(from_logits=True, dtype="float64"),
                              np.eye(3)[LABELS], Z),
    }


NAMES = ["mse-2d", "mse-1d", "bce-probs", "bce-logits", "softmax-ce-int", "softmax-ce-onehot"]


@pytest.mark.parametrize("name", NAMES)
def test_loss_equals_keras(tf, keras, name):
    ours, _, theirs, y, y_hat = cases(keras)[name]
    np.testing.assert_allclose(ours(y, y_hat), float(theirs(y, y_hat)), rtol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_equals_gradient_tape(tf, keras, name):
    _, ours_grad, theirs, y, y_hat = cases(keras)[name]
    _, expected = keras_value_and_grad(tf, theirs, y, y_hat)
    assert relative_error(ours_grad(y, y_hat), expected) <= 1e-9


def test_bce_clips_probabilities_like_keras(tf, keras):
    y, p = np.array([[1.0], [0.0], [1.0]]), np.array([[0.0], [1.0], [1.0]])
    value, grad = keras_value_and_grad(tf, keras.losses.BinaryCrossentropy(dtype="float64"), y, p)
    assert losses.binary_cross_entropy(y, p) == pytest.approx(value, rel=1e-7)
    assert losses.binary_cross_entropy(y, p) == pytest.approx(-2 * np.log(1e-7) / 3, rel=1e-6)
    np.testing.assert_array_equal(losses.binary_cross_entropy_grad(y, p), grad)  # 0 where clipped


def test_bce_epsilon_is_keras_epsilon(keras):
    assert losses.EPSILON == keras.config.epsilon()


@pytest.mark.parametrize("name", ["bce-logits", "softmax-ce-int", "softmax-ce-onehot"])
def test_extreme_logits_stay_finite_and_equal_keras(tf, keras, name):
    ours, ours_grad, theirs, y, _ = cases(keras)[name]
    z = EXTREME if name.startswith("softmax") else EXTREME[:, :2]
    y = y if name.startswith("softmax") else np.array([[1.0, 1.0], [1.0, 0.0]])
    value, grad = ours(y, z), ours_grad(y, z)
    assert np.isfinite(value) and np.isfinite(grad).all()
    expected_value, expected_grad = keras_value_and_grad(tf, theirs, y, z)
    np.testing.assert_allclose(value, expected_value, rtol=1e-7)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-9, atol=1e-15)


def test_softmax_ce_of_confident_wrong_logits_is_their_gap():
    assert losses.softmax_cross_entropy(np.array([1]), np.array([[1e4, -1e4]])) == 2e4


def test_delta_rule_for_sigmoid_and_softmax():
    y, z = np.array([[1.0], [0.0]]), np.array([[0.3], [-1.2]])
    np.testing.assert_allclose(losses.binary_cross_entropy_grad(y, z, from_logits=True),
                               (1 / (1 + np.exp(-z)) - y) / 2, rtol=1e-15)
    probs = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(losses.softmax_cross_entropy_grad(LABELS, Z),
                               (probs - np.eye(3)[LABELS]) / 2, rtol=1e-14)


# ------------------------------------------------------------------------------------------ error paths
@pytest.mark.parametrize("fn", [losses.mse, losses.mse_grad, losses.binary_cross_entropy,
                                losses.binary_cross_entropy_grad])
def test_mismatched_shapes_raise_instead_of_broadcasting(fn):
    with pytest.raises(ValueError, match=r"y has shape \(3,\) but y_hat has shape \(3, 1\)"):
        fn(np.zeros(3), np.zeros((3, 1)))


def test_empty_inputs_raise():
    with pytest.raises(ValueError, match="empty"):
        losses.mse(np.zeros((0, 1)), np.zeros((0, 1)))


@pytest.mark.parametrize("fn", [losses.softmax_cross_entropy, losses.softmax_cross_entropy_grad])
def test_softmax_ce_rejects_labels_of_wrong_shape(fn):
    with pytest.raises(ValueError, match=r"labels have shape \(2, 2\) but logits have shape \(2, 3\)"):
        fn(np.zeros((2, 2)), Z)


@pytest.mark.parametrize("labels,bad", [([0, 3], "3"), ([-1, 0], "-1"), ([0.5, 1], "0.5")])
def test_softmax_ce_rejects_labels_that_are_not_class_indices(labels, bad):
    with pytest.raises(ValueError, match=rf"integer label {bad}.* expected integers in \[0, 3\)"):
        losses.softmax_cross_entropy(np.array(labels), Z)


def test_softmax_ce_rejects_scalar_logits():
    with pytest.raises(ValueError, match=r"logits must have shape \(\.\.\., k\)"):
        losses.softmax_cross_entropy(np.array(0), np.array(1.0))
