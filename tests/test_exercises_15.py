import numpy as np
import pytest

from aiaas_lib.exercises import nb15_compression as ex
from aiaas_lib.compression import kd_loss, symmetric_scale
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


def _channel_right(w, s, norm="l2", smallest=True, rounding=np.floor):
    w = np.asarray(w)
    c = w.shape[-1]
    flat = w.reshape(-1, c)
    norms = np.sqrt((flat ** 2).sum(axis=0)) if norm == "l2" else np.abs(flat).sum(axis=0)
    mask = np.ones(c, dtype=bool)
    mask[np.argsort(norms if smallest else -norms, kind="stable")[:int(rounding(s * c))]] = False
    return mask


def _channel_per_input(w, s):
    flat = np.asarray(w).reshape(-1, np.shape(w)[-1])
    norms = np.sqrt((flat ** 2).sum(axis=1))
    mask = np.ones(norms.size, dtype=bool)
    mask[np.argsort(norms, kind="stable")[:int(s * norms.size)]] = False
    return mask


def _channel_unstructured(w, s):
    w = np.asarray(w)
    mask = np.ones(w.size, dtype=bool)
    mask[np.argsort(np.abs(w).ravel(), kind="stable")[:int(s * w.size)]] = False
    return mask.reshape(w.shape)


def test_channel_mask_right(capsys):
    assert _run(capsys, ex.check_channel_mask, _channel_right)[0]


@pytest.mark.parametrize("answer, hint", [
    (lambda w, s: ~_channel_right(w, s), "inverted"),
    (lambda w, s: _channel_right(w, s, rounding=np.round), "take the floor"),
    (lambda w, s: _channel_right(w, s, smallest=False), "largest norm"),
    (lambda w, s: _channel_right(w, s, norm="l1"), "L1 norm"),
    (_channel_per_input, "one entry per *input*"),
    (_channel_unstructured, "unstructured"),
    (lambda w, s: np.roll(_channel_right(w, s), 1), "not the right ones"),
    (lambda w, s: np.sqrt((np.asarray(w).reshape(-1, np.shape(w)[-1]) ** 2).sum(axis=0)), "not norms or indices"),
    (lambda w, s: None, "returned None"),
    (lambda w, s: 1 / 0, "could not check"),
    ("abc", "give a function"),
])
def test_channel_mask_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_channel_mask, answer)
    assert not ok and hint in out, out


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _kd_probs(y, z_s, p_t, T, alpha, soften="log", t2=True, reverse=False, reduce=np.mean):
    ce = -_log_softmax(z_s)[np.arange(len(y)), y]
    log_pt = {"log": _log_softmax(np.log(p_t) / T), "probs_as_logits": _log_softmax(p_t / T),
              "none": np.log(p_t)}[soften]
    log_ps = _log_softmax(z_s / T)
    kl = np.sum((np.exp(log_ps) * (log_ps - log_pt)) if reverse else (np.exp(log_pt) * (log_pt - log_ps)), axis=1)
    return float(reduce(alpha * ce + (1 - alpha) * (T ** 2 if t2 else 1) * kl))


def test_kd_from_probabilities_right(capsys):
    assert _run(capsys, ex.check_kd_from_probabilities, _kd_probs)[0]


def test_kd_from_probabilities_equals_kd_loss_on_logits():
    rng = np.random.default_rng(0)
    z_s, z_t, y = rng.normal(0, 2, (6, 4)), rng.normal(0, 3, (6, 4)), rng.integers(0, 4, 6)
    p_t = np.exp(_log_softmax(z_t))
    # float32 inside kd_loss: the tolerance of float32 rounding
    assert np.isclose(_kd_probs(y, z_s, p_t, 3.0, 0.4), float(kd_loss(y, z_s, z_t, 3.0, 0.4)), rtol=1e-5)


@pytest.mark.parametrize("answer, hint", [
    (lambda *a: _kd_probs(*a, soften="probs_as_logits"), "treats probabilities as logits"),
    (lambda *a: _kd_probs(*a, soften="none"), "must be softened"),
    (lambda *a: _kd_probs(*a, t2=False), "T² factor"),
    (lambda *a: _kd_probs(*a, reverse=True), "reversed"),
    (lambda y, z, p, T, a: _kd_probs(y, z, p, T, 1 - a), "alpha weights the label loss"),
    (lambda *a: _kd_probs(*a, reduce=np.sum), "sum over the rows"),
    (lambda *a: np.zeros(3), "return one number"),
    (lambda *a: 123.0, "differs from the KD loss"),
    (lambda *a: None, "returned None"),
    (lambda *a: 1 / 0, "could not check"),
    ("abc", "give a function"),
])
def test_kd_from_probabilities_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_kd_from_probabilities, answer)
    assert not ok and hint in out, out


@pytest.mark.parametrize("check", [ex.check_weight_scales, ex.check_channel_mask, ex.check_kd_from_probabilities])
def test_none_is_no_answer_yet(capsys, check):
    ok, out = _run(capsys, check, None)
    assert not ok and "no answer yet" in out
