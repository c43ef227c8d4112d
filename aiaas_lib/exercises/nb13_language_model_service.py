"""Exercise checks of notebook 13 (language model service): used by notebooks/13_language_model_service.ipynb."""
from __future__ import annotations


import numpy as np

from aiaas_lib.exercises.feedback import exercise
from aiaas_lib.generation.sampling import top_p_mask


LOGITS = (2.0, 1.5, 1.0, 0.5, 0.0)
"""Exercise 13.4: raw next-token logits of a 5-token vocabulary."""
COUNTS = (3, 0, 1, 0, 2)
"""Exercise 13.4: how often each token was generated so far."""
PENALTIES = {"frequency_penalty": 0.5, "presence_penalty": 0.4}
"""Exercise 13.4: the request's penalties."""
CHAT_TASK = {"model": "tiny-gpt", "content": "Define CYNIC.", "max_tokens": 40, "temperature": 0.7}
"""Exercise 13.5: what the chat request must ask for (and it must be streamed)."""


def _stop_case(rng: np.random.Generator, kind: str) -> tuple[list[str], str | None]:
    """Fresh pieces of a reply (mostly one character each) and a stop sequence: found in the text, absent, or none."""
    text = "".join(rng.choice(list("abcdeo  .")) for _ in range(int(rng.integers(30, 60))))
    cuts = np.sort(rng.choice(np.arange(1, len(text)), size=len(text) // 3, replace=False))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]  # pieces of one or more characters
    if kind == "spans":  # one character per piece: a stop sequence of 3 characters always spans 3 pieces
        at = int(rng.integers(8, len(text) - 4))
        return list(text), text[at:at + 3]
    if kind == "found":
        at, n = int(rng.integers(8, len(text) - 4)), int(rng.integers(2, 4))
        return pieces, text[at:at + n]
    return pieces, ("XYZ" if kind == "absent" else None)


def _read_sse(text: str) -> tuple[list[dict] | None, bool, str]:
    """Server-sent events -> (JSON chunks, whether the stream ended with [DONE], an error message or "")."""
    import json

    events = [e.strip() for e in text.split("\n\n") if e.strip()]
    if not events or any(not e.startswith("data: ") for e in events):
        return None, False, "every event is one line 'data: ...' followed by a blank line ('\\n\\n')"
    done = events[-1] == "data: [DONE]"
    try:
        chunks = [json.loads(e[len("data: "):]) for e in (events[:-1] if done else events)]
    except ValueError as err:
        return None, done, f"an event's data is not JSON ({err}); only the very last event is 'data: [DONE]'"
    return chunks, done, ""


@exercise
def check_stop_streaming(make_app) -> tuple[bool, str]:
    r"""Exercise 13.3: a streaming ``/v1/completions`` route with a ``stop`` sequence and a final chunk that
    says why the reply ended, run through ``fastapi.testclient.TestClient`` on fresh requests.

    ``make_app(token_source) -> FastAPI app``; ``token_source(prompt, max_tokens, seed)`` yields the reply's
    text pieces. The route streams ``text/event-stream`` completion chunks; their texts joined are the reply cut
    just before the first occurrence of ``stop`` (the stop sequence itself is not sent, nor any part of it);
    the last chunk has ``finish_reason`` ``"stop"`` (the stop sequence ended it) or ``"length"`` (the pieces
    ran out), every earlier one ``null``; then ``data: [DONE]``. The checker sends 5 fresh requests: 3 whose
    stop sequence occurs (in one of them the pieces are single characters, so the stop sequence spans pieces),
    one whose stop sequence never occurs, one without ``stop``.

    Examples
    --------
    >>> import json
    >>> from fastapi import FastAPI
    >>> from fastapi.responses import StreamingResponse
    >>> from pydantic import BaseModel
    >>> class Req(BaseModel):
    ...     model: str
    ...     prompt: str
    ...     max_tokens: int = 16
    ...     seed: int | None = None
    ...     stop: str | None = None
    >>> def make_app(token_source):
    ...     app = FastAPI()
    ...     @app.post("/v1/completions")
    ...     def completions(req: Req):
    ...         def chunk(text, reason=None):
    ...             choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": reason}
    ...             return f"data: {json.dumps({'object': 'text_completion', 'choices': [choice]})}\n\n"
    ...         def events():
    ...             text, sent, reason = "", 0, "length"
    ...             hold = len(req.stop) - 1 if req.stop else 0
    ...             for piece in token_source(req.prompt, req.max_tokens, req.seed):
    ...                 text += piece
    ...                 if req.stop and req.stop in text:
    ...                     text, reason = text[:text.index(req.stop)], "stop"
    ...                     break
    ...                 if len(text) - hold > sent:
    ...                     yield chunk(text[sent:len(text) - hold])
    ...                     sent = len(text) - hold
    ...             if len(text) > sent:
    ...                 yield chunk(text[sent:])
    ...             yield chunk("", reason)
    ...             yield "data: [DONE]\n\n"
    ...         return StreamingResponse(events(), media_type="text/event-stream")
    ...     return app
    >>> check_stop_streaming(make_app)
    ✓ 5 fresh requests streamed right: the text stops before the stop sequence, the last chunk says "stop" or "length", then [DONE]
    True
    """
    from fastapi.testclient import TestClient

    if hasattr(make_app, "router") or not callable(make_app):
        return False, "pass your app factory itself (make_app), not an app or its result"
    rng = np.random.default_rng()
    cases = {}
    for kind in ("spans", "found", "absent", "found", "none"):
        cases[f"prompt-{len(cases)}-{int(rng.integers(1_000_000))}"] = (kind, *_stop_case(rng, kind))

    def token_source(prompt, max_tokens, seed=None):
        yield from cases[prompt][1][:max_tokens]

    app = make_app(token_source)
    if not hasattr(app, "router"):
        return False, f"make_app must return the FastAPI app; got {type(app).__name__}"
    with TestClient(app) as client:
        for prompt, (kind, pieces, stop) in cases.items():
            body = {"model": "tiny-gpt", "prompt": prompt, "max_tokens": len(pieces), "stream": True}
            if stop is not None:
                body["stop"] = stop
            response = client.post("/v1/completions", json=body)
            if response.status_code != 200:
                return False, f"POST /v1/completions answered {response.status_code}: {response.text[:200]}"
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                return False, "stream with StreamingResponse(..., media_type=\"text/event-stream\")"
            chunks, done, error = _read_sse(response.text)
            if error:
                return False, error
            if not done:
                return False, "end the stream with the event 'data: [DONE]' after the last chunk"
            try:
                texts = [c["choices"][0]["text"] for c in chunks]
                reasons = [c["choices"][0].get("finish_reason") for c in chunks]
            except (KeyError, IndexError, TypeError):
                return False, "each chunk has OpenAI's shape: {..., \"choices\": [{\"index\": 0, \"text\": ..., \"finish_reason\": ...}]}"
            full = "".join(pieces)
            found = stop is not None and stop in full
            expected = full[:full.index(stop)] if found else full
            joined = "".join(texts)
            if joined != expected:
                where = f"stop={stop!r}" if stop is not None else "no stop"
                if found and joined == full:
                    return False, f"the reply ran past the stop sequence ({where}): end it where req.stop first appears"
                if found and joined == expected + stop:
                    return False, "the stop sequence itself is not sent: cut the text just before it"
                if found and any(joined == expected + stop[:k] for k in range(1, len(stop))):
                    return False, ("you sent the first characters of the stop sequence before you knew they were "
                                   "it (a stop sequence can span pieces): hold back the last len(stop) - 1 "
                                   "characters until the next piece shows whether the stop sequence follows")
                return False, f"with {where} the joined chunk texts should be {expected!r}; got {joined!r}"
            final = [r for r in reasons if r is not None]
            if not final or reasons[-1] is None:
                return False, ("the last chunk must say why the reply ended: finish_reason \"stop\" or \"length\" "
                               "(an extra chunk with empty text is fine)")
            if len(final) > 1:
                return False, "only the last chunk carries a finish_reason; the earlier ones have null (None)"
            want = "stop" if found else "length"
            if reasons[-1] != want:
                return False, (f"finish_reason is \"stop\" when the stop sequence ended the reply and \"length\" "
                               f"when the pieces ran out; here it should be {want!r}, got {reasons[-1]!r}")
    return True, ("5 fresh requests streamed right: the text stops before the stop sequence, the last chunk says "
                  "\"stop\" or \"length\", then [DONE]")


@exercise
def check_penalized_logits(answer) -> tuple[bool, str]:
    """Exercise 13.4: ``LOGITS`` after OpenAI's frequency and presence penalties (``PENALTIES``) for the
    generated-token counts ``COUNTS``: ``logit_j - c_j * frequency_penalty - [c_j > 0] * presence_penalty``.

    Examples
    --------
    >>> check_penalized_logits([0.1, 1.5, 0.1, 0.5, -1.4])
    ✓ penalised logits [0.1, 1.5, 0.1, 0.5, -1.4]: tokens never generated keep their logits
    True
    """
    logits, counts = np.array(LOGITS), np.array(COUNTS)
    fp, pp = PENALTIES["frequency_penalty"], PENALTIES["presence_penalty"]
    value = np.asarray(answer, dtype=np.float64).ravel()
    if value.shape != logits.shape:
        return False, f"give one logit per token: {len(logits)} values, got {value.size}"
    expected = logits - counts * fp - (counts > 0) * pp

    def near(x):
        return bool(np.allclose(value, x, atol=1e-9))

    if near(expected):
        return True, f"penalised logits {np.round(expected, 4).tolist()}: tokens never generated keep their logits"
    if near(logits + counts * fp + (counts > 0) * pp):
        return False, "the signs are reversed: penalties are subtracted, so repeated tokens become less likely"
    if near(logits - counts * fp):
        return False, "only the frequency penalty was applied; subtract presence_penalty once for every token with c_j > 0"
    if near(logits - (counts > 0) * pp):
        return False, "only the presence penalty was applied; also subtract c_j * frequency_penalty"
    if near(logits - counts * fp - pp):
        return False, "the presence penalty applies only to tokens already generated (c_j > 0), not to all"
    if near(logits - counts * (fp + pp)):
        return False, "the presence penalty is charged once per token that occurred, not once per occurrence"
    if near(logits - (counts > 0) * fp - counts * pp):
        return False, "frequency and presence are swapped: frequency scales with the count, presence is a flat charge"
    return False, f"{np.round(value, 4).tolist()} is not it; apply logit_j - c_j*frequency_penalty - [c_j>0]*presence_penalty"


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis`` (float64)."""
    z = np.exp(z - z.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


def _attend(q, k_all, v_all, scale=True, axis=-1) -> np.ndarray:
    """One query per head against all keys: (H, K) x (H, t, K) -> (H, K)."""
    scores = np.einsum("hk,htk->ht", q, k_all) / (np.sqrt(q.shape[-1]) if scale else 1.0)
    return np.einsum("ht,htk->hk", _softmax(scores, axis), v_all)


def _attention_case(rng: np.random.Generator):
    """Fresh random inputs of one cached attention step: q, k_new, v_new (H, K) and caches (H, t, K)."""
    heads, t, dim = int(rng.integers(2, 5)), int(rng.integers(2, 9)), int(rng.choice([4, 8, 16]))
    q, k_new, v_new = (rng.normal(size=(heads, dim)) for _ in range(3))
    k_cache, v_cache = (rng.normal(size=(heads, t, dim)) for _ in range(2))
    return q, k_new, v_new, k_cache, v_cache


@exercise
def check_cached_attention(func) -> tuple[bool, str]:
    """Exercise 13.1: one decoding step of attention with a KV cache, run on fresh random inputs.

    ``func(q, k_new, v_new, k_cache, v_cache) -> (out, k_cache, v_cache)``: the new token's query, key and
    value have shape (heads, head_dim); the caches (heads, t, head_dim) hold the t earlier positions. Append
    the new key and value at the end of the caches, then attend:
    ``out = softmax(q · K_allᵀ / sqrt(head_dim)) · V_all`` per head, softmax over the t + 1 positions.

    Examples
    --------
    >>> def cached_attention(q, k_new, v_new, k_cache, v_cache):
    ...     k_cache = np.concatenate([k_cache, k_new[:, None]], axis=1)
    ...     v_cache = np.concatenate([v_cache, v_new[:, None]], axis=1)
    ...     scores = np.einsum("hk,htk->ht", q, k_cache) / np.sqrt(q.shape[-1])
    ...     weights = np.exp(scores - scores.max(-1, keepdims=True))
    ...     weights /= weights.sum(-1, keepdims=True)
    ...     return np.einsum("ht,htk->hk", weights, v_cache), k_cache, v_cache
    >>> check_cached_attention(cached_attention)
    ✓ equal to the reference on 5 fresh random steps (2-4 heads, 2-8 cached positions): the cache grows by one position per step
    True
    """
    if not callable(func):
        return False, "pass your function itself (cached_attention), not its result"
    rng = np.random.default_rng()
    for _ in range(5):
        q, k_new, v_new, k_cache, v_cache = _attention_case(rng)
        heads, t, dim = k_cache.shape
        result = func(q.copy(), k_new.copy(), v_new.copy(), k_cache.copy(), v_cache.copy())
        if not isinstance(result, tuple) or len(result) != 3:
            return False, "return three things: (out, k_cache, v_cache), the caches with the new position appended"
        out, k_got, v_got = (np.asarray(r, dtype=np.float64) for r in result)
        if k_got.shape != (heads, t + 1, dim) or v_got.shape != (heads, t + 1, dim):
            if k_got.shape == k_cache.shape:
                return False, ("the returned caches did not grow: append the new key and value (axis 1, one "
                               "position), or the next step will not see this token")
            return False, f"the caches should have shape (heads, t + 1, head_dim) = {(heads, t + 1, dim)}; got {k_got.shape}"
        k_all = np.concatenate([k_cache, k_new[:, None]], axis=1)
        v_all = np.concatenate([v_cache, v_new[:, None]], axis=1)
        if np.allclose(k_got, np.concatenate([k_new[:, None], k_cache], axis=1)):
            return False, "the new key went to the front: append it at the end (position t is the newest token)"
        if not (np.allclose(k_got, k_all) and np.allclose(v_got, v_all)):
            if np.allclose(k_got, v_all) and np.allclose(v_got, k_all):
                return False, "keys and values are swapped in the returned caches"
            return False, "the returned caches are not the old ones with k_new and v_new appended at the end"
        if out.shape != (heads, dim):
            return False, f"out should have one vector per head, shape (heads, head_dim) = {(heads, dim)}; got {out.shape}"
        expected = _attend(q, k_all, v_all)
        if np.allclose(out, expected, atol=1e-8):
            continue
        if np.allclose(out, _attend(q, k_cache, v_cache), atol=1e-8):
            return False, ("you attended over the old cache only: append k_new and v_new first, so the new "
                           "token also attends to itself")
        if np.allclose(out, _attend(q, k_all, v_all, scale=False), atol=1e-8):
            return False, "scale the scores by 1/sqrt(head_dim) before the softmax"
        if np.allclose(out, _attend(q, k_all, v_all, axis=0), atol=1e-8):
            return False, "the softmax runs over the positions (the last axis of the scores), not over the heads"
        if np.allclose(out, _attend(q, k_all, k_all), atol=1e-8):
            return False, "the weights average the values, not the keys"
        return False, "out differs from softmax(q · K_allᵀ / sqrt(head_dim)) · V_all; check it head by head"
    return True, ("equal to the reference on 5 fresh random steps (2-4 heads, 2-8 cached positions): "
                  "the cache grows by one position per step")


def _reference_top_p(probs: np.ndarray, p: float) -> np.ndarray:
    """The library's rule: keep the smallest most-likely set reaching ``p``, renormalise."""
    kept = np.where(top_p_mask(probs, p), probs, 0.0)
    return kept / kept.sum()


@exercise
def check_top_p_filter(func) -> tuple[bool, str]:
    """Exercise 13.2: a top-p (nucleus) filter, run on fresh random distributions.

    ``func(probs, p) -> filtered``: keep the smallest set of most likely tokens whose probabilities sum to at
    least ``p``, set the others to 0 and renormalise; the result has the same shape and token order as ``probs``.
    One case is fixed: ``np.full(10, 0.1)`` at ``p = 1``, whose cumulative sum ends at 0.9999999999999999.

    Examples
    --------
    >>> def top_p_filter(probs, p):
    ...     order = np.argsort(-probs)
    ...     m = int(np.argmax(np.cumsum(probs[order]) >= p - 1e-12)) + 1  # 1e-12: float sums of 1 may be 0.9999...
    ...     kept = np.zeros_like(probs)
    ...     kept[order[:m]] = probs[order[:m]]
    ...     return kept / kept.sum()
    >>> check_top_p_filter(top_p_filter)
    ✓ equal to the reference on 7 distributions (6 fresh, top_p from 0.3 to 1, and ten equal probabilities at top_p 1): the set that first reaches p, renormalised
    True
    """
    if not callable(func):
        return False, "pass your function itself (top_p_filter), not its result"
    rng = np.random.default_rng()
    for trial in range(7):
        size = 10 if trial == 0 else int(rng.integers(6, 40))
        # trial 0 is fixed: ten equal probabilities, whose float sum is 0.9999999999999999, at p = 1
        probs = np.full(size, 0.1) if trial == 0 else rng.dirichlet(np.full(size, 0.5))
        p = 1.0 if trial in (0, 6) else float(rng.uniform(0.3, 0.95))
        got = np.asarray(func(probs.copy(), p), dtype=np.float64)
        if got.shape != probs.shape:
            return False, f"return one probability per token, shape {probs.shape}; got {got.shape}"
        expected = _reference_top_p(probs, p)
        if np.allclose(got, expected, atol=1e-9):
            continue
        order = np.argsort(-probs, kind="stable")
        kept = np.count_nonzero(expected)
        if np.allclose(got, np.where(expected > 0, probs, 0.0), atol=1e-9):
            return False, "renormalise: divide the kept probabilities by their sum so they add up to 1"
        if np.allclose(np.sort(got)[::-1], np.sort(expected)[::-1], atol=1e-9):
            return False, "put the kept probabilities back at their token ids (the input's order), not sorted"
        for m, hint in ((kept - 1, "one token short: keep the token whose probability makes the sum *reach* p "
                                   "(cumsum >= p marks it; cumsum < p stops before it)"),
                        (kept + 1, "one token too many: stop at the first token where the running sum reaches p")):
            if 0 < m <= size:
                wrong = np.zeros_like(probs)
                wrong[order[:m]] = probs[order[:m]]
                if np.allclose(got, wrong / wrong.sum(), atol=1e-9):
                    return False, hint
        if p == 1.0 and np.count_nonzero(got) < kept:
            return False, ("top_p = 1 must keep every token; a float sum of probabilities can land just below 1 "
                           "(ten times 0.1 sums to 0.9999999999999999), so compare the running sum with p - 1e-12")
        ascending = np.argsort(probs, kind="stable")
        low = np.zeros_like(probs)
        m_low = int(np.argmax(np.cumsum(probs[ascending]) >= p - 1e-12)) + 1
        low[ascending[:m_low]] = probs[ascending[:m_low]]
        if np.allclose(got, low / low.sum(), atol=1e-9) or np.allclose(got, low, atol=1e-9):
            return False, "you kept the least likely tokens: sort largest first (np.argsort(-probs))"
        return False, f"differs from the reference for p = {p:.2f} on {size} tokens; keep the most likely until the sum reaches p"
    return True, ("equal to the reference on 7 distributions (6 fresh, top_p from 0.3 to 1, and ten equal "
                  "probabilities at top_p 1): the set that first reaches p, renormalised")


@exercise
def check_chat_request(body) -> tuple[bool, str]:
    """Exercise 13.5: the JSON body of ``POST /v1/chat/completions`` that asks ``tiny-gpt`` to answer the user
    message "Define CYNIC." with at most 40 tokens at temperature 0.7, streamed (``CHAT_TASK``).
    ``max_completion_tokens`` is accepted in place of ``max_tokens``.

    Examples
    --------
    >>> check_chat_request({"model": "tiny-gpt", "messages": [{"role": "user", "content": "Define CYNIC."}],
    ...                     "max_tokens": 40, "temperature": 0.7, "stream": True})
    ✓ a valid streamed chat request: model, messages (1 user turn), max_tokens 40, temperature 0.7
    True
    """
    import json

    from aiaas_lib.serving.openai_api import CHAT_FIELDS

    task = CHAT_TASK
    if not isinstance(body, dict):
        return False, f"the body is a JSON object (a dict); got {type(body).__name__}"
    if "engine" in body:
        return False, '"engine" is the legacy API (openai<1.0); today\'s field is "model"'
    if "prompt" in body and "messages" not in body:
        return False, '"prompt" belongs to /v1/completions; a chat request sends "messages": [{"role": ..., "content": ...}]'
    unknown = sorted(set(body) - CHAT_FIELDS)
    if unknown:
        return False, f"the service refuses unknown fields with 400: {unknown}; allowed are e.g. model, messages, max_tokens"
    try:
        json.dumps(body)
    except TypeError as err:
        return False, f"the body must be JSON-serialisable ({err})"
    if body.get("model") != task["model"]:
        return False, f'"model" must be {task["model"]!r}; got {body.get("model")!r}'
    messages = body.get("messages")
    if isinstance(messages, str):
        return False, '"messages" is a list of {"role": ..., "content": ...} dicts, not a string'
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        return False, '"messages" must be a non-empty list of {"role": ..., "content": ...} dicts'
    last = messages[-1]
    if last.get("role") != "user":
        return False, f'the question is the user\'s turn: role "user"; got {last.get("role")!r}'
    if last.get("content") != task["content"]:
        return False, f'the user\'s content must be {task["content"]!r}; got {last.get("content")!r}'
    if body.get("stream") is not True:
        return False, '"stream" must be the JSON boolean true (Python True), not ' + repr(body.get("stream"))
    limit = body.get("max_tokens", body.get("max_completion_tokens"))
    if limit != task["max_tokens"] or isinstance(limit, bool):
        return False, f'limit the reply with "max_tokens": {task["max_tokens"]}; got {limit!r}'
    temperature = body.get("temperature")
    if isinstance(temperature, str) or temperature is None or abs(float(temperature) - task["temperature"]) > 1e-12:
        return False, f'"temperature" must be the number {task["temperature"]}; got {temperature!r}'
    return True, (f"a valid streamed chat request: model, messages ({len(messages)} user turn), "
                  f"max_tokens {limit}, temperature {temperature}")
