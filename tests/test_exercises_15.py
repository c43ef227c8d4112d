import numpy as np
import pytest

from aiaas_lib.exercises import nb15_compression as ex
from aiaas_lib.compression import kd_loss, magnitude_mask, symmetric_scale
from _feedback import run_check as _run

W = np.array(ex.WEIGHTS)


def test_weight_scales_right(capsys):
    assert _run(capsys, ex.check_weight_scales, symmetric_scale(W, axis=-1))[0]


@pytest.mark.parametrize("answer, hint", [
    (np.abs(W).max(axis=1) / 127, "per row"),
    (np.abs(W).max() / 127, "per-tensor"),
    (np.abs(W).max(axis=0) / 255, "divide max|w| by 127"),
    (W.max(axis=0) / 127, "magnitude"),
    ((W.max(axis=0) - W.min(axis=0)) / 255, "asymmetric"),
    ([0.1, 0.2], "one scale per output column"),
    ("abc", "could not check"),
])
def test_weight_scales_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_weight_scales, answer)
    assert not ok and hint in out


def _mask_floor_wrong(w, s):
    mask = np.ones(w.size, dtype=bool)
    mask[np.argsort(np.abs(w).ravel(), kind="stable")[:int(np.round(s * w.size))]] = False
    return mask.reshape(w.shape)


def _mask_signed(w, s):
    mask = np.ones(w.size, dtype=bool)
    mask[np.argsort(w.ravel(), kind="stable")[:int(s * w.size)]] = False
    return mask.reshape(w.shape)


def _mask_largest(w, s):
    mask = np.ones(w.size, dtype=bool)
    mask[np.argsort(-np.abs(w).ravel(), kind="stable")[:int(s * w.size)]] = False
    return mask.reshape(w.shape)


def _mask_ties_reversed(w, s):
    flat = np.abs(w).ravel()[::-1]
    mask = np.ones(w.size, dtype=bool)
    mask[np.argsort(flat, kind="stable")[:int(s * w.size)]] = False
    return mask[::-1].reshape(w.shape)


def test_magnitude_mask_right(capsys):
    assert _run(capsys, ex.check_magnitude_mask, magnitude_mask)[0]


@pytest.mark.parametrize("answer, hint", [
    (lambda w, s: ~magnitude_mask(w, s), "inverted"),
    (_mask_floor_wrong, "takes the floor"),
    (_mask_signed, "most negative"),
    (_mask_largest, "largest"),
    (_mask_ties_reversed, "tie"),
    (lambda w, s: magnitude_mask(w, s).ravel(), "reshape"),
    (lambda w, s: w * magnitude_mask(w, s), "not the pruned weights"),
    (lambda w, s: None, "returned None"),
    (lambda w, s: np.ones(3, dtype=bool), "one entry per weight"),
    (lambda w, s: 1 / 0, "could not check"),
    ("abc", "give a function"),
])
def test_magnitude_mask_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_magnitude_mask, answer)
    assert not ok and hint in out, out


def _kd(**change):
    k = {**ex.KD, **change}
    return float(kd_loss([k["label"]], [k["student"]], [k["teacher"]], k["temperature"], k["alpha"]))


def test_kd_loss_value_right(capsys):
    assert _run(capsys, ex.check_kd_loss_value, _kd())[0]


def test_kd_loss_value_wrong(capsys):
    k = ex.KD
    assert "alpha weights the label loss" in _run(capsys, ex.check_kd_loss_value, _kd(alpha=1 - k["alpha"]))[1]
    # no T^2: the KL part divided by T^2 (alpha*CE is the value at alpha=1 times alpha)
    ce = _kd(alpha=1.0)
    kl_part = (_kd() - k["alpha"] * ce) / k["temperature"] ** 2
    assert "T² factor" in _run(capsys, ex.check_kd_loss_value, k["alpha"] * ce + kl_part)[1]
    assert "not it" in _run(capsys, ex.check_kd_loss_value, 123.0)[1]


def test_kd_loss_value_reversed_kl(capsys):
    from aiaas_lib.compression import soft_targets

    k = ex.KD
    ps, pt = soft_targets(k["student"], k["temperature"]), soft_targets(k["teacher"], k["temperature"])
    ce = _kd(alpha=1.0)
    wrong = k["alpha"] * ce + (1 - k["alpha"]) * k["temperature"] ** 2 * np.sum(ps * np.log(ps / pt))
    assert "reversed" in _run(capsys, ex.check_kd_loss_value, wrong)[1]


@pytest.mark.parametrize("check", [ex.check_weight_scales, ex.check_magnitude_mask, ex.check_kd_loss_value])
def test_none_is_no_answer_yet(capsys, check):
    ok, out = _run(capsys, check, None)
    assert not ok and "no answer yet" in out
