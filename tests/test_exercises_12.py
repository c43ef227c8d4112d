"""Exercise checks of notebook 12: the learner's secured FastAPI app (401, 413), status codes."""
import json
import secrets

import numpy as np
import pytest
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
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


def secure_factory(status=401, compare=lambda size, limit: size > limit, measure="bytes", error_shape=True,
                   key_after_model=False, check_key=True):
    def make_secure_app(model, api_key, max_body_bytes):
        def key_dependency(authorization: str | None = Header(None)):
            if authorization is None or not secrets.compare_digest(authorization, f"Bearer {api_key}"):
                raise HTTPException(status, "missing or wrong API key")

        async def size_dependency(request: Request):
            raw = await request.body()
            size = {"bytes": len(raw), "chars": len(raw.decode()),
                    "parsed": len(json.dumps(json.loads(raw)))}[measure]
            if compare(size, max_body_bytes):
                raise HTTPException(413, f"body of {size} bytes; the limit is {max_body_bytes}")

        deps = [Depends(size_dependency)]
        if check_key and not key_after_model:
            deps.insert(0, Depends(key_dependency))
        return make_app(model, deps, error_shape, api_key if key_after_model else None)

    return make_secure_app


# ------------------------------------------------------------------------------------- secure app
def test_secure_app_right(capsys):
    assert _run(capsys, ex.check_secure_app, secure_factory())[0]


@pytest.mark.parametrize("factory, hint", [
    (secure_factory(status=403), "403 means"),
    (secure_factory(check_key=False), "expected 401, got 200"),
    (secure_factory(key_after_model=True), "the model already ran"),
    (secure_factory(compare=lambda size, limit: size >= limit), "(>, not >=)"),
    (secure_factory(measure="parsed"), "parsed JSON"),
    (secure_factory(measure="chars"), "two bytes in UTF-8"),
    (secure_factory(error_shape=False), "FastAPI's default shape"),
    (lambda model, api_key, max_body_bytes: "not an app", "not a FastAPI app"),
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
    ({"no_key": 403}, "401 Unauthorized"),
    ({"too_many": 400}, "413 Content Too Large"),
    ({"queue_full": 500}, "503 Service Unavailable"),
    ({"rate_limited": 503}, "429 Too Many Requests"),
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
