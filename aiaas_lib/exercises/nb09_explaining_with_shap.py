"""Exercise checks of notebook 09 (explaining with shap): used by notebooks/09_explaining_with_shap.ipynb."""
from __future__ import annotations


import numpy as np

from aiaas_lib.exercises.feedback import exercise


#: Exercise 09.1's game: coalition (players in alphabetical order, "" = nobody) -> value.
SHAPLEY_GAME = {"": 0, "A": 12, "B": 6, "C": 0, "AB": 24, "AC": 18, "BC": 6, "ABC": 30}


def _game_shapley(game: dict, players: str) -> np.ndarray:
    """Shapley values of a game given as {coalition string: value}, by averaging over all orders."""
    from itertools import permutations

    key = lambda members: "".join(sorted(members))  # noqa: E731
    phi = {p: 0.0 for p in players}
    orders = list(permutations(players))
    for order in orders:
        for k, p in enumerate(order):
            phi[p] += game[key(order[:k + 1])] - game[key(order[:k])]
    return np.array([phi[p] / len(orders) for p in players])


@exercise
def check_shapley_game(answer) -> tuple[bool, str]:
    """Exercise 09.1: the Shapley values ``[phi_A, phi_B, phi_C]`` of :data:`SHAPLEY_GAME` (a dict
    ``{"A": ..., "B": ..., "C": ...}`` is accepted too).

    Examples
    --------
    >>> check_shapley_game([18, 9, 3])
    ✓ Shapley values [18, 9, 3]: they add up to v(ABC) − v(∅) = 30, and A, which adds most wherever it joins, gets most
    True
    """
    players, game = "ABC", SHAPLEY_GAME
    if isinstance(answer, dict):
        if set(answer) != set(players):
            return False, f"a dict needs exactly the keys {list(players)}; got {sorted(answer)}"
        answer = [answer[p] for p in players]
    got = np.asarray(answer, dtype=float).ravel()
    if got.shape != (3,):
        return False, f"give three numbers [phi_A, phi_B, phi_C]; got {got.size}"
    want = _game_shapley(game, players)
    if np.allclose(got, want, atol=1e-6):
        return True, (f"Shapley values [{', '.join(f'{g:g}' for g in got)}]: they add up to v(ABC) − v(∅) = 30, and A, which adds "
                      "most wherever it joins, gets most")
    alone = np.array([game[p] - game[""] for p in players])
    last = np.array([game[players] - game[players.replace(p, "")] for p in players])
    in_order = np.array([game["A"] - game[""], game["AB"] - game["A"], game["ABC"] - game["AB"]])
    if np.allclose(got, alone):
        return False, ("those are the values alone, v({i}) − v(∅); they add up to 18, not to v(ABC) = 30. "
                       "Average each player's contribution over all six orders")
    if np.allclose(got, last):
        return False, ("those are the contributions of joining last, v(ABC) − v(ABC without i); average over all six "
                       "orders, where each player also joins first and second")
    if np.allclose(got, in_order):
        return False, ("that is one order (A, then B, then C); Shapley values average the contributions over "
                       "all 3! = 6 orders")
    if not np.isclose(got.sum(), game[players] - game[""]):
        return False, (f"your values add up to {got.sum():g}; efficiency says they must add up to v(ABC) − v(∅) = 30. "
                       "List the 6 orders and each player's contribution when it joins")
    return False, ("they add up to 30 but are not the Shapley values: for each of the 6 orders write down what each "
                   "player adds when it joins, then average per player")


@exercise
def check_top_shap_feature(answer, values, names) -> tuple[bool, str]:
    """Exercise 09.2: the name of the feature with the largest mean |SHAP value| over the rows of ``values``
    (shape (n, n_features), columns named by ``names``).

    Examples
    --------
    >>> check_top_shap_feature("b", np.array([[0.1, -2.0], [0.3, 1.0]]), ["a", "b"])
    ✓ 'b' has the largest mean |SHAP value| (1.5): on average it moves the output most
    True
    """
    values, names = np.asarray(values, dtype=float), list(names)
    mean_abs = np.abs(values).mean(axis=0)
    best = names[int(np.argmax(mean_abs))]
    if isinstance(answer, (int, np.integer)) and not isinstance(answer, bool) and 0 <= answer < len(names):
        right = "the right column" if names[int(answer)] == best else "a column"
        return False, f"{int(answer)} is {right}'s position; give its name instead: names[{int(answer)}] = {names[int(answer)]!r}"
    if not isinstance(answer, str) or answer not in names:
        return False, f"{answer!r} is not one of the column names; pick from names, e.g. {names[0]!r}"
    if answer == best:
        return True, f"{answer!r} has the largest mean |SHAP value| ({mean_abs.max():.3g}): on average it moves the output most"
    if answer == names[int(np.argmax(values.mean(axis=0)))]:
        return False, (f"{answer!r} has the largest mean *signed* SHAP value; importance takes the absolute value first: "
                       "np.abs(values).mean(axis=0)")
    if answer == names[int(np.argmax(np.abs(values.mean(axis=0))))]:
        return False, (f"{answer!r} has the largest |mean|, where positive and negative values cancel; take the mean of "
                       "the absolute values: np.abs(values).mean(axis=0)")
    if answer == names[int(np.argmax(np.abs(values).max(axis=0)))]:
        return False, (f"{answer!r} has the single largest |value| (one row); the question asks for the mean over all "
                       "rows: np.abs(values).mean(axis=0)")
    return False, (f"{answer!r} has mean |SHAP value| {mean_abs[names.index(answer)]:.3g}, the top column has "
                   f"{mean_abs.max():.3g}; compute np.abs(values).mean(axis=0) and take its argmax")


@exercise
def check_additivity(answer, values, base_value, prediction) -> tuple[bool, str]:
    """Exercise 09.3: one row's prediction rebuilt from its explanation, ``base_value + sum(values)``,
    checked against the model's own ``prediction`` (to 1e-4: float32 models).

    Examples
    --------
    >>> check_additivity(0.7, [0.3, -0.1], 0.5, 0.7)
    ✓ 0.5 + (0.2) = 0.7000, the model's prediction: base value + sum of attributions = output
    True
    """
    values = np.asarray(values, dtype=float).ravel()
    base, pred, got = float(np.ravel(base_value)[0]), float(np.ravel(prediction)[0]), float(np.ravel(answer)[0])
    if abs(got - pred) < 1e-4:
        return True, (f"{base:.4g} + ({values.sum():.4g}) = {got:.4f}, the model's prediction: base value + sum of "
                      "attributions = output")
    if abs(got - values.sum()) < 1e-6:
        return False, "that is only the sum of the attributions; add the base value (the mean output on the background)"
    if abs(got - base) < 1e-6:
        return False, "that is only the base value; add the sum of this row's attributions to it"
    if abs(got - (base - values.sum())) < 1e-6:
        return False, "the attributions are added to the base value, not subtracted"
    if abs(got - (base + values.mean())) < 1e-6:
        return False, "use the sum of the attributions, not their mean: every feature's share counts"
    return False, f"{got:.4f} is not the model's output {pred:.4f}; compute base_value + values.sum()"
