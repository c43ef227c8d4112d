"""Exercise checks of notebook 16 (privacy and security): used by notebooks/16_privacy_and_security.ipynb."""
from __future__ import annotations


import numpy as np

from aiaas_lib.exercises.feedback import exercise


#: Exercise 16.3: pixels, the loss gradient at them, and the max-norm budget ε∞ (not the privacy ε).
FGSM = {"x": (0.5, 0.97, 0.02, 0.3), "gradient": (0.8, 0.01, -3.0, 0.0), "eps_inf": 0.05}


def _vector(answer, n: int) -> np.ndarray | str:
    """The answer as a float vector of length ``n``, or a message saying why not."""
    arr = np.asarray(answer, dtype="float64").ravel()
    if arr.size != n:
        return f"expected {n} numbers, got {arr.size}"
    return arr


def _sigmoid(z):
    """The logistic function, computed without overflow."""
    return np.exp(-np.logaddexp(0.0, -z))


def _per_example(w, X, y):
    """Each example's log-loss gradient (p_i - y_i) x_i for logistic regression: (n, d)."""
    return (_sigmoid(X @ w) - y)[:, None] * X


def _clip_rows(G, c):
    """Each row scaled to L2 norm at most ``c``."""
    return G * np.minimum(1.0, c / np.maximum(np.linalg.norm(G, axis=1), 1e-300))[:, None]


def _batch(rng, n, d, clip="median"):
    """A fresh logistic-regression batch, weights, and a clipping norm: ``"tiny"`` clips every example (and the
    batch mean), ``"median"`` about half of them, ``"large"`` none."""
    X = rng.normal(size=(n, d)) * rng.uniform(0.2, 3.0, size=(n, 1))  # rows of very different lengths
    y = rng.integers(0, 2, size=n).astype("float64")
    w = rng.normal(scale=1 / np.sqrt(d), size=d)  # |x·w| of order 1: the sigmoid does not saturate
    G = _per_example(w, X, y)
    norms = np.linalg.norm(G, axis=1)
    c = {"tiny": 0.5 * min(norms.min(), np.linalg.norm(G.mean(axis=0))), "median": np.median(norms),
         "large": 2 * norms.max()}[clip]
    return w, X, y, float(c)


def _near(a, b, tol=1e-8):
    """Same shape and equal up to float rounding."""
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-7, atol=tol))


def _local_sgd(w, X, y, lr, epochs, batch_size, rng, shuffle="each", divide="len", sign=-1.0, full_batch=False):
    """Client update for logistic regression, right by default; each argument switches on one typical mistake."""
    w = np.array(w, dtype="float64")
    order = np.arange(len(X)) if shuffle == "never" else rng.permutation(len(X))
    size = len(X) if full_batch else batch_size
    for epoch in range(epochs):
        if shuffle == "each" and epoch > 0:
            order = rng.permutation(len(X))
        for start in range(0, len(X), size):
            b = order[start:start + size]
            grad = X[b].T @ (_sigmoid(X[b] @ w) - y[b])
            w = w + sign * lr * grad / {"len": len(b), "batch_size": size, "none": 1}[divide]
    return w


@exercise
def check_client_update(func) -> tuple[bool, str]:
    """Exercise 16.1: ``func(w, X, y, lr, epochs, batch_size, rng)`` is a FedAvg client's update for logistic
    regression :math:`p_i = \\sigma(x_i \\cdot w)`: starting from the server's ``w`` (left unchanged), ``epochs``
    epochs of minibatch SGD on the client's rows — each epoch ``order = rng.permutation(len(X))``, minibatches
    ``order[s:s + batch_size]``, mean log-loss gradient :math:`X_B^\\top(p_B - y_B)/|B|`, step
    :math:`w - \\eta\\,\\bar g` — returning the new weights.

    Checked on fresh random clients whose row count is not a multiple of ``batch_size``, against the reference
    run with the same seed.

    Examples
    --------
    A function that trains in place on the server's array (the worked answer is in the solutions notebook):

    >>> def client_update(w, X, y, lr, epochs, batch_size, rng):
    ...     w[0] -= lr  # changes the server's array in place
    ...     return w
    >>> check_client_update(client_update)
    ✗ your function changed the w it was given: in FedAvg that is the server's global weights, ...
    False
    """
    if not callable(func):
        return False, f"give a function client_update(w, X, y, lr, epochs, batch_size, rng), got {type(func).__name__}"
    rng = np.random.default_rng()
    for n, d, batch_size, epochs in ((50, 4, 8, 3), (37, 6, 10, 2), (23, 3, 5, 4)):
        X = rng.normal(size=(n, d))
        y = rng.integers(0, 2, size=n).astype("float64")
        w = rng.normal(size=d)
        lr, seed = float(rng.uniform(0.1, 0.5)), int(rng.integers(1 << 30))
        given = w.copy()
        got = func(given, X.copy(), y.copy(), lr, epochs, batch_size, np.random.default_rng(seed))
        if got is None:
            return False, "your function returned None: return the client's new weights"
        got = np.asarray(got, dtype="float64")
        if got.size != d:
            return False, f"return one value per weight: {d} here, got {got.size}"
        got = got.reshape(d)

        def ref(**mistake):
            return _local_sgd(w, X, y, lr, epochs, batch_size, np.random.default_rng(seed), **mistake)

        if not np.array_equal(given, w):
            return False, ("your function changed the w it was given: in FedAvg that is the server's global "
                           "weights, which every client must start from; begin with w = w.copy()")
        if _near(got, ref()):
            continue
        hints = [({"sign": 1.0}, "the steps go uphill: the log-loss gradient is X_B.T @ (p - y) / |B|, and SGD "
                                 "subtracts it"),
                 ({"shuffle": "never"}, "the rows were never shuffled: draw order = rng.permutation(len(X)) each epoch"),
                 ({"shuffle": "once"}, "the rows were shuffled once; shuffle again at the start of every epoch"),
                 ({"divide": "none"}, "that sums the minibatch's gradients; SGD steps along their mean: divide by |B|"),
                 ({"divide": "batch_size"}, "the last minibatch is smaller than batch_size: divide by len(b), the rows "
                                            "it really has"),
                 ({"full_batch": True}, "one step per epoch on all the rows is full-batch gradient descent; cut each "
                                        "epoch into minibatches order[s:s + batch_size]")]
        for mistake, hint in hints:
            if _near(got, ref(**mistake)):
                return False, hint
        if _near(got, _local_sgd(w, X, y, lr, 1, batch_size, np.random.default_rng(seed))):
            return False, f"that is one epoch; run all {epochs} epochs"
        return False, ("not the reference weights; each epoch: order = rng.permutation(len(X)), then for each "
                       "minibatch b: w = w - lr * X[b].T @ (p - y[b]) / len(b)")
    return True, "same weights as the reference on 3 fresh clients, and the server's w was left unchanged"


@exercise
def check_dp_sgd_step(func) -> tuple[bool, str]:
    """Exercise 16.2: ``func(w, X, y, lr, clip_norm, noise_multiplier, rng)`` returns the weights after one
    DP-SGD step for logistic regression :math:`p_i = \\sigma(x_i \\cdot w)`: per-example gradients
    :math:`g_i = (p_i - y_i)x_i`, each clipped to norm :math:`C`, summed, plus :math:`\\mathcal N(0, \\sigma^2C^2 I)`
    drawn with ``rng.normal``, divided by ``len(X)``; then :math:`w - \\eta\\tilde g`.

    Checked on fresh random batches: with ``noise_multiplier=0`` against the reference; with noise, the noise
    the function added must have mean 0 and standard deviation :math:`\\sigma C`.

    Examples
    --------
    A function that returns nothing yet, and no function at all (the worked answer is in the solutions notebook):

    >>> def dp_sgd_step(w, X, y, lr, clip_norm, noise_multiplier, rng):
    ...     pass
    >>> check_dp_sgd_step(dp_sgd_step)
    ✗ your function returned None: return the new weights w - lr * g̃
    False
    >>> check_dp_sgd_step(None)
    ✗ no answer yet: replace None with your answer and run the cell again
    False
    """
    if not callable(func):
        return False, ("give a function dp_sgd_step(w, X, y, lr, clip_norm, noise_multiplier, rng), "
                       f"got {type(func).__name__}")
    rng = np.random.default_rng()
    for n, d, clip in ((16, 5, "tiny"), (25, 8, "median"), (9, 3, "large")):
        w, X, y, c = _batch(rng, n, d, clip)
        lr = float(rng.uniform(0.05, 0.5))
        got = func(w.copy(), X.copy(), y.copy(), lr, c, 0.0, np.random.default_rng(0))
        if got is None:
            return False, "your function returned None: return the new weights w - lr * g̃"
        got = np.asarray(got, dtype="float64")
        G = _per_example(w, X, y)
        g_tilde = _clip_rows(G, c).sum(axis=0) / n
        right = w - lr * g_tilde
        if got.size != w.size:
            return False, (f"return one new value per weight: {w.size} for these {d}-feature inputs, "
                           f"got {got.size}")
        got = got.reshape(w.shape)
        if _near(got, right):
            continue
        if _near(got, g_tilde) or _near(got, -lr * g_tilde):
            return False, "that is the gradient (or the step); return the new weights w - lr * g̃"
        if _near(got, w + lr * g_tilde):
            return False, ("the step goes uphill: the gradient of the log-loss is (p - y)·x, "
                           "and SGD subtracts it: w - lr * g̃")
        mean_g = G.mean(axis=0)
        if _near(got, w - lr * mean_g * min(1.0, c / np.linalg.norm(mean_g))) and np.linalg.norm(mean_g) > c:
            return False, ("you clipped the batch-mean gradient; DP-SGD clips each example's gradient g_i "
                           "before summing (that bounds what any one example can do)")
        if _near(got, w - lr * mean_g):
            return False, "no clipping: scale each example's gradient g_i by min(1, C / ‖g_i‖) before summing"
        if _near(got, w - lr * np.clip(G, -c, c).sum(axis=0) / n):
            return False, ("that clips each element to [-C, C], which changes the direction; "
                           "scale each whole row by min(1, C / ‖g_i‖)")
        scaled_all = G * (c / np.linalg.norm(G, axis=1))[:, None]
        if _near(got, w - lr * scaled_all.sum(axis=0) / n):
            return False, "gradients shorter than C were scaled up to C; clipping only shrinks: min(1, C / ‖g_i‖)"
        clipped_sum = _clip_rows(G, c).sum(axis=0)
        if _near(got, w - lr * clipped_sum / max(n - 1, 1)) or _near(got, w - lr * clipped_sum):
            return False, "divide the clipped sum (plus noise) by the batch size len(X)"
        return False, ("not the reference step (no noise here); compute p, g_i = (p_i - y_i) x_i, "
                       "clip each, sum, divide by len(X), then w - lr * g̃")
    # the noise: many weights so that its standard deviation is measured to about 1%
    sigma, c, lr, n, d = 1.3, 0.5, 0.2, 20, 20_000
    w, X, y, _ = _batch(rng, n, d)
    got = func(w.copy(), X.copy(), y.copy(), lr, c, sigma, np.random.default_rng(int(rng.integers(1 << 30))))
    got = np.asarray(got, dtype="float64").reshape(w.shape)
    clean = w - lr * _clip_rows(_per_example(w, X, y), c).sum(axis=0) / n
    noise = (clean - got) * n / lr  # what was added to the clipped sum
    sd, mean = float(noise.std()), float(noise.mean())

    def about(target):
        return abs(sd / target - 1) < 0.05

    if sd < 1e-9:
        if abs(mean) > 1e-9:
            return False, ("one noise value was added to every weight; draw one per weight: "
                           "rng.normal(0, σC, size=len(w))")
        return False, "no noise was added: draw rng.normal(0, σ·C, size=len(w)) and add it to the clipped sum"
    if about(sigma * c):
        if abs(mean) > 0.05 * sigma * c:
            return False, f"the noise has mean {mean:.3g}; it must be centred: rng.normal(0, σC, ...)"
        return True, (f"right on 3 fresh noiseless batches, and the noise has mean 0 and standard deviation σC "
                      f"(σ = {sigma}, C = {c})")
    if about(sigma):
        return False, ("the noise has standard deviation σ; it must be σ·C (noise_multiplier * clip_norm): "
                       "C is the sensitivity")
    if about(sigma ** 2 * c ** 2) or about(sigma ** 2 * c):
        return False, "rng.normal's scale is the standard deviation σ·C, not the variance σ²C²"
    if about(sigma * c * n):
        return False, ("the noise was added after dividing by the batch size: add it to the clipped sum, "
                       "then divide by len(X)")
    if about(sigma * c / n):
        return False, "the noise was divided by the batch size twice: (sum of clipped gradients + noise) / len(X)"
    return False, (f"the noise you added has standard deviation {sd / (sigma * c):.2f}·σC; it must be σ·C, "
                   "added to the sum before dividing by len(X)")


@exercise
def check_fgsm_step(answer) -> tuple[bool, str]:
    """Exercise 16.3: the FGSM image for ``FGSM``: x + ε∞·sign(gradient), clipped to [0, 1].

    Examples
    --------
    A step down the gradient instead of up:

    >>> check_fgsm_step([0.45, 0.92, 0.07, 0.3])
    ✗ that step lowers the loss (gradient descent); the attack goes up the gradient: x + ε∞·sign(g)
    False
    """
    x, g, eps = np.array(FGSM["x"]), np.array(FGSM["gradient"]), FGSM["eps_inf"]
    got = _vector(answer, x.size)
    if isinstance(got, str):
        return False, got + " (one value per pixel)"
    right = np.clip(x + eps * np.sign(g), 0, 1)
    if np.allclose(got, right, atol=1e-9):
        return True, f"{np.round(got, 6).tolist()}: every pixel moved by ε∞ in the loss-increasing direction, kept in [0, 1]"
    if np.allclose(got, np.clip(x - eps * np.sign(g), 0, 1)):
        return False, "that step lowers the loss (gradient descent); the attack goes up the gradient: x + ε∞·sign(g)"
    if np.allclose(got, x + eps * np.sign(g)):
        return False, "pixels must stay in [0, 1]: clip the result"
    if np.allclose(got, np.clip(x + eps * g, 0, 1)):
        return False, "FGSM uses the sign of the gradient, not its size: every pixel moves by exactly ε∞ (or 0)"
    return False, f"{np.round(got, 4).tolist()} is not it; compute clip(x + ε∞·sign(g), 0, 1)"
