"""aiaas_lib.numpy_nn.layers: Dense/MLP backprop against tf.GradientTape and finite differences.

Tolerances. Against TensorFlow (same weights, float64 Keras layers) the gradients agree to rounding:
relative error <= 1e-9 (observed ~1e-15). Against central differences (eps=1e-6) the truncation and
rounding error is ~1e-10 relative, so <= 1e-6 leaves a wide margin. Keras' L1L2 regularizer casts its
factors through float32 (``ops.cast(0.01, "float64")`` goes via a float32 tensor), so the penalty test
uses factors that float32 holds exactly (powers of two).
"""
import numpy as np
import pytest

from aiaas_lib.numpy_nn import MLP, Dense, gradcheck

N_CONFIGS = 20
HIDDEN = ("relu", "tanh", "sigmoid")
OUTPUT = (None, "sigmoid", "softmax")


@pytest.fixture(scope="module")
def tf():
    from aiaas_lib.env import import_tensorflow

    return import_tensorflow()


def random_config(seed: int) -> dict:
    """A random MLP: depth 1-4 dense layers, widths 1-32, a hidden and an output activation, batch 1-16."""
    rng = np.random.default_rng(seed)
    depth = int(rng.integers(1, 5))
    output = OUTPUT[seed % 3]
    n_out = int(rng.integers(2, 6)) if output == "softmax" else int(rng.integers(1, 4))
    sizes = [int(w) for w in rng.integers(1, 33, size=depth)] + [n_out]
    batch = int(rng.integers(1, 17))
    return dict(sizes=sizes, activation=HIDDEN[(seed // 3) % 3], output=output, batch=batch)


def keras_twin(model: MLP, l1: float = 0.0, l2: float = 0.0):
    """The same network in Keras, float64, with ``model``'s weights."""
    import keras

    reg = keras.regularizers.L1L2(l1, l2) if (l1 or l2) else None
    acts = [model.activation] * (len(model.layers) - 1) + [model.output]
    layers = [keras.layers.Dense(L.n_out, activation=a, dtype="float64", kernel_regularizer=reg)
              for L, a in zip(model.layers, acts)]
    twin = keras.Sequential([keras.Input((model.sizes[0],), dtype="float64"), *layers])
    twin.set_weights(model.params)
    return twin


def case(seed: int):
    cfg = random_config(seed)
    model = MLP(cfg["sizes"], activation=cfg["activation"], output=cfg["output"], seed=seed)
    rng = np.random.default_rng(1000 + seed)
    X = rng.normal(size=(cfg["batch"], cfg["sizes"][0]))
    upstream = rng.normal(size=(cfg["batch"], cfg["sizes"][-1]))  # dL/dy_hat for L = sum(y_hat * upstream)
    return model, X, upstream


def config_id(seed: int) -> str:
    c = random_config(seed)
    sizes = "x".join(map(str, c["sizes"]))
    return f"{seed}-{sizes}-{c['activation']}-{c['output'] or 'linear'}-n{c['batch']}"


SEEDS = [pytest.param(s, id=config_id(s)) for s in range(N_CONFIGS)]


@pytest.mark.parametrize("seed", SEEDS)
def test_backward_matches_gradient_tape(tf, seed):
    model, X, upstream = case(seed)
    twin = keras_twin(model)
    model.forward(X)
    dX = model.backward(upstream)
    X_tf = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(X_tf)
        loss = tf.reduce_sum(twin(X_tf) * upstream)
    *expected, expected_dX = tape.gradient(loss, [*twin.trainable_variables, X_tf])
    for ours, theirs in zip([*model.grads, dX], [*expected, expected_dX]):
        assert gradcheck.relative_error(ours, theirs.numpy()) <= 1e-9


@pytest.mark.parametrize("seed", SEEDS)
def test_forward_matches_keras(seed):
    model, X, _ = case(seed)
    np.testing.assert_allclose(model.forward(X), keras_twin(model)(X).numpy(), rtol=1e-12, atol=1e-14)


def away_from_relu_kinks(model: MLP, X: np.ndarray, seed: int) -> np.ndarray:
    """Redraw X until no hidden pre-activation is within 1e-4 of relu's kink at 0.

    Central differences are wrong when a nudge x ± eps carries a pre-activation across the kink; a nudge
    of 1e-6 moves any z by far less than 1e-4 in these small networks.
    """
    rng = np.random.default_rng(2000 + seed)
    while True:
        model.forward(X)
        hidden_z = [np.abs(L.logits).min() for L in model.layers[:-1]]
        if model.activation != "relu" or min(hidden_z, default=1.0) > 1e-4:
            return X
        X = rng.normal(size=X.shape)


@pytest.mark.parametrize("seed", SEEDS)
def test_backward_matches_finite_differences(seed):
    model, X, upstream = case(seed)
    X = away_from_relu_kinks(model, X, seed)
    model.forward(X)
    model.backward(upstream)

    def loss(_):
        return float(np.sum(model.forward(X) * upstream))

    for p, g in zip(model.params, model.grads):
        assert gradcheck.relative_error(g, gradcheck.numerical_gradient(loss, p)) <= 1e-6


@pytest.mark.parametrize("output,y", [
    (None, np.array([[0.5, -1.0], [2.0, 0.0], [1.0, 1.0]])),
    ("sigmoid", np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])),
    ("softmax", np.array([1, 0, 1])),
])
def test_loss_and_grad_matches_keras_loss_with_penalty(tf, output, y):
    import keras

    l1, l2 = 2.0**-7, 2.0**-5
    model = MLP([4, 5, 2], activation="tanh", output=output, seed=3, l1=l1, l2=l2)
    X = np.random.default_rng(3).normal(size=(3, 4))
    twin = keras_twin(model, l1=l1, l2=l2)
    keras_loss = {None: keras.losses.MeanSquaredError, "sigmoid": keras.losses.BinaryCrossentropy,
                  "softmax": keras.losses.SparseCategoricalCrossentropy}[output](dtype="float64")
    loss = model.loss_and_grad(X, y)
    with tf.GradientTape() as tape:
        expected = keras_loss(y, twin(X)) + tf.add_n(twin.losses)
    assert loss == pytest.approx(float(expected), rel=1e-12)
    for ours, theirs in zip(model.grads, tape.gradient(expected, twin.trainable_variables)):
        assert gradcheck.relative_error(ours, theirs.numpy()) <= 1e-9


def test_softmax_delta_rule_equals_backward_through_softmax():
    model = MLP([3, 4], output="softmax", seed=0)
    X, y = np.random.default_rng(0).normal(size=(5, 3)), np.array([0, 1, 2, 3, 0])
    model.loss_and_grad(X, y)
    via_delta = [g.copy() for g in model.grads]
    y_hat = model.forward(X)
    model.backward(-np.eye(4)[y] / y_hat / len(y))  # dL/dy_hat of -mean(log y_hat[y]), through the Jacobian
    for a, b in zip(via_delta, model.grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_penalty_is_l1_plus_l2_of_weights_only():
    model = MLP([2, 2, 1], l1=0.5, l2=0.25, seed=0)
    model.set_params([np.array([[1.0, -2.0], [0.0, 3.0]]), np.array([9.0, 9.0]),
                      np.array([[-1.0], [1.0]]), np.array([9.0])])
    assert model.penalty() == 0.5 * (6 + 2) + 0.25 * (14 + 2)


def test_glorot_uniform_init_bounds_and_zero_biases():
    layer = Dense(300, 200, seed=0)
    limit = np.sqrt(6 / 500)
    assert np.abs(layer.W).max() <= limit
    assert layer.W.var() == pytest.approx(limit**2 / 3, rel=0.02)  # variance of U(-a, a) is a²/3
    assert not layer.b.any()


def test_same_seed_same_weights_different_seed_different_weights():
    a, b, c = (MLP([3, 4, 2], seed=s) for s in (1, 1, 2))
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params))
    assert not np.array_equal(a.params[0], c.params[0])


def test_params_and_grads_are_w_then_b_per_layer():
    model = MLP([3, 4, 2], seed=0)
    assert [p.shape for p in model.params] == [(3, 4), (4,), (4, 2), (2,)]
    assert [g.shape for g in model.grads] == [(3, 4), (4,), (4, 2), (2,)]


def test_set_params_copies_in_place():
    model = MLP([2, 1], seed=0)
    W = model.params[0]
    model.set_params([np.ones((2, 1)), np.zeros(1)])
    assert W is model.params[0] and W.tolist() == [[1.0], [1.0]]


def test_forward_is_vectorised_over_the_batch():
    model = MLP([3, 5, 2], activation="tanh", output="softmax", seed=0)
    X = np.random.default_rng(0).normal(size=(6, 3))
    rows = np.vstack([model.forward(X[i:i + 1]) for i in range(6)])
    np.testing.assert_allclose(model.forward(X), rows, rtol=1e-14)


# ------------------------------------------------------------------------------------------ error paths
def test_set_params_rejects_wrong_count():
    with pytest.raises(ValueError, match="got 1 arrays; this MLP has 2 parameters"):
        MLP([2, 1], seed=0).set_params([np.ones((2, 1))])


def test_set_params_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"array 0 has shape \(1, 2\); parameter 0 has shape \(2, 1\)"):
        MLP([2, 1], seed=0).set_params([np.ones((1, 2)), np.zeros(1)])


def test_forward_rejects_wrong_width():
    with pytest.raises(ValueError, match=r"X has shape \(4, 2\); expected \(n, 3\)"):
        MLP([3, 1], seed=0).forward(np.ones((4, 2)))


def test_backward_rejects_wrong_gradient_shape():
    model = MLP([3, 2], seed=0)
    model.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"gradient has shape \(4, 1\); expected the output shape \(4, 2\)"):
        model.backward(np.ones((4, 1)))


def test_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match="call forward"):
        Dense(2, 2, seed=0).backward(np.ones((1, 2)))


def test_unknown_hidden_activation_raises():
    with pytest.raises(ValueError, match="Unknown activation 'gelu'"):
        MLP([2, 2, 1], activation="gelu")


def test_unknown_output_activation_raises():
    with pytest.raises(ValueError, match=r"Unknown output activation 'relu'; expected one of \[None"):
        MLP([2, 1], output="relu")


@pytest.mark.parametrize("sizes", [[3], "32", [3, 0], [3, 2.5]])
def test_bad_sizes_raise(sizes):
    with pytest.raises(ValueError, match="sizes"):
        MLP(sizes)


@pytest.mark.parametrize("name", ["l1", "l2"])
def test_negative_penalty_raises(name):
    with pytest.raises(ValueError, match=rf"{name}=-0.1 must be a number >= 0"):
        MLP([2, 1], **{name: -0.1})


def test_loss_and_grad_rejects_broadcasting_labels():
    with pytest.raises(ValueError, match=r"y has shape \(4,\) but y_hat has shape \(4, 1\)"):
        MLP([2, 1], seed=0).loss_and_grad(np.ones((4, 2)), np.ones(4))
