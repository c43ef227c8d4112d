"""Used by notebook 13; also imported by the CLI/service.

The knobs of one generation request, each checked against its allowed range.

Every check raises :class:`GenerationParamError`, a ``ValueError`` that carries the name of the bad
parameter in ``.param``, so an OpenAI-compatible service can answer with a 400 error whose ``param`` field
says what to fix. The ranges are OpenAI's: temperature [0, 2], top_p (0, 1], frequency and presence
penalties [-2, 2], at most 4 stop sequences, top_logprobs [0, 20]; plus top_k >= 0 (0 = off) and
``max_tokens`` within the model's context.
"""
from __future__ import annotations

from dataclasses import dataclass

from aiaas_lib import validation

MAX_STOP = 4
MAX_TOP_LOGPROBS = 20


class GenerationParamError(ValueError):
    """A request parameter is outside its allowed range; ``param`` names it (as in OpenAI's error body).

    Examples
    --------
    >>> err = GenerationParamError("top_p", "top_p=0 must be in (0, 1]")
    >>> err.param, str(err)
    ('top_p', 'top_p=0 must be in (0, 1]')
    """

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param


def check_number(param: str, value, low: float, high: float, low_open: bool = False) -> float:
    """Return ``value`` as a float if it is a real number in [low, high] ((low, high] with ``low_open``).

    Examples
    --------
    >>> check_number("temperature", 0.7, 0, 2)
    0.7
    >>> check_number("temperature", 3, 0, 2)
    Traceback (most recent call last):
    ...
    aiaas_lib.generation.params.GenerationParamError: temperature=3 must be a number in [0, 2]
    """
    try:
        return validation.number(param, value, low, high, low_open=low_open)
    except ValueError as err:
        raise GenerationParamError(param, str(err)) from None


def check_int(param: str, value, low: int, high: int | None = None) -> int:
    """Return ``value`` if it is an int in [low, high] (no upper bound when ``high`` is None).

    Examples
    --------
    >>> check_int("n", 2, 1)
    2
    >>> check_int("n", 0, 1)
    Traceback (most recent call last):
    ...
    aiaas_lib.generation.params.GenerationParamError: n=0 must be an integer >= 1
    """
    try:
        return validation.integer(param, value, low, high)
    except ValueError as err:
        raise GenerationParamError(param, str(err)) from None


@dataclass(frozen=True)
class SamplingParams:
    """How the next token is chosen; every field is validated when the object is made.

    Attributes
    ----------
    temperature : float
        In [0, 2]. 0 means greedy (argmax); otherwise logits are divided by it.
    top_p : float
        In (0, 1]. Nucleus sampling: keep the smallest set of most likely tokens whose probability reaches it.
    top_k : int
        >= 0. Keep only the k most likely tokens; 0 switches it off.
    frequency_penalty, presence_penalty : float
        In [-2, 2]. OpenAI's penalties on tokens already generated (see :mod:`.sampling`).

    Examples
    --------
    >>> SamplingParams(temperature=0.8, top_p=0.9).top_k
    0
    >>> SamplingParams(presence_penalty=2.5)
    Traceback (most recent call last):
    ...
    aiaas_lib.generation.params.GenerationParamError: presence_penalty=2.5 must be a number in [-2, 2]
    """

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0

    def __post_init__(self):
        check_number("temperature", self.temperature, 0.0, 2.0)
        check_number("top_p", self.top_p, 0.0, 1.0, low_open=True)
        check_int("top_k", self.top_k, 0)
        check_number("frequency_penalty", self.frequency_penalty, -2.0, 2.0)
        check_number("presence_penalty", self.presence_penalty, -2.0, 2.0)


def check_stop(stop) -> tuple[str, ...]:
    """Normalise ``stop`` (None, one string, or a list of up to 4 non-empty strings) to a tuple.

    Examples
    --------
    >>> check_stop(None), check_stop("\\n\\n"), check_stop(["a", "b"])
    ((), ('\\n\\n',), ('a', 'b'))
    >>> check_stop(["a", ""])
    Traceback (most recent call last):
    ...
    aiaas_lib.generation.params.GenerationParamError: stop=['a', ''] must hold non-empty strings
    """
    if stop is None:
        return ()
    items = [stop] if isinstance(stop, str) else stop
    if not isinstance(items, (list, tuple)) or not all(isinstance(s, str) for s in items):
        raise GenerationParamError("stop", f"stop={stop!r} must be a string or a list of strings")
    if len(items) > MAX_STOP:
        raise GenerationParamError("stop", f"stop has {len(items)} sequences; at most {MAX_STOP} are allowed")
    if any(s == "" for s in items):
        raise GenerationParamError("stop", f"stop={stop!r} must hold non-empty strings")
    return tuple(items)


def check_max_tokens(max_tokens, context: int) -> int:
    """``max_tokens`` must be an int in [1, context - 1]: at least one prompt token must fit beside it.

    Examples
    --------
    >>> check_max_tokens(16, context=128)
    16
    >>> check_max_tokens(128, context=128)
    Traceback (most recent call last):
    ...
    aiaas_lib.generation.params.GenerationParamError: max_tokens=128 must be an integer in [1, 127]
    """
    return check_int("max_tokens", max_tokens, 1, context - 1)


def check_top_logprobs(top_logprobs) -> int:
    """``top_logprobs`` (alternatives reported per token) must be an int in [0, 20].

    Examples
    --------
    >>> check_top_logprobs(5)
    5
    """
    return check_int("top_logprobs", top_logprobs, 0, MAX_TOP_LOGPROBS)


def check_seed(seed) -> int | None:
    """``seed`` must be None (fresh randomness) or an int >= 0.

    Examples
    --------
    >>> check_seed(None), check_seed(42)
    (None, 42)
    """
    return None if seed is None else check_int("seed", seed, 0)
