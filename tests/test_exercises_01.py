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


def test_scenarios_are_questions_only():
    assert all(isinstance(s, str) for s in ex.SCENARIOS) and len(ex.SCENARIOS) == 4
    assert not hasattr(ex, "SERVICE_MODELS")


def test_service_models_right(capsys):
    assert _run(capsys, ex.check_service_models, ["IaaS", "PaaS", "SaaS", "AIaaS"])[0]
    assert _run(capsys, ex.check_service_models, dict(zip(ex.SCENARIOS, ["iaas", "PaaS", "SaaS", "AIaaS "])))[0]


def test_service_models_wrong(capsys):
    ok, out = _run(capsys, ex.check_service_models, ["SaaS"] * 4)
    assert not ok and "3 of 4" in out


def test_service_models_unfilled_or_unknown(capsys):
    ok, out = _run(capsys, ex.check_service_models, [None] * 4)
    assert not ok and "answer with 'IaaS'" in out
    ok, out = _run(capsys, ex.check_service_models, ["IaaS", "PaaS"])
    assert not ok and "one answer per scenario" in out


@pytest.mark.parametrize("garbage", [3, "IaaS", {1: 2}])
def test_service_models_garbage_does_not_raise(capsys, garbage):
    ok, _ = _run(capsys, ex.check_service_models, garbage)
    assert not ok


def _ranks(scores, ties):
    from scipy.stats import rankdata
    return rankdata(scores, method=ties)


def _rank_auc(y, scores, ties="average", positive=1, first_rank=1, subtract=True, divide_by_n=False):
    ranks = _ranks(scores, ties) - 1 + first_rank
    n_pos, n_neg = np.sum(y == positive), np.sum(y != positive)
    rank_sum = ranks[y == positive].sum() - (n_pos * (n_pos + 1) / 2 if subtract else 0)
    return rank_sum / (n_pos * (len(y) if divide_by_n else n_neg))


def _argsort_auc(y, scores):
    """The typical mistake: argsort().argsort() + 1 gives tied scores distinct ranks."""
    ranks = np.asarray(scores).argsort().argsort() + 1
    n_pos, n_neg = np.sum(y == 1), np.sum(y == 0)
    return (ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def test_roc_auc_by_rank_right(capsys):
    ok, out = _run(capsys, ex.check_roc_auc_by_rank, _rank_auc)
    assert ok and "200,000 rows" in out


def test_roc_auc_pairwise_is_caught_by_the_scaling_run(capsys):
    def pairwise(y, s):
        pos, neg = s[y == 1][:, None], s[y == 0][None, :]
        return np.mean((pos > neg) + 0.5 * (pos == neg))
    ok, out = _run(capsys, ex.check_roc_auc_by_rank, pairwise)
    assert not ok and "n_pos x n_neg matrix" in out and "sort once" in out


def test_roc_auc_memory_error_gets_the_scaling_hint(capsys):
    def runs_out(y, s):
        if len(y) > 1_000:
            raise MemoryError
        return _rank_auc(y, s)
    ok, out = _run(capsys, ex.check_roc_auc_by_rank, runs_out)
    assert not ok and "ran out of memory" in out


def test_roc_auc_wrong_only_when_large_says_so(capsys):
    ok, out = _run(capsys, ex.check_roc_auc_by_rank, lambda y, s: _rank_auc(y, s) if len(y) < 1_000 else 0.5)
    assert not ok and "right on small inputs" in out


@pytest.mark.parametrize("wrong, hint", [
    (lambda y, s: _rank_auc(y, s, ties="ordinal"), "average rank"),
    (_argsort_auc, "right without ties, wrong with them"),
    (lambda y, s: _rank_auc(y, s, positive=0), "1 - AUC"),
    (lambda y, s: _rank_auc(y, s, first_rank=0), "ranks start at 1"),
    (lambda y, s: _rank_auc(y, s, subtract=False), "subtract n_pos"),
    (lambda y, s: _rank_auc(y, s, divide_by_n=True), "not by n_pos * n"),
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
    assert len(np.unique(first[0][1])) == len(first[0][1])  # the first case has no ties
    assert all(len(np.unique(s)) < len(s) / 2 for _, s in first[1:])  # the tied cases really tie
