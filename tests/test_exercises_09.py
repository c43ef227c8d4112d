import numpy as np
import pytest

from aiaas_lib.exercises import nb09_explaining_with_shap as ex
from aiaas_lib.explain.shapley import shapley_from_values
from _feedback import run_check as _run


def _estimate(v, n, num_permutations, rng):  # the right answer of exercise 09.1
    phi = np.zeros(n)
    for _ in range(num_permutations):
        before = set()
        for i in rng.permutation(n):
            phi[i] += v(before | {i}) - v(before)
            before.add(i)
    return phi / num_permutations


def _player_in_s(v, n, num_permutations, rng):  # adds i to S before measuring its contribution
    phi = np.zeros(n)
    for _ in range(num_permutations):
        before = set()
        for i in rng.permutation(n):
            before.add(i)
            phi[i] += v(before | {i}) - v(before)
    return phi / num_permutations


def _one_order(v, n, num_permutations, rng):  # draws the order once, outside the loop
    order, phi = rng.permutation(n), np.zeros(n)
    for _ in range(num_permutations):
        before = set()
        for i in order:
            phi[i] += v(before | {i}) - v(before)
            before.add(i)
    return phi / num_permutations


def _by_position(v, n, num_permutations, rng):  # stores each gain at the position in the order, not at the player
    phi = np.zeros(n)
    for _ in range(num_permutations):
        before = set()
        for k, i in enumerate(rng.permutation(n)):
            phi[k] += v(before | {i}) - v(before)
            before.add(i)
    return phi / num_permutations


def _unweighted(v, n, num_permutations, rng):  # the plain mean over subsets: the coalition weight forgotten
    return ex._banzhaf(v, n)


def _raises(v, n, num_permutations, rng):
    raise RuntimeError("learner bug")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_permutation_shapley_right(capsys, seed):
    assert _run(capsys, ex.check_permutation_shapley, _estimate, seed=seed)[0]


def test_permutation_shapley_rejects_exact_values(capsys):
    exact = lambda v, n, num_permutations, rng: ex._exact_and_spread(v, n)[0]  # noqa: E731
    ok, out = _run(capsys, ex.check_permutation_shapley, exact, seed=0)
    assert not ok and "you computed the exact values, not a permutation estimate" in out


def test_permutation_shapley_rejects_a_mean_of_two_orders_for_one(capsys):
    two = lambda v, n, num_permutations, rng: _estimate(v, n, max(num_permutations, 2), rng)  # noqa: E731
    ok, out = _run(capsys, ex.check_permutation_shapley, two, seed=0)
    assert not ok and "with num_permutations=1" in out


@pytest.mark.parametrize("answer, hint", [
    (_player_in_s, "already in S"),
    (lambda v, n, m, rng: m * _estimate(v, n, m, rng), "divide the summed contributions"),
    (lambda v, n, m, rng: -_estimate(v, n, m, rng), "signs are flipped"),
    (_unweighted, "|S|!(n−|S|−1)!/n!"),
    (_by_position, "phi[order[k]]"),
    (lambda v, n, m, rng: _estimate(v, n, m, rng) + np.array([1.0, 0, 0, 0]), "telescope"),
    (_one_order, "new random order"),
    (lambda v, n, m, rng: np.zeros(3), "shape (4,)"),
    (_raises, "could not check"),
    (lambda v, n, m, rng: None, "returns None"),
    (None, "no answer yet"),
])
def test_permutation_shapley_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_permutation_shapley, answer, seed=0)
    assert not ok and hint in out


def test_shapley_game_solution_equals_the_library():
    # the game as v indexed like coalition_masks: bit 0 = A, bit 1 = B, bit 2 = C
    order = ["", "A", "B", "AB", "C", "AC", "BC", "ABC"]
    v = np.array([ex.SHAPLEY_GAME[k] for k in order], dtype=float)
    np.testing.assert_allclose(shapley_from_values(v, 3), [19, 10, 1])


@pytest.mark.parametrize("answer", [[19, 10, 1], np.array([19.0, 10.0, 1.0]), {"A": 19, "B": 10, "C": 1}])
def test_shapley_game_right(capsys, answer):
    assert _run(capsys, ex.check_shapley_game, answer)[0]


@pytest.mark.parametrize("answer, hint", [
    ([12, 6, 0], "values alone"),
    ([24, 12, 0], "joining last"),
    ([12, 18, 0], "one order"),
    ([19.5, 10.5, 1.5], "plain (unweighted) mean"),
    ([18, 9, 3], "not the Shapley values"),
    ([19, 10, 2], "efficiency"),
    ([10, 10, 10], "not the Shapley values"),
    ([19, 10], "three numbers"),
    ({"A": 19, "B": 10}, "exactly the keys"),
    (None, "no answer yet"),
])
def test_shapley_game_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_shapley_game, answer)
    assert not ok and hint in out


def _deeplift(x, r, W, b, w_out):  # the right answer of exercise 09.2
    z, z_r = x @ W + b, r @ W + b
    still = np.isclose(z, z_r)
    m = np.where(still, z > 0, (np.maximum(z, 0) - np.maximum(z_r, 0)) / np.where(still, 1.0, z - z_r))
    return (x - r) * (W @ (m * w_out))


def _deeplift_no_guard(x, r, W, b, w_out):  # divides 0 by 0 where a unit did not move
    z, z_r = x @ W + b, r @ W + b
    return (x - r) * (W @ ((np.maximum(z, 0) - np.maximum(z_r, 0)) / (z - z_r) * w_out))


def _deeplift_no_w_out(x, r, W, b, w_out):  # the secant slopes, but never passed through the output weights
    return _deeplift(x, r, W, b, np.ones_like(w_out))


def _deeplift_multipliers(x, r, W, b, w_out):  # forgets to multiply by x - r
    d = _deeplift(x, r, W, b, w_out)
    return d / (x - r)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deeplift_relu_right(capsys, seed):
    assert _run(capsys, ex.check_deeplift_relu, _deeplift, seed=seed)[0]


@pytest.mark.parametrize("answer, hint", [
    (lambda x, r, W, b, w: ex._deeplift_relu(x, r, W, b, w, slope="gradient"), "gradient × (x − r)"),
    (_deeplift_no_guard, "nan or inf"),
    (_deeplift_multipliers, "those are the multipliers"),
    (_deeplift_no_w_out, "w_out are missing"),
    (lambda x, r, W, b, w: (x - r) * (W @ (x @ W + b > 0)), "w_out are missing"),
    (lambda x, r, W, b, w: x * _deeplift_multipliers(x, r, W, b, w), "not by x"),
    (lambda x, r, W, b, w: -_deeplift(x, r, W, b, w), "signs are flipped"),
    (lambda x, r, W, b, w: _deeplift(x, r, W, b, w) + 0.1, "add up to"),
    (lambda x, r, W, b, w: _deeplift(x, r, W, b, w)[::-1] if not np.allclose(
        _deeplift(x, r, W, b, w), _deeplift(x, r, W, b, w)[::-1]) else np.zeros(5), "not the rescale rule's"),
    (lambda x, r, W, b, w: np.zeros(3), "shape (5,)"),
    (_raises, "could not check"),
    (lambda x, r, W, b, w: None, "returns None"),
    (None, "no answer yet"),
])
def test_deeplift_relu_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_deeplift_relu, answer, seed=0)
    assert not ok and hint in out


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_permutation_shapley_position_hint_with_one_order_too(capsys, seed):
    # storing gains by position is efficient (it still telescopes), so only the hint tells it from a noisy estimate
    ok, out = _run(capsys, ex.check_permutation_shapley, _by_position, seed=seed)
    assert not ok and "phi[order[k]]" in out
