"""Used by the conformance kit (:mod:`aiaas_lib.conformance`, ``aiaas conformance``; notebooks 12 and 13).

The OpenAI API (completions, chat completions, embeddings, models), checked by base URL. The rules are the
API reference's (https://platform.openai.com/docs/api-reference) as vLLM's OpenAI-server tests assert them,
``tests/entrypoints/openai/test_completion.py``, ``test_chat.py``, ``test_embedding.py``, ``test_models.py``:

- ``openai.models``: ``GET /v1/models``: ``{object: "list", data: [{id, object: "model", created,
  owned_by}]}`` (reference "List models"; test_models.py ``test_check_models``)
- ``openai.models_retrieve``: ``GET /v1/models/{id}``: that model's object (reference "Retrieve model")
- ``openai.completion``: ``POST /v1/completions`` at temperature 0: ``text_completion``, one choice with text
  and finish_reason, usage ``total = prompt + completion``, ``completion ≤ max_tokens``, ``"length"`` ⇒
  ``completion == max_tokens`` (test_completion.py ``test_single_completion``)
- ``openai.completion_n``: ``n=2``: choices 0 and 1; the prompt counted once in usage
  (``test_batch_completions``, reference "n"; usage bills the prompt once)
- ``openai.completion_logprobs``: ``logprobs=2``: tokens, token_logprobs ≤ 0, top_logprobs of 2 (or 3)
  entries, text_offset, one per completion token, tokens joined = text (``test_completion_logprobs``-style
  assertions)
- ``openai.chat``: ``POST /v1/chat/completions``: ``chat.completion``, message role ``assistant``, usage
  totals (test_chat.py ``test_single_chat_session``)
- ``openai.chat_logprobs``: ``logprobs: true, top_logprobs: 2``: ``logprobs.content`` entries ``{token,
  logprob ≤ 0, top_logprobs: [2 entries]}`` (``test_single_chat_session``)
- ``openai.stream_completion``: ``stream: true``: ``text/event-stream``; every event ``data: <json>``, the
  last ``data: [DONE]`` and nothing after; one id; one finish_reason, on the last chunk; streamed text = the
  non-streamed text at temperature 0 (``test_completion_streaming``)
- ``openai.stream_chat``: the same for chat: ``chat.completion.chunk``, the first delta's role ``assistant``
  (test_chat.py ``test_chat_streaming``)
- ``openai.stream_usage``: ``stream_options.include_usage``: every chunk's usage null but a last chunk with no
  choices and the usage of the non-streamed reply; without ``stream`` it is a 400
  (``test_completion_stream_options``, ``test_chat_completion_stream_options``)
- ``openai.embeddings``: ``POST /v1/embeddings`` of two texts: ``list`` of two ``embedding`` objects, indexes
  0 and 1, equal lengths, usage ``total_tokens = prompt_tokens``; base64 the same vectors as float
  (test_embedding.py ``test_batch_embedding``, ``test_batch_base64_embedding``)
- ``openai.error_shape``: temperature -1: 400; an unknown model: 404; broken JSON: 400; each ``{"error":
  {"message", "type", "param", "code"}}`` (reference "Error codes"; vLLM's ``ErrorResponse``)
- ``openai.alive_after_errors``: after those bad requests the same completion answers the same text
- ``openai.auth``: (with an API key) no key / a wrong key → 401 in the error shape (reference
  "Authentication")
- ``openai.body_limit``: (with ``max_body_bytes``) exactly the limit served, one byte more 413 (the course's)

Models: the generation model is ``llm`` (``--llm``), else the first listed model whose ``kind`` is
``generation`` (the course's extension), else the first listed; the embedding model likewise.
"""

from __future__ import annotations

import base64
import json
import struct

from aiaas_lib.conformance.core import (
    Context,
    Failure,
    Skip,
    auth,
    body_json,
    body_limit,
    check,
    close,
    describe,
    expect,
    ok_json,
    openai_error,
)

PROMPT = "the "
MAX_TOKENS = 8
MESSAGES = [{"role": "user", "content": "the cat"}]
TEXTS = ["the cat sat", "a dog"]
UNKNOWN_MODEL = "conformance-no-such-model"


def detect(ctx: Context) -> str | None:
    """None when ``GET /v1/models`` answers OpenAI's list, else why the protocol is skipped."""
    r = ctx.request("GET", "/v1/models")
    if r.status_code in (401, 403):
        raise Failure(f"GET /v1/models: {describe(r)}; give the API key (--api-key)")
    try:
        body = r.json()
    except ValueError:
        body = None
    if r.status_code == 200 and isinstance(body, dict) and body.get("object") == "list":
        return None
    return f"GET /v1/models is not OpenAI's model list: {describe(r)}"


def _listed(ctx: Context) -> list[dict]:
    def fetch():
        body = ok_json(ctx.request("GET", "/v1/models"), "GET /v1/models")
        return [m for m in body.get("data", []) if isinstance(m, dict)]

    return ctx.remember("openai.models", fetch)


def _pick(ctx: Context, given: str | None, kind: str, option: str) -> str:
    if given:
        return given
    listed = _listed(ctx)
    of_kind = [m["id"] for m in listed if m.get("kind") == kind]
    if of_kind:
        return of_kind[0]
    if any("kind" in m for m in listed) or not listed:
        raise Skip(f"the server lists no {kind} model ({option} NAME names one)")
    return listed[0]["id"]


def llm(ctx: Context) -> str:
    return _pick(ctx, ctx.llm, "generation", "--llm")


def completion_body(ctx: Context, **extra) -> dict:
    return {"model": llm(ctx), "prompt": PROMPT, "max_tokens": MAX_TOKENS, "temperature": 0, **extra}


def chat_body(ctx: Context, **extra) -> dict:
    return {"model": llm(ctx), "messages": MESSAGES, "max_tokens": MAX_TOKENS, "temperature": 0, **extra}


def _usage(usage, what: str) -> dict:
    expect(
        isinstance(usage, dict)
        and all(
            isinstance(usage.get(k), int) for k in ("prompt_tokens", "completion_tokens", "total_tokens")
        ),
        f"{what}: usage must have integer prompt_tokens, completion_tokens, total_tokens, got {usage!r}",
    )
    expect(
        usage["prompt_tokens"] > 0
        and usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"],
        f"{what}: usage total_tokens must be prompt_tokens + completion_tokens (prompt > 0), got {usage}",
    )
    return usage


def _reply(ctx: Context, route: str, body: dict, what: str) -> dict:
    reply = ok_json(ctx.request("POST", route, body), what)
    chat = route.endswith("chat/completions")
    reply_object = "chat.completion" if chat else "text_completion"
    expect(
        isinstance(reply, dict)
        and reply.get("object") == reply_object
        and isinstance(reply.get("id"), str)
        and isinstance(reply.get("created"), int)
        and isinstance(reply.get("choices"), list),
        f"{what}: expected object {reply_object!r} with id, created, choices, got {str(reply)[:160]}",
    )
    usage = _usage(reply.get("usage"), what)
    expect(
        usage["completion_tokens"] <= body["max_tokens"] * body.get("n", 1),
        f"{what}: {usage['completion_tokens']} completion tokens for max_tokens={body['max_tokens']}",
    )
    for i, choice in enumerate(reply["choices"]):
        expect(choice.get("index") == i, f"{what}: choice {i} has index {choice.get('index')!r}")
        expect(
            choice.get("finish_reason") in ("stop", "length"),
            f"{what}: finish_reason must be 'stop' or 'length', got {choice.get('finish_reason')!r}",
        )
        if chat:
            message = choice.get("message") or {}
            expect(
                message.get("role") == "assistant" and isinstance(message.get("content"), str),
                f"{what}: message must be {{role: 'assistant', content: str}}, got {message!r}",
            )
        else:
            expect(isinstance(choice.get("text"), str), f"{what}: choice text must be a string")
    return reply


def completion(ctx: Context) -> dict:
    """The non-streamed temperature-0 completion (kept to compare the stream and later answers with)."""
    return ctx.remember(
        "openai.completion",
        lambda: _reply(ctx, "/v1/completions", completion_body(ctx), "POST /v1/completions"),
    )


def chat(ctx: Context) -> dict:
    return ctx.remember(
        "openai.chat",
        lambda: _reply(ctx, "/v1/chat/completions", chat_body(ctx), "POST /v1/chat/completions"),
    )


def sse_events(ctx: Context, route: str, body: dict, what: str) -> list:
    """The stream's JSON chunks, after checking its framing: content type, ``data:`` events, [DONE] last."""
    r = ctx.request("POST", route, body)
    expect(r.status_code == 200, f"{what}: expected 200, got {describe(r)}")
    expect(
        r.headers.get("content-type", "").startswith("text/event-stream"),
        f"{what}: content-type must be text/event-stream, got {r.headers.get('content-type')!r}",
    )
    events = [e for e in r.text.replace("\r\n", "\n").split("\n\n") if e.strip()]
    payloads = []
    for event in events:
        data = [line[5:].lstrip(" ") for line in event.split("\n") if line.startswith("data:")]
        expect(len(data) == 1, f"{what}: every event must be one 'data: ...' line, got {event[:80]!r}")
        payloads.append(data[0])
    expect(
        payloads and payloads[-1] == "[DONE]",
        f"{what}: the stream must end with 'data: [DONE]', its last "
        f"event is {payloads[-1][:80] if payloads else None!r}",
    )
    expect(payloads.count("[DONE]") == 1, f"{what}: 'data: [DONE]' must come once, at the end")
    try:
        chunks = [json.loads(p) for p in payloads[:-1]]
    except ValueError as err:
        raise Failure(f"{what}: an event before [DONE] is not JSON ({err})") from None
    expect(chunks and len({c.get("id") for c in chunks}) == 1, f"{what}: every chunk must carry the same id")
    return chunks


def _streamed(ctx: Context, chunks: list, what: str, chat: bool) -> tuple[str, str]:
    """The text of choice 0 and its finish_reason, checking one finish_reason on its last chunk."""
    mine = [c["choices"][0] for c in chunks if c.get("choices")]
    expect(
        mine and all(ch.get("index") == 0 for ch in mine), f"{what}: every chunk's choice must have index 0"
    )
    finishes = [i for i, ch in enumerate(mine) if ch.get("finish_reason") is not None]
    expect(
        finishes == [len(mine) - 1],
        f"{what}: finish_reason must be set once, on the last chunk of the choice "
        f"(set on chunks {finishes} of {len(mine)})",
    )
    if chat:
        expect(
            mine[0].get("delta", {}).get("role") == "assistant",
            f"{what}: the first delta must carry role 'assistant', got {mine[0].get('delta')!r}",
        )
        text = "".join(ch.get("delta", {}).get("content") or "" for ch in mine)
    else:
        text = "".join(ch.get("text") or "" for ch in mine)
    return text, mine[-1]["finish_reason"]


@check(
    "openai.models",
    "GET /v1/models: {object: list, data: [{id, object: model, created, owned_by}]} "
    "(reference; vLLM test_models.py)",
)
def models(ctx: Context) -> str:
    body = ok_json(ctx.request("GET", "/v1/models"), "GET /v1/models")
    data = body.get("data") if isinstance(body, dict) else None
    expect(
        body.get("object") == "list" and isinstance(data, list),
        f"GET /v1/models: expected {{object: 'list', data: [...]}}, got {str(body)[:120]}",
    )
    for m in data:
        expect(
            isinstance(m, dict)
            and isinstance(m.get("id"), str)
            and m.get("object") == "model"
            and isinstance(m.get("created"), int)
            and isinstance(m.get("owned_by"), str),
            f"GET /v1/models: each model needs id, object 'model', created (int), owned_by: {str(m)[:90]}",
        )
    return f"{len(data)} models: {[m['id'] for m in data]}"


@check("openai.models_retrieve", "GET /v1/models/{id}: {id, object: model, created, owned_by} (reference)")
def models_retrieve(ctx: Context) -> str:
    listed = _listed(ctx)
    if not listed:
        raise Skip("the server lists no models")
    name = listed[0]["id"]
    body = ok_json(ctx.request("GET", f"/v1/models/{name}"), f"GET /v1/models/{name}")
    expect(
        isinstance(body, dict)
        and body.get("id") == name
        and body.get("object") == "model"
        and isinstance(body.get("created"), int)
        and isinstance(body.get("owned_by"), str),
        f"GET /v1/models/{name}: expected {{id: {name!r}, object: 'model', created, owned_by}}, "
        f"got {str(body)[:160]}",
    )
    return f"{name}: object model"


@check(
    "openai.completion",
    "POST /v1/completions: text_completion, usage totals, finish_reason vs max_tokens "
    "(vLLM test_single_completion)",
)
def completion_check(ctx: Context) -> str:
    reply = completion(ctx)
    expect(
        len(reply["choices"]) == 1,
        f"POST /v1/completions: n=1 must give one choice, got {len(reply['choices'])}",
    )
    choice, usage = reply["choices"][0], reply["usage"]
    if choice["finish_reason"] == "length":
        expect(
            usage["completion_tokens"] == MAX_TOKENS,
            f"POST /v1/completions: finish_reason 'length' but "
            f"{usage['completion_tokens']} tokens of max_tokens={MAX_TOKENS}",
        )
    return f"{choice['text']!r} ({choice['finish_reason']}), usage {usage}"


@check("openai.completion_n", "n=2: choices 0 and 1, the prompt counted once (vLLM test_batch_completions)")
def completion_n(ctx: Context) -> str:
    what = "POST /v1/completions n=2"
    reply = _reply(ctx, "/v1/completions", completion_body(ctx, n=2, temperature=1.0, seed=0), what)
    expect(len(reply["choices"]) == 2, f"{what}: expected 2 choices, got {len(reply['choices'])}")
    single = completion(ctx)["usage"]["prompt_tokens"]
    expect(
        reply["usage"]["prompt_tokens"] == single,
        f"{what}: prompt_tokens {reply['usage']['prompt_tokens']}, "
        f"with n=1 {single}: the prompt is counted once",
    )
    if all(c["finish_reason"] == "length" for c in reply["choices"]):
        expect(
            reply["usage"]["completion_tokens"] == 2 * MAX_TOKENS,
            f"{what}: both choices hit max_tokens={MAX_TOKENS} but completion_tokens is "
            f"{reply['usage']['completion_tokens']}",
        )
    return f"2 choices, usage {reply['usage']}"


@check(
    "openai.completion_logprobs",
    "logprobs=2: tokens, token_logprobs <= 0, 2-3 top_logprobs, text_offset, "
    "one per token (vLLM test_completion.py)",
)
def completion_logprobs(ctx: Context) -> str:
    what = "POST /v1/completions logprobs=2"
    reply = _reply(ctx, "/v1/completions", completion_body(ctx, logprobs=2), what)
    choice, count = reply["choices"][0], reply["usage"]["completion_tokens"]
    lp = choice.get("logprobs")
    expect(
        isinstance(lp, dict)
        and all(
            isinstance(lp.get(k), list) for k in ("tokens", "token_logprobs", "top_logprobs", "text_offset")
        ),
        f"{what}: logprobs must have lists tokens, token_logprobs, top_logprobs, text_offset, "
        f"got {str(lp)[:120]}",
    )
    expect(
        all(len(lp[k]) == count for k in ("tokens", "token_logprobs", "top_logprobs", "text_offset")),
        f"{what}: {count} completion tokens but {[len(lp[k]) for k in ('tokens', 'token_logprobs')]} entries",
    )
    expect(
        "".join(lp["tokens"]) == choice["text"],
        f"{what}: the tokens joined {''.join(lp['tokens'])!r} are not the text {choice['text']!r}",
    )
    expect(
        all(isinstance(x, (int, float)) and x <= 0 for x in lp["token_logprobs"]),
        f"{what}: token_logprobs must be numbers <= 0, got {lp['token_logprobs']}",
    )
    expect(
        all(isinstance(t, dict) and 2 <= len(t) <= 3 for t in lp["top_logprobs"]),
        f"{what}: each top_logprobs must hold 2 (or 3, with the sampled token) entries, "
        f"got {lp['top_logprobs']}",
    )
    expect(lp["text_offset"] == sorted(lp["text_offset"]), f"{what}: text_offset must not decrease")
    return f"{count} tokens with logprobs"


@check(
    "openai.chat",
    "POST /v1/chat/completions: chat.completion, assistant message, usage totals "
    "(vLLM test_single_chat_session)",
)
def chat_check(ctx: Context) -> str:
    reply = chat(ctx)
    expect(
        len(reply["choices"]) == 1,
        f"POST /v1/chat/completions: expected one choice, got {len(reply['choices'])}",
    )
    return f"{reply['choices'][0]['message']['content']!r}, usage {reply['usage']}"


@check(
    "openai.chat_logprobs",
    "logprobs + top_logprobs=2: content entries {token, logprob <= 0, 2 top_logprobs} "
    "(vLLM test_single_chat_session)",
)
def chat_logprobs(ctx: Context) -> str:
    what = "POST /v1/chat/completions logprobs"
    reply = _reply(ctx, "/v1/chat/completions", chat_body(ctx, logprobs=True, top_logprobs=2), what)
    lp = reply["choices"][0].get("logprobs")
    content = lp.get("content") if isinstance(lp, dict) else None
    expect(
        isinstance(content, list) and content,
        f"{what}: logprobs.content must be a non-empty list, got {lp!r}",
    )
    expect(
        len(content) <= reply["usage"]["completion_tokens"],
        f"{what}: {len(content)} logprobs for {reply['usage']['completion_tokens']} tokens",
    )
    for e in content:
        expect(
            isinstance(e, dict)
            and isinstance(e.get("token"), str)
            and isinstance(e.get("logprob"), (int, float))
            and e["logprob"] <= 0
            and isinstance(e.get("top_logprobs"), list)
            and len(e["top_logprobs"]) == 2,
            f"{what}: each entry needs token, logprob <= 0 and 2 top_logprobs, got {str(e)[:120]}",
        )
    return f"{len(content)} tokens with 2 alternatives each"


@check(
    "openai.stream_completion",
    "stream: SSE framing, [DONE] last, one finish_reason, text = non-streamed at "
    "temperature 0 (vLLM test_completion_streaming)",
)
def stream_completion(ctx: Context) -> str:
    what = "POST /v1/completions stream"
    chunks = sse_events(ctx, "/v1/completions", completion_body(ctx, stream=True), what)
    expect(
        all(c.get("object") == "text_completion" for c in chunks), f"{what}: chunks must be text_completion"
    )
    text, finish = _streamed(ctx, chunks, what, chat=False)
    single = completion(ctx)["choices"][0]
    expect(
        text == single["text"] and finish == single["finish_reason"],
        f"{what}: streamed {text!r} ({finish}), not streamed {single['text']!r} ({single['finish_reason']})",
    )
    return f"{len(chunks)} chunks + [DONE], same text"


@check(
    "openai.stream_chat",
    "chat stream: chunks, role first, [DONE], content = non-streamed at temperature 0 "
    "(vLLM test_chat_streaming)",
)
def stream_chat(ctx: Context) -> str:
    what = "POST /v1/chat/completions stream"
    chunks = sse_events(ctx, "/v1/chat/completions", chat_body(ctx, stream=True), what)
    expect(
        all(c.get("object") == "chat.completion.chunk" for c in chunks),
        f"{what}: chunks must be chat.completion.chunk",
    )
    text, finish = _streamed(ctx, chunks, what, chat=True)
    single = chat(ctx)["choices"][0]
    expect(
        text == single["message"]["content"] and finish == single["finish_reason"],
        f"{what}: streamed {text!r} ({finish}), not streamed {single['message']['content']!r} "
        f"({single['finish_reason']})",
    )
    return f"{len(chunks)} chunks + [DONE], same content"


@check(
    "openai.stream_usage",
    "include_usage: usage null on each chunk, a last chunk with no choices and the usage; "
    "400 without stream (vLLM test_completion_stream_options)",
)
def stream_usage(ctx: Context) -> str:
    what = "POST /v1/completions stream include_usage"
    options = {"include_usage": True}
    chunks = sse_events(
        ctx, "/v1/completions", completion_body(ctx, stream=True, stream_options=options), what
    )
    last = chunks[-1]
    expect(
        last.get("choices") == [],
        f"{what}: the last chunk before [DONE] must have empty choices, got {str(last)[:120]}",
    )
    expect(
        all(c.get("usage") is None for c in chunks[:-1]),
        f"{what}: the chunks before the last must have usage null",
    )
    usage = _usage(last.get("usage"), what)
    expect(
        usage == completion(ctx)["usage"],
        f"{what}: usage {usage} differs from the non-streamed {completion(ctx)['usage']}",
    )
    bad = ctx.request("POST", "/v1/completions", completion_body(ctx, stream_options=options))
    openai_error(bad, "POST /v1/completions stream_options without stream", (400,))
    return f"usage {usage}; without stream 400"


@check(
    "openai.embeddings",
    "POST /v1/embeddings: two embedding objects, usage, base64 = float (vLLM test_embedding.py)",
)
def embeddings(ctx: Context) -> str:
    model, what = _pick(ctx, ctx.embedding_model, "embedding", "--embedding-model"), "POST /v1/embeddings"
    answer = ctx.request("POST", "/v1/embeddings", {"model": model, "input": TEXTS})
    guessed = not ctx.embedding_model and not any("kind" in m for m in _listed(ctx))
    if guessed and answer.status_code in (400, 404):  # the only model listed, of unknown kind, may not embed
        raise Skip(
            f"{model!r} (the first model listed) does not embed: {describe(answer)}; "
            "--embedding-model NAME names one"
        )
    body = ok_json(answer, what)
    data = body.get("data") if isinstance(body, dict) else None
    expect(
        body.get("object") == "list" and isinstance(data, list) and len(data) == 2,
        f"{what}: expected {{object: 'list', data: [2 embeddings]}}, got {str(body)[:120]}",
    )
    for i, e in enumerate(data):
        expect(
            e.get("object") == "embedding"
            and e.get("index") == i
            and isinstance(e.get("embedding"), list)
            and e["embedding"]
            and all(isinstance(x, (int, float)) for x in e["embedding"]),
            f"{what}: data[{i}] must be {{object: 'embedding', index: {i}, embedding: [numbers]}}",
        )
    expect(len(data[0]["embedding"]) == len(data[1]["embedding"]), f"{what}: embeddings of different lengths")
    usage = body.get("usage")
    expect(
        isinstance(usage, dict)
        and isinstance(usage.get("prompt_tokens"), int)
        and usage["prompt_tokens"] > 0
        and usage.get("total_tokens") == usage["prompt_tokens"],
        f"{what}: usage must have prompt_tokens > 0 and total_tokens = prompt_tokens, got {usage!r}",
    )
    b64 = ok_json(
        ctx.request("POST", "/v1/embeddings", {"model": model, "input": TEXTS, "encoding_format": "base64"}),
        what + " base64",
    )
    try:
        raw = base64.b64decode(b64["data"][0]["embedding"])
        decoded = list(struct.unpack(f"<{len(raw) // 4}f", raw))
    except (KeyError, TypeError, IndexError, ValueError, struct.error):
        raise Failure(f"{what} base64: data[0].embedding is not base64 of float32 values") from None
    expect(
        close(decoded, data[0]["embedding"], 1e-5), f"{what}: the base64 vector differs from the float one"
    )
    return f"{model}: 2 x {len(data[0]['embedding'])} values, usage {usage}"


@check(
    "openai.error_shape",
    "temperature -1: 400; unknown model: 404; broken JSON: 400; OpenAI's error object "
    "(reference; vLLM ErrorResponse)",
)
def error_shape(ctx: Context) -> str:
    openai_error(
        ctx.request("POST", "/v1/completions", completion_body(ctx, temperature=-1)),
        "POST /v1/completions temperature=-1",
        (400,),
    )
    openai_error(
        ctx.request("POST", "/v1/completions", {**completion_body(ctx), "model": UNKNOWN_MODEL}),
        f"POST /v1/completions model={UNKNOWN_MODEL!r}",
        (404,),
    )
    openai_error(
        ctx.request("POST", "/v1/chat/completions", content=b'{"messages": ['),
        "POST /v1/chat/completions with broken JSON",
        (400,),
    )
    return "400, 404, 400 in OpenAI's error shape"


@check(
    "openai.alive_after_errors",
    "after the bad requests the same temperature-0 completion answers the same text",
)
def alive_after_errors(ctx: Context) -> str:
    before = completion(ctx)["choices"][0]["text"]
    r = ctx.request("POST", "/v1/completions", completion_body(ctx))
    after = ok_json(r, "POST /v1/completions after the bad requests")
    text = body_json(r, "").get("choices", [{}])[0].get("text") if isinstance(after, dict) else None
    expect(text == before, f"POST /v1/completions after the bad requests: {text!r}, before {before!r}")
    return "200, same text"


@check(
    "openai.auth", "no key / a wrong key: 401 in OpenAI's error shape; the right key: 200", needs=("api_key",)
)
def auth_check(ctx: Context) -> str:
    return auth(ctx, "GET", "/v1/models", None, openai_error)


@check(
    "openai.body_limit",
    "a valid body of exactly max_body_bytes is served; one byte more: 413 in OpenAI's shape",
    needs=("max_body_bytes",),
)
def body_limit_check(ctx: Context) -> str:
    return body_limit(ctx, "/v1/completions", completion_body(ctx, max_tokens=1), openai_error)
