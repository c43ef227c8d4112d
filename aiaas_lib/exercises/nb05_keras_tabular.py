"""Exercise checks of notebook 05 (keras tabular): used by notebooks/05_keras_tabular.ipynb.

Both exercises make the learner write a function; the checkers call it on fresh inputs (a small random
DataFrame; random labels and scores), compare with the reference below, and name the usual mistake when
they can recognise it.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aiaas_lib.exercises.feedback import exercise


def expected_cost(y_true, p, threshold: float, cost_fn: float, cost_fp: float) -> float:
    """Total cost of acting on ``p >= threshold``: each missed positive costs ``cost_fn``, each false alarm ``cost_fp``."""
    y_true, flagged = np.asarray(y_true).ravel(), np.asarray(p).ravel() >= threshold
    return float(cost_fn * np.sum((y_true == 1) & ~flagged) + cost_fp * np.sum((y_true == 0) & flagged))


def _cost_strict(y_true, p, threshold: float, cost_fn: float, cost_fp: float) -> float:
    """Like :func:`expected_cost` but flagging ``p > threshold`` (the usual off-by-one)."""
    return expected_cost(y_true, np.asarray(p, dtype=float) - 1e-12, threshold, cost_fn, cost_fp)


def _candidates(p) -> np.ndarray:
    """Every threshold that gives a different decision: each distinct score, and one above them all."""
    return np.unique(np.r_[np.asarray(p, dtype=float).ravel(), 1.0 + 1e-9])


# --- exercise 05.1: the §3 model as a function ------------------------------------------------------------

_NUMERIC, _CATEGORICAL = ["tenure", "monthly_charges"], ["contract", "paperless_billing"]


def _fresh_frames(rng):
    """A small random training frame and other rows, with some of the churn table's column names (so that
    code which reaches for the notebook's ``X`` or ``X_train`` still runs, and can be recognised)."""
    import pandas as pd

    def frame(n, contracts):
        return pd.DataFrame({
            "tenure": rng.integers(40, 160, n).astype(float),          # far from the churn table's months
            "monthly_charges": rng.normal(300.0, 80.0, n).round(2),
            "contract": rng.choice(contracts, n),
            "paperless_billing": rng.choice(["Yes", "No"], n),
        })
    train = frame(int(rng.integers(40, 70)), ["Weekly", "Monthly", "Yearly"])
    other = frame(int(rng.integers(20, 30)), ["Weekly", "Monthly", "Yearly", "Hourly"])  # 'Hourly': unseen
    return train, other


def _columns(frame, numeric, categorical) -> dict:
    cols = {c: frame[[c]].to_numpy(dtype="float32") for c in numeric}
    cols.update({c: frame[[c]].astype(str).to_numpy(dtype=str) for c in categorical})
    return cols


def _consumer(model, column: str):
    """The layer that takes the model's input named ``column`` (and only it), or None."""
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        try:
            inp = layer.input
        except (AttributeError, ValueError):
            continue
        if not isinstance(inp, (list, tuple, dict)) and getattr(inp, "name", None) == column:
            return layer
    return None


def _notebook_stats(column: str) -> dict[str, float]:
    """Mean of ``column`` in the notebook's ``X`` (all rows) and ``X_train``, to recognise the wrong frame."""
    from aiaas_lib import data

    X, y = data.churn_xy(data.load_churn())
    X_train = data.split(X, y, val_size=0.2, test_size=0.2, seed=0, stratify=y)[0]
    return {"all": float(X[column].mean()), "X_train": float(X_train[column].mean())}


def _check_numeric(layer, col, train, other):
    """None if ``layer`` scales ``col`` with the training rows' mean and std, else a hint."""
    import keras

    x = other[[col]].to_numpy(dtype="float32")
    mu, sigma = float(train[col].mean()), float(train[col].std(ddof=0))
    want = (x - mu) / sigma
    if layer is None:
        return (f"numeric column {col!r} goes into the model unscaled: pass its Input through a "
                "keras.layers.Normalization adapted on train_frame[[col]]")
    try:
        got = np.asarray(keras.ops.convert_to_numpy(layer(x)), dtype=float)
    except Exception as err:  # noqa: BLE001 - any failure is feedback
        return (f"the layer after input {col!r} cannot take its numbers ({type(err).__name__}): "
                "use Normalization")
    if got.shape == want.shape and np.allclose(got, want, rtol=1e-4, atol=1e-4):
        return None
    zero_one = np.array([[0.0], [1.0]], dtype="float32")
    z01 = np.asarray(keras.ops.convert_to_numpy(layer(zero_one)), dtype=float)
    if z01.shape != (2, 1) or abs(z01[1, 0] - z01[0, 0]) < 1e-12:
        return (f"the layer after input {col!r} does not map one number to one scaled number: "
                "use Normalization")
    s = 1.0 / (z01[1, 0] - z01[0, 0])
    m = -z01[0, 0] * s
    if np.isclose(m, 0, atol=1e-4) and np.isclose(s, 1, atol=1e-4):
        return (f"numeric column {col!r} is not scaled (mean 0, std 1): call .adapt(train_frame[[col]]) "
                "on its Normalization")
    nb = _notebook_stats(col)
    if np.isclose(m, nb["all"], rtol=1e-4):
        return (f"{col!r} is normalised with the mean of all rows of the notebook's X (train, validation "
                "and test): that leaks the test rows into the model; adapt on the frame passed in, train_frame")
    if np.isclose(m, nb["X_train"], rtol=1e-4):
        return (f"{col!r} is normalised with the notebook's X_train, not with the frame passed in: adapt on "
                "train_frame[[col]], the function's argument")
    if np.isclose(m, mu, rtol=1e-4) and np.isclose(s, float(train[col].std(ddof=1)), rtol=1e-4):
        return f"{col!r}: Normalization uses the population std (ddof=0), as adapt() computes it"
    return (f"{col!r} is scaled with mean {m:.4g} and std {s:.4g}, but the training rows have mean "
            f"{mu:.4g} and std {sigma:.4g}: adapt its Normalization on train_frame[[col]]")


def _check_categorical(layer, col, train, other):
    """None if ``layer`` one-hot encodes ``col`` with the training rows' vocabulary, else a hint."""
    import keras

    if layer is None:
        return f"categorical column {col!r} has no StringLookup after its Input"
    x = other[[col]].astype(str).to_numpy(dtype=str)
    try:
        got = np.asarray(keras.ops.convert_to_numpy(layer(x)), dtype=float)
    except Exception as err:  # noqa: BLE001
        return (f"the layer after input {col!r} cannot take its strings ({type(err).__name__}): "
                "use StringLookup")
    if got.ndim != 2 or got.shape[1] == 1:
        return (f"{col!r} comes out as one number per row (a category index): Dense layers would read "
                "it as a size (category 3 = three times category 1); use StringLookup(output_mode='one_hot')")
    if not (np.isin(got, (0.0, 1.0)).all() and np.allclose(got.sum(axis=1), 1.0)):
        return f"{col!r} is not one-hot (one 1 per row): use StringLookup(output_mode='one_hot')"
    seen = set(train[col].astype(str))
    vocab = [str(v) for v in layer.get_vocabulary()] if hasattr(layer, "get_vocabulary") else None
    if vocab is not None and set(vocab) - {"[UNK]"} != seen:
        return (f"{col!r}'s vocabulary is {sorted(set(vocab) - {'[UNK]'})}, the training rows have "
                f"{sorted(seen)}: adapt the StringLookup on train_frame[[col]]")
    return None


@exercise
def check_build_model(func: Callable) -> tuple[bool, str]:
    """Exercise 05.1: ``func(train_frame, numeric, categorical, hidden)`` returns the untrained §3 model:
    one ``keras.Input`` per column (named after it), ``Normalization`` of each numeric column and one-hot
    ``StringLookup`` of each categorical column, both adapted on ``train_frame`` only, ``Concatenate``,
    one ``Dense(h, relu)`` per entry of ``hidden``, and ``Dense(1, sigmoid)``.

    Checked without training on a small fresh DataFrame: the inputs' names, the numbers of *other* rows
    scaled with the training rows' mean and std, the categories one-hot with the training vocabulary (an
    unseen one in its own slot), the Dense widths, and an output of shape (n, 1) in [0, 1].

    Examples
    --------
    >>> import keras
    >>> def build(train_frame, numeric, categorical, hidden):
    ...     inputs, encoded = {}, []
    ...     for col in numeric:
    ...         inputs[col] = keras.Input(shape=(1,), name=col, dtype="float32")
    ...         norm = keras.layers.Normalization()
    ...         norm.adapt(train_frame[[col]].to_numpy(dtype="float32"))
    ...         encoded.append(norm(inputs[col]))
    ...     for col in categorical:
    ...         inputs[col] = keras.Input(shape=(1,), name=col, dtype="string")
    ...         lookup = keras.layers.StringLookup(output_mode="one_hot")
    ...         lookup.adapt(train_frame[[col]].astype(str).to_numpy(dtype=str))
    ...         encoded.append(lookup(inputs[col]))
    ...     x = keras.layers.Concatenate()(encoded)
    ...     for width in hidden:
    ...         x = keras.layers.Dense(width, activation="relu")(x)
    ...     return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    >>> check_build_model(build)
    ✓ inputs, training-row scaling, one-hot categories, Dense widths [6, 4, 1] and (n, 1) probabilities all right
    True
    """
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    rng = np.random.default_rng(5)  # fresh data: not the notebook's
    train, other = _fresh_frames(rng)
    hidden = (6, 4)
    model = func(train.copy(), list(_NUMERIC), list(_CATEGORICAL), hidden)
    if model is None:
        return False, "your function returned None: return the keras.Model"
    if not isinstance(model, keras.Model):
        return False, f"return a keras.Model (keras.Model(inputs, output)), got {type(model).__name__}"
    names = sorted(t.name for t in model.inputs)
    if names != sorted(_NUMERIC + _CATEGORICAL):
        return False, (f"the model's inputs are {names}; it needs one keras.Input per column of numeric + "
                       f"categorical, named after the column: {sorted(_NUMERIC + _CATEGORICAL)}")
    for col in _NUMERIC:
        hint = _check_numeric(_consumer(model, col), col, train, other)
        if hint:
            return False, hint
    for col in _CATEGORICAL:
        hint = _check_categorical(_consumer(model, col), col, train, other)
        if hint:
            return False, hint
    widths = [int(layer.units) for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if widths != [*hidden, 1]:
        return False, (f"with hidden={hidden} the Dense widths should be {[*hidden, 1]}, got {widths}: one "
                       "Dense(width, relu) per entry of hidden, then Dense(1, sigmoid)")
    out = np.asarray(model.predict_on_batch(_columns(other, _NUMERIC, _CATEGORICAL)), dtype=float)
    if out.shape != (len(other), 1):
        return False, f"the output has shape {out.shape}, expected ({len(other)}, 1): one probability per row"
    # An untrained linear output can fall inside [0, 1] by chance: blow up the last kernel so that only a
    # squashing activation keeps the scores there.
    last = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][-1]
    kernel, *rest = last.get_weights()
    last.set_weights([kernel * 1e3, *rest])
    big = np.asarray(model.predict_on_batch(_columns(other, _NUMERIC, _CATEGORICAL)), dtype=float)
    if not ((out >= 0) & (out <= 1) & (big >= 0) & (big <= 1)).all():
        return False, ("the output is not a probability in [0, 1]: the last layer is "
                       "Dense(1, activation='sigmoid')")
    return True, (f"inputs, training-row scaling, one-hot categories, Dense widths {widths} and (n, 1) "
                  "probabilities all right")


# --- exercise 05.2: the cheapest threshold ----------------------------------------------------------------

def _threshold_cases(rng):
    """(y, p, cost_fn, cost_fp, what) test cases: random scores bunched together (costs both ways), scores
    closer than 1e-3 to each other, and a hand-made case where flagging nobody is cheapest."""
    cases = []
    for cost_fn, cost_fp in ((5.0, 1.0), (1.0, 4.0)):
        n = int(rng.integers(150, 250))
        y = (rng.random(n) < 0.3).astype(int)
        p = (0.42 + 0.06 * (0.35 * y + 0.65 * rng.random(n))).round(5)  # bunched together, as scores can be
        cases.append((y, p, cost_fn, cost_fp, f"random scores, costs {cost_fn:g}:{cost_fp:g}"))
    n = int(rng.integers(60, 100))
    y = (rng.random(n) < 0.4).astype(int)
    p = (0.4500 + 0.0009 * (0.4 * y + 0.6 * rng.random(n))).round(7)  # all within 0.0009: finer than 1e-3
    cases.append((y, p, 3.0, 1.0, "scores less than 0.001 apart, costs 3:1"))
    cases.append((np.array([0, 1]), np.array([0.9, 0.2]), 1.0, 10.0, "y=[0, 1], p=[0.9, 0.2], costs 1:10"))
    return cases


@exercise
def check_best_threshold(func: Callable) -> tuple[bool, str]:
    """Exercise 05.2: ``func(y_true, p, cost_fn, cost_fp)`` returns the threshold ``t`` at which acting on
    ``p >= t`` has the lowest :func:`expected_cost` — exactly, by trying every score as a threshold, and
    one above them all (flag nobody).

    Checked on fresh random labels and scores bunched together (misses dearer than false alarms and the
    other way round), on scores less than 0.001 apart (a grid of 1,001 thresholds steps over them), and on
    ``y=[0, 1], p=[0.9, 0.2]`` with ``cost_fn=1, cost_fp=10``, where flagging nobody is cheapest.

    Examples
    --------
    >>> def best(y_true, p, cost_fn, cost_fp):
    ...     candidates = np.r_[np.unique(p), 1.01]
    ...     costs = [expected_cost(y_true, p, t, cost_fn, cost_fp) for t in candidates]
    ...     return candidates[np.argmin(costs)]
    >>> check_best_threshold(best)
    ✓ your thresholds are the cheapest possible on all 4 cases (random, tightly bunched, flag-nobody)
    True
    """
    rng = np.random.default_rng(11)
    cases = _threshold_cases(rng)
    for y, p, cost_fn, cost_fp, what in cases:
        result = func(y.copy(), p.copy(), cost_fn, cost_fp)
        if result is None:
            return False, "your function returned None: return the cheapest threshold"
        t = float(result)
        if not (0 <= t <= 2 or t == np.inf):  # above every score (1.01, 2, inf) means: flag nobody
            return False, (f"return the threshold (a probability between 0 and 1, or one above every score "
                           f"to flag nobody), got {t:g}; not its cost or index")
        costs = [expected_cost(y, p, c, cost_fn, cost_fp) for c in _candidates(p)]
        best, got = min(costs), expected_cost(y, p, t, cost_fn, cost_fp)
        if got <= best + 1e-9:
            continue
        if np.isclose(got, max(costs)):
            return False, (f"threshold {t:g} is the most expensive one (cost {got:g}, best {best:g}): "
                           "use argmin, not argmax")
        nobody = expected_cost(y, p, np.inf, cost_fn, cost_fp)
        if np.isclose(nobody, best) and t <= p.max():
            return False, (f"on {what}, flagging nobody is cheapest (cost {best:g}; yours {got:g}): add one "
                           "candidate above every score, e.g. np.r_[np.unique(p), 1.01]")
        swapped = min(expected_cost(y, p, c, cost_fp, cost_fn) for c in _candidates(p))
        if np.isclose(expected_cost(y, p, t, cost_fp, cost_fn), swapped):
            return False, ("cost_fn and cost_fp are swapped: a *missed* positive (y = 1, p < t) costs "
                           "cost_fn, a false alarm (y = 0, p >= t) costs cost_fp")
        if np.isclose(_cost_strict(y, p, t, cost_fn, cost_fp), best):
            return False, ("flag p >= threshold (as expected_cost does), not p > threshold: "
                           "you are one score off")
        if not np.isin(t, p):
            return False, (f"on {what}: your threshold {t:g} is not one of the scores (cost {got:g}, "
                           f"best {best:g}): a fixed grid, however fine, can step over the cheapest cut; the "
                           "decisions only change at the scores themselves, so try each distinct score as the threshold")
        return False, f"threshold {t:g} costs {got:g} on {what}; the cheapest costs {best:g}"
    return True, (f"your thresholds are the cheapest possible on all {len(cases)} cases "
                  "(random, tightly bunched, flag-nobody)")
