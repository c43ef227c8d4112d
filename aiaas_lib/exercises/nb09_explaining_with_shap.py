"""Exercise checks of notebook 09 (explaining with shap): used by notebooks/09_explaining_with_shap.ipynb."""
from __future__ import annotations


from itertools import combinations, permutations

import numpy as np

from aiaas_lib.exercises.feedback import exercise


#: Exercise 09.3's game: coalition (players in alphabetical order, "" = nobody) -> value.
SHAPLEY_GAME = {"": 0, "A": 12, "B": 6, "C": 0, "AB": 30, "AC": 18, "BC": 6, "ABC": 30}


def _game_shapley(game: dict, players: str) -> np.ndarray:
    """Shapley values of a game given as {coalition string: value}, by averaging over all orders."""
    key = lambda members: "".join(sorted(members))  # noqa: E731
    phi = {p: 0.0 for p in players}
    orders = list(permutations(players))
    for order in orders:
        for k, p in enumerate(order):
            phi[p] += game[key(order[:k + 1])] - game[key(order[:k])]
    return np.array([phi[p] / len(orders) for p in players])


def random_game(n_players: int, rng: np.random.Generator):
    """A random game over players 0..n_players-1: ``v(S)`` for any iterable ``S`` of players (with interactions)."""
    table = {frozenset(S): float(rng.normal(scale=3.0)) for k in range(n_players + 1)
             for S in combinations(range(n_players), k)}
    return lambda S: table[frozenset(S)]


def _order_gains(v, n: int) -> np.ndarray:
    """One row per order of the n players: what each player adds when it joins in that order."""
    return np.array([[v(order[:order.index(i)] + (i,)) - v(order[:order.index(i)]) for i in range(n)]
                     for order in permutations(range(n))])


def _position_gains(v, n: int) -> np.ndarray:
    """One row per order: what the player at position k adds (the mistake ``phi[k]`` for ``phi[order[k]]``)."""
    return np.array([[v(order[:k + 1]) - v(order[:k]) for k in range(n)] for order in permutations(range(n))])


def _exact_and_spread(v, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact Shapley values of ``v`` (the mean over all n! orders) and the std of each player's contribution."""
    gains = _order_gains(v, n)
    return gains.mean(axis=0), gains.std(axis=0)


def _banzhaf(v, n: int) -> np.ndarray:
    """The unweighted average of v(S ∪ {i}) − v(S) over the subsets S without i (the typical wrong weight)."""
    return np.array([np.mean([v(set(S) | {i}) - v(S) for k in range(n) for S in combinations(
        [j for j in range(n) if j != i], k)]) for i in range(n)])


_POSITION_HINT = ("you stored each gain at its position in the order (phi[k] for the k-th player to join); "
                  "store it at the player who joined: phi[order[k]], or loop `for i in order:` and add to phi[i]")


@exercise
def check_permutation_shapley(answer, seed: int | None = None) -> tuple[bool, str]:
    """Exercise 09.1: ``answer(v, n, num_permutations, rng)`` estimates the Shapley values of the game ``v``
    (``v(S)`` takes a set of players 0..n-1) by sampling ``num_permutations`` orders with ``rng``: in each
    order, player ``i`` earns ``v(S ∪ {i}) − v(S)`` where ``S`` is the set of players *before* it; the
    estimate is the mean over the orders. Checked on fresh random games of 4 players against the exact
    values (within 5 standard errors) and for efficiency (every order adds up to ``v(N) − v(∅)``).

    Examples
    --------
    >>> def estimate(v, n, num_permutations, rng):
    ...     phi = np.zeros(n)
    ...     for _ in range(num_permutations):
    ...         before = set()
    ...         for i in rng.permutation(n):
    ...             phi[i] += v(before | {i}) - v(before)
    ...             before.add(i)
    ...     return phi / num_permutations
    >>> check_permutation_shapley(estimate, seed=0)  # doctest: +ELLIPSIS
    ✓ on 3 fresh random games of 4 players, 2000 orders each: within ... of the exact Shapley values, ...
    True
    """
    rng = np.random.default_rng(seed)
    n, m, worst = 4, 2000, 0.0
    for _ in range(3):
        v = random_game(n, rng)
        exact, spread = _exact_and_spread(v, n)
        out = answer(v, n, m, np.random.default_rng(rng.integers(2**32)))
        if out is None:
            return False, "your function returns None: write its body and return an array of one value per player"
        got = np.asarray(out, dtype=float).ravel()
        if got.shape != (n,):
            return False, f"return one value per player, an array of shape ({n},); got {got.size} values"
        payout = v(range(n)) - v(set())
        if np.allclose(got, 0, atol=1e-12):
            return False, ("every value is 0: v(S ∪ {i}) − v(S) vanishes when i is already in S. "
                           "Take S = the players *before* i in the order, then add i")
        if not np.isclose(got.sum(), payout, atol=1e-9):
            if np.isclose(got.sum(), m * payout, rtol=1e-9):
                return False, (f"your values add up to {m} × (v(N) − v(∅)): divide the summed contributions by "
                               "num_permutations (an estimate is a mean over the orders)")
            if np.isclose(got.sum(), -payout, atol=1e-9):
                return False, "the signs are flipped: a player earns v(S ∪ {i}) − v(S), not v(S) − v(S ∪ {i})"
            if np.allclose(got, _banzhaf(v, n), atol=1e-9):
                return False, ("that is the plain mean over the subsets S without i: the Shapley value weights "
                               "each S by |S|!(n−|S|−1)!/n! — which sampling orders does by itself")
            return False, (f"your values add up to {got.sum():.4g}, not v(N) − v(∅) = {payout:.4g}. In every "
                           "order the contributions telescope from v(∅) to v(N), so the mean over orders must add up too: "
                           "use the players before i in *that* order, and add i to them after it has earned")
        tolerance = 5 * spread / np.sqrt(m) + 1e-9
        error = np.abs(got - exact)
        if (error > tolerance).any():
            by_position = _position_gains(v, n)
            near = 5 * by_position.std(axis=0) / np.sqrt(m) + 1e-9
            if (np.abs(got - by_position.mean(axis=0)) <= near).all():
                return False, (_POSITION_HINT + f" (your values are {error.max():.3g} away from the exact "
                               "ones, and match the mean gain of the 1st, 2nd, … player to join)")
            return False, (f"efficient, but {error.max():.3g} away from the exact values (5 standard errors with {m} "
                           f"orders: {tolerance.max():.3g}); draw a new random order for each of the num_permutations "
                           "samples, with rng.permutation(n)")
        worst = max(worst, float((error / tolerance * 5).max()))
        one = answer(v, n, 1, np.random.default_rng(rng.integers(2**32)))  # one order: that order's gains, exactly
        one = np.full(n, np.nan) if one is None else np.asarray(one, dtype=float).ravel()
        if one.shape != (n,) or not np.isclose(_order_gains(v, n), one, atol=1e-9).all(axis=1).any():
            if one.shape == (n,) and np.isclose(_position_gains(v, n), one, atol=1e-9).all(axis=1).any():
                return False, _POSITION_HINT
            if one.shape == (n,) and np.allclose(one, exact, atol=1e-9):
                return False, ("you computed the exact values, not a permutation estimate: with num_permutations=1 "
                               "the estimate must be the gains of the one order drawn with rng.permutation(n)")
            return False, ("with num_permutations=1 your function must return what each player adds in one random "
                           "order (rng.permutation(n)); it returned something else")
    return True, (f"on 3 fresh random games of {n} players, {m} orders each: within {worst:.1f} standard errors of "
                  "the exact Shapley values, and each estimate adds up to v(N) − v(∅) exactly; with one order, "
                  "that order's gains")


def _relu_network(x, W, b, w_out):
    """f(x) = w_out · relu(W^T x + b): one ReLU layer and a linear output, the network of exercise 09.2."""
    return float(np.maximum(x @ W + b, 0) @ w_out)


def _deeplift_relu(x, r, W, b, w_out, slope: str = "secant") -> np.ndarray:
    """DeepLIFT contributions of the inputs of ``_relu_network`` against one reference ``r``.

    ``slope="secant"`` is the rescale rule (the right answer); ``"gradient"`` uses the ReLU's derivative at
    ``x`` instead (the typical mistake: gradient × (x − r)).
    """
    z, z_r = x @ W + b, r @ W + b
    if slope == "gradient":
        m = (z > 0).astype(float)
    else:
        still = np.abs(z - z_r) < 1e-12
        m = np.where(still, (z > 0).astype(float),
                     (np.maximum(z, 0) - np.maximum(z_r, 0)) / np.where(still, 1.0, z - z_r))
    return (x - r) * (W @ (m * w_out))


def _relu_case(rng: np.random.Generator, d: int = 5, h: int = 6):
    """A fresh random network and input pair where some units cross zero and one unit does not move."""
    W, b, w_out = rng.normal(size=(d, h)), rng.normal(scale=0.5, size=h), rng.normal(size=h)
    W[:, 0] = 0.0  # unit 0 ignores the inputs: z == z_r there, the rescale rule's 0/0 case
    x, r = rng.normal(size=d), rng.normal(size=d)
    return x, r, W, b, w_out


@exercise
def check_deeplift_relu(answer, seed: int | None = None) -> tuple[bool, str]:
    """Exercise 09.2: ``answer(x, r, W, b, w_out)`` returns DeepLIFT's rescale-rule contributions of the
    inputs ``x`` (shape (d,)) against one reference ``r`` for the network ``f(x) = w_out · relu(W^T x + b)``
    (``W`` (d, h), ``b`` and ``w_out`` (h,)): with ``z = x @ W + b`` and ``z_r = r @ W + b``, each hidden
    unit's multiplier is the secant slope ``(relu(z) − relu(z_r)) / (z − z_r)`` (the derivative where
    ``z == z_r``), and input ``k`` contributes ``(x_k − r_k) · Σ_j W[k, j] · m_j · w_out[j]``. Checked on
    fresh random networks against the reference, and for summation-to-delta (``Σ c = f(x) − f(r)``).

    Examples
    --------
    >>> def contributions(x, r, W, b, w_out):
    ...     z, z_r = x @ W + b, r @ W + b
    ...     still = np.isclose(z, z_r)
    ...     m = np.where(still, z > 0, (np.maximum(z, 0) - np.maximum(z_r, 0)) / np.where(still, 1.0, z - z_r))
    ...     return (x - r) * (W @ (m * w_out))
    >>> check_deeplift_relu(contributions, seed=0)  # doctest: +ELLIPSIS
    ✓ on 20 fresh random networks (... with a unit that changes sign): equal to the rescale rule, ...
    True
    """
    rng = np.random.default_rng(seed)
    crossings = 0
    for _ in range(20):
        x, r, W, b, w_out = _relu_case(rng)
        want = _deeplift_relu(x, r, W, b, w_out)
        delta = _relu_network(x, W, b, w_out) - _relu_network(r, W, b, w_out)
        z, z_r = x @ W + b, r @ W + b
        crossings += bool(((z > 0) != (z_r > 0)).any())
        with np.errstate(divide="ignore", invalid="ignore"):
            out = answer(x.copy(), r.copy(), W.copy(), b.copy(), w_out.copy())
        if out is None:
            return False, "your function returns None: return an array of one contribution per input"
        got = np.asarray(out, dtype=float).ravel()
        if got.shape != want.shape:
            return False, f"return one contribution per input, an array of shape {want.shape}; got {got.size} values"
        if not np.isfinite(got).all():
            return False, ("your contributions contain nan or inf: a unit whose input did not move (z == z_r) divides "
                           "0 by 0; use the derivative there, e.g. np.where(np.isclose(z, z_r), z > 0, secant)")
        if np.allclose(got, want, atol=1e-9):
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            secant = np.where(np.isclose(z, z_r), z > 0, (np.maximum(z, 0) - np.maximum(z_r, 0))
                              / np.where(np.isclose(z, z_r), 1.0, z - z_r))
        multipliers = W @ (secant * w_out)
        if np.allclose(got, _deeplift_relu(x, r, W, b, w_out, slope="gradient"), atol=1e-9):
            return False, ("that is gradient × (x − r): the ReLU's derivative at x, not the secant slope "
                           "(relu(z) − relu(z_r)) / (z − z_r). Where a unit changes sign between r and x they differ, "
                           "and the contributions no longer add up to f(x) − f(r)")
        if any(np.allclose(got, (x - r) * (W @ m), atol=1e-9) for m in (secant, (z > 0).astype(float))):
            return False, ("the output layer's weights w_out are missing: each hidden unit's multiplier m_j "
                           "reaches the output through w_out[j], so input k contributes "
                           "(x_k − r_k) · Σ_j W[k, j] · m_j · w_out[j], i.e. (x − r) * (W @ (m * w_out))")
        if np.allclose(got, multipliers, atol=1e-9):
            return False, "those are the multipliers; a contribution is the multiplier times (x − r)"
        if np.allclose(got, x * multipliers, atol=1e-9):
            return False, "multiply the multipliers by the difference from the reference, x − r, not by x"
        if np.allclose(got, -want, atol=1e-9):
            return False, "the signs are flipped: use x − r (the input minus the reference), not r − x"
        if not np.isclose(got.sum(), delta, atol=1e-9):
            return False, (f"your contributions add up to {got.sum():.4g}, not f(x) − f(r) = {delta:.4g}: with secant "
                           "slopes every step of the chain rule is exact, so the sum must equal the change in output")
        return False, ("the contributions add up to f(x) − f(r) but are not the rescale rule's; compute one multiplier "
                       "per hidden unit, (relu(z) − relu(z_r)) / (z − z_r), and pass it back through W and w_out")
    return True, (f"on 20 fresh random networks ({crossings} with a unit that changes sign): equal to the rescale "
                  "rule, and the contributions add up to f(x) − f(r)")


@exercise
def check_shapley_game(answer) -> tuple[bool, str]:
    """Exercise 09.3: the Shapley values ``[phi_A, phi_B, phi_C]`` of :data:`SHAPLEY_GAME` (a dict
    ``{"A": ..., "B": ..., "C": ...}`` is accepted too).

    Examples
    --------
    >>> check_shapley_game([19, 10, 1])
    ✓ Shapley values [19, 10, 1]: they add up to v(ABC) − v(∅) = 30, and A, which adds most wherever it joins, gets most
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
        return True, (f"Shapley values [{', '.join(f'{g:g}' for g in got)}]: they add up to v(ABC) − v(∅) = "
                      f"{game[players] - game['']:g}, and A, which adds "
                      "most wherever it joins, gets most")
    alone = np.array([game[p] - game[""] for p in players])
    last = np.array([game[players] - game[players.replace(p, "")] for p in players])
    in_order = np.array([game["A"] - game[""], game["AB"] - game["A"], game["ABC"] - game["AB"]])
    unweighted = _banzhaf(lambda S: game["".join(sorted(players[i] for i in S))], len(players))
    if np.allclose(got, unweighted):
        return False, ("that is the plain (unweighted) mean over the 4 coalitions S without i; the Shapley value "
                       "weights each S by |S|!(n−|S|−1)!/n!: 1/3 for S = ∅ and for S = both others, 1/6 for each "
                       "one-player S (the share of the 6 orders in which exactly S comes before i)")
    if np.allclose(got, alone):
        return False, (f"those are the values alone, v({{i}}) − v(∅); they add up to {alone.sum():g}, not to "
                       f"v(ABC) = {game[players]:g}. Average each player's contribution over all six orders")
    if np.allclose(got, last):
        return False, ("those are the contributions of joining last, v(ABC) − v(ABC without i); average over all six "
                       "orders, where each player also joins first and second")
    if np.allclose(got, in_order):
        return False, ("that is one order (A, then B, then C); Shapley values average the contributions over "
                       "all 3! = 6 orders")
    if not np.isclose(got.sum(), game[players] - game[""]):
        return False, (f"your values add up to {got.sum():g}; efficiency says they must add up to v(ABC) − v(∅) = "
                       f"{game[players] - game['']:g}. "
                       "List the 6 orders and each player's contribution when it joins")
    return False, ("they add up to 30 but are not the Shapley values: for each of the 6 orders write down what each "
                   "player adds when it joins, then average per player")
