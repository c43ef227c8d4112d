"""Used by notebook 16.

DP-SGD (Abadi et al., 2016): bound what any one example can do to a training step, then hide it in noise.

For a (Poisson-sampled) batch :math:`B` with expected size :math:`L`, each example's gradient is clipped to
L2 norm at most :math:`C`, the clipped gradients are summed, Gaussian noise of standard deviation
:math:`\\sigma C` is added, and the sum is divided by :math:`L`:

.. math:: \\bar g_i = g_i \\min\\Big(1, \\frac{C}{\\lVert g_i \\rVert_2}\\Big), \\qquad
          \\tilde g = \\frac{1}{L}\\Big(\\sum_{i \\in B} \\bar g_i + \\mathcal N(0, \\sigma^2 C^2 I)\\Big).

Adding or removing one example changes the sum by at most :math:`C`, and the noise hides a change of that
size. :func:`dp_epsilon` turns (sampling rate q, noise multiplier σ, steps, δ) into the ε of
(ε, δ)-differential privacy with the Rényi-DP accountant of Google's ``dp-accounting`` package.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from aiaas_lib.env import import_tensorflow
from aiaas_lib.validation import positive_int, positive_number


def clip_by_l2_norm(g, clip_norm: float) -> np.ndarray:
    """Scale one gradient vector so that its L2 norm is at most ``clip_norm``: :math:`g\\min(1, C/\\lVert g\\rVert)`.

    Examples
    --------
    >>> clip_by_l2_norm([3.0, 4.0], 1.0), clip_by_l2_norm([0.3, 0.4], 1.0)
    (array([0.6, 0.8]), array([0.3, 0.4]))
    """
    clip_norm = positive_number("clip_norm", clip_norm)
    g = np.asarray(g, dtype="float64")
    norm = float(np.sqrt(np.sum(g * g)))
    return g * (clip_norm / max(norm, clip_norm))


def _per_example_norms(grads):
    """The L2 norm of each example's whole gradient (all tensors together): shape (n,)."""
    tf = import_tensorflow()
    squares = [tf.reduce_sum(tf.reshape(g, [tf.shape(g)[0], -1]) ** 2, axis=1) for g in grads]
    return tf.sqrt(tf.add_n(squares))


def _clip(grads, clip_norm):
    """Clip every example's gradient to L2 norm ≤ ``clip_norm``; return (clipped, norms before)."""
    tf = import_tensorflow()
    norms = _per_example_norms(grads)
    factor = tf.where(norms > clip_norm, clip_norm / norms, tf.ones_like(norms))  # min(1, C/norm); C = inf: 1
    clipped = [g * tf.reshape(factor, [-1] + [1] * (len(g.shape) - 1)) for g in grads]
    return clipped, norms


def clip_per_example(per_example_grads, clip_norm: float) -> tuple[list[np.ndarray], np.ndarray]:
    """Clip each example's gradient (across all its tensors) to L2 norm ≤ ``clip_norm``.

    Parameters
    ----------
    per_example_grads : list of arrays, each (n, *tensor shape)
        As from :func:`per_example_gradients`.

    Returns
    -------
    (clipped gradients, norms before clipping)

    Examples
    --------
    >>> clipped, norms = clip_per_example([np.array([[3.0, 4.0], [0.3, 0.4]], "float32")], 1.0)
    >>> clipped[0].round(3), norms.round(3)
    (array([[0.6, 0.8],
           [0.3, 0.4]], dtype=float32), array([5. , 0.5], dtype=float32))
    """
    tf = import_tensorflow()
    clip_norm = positive_number("clip_norm", clip_norm)
    grads = [tf.convert_to_tensor(g, tf.float32) for g in per_example_grads]
    if not grads or len({int(g.shape[0]) for g in grads}) != 1:
        raise ValueError("per_example_grads must be a non-empty list of arrays sharing their first (example) axis")
    clipped, norms = _clip(grads, tf.constant(clip_norm, tf.float32))
    return [c.numpy() for c in clipped], norms.numpy()


def _signature(model) -> dict:
    """tf.function options tracing once for any batch size (a fixed signature when the input shape is known)."""
    tf = import_tensorflow()
    try:
        shape = [None, *model.inputs[0].shape[1:]]
    except (AttributeError, IndexError, ValueError):  # a subclassed model without known inputs
        return {"reduce_retracing": True}
    return {"input_signature": (tf.TensorSpec(shape, tf.float32), tf.TensorSpec([None], tf.int32))}


def _jacobian_fn(model):
    """A traced ``(x, y) -> [per-example gradient per variable]``; cached on the model."""
    fn = getattr(model, "_aiaas_per_example", None)
    if fn is not None:
        return fn
    tf = import_tensorflow()

    def one(example):
        x1, y1 = example
        with tf.GradientTape() as tape:
            logits = model(x1[None], training=True)  # a batch of one
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y1[None], logits=logits)
        return tape.gradient(loss, model.trainable_variables)

    @tf.function(**_signature(model))
    def fn(x, y):
        # one backward pass per example, vectorized by pfor into batched ops (not a Python loop)
        return tf.vectorized_map(one, (x, y))

    model._aiaas_per_example = fn
    return fn


def per_example_gradients(model, x, y) -> list[np.ndarray]:
    """Each example's gradient of its softmax cross-entropy loss w.r.t. every trainable variable.

    The gradient of one example is written for a batch of one and ``tf.vectorized_map`` turns it into batched
    operations (about 14× faster here than ``tape.jacobian`` of the loss vector, and far faster than a Python
    loop). The model must treat examples independently (no BatchNormalization in training mode).

    Returns
    -------
    list of arrays, one per ``model.trainable_variables``, each (n, *variable shape)

    Examples
    --------
    >>> from aiaas_lib.privacy.sgd import mlp_classifier
    >>> model = mlp_classifier(hidden=4)
    >>> grads = per_example_gradients(model, np.zeros((3, 28, 28, 1), "float32"), [0, 1, 2])
    >>> [g.shape for g in grads]
    [(3, 784, 4), (3, 4), (3, 4, 10), (3, 10)]
    """
    tf = import_tensorflow()
    x, y = np.asarray(x, "float32"), np.asarray(y, "int32")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x has {len(x)} rows and y {len(y)}; give the same, non-zero number of each")
    return [g.numpy() for g in _jacobian_fn(model)(tf.constant(x), tf.constant(y))]


def _dp_gradient_fn(model):
    """A traced ``(x, y, C, sigma, denominator, seed) -> (noisy mean gradient, per-example norms)``."""
    fn = getattr(model, "_aiaas_dp_gradient", None)
    if fn is not None:
        return fn
    tf = import_tensorflow()
    jac = _jacobian_fn(model)

    def fn(x, y, clip_norm, noise_multiplier, denominator, seed):
        clipped, norms = _clip(jac(x, y), clip_norm)
        stddev = tf.where(noise_multiplier > 0, noise_multiplier * clip_norm, 0.0)  # no 0 · inf when unclipped
        out = []
        for i, g in enumerate(clipped):
            noise = tf.random.stateless_normal(tf.shape(g)[1:], seed=seed + [0, i], stddev=stddev)
            out.append((tf.reduce_sum(g, axis=0) + noise) / denominator)
        return out, norms

    def step(x, y, clip_norm, noise_multiplier, denominator, seed, lr):
        """One DP-SGD update in place; returns (summed loss before it, per-example norms)."""
        logits = model(x, training=False)
        loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        grads, norms = fn(x, y, clip_norm, noise_multiplier, denominator, seed)
        for var, g in zip(model.trainable_variables, grads):
            var.assign_sub(lr * g)
        return loss, norms

    scalar = tf.TensorSpec([], tf.float32)
    signature = _signature(model).get("input_signature")
    specs = None if signature is None else (*signature, scalar, scalar, scalar, tf.TensorSpec([2], tf.int32))
    traced = tf.function(fn, input_signature=specs, reduce_retracing=signature is None)
    model._aiaas_dp_step = tf.function(step, input_signature=None if specs is None else (*specs, scalar),
                                       reduce_retracing=signature is None)
    model._aiaas_dp_gradient = traced
    return traced


def dp_sgd_gradient(model, x, y, clip_norm: float | None, noise_multiplier: float = 0.0, seed: int = 0,
                    expected_batch_size: int | None = None) -> list[np.ndarray]:
    """One DP-SGD gradient: per-example gradients clipped to ``clip_norm``, summed, plus
    :math:`\\mathcal N(0, \\sigma^2 C^2)` noise, divided by ``expected_batch_size`` (default: the batch's size).

    ``clip_norm=None`` skips clipping (then ``noise_multiplier`` must be 0): the ordinary mean gradient.

    Examples
    --------
    >>> from aiaas_lib.privacy.sgd import mlp_classifier
    >>> model = mlp_classifier(hidden=4)
    >>> x, y = np.random.default_rng(0).random((8, 28, 28, 1)).astype("float32"), np.arange(8)
    >>> g = dp_sgd_gradient(model, x, y, clip_norm=0.1, noise_multiplier=0.0)
    >>> total = np.sqrt(sum(float(np.sum(t ** 2)) for t in g))
    >>> bool(total <= 0.1 + 1e-6)  # the mean of vectors of norm ≤ C has norm ≤ C
    True
    """
    tf = import_tensorflow()
    x, y = np.asarray(x, "float32"), np.asarray(y, "int32")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x has {len(x)} rows and y {len(y)}; give the same, non-zero number of each")
    if clip_norm is None:
        if noise_multiplier:
            raise ValueError(f"noise_multiplier={noise_multiplier!r} needs a clip_norm: the noise is σ·C")
        clip = np.inf
    else:
        clip = positive_number("clip_norm", clip_norm)
    if isinstance(noise_multiplier, bool) or not noise_multiplier >= 0:
        raise ValueError(f"noise_multiplier={noise_multiplier!r} must be a number ≥ 0")
    denominator = len(x) if expected_batch_size is None else positive_int("expected_batch_size", expected_batch_size)
    grads, _ = _dp_gradient_fn(model)(tf.constant(x), tf.constant(y), tf.constant(clip, tf.float32),
                                      tf.constant(float(noise_multiplier), tf.float32),
                                      tf.constant(float(denominator), tf.float32), tf.constant([int(seed), 0], tf.int32))
    return [g.numpy() for g in grads]


@dataclass
class DPResult:
    """What :func:`train_dp_sgd` did: sampling rate, steps, noise, and the mean loss and the median
    per-example gradient norm (before clipping) of each epoch."""

    sampling_rate: float
    steps: int
    noise_multiplier: float
    clip_norm: float
    losses: list[float] = field(default_factory=list)
    median_norms: list[float] = field(default_factory=list)

    def epsilon(self, delta: float) -> float:
        """The ε of this run for ``delta`` (:func:`dp_epsilon`; ∞ without noise)."""
        if self.noise_multiplier == 0:
            return float("inf")
        return dp_epsilon(self.sampling_rate, self.noise_multiplier, self.steps, delta)


def train_dp_sgd(model, x, y, epochs: int = 1, batch_size: int = 64, lr: float = 0.1, clip_norm: float = 1.0,
                 noise_multiplier: float = 1.0, seed: int = 0) -> DPResult:
    """Train ``model`` (logits output) in place with DP-SGD.

    Every step draws a **Poisson** sample — each example joins with probability ``q = batch_size / n`` —
    which is what the accountant assumes; there are ``round(epochs / q)`` steps. Each step applies
    :math:`w \\leftarrow w - \\eta\\, \\tilde g` with :math:`\\tilde g` from :func:`dp_sgd_gradient`
    (divided by the expected batch size ``batch_size``).

    Examples
    --------
    >>> from aiaas_lib.privacy.sgd import mlp_classifier
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.random((64, 28, 28, 1)).astype("float32"), rng.integers(0, 10, 64)
    >>> result = train_dp_sgd(mlp_classifier(hidden=4), x, y, epochs=1, batch_size=16, noise_multiplier=1.0)
    >>> result.steps, result.sampling_rate
    (4, 0.25)
    """
    tf = import_tensorflow()
    epochs, batch_size = positive_int("epochs", epochs), positive_int("batch_size", batch_size)
    lr, clip = positive_number("lr", lr), positive_number("clip_norm", clip_norm)
    if isinstance(noise_multiplier, bool) or not noise_multiplier >= 0:
        raise ValueError(f"noise_multiplier={noise_multiplier!r} must be a number ≥ 0")
    x, y = np.asarray(x, "float32"), np.asarray(y, "int32")
    n = len(y)
    if len(x) != n or n == 0:
        raise ValueError(f"x has {len(x)} rows and y {n}; give the same, non-zero number of each")
    if batch_size > n:
        raise ValueError(f"batch_size={batch_size} is more than the {n} training rows")
    q = batch_size / n
    steps_per_epoch = max(1, round(1 / q))
    result = DPResult(q, epochs * steps_per_epoch, float(noise_multiplier), clip)
    _dp_gradient_fn(model)
    dp_step, rng = model._aiaas_dp_step, np.random.default_rng(seed)
    consts = (tf.constant(clip, tf.float32), tf.constant(float(noise_multiplier), tf.float32),
              tf.constant(float(batch_size), tf.float32))
    step, lr_t = 0, tf.constant(lr, tf.float32)
    for _ in range(epochs):
        losses, norms = [], []
        for _ in range(steps_per_epoch):
            idx = np.flatnonzero(rng.random(n) < q)
            if len(idx) == 0:  # an empty Poisson sample: the update is the noise alone
                stddev = float(noise_multiplier) * clip / batch_size
                for var in model.trainable_variables:
                    var.assign_sub(lr * tf.random.stateless_normal(var.shape, seed=[seed, step], stddev=stddev))
            else:
                loss, step_norms = dp_step(x[idx], y[idx], *consts, tf.constant([seed, step], tf.int32), lr_t)
                norms.append(step_norms.numpy())
                losses.append(float(loss))
            step += 1
        seen = sum(len(v) for v in norms)
        result.losses.append(sum(losses) / max(seen, 1))
        result.median_norms.append(float(np.median(np.concatenate(norms))) if norms else float("nan"))
    return result


def dp_epsilon(sampling_rate: float, noise_multiplier: float, steps: int, delta: float) -> float:
    """The ε of (ε, δ)-DP after ``steps`` DP-SGD steps with Poisson sampling rate ``q`` and noise
    multiplier σ, from the Rényi-DP accountant of ``dp-accounting`` (Google's maintained package).

    The event: a Gaussian mechanism with noise σ (sensitivity 1 after clipping), applied to a Poisson
    sample with rate q, composed ``steps`` times.

    Examples
    --------
    >>> eps = [dp_epsilon(0.01, sigma, 1000, 1e-5) for sigma in (0.8, 1.1, 2.0)]
    >>> eps[0] > eps[1] > eps[2] > 0  # more noise, smaller ε (more privacy)
    True
    """
    import dp_accounting

    if isinstance(sampling_rate, bool) or not 0 < sampling_rate <= 1:
        raise ValueError(f"sampling_rate={sampling_rate!r} must be in (0, 1]")
    sigma = positive_number("noise_multiplier", noise_multiplier)
    steps = positive_int("steps", steps)
    if isinstance(delta, bool) or not 0 < delta < 1:
        raise ValueError(f"delta={delta!r} must be in (0, 1); pick it below 1/n (e.g. 1e-5)")
    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(float(sampling_rate), dp_accounting.GaussianDpEvent(sigma)), steps)
    # for small σ some Rényi orders do not converge; the accountant skips them and says so on absl's WARNING
    # log (harmless: ε is the minimum over the remaining orders), so that log is raised to ERROR meanwhile
    absl_log = logging.getLogger("absl")
    level = absl_log.level
    absl_log.setLevel(logging.ERROR)
    try:
        accountant = dp_accounting.rdp.RdpAccountant()
        accountant.compose(event)
        return float(accountant.get_epsilon(float(delta)))
    finally:
        absl_log.setLevel(level)
