"""Notebook 06's exercise checks: the right answer passes, each typical wrong answer gets its hint."""
import pytest

from aiaas_lib import training
from aiaas_lib.exercises import nb06_training_on_a_gpu as ex
from _feedback import run_check as _run


def _capable(gpus):
    return bool(gpus) and all(g.supports_mixed_precision for g in gpus)


def test_precision_choice_right(capsys):
    assert _run(capsys, ex.check_precision_choice, lambda gpus: training.precision_policy(gpus))[0]


@pytest.mark.parametrize("func, hint", [
    (lambda gpus: "mixed_float16", "no GPU stay float32"),
    (lambda gpus: "mixed_float16" if gpus else "float32", "K80"),
    (lambda gpus: "mixed_float16" if _capable(gpus) and gpus[0].compute_capability > (7, 0) else "float32", ">= (7, 0)"),
    (lambda gpus: "mixed_float16" if any(g.supports_mixed_precision for g in gpus) else "float32", "every one"),
    (lambda gpus: "float16" if _capable(gpus) else "float32", "return the string"),
    (lambda gpus: None, "not None"),
    (lambda gpus: gpus[0].compute_capability >= (7, 0), "could not check"),
])
def test_precision_choice_wrong_gives_hint(capsys, func, hint):
    ok, out = _run(capsys, ex.check_precision_choice, func)
    assert not ok and hint in out


def test_precision_choice_unknown_capability_hint(capsys):
    def guess(gpus):
        return "mixed_float16" if gpus and all(g.compute_capability is None or g.compute_capability >= (7, 0)
                                               for g in gpus) else "float32"

    ok, out = _run(capsys, ex.check_precision_choice, guess)
    assert not ok and "unknown compute capability" in out


def test_pipeline_order_right(capsys):
    assert _run(capsys, ex.check_pipeline_order, ["map", "cache", "shuffle", "batch", "prefetch"])[0]


@pytest.mark.parametrize("order, hint", [
    (["map", "shuffle", "cache", "batch", "prefetch"], "shuffle after cache"),
    (["map", "cache", "batch", "shuffle", "prefetch"], "shuffle before batch"),
    (["cache", "map", "shuffle", "batch", "prefetch"], "map before cache"),
    (["prefetch", "map", "cache", "shuffle", "batch"], "prefetch goes last"),
    (["map", "cache", "batch"], "exactly once"),
    (None, "no answer yet"),
])
def test_pipeline_order_wrong_gives_hint(capsys, order, hint):
    ok, out = _run(capsys, ex.check_pipeline_order, order)
    assert not ok and hint in out


def test_global_batch_right(capsys):
    ok, out = _run(capsys, ex.check_global_batch, 256, 235)
    assert ok and "235 steps" in out


@pytest.mark.parametrize("answer, hint", [
    ((64, 938), "per-replica batch"), ((256, 234), "round up"), ((256, 938), "consumes the global batch"),
    ((128, 469), "global batch 128 is not it"), ((256, 240), "divide 60000"), ((None, None), "no answer yet"),
    (("many", 3), "could not check"),
])
def test_global_batch_wrong_gives_hint(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_global_batch, *answer)
    assert not ok and hint in out


def test_global_batch_other_setup(capsys):
    assert _run(capsys, ex.check_global_batch, 64, 16, n_images=1000, replicas=2, per_replica=32)[0]
