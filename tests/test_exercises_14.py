import hashlib
import random

import numpy as np
import pytest

from aiaas_lib.exercises import nb14_monitoring_and_updating as ex
from _feedback import run_check as _run

E, A = np.array(ex.SHARES["expected"]), np.array(ex.SHARES["actual"])


def test_psi_value_right(capsys):
    assert _run(capsys, ex.check_psi_value, float(np.sum((A - E) * np.log(A / E))))[0]
    assert _run(capsys, ex.check_psi_value, 0.2282)[0]  # rounded to 4 decimals
    assert _run(capsys, ex.check_psi_value, 0.23)[0]  # rounded to 2 decimals
    assert not _run(capsys, ex.check_psi_value, 0.225)[0]


@pytest.mark.parametrize("value, hint", [
    (float(np.sum(A * np.log(A / E))), "KL divergence"),
    (float(np.sum((A - E) * np.log10(A / E))), "natural logarithm"),
    (float(np.sum((A - E) * np.log(A / E))) * 100, "percentages"),
    (float(np.sum(np.abs(A - E))), "distance"),
    (0.5, "is not it"),
    ("abc", "could not check"),
])
def test_psi_value_wrong(capsys, value, hint):
    ok, out = _run(capsys, ex.check_psi_value, value)
    assert not ok and hint in out


def test_psi_value_none(capsys):
    ok, out = _run(capsys, ex.check_psi_value, None)
    assert not ok and "no answer yet" in out


def _interval(d, n_boot=2000, seed=0):
    idx = np.random.default_rng(seed).integers(0, len(d), size=(n_boot, len(d)))
    return np.quantile(d[idx].mean(axis=1), [0.025, 0.975])


def _rule(low, high):
    return "promote" if high < 0 else "roll back" if low > 0 else "wait"


def _decide_right(loss_stable, loss_canary, n_boot=2000, seed=0):
    return _rule(*_interval(np.asarray(loss_canary) - np.asarray(loss_stable), n_boot, seed))


def _decide_wrong_sign(loss_stable, loss_canary):
    return _rule(*_interval(np.asarray(loss_stable) - np.asarray(loss_canary)))


def _decide_unpaired(loss_stable, loss_canary, n_boot=2000):
    rng = np.random.default_rng(0)
    n = len(loss_stable)
    boot = (loss_canary[rng.integers(0, n, (n_boot, n))].mean(axis=1)
            - loss_stable[rng.integers(0, n, (n_boot, n))].mean(axis=1))  # two independent resamples
    return _rule(*np.quantile(boot, [0.025, 0.975]))


def _decide_quantiles_of_d(loss_stable, loss_canary):
    return _rule(*np.quantile(loss_canary - loss_stable, [0.025, 0.975]))


def _decide_mean_sign(loss_stable, loss_canary):
    return "promote" if np.mean(loss_canary - loss_stable) < 0 else "roll back"


@pytest.mark.parametrize("seed", range(5))
def test_decision_cases_are_clear_for_the_paired_rule_only(seed):
    for expected, stable, canary in ex._decision_cases(np.random.default_rng(seed)):
        assert (stable > 0).all() and (canary > 0).all()
        assert _decide_right(stable, canary, seed=seed + 1) == expected
        assert _decide_unpaired(stable, canary) == "wait"


def test_promotion_decision_right(capsys):
    assert _run(capsys, ex.check_promotion_decision, _decide_right)[0]
    assert _run(capsys, ex.check_promotion_decision, lambda s, c: _decide_right(s, c, n_boot=500, seed=None))[0]


@pytest.mark.parametrize("func, hint", [
    (_decide_wrong_sign, "wrong sign"),
    (_decide_unpaired, "unpaired"),
    (_decide_quantiles_of_d, "quantiles of d itself"),
    (_decide_mean_sign, "not from the mean's sign"),
    (lambda s, c: "wait", "far too wide"),
    (lambda s, c: "promote", "expected 'roll back', got 'promote'"),
    (lambda s, c: True, "return 'promote', 'wait' or 'roll back'"),
    (lambda s, c: "rollback", "return 'promote', 'wait' or 'roll back'"),
    (lambda s, c: None, "returned None"),
    (lambda s, c: 1 / 0, "could not check"),
    ("abc", "give a function"),
])
def test_promotion_decision_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_promotion_decision, func)
    assert not ok and hint in out, out


def test_promotion_decision_none(capsys):
    ok, out = _run(capsys, ex.check_promotion_decision, None)
    assert not ok and "no answer yet" in out


def _u(request_id):
    return int(hashlib.sha256(request_id.encode()).hexdigest()[:8], 16) / 16**8


def _route_right(request_id, weight):
    return "canary" if _u(request_id) < weight else "stable"


def _route_md5(request_id, weight):
    return "canary" if int(hashlib.md5(request_id.encode()).hexdigest()[:8], 16) / 16**8 < weight else "stable"


def test_sticky_router_right(capsys):
    assert _run(capsys, ex.check_sticky_router, _route_right)[0]


@pytest.mark.parametrize("func, hint", [
    (lambda i, w: "canary" if _u(i) >= w else "stable", "not u >= w"),
    (lambda i, w: "canary" if random.random() < w else "stable", "not sticky"),
    (_route_md5, "not the spec's hash"),
    (lambda i, w: "canary" if _u(i) < w / 2 else "stable", "expected about"),
    (lambda i, w: "canary" if _u(i) < 0.5 else "stable", "weight 0 must send none"),
    (lambda i, w: _u(i) < w, "not True/False"),
    (lambda i, w: "v2", "return 'canary' or 'stable'"),
    (lambda i, w: 1 / 0, "could not check"),
    ("abc", "give a function"),
])
def test_sticky_router_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_sticky_router, func)
    assert not ok and hint in out, out


def test_sticky_router_none(capsys):
    ok, out = _run(capsys, ex.check_sticky_router, None)
    assert not ok and "no answer yet" in out


def _cats(ref, cur):
    return sorted(set(ref) | set(cur))


def _shares(ref, cur, cats):
    ref, cur = np.asarray(ref), np.asarray(cur)
    return np.array([np.mean(ref == c) for c in cats]), np.array([np.mean(cur == c) for c in cats])


def _cpsi_right(ref, cur):
    e, a = _shares(ref, cur, _cats(ref, cur))
    e, a = np.maximum(e, ex.EPS), np.maximum(a, ex.EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def _cpsi_ref_categories(ref, cur):
    e, a = _shares(ref, cur, sorted(set(ref)))
    e, a = np.maximum(e, ex.EPS), np.maximum(a, ex.EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def _cpsi_no_eps(ref, cur):
    e, a = _shares(ref, cur, _cats(ref, cur))
    return float(np.sum((a - e) * np.log(a / e)))


def _cpsi_counts(ref, cur):
    e, a = _shares(ref, cur, _cats(ref, cur))
    e, a = np.maximum(e * len(ref), ex.EPS), np.maximum(a * len(cur), ex.EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def _cpsi_kl(ref, cur):
    e, a = _shares(ref, cur, _cats(ref, cur))
    e, a = np.maximum(e, ex.EPS), np.maximum(a, ex.EPS)
    return float(np.sum(a * np.log(a / e)))


def test_categorical_psi_right(capsys):
    assert _run(capsys, ex.check_categorical_psi, _cpsi_right)[0]
    assert np.isclose(_cpsi_right(["a", "a", "b", "b"], ["a", "b", "b", "b"]), 0.2747, atol=1e-4)


@pytest.mark.parametrize("func, hint", [
    (_cpsi_ref_categories, "categories of both samples"),
    (_cpsi_no_eps, "raise every share"),
    (_cpsi_counts, "not counts"),
    (_cpsi_kl, "KL divergence"),
    (lambda r, c: 0.5, "differs from the PSI"),
    (lambda r, c: None, "returned None"),
    (lambda r, c: 1 / 0, "could not check"),
    ("abc", "give a function"),
])
def test_categorical_psi_wrong(capsys, func, hint):
    with np.errstate(divide="ignore", invalid="ignore"):
        ok, out = _run(capsys, ex.check_categorical_psi, func)
    assert not ok and hint in out, out
