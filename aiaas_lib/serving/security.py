"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

The service's guards: API keys (Bearer tokens), a token-bucket rate limit per key, and the request
body's size, type and JSON syntax.

- Keys are compared with :func:`hmac.compare_digest` against *every* configured key (no early exit), so
  the time an answer takes does not tell how many characters of a guess were right.
- The rate limit is a token bucket: ``burst`` requests at once, refilled at ``per_minute / 60`` per second.
  A refused request gets 429 and ``Retry-After`` (whole seconds until a token is back).
- The body is refused with 413 when its ``Content-Length`` says it is too large, and again while it is
  read (a client can lie or stream without a length); then it must be JSON (400 naming the problem).
"""
from __future__ import annotations

import hmac
import json
import math
import time
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from fastapi import Request

from aiaas_lib.serving.errors import ServiceError

#: Content types read as JSON. ``application/x-www-form-urlencoded`` is what ``curl -d`` sends when no
#: type is given (TF Serving's documentation examples rely on it), so it is read as JSON too.
JSON_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/json")


def load_api_keys(keys: Iterable[str] = (), keys_file: str | Path | None = None) -> list[str]:
    """The API keys from a list and/or a file with one key per line (blank lines and ``#`` comments skipped).

    Raises
    ------
    ValueError
        If the file does not exist, or a key is shorter than 8 characters.

    Examples
    --------
    >>> load_api_keys(["secret-key-1", " secret-key-2 "])
    ['secret-key-1', 'secret-key-2']
    >>> load_api_keys(["short"])
    Traceback (most recent call last):
    ...
    ValueError: API key #1 has 5 characters; use at least 8 (e.g. `python -c "import secrets; print(secrets.token_urlsafe(32))"`)
    """
    found = [k.strip() for k in keys if k and k.strip()]
    if keys_file is not None:
        path = Path(keys_file)
        if not path.is_file():
            raise ValueError(f"api_keys_file={str(path)!r} does not exist; give a file with one key per line")
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                found.append(line)
    for i, key in enumerate(found, start=1):
        if len(key) < 8:
            raise ValueError(
                f"API key #{i} has {len(key)} characters; use at least 8 "
                '(e.g. `python -c "import secrets; print(secrets.token_urlsafe(32))"`)'
            )
    return list(dict.fromkeys(found))


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None.

    Examples
    --------
    >>> bearer_token("Bearer abc123"), bearer_token("bearer  abc123 "), bearer_token("Basic abc"), bearer_token(None)
    ('abc123', 'abc123', None, None)
    """
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class KeyChecker:
    """Checks Bearer tokens against the configured keys in constant time.

    Examples
    --------
    >>> keys = KeyChecker(["secret-key-1", "secret-key-2"])
    >>> keys.enabled, keys.identify("secret-key-2"), keys.identify("secret-key-3")
    (True, 'key-2', None)
    """

    def __init__(self, keys: Iterable[str]):
        self._keys = [k.encode("utf-8") for k in keys]

    @property
    def enabled(self) -> bool:
        """True when at least one key is configured."""
        return bool(self._keys)

    def identify(self, token: str) -> str | None:
        """``"key-<i>"`` (1-based) of the key equal to ``token``, or None. Compares with every key."""
        candidate = token.encode("utf-8", errors="replace")
        match = None
        for i, key in enumerate(self._keys, start=1):
            if hmac.compare_digest(key, candidate):  # no early exit: every key is compared
                match = f"key-{i}"
        return match


class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` per second; each request takes one.

    Examples
    --------
    >>> bucket = TokenBucket(capacity=2, rate=1.0, now=0.0)
    >>> bucket.take(now=0.0), bucket.take(now=0.0), bucket.take(now=0.0)
    (0, 0, 1)
    >>> bucket.take(now=1.0)
    0
    """

    def __init__(self, capacity: int, rate: float, now: float | None = None):
        self.capacity, self.rate = float(capacity), float(rate)
        self.tokens = self.capacity
        self.updated = time.monotonic() if now is None else now

    def take(self, now: float | None = None) -> int:
        """Take a token: 0 when granted, else the whole seconds until one is back (for ``Retry-After``)."""
        now = time.monotonic() if now is None else now
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0
        return max(1, math.ceil((1.0 - self.tokens) / self.rate))


class RateLimiter:
    """One :class:`TokenBucket` per client identity; ``per_minute=0`` turns it off.

    At most ``max_clients`` buckets are kept (the least recently seen are forgotten), so a flood of new
    client addresses cannot grow memory without bound.

    Examples
    --------
    >>> limiter = RateLimiter(per_minute=60, burst=1)
    >>> limiter.check("key-1", now=0.0), limiter.check("key-1", now=0.0), limiter.check("key-2", now=0.0)
    (0, 1, 0)
    """

    def __init__(self, per_minute: float, burst: int, max_clients: int = 10_000):
        self.per_minute, self.burst, self.max_clients = float(per_minute), int(burst), int(max_clients)
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """True when a limit is set."""
        return self.per_minute > 0

    def check(self, identity: str, now: float | None = None) -> int:
        """0 when ``identity`` may make a request now, else the seconds to wait."""
        if not self.enabled:
            return 0
        bucket = self._buckets.get(identity)
        if bucket is None:
            bucket = self._buckets[identity] = TokenBucket(self.burst, self.per_minute / 60.0, now=now)
            if len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(identity)
        return bucket.take(now=now)


def check_content_type(content_type: str | None) -> None:
    """Refuse (415) a body that says it is not JSON; no Content-Type is taken as JSON.

    Examples
    --------
    >>> check_content_type("application/json; charset=utf-8"), check_content_type(None)
    (None, None)
    >>> check_content_type("text/xml")
    Traceback (most recent call last):
    ...
    aiaas_lib.serving.errors.ServiceError: Content-Type 'text/xml' is not supported; send JSON with Content-Type: application/json
    """
    if not content_type:
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if media in JSON_TYPES or media.endswith("+json"):
        return
    raise ServiceError(
        415, f"Content-Type {media!r} is not supported; send JSON with Content-Type: application/json"
    )


async def read_body(request, max_bytes: int) -> bytes:
    """The request body, refused with 413 beyond ``max_bytes`` (from Content-Length, then while reading)."""
    length = request.headers.get("content-length")
    too_large = f"request body is larger than max_body_bytes={max_bytes}; send fewer instances per request"
    if length is not None:
        if not length.strip().isdigit():
            raise ServiceError(400, f"Content-Length {length!r} is not a number of bytes")
        if int(length) > max_bytes:
            raise ServiceError(413, too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise ServiceError(413, too_large)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes):
    """Parse a JSON body; 400 naming the problem for empty, non-UTF-8, invalid or absurdly nested JSON.

    Examples
    --------
    >>> parse_json(b'{"instances": [1, 2]}')
    {'instances': [1, 2]}
    >>> parse_json(b'{"instances": [1, 2')
    Traceback (most recent call last):
    ...
    aiaas_lib.serving.errors.ServiceError: request body is not valid JSON: Expecting ',' delimiter: line 1 column 20 (char 19)
    """
    if not body.strip():
        raise ServiceError(400, "request body is empty; send a JSON object")
    try:
        return json.loads(body.decode("utf-8"))  # JSON on the network is UTF-8 (RFC 8259)
    except RecursionError:
        raise ServiceError(400, "request body is nested too deeply to be a model input") from None
    except UnicodeDecodeError as err:
        raise ServiceError(400, f"request body is not UTF-8 text: {err.reason} at byte {err.start}") from None
    except ValueError as err:  # JSONDecodeError, or an integer with more than 4300 digits
        raise ServiceError(400, f"request body is not valid JSON: {err}") from None


async def read_json(request, max_bytes: int):
    """Check the content type and size of a request body and parse it as JSON (see the module notes)."""
    check_content_type(request.headers.get("content-type"))
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise ServiceError(415, f"Content-Encoding {encoding!r} is not supported; send the body uncompressed")
    if "inference-header-content-length" in request.headers:
        raise ServiceError(
            400,
            "the binary tensor data extension (Inference-Header-Content-Length) is not supported; send the "
            "tensors as JSON (tritonclient: input.set_data_from_numpy(array, binary_data=False))",
        )
    return parse_json(await read_body(request, max_bytes))


async def require_client(request: Request) -> str:
    """FastAPI dependency of every protected route: check the API key (401 with ``WWW-Authenticate``),
    then the client's rate limit (429 with ``Retry-After``); return the client's identity
    (``"key-<i>"``, or ``"addr:<host>"`` when no keys are configured)."""
    svc = request.app.state.service
    if svc.keys.enabled:
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            raise ServiceError(401, "missing API key: send the header 'Authorization: Bearer <key>'",
                               {"WWW-Authenticate": 'Bearer realm="aiaas"'})
        identity = svc.keys.identify(token)
        if identity is None:
            raise ServiceError(401, "invalid API key",
                               {"WWW-Authenticate": 'Bearer realm="aiaas", error="invalid_token"'})
    else:
        identity = f"addr:{request.client.host if request.client else 'unknown'}"
    wait = svc.limiter.check(identity)
    if wait:
        raise ServiceError(
            429, f"rate limit exceeded: {svc.limiter.per_minute:g} requests per minute (burst "
                 f"{svc.limiter.burst}) per client; retry in {wait} s", {"Retry-After": str(wait)},
        )
    return identity
