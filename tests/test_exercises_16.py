import numpy as np
import pytest

from aiaas_lib.exercises import nb16_privacy_and_security as ex
from _feedback import run_check as _run

X, GX, EPS = np.array(ex.FGSM["x"]), np.array(ex.FGSM["gradient"]), ex.FGSM["eps_inf"]


def _update(mistake=None):
    """A client update for logistic regression, right by default; ``mistake`` switches on one typical mistake."""
    def update(w, X, y, lr, epochs, batch_size, rng):
        if mistake != "in_place":
            w = w.copy()
        order = np.arange(len(X)) if mistake == "no_shuffle" else rng.permutation(len(X))
        size = len(X) if mistake == "full_batch" else batch_size
        for epoch in range(1 if mistake == "one_epoch" else epochs):
            if epoch > 0 and mistake not in ("no_shuffle", "shuffle_once"):
                order = rng.permutation(len(X))
            for s in range(0, len(X), size):
                b = order[s:s + size]
                g = X[b].T @ (1 / (1 + np.exp(-X[b] @ w)) - y[b])
                g = g if mistake == "sum" else g / (size if mistake == "batch_size" else len(b))
                if mistake == "in_place":
                    w -= lr * g
                else:
                    w = w + lr * g if mistake == "uphill" else w - lr * g
        return w
    return update


def test_client_update_right(capsys):
    assert _run(capsys, ex.check_client_update, _update())[0]


@pytest.mark.parametrize("mistake, hint", [
    ("in_place", "changed the w it was given"),
    ("no_shuffle", "never shuffled"),
    ("shuffle_once", "shuffled once"),
    ("sum", "divide by |B|"),
    ("batch_size", "last minibatch is smaller"),
    ("full_batch", "full-batch"),
    ("one_epoch", "that is one epoch"),
    ("uphill", "uphill"),
])
def test_client_update_mistakes(capsys, mistake, hint):
    ok, out = _run(capsys, ex.check_client_update, _update(mistake))
    assert not ok and hint in out


@pytest.mark.parametrize("func, hint", [
    (lambda w, X, y, lr, epochs, batch_size, rng: None, "returned None"),
    (lambda w, X, y, lr, epochs, batch_size, rng: np.zeros(2), "one value per weight"),
    (lambda w, X, y, lr, epochs, batch_size, rng: w * 0, "not the reference"),
    ("abc", "give a function"),
    (lambda w: w, "could not check"),
])
def test_client_update_garbage(capsys, func, hint):
    ok, out = _run(capsys, ex.check_client_update, func)
    assert not ok and hint in out


def _step(clip="each", noise="sigma_c", after=False, sign=-1, divide="n", returns="w"):
    """A DP-SGD step for logistic regression, right by default; each argument switches on one typical mistake."""
    def step(w, X, y, lr, clip_norm, noise_multiplier, rng):
        G = (1 / (1 + np.exp(-X @ w)) - y)[:, None] * X
        if clip == "each":
            G = G * np.minimum(1, clip_norm / np.linalg.norm(G, axis=1))[:, None]
        elif clip == "elements":
            G = np.clip(G, -clip_norm, clip_norm)
        elif clip == "scale_up":
            G = G * (clip_norm / np.linalg.norm(G, axis=1))[:, None]
        total = G.sum(axis=0)
        if clip == "mean":
            total = total * min(1, clip_norm / np.linalg.norm(total / len(X)))
        scale = {"sigma_c": noise_multiplier * clip_norm, "sigma": noise_multiplier,
                 "variance": (noise_multiplier * clip_norm) ** 2, "none": 0.0,
                 "twice": noise_multiplier * clip_norm / len(X),
                 "scalar": noise_multiplier * clip_norm}[noise]
        z = rng.normal(0, scale, size=1 if noise == "scalar" else len(w))
        if noise == "scalar":
            z = np.full(len(w), z[0] if noise_multiplier else 0.0)
        denom = {"n": len(X), "n-1": len(X) - 1, "none": 1}[divide]
        g = total / denom + z if after else (total + z) / denom
        return g if returns == "g" else w + sign * lr * g
    return step


def test_dp_sgd_step_right(capsys):
    ok, out = _run(capsys, ex.check_dp_sgd_step, _step())
    assert ok, out


@pytest.mark.parametrize("answer, hint", [
    (_step(clip="mean"), "batch-mean"),
    (_step(clip="none"), "no clipping"),
    (_step(clip="elements"), "changes the direction"),
    (_step(clip="scale_up"), "scaled up"),
    (_step(sign=+1), "uphill"),
    (_step(returns="g"), "return the new weights"),
    (_step(divide="n-1"), "batch size"),
    (_step(divide="none"), "batch size"),
    (_step(noise="sigma"), "must be σ·C"),
    (_step(noise="variance"), "not the variance"),
    (_step(noise="none"), "no noise"),
    (_step(noise="scalar"), "one per weight"),
    (_step(after=True), "after dividing"),
    (_step(noise="twice"), "twice"),
    (lambda w, X, y, lr, c, s, rng: None, "returned None"),
    (lambda w, X, y, lr, c, s, rng: np.zeros(2), "one new value per weight"),
    (lambda w, X, y, lr, c, s, rng: 1 / 0, "could not check"),
    ("abc", "give a function"),
])
def test_dp_sgd_step_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_dp_sgd_step, answer)
    assert not ok and hint in out, out


def test_dp_sgd_step_no_answer(capsys):
    ok, out = _run(capsys, ex.check_dp_sgd_step, None)
    assert not ok and "no answer yet" in out


def test_fgsm_step_right(capsys):
    assert _run(capsys, ex.check_fgsm_step, np.clip(X + EPS * np.sign(GX), 0, 1))[0]


def test_fgsm_step_matches_the_library(capsys):
    from aiaas_lib.privacy import fgsm_perturbation

    assert _run(capsys, ex.check_fgsm_step, np.clip(X + fgsm_perturbation(GX, EPS), 0, 1))[0]


@pytest.mark.parametrize("answer, hint", [
    (np.clip(X - EPS * np.sign(GX), 0, 1), "lowers the loss"),
    (X + EPS * np.sign(GX), "clip the result"),
    (np.clip(X + EPS * GX, 0, 1), "sign of the gradient"),
    ([0.5], "expected 4 numbers"),
    (X, "is not it"),
])
def test_fgsm_step_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_fgsm_step, answer)
    assert not ok and hint in out


def test_fgsm_step_no_answer(capsys):
    ok, out = _run(capsys, ex.check_fgsm_step, None)
    assert not ok and "no answer yet" in out
