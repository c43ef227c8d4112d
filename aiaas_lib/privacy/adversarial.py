"""Used by notebook 16.

Adversarial examples with the fast gradient sign method (Goodfellow et al., 2015).

One step in the direction that increases the loss fastest under an L∞ budget ε, then back into the valid
pixel range:

.. math:: x_\\text{adv} = \\operatorname{clip}_{[0,1]}\\big(x + \\varepsilon\\, \\operatorname{sign}(\\nabla_x L(f(x), y))\\big).

Every pixel moves by at most ε — barely visible for ε ≈ 0.05 — yet accuracy can collapse.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aiaas_lib.env import import_tensorflow


def _check_eps(eps) -> float:
    """``eps`` as a float in [0, 1], or a ValueError."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or not 0 <= eps <= 1:
        raise ValueError(f"eps={eps!r} must be a number in [0, 1] (pixels are in [0, 1])")
    return float(eps)


def fgsm_perturbation(grad, eps: float) -> np.ndarray:
    """The FGSM step for an input gradient: :math:`\\varepsilon\\,\\operatorname{sign}(g)` (0 where g is 0).

    Examples
    --------
    >>> fgsm_perturbation([0.3, -2.0, 0.0], 0.1)
    array([ 0.1, -0.1,  0. ])
    """
    return _check_eps(eps) * np.sign(np.asarray(grad, dtype="float64"))


def _input_gradient_fn(model, from_logits: bool):
    """A traced ``(x, y) -> d loss / d x`` for ``model``; cached on the model per output kind."""
    attr = f"_aiaas_input_grad_{from_logits}"
    fn = getattr(model, attr, None)
    if fn is not None:
        return fn
    tf = import_tensorflow()

    @tf.function(reduce_retracing=True)
    def fn(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = tf.cast(model(x, training=False), tf.float32)
            if from_logits:
                loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=out)
            else:
                loss = -tf.math.log(tf.gather(out, y, batch_dims=1) + 1e-12)
            total = tf.reduce_sum(loss)  # inside the tape: each example's loss depends only on its own image
        return tape.gradient(total, x)

    setattr(model, attr, fn)
    return fn


def fgsm(model, x, y, eps: float, from_logits: bool = True, batch_size: int = 256) -> np.ndarray:
    """FGSM adversarial versions of images ``x`` (float in [0, 1]) with true labels ``y``.

    Parameters
    ----------
    model : keras.Model
        A classifier returning logits (``from_logits=True``) or probabilities.
    eps : float
        The L∞ budget: every pixel moves by at most ``eps`` (then clipped to [0, 1]).

    Returns
    -------
    numpy array like ``x`` (float32)

    Examples
    --------
    >>> from aiaas_lib.privacy.sgd import mlp_classifier
    >>> x = np.full((2, 28, 28, 1), 0.5, "float32")
    >>> x_adv = fgsm(mlp_classifier(hidden=4), x, [0, 1], eps=0.1)
    >>> float(np.abs(x_adv - x).max()) <= 0.1 + 1e-6, float(x_adv.min()) >= 0.0
    (True, True)
    """
    tf = import_tensorflow()
    eps = _check_eps(eps)
    x, y = np.asarray(x, "float32"), np.asarray(y, "int32")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x has {len(x)} rows and y {len(y)}; give the same, non-zero number of each")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"x has values in [{x.min():g}, {x.max():g}]; scale the images to [0, 1] first")
    if eps == 0:
        return x.copy()
    fn = _input_gradient_fn(model, bool(from_logits))
    out = []
    for i in range(0, len(x), batch_size):
        grad = fn(tf.constant(x[i:i + batch_size]), tf.constant(y[i:i + batch_size])).numpy()
        out.append(np.clip(x[i:i + batch_size] + eps * np.sign(grad), 0.0, 1.0).astype("float32"))
    return np.concatenate(out)


def accuracy_under_attack(model, x, y, epsilons: Sequence[float], from_logits: bool = True) -> dict[float, float]:
    """The accuracy on FGSM examples for each ε (ε = 0: the clean accuracy).

    Examples
    --------
    >>> from aiaas_lib.privacy.sgd import mlp_classifier
    >>> x = np.random.default_rng(0).random((8, 28, 28, 1)).astype("float32")
    >>> sorted(accuracy_under_attack(mlp_classifier(hidden=4), x, np.arange(8), [0.0, 0.1]))
    [0.0, 0.1]
    """
    if len(epsilons) == 0:
        raise ValueError("epsilons is empty; give at least one ε, e.g. [0.0, 0.05, 0.1]")
    y = np.asarray(y)
    result = {}
    for eps in epsilons:
        x_adv = fgsm(model, x, y, eps, from_logits=from_logits)
        pred = np.concatenate([np.argmax(np.asarray(model(x_adv[i:i + 512], training=False)), axis=1)
                               for i in range(0, len(x_adv), 512)])
        result[float(eps)] = float(np.mean(pred == y))
    return result
