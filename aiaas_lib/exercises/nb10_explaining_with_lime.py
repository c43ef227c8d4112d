"""Exercise checks of notebook 10 (explaining with lime): used by notebooks/10_explaining_with_lime.ipynb.

Exercise 10.1 has the learner write image LIME's neighbourhood (segment masks, perturbed images, kernel
weights) and 10.2 LIME's weighted ridge with an unpenalised intercept; their checkers run the learner's function on
fresh random inputs and name the usual mistake. Exercises 10.3 and 10.4 need the learner's own sweep of the kernel
width and of the number of samples for a customer the notebook did not sweep; 10.5 writes the top-k overlap.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from aiaas_lib.exercises.feedback import exercise


def _top_k_overlap(a, b, k: int, key=np.abs) -> float:
    """Share of the top ``k`` of ``key(a)`` that are also top ``k`` of ``key(b)`` (``explain.rank_agreement``'s
    top-k overlap, without importing scipy); ``key=np.asarray`` ranks by signed value, the usual mistake."""
    top_a = np.argsort(-key(np.asarray(a)), kind="stable")[:k]
    top_b = np.argsort(-key(np.asarray(b)), kind="stable")[:k]
    return len(set(top_a.tolist()) & set(top_b.tolist())) / k


def _image_neighbourhood(image, segments, masks, visible=1, metric="cosine", root=True, square=True,
                         kernel_width=0.25) -> tuple[np.ndarray, np.ndarray]:
    """Perturbed images and kernel weights of image LIME for given masks; the keyword arguments build the
    typical wrong versions."""
    masks = np.asarray(masks, dtype=np.float64)
    shown = masks if visible == 1 else 1 - masks
    images = np.asarray(image, dtype=np.float64) * shown[:, segments]
    on = masks.sum(axis=1)
    if metric == "cosine":  # cosine distance to the all-ones row: 1 - on / sqrt(on * S)
        d = 1 - np.sqrt(on / masks.shape[1])
    elif metric == "similarity":
        d = np.sqrt(on / masks.shape[1])
    else:  # Euclidean: sqrt of the number of hidden segments
        d = np.sqrt(masks.shape[1] - on)
    k = np.exp(-(d ** 2 if square else d) / kernel_width ** 2)
    return images, (np.sqrt(k) if root else k)


def _random_segments(rng, shape, n_segments) -> np.ndarray:
    """A random segmentation with labels 0..n_segments-1, every label used."""
    segments = rng.integers(0, n_segments, shape)
    segments.flat[rng.permutation(segments.size)[:n_segments]] = np.arange(n_segments)
    return segments


@exercise
def check_image_neighbourhood(func: Callable) -> tuple[bool, str]:
    """Exercise 10.1: ``func(image, segments, num_samples, seed)`` returns image LIME's neighbourhood
    ``(masks, images, weights)``: ``masks`` (num_samples, S) of 0/1, each segment visible (1) or hidden (0) with
    probability 1/2 and the first row all ones (the image itself); ``images`` (num_samples, H, W), the image with
    its hidden segments painted black (0); ``weights`` (num_samples,), lime's image kernel
    ``sqrt(exp(-d**2 / 0.25**2))`` of the cosine distance ``d`` of each mask to the all-ones row.

    Checked on fresh random images and segmentations; any random draw of the masks is accepted.

    Examples
    --------
    >>> def neighbourhood(image, segments, num_samples, seed):
    ...     S = segments.max() + 1
    ...     masks = np.random.RandomState(seed).randint(0, 2, (num_samples, S))
    ...     masks[0] = 1
    ...     d = 1 - masks.sum(axis=1) / np.sqrt(masks.sum(axis=1) * S)
    ...     return masks, image * masks[:, segments], np.sqrt(np.exp(-d ** 2 / 0.25 ** 2))
    >>> check_image_neighbourhood(neighbourhood)
    ✓ image neighbourhood right: first row all ones, hidden segments black, kernel of the cosine distance
    True
    """
    rng = np.random.default_rng(303)
    for n, shape, n_segments in ((8, (6, 6), 4), (60, (12, 10), 9), (400, (28, 28), 25)):
        image = rng.uniform(0.1, 1.0, shape)
        segments = _random_segments(rng, shape, n_segments)
        got = func(image.copy(), segments.copy(), n, int(rng.integers(1000)))
        if got is None:
            return False, "your function returns None: return (masks, images, weights)"
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            return False, "return three arrays, (masks, images, weights)"
        masks, images, weights = (np.asarray(a, dtype=np.float64) for a in got)
        if masks.shape != (n, n_segments):
            return False, (f"{n} samples of an image with {n_segments} segments: masks must have shape "
                           f"({n}, {n_segments}), one 0/1 entry per segment; yours has {masks.shape}")
        if not np.isin(masks, (0, 1)).all():
            return False, "masks must hold only 0 (segment hidden) and 1 (segment visible)"
        if not (masks[0] == 1).all():
            return False, ("the first row must be all ones: the first sample is the image itself, and the cosine "
                           "distance is measured to it")
        if n >= 60 and not 0.3 < masks[1:].mean() < 0.7:
            return False, (f"{masks[1:].mean():.0%} of your segments are visible; draw each one visible or hidden "
                           "with probability 1/2, randint(0, 2, ...)")
        images = images.reshape(-1, *shape) if images.size == n * image.size else images
        want_images, want_weights = _image_neighbourhood(image, segments, masks)
        if images.shape != want_images.shape:
            return False, (f"images must have shape {want_images.shape}, one perturbed image per mask; "
                           f"yours {images.shape}")
        if not np.allclose(images, want_images, atol=1e-6):
            if np.allclose(images, _image_neighbourhood(image, segments, masks, visible=0)[0], atol=1e-6):
                return False, "you hide the segments whose mask is 1; a 1 means visible, 0 hidden (painted black)"
            return False, ("images: keep the pixels of visible segments and paint the pixels of hidden ones 0 — "
                           "image * masks[:, segments]")
        weights = weights.reshape(-1)
        if weights.shape != (n,):
            return False, f"weights must have shape ({n},), one per sample; yours {weights.shape}"
        if np.allclose(weights, want_weights, rtol=1e-7, atol=1e-12):
            continue
        mistakes = [
            (dict(metric="euclidean"), "that is the Euclidean distance of the masks; lime's image kernel uses the "
             "cosine distance to the all-ones row, 1 - cos, which lies in [0, 1] whatever the number of segments"),
            (dict(metric="similarity"), "that is the cosine similarity; the distance is 1 minus it"),
            (dict(root=False), "that is exp(-d²/w²); lime's kernel is its square root, sqrt(exp(-d²/w²))"),
            (dict(square=False), "the kernel uses the squared distance d², not d"),
            (dict(kernel_width=0.75 * np.sqrt(n_segments)), "that is the tabular default width 0.75·√S; "
             "lime's image explainer uses kernel width 0.25 on the cosine distance"),
        ]
        for kwargs, hint in mistakes:
            if np.allclose(weights, _image_neighbourhood(image, segments, masks, **kwargs)[1], rtol=1e-7, atol=1e-12):
                return False, hint
        i = int(np.argmax(np.abs(weights - want_weights)))
        return False, (f"sample {i}: weight {want_weights[i]:.4g} expected, you return {weights[i]:.4g}; the first "
                       "sample must weigh 1 — compare the notebook's kernel cell in §6")
    return True, "image neighbourhood right: first row all ones, hidden segments black, kernel of the cosine distance"


def _ridge(X, y, w, alpha, penalise_intercept=False, weighted=True) -> tuple[float, np.ndarray]:
    """Weighted ridge ``(intercept, coef)`` by the normal equations; the keyword arguments build the typical wrong
    versions."""
    A = np.column_stack([np.ones(len(X)), X])
    w = w if weighted else np.ones_like(w)
    penalty = alpha * np.eye(A.shape[1])
    if not penalise_intercept:
        penalty[0, 0] = 0.0
    b = np.linalg.solve(A.T @ (w[:, None] * A) + penalty, A.T @ (w * y))
    return float(b[0]), b[1:]


@exercise
def check_weighted_ridge(func: Callable) -> tuple[bool, str]:
    """Exercise 10.2: ``func(X, y, weights, alpha)`` returns ``(intercept, coef)`` of LIME's local model: the
    minimiser of ``sum_i w_i (y_i - b0 - X_i @ b)² + alpha * ||b||²`` — every sample weighted by its kernel weight,
    the slopes penalised, the intercept not.

    Checked on fresh random data with very unequal weights and a large ``alpha``, so that a penalised intercept or
    ignored weights change the answer.

    Examples
    --------
    >>> def ridge(X, y, weights, alpha):
    ...     A = np.column_stack([np.ones(len(X)), X])
    ...     penalty = alpha * np.eye(A.shape[1])
    ...     penalty[0, 0] = 0
    ...     b = np.linalg.solve(A.T @ (weights[:, None] * A) + penalty, A.T @ (weights * y))
    ...     return b[0], b[1:]
    >>> check_weighted_ridge(ridge)
    ✓ weighted ridge right: kernel-weighted squares, slopes penalised, intercept free (lime's Ridge with sample_weight)
    True
    """
    rng = np.random.default_rng(404)
    for n, m, alpha in ((12, 2, 5.0), (80, 5, 20.0), (500, 9, 1.0)):
        X = rng.normal(size=(n, m)) + rng.normal(0, 2, m)  # columns off-centre, so the intercept matters
        w = np.exp(rng.normal(0.0, 1.5, n))
        y = 3.0 + X @ rng.normal(size=m) + 0.5 * rng.normal(size=n) + 2.0 * (w > np.median(w))
        got = func(X.copy(), y.copy(), w.copy(), alpha)
        if got is None:
            return False, "your function returns None: return (intercept, coef)"
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return False, "return two things, (intercept, coef): a number and one slope per column"
        b0, coef = got
        if np.ndim(b0) != 0 and np.ndim(coef) == 0:
            return False, "you return (coef, intercept); return the intercept first, (intercept, coef)"
        b0, coef = float(np.asarray(b0, dtype=np.float64).reshape(())), np.asarray(coef, dtype=np.float64).reshape(-1)
        if coef.shape != (m,):
            return False, f"{m} columns need {m} slopes; your coef has shape {coef.shape}"
        want_b0, want = _ridge(X, y, w, alpha)
        if np.allclose(np.r_[b0, coef], np.r_[want_b0, want], rtol=1e-6, atol=1e-8):
            continue
        mistakes = [
            (dict(penalise_intercept=True), "the intercept is penalised too: alpha belongs on the slopes only, "
             "so put 0 in the penalty matrix where it meets the column of ones"),
            (dict(weighted=False), "that is the unweighted ridge: every sum carries the kernel weight, "
             "A.T @ (weights[:, None] * A) and A.T @ (weights * y)"),
            (dict(weighted=False, penalise_intercept=True), "that ignores the weights and penalises the intercept: "
             "weight every sample by its kernel weight, and leave the intercept unpenalised"),
        ]
        for kwargs, hint in mistakes:
            if np.allclose(np.r_[b0, coef], np.r_[_ridge(X, y, w, alpha, **kwargs)], rtol=1e-6, atol=1e-8):
                return False, hint
        if np.allclose(np.r_[b0, coef], np.r_[_ridge(X, y, w, 0.0)], rtol=1e-6, atol=1e-8):
            return False, f"that is weighted least squares without the penalty; add alpha = {alpha:g} on the slopes"
        return False, (f"for {n} samples, {m} columns and alpha = {alpha:g} the intercept is {want_b0:.4f} and the "
                       f"first slope {want[0]:.4f}; you return {b0:.4f} and {coef[0]:.4f} — compare §2, step 3")
    return True, ("weighted ridge right: kernel-weighted squares, slopes penalised, intercept free "
                  "(lime's Ridge with sample_weight)")


@exercise
def check_kernel_width(width, f: Callable, x, training_data, num_samples: int = 2000, min_effective: float = 1000,
                       step: float = 0.1, seed: int = 0) -> tuple[bool, str]:
    """Exercise 10.3: the narrowest LIME kernel width on a grid of ``step`` (0.1: one decimal) for ``f`` at ``x``
    at which at least ``min_effective`` of the ``num_samples`` samples still count (Kish's effective sample size;
    ``seed`` fixes the samples). The message reports the local R² there and at lime's default width.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> train = rng.normal(size=(300, 3))
    >>> f = lambda rows: np.tanh(2 * rows[:, 0]) + rows[:, 1] ** 2
    >>> check_kernel_width(0.9, f, train[0], train, num_samples=1000, min_effective=500)
    ✓ width 0.9: 537 of 1000 samples count (width 0.8: 456); local R² 0.507, at lime's default width 1.3: 0.375
    True
    """
    from aiaas_lib.explain import lime_tabular

    width = float(width)
    if not width > 0:
        return False, f"kernel width {width:g} must be a positive number (it divides the squared distance)"
    if not np.isclose(width / step, round(width / step)):
        return False, f"give the width on the grid of {step:g} (one decimal): {width:g} is between two grid points"
    width = round(width / step) * step

    def lime(w):
        return lime_tabular(f, x, training_data, num_samples=num_samples, kernel_width=w, seed=seed)

    exp = lime(width)
    if exp.effective_samples < min_effective:
        return False, (f"width {width:g} leaves {exp.effective_samples:.0f} effective samples of {num_samples}, "
                       f"fewer than {min_effective:g}: widen it (and measure this customer, not §3's)")
    narrower = lime(width - step) if width - step > 0 else None
    if narrower is not None and narrower.effective_samples >= min_effective:
        return False, (f"width {width:g} keeps {exp.effective_samples:.0f} samples, but {width - step:g} still keeps "
                       f"{narrower.effective_samples:.0f} (≥ {min_effective:g}): a narrower width is possible — "
                       "sweep this customer's widths in steps of 0.1")
    default = lime(None)
    below = f" (width {width - step:g}: {narrower.effective_samples:.0f})" if narrower is not None else ""
    return True, (f"width {width:g}: {exp.effective_samples:.0f} of {num_samples} samples count{below}; local R² "
                  f"{exp.score:.3f}, at lime's default width {default.kernel_width:.2g}: {default.score:.3f}")


@exercise
def check_top_k_overlap(func: Callable) -> tuple[bool, str]:
    """Exercise 10.5: ``func(a, b, k)`` returns the fraction of the ``k`` features with the largest
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


def lime_seed_spread(f: Callable, x, training_data, num_samples: int, seeds: int = 5,
                     kernel_width: float | None = None) -> float:
    """How much LIME's weights at ``x`` move with the seed: the standard deviation of each weight across seeds
    ``0..seeds-1``, averaged over the features (§5 of the notebook).

    Examples
    --------
    >>> train = np.random.default_rng(0).normal(size=(200, 3))
    >>> f = lambda rows: np.sin(rows @ np.array([1.0, 0.8, 0.6]))
    >>> lime_seed_spread(f, train[0], train, 100) > lime_seed_spread(f, train[0], train, 1000)
    True
    """
    from aiaas_lib.explain import lime_tabular

    weights = [lime_tabular(f, x, training_data, num_samples=num_samples, kernel_width=kernel_width, seed=s).weights
               for s in range(seeds)]
    return float(np.std(weights, axis=0).mean())


@exercise
def check_lime_samples(num_samples, f: Callable, x, training_data,
                       grid: Sequence[int] = (250, 500, 750, 1000, 1500, 2000, 3000, 5000),
                       max_spread: float = 0.025, seeds: int = 5) -> tuple[bool, str]:
    """Exercise 10.4: the cheapest ``num_samples`` of ``grid`` at which LIME's weights at ``x`` are stable:
    :func:`lime_seed_spread` over ``seeds`` seeds below ``max_spread``, there and at every larger sample count.

    Examples
    --------
    >>> train = np.random.default_rng(0).normal(size=(200, 4))
    >>> f = lambda rows: np.sin(rows @ np.array([1.0, 0.8, 0.6, 0.4]))
    >>> check_lime_samples(400, f, train[0], train, grid=(25, 100, 400, 1600))
    ✓ 400 samples: spread 0.0172 across 5 seeds (100 samples give 0.0373) — the cheapest stable setting
    True
    """
    grid = sorted(int(n) for n in grid)
    if num_samples not in grid:
        return False, f"num_samples={num_samples!r}; pick one of the grid {grid}"
    spreads = {n: lime_seed_spread(f, x, training_data, n, seeds=seeds) for n in grid}
    stable = [n for i, n in enumerate(grid) if all(spreads[m] < max_spread for m in grid[i:])]
    if not stable:
        return False, f"no setting of the grid gets below {max_spread:g}; spreads {spreads}"
    best, n = stable[0], int(num_samples)
    if n not in stable:
        return False, (f"{n} samples: the weights spread {spreads[n]:.4f} across {seeds} seeds (below {max_spread:g} "
                       "needed, at this and every larger sample count) — more samples average out the sampling noise")
    if n > best:
        return False, (f"{n} samples are stable ({spreads[n]:.4f}) but {best} already reach {spreads[best]:.4f} "
                       f"at a fraction of the cost — pick the cheapest")
    below = [m for m in grid if m < n]
    cheaper = f" ({below[-1]} samples give {spreads[below[-1]]:.4f})" if below else ""
    return True, f"{n} samples: spread {spreads[n]:.4f} across {seeds} seeds{cheaper} — the cheapest stable setting"
