import numpy as np
import pandas as pd
import pytest

from aiaas_lib.exercises import nb17_scaling_out as ex
from _feedback import run_check as _run

G1, G2 = ex.GRADIENTS


def test_per_replica_batch_right(capsys):
    assert _run(capsys, ex.check_per_replica_batch, 32)[0]


@pytest.mark.parametrize("answer, hint", [
    (64, "batch of one worker"), (128, "replicas of one worker only"), (256, "global batch"),
    (2048, "not multiplied"), (31, "not it"), (32.5, "whole number"),
])
def test_per_replica_batch_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_per_replica_batch, answer)
    assert not ok and hint in out


def test_averaged_gradient_right(capsys):
    assert _run(capsys, ex.check_averaged_gradient, (G1 + G2) / 2)[0]


@pytest.mark.parametrize("answer, hint", [
    (G1 + G2, "twice"), (G1, "one worker's gradient"), (np.full(3, ((G1 + G2) / 2).mean()), "entry by entry"),
    (G1 - G2, "not it"), (np.zeros(2), "shape"),
])
def test_averaged_gradient_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_averaged_gradient, answer)
    assert not ok and hint in out


def test_replicas_for_target_right(capsys):
    assert _run(capsys, ex.check_replicas_for_target, 8)[0]


@pytest.mark.parametrize("answer, hint", [(6, "100 %"), (7, "round up"), (20, "not it"), (7.9, "whole")])
def test_replicas_for_target_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_replicas_for_target, answer)
    assert not ok and hint in out


def test_batch_predict_right(capsys):
    assert _run(capsys, ex.check_batch_predict, lambda requests, model: list(model(pd.DataFrame(requests))))[0]


def test_batch_predict_right_array_and_series(capsys):
    assert _run(capsys, ex.check_batch_predict, lambda requests, model: model(pd.DataFrame(requests)))[0]
    assert _run(capsys, ex.check_batch_predict, lambda requests, model: pd.Series(model(pd.DataFrame(requests))))[0]


@pytest.mark.parametrize("answer, hint", [
    (lambda requests, model: [float(model(pd.DataFrame([r]))[0]) for r in requests], "once per request"),
    (lambda requests, model: [model(pd.DataFrame(requests))], "not one item holding them all"),
    (lambda requests, model: sorted(model(pd.DataFrame(requests))), "wrong order"),
    (lambda requests, model: [0.5] * len(requests), "never called the model"),
    (lambda requests, model: list(model(pd.DataFrame(requests)) * 2), "expected"),
    (lambda requests, model: list(model(requests)), "could not check"),
    (lambda requests, model: [model(pd.DataFrame(requests)), model(pd.DataFrame(requests))], "called 2 times"),
    (lambda requests, model: None, "returns None"),
])
def test_batch_predict_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_batch_predict, answer)
    assert not ok and hint in out, out


@pytest.mark.parametrize("check", [ex.check_per_replica_batch, ex.check_averaged_gradient, ex.check_replicas_for_target,
                                   ex.check_data_parallel_step, ex.check_throughput, ex.check_batch_predict])
def test_no_answer_yet(capsys, check):
    ok, out = _run(capsys, check, None)
    assert not ok and "no answer yet" in out


def _grad(X, y, w):
    return X.T @ (1 / (1 + np.exp(-X @ w)) - y)


def _step(scale=1.0, divide_by_slice=False, sign=-1.0):
    def step(w, X, y, n_replicas, lr):
        slices = np.array_split(np.arange(len(X)), n_replicas)
        parts = [_grad(X[s], y[s], w) / (len(s) if divide_by_slice else len(X)) for s in slices]
        return w + sign * lr * scale * np.sum(parts, axis=0)
    return step


def test_data_parallel_step_right(capsys):
    ok, out = _run(capsys, ex.check_data_parallel_step, _step())
    assert ok and "one worker's weights" in out
    assert _run(capsys, ex.check_data_parallel_step, _step(divide_by_slice=True, scale=0.5))[0] is False  # 4 replicas


@pytest.mark.parametrize("answer, hint", [
    (_step(divide_by_slice=True), "summed per-replica means"),
    (lambda w, X, y, n, lr: w - lr * np.mean([_grad(X[s], y[s], w) / len(X) for s in np.array_split(np.arange(len(X)), n)], axis=0),
     "not average them"),
    (_step(sign=1.0), "climb the loss"), (lambda w, X, y, n, lr: w, "never change"),
    (lambda w, X, y, n, lr: w - lr * _grad(X[: len(X) // n], y[: len(X) // n], w) / len(X), "every row must count once"),
    (lambda w, X, y, n, lr: None, "returns None"), (lambda w, X, y, n, lr: np.zeros(1), "shape"),
    (lambda w, X, y, n, lr: "garbage", "could not check"),
])
def test_data_parallel_step_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_data_parallel_step, answer)
    assert not ok and hint in out, out


def test_throughput_right(capsys):
    assert _run(capsys, ex.check_throughput, lambda replicas, work_s, hop_s: min(replicas / work_s, 1 / hop_s))[0]


@pytest.mark.parametrize("answer, hint", [
    (lambda r, w, h: r / w, "forgot the proxy"), (lambda r, w, h: 1 / (w / r + h), "a min, not a sum"),
    (lambda r, w, h: r / (w + h), "a min, not a sum"), (lambda r, w, h: 1 / w, "that is one replica"),
    (lambda r, w, h: max(r / w, 1 / h), "expected"), (lambda r, w, h: None, "returns None"), (lambda r, w, h: "x", "could not check"),
])
def test_throughput_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_throughput, answer)
    assert not ok and hint in out
