"""The conformance kit can fail: a tiny FastAPI app (below) that speaks all three protocols passes every
check, and for each check id one deliberate breakage of that app makes that check fail. Plus the runner's
and the CLI's manners (skips with reasons, exit codes). No model, no TensorFlow: seconds."""

import json

import pytest

from aiaas_lib.conformance import CHECKS, run
from aiaas_lib.conformance.cli import main as cli_main

KEY = "kit-test-key-0123456789"
LIMIT = 2048
ROWS = [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}]
TEXT = "abcdefghijklmnop"

#: check id -> the breakage that must make it fail
BREAKS = {
    "tfs.status": "status_loading",
    "tfs.metadata": "metadata_wrong_name",
    "tfs.predict_row": "predict_drops_one",
    "tfs.predict_columnar": "columnar_wrong",
    "tfs.error_malformed": "malformed_detail",
    "tfs.error_request": "both_formats_ok",
    "tfs.error_unknown": "unknown_model_400",
    "tfs.alive_after_errors": "dies_after_errors",
    "tfs.auth": "no_auth",
    "tfs.body_limit": "limit_off_by_one",
    "oip.health": "not_ready",
    "oip.server_metadata": "server_meta_no_extensions",
    "oip.model_ready": "model_not_ready",
    "oip.model_metadata": "bad_datatype",
    "oip.infer": "infer_no_id",
    "oip.error_malformed": "malformed_detail",
    "oip.error_tensor": "accepts_bad_shape",
    "oip.error_unknown": "unknown_ready",
    "oip.alive_after_errors": "dies_after_errors",
    "oip.auth": "no_auth",
    "oip.body_limit": "limit_off_by_one",
    "openai.models": "models_no_owned_by",
    "openai.models_retrieve": "no_retrieve",
    "openai.completion": "usage_total_wrong",
    "openai.completion_n": "n_counts_prompt_twice",
    "openai.completion_logprobs": "logprobs_positive",
    "openai.chat": "chat_role_user",
    "openai.chat_logprobs": "chat_top_logprobs_3",
    "openai.stream_completion": "stream_no_done",
    "openai.stream_chat": "stream_chat_no_role",
    "openai.stream_usage": "usage_on_every_chunk",
    "openai.embeddings": "embedding_index_wrong",
    "openai.error_shape": "openai_plain_errors",
    "openai.alive_after_errors": "dies_after_errors",
    "openai.auth": "no_auth",
    "openai.body_limit": "limit_off_by_one",
}


class Err(Exception):
    def __init__(self, status, message, openai=False):
        self.status, self.message, self.openai = status, message, openai


def make_app(broken=frozenset()):
    """A model server of TF Serving REST, the OIP and the OpenAI API: y = a + 2b; a 'language model' that
    writes the alphabet; 3-number embeddings. Each name in ``broken`` breaks one rule."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, StreamingResponse

    app = FastAPI()
    errors = {"tfs": 0, "oip": 0, "openai": 0}

    @app.exception_handler(Err)
    async def on_err(request, err: Err):
        errors["oip" if request.url.path.startswith("/v2") else "openai" if err.openai else "tfs"] += 1
        if err.openai and "openai_plain_errors" not in broken:
            body = {
                "error": {
                    "message": err.message,
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            }
        else:
            body = (
                {"detail": err.message}
                if "malformed_detail" in broken and "JSON" in err.message
                else {"error": err.message}
            )
        return JSONResponse(body, status_code=err.status)

    async def read(request: Request, openai=False, key=True):
        if key and "no_auth" not in broken and request.headers.get("authorization") != f"Bearer {KEY}":
            raise Err(401, "give a valid API key", openai)
        raw = await request.body()
        if len(raw) > LIMIT or ("limit_off_by_one" in broken and len(raw) >= LIMIT):
            raise Err(413, f"body over {LIMIT} bytes", openai)
        if request.method == "GET":
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise Err(400, "body is not JSON", openai) from None

    def y(rows):
        return [[r["a"] + 2 * r["b"]] for r in rows]

    def alive(protocol):
        if "dies_after_errors" in broken and errors[protocol]:
            raise Err(503, "broken after an error", protocol == "openai")

    # TF Serving REST
    @app.get("/v1/models/{name}")
    async def status(name: str, request: Request):
        await read(request)
        if name != "m":
            raise Err(400 if "unknown_model_400" in broken else 404, f"model {name!r} not served")
        state = "LOADING" if "status_loading" in broken else "AVAILABLE"
        return {"model_version_status": [{"version": "1", "state": state, "status": {"error_code": "OK"}}]}

    @app.get("/v1/models/{name}/metadata")
    async def metadata(name: str, request: Request):
        await read(request)
        tensor = {"dtype": "DT_FLOAT", "tensor_shape": {"dim": [{"size": "-1"}, {"size": "1"}]}}
        return {
            "model_spec": {"name": "x" if "metadata_wrong_name" in broken else name, "version": "1"},
            "metadata": {
                "signature_def": {
                    "signature_def": {
                        "serving_default": {"inputs": {"a": tensor, "b": tensor}, "outputs": {"y": tensor}}
                    }
                }
            },
        }

    @app.post("/v1/models/{name}:predict")
    async def predict(name: str, request: Request):
        body = await read(request)
        if name != "m":
            raise Err(400 if "unknown_model_400" in broken else 404, f"model {name!r} not served")
        if not isinstance(body, dict) or ("instances" in body) == ("inputs" in body):
            if not ("both_formats_ok" in broken and isinstance(body, dict) and "instances" in body):
                raise Err(400, "give one of instances or inputs")
        alive("tfs")
        if "instances" in body:
            out = y(body["instances"])
            return {"predictions": out[:-1] if "predict_drops_one" in broken else out}
        cols = body["inputs"]
        out = y([{"a": a, "b": b} for a, b in zip(cols["a"], cols["b"])])
        return {"outputs": [[v[0] + 1] for v in out] if "columnar_wrong" in broken else out}

    # Open Inference Protocol
    @app.get("/v2/health/live")
    async def live():
        return {"live": True}

    @app.get("/v2/health/ready")
    async def ready():
        return JSONResponse({"ready": False}, 503) if "not_ready" in broken else {"ready": True}

    @app.get("/v2")
    async def server(request: Request):
        await read(request)
        return (
            {"name": "kit", "version": "1"}
            if "server_meta_no_extensions" in broken
            else {"name": "kit", "version": "1", "extensions": []}
        )

    @app.get("/v2/models/{name}")
    async def v2_metadata(name: str, request: Request):
        await read(request)
        if name != "m":
            raise Err(404, f"model {name!r} not served")
        dt = "FLOAT32" if "bad_datatype" in broken else "FP32"
        return {
            "name": name,
            "versions": ["1"],
            "platform": "kit",
            "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 1]}],
            "inputs": [{"name": c, "datatype": dt, "shape": [-1, 1]} for c in "ab"],
        }

    @app.get("/v2/models/{name}/ready")
    async def model_ready(name: str, request: Request):
        await read(request)
        if name != "m" and "unknown_ready" not in broken:
            raise Err(404, f"model {name!r} not served")
        return JSONResponse({}, 503) if "model_not_ready" in broken else {"name": name, "ready": True}

    @app.post("/v2/models/{name}/infer")
    async def infer(name: str, request: Request):
        body = await read(request)
        t = {i["name"]: i for i in body["inputs"]}
        if "accepts_bad_shape" not in broken and any(len(i["data"]) != i["shape"][0] for i in t.values()):
            raise Err(400, "data does not fill the shape")
        alive("oip")
        out = [v[0] for v in y([{"a": a, "b": b} for a, b in zip(t["a"]["data"], t["b"]["data"])])]
        reply = {
            "model_name": name,
            "outputs": [{"name": "y", "datatype": "FP32", "shape": [len(out), 1], "data": out}],
        }
        if "infer_no_id" not in broken and "id" in body:
            reply["id"] = body["id"]
        return reply

    # OpenAI
    models_ = [
        {"id": "gpt", "object": "model", "created": 0, "owned_by": "kit", "kind": "generation"},
        {"id": "emb", "object": "model", "created": 0, "owned_by": "kit", "kind": "embedding"},
    ]

    @app.get("/v1/models")
    async def list_models(request: Request):
        await read(request, openai=True)
        if "models_no_owned_by" in broken:
            return {
                "object": "list",
                "data": [{k: v for k, v in m.items() if k != "owned_by"} for m in models_],
            }
        return {"object": "list", "data": models_}

    def generate(body, chat):
        if body.get("model") != "gpt":
            raise Err(404, f"model {body.get('model')!r} does not exist", True)
        if not 0 <= body.get("temperature", 1) <= 2:
            raise Err(400, "temperature must be in [0, 2]", True)
        if body.get("stream_options") and not body.get("stream"):
            raise Err(400, "stream_options needs stream", True)
        alive("openai")
        n, k, text = body.get("n", 1), body.get("max_tokens", 16), TEXT[: body.get("max_tokens", 16)]
        prompt = len(body["prompt"]) if not chat else sum(len(m["content"]) for m in body["messages"])
        usage = {
            "prompt_tokens": prompt * (n if "n_counts_prompt_twice" in broken else 1),
            "completion_tokens": n * k,
            "total_tokens": prompt + n * k + ("usage_total_wrong" in broken),
        }
        return n, k, text, usage

    def logprobs(text, k, chat):
        sign = 1 if "logprobs_positive" in broken else -1
        if chat:
            alts = 3 if "chat_top_logprobs_3" in broken else 2
            return {
                "content": [
                    {
                        "token": c,
                        "logprob": -0.5,
                        "bytes": None,
                        "top_logprobs": [
                            {"token": c, "logprob": -0.5},
                            {"token": "z", "logprob": -1.0},
                            {"token": "y", "logprob": -2.0},
                        ][:alts],
                    }
                    for c in text
                ]
            }
        return {
            "tokens": list(text),
            "token_logprobs": [sign * 0.5] * len(text),
            "top_logprobs": [{t: -0.5, "z": -1.0} for t in text],
            "text_offset": list(range(len(text))),
        }

    async def completions(request: Request, chat: bool):
        body = await read(request, openai=True)
        n, k, text, usage = generate(body, chat)
        head = {"id": "cmpl-1", "created": 0, "model": "gpt"}
        if body.get("stream"):
            include = (body.get("stream_options") or {}).get("include_usage")

            def events():
                obj = "chat.completion.chunk" if chat else "text_completion"
                extra = {"usage": usage if "usage_on_every_chunk" in broken else None} if include else {}
                if chat:
                    first = {} if "stream_chat_no_role" in broken else {"role": "assistant", "content": ""}
                    yield {
                        **head,
                        "object": obj,
                        "choices": [{"index": 0, "delta": first, "finish_reason": None}],
                        **extra,
                    }
                for i, c in enumerate(text):
                    finish = "length" if i == len(text) - 1 else None
                    choice = {"index": 0, "delta": {"content": c}} if chat else {"index": 0, "text": c}
                    yield {**head, "object": obj, "choices": [{**choice, "finish_reason": finish}], **extra}
                if include:
                    yield {**head, "object": obj, "choices": [], "usage": usage}

            def sse():
                for e in events():
                    yield f"data: {json.dumps(e)}\n\n"
                if "stream_no_done" not in broken:
                    yield "data: [DONE]\n\n"

            return StreamingResponse(sse(), media_type="text/event-stream")
        lp = logprobs(text, k, chat) if body.get("logprobs") else None
        if chat:
            role = "user" if "chat_role_user" in broken else "assistant"
            choices = [
                {
                    "index": i,
                    "message": {"role": role, "content": text},
                    "logprobs": lp,
                    "finish_reason": "length",
                }
                for i in range(n)
            ]
        else:
            choices = [
                {"index": i, "text": text, "logprobs": lp, "finish_reason": "length"} for i in range(n)
            ]
        return {
            **head,
            "object": "chat.completion" if chat else "text_completion",
            "choices": choices,
            "usage": usage,
        }

    @app.post("/v1/completions")
    async def complete(request: Request):
        return await completions(request, chat=False)

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        return await completions(request, chat=True)

    @app.post("/v1/embeddings")
    async def embeddings(request: Request):
        import base64
        import struct

        body = await read(request, openai=True)
        vectors = [[float(len(t)), 1.0, 0.0] for t in body["input"]]
        if body.get("encoding_format") == "base64":
            vectors = [base64.b64encode(struct.pack("<3f", *v)).decode() for v in vectors]
        shift = 1 if "embedding_index_wrong" in broken else 0
        return {
            "object": "list",
            "model": "emb",
            "usage": {"prompt_tokens": 4, "total_tokens": 4},
            "data": [
                {"object": "embedding", "index": i + shift, "embedding": v} for i, v in enumerate(vectors)
            ],
        }

    @app.middleware("http")  # OpenAI's retrieve shares TF Serving's status path: answered for OpenAI's ids
    async def retrieve(request: Request, call_next):
        name = request.url.path.removeprefix("/v1/models/")
        if request.method == "GET" and name in ("gpt", "emb") and "no_retrieve" not in broken:
            return JSONResponse(next(m for m in models_ if m["id"] == name))
        return await call_next(request)

    return app


def grade(app, **options):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        return run(
            client, **{"model": "m", "instances": ROWS, "api_key": KEY, "max_body_bytes": LIMIT, **options}
        )


@pytest.mark.parametrize("name", ["conformance", "conformance.core", "conformance.runner"])
def test_docstring_examples_run(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"aiaas_lib.{name}"), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_every_check_has_a_breakage():
    assert set(BREAKS) == set(CHECKS)


def test_the_unbroken_app_passes_every_check():
    report = grade(make_app())
    assert sorted(r.check for r in report.results) == sorted(CHECKS)  # every check ran, none skipped
    assert report.ok, report.table()


@pytest.mark.parametrize("check_id", sorted(BREAKS))
def test_each_check_can_fail(check_id):
    report = grade(make_app({BREAKS[check_id]}))
    assert report.status(check_id) == "fail", report.table()
    assert not report.ok


def test_options_skip_their_checks_and_zeros_come_from_metadata():
    report = grade(
        make_app({"no_auth"}), instances=None, api_key=None, max_body_bytes=None, skip=["openai.embeddings"]
    )
    assert report.status("tfs.auth") == report.status("oip.body_limit") == "skip"
    assert report.status("openai.embeddings") == "skip"
    assert (
        report.status("tfs.predict_row") == report.status("oip.infer") == "pass"
    )  # zeros shaped by the metadata
    assert "tfs.auth" in report.table() and "needs api_key= (--api-key)" in report.table()


def test_a_protocol_the_server_does_not_speak_is_skipped_unless_asked_for():
    from fastapi import FastAPI

    report = grade(FastAPI())
    assert {r.status for r in report.results} == {"skip"} and not report.ok
    assert "speaks none" in report.table()
    report = grade(make_app(), protocols=["oip"], model="m")
    assert {r.protocol for r in report.results} == {"oip"} and report.ok
    asked = grade(FastAPI(), protocols=["openai"])
    assert asked.status("openai.detect") == "fail"


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="unknown protocols \\['grpc'\\]"):
        run("http://127.0.0.1:9", protocols=["grpc"])
    with pytest.raises(ValueError, match="unknown check ids \\['tfs.nope'\\]"):
        run("http://127.0.0.1:9", skip=["tfs.nope"])
    with pytest.raises(ValueError, match="must be a base URL"):
        run("127.0.0.1:9")


def _args(url, **kw):
    from argparse import Namespace

    base = dict(
        url=url,
        model=None,
        instances=None,
        protocol=None,
        api_key=None,
        max_body_bytes=None,
        llm=None,
        embedding_model=None,
        skip=(),
        timeout=5.0,
    )
    return Namespace(**{**base, **kw})


def test_cli_exit_codes(tmp_path, capsys):
    from aiaas_lib import cli

    assert cli.main(["conformance", "ftp://x"]) == 2
    assert "must be a base URL" in capsys.readouterr().err
    assert cli_main(_args("http://127.0.0.1:9", instances=str(tmp_path / "missing.json"))) == 2
    with pytest.raises(SystemExit) as exit_:
        cli.main(["conformance", "http://127.0.0.1:9", "--protocol", "grpc"])
    assert exit_.value.code == 2
    from aiaas_lib.loadtest import free_port

    assert (
        cli.main(["conformance", f"http://127.0.0.1:{free_port()}", "--timeout", "2"]) == 1
    )  # nobody listens
    assert "no answer" in capsys.readouterr().out


@pytest.mark.parametrize("broken, code", [(frozenset(), 0), (frozenset({"stream_no_done"}), 1)])
def test_cli_grades_a_real_socket(broken, code, tmp_path, capsys):
    import threading

    import uvicorn

    from aiaas_lib import cli
    from aiaas_lib.loadtest import free_port, poll_until

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(make_app(broken), host="127.0.0.1", port=port, log_config=None, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        poll_until(lambda: server.started, timeout=30, what="the kit's test server")
        (tmp_path / "rows.json").write_text(json.dumps({"instances": ROWS}))
        assert (
            cli.main(
                [
                    "conformance",
                    f"http://127.0.0.1:{port}",
                    "--model",
                    "m",
                    "--instances",
                    str(tmp_path / "rows.json"),
                    "--api-key",
                    KEY,
                    "--max-body-bytes",
                    str(LIMIT),
                ]
            )
            == code
        )
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    out = capsys.readouterr().out
    assert (f"{len(CHECKS)} passed, 0 failed" if code == 0 else "FAIL  openai.stream_completion") in out, out
