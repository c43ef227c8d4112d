import numpy as np
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


@pytest.mark.parametrize("check", [ex.check_per_replica_batch, ex.check_averaged_gradient, ex.check_replicas_for_target])
def test_no_answer_yet(capsys, check):
    ok, out = _run(capsys, check, None)
    assert not ok and "no answer yet" in out
