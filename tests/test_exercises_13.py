"""Feedback of notebook 13's exercise checks: the right answer passes, each typical mistake gets its hint."""
import numpy as np
import pytest

from aiaas_lib.exercises import nb13_language_model_service as ex
from aiaas_lib.generation import apply_penalties, softmax, top_p_mask
from _feedback import run_check as _run

LOGITS, COUNTS = np.array(ex.LOGITS), np.array(ex.COUNTS)
FP, PP = ex.PENALTIES["frequency_penalty"], ex.PENALTIES["presence_penalty"]
BODY = {"model": "tiny-gpt", "messages": [{"role": "user", "content": "Define CYNIC."}], "max_tokens": 40,
        "temperature": 0.7, "stream": True}


# ------------------------------------------------------------------------------ 13.1 cached attention
def _cached_attention(q, k_new, v_new, k_cache, v_cache, *, append=True, front=False, scale=True, axis=-1,
                      swap=False, values_are_keys=False):
    """The right step, or one of the typical mistakes (switched by the keyword flags)."""
    def add(cache, new):
        parts = [new[:, None], cache] if front else [cache, new[:, None]]
        return np.concatenate(parts, axis=1)

    k_all, v_all = add(k_cache, k_new), add(v_cache, v_new)
    k_use, v_use = (k_all, v_all) if append else (k_cache, v_cache)
    scores = np.einsum("hk,htk->ht", q, k_use) / (np.sqrt(q.shape[-1]) if scale else 1.0)
    weights = softmax(scores) if axis == -1 else softmax(scores.T).T  # axis 0: the wrong (heads) axis
    out = np.einsum("ht,htk->hk", weights, k_use if values_are_keys else v_use)
    return (out, v_all, k_all) if swap else (out, k_all, v_all)


def test_cached_attention_right(capsys):
    assert _run(capsys, ex.check_cached_attention, _cached_attention)[0]


@pytest.mark.parametrize("flags, hint", [
    (dict(append=False), "old cache only"),
    (dict(scale=False), "1/sqrt(head_dim)"),
    (dict(axis=0), "not over the heads"),
    (dict(front=True), "went to the front"),
    (dict(swap=True), "swapped"),
    (dict(values_are_keys=True), "not the keys"),
])
def test_cached_attention_wrong(capsys, flags, hint):
    ok, out = _run(capsys, ex.check_cached_attention, lambda *a: _cached_attention(*a, **flags))
    assert not ok and hint in out


def test_cached_attention_cache_not_grown(capsys):
    def forgot(q, k_new, v_new, k_cache, v_cache):
        out, _, _ = _cached_attention(q, k_new, v_new, k_cache, v_cache)
        return out, k_cache, v_cache

    ok, out = _run(capsys, ex.check_cached_attention, forgot)
    assert not ok and "did not grow" in out


@pytest.mark.parametrize("answer, hint", [
    (lambda *a: _cached_attention(*a)[0], "return three things"),
    ([1, 2, 3], "function itself"),
    (lambda *a: 1 / 0, "could not check"),
])
def test_cached_attention_garbage(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_cached_attention, answer)
    assert not ok and hint in out


# ------------------------------------------------------------------------------ 13.2 top-p filter
def _top_p(probs, p, *, extra=0, renormalise=True, ascending=False, sorted_out=False, tolerance=1e-12):
    order = np.argsort(probs if ascending else -probs, kind="stable")
    m = int(np.argmax(np.cumsum(probs[order]) >= p - tolerance)) + 1 + extra
    m = min(max(m, 1), len(probs))
    kept = np.zeros_like(probs)
    kept[order[:m]] = probs[order[:m]]
    if renormalise:
        kept = kept / kept.sum()
    return np.sort(kept)[::-1] if sorted_out else kept


def test_top_p_filter_right(capsys):
    assert _run(capsys, ex.check_top_p_filter, _top_p)[0]


def test_top_p_filter_right_with_the_library_mask(capsys):
    def library(probs, p):
        kept = np.where(top_p_mask(probs, p), probs, 0.0)
        return kept / kept.sum()

    assert _run(capsys, ex.check_top_p_filter, library)[0]


@pytest.mark.parametrize("flags, hint", [
    (dict(extra=-1), "one token short"),
    (dict(extra=1), "one token too many"),
    (dict(renormalise=False), "renormalise"),
    (dict(ascending=True), "least likely"),
    (dict(sorted_out=True), "back at their token ids"),
])
def test_top_p_filter_wrong(capsys, flags, hint):
    ok, out = _run(capsys, ex.check_top_p_filter, lambda probs, p: _top_p(probs, p, **flags))
    assert not ok and hint in out


def test_top_p_filter_p_one_needs_a_tolerance(capsys):
    def no_tolerance(probs, p):
        if p == 1.0:  # what a float sum just below 1 does to `cumsum >= p`
            return _top_p(probs, p, extra=-len(probs))
        return _top_p(probs, p)

    ok, out = _run(capsys, ex.check_top_p_filter, no_tolerance)
    assert not ok and "p - 1e-12" in out


def test_top_p_filter_without_slack_fails_every_time(capsys):
    # the fixed case np.full(10, 0.1) at p = 1 sums to 0.9999999999999999: a plain `cumsum >= p` keeps one token
    for _ in range(5):
        ok, out = _run(capsys, ex.check_top_p_filter, lambda probs, p: _top_p(probs, p, tolerance=0.0))
        assert not ok and "p - 1e-12" in out


@pytest.mark.parametrize("answer, hint", [
    (lambda probs, p: probs[:2], "one probability per token"),
    (np.ones(3), "function itself"),
    (lambda probs, p: None.x, "could not check"),
])
def test_top_p_filter_garbage(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_top_p_filter, answer)
    assert not ok and hint in out


# ------------------------------------------------------------------------------ 13.3 stop sequence, streamed
def _stop_app(*, hold=True, cut=True, stop=True, final=True, reason=True, done=True, every_reason=False):
    """An app factory: the right route, or one of the typical mistakes (switched off by the keyword flags)."""
    import json

    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse
    from pydantic import BaseModel

    class Req(BaseModel):
        model: str
        prompt: str
        max_tokens: int = 16
        seed: int | None = None
        stop: str | None = None

    def make_app(token_source):
        app = FastAPI()

        @app.post("/v1/completions")
        def completions(req: Req):
            def chunk(text, why=None):
                choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": why}
                return f"data: {json.dumps({'object': 'text_completion', 'choices': [choice]})}\n\n"

            def events():
                text, sent, why = "", 0, "length"
                use_stop = req.stop if stop else None
                held = len(use_stop) - 1 if (use_stop and hold) else 0
                for piece in token_source(req.prompt, req.max_tokens, req.seed):
                    text += piece
                    if use_stop and use_stop in text:
                        text, why = (text[:text.index(use_stop)] if cut else text[:text.index(use_stop) + len(use_stop)]), "stop"
                        if not hold:
                            text = text[:max(sent, len(text))]
                        break
                    if len(text) - held > sent:
                        yield chunk(text[sent:len(text) - held], "length" if every_reason else None)
                        sent = len(text) - held
                if len(text) > sent:
                    yield chunk(text[sent:])
                if final:
                    yield chunk("", why if reason else ("length" if why == "stop" else "stop"))
                if done:
                    yield "data: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")

        return app

    return make_app


def test_stop_streaming_right(capsys):
    assert _run(capsys, ex.check_stop_streaming, _stop_app())[0]


@pytest.mark.parametrize("flags, hint", [
    (dict(stop=False), "ran past the stop sequence"),
    (dict(cut=False), "itself is not sent"),
    (dict(final=False), "must say why the reply ended"),
    (dict(reason=False), "when the pieces ran out"),
    (dict(done=False), "[DONE]"),
    (dict(every_reason=True), "only the last chunk"),
])
def test_stop_streaming_wrong(capsys, flags, hint):
    ok, out = _run(capsys, ex.check_stop_streaming, _stop_app(**flags))
    assert not ok and hint in out


def test_stop_streaming_without_holding_back(capsys):
    # the naive loop sends each piece before it knows a stop sequence starts there; the fixed request with
    # one-character pieces catches it every time
    for _ in range(5):
        ok, out = _run(capsys, ex.check_stop_streaming, _stop_app(hold=False))
        assert not ok and "hold back" in out


@pytest.mark.parametrize("answer, hint", [
    (_stop_app()(lambda *a: iter(())), "factory itself"),
    (lambda source: None, "must return the FastAPI app"),
    (lambda source: 1 / 0, "could not check"),
])
def test_stop_streaming_garbage(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_stop_streaming, answer)
    assert not ok and hint in out


def test_stop_streaming_not_sse(capsys):
    from fastapi import FastAPI

    def make_app(source):
        app = FastAPI()
        app.post("/v1/completions")(lambda: {"choices": []})
        return app

    ok, out = _run(capsys, ex.check_stop_streaming, make_app)
    assert not ok and "text/event-stream" in out


# ------------------------------------------------------------------------------ 13.4 penalties
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


# ------------------------------------------------------------------------------ 13.5 chat body
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
