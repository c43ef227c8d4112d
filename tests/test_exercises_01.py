"""Exercise checks of notebook 01 (AI as a service)."""
import numpy as np
import pytest

from aiaas_lib.exercises import nb01_ai_as_a_service as ex
from _feedback import run_check as _run


def test_lifecycle_right(capsys):
    assert _run(capsys, ex.check_lifecycle_order, list(ex.LIFECYCLE))[0]


def test_lifecycle_swapped(capsys):
    stages = list(ex.LIFECYCLE)
    stages[3], stages[4] = stages[4], stages[3]
    ok, out = _run(capsys, ex.check_lifecycle_order, stages)
    assert not ok and "stage 4 should not be 'evaluate'" in out


def test_lifecycle_missing_stage(capsys):
    ok, out = _run(capsys, ex.check_lifecycle_order, ["collect", "train"])
    assert not ok and "missing" in out


def test_lifecycle_garbage_does_not_raise(capsys):
    ok, _ = _run(capsys, ex.check_lifecycle_order, None)
    assert not ok


def test_service_models_right(capsys):
    assert _run(capsys, ex.check_service_models, dict(ex.SERVICE_MODELS))[0]


def test_service_models_wrong(capsys):
    answers = {k: "SaaS" for k in ex.SERVICE_MODELS}
    ok, out = _run(capsys, ex.check_service_models, answers)
    assert not ok and "3 of 4" in out


def _ranks(scores, ties):
    from scipy.stats import rankdata
    return rankdata(scores, method=ties)


def _rank_auc(y, scores, ties="average", positive=1, first_rank=1, subtract=True):
    ranks = _ranks(scores, ties) - 1 + first_rank
    n_pos, n_neg = np.sum(y == positive), np.sum(y != positive)
    rank_sum = ranks[y == positive].sum() - (n_pos * (n_pos + 1) / 2 if subtract else 0)
    return rank_sum / (n_pos * n_neg)


def test_roc_auc_by_rank_right(capsys):
    assert _run(capsys, ex.check_roc_auc_by_rank, _rank_auc)[0]


def test_roc_auc_pairwise_is_right_too(capsys):
    def pairwise(y, s):
        pos, neg = s[y == 1][:, None], s[y == 0][None, :]
        return np.mean((pos > neg) + 0.5 * (pos == neg))
    assert _run(capsys, ex.check_roc_auc_by_rank, pairwise)[0]


@pytest.mark.parametrize("wrong, hint", [
    (lambda y, s: _rank_auc(y, s, ties="ordinal"), "average rank"),
    (lambda y, s: _rank_auc(y, s, positive=0), "1 - AUC"),
    (lambda y, s: _rank_auc(y, s, first_rank=0), "ranks start at 1"),
    (lambda y, s: _rank_auc(y, s, subtract=False), "subtract n_pos"),
    (lambda y, s: 0.5, "roc_auc_score gives"),
    (lambda y, s: None, "returns None"),
])
def test_roc_auc_by_rank_mistakes_get_their_hint(capsys, wrong, hint):
    ok, out = _run(capsys, ex.check_roc_auc_by_rank, wrong)
    assert not ok and hint in out


@pytest.mark.parametrize("garbage", ["auc", 0.8, lambda y: 1, lambda y, s: "x", lambda y, s: [0.1, 0.2]])
def test_roc_auc_by_rank_garbage_does_not_raise(capsys, garbage):
    ok, _ = _run(capsys, ex.check_roc_auc_by_rank, garbage)
    assert not ok


def test_roc_auc_by_rank_inputs_are_fresh():
    rng = np.random.default_rng()
    first, second = ex._auc_cases(rng), ex._auc_cases(rng)
    assert not np.array_equal(first[0][1], second[0][1])
    assert all(len(np.unique(s)) < len(s) / 2 for _, s in first[1:])  # the tied cases really tie
