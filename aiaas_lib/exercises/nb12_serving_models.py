"""Exercise checks of notebook 12 (serving models): used by notebooks/12_serving_models.ipynb.

- :func:`check_secure_app` runs the learner's FastAPI app factory ``make_secure_app(model, api_key,
  max_body_bytes)`` in-process (``fastapi.testclient.TestClient``, and raw ASGI calls that stream a body
  chunk by chunk) on fresh rows, a fresh key and a fresh size limit, with a probe model that records its
  calls: API keys (401, checked before the body is parsed) and a body-size limit (413, on Content-Length
  and while reading), in TF Serving's ``{"error": "..."}`` shape.
- :func:`check_columnar` runs the learner's ``predict_columnar(model, body)`` (TF Serving's columnar
  format ``{"inputs": {column: [values]}}`` -> ``{"outputs": [...]}``) on fresh rows with a probe model.
- :func:`check_status_codes`: which status the course's service answers for each failure of ``FAILURES``.
"""
from __future__ import annotations

import json

import numpy as np

from aiaas_lib.exercises.feedback import exercise

PREDICT_PATH = "/v1/models/churn:predict"


def _churn_rows(rng: np.random.Generator, n: int) -> list[dict]:
    """``n`` random raw churn rows as JSON-ready dicts."""
    from aiaas_lib import data

    X, _ = data.churn_xy(data.load_churn())
    picked = X.iloc[np.sort(rng.choice(len(X), size=n, replace=False))]
    return json.loads(picked.to_json(orient="records"))


class ProbeModel:
    """A stand-in for the churn model: a fixed random logistic score of the three numeric columns, and a
    count of its calls (to see whether the app ran the model before refusing a request).

    It takes what the notebook's ``to_inputs`` makes (a dict of column arrays) or a DataFrame.

    Examples
    --------
    >>> probe = ProbeModel(np.random.default_rng(0))
    >>> probe.predict_on_batch({"tenure": [[1.0]], "monthly_charges": [[20.0]], "total_charges": [[20.0]]}).shape
    (1, 1)
    >>> probe.calls
    1
    """

    columns = ("tenure", "monthly_charges", "total_charges")

    def __init__(self, rng: np.random.Generator):
        self.w, self.b, self.calls = rng.normal(size=3) / np.array([72.0, 100.0, 8000.0]), rng.normal(), 0

    def score(self, rows: list[dict]) -> np.ndarray:
        """The expected predictions for raw rows, shape (n, 1)."""
        x = np.array([[r[c] for c in self.columns] for r in rows], np.float64)
        return (1 / (1 + np.exp(-(x @ self.w + self.b)))).reshape(-1, 1).astype(np.float32)

    def predict_on_batch(self, inputs) -> np.ndarray:
        """Score a dict of column arrays (or a DataFrame); count the call."""
        self.calls += 1
        x = np.stack([np.asarray(inputs[c], np.float64).reshape(-1) for c in self.columns], axis=1)
        return (1 / (1 + np.exp(-(x @ self.w + self.b)))).reshape(-1, 1).astype(np.float32)

    def __call__(self, inputs, training=False):
        return self.predict_on_batch(inputs)

    def predict(self, inputs, verbose=0, **kwargs):
        return self.predict_on_batch(inputs)


def _error_shape(reply) -> str | None:
    """None when ``reply`` is TF Serving's ``{"error": str}``; else what is wrong with it."""
    try:
        body = reply.json()
    except ValueError:
        return f"the {reply.status_code} answer is not JSON: {reply.text[:80]!r}"
    if isinstance(body, dict) and "detail" in body:
        return (f"the {reply.status_code} answer is FastAPI's default shape {json.dumps(body)[:80]}: raise "
                "HTTPException inside make_app's app (its handler rewrites it to {\"error\": ...}) or return "
                "JSONResponse({\"error\": ...}, status_code=...) yourself")
    if not (isinstance(body, dict) and set(body) == {"error"} and isinstance(body["error"], str)):
        return f"the {reply.status_code} answer must be TF Serving's {{\"error\": \"...\"}}, got {json.dumps(body)[:80]}"
    return None


def _asgi_post(app, headers: dict, chunks: list[bytes]) -> tuple[int | None, int]:
    """POST ``chunks`` to the ASGI ``app`` one ``receive()`` at a time; -> (status, bytes the app pulled).

    Runs in its own thread with its own event loop (a notebook's thread already runs one).
    """
    import asyncio
    import threading

    state = {"status": None, "pulled": 0}

    async def main():
        pending = list(chunks)

        async def receive():
            if pending:
                chunk = pending.pop(0)
                state["pulled"] += len(chunk)
                return {"type": "http.request", "body": chunk, "more_body": bool(pending)}
            await asyncio.Event().wait()  # the client stays connected, sending nothing more

        async def send(message):
            if message["type"] == "http.response.start":
                state["status"] = message["status"]

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": PREDICT_PATH, "raw_path": PREDICT_PATH.encode(), "query_string": b"",
                 "root_path": "", "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
                 "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
        await asyncio.wait_for(app(scope, receive, send), timeout=30)

    errors = []
    thread = threading.Thread(target=lambda: _catch(errors, lambda: asyncio.run(main())), daemon=True)
    thread.start()
    thread.join(timeout=60)
    if errors:
        raise errors[0]
    return state["status"], state["pulled"]


def _catch(errors: list, fn) -> None:
    try:
        fn()
    except BaseException as err:  # noqa: BLE001 - handed back to the caller's thread
        errors.append(err)


@exercise
def check_secure_app(make_secure_app) -> tuple[bool, str]:
    """Exercise 12.1: ``make_secure_app(model, api_key, max_body_bytes)`` returns an ASGI app (FastAPI's,
    or a guard wrapping it) whose ``POST /v1/models/churn:predict`` needs ``Authorization: Bearer <api_key>``
    (401 without it or with a wrong key, checked *first*: before the body is parsed, before the model runs)
    and refuses a body of more than ``max_body_bytes`` bytes with 413 (a body of exactly ``max_body_bytes``
    passes) on its Content-Length header and, while reading, on the bytes received — so an oversized body
    is refused before it has all been read; errors in TF Serving's ``{"error": "..."}`` shape.

    The check builds the app with a fresh random key, a probe model and a limit equal to the size of a
    fresh valid body, calls it in-process with ``fastapi.testclient.TestClient``, and streams bodies to it
    chunk by chunk through ASGI to count how many bytes it read before refusing.

    Examples
    --------
    >>> check_secure_app(lambda model, api_key, max_body_bytes: "not an app")
    ✗ make_secure_app returned str, not an ASGI app (return make_app's app, or your guard around it)
    False
    """
    import secrets

    from fastapi.testclient import TestClient

    if not callable(make_secure_app):
        return False, f"pass your factory function itself (make_secure_app), not {type(make_secure_app).__name__}"
    rng = np.random.default_rng()
    key, wrong = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    rows = _churn_rows(rng, int(rng.integers(2, 6)))
    body = json.dumps({"instances": rows}).encode()
    limit = len(body)  # the valid body is exactly at the limit: it must pass
    probe = ProbeModel(rng)
    app = make_secure_app(probe, key, limit)
    if not callable(app):
        return False, f"make_secure_app returned {type(app).__name__}, not an ASGI app (return make_app's app, or your guard around it)"
    json_type = {"content-type": "application/json"}
    with TestClient(app, raise_server_exceptions=False) as client:
        def post(content, api_key=None):
            auth = {} if api_key is None else {"Authorization": f"Bearer {api_key}"}
            return client.post(PREDICT_PATH, content=content, headers={**json_type, **auth})

        for what, api_key in (("no key", None), ("a wrong key", wrong)):
            reply = post(body, api_key)
            if reply.status_code == 500 and api_key is None:
                return False, ("no key: 500 — your key check crashed on a request without an Authorization "
                               "header (it is None then): test for None first and answer 401")
            if reply.status_code == 403:
                return False, (f"{what}: 403 means 'known, but not allowed'; a missing or wrong credential is "
                               "401 Unauthorized")
            if reply.status_code != 401:
                return False, f"{what}: expected 401, got {reply.status_code}: check the Authorization header first"
            if probe.calls:
                return False, (f"{what}: 401, but the model already ran: check the key before the route runs, "
                               "not after predict_on_batch")
            if (shape := _error_shape(reply)) is not None:
                return False, f"{what}: {shape}"
        reply = post(b'{"instances": [', None)
        if reply.status_code != 401:
            return False, (f"invalid JSON without a key got {reply.status_code}, not 401: the body was parsed before "
                           "the key was checked. FastAPI reads and parses a route's body *before* it runs the "
                           "route's dependencies, so check the key in your guard (middleware), ahead of FastAPI")
        reply = post(body, key)
        if reply.status_code == 401:
            return False, ("the right key was refused: the check sends 'Authorization: Bearer <api_key>'; compare "
                           "the whole header with f'Bearer {api_key}'")
        if reply.status_code == 413:
            return False, (f"a body of exactly max_body_bytes={limit} bytes was refused: only a body *larger* than "
                           "the limit gets 413 (>, not >=)")
        if reply.status_code != 200:
            return False, f"right key, valid body: expected 200, got {reply.status_code} {reply.text[:120]}"
        got = np.asarray(reply.json().get("predictions"), np.float64)
        want = probe.score(rows)
        if got.shape != want.shape or not np.allclose(got, want, atol=1e-6):
            return False, "right key: 200, but the predictions are not the model's: hand the bytes you read on to make_app's app"
        calls = probe.calls
        padded = body + b" " * int(rng.integers(1, 64))  # valid JSON, more bytes; the parsed JSON is the same
        reply = post(padded, key)
        if reply.status_code == 200:
            return False, (f"a body of {len(padded)} bytes > max_body_bytes={limit} passed: it only has more "
                           "whitespace, so you measured the parsed JSON (or the rows); count the raw bytes")
        if reply.status_code != 413:
            return False, f"a body over the limit: expected 413, got {reply.status_code}"
        if (shape := _error_shape(reply)) is not None:
            return False, f"a body over the limit: {shape}"
        chunked = iter([padded])  # no Content-Length header at all
        reply = client.post(PREDICT_PATH, content=chunked, headers={**json_type, "Authorization": f"Bearer {key}"})
        if reply.status_code != 413:
            return False, (f"a body of {len(padded)} bytes > max_body_bytes={limit} sent without a Content-Length "
                           f"header (chunked) got {reply.status_code}, not 413: you trusted the header, which a "
                           "client may leave out or fake; also count the bytes while reading request.stream()")
        small = json.dumps({"instances": rows[:1], "note": ""})
        text = small[:-2] + "é" * (limit - len(small)) + small[-2:]  # as many characters as the limit, more bytes
        reply = post(text.encode(), key)
        if reply.status_code != 413:
            return False, (f"a body of {len(text)} characters but {len(text.encode())} bytes > max_body_bytes="
                           f"{limit} got {reply.status_code}, not 413: 'é' is one character but two bytes in "
                           "UTF-8; count bytes (len(chunk)), not characters of the decoded text")
        if probe.calls != calls:
            return False, "413, but the model ran on a body over the limit: refuse it before predicting"
    # stream a body 4x the limit in small chunks, without Content-Length: how much is read before the 413?
    chunk = 64
    huge = padded + b" " * (3 * limit)
    pieces = [huge[i:i + chunk] for i in range(0, len(huge), chunk)]
    auth = {**json_type, "authorization": f"Bearer {key}"}
    status, pulled = _asgi_post(app, auth, pieces)
    if status != 413:
        return False, f"a {len(huge)}-byte body streamed in {chunk}-byte chunks got {status}, not 413"
    if pulled > limit + chunk:
        return False, (f"413, but only after reading {pulled} of {len(huge)} bytes (limit {limit}): the size was "
                       "checked after the whole body was read — as a dependency does, because FastAPI reads the "
                       "body before it runs dependencies. Count bytes while reading request.stream() and stop at "
                       "the first byte over the limit")
    status, pulled = _asgi_post(app, {**auth, "content-length": str(len(huge))}, pieces)
    if status != 413 or pulled > chunk:
        return False, (f"Content-Length: {len(huge)} > max_body_bytes={limit}, yet the app read {pulled} bytes before "
                       f"answering {status}: refuse on the header first, before reading anything")
    if probe.calls != calls:
        return False, "413, but the model ran on a body over the limit: refuse it before predicting"
    return True, ("no key → 401 even for invalid JSON (the key first), wrong key → 401 (model not run), right key → "
                  "200 with the model's predictions; over the limit → 413 on Content-Length before reading, and "
                  "while reading (bytes, not characters), errors as {\"error\": str}")


#: Exercise 12.3's failures: key -> what happened.
FAILURES = {
    "no_key": "the request has no Authorization header, and the service has API keys",
    "bad_json": 'the body is {"instances": [  (cut off: not valid JSON)',
    "unknown_model": "POST /v1/models/churn2:predict, but only 'churn' is served",
    "too_many": "2,000 rows in one request; the service allows max_instances=1024",
    "queue_full": "micro-batching is on and its queue already holds batch_queue_size requests",
    "rate_limited": "the client used up its token bucket (rate_limit_per_minute)",
}
_STATUS = {"no_key": 401, "bad_json": 400, "unknown_model": 404, "too_many": 413, "queue_full": 503,
           "rate_limited": 429}
_STATUS_HINTS = {
    "no_key": ("see §5's first call to aiaas serve without a key: which status says 'no credential', "
               "which 'known, but forbidden'?"),
    "bad_json": "see the 'malformed JSON' row of §5's table of bad requests",
    "unknown_model": "see the 'unknown model' row of §5's table of bad requests",
    "too_many": "see the 'too many instances' row of §5's table: the one row where the two services differ",
    "queue_full": "see §5's bounded-queue demo (16 clients, a queue of 1)",
    "rate_limited": "see §5's rate-limit demo (5 requests in a row, burst 3)",
}


@exercise
def check_status_codes(answer) -> tuple[bool, str]:
    """Exercise 12.3: the HTTP status the service answers for each failure of ``FAILURES``, as a dict
    key -> int.

    Examples
    --------
    >>> check_status_codes({"no_key": 401, "bad_json": 400, "unknown_model": 404, "too_many": 413,
    ...                     "queue_full": 503, "rate_limited": 429})
    ✓ all 6 status codes right: 4xx = the client must change the request, 503 = retry later
    True
    """
    if not isinstance(answer, dict):
        return False, f"give a dict failure -> status code, e.g. {{'no_key': ...}}; got {type(answer).__name__}"
    missing = sorted(set(_STATUS) - set(answer))
    if missing:
        return False, f"no status for {missing}; the failures are {sorted(_STATUS)}"
    wrong = [k for k in _STATUS if answer[k] != _STATUS[k]]
    if not wrong:
        return True, "all 6 status codes right: 4xx = the client must change the request, 503 = retry later"
    if any(isinstance(answer[k], str) for k in wrong):
        return False, "give the status codes as integers, e.g. 404, not strings"
    k = wrong[0]
    more = f" ({len(wrong) - 1} more wrong)" if len(wrong) > 1 else ""
    return False, f"{k!r}: {answer[k]!r} is not it — {_STATUS_HINTS[k]}{more}"


def _refused_with_400(call, what: str, other_error, accepted: str) -> str:
    """'' when ``call()`` raises HTTPException(400); else what went wrong: another status, another exception (the
    service answers it with 500: ``other_error(its class name)``) or no error at all (``accepted``)."""
    from fastapi import HTTPException

    try:
        call()
    except HTTPException as err:
        if err.status_code != 400:
            return f"{what}: HTTPException({err.status_code}), expected 400 (a bad request)"
        return ""
    except Exception as err:  # noqa: BLE001
        return other_error(type(err).__name__)
    return accepted


@exercise
def check_columnar(predict_columnar) -> tuple[bool, str]:
    """Exercise 12.2: ``predict_columnar(model, body)`` takes TF Serving's *columnar* request
    ``{"inputs": {column: [value, ...], ...}}`` and returns ``{"outputs": [[p], ...]}``, one prediction per
    position, in order, from ``model.predict_on_batch``; columns of unequal lengths, or values the row
    schema rejects (an unknown category), raise ``HTTPException(400, ...)`` before the model runs.

    The check builds a columnar body from fresh random churn rows and compares with a probe model's
    scores of those rows.

    Examples
    --------
    >>> check_columnar(lambda model, body: {"predictions": []})
    ✗ the answer has keys ['predictions']: a columnar request gets a columnar answer, {'outputs': ...}
    False
    """
    from fastapi import HTTPException

    if not callable(predict_columnar):
        return False, f"pass your function itself (predict_columnar), not {type(predict_columnar).__name__}"
    rng = np.random.default_rng()
    rows = _churn_rows(rng, int(rng.integers(3, 8)))
    probe = ProbeModel(rng)
    columns = {c: [r[c] for r in rows] for c in rows[0]}
    answer = predict_columnar(probe, {"inputs": {c: list(v) for c, v in columns.items()}})
    if not isinstance(answer, dict):
        return False, f"return a dict {{'outputs': [...]}}, got {type(answer).__name__}"
    if "outputs" not in answer:
        return False, f"the answer has keys {sorted(answer)}: a columnar request gets a columnar answer, {{'outputs': ...}}"
    got = answer["outputs"]
    if isinstance(got, np.ndarray):
        return False, "outputs is a NumPy array: JSON needs plain lists (.tolist())"
    got = np.asarray(got, np.float64)
    want = probe.score(rows)
    if got.size != len(rows):
        return False, f"{got.size} outputs for {len(rows)} rows: one output per position of the columns, in order"
    if not np.allclose(got.reshape(want.shape), want, atol=1e-6):
        return False, ("the outputs are not the model's for these rows: row i takes the i-th value of *every* "
                       "column (a row per position, not a row per column)")
    calls = probe.calls
    uneven = {c: list(v) for c, v in columns.items()}
    uneven["tenure"] = uneven["tenure"][:-1]
    problem = _refused_with_400(
        lambda: predict_columnar(probe, {"inputs": uneven}), "columns of unequal lengths",
        lambda name: (f"columns of unequal lengths raised {name}, which the service answers with "
                      "500: check the lengths first and raise HTTPException(400, ...)"),
        "columns of unequal lengths (tenure one value short) were accepted: zip() stops at the "
        "shortest column without a word; check that all lengths are equal, else HTTPException(400)")
    if problem:
        return False, problem
    if probe.calls != calls:
        return False, "400, but the model ran first: check the lengths before predicting"
    invalid = {c: list(v) for c, v in columns.items()}
    invalid["contract"] = ["Weekly"] * len(rows)  # not a category seen in training
    problem = _refused_with_400(
        lambda: predict_columnar(probe, {"inputs": invalid}), '"contract": ["Weekly", ...]',
        lambda name: (f'"contract": ["Weekly", ...] raised {name}; raised inside a route, anything but '
                      "HTTPException is a 500 (make_app's 400 handler only sees errors FastAPI's own body "
                      "validation raises): catch pydantic's ValidationError and raise HTTPException(400, ...)"),
        '"contract": ["Weekly", ...] was accepted: the rows were not validated; '
        "PredictRequest.model_validate({\"instances\": rows}) rejects unknown categories")
    if problem:
        return False, problem
    if probe.calls != calls:
        return False, "400, but the model ran on invalid rows: validate before predicting"
    return True, ("fresh rows in columns → one output per row, equal to predict_on_batch's, in order; "
                  "unequal columns or an unknown category → 400 before the model runs")
