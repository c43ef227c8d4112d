"""Used by the conformance kit (:mod:`aiaas_lib.conformance`, ``aiaas conformance``; notebook 12).

The Open Inference Protocol (KServe V2) over REST, checked by base URL and model name. The rules come from
the specification (kserve/open-inference-protocol, ``specification/protocol/inference_rest.md``; sections
"Health", "Server Metadata", "Model Metadata", "Inference", "Tensor Data", "Errors"):

- ``oip.health``: ``GET /v2/health/live`` and ``/v2/health/ready``: 200 ("Health": the status code is the
  answer, 200 true, 4xx false)
- ``oip.server_metadata``: ``GET /v2``: ``{name: str, version: str, extensions: [str]}`` ("Server Metadata")
- ``oip.model_ready``: ``GET /v2/models/{m}/ready``: 200 ("Health", model ready)
- ``oip.model_metadata``: ``GET /v2/models/{m}``: ``name`` is m, ``platform`` a string, ``versions`` strings,
  ``inputs``/``outputs`` lists of ``{name, datatype, shape}`` with a valid datatype and integer dims (-1
  variable) ("Model Metadata")
- ``oip.infer``: ``POST /v2/models/{m}/infer`` with tensors built from the metadata: 200, ``model_name`` m,
  the request ``id`` returned, outputs ``{name, shape, datatype, data}`` whose data has prod(shape) elements
  and the batch as first dim ("Inference": "if id is specified in the request it must be returned in the
  response"; "Tensor Data")
- ``oip.error_malformed``: a body that is not JSON: 400, ``{"error": "<message>"}`` ("Errors":
  ``$inference_error_response = {"error": <error message string>}``)
- ``oip.error_tensor``: a tensor whose data does not fill its shape: 400 in the error shape ("Tensor Data":
  the data must hold prod(shape) elements)
- ``oip.error_unknown``: metadata of an unknown model: 4xx in the error shape; its ready route not 200 ("Model
  Metadata" error response; "Health": 4xx means not ready)
- ``oip.alive_after_errors``: after those bad requests the same infer answers 200 with the same outputs
- ``oip.auth``: (with an API key) no key / a wrong key → 401 in the error shape (the course's hardening;
  health routes may stay public)
- ``oip.body_limit``: (with ``max_body_bytes``) exactly the limit served, one byte more 413 (the course's)

Tensors: from the given instances (rows of named columns: one tensor per column; nested lists: one tensor
for the model's only input), else zeros of the metadata's shapes when every input is numeric.
"""

from __future__ import annotations

import math

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
    flat,
    ok_json,
    plain_error,
    shape_of,
)

DATATYPES = {
    "BOOL",
    "UINT8",
    "UINT16",
    "UINT32",
    "UINT64",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "FP16",
    "FP32",
    "FP64",
    "BYTES",
    "BF16",
}
UNKNOWN_MODEL = "conformance-no-such-model"
REQUEST_ID = "conformance-request-1"


def detect(ctx: Context) -> str | None:
    """None when ``GET /v2/health/live`` is 200 or ``GET /v2`` is server metadata, else why it is skipped."""
    live = ctx.request("GET", "/v2/health/live")
    if live.status_code == 200:
        return None
    meta = ctx.request("GET", "/v2")
    if meta.status_code in (401, 403):
        raise Failure(f"GET /v2: {describe(meta)}; give the API key (--api-key)")
    try:
        body = meta.json()
    except ValueError:
        body = None
    if meta.status_code == 200 and isinstance(body, dict) and "extensions" in body:
        return None
    return f"GET /v2/health/live answered {live.status_code} and GET /v2 is not server metadata"


def _model(ctx: Context) -> str:
    if not ctx.model:
        raise Skip("no model given (--model NAME): the protocol has no route that lists models")
    return ctx.model


def _metadata(ctx: Context) -> dict:
    def fetch():
        path = f"/v2/models/{_model(ctx)}"
        body = ok_json(ctx.request("GET", path), f"GET {path}")
        expect(isinstance(body, dict), f"GET {path}: model metadata must be an object")
        return body

    return ctx.remember("oip.metadata", fetch)


def tensors(ctx: Context) -> list[dict]:
    """The request's input tensors: from the given instances, else zeros of the metadata's shapes."""

    def make():
        try:
            inputs = _metadata(ctx)["inputs"]
            specs = {t["name"]: t for t in inputs}
        except (Failure, KeyError, TypeError):
            raise Skip("cannot build input tensors: the model metadata has no usable inputs") from None
        rows = ctx.instances
        if rows is None:
            strings = [n for n, t in specs.items() if t.get("datatype") == "BYTES"]
            if strings:
                raise Skip(f"inputs {strings} are BYTES: give example instances (--instances FILE)")
            out = []
            for name, t in specs.items():
                shape = [2 if i == 0 else max(int(d), 1) for i, d in enumerate(t["shape"])]
                out.append(
                    {"name": name, "datatype": t["datatype"], "shape": shape, "data": [0] * math.prod(shape)}
                )
            return out
        n = len(rows)
        if all(isinstance(r, dict) for r in rows):
            out = []
            for name, t in specs.items():
                values = flat([r[name] for r in rows])
                values = [str(v) for v in values] if t["datatype"] == "BYTES" else values
                inner = [max(int(d), 1) for d in t["shape"][1:]]
                shape = [n, *inner] if math.prod(inner) * n == len(values) else [len(values)]
                out.append({"name": name, "datatype": t["datatype"], "shape": shape, "data": values})
            return out
        if len(specs) != 1:
            raise Skip(
                f"instances are tensors but the model has {len(specs)} inputs: give rows of named inputs"
            )
        ((name, t),) = specs.items()
        return [{"name": name, "datatype": t["datatype"], "shape": shape_of(rows), "data": flat(rows)}]

    return ctx.remember("oip.tensors", make)


def _infer_body(ctx: Context) -> dict:
    return {"id": REQUEST_ID, "inputs": tensors(ctx)}


def outputs(ctx: Context) -> list:
    """The outputs of the first infer (kept to compare later answers with)."""

    def make():
        path = f"/v2/models/{_model(ctx)}/infer"
        sent = _infer_body(ctx)
        r = ctx.request("POST", path, sent)
        body = ok_json(r, f"POST {path}")
        expect(
            isinstance(body, dict) and body.get("model_name") == ctx.model,
            f"POST {path}: the response must name the model (model_name={ctx.model!r}), got {describe(r)}",
        )
        expect(
            body.get("id") == REQUEST_ID,
            f"POST {path}: the request's id {REQUEST_ID!r} must be returned, got {body.get('id')!r}",
        )
        outs = body.get("outputs")
        expect(
            isinstance(outs, list) and outs,
            f"POST {path}: outputs must be a non-empty list, got {describe(r)}",
        )
        batch = sent["inputs"][0]["shape"][0]
        for o in outs:
            expect(
                isinstance(o, dict) and isinstance(o.get("name"), str) and o.get("datatype") in DATATYPES,
                f"POST {path}: each output needs a name and a valid datatype, got {str(o)[:120]}",
            )
            shape = o.get("shape")
            expect(
                isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape),
                f"POST {path}: output {o['name']!r} shape must be a list of non-negative ints, got {shape!r}",
            )
            expect(
                len(flat(o.get("data"))) == math.prod(shape),
                f"POST {path}: output {o['name']!r} has {len(flat(o.get('data')))} values for shape {shape}",
            )
            expect(
                shape and shape[0] == batch,
                f"POST {path}: output {o['name']!r} shape {shape} does not start with the batch size {batch}",
            )
        return outs

    return ctx.remember("oip.outputs", make)


@check("oip.health", "GET /v2/health/live and /v2/health/ready: 200 (spec: Health)")
def health(ctx: Context) -> str:
    for path in ("/v2/health/live", "/v2/health/ready"):
        r = ctx.request("GET", path)
        expect(r.status_code == 200, f"GET {path}: expected 200, got {describe(r)}")
    return "live 200, ready 200"


@check("oip.server_metadata", "GET /v2: {name, version, extensions} (spec: Server Metadata)")
def server_metadata(ctx: Context) -> str:
    body = ok_json(ctx.request("GET", "/v2"), "GET /v2")
    expect(
        isinstance(body, dict)
        and isinstance(body.get("name"), str)
        and isinstance(body.get("version"), str)
        and isinstance(body.get("extensions"), list)
        and all(isinstance(e, str) for e in body["extensions"]),
        f"GET /v2: expected {{name: str, version: str, extensions: [str]}}, got {str(body)[:120]}",
    )
    return f"{body['name']} {body['version']}, extensions {body['extensions']}"


@check("oip.model_ready", "GET /v2/models/{m}/ready: 200 (spec: Health, model ready)")
def model_ready(ctx: Context) -> str:
    path = f"/v2/models/{_model(ctx)}/ready"
    r = ctx.request("GET", path)
    expect(r.status_code == 200, f"GET {path}: expected 200, got {describe(r)}")
    return "200"


@check(
    "oip.model_metadata",
    "GET /v2/models/{m}: name, platform, versions, inputs and outputs with valid "
    "datatypes and shapes (spec: Model Metadata)",
)
def model_metadata(ctx: Context) -> str:
    body, path = _metadata(ctx), f"/v2/models/{_model(ctx)}"
    expect(body.get("name") == ctx.model, f"GET {path}: name must be {ctx.model!r}, got {body.get('name')!r}")
    expect(
        isinstance(body.get("platform"), str),
        f"GET {path}: platform must be a string, got {body.get('platform')!r}",
    )
    versions = body.get("versions", [])
    expect(
        isinstance(versions, list) and all(isinstance(v, str) for v in versions),
        f"GET {path}: versions must be a list of strings, got {versions!r}",
    )
    for part in ("inputs", "outputs"):
        tensors_ = body.get(part)
        expect(isinstance(tensors_, list) and tensors_, f"GET {path}: {part} must be a non-empty list")
        for t in tensors_:
            expect(
                isinstance(t, dict)
                and isinstance(t.get("name"), str)
                and t.get("datatype") in DATATYPES
                and isinstance(t.get("shape"), list)
                and all(isinstance(d, int) and d >= -1 for d in t["shape"]),
                f"GET {path}: each of {part} needs name, a datatype in the spec's list and integer dims, got "
                f"{str(t)[:120]}",
            )
    return f"{len(body['inputs'])} inputs, {len(body['outputs'])} outputs, platform {body['platform']!r}"


@check(
    "oip.infer",
    "POST /v2/models/{m}/infer: model_name, the id returned, outputs whose data fill their shapes "
    "(spec: Inference, Tensor Data)",
)
def infer(ctx: Context) -> str:
    outs = outputs(ctx)
    return ", ".join(f"{o['name']} {o['datatype']} {o['shape']}" for o in outs)


@check("oip.error_malformed", 'a body that is not JSON: 400 {"error": "..."} (spec: Errors)')
def error_malformed(ctx: Context) -> str:
    path = f"/v2/models/{_model(ctx)}/infer"
    return plain_error(
        ctx.request("POST", path, content=b'{"inputs": ['), f"POST {path} with broken JSON", (400,)
    )


@check(
    "oip.error_tensor",
    "a tensor whose data does not fill its shape: 400 in the error shape (spec: Tensor Data)",
)
def error_tensor(ctx: Context) -> str:
    path = f"/v2/models/{_model(ctx)}/infer"
    broken = [dict(t) for t in tensors(ctx)]
    broken[0]["shape"] = [len(flat(broken[0]["data"])) + 1]
    return plain_error(
        ctx.request("POST", path, {"inputs": broken}),
        f"POST {path} with shape {broken[0]['shape']} but {len(flat(broken[0]['data']))} values",
        (400,),
    )


@check(
    "oip.error_unknown",
    "an unknown model: metadata 4xx in the error shape, ready not 200 (spec: Model Metadata, Health)",
)
def error_unknown(ctx: Context) -> str:
    path = f"/v2/models/{UNKNOWN_MODEL}"
    ready = ctx.request("GET", path + "/ready")
    expect(
        400 <= ready.status_code < 500,
        f"GET {path}/ready: an unknown model must not be ready (4xx), got {describe(ready)}",
    )
    return plain_error(ctx.request("GET", path), f"GET {path}", range(400, 500))


@check("oip.alive_after_errors", "after the bad requests the same infer answers the same outputs")
def alive_after_errors(ctx: Context) -> str:
    path = f"/v2/models/{_model(ctx)}/infer"
    expected = outputs(ctx)
    r = ctx.request("POST", path, _infer_body(ctx))
    body = ok_json(r, f"POST {path} after the bad requests")
    found = body_json(r, path).get("outputs") if isinstance(body, dict) else None
    expect(
        isinstance(found, list)
        and len(found) == len(expected)
        and all(close(a.get("data"), b.get("data")) for a, b in zip(found, expected)),
        f"POST {path} after the bad requests answered {str(found)[:80]}, before {str(expected)[:80]}",
    )
    return "200, same outputs"


@check("oip.auth", "no key / a wrong key: 401 in the error shape; the right key: 200", needs=("api_key",))
def auth_check(ctx: Context) -> str:
    return auth(ctx, "POST", f"/v2/models/{_model(ctx)}/infer", _infer_body(ctx), plain_error)


@check(
    "oip.body_limit",
    "a valid body of exactly max_body_bytes is served; one byte more: 413 in the error shape",
    needs=("max_body_bytes",),
)
def body_limit_check(ctx: Context) -> str:
    return body_limit(ctx, f"/v2/models/{_model(ctx)}/infer", _infer_body(ctx), plain_error)
