"""Exercise checks of notebook 15 (compression): used by notebooks/15_compression.ipynb."""
from __future__ import annotations


import numpy as np

from aiaas_lib.exercises.feedback import exercise


WEIGHTS = ((0.254, -0.5, 0.02), (-1.016, 0.3, -0.04), (0.127, 0.1, 0.01))
"""Exercise 15.1: a Dense kernel (3 inputs × 3 outputs; one output channel per column)."""


@exercise
def check_weight_scales(answer) -> tuple[bool, str]:
    """Exercise 15.1: the per-output-channel scales of symmetric int8 quantization of ``WEIGHTS``
    (zero point 0, :math:`s_j = \\max_i |w_{ij}| / 127`), one per column.

    Examples
    --------
    >>> check_weight_scales([0.008, 0.003937, 0.000315])
    ✓ scales [0.008, 0.003937, 0.000315]: the largest |w| of each column maps to ±127
    True
    """
    w = np.array(WEIGHTS)
    value = np.asarray(answer, dtype=np.float64).ravel()
    expected = np.abs(w).max(axis=0) / 127

    def near(x):
        x = np.asarray(x, dtype=np.float64).ravel()
        return x.shape == value.shape and bool(np.allclose(value, x, rtol=2e-3, atol=1e-7))

    if near(expected):
        return True, f"scales {np.round(expected, 6).tolist()}: the largest |w| of each column maps to ±127"
    if near(np.abs(w).max(axis=1) / 127):
        return False, "those are per row (input); the channels are the columns: one scale per output, axis=0 max"
    if near(np.abs(w).max() / 127) or (value.size == 1 and abs(value[0] - np.abs(w).max() / 127) < 1e-6):
        return False, "one scale for the whole tensor is per-tensor quantization; give one scale per column"
    if near(np.abs(w).max(axis=0) / 255) or near(np.abs(w).max(axis=0) / 128):
        return False, "symmetric int8 uses -127..127: divide max|w| by 127 (not 255 or 128)"
    if near(w.max(axis=0) / 127):
        return False, "take the largest *magnitude* |w| of each column, not the largest signed value"
    if near((w.max(axis=0) - w.min(axis=0)) / 255):
        return False, "that is the affine (asymmetric) scale; weights are symmetric: s = max|w| / 127, z = 0"
    if value.size != expected.size:
        return False, f"give one scale per output column: {expected.size} values, got {value.size}"
    return False, f"{np.round(value, 6).tolist()} is not it; compute max over each column of |w|, divided by 127"


def _channel_mask(w, sparsity: float, norm: str = "l2", smallest: bool = True) -> np.ndarray:
    """Per output channel (last axis) of ``w``: False for the floor(s·c) channels of smallest norm."""
    w = np.asarray(w, dtype=np.float64)
    c = w.shape[-1]
    flat = w.reshape(-1, c)
    norms = np.sqrt((flat ** 2).sum(axis=0)) if norm == "l2" else np.abs(flat).sum(axis=0)
    k = int(np.floor(sparsity * c + 1e-9))
    order = np.argsort(norms if smallest else -norms, kind="stable")
    mask = np.ones(c, dtype=bool)
    mask[order[:k]] = False
    return mask


def _channel_case(rng, shape):
    """A kernel whose channels rank differently by L2 and by L1 norm (one spiky channel, one flat one)."""
    w = rng.normal(0, 1, shape)
    flat = w.reshape(-1, shape[-1])
    n = flat.shape[0]
    l2 = np.sqrt((flat ** 2).sum(axis=0))
    target = np.quantile(l2, 0.3)  # both near the cut
    flat[:, 0] = 0.0
    flat[0, 0] = target * 1.05          # spiky: L2 just above the cut, L1 small
    flat[:, 1] = target * 0.95 / np.sqrt(n)  # flat: L2 just below, L1 large
    return flat.reshape(shape)


@exercise
def check_channel_mask(func) -> tuple[bool, str]:
    """Exercise 15.2: ``func(w, sparsity)`` returns a *structured* pruning mask: one bool per output channel
    (the last axis of ``w``; True = kept), False for the :math:`\\lfloor s\\,c \\rfloor` channels with the
    smallest L2 norm over all their weights. Checked on fresh random Dense and Conv2D kernels.

    Examples
    --------
    >>> def my_channel_mask(w, sparsity):
    ...     w = np.asarray(w); c = w.shape[-1]
    ...     norms = np.sqrt((w.reshape(-1, c) ** 2).sum(axis=0))
    ...     mask = np.ones(c, dtype=bool)
    ...     mask[np.argsort(norms, kind="stable")[:int(np.floor(sparsity * c))]] = False
    ...     return mask
    >>> check_channel_mask(my_channel_mask)
    ✓ right on 3 fresh kernels (shapes (12, 10), (3, 3, 4, 16), (20, 25)): the layers can now be made narrower
    True
    """
    if not callable(func):
        return False, f"give a function channel_mask(w, sparsity), got {type(func).__name__}"
    rng = np.random.default_rng()
    cases = [((12, 10), 0.45), ((3, 3, 4, 16), 0.3), ((20, 25), 0.5)]  # s·c = 4.5, 4.8, 12.5: floor ≠ round
    for shape, s in cases:
        w = _channel_case(rng, shape)
        got = func(w.copy(), s)
        if got is None:
            return False, "your function returned None: return the mask (one bool per output channel)"
        got = np.asarray(got)
        c, k = shape[-1], int(np.floor(s * shape[-1]))
        expected = _channel_mask(w, s)
        if got.shape == w.shape:
            return False, (f"a mask per weight (shape {shape}) is unstructured pruning; return one bool per output "
                           f"channel: shape ({c},)")
        if got.ndim != 1 or got.size != c:
            if got.size == int(np.prod(shape[:-1])):
                return False, "one entry per *input*: the output channels are the last axis (w.shape[-1])"
            return False, f"return one bool per output channel: shape ({c},) for a kernel of shape {shape}; got {got.shape}"
        if got.dtype != bool and not np.all(np.isin(got, (0, 1))):
            return False, "return a mask of bools (True = channel kept), not norms or indices"
        got = got.astype(bool)
        if np.array_equal(got, expected):
            continue
        if np.array_equal(got, ~expected):
            return False, "the mask is inverted: True marks the channels that are *kept*"
        pruned = int(np.sum(~got))
        if pruned != k:
            if pruned == int(np.round(s * c)) or pruned == int(np.ceil(s * c)):
                return False, f"{pruned} channels pruned: that rounds s × c = {s * c:.2f} up; take the floor ({k})"
            return False, f"{pruned} of {c} channels pruned at sparsity {s}; it should be floor(s × c) = {k}"
        if np.array_equal(got, _channel_mask(w, s, smallest=False)):
            return False, "those are the channels of largest norm; prune the *smallest*"
        if np.array_equal(got, _channel_mask(w, s, norm="l1")):
            return False, "that ranks by the L1 norm (sum of |w|); the exercise asks for the L2 norm, sqrt(sum w²)"
        return False, ("the right number of channels, not the right ones: the L2 norm of channel j is over all "
                       "axes but the last, np.sqrt((w.reshape(-1, c) ** 2).sum(axis=0))")
    shapes = ", ".join(str(shape) for shape, _ in cases)
    return True, f"right on {len(cases)} fresh kernels (shapes {shapes}): the layers can now be made narrower"


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _kd_from_probs(y, z_s, p_t, T, alpha, soften=lambda p, T: _log_softmax(np.log(p) / T), t2=True, reverse=False):
    """Mean KD loss over the rows, the teacher given as probabilities; keyword switches build the usual mistakes."""
    y = np.asarray(y)
    ce = -_log_softmax(z_s)[np.arange(len(y)), y]
    log_pt, log_ps = soften(p_t, T), _log_softmax(z_s / T)
    kl = (np.exp(log_pt) * (log_pt - log_ps)).sum(axis=1) if not reverse else (np.exp(log_ps) * (log_ps - log_pt)).sum(axis=1)
    return float(np.mean(alpha * ce + (1 - alpha) * (T ** 2 if t2 else 1.0) * kl))


@exercise
def check_kd_from_probabilities(func) -> tuple[bool, str]:
    """Exercise 15.3: ``func(y, student_logits, teacher_probs, temperature, alpha)`` returns the mean KD loss
    when the teacher is only available as **probabilities** (a served model's softmax output), not logits:
    soften them as :math:`p_t^T \\propto p_t^{1/T}` = softmax(log p_t / T), then the KD loss of §6. Checked on
    fresh random batches against the reference.

    Examples
    --------
    >>> def log_softmax(z):
    ...     z = z - z.max(axis=1, keepdims=True)
    ...     return z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    >>> def my_kd_loss(y, z_s, p_t, T, alpha):
    ...     ce = -log_softmax(z_s)[np.arange(len(y)), y]
    ...     log_pt, log_ps = log_softmax(np.log(p_t) / T), log_softmax(z_s / T)
    ...     kl = np.sum(np.exp(log_pt) * (log_pt - log_ps), axis=1)
    ...     return np.mean(alpha * ce + (1 - alpha) * T**2 * kl)
    >>> check_kd_from_probabilities(my_kd_loss)
    ✓ right on 3 fresh batches: softmax(log p_t / T) recovers the teacher's softened targets from its probabilities
    True
    """
    if not callable(func):
        return False, f"give a function kd_loss(y, student_logits, teacher_probs, temperature, alpha), got {type(func).__name__}"
    rng = np.random.default_rng()
    for _ in range(3):
        n, k = int(rng.integers(8, 33)), int(rng.integers(3, 11))
        z_s, z_t = rng.normal(0, 2, (n, k)), rng.normal(0, 3, (n, k))
        p_t = np.exp(_log_softmax(z_t))
        y = rng.integers(0, k, n)
        T, alpha = float(rng.choice([2.0, 3.0, 4.0])), float(np.round(rng.uniform(0.1, 0.9), 2))
        got = func(y.copy(), z_s.copy(), p_t.copy(), T, alpha)
        if got is None:
            return False, "your function returned None: return the mean KD loss over the batch, a number"
        got = np.asarray(got, dtype=np.float64)
        if got.size != 1:
            return False, f"return one number, the mean over the {n} rows; got an array of shape {got.shape}"
        got = float(got.ravel()[0])
        expected = _kd_from_probs(y, z_s, p_t, T, alpha)

        def near(x):
            return np.isclose(got, x, rtol=1e-4, atol=1e-7)

        if near(expected):
            continue
        if near(_kd_from_probs(y, z_s, p_t, T, alpha, soften=lambda p, T: _log_softmax(p / T))):
            return False, ("softmax(p_t / T) treats probabilities as logits: soften with softmax(log p_t / T), "
                           "i.e. p_t ** (1 / T) renormalised")
        if near(_kd_from_probs(y, z_s, p_t, T, alpha, soften=lambda p, T: np.log(p))):
            return False, "the teacher's probabilities must be softened with the same T as the student's: softmax(log p_t / T)"
        if near(_kd_from_probs(y, z_s, p_t, T, alpha, t2=False)):
            return False, f"the T² factor is missing: multiply the KL term by T² = {T ** 2:g}"
        if near(_kd_from_probs(y, z_s, p_t, T, alpha, reverse=True)):
            return False, "the KL is reversed: it is KL(teacher ‖ student) = Σ p_t^T (log p_t^T − log p_s^T)"
        if near(_kd_from_probs(y, z_s, p_t, T, 1 - alpha)):
            return False, "alpha weights the label loss (CE), 1 − alpha the teacher term"
        if near(expected * n):
            return False, "that is the sum over the rows; return the mean"
        return False, f"{got:.5f} differs from the KD loss {expected:.5f} on a fresh batch (T = {T:g}, alpha = {alpha})"
    return True, "right on 3 fresh batches: softmax(log p_t / T) recovers the teacher's softened targets from its probabilities"
