"""FGSM: the step is ε·sign(∇x L), stays within ε and inside [0, 1], raises the loss, and lowers the
accuracy of a trained classifier."""
import numpy as np
import pytest

from aiaas_lib.env import import_tensorflow
from aiaas_lib.privacy import adversarial as adv
from aiaas_lib.privacy.sgd import mlp_classifier, train_sgd

tf = import_tensorflow()

RNG = np.random.default_rng(0)
X = (RNG.random((32, 28, 28, 1)) * 0.8 + 0.1).astype("float32")  # in [0.1, 0.9]: ε ≤ 0.1 never hits a bound
Y = RNG.integers(0, 10, 32)


def _input_gradient(model, x, y):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=model(x)))
    return tape.gradient(loss, x).numpy()


def test_fgsm_is_eps_times_the_gradient_sign():
    model = mlp_classifier(hidden=8)
    x_adv = adv.fgsm(model, X, Y, eps=0.05)
    want = X + 0.05 * np.sign(_input_gradient(model, X, Y))
    np.testing.assert_allclose(x_adv, want, atol=1e-7)  # float32 addition, no clipping needed in [0.1, 0.9]


def test_fgsm_stays_within_eps_and_the_pixel_range():
    x = RNG.random((8, 28, 28, 1)).astype("float32")  # values near 0 and 1: clipping happens
    x_adv = adv.fgsm(mlp_classifier(hidden=8), x, Y[:8], eps=0.3)
    assert np.abs(x_adv - x).max() <= 0.3 + 1e-6
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0


def test_fgsm_raises_the_loss():
    model = mlp_classifier(hidden=8)
    def loss(x):
        return float(tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=Y, logits=model(x))))
    assert loss(adv.fgsm(model, X, Y, eps=0.02)) > loss(X)


def test_fgsm_with_probabilities_matches_logits():
    import keras

    logits_model = mlp_classifier(hidden=8)
    probs = keras.Sequential([logits_model, keras.layers.Softmax()])
    # the same loss either way (up to the 1e-12 guard), so the same signs
    np.testing.assert_array_equal(adv.fgsm(logits_model, X, Y, 0.05), adv.fgsm(probs, X, Y, 0.05, from_logits=False))


def test_eps_zero_returns_the_input():
    np.testing.assert_array_equal(adv.fgsm(mlp_classifier(hidden=4), X, Y, 0.0), X)


def test_accuracy_under_attack_falls_for_a_trained_model():
    y = RNG.integers(0, 3, 300)
    x = (RNG.random((300, 28, 28, 1)) * 0.3).astype("float32")
    for i, label in enumerate(y):
        x[i, 4 * label:4 * label + 4] += 0.5  # a band per class
    model = mlp_classifier(hidden=16)
    train_sgd(model, x, y, epochs=5, lr=0.2)
    result = adv.accuracy_under_attack(model, x, y, [0.0, 0.1, 0.3])
    assert result[0.0] > 0.9  # clean
    assert result[0.3] < result[0.1] < result[0.0]


def test_fgsm_perturbation_numpy():
    np.testing.assert_array_equal(adv.fgsm_perturbation([[2.0, -0.1], [0.0, 5.0]], 0.25), [[0.25, -0.25], [0.0, 0.25]])


@pytest.mark.parametrize("kwargs, match", [
    ({"eps": -0.1}, r"eps=-0.1 must be a number in \[0, 1\]"),
    ({"eps": 2}, r"eps=2 must be a number in \[0, 1\]"),
    ({"eps": 0.1, "x": X * 255}, r"scale the images to \[0, 1\] first"),
    ({"eps": 0.1, "y": Y[:3]}, "x has 32 rows and y 3"),
])
def test_fgsm_errors(kwargs, match):
    args = {"x": X, "y": Y, **kwargs}
    with pytest.raises(ValueError, match=match):
        adv.fgsm(mlp_classifier(hidden=4), args["x"], args["y"], args["eps"])


def test_accuracy_under_attack_needs_epsilons():
    with pytest.raises(ValueError, match="epsilons is empty"):
        adv.accuracy_under_attack(mlp_classifier(hidden=4), X, Y, [])
