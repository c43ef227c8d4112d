"""Exercise checks of notebook 15 (compression): used by notebooks/15_compression.ipynb."""
from __future__ import annotations


import numpy as np

from aiaas_lib.exercises.feedback import exercise


WEIGHTS = ((0.254, -0.5, 0.02), (-1.016, 0.3, -0.04), (0.127, 0.1, 0.01))
"""Exercise 15.1: a Dense kernel (3 inputs × 3 outputs; one output channel per column)."""
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


def _mask_case(rng, shape, sparsity):
    """A kernel of ``shape`` whose k-th and (k+1)-th smallest |w| are equal (a tie at the cut), its k."""
    from aiaas_lib.compression.prune import n_pruned

    n = int(np.prod(shape))
    k = n_pruned(n, sparsity)
    mags = np.sort(rng.choice(np.arange(1, 10 * n), size=n, replace=False)) / (10 * n)
    mags[k] = mags[k - 1]  # the first kept and the last pruned magnitude tie
    w = rng.permutation(mags) * rng.choice([-1.0, 1.0], size=n)
    return w.reshape(shape), k


def _rank_mask(w, k, order_key):
    """Mask (True = kept) zeroing the first ``k`` of ``w`` in the order given by ``order_key(flat w)``."""
    mask = np.ones(w.size, dtype=bool)
    mask[order_key(w.ravel())[:k]] = False
    return mask.reshape(w.shape)


@exercise
def check_magnitude_mask(func) -> tuple[bool, str]:
    """Exercise 15.2: ``func(w, sparsity)`` returns the pruning mask of ``w`` (same shape, True = kept):
    False for the :math:`\\lfloor s\\,n \\rfloor` weights of smallest :math:`|w|` over the whole kernel,
    ties broken by lower flat index first. Checked on fresh random kernels with a tie at the cut.

    Examples
    --------
    >>> from aiaas_lib.compression import magnitude_mask
    >>> check_magnitude_mask(magnitude_mask)
    ✓ right on 3 fresh kernels (shapes (6, 5), (4, 3, 2), (17,)): floor(s × n) smallest |w| pruned, ties by index
    True
    """
    from aiaas_lib.compression.prune import magnitude_mask

    if not callable(func):
        return False, f"give a function magnitude_mask(w, sparsity), got {type(func).__name__}"
    rng = np.random.default_rng()
    cases = [((6, 5), 0.59), ((4, 3, 2), 0.43), ((17,), 0.79)]  # s·n = 17.7, 10.32, 13.43: floor ≠ round
    for shape, s in cases:
        w, k = _mask_case(rng, shape, s)
        got = func(w.copy(), s)
        if got is None:
            return False, "your function returned None: return the mask (an array of bools, True = kept)"
        got = np.asarray(got)
        expected = magnitude_mask(w, s)
        if got.size != w.size:
            return False, f"the mask must have one entry per weight: {w.size} for shape {shape}, got {got.size}"
        if got.dtype != bool and not np.all(np.isin(got, (0, 1))):
            return False, "return the mask (True = kept, False = pruned), not the pruned weights w * mask"
        if got.shape != w.shape:
            if np.array_equal(got.ravel().astype(bool), expected.ravel()):
                return False, f"right values, wrong shape {got.shape}: reshape the mask to w.shape {shape}"
            return False, f"the mask must have the shape of w, {shape}; got {got.shape}"
        got = got.astype(bool)
        if np.array_equal(got, expected):
            continue
        if np.array_equal(got, ~expected):
            return False, "the mask is inverted: True marks the weights that are *kept*, False the pruned ones"
        pruned = int(np.sum(~got))
        if pruned != k:
            if pruned == int(np.round(s * w.size)) or pruned == int(np.ceil(s * w.size)):
                return False, f"{pruned} pruned: that rounds s × n = {s * w.size:.2f} up; the definition takes the floor ({k})"
            return False, f"{pruned} weights pruned of {w.size} at sparsity {s}; it should be floor(s × n) = {k}"
        if np.array_equal(got, _rank_mask(w, k, lambda v: np.argsort(v, kind="stable"))):
            return False, "those are the most negative weights; rank by magnitude np.abs(w)"
        if np.array_equal(got, _rank_mask(w, k, lambda v: np.argsort(-np.abs(v), kind="stable"))):
            return False, "those are the largest |w|; magnitude pruning removes the *smallest*"
        rev = _rank_mask(w.ravel()[::-1], k, lambda v: np.argsort(np.abs(v), kind="stable")).ravel()[::-1]
        if np.array_equal(got.ravel(), rev):
            return False, "a tie went the wrong way: use np.argsort(..., kind='stable') so the lower index is pruned first"
        if w.ndim > 1 and int(np.sum(~got)) == k:
            return False, "the right count, not the right weights: rank all of the kernel at once (w.ravel()), not per row"
        return False, "the right number pruned, but not the right ones: zero the k smallest |w| of the flattened kernel"
    shapes = ", ".join(str(shape) for shape, _ in cases)
    return True, f"right on {len(cases)} fresh kernels (shapes {shapes}): floor(s × n) smallest |w| pruned, ties by index"


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
