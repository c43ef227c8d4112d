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
def test_kernel_width_right(capsys, problem):
    # default width 0.75·√4 = 1.5; width 1.0 keeps ~600 of 1000 samples and fits better (R² ~0.46 vs ~0.38)
    ok, out = _run(capsys, ex.check_kernel_width, 1.0, *problem, num_samples=1000, min_effective=100)
    assert ok and "effective samples" in out


def test_kernel_width_too_narrow(capsys, problem):
    ok, out = _run(capsys, ex.check_kernel_width, 0.05, *problem, num_samples=1000, min_effective=100)
    assert not ok and "widen it" in out


def test_kernel_width_too_wide(capsys, problem):
    ok, out = _run(capsys, ex.check_kernel_width, 50.0, *problem, num_samples=1000, min_effective=100)
    assert not ok and "narrow it" in out


def test_kernel_width_not_positive(capsys, problem):
    ok, out = _run(capsys, ex.check_kernel_width, -1.0, *problem, num_samples=1000)
    assert not ok and "must be a positive number" in out


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


# --------------------------------------------------------------------------------------------- seed overlap
def test_seed_overlap_is_one_for_a_linear_model(problem):
    _, x, train = problem
    # a linear model with well separated coefficients: every seed finds the same top 2
    assert ex.lime_seed_overlap(lambda rows: rows @ np.array([3.0, -2.0, 1.0, 0.1]), x, train, 200, k=2) == 1.0


def test_seed_overlap_grows_with_samples(problem):
    f, x, train = problem
    # measured: 0.6 with 20 samples, 1.0 with 400 (top 2 of 4 features, 5 seeds)
    assert ex.lime_seed_overlap(f, x, train, 20, k=2) < ex.lime_seed_overlap(f, x, train, 400, k=2)


GRID = (20, 100, 400)


@pytest.fixture(scope="module")
def cheapest(problem):
    f, x, train = problem
    return next(n for n in GRID if ex.lime_seed_overlap(f, x, train, n, k=2) >= 0.8)


def test_lime_samples_right(capsys, problem, cheapest):
    ok, out = _run(capsys, ex.check_lime_samples, cheapest, *problem, grid=GRID, k=2)
    assert ok and "the cheapest stable setting" in out


def test_lime_samples_too_few(capsys, problem, cheapest):
    assert cheapest > GRID[0], "the fixture must leave an unstable setting below the answer"
    ok, out = _run(capsys, ex.check_lime_samples, GRID[0], *problem, grid=GRID, k=2)
    assert not ok and "more samples average out" in out


def test_lime_samples_more_than_needed(capsys, problem, cheapest):
    assert cheapest < GRID[-1], "the fixture must leave a stable but costlier setting above the answer"
    ok, out = _run(capsys, ex.check_lime_samples, GRID[-1], *problem, grid=GRID, k=2)
    assert not ok and "pick the cheapest" in out


def test_lime_samples_off_the_grid(capsys, problem):
    ok, out = _run(capsys, ex.check_lime_samples, 300, *problem, grid=GRID, k=2)
    assert not ok and "pick one of the grid" in out


def test_lime_samples_none(capsys, problem):
    ok, out = _run(capsys, ex.check_lime_samples, None, *problem, grid=GRID, k=2)
    assert not ok and "no answer yet" in out


# ------------------------------------------------------------------------------------------- kernel weights
def _kernel(samples, x, mean, std, kernel_width):
    d = np.linalg.norm((samples - x) / std, axis=1)
    return np.sqrt(np.exp(-d ** 2 / kernel_width ** 2))


def test_lime_kernel_right(capsys):
    assert _run(capsys, ex.check_lime_kernel, _kernel)[0]


def test_lime_kernel_right_as_a_column(capsys):
    assert _run(capsys, ex.check_lime_kernel, lambda *args: _kernel(*args)[:, None])[0]


@pytest.mark.parametrize("func, hint", [
    (lambda s, x, m, sd, w: np.sqrt(np.exp(-np.linalg.norm(s - x, axis=1) ** 2 / w ** 2)), "raw units"),
    (lambda s, x, m, sd, w: np.sqrt(np.exp(-np.linalg.norm((s - x) / sd ** 2, axis=1) ** 2 / w ** 2)), "variance"),
    (lambda s, x, m, sd, w: np.exp(-np.linalg.norm((s - x) / sd, axis=1) ** 2 / w ** 2), "square root"),
    (lambda s, x, m, sd, w: np.sqrt(np.exp(-np.linalg.norm((s - x) / sd, axis=1) / w ** 2)), "squared distance"),
    (lambda s, x, m, sd, w: np.ones(len(s)), "must weigh 1"),
    (lambda s, x, m, sd, w: np.ones(3), "one weight per sample"),
    (lambda s, x, m, sd, w: None, "returns None"),
    (lambda s, x, m, sd, w: "near", "could not check"),
])
def test_lime_kernel_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_lime_kernel, func)
    assert not ok and hint in out


def test_lime_kernel_none(capsys):
    ok, out = _run(capsys, ex.check_lime_kernel, None)
    assert not ok and "no answer yet" in out


# ---------------------------------------------------------------------------------------------- local R²
def _r2(y, y_hat, w):
    y_bar = np.average(y, weights=w)
    return 1 - np.sum(w * (y - y_hat) ** 2) / np.sum(w * (y - y_bar) ** 2)


def test_local_r2_right(capsys):
    assert _run(capsys, ex.check_local_r2, _r2)[0]


def test_local_r2_right_with_sklearn(capsys):
    from sklearn.metrics import r2_score
    assert _run(capsys, ex.check_local_r2, lambda y, y_hat, w: r2_score(y, y_hat, sample_weight=w))[0]


@pytest.mark.parametrize("func, hint", [
    (lambda y, y_hat, w: 1 - np.sum((y - y_hat) ** 2) / np.sum((y - y.mean()) ** 2), "ignores the weights"),
    (lambda y, y_hat, w: 1 - np.sum(w * (y - y_hat) ** 2) / np.sum(w * (y - y.mean()) ** 2), "weighted mean"),
    (lambda y, y_hat, w: 1 - _r2(y, y_hat, w), "1 minus"),
    (lambda y, y_hat, w: 0.5, "compare step 4"),
    (lambda y, y_hat, w: None, "returns None"),
    (lambda y, y_hat, w: "good", "could not check"),
])
def test_local_r2_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_local_r2, func)
    assert not ok and hint in out


def test_local_r2_none(capsys):
    ok, out = _run(capsys, ex.check_local_r2, None)
    assert not ok and "no answer yet" in out
