"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

OpenAI-compatible routes over the registry's language and embedding models.

==============================  ===================================================================================
route                           what
==============================  ===================================================================================
``GET  /v1/models``             the served ``generation`` and ``embedding`` models (``{"object": "list", ...}``)
``POST /v1/completions``        ``prompt`` (text, list of texts, token ids) → ``text_completion``
``POST /v1/chat/completions``   ``messages`` through :func:`~aiaas_lib.generation.chat_prompt` → ``chat.completion``
``POST /v1/embeddings``         ``input`` (text or list of texts) → unit vectors, ``encoding_format`` float or base64
==============================  ===================================================================================

Both generation routes take ``max_tokens``, ``temperature``, ``top_p``, ``n``, ``stop``, ``stream``,
``stream_options.include_usage``, ``frequency_penalty``, ``presence_penalty``, ``logprobs``, ``seed`` and
``user`` (accepted, not recorded); completions also ``echo``, chat also ``top_logprobs`` and
``max_completion_tokens``; ``top_k`` is an extension (as in vLLM). Any other field is refused with 400
naming it (``code: "unsupported_parameter"``) rather than silently ignored; ``null`` counts as absent.

- **Usage**: ``prompt_tokens`` counts the tokens the model actually read (characters of the prompt, after
  the chat template, after left truncation to ``context - max_tokens``), once per prompt whatever ``n``;
  ``completion_tokens`` every sampled token of every choice (a stop sequence's tokens included, as billed).
- **Context**: prompt and reply must fit the model's ``context`` (64 characters for the fast-mode
  ``tiny-gpt``, 256 in full mode): ``max_tokens`` may be at most ``context - 1``, and the prompt keeps its
  last ``context - max_tokens`` tokens. Completions default to ``max_tokens=16`` (as OpenAI's); chat
  defaults to the rest of the context after the prompt, but at least a quarter of it.
- **finish_reason**: ``"stop"`` (a stop sequence; in chat also the start of a new turn, :data:`CHAT_STOP`)
  or ``"length"`` (``max_tokens``); ``null`` in the intermediate chunks of a stream.
- **Streaming** (``stream: true``): server-sent events, one JSON chunk per piece of text (``text_completion``
  or ``chat.completion.chunk``), a last chunk per choice with its ``finish_reason``, with
  ``include_usage`` a final chunk with empty ``choices`` and the ``usage``, then ``data: [DONE]``. Tokens
  are generated in a worker thread one at a time, so the event loop keeps serving other requests.
- **Randomness**: one ``numpy.random.default_rng(seed)`` per request, drawn prompt by prompt and choice by
  choice; the same seed and body give the same choices.
- **Errors**: OpenAI's shape ``{"error": {"message", "type", "param", "code"}}``: 400 out-of-range or
  unsupported values (``param`` names them), 401 (``invalid_api_key``), 404 (``model_not_found``),
  429, 503 (still loading). API keys and rate limits are the service's own (:func:`.security.require_client`).
- **Limits**: ``n`` ≤ :data:`MAX_N`, at most :data:`MAX_PROMPTS` prompts per completion request, and at most
  ``max_instances`` texts per embeddings request.

``GET /v1/models/{model}`` (OpenAI's "retrieve model") shares its path with TF Serving's model status: that
route (:func:`.tfserving.model_status`) answers one body with both protocols' keys (:func:`model_object`
gives OpenAI's), so the official ``openai`` client and TF Serving clients both read what they expect.

The runtimes of these models (:class:`~.text_runtime.GenerationRuntime`, :class:`~.text_runtime.EmbeddingRuntime`)
live in :mod:`.text_runtime`.
"""
from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

import numpy as np
from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from aiaas_lib.generation.params import GenerationParamError, check_int, check_seed, check_stop
from aiaas_lib.generation.tokenizer import CHAT_ROLES, CHAT_STOP, chat_prompt
from aiaas_lib.serving.errors import OpenAIError, ServiceError
from aiaas_lib.serving.security import read_json, require_client
from aiaas_lib.serving.service import Service, get_service
from aiaas_lib.serving.text_runtime import TEXT_KINDS, EmbeddingRuntime, GenerationRuntime, load_text_runtime

router = APIRouter(dependencies=[Depends(require_client)], tags=["OpenAI-compatible"])
ServiceDep = Annotated[Service, Depends(get_service)]

MAX_N = 8
MAX_PROMPTS = 16
MAX_COMPLETION_LOGPROBS = 5
_SAMPLING = {"model", "max_tokens", "temperature", "top_p", "top_k", "n", "stop", "stream", "stream_options",
             "frequency_penalty", "presence_penalty", "logprobs", "seed", "user"}
COMPLETION_FIELDS = frozenset(_SAMPLING | {"prompt", "echo"})
CHAT_FIELDS = frozenset(_SAMPLING | {"messages", "top_logprobs", "max_completion_tokens"})
EMBEDDING_FIELDS = frozenset({"model", "input", "encoding_format", "dimensions", "user"})


# ------------------------------------------------------------------------------------ request checks
def _bad(message: str, param: str | None, code: str | None = None) -> OpenAIError:
    return OpenAIError(400, message, param=param, code=code)


def _check_fields(body, allowed: frozenset, route: str) -> dict:
    """The body as a dict without ``null`` fields; 400 naming the first field this route does not support."""
    if not isinstance(body, dict):
        raise _bad(f"request body must be a JSON object, got {type(body).__name__}", None)
    unsupported = sorted(k for k, v in body.items() if k not in allowed and v is not None)
    if unsupported:
        raise _bad(f"{unsupported[0]!r} is not supported by {route} on this service (unsupported fields: "
                   f"{unsupported}); supported: {sorted(allowed)}", unsupported[0], "unsupported_parameter")
    body = {k: (_integral(v) if k in INTEGER_FIELDS else v) for k, v in body.items() if v is not None}
    if "user" in body and not isinstance(body["user"], str):
        raise _bad(f"user={body['user']!r} must be a string (an id of your end user)", "user")
    return body


#: Fields that take an integer: JSON's 8.0 is the integer 8 there (as JSON Schema's "integer" says).
INTEGER_FIELDS = frozenset({"n", "max_tokens", "max_completion_tokens", "top_k", "seed", "logprobs",
                            "top_logprobs", "dimensions"})


def _integral(value):
    """``value`` as an int when it is a float with no fractional part (``8.0`` → ``8``), else unchanged.

    Examples
    --------
    >>> _integral(8.0), _integral(8.5), _integral(True), _integral([1.0, 2])
    (8, 8.5, True, [1, 2])
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                 for v in value):
        return [_integral(v) for v in value]
    return value


def _bool(body: dict, field: str, default: bool = False) -> bool:
    value = body.get(field, default)
    if not isinstance(value, bool):
        raise _bad(f"{field}={value!r} must be true or false", field)
    return value


def _runtime(svc: Service, body: dict, kind: str):
    """The served model named by ``model``: 404 ``model_not_found``, 400 wrong kind, 503 loading."""
    name = body.get("model")
    if not isinstance(name, str) or not name:
        raise _bad("'model' is required: the name of a served model (see GET /v1/models)", "model")
    if name not in svc.entries:
        raise OpenAIError(404, f"The model {name!r} does not exist or is not served; served models: "
                               f"{sorted(svc.entries)}", param="model", code="model_not_found")
    try:
        return svc.runtime(name, kinds=(kind,))
    except OpenAIError:
        raise
    except ServiceError as err:
        raise OpenAIError(err.status, err.message, param="model",
                          code="model_not_supported" if err.status == 400 else None, headers=err.headers) from None


def _include_usage(body: dict, stream: bool) -> bool:
    options = body.get("stream_options")
    if options is None:
        return False
    if not stream:
        raise _bad("stream_options is only allowed with stream=true", "stream_options")
    if not isinstance(options, dict) or set(options) - {"include_usage"}:
        raise _bad(f"stream_options={options!r}; supported: {{'include_usage': true|false}}", "stream_options",
                   "unsupported_parameter")
    value = options.get("include_usage", False)
    if not isinstance(value, bool):
        raise _bad(f"stream_options.include_usage={value!r} must be true or false", "stream_options.include_usage")
    return value


def _sampling(body: dict, rt: GenerationRuntime, max_tokens) -> dict:
    """Checked keyword arguments for :func:`~aiaas_lib.generation.stream` (400 naming the bad one)."""
    from aiaas_lib.generation.params import SamplingParams, check_max_tokens

    params = SamplingParams(temperature=body.get("temperature", 1.0), top_p=body.get("top_p", 1.0),
                            top_k=body.get("top_k", 0), frequency_penalty=body.get("frequency_penalty", 0.0),
                            presence_penalty=body.get("presence_penalty", 0.0))
    return dict(max_tokens=check_max_tokens(max_tokens, rt.context), temperature=params.temperature,
                top_p=params.top_p, top_k=params.top_k, frequency_penalty=params.frequency_penalty,
                presence_penalty=params.presence_penalty, stop=check_stop(body.get("stop")) or None)


def _prompts(value, rt: GenerationRuntime) -> list:
    """``prompt`` as a list of prompts (texts or token-id lists)."""
    def ids_ok(x):
        return isinstance(x, list) and x and all(isinstance(i, int) and not isinstance(i, bool) for i in x)

    if isinstance(value, list):  # token ids may come as 3.0 (an integer in JSON)
        value = [_integral(p) for p in value] if any(isinstance(p, list) for p in value) else _integral(value)
    if isinstance(value, str):
        prompts = [value]
    elif ids_ok(value):
        prompts = [value]
    elif isinstance(value, list) and value and all(isinstance(p, str) or ids_ok(p) for p in value):
        prompts = list(value)
    else:
        raise _bad("prompt must be a string, a list of strings, a list of token ids or a list of such lists; "
                   f"got {type(value).__name__}{' (empty)' if value in ([], '') else ''}", "prompt")
    if len(prompts) > MAX_PROMPTS:
        raise _bad(f"prompt holds {len(prompts)} prompts; at most {MAX_PROMPTS} per request", "prompt")
    if any(p == "" for p in prompts):
        raise _bad("prompt is empty; it must hold at least one character (the model has no start token)",
                   "prompt")
    for p in prompts:
        if isinstance(p, list) and (min(p) < 0 or max(p) >= rt.tokenizer.vocab_size):
            raise _bad(f"prompt token ids must be in [0, {rt.tokenizer.vocab_size - 1}]", "prompt")
    return prompts


def _chat_messages(value) -> str:
    """``messages`` through the chat template (400 naming the bad message)."""
    if not isinstance(value, list) or not value:
        raise _bad("messages must be a non-empty list of {'role', 'content'} objects", "messages")
    plain = []
    for i, message in enumerate(value):
        if not isinstance(message, dict):
            raise _bad(f"messages[{i}] must be an object with 'role' and 'content'", f"messages[{i}]")
        extra = sorted(k for k, v in message.items() if k not in ("role", "content") and v is not None)
        if extra:
            raise _bad(f"messages[{i}].{extra[0]} is not supported; a message has 'role' and 'content'",
                       f"messages[{i}].{extra[0]}", "unsupported_parameter")
        role, content = message.get("role"), message.get("content")
        if role not in CHAT_ROLES:
            raise _bad(f"messages[{i}].role={role!r}; expected one of {list(CHAT_ROLES)}", f"messages[{i}].role")
        if isinstance(content, list):  # content parts: text only
            if not all(isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
                       and set(p) == {"type", "text"} for p in content):
                raise _bad(f"messages[{i}].content parts must all be {{'type': 'text', 'text': str}}; "
                           "this model reads text only", f"messages[{i}].content")
            content = "".join(p["text"] for p in content)
        if not isinstance(content, str):
            raise _bad(f"messages[{i}].content must be a string; got {type(content).__name__}",
                       f"messages[{i}].content")
        plain.append({"role": role, "content": content})
    return chat_prompt(plain)


# ------------------------------------------------------------------------------------------ decoding
def _chat_stops(events: Iterator, stops: tuple[str, ...]) -> Iterator:
    """Apply the chat template's turn markers on top of a stream's released text: end with ``"stop"``
    where one starts, never releasing part of one. Yields ``(event, text, finish_reason)``."""
    from aiaas_lib.generation.decoding import _held_back

    text, released = "", 0
    for event in events:
        text += event.text
        finish, end = event.finish_reason, len(text)
        hits = [j for s in stops if (j := text.find(s)) >= 0]
        if hits:
            finish, end = "stop", min(hits)
        elif finish is None:
            end = len(text) - _held_back(text, stops)
        piece, released = text[released:end], max(released, end)
        yield event, piece, finish
        if finish is not None:
            return


def _choice_events(rt: GenerationRuntime, prompt, kwargs: dict, rng, chat: bool, logprobs: bool, top: int):
    """One choice's stream: ``(TokenStream, iterator of (event, text, finish_reason))``."""
    from aiaas_lib.generation import stream

    tokens = stream(rt.engine, np.asarray(prompt) if isinstance(prompt, list) else prompt,
                    tokenizer=rt.tokenizer, rng=rng, logprobs=logprobs, top_logprobs=top, **kwargs)
    if chat:
        return tokens, _chat_stops(tokens, CHAT_STOP)
    return tokens, ((e, e.text, e.finish_reason) for e in tokens)


def _completion_logprobs(items: list, offset: int) -> dict:
    """Legacy completions ``logprobs``: tokens, token_logprobs, top_logprobs, text_offset."""
    offsets, at = [], offset
    for item in items:
        offsets.append(at)
        at += len(item.text)
    return {"tokens": [i.text for i in items], "token_logprobs": [i.logprob for i in items],
            "top_logprobs": [{text: lp for _, text, lp in i.top} for i in items], "text_offset": offsets}


def _chat_logprobs(items: list) -> dict:
    """Chat ``logprobs``: ``{"content": [{token, logprob, bytes, top_logprobs}]}``."""
    def entry(text, lp):
        return {"token": text, "logprob": lp, "bytes": list(text.encode("utf-8"))}

    return {"content": [{**entry(i.text, i.logprob), "top_logprobs": [entry(t, lp) for _, t, lp in i.top]}
                        for i in items]}


class _Request:
    """A checked generation request: the prompts, sampling arguments and response options."""

    def __init__(self, rt, body: dict, chat: bool):
        self.rt, self.chat = rt, chat
        self.n = check_int("n", body.get("n", 1), 1, MAX_N)
        self.seed = check_seed(body.get("seed"))
        self.stream = _bool(body, "stream")
        self.include_usage = _include_usage(body, self.stream)
        if chat:
            if "max_tokens" in body and "max_completion_tokens" in body:
                raise _bad("give max_tokens or max_completion_tokens, not both", "max_completion_tokens")
            max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
            self.logprobs = _bool(body, "logprobs")
            from aiaas_lib.generation.params import check_top_logprobs

            self.top = check_top_logprobs(body.get("top_logprobs", 0))
            if self.top and not self.logprobs:
                raise _bad(f"top_logprobs={self.top} needs logprobs=true", "top_logprobs")
            self.echo = False
            self.prompts = [_chat_messages(body.get("messages"))]
            if max_tokens is None:
                max_tokens = rt.chat_max_tokens(len(rt.tokenizer.encode(self.prompts[0])))
        else:
            max_tokens = body.get("max_tokens", 16)
            value = body.get("logprobs")
            self.logprobs = value is not None
            self.top = 0 if value is None else check_int("logprobs", value, 0, MAX_COMPLETION_LOGPROBS)
            self.echo = _bool(body, "echo")
            if self.echo and self.logprobs:
                raise _bad("echo together with logprobs is not supported (prompt log-probabilities are not "
                           "computed); drop one of them", "echo", "unsupported_parameter")
            if "prompt" not in body:
                raise _bad("'prompt' is required", "prompt")
            self.prompts = _prompts(body["prompt"], rt)
        try:
            self.kwargs = _sampling(body, rt, max_tokens)
        except GenerationParamError as err:
            if err.param == "max_tokens" and "max_completion_tokens" in body:  # name the field the client sent
                raise GenerationParamError("max_completion_tokens", str(err).replace(
                    "max_tokens=", "max_completion_tokens=")) from None
            raise
        self.model = body["model"]
        self.id = ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex[:24]
        self.created = int(time.time())
        self.object = "chat.completion" if chat else "text_completion"
        self.rng = np.random.default_rng(self.seed)

    def prompt_text(self, prompt) -> str:
        return self.rt.tokenizer.decode(prompt) if isinstance(prompt, list) else prompt

    def choices(self) -> Iterator[tuple[int, Any, Iterator]]:
        """``(index, prompt, TokenStream, events)`` for every prompt × n, in order (each starts when reached)."""
        index = 0
        for prompt in self.prompts:
            for _ in range(self.n):
                tokens, events = _choice_events(self.rt, prompt, self.kwargs, self.rng, self.chat, self.logprobs,
                                                self.top)
                yield index, prompt, tokens, events
                index += 1

    def head(self) -> dict:
        return {"id": self.id, "object": self.object, "created": self.created, "model": self.model,
                "system_fingerprint": f"aiaas-{self.rt.name}-v{self.rt.version}"}


def _usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def _complete(req: _Request) -> dict:
    """The whole (non-streamed) response (blocking: run in a worker thread)."""
    choices, prompt_tokens, completion_tokens, counted = [], 0, 0, set()
    for index, prompt, tokens, events in req.choices():
        parts, items, finish = [], [], None
        for event, text, finish in events:
            parts.append(text)
            completion_tokens += 1
            if event.logprob is not None:
                items.append(event.logprob)
        if index // req.n not in counted:  # the prompt once, whatever n
            counted.add(index // req.n)
            prompt_tokens += tokens.prompt_tokens
        text = "".join(parts)
        if req.chat:
            choices.append({"index": index, "message": {"role": "assistant", "content": text},
                            "logprobs": _chat_logprobs(items) if req.logprobs else None, "finish_reason": finish})
        else:
            lead = req.prompt_text(prompt) if req.echo else ""
            choices.append({"index": index, "text": lead + text, "finish_reason": finish,
                            "logprobs": _completion_logprobs(items, len(lead)) if req.logprobs else None})
    return {**req.head(), "choices": choices, "usage": _usage(prompt_tokens, completion_tokens)}


def _sse(data) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, separators=(',', ':'))}\n\n"


async def _stream_events(req: _Request):
    """Server-sent events of a streamed response; each token is generated in a worker thread."""
    def chunk(index, text=None, finish=None, logprobs=None, role=False):
        if req.chat:
            delta = {"role": "assistant", "content": ""} if role else ({} if text is None else {"content": text})
            choice = {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
            body = {**req.head(), "object": "chat.completion.chunk", "choices": [choice]}
        else:
            choice = {"index": index, "text": text or "", "logprobs": logprobs, "finish_reason": finish}
            body = {**req.head(), "choices": [choice]}
        if req.include_usage:
            body["usage"] = None
        return _sse(body)

    prompt_tokens = completion_tokens = 0
    choices = req.choices()
    while True:
        item = await to_thread.run_sync(next, choices, None)  # the prompt is checked and prefilled there
        if item is None:
            break
        index, prompt, tokens, events = item
        if index % req.n == 0:
            prompt_tokens += tokens.prompt_tokens
        if req.chat:
            yield chunk(index, role=True)
        elif req.echo:
            yield chunk(index, req.prompt_text(prompt))
        offset = 0
        try:
            while True:
                step = await to_thread.run_sync(next, events, None)
                if step is None:
                    break
                event, text, finish = step
                completion_tokens += 1
                logprobs = None
                if req.logprobs and event.logprob is not None:
                    logprobs = (_chat_logprobs([event.logprob]) if req.chat
                                else _completion_logprobs([event.logprob], offset))
                    offset += len(event.logprob.text)
                if text or logprobs is not None:
                    yield chunk(index, text, None, logprobs)
                if finish is not None:
                    yield chunk(index, None if req.chat else "", finish)
        finally:
            events.close()
    if req.include_usage:
        yield _sse({**req.head(), "object": "chat.completion.chunk" if req.chat else "text_completion",
                    "choices": [], "usage": _usage(prompt_tokens, completion_tokens)})
    yield _sse("[DONE]")


async def _generate(request: Request, svc: Service, chat: bool):
    route = "/v1/chat/completions" if chat else "/v1/completions"
    body = _check_fields(await read_json(request, svc.settings.max_body_bytes),
                         CHAT_FIELDS if chat else COMPLETION_FIELDS, route)
    rt = _runtime(svc, body, "generation")
    try:
        req = _Request(rt, body, chat)
        if req.stream:  # every parameter is checked by now: a stream never breaks off with a 400
            return StreamingResponse(_stream_events(req), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        start = time.perf_counter()
        out = await to_thread.run_sync(_complete, req)
        svc.metrics.inference.labels(model=rt.name).observe(time.perf_counter() - start)
        return out
    except GenerationParamError as err:
        raise _bad(str(err), err.param) from None
    except ValueError as err:  # chat template or tokenizer problems
        raise _bad(str(err), "messages" if chat else "prompt") from None


# -------------------------------------------------------------------------------------------- routes
def model_object(svc: Service, name: str) -> dict:
    """OpenAI's model object of served model ``name``: ``id``, ``object``, ``created`` (its registration time,
    Unix seconds), ``owned_by``, plus ``kind`` and the served ``version``."""
    entry = svc.entry(name)
    meta = svc.registry.metadata(name, entry.default)
    try:
        created = int(datetime.strptime(meta.get("created", ""), "%Y-%m-%dT%H:%M:%SZ").timestamp())
    except (TypeError, ValueError):
        created = 0
    return {"id": name, "object": "model", "created": created, "owned_by": "aiaas", "kind": meta.get("kind"),
            "version": entry.default}


@router.get("/v1/models")
async def list_models(svc: ServiceDep):
    """The served models these routes can use (kind ``generation`` or ``embedding``), OpenAI's list shape.
    ``GET /v1/models/{model}`` (OpenAI's retrieve) answers for every served model, see :func:`model_object`."""
    data = [obj for obj in (model_object(svc, name) for name in sorted(svc.entries)) if obj["kind"] in TEXT_KINDS]
    return {"object": "list", "data": data}


@router.post("/v1/completions")
async def completions(request: Request, svc: ServiceDep):
    """Text completion of ``prompt`` by a served ``generation`` model (OpenAI's legacy completions API)."""
    return await _generate(request, svc, chat=False)


@router.post("/v1/chat/completions")
async def chat_completions(request: Request, svc: ServiceDep):
    """Chat completion: ``messages`` through the plain-text chat template, the reply ends at a new turn."""
    return await _generate(request, svc, chat=True)


@router.post("/v1/embeddings")
async def embeddings(request: Request, svc: ServiceDep):
    """Unit-length sentence embeddings of ``input`` (a text or a list of texts) by a served ``embedding`` model."""
    body = _check_fields(await read_json(request, svc.settings.max_body_bytes), EMBEDDING_FIELDS, "/v1/embeddings")
    rt = _runtime(svc, body, "embedding")
    texts = body.get("input")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise _bad("input must be a non-empty string or a non-empty list of strings (token-id input is not "
                   "supported: this service tokenizes itself)", "input")
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty:
        raise _bad(f"input[{empty[0]}] is empty; every input must hold some text", "input")
    if len(texts) > svc.settings.max_instances:
        raise OpenAIError(413, f"input has {len(texts)} texts; the limit is max_instances="
                               f"{svc.settings.max_instances} per request", param="input")
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise _bad(f"encoding_format={fmt!r}; expected one of ['float', 'base64']", "encoding_format")
    dims = body.get("dimensions")
    if dims is not None and (not isinstance(dims, int) or isinstance(dims, bool) or dims != rt.dimensions):
        raise _bad(f"dimensions={dims!r}: model {rt.name!r} makes {rt.dimensions}-dimensional embeddings and "
                   "cannot shorten them", "dimensions", "unsupported_parameter")
    start = time.perf_counter()
    vectors, counts = await to_thread.run_sync(rt.encode, texts)
    svc.metrics.inference.labels(model=rt.name).observe(time.perf_counter() - start)
    svc.metrics.batch_size.labels(model=rt.name).observe(len(texts))
    if not np.isfinite(vectors).all():
        raise ServiceError(500, "the model produced non-finite embeddings")

    def encoded(v: np.ndarray):
        if fmt == "base64":
            return base64.b64encode(v.astype("<f4").tobytes()).decode("ascii")
        return v.astype(np.float32).tolist()

    data = [{"object": "embedding", "index": i, "embedding": encoded(v)} for i, v in enumerate(vectors)]
    tokens = int(sum(counts))
    return {"object": "list", "data": data, "model": body["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def decode_base64_embedding(text: str) -> np.ndarray:
    """An embedding sent with ``encoding_format="base64"`` (little-endian float32, as OpenAI's) as an array.

    Examples
    --------
    >>> v = np.array([0.5, -0.25], np.float32)
    >>> decode_base64_embedding(base64.b64encode(v.astype("<f4").tobytes()).decode()).tolist()
    [0.5, -0.25]
    """
    raw = base64.b64decode(text)
    if len(raw) % 4:
        raise ValueError(f"{len(raw)} bytes is not a whole number of float32 values")
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


__all__ = ["router", "load_text_runtime", "GenerationRuntime", "EmbeddingRuntime", "decode_base64_embedding",
           "MAX_N", "MAX_PROMPTS"]
