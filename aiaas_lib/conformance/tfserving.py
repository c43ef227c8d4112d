"""Used by the conformance kit (:mod:`aiaas_lib.conformance`, ``aiaas conformance``; notebook 12).

TensorFlow Serving's REST API, checked by base URL and model name. The rules come from the REST API
documentation (https://www.tensorflow.org/tfx/serving/api_rest) and from what the model server's own tests
assert, ``tensorflow_serving/model_servers/tensorflow_model_server_test.py`` (``testGetModelStatusREST``,
``testGetModelMetadataREST``, ``testPredictREST``, ``testPredictColumnarREST``-style requests):

- ``tfs.status``: ``GET /v1/models/{m}``: 200, ``model_version_status`` a non-empty list of ``{version:
  "<int>", state, status: {error_code}}``, one version ``AVAILABLE`` (doc "Model status API";
  testGetModelStatusREST compares exactly that body)
- ``tfs.metadata``: ``GET /v1/models/{m}/metadata``: ``model_spec.name`` is m, ``model_spec.version`` a
  string, ``metadata.signature_def.signature_def`` maps signatures to inputs/outputs (doc "Model Metadata
  API"; testGetModelMetadataREST)
- ``tfs.predict_row``: ``POST /v1/models/{m}:predict`` ``{"instances": [...]}``: 200, ``{"predictions":
  [...]}`` with one entry per instance, in order (doc "Predict API", row format; testPredictREST)
- ``tfs.predict_columnar``: ``{"inputs": {column: [values]}}`` (or one batched list): 200, ``{"outputs":
  ...}`` equal to the row format's predictions (doc "Specifying input tensors in column format")
- ``tfs.error_malformed``: a body that is not JSON: 400, ``{"error": "<message>"}`` (doc "Errors": every error
  is ``{"error": <message>}``; the server's JSON parse error is INVALID_ARGUMENT → 400)
- ``tfs.error_request``: neither ``instances`` nor ``inputs``, or both: 400 in the error shape (doc: "the
  request must have exactly one of instances or inputs")
- ``tfs.error_unknown``: status and predict of a model that is not served: 404 in the error shape (the server
  maps NOT_FOUND "Servable not found" to 404)
- ``tfs.alive_after_errors``: after those bad requests the same predict still answers 200 with the same
  predictions
- ``tfs.auth``: (with an API key) no key or a wrong key → 401 in the error shape, the right key → 200 (not TF
  Serving's: the course's hardening, in its error shape)
- ``tfs.body_limit``: (with ``max_body_bytes``) a valid body of exactly the limit is served, one byte more is
  413 in the error shape (the course's hardening)

Instances: the ones given (rows of named columns or nested lists), else zeros shaped by the metadata's
signature when every input is numeric.
"""

from __future__ import annotations

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
    plain_error,
    shape_of,
)

STATES = {"START", "LOADING", "AVAILABLE", "UNLOADING", "END", "UNKNOWN"}
UNKNOWN_MODEL = "conformance-no-such-model"


def detect(ctx: Context) -> str | None:
    """None when the server answers TF Serving's model status for ``ctx.model``, else why it is skipped."""
    if not ctx.model:
        return "no model given (--model NAME): TF Serving has no route that lists models"
    r = ctx.request("GET", f"/v1/models/{ctx.model}")
    if r.status_code in (401, 403):
        raise Failure(f"GET /v1/models/{ctx.model}: {describe(r)}; give the API key (--api-key)")
    try:
        body = r.json()
    except ValueError:
        body = None
    if r.status_code == 200 and isinstance(body, dict) and "model_version_status" in body:
        return None
    return f"GET /v1/models/{ctx.model} is not TF Serving's model status: {describe(r)}"


def _path(ctx: Context, suffix: str = "") -> str:
    return f"/v1/models/{ctx.model}{suffix}"


def _signature_inputs(ctx: Context) -> dict:
    """The inputs of the ``serving_default`` signature (or the only one) from the model metadata."""

    def fetch():
        body = ok_json(ctx.request("GET", _path(ctx, "/metadata")), f"GET {_path(ctx, '/metadata')}")
        sigs = body["metadata"]["signature_def"]["signature_def"]
        sig = sigs.get("serving_default") or next(iter(sigs.values()))
        return sig["inputs"]

    return ctx.remember("tfs.signature_inputs", fetch)


def instances(ctx: Context) -> list:
    """The instances to send: the given ones, else two instances of zeros shaped by the signature."""
    if ctx.instances is not None:
        return ctx.instances

    def make():
        try:
            inputs = _signature_inputs(ctx)
        except (Failure, KeyError, TypeError, StopIteration, AttributeError):
            raise Skip(
                "no instances given (--instances FILE) and no usable metadata to make them from"
            ) from None
        strings = [n for n, t in inputs.items() if t.get("dtype") == "DT_STRING"]
        if strings:
            raise Skip(f"inputs {strings} are strings: give example instances (--instances FILE)")

        def zeros(dims):
            return 0.0 if not dims else [zeros(dims[1:]) for _ in range(dims[0])]

        shapes = {
            n: [max(int(d["size"]), 1) for d in t["tensor_shape"]["dim"]][1:] for n, t in inputs.items()
        }
        row = (
            zeros(next(iter(shapes.values())))
            if len(shapes) == 1
            else {n: zeros(s) for n, s in shapes.items()}
        )
        return [row, row]

    return ctx.remember("tfs.instances", make)


def columnar(rows: list):
    """The columnar form of row-format instances: ``{column: [values]}`` or the batched list itself."""
    if all(isinstance(r, dict) for r in rows):
        return {c: [r[c] for r in rows] for c in rows[0]}
    return rows


def predictions(ctx: Context) -> list:
    """The row-format predictions of the instances (the first answer, kept for comparison)."""

    def make():
        rows = instances(ctx)
        r = ctx.request("POST", _path(ctx, ":predict"), {"instances": rows})
        body = ok_json(r, f"POST {_path(ctx, ':predict')} (row format, {len(rows)} instances)")
        expect(
            isinstance(body, dict) and isinstance(body.get("predictions"), list),
            f'row format must answer {{"predictions": [...]}}, got {describe(r)}',
        )
        expect(
            len(body["predictions"]) == len(rows),
            f"{len(rows)} instances got {len(body['predictions'])} predictions (one per instance, in order)",
        )
        return body["predictions"]

    return ctx.remember("tfs.predictions", make)


@check(
    "tfs.status",
    "GET /v1/models/{m}: model_version_status lists versions, one AVAILABLE (REST doc; "
    "testGetModelStatusREST)",
)
def status(ctx: Context) -> str:
    path = _path(ctx)
    body = ok_json(ctx.request("GET", path), f"GET {path}")
    versions = body.get("model_version_status") if isinstance(body, dict) else None
    expect(
        isinstance(versions, list) and versions, f"GET {path}: model_version_status must be a non-empty list"
    )
    for v in versions:
        expect(
            isinstance(v, dict) and isinstance(v.get("version"), str) and v["version"].isdigit(),
            f"GET {path}: each version must be a string of digits, got {v!r}",
        )
        expect(
            v.get("state") in STATES, f"GET {path}: state {v.get('state')!r} is not one of {sorted(STATES)}"
        )
        expect(
            isinstance(v.get("status"), dict) and isinstance(v["status"].get("error_code", "OK"), str),
            f"GET {path}: status must be an object with error_code, got {v.get('status')!r}",
        )
    expect(
        any(v["state"] == "AVAILABLE" for v in versions), f"GET {path}: no version is AVAILABLE: {versions}"
    )
    return f"versions {[v['version'] for v in versions]}, AVAILABLE"


@check(
    "tfs.metadata",
    "GET /v1/models/{m}/metadata: model_spec and signature_def (REST doc; testGetModelMetadataREST)",
)
def metadata(ctx: Context) -> str:
    path = _path(ctx, "/metadata")
    body = ok_json(ctx.request("GET", path), f"GET {path}")
    spec = body.get("model_spec") if isinstance(body, dict) else None
    expect(
        isinstance(spec, dict) and spec.get("name") == ctx.model and isinstance(spec.get("version"), str),
        f"GET {path}: model_spec must name {ctx.model!r} and give the version as a string, got {spec!r}",
    )
    try:
        sigs = body["metadata"]["signature_def"]["signature_def"]
    except (KeyError, TypeError):
        raise Failure(
            f"GET {path}: no metadata.signature_def.signature_def in {describe(ctx.request('GET', path))}"
        ) from None
    expect(
        isinstance(sigs, dict)
        and sigs
        and all(isinstance(s, dict) and "inputs" in s and "outputs" in s for s in sigs.values()),
        f"GET {path}: every signature must have inputs and outputs, got {list(sigs) if sigs else sigs}",
    )
    return f"version {spec['version']}, signatures {sorted(sigs)}"


@check(
    "tfs.predict_row",
    "POST :predict {instances}: 200, one prediction per instance (REST doc; testPredictREST)",
)
def predict_row(ctx: Context) -> str:
    found = predictions(ctx)
    return f"{len(found)} predictions, shape {shape_of(found)}"


@check(
    "tfs.predict_columnar",
    "POST :predict {inputs}: 200, {outputs} equal to the row format's (REST doc, column format)",
)
def predict_columnar(ctx: Context) -> str:
    path, rows = _path(ctx, ":predict"), instances(ctx)
    r = ctx.request("POST", path, {"inputs": columnar(rows)})
    body = ok_json(r, f"POST {path} (columnar format)")
    expect(
        isinstance(body, dict) and "outputs" in body,
        f'columnar format must answer {{"outputs": ...}}, got {describe(r)}',
    )
    expected = predictions(ctx)
    expect(
        close(body["outputs"], expected),
        f"columnar outputs {str(body['outputs'])[:80]} differ from the row "
        f"format's predictions {str(expected)[:80]}",
    )
    return "outputs equal the row format's predictions"


@check("tfs.error_malformed", 'a body that is not JSON: 400 {"error": "..."} (REST doc, errors)')
def error_malformed(ctx: Context) -> str:
    path = _path(ctx, ":predict")
    return plain_error(
        ctx.request("POST", path, content=b'{"instances": ['), f"POST {path} with broken JSON", (400,)
    )


@check(
    "tfs.error_request",
    "neither or both of instances/inputs: 400 in the error shape (REST doc, request format)",
)
def error_request(ctx: Context) -> str:
    path, rows = _path(ctx, ":predict"), instances(ctx)
    plain_error(ctx.request("POST", path, {"instance": rows}), f"POST {path} without 'instances'", (400,))
    return plain_error(
        ctx.request("POST", path, {"instances": rows, "inputs": columnar(rows)}),
        f"POST {path} with both 'instances' and 'inputs'",
        (400,),
    )


@check("tfs.error_unknown", "status and predict of a model that is not served: 404 in the error shape")
def error_unknown(ctx: Context) -> str:
    path = f"/v1/models/{UNKNOWN_MODEL}"
    plain_error(ctx.request("GET", path), f"GET {path}", (404,))
    return plain_error(
        ctx.request("POST", path + ":predict", {"instances": instances(ctx)}), f"POST {path}:predict", (404,)
    )


@check("tfs.alive_after_errors", "after the bad requests the same predict answers the same predictions")
def alive_after_errors(ctx: Context) -> str:
    path = _path(ctx, ":predict")
    expected = predictions(ctx)
    r = ctx.request("POST", path, {"instances": instances(ctx)})
    body = ok_json(r, f"POST {path} after the bad requests")
    expect(
        close(body_json(r, path).get("predictions"), expected),
        f"POST {path} after the bad requests answered {str(body)[:80]}, before {str(expected)[:80]}",
    )
    return "200, same predictions"


@check("tfs.auth", "no key / a wrong key: 401 in the error shape; the right key: 200", needs=("api_key",))
def auth_check(ctx: Context) -> str:
    return auth(ctx, "POST", _path(ctx, ":predict"), {"instances": instances(ctx)}, plain_error)


@check(
    "tfs.body_limit",
    "a valid body of exactly max_body_bytes is served; one byte more: 413 in the error shape",
    needs=("max_body_bytes",),
)
def body_limit_check(ctx: Context) -> str:
    return body_limit(ctx, _path(ctx, ":predict"), {"instances": instances(ctx)}, plain_error)
