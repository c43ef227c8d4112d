"""DP-SGD: per-example gradients equal one backward pass per example, clipping bounds every per-example norm
by C, no clipping and no noise is the ordinary mean gradient, the noise has standard deviation σC/L, and the
accountant's ε lies between the exact Gaussian-mechanism ε and the classical RDP bound."""
import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import norm

from aiaas_lib.env import import_tensorflow
from aiaas_lib.privacy import dp
from aiaas_lib.privacy.sgd import mlp_classifier

tf = import_tensorflow()

RNG = np.random.default_rng(0)
X = RNG.random((16, 28, 28, 1)).astype("float32")
Y = RNG.integers(0, 10, 16)


def _tape_gradients(model, x, y):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=model(x)))
    return [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]


def test_per_example_gradients_equal_one_backward_pass_each():
    model = mlp_classifier(hidden=6)
    grads = dp.per_example_gradients(model, X[:4], Y[:4])
    for i in range(4):
        one = _tape_gradients(model, X[i:i + 1], Y[i:i + 1])
        for g, want in zip(grads, one):
            np.testing.assert_allclose(g[i], want, rtol=1e-5, atol=1e-6)  # float32, different summation order


def test_clipping_bounds_every_per_example_norm():
    model = mlp_classifier(hidden=6)
    C = 0.05
    clipped, before = dp.clip_per_example(dp.per_example_gradients(model, X, Y), C)
    after = np.sqrt(sum(np.sum(g.reshape(len(X), -1).astype("float64") ** 2, axis=1) for g in clipped))
    assert before.max() > C  # the test means something: some gradients were larger than C
    assert np.all(after <= C * (1 + 1e-6))  # float32 rounding of the scale factor


def test_clipping_keeps_small_gradients_unchanged():
    g = [np.array([[0.3, 0.4], [3.0, 4.0]], "float32")]
    clipped, norms = dp.clip_per_example(g, 1.0)
    np.testing.assert_array_equal(clipped[0][0], g[0][0])
    np.testing.assert_allclose(clipped[0][1], [0.6, 0.8], rtol=1e-6)


def test_clip_by_l2_norm_numpy():
    np.testing.assert_allclose(dp.clip_by_l2_norm([3.0, 4.0], 2.5), [1.5, 2.0])
    np.testing.assert_array_equal(dp.clip_by_l2_norm([0.0, 0.0], 1.0), [0.0, 0.0])


def test_no_clipping_no_noise_is_the_ordinary_mean_gradient():
    model = mlp_classifier(hidden=6)
    got = dp.dp_sgd_gradient(model, X, Y, clip_norm=None, noise_multiplier=0.0)
    for g, want in zip(got, _tape_gradients(model, X, Y)):
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6)


def test_noise_has_standard_deviation_sigma_c_over_l():
    model = mlp_classifier(hidden=16)
    C, sigma, L = 0.1, 2.0, 16
    clean = dp.dp_sgd_gradient(model, X, Y, clip_norm=C, noise_multiplier=0.0)
    noisy = dp.dp_sgd_gradient(model, X, Y, clip_norm=C, noise_multiplier=sigma, seed=3)
    diff = np.concatenate([(a - b).ravel() for a, b in zip(noisy, clean)])
    # ~12,900 Gaussian values: their sample std is within ~1 % of the true one; 5 % is a safe bound
    assert diff.size > 10_000
    assert abs(diff.std() / (sigma * C / L) - 1) < 0.05 and abs(diff.mean()) < 0.05 * sigma * C / L


def test_noise_is_seeded():
    model = mlp_classifier(hidden=4)
    a, b, c = (dp.dp_sgd_gradient(model, X, Y, 0.1, 1.0, seed=s) for s in (1, 1, 2))
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_dp_training_learns_a_separable_task():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    x = rng.random((300, 28, 28, 1)).astype("float32") * 0.2
    for i, label in enumerate(y):
        x[i, 4 * label:4 * label + 4] = 1.0  # a bright band per class
    model = mlp_classifier(hidden=8)
    result = dp.train_dp_sgd(model, x, y, epochs=4, batch_size=30, lr=1.0, clip_norm=1.0, noise_multiplier=0.5)
    assert result.steps == 40 and result.sampling_rate == 0.1
    assert result.losses[-1] < result.losses[0]
    assert 0 < result.epsilon(1e-5) < math.inf


def _exact_gaussian_epsilon(sigma, delta):
    # Balle & Wang (2018): the Gaussian mechanism (sensitivity 1) is (ε, δ)-DP iff δ ≥ δ(ε) below
    def delta_of(eps):
        return norm.cdf(0.5 / sigma - eps * sigma) - math.exp(eps) * norm.cdf(-0.5 / sigma - eps * sigma)
    return brentq(lambda e: delta_of(e) - delta, 1e-9, 100)


def test_accountant_lies_between_the_exact_and_the_classical_bound():
    sigma, delta = 1.5, 1e-5
    eps = dp.dp_epsilon(1.0, sigma, 1, delta)  # q = 1, one step: one Gaussian mechanism
    classical = min(a / (2 * sigma ** 2) + math.log(1 / delta) / (a - 1) for a in np.linspace(1.01, 200, 20000))
    assert _exact_gaussian_epsilon(sigma, delta) <= eps <= classical + 1e-9


def test_epsilon_grows_with_steps_and_sampling_rate():
    base = dp.dp_epsilon(0.01, 1.1, 1000, 1e-5)
    assert dp.dp_epsilon(0.01, 1.1, 4000, 1e-5) > base
    assert dp.dp_epsilon(0.04, 1.1, 1000, 1e-5) > base


@pytest.mark.parametrize("args, match", [
    ((0.0, 1.0, 10, 1e-5), "sampling_rate=0.0 must be in"),
    ((0.1, 0.0, 10, 1e-5), "noise_multiplier=0.0 must be a number > 0"),
    ((0.1, 1.0, 0, 1e-5), "steps=0 must be an integer >= 1"),
    ((0.1, 1.0, 10, 1.0), "delta=1.0 must be in"),
])
def test_dp_epsilon_errors(args, match):
    with pytest.raises(ValueError, match=match):
        dp.dp_epsilon(*args)


def test_dp_gradient_errors():
    model = mlp_classifier(hidden=4)
    with pytest.raises(ValueError, match="needs a clip_norm"):
        dp.dp_sgd_gradient(model, X, Y, clip_norm=None, noise_multiplier=1.0)
    with pytest.raises(ValueError, match="clip_norm=0 must be a number > 0"):
        dp.dp_sgd_gradient(model, X, Y, clip_norm=0)
    with pytest.raises(ValueError, match="noise_multiplier=-1 must be a number ≥ 0"):
        dp.dp_sgd_gradient(model, X, Y, clip_norm=1.0, noise_multiplier=-1)
    with pytest.raises(ValueError, match="x has 16 rows and y 3"):
        dp.per_example_gradients(model, X, Y[:3])
    with pytest.raises(ValueError, match="sharing their first"):
        dp.clip_per_example([np.zeros((2, 3)), np.zeros((3, 3))], 1.0)


def test_train_dp_sgd_errors():
    model = mlp_classifier(hidden=4)
    with pytest.raises(ValueError, match="batch_size=17 is more than the 16 training rows"):
        dp.train_dp_sgd(model, X, Y, batch_size=17)
    with pytest.raises(ValueError, match="noise_multiplier=-0.5 must be a number ≥ 0"):
        dp.train_dp_sgd(model, X, Y, batch_size=4, noise_multiplier=-0.5)


def test_empty_poisson_samples_still_take_a_noise_step():
    # q = 1/16 over 16 rows: about a third of the 16 steps sample nobody; those steps apply noise alone
    model = mlp_classifier(hidden=4)
    before = [w.copy() for w in model.get_weights()]
    result = dp.train_dp_sgd(model, X, Y, epochs=1, batch_size=1, lr=0.1, clip_norm=1.0, noise_multiplier=1.0)
    assert result.steps == 16
    after = model.get_weights()
    assert all(np.all(np.isfinite(w)) for w in after)
    assert not np.array_equal(before[0], after[0])
