"""Feedback for the notebooks' exercises.

Every ``check_*`` function prints one clear line — ``✓`` and what was right, or ``✗`` and a hint — and
returns True or False. It never raises on a wrong answer, whatever its type: a learner's mistake is
feedback, not a traceback. Worked solutions are in ``notebooks/solutions/`` (CI runs them).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps

import numpy as np

PASS, FAIL = "✓", "✗"


def _feedback(ok: bool, message: str) -> bool:
    """Print one ✓/✗ line and return ``ok``."""
    print(f"{PASS if ok else FAIL} {message}")
    return ok


def exercise(func: Callable[..., tuple[bool, str]]) -> Callable[..., bool]:
    """Turn ``func(answer) -> (ok, message)`` into a checker that prints feedback and never raises."""

    @wraps(func)
    def checker(*args, **kwargs) -> bool:
        if args and args[0] is None:
            return _feedback(False, "no answer yet: replace None with your answer and run the cell again")
        try:
            ok, message = func(*args, **kwargs)
        except Exception as err:  # a malformed answer is feedback too
            ok, message = False, f"could not check this answer ({type(err).__name__}: {err}); see the exercise text"
        return _feedback(bool(ok), message)

    return checker


# ------------------------------------------------------------------------------------ notebook 00
@exercise
def check_churn_rate(rate) -> tuple[bool, str]:
    """Exercise 00.1: the fraction of customers in ``load_churn()`` who churned.

    Examples
    --------
    >>> check_churn_rate(1869 / 7043)
    ✓ churn rate 0.2654: about one customer in four leaves
    True
    """
    from aiaas_lib.data import load_churn

    expected = float((load_churn()["churn"] == "Yes").mean())
    value = float(rate)
    if abs(value - expected) < 5e-4:
        return True, f"churn rate {value:.4f}: about one customer in four leaves"
    if abs(value / 100 - expected) < 5e-4:
        return False, f"{value} looks like a percentage; give a fraction between 0 and 1"
    if abs((1 - value) - expected) < 5e-4:
        return False, f"{value:.4f} is the share who stayed; the question asks for those with churn == 'Yes'"
    return False, f"{value!r} is not it; compare df['churn'] == 'Yes' and take its mean"


@exercise
def check_split(train, val, test, labels=None, n_total: int = 7043, val_size: float = 0.2,
                test_size: float = 0.2) -> tuple[bool, str]:
    """Exercise 00.2: a 60/20/20 split of the churn table that keeps the churn rate in every part.

    ``train``, ``val`` and ``test`` are the three DataFrames; ``labels`` the name of the label column
    (``"churn"``) when the split should be stratified.
    """
    parts = {"train": train, "val": val, "test": test}
    sizes = {k: len(v) for k, v in parts.items()}
    if sum(sizes.values()) != n_total:
        return False, f"the parts hold {sum(sizes.values())} rows in all, not {n_total}: every row goes to one part"
    idx = [set(v.index) for v in parts.values()]
    if idx[0] & idx[1] or idx[0] & idx[2] or idx[1] & idx[2]:
        return False, "a row appears in two parts: that leaks test data into training"
    want = {"val": val_size * n_total, "test": test_size * n_total}
    for k, n in want.items():
        if abs(sizes[k] - n) > 1:
            return False, f"{k} has {sizes[k]} rows; {k}_size={want[k] / n_total} of {n_total} is about {round(n)}"
    if labels is not None:
        rates = {k: float((v[labels] == "Yes").mean()) for k, v in parts.items()}
        if max(rates.values()) - min(rates.values()) > 0.01:
            shown = ", ".join(f"{k} {r:.3f}" for k, r in rates.items())
            return False, f"churn rates differ between parts ({shown}): pass stratify=df['{labels}']"
    return True, f"train/val/test = {sizes['train']}/{sizes['val']}/{sizes['test']} rows, disjoint" + (
        ", same churn rate in each" if labels is not None else "")


# ------------------------------------------------------------------------------------ notebook 01
LIFECYCLE = ("collect", "preprocess", "select", "train", "evaluate", "deploy", "monitor", "update")


@exercise
def check_lifecycle_order(stages: Sequence[str]) -> tuple[bool, str]:
    """Exercise 01.1: put the model lifecycle's stages in order.

    Examples
    --------
    >>> check_lifecycle_order(["collect", "preprocess", "select", "train",
    ...                        "evaluate", "deploy", "monitor", "update"])
    ✓ collect → preprocess → select → train → evaluate → deploy → monitor → update (and back to collect)
    True
    """
    given = [str(s).strip().lower() for s in stages]
    if sorted(given) != sorted(LIFECYCLE):
        missing = sorted(set(LIFECYCLE) - set(given))
        extra = sorted(set(given) - set(LIFECYCLE))
        return False, f"use each of {list(LIFECYCLE)} once (missing {missing}, unknown {extra})"
    for i, (g, e) in enumerate(zip(given, LIFECYCLE)):
        if g != e:
            return False, f"stage {i + 1} should not be {g!r}: what must exist before you can {g}?"
    return True, " → ".join(LIFECYCLE) + " (and back to collect)"


SERVICE_MODELS = {
    "rent a virtual machine with a GPU and install everything yourself": "IaaS",
    "upload your training script; the platform runs it and scales the workers": "PaaS",
    "log in to a hosted CRM in the browser": "SaaS",
    "send text to an HTTP endpoint and get a sentiment score back": "AIaaS",
}


@exercise
def check_service_models(answers: dict) -> tuple[bool, str]:
    """Exercise 01.2: name the service model (IaaS, PaaS, SaaS, AIaaS) of each scenario in
    ``SERVICE_MODELS``; ``answers`` maps each scenario to its model."""
    wrong = [s for s, m in SERVICE_MODELS.items() if str(answers.get(s, "")).strip().upper() != m.upper()]
    if not wrong:
        return True, "all four scenarios placed: the higher the layer, the less you run yourself"
    return False, f"{len(wrong)} of {len(SERVICE_MODELS)} not right yet, e.g. {wrong[0]!r}: who runs the model there?"


@exercise
def check_drift_retrain(old_auc: float, new_auc: float, retrained_auc: float) -> tuple[bool, str]:
    """Exercise 01.3: after drift, the old model's AUC on new data should drop and retraining should
    recover part of it. Pass the three ROC-AUCs you measured."""
    old_auc, new_auc, retrained_auc = float(old_auc), float(new_auc), float(retrained_auc)
    for name, v in (("old_auc", old_auc), ("new_auc", new_auc), ("retrained_auc", retrained_auc)):
        if not 0 <= v <= 1:
            return False, f"{name}={v} is not a ROC-AUC (it lies between 0 and 1)"
    if not new_auc < old_auc:
        return False, "the old model should score worse on drifted data than on data like its training data"
    if not retrained_auc > new_auc:
        return False, "retraining on recent data should beat the old model on that data; did you refit on it?"
    return True, f"AUC {old_auc:.3f} → {new_auc:.3f} after drift → {retrained_auc:.3f} after retraining"



# ------------------------------------------------------------------------------------ notebook 02
def _rng_pair(shape=(6, 2), seed=0):
    """A reproducible (y, y_hat) pair for gradient exercises."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), rng.normal(size=shape)


@exercise
def check_mse_grad(func: Callable) -> tuple[bool, str]:
    """Exercise 02.1: ``func(y, y_hat)`` returns the gradient of the mean squared error w.r.t. ``y_hat``.

    Examples
    --------
    >>> check_mse_grad(lambda y, y_hat: 2 * (y_hat - y) / y.size)
    ✓ your MSE gradient matches 2 (y_hat - y) / n on 3 shapes
    True
    """
    from aiaas_lib.numpy_nn import mse_grad

    for shape in ((6, 1), (6, 2), (1, 3)):
        y, y_hat = _rng_pair(shape)
        result = func(y, y_hat)
        if result is None:
            return False, "your function returns None: replace `return None` with the gradient"
        got, want = np.asarray(result, dtype=float), mse_grad(y, y_hat)
        if got.shape != want.shape:
            return False, f"for inputs of shape {shape} your gradient has shape {got.shape}; it must match y_hat"
        if np.allclose(got, want * y.size / 2) and y.size > 2:
            return False, "off by a factor 2/n: the mean divides by n, and d(u²)/du = 2u"
        if np.allclose(got, -want):
            return False, "the sign is flipped: the derivative of (y_hat - y)² w.r.t. y_hat is +2 (y_hat - y)"
        if not np.allclose(got, want, rtol=1e-9, atol=1e-12):
            return False, f"for shape {shape} the gradient differs from 2 (y_hat - y) / n (check the factor and sign)"
    return True, "your MSE gradient matches 2 (y_hat - y) / n on 3 shapes"


@exercise
def check_max_learning_rate(lr: float, X) -> tuple[bool, str]:
    """Exercise 02.2: the largest learning rate for which gradient descent on the MSE of a linear model
    with design matrix ``X`` still converges: ``2 / λ_max`` of the Hessian ``(2/n) XᵀX`` (within 2 %)."""
    X = np.asarray(X, dtype=float)
    hessian = 2.0 / len(X) * X.T @ X
    limit = 2.0 / np.linalg.eigvalsh(hessian).max()
    lr = float(lr)
    if abs(lr - limit) <= 0.02 * limit:
        return True, f"learning rate {lr:.4g} ≈ 2 / λ_max = {limit:.4g}: above it the steps overshoot and grow"
    if abs(lr - limit / 2) <= 0.02 * limit:
        return False, "that is 1 / λ_max, the fastest *monotone* rate; gradient descent still converges up to twice it"
    return False, f"{lr:.4g} is {'too large' if lr > limit else 'too small'}; find λ_max of the Hessian (2/n) XᵀX"


@exercise
def check_soft_threshold(func: Callable) -> tuple[bool, str]:
    """Exercise 02.3: ``func(w, t)`` is the soft-thresholding operator ``sign(w) · max(|w| - t, 0)``.

    Examples
    --------
    >>> check_soft_threshold(lambda w, t: np.sign(w) * np.maximum(np.abs(w) - t, 0))
    ✓ soft-thresholding right: small weights become exactly 0, the others shrink by t
    True
    """
    w = np.array([-2.0, -0.3, 0.0, 0.1, 0.5, 3.0])
    want = np.sign(w) * np.maximum(np.abs(w) - 0.4, 0.0)
    result = func(w.copy(), 0.4)
    if result is None:
        return False, "your function returns None: replace `return None` with the soft-thresholded weights"
    got = np.asarray(result, dtype=float)
    if got.shape != w.shape:
        return False, f"the result has shape {got.shape}; it must have the shape of w {w.shape}"
    if np.allclose(got, np.where(np.abs(w) > 0.4, w, 0.0)):
        return False, "that is hard thresholding: the surviving weights must also shrink by t"
    if not np.allclose(got, want):
        return False, f"soft_threshold({w.tolist()}, 0.4) should be {want.round(2).tolist()}, got {got.round(2).tolist()}"
    return True, "soft-thresholding right: small weights become exactly 0, the others shrink by t"


# ------------------------------------------------------------------------------------ notebook 03
@exercise
def check_dense_backward(func: Callable) -> tuple[bool, str]:
    """Exercise 03.1: ``func(X, W, b, upstream)`` returns ``(dW, db, dX)`` for ``a = tanh(X W + b)``,
    given ``upstream = dL/da``.

    Examples
    --------
    >>> def backward(X, W, b, upstream):
    ...     dz = upstream * (1 - np.tanh(X @ W + b) ** 2)
    ...     return X.T @ dz, dz.sum(axis=0), dz @ W.T
    >>> check_dense_backward(backward)
    ✓ dW, db and dX all match the δ rule for a tanh layer
    True
    """
    rng = np.random.default_rng(3)
    X, W, b, up = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 4))
    result = func(X.copy(), W.copy(), b.copy(), up.copy())
    if result is None:
        return False, "your function returns None: return the tuple (dW, db, dX)"
    if len(result) != 3:
        return False, f"return three arrays (dW, db, dX); got {len(result)}"
    dz = up * (1 - np.tanh(X @ W + b) ** 2)
    want = {"dW": X.T @ dz, "db": dz.sum(axis=0), "dX": dz @ W.T}
    forgot = {"dW": X.T @ up, "db": up.sum(axis=0), "dX": up @ W.T}
    for (name, w), got in zip(want.items(), result):
        got = np.asarray(got, dtype=float)
        if got.shape != w.shape:
            return False, f"{name} has shape {got.shape}; it must have the shape {w.shape}"
        if np.allclose(got, forgot[name]):
            return False, f"{name} skips the activation: multiply upstream by tanh'(z) = 1 - tanh(z)² first"
        if not np.allclose(got, w):
            return False, f"{name} is off: with dz = upstream·tanh'(z), dW = Xᵀdz, db = Σ dz, dX = dz Wᵀ"
    return True, "dW, db and dX all match the δ rule for a tanh layer"


# ------------------------------------------------------------------------------------ notebook 04
@exercise
def check_momentum_step(func: Callable) -> tuple[bool, str]:
    """Exercise 04.1: ``func(theta, velocity, grad, lr, momentum)`` returns the new ``(theta, velocity)``
    of SGD with momentum as Keras writes it: ``v ← μ v - lr g``, ``θ ← θ + v``.

    Examples
    --------
    >>> check_momentum_step(lambda th, v, g, lr, mu: (th + (mu * v - lr * g), mu * v - lr * g))
    ✓ momentum step right: the velocity remembers past gradients, the step follows the velocity
    True
    """
    rng = np.random.default_rng(4)
    theta, v, g = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3)
    lr, mu = 0.1, 0.9
    result = func(theta.copy(), v.copy(), g.copy(), lr, mu)
    if result is None or len(result) != 2:
        return False, "return the pair (new_theta, new_velocity)"
    new_theta, new_v = (np.asarray(r, dtype=float) for r in result)
    want_v = mu * v - lr * g
    if np.allclose(new_v, v - lr * g) or np.allclose(new_v, mu * v + lr * g):
        return False, "the velocity is μ·v minus lr·g: decay the old velocity, then subtract the gradient step"
    if not np.allclose(new_v, want_v):
        return False, "new_velocity should be momentum * velocity - lr * grad"
    if np.allclose(new_theta, theta - lr * g):
        return False, "that is plain SGD: move θ by the new velocity instead"
    if not np.allclose(new_theta, theta + want_v):
        return False, "new_theta should be theta + new_velocity"
    return True, "momentum step right: the velocity remembers past gradients, the step follows the velocity"


# ------------------------------------------------------------------------------------ notebook 05
def expected_cost(y_true, p, threshold: float, cost_fn: float, cost_fp: float) -> float:
    """Total cost of acting on ``p >= threshold``: each missed positive costs ``cost_fn``, each false alarm ``cost_fp``."""
    y_true, flagged = np.asarray(y_true).ravel(), np.asarray(p).ravel() >= threshold
    return float(cost_fn * np.sum((y_true == 1) & ~flagged) + cost_fp * np.sum((y_true == 0) & flagged))


@exercise
def check_cost_threshold(threshold: float, y_true, p, cost_fn: float, cost_fp: float) -> tuple[bool, str]:
    """Exercise 05.1: the decision threshold on ``p`` that minimises :func:`expected_cost` (within 1 %).

    Examples
    --------
    >>> check_cost_threshold(0.3, [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.9], cost_fn=5, cost_fp=1)
    ✓ threshold 0.3 costs 1, the minimum possible 1
    True
    """
    threshold = float(threshold)
    if not 0 <= threshold <= 1:
        return False, f"threshold={threshold} must be a probability in [0, 1]"
    candidates = np.unique(np.r_[0.0, np.asarray(p, dtype=float).ravel(), 1.0 + 1e-9])
    best = min(expected_cost(y_true, p, t, cost_fn, cost_fp) for t in candidates)
    got = expected_cost(y_true, p, threshold, cost_fn, cost_fp)
    if got <= best * 1.01 + 1e-9:
        return True, f"threshold {threshold:g} costs {got:,.0f}, the minimum possible {best:,.0f}"
    hint = "lower" if cost_fn > cost_fp else "higher"
    return False, (f"threshold {threshold:g} costs {got:,.0f}; the best costs {best:,.0f}. When a miss costs "
                   f"{cost_fn / cost_fp:g}× a false alarm, try {hint} thresholds (scan a grid, keep the cheapest)")


@exercise
def check_class_weights(weights: dict, y) -> tuple[bool, str]:
    """Exercise 05.2: "balanced" class weights for labels ``y``: ``n / (2 · n_c)`` for class ``c``.

    Examples
    --------
    >>> check_class_weights({0: 0.625, 1: 2.5}, [0, 0, 0, 0, 1])
    ✓ balanced weights {0: 0.625, 1: 2.5}: both classes now weigh the same in the loss
    True
    """
    y = np.asarray(y).ravel()
    want = {c: len(y) / (2 * np.sum(y == c)) for c in (0, 1)}
    if not isinstance(weights, dict) or set(weights) != {0, 1}:
        return False, "give a dict with one weight per class: {0: w0, 1: w1}"
    got = {c: float(weights[c]) for c in (0, 1)}
    if np.allclose([got[0], got[1]], [1 / want[0], 1 / want[1]], rtol=1e-3):
        return False, "upside down: the rare class must get the larger weight"
    if not np.allclose([got[0], got[1]], [want[0], want[1]], rtol=1e-3):
        ratio = want[1] / want[0]
        return False, f"with n / (2 · n_c) the weights are about {want[0]:.3f} and {want[1]:.3f} (ratio {ratio:.2f})"
    return True, (f"balanced weights {{0: {got[0]:.4g}, 1: {got[1]:.4g}}}: both classes now weigh the same in "
                  "the loss")


# ------------------------------------------------------------------------------------ notebook 07
@exercise
def check_conv_output_size(func: Callable) -> tuple[bool, str]:
    """Exercise 07.1: ``func(size, kernel_size, stride, padding)`` returns the output length of a
    convolution along one axis, as ``keras.layers.Conv2D`` computes it (``padding`` "valid" or "same").

    Examples
    --------
    >>> import math
    >>> def out_size(n, k, s, padding):
    ...     return (n - k) // s + 1 if padding == "valid" else math.ceil(n / s)
    >>> check_conv_output_size(out_size)
    ✓ output sizes right: valid = ⌊(n − k)/s⌋ + 1, same = ⌈n/s⌉
    True
    """
    cases = [(28, 3, 1, "valid"), (28, 5, 2, "valid"), (64, 3, 2, "valid"), (7, 2, 3, "valid"),
             (28, 3, 1, "same"), (28, 3, 2, "same"), (7, 2, 3, "same"), (64, 5, 4, "same")]
    for n, k, s, padding in cases:
        want = (n - k) // s + 1 if padding == "valid" else -(-n // s)
        got = func(n, k, s, padding)
        if got is None:
            return False, "your function returns None: return the output size as an int"
        got = int(got)
        if got == want:
            continue
        case = f"size {n}, kernel {k}, stride {s}, padding={padding!r}"
        if padding == "valid" and got == (n - k) // s:
            return False, f"{case}: {got} is one short; count the first window too: ⌊(n − k)/s⌋ + 1"
        if padding == "valid" and got == n - k + 1:
            return False, f"{case}: {got} ignores the stride; the window moves s pixels per step"
        if padding == "same" and got == n:
            return False, f"{case}: {got} ignores the stride; 'same' keeps the size only when s = 1: ⌈n/s⌉"
        if padding == "same" and got == n // s:
            return False, f"{case}: {got} rounds down; 'same' rounds up: ⌈n/s⌉"
        return False, f"{case}: expected {want}, got {got}"
    return True, "output sizes right: valid = ⌊(n − k)/s⌋ + 1, same = ⌈n/s⌉"


@exercise
def check_iou(func: Callable) -> tuple[bool, str]:
    """Exercise 07.2: ``func(box_a, box_b)`` returns the intersection over union of two boxes
    ``(y0, x0, y1, x1)`` as a float.

    Examples
    --------
    >>> from aiaas_lib.vision import iou
    >>> check_iou(iou)
    ✓ IoU right: 1 for the same box, 0 when apart, intersection / (area A + area B − intersection)
    True
    """
    cases = [([0, 0, 4, 4], [0, 0, 4, 4], 1.0), ([0, 0, 4, 4], [0, 2, 4, 6], 8 / 24),
             ([0, 0, 4, 4], [1, 1, 3, 3], 4 / 16), ([0, 0, 2, 2], [5, 5, 8, 9], 0.0),
             ([2, 0, 6, 3], [0, 1, 3, 7], 2 / 28)]
    for a, b, want in cases:
        got = func(list(a), list(b))
        if got is None:
            return False, "your function returns None: return the IoU as a float"
        got = float(got)
        if np.isclose(got, want):
            continue
        ha, wa, hb, wb = a[2] - a[0], a[3] - a[1], b[2] - b[0], b[3] - b[1]
        h = min(a[2], b[2]) - max(a[0], b[0])
        w = min(a[3], b[3]) - max(a[1], b[1])
        if want == 0 and got != 0:
            return False, (f"boxes {a} and {b} do not overlap but you get {got:.3f}: clip the overlap's height "
                           "and width at 0 before multiplying")
        if want > 0 and np.isclose(got, h * w / (ha * wa + hb * wb)):
            return False, "the union counts the overlap twice: subtract the intersection from area A + area B"
        if want > 0 and np.isclose(got, h * w):
            return False, "that is the intersection's area; divide it by the union's area"
        return False, f"iou({a}, {b}) should be {want:.4f}, got {got:.4f}"
    return True, "IoU right: 1 for the same box, 0 when apart, intersection / (area A + area B − intersection)"


# ------------------------------------------------------------------------------------ notebook 06
@exercise
def check_precision_choice(func: Callable) -> tuple[bool, str]:
    """Exercise 06.1: ``func(gpus)`` takes a list of :class:`aiaas_lib.env.GPU` and returns the dtype
    policy to train with: ``"mixed_float16"`` only when every GPU has compute capability ≥ 7.0.

    Examples
    --------
    >>> check_precision_choice(lambda gpus: "mixed_float16" if gpus and all(
    ...     g.supports_mixed_precision for g in gpus) else "float32")
    ✓ right on 7 machines: float16 only where every GPU has tensor cores (compute capability >= 7.0)
    True
    """
    from aiaas_lib.env import GPU

    t4, v100, k80, p100 = GPU("Tesla T4", (7, 5)), GPU("V100", (7, 0)), GPU("K80", (3, 7)), GPU("P100", (6, 0))
    cases = [
        ([], "float32", "with no GPU stay float32: a CPU has no float16 units, so mixed precision only slows it"),
        ([k80], "float32", "a K80 (compute 3.7) has no tensor cores: float16 brings it no speed"),
        ([p100], "float32", "a P100 (compute 6.0) is below 7.0: no tensor cores, stay float32"),
        ([t4], "mixed_float16", "a T4 (compute 7.5) has float16 tensor cores: choose mixed_float16"),
        ([v100], "mixed_float16", "compute capability 7.0 itself (V100) has tensor cores: compare with >= (7, 0)"),
        ([t4, k80], "float32", "with several GPUs every one must support it: all replicas run the same policy"),
        ([GPU("unknown", None)], "float32", "an unknown compute capability is no evidence of tensor cores: float32"),
    ]
    for gpus, want, hint in cases:
        got = func(list(gpus))
        if got not in ("float32", "mixed_float16"):
            return False, f"return the string 'float32' or 'mixed_float16', not {got!r}"
        if got != want:
            return False, hint
    return True, f"right on {len(cases)} machines: float16 only where every GPU has tensor cores (compute capability >= 7.0)"


PIPELINE_STEPS = ("map", "cache", "shuffle", "batch", "prefetch")


@exercise
def check_pipeline_order(steps: Sequence[str]) -> tuple[bool, str]:
    """Exercise 06.2: order the ``tf.data`` steps ``map`` (scale the images), ``cache``, ``shuffle``,
    ``batch`` and ``prefetch`` for a training set.

    Examples
    --------
    >>> check_pipeline_order(["map", "cache", "shuffle", "batch", "prefetch"])
    ✓ map → cache → shuffle → batch → prefetch: work once, new order every epoch, the next batch ready in time
    True
    """
    given = [str(s).strip().lower() for s in steps]
    if sorted(given) != sorted(PIPELINE_STEPS):
        return False, f"use each of {list(PIPELINE_STEPS)} exactly once; got {given}"
    at = {name: i for i, name in enumerate(given)}
    if at["prefetch"] != len(given) - 1:
        return False, "prefetch goes last: it prepares the next batch while the model trains on this one"
    if at["shuffle"] < at["cache"]:
        return False, "shuffle after cache: a cache after shuffle replays the first epoch's order every epoch"
    if at["batch"] < at["shuffle"]:
        return False, "shuffle before batch: shuffling batches keeps the same images together in every epoch"
    if at["cache"] < at["map"]:
        return False, "map before cache: then the scaling runs once and the cache holds the finished images"
    return True, "map → cache → shuffle → batch → prefetch: work once, new order every epoch, the next batch ready in time"


@exercise
def check_global_batch(global_batch, steps_per_epoch, n_images: int = 60_000, replicas: int = 4,
                       per_replica: int = 64) -> tuple[bool, str]:
    """Exercise 06.3: under ``MirroredStrategy`` with ``replicas`` GPUs and ``per_replica`` images per
    GPU, the batch size to give ``dataset.batch()`` and the number of steps in one epoch of
    ``n_images`` images.

    Examples
    --------
    >>> check_global_batch(256, 235)
    ✓ global batch 256 = 4 × 64, split across the replicas; 60000 images → 235 steps (the last one smaller)
    True
    """
    global_batch, steps_per_epoch = int(global_batch), int(steps_per_epoch)
    want_batch = replicas * per_replica
    want_steps = -(-n_images // want_batch)
    if global_batch == per_replica:
        return False, (f"{per_replica} is the per-replica batch: batch the dataset with the global batch "
                       f"(per-replica × replicas); the strategy splits each batch between the {replicas} GPUs")
    if global_batch != want_batch:
        return False, f"global batch {global_batch} is not it: each of the {replicas} replicas takes {per_replica} images"
    if steps_per_epoch == n_images // want_batch and steps_per_epoch != want_steps:
        return False, f"round up: {n_images} / {want_batch} leaves a last, smaller batch, and it is a step too"
    if steps_per_epoch == -(-n_images // per_replica):
        return False, f"each step consumes the global batch of {want_batch} images, not {per_replica}"
    if steps_per_epoch != want_steps:
        return False, f"{steps_per_epoch} steps is not it: divide {n_images} images by the global batch and round up"
    return True, (f"global batch {want_batch} = {replicas} × {per_replica}, split across the replicas; "
                  f"{n_images} images → {want_steps} steps (the last one smaller)")


# ------------------------------------------------------------------------------------ notebook 08
@exercise
def check_attention_weights(func: Callable) -> tuple[bool, str]:
    """Exercise 08.1: ``func(q, k)`` returns the attention weights ``softmax(q kᵀ / √d)`` (rows sum to 1).

    Examples
    --------
    >>> from aiaas_lib.attention import scaled_dot_product_attention
    >>> check_attention_weights(lambda q, k: scaled_dot_product_attention(q, k, k)[1])
    ✓ attention weights right: each query's scores, scaled by √d, turned into a distribution over keys
    True
    """
    from aiaas_lib.numpy_nn.activations import softmax

    rng = np.random.default_rng(8)
    q, k = rng.normal(size=(4, 16)) * 3, rng.normal(size=(6, 16)) * 3
    result = func(q.copy(), k.copy())
    if result is None:
        return False, "your function returns None: return the (4, 6) matrix of weights"
    got = np.asarray(result, dtype=float)
    if got.shape != (4, 6):
        return False, f"for 4 queries and 6 keys the weights have shape (4, 6), got {got.shape}"
    want = softmax(q @ k.T / 4.0)
    if np.allclose(got, softmax(q @ k.T)):
        return False, "not scaled: divide the scores by √d (here √16 = 4) before the softmax"
    if np.allclose(got, softmax((q @ k.T / 4.0).T).T):
        return False, "the softmax runs over the wrong axis: each query's weights over the keys must sum to 1"
    if not np.allclose(got, want):
        return False, "weights differ from softmax(q kᵀ / √d) taken over the keys (the last axis)"
    return True, "attention weights right: each query's scores, scaled by √d, turned into a distribution over keys"


@exercise
def check_causal_mask(func: Callable) -> tuple[bool, str]:
    """Exercise 08.2: ``func(n)`` returns an (n, n) boolean mask where position i may see positions j <= i."""
    result = func(5)
    if result is None:
        return False, "your function returns None: return an (n, n) array of booleans"
    got = np.asarray(result)
    want = np.tril(np.ones((5, 5), dtype=bool))
    if got.shape != (5, 5):
        return False, f"for n = 5 the mask has shape (5, 5), got {got.shape}"
    if np.array_equal(got.astype(bool), want.T):
        return False, "transposed: row i is the query, so it may see columns (keys) j <= i — use np.tril"
    if not np.array_equal(got.astype(bool), want):
        return False, "position i must see itself and everything before it, nothing after"
    return True, "causal mask right: no position can look at the future"


# ------------------------------------------------------------------------------------ notebook 11
@exercise
def check_int8_quantize(func: Callable) -> tuple[bool, str]:
    """Exercise 11.1: ``func(x, scale, zero_point)`` returns the int8 codes of the float array ``x``,
    ``clip(round(x / scale) + zero_point, -128, 127)`` stored as ``np.int8``.

    Examples
    --------
    >>> check_int8_quantize(lambda x, s, z: np.clip(np.round(x / s) + z, -128, 127).astype(np.int8))
    ✓ int8 codes right: q = clip(round(x / s) + z, −128, 127), one byte each; x ≈ s · (q − z)
    True
    """
    x = np.array([0.0, 0.1, -0.05, -0.37, 1.234, 3.9, 5.0, -4.0])  # no value sits on a .5 tie
    scale, zero = 0.03, -5
    unclipped = np.round(x / scale) + zero
    want = np.clip(unclipped, -128, 127)
    result = func(x.copy(), scale, zero)
    if result is None:
        return False, "your function returns None: return the array of int8 codes"
    got = np.asarray(result)
    if got.shape != x.shape:
        return False, f"for {len(x)} values return {len(x)} codes (shape {x.shape}), got shape {got.shape}"
    if got.dtype.kind not in "iuf":
        return False, f"return numbers (an int8 array), got dtype {got.dtype}"
    values = got.astype(np.float64)
    if np.array_equal(values, want):
        if got.dtype != np.int8:
            return False, (f"the values are right but stored as {got.dtype}: cast them with .astype(np.int8) — "
                           "one byte per value is the point of int8")
        return True, "int8 codes right: q = clip(round(x / s) + z, −128, 127), one byte each; x ≈ s · (q − z)"
    inside = (unclipped >= -128) & (unclipped <= 127)
    if np.array_equal(values[inside], want[inside]):
        return False, ("not clipped: 5.0 / 0.03 − 5 = 162 lies outside int8's [−128, 127], and casting it to "
                       "int8 wraps around (162 → −94); np.clip(..., -128, 127) before .astype(np.int8)")
    for rounding in (np.trunc, np.floor):
        if np.array_equal(values, np.clip(rounding(x / scale) + zero, -128, 127)):
            return False, ("rounded toward zero or down: round to the nearest integer (np.round); "
                           "−0.05 / 0.03 = −1.67 → −2")
    if np.array_equal(values, np.clip(np.round(x / scale) - zero, -128, 127)):
        return False, "the zero point is added, not subtracted: q = round(x / s) + z (dequantizing subtracts it)"
    if np.array_equal(values, np.clip(np.round(x * scale) + zero, -128, 127)):
        return False, "divide by the scale: the scale is the float size of one int8 step, so x / s counts steps"
    return False, f"expected {want.astype(int).tolist()}, got {values.tolist()}"


#: Exercise 11.2's scenarios: key -> where the model must run.
FORMAT_SCENARIOS = {
    "phone_app": "an Android app classifies clothing photos offline, on the phone",
    "integer_chip": "a microcontroller accelerator that computes with 8-bit integers only",
    "tf_serving": "TensorFlow Serving in a Docker container answers REST requests",
    "dotnet_service": "a C# (.NET) web service runs the model with ONNX Runtime; TensorFlow is not installed there",
    "resume_training": "next month you continue training in Python with Keras, from where it stopped",
}
#: The formats exercise 11.2 accepts.
FORMAT_CHOICES = ("keras", "saved_model", "tflite", "tflite_int8", "onnx")
_FORMAT_ANSWERS = {"phone_app": {"tflite", "tflite_int8"}, "integer_chip": {"tflite_int8"},
                   "tf_serving": {"saved_model"}, "dotnet_service": {"onnx"}, "resume_training": {"keras"}}
_FORMAT_HINTS = {
    "phone_app": "a phone runs LiteRT (TFLite) files: small, no TensorFlow needed; float or int8 both work",
    "integer_chip": ("integer-only hardware needs every tensor in int8, inputs and activations too: full-int8 "
                     "TFLite, calibrated with representative data ('tflite_int8')"),
    "tf_serving": "TF Serving loads SavedModel folders (base/1/saved_model.pb), not .keras files",
    "dotnet_service": "without TensorFlow you need a runtime-neutral graph: ONNX, which ONNX Runtime runs from C#",
    "resume_training": ("only the .keras file keeps the Keras model with its optimizer state; the other formats "
                        "are inference graphs"),
}
_FORMAT_ALIASES = {"savedmodel": "saved_model", "litert": "tflite", "tflite_float": "tflite", "int8": "tflite_int8"}


@exercise
def check_format_choice(answers: dict) -> tuple[bool, str]:
    """Exercise 11.2: for each scenario of :data:`FORMAT_SCENARIOS`, the format to ship, one of
    :data:`FORMAT_CHOICES`.

    Examples
    --------
    >>> check_format_choice({"phone_app": "tflite", "integer_chip": "tflite_int8", "tf_serving": "saved_model",
    ...                      "dotnet_service": "onnx", "resume_training": "keras"})
    ✓ all 5 right: .keras to keep training, SavedModel for TF Serving, TFLite on devices (full int8 for integer chips), ONNX for other runtimes
    True
    """
    if not isinstance(answers, dict):
        return False, f"give a dict {{scenario: format}} with the keys {list(FORMAT_SCENARIOS)}"
    missing = [k for k in FORMAT_SCENARIOS if k not in answers]
    if missing:
        return False, f"answer every scenario: {missing} missing (see FORMAT_SCENARIOS)"
    unknown = sorted(set(answers) - set(FORMAT_SCENARIOS))
    if unknown:
        return False, f"unknown scenarios {unknown}; the keys are {list(FORMAT_SCENARIOS)}"
    for key in FORMAT_SCENARIOS:
        given = str(answers[key]).strip().lower().lstrip(".").replace("-", "_").replace(" ", "_")
        given = _FORMAT_ALIASES.get(given, given)
        if given not in FORMAT_CHOICES:
            return False, f"{key}: {answers[key]!r} is not a format; choose one of {list(FORMAT_CHOICES)}"
        if given not in _FORMAT_ANSWERS[key]:
            return False, f"{key} ({FORMAT_SCENARIOS[key]}): not {given!r} — {_FORMAT_HINTS[key]}"
    return True, ("all 5 right: .keras to keep training, SavedModel for TF Serving, TFLite on devices "
                  "(full int8 for integer chips), ONNX for other runtimes")


def _relative_name(item, folder) -> str:
    """A file named in an answer, as a path relative to ``folder`` when it lies inside it."""
    from pathlib import Path

    path = Path(item)
    try:
        return path.relative_to(folder).as_posix() if path.is_absolute() else path.as_posix()
    except ValueError:
        return path.as_posix()


@exercise
def check_changed_files(func: Callable, folder) -> tuple[bool, str]:
    """Exercise 11.3: ``func(folder)`` returns the sorted names (keys of ``metadata.json["files"]``) of the
    files of a registry version folder whose sha256 no longer matches the one recorded; a missing file
    counts as changed.

    The check runs ``func`` on three copies of ``folder``: untouched; one byte flipped in one file; one
    file appended to and another deleted.

    Examples
    --------
    >>> import hashlib, json, pathlib, tempfile
    >>> version = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("a.bin", "b.bin"):
    ...     _ = (version / name).write_bytes(name.encode() * 8)
    >>> def sha(path):
    ...     return hashlib.sha256(path.read_bytes()).hexdigest()
    >>> meta = {"version": 1, "files": {n: sha(version / n) for n in ("a.bin", "b.bin")}}
    >>> _ = (version / "metadata.json").write_text(json.dumps(meta))
    >>> def changed(folder):
    ...     files = json.loads((folder / "metadata.json").read_text())["files"]
    ...     return sorted(n for n, h in files.items() if not (folder / n).is_file() or sha(folder / n) != h)
    >>> check_changed_files(changed, version)
    ✓ right on 3 copies of version 1: untouched, one byte flipped, one file changed and another deleted
    True
    """
    import hashlib
    import json
    import shutil
    import tempfile
    from pathlib import Path

    folder = Path(folder)
    meta_path = folder / "metadata.json"
    if not meta_path.is_file():
        return False, f"{folder} holds no metadata.json: pass a registry version folder, e.g. reg.path('churn', 2)"
    meta = json.loads(meta_path.read_text())
    recorded = meta.get("files") or {}
    if not recorded:
        return False, f"{meta_path} lists no files: pass a registry version folder, e.g. reg.path('churn', 2)"

    def changed(root: Path) -> list[str]:
        return sorted(n for n, digest in recorded.items() if not (root / n).is_file()
                      or hashlib.sha256((root / n).read_bytes()).hexdigest() != digest)

    intact = [n for n in sorted(recorded) if n not in changed(folder) and (folder / n).stat().st_size > 0]
    if not intact:
        return False, f"every file of {folder} already differs from its record: pass an intact version"
    with tempfile.TemporaryDirectory(prefix="aiaas-ex11-") as tmp:
        copies = {tag: Path(tmp) / tag for tag in ("untouched", "one byte flipped", "one changed, one deleted")}
        for copy in copies.values():
            shutil.copytree(folder, copy)
        flipped = copies["one byte flipped"] / intact[0]
        raw = bytearray(flipped.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        flipped.write_bytes(bytes(raw))
        appended, deleted = intact[-1], intact[0]
        with open(copies["one changed, one deleted"] / appended, "ab") as f:
            f.write(b"\0")
        if deleted != appended:
            (copies["one changed, one deleted"] / deleted).unlink()
        for tag, copy in copies.items():
            want = changed(copy)
            try:
                result = func(copy)
            except FileNotFoundError as err:
                return False, (f"your function fails when a file was deleted ({err}): a missing file counts as "
                               "changed; test path.is_file() before hashing it")
            if result is None:
                return False, "your function returns None: return a sorted list of file names"
            got = sorted(_relative_name(r, copy) for r in result)
            if got == want:
                continue
            if any(Path(g).is_absolute() for g in got):
                return False, (f"return names relative to the version folder, as in metadata['files'] "
                               f"(e.g. {intact[0]!r}), from the folder your function is given; got {got}")
            if "metadata.json" in got:
                return False, "metadata.json is not in its own files list: check only the files it lists"
            extra = sorted(set(got) - set(want))
            if extra and tag == "untouched":
                return False, (f"on the untouched copy your function reports {extra}, but they still match: hash "
                               "each file's bytes, hashlib.sha256(path.read_bytes()).hexdigest(), and compare "
                               "with metadata['files'][name]")
            if deleted in want and deleted not in got and tag != "one byte flipped":
                return False, f"{deleted!r} was deleted: a missing file counts as changed"
            if not got:
                return False, (f"after {tag} your function reports nothing: does it hash the files in the folder "
                               "it is given and compare them with metadata['files']?")
            if set(got) < set(want):
                return False, ("it stops after the first changed file (as registry.verify() does): "
                               "collect every file that differs")
            return False, f"after {tag}: expected {want}, got {got}"
    return True, (f"right on 3 copies of version {meta.get('version', '?')}: untouched, one byte flipped, "
                  "one file changed and another deleted")


# ------------------------------------------------------------------------------------ notebook 09
#: Exercise 09.1's game: coalition (players in alphabetical order, "" = nobody) -> value.
SHAPLEY_GAME = {"": 0, "A": 12, "B": 6, "C": 0, "AB": 24, "AC": 18, "BC": 6, "ABC": 30}


def _game_shapley(game: dict, players: str) -> np.ndarray:
    """Shapley values of a game given as {coalition string: value}, by averaging over all orders."""
    from itertools import permutations

    key = lambda members: "".join(sorted(members))  # noqa: E731
    phi = {p: 0.0 for p in players}
    orders = list(permutations(players))
    for order in orders:
        for k, p in enumerate(order):
            phi[p] += game[key(order[:k + 1])] - game[key(order[:k])]
    return np.array([phi[p] / len(orders) for p in players])


@exercise
def check_shapley_game(answer) -> tuple[bool, str]:
    """Exercise 09.1: the Shapley values ``[phi_A, phi_B, phi_C]`` of :data:`SHAPLEY_GAME` (a dict
    ``{"A": ..., "B": ..., "C": ...}`` is accepted too).

    Examples
    --------
    >>> check_shapley_game([18, 9, 3])
    ✓ Shapley values [18, 9, 3]: they add up to v(ABC) − v(∅) = 30, and A, which adds most wherever it joins, gets most
    True
    """
    players, game = "ABC", SHAPLEY_GAME
    if isinstance(answer, dict):
        if set(answer) != set(players):
            return False, f"a dict needs exactly the keys {list(players)}; got {sorted(answer)}"
        answer = [answer[p] for p in players]
    got = np.asarray(answer, dtype=float).ravel()
    if got.shape != (3,):
        return False, f"give three numbers [phi_A, phi_B, phi_C]; got {got.size}"
    want = _game_shapley(game, players)
    if np.allclose(got, want, atol=1e-6):
        return True, (f"Shapley values [{', '.join(f'{g:g}' for g in got)}]: they add up to v(ABC) − v(∅) = 30, and A, which adds "
                      "most wherever it joins, gets most")
    alone = np.array([game[p] - game[""] for p in players])
    last = np.array([game[players] - game[players.replace(p, "")] for p in players])
    in_order = np.array([game["A"] - game[""], game["AB"] - game["A"], game["ABC"] - game["AB"]])
    if np.allclose(got, alone):
        return False, ("those are the values alone, v({i}) − v(∅); they add up to 18, not to v(ABC) = 30. "
                       "Average each player's contribution over all six orders")
    if np.allclose(got, last):
        return False, ("those are the contributions of joining last, v(ABC) − v(ABC without i); average over all six "
                       "orders, where each player also joins first and second")
    if np.allclose(got, in_order):
        return False, ("that is one order (A, then B, then C); Shapley values average the contributions over "
                       "all 3! = 6 orders")
    if not np.isclose(got.sum(), game[players] - game[""]):
        return False, (f"your values add up to {got.sum():g}; efficiency says they must add up to v(ABC) − v(∅) = 30. "
                       "List the 6 orders and each player's contribution when it joins")
    return False, ("they add up to 30 but are not the Shapley values: for each of the 6 orders write down what each "
                   "player adds when it joins, then average per player")


@exercise
def check_top_shap_feature(answer, values, names) -> tuple[bool, str]:
    """Exercise 09.2: the name of the feature with the largest mean |SHAP value| over the rows of ``values``
    (shape (n, n_features), columns named by ``names``).

    Examples
    --------
    >>> check_top_shap_feature("b", np.array([[0.1, -2.0], [0.3, 1.0]]), ["a", "b"])
    ✓ 'b' has the largest mean |SHAP value| (1.5): on average it moves the output most
    True
    """
    values, names = np.asarray(values, dtype=float), list(names)
    mean_abs = np.abs(values).mean(axis=0)
    best = names[int(np.argmax(mean_abs))]
    if isinstance(answer, (int, np.integer)) and not isinstance(answer, bool) and 0 <= answer < len(names):
        right = "the right column" if names[int(answer)] == best else "a column"
        return False, f"{int(answer)} is {right}'s position; give its name instead: names[{int(answer)}] = {names[int(answer)]!r}"
    if not isinstance(answer, str) or answer not in names:
        return False, f"{answer!r} is not one of the column names; pick from names, e.g. {names[0]!r}"
    if answer == best:
        return True, f"{answer!r} has the largest mean |SHAP value| ({mean_abs.max():.3g}): on average it moves the output most"
    if answer == names[int(np.argmax(values.mean(axis=0)))]:
        return False, (f"{answer!r} has the largest mean *signed* SHAP value; importance takes the absolute value first: "
                       "np.abs(values).mean(axis=0)")
    if answer == names[int(np.argmax(np.abs(values.mean(axis=0))))]:
        return False, (f"{answer!r} has the largest |mean|, where positive and negative values cancel; take the mean of "
                       "the absolute values: np.abs(values).mean(axis=0)")
    if answer == names[int(np.argmax(np.abs(values).max(axis=0)))]:
        return False, (f"{answer!r} has the single largest |value| (one row); the question asks for the mean over all "
                       "rows: np.abs(values).mean(axis=0)")
    return False, (f"{answer!r} has mean |SHAP value| {mean_abs[names.index(answer)]:.3g}, the top column has "
                   f"{mean_abs.max():.3g}; compute np.abs(values).mean(axis=0) and take its argmax")


@exercise
def check_additivity(answer, values, base_value, prediction) -> tuple[bool, str]:
    """Exercise 09.3: one row's prediction rebuilt from its explanation, ``base_value + sum(values)``,
    checked against the model's own ``prediction`` (to 1e-4: float32 models).

    Examples
    --------
    >>> check_additivity(0.7, [0.3, -0.1], 0.5, 0.7)
    ✓ 0.5 + (0.2) = 0.7000, the model's prediction: base value + sum of attributions = output
    True
    """
    values = np.asarray(values, dtype=float).ravel()
    base, pred, got = float(np.ravel(base_value)[0]), float(np.ravel(prediction)[0]), float(np.ravel(answer)[0])
    if abs(got - pred) < 1e-4:
        return True, (f"{base:.4g} + ({values.sum():.4g}) = {got:.4f}, the model's prediction: base value + sum of "
                      "attributions = output")
    if abs(got - values.sum()) < 1e-6:
        return False, "that is only the sum of the attributions; add the base value (the mean output on the background)"
    if abs(got - base) < 1e-6:
        return False, "that is only the base value; add the sum of this row's attributions to it"
    if abs(got - (base - values.sum())) < 1e-6:
        return False, "the attributions are added to the base value, not subtracted"
    if abs(got - (base + values.mean())) < 1e-6:
        return False, "use the sum of the attributions, not their mean: every feature's share counts"
    return False, f"{got:.4f} is not the model's output {pred:.4f}; compute base_value + values.sum()"


# ------------------------------------------------------------------------------------ notebook 10
def _top_k_overlap(a, b, k: int, key=np.abs) -> float:
    """Share of the top ``k`` of ``key(a)`` that are also top ``k`` of ``key(b)`` (``explain.rank_agreement``'s
    top-k overlap, without importing scipy); ``key=np.asarray`` ranks by signed value, the usual mistake."""
    top_a = np.argsort(-key(np.asarray(a)), kind="stable")[:k]
    top_b = np.argsort(-key(np.asarray(b)), kind="stable")[:k]
    return len(set(top_a.tolist()) & set(top_b.tolist())) / k


@exercise
def check_kernel_width(width, f: Callable, x, training_data, num_samples: int = 2000, min_effective: float = 200,
                       min_gain: float = 0.02, seed: int = 0) -> tuple[bool, str]:
    """Exercise 10.1: a LIME kernel width for ``f`` at ``x`` whose local model fits better than lime's default
    width (R² higher by at least ``min_gain``) while keeping at least ``min_effective`` effective samples.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> train = rng.normal(size=(300, 3))
    >>> f = lambda rows: np.tanh(2 * rows[:, 0]) + rows[:, 1] ** 2
    >>> check_kernel_width(1.0, f, train[0], train, num_samples=1000, min_effective=100)
    ✓ width 1: R² 0.464 (lime's default 1.3 gives 0.375) with 609 effective samples of 1000 — more local, still well supported
    True
    """
    from aiaas_lib.explain import lime_tabular

    width = float(width)
    if not width > 0:
        return False, f"kernel width {width:g} must be a positive number (it divides the squared distance)"
    default = lime_tabular(f, x, training_data, num_samples=num_samples, seed=seed)
    exp = lime_tabular(f, x, training_data, num_samples=num_samples, kernel_width=width, seed=seed)
    if exp.effective_samples < min_effective:
        return False, (f"width {width:g} leaves only {exp.effective_samples:.0f} effective samples of {num_samples} "
                       f"(at least {min_effective:g} needed): so few samples decide the fit that it is noise — widen it")
    if exp.score < default.score + min_gain:
        return False, (f"width {width:g}: R² {exp.score:.3f}, not {min_gain:g} above lime's default width "
                       f"{default.kernel_width:.2f} ({default.score:.3f}); with {exp.effective_samples:.0f} effective "
                       "samples nearly every sample counts the same and the fit stays global — narrow it")
    return True, (f"width {width:g}: R² {exp.score:.3f} (lime's default {default.kernel_width:.2g} gives "
                  f"{default.score:.3f}) with {exp.effective_samples:.0f} effective samples of {num_samples} — "
                  "more local, still well supported")


@exercise
def check_top_k_overlap(func: Callable) -> tuple[bool, str]:
    """Exercise 10.2: ``func(a, b, k)`` returns the fraction of the ``k`` features with the largest
    ``|a|`` that are also among the ``k`` with the largest ``|b|``.

    Examples
    --------
    >>> check_top_k_overlap(lambda a, b, k: len(set(np.argsort(-np.abs(a))[:k]) & set(np.argsort(-np.abs(b))[:k])) / k)
    ✓ top-k overlap right: the share of the k largest |attributions| two methods have in common
    True
    """
    a = np.array([0.9, -0.8, 0.1, 0.05, -0.5, 0.3, 0.02, -0.2])
    b = np.array([0.6, -0.7, 0.2, 0.1, 0.05, -0.4, 0.3, -0.01])
    cases = [(a, b, 3), (a, b, 5), (b, a, 1), (a, a, 4)]
    rng = np.random.default_rng(10)
    cases += [(rng.normal(size=12), rng.normal(size=12), k) for k in (2, 4, 6)]
    for u, v, k in cases:
        got = func(u.copy(), v.copy(), k)
        if got is None:
            return False, "your function returns None: return a number between 0 and 1"
        got = float(got)
        want = _top_k_overlap(u, v, k)
        if np.isclose(got, want):
            continue
        if np.isclose(got, want * k):
            return False, f"for k={k} you return {got:g}, a count: divide by k to get a fraction"
        if np.isclose(got, _top_k_overlap(u, v, k, key=np.asarray)):
            return False, ("ranked by signed value: a large negative attribution is just as important — rank by "
                           "the absolute value |a|")
        return False, f"for k={k} the overlap is {want:g}, you return {got:g}; compare np.argsort(-np.abs(a))[:k] of both"
    return True, "top-k overlap right: the share of the k largest |attributions| two methods have in common"


def lime_seed_overlap(f: Callable, x, training_data, num_samples: int, seeds: int = 5, k: int = 5,
                      kernel_width: float | None = None) -> float:
    """How stable LIME's top ``k`` is: the mean top-``k`` overlap over all pairs of seeds ``0..seeds-1``.

    Examples
    --------
    >>> train = np.random.default_rng(0).normal(size=(200, 3))
    >>> lime_seed_overlap(lambda rows: rows @ np.array([3.0, -2.0, 1.0]), train[0], train, 200, k=2)
    1.0
    """
    from itertools import combinations

    from aiaas_lib.explain import lime_tabular, rank_agreement

    weights = [lime_tabular(f, x, training_data, num_samples=num_samples, kernel_width=kernel_width, seed=s).weights
               for s in range(seeds)]
    return float(np.mean([rank_agreement(weights[i], weights[j], k=k).top_k_overlap
                          for i, j in combinations(range(seeds), 2)]))


@exercise
def check_lime_samples(num_samples, f: Callable, x, training_data, grid: Sequence[int] = (250, 500, 1000, 2000, 5000),
                       min_overlap: float = 0.8, seeds: int = 5, k: int = 5) -> tuple[bool, str]:
    """Exercise 10.3: the cheapest ``num_samples`` of ``grid`` for which LIME's top ``k`` at ``x`` is stable:
    :func:`lime_seed_overlap` over ``seeds`` seeds at least ``min_overlap``.

    Examples
    --------
    >>> train = np.random.default_rng(0).normal(size=(200, 4))
    >>> f = lambda rows: np.sin(rows @ np.array([1.0, 0.8, 0.6, 0.4]))
    >>> check_lime_samples(100, f, train[0], train, grid=(20, 100, 400), k=2)
    ✓ 100 samples: the top 2 agree 100% across 5 seeds (20 samples give only 70%) — the cheapest stable setting
    True
    """
    grid = sorted(int(n) for n in grid)
    if num_samples not in grid:
        return False, f"num_samples={num_samples!r}; pick one of the grid {grid}"
    overlaps = {n: lime_seed_overlap(f, x, training_data, n, seeds=seeds, k=k) for n in grid}
    stable = [n for n in grid if overlaps[n] >= min_overlap]
    if not stable:
        return False, f"no setting of the grid reaches {min_overlap:.0%}; overlaps {overlaps}"
    best, n = stable[0], int(num_samples)
    if overlaps[n] < min_overlap:
        return False, (f"{n} samples: the top {k} agree only {overlaps[n]:.0%} across {seeds} seeds (needed "
                       f"{min_overlap:.0%}) — more samples average out the sampling noise")
    if n > best:
        return False, (f"{n} samples are stable ({overlaps[n]:.0%}) but {best} already reach {overlaps[best]:.0%} "
                       f"at a fraction of the cost — pick the cheapest")
    below = [m for m in grid if m < n]
    cheaper = f" ({below[-1]} samples give only {overlaps[below[-1]]:.0%})" if below else ""
    return True, (f"{n} samples: the top {k} agree {overlaps[n]:.0%} across {seeds} seeds{cheaper} — the cheapest "
                  "stable setting")


# ------------------------------------------------------------------------------------ notebook 12
def _churn_rows_12(n: int = 2) -> list[dict]:
    """The first ``n`` raw churn rows as JSON-ready dicts (exercise 12.1's rows)."""
    import json

    from aiaas_lib import data

    X, _ = data.churn_xy(data.load_churn())
    return json.loads(X.iloc[:n].to_json(orient="records"))


@exercise
def check_tfserving_body(body) -> tuple[bool, str]:
    """Exercise 12.1: the TF Serving REST body (row format) that asks for predictions of the first two raw
    churn rows, ``X.iloc[:2]``: ``{"instances": [row0, row1]}`` with each row a dict of its 19 raw columns.
    The check also makes sure it is JSON (no NumPy or pandas objects left) and valid for the model's schema.

    Examples
    --------
    >>> from aiaas_lib import data
    >>> X, _ = data.churn_xy(data.load_churn())
    >>> check_tfserving_body({"instances": X.iloc[:2].to_dict("records")})
    ✓ a valid TF Serving row-format body: {"instances": [2 rows of 19 raw columns]}
    True
    """
    import json

    import pandas as pd

    from aiaas_lib import data
    from aiaas_lib.schema import SchemaError, input_schema, validate_rows

    if isinstance(body, (pd.DataFrame, pd.Series)):
        return False, "that is a pandas object, not a request body: build a dict, e.g. X.iloc[:2].to_dict('records')"
    if isinstance(body, list):
        return False, 'a bare list of rows: TF Serving wants them wrapped in an object, {"instances": [...]}'
    if not isinstance(body, dict):
        return False, f'the body must be a dict like {{"instances": [...]}}, got {type(body).__name__}'
    if "features" in body:
        return False, ('"features" is the source design\'s own format (encoded numbers); TF Serving\'s row format '
                       'is {"instances": [raw rows as dicts]}')
    if "inputs" in body and "instances" not in body:
        return False, ('"inputs" is TF Serving\'s columnar format; this exercise asks for the row format: '
                       '{"instances": [row0, row1]}')
    if set(body) != {"instances"}:
        return False, f'the body must have exactly one key, "instances"; got {sorted(body)}'
    rows = body["instances"]
    if not isinstance(rows, list) or any(not isinstance(r, dict) for r in rows):
        return False, '"instances" must be a list of rows, each a dict of column -> value (to_dict("records"))'
    if len(rows) != 2:
        return False, f"send the first two rows (X.iloc[:2]); got {len(rows)} rows"
    try:
        json.dumps(body)
    except TypeError as err:
        return False, f"the body is not JSON-serialisable ({err}): convert NumPy values, e.g. via X.iloc[:2].to_json"
    X, _ = data.churn_xy(data.load_churn())
    schema = input_schema(X, data.CHURN_NUMERIC, data.CHURN_CATEGORICAL)
    try:
        validate_rows(rows, schema)
    except SchemaError as err:
        return False, f"the service would answer 400: {err}"
    if rows != _churn_rows_12(2):
        return False, "valid rows, but not the first two: use X.iloc[:2] (raw values, unchanged)"
    return True, 'a valid TF Serving row-format body: {"instances": [2 rows of 19 raw columns]}'


#: Exercise 12.2's latencies in seconds (seeded log-normal, like real request latencies: a long right tail).
LATENCIES_12 = np.round(np.random.default_rng(12).lognormal(np.log(0.004), 0.6, size=500), 6).tolist()


@exercise
def check_latency_percentiles(answer) -> tuple[bool, str]:
    """Exercise 12.2: ``(p50_ms, p99_ms)`` of ``LATENCIES_12`` (seconds), in milliseconds, as
    ``np.percentile`` computes them (to 0.01 ms).

    Examples
    --------
    >>> lat = np.array(LATENCIES_12)
    >>> check_latency_percentiles((np.percentile(lat, 50) * 1000, np.percentile(lat, 99) * 1000))
    ✓ p50 = 4.06 ms, p99 = 14.45 ms: half the requests take longer than the median, one in a hundred longer than p99
    True
    """
    lat = np.asarray(LATENCIES_12)
    p50, p99 = np.percentile(lat, 50) * 1000, np.percentile(lat, 99) * 1000
    got = np.asarray(answer, dtype=np.float64).ravel()
    if got.shape != (2,):
        return False, f"give two numbers (p50_ms, p99_ms), got {got.size}"
    a, b = got

    def close(x, y):
        return abs(x - y) <= 0.01  # 0.01 ms: any interpolation detail stays far below the hints' differences

    if close(a, p50) and close(b, p99):
        return True, (f"p50 = {p50:.2f} ms, p99 = {p99:.2f} ms: half the requests take longer than the median, "
                      "one in a hundred longer than p99")
    if close(a * 1000, p50) or close(b * 1000, p99):
        return False, "those are seconds: the latencies are in seconds, multiply by 1000 for milliseconds"
    if close(a, p99) and close(b, p50):
        return False, "swapped: give (p50, p99) in that order"
    if close(a, lat.mean() * 1000):
        return False, "that is the mean; p50 is the median (np.percentile(lat, 50)), which a long tail moves less"
    if close(b, lat.max() * 1000):
        return False, "that is the maximum; p99 is np.percentile(lat, 99), the value 99 % of requests stay below"
    if close(a, p50) and not close(b, p99):
        return False, f"p50 is right; p99 = np.percentile(lat, 99) * 1000, got {b:.2f}"
    return False, f"expected about ({p50:.2f}, {p99:.2f}) ms, got ({a:.2f}, {b:.2f})"


#: Exercise 12.3's failures: key -> what happened.
FAILURES_12 = {
    "no_key": "the request has no Authorization header, and the service has API keys",
    "bad_json": 'the body is {"instances": [  (cut off: not valid JSON)',
    "unknown_model": "POST /v1/models/churn2:predict, but only 'churn' is served",
    "too_many": "2,000 rows in one request; the service allows max_instances=1024",
    "queue_full": "micro-batching is on and its queue already holds batch_queue_size requests",
    "rate_limited": "the client used up its token bucket (rate_limit_per_minute)",
}
_STATUS_12 = {"no_key": 401, "bad_json": 400, "unknown_model": 404, "too_many": 413, "queue_full": 503,
              "rate_limited": 429}
_STATUS_HINTS_12 = {
    "no_key": "401 Unauthorized: no (or a wrong) credential; 403 would mean 'known, but not allowed'",
    "bad_json": "400 Bad Request: the client sent something the service cannot read",
    "unknown_model": "404 Not Found: the path names a model the service does not have",
    "too_many": "413 Content Too Large: the request is bigger than the service's limit (split it)",
    "queue_full": "503 Service Unavailable (with Retry-After): the service is overloaded right now, retry later",
    "rate_limited": "429 Too Many Requests (with Retry-After): this client sends too fast",
}


@exercise
def check_status_codes(answer) -> tuple[bool, str]:
    """Exercise 12.3: the HTTP status the service answers for each failure of ``FAILURES_12``, as a dict
    key -> int.

    Examples
    --------
    >>> check_status_codes({"no_key": 401, "bad_json": 400, "unknown_model": 404, "too_many": 413,
    ...                     "queue_full": 503, "rate_limited": 429})
    ✓ all 6 status codes right: 4xx = the client must change the request, 503 = retry later
    True
    """
    if not isinstance(answer, dict):
        return False, f"give a dict failure -> status code, e.g. {{'no_key': ...}}; got {type(answer).__name__}"
    missing = sorted(set(_STATUS_12) - set(answer))
    if missing:
        return False, f"no status for {missing}; the failures are {sorted(_STATUS_12)}"
    wrong = [k for k in _STATUS_12 if answer[k] != _STATUS_12[k]]
    if not wrong:
        return True, "all 6 status codes right: 4xx = the client must change the request, 503 = retry later"
    if any(isinstance(answer[k], str) for k in wrong):
        return False, "give the status codes as integers, e.g. 404, not strings"
    k = wrong[0]
    more = f" ({len(wrong) - 1} more wrong)" if len(wrong) > 1 else ""
    return False, f"{k!r}: {answer[k]!r} is not it — {_STATUS_HINTS_12[k]}{more}"


# ------------------------------------------------------------------------------------ notebook 13
LOGITS_13 = (2.0, 1.5, 1.0, 0.5, 0.0)
"""Exercise 13.1: raw next-token logits of a 5-token vocabulary."""
COUNTS_13 = (3, 0, 1, 0, 2)
"""Exercise 13.1: how often each token was generated so far."""
PENALTIES_13 = {"frequency_penalty": 0.5, "presence_penalty": 0.4}
"""Exercise 13.1: the request's penalties."""
PROBS_13 = (0.05, 0.4, 0.1, 0.25, 0.15, 0.05)
"""Exercise 13.2: next-token probabilities of a 6-token vocabulary."""
TOP_P_13 = 0.75
"""Exercise 13.2: the request's ``top_p``."""
CHAT_TASK_13 = {"model": "tiny-gpt", "content": "Define CYNIC.", "max_tokens": 40, "temperature": 0.7}
"""Exercise 13.3: what the chat request must ask for (and it must be streamed)."""


@exercise
def check_penalized_logits(answer) -> tuple[bool, str]:
    """Exercise 13.1: ``LOGITS_13`` after OpenAI's frequency and presence penalties (``PENALTIES_13``) for the
    generated-token counts ``COUNTS_13``: ``logit_j - c_j * frequency_penalty - [c_j > 0] * presence_penalty``.

    Examples
    --------
    >>> check_penalized_logits([0.1, 1.5, 0.1, 0.5, -1.4])
    ✓ penalised logits [0.1, 1.5, 0.1, 0.5, -1.4]: tokens never generated keep their logits
    True
    """
    logits, counts = np.array(LOGITS_13), np.array(COUNTS_13)
    fp, pp = PENALTIES_13["frequency_penalty"], PENALTIES_13["presence_penalty"]
    value = np.asarray(answer, dtype=np.float64).ravel()
    if value.shape != logits.shape:
        return False, f"give one logit per token: {len(logits)} values, got {value.size}"
    expected = logits - counts * fp - (counts > 0) * pp

    def near(x):
        return bool(np.allclose(value, x, atol=1e-9))

    if near(expected):
        return True, f"penalised logits {np.round(expected, 4).tolist()}: tokens never generated keep their logits"
    if near(logits + counts * fp + (counts > 0) * pp):
        return False, "the signs are reversed: penalties are subtracted, so repeated tokens become less likely"
    if near(logits - counts * fp):
        return False, "only the frequency penalty was applied; subtract presence_penalty once for every token with c_j > 0"
    if near(logits - (counts > 0) * pp):
        return False, "only the presence penalty was applied; also subtract c_j * frequency_penalty"
    if near(logits - counts * fp - pp):
        return False, "the presence penalty applies only to tokens already generated (c_j > 0), not to all"
    if near(logits - counts * (fp + pp)):
        return False, "the presence penalty is charged once per token that occurred, not once per occurrence"
    if near(logits - (counts > 0) * fp - counts * pp):
        return False, "frequency and presence are swapped: frequency scales with the count, presence is a flat charge"
    return False, f"{np.round(value, 4).tolist()} is not it; apply logit_j - c_j*frequency_penalty - [c_j>0]*presence_penalty"


@exercise
def check_top_p_set(answer) -> tuple[bool, str]:
    """Exercise 13.2: the token ids that top-p (nucleus) sampling with ``top_p = TOP_P_13`` keeps from
    ``PROBS_13``: the smallest set of most likely tokens whose probabilities sum to at least ``top_p``
    (a set or list of ids, or a boolean mask).

    Examples
    --------
    >>> check_top_p_set({1, 3, 4})
    ✓ kept {1, 3, 4}: 0.4 + 0.25 + 0.15 = 0.8 ≥ 0.75; the other tokens get probability 0
    True
    """
    probs = np.array(PROBS_13)
    order = np.argsort(-probs, kind="stable")
    n_keep = int(np.searchsorted(np.cumsum(probs[order]), TOP_P_13 - 1e-12)) + 1
    expected = {int(i) for i in order[:n_keep]}
    raw = np.asarray(list(answer) if isinstance(answer, (set, frozenset)) else answer).ravel()
    if raw.dtype == bool:
        if raw.size != probs.size:
            return False, f"a boolean mask needs one entry per token ({probs.size}); got {raw.size}"
        got = {int(i) for i in np.flatnonzero(raw)}
    elif raw.size and np.issubdtype(raw.dtype, np.floating) and not np.all(raw == np.round(raw)):
        return False, "those look like probabilities; give the token ids (positions in PROBS_13) that are kept"
    else:
        got = {int(i) for i in raw}
    if got == expected:
        kept = " + ".join(f"{probs[i]:g}" for i in order[:n_keep])
        return True, (f"kept {sorted(expected)}".replace("[", "{").replace("]", "}")
                      + f": {kept} = {probs[order[:n_keep]].sum():.2g} ≥ {TOP_P_13}; the other tokens get probability 0")
    if got == set(int(i) for i in order[:n_keep - 1]):
        return False, ("those sum to less than top_p; the set must *reach* top_p, so it includes the token that "
                       "crosses the threshold")
    if got == set(int(i) for i in order[:n_keep + 1]):
        return False, "one token too many: stop as soon as the running sum reaches top_p"
    if got == set(int(i) for i in np.argsort(probs, kind="stable")[:n_keep]):
        return False, "those are the least likely tokens; sort by probability, largest first"
    if got and not got <= set(range(probs.size)):
        return False, f"token ids must be in 0..{probs.size - 1}"
    return False, f"{sorted(got)} is not it; sort the probabilities largest first and accumulate until the sum ≥ {TOP_P_13}"


@exercise
def check_chat_request(body) -> tuple[bool, str]:
    """Exercise 13.3: the JSON body of ``POST /v1/chat/completions`` that asks ``tiny-gpt`` to answer the user
    message "Define CYNIC." with at most 40 tokens at temperature 0.7, streamed (``CHAT_TASK_13``).
    ``max_completion_tokens`` is accepted in place of ``max_tokens``.

    Examples
    --------
    >>> check_chat_request({"model": "tiny-gpt", "messages": [{"role": "user", "content": "Define CYNIC."}],
    ...                     "max_tokens": 40, "temperature": 0.7, "stream": True})
    ✓ a valid streamed chat request: model, messages (1 user turn), max_tokens 40, temperature 0.7
    True
    """
    import json

    from aiaas_lib.serving.openai_api import CHAT_FIELDS

    task = CHAT_TASK_13
    if not isinstance(body, dict):
        return False, f"the body is a JSON object (a dict); got {type(body).__name__}"
    if "engine" in body:
        return False, '"engine" is the legacy API (openai<1.0); today\'s field is "model"'
    if "prompt" in body and "messages" not in body:
        return False, '"prompt" belongs to /v1/completions; a chat request sends "messages": [{"role": ..., "content": ...}]'
    unknown = sorted(set(body) - CHAT_FIELDS)
    if unknown:
        return False, f"the service refuses unknown fields with 400: {unknown}; allowed are e.g. model, messages, max_tokens"
    try:
        json.dumps(body)
    except TypeError as err:
        return False, f"the body must be JSON-serialisable ({err})"
    if body.get("model") != task["model"]:
        return False, f'"model" must be {task["model"]!r}; got {body.get("model")!r}'
    messages = body.get("messages")
    if isinstance(messages, str):
        return False, '"messages" is a list of {"role": ..., "content": ...} dicts, not a string'
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        return False, '"messages" must be a non-empty list of {"role": ..., "content": ...} dicts'
    last = messages[-1]
    if last.get("role") != "user":
        return False, f'the question is the user\'s turn: role "user"; got {last.get("role")!r}'
    if last.get("content") != task["content"]:
        return False, f'the user\'s content must be {task["content"]!r}; got {last.get("content")!r}'
    if body.get("stream") is not True:
        return False, '"stream" must be the JSON boolean true (Python True), not ' + repr(body.get("stream"))
    limit = body.get("max_tokens", body.get("max_completion_tokens"))
    if limit != task["max_tokens"] or isinstance(limit, bool):
        return False, f'limit the reply with "max_tokens": {task["max_tokens"]}; got {limit!r}'
    temperature = body.get("temperature")
    if isinstance(temperature, str) or temperature is None or abs(float(temperature) - task["temperature"]) > 1e-12:
        return False, f'"temperature" must be the number {task["temperature"]}; got {temperature!r}'
    return True, (f"a valid streamed chat request: model, messages ({len(messages)} user turn), "
                  f"max_tokens {limit}, temperature {temperature}")


# ------------------------------------------------------------------------------------ notebook 17
#: Exercise 17.1: a global batch over several machines with several replicas (devices) each.
BATCH_TASK_17 = {"global_batch": 256, "workers": 4, "replicas_per_worker": 2}
#: Exercise 17.2: each worker's gradient of the mean loss over its own 32 rows (global batch 64).
GRADIENTS_17 = (np.array([0.4, -1.0, 2.0]), np.array([0.2, 0.6, -1.0]))
#: Exercise 17.3: plan replicas for a target load from a measured per-replica throughput.
REPLICA_TASK_17 = {"target_rps": 1000, "per_replica_rps": 180, "utilization": 0.7}


@exercise
def check_per_replica_batch(batch) -> tuple[bool, str]:
    """Exercise 17.1: rows each replica computes per step for ``BATCH_TASK_17`` (global batch 256 on 4 workers
    with 2 replicas each).

    Examples
    --------
    >>> check_per_replica_batch(32)
    ✓ 256 rows / (4 workers × 2 replicas) = 32 rows per replica per step
    True
    """
    t = BATCH_TASK_17
    replicas = t["workers"] * t["replicas_per_worker"]
    right = t["global_batch"] // replicas
    if isinstance(batch, bool) or float(batch) != int(float(batch)):
        return False, f"a batch is a whole number of rows; got {batch!r}"
    batch = int(float(batch))
    if batch == right:
        return True, (f"{t['global_batch']} rows / ({t['workers']} workers × {t['replicas_per_worker']} replicas) = "
                      f"{right} rows per replica per step")
    if batch == t["global_batch"] // t["workers"]:
        return False, "that is the batch of one worker; each worker splits it again over its replicas"
    if batch == t["global_batch"] // t["replicas_per_worker"]:
        return False, "you divided by the replicas of one worker only; every replica on every worker takes a slice"
    if batch == t["global_batch"]:
        return False, "that is the global batch: all replicas together compute it, each a slice"
    if batch == t["global_batch"] * replicas:
        return False, "the global batch is split over the replicas, not multiplied"
    return False, f"{batch} is not it; divide the global batch by the number of replicas in sync"


@exercise
def check_averaged_gradient(gradient) -> tuple[bool, str]:
    """Exercise 17.2: the gradient every worker applies after the all-reduce, given ``GRADIENTS_17`` (each
    worker's gradient of the mean loss over its own equal slice of the global batch).

    Examples
    --------
    >>> check_averaged_gradient((GRADIENTS_17[0] + GRADIENTS_17[1]) / 2)
    ✓ the mean of the two workers' gradients [0.3, -0.2, 0.5]: the gradient of the mean loss over the global batch
    True
    """
    g1, g2 = GRADIENTS_17
    right = (g1 + g2) / 2
    got = np.asarray(gradient, dtype=np.float64)
    if got.shape != right.shape:
        return False, f"the gradient has one entry per weight: shape {right.shape}; got {got.shape}"
    if np.allclose(got, right):
        return True, (f"the mean of the two workers' gradients {np.round(right, 4).tolist()}: the gradient of the mean "
                      "loss over the global batch")
    if np.allclose(got, g1 + g2):
        return False, ("the sum of two *mean* gradients counts every row twice as much: each worker's gradient is "
                       "over half the batch, so average them (or sum gradients of sum/global_batch losses)")
    if np.allclose(got, g1) or np.allclose(got, g2):
        return False, "that is one worker's gradient; the all-reduce combines both, so every worker applies the same"
    if np.allclose(got, np.full_like(right, right.mean())):
        return False, "average the two vectors entry by entry, not all entries into one number"
    return False, "not it: combine the two vectors so that every row of the global batch has the same weight"


@exercise
def check_replicas_for_target(replicas) -> tuple[bool, str]:
    """Exercise 17.3: the fewest replicas that serve ``REPLICA_TASK_17["target_rps"]`` requests/s when one
    replica was measured at ``per_replica_rps`` and replicas should run at most ``utilization`` busy.

    Examples
    --------
    >>> check_replicas_for_target(8)
    ✓ ceil(1000 / (180 × 0.7)) = 8 replicas: 1008 requests/s of capacity at 70% load
    True
    """
    import math

    t = REPLICA_TASK_17
    capacity = t["per_replica_rps"] * t["utilization"]
    right = math.ceil(t["target_rps"] / capacity)
    if isinstance(replicas, bool) or float(replicas) != int(float(replicas)):
        return False, f"replicas come whole: round up; got {replicas!r}"
    replicas = int(float(replicas))
    if replicas == right:
        return True, (f"ceil({t['target_rps']} / ({t['per_replica_rps']} × {t['utilization']})) = {right} replicas: "
                      f"{round(right * capacity)} requests/s of capacity at {t['utilization']:.0%} load")
    if replicas == math.ceil(t["target_rps"] / t["per_replica_rps"]):
        return False, (f"that runs every replica at 100 %: latency explodes near saturation; plan for "
                       f"{t['utilization']:.0%} busy")
    if replicas == math.floor(t["target_rps"] / capacity):
        return False, "round up, not down: a fraction of a replica is a whole one"
    return False, f"{replicas} is not it; divide the target by what one replica should carry (rate × utilization)"


# ------------------------------------------------------------------------------------ notebook 15
WEIGHTS_15 = ((0.254, -0.5, 0.02), (-1.016, 0.3, -0.04), (0.127, 0.1, 0.01))
"""Exercise 15.1: a Dense kernel (3 inputs × 3 outputs; one output channel per column)."""
TENSOR_15 = (0.3, -0.05, 0.8, -0.2, 0.05, -0.6, 0.1, 0.2)
"""Exercise 15.2: a kernel to prune."""
SPARSITY_15 = 0.6
"""Exercise 15.2: the requested sparsity."""
KD_15 = {"student": (2.0, 1.0, -1.0), "teacher": (3.0, 0.0, 1.0), "label": 0, "temperature": 2.0, "alpha": 0.3}
"""Exercise 15.3: one row's student and teacher logits, its label, and the KD settings."""


@exercise
def check_weight_scales(answer) -> tuple[bool, str]:
    """Exercise 15.1: the per-output-channel scales of symmetric int8 quantization of ``WEIGHTS_15``
    (zero point 0, :math:`s_j = \\max_i |w_{ij}| / 127`), one per column.

    Examples
    --------
    >>> check_weight_scales([0.008, 0.003937, 0.000315])
    ✓ scales [0.008, 0.003937, 0.000315]: the largest |w| of each column maps to ±127
    True
    """
    w = np.array(WEIGHTS_15)
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
    """Exercise 15.2: ``TENSOR_15`` after magnitude pruning to ``SPARSITY_15``: exactly
    :math:`\\lfloor s\\,n \\rfloor` weights of smallest :math:`|w|` set to 0 (ties: lower index first).

    Examples
    --------
    >>> check_pruned_tensor([0.3, 0, 0.8, 0, 0, -0.6, 0, 0.2])
    ✓ 4 of 8 weights zeroed (floor(0.6 × 8) = 4): the smallest |w|, ties broken by index
    True
    """
    from aiaas_lib.compression.prune import magnitude_mask, n_pruned

    w = np.array(TENSOR_15)
    value = np.asarray(answer, dtype=np.float64).ravel()
    if value.shape != w.shape:
        return False, f"give the whole pruned tensor: {w.size} values, got {value.size}"
    k = n_pruned(w.size, SPARSITY_15)
    expected = w * magnitude_mask(w, SPARSITY_15)
    if np.allclose(value, expected):
        return True, f"{k} of {w.size} weights zeroed (floor({SPARSITY_15} × {w.size}) = {k}): the smallest |w|, ties broken by index"
    zeros = int(np.sum(value == 0))
    if not np.all((value == 0) | np.isclose(value, w)):
        return False, "pruning sets weights to 0 and leaves the others unchanged; do not rescale the kept ones"
    if zeros == round(SPARSITY_15 * w.size) and zeros != k:
        return False, f"{zeros} zeros: that rounds s × n = {SPARSITY_15 * w.size:g}; the definition takes the floor ({k})"
    if zeros == k:
        order_signed = np.argsort(w, kind="stable")[:k]
        if np.allclose(value, np.where(np.isin(np.arange(w.size), order_signed), 0, w)):
            return False, "those are the most negative weights; prune by magnitude |w|"
        largest = np.argsort(-np.abs(w), kind="stable")[:k]
        if np.allclose(value, np.where(np.isin(np.arange(w.size), largest), 0, w)):
            return False, "those are the largest weights; magnitude pruning removes the *smallest* |w|"
        if np.allclose(np.abs(value) > 0, np.abs(w * magnitude_mask(w[::-1], SPARSITY_15)[::-1]) > 0):
            return False, "a tie (two weights with the same |w|) went the wrong way: the lower index is pruned first"
        return False, "the right number of zeros, but not the right ones: sort by |w| (ties: lower index first)"
    return False, f"{zeros} zeros; pruning {SPARSITY_15} of {w.size} weights zeroes floor({SPARSITY_15} × {w.size}) = {k}"


@exercise
def check_kd_loss_value(answer) -> tuple[bool, str]:
    """Exercise 15.3: the KD loss of the row in ``KD_15``:
    :math:`\\alpha\\,\\mathrm{CE}(y, \\mathrm{softmax}(z_s)) + (1-\\alpha)\\,T^2\\,\\mathrm{KL}(\\mathrm{softmax}(z_t/T)\\,\\|\\,\\mathrm{softmax}(z_s/T))`.

    Examples
    --------
    >>> check_kd_loss_value(0.4271)
    ✓ KD loss 0.4271 = 0.3 × CE 0.3490 + 0.7 × 2² × KL 0.1151
    True
    """
    from aiaas_lib.compression.distill import soft_targets

    s, t = np.array(KD_15["student"]), np.array(KD_15["teacher"])
    y, T, a = KD_15["label"], KD_15["temperature"], KD_15["alpha"]
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


# ------------------------------------------------------------------------------------ notebook 14
#: Exercise 14.1: shares of one feature over four bins, in the reference and in this week's window.
SHARES_14 = {"expected": (0.25, 0.25, 0.25, 0.25), "actual": (0.10, 0.20, 0.30, 0.40)}
#: Exercise 14.2: PSI of five features in one window.
PSI_VALUES_14 = {"tenure": 0.31, "monthly_charges": 0.1, "contract": 0.249, "gender": 0.004, "prediction": 0.25}


@exercise
def check_psi_value(value) -> tuple[bool, str]:
    """Exercise 14.1: the PSI of :data:`SHARES_14` (actual against expected).

    Examples
    --------
    >>> e, a = np.array(SHARES_14["expected"]), np.array(SHARES_14["actual"])
    >>> check_psi_value(float(np.sum((a - e) * np.log(a / e))))
    ✓ PSI 0.2282: a moderate shift (0.1-0.25), worth a look
    True
    """
    e, a = np.array(SHARES_14["expected"]), np.array(SHARES_14["actual"])
    expected = float(np.sum((a - e) * np.log(a / e)))
    value = float(value)
    near = lambda x: abs(value - x) < 5e-4  # noqa: E731 — answers rounded to 3-4 decimals pass
    if near(expected):
        return True, f"PSI {value:.4f}: a moderate shift (0.1-0.25), worth a look"
    if near(float(np.sum(a * np.log(a / e)))) or near(float(np.sum(e * np.log(e / a)))):
        return False, "that is one KL divergence; PSI is their sum: weight ln(a/e) by (a − e), not by a or e"
    if near(float(np.sum((a - e) * np.log10(a / e)))):
        return False, "use the natural logarithm (np.log), not log10: the 0.1 / 0.25 thresholds assume ln"
    if near(float(np.sum((a - e) * np.log(a / e))) * 100) or near(float(np.sum((a - e) * 100 * np.log(a / e)))):
        return False, "use shares (fractions summing to 1), not percentages"
    if near(float(np.sum(np.abs(a - e)))) or near(float(np.sum((a - e) ** 2))):
        return False, "that is a distance between the shares, not the PSI: sum (a − e)·ln(a/e)"
    return False, f"{value!r} is not it; sum (a_i − e_i)·ln(a_i/e_i) over the four bins"


@exercise
def check_alert_levels(levels) -> tuple[bool, str]:
    """Exercise 14.2: the alert level (``"ok"``, ``"warn"``, ``"alert"``) of each feature of
    :data:`PSI_VALUES_14`, as a dict, with the thresholds 0.1 (warn) and 0.25 (alert), both inclusive.

    Examples
    --------
    >>> from aiaas_lib.monitoring import alert_level
    >>> check_alert_levels({k: alert_level(v) for k, v in PSI_VALUES_14.items()})
    ✓ all 5 levels right: tenure and prediction alert, monthly_charges and contract warn
    True
    """
    from aiaas_lib.monitoring import alert_level

    expected = {k: alert_level(v) for k, v in PSI_VALUES_14.items()}
    if not isinstance(levels, dict):
        return False, f"give a dict feature → level, e.g. {{'tenure': 'alert', ...}}; got {type(levels).__name__}"
    missing = sorted(set(expected) - set(levels))
    if missing:
        return False, f"levels for {missing} are missing; give one for each of {list(PSI_VALUES_14)}"
    bad = {k: v for k, v in levels.items() if v not in ("ok", "warn", "alert")}
    if bad:
        return False, f"levels must be 'ok', 'warn' or 'alert'; got {bad}"
    wrong = sorted(k for k in expected if levels[k] != expected[k])
    if not wrong:
        return True, "all 5 levels right: tenure and prediction alert, monthly_charges and contract warn"
    if any(PSI_VALUES_14[k] in (0.1, 0.25) for k in wrong):
        return False, f"wrong for {wrong}: a PSI exactly at a threshold reaches that level (>=, not >)"
    return False, f"wrong for {wrong}: below 0.1 is ok, from 0.1 warn, from 0.25 alert"


def _decision_cases_14() -> list[tuple[dict, dict, str]]:
    """(stable, canary, right decision) cases for exercise 14.3."""
    def m(auc, loss):
        return {"roc_auc": auc, "log_loss": loss}

    return [
        (m(0.80, 0.50), m(0.83, 0.45), "promote"),   # better on both
        (m(0.80, 0.50), m(0.795, 0.47), "promote"),  # AUC within the 0.01 tolerance, better calibrated
        (m(0.80, 0.50), m(0.78, 0.45), "rollback"),  # AUC 0.02 worse
        (m(0.80, 0.50), m(0.84, 0.55), "rollback"),  # better ranking but worse log loss
        (m(0.80, 0.50), m(0.80, 0.50), "promote"),   # a tie: no worse, so promote
    ]


@exercise
def check_promote_decision(func) -> tuple[bool, str]:
    """Exercise 14.3: ``func(stable, canary) -> "promote" | "rollback"``: promote when the canary's ROC-AUC is
    at most 0.01 below the stable's and its log loss is not higher (dicts with ``roc_auc``, ``log_loss``).

    Examples
    --------
    >>> def decide(stable, canary):
    ...     ok = canary["roc_auc"] >= stable["roc_auc"] - 0.01 and canary["log_loss"] <= stable["log_loss"]
    ...     return "promote" if ok else "rollback"
    >>> check_promote_decision(decide)
    ✓ right on all 5 cases: promote only when the canary is no worse (within the tolerance)
    True
    """
    if not callable(func):
        return False, f"give a function decide(stable, canary), got {type(func).__name__}"
    cases = _decision_cases_14()
    answers = [func(dict(s), dict(c)) for s, c, _ in cases]
    if any(isinstance(a, bool) for a in answers):
        return False, "return the string 'promote' or 'rollback', not True/False"
    if any(a not in ("promote", "rollback") for a in answers):
        return False, f"return 'promote' or 'rollback'; got {sorted({repr(a) for a in answers})}"
    wrong = [i for i, (a, (_, _, right)) in enumerate(zip(answers, cases)) if a != right]
    if not wrong:
        return True, "right on all 5 cases: promote only when the canary is no worse (within the tolerance)"
    if wrong == [4]:
        return False, "a tie counts as no worse: use >= for the AUC tolerance and <= for the log loss"
    if 1 in wrong and set(wrong) <= {1, 4}:
        return False, "an AUC up to 0.01 below the stable one is allowed: compare with stable − 0.01, using >="
    if wrong == [3]:
        return False, "a better ROC-AUC is not enough: the canary's log loss must not be higher (calibration)"
    return False, f"wrong decision for cases {wrong}; check both conditions: AUC tolerance and log loss"


# ------------------------------------------------------------------------------------ notebook 16
#: Exercise 16.1: three clients' weights (one tensor of 2 numbers each) and their numbers of examples.
FEDAVG_16 = {"weights": ((1.0, 2.0), (3.0, 0.0), (5.0, 4.0)), "sizes": (10, 30, 60)}
#: Exercise 16.2: one example's gradient and the clipping norm C.
CLIP_16 = {"gradient": (6.0, -8.0, 0.0), "clip_norm": 2.5}
#: Exercise 16.3: pixels, the loss gradient at them, and the budget ε.
FGSM_16 = {"x": (0.5, 0.97, 0.02, 0.3), "gradient": (0.8, 0.01, -3.0, 0.0), "eps": 0.05}


def _vector_16(answer, n: int) -> np.ndarray | str:
    """The answer as a float vector of length ``n``, or a message saying why not."""
    arr = np.asarray(answer, dtype="float64").ravel()
    if arr.size != n:
        return f"expected {n} numbers, got {arr.size}"
    return arr


@exercise
def check_fedavg(answer) -> tuple[bool, str]:
    """Exercise 16.1: the FedAvg of ``FEDAVG_16["weights"]`` with client sizes ``FEDAVG_16["sizes"]``.

    Examples
    --------
    >>> check_fedavg([4.0, 2.6])
    ✓ [4.0, 2.6]: each client weighted by n_k / n = 0.1, 0.3, 0.6
    True
    """
    w, n = np.array(FEDAVG_16["weights"]), np.array(FEDAVG_16["sizes"], dtype="float64")
    got = _vector_16(answer, w.shape[1])
    if isinstance(got, str):
        return False, got + " (one averaged value per weight)"
    right = (n[:, None] * w).sum(axis=0) / n.sum()
    if np.allclose(got, right, atol=1e-9):
        return True, f"{np.round(got, 6).tolist()}: each client weighted by n_k / n = 0.1, 0.3, 0.6"
    if np.allclose(got, w.mean(axis=0)):
        return False, "that is the plain mean; FedAvg weights each client by its number of examples n_k / n"
    if np.allclose(got, (n[:, None] * w).sum(axis=0)):
        return False, "that is Σ n_k w_k; divide by n = Σ n_k so the weights sum to 1"
    if np.allclose(got, (n[::-1, None] * w).sum(axis=0) / n.sum()):
        return False, "the sizes are matched to the wrong clients: client k's weights go with sizes[k]"
    return False, f"{np.round(got, 4).tolist()} is not it; compute Σ_k (n_k / n) · w_k, element by element"


@exercise
def check_clip(answer) -> tuple[bool, str]:
    """Exercise 16.2: ``CLIP_16["gradient"]`` clipped to L2 norm at most ``CLIP_16["clip_norm"]`` (DP-SGD).

    Examples
    --------
    >>> check_clip([1.5, -2.0, 0.0])
    ✓ [1.5, -2.0, 0.0]: norm 10 scaled by C / 10 = 0.25, direction kept
    True
    """
    g, c = np.array(CLIP_16["gradient"]), CLIP_16["clip_norm"]
    got = _vector_16(answer, g.size)
    if isinstance(got, str):
        return False, got
    norm = np.linalg.norm(g)
    right = g * min(1.0, c / norm)
    if np.allclose(got, right, atol=1e-9):
        return True, f"{np.round(got, 6).tolist()}: norm {norm:g} scaled by C / {norm:g} = {c / norm:g}, direction kept"
    if np.allclose(got, np.clip(g, -c, c)):
        return False, "that clips each element to [-C, C], which changes the direction; scale the whole vector by C / ‖g‖"
    if np.allclose(got, g / norm):
        return False, "that is the unit vector g / ‖g‖ (norm 1); the clipped gradient has norm C"
    if np.allclose(got, g):
        return False, f"‖g‖ = {norm:g} > C = {c}, so the gradient must shrink"
    return False, f"{np.round(got, 4).tolist()} is not it; compute g · min(1, C / ‖g‖₂)"


@exercise
def check_fgsm_step(answer) -> tuple[bool, str]:
    """Exercise 16.3: the FGSM image for ``FGSM_16``: x + ε·sign(gradient), clipped to [0, 1].

    Examples
    --------
    >>> check_fgsm_step([0.55, 1.0, 0.0, 0.3])
    ✓ [0.55, 1.0, 0.0, 0.3]: every pixel moved by ε in the loss-increasing direction, kept in [0, 1]
    True
    """
    x, g, eps = np.array(FGSM_16["x"]), np.array(FGSM_16["gradient"]), FGSM_16["eps"]
    got = _vector_16(answer, x.size)
    if isinstance(got, str):
        return False, got + " (one value per pixel)"
    right = np.clip(x + eps * np.sign(g), 0, 1)
    if np.allclose(got, right, atol=1e-9):
        return True, f"{np.round(got, 6).tolist()}: every pixel moved by ε in the loss-increasing direction, kept in [0, 1]"
    if np.allclose(got, np.clip(x - eps * np.sign(g), 0, 1)):
        return False, "that step lowers the loss (gradient descent); the attack goes up the gradient: x + ε·sign(g)"
    if np.allclose(got, x + eps * np.sign(g)):
        return False, "pixels must stay in [0, 1]: clip the result"
    if np.allclose(got, np.clip(x + eps * g, 0, 1)):
        return False, "FGSM uses the sign of the gradient, not its size: every pixel moves by exactly ε (or 0)"
    return False, f"{np.round(got, 4).tolist()} is not it; compute clip(x + ε·sign(g), 0, 1)"
