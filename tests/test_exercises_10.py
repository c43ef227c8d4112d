"""Exercise checks of notebook 10 (LIME): right answers pass, typical mistakes get their hint, None is "no answer yet".

The LIME checks run on a small nonlinear function of 4 features (fast: a few thousand samples in all), not
on the notebook's churn model; the numbers quoted below were measured on it.
"""
import numpy as np
import pytest

from aiaas_lib.exercises import nb10_explaining_with_lime as ex
from _feedback import run_check as _run


@pytest.fixture(scope="module")
def problem():
    """A bumpy function of 4 features, its training data and one instance."""
    train = np.random.default_rng(0).normal(size=(300, 4))
    return (lambda rows: np.tanh(2 * rows[:, 0]) + rows[:, 1] ** 2 + 0.3 * rows[:, 2]), train[0], train


def _overlap(a, b, k):
    return len(set(np.argsort(-np.abs(a))[:k].tolist()) & set(np.argsort(-np.abs(b))[:k].tolist())) / k


# ------------------------------------------------------------------------------------------ kernel width
# on the fixture with 1000 samples, seed 0: width 0.9 keeps 425 effective samples, 1.0 keeps 508 (threshold 500)
def _width(capsys, problem, width):
    return _run(capsys, ex.check_kernel_width, width, *problem, num_samples=1000, min_effective=500)


def test_kernel_width_right(capsys, problem):
    ok, out = _width(capsys, problem, 1.0)
    assert ok and "samples count" in out and "lime's default width" in out


def test_kernel_width_right_as_float_noise(capsys, problem):
    assert _width(capsys, problem, 0.7 + 0.3)[0]  # 0.9999999999999999 is on the grid


def test_kernel_width_too_narrow(capsys, problem):
    ok, out = _width(capsys, problem, 0.9)
    assert not ok and "widen it" in out


def test_kernel_width_not_the_narrowest(capsys, problem):
    ok, out = _width(capsys, problem, 1.5)
    assert not ok and "a narrower width is possible" in out


def test_kernel_width_off_the_grid(capsys, problem):
    ok, out = _width(capsys, problem, 0.93)
    assert not ok and "between two grid points" in out


def test_kernel_width_not_positive(capsys, problem):
    ok, out = _width(capsys, problem, -1.0)
    assert not ok and "must be a positive number" in out


def test_kernel_width_garbage(capsys, problem):
    ok, out = _width(capsys, problem, "wide")
    assert not ok and "could not check" in out


def test_kernel_width_none(capsys, problem):
    ok, out = _run(capsys, ex.check_kernel_width, None, *problem)
    assert not ok and "no answer yet" in out


# -------------------------------------------------------------------------------------------- top-k overlap
def test_top_k_overlap_right(capsys):
    assert _run(capsys, ex.check_top_k_overlap, _overlap)[0]


@pytest.mark.parametrize("func, hint", [
    (lambda a, b, k: _overlap(a, b, k) * k, "a count"),
    (lambda a, b, k: len(set(np.argsort(-a)[:k].tolist()) & set(np.argsort(-b)[:k].tolist())) / k, "signed value"),
    (lambda a, b, k: 0.5, "compare np.argsort"),
    (lambda a, b, k: None, "returns None"),
    (lambda a, b, k: "half", "could not check"),
])
def test_top_k_overlap_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_top_k_overlap, func)
    assert not ok and hint in out


def test_top_k_overlap_none(capsys):
    ok, out = _run(capsys, ex.check_top_k_overlap, None)
    assert not ok and "no answer yet" in out


# ---------------------------------------------------------------------------------------------- seed spread
def test_seed_spread_is_small_for_a_linear_model(problem):
    _, x, train = problem
    # a linear model: every seed recovers nearly the same slopes (only the ridge shrinkage varies): measured 0.003
    assert ex.lime_seed_spread(lambda rows: rows @ np.array([3.0, -2.0, 1.0, 0.1]), x, train, 200) < 0.01


def test_seed_spread_falls_with_samples(problem):
    f, x, train = problem
    # measured: 0.186 with 20 samples, 0.046 with 100, 0.033 with 400 (5 seeds)
    assert ex.lime_seed_spread(f, x, train, 400) < ex.lime_seed_spread(f, x, train, 20) / 2


GRID, MAX_SPREAD = (20, 100, 400, 1600), 0.04


@pytest.fixture(scope="module")
def cheapest(problem):
    f, x, train = problem
    return next(n for n in GRID if ex.lime_seed_spread(f, x, train, n) < MAX_SPREAD)


def _samples(capsys, problem, n):
    return _run(capsys, ex.check_lime_samples, n, *problem, grid=GRID, max_spread=MAX_SPREAD)


def test_lime_samples_right(capsys, problem, cheapest):
    ok, out = _samples(capsys, problem, cheapest)
    assert ok and "the cheapest stable setting" in out


def test_lime_samples_too_few(capsys, problem, cheapest):
    assert cheapest > GRID[0], "the fixture must leave an unstable setting below the answer"
    ok, out = _samples(capsys, problem, GRID[0])
    assert not ok and "more samples average out" in out


def test_lime_samples_more_than_needed(capsys, problem, cheapest):
    assert cheapest < GRID[-1], "the fixture must leave a stable but costlier setting above the answer"
    ok, out = _samples(capsys, problem, GRID[-1])
    assert not ok and "pick the cheapest" in out


def test_lime_samples_off_the_grid(capsys, problem):
    ok, out = _samples(capsys, problem, 300)
    assert not ok and "pick one of the grid" in out


def test_lime_samples_none(capsys, problem):
    ok, out = _samples(capsys, problem, None)
    assert not ok and "no answer yet" in out


# ------------------------------------------------------------------------------------- image neighbourhood
def _neighbourhood(image, segments, num_samples, seed, hide=lambda m: m, distance=None, root=True):
    S = segments.max() + 1
    masks = np.random.RandomState(seed).randint(0, 2, (num_samples, S))
    masks[0] = 1
    on = masks.sum(axis=1)
    d = 1 - on / np.sqrt(on * S) if distance is None else distance(masks)
    k = np.exp(-d ** 2 / 0.25 ** 2)
    return masks, image * hide(masks)[:, segments], np.sqrt(k) if root else k


def test_image_neighbourhood_right(capsys):
    assert _run(capsys, ex.check_image_neighbourhood, _neighbourhood)[0]


def test_image_neighbourhood_right_with_sklearn(capsys):
    from sklearn.metrics import pairwise_distances

    def func(image, segments, n, seed):
        masks, images, _ = _neighbourhood(image, segments, n, seed)
        d = pairwise_distances(masks, masks[:1], metric="cosine").ravel()
        return masks, images[..., None], np.sqrt(np.exp(-d ** 2 / 0.25 ** 2))
    assert _run(capsys, ex.check_image_neighbourhood, func)[0]


def _no_first_row(image, segments, n, seed):
    S = segments.max() + 1
    masks = np.random.RandomState(seed).randint(0, 2, (n, S))
    masks[0, 0] = 0  # the first row is not all ones
    on = masks.sum(axis=1)
    d = 1 - on / np.sqrt(np.maximum(on, 1) * S)
    return masks, image * masks[:, segments], np.sqrt(np.exp(-d ** 2 / 0.25 ** 2))


@pytest.mark.parametrize("func, hint", [
    (lambda im, seg, n, s: _neighbourhood(im, seg, n, s, distance=lambda m: np.linalg.norm(m - 1, axis=1)),
     "Euclidean"),
    (lambda im, seg, n, s: _neighbourhood(im, seg, n, s, distance=lambda m: np.sqrt(m.sum(1) / m.shape[1])),
     "cosine similarity"),
    (lambda im, seg, n, s: _neighbourhood(im, seg, n, s, root=False), "square root"),
    (lambda im, seg, n, s: _neighbourhood(im, seg, n, s, hide=lambda m: 1 - m), "a 1 means visible"),
    (_no_first_row, "first row must be all ones"),
    (lambda im, seg, n, s: (np.ones((n, seg.max() + 1)), np.repeat(im[None], n, 0), np.ones(n)), "probability 1/2"),
    (lambda im, seg, n, s: (_neighbourhood(im, seg, n, s)[0], _neighbourhood(im, seg, n, s)[1], np.ones(n)),
     "the first sample must weigh 1"),
    (lambda im, seg, n, s: _neighbourhood(im, seg, n, s)[:2], "three arrays"),
    (lambda im, seg, n, s: None, "returns None"),
    (lambda im, seg, n, s: ("a", "b", "c"), "could not check"),
])
def test_image_neighbourhood_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_image_neighbourhood, func)
    assert not ok and hint in out


def test_image_neighbourhood_none(capsys):
    ok, out = _run(capsys, ex.check_image_neighbourhood, None)
    assert not ok and "no answer yet" in out

# ------------------------------------------------------------------------------------------ weighted ridge
def _ridge(X, y, w, alpha, penalise_intercept=False, weighted=True):
    A = np.column_stack([np.ones(len(X)), X])
    w = w if weighted else np.ones_like(w)
    penalty = alpha * np.eye(A.shape[1])
    if not penalise_intercept:
        penalty[0, 0] = 0
    b = np.linalg.solve(A.T @ (w[:, None] * A) + penalty, A.T @ (w * y))
    return b[0], b[1:]


def test_weighted_ridge_right(capsys):
    assert _run(capsys, ex.check_weighted_ridge, _ridge)[0]


def test_weighted_ridge_right_with_sklearn(capsys):
    from sklearn.linear_model import Ridge

    def func(X, y, w, alpha):
        model = Ridge(alpha=alpha).fit(X, y, sample_weight=w)
        return model.intercept_, model.coef_
    assert _run(capsys, ex.check_weighted_ridge, func)[0]


def test_weighted_ridge_right_with_library(capsys):
    from aiaas_lib.explain import weighted_ridge
    assert _run(capsys, ex.check_weighted_ridge, lambda X, y, w, a: weighted_ridge(X, y, w, alpha=a)[::-1])[0]


@pytest.mark.parametrize("func, hint", [
    (lambda X, y, w, a: _ridge(X, y, w, a, penalise_intercept=True), "the intercept is penalised"),
    (lambda X, y, w, a: _ridge(X, y, w, a, weighted=False), "unweighted ridge"),
    (lambda X, y, w, a: _ridge(X, y, w, a, weighted=False, penalise_intercept=True), "ignores the weights and"),
    (lambda X, y, w, a: _ridge(X, y, w, 0.0), "without the penalty"),
    (lambda X, y, w, a: _ridge(X, y, w, a)[::-1], "intercept first"),
    (lambda X, y, w, a: (0.0, np.zeros(X.shape[1])), "compare §2, step 3"),
    (lambda X, y, w, a: (0.0, np.zeros(X.shape[1] + 1)), "slopes"),
    (lambda X, y, w, a: np.zeros(X.shape[1] + 1), "two things"),
    (lambda X, y, w, a: None, "returns None"),
    (lambda X, y, w, a: ("a", "b"), "could not check"),
])
def test_weighted_ridge_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_weighted_ridge, func)
    assert not ok and hint in out


def test_weighted_ridge_none(capsys):
    ok, out = _run(capsys, ex.check_weighted_ridge, None)
    assert not ok and "no answer yet" in out
