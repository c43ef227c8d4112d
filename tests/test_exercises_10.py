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


# -------------------------------------------------------------------------------------- forward selection
def _forward(X, y, w, k, weighted=True, joint=True, pick=max):
    """A learner's forward selection in plain NumPy; the keyword arguments make the typical mistakes."""
    w = w if weighted else np.ones_like(w)
    chosen = []
    for _ in range(k):
        r2 = {}
        for j in range(X.shape[1]):
            if j in chosen:
                continue
            A = np.column_stack([np.ones(len(X)), X[:, chosen + [j] if joint else [j]]])
            b = np.linalg.lstsq(A * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]
            y_bar = np.average(y, weights=w)
            r2[j] = 1 - w @ (y - A @ b) ** 2 / (w @ (y - y_bar) ** 2)
        chosen.append(pick(r2, key=r2.get))
    return chosen


def test_forward_selection_reference_is_limes():
    from lime.lime_base import LimeBase
    X, y, w = ex._selection_problem(np.random.default_rng(0), 200, 8)
    want = LimeBase(lambda d: d, random_state=0).feature_selection(X, y, w, 4, "forward_selection").tolist()
    assert ex._forward_selection(X, y, w, 4) == want


def test_forward_selection_right(capsys):
    assert _run(capsys, ex.check_forward_selection, _forward)[0]


def test_forward_selection_right_as_array(capsys):
    assert _run(capsys, ex.check_forward_selection, lambda X, y, w, k: np.array(_forward(X, y, w, k), float))[0]


def _highest(X, y, w, k):
    A = np.column_stack([np.ones(len(X)), X])
    b = np.linalg.solve(A.T @ (w[:, None] * A) + 0.01 * np.diag(np.r_[0.0, np.ones(X.shape[1])]), A.T @ (w * y))
    return list(np.argsort(-np.abs(b[1:]))[:k])


@pytest.mark.parametrize("func, hint", [
    (_highest, "highest_weights"),
    (lambda X, y, w, k: _forward(X, y, w, k, joint=False), "each candidate column alone"),
    (lambda X, y, w, k: _forward(X, y, w, k, weighted=False), "unweighted"),
    (lambda X, y, w, k: _forward(X, y, w, k, pick=min), "lowest R²"),
    (lambda X, y, w, k: sorted(_forward(X, y, w, k)), "another order"),
    (lambda X, y, w, k: _forward(X, y, w, 1) * k, "a column twice"),
    (lambda X, y, w, k: _forward(X, y, w, k)[:-1], "return"),
    (lambda X, y, w, k: [X.shape[1] - 1 - j for j in range(k)], "expected"),
    (lambda X, y, w, k: [0.5] * k, "whole numbers"),
    (lambda X, y, w, k: None, "returns None"),
    (lambda X, y, w, k: "abc", "could not check"),
])
def test_forward_selection_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_forward_selection, func)
    assert not ok and hint in out


def test_forward_selection_none(capsys):
    ok, out = _run(capsys, ex.check_forward_selection, None)
    assert not ok and "no answer yet" in out


# ------------------------------------------------------------------------------------------- centred ridge
def _centred(X, y, w, alpha, mean_w=None, gram_w=None, shift=True, order=1):
    """A learner's centred weighted ridge; the keyword arguments make the typical mistakes."""
    mw = w if mean_w is None else mean_w(w)
    gw = w if gram_w is None else gram_w(w)
    x_bar, y_bar = mw @ X / mw.sum(), mw @ y / mw.sum()
    Xc, yc = X - x_bar, y - y_bar
    coef = np.linalg.solve(Xc.T @ (gw[:, None] * Xc) + alpha * np.eye(X.shape[1]), Xc.T @ (gw * yc))
    return (y_bar - x_bar @ coef if shift else y_bar, coef)[::order]


def test_centred_ridge_right(capsys):
    assert _run(capsys, ex.check_centred_ridge, _centred)[0]


def test_centred_ridge_reference_is_the_library(capsys):
    from aiaas_lib.explain import weighted_ridge
    rng = np.random.default_rng(1)
    X, y, w = rng.normal(size=(50, 3)) + 2, rng.normal(size=50), np.exp(rng.normal(size=50))
    coef, intercept = weighted_ridge(X, y, w, alpha=3.0)
    # two routes through well-conditioned float64 algebra: round-off only
    assert np.allclose(np.r_[ex._ridge(X, y, w, 3.0)], np.r_[intercept, coef], atol=1e-10)
    assert np.allclose(np.r_[ex._centred_ridge(X, y, w, 3.0)], np.r_[intercept, coef], atol=1e-10)


def _sklearn(X, y, w, alpha):
    from sklearn.linear_model import Ridge
    model = Ridge(alpha=alpha).fit(X, y, sample_weight=w)
    return model.intercept_, model.coef_


def _column_of_ones(X, y, w, alpha):
    A = np.column_stack([np.ones(len(X)), X])
    penalty = alpha * np.eye(A.shape[1])
    penalty[0, 0] = 0
    b = np.linalg.solve(A.T @ (w[:, None] * A) + penalty, A.T @ (w * y))
    return b[0], b[1:]


def _library(X, y, w, alpha):
    from aiaas_lib.explain import weighted_ridge
    coef, intercept = weighted_ridge(X, y, w, alpha)
    return intercept, coef


@pytest.mark.parametrize("func, hint", [
    (_sklearn, "'Ridge', a ready-made fit"),
    (_library, "'weighted_ridge', a ready-made fit"),
    (_column_of_ones, "'column_stack', as for a column of ones"),
    (lambda X, y, w, a: _centred(X, y, w, a, mean_w=np.ones_like), "plain means"),
    (lambda X, y, w, a: _centred(X, y, w, a, gram_w=lambda v: v / v.sum()), "divide the weights by their sum"),
    (lambda X, y, w, a: _centred(X, y, w, a, gram_w=np.ones_like), "ignores the weights"),
    (lambda X, y, w, a: _centred(X, y, w, a, shift=False), "the intercept is not"),
    (lambda X, y, w, a: _centred(X, y, w, 0.0), "without the penalty"),
    (lambda X, y, w, a: _centred(X, y, w, a, order=-1), "intercept first"),
    (lambda X, y, w, a: (0.0, np.zeros(X.shape[1])), "compare ridge of §2"),
    (lambda X, y, w, a: (0.0, np.zeros(X.shape[1] + 1)), "slopes"),
    (lambda X, y, w, a: np.zeros(X.shape[1] + 1), "two things"),
    (lambda X, y, w, a: None, "returns None"),
    (lambda X, y, w, a: ("a", "b"), "could not check"),
])
def test_centred_ridge_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_centred_ridge, func)
    assert not ok and hint in out


def test_centred_ridge_none(capsys):
    ok, out = _run(capsys, ex.check_centred_ridge, None)
    assert not ok and "no answer yet" in out
