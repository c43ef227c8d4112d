"""Exercise checks of notebook 12: the learner's guarded FastAPI app (401, 413), columnar format, status codes."""
import json
import secrets

import numpy as np
import pytest
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from aiaas_lib.exercises import nb12_serving_models as ex
from _feedback import run_check as _run

NUMERIC = ("tenure", "monthly_charges", "total_charges")


class PredictRequest(BaseModel):
    instances: list[dict]


def make_app(model, dependencies=(), error_shape=True, key_after_model=None):
    """A small TF Serving-style app like the notebook's make_app (rows as plain dicts)."""
    app = FastAPI()
    if error_shape:
        @app.exception_handler(StarletteHTTPException)
        async def http_error(request, err):
            return JSONResponse({"error": str(err.detail)}, status_code=err.status_code)

        @app.exception_handler(RequestValidationError)
        async def invalid(request, err):
            return JSONResponse({"error": str(err.errors()[0]["msg"])}, status_code=400)

    @app.post("/v1/models/{name}:predict", dependencies=list(dependencies))
    def predict(name: str, body: PredictRequest, authorization: str | None = Header(None)):
        if name != "churn":
            raise HTTPException(404, f"model {name!r} is not served")
        inputs = {c: np.array([[r[c]] for r in body.instances], np.float32) for c in NUMERIC}
        y_hat = model.predict_on_batch(inputs)
        if key_after_model is not None and authorization != f"Bearer {key_after_model}":
            raise HTTPException(401, "wrong key")
        return {"predictions": np.asarray(y_hat).tolist()}

    return app


def dependency_factory(status=401):
    """The old answer: key and size as FastAPI dependencies (they run after FastAPI has read the body)."""
    def make_secure_app(model, api_key, max_body_bytes):
        def key_dependency(authorization: str | None = Header(None)):
            if authorization is None or not secrets.compare_digest(authorization, f"Bearer {api_key}"):
                raise HTTPException(status, "missing or wrong API key")

        async def size_dependency(request: Request):
            if len(await request.body()) > max_body_bytes:
                raise HTTPException(413, "too large")

        return make_app(model, [Depends(key_dependency), Depends(size_dependency)])

    return make_secure_app


def secure_factory(status=401, compare=lambda size, limit: size > limit, measure="bytes", error_shape=True,
                   check_key=True, use_header=True, stream=True, header_only=False):
    """A guard (ASGI middleware) around make_app's app, like the notebook's solution, with a chosen mistake."""
    def make_secure_app(model, api_key, max_body_bytes):
        inner = make_app(model)

        async def guard(scope, receive, send):
            if scope["type"] != "http":
                return await inner(scope, receive, send)
            request = Request(scope, receive)

            async def refuse(code, message):
                content = {"error": message} if error_shape else {"detail": message}
                await JSONResponse(content, status_code=code)(scope, receive, send)

            auth = request.headers.get("authorization") or ""
            if check_key and not secrets.compare_digest(auth.encode(), f"Bearer {api_key}".encode()):
                return await refuse(status, "missing or wrong API key")
            length = request.headers.get("content-length")
            if use_header and length is not None and compare(int(length), max_body_bytes):
                return await refuse(413, "too large")
            chunks, size = [], 0
            async for chunk in request.stream():
                chunks.append(chunk)
                size += len(chunk)
                if stream and compare(size, max_body_bytes):
                    return await refuse(413, "too large")
            raw = b"".join(chunks)
            if not header_only:
                measured = {"bytes": len(raw), "chars": len(raw.decode()),
                            "parsed": len(json.dumps(json.loads(raw))) if raw.strip() else 0}[measure]
                if compare(measured, max_body_bytes):
                    return await refuse(413, "too large")

            async def replay():
                return {"type": "http.request", "body": raw, "more_body": False}

            await inner(scope, replay, send)

        return guard

    return make_secure_app


# ------------------------------------------------------------------------------------- secure app
def test_secure_app_right(capsys):
    assert _run(capsys, ex.check_secure_app, secure_factory())[0]


@pytest.mark.parametrize("factory, hint", [
    (secure_factory(status=403), "403 means"),
    (secure_factory(check_key=False), "expected 401, got 200"),
    (dependency_factory(), "parsed before the key"),
    (secure_factory(compare=lambda size, limit: size >= limit), "(>, not >=)"),
    (secure_factory(measure="parsed", stream=False, use_header=False), "parsed JSON"),
    (secure_factory(measure="chars", stream=False, use_header=False), "two bytes in UTF-8"),
    (secure_factory(header_only=True, stream=False), "without a Content-Length"),
    (secure_factory(stream=False), "only after reading"),
    (secure_factory(use_header=False), "refuse on the header first"),
    (secure_factory(error_shape=False), "FastAPI's default shape"),
    (lambda model, api_key, max_body_bytes: "not an app", "not an ASGI app"),
    (lambda model, api_key, max_body_bytes: 1 / 0, "could not check"),
    (42, "pass your factory"),
])
def test_secure_app_wrong(capsys, factory, hint):
    ok, out = _run(capsys, ex.check_secure_app, factory)
    assert not ok and hint in out, out


def test_secure_app_wrong_predictions(capsys):
    class Constant:
        def predict_on_batch(self, inputs):
            return np.zeros((len(inputs["tenure"]), 1))

    def factory(model, api_key, max_body_bytes):
        return secure_factory()(Constant(), api_key, max_body_bytes)

    ok, out = _run(capsys, ex.check_secure_app, factory)
    assert not ok and "not the model's" in out


def test_secure_app_no_answer(capsys):
    ok, out = _run(capsys, ex.check_secure_app, None)
    assert not ok and "no answer yet" in out


def test_probe_model_scores_rows_like_its_calls():
    probe = ex.ProbeModel(np.random.default_rng(1))
    rows = [{"tenure": 3, "monthly_charges": 50.0, "total_charges": 150.0}]
    inputs = {c: np.array([[r[c]] for r in rows], np.float32) for c in NUMERIC}
    assert np.allclose(probe.predict_on_batch(inputs), probe.score(rows), atol=1e-6) and probe.calls == 1


# ----------------------------------------------------------------------------------- status codes
RIGHT = {"no_key": 401, "bad_json": 400, "unknown_model": 404, "too_many": 413, "queue_full": 503,
         "rate_limited": 429}


def test_status_codes_right(capsys):
    assert _run(capsys, ex.check_status_codes, dict(RIGHT))[0]


@pytest.mark.parametrize("change, hint", [
    ({"no_key": 403}, "first call to aiaas serve without a key"),
    ({"too_many": 400}, "'too many instances' row"),
    ({"queue_full": 500}, "bounded-queue demo"),
    ({"rate_limited": 503}, "rate-limit demo"),
    ({"unknown_model": 400, "bad_json": 422}, "more wrong"),
    ({"no_key": "401"}, "as integers"),
])
def test_status_codes_wrong(capsys, change, hint):
    ok, out = _run(capsys, ex.check_status_codes, {**RIGHT, **change})
    assert not ok and hint in out


def test_status_codes_missing_key(capsys):
    ok, out = _run(capsys, ex.check_status_codes, {"no_key": 401})
    assert not ok and "no status for" in out


def test_status_codes_not_a_dict(capsys):
    ok, out = _run(capsys, ex.check_status_codes, [401, 400])
    assert not ok and "give a dict" in out


def test_status_codes_no_answer(capsys):
    ok, out = _run(capsys, ex.check_status_codes, None)
    assert not ok and "no answer yet" in out



def test_status_code_hints_do_not_give_the_answer(capsys):
    for key, code in RIGHT.items():
        ok, out = _run(capsys, ex.check_status_codes, {**RIGHT, key: 999})
        assert not ok and str(code) not in out, out


# ------------------------------------------------------------------------------------------ columnar
def columnar_factory(answer_key="outputs", check_lengths=True, transpose=False, error=HTTPException,
                     as_array=False, validate="catch"):
    def predict_columnar(model, body):
        columns = body["inputs"]
        lengths = {len(v) for v in columns.values()}
        if check_lengths and len(lengths) != 1:
            raise error(400, "columns of unequal lengths") if error is HTTPException else error("unequal")
        if transpose:
            rows = [dict(zip(columns, values)) for values in zip(*columns.values())][::-1]
        else:
            rows = [dict(zip(columns, values)) for values in zip(*columns.values())]
        known = {"Month-to-month", "One year", "Two year"}
        if validate != "skip" and any(r["contract"] not in known for r in rows):
            if validate == "raise":
                raise ValidationError.from_exception_data("Row", [])  # what model_validate raises
            raise HTTPException(400, "invalid contract")
        inputs = {c: np.array([[r[c]] for r in rows], np.float32) for c in NUMERIC}
        y_hat = np.asarray(model.predict_on_batch(inputs))
        return {answer_key: y_hat if as_array else y_hat.tolist()}

    return predict_columnar


def test_columnar_right(capsys):
    assert _run(capsys, ex.check_columnar, columnar_factory())[0]


@pytest.mark.parametrize("fn, hint", [
    (columnar_factory(answer_key="predictions"), "columnar answer"),
    (columnar_factory(check_lengths=False), "zip() stops"),
    (columnar_factory(transpose=True), "i-th value"),
    (columnar_factory(error=ValueError), "raised ValueError"),
    (columnar_factory(as_array=True), ".tolist()"),
    (columnar_factory(validate="skip"), "not validated"),
    (columnar_factory(validate="raise"), "catch pydantic's ValidationError"),
    (lambda model, body: {"outputs": []}, "one output per position"),
    (lambda model, body: 1 / 0, "could not check"),
    (42, "pass your function"),
])
def test_columnar_wrong(capsys, fn, hint):
    ok, out = _run(capsys, ex.check_columnar, fn)
    assert not ok and hint in out, out


def test_columnar_no_answer(capsys):
    ok, out = _run(capsys, ex.check_columnar, None)
    assert not ok and "no answer yet" in out
