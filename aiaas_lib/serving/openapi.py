"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

The service's OpenAPI document (``/openapi.json``, rendered by ``/docs`` and ``/redoc``), in each protocol's
own terms: request bodies, every answered status with its error shape, and runnable examples.

The routes read their raw request (the fast path: no pydantic model per request), so FastAPI alone would
document no bodies. :func:`openapi_document` starts from FastAPI's document and fills in, from what the
service serves:

- **per-model operations**: a request body depends on the model (a churn row has 19 named fields, a
  Fashion-MNIST instance is a 28×28×1 array, a multi-input (``tensors``) instance an object of named arrays),
  so ``:predict``, ``:explain`` and ``infer`` are documented once per served model of their kind, on its own path (``/v1/models/churn:predict``), with the model's exact
  schema (fields, types, allowed categories, number range) and an example built from its background rows;
  the OpenAI routes name their models in ``model``'s enum;
- **responses**: the reply's shape, and every error status a route answers, each with its protocol's
  error body (``{"error": "..."}``; OpenAI's ``{"error": {"message", "type", "param", "code"}}``);
- ``/metrics`` as Prometheus text; API-key security when keys are configured.

The schemas say exactly what the service accepts (checked by schemathesis in ``tests/test_schemathesis.py``
and ``bench/schemathesis_serve.py``): a request valid by the schema is answered 2xx (or 404/503 for a model
that is not served or not loaded), one that is not gets a 4xx.
"""
from __future__ import annotations

from typing import Any

from aiaas_lib.serving.runtime import MAX_ABS_INPUT

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}},
         "example": {"error": "model 'x' is not served; served models: ['churn', 'fashion']"}}
OPENAI_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["message", "type"],
    "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                   "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}}}}}
_WHY = {400: "bad input: the message names the field and what is allowed",
        401: "missing or invalid API key (when the service has keys)",
        404: "unknown model, version, label or route",
        405: "method not allowed on this path (the Allow header lists the allowed ones)",
        409: "the registry's labels do not allow this reload",
        413: "body larger than max_body_bytes, or more instances than max_instances",
        415: "the body is not JSON (Content-Type) or is compressed",
        429: "rate limit exceeded (Retry-After says when to retry)",
        500: "a fault on the server's side: the message names the model and what to tell its owner",
        503: "the model is still loading or the batch queue is full (retry after Retry-After seconds)"}
NUMBER = {"type": "number", "minimum": -MAX_ABS_INPUT, "maximum": MAX_ABS_INPUT}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _json(schema: dict, example: Any = None) -> dict:
    media = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def _errors(statuses, openai: bool = False) -> dict:
    shape = {"$ref": "#/components/schemas/OpenAIError" if openai else "#/components/schemas/Error"}
    return {str(s): {"description": _WHY[s], "content": _json(shape)} for s in statuses}


# ------------------------------------------------------------------------------------- model schemas
def _tabular_row(meta: dict) -> dict:
    """A churn-like row: every column required, numbers (or a one-element list of one), categories by name."""
    schema = meta["input_schema"]
    props = {}
    for col in schema["numeric"]:
        props[col] = {"anyOf": [NUMBER, {"type": "array", "items": NUMBER, "minItems": 1, "maxItems": 1}]}
    for col, allowed in schema["categorical"].items():
        one = {"enum": _category_values(allowed)}
        props[col] = {"anyOf": [one, {"type": "array", "items": one, "minItems": 1, "maxItems": 1}]}
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def _category_values(allowed) -> list:
    """The JSON values the service takes for a category: its names, and the integer of a name like "0" (a
    category is compared as text, so 0 is "0")."""
    return list(allowed) + [int(v) for v in allowed if v.lstrip("-").isdigit() and str(int(v)) == v]


def _tensor(shape: list[int]) -> dict:
    schema: dict = NUMBER
    for size in reversed(shape):
        schema = {"type": "array", "items": schema, "minItems": size, "maxItems": size}
    return schema


def _instances_schema(meta: dict, input_name: str | None) -> dict:
    if meta["kind"] == "tabular":
        return {"type": "array", "items": _tabular_row(meta), "minItems": 1}
    if meta["kind"] == "tensors":  # one object of named inputs per instance, each an array of its shape
        props = {n: _tensor([int(d) for d in shape]) for n, shape in meta["inputs"].items()}
        return {"type": "array", "minItems": 1, "items": {"type": "object", "properties": props,
                                                          "required": list(props), "additionalProperties": False}}
    tensor = _tensor([int(d) for d in meta["input_shape"]])
    named = {"type": "object", "properties": {input_name: tensor}, "required": [input_name],
             "additionalProperties": False}
    return {"anyOf": [{"type": "array", "items": tensor, "minItems": 1},
                      {"type": "array", "items": named, "minItems": 1}]}


def example_instance(meta: dict):
    """One runnable instance of a tabular, tensor or multi-input (``tensors``) model: its first background row,
    or zeros of its shape.

    Examples
    --------
    >>> example_instance({"kind": "tensor", "input_shape": [2, 1]})
    [[0.0], [0.0]]
    >>> example_instance({"kind": "tensors", "inputs": {"image": [2, 1], "meta": [3]}})
    {'image': [[0.0], [0.0]], 'meta': [0.0, 0.0, 0.0]}
    """
    if meta.get("kind") == "tensors":
        rows = meta.get("background") or {}
        if rows:
            return {n: rows[n][0] for n in meta["inputs"]}
        return {n: _zeros(shape) for n, shape in meta["inputs"].items()}
    if meta.get("kind") == "tabular":
        rows = meta.get("background") or []
        if rows:
            return dict(rows[0])
        schema = meta["input_schema"]
        row = {c: (r.get("min", 0) if isinstance(r, dict) else 0) for c, r in schema["numeric"].items()}
        row.update({c: allowed[0] for c, allowed in schema["categorical"].items()})
        return row
    return _zeros(meta["input_shape"])


def _zeros(shape) -> Any:
    """Nested lists of 0.0 of ``shape``."""
    value: Any = 0.0
    for size in reversed([int(d) for d in shape]):
        value = [value] * size
    return value


def _predict_body(meta: dict, input_name: str | None) -> dict:
    schema = {"type": "object", "required": ["instances"], "additionalProperties": False,
              "properties": {"instances": _instances_schema(meta, input_name),
                             "signature_name": {"enum": ["serving_default"]}},
              "description": "TF Serving's row format (the columnar `inputs` format is accepted too)."}
    return {"required": True, "content": _json(schema, {"instances": [example_instance(meta)]})}


def _v2_inputs(meta: dict, input_name: str | None) -> tuple[dict, list]:
    """The V2 ``inputs`` of one instance, in the order of the model's inputs, and an example of it."""
    from aiaas_lib.serving.kserve import NUMERIC_DATATYPES

    if meta["kind"] == "tensor":
        shape = [int(d) for d in meta["input_shape"]]
        size = 1
        for d in shape:
            size *= d
        tensor = {"type": "object", "required": ["name", "shape", "datatype", "data"],
                  "properties": {"name": {"enum": [input_name]}, "shape": {"enum": [[1, *shape]]},
                                 "datatype": {"enum": list(NUMERIC_DATATYPES)},
                                 "data": {"type": "array", "items": NUMBER, "minItems": size, "maxItems": size}}}
        example = [{"name": input_name, "shape": [1, *shape], "datatype": "FP32", "data": [0.0] * size}]
        return {"type": "array", "prefixItems": [tensor], "items": False, "minItems": 1}, example
    if meta["kind"] == "tensors":
        import numpy as np

        row, items, example = example_instance(meta), [], []
        for n, shape in meta["inputs"].items():
            shape = [int(d) for d in shape]
            size = int(np.prod(shape))
            items.append({"type": "object", "required": ["name", "shape", "datatype", "data"], "properties": {
                "name": {"enum": [n]}, "shape": {"enum": [[1, *shape]]}, "datatype": {"enum": list(NUMERIC_DATATYPES)},
                "data": {"type": "array", "items": NUMBER, "minItems": size, "maxItems": size}}})
            example.append({"name": n, "shape": [1, *shape], "datatype": "FP32",
                            "data": np.asarray(row[n], np.float64).ravel().tolist()})
        return {"type": "array", "prefixItems": items, "items": False, "minItems": len(items)}, example
    schema, row = meta["input_schema"], example_instance(meta)
    items, example = [], []
    for col in schema["numeric"]:
        items.append({"type": "object", "required": ["name", "shape", "datatype", "data"], "properties": {
            "name": {"enum": [col]}, "shape": {"enum": [[1], [1, 1]]}, "datatype": {"enum": list(NUMERIC_DATATYPES)},
            "data": {"type": "array", "items": NUMBER, "minItems": 1, "maxItems": 1}}})
        example.append({"name": col, "shape": [1, 1], "datatype": "FP32", "data": [row[col]]})
    for col, allowed in schema["categorical"].items():
        items.append({"type": "object", "required": ["name", "shape", "datatype", "data"], "properties": {
            "name": {"enum": [col]}, "shape": {"enum": [[1], [1, 1]]}, "datatype": {"enum": ["BYTES"]},
            "data": {"type": "array", "items": {"enum": _category_values(allowed)}, "minItems": 1, "maxItems": 1}}})
        example.append({"name": col, "shape": [1, 1], "datatype": "BYTES", "data": [str(row[col])]})
    return {"type": "array", "prefixItems": items, "items": False, "minItems": len(items)}, example


def _infer_body(meta: dict, input_name: str | None, output: str) -> dict:
    inputs, example = _v2_inputs(meta, input_name)
    params = {"type": ["object", "null"]}
    schema = {"type": "object", "required": ["inputs"], "additionalProperties": False, "properties": {
        "id": {"type": ["string", "null"]}, "inputs": inputs, "parameters": params,
        "outputs": {"type": ["array", "null"], "items": {"type": "object", "required": ["name"],
                                                         "properties": {"name": {"enum": [output]},
                                                                        "parameters": params}}}},
        "description": "One instance per request is documented (shape [1, ...]); any n works alike."}
    return {"required": True, "content": _json(schema, {"inputs": example})}


def _explainable(meta: dict) -> bool:
    """Served ``:explain``: a tabular model with background rows, or any tensor or multi-input model."""
    return meta["kind"] != "tabular" or bool(meta.get("background"))


def _explain_body(meta: dict, max_rows: int, input_name: str | None) -> dict:
    schema = {"type": "object", "required": ["instances"], "additionalProperties": False, "properties": {
        "instances": _instances_schema(meta, input_name)},
        "description": f"At most {max_rows} rows (max_explain_instances)."}
    return {"required": True, "content": _json(schema, {"instances": [example_instance(meta)]})}


# ------------------------------------------------------------------------------------------- OpenAI
def _openai_bodies(generation: dict, embedding: dict) -> dict:
    """Request bodies of the OpenAI routes; ``generation``/``embedding``: {served model name: runtime metadata}."""
    from aiaas_lib.generation.params import MAX_STOP, MAX_TOP_LOGPROBS
    from aiaas_lib.generation.tokenizer import CHAT_ROLES
    from aiaas_lib.serving.openai_api import MAX_COMPLETION_LOGPROBS, MAX_N, MAX_PROMPTS

    context = min((m["context"] for m in generation.values()), default=2)
    vocab = min((m["vocab_size"] for m in generation.values()), default=1)
    gen_models = sorted(generation) or ["(no generation model is served)"]
    stop = {"anyOf": [{"type": "string", "minLength": 1},
                      {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": MAX_STOP}]}
    sampling = {
        "model": {"enum": gen_models},
        "max_tokens": _nullable({"type": "integer", "minimum": 1, "maximum": max(context - 1, 1)}),
        "temperature": _nullable({"type": "number", "minimum": 0, "maximum": 2}),
        "top_p": _nullable({"type": "number", "exclusiveMinimum": 0, "maximum": 1}),
        "top_k": _nullable({"type": "integer", "minimum": 0}),
        "n": _nullable({"type": "integer", "minimum": 1, "maximum": MAX_N}),
        "stop": _nullable(stop),
        "stream": _nullable({"type": "boolean"}),
        "frequency_penalty": _nullable({"type": "number", "minimum": -2, "maximum": 2}),
        "presence_penalty": _nullable({"type": "number", "minimum": -2, "maximum": 2}),
        "seed": _nullable({"type": "integer", "minimum": 0}),
        "user": _nullable({"type": "string"}),
    }
    with_usage = {"if": {"required": ["stream_options"], "properties": {"stream_options": {"type": "object"}}},
                  "then": {"required": ["stream"], "properties": {"stream": {"const": True}}}}
    stream_options = _nullable({"type": "object", "additionalProperties": False,
                                "properties": {"include_usage": {"type": "boolean"}}})
    ids = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": vocab - 1}, "minItems": 1}
    text = {"type": "string", "minLength": 1}
    completion = {"type": "object", "required": ["model", "prompt"], "additionalProperties": False, "properties": {
        **sampling, "stream_options": stream_options,
        "prompt": {"anyOf": [text, ids, {"type": "array", "items": {"anyOf": [text, ids]}, "minItems": 1,
                                         "maxItems": MAX_PROMPTS}]},
        "echo": _nullable({"type": "boolean"}),
        "logprobs": _nullable({"type": "integer", "minimum": 0, "maximum": MAX_COMPLETION_LOGPROBS})},
        "allOf": [with_usage, {"not": {"required": ["echo", "logprobs"], "properties": {
            "echo": {"const": True}, "logprobs": {"type": "integer"}}}}]}
    content = {"anyOf": [{"type": "string"}, {"type": "array", "items": {
        "type": "object", "required": ["type", "text"], "additionalProperties": False,
        "properties": {"type": {"const": "text"}, "text": {"type": "string"}}}}]}
    message = {"type": "object", "required": ["role", "content"], "additionalProperties": False,
               "properties": {"role": {"enum": list(CHAT_ROLES)}, "content": content}}
    chat = {"type": "object", "required": ["model", "messages"], "additionalProperties": False, "properties": {
        **sampling, "stream_options": stream_options,
        "messages": {"type": "array", "items": message, "minItems": 1},
        "max_completion_tokens": _nullable({"type": "integer", "minimum": 1, "maximum": max(context - 1, 1)}),
        "logprobs": _nullable({"type": "boolean"}),
        "top_logprobs": _nullable({"type": "integer", "minimum": 0, "maximum": MAX_TOP_LOGPROBS})},
        "allOf": [with_usage,
                  {"not": {"required": ["max_tokens", "max_completion_tokens"], "properties": {
                      "max_tokens": {"type": "integer"}, "max_completion_tokens": {"type": "integer"}}}},
                  {"if": {"required": ["top_logprobs"], "properties": {"top_logprobs": {"minimum": 1}}},
                   "then": {"required": ["logprobs"], "properties": {"logprobs": {"const": True}}}}]}
    emb_models = sorted(embedding) or ["(no embedding model is served)"]
    dims = sorted({m["dimensions"] for m in embedding.values()}) or [0]
    nonblank = {"type": "string", "pattern": r"\S"}
    embeddings = {"type": "object", "required": ["model", "input"], "additionalProperties": False, "properties": {
        "model": {"enum": emb_models},
        "input": {"anyOf": [nonblank, {"type": "array", "items": nonblank, "minItems": 1}]},
        "encoding_format": _nullable({"enum": ["float", "base64"]}),
        "dimensions": _nullable({"enum": dims}),
        "user": _nullable({"type": "string"})}}
    model = gen_models[0]
    return {
        "/v1/completions": (completion, {"model": model, "prompt": "the cat", "max_tokens": 8, "seed": 0}),
        "/v1/chat/completions": (chat, {"model": model, "max_tokens": 8, "seed": 0, "messages": [
            {"role": "user", "content": "hello"}]}),
        "/v1/embeddings": (embeddings, {"model": emb_models[0], "input": ["a red dress", "blue jeans"]}),
    }


# ----------------------------------------------------------------------------------------- document
_OBJ = {"type": "object"}
_OK = {
    "/v1/models/{name}": {"type": "object", "required": ["model_version_status", "id", "object", "created",
                                                         "owned_by"],
                          "properties": {"model_version_status": {"type": "array"}, "id": {"type": "string"},
                                         "object": {"const": "model"}, "created": {"type": "integer"},
                                         "owned_by": {"type": "string"}}},
    "status": {"type": "object", "required": ["model_version_status"]},
    "metadata": {"type": "object", "required": ["model_spec", "metadata"]},
    ":predict": {"type": "object", "anyOf": [{"required": ["predictions"]}, {"required": ["outputs"]}],
                 "properties": {"predictions": {"type": "array"}, "outputs": {"type": "array"}}},
    ":explain": {"type": "object", "required": ["explanations", "explainer"], "properties": {
        "explanations": {"type": "array", "items": {
            "type": "object", "required": ["base_value", "prediction", "values"], "properties": {
                "base_value": {"type": "number"}, "prediction": {"type": "number"},
                "output_index": {"type": "integer"},
                "values": {"type": ["object", "array"],
                           "description": "per column (tabular), shaped like the instance (tensor), or per "
                                          "input, each shaped like it (tensors)"}}}},
        "explainer": {"type": "object", "required": ["method", "reason", "model_rows_per_instance"], "properties": {
            "method": {"type": "string",
                       "enum": ["deep", "exact", "permutation", "permutation over patches"]}, "reason": {"type": "string"},
            "baseline": {"type": "string"}, "model_rows_per_instance": {"type": "integer"},
            "background_rows": {"type": "integer"}}}}},
    "/infer": {"type": "object", "required": ["model_name", "model_version", "outputs"]},
    "/v1/models": {"type": "object", "required": ["object", "data"], "properties": {
        "object": {"const": "list"}, "data": {"type": "array"}}},
    "/v1/embeddings": {"type": "object", "required": ["object", "data", "model", "usage"]},
    "completions": {"type": "object", "required": ["id", "object", "created", "model", "choices"]},
}
#: Error statuses by kind of operation (a route of a model, a POST with a body, an OpenAI route, ...).
_GET_MODEL = (400, 401, 404, 429, 500, 503)
_POST_MODEL = (400, 401, 404, 413, 415, 429, 500, 503)


def _op_errors(path: str, method: str) -> tuple[tuple[int, ...], bool]:
    """(error statuses, OpenAI shape?) of an operation."""
    if path in ("/v2/health/live", "/docs", "/redoc"):
        return (), False
    if path == "/v2/health/ready":
        return (503,), False
    if path in ("/v1/completions", "/v1/chat/completions", "/v1/embeddings"):
        return _POST_MODEL, True
    if path == "/v1/models":
        return (401, 429), True
    if path in ("/v2", "/metrics"):
        return (401, 429), False
    if path.endswith(":reload"):
        return (400, 401, 404, 409, 413, 415, 429, 500, 503), False
    return (_POST_MODEL if method == "post" else _GET_MODEL), False


def _ok_schema(path: str) -> dict:
    if path in _OK:
        return _OK[path]
    for key in (":predict", ":explain", "/infer"):
        if path.endswith(key):
            return _OK[key]
    if path.endswith("/metadata"):
        return _OK["metadata"]
    if path.startswith("/v1/models/") and ("/versions/" in path or "/labels/" in path):
        return _OK["status"]
    if path.endswith("completions"):
        return _OK["completions"]
    return _OBJ


def _model_params(op: dict, examples: dict) -> None:
    """Path parameters: a model name has no '/' or ':' (a ':' starts a verb), a version is a positive integer;
    ``examples`` (a served model, its version and a label) fill in Swagger UI's "Try it out"."""
    for param in op.get("parameters", []):
        if param.get("in") != "path":
            continue
        if param["name"] in ("name", "label"):
            param["schema"] = {"type": "string", "pattern": "^[^/:]+$", "title": param["name"].title()}
        elif param["name"] == "version":
            param["schema"] = {"type": "string", "pattern": "^[1-9][0-9]{0,8}$", "title": "Version"}
        if examples.get(param["name"]) is not None:
            param["example"] = examples[param["name"]]


def _per_model(doc: dict, models: dict[str, dict], max_explain: int) -> None:
    """Replace each model-specific POST path by one path per served model of a fitting kind."""
    paths = doc["paths"]
    for template in [p for p in paths if "{name}" in p and (p.endswith((":predict", ":explain", "/infer")))]:
        operation = paths.pop(template)["post"]
        for name, (meta, input_name, output) in sorted(models.items()):
            if meta.get("kind") not in ("tabular", "tensor", "tensors"):
                continue
            if template.endswith(":explain"):
                if not _explainable(meta):
                    continue
                body = _explain_body(meta, max_explain, input_name)
            elif template.endswith(":predict"):
                body = _predict_body(meta, input_name)
            else:
                body = _infer_body(meta, input_name, output)
            op = {**operation, "operationId": f"{operation['operationId']}_{name}",
                  "summary": f"{operation.get('summary', '')} ({name})",
                  "parameters": [p for p in operation.get("parameters", []) if p["name"] != "name"],
                  "requestBody": body}
            paths[template.replace("{name}", name)] = {"post": op}


def openapi_document(app) -> dict:
    """The app's OpenAPI document (see the module notes); cached until the served models change."""
    from fastapi.openapi.utils import get_openapi

    svc = app.state.service
    key = tuple((n, e.default) for n, e in sorted(svc.entries.items()))
    if app.openapi_schema is not None and getattr(app.state, "openapi_key", None) == key:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    models = {}
    generation, embedding = {}, {}
    for name, entry in svc.entries.items():
        meta = svc.registry.metadata(name, entry.default)
        rt = entry.runtimes.get(entry.default)
        input_name = getattr(rt, "input_name", None) or _input_name(svc.registry, name, entry.default, meta)
        models[name] = (meta, input_name, str(meta.get("output") or "output"))
        if meta.get("kind") == "generation":
            generation[name] = _generation_facts(svc.registry, name, entry.default, meta, rt)
        elif meta.get("kind") == "embedding" and rt is not None:
            embedding[name] = {"dimensions": rt.dimensions}
        elif meta.get("kind") == "embedding":
            embedding[name] = {"dimensions": int(meta.get("dimensions", 384))}
    _per_model(doc, models, svc.settings.max_explain_instances)
    examples = {}
    for name, entry in sorted(svc.entries.items(), key=lambda item: models[item[0]][0].get("kind") != "tabular"):
        examples = {"name": name, "version": str(entry.default), "label": next(iter(sorted(entry.labels)), None)}
        break
    bodies = _openai_bodies(generation, embedding)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            _model_params(op, examples)
            statuses, openai = _op_errors(path, method)
            ok = dict(op.get("responses", {}).get("200") or {"description": "OK"})
            ok["content"] = _json(_ok_schema(path))
            if path == "/metrics":
                ok["content"] = {"text/plain": {"schema": {"type": "string"}}}
            elif path in ("/v1/completions", "/v1/chat/completions"):
                ok["content"]["text/event-stream"] = {"schema": {  # one server-sent event: a JSON chunk or [DONE]
                    "type": "object", "required": ["data"], "properties": {"data": {"type": "string"}}}}
            elif path.endswith(":reload"):
                op["requestBody"] = {"required": False, "content": _json(
                    {"type": "object", "additionalProperties": False, "properties": {
                        "canary_weight": _nullable({"type": "number", "minimum": 0, "maximum": 1}),
                        "shadow": _nullable({"type": "boolean"})}}, {"canary_weight": 0.1, "shadow": False})}
            if path in bodies:
                schema, example = bodies[path]
                op["requestBody"] = {"required": True, "content": _json(schema, example)}
            op["responses"] = {"200": ok, **_errors(statuses, openai)}
            if svc.keys.enabled and 401 in statuses:
                op["security"] = [{"bearer": []}]
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(Error=ERROR, OpenAIError=OPENAI_ERROR)
    if svc.keys.enabled:
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    if svc.loaded:  # cache only once the models are known (metadata of loaded runtimes)
        app.openapi_schema, app.state.openapi_key = doc, key
    return doc


def _input_name(registry, name, version, meta) -> str | None:
    """The input name of a tensor model that is not loaded yet (None for other kinds)."""
    return None if meta.get("kind") != "tensor" else meta.get("input_name", "input")


def _generation_facts(registry, name, version, meta, rt) -> dict:
    if rt is not None:
        return {"context": rt.context, "vocab_size": rt.tokenizer.vocab_size}
    from aiaas_lib.generation import CharTokenizer

    return {"context": int(meta.get("context", 2)), "vocab_size": CharTokenizer.from_config(meta["tokenizer"]).vocab_size}


def install_openapi(app) -> None:
    """Make ``app.openapi`` (``/openapi.json``) the document of :func:`openapi_document`."""
    app.openapi = lambda: openapi_document(app)
