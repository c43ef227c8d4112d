import numpy as np
import pytest

from aiaas_lib.exercises import nb16_privacy_and_security as ex
from _feedback import run_check as _run

W, N = np.array(ex.FEDAVG["weights"]), np.array(ex.FEDAVG["sizes"], dtype=float)
G, C = np.array(ex.CLIP["gradient"]), ex.CLIP["clip_norm"]
X, GX, EPS = np.array(ex.FGSM["x"]), np.array(ex.FGSM["gradient"]), ex.FGSM["eps"]


def test_fedavg_right(capsys):
    assert _run(capsys, ex.check_fedavg, (N[:, None] * W).sum(0) / N.sum())[0]


def test_fedavg_matches_the_library(capsys):
    from aiaas_lib.privacy import fedavg

    assert _run(capsys, ex.check_fedavg, fedavg([[w] for w in W], N)[0])[0]


@pytest.mark.parametrize("answer, hint", [
    (W.mean(0), "plain mean"),
    ((N[:, None] * W).sum(0), "divide by n"),
    ((N[::-1, None] * W).sum(0) / N.sum(), "wrong clients"),
    ([1.0, 2.0, 3.0], "expected 2 numbers"),
    ([0.0, 0.0], "is not it"),
    ("abc", "could not check"),
])
def test_fedavg_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_fedavg, answer)
    assert not ok and hint in out


def test_fedavg_no_answer(capsys):
    ok, out = _run(capsys, ex.check_fedavg, None)
    assert not ok and "no answer yet" in out


def test_clip_right(capsys):
    assert _run(capsys, ex.check_clip, G * min(1, C / np.linalg.norm(G)))[0]


def test_clip_matches_the_library(capsys):
    from aiaas_lib.privacy import clip_by_l2_norm

    assert _run(capsys, ex.check_clip, clip_by_l2_norm(G, C))[0]


@pytest.mark.parametrize("answer, hint", [
    (np.clip(G, -C, C), "changes the direction"),
    (G / np.linalg.norm(G), "unit vector"),
    (G, "must shrink"),
    ([1.0, 2.0], "expected 3 numbers"),
    ([0.0, 0.0, 1.0], "is not it"),
])
def test_clip_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_clip, answer)
    assert not ok and hint in out


def test_clip_no_answer(capsys):
    ok, out = _run(capsys, ex.check_clip, None)
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
