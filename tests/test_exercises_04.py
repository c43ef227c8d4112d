"""Exercise checks of notebook 04: right answers pass, each typical mistake gets its hint, garbage does not raise."""
import numpy as np
import pytest

from aiaas_lib.exercises import nb04_optimizers as ex
from _feedback import run_check as _run


def _nesterov(th, v, g, lr, mu):
    v = mu * v - lr * g
    return th + mu * v - lr * g, v


def test_nesterov_step_right(capsys):
    assert _run(capsys, ex.check_nesterov_step, _nesterov)[0]


@pytest.mark.parametrize("func, hint", [
    (lambda th, v, g, lr, mu: (th + mu * v - lr * g, mu * v - lr * g), "plain momentum"),
    (lambda th, v, g, lr, mu: (th + mu * (mu * v - lr * g), mu * v - lr * g), "left out the − lr·g"),
    (lambda th, v, g, lr, mu: (th - mu * (mu * v + lr * g) + lr * g, mu * v + lr * g), "mind the signs"),
    (None, "no answer yet"),
    (lambda th, v, g, lr, mu: None, "pair"),
    (lambda th, v, g, lr, mu: th, "pair"),
    (lambda th, v, g, lr, mu: (th[:2], v), "shape"),
    (lambda th, v, g, lr, mu: ("a", "b"), "could not check"),
])
def test_nesterov_step_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_nesterov_step, func)
    assert not ok and hint in out


class _AMSGrad:
    """The textbook form: bias-corrected m̂ and v̂, epsilon added to sqrt(v̂)."""

    correct_bias, max_of = True, "v"

    def __init__(self, lr, beta_1=0.9, beta_2=0.999, eps=1e-7):
        self.lr, self.beta_1, self.beta_2, self.eps, self.t, self.state = lr, beta_1, beta_2, eps, 0, None

    def step(self, params, grads):
        if self.state is None:
            self.state = [[np.zeros_like(p) for _ in range(3)] for p in params]
        self.t += 1
        c1, c2 = (1 - self.beta_1 ** self.t, 1 - self.beta_2 ** self.t) if self.correct_bias else (1.0, 1.0)
        for p, g, (m, v, v_max) in zip(params, grads, self.state):
            m[:] = self.beta_1 * m + (1 - self.beta_1) * g
            v[:] = self.beta_2 * v + (1 - self.beta_2) * g ** 2
            self.update(p, m, v, v_max, c1, c2)

    def update(self, p, m, v, v_max, c1, c2):
        v_max[:] = np.maximum(v_max, v)
        p -= self.lr * (m / c1) / (np.sqrt(v_max / c2) + self.eps)


class _KerasForm(_AMSGrad):
    def update(self, p, m, v, v_max, c1, c2):
        v_max[:] = np.maximum(v_max, v)
        p -= (m * (self.lr * np.sqrt(c2) / c1)) / (np.sqrt(v_max) + self.eps)


class _PlainAdam(_AMSGrad):
    def update(self, p, m, v, v_max, c1, c2):
        p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


class _MaxOfM(_AMSGrad):
    def update(self, p, m, v, v_max, c1, c2):
        v_max[:] = np.maximum(v_max, m)
        p -= self.lr * (v_max / c1) / (np.sqrt(v / c2) + self.eps)


class _SqrtOfMaxOfM(_AMSGrad):
    def update(self, p, m, v, v_max, c1, c2):
        v_max[:] = np.maximum(v_max, m)
        p -= self.lr * (m / c1) / (np.sqrt(v_max / c2) + self.eps)


class _RebindsVMax(_AMSGrad):
    """The classic bug: rebinding the loop's name, so the stored v_max stays 0 (and max(0, v) = v: plain Adam)."""

    def update(self, p, m, v, v_max, c1, c2):
        v_max = np.maximum(v_max, v)
        p -= self.lr * (m / c1) / (np.sqrt(v_max / c2) + self.eps)


class _RebindsVMaxAttributes:
    """The same bug with state in attributes, as in the notebook's Adam."""

    def __init__(self, lr, beta_1=0.9, beta_2=0.999, eps=1e-7):
        self.lr, self.beta_1, self.beta_2, self.eps, self.t, self.m = lr, beta_1, beta_2, eps, 0, None

    def step(self, params, grads):
        if self.m is None:
            self.m, self.v, self.v_max = ([np.zeros_like(p) for p in params] for _ in range(3))
        self.t += 1
        for p, g, m, v, v_max in zip(params, grads, self.m, self.v, self.v_max):
            m[:] = self.beta_1 * m + (1 - self.beta_1) * g
            v[:] = self.beta_2 * v + (1 - self.beta_2) * g ** 2
            v_max = np.maximum(v_max, v)
            p -= self.lr * (m / (1 - self.beta_1 ** self.t)) / (np.sqrt(v_max / (1 - self.beta_2 ** self.t)) + self.eps)


class _NaN(_AMSGrad):
    def update(self, p, m, v, v_max, c1, c2):
        p[...] = np.nan


class _NoBiasCorrection(_AMSGrad):
    correct_bias = False


class _MaxOfCorrected(_AMSGrad):
    def update(self, p, m, v, v_max, c1, c2):
        v_max[:] = np.maximum(v_max, v / c2)
        p -= self.lr * (m / c1) / (np.sqrt(v_max) + self.eps)


class _NotInPlace(_AMSGrad):
    def step(self, params, grads):
        params = [p - 1 for p in params]


class _Raises(_AMSGrad):
    def step(self, params, grads):
        raise RuntimeError("boom")


@pytest.mark.parametrize("cls", [_AMSGrad, _KerasForm])
def test_amsgrad_right(capsys, cls):
    assert _run(capsys, ex.check_amsgrad, cls)[0]


@pytest.mark.parametrize("cls, hint", [
    (_PlainAdam, "plain Adam"),
    (_RebindsVMax, "self.state[0][2]) is still all zeros"),
    (_RebindsVMaxAttributes, "v_max[:] = np.maximum(v_max, v)"),
    (_MaxOfM, "not of m"),
    (_SqrtOfMaxOfM, "not of m"),
    (_NaN, "NaN"),
    (_NoBiasCorrection, "bias correction"),
    (_MaxOfCorrected, "raw v"),
    (_NotInPlace, "in place"),
    (_Raises, "could not check"),
    (None, "no answer yet"),
])
def test_amsgrad_wrong(capsys, cls, hint):
    ok, out = _run(capsys, ex.check_amsgrad, cls)
    assert not ok and hint in out
