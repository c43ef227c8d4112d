"""Used by the conformance kit (:mod:`aiaas_lib.conformance`, ``aiaas conformance``; notebook 12).

The kit's building blocks: a :class:`Check` (an id, the protocol, the rule it ports and a function that
raises :class:`Failure` or :class:`Skip`), the registry of checks :data:`CHECKS`, the :class:`Context` a
check talks to the server through, and the assertions shared by the protocol modules (status, JSON,
the two error shapes, a body padded to an exact size).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The protocols the kit knows, in the order it runs them: id → title.
PROTOCOLS = {
    "tfserving": "TF Serving REST",
    "oip": "Open Inference Protocol (KServe V2)",
    "openai": "OpenAI API",
}
#: The prefix of a check id → its protocol (``tfs.status`` is a TF Serving check).
PREFIXES = {"tfs": "tfserving", "oip": "oip", "openai": "openai"}


class Failure(Exception):
    """A check's rule is broken: the message says which request got which answer, and what the rule wants."""


class Skip(Exception):
    """A check cannot run against this server with these options (the message says why)."""


@dataclass(frozen=True)
class Check:
    """One rule of one protocol: ``run(ctx)`` returns a short detail on success, raises :class:`Failure`."""

    id: str
    protocol: str
    rule: str
    run: Callable[[Context], str | None] = field(repr=False)
    needs: tuple[str, ...] = ()


#: Every check, by id; a protocol's checks run in the order its module defines them.
CHECKS: dict[str, Check] = {}


def check(id: str, rule: str, needs: Iterable[str] = ()) -> Callable:
    """Register the decorated function as the check ``id`` (its protocol is the part before the dot);
    ``needs`` names :class:`Context` options without which it is skipped (``api_key``, ``max_body_bytes``)."""
    protocol = PREFIXES.get(id.split(".", 1)[0])
    if protocol is None:
        raise ValueError(f"check id {id!r} must start with one of {[p + '.' for p in PREFIXES]}")

    def register(func):
        CHECKS[id] = Check(id, protocol, rule, func, tuple(needs))
        return func

    return register


class Context:
    """What a check needs: an HTTP client with the server's base URL, the options, a memo shared by the
    checks of one run (the first answer of a route, compared with later ones)."""

    def __init__(
        self,
        client,
        model: str | None = None,
        instances: list | None = None,
        api_key: str | None = None,
        max_body_bytes: int | None = None,
        llm: str | None = None,
        embedding_model: str | None = None,
    ):
        self.client, self.model, self.instances = client, model, instances
        self.api_key, self.max_body_bytes = api_key, max_body_bytes
        self.llm, self.embedding_model = llm, embedding_model
        self.memo: dict[str, Any] = {}

    def request(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        content: bytes | None = None,
        key: str | None | bool = True,
        headers: Mapping[str, str] | None = None,
    ):
        """Send one request; ``key=True`` sends the configured API key, ``False`` none, a string that key."""
        sent = dict(headers or {})
        token = self.api_key if key is True else (key or None)
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            content = json.dumps(json_body).encode()
        if content is not None:
            sent.setdefault("Content-Type", "application/json")
        return self.client.request(method, path, content=content, headers=sent)

    def remember(self, key: str, make: Callable[[], Any]) -> Any:
        """``make()`` once per run; then its value (or its :class:`Skip`/:class:`Failure` again)."""
        if key not in self.memo:
            try:
                self.memo[key] = make()
            except (Skip, Failure) as err:
                self.memo[key] = err
        value = self.memo[key]
        if isinstance(value, (Skip, Failure)):
            raise type(value)(str(value))
        return value


# ------------------------------------------------------------------------------------------ assertions
def expect(condition: bool, message: str) -> None:
    """Raise :class:`Failure` with ``message`` unless ``condition``."""
    if not condition:
        raise Failure(message)


def describe(response) -> str:
    """``"<status> <first 160 characters of the body>"`` of an answer, for failure messages."""
    text = response.text.replace("\n", " ")
    return f"{response.status_code} {text[:160]}{'...' if len(text) > 160 else ''}"


def body_json(response, what: str) -> Any:
    """The answer's JSON body, or :class:`Failure` naming the request."""
    try:
        return response.json()
    except ValueError:
        raise Failure(f"{what}: the answer is not JSON: {describe(response)}") from None


def ok_json(response, what: str, status: int = 200) -> Any:
    """The JSON body of an answer that must have ``status`` (200)."""
    expect(response.status_code == status, f"{what}: expected {status}, got {describe(response)}")
    return body_json(response, what)


def _status_body(response, what: str, statuses: Iterable[int]):
    """The JSON body of an error reply whose status is one of ``statuses`` (else a :class:`Failure`)."""
    statuses = tuple(statuses)
    expect(
        response.status_code in statuses,
        f"{what}: expected status {' or '.join(map(str, statuses))}, got {describe(response)}",
    )
    return body_json(response, what)


def plain_error(response, what: str, statuses: Iterable[int]) -> str:
    """TF Serving's and the OIP's error: a status in ``statuses`` and the body ``{"error": "<message>"}``."""
    body = _status_body(response, what, statuses)
    expect(
        isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"].strip() != "",
        f'{what}: the error body must be {{"error": "<message>"}}, got {describe(response)}',
    )
    return f"{response.status_code} {body['error'][:60]!r}"


def openai_error(response, what: str, statuses: Iterable[int]) -> str:
    """OpenAI's error: a status in ``statuses`` and ``{"error": {"message", "type", "param", "code"}}``."""
    body = _status_body(response, what, statuses)
    err = body.get("error") if isinstance(body, dict) else None
    expect(
        isinstance(err, dict)
        and isinstance(err.get("message"), str)
        and err["message"].strip() != ""
        and isinstance(err.get("type"), str)
        and "param" in err
        and "code" in err,
        f'{what}: the error body must be {{"error": {{"message", "type", "param", "code"}}}}, '
        f"got {describe(response)}",
    )
    return f"{response.status_code} {err['type']}: {err['message'][:50]!r}"


def padded(body: Any, size: int) -> bytes:
    """``body`` as JSON followed by spaces up to exactly ``size`` bytes (JSON allows trailing whitespace).

    Examples
    --------
    >>> padded({"a": 1}, 10)
    b'{"a": 1}  '
    """
    raw = json.dumps(body).encode()
    if len(raw) > size:
        raise Skip(f"the smallest valid body has {len(raw)} bytes, more than max_body_bytes={size}")
    return raw + b" " * (size - len(raw))


def body_limit(ctx: Context, path: str, body: Any, error: Callable) -> str:
    """A valid body of exactly ``max_body_bytes`` is answered; one byte more is 413 in the error shape."""
    limit = ctx.max_body_bytes
    at = ctx.request("POST", path, content=padded(body, limit))
    expect(
        at.status_code == 200,
        f"POST {path} with a valid body of exactly max_body_bytes={limit} bytes: "
        f"expected 200, got {describe(at)}",
    )
    over = ctx.request("POST", path, content=padded(body, limit + 1))
    return f"{limit} bytes -> 200, {limit + 1} -> " + error(
        over, f"POST {path} with {limit + 1} bytes", (413,)
    )


def auth(ctx: Context, method: str, path: str, body: Any, error: Callable) -> str:
    """No key and a wrong key are 401 in the protocol's error shape; the right key is 200."""
    right = ctx.request(method, path, body, key=True)
    expect(
        right.status_code == 200, f"{method} {path} with the right key: expected 200, got {describe(right)}"
    )
    error(ctx.request(method, path, body, key=False), f"{method} {path} without a key", (401,))
    wrong = "conformance-wrong-key-" + "x" * 16
    error(ctx.request(method, path, body, key=wrong), f"{method} {path} with a wrong key", (401,))
    return "no key -> 401, wrong key -> 401, right key -> 200"


def flat(values: Any) -> list:
    """A nested list flattened in row-major order.

    Examples
    --------
    >>> flat([[1, 2], [3]]), flat(5)
    ([1, 2, 3], [5])
    """
    if isinstance(values, (list, tuple)):
        return [x for v in values for x in flat(v)]
    return [values]


def close(a: Any, b: Any, atol: float = 1e-5) -> bool:
    """Two (nested) lists of numbers have the same structure and agree within ``atol``."""
    fa, fb = flat(a), flat(b)
    return len(fa) == len(fb) and all(
        isinstance(x, (int, float)) and isinstance(y, (int, float)) and abs(x - y) <= atol
        for x, y in zip(fa, fb)
    )


def shape_of(value: Any) -> list[int]:
    """The shape of a regular nested list (``[]`` for a scalar)."""
    shape = []
    while isinstance(value, (list, tuple)):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape
