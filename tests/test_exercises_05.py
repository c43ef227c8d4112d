import numpy as np
import pytest

from aiaas_lib.exercises import nb05_keras_tabular as ex
from _feedback import run_check as _run

Y = np.array([0, 0, 0, 0, 1, 1, 0, 1, 0, 0])
P = np.array([0.1, 0.2, 0.15, 0.5, 0.45, 0.9, 0.3, 0.35, 0.05, 0.6])


def test_expected_cost_counts_misses_and_false_alarms():
    # at 0.5: missed positives 0.45, 0.35 -> 2 x 10; false alarms 0.5, 0.6 -> 2 x 1
    assert ex.expected_cost(Y, P, 0.5, cost_fn=10, cost_fp=1) == 22


def test_cost_threshold_right(capsys):
    assert _run(capsys, ex.check_cost_threshold, 0.34, Y, P, 10, 1)[0]


@pytest.mark.parametrize("threshold, hint", [(0.5, "try lower"), (1.5, "must be a probability"), ("x", "could not")])
def test_cost_threshold_wrong(capsys, threshold, hint):
    ok, out = _run(capsys, ex.check_cost_threshold, threshold, Y, P, 10, 1)
    assert not ok and hint in out


def test_cost_threshold_hint_higher_when_false_alarms_cost_more(capsys):
    ok, out = _run(capsys, ex.check_cost_threshold, 0.1, Y, P, 1, 10)
    assert not ok and "try higher" in out


def test_class_weights_right(capsys):
    assert _run(capsys, ex.check_class_weights, {0: 10 / 14, 1: 10 / 6}, Y)[0]


@pytest.mark.parametrize("weights, hint", [({0: 14 / 10, 1: 6 / 10}, "upside down"), ({0: 1, 1: 3}, "about"),
                                           ([1, 2], "one weight per class"), ({0: 1}, "one weight per class")])
def test_class_weights_wrong(capsys, weights, hint):
    ok, out = _run(capsys, ex.check_class_weights, weights, Y)
    assert not ok and hint in out
