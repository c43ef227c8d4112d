import numpy as np
import pytest

from aiaas_lib.exercises import nb05_keras_tabular as ex
from _feedback import run_check as _run

Y = np.array([0, 0, 0, 0, 1, 1, 0, 1, 0, 0])
P = np.array([0.1, 0.2, 0.15, 0.5, 0.45, 0.9, 0.3, 0.35, 0.05, 0.6])


def test_expected_cost_counts_misses_and_false_alarms():
    # at 0.5: missed positives 0.45, 0.35 -> 2 x 10; false alarms 0.5, 0.6 -> 2 x 1
    assert ex.expected_cost(Y, P, 0.5, cost_fn=10, cost_fp=1) == 22


# --- exercise 05.1: balanced class weights -------------------------------------------------------------

def _balanced(y):
    classes, counts = np.unique(y, return_counts=True)
    return {int(c): len(y) / (len(classes) * n) for c, n in zip(classes, counts)}


def _upside_down(y):
    return {c: 1 / w for c, w in _balanced(y).items()}


def _no_k(y):
    classes, counts = np.unique(y, return_counts=True)
    return {int(c): len(y) / n for c, n in zip(classes, counts)}


def _two_classes_only(y):
    classes, counts = np.unique(y, return_counts=True)
    return {int(c): len(y) / (2 * n) for c, n in zip(classes, counts)}


def test_balanced_class_weights_right(capsys):
    assert _run(capsys, ex.check_balanced_class_weights, _balanced)[0]


def test_balanced_class_weights_accepts_sklearn(capsys):
    from sklearn.utils.class_weight import compute_class_weight

    def sk(y):
        classes = np.unique(y)
        return dict(zip(classes, compute_class_weight("balanced", classes=classes, y=y)))
    assert _run(capsys, ex.check_balanced_class_weights, sk)[0]


@pytest.mark.parametrize("func, hint", [
    (_upside_down, "upside down"),
    (lambda y: {int(c): np.mean(y == c) for c in np.unique(y)}, "upside down"),
    (_no_k, "number of classes k"),
    (_two_classes_only, "right for two classes only"),
    (lambda y: {0: 1.0}, "one weight per class"),
    (lambda y: [1.0, 2.0], "one weight per class"),
    (lambda y: {int(c): 1.0 for c in np.unique(y)}, "the weights are"),
    (lambda y: 1 / 0, "could not check"),
    (lambda y: None, "returned None"),
])
def test_balanced_class_weights_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_balanced_class_weights, func)
    assert not ok and hint in out


# --- exercise 05.2: the cheapest threshold -------------------------------------------------------------

def _best(y, p, cost_fn, cost_fp):
    candidates = np.r_[np.unique(p), 1.01]
    return candidates[np.argmin([ex.expected_cost(y, p, t, cost_fn, cost_fp) for t in candidates])]


def _argmax(y, p, cost_fn, cost_fp):
    candidates = np.r_[np.unique(p), 1.01]
    return candidates[np.argmax([ex.expected_cost(y, p, t, cost_fn, cost_fp) for t in candidates])]


def _strict(y, p, cost_fn, cost_fp):  # flags p > t: returns the score just below the cheapest cut
    candidates = np.r_[0.0, np.unique(p)]
    return candidates[np.argmin([ex.expected_cost(y, p - 1e-12, t, cost_fn, cost_fp) for t in candidates])]


def _grid(y, p, cost_fn, cost_fp):
    grid = np.linspace(0.01, 0.99, 99)
    return grid[np.argmin([ex.expected_cost(y, p, t, cost_fn, cost_fp) for t in grid])]


def test_best_threshold_right(capsys):
    assert _run(capsys, ex.check_best_threshold, _best)[0]


@pytest.mark.parametrize("func, hint", [
    (_argmax, "argmin, not argmax"),
    (lambda y, p, fn, fp: _best(y, p, fp, fn), "swapped"),
    (_strict, "not p > threshold"),
    (_grid, "a fixed grid misses"),
    (lambda y, p, fn, fp: ex.expected_cost(y, p, _best(y, p, fn, fp), fn, fp), "not its cost"),
    (lambda y, p, fn, fp: 0.45, "the cheapest costs"),
    (lambda y, p, fn, fp: "half", "could not check"),
    (lambda y, p, fn, fp: None, "returned None"),
])
def test_best_threshold_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_best_threshold, func)
    assert not ok and hint in out
