"""Used by notebook 15.

Knowledge distillation (the maths; the Keras ``Distiller`` and :func:`distill` are in
:mod:`.keras_classes`): a small *student* learns from a large *teacher*'s softened outputs.

With temperature :math:`T`, :math:`p^T = \\mathrm{softmax}(z / T)`. The KD loss (Hinton et al., 2015) is

.. math:: L = \\alpha\\,\\mathrm{CE}\\big(y, \\mathrm{softmax}(z_s)\\big)
          + (1 - \\alpha)\\,T^2\\,\\mathrm{KL}\\big(p_t^T \\,\\|\\, p_s^T\\big),
          \\qquad \\mathrm{KL}(p \\,\\|\\, q) = \\sum_j p_j \\log \\frac{p_j}{q_j},

averaged over the batch. A higher :math:`T` spreads the teacher's probability over the wrong classes
("a shirt looks more like a T-shirt than like a bag"): that "dark knowledge" is what the student learns
beyond the labels. The gradient of the KL term shrinks like :math:`1/T^2`; the factor :math:`T^2` keeps
both terms on the same scale as :math:`T` changes.
"""
from __future__ import annotations

import numpy as np

from aiaas_lib.env import import_tensorflow
from aiaas_lib.numpy_nn.activations import softmax


def _check(temperature: float, alpha: float) -> tuple[float, float]:
    """Validated (temperature, alpha)."""
    if not isinstance(temperature, (int, float, np.floating, np.integer)) or not float(temperature) > 0:
        raise ValueError(f"temperature={temperature!r} must be a number > 0 (1 = plain softmax, 2-5 is typical)")
    if not isinstance(alpha, (int, float, np.floating, np.integer)) or not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha={alpha!r} must be in [0, 1]: the weight of the label loss")
    return float(temperature), float(alpha)


def soft_targets(logits, temperature: float = 1.0) -> np.ndarray:
    """:math:`\\mathrm{softmax}(z / T)` along the last axis, in NumPy (stable: the max is subtracted).

    Examples
    --------
    >>> soft_targets([2.0, 1.0, 0.0], temperature=1).round(3).tolist()
    [0.665, 0.245, 0.09]
    >>> soft_targets([2.0, 1.0, 0.0], temperature=4).round(3).tolist()
    [0.419, 0.326, 0.254]
    """
    temperature, _ = _check(temperature, 0.0)
    return softmax(np.asarray(logits, dtype=np.float64) / temperature)


def kd_loss(y_true, student_logits, teacher_logits, temperature: float = 4.0, alpha: float = 0.1):
    """The distillation loss :math:`\\alpha\\,\\mathrm{CE} + (1-\\alpha)\\,T^2\\,\\mathrm{KL}(p_t^T\\|p_s^T)`,
    averaged over the batch (see the module docstring).

    Written with ``keras.ops`` so it runs inside a training step (and on NumPy inputs).

    Parameters
    ----------
    y_true : array-like of int, shape (n,)
        Class labels.
    student_logits, teacher_logits : array-like, shape (n, classes)
        Raw scores (before softmax).
    temperature : float
        :math:`T > 0`.
    alpha : float
        Weight of the label loss, in [0, 1]; ``alpha=1`` is ordinary training, ``alpha=0`` pure imitation.

    Returns
    -------
    tensor
        A scalar.

    Raises
    ------
    ValueError
        For ``temperature <= 0`` or ``alpha`` outside [0, 1].

    Examples
    --------
    >>> tf = import_tensorflow()
    >>> s, t = np.array([[1.0, 0.0, -1.0]]), np.array([[2.0, 1.0, 0.0]])
    >>> round(float(kd_loss([0], s, s, temperature=2.0, alpha=1.0)), 4)  # alpha=1: the cross-entropy
    0.4076
    >>> round(float(kd_loss([0], t, t, temperature=2.0, alpha=0.0)), 4)  # student == teacher: KL = 0
    0.0
    """
    temperature, alpha = _check(temperature, alpha)
    import_tensorflow()
    from keras import ops

    s = ops.cast(ops.convert_to_tensor(student_logits), "float32")
    t = ops.cast(ops.convert_to_tensor(teacher_logits), "float32")
    y = ops.cast(ops.reshape(ops.convert_to_tensor(y_true), (-1,)), "int32")
    log_p = ops.log_softmax(s, axis=-1)
    ce = -ops.sum(ops.one_hot(y, ops.shape(s)[-1]) * log_p, axis=-1)
    log_ps = ops.log_softmax(s / temperature, axis=-1)
    log_pt = ops.log_softmax(t / temperature, axis=-1)
    kl = ops.sum(ops.exp(log_pt) * (log_pt - log_ps), axis=-1)
    return ops.mean(alpha * ce + (1.0 - alpha) * temperature ** 2 * kl)
