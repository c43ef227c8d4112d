"""Exercise checks of notebook 10 (explaining with lime): used by notebooks/10_explaining_with_lime.ipynb.

Exercise 10.1 has the learner write lime's forward feature selection (what ``feature_selection="auto"`` does
for 6 or fewer features) and 10.2 the weighted ridge by the centred route (weighted means, no column of ones);
their checkers run the learner's function on fresh random inputs and name the usual mistake. Exercises 10.3 and
10.4 need the learner's own sweep of the kernel width and of the number of samples for a customer the notebook
did not sweep; 10.5 writes the top-k overlap.
"""
from __future__ import annotations

import types
from collections.abc import Callable, Sequence

import numpy as np

from aiaas_lib.exercises.feedback import exercise


def _top_k_overlap(a, b, k: int, key=np.abs) -> float:
    """Share of the top ``k`` of ``key(a)`` that are also top ``k`` of ``key(b)`` (``explain.rank_agreement``'s
    top-k overlap, without importing scipy); ``key=np.asarray`` ranks by signed value, the usual mistake."""
    top_a = np.argsort(-key(np.asarray(a)), kind="stable")[:k]
    top_b = np.argsort(-key(np.asarray(b)), kind="stable")[:k]
    return len(set(top_a.tolist()) & set(top_b.tolist())) / k


def _ridge(X, y, w, alpha, penalise_intercept=False, weighted=True) -> tuple[float, np.ndarray]:
    """Weighted ridge ``(intercept, coef)`` by the normal equations with a column of ones (the notebook's ``ridge``
    of §2); the keyword arguments build the typical wrong versions."""
    A = np.column_stack([np.ones(len(X)), X])
    w = w if weighted else np.ones_like(w)
    penalty = alpha * np.eye(A.shape[1])
    if not penalise_intercept:
        penalty[0, 0] = 0.0
    b = np.linalg.solve(A.T @ (w[:, None] * A) + penalty, A.T @ (w * y))
    return float(b[0]), b[1:]


def _r2(y, y_hat, w) -> float:
    """Weighted R² (``explain.weighted_r2``, which is scikit-learn's ``score`` with ``sample_weight``)."""
    y_bar = np.sum(w * y) / np.sum(w)
    return float(1 - np.sum(w * (y - y_hat) ** 2) / np.sum(w * (y - y_bar) ** 2))


def _forward_selection(X, y, w, k, weighted=True, joint=True, keep="max") -> list[int]:
    """lime's ``LimeBase.forward_selection``: add, one at a time, the column whose weighted least-squares fit
    (alpha 0) together with the columns chosen so far has the highest weighted R². The keyword arguments build
    the typical wrong versions (unweighted, each candidate scored alone, the lowest R² kept)."""
    w = w if weighted else np.ones_like(w)
    chosen: list[int] = []
    for _ in range(min(k, X.shape[1])):
        scores = {}
        for j in range(X.shape[1]):
            if j in chosen:
                continue
            cols = chosen + [j] if joint else [j]
            b0, b = _ridge(X[:, cols], y, w, 0.0)
            scores[j] = _r2(y, b0 + X[:, cols] @ b, w)
        chosen.append((max if keep == "max" else min)(scores, key=scores.get))  # first of equal scores, like lime
    return chosen


def _highest_weights(X, y, w, k) -> list[int]:
    """lime's ``highest_weights`` rule on rows whose first sample is all ones: the ``k`` largest |slopes| of one
    weighted ridge (alpha 0.01) on all columns."""
    _, coef = _ridge(X, y, w, 0.01)
    return np.argsort(-np.abs(coef), kind="stable")[:k].tolist()


def _selection_problem(rng, n, m):
    """Correlated columns (column 1 nearly repeats column 0) and very unequal weights, so that the typical wrong
    selections pick other columns."""
    X = rng.normal(size=(n, m))
    X[:, 1] = X[:, 0] + 0.3 * rng.normal(size=n)
    w = np.exp(rng.normal(0.0, 1.5, n))
    near = w > np.quantile(w, 0.7)  # the samples that weigh most follow other columns
    y = (2.0 * X[:, 0] + 1.6 * X[:, 1] + X @ rng.normal(0, 0.6, m) + 2.5 * near * X[:, m - 1]
         + 0.5 * rng.normal(size=n))
    return X, y, w


@exercise
def check_forward_selection(func: Callable) -> tuple[bool, str]:
    """Exercise 10.1: ``func(X, y, weights, k)`` returns the ``k`` column indices lime's forward selection picks,
    in the order it adds them: start with none; at each step fit, for every column not yet chosen, the weighted
    least squares (ridge with alpha 0, intercept free) on the chosen columns plus that one, and add the column
    whose fit has the highest weighted R² (``feature_selection="forward_selection"``, which lime's ``"auto"``
    uses when 6 or fewer features are asked for).

    Checked on fresh random data with nearly repeated columns and very unequal weights, so that lime's
    ``highest_weights`` rule, scoring each column alone, or ignoring the weights pick other columns.

    Examples
    --------
    >>> def forward(X, y, weights, k):
    ...     chosen = []
    ...     for _ in range(k):
    ...         r2 = {}
    ...         for j in set(range(X.shape[1])) - set(chosen):
    ...             A = np.column_stack([np.ones(len(X)), X[:, chosen + [j]]])
    ...             b = np.linalg.solve(A.T @ (weights[:, None] * A), A.T @ (weights * y))
    ...             y_bar = np.average(y, weights=weights)
    ...             r2[j] = 1 - weights @ (y - A @ b) ** 2 / (weights @ (y - y_bar) ** 2)
    ...         chosen.append(max(sorted(r2), key=r2.get))
    ...     return chosen
    >>> check_forward_selection(forward)
    ✓ forward selection right: each step adds the column whose weighted fit with the chosen ones has the highest R²
    True
    """
    rng = np.random.default_rng(1010)
    for n, m, k in ((60, 5, 1), (200, 8, 3), (300, 10, 4), (300, 9, 6)):
        X, y, w = _selection_problem(rng, n, m)
        got = func(X.copy(), y.copy(), w.copy(), k)
        if got is None:
            return False, "your function returns None: return the k chosen column indices, in the order you add them"
        got = np.asarray(got).reshape(-1)
        if got.dtype.kind not in "iu" and not np.allclose(got, np.round(got)):
            return False, f"return column indices (whole numbers), not {got[:3]}…: the index j of each chosen column"
        got = [int(j) for j in got]
        want = _forward_selection(X, y, w, k)
        if got == want:
            continue
        if len(got) != k:
            return False, f"k = {k}: return {k} column indices; yours has {len(got)}"
        if len(set(got)) < len(got):
            return False, (f"you choose a column twice ({got}): try only the columns not chosen yet, "
                           "if j not in chosen")
        if sorted(got) == sorted(want):
            return False, (f"the right columns in another order ({got}, expected {want}): return them in the order "
                           "you add them — the first is the single best column")
        mistakes = [
            (_highest_weights(X, y, w, k), "that is lime's highest_weights rule (the largest |slopes| of one fit on "
             "all columns, §7); forward selection refits after each step with the chosen columns plus one candidate"),
            (_forward_selection(X, y, w, k, joint=False), "you score each candidate column alone; fit it together "
             "with the columns already chosen — a column that repeats a chosen one then adds little"),
            (_forward_selection(X, y, w, k, weighted=False), "unweighted: weight both the fit and the R² by the "
             "kernel weights, ridge(..., weights, alpha=0) and the weighted R² of §2 step 4"),
            (_forward_selection(X, y, w, k, keep="min"), "you keep the candidate with the lowest R²; keep the "
             "highest (the best fit)"),
        ]
        for wrong, hint in mistakes:
            if got == wrong:
                return False, hint
        return False, (f"{n} samples, {m} columns, k = {k}: expected {want}, you return {got} — at each step fit "
                       "ridge(X[:, chosen + [j]], y, weights, alpha=0) for every j not chosen and keep the best R²")
    return True, ("forward selection right: each step adds the column whose weighted fit with the chosen ones "
                  "has the highest R²")


_READY_MADE = {"Ridge", "RidgeCV", "LinearRegression", "fit", "weighted_ridge", "ridge"}
_COLUMN_OF_ONES = {"column_stack", "c_", "hstack", "concatenate", "insert", "append"}


def _names(code: types.CodeType) -> set[str]:
    """Global and attribute names a function's code uses, nested functions included."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _centred_ridge(X, y, w, alpha, weighted_means=True, weighted_gram=True, normalised=False,
                   shift_intercept=True) -> tuple[float, np.ndarray]:
    """The weighted ridge by centring on the weighted means (what ``explain.weighted_ridge`` and scikit-learn do);
    the keyword arguments build the typical wrong versions."""
    m = w if weighted_means else np.ones_like(w)
    x_bar, y_bar = m @ X / m.sum(), m @ y / m.sum()
    Xc, yc = X - x_bar, y - y_bar
    g = w / w.sum() if normalised else (w if weighted_gram else np.ones_like(w))
    coef = np.linalg.solve(Xc.T @ (g[:, None] * Xc) + alpha * np.eye(X.shape[1]), Xc.T @ (g * yc))
    return float(y_bar - x_bar @ coef if shift_intercept else y_bar), coef


@exercise
def check_centred_ridge(func: Callable) -> tuple[bool, str]:
    """Exercise 10.2: ``func(X, y, weights, alpha)`` returns ``(intercept, coef)`` of LIME's local model — the
    minimiser of ``sum_i w_i (y_i - b0 - X_i @ b)² + alpha * ||b||²`` — written in NumPy by the centred route:
    weighted means ``x̄, ȳ``, the M×M system ``(Xcᵀ W Xc + alpha I) b = Xcᵀ W yc`` on the centred data, then
    ``b0 = ȳ - x̄ @ b``. The result must equal the notebook's ``ridge`` (a column of ones, §2 step 3).

    Checked on fresh random data with very unequal weights, off-centre columns and a large ``alpha``. An answer
    that calls a ready-made fit (scikit-learn's ``Ridge``, ``ridge``, ``explain.weighted_ridge``) or builds a
    column of ones is refused: the exercise is to write the centred maths.

    Examples
    --------
    >>> def centred(X, y, weights, alpha):
    ...     x_bar, y_bar = weights @ X / weights.sum(), weights @ y / weights.sum()
    ...     Xc, yc = X - x_bar, y - y_bar
    ...     coef = np.linalg.solve(Xc.T @ (weights[:, None] * Xc) + alpha * np.eye(X.shape[1]), Xc.T @ (weights * yc))
    ...     return y_bar - x_bar @ coef, coef
    >>> check_centred_ridge(centred)
    ✓ centred ridge right: weighted means, the M×M system, intercept ȳ - x̄·b — the same fit as §2's column of ones
    True
    """
    names = _names(func.__code__) if isinstance(getattr(func, "__code__", None), types.CodeType) else set()
    if names & _READY_MADE:
        return False, (f"your function calls {sorted(names & _READY_MADE)[0]!r}, a ready-made fit: write the centred "
                       "maths in NumPy — weighted means, np.linalg.solve of the M×M system, then the intercept")
    if names & _COLUMN_OF_ONES:
        return False, (f"your function uses {sorted(names & _COLUMN_OF_ONES)[0]!r}, as for a column of ones (§2's "
                       "route); this exercise centres X and y on their weighted means instead, with no extra column")
    rng = np.random.default_rng(404)
    for n, m, alpha in ((12, 2, 5.0), (80, 5, 20.0), (500, 9, 1.0)):
        X = rng.normal(size=(n, m)) + rng.normal(0, 2, m)  # columns off-centre, so the intercept matters
        w = np.exp(rng.normal(0.0, 1.5, n))
        y = 3.0 + X @ rng.normal(size=m) + 0.5 * rng.normal(size=n) + 2.0 * (w > np.median(w))
        got = func(X.copy(), y.copy(), w.copy(), alpha)
        if got is None:
            return False, "your function returns None: return (intercept, coef), like the notebook's ridge"
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return False, "return two things, (intercept, coef): a number and one slope per column"
        b0, coef = got
        if np.ndim(b0) != 0 and np.ndim(coef) == 0:
            return False, "you return (coef, intercept); return the intercept first, (intercept, coef), like ridge"
        b0, coef = float(np.asarray(b0, dtype=np.float64).reshape(())), np.asarray(coef, dtype=np.float64).reshape(-1)
        if coef.shape != (m,):
            return False, f"{m} columns need {m} slopes; your coef has shape {coef.shape}"
        want = np.r_[_ridge(X, y, w, alpha)]
        if np.allclose(np.r_[b0, coef], want, rtol=1e-6, atol=1e-8):
            continue
        mistakes = [
            (dict(weighted_means=False), "you centre on the plain means; centre on the weighted means, "
             "x̄ = weights @ X / weights.sum() (and ȳ likewise) — the unpenalised intercept makes the weighted "
             "residuals sum to 0"),
            (dict(normalised=True), "you divide the weights by their sum inside the system: that makes alpha "
             "weigh sum(weights) times more; use the weights as they are in Xcᵀ W Xc and Xcᵀ W yc"),
            (dict(weighted_gram=False), "the M×M system ignores the weights: Xc.T @ (weights[:, None] * Xc) and "
             "Xc.T @ (weights * yc)"),
            (dict(shift_intercept=False), "the slopes are right, the intercept is not: it is ȳ - x̄ @ coef, the "
             "weighted mean of y minus the slopes times the weighted means of X"),
        ]
        for kwargs, hint in mistakes:
            if np.allclose(np.r_[b0, coef], np.r_[_centred_ridge(X, y, w, alpha, **kwargs)], rtol=1e-6, atol=1e-8):
                return False, hint
        if np.allclose(np.r_[b0, coef], np.r_[_ridge(X, y, w, 0.0)], rtol=1e-6, atol=1e-8):
            return False, f"that is weighted least squares without the penalty; add alpha = {alpha:g} on the diagonal"
        return False, (f"for {n} samples, {m} columns and alpha = {alpha:g} the intercept is {want[0]:.4f} and the "
                       f"first slope {want[1]:.4f}; you return {b0:.4f} and {coef[0]:.4f} — compare ridge of §2")
    return True, ("centred ridge right: weighted means, the M×M system, intercept ȳ - x̄·b — the same fit as §2's "
                  "column of ones")


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
