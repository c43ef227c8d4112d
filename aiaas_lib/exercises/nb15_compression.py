"""Exercise checks of notebook 15 (compression): used by notebooks/15_compression.ipynb."""
from __future__ import annotations


import numpy as np

from aiaas_lib.exercises.feedback import exercise


WEIGHTS = ((0.254, -0.5, 0.02), (-1.016, 0.3, -0.04), (0.127, 0.1, 0.01))
"""Exercise 15.1: a Dense kernel (3 inputs × 3 outputs; one output channel per column)."""
TENSOR = (0.3, -0.05, 0.8, -0.2, 0.05, -0.6, 0.1, 0.2)
"""Exercise 15.2: a kernel to prune."""
SPARSITY = 0.6
"""Exercise 15.2: the requested sparsity."""
KD = {"student": (2.0, 1.0, -1.0), "teacher": (3.0, 0.0, 1.0), "label": 0, "temperature": 2.0, "alpha": 0.3}
"""Exercise 15.3: one row's student and teacher logits, its label, and the KD settings."""


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


@exercise
def check_pruned_tensor(answer) -> tuple[bool, str]:
    """Exercise 15.2: ``TENSOR`` after magnitude pruning to ``SPARSITY``: exactly
    :math:`\\lfloor s\\,n \\rfloor` weights of smallest :math:`|w|` set to 0 (ties: lower index first).

    Examples
    --------
    >>> check_pruned_tensor([0.3, 0, 0.8, 0, 0, -0.6, 0, 0.2])
    ✓ 4 of 8 weights zeroed (floor(0.6 × 8) = 4): the smallest |w|, ties broken by index
    True
    """
    from aiaas_lib.compression.prune import magnitude_mask, n_pruned

    w = np.array(TENSOR)
    value = np.asarray(answer, dtype=np.float64).ravel()
    if value.shape != w.shape:
        return False, f"give the whole pruned tensor: {w.size} values, got {value.size}"
    k = n_pruned(w.size, SPARSITY)
    expected = w * magnitude_mask(w, SPARSITY)
    if np.allclose(value, expected):
        return True, f"{k} of {w.size} weights zeroed (floor({SPARSITY} × {w.size}) = {k}): the smallest |w|, ties broken by index"
    zeros = int(np.sum(value == 0))
    if not np.all((value == 0) | np.isclose(value, w)):
        return False, "pruning sets weights to 0 and leaves the others unchanged; do not rescale the kept ones"
    if zeros == round(SPARSITY * w.size) and zeros != k:
        return False, f"{zeros} zeros: that rounds s × n = {SPARSITY * w.size:g}; the definition takes the floor ({k})"
    if zeros == k:
        order_signed = np.argsort(w, kind="stable")[:k]
        if np.allclose(value, np.where(np.isin(np.arange(w.size), order_signed), 0, w)):
            return False, "those are the most negative weights; prune by magnitude |w|"
        largest = np.argsort(-np.abs(w), kind="stable")[:k]
        if np.allclose(value, np.where(np.isin(np.arange(w.size), largest), 0, w)):
            return False, "those are the largest weights; magnitude pruning removes the *smallest* |w|"
        if np.allclose(np.abs(value) > 0, np.abs(w * magnitude_mask(w[::-1], SPARSITY)[::-1]) > 0):
            return False, "a tie (two weights with the same |w|) went the wrong way: the lower index is pruned first"
        return False, "the right number of zeros, but not the right ones: sort by |w| (ties: lower index first)"
    return False, f"{zeros} zeros; pruning {SPARSITY} of {w.size} weights zeroes floor({SPARSITY} × {w.size}) = {k}"


@exercise
def check_kd_loss_value(answer) -> tuple[bool, str]:
    """Exercise 15.3: the KD loss of the row in ``KD``:
    :math:`\\alpha\\,\\mathrm{CE}(y, \\mathrm{softmax}(z_s)) + (1-\\alpha)\\,T^2\\,\\mathrm{KL}(\\mathrm{softmax}(z_t/T)\\,\\|\\,\\mathrm{softmax}(z_s/T))`.

    Examples
    --------
    >>> check_kd_loss_value(0.4271)
    ✓ KD loss 0.4271 = 0.3 × CE 0.3490 + 0.7 × 2² × KL 0.1151
    True
    """
    from aiaas_lib.compression.distill import soft_targets

    s, t = np.array(KD["student"]), np.array(KD["teacher"])
    y, T, a = KD["label"], KD["temperature"], KD["alpha"]
    value = float(np.asarray(answer, dtype=np.float64).ravel()[0]) if np.ndim(answer) else float(answer)

    def kl(p, q):
        return float(np.sum(p * np.log(p / q)))

    ce = -float(np.log(soft_targets(s, 1.0)[y]))
    pt, ps = soft_targets(t, T), soft_targets(s, T)
    expected = a * ce + (1 - a) * T ** 2 * kl(pt, ps)

    def near(x):
        return abs(value - x) < 5e-4

    if near(expected):
        return True, f"KD loss {expected:.4f} = {a} × CE {ce:.4f} + {1 - a:.1f} × {T:g}² × KL {kl(pt, ps):.4f}"
    if near(a * ce + (1 - a) * kl(pt, ps)):
        return False, "the T² factor is missing: multiply the KL term by T² = 4 (it keeps the gradient scale)"
    if near(a * ce + (1 - a) * T ** 2 * kl(ps, pt)):
        return False, "the KL is reversed: it is KL(teacher ‖ student) = Σ p_t log(p_t / p_s)"
    if near((1 - a) * ce + a * T ** 2 * kl(pt, ps)):
        return False, "alpha weights the label loss (CE), 1 − alpha the teacher term"
    if near(a * ce + (1 - a) * T ** 2 * kl(soft_targets(t, 1.0), soft_targets(s, 1.0))):
        return False, "the KL uses softened probabilities: divide both logit vectors by T before the softmax"
    if near(a * -float(np.log(ps[y])) + (1 - a) * T ** 2 * kl(pt, ps)):
        return False, "the label cross-entropy uses the student's ordinary softmax (T = 1), not the softened one"
    return False, f"{value:.4f} is not it; compute CE at T=1, KL(p_t^T ‖ p_s^T) at T={T:g}, then combine with alpha and T²"
