"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

KServe V2 — the Open Inference Protocol — over REST, as ``tritonclient.http`` speaks it.

======================================================  =============================================
route                                                   what
======================================================  =============================================
``GET  /v2/health/live``, ``/v2/health/ready``          public; 200, or 503 while loading/stopping (ready
                                                        names any model that failed to load, see below)
``GET  /v2``                                            server metadata
``GET  /v2/models/{name}[/versions/{v}]``               name, versions, platform, inputs, outputs
``GET  /v2/models/{name}[/versions/{v}]/ready``         200 when that model is loaded; 500 with the reason
                                                        when it failed to load
``POST /v2/models/{name}[/versions/{v}]/infer``         ``{"inputs": [{name, shape, datatype, data}]}``
======================================================  =============================================

Tensor models take one FP32 input named like the Keras input (shape ``[n, *input_shape]``); multi-input
(``tensors``) models one FP32 input per named input, each of shape ``[n, *its shape]`` with the same n; tabular
models take one input per column: numbers as FP32 (or another numeric type), categories as BYTES
(strings), each of shape ``[n]`` or ``[n, 1]``. The reply has one FP32 output.

Only JSON tensor data is supported: the binary tensor data extension (tritonclient's default
``binary_data=True``) is answered with 400 naming it — call ``set_data_from_numpy(x, binary_data=False)``.
A request for binary *outputs* (tritonclient adds ``"binary_data_output": true`` when no outputs are
named) is answered in JSON, which tritonclient reads all the same.

The V2 wire format is read here (:func:`decode_v2`: names, datatypes, shapes, data), then handed to the
runtime's own checks (:meth:`~.runtime.ModelRuntime.decode_rows` for tabular models).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated

import numpy as np
from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask

from aiaas_lib import __version__
from aiaas_lib.serving.errors import InputError, ServiceError
from aiaas_lib.serving.runtime import numeric_array, shape_text
from aiaas_lib.serving.security import read_json, require_client
from aiaas_lib.serving.service import Service, get_service

health = APIRouter(tags=["KServe V2 health (public)"])
router = APIRouter(dependencies=[Depends(require_client)], tags=["KServe V2"])
ServiceDep = Annotated[Service, Depends(get_service)]
PLATFORM = "tensorflow_keras"
_INFER_KEYS = {"id", "inputs", "outputs", "parameters"}
#: KServe V2 datatypes accepted for numbers (converted to float32).
NUMERIC_DATATYPES = ("FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")


@health.get("/v2/health/live")
async def live():
    """Liveness: the process answers."""
    return {"live": True}


@health.get("/v2/health/ready")
async def ready(svc: ServiceDep):
    """Readiness: no model loading, at least one available, not shutting down (503 with the reason
    otherwise). Models that failed to load are named with their reason under ``failed`` — they do not take
    the others out of rotation; ``/v2/models/{name}/ready`` says the same per model."""
    failed = svc.failed()
    if svc.ready:
        return {"ready": True, "failed": failed} if failed else {"ready": True}
    body = {"ready": False, "error": f"not ready: {svc.not_ready_reason()}"}
    return JSONResponse({**body, "failed": failed} if failed else body, status_code=503)


@router.get("/v2")
async def server_metadata():
    """Server metadata (no protocol extensions beyond the core)."""
    return {"name": "aiaas", "version": __version__, "extensions": []}


def _model_metadata(svc: Service, name: str, version: str | None = None) -> dict:
    rt = svc.runtime(name, version)
    return {"name": name, "versions": [str(v) for v in svc.entry(name).planned], "platform": PLATFORM,
            "inputs": rt.v2_inputs(), "outputs": rt.v2_outputs()}


@router.get("/v2/models/{name}")
async def model_metadata(name: str, svc: ServiceDep):
    """Model metadata of the served version."""
    return _model_metadata(svc, name)


@router.get("/v2/models/{name}/versions/{version}")
async def version_metadata(name: str, version: str, svc: ServiceDep):
    """Model metadata of one version."""
    return _model_metadata(svc, name, version)


def _ready(svc: Service, name: str, version: str | None = None) -> dict:
    svc.runtime(name, version)
    if svc.shutting_down:
        raise ServiceError(503, "the service is shutting down")
    return {"name": name, "ready": True}


@router.get("/v2/models/{name}/ready")
async def model_ready(name: str, svc: ServiceDep):
    """200 when the model is loaded; 404 unknown, 503 loading or shutting down, 500 when it failed to load (the
    reason in the error; the other models are served all the same)."""
    return _ready(svc, name)


@router.get("/v2/models/{name}/versions/{version}/ready")
async def version_ready(name: str, version: str, svc: ServiceDep):
    """200 when that version is loaded."""
    return _ready(svc, name, version)


def _requested_outputs(body: dict, rt) -> None:
    outputs = body.get("outputs")
    if outputs is None:
        return
    if not isinstance(outputs, list) or any(not isinstance(o, Mapping) for o in outputs):
        raise InputError("'outputs' must be a list of objects {name, parameters?}")
    for i, o in enumerate(outputs):
        if o.get("parameters") is not None and not isinstance(o["parameters"], Mapping):
            raise InputError(f"outputs[{i}].parameters must be an object")
    names = [o.get("name") for o in outputs]
    unknown = [n for n in names if n != rt.output_name]
    if unknown:
        raise InputError(f"unknown outputs {unknown}; model {rt.name!r} has output {rt.output_name!r}")


# ------------------------------------------------------------------------------ decoding the tensors
def decode_v2(rt, tensors, max_instances: int | None = None):
    """KServe V2 ``"inputs"`` (list of {name, shape, datatype, data}) of a request to runtime ``rt`` →
    (model inputs, n), or 400 naming the bad tensor."""
    if not isinstance(tensors, list) or not tensors or any(not isinstance(t, Mapping) for t in tensors):
        raise InputError("'inputs' must be a non-empty list of tensors {name, shape, datatype, data}")
    by_name = {}
    for i, t in enumerate(tensors):
        name = t.get("name")
        if not isinstance(name, str):
            raise InputError(f"inputs[{i}].name must be a string, got {name!r}")
        if name in by_name:
            raise InputError(f"input {name!r} is given twice")
        by_name[name] = t
    expected = [s["name"] for s in rt.v2_inputs()]
    if set(by_name) != set(expected):
        missing, extra = sorted(set(expected) - set(by_name)), sorted(set(by_name) - set(expected))
        raise InputError(f"model {rt.name!r} takes inputs {expected}; missing {missing}, unknown {extra}")
    if rt.kind == "tensor":
        t = by_name[rt.input_name]
        data, shape = _v2_tensor(t, numeric=True)
        if len(shape) != 1 + len(rt.input_shape) or list(shape[1:]) != rt.input_shape:
            raise InputError(
                f"input {rt.input_name!r} has shape {shape_text(shape)}; model {rt.name!r} takes "
                f"[n, {', '.join(map(str, rt.input_shape))}]"
            )
        rt._check_count(shape[0], max_instances, f"input {rt.input_name!r}")
        return data.reshape(shape), shape[0]
    if rt.kind == "tensors":
        arrays, n = {}, None
        for c, expect in rt.inputs.items():
            data, shape = _v2_tensor(by_name[c], numeric=True)
            if list(shape[1:]) != expect:
                raise InputError(f"input {c!r} has shape {shape_text(shape)}; model {rt.name!r} takes "
                                 f"[n, {', '.join(map(str, expect))}] for it")
            if n is not None and shape[0] != n:
                raise InputError(f"input {c!r} has {shape[0]} rows but others have {n}; all inputs need the same n")
            n, arrays[c] = shape[0], data.reshape(shape)
        rt._check_count(n, max_instances, "inputs")
        return arrays, n
    columns, n = {}, None
    for c in rt.columns:
        data, shape = _v2_tensor(by_name[c], numeric=c in rt.numeric)
        if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1):
            raise InputError(f"input {c!r} has shape {shape_text(shape)}; expected [n] or [n, 1]")
        if n is not None and shape[0] != n:
            raise InputError(f"input {c!r} has {shape[0]} rows but others have {n}; all inputs need the same n")
        n = shape[0]
        columns[c] = data.tolist()
    rt._check_count(n, max_instances, "inputs")
    rows = [{c: columns[c][i] for c in rt.columns} for i in range(n)]
    decoded, _ = rt.decode_rows(rows, max_instances)
    return decoded, n

def _v2_tensor(t: Mapping, numeric: bool):
    """(flat data array, shape) of one V2 input tensor, checked."""
    name = t["name"]
    params = t.get("parameters")
    if isinstance(params, Mapping) and {"binary_data_size", "shared_memory_region"} & set(params):
        raise InputError(
            f"input {name!r} uses binary data or shared memory, which this service does not support; send "
            "JSON data (tritonclient: set_data_from_numpy(array, binary_data=False))"
        )
    datatype, shape, data = t.get("datatype"), t.get("shape"), t.get("data")
    allowed = NUMERIC_DATATYPES if numeric else ("BYTES",)
    if datatype not in allowed:
        expected = "FP32 (or another numeric type)" if numeric else "BYTES"
        raise InputError(f"input {name!r} has datatype {datatype!r}; expected {expected}")
    if (not isinstance(shape, list) or not shape or
            any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in shape)):
        raise InputError(f"input {name!r} shape must be a list of non-negative integers, got {shape!r}")
    if math.prod(shape) > 1 << 28:
        raise InputError(f"input {name!r} shape {shape_text(shape)} is too large")
    if not isinstance(data, list):
        raise InputError(
            f"input {name!r} data must be a list (row-major, may be nested), got {type(data).__name__}"
        )
    if numeric:
        flat = numeric_array(data, f"input {name!r} data").ravel()
    else:
        flat = np.asarray(_flatten(data, name), dtype=object)
    if flat.size != math.prod(shape):
        raise InputError(
            f"input {name!r} has {flat.size} values but shape {shape_text(shape)} needs {math.prod(shape)}"
        )
    return flat, shape


def _flatten(data: list, name: str) -> list:
    """Flatten nested lists of BYTES values (strings; numbers are passed on for the schema check)."""
    out, stack = [], [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                if len(stack) > 32:
                    raise InputError(f"input {name!r} data is nested too deeply")
                stack.append(iter(item))
                break
            if isinstance(item, (dict, bool)) or item is None:
                raise InputError(f"input {name!r} data must hold strings, got {type(item).__name__}")
            out.append(item)
        else:
            stack.pop()
    return out


# ----------------------------------------------------------------------------------------- routes
async def _infer(request: Request, svc: Service, name: str, version: str | None = None) -> JSONResponse:
    if version is None:  # the default route: stable, or the canary for a share of requests
        rt, role, shadow = svc.route(name)
    else:
        rt, role, shadow = svc.runtime(name, version), "pinned", None
    body = await read_json(request, svc.settings.max_body_bytes)
    if not isinstance(body, dict):
        raise InputError(f"request body must be a JSON object with 'inputs', got {type(body).__name__}")
    unknown = sorted(set(body) - _INFER_KEYS)
    if unknown:
        raise InputError(f"unknown request fields {unknown}; allowed: {sorted(_INFER_KEYS)}")
    if "inputs" not in body:
        raise InputError("request has no 'inputs': give a list of tensors {name, shape, datatype, data}")
    request_id = body.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InputError(f"'id' must be a string, got {type(request_id).__name__}")
    if body.get("parameters") is not None and not isinstance(body["parameters"], Mapping):
        raise InputError("'parameters' must be an object")
    _requested_outputs(body, rt)
    decode = lambda: decode_v2(rt, body["inputs"], svc.settings.max_instances)  # noqa: E731
    if svc.settings.batching:  # decode (off the event loop when large), then join a batch
        inputs, n = await to_thread.run_sync(decode) if _is_large(body["inputs"]) else decode()
        outputs = await svc.predict(rt, inputs, n)
    else:  # decode and call the model in one worker-thread hop
        def work():
            decoded = decode()[0]
            return decoded, svc.call_model(rt, decoded)

        inputs, outputs = await to_thread.run_sync(work)
    outputs = rt.check_finite(outputs)
    svc.count(rt, role, len(outputs))
    reply = {"model_name": name, "model_version": str(rt.version)}
    if request_id is not None:
        reply["id"] = request_id
    reply["outputs"] = [{"name": rt.output_name, "datatype": "FP32", "shape": list(outputs.shape),
                         "data": outputs.ravel().tolist()}]
    task = BackgroundTask(svc.score_shadow, shadow, inputs, outputs, rt.version) if shadow is not None else None
    return JSONResponse(reply, headers={"x-model-version": str(rt.version)}, background=task)


def _is_large(tensors) -> bool:
    """More than a handful of rows (by the first tensor's shape): decode them off the event loop."""
    try:
        return int(tensors[0]["shape"][0]) > 8
    except (TypeError, KeyError, IndexError, ValueError):
        return False


@router.post("/v2/models/{name}/infer")
async def infer(name: str, request: Request, svc: ServiceDep):
    """Inference with the served version."""
    return await _infer(request, svc, name)


@router.post("/v2/models/{name}/versions/{version}/infer")
async def infer_version(name: str, version: str, request: Request, svc: ServiceDep):
    """Inference with one version."""
    return await _infer(request, svc, name, version)
