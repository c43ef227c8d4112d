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
