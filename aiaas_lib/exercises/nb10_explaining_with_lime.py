"""Exercise checks of notebook 10 (explaining with lime): used by notebooks/10_explaining_with_lime.ipynb.

Exercises 10.1 and 10.2 have the learner write two of LIME's formulas (the kernel weights and the weighted
local R²); their checkers run the learner's function on fresh random inputs and name the usual mistake.
Exercises 10.3-10.5 choose a kernel width and a number of samples, and write the top-k overlap.
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


def _kernel_weights(samples, x, mean, std, kernel_width, scale=lambda s: s, root=True, square=True) -> np.ndarray:
    """LIME's kernel weights; the keyword arguments build the typical wrong versions."""
    z, zx = (np.asarray(samples) - mean) / scale(std), (np.asarray(x) - mean) / scale(std)
    d = np.sqrt(((z - zx) ** 2).sum(axis=1))
    k = np.exp(-(d ** 2 if square else d) / kernel_width ** 2)
    return np.sqrt(k) if root else k


@exercise
def check_lime_kernel(func: Callable) -> tuple[bool, str]:
    """Exercise 10.1: ``func(samples, x, mean, std, kernel_width)`` returns LIME's kernel weight of every
    sample: standardise with the training ``mean`` and ``std``, take the Euclidean distance ``d`` of each
    standardised sample to the standardised ``x``, and weight it ``sqrt(exp(-d**2 / kernel_width**2))``.

    Checked on fresh random samples whose features have very different scales.

    Examples
    --------
    >>> def kernel(samples, x, mean, std, kernel_width):
    ...     d = np.linalg.norm((samples - x) / std, axis=1)
    ...     return np.sqrt(np.exp(-d ** 2 / kernel_width ** 2))
    >>> check_lime_kernel(kernel)
    ✓ kernel weights right: standardised distance, exponential kernel sqrt(exp(-d²/w²)) = exp(-d²/2w²)
    True
    """
    rng = np.random.default_rng(101)
    for n, m, width in ((6, 3, None), (40, 5, 1.0), (300, 8, None)):
        mean, std = rng.normal(0, 5, m), rng.uniform(0.2, 4.0, m)
        std[0] = 0.1 * std[1] + 3.0  # features of very different scales
        x = mean + std * rng.normal(size=m)
        samples = mean + std * rng.normal(size=(n, m))
        samples[0] = x
        width = 0.75 * np.sqrt(m) if width is None else width
        got = func(samples.copy(), x.copy(), mean.copy(), std.copy(), width)
        if got is None:
            return False, "your function returns None: return one weight per sample"
        got = np.asarray(got, dtype=np.float64)
        got = got.reshape(-1) if got.shape == (n, 1) else got
        if got.shape != (n,):
            return False, (f"for {n} samples your function returns shape {got.shape}; expected ({n},), "
                           "one weight per sample")
        want = _kernel_weights(samples, x, mean, std, width)
        if np.allclose(got, want, rtol=1e-7, atol=1e-12):
            continue
        mistakes = [
            (dict(scale=lambda s: np.ones_like(s)), "the distance is in raw units: standardise first, "
             "(samples - mean) / std, so that a feature measured in large numbers does not dominate d"),
            (dict(scale=lambda s: s ** 2),
             "you divide by the variance std²; standardise with the standard deviation"),
            (dict(root=False),
             "that is exp(-d²/w²); lime's kernel is its square root, sqrt(exp(-d²/w²)) = exp(-d²/2w²)"),
            (dict(square=False), "the kernel uses the squared distance d², not d"),
            (dict(square=False, root=False), "the kernel uses the squared distance d², not d, and the square root"),
        ]
        for kwargs, hint in mistakes:
            if np.allclose(got, _kernel_weights(samples, x, mean, std, width, **kwargs), rtol=1e-7, atol=1e-12):
                return False, hint
        i = int(np.argmax(np.abs(got - want)))
        return False, (f"sample {i}: weight {want[i]:.4g} expected, you return {got[i]:.4g}; the customer itself "
                       "(sample 0) must weigh 1 — compare step 2 of the notebook")
    return True, "kernel weights right: standardised distance, exponential kernel sqrt(exp(-d²/w²)) = exp(-d²/2w²)"


def _r2(y, y_hat, w, weighted_mean=True, weighted_sums=True) -> float:
    """Weighted R²; the keyword arguments build the typical wrong versions."""
    w_sum = w if weighted_sums else np.ones_like(w)
    y_bar = np.average(y, weights=w) if weighted_mean else y.mean()
    return float(1 - np.sum(w_sum * (y - y_hat) ** 2) / np.sum(w_sum * (y - y_bar) ** 2))


@exercise
def check_local_r2(func: Callable) -> tuple[bool, str]:
    """Exercise 10.2: ``func(y, y_hat, weights)`` returns the weighted R² of a local model,
    ``1 - sum w (y - y_hat)² / sum w (y - y_bar)²`` with ``y_bar`` the *weighted* mean of ``y``.

    Checked on fresh random outputs with very unequal weights.

    Examples
    --------
    >>> def r2(y, y_hat, weights):
    ...     y_bar = np.average(y, weights=weights)
    ...     return 1 - np.sum(weights * (y - y_hat) ** 2) / np.sum(weights * (y - y_bar) ** 2)
    >>> check_local_r2(r2)
    ✓ local R² right: weighted residuals over weighted spread around the weighted mean (lime's score)
    True
    """
    rng = np.random.default_rng(202)
    for n in (5, 40, 300):
        y = 2 * rng.normal(size=n) + 1
        w = np.exp(rng.normal(0.0, 1.5, n))
        w[np.argmax(y)] *= 20  # the weights favour high outputs, so the weighted mean is far from the plain one
        y_hat = y + 0.8 * rng.normal(size=n)
        got = func(y.copy(), y_hat.copy(), w.copy())
        if got is None:
            return False, "your function returns None: return one number, the weighted R²"
        got = float(np.asarray(got, dtype=np.float64).reshape(()))
        want = _r2(y, y_hat, w)
        if np.isclose(got, want, rtol=1e-7, atol=1e-10):
            continue
        if np.isclose(got, _r2(y, y_hat, w, weighted_mean=False, weighted_sums=False), rtol=1e-7):
            return False, ("that is the ordinary R², which ignores the weights: every sum carries the kernel weight, "
                           "so far samples count less")
        if np.isclose(got, _r2(y, y_hat, w, weighted_mean=False), rtol=1e-7):
            return False, ("the spread is measured around the plain mean of y; use the weighted mean "
                           "np.average(y, weights=weights)")
        if np.isclose(got, 1 - want, rtol=1e-7):
            return False, "you return the ratio of the two sums; R² is 1 minus it"
        return False, f"for {n} samples the weighted R² is {want:.4f}, you return {got:.4f}; compare step 4's formula"
    return True, "local R² right: weighted residuals over weighted spread around the weighted mean (lime's score)"


@exercise
def check_kernel_width(width, f: Callable, x, training_data, num_samples: int = 2000, min_effective: float = 200,
                       min_gain: float = 0.02, seed: int = 0) -> tuple[bool, str]:
    """Exercise 10.3: a LIME kernel width for ``f`` at ``x`` whose local model fits better than lime's default
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
    """Exercise 10.4: the cheapest ``num_samples`` of ``grid`` for which LIME's top ``k`` at ``x`` is stable:
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
