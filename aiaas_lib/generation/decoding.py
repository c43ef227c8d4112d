"""Used by notebook 13; also imported by the CLI/service.

Generating text one token at a time: the loop behind an OpenAI-style completions endpoint.

:func:`stream` checks every parameter *before* any work (so a service can still answer 400 with the
bad ``param``), then yields one :class:`StreamEvent` per generated token. :func:`generate` runs the same
loop to the end and returns a :class:`Completion`. Per request:

- **Prompt and context**: ``max_tokens`` must be in [1, context - 1]; the prompt keeps its *last*
  ``context - max_tokens`` tokens (left truncation, reported as ``truncated_prompt_tokens``), so prompt
  plus reply always fit the model's learned positions. ``finish_reason`` is ``"length"`` when
  ``max_tokens`` tokens were generated. An empty prompt is refused (``param="prompt"``): the model has
  no start token to condition on.
- **Sampling**: penalties, temperature, top-k, top-p, then one draw from ``numpy.random.default_rng(seed)``
  (see :mod:`.sampling`). Same seed and parameters, same tokens.
- **Stop sequences** (up to 4): generation ends as soon as the generated text contains one;
  the returned text ends *before* it (as OpenAI's) and ``finish_reason`` is ``"stop"``. While the
  text's tail could still grow into a stop sequence, the stream holds those characters back, so a
  streamed reply never shows part of a stop sequence.
- **KV cache**: ``use_cache=True`` runs the prompt once and then one position per token
  (:meth:`~.inference.NumpyGPT.step`); ``use_cache=False`` recomputes the whole prefix every step. Both
  give the same logits (to float rounding) and so the same tokens.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from aiaas_lib.generation.params import (
    GenerationParamError, SamplingParams, check_max_tokens, check_seed, check_stop, check_top_logprobs,
)
from aiaas_lib.generation.sampling import choose_token, token_logprobs

FINISH_REASONS = ("stop", "length")


@dataclass
class TokenLogprob:
    """A generated token's log-probability under the model and its ``top`` alternatives (id, text, logprob)."""

    token_id: int
    text: str
    logprob: float
    top: list[tuple[int, str, float]] = field(default_factory=list)


@dataclass
class StreamEvent:
    """One generated token. ``text`` is the text this token releases ('' while it may still be part of
    a stop sequence); ``finish_reason`` is set on the last event only."""

    index: int
    token_id: int
    text: str
    logprob: TokenLogprob | None = None
    finish_reason: str | None = None


@dataclass
class Completion:
    """The result of :func:`generate`. ``token_ids`` holds every sampled token (a stop sequence's too,
    as billed); ``text`` (None without a tokenizer) excludes the stop sequence."""

    text: str | None
    token_ids: list[int]
    finish_reason: str
    prompt_tokens: int
    truncated_prompt_tokens: int = 0
    logprobs: list[TokenLogprob] | None = None

    @property
    def completion_tokens(self) -> int:
        """Number of generated tokens."""
        return len(self.token_ids)


class TokenStream:
    """Iterator of :class:`StreamEvent` returned by :func:`stream`; knows the prompt actually used."""

    def __init__(self, events: Iterator[StreamEvent], prompt_tokens: int, truncated_prompt_tokens: int):
        self._events = events
        self.prompt_tokens, self.truncated_prompt_tokens = prompt_tokens, truncated_prompt_tokens

    def __iter__(self) -> TokenStream:
        return self

    def __next__(self) -> StreamEvent:
        return next(self._events)

    def close(self) -> None:
        """Stop generating (e.g. the client went away)."""
        self._events.close()


def as_engine(model):
    """A decoding engine for ``model``: a :class:`~.inference.NumpyGPT` (or anything with ``logits``,
    ``context`` and ``vocab_size``) is used as it is; a Keras :func:`~.model.tiny_gpt` model is converted
    with :meth:`NumpyGPT.from_keras <.inference.NumpyGPT.from_keras>` — do that once per model, not per request.

    Examples
    --------
    >>> from aiaas_lib.generation.inference import NumpyGPT
    >>> from aiaas_lib.generation.model import tiny_gpt
    >>> engine = as_engine(tiny_gpt(vocab_size=12, context=16, dim=16, num_heads=2, num_layers=1))
    >>> isinstance(engine, NumpyGPT), as_engine(engine) is engine
    (True, True)
    """
    if all(hasattr(model, name) for name in ("logits", "context", "vocab_size")):
        return model
    from aiaas_lib.generation.inference import NumpyGPT

    return NumpyGPT.from_keras(model)


def _prompt_ids(prompt, tokenizer, engine, max_tokens: int) -> tuple[np.ndarray, int]:
    """Validated prompt ids, left-truncated to ``context - max_tokens``; and how many were dropped."""
    if isinstance(prompt, str):
        if tokenizer is None:
            raise ValueError("a text prompt needs a tokenizer; pass tokenizer=... or token ids")
        prompt = tokenizer.encode(prompt)
    ids = np.asarray(prompt)
    if ids.size == 0:
        raise GenerationParamError("prompt", "prompt is empty; it must hold at least one token")
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise GenerationParamError("prompt", f"prompt must be text or a 1-D list of token ids; got shape "
                                             f"{ids.shape}, dtype {ids.dtype}")
    if ids.min() < 0 or ids.max() >= engine.vocab_size:
        raise GenerationParamError("prompt", f"prompt token ids must be in [0, {engine.vocab_size - 1}]; "
                                             f"got min {ids.min()}, max {ids.max()}")
    keep = engine.context - max_tokens
    return ids[-keep:].astype(np.int64), max(0, ids.size - keep)


def _held_back(text: str, stops: Sequence[str]) -> int:
    """Length of the longest tail of ``text`` that is a proper prefix of a stop sequence."""
    held = 0
    for s in stops:
        for k in range(min(len(s) - 1, len(text)), held, -1):
            if text.endswith(s[:k]):
                held = k
                break
    return held


def stream(model, prompt, max_tokens: int = 16, *, tokenizer=None, temperature: float = 1.0, top_p: float = 1.0,
           top_k: int = 0, frequency_penalty: float = 0.0, presence_penalty: float = 0.0, stop=None,
           seed: int | None = None, logprobs: bool = False, top_logprobs: int = 0, use_cache: bool = True,
           rng: np.random.Generator | None = None) -> TokenStream:
    """Generate up to ``max_tokens`` tokens after ``prompt``, yielding each as soon as it is chosen.

    Parameters
    ----------
    model : NumpyGPT, KerasRecompute or keras.Model
        The language model (see :func:`as_engine`; convert a Keras model once and pass the NumpyGPT).
    prompt : str or sequence of int
        Token ids, or text (needs ``tokenizer``).
    max_tokens : int
        In [1, context - 1].
    tokenizer : CharTokenizer, optional
        Needed for text: without it events carry ids only (``text == ""``) and ``stop`` is not allowed.
    temperature, top_p, top_k, frequency_penalty, presence_penalty
        See :class:`~.params.SamplingParams`.
    stop : str or list of str, optional
        Up to 4 stop sequences.
    seed : int, optional
        Seeds ``numpy.random.default_rng``; None draws fresh randomness.
    logprobs : bool
        Attach a :class:`TokenLogprob` (the model's raw log-probability) to each event.
    top_logprobs : int
        In [0, 20]: alternatives reported per token (needs ``logprobs=True``).
    use_cache : bool
        KV-cache decoding (default) or full recomputation every step (for comparison).
    rng : numpy.random.Generator, optional
        Draw from this generator instead of ``default_rng(seed)`` (used by :func:`generate_choices`).

    Raises
    ------
    GenerationParamError
        At call time, before any token is generated, naming the bad parameter in ``.param``.

    Examples
    --------
    >>> from aiaas_lib.generation.model import tiny_gpt
    >>> from aiaas_lib.generation.tokenizer import CharTokenizer
    >>> tok = CharTokenizer().fit("abcdefgh ")
    >>> engine = as_engine(tiny_gpt(tok.vocab_size, context=16, dim=16, num_heads=2, num_layers=1))
    >>> events = list(stream(engine, "abc", max_tokens=4, tokenizer=tok, seed=0))
    >>> [e.index for e in events], events[-1].finish_reason
    ([0, 1, 2, 3], 'length')
    """
    engine = as_engine(model)
    max_tokens = check_max_tokens(max_tokens, engine.context)
    params = SamplingParams(temperature=temperature, top_p=top_p, top_k=top_k,
                            frequency_penalty=frequency_penalty, presence_penalty=presence_penalty)
    stops = check_stop(stop)
    seed = check_seed(seed)
    top_logprobs = check_top_logprobs(top_logprobs)
    if top_logprobs and not logprobs:
        raise GenerationParamError("top_logprobs", f"top_logprobs={top_logprobs} needs logprobs=True")
    if stops and tokenizer is None:
        raise ValueError("stop sequences are text: pass the tokenizer to decode the generated tokens")
    if use_cache and not hasattr(engine, "new_cache"):
        raise ValueError(f"use_cache=True needs an engine with a KV cache (NumpyGPT); {type(engine).__name__} "
                         "only recomputes: pass use_cache=False")
    ids, truncated = _prompt_ids(prompt, tokenizer, engine, max_tokens)
    rng = np.random.default_rng(seed) if rng is None else rng
    events = _events(engine, ids, max_tokens, params, stops, rng, tokenizer, logprobs, top_logprobs, use_cache)
    return TokenStream(events, prompt_tokens=len(ids), truncated_prompt_tokens=truncated)


def _events(engine, ids, max_tokens, params, stops, rng, tokenizer, logprobs, top_logprobs, use_cache):
    """The decoding loop (parameters already checked)."""
    counts = np.zeros(engine.vocab_size, dtype=np.int64)  # generated tokens only: the prompt does not count
    if use_cache:
        cache = engine.new_cache()
        logits = engine.prefill(ids, cache)
    else:
        sequence = list(ids)
        logits = engine.logits(np.asarray(sequence))[-1]
    text_of = tokenizer.token_text if tokenizer is not None else (lambda token: "")
    text, released = "", 0
    for i in range(max_tokens):
        token = choose_token(logits, counts, params, rng)
        counts[token] += 1
        piece = text_of(token)
        info = None
        if logprobs:
            value, top = token_logprobs(logits, token, top_logprobs)
            info = TokenLogprob(token, piece, value, [(t, text_of(t), lp) for t, lp in top])
        before, text = len(text), text + piece
        finish, end = None, len(text)
        if stops:
            hits = [j for s in stops if (j := text.find(s, max(0, before - len(s) + 1))) >= 0]
            if hits:
                finish, end = "stop", min(hits)
            else:
                end = len(text) - _held_back(text, stops)
        if finish is None and i == max_tokens - 1:
            finish, end = "length", len(text)
        out, released = text[released:end], max(released, end)
        yield StreamEvent(i, token, out, info, finish)
        if finish is not None:
            return
        if use_cache:
            logits = engine.step(token, cache)
        else:
            sequence.append(token)
            logits = engine.logits(np.asarray(sequence))[-1]


def generate(model, prompt, max_tokens: int = 16, **kwargs) -> Completion:
    """Run :func:`stream` to the end and collect one :class:`Completion` (same parameters).

    Examples
    --------
    >>> from aiaas_lib.generation.model import tiny_gpt
    >>> from aiaas_lib.generation.tokenizer import CharTokenizer
    >>> tok = CharTokenizer().fit("abcdefgh ")
    >>> engine = as_engine(tiny_gpt(tok.vocab_size, context=16, dim=16, num_heads=2, num_layers=1))
    >>> a = generate(engine, "abc", max_tokens=5, tokenizer=tok, seed=1, logprobs=True)
    >>> b = generate(engine, "abc", max_tokens=5, tokenizer=tok, seed=1, logprobs=True)
    >>> a.text == b.text, len(a.text), a.finish_reason, len(a.logprobs)
    (True, 5, 'length', 5)
    """
    tokens = stream(model, prompt, max_tokens, **kwargs)
    events = list(tokens)
    has_text = kwargs.get("tokenizer") is not None
    return Completion(
        text="".join(e.text for e in events) if has_text else None,
        token_ids=[e.token_id for e in events],
        finish_reason=events[-1].finish_reason,
        prompt_tokens=tokens.prompt_tokens,
        truncated_prompt_tokens=tokens.truncated_prompt_tokens,
        logprobs=[e.logprob for e in events] if kwargs.get("logprobs") else None,
    )


def generate_choices(model, prompt, max_tokens: int = 16, n: int = 1, seed: int | None = None,
                     **kwargs) -> list[Completion]:
    """``n`` completions of one prompt (OpenAI's ``n``), drawn one after the other from a single
    ``default_rng(seed)``: the first equals ``generate(..., seed=seed)``, and the same seed gives the same list.

    Examples
    --------
    >>> from aiaas_lib.generation.model import tiny_gpt
    >>> engine = as_engine(tiny_gpt(vocab_size=12, context=16, dim=16, num_heads=2, num_layers=1))
    >>> choices = generate_choices(engine, [1, 2, 3], max_tokens=4, n=3, seed=0)
    >>> len(choices), choices[0].token_ids == generate(engine, [1, 2, 3], max_tokens=4, seed=0).token_ids
    (3, True)
    """
    from aiaas_lib.generation.params import check_int

    n = check_int("n", n, 1)
    seed = check_seed(seed)
    if "rng" in kwargs:
        raise ValueError("generate_choices makes its own rng from seed; do not pass rng")
    engine = as_engine(model)
    rng = np.random.default_rng(seed)
    return [generate(engine, prompt, max_tokens, rng=rng, **kwargs) for _ in range(n)]
