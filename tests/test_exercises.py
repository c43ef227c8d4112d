import numpy as np
import pytest

from aiaas_lib import data
from aiaas_lib.exercises import nb00_setup as ex00, nb01_ai_as_a_service as ex01, nb02_losses_and_gradients as ex02, nb03_backpropagation as ex03, nb04_optimizers as ex04
from _feedback import run_check as _run


def test_churn_rate_right(capsys):
    assert _run(capsys, ex00.check_churn_rate, 1869 / 7043)[0]


@pytest.mark.parametrize("answer, hint", [(26.54, "percentage"), (5174 / 7043, "stayed"), (0.5, "not it"),
                                          ("abc", "could not check")])
def test_churn_rate_wrong_gives_hint(capsys, answer, hint):
    ok, out = _run(capsys, ex00.check_churn_rate, answer)
    assert not ok and hint in out


def _churn_split(stratify: bool):
    df = data.load_churn()
    return data.split(df, val_size=0.2, test_size=0.2, seed=0, stratify=df["churn"] if stratify else None)


def test_split_right(capsys):
    train, val, test = _churn_split(True)
    ok, out = _run(capsys, ex00.check_split, train, val, test, labels="churn")
    assert ok and "same churn rate" in out


def test_split_leak_detected(capsys):
    import pandas as pd

    train, val, test = _churn_split(True)
    leaky_test = pd.concat([test.iloc[:-3], train.iloc[:3]])
    ok, out = _run(capsys, ex00.check_split, train, val, leaky_test, labels="churn")
    assert not ok and "leaks" in out


def test_split_wrong_sizes(capsys):
    df = data.load_churn()
    train, val, test = data.split(df, val_size=0.1, test_size=0.3, seed=0)
    ok, out = _run(capsys, ex00.check_split, train, val, test)
    assert not ok and "val has" in out


def test_split_unstratified_hint(capsys):
    df = data.load_churn().sort_values("churn")
    train, val, test = df.iloc[:4225], df.iloc[4225:5634], df.iloc[5634:]
    ok, out = _run(capsys, ex00.check_split, train, val, test, labels="churn")
    assert not ok and "stratify" in out


def test_lifecycle_right(capsys):
    assert _run(capsys, ex01.check_lifecycle_order, list(ex01.LIFECYCLE))[0]


def test_lifecycle_swapped(capsys):
    stages = list(ex01.LIFECYCLE)
    stages[3], stages[4] = stages[4], stages[3]
    ok, out = _run(capsys, ex01.check_lifecycle_order, stages)
    assert not ok and "stage 4 should not be 'evaluate'" in out


def test_lifecycle_missing_stage(capsys):
    ok, out = _run(capsys, ex01.check_lifecycle_order, ["collect", "train"])
    assert not ok and "missing" in out


def test_lifecycle_garbage_does_not_raise(capsys):
    ok, _ = _run(capsys, ex01.check_lifecycle_order, None)
    assert not ok


def test_service_models_right(capsys):
    assert _run(capsys, ex01.check_service_models, dict(ex01.SERVICE_MODELS))[0]


def test_service_models_wrong(capsys):
    answers = {k: "SaaS" for k in ex01.SERVICE_MODELS}
    ok, out = _run(capsys, ex01.check_service_models, answers)
    assert not ok and "3 of 4" in out


def test_drift_retrain_right(capsys):
    assert _run(capsys, ex01.check_drift_retrain, 0.84, 0.71, 0.80)[0]


@pytest.mark.parametrize("aucs, hint", [((0.84, 0.86, 0.9), "worse on drifted"), ((0.84, 0.7, 0.69), "retraining"),
                                        ((84, 70, 80), "not a ROC-AUC")])
def test_drift_retrain_wrong(capsys, aucs, hint):
    ok, out = _run(capsys, ex01.check_drift_retrain, *aucs)
    assert not ok and hint in out


# notebook 02
def test_mse_grad_right(capsys):
    assert _run(capsys, ex02.check_mse_grad, lambda y, y_hat: 2 * (y_hat - y) / y.size)[0]


@pytest.mark.parametrize("func, hint", [
    (lambda y, y_hat: y_hat - y, "factor 2/n"),
    (lambda y, y_hat: 2 * (y - y_hat) / y.size, "sign is flipped"),
    (lambda y, y_hat: (y_hat - y).sum(), "shape"),
    (lambda y, y_hat: None, "returns None"),
    (lambda y, y_hat: 1 / 0, "could not check"),
])
def test_mse_grad_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex02.check_mse_grad, func)
    assert not ok and hint in out


def _design():
    return np.random.default_rng(0).normal(size=(40, 3))


def _limit(X):
    return 2 / np.linalg.eigvalsh(2 / len(X) * X.T @ X).max()


def test_max_learning_rate_right(capsys):
    X = _design()
    assert _run(capsys, ex02.check_max_learning_rate, _limit(X) * 1.01, X)[0]


@pytest.mark.parametrize("factor, hint", [(0.5, "1 / λ_max"), (3.0, "too large"), (0.1, "too small")])
def test_max_learning_rate_wrong(capsys, factor, hint):
    X = _design()
    ok, out = _run(capsys, ex02.check_max_learning_rate, _limit(X) * factor, X)
    assert not ok and hint in out


def test_soft_threshold_right(capsys):
    assert _run(capsys, ex02.check_soft_threshold, lambda w, t: np.sign(w) * np.maximum(np.abs(w) - t, 0))[0]


@pytest.mark.parametrize("func, hint", [
    (lambda w, t: np.where(np.abs(w) > t, w, 0.0), "hard thresholding"),
    (lambda w, t: np.maximum(w - t, 0), "should be"),
    (lambda w, t: w[:2], "shape"),
    (lambda w, t: None, "returns None"),
])
def test_soft_threshold_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex02.check_soft_threshold, func)
    assert not ok and hint in out


# notebook 03
def _dense_backward(X, W, b, upstream):
    dz = upstream * (1 - np.tanh(X @ W + b) ** 2)
    return X.T @ dz, dz.sum(axis=0), dz @ W.T


def test_dense_backward_right(capsys):
    assert _run(capsys, ex03.check_dense_backward, _dense_backward)[0]


@pytest.mark.parametrize("func, hint", [
    (lambda X, W, b, up: (X.T @ up, up.sum(axis=0), up @ W.T), "skips the activation"),
    (lambda X, W, b, up: _dense_backward(X, W, b, up)[:2], "three arrays"),
    (lambda X, W, b, up: (_dense_backward(X, W, b, up)[0].T, *_dense_backward(X, W, b, up)[1:]), "shape"),
    (lambda X, W, b, up: (_dense_backward(X, W, b, up)[0], _dense_backward(X, W, b, up)[1] / 5,
                          _dense_backward(X, W, b, up)[2]), "db is off"),
    (lambda X, W, b, up: None, "returns None"),
])
def test_dense_backward_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex03.check_dense_backward, func)
    assert not ok and hint in out


# notebook 04
def test_momentum_step_right(capsys):
    assert _run(capsys, ex04.check_momentum_step, lambda th, v, g, lr, mu: (th + mu * v - lr * g, mu * v - lr * g))[0]


@pytest.mark.parametrize("func, hint", [
    (lambda th, v, g, lr, mu: (th - lr * g, mu * v - lr * g), "plain SGD"),
    (lambda th, v, g, lr, mu: (th + v - lr * g, v - lr * g), "velocity is μ·v"),
    (lambda th, v, g, lr, mu: (th, mu * v - 2 * lr * g), "momentum * velocity - lr * grad"),
    (lambda th, v, g, lr, mu: (th + 1, mu * v - lr * g), "theta + new_velocity"),
    (lambda th, v, g, lr, mu: None, "pair"),
])
def test_momentum_step_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex04.check_momentum_step, func)
    assert not ok and hint in out
