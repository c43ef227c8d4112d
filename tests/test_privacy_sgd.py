"""The shared pieces: the tiny classifier, plain SGD (with weight decay) and accuracy."""
import numpy as np
import pytest

from aiaas_lib.privacy import sgd

RNG = np.random.default_rng(0)
X = RNG.random((20, 28, 28, 1)).astype("float32")
Y = RNG.integers(0, 10, 20)


def test_same_seed_same_initial_weights():
    a, b = sgd.mlp_classifier(hidden=4, seed=3), sgd.mlp_classifier(hidden=4, seed=3)
    assert all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights()))


def test_one_full_batch_step_is_w_minus_lr_times_gradient():
    from aiaas_lib.env import import_tensorflow

    tf = import_tensorflow()
    model = sgd.mlp_classifier(hidden=4)
    before = [w.copy() for w in model.get_weights()]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=Y, logits=model(X)))
    grads = [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]
    sgd.train_sgd(model, X, Y, epochs=1, batch_size=20, lr=0.5, weight_decay=0.1)
    for w0, g, w1 in zip(before, grads, model.get_weights()):
        np.testing.assert_allclose(w1, w0 - 0.5 * (g + 0.1 * w0), atol=1e-6)  # float32 arithmetic


def test_accuracy_counts_argmax_hits():
    model = sgd.mlp_classifier(hidden=4)
    pred = np.argmax(np.asarray(model(X)), axis=1)
    assert sgd.accuracy(model, X, pred) == 1.0 and sgd.accuracy(model, X, (pred + 1) % 10) == 0.0


@pytest.mark.parametrize("kwargs, match", [
    ({"epochs": 0}, "epochs=0 must be an integer >= 1"),
    ({"batch_size": 1.5}, "batch_size=1.5 must be an integer >= 1"),
    ({"lr": 0}, "lr=0 must be a number > 0"),
    ({"weight_decay": -0.1}, "weight_decay=-0.1 must be a number ≥ 0"),
])
def test_train_sgd_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sgd.train_sgd(sgd.mlp_classifier(hidden=4), X, Y, **kwargs)


def test_length_mismatch_errors():
    model = sgd.mlp_classifier(hidden=4)
    with pytest.raises(ValueError, match="x has 20 rows and y 3"):
        sgd.train_sgd(model, X, Y[:3])
    with pytest.raises(ValueError, match="x has 20 rows and y 3"):
        sgd.accuracy(model, X, Y[:3])


def test_image_classifier_errors():
    with pytest.raises(ValueError, match="hidden=0 must be an integer >= 1"):
        sgd.mlp_classifier(hidden=0)
