import numpy as np
import pytest

from aiaas_lib.exercises import nb09_explaining_with_shap as ex
from aiaas_lib.explain.shapley import shapley_from_values
from _feedback import run_check as _run


def test_shapley_game_solution_equals_the_library():
    # the game as v indexed like coalition_masks: bit 0 = A, bit 1 = B, bit 2 = C
    order = ["", "A", "B", "AB", "C", "AC", "BC", "ABC"]
    v = np.array([ex.SHAPLEY_GAME[k] for k in order], dtype=float)
    np.testing.assert_allclose(shapley_from_values(v, 3), [18, 9, 3])


@pytest.mark.parametrize("answer", [[18, 9, 3], np.array([18.0, 9.0, 3.0]), {"A": 18, "B": 9, "C": 3}])
def test_shapley_game_right(capsys, answer):
    assert _run(capsys, ex.check_shapley_game, answer)[0]


@pytest.mark.parametrize("answer, hint", [
    ([12, 6, 0], "values alone"),
    ([24, 12, 6], "joining last"),
    ([12, 12, 6], "one order"),
    ([18, 9, 4], "efficiency"),
    ([10, 10, 10], "not the Shapley values"),
    ([18, 9], "three numbers"),
    ({"A": 18, "B": 9}, "exactly the keys"),
    (None, "no answer yet"),
])
def test_shapley_game_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_shapley_game, answer)
    assert not ok and hint in out


# one matrix that tells every criterion apart (rows = customers):
# a: mean |value| 2 (the answer), signed mean 0;  b: signed mean 1 (the largest);  c: one value -3 (the largest
# single |value|), mean |value| 0.75;  d: small everywhere;  e: |mean| 1.5 (the largest), signed mean -1.5
VALUES = np.array([[2.0, 1.0, -3.0, 0.1, -1.5],
                   [-2.0, 1.0, 0.0, 0.1, -1.5],
                   [2.0, 1.0, 0.0, 0.1, -1.5],
                   [-2.0, 1.0, 0.0, 0.1, -1.5]])
NAMES = ["a", "b", "c", "d", "e"]


def test_top_shap_feature_right(capsys):
    assert _run(capsys, ex.check_top_shap_feature, "a", VALUES, NAMES)[0]


@pytest.mark.parametrize("answer, hint", [
    ("b", "mean *signed*"),
    ("e", "|mean|"),
    ("c", "single largest"),
    ("d", "take its argmax"),
    ("z", "not one of the column names"),
    (0, "right column's position"),
    (3, "a column's position"),
    (None, "no answer yet"),
])
def test_top_shap_feature_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_top_shap_feature, answer, VALUES, NAMES)
    assert not ok and hint in out


def test_additivity_right(capsys):
    assert _run(capsys, ex.check_additivity, 0.7, [0.3, -0.1], 0.5, 0.7)[0]


@pytest.mark.parametrize("answer, hint", [
    (0.2, "only the sum"),
    (0.5, "only the base value"),
    (0.3, "not subtracted"),
    (0.6, "not their mean"),
    (0.9, "not the model's output"),
    (None, "no answer yet"),
])
def test_additivity_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_additivity, answer, [0.3, -0.1], 0.5, 0.7)
    assert not ok and hint in out
