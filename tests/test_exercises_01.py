"""Exercise checks of notebook 01 (AI as a service)."""
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


def test_drift_retrain_right(capsys):
    assert _run(capsys, ex.check_drift_retrain, 0.84, 0.71, 0.80)[0]


@pytest.mark.parametrize("aucs, hint", [((0.84, 0.86, 0.9), "worse on drifted"), ((0.84, 0.7, 0.69), "retraining"),
                                        ((84, 70, 80), "not a ROC-AUC")])
def test_drift_retrain_wrong(capsys, aucs, hint):
    ok, out = _run(capsys, ex.check_drift_retrain, *aucs)
    assert not ok and hint in out
