import numpy as np
import pytest

from aiaas_lib.exercises import nb05_keras_tabular as ex
from _feedback import run_check as _run

Y = np.array([0, 0, 0, 0, 1, 1, 0, 1, 0, 0])
P = np.array([0.1, 0.2, 0.15, 0.5, 0.45, 0.9, 0.3, 0.35, 0.05, 0.6])


def test_expected_cost_counts_misses_and_false_alarms():
    # at 0.5: missed positives 0.45, 0.35 -> 2 x 10; false alarms 0.5, 0.6 -> 2 x 1
    assert ex.expected_cost(Y, P, 0.5, cost_fn=10, cost_fp=1) == 22


# --- exercise 05.1: the §3 model as a function ------------------------------------------------------------

def _build(train_frame, numeric, categorical, hidden, *, norm_frame=None, output_mode="one_hot",
           scale=True, extra_dense=False, activation="sigmoid", skip_input=None):
    """The reference, with switches for each typical mistake."""
    import keras

    norm_frame = train_frame if norm_frame is None else norm_frame
    inputs, encoded = {}, []
    for col in numeric:
        inputs[col] = keras.Input(shape=(1,), name=col, dtype="float32")
        if scale:
            norm = keras.layers.Normalization()
            norm.adapt(norm_frame[[col]].to_numpy(dtype="float32"))
            encoded.append(norm(inputs[col]))
        else:
            encoded.append(inputs[col])
    for col in categorical:
        if col == skip_input:
            continue
        inputs[col] = keras.Input(shape=(1,), name=col, dtype="string")
        lookup = keras.layers.StringLookup(output_mode=output_mode)
        lookup.adapt(norm_frame[[col]].astype(str).to_numpy(dtype=str))
        code = lookup(inputs[col])
        encoded.append(code if output_mode == "one_hot" else keras.ops.cast(code, "float32"))
    x = keras.layers.Concatenate()(encoded)
    for width in hidden:
        x = keras.layers.Dense(width, activation="relu")(x)
    if extra_dense:
        x = keras.layers.Dense(3, activation="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(1, activation=activation)(x))


def _notebook_frames():
    from aiaas_lib import data

    X, y = data.churn_xy(data.load_churn())
    return X, data.split(X, y, val_size=0.2, test_size=0.2, seed=0, stratify=y)[0]


def test_build_model_right(capsys):
    assert _run(capsys, ex.check_build_model, _build)[0]


@pytest.mark.parametrize("mistake, hint", [
    ("all rows", "all rows of the notebook's X"),
    ("X_train", "not with the frame passed in"),
    ({"output_mode": "int"}, "output_mode='one_hot'"),
    ({"scale": False}, "unscaled"),
    ({"extra_dense": True}, "Dense widths should be"),
    ({"activation": "linear"}, "not a probability"),
    ({"skip_input": "contract"}, "one keras.Input per column"),
])
def test_build_model_wrong(capsys, mistake, hint):
    if mistake in ("all rows", "X_train"):
        X, X_train = _notebook_frames()
        frame = X if mistake == "all rows" else X_train
        func = lambda tr, num, cat, hidden: _build(tr, num, cat, hidden, norm_frame=frame)  # noqa: E731
    else:
        func = lambda tr, num, cat, hidden: _build(tr, num, cat, hidden, **mistake)  # noqa: E731
    ok, out = _run(capsys, ex.check_build_model, func)
    assert not ok and hint in out, out


@pytest.mark.parametrize("func, hint", [
    (lambda *a: None, "returned None"),
    (lambda *a: "model", "return a keras.Model"),
    (lambda *a: 1 / 0, "could not check"),
])
def test_build_model_garbage(capsys, func, hint):
    ok, out = _run(capsys, ex.check_build_model, func)
    assert not ok and hint in out, out


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


def _grid(points):
    def best_on_grid(y, p, cost_fn, cost_fp):
        grid = np.linspace(0, 1, points)
        return grid[np.argmin([ex.expected_cost(y, p, t, cost_fn, cost_fp) for t in grid])]
    return best_on_grid


def _scores_only(y, p, cost_fn, cost_fp):  # never flags nobody
    candidates = np.unique(p)
    return candidates[np.argmin([ex.expected_cost(y, p, t, cost_fn, cost_fp) for t in candidates])]


def test_best_threshold_right(capsys):
    assert _run(capsys, ex.check_best_threshold, _best)[0]


def test_best_threshold_accepts_inf_for_flag_nobody(capsys):
    def best_inf(y, p, cost_fn, cost_fp):
        candidates = np.r_[np.unique(p), np.inf]
        return candidates[np.argmin([ex.expected_cost(y, p, t, cost_fn, cost_fp) for t in candidates])]
    assert _run(capsys, ex.check_best_threshold, best_inf)[0]


def test_threshold_cases_are_hard_enough():
    cases = ex._threshold_cases(np.random.default_rng(11))
    bunched = cases[2][1]
    assert np.diff(np.unique(bunched)).max() < 1e-3 and np.ptp(bunched) < 1e-3
    y, p, fn, fp, _ = cases[3]
    assert ex.expected_cost(y, p, 1.01, fn, fp) < min(ex.expected_cost(y, p, t, fn, fp) for t in p)


@pytest.mark.parametrize("func, hint", [
    (_argmax, "argmin, not argmax"),
    (lambda y, p, fn, fp: _best(y, p, fp, fn), "swapped"),
    (_strict, "not p > threshold"),
    (_grid(99), "a fixed grid"),
    (_grid(1001), "a fixed grid"),
    (_scores_only, "flagging nobody is cheapest"),
    (lambda y, p, fn, fp: ex.expected_cost(y, p, _best(y, p, fn, fp), fn, fp), "not its cost"),
    (lambda y, p, fn, fp: float(np.median(p)), "the cheapest costs"),
    (lambda y, p, fn, fp: "half", "could not check"),
    (lambda y, p, fn, fp: None, "returned None"),
])
def test_best_threshold_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_best_threshold, func)
    assert not ok and hint in out, out
