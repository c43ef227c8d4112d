"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

TensorFlow Serving's REST API (and an explain route in its style).

==========================================================  ====================================================
route                                                       what
==========================================================  ====================================================
``GET  /v1/models/{name}[/versions/{v}|/labels/{l}]``        status: ``{"model_version_status": [...]}`` (without a
                                                            version: also OpenAI's model object, see below)
``GET  /v1/models/{name}[...]/metadata``                     signature, registry metadata, a runnable ``example_request``
``POST /v1/models/{name}[...]:predict``                      ``{"instances": [...]}`` → ``{"predictions": [...]}``,
                                                            ``{"inputs": ...}`` → ``{"outputs": ...}``
``POST /v1/models/{name}[...]:explain``                      ``{"instances": [rows]}`` → ``{"explanations": [...],
                                                            "explainer": {method, reason, baseline, cost}}``;
                                                            tabular, tensor and multi-input models
                                                            (:mod:`.explaining`)
``POST /v1/models/{name}:reload``                            re-read the registry's labels, load, switch; optional
                                                            body ``{"canary_weight": 0.2, "shadow": false}``
``GET  /v1/models/{name}/traffic``                           stable/canary versions, weight, shadow summary
==========================================================  ====================================================

``GET /v1/models/{name}`` is also OpenAI's "retrieve model": its body holds both protocols' keys (they have
none in common), so TF Serving clients and the official ``openai`` client (``models.retrieve``) both read it.
Path parts exclude ``:`` (a ``segment``), so ``/v1/models/m:predict`` never matches a GET route: other
methods there get 405 with ``Allow: POST``.

Every ``:predict`` reply names the version that answered in the ``x-model-version`` header (TF Serving's
body has no field for it); the default route may be answered by a canary (see :mod:`.service`).

Row format (``instances``): a list with one entry per instance — an object of named columns for tabular
models (values may be scalars or one-element lists), a nested list of numbers for tensor models, an object of
named inputs (each a nested list of its shape) for multi-input (``tensors``) models.
Columnar format (``inputs``): an object of column → list of values (tabular), one nested list with a
batch axis (tensor), or an object of input name → batch (tensors). Errors: ``{"error": "..."}`` with 400 (bad
input), 404 (unknown model, version or label), 413 (too large), 503 (loading, overloaded: retry), 500 (the model
failed to load, or a fault on the server's side: the message says which model and what to tell its owner).
"""
from __future__ import annotations

from typing import Annotated

import numpy as np
from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask
from starlette.convertors import Convertor, register_url_convertor

from aiaas_lib.serving.errors import InputError, ServiceError
from aiaas_lib.serving.openai_api import model_object
from aiaas_lib.serving.openapi import example_instance
from aiaas_lib.serving.security import read_json, require_client
from aiaas_lib.serving.service import Service, get_service



class _Segment(Convertor):
    """A path segment without ':' — TF Serving's verbs (``:predict``) follow a ':', so
    ``GET /v1/models/{name}`` must not match ``/v1/models/m:predict`` (whose other methods get 405 with
    ``Allow: POST``)."""

    regex = "[^/:]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("segment", _Segment())
router = APIRouter(dependencies=[Depends(require_client)], tags=["TensorFlow Serving REST"])
ServiceDep = Annotated[Service, Depends(get_service)]

_STATES = {"AVAILABLE": ("OK", ""), "LOADING": ("OK", ""), "UNLOADING": ("OK", "")}
_PREDICT_KEYS = {"instances", "inputs", "signature_name"}


def _status(svc: Service, name: str, version: str | None = None, label: str | None = None) -> dict:
    entry = svc.entry(name)
    versions = entry.planned
    if version is not None or label is not None:
        number = svc.version_of(entry, version, label)
        if number not in entry.planned:
            raise ServiceError(404, f"version {number} of model {name!r} is registered but not served "
                                    f"(served: {entry.planned})")
        versions = [number]
    state = "END" if entry.state == "FAILED" else entry.state
    code, message = _STATES.get(entry.state, ("UNKNOWN", entry.error))
    return {"model_version_status": [
        {"version": str(v), "state": state, "status": {"error_code": code, "error_message": message}}
        for v in versions
    ]}


def _signature(runtime) -> dict:
    def tensor(name, shape, dtype):
        return {"dtype": dtype, "tensor_shape": {"dim": [{"size": str(d)} for d in shape]}, "name": name}

    inputs = {i["name"]: tensor(i["name"], i["shape"], "DT_STRING" if i["datatype"] == "BYTES" else "DT_FLOAT")
              for i in runtime.v2_inputs()}
    outputs = {o["name"]: tensor(o["name"], o["shape"], "DT_FLOAT") for o in runtime.v2_outputs()}
    return {"serving_default": {"inputs": inputs, "outputs": outputs, "method_name": "tensorflow/serving/predict"}}


def _metadata(svc: Service, name: str, version: str | None = None, label: str | None = None) -> dict:
    rt = svc.runtime(name, version, label)
    shown = {k: v for k, v in rt.metadata.items() if k not in ("background", "files")}
    return {
        "model_spec": {"name": name, "signature_name": "", "version": str(rt.version)},
        "metadata": {"signature_def": {"signature_def": _signature(rt)}, "aiaas": shown,
                     "example_request": {"instances": [example_instance(rt.metadata)]}},
    }


async def _predict(request: Request, svc: Service, name: str, version=None, label=None) -> JSONResponse:
    if version is None and label is None:
        rt, role, shadow = svc.route(name)
    else:
        rt, role, shadow = svc.runtime(name, version, label), "pinned", None
    body = await read_json(request, svc.settings.max_body_bytes)
    if not isinstance(body, dict):
        raise InputError(
            f"request body must be a JSON object with 'instances' or 'inputs', got {type(body).__name__}"
        )
    unknown = sorted(set(body) - _PREDICT_KEYS)
    if unknown:
        raise InputError(f"unknown request fields {unknown}; allowed: {sorted(_PREDICT_KEYS)}")
    if body.get("signature_name", "serving_default") != "serving_default":
        raise InputError(f"signature_name={body['signature_name']!r}; this model has only 'serving_default'")
    if ("instances" in body) == ("inputs" in body):
        raise InputError("give exactly one of 'instances' (row format) or 'inputs' (columnar format)")
    limit = svc.settings.max_instances
    row_format = "instances" in body

    def decode():
        if row_format:
            return rt.decode_instances(body["instances"], limit)
        return rt.decode_columns(body["inputs"], limit)

    if svc.settings.batching:  # decode (off the event loop when large), then join a batch
        inputs, n = await to_thread.run_sync(decode) if _is_large(body) else decode()
        outputs = await svc.predict(rt, inputs, n)
    elif _is_large(body):  # decode and call the model in one worker-thread hop: the event loop stays free
        inputs, outputs = await to_thread.run_sync(lambda: _decode_and_call(svc, rt, decode))
    else:  # a few rows take about 0.1 ms to decode and predict: less than the hop to a worker thread
        inputs, outputs = _decode_and_call(svc, rt, decode)
    outputs = rt.check_finite(outputs)
    svc.count(rt, role, len(outputs))
    task = BackgroundTask(svc.score_shadow, shadow, inputs, outputs, rt.version) if shadow is not None else None
    return JSONResponse({"predictions" if row_format else "outputs": outputs.tolist()},
                        headers={"x-model-version": str(rt.version)}, background=task)


def _decode_and_call(svc: Service, rt, decode):
    """Decoded inputs and the model's outputs for them."""
    inputs = decode()[0]
    return inputs, svc.call_model(rt, inputs)


def _is_large(body: dict) -> bool:
    """More than a handful of instances: decode them off the event loop."""
    value = body.get("instances", body.get("inputs"))
    if isinstance(value, dict):
        value = next(iter(value.values()), [])
    return not isinstance(value, list) or len(value) > 8


async def _explain(request: Request, svc: Service, name: str, version=None, label=None) -> JSONResponse:
    from aiaas_lib.serving.explaining import explainer_for

    rt = svc.runtime(name, version, label)
    if rt.kind == "tabular" and rt.background is None:
        raise InputError(f"model {name!r} has no 'background' rows in its registry metadata to explain against")
    body = await read_json(request, svc.settings.max_body_bytes)
    if rt.kind == "tabular":
        what = "rows as objects of named columns"
    elif rt.kind == "tensors":
        what = f"objects of the named inputs {rt.inputs_text()}"
    else:
        what = f"instances of shape {rt.input_shape}"
    if not isinstance(body, dict) or set(body) != {"instances"}:
        raise InputError(f'request body must be {{"instances": [{what}]}}')
    if rt.kind in ("tensor", "tensors"):
        if isinstance(body["instances"], list):
            rt._check_count(len(body["instances"]), svc.settings.max_explain_instances, "instances",
                            "max_explain_instances")
        inputs, _ = rt.decode_instances(body["instances"])
    else:
        inputs, columns = rt.decode_rows(body["instances"], svc.settings.max_explain_instances,
                                         "max_explain_instances")

    def work():
        import pandas as pd

        with svc.explain_lock:
            explainer = explainer_for(rt)  # deep where the model's structure allows, else model-agnostic
            if rt.kind in ("tensor", "tensors"):
                values, base, index = explainer(inputs)
            else:
                values, base, names = explainer(pd.DataFrame(columns, columns=list(columns)))
        predictions = svc.call_model(rt, inputs).reshape(len(base), -1)
        if rt.kind == "tensors":  # values: {input name: (n, *shape)}
            return [{"base_value": float(base[i]), "prediction": float(predictions[i, index[i]]),
                     "output_index": int(index[i]), "values": {n: v[i].tolist() for n, v in values.items()}}
                    for i in range(len(base))], np.concatenate(
                        [v.reshape(len(base), -1) for v in values.values()], axis=1), predictions, explainer.info
        if rt.kind == "tensor":
            return [{"base_value": float(base[i]), "prediction": float(predictions[i, index[i]]),
                     "output_index": int(index[i]), "values": values[i].tolist()}
                    for i in range(len(values))], values, predictions, explainer.info
        return [{"base_value": float(base[i]), "prediction": float(predictions[i, 0]),
                 "values": {c: float(v) for c, v in zip(names, values[i])}} for i in range(len(values))], \
            values, predictions, explainer.info

    explanations, values, predictions, info = await to_thread.run_sync(work)
    rt.check_finite(values)
    rt.check_finite(predictions)
    return JSONResponse({"explanations": explanations, "explainer": info},
                        headers={"x-model-version": str(rt.version)})


@router.get("/v1/models/{name:segment}")
async def model_status(name: str, svc: ServiceDep):
    """The model on two protocols' shared path: TF Serving's model status (``model_version_status``, the state
    of each served version) and OpenAI's model object (``id``, ``object``, ``created``, ``owned_by``) in one
    body; the two have no key in common, and each client reads its own."""
    return {**_status(svc, name), **model_object(svc, name)}


@router.get("/v1/models/{name:segment}/versions/{version:segment}")
async def version_status(name: str, version: str, svc: ServiceDep):
    """TF Serving model status of one version."""
    return _status(svc, name, version=version)


@router.get("/v1/models/{name:segment}/labels/{label:segment}")
async def label_status(name: str, label: str, svc: ServiceDep):
    """TF Serving model status of the version a label points to."""
    return _status(svc, name, label=label)


@router.get("/v1/models/{name:segment}/metadata")
async def model_metadata(name: str, svc: ServiceDep):
    """TF Serving model metadata: signature, plus the registry metadata under ``aiaas``."""
    return _metadata(svc, name)


@router.get("/v1/models/{name:segment}/versions/{version:segment}/metadata")
async def version_metadata(name: str, version: str, svc: ServiceDep):
    """Metadata of one version."""
    return _metadata(svc, name, version=version)


@router.get("/v1/models/{name:segment}/labels/{label:segment}/metadata")
async def label_metadata(name: str, label: str, svc: ServiceDep):
    """Metadata of the version a label points to."""
    return _metadata(svc, name, label=label)


@router.post("/v1/models/{name:segment}:predict")
async def predict(name: str, request: Request, svc: ServiceDep):
    """Predict with the served version."""
    return await _predict(request, svc, name)


@router.post("/v1/models/{name:segment}/versions/{version:segment}:predict")
async def predict_version(name: str, version: str, request: Request, svc: ServiceDep):
    """Predict with one version."""
    return await _predict(request, svc, name, version=version)


@router.post("/v1/models/{name:segment}/labels/{label:segment}:predict")
async def predict_label(name: str, label: str, request: Request, svc: ServiceDep):
    """Predict with the version a label points to."""
    return await _predict(request, svc, name, label=label)


@router.post("/v1/models/{name:segment}:reload")
async def reload(name: str, request: Request, svc: ServiceDep):
    """Re-read the registry's labels of ``name`` (after a promote or rollback), load newly needed versions
    and switch; an optional body ``{"canary_weight": w, "shadow": bool}`` sets the canary split."""
    from aiaas_lib.serving.security import check_content_type, parse_json, read_body

    raw = await read_body(request, svc.settings.max_body_bytes)
    body = {}
    if raw.strip():
        check_content_type(request.headers.get("content-type"))
        body = parse_json(raw)
    if not isinstance(body, dict):
        raise InputError(f"reload body must be a JSON object like {{\"canary_weight\": 0.2, \"shadow\": false}}, "
                         f"got {type(body).__name__}")
    unknown = sorted(set(body) - {"canary_weight", "shadow"})
    if unknown:
        raise InputError(f"unknown reload fields {unknown}; allowed: ['canary_weight', 'shadow']")
    return await svc.reload(name, body.get("canary_weight"), body.get("shadow"))


@router.get("/v1/models/{name:segment}/traffic")
async def traffic(name: str, svc: ServiceDep):
    """How the default route is split: stable and canary versions, weight, shadow mode and its summary."""
    return svc.entry(name).traffic()


@router.post("/v1/models/{name:segment}:explain")
async def explain(name: str, request: Request, svc: ServiceDep):
    """SHAP values per raw column for each row, with the base value and the prediction; ``explainer`` says the
    method (deep where the model's structure allows, else exact or permutation Shapley values) and its cost."""
    return await _explain(request, svc, name)


@router.post("/v1/models/{name:segment}/versions/{version:segment}:explain")
async def explain_version(name: str, version: str, request: Request, svc: ServiceDep):
    """Explain with one version."""
    return await _explain(request, svc, name, version=version)


@router.post("/v1/models/{name:segment}/labels/{label:segment}:explain")
async def explain_label(name: str, label: str, request: Request, svc: ServiceDep):
    """Explain with the version a label points to."""
    return await _explain(request, svc, name, label=label)
