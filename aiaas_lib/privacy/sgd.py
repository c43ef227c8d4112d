"""Used by notebook 16.

The small pieces the privacy notebook's experiments share: a tiny image classifier, plain minibatch SGD
written out (so federated and DP training can change one step of it), and accuracy.

Plain SGD (:math:`w \\leftarrow w - \\eta\\, \\bar g`) keeps no optimizer state, so a model can be handed from
one client to the next, or from the server to a client, by its weights alone.
"""
from __future__ import annotations

import numpy as np

from aiaas_lib.env import import_tensorflow
from aiaas_lib.validation import positive_int, positive_number


def as_images(x) -> np.ndarray:
    """uint8 (n, 28, 28) or float images as float32 (n, 28, 28, 1) in [0, 1].

    Examples
    --------
    >>> as_images(np.full((2, 28, 28), 255, np.uint8)).max(), as_images(np.zeros((2, 28, 28))).shape
    (np.float32(1.0), (2, 28, 28, 1))
    """
    x = np.asarray(x)
    scaled = x.astype("float32") / 255.0 if x.dtype == np.uint8 else x.astype("float32")
    return scaled[..., None] if scaled.ndim == 3 else scaled


def mlp_classifier(hidden: int = 64, num_classes: int = 10, seed: int = 0, name: str = "mlp"):
    """A tiny classifier for 28×28 grey images: Flatten → Dense(``hidden``, ReLU) → Dense(``num_classes``)
    logits. Small enough that per-example gradients (DP-SGD) and dozens of simulated clients stay cheap.
    (Named apart from :func:`aiaas_lib.vision.image_classifier`, the CNN head of notebooks 06–07.)

    The same ``seed`` gives the same initial weights, so several runs start from one point.

    Examples
    --------
    >>> model = mlp_classifier(hidden=8)
    >>> model(np.zeros((3, 28, 28, 1), "float32")).shape, model.count_params()
    (TensorShape([3, 10]), 6370)
    """
    import_tensorflow()
    import keras

    hidden, num_classes = positive_int("hidden", hidden), positive_int("num_classes", num_classes)
    keras.utils.set_random_seed(int(seed))
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1), name="image"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(hidden, activation="relu", name="hidden"),
        keras.layers.Dense(num_classes, name="logits"),
    ], name=name)


def _sgd_step(model):
    """A traced step ``(x, y, lr, weight_decay) -> mean loss`` applying plain SGD to ``model``; cached on it."""
    step = getattr(model, "_aiaas_sgd_step", None)
    if step is not None:
        return step
    tf = import_tensorflow()

    @tf.function(reduce_retracing=True)
    def step(x, y, lr, weight_decay):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        grads = tape.gradient(loss, model.trainable_variables)
        for var, grad in zip(model.trainable_variables, grads):
            var.assign_sub(lr * (grad + weight_decay * var))
        return loss

    model._aiaas_sgd_step = step
    return step


def batches(n: int, batch_size: int, rng: np.random.Generator):
    """Shuffled index batches covering ``range(n)`` once (the last one may be smaller).

    Examples
    --------
    >>> [b.tolist() for b in batches(5, 2, np.random.default_rng(0))]
    [[2, 4], [3, 0], [1]]
    """
    order = rng.permutation(int(n))
    return [order[i:i + batch_size] for i in range(0, int(n), int(batch_size))]


def train_sgd(model, x, y, epochs: int = 1, batch_size: int = 32, lr: float = 0.1, seed: int = 0,
              weight_decay: float = 0.0) -> float:
    """Train ``model`` (logits output) in place with plain minibatch SGD on softmax cross-entropy; return
    the mean loss of the last epoch. ``weight_decay`` λ adds L2 regularisation: the step is
    :math:`w \\leftarrow w - \\eta\\,(\\bar g + \\lambda w)`, i.e. the gradient of the loss plus
    :math:`\\tfrac{\\lambda}{2}\\lVert w\\rVert^2` (every trainable variable, biases too).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.random((64, 28, 28, 1)).astype("float32"), rng.integers(0, 10, 64)
    >>> model = mlp_classifier(hidden=8)
    >>> first = train_sgd(model, x, y, epochs=1, lr=0.05)
    >>> last = train_sgd(model, x, y, epochs=5, lr=0.05)
    >>> bool(last < first)
    True
    """
    tf = import_tensorflow()
    epochs, batch_size = positive_int("epochs", epochs), positive_int("batch_size", batch_size)
    lr = positive_number("lr", lr)
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) or not weight_decay >= 0:
        raise ValueError(f"weight_decay={weight_decay!r} must be a number ≥ 0")
    x, y = np.asarray(x, "float32"), np.asarray(y, "int32")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x has {len(x)} rows and y {len(y)}; give the same, non-zero number of each")
    step, rng = _sgd_step(model), np.random.default_rng(seed)
    lr_t, wd_t = tf.constant(lr, tf.float32), tf.constant(float(weight_decay), tf.float32)
    losses = []
    for _ in range(epochs):
        losses = [float(step(x[idx], y[idx], lr_t, wd_t)) * len(idx) for idx in batches(len(x), batch_size, rng)]
    return sum(losses) / len(x)


def accuracy(model, x, y, batch_size: int = 1024) -> float:
    """The fraction of rows whose largest logit is the true class.

    Examples
    --------
    >>> model = mlp_classifier(hidden=8)
    >>> acc = accuracy(model, np.zeros((4, 28, 28, 1), "float32"), [0, 1, 2, 3])
    >>> 0.0 <= acc <= 1.0
    True
    """
    x, y = np.asarray(x, "float32"), np.asarray(y)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x has {len(x)} rows and y {len(y)}; give the same, non-zero number of each")
    pred = np.concatenate([np.argmax(np.asarray(model(x[i:i + batch_size], training=False)), axis=1)
                           for i in range(0, len(x), batch_size)])
    return float(np.mean(pred == y))
