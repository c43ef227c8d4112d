"""Feedback of notebook 13's exercise checks: the right answer passes, each typical mistake gets its hint."""
import numpy as np
import pytest

from aiaas_lib.exercises import nb13_language_model_service as ex
from aiaas_lib.generation import apply_penalties, top_p_mask
from _feedback import run_check as _run

LOGITS, COUNTS = np.array(ex.LOGITS), np.array(ex.COUNTS)
FP, PP = ex.PENALTIES["frequency_penalty"], ex.PENALTIES["presence_penalty"]
BODY = {"model": "tiny-gpt", "messages": [{"role": "user", "content": "Define CYNIC."}], "max_tokens": 40,
        "temperature": 0.7, "stream": True}


# ------------------------------------------------------------------------------ 13.1 penalties
def test_penalized_logits_right_is_the_library_formula(capsys):
    assert _run(capsys, ex.check_penalized_logits, apply_penalties(LOGITS, COUNTS, FP, PP))[0]


@pytest.mark.parametrize("answer, hint", [
    (LOGITS + COUNTS * FP + (COUNTS > 0) * PP, "signs are reversed"),
    (LOGITS - COUNTS * FP, "only the frequency penalty"),
    (LOGITS - (COUNTS > 0) * PP, "only the presence penalty"),
    (LOGITS - COUNTS * FP - PP, "only to tokens already generated"),
    (LOGITS - COUNTS * (FP + PP), "once per token that occurred"),
    (LOGITS - (COUNTS > 0) * FP - COUNTS * PP, "swapped"),
    (LOGITS[:3], "one logit per token"),
    (LOGITS, "is not it"),
])
def test_penalized_logits_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_penalized_logits, answer)
    assert not ok and hint in out


def test_penalized_logits_none(capsys):
    ok, out = _run(capsys, ex.check_penalized_logits, None)
    assert not ok and "no answer yet" in out


# ------------------------------------------------------------------------------ 13.2 top-p
def test_top_p_set_right_as_ids(capsys):
    assert _run(capsys, ex.check_top_p_set, {1, 3, 4})[0]


def test_top_p_set_right_as_the_library_mask(capsys):
    assert _run(capsys, ex.check_top_p_set, top_p_mask(np.array(ex.PROBS), ex.TOP_P))[0]


@pytest.mark.parametrize("answer, hint", [
    ([1, 3], "less than top_p"),
    ([1, 3, 4, 2], "one token too many"),
    ([0, 5, 2], "least likely"),
    ([0.4, 0.25, 0.15], "look like probabilities"),
    (np.array([True, False]), "one entry per token"),
    ([1, 3, 9], "must be in 0..5"),
    ([2], "is not it"),
])
def test_top_p_set_wrong(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_top_p_set, answer)
    assert not ok and hint in out


def test_top_p_set_none(capsys):
    ok, out = _run(capsys, ex.check_top_p_set, None)
    assert not ok and "no answer yet" in out


# ------------------------------------------------------------------------------ 13.3 chat body
def test_chat_request_right(capsys):
    assert _run(capsys, ex.check_chat_request, BODY)[0]


def test_chat_request_accepts_max_completion_tokens(capsys):
    body = {k: v for k, v in BODY.items() if k != "max_tokens"} | {"max_completion_tokens": 40}
    assert _run(capsys, ex.check_chat_request, body)[0]


@pytest.mark.parametrize("change, hint", [
    ({"engine": "tiny-gpt"}, "legacy API"),
    ({"messages": None, "prompt": "Define CYNIC."}, "belongs to /v1/completions"),
    ({"top_n": 3}, "refuses unknown fields"),
    ({"model": "gpt-4"}, '"model" must be'),
    ({"messages": "Define CYNIC."}, "not a string"),
    ({"messages": []}, "non-empty list"),
    ({"messages": [{"role": "system", "content": "Define CYNIC."}]}, 'role "user"'),
    ({"messages": [{"role": "user", "content": "define cynic"}]}, "content must be"),
    ({"stream": "true"}, "JSON boolean"),
    ({"max_tokens": 100}, "max_tokens"),
    ({"temperature": "0.7"}, '"temperature" must be'),
    ({"seed": np.int64(1)}, "JSON-serialisable"),
])
def test_chat_request_wrong(capsys, change, hint):
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    ok, out = _run(capsys, ex.check_chat_request, body)
    assert not ok and hint in out


def test_chat_request_not_a_dict(capsys):
    ok, out = _run(capsys, ex.check_chat_request, '{"model": "tiny-gpt"}')
    assert not ok and "a dict" in out
