"""The service's OpenAPI document, its examples, the path both TF Serving and OpenAI use, 405 answers on the
colon-verb paths, the error semantics, and the import graph of aiaas_lib (no cycle). A TestClient over a model of
every kind (tiny churn, fashion, tiny-gpt, tiny-embed); the schemathesis run is tests/test_schemathesis.py."""
import ast
import shutil
from pathlib import Path

import pytest

import aiaas_lib
from _serving import every_kind_registry, ready_client
from aiaas_lib.serving import Settings, create_app
from aiaas_lib.serving.runtime import MAX_ABS_INPUT


@pytest.fixture(scope="module")
def client(tiny_registry):
    c = ready_client(create_app(Settings(registry=every_kind_registry(tiny_registry))))
    yield c
    c.__exit__(None, None, None)


@pytest.fixture(scope="module")
def doc(client):
    return client.get("/openapi.json").json()


def operations(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield path, method, op


# ------------------------------------------------------------------------------------------ document
def test_every_post_documents_its_body_and_every_operation_its_errors(doc):
    for path, method, op in operations(doc):
        statuses = set(op["responses"])
        assert "422" not in statuses, path  # FastAPI's default: this service answers 400 instead
        if path.startswith("/v2/health"):
            continue
        assert {"200", "401", "429"} <= statuses, (path, statuses)
        if method == "post":
            assert {"400", "404", "413", "415", "500", "503"} <= statuses, (path, statuses)
            assert "application/json" in op["requestBody"]["content"], path
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_errors_are_documented_in_each_protocols_shape(doc):
    def ref(path, method, status):
        return doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]["$ref"]

    assert ref("/v1/models/churn:predict", "post", "400") == "#/components/schemas/Error"
    assert ref("/v2/models/fashion/infer", "post", "404") == "#/components/schemas/Error"
    assert ref("/v1/chat/completions", "post", "400") == "#/components/schemas/OpenAIError"
    assert doc["components"]["schemas"]["OpenAIError"]["properties"]["error"]["required"] == ["message", "type"]


def test_model_routes_are_documented_per_served_model_with_its_schema(doc):
    paths = set(doc["paths"])
    assert {"/v1/models/churn:predict", "/v1/models/fashion:predict", "/v2/models/churn/infer",
            "/v2/models/fashion/infer", "/v1/models/churn:explain"} <= paths
    assert not any(p.endswith(":predict") and "{name}" in p for p in paths)
    assert "/v1/models/tiny-gpt:predict" not in paths and "/v1/models/fashion:explain" in paths  # any width
    row = doc["paths"]["/v1/models/churn:predict"]["post"]["requestBody"]["content"]["application/json"]
    item = row["schema"]["properties"]["instances"]["items"]
    assert item["additionalProperties"] is False and "tenure" in item["required"] and len(item["required"]) == 19
    assert item["properties"]["tenure"]["anyOf"][0] == {"type": "number", "minimum": -MAX_ABS_INPUT,
                                                        "maximum": MAX_ABS_INPUT}
    assert "Month-to-month" in item["properties"]["contract"]["anyOf"][0]["enum"]
    chat = doc["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert chat["properties"]["model"] == {"enum": ["tiny-gpt"]}
    assert chat["properties"]["max_tokens"]["anyOf"][0]["maximum"] == 47  # context 48 - 1


def test_metrics_is_documented_as_text(doc):
    assert set(doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain"}


def test_every_documented_example_runs_and_is_answered_200(client, doc):
    ran = []
    for path, method, op in operations(doc):
        media = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        if "example" not in media or "{name}" in path:
            continue
        params = {p["name"]: p.get("example") for p in op.get("parameters", [])}
        url = path.replace("{version}", str(params.get("version") or 1)).replace("{label}", "stable")
        reply = client.request(method.upper(), url, json=media["example"])
        assert reply.status_code == 200, (url, reply.text)
        ran.append(url)
    assert "/v1/models/churn:predict" in ran and "/v1/chat/completions" in ran and len(ran) >= 10


def test_path_parameters_carry_examples_for_try_it_out(doc):
    params = {p["name"]: p for p in doc["paths"]["/v1/models/{name}/metadata"]["get"]["parameters"]}
    assert params["name"]["example"] == "churn" and params["name"]["schema"]["pattern"] == "^[^/:]+$"


def test_metadata_holds_a_runnable_example_request(client):
    example = client.get("/v1/models/churn/metadata").json()["metadata"]["example_request"]
    assert len(example["instances"]) == 1 and len(example["instances"][0]) == 19
    reply = client.post("/v1/models/churn:predict", json=example)
    assert reply.status_code == 200 and len(reply.json()["predictions"]) == 1
    tensor = client.get("/v1/models/fashion/metadata").json()["metadata"]["example_request"]
    assert client.post("/v1/models/fashion:predict", json=tensor).status_code == 200


# ---------------------------------------------------------------------------- one path, two protocols
def test_shared_path_answers_both_protocols_for_every_kind(client):
    for name, kind in (("churn", "tabular"), ("fashion", "tensor"), ("tiny-gpt", "generation")):
        body = client.get(f"/v1/models/{name}").json()
        assert body["id"] == name and body["object"] == "model" and body["kind"] == kind
        assert body["model_version_status"][0]["state"] == "AVAILABLE"


def test_openai_client_retrieves_and_lists_models(client):
    import openai

    oai = openai.OpenAI(base_url=f"{client.base_url}/v1", api_key="unused-key", http_client=client, max_retries=0)
    model = oai.models.retrieve("tiny-gpt")
    assert (model.id, model.object, model.owned_by) == ("tiny-gpt", "model", "aiaas") and model.created > 0
    assert oai.models.retrieve("churn").id == "churn"
    assert sorted(m.id for m in oai.models.list()) == ["tiny-embed", "tiny-gpt"]
    with pytest.raises(openai.NotFoundError):
        oai.models.retrieve("nope")


# ----------------------------------------------------------------------------------------- 405 / Allow
@pytest.mark.parametrize("method", ["GET", "OPTIONS", "PUT", "DELETE"])
def test_other_methods_on_a_colon_verb_path_are_405_allowing_post(client, method):
    reply = client.request(method, "/v1/models/churn:predict")
    assert reply.status_code == 405 and reply.headers["allow"] == "POST", (reply.status_code, reply.headers)
    assert "not allowed" in reply.json()["error"]


def test_post_on_the_status_path_is_405_allowing_get(client):
    reply = client.post("/v1/models/churn")
    assert reply.status_code == 405 and reply.headers["allow"] == "GET"


# --------------------------------------------------------------------------------------- error semantics
def test_numbers_beyond_the_input_limit_are_400_naming_the_field(client):
    from _serving import churn_rows

    row = {**churn_rows(1)[0], "tenure": MAX_ABS_INPUT * 10}
    reply = client.post("/v1/models/churn:predict", json={"instances": [row]})
    assert reply.status_code == 400 and "field 'tenure' is beyond" in reply.json()["error"]
    image = [[[MAX_ABS_INPUT * 2]] * 28] * 28
    reply = client.post("/v1/models/fashion:predict", json={"instances": [image]})
    assert reply.status_code == 400 and "beyond" in reply.json()["error"]


def test_integral_floats_count_as_integers_on_the_openai_routes(client):
    reply = client.post("/v1/completions", json={"model": "tiny-gpt", "prompt": [1.0, 2.0], "n": 2.0,
                                                 "max_tokens": 3.0, "seed": 0})
    assert reply.status_code == 200 and len(reply.json()["choices"]) == 2
    reply = client.post("/v1/completions", json={"model": "tiny-gpt", "prompt": "a", "n": 1.5})
    assert reply.status_code == 400 and reply.json()["error"]["param"] == "n"


def test_a_server_fault_names_the_model_and_what_to_tell_its_owner(client, monkeypatch):
    from fastapi.testclient import TestClient

    from aiaas_lib.serving.runtime import ModelRuntime

    def broken(self, inputs):
        raise ValueError("secret internals")

    monkeypatch.setattr(ModelRuntime, "predict", broken)
    plain = TestClient(client.app, raise_server_exceptions=False)
    reply = plain.post("/v1/models/fashion:predict", json={"instances": [[[[0.0]] * 28] * 28]})
    message = reply.json()["error"]
    assert reply.status_code == 500 and "model 'fashion'" in message and "error id" in message
    assert "not a problem with your request" in message and "secret" not in message


# ------------------------------------------------------------------------------------------ imports
def _imports(path: Path, package: str, modules) -> set[str]:
    """The aiaas_lib modules ``path`` imports anywhere (module level or inside functions): for
    ``from a.b import c`` the module ``a.b.c`` when there is one, else ``a.b``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in modules}


def test_no_import_cycle_inside_aiaas_lib():
    """Every import counts, deferred ones inside functions too: a cycle is a design knot even where it runs."""
    root = Path(aiaas_lib.__file__).parent
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        graph[name] = _imports(path, package, modules) - {name}
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles
    assert len(graph) > 50 and "aiaas_lib.serving.loading" in graph["aiaas_lib.serving.service"]
