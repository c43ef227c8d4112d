"""The model service through FastAPI's TestClient: every route, every error path, auth, limits, batching,
metrics and the lifecycle. Models are tiny (1 epoch on a few hundred rows), built once per session (tests/conftest.py)."""
import hmac
import json
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fastapi.testclient import TestClient

from _serving import CATEGORICAL, NUMERIC, churn_rows, images, ready_client
from aiaas_lib.loadtest import poll_until, wait_ready
from aiaas_lib.serving import Settings, create_app
from aiaas_lib.serving import security as security_module
from aiaas_lib.serving.runtime import ModelRuntime

KEYS = ["test-key-aaaaaaaa", "test-key-bbbbbbbb"]


@pytest.fixture(scope="module")
def client(tiny_registry):
    c = ready_client(create_app(Settings(registry=tiny_registry, all_versions=True)))
    yield c
    c.__exit__(None, None, None)


@pytest.fixture(scope="module")
def keyed(tiny_registry):
    c = ready_client(create_app(Settings(registry=tiny_registry, api_keys=KEYS, models=["churn"])))
    yield c
    c.__exit__(None, None, None)


def assert_error(response, status: int, match: str):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and match in body["error"], body


def v2_churn_inputs(rows):
    return [{"name": c, "shape": [len(rows), 1], "datatype": "FP32" if c in NUMERIC else "BYTES",
             "data": [r[c] if c in NUMERIC else str(r[c]) for r in rows]} for c in NUMERIC + CATEGORICAL]


def direct_churn(registry, rows, version=1):
    from aiaas_lib.keras_models import tabular_inputs
    from aiaas_lib.packaging.registry import ModelRegistry
    from aiaas_lib.packaging.schema import validate_rows

    reg = ModelRegistry(registry)
    frame = validate_rows(rows, reg.metadata("churn", version)["input_schema"])
    return np.asarray(reg.load("churn", version)(tabular_inputs(frame, NUMERIC, CATEGORICAL)))


# ------------------------------------------------------------------------------------------- health
def test_liveness_is_public_and_200(keyed):
    assert keyed.get("/v2/health/live").json() == {"live": True}


def test_readiness_is_public_and_200_when_loaded(keyed):
    assert keyed.get("/v2/health/ready").json() == {"ready": True}


def test_not_ready_while_loading_then_ready(tiny_registry, monkeypatch):
    gate = threading.Event()
    real = ModelRuntime.from_registry.__func__

    def slow(cls, *args, **kwargs):
        gate.wait(30)
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(ModelRuntime, "from_registry", classmethod(slow))
    with TestClient(create_app(Settings(registry=tiny_registry, models=["churn"]))) as c:
        ready = c.get("/v2/health/ready")
        status = c.get("/v1/models/churn").json()["model_version_status"][0]["state"]
        predict = c.post("/v1/models/churn:predict", json={"instances": churn_rows(1)})
        gate.set()
        wait_ready(c.get)
    assert ready.status_code == 503 and "loading models ['churn']" in ready.json()["error"]
    assert status == "LOADING"
    assert predict.status_code == 503 and predict.headers["retry-after"] == "1"


def test_begin_shutdown_reports_not_ready_first(tiny_registry):
    with TestClient(create_app(Settings(registry=tiny_registry, models=["fashion"]))) as c:
        wait_ready(c.get)
        c.app.state.service.begin_shutdown()
        ready = c.get("/v2/health/ready")
        state = c.get("/v1/models/fashion").json()["model_version_status"][0]["state"]
        model_ready = c.get("/v2/models/fashion/ready")
        still_served = c.post("/v1/models/fashion:predict", json={"instances": images(1).tolist()})
    assert ready.status_code == 503 and "shutting down" in ready.json()["error"]
    assert state == "UNLOADING" and still_served.status_code == 200
    assert_error(model_ready, 503, "shutting down")


def test_model_that_fails_to_load_is_reported(tiny_registry, tmp_path):
    root = tmp_path / "reg"
    shutil.copytree(tiny_registry, root)
    (root / "fashion" / "1" / "model.keras").write_bytes(b"tampered")
    with TestClient(create_app(Settings(registry=root, models=["fashion"]))) as c:
        poll_until(lambda: c.app.state.service.loaded, 30, "the load attempt to end")
        ready, status = c.get("/v2/health/ready"), c.get("/v1/models/fashion").json()
        predict = c.post("/v1/models/fashion:predict", json={"instances": images(1).tolist()})
        infer = c.post("/v2/models/fashion/infer", json={"inputs": []})
    assert ready.status_code == 503 and "no model is available" in ready.json()["error"]
    assert "IntegrityError" in ready.json()["failed"]["fashion"]
    assert status["model_version_status"][0]["state"] == "END"
    assert "IntegrityError" in status["model_version_status"][0]["status"]["error_message"]
    assert_error(predict, 500, "failed to load and will not be retried")  # not a "retry later" 503
    assert "retry-after" not in predict.headers and "tell the model's owner" in predict.json()["error"]
    assert infer.status_code == 500 and "retry-after" not in infer.headers  # the same over KServe V2
    assert "will not be retried" in infer.json()["error"] and "owner" in infer.json()["error"]


def test_one_broken_model_does_not_take_the_others_down(tiny_registry, tmp_path, caplog):
    root = tmp_path / "reg"
    shutil.copytree(tiny_registry, root)
    good = (root / "fashion" / "1" / "model.keras").read_bytes()
    (root / "fashion" / "1" / "model.keras").write_bytes(b"tampered")
    with caplog.at_level("INFO", logger="aiaas.serving"), TestClient(create_app(Settings(registry=root))) as c:
        wait_ready(c.get)
        ready = c.get("/v2/health/ready")
        churn, fashion = c.get("/v2/models/churn/ready"), c.get("/v2/models/fashion/ready")
        predict = c.post("/v1/models/churn:predict", json={"instances": churn_rows(1)})
        (root / "fashion" / "1" / "model.keras").write_bytes(good)  # the owner fixes it, then reloads
        reload = c.post("/v1/models/fashion:reload")
        fixed = c.post("/v1/models/fashion:predict", json={"instances": images(1).tolist()})
        ready_after = c.get("/v2/health/ready").json()
    assert ready.status_code == 200 and list(ready.json()["failed"]) == ["fashion"]
    assert "IntegrityError" in ready.json()["failed"]["fashion"]
    assert churn.json() == {"name": "churn", "ready": True} and predict.status_code == 200
    assert_error(fashion, 500, "IntegrityError")
    logged = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("ready: serving {'churn'") and "NOT serving (failed to load): {'fashion'" in m
               for m in logged), logged
    assert any("model fashion is broken" in m for m in logged)
    assert reload.status_code == 200 and fixed.status_code == 200 and ready_after == {"ready": True}


def test_unknown_model_in_settings_stops_start_up(tiny_registry):
    with pytest.raises(ValueError, match="cannot serve models=\\['nope'\\]"):
        with TestClient(create_app(Settings(registry=tiny_registry, models=["nope"]))):
            pass


# -------------------------------------------------------------------------------- TF Serving status
def test_model_status_has_tf_serving_shape_and_openai_model_object(client):
    body = client.get("/v1/models/fashion").json()
    assert body.pop("model_version_status") == [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]
    created = body.pop("created")
    assert body == {"id": "fashion", "object": "model", "owned_by": "aiaas", "kind": "tensor", "version": 1}
    assert created > 1_700_000_000


def test_version_and_label_status(client):
    assert client.get("/v1/models/churn/versions/2").json()["model_version_status"][0]["version"] == "2"
    assert client.get("/v1/models/churn/labels/canary").json()["model_version_status"][0]["version"] == "2"


def test_metadata_has_signature_and_registry_metadata(client):
    body = client.get("/v1/models/churn/metadata").json()
    sig = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert body["model_spec"] == {"name": "churn", "signature_name": "", "version": "1"}
    assert sig["inputs"]["contract"]["dtype"] == "DT_STRING" and sig["inputs"]["tenure"]["dtype"] == "DT_FLOAT"
    assert body["metadata"]["aiaas"]["kind"] == "tabular" and "background" not in body["metadata"]["aiaas"]


def test_metadata_of_version_and_label(client):
    assert client.get("/v1/models/churn/versions/2/metadata").json()["model_spec"]["version"] == "2"
    assert client.get("/v1/models/churn/labels/canary/metadata").json()["model_spec"]["version"] == "2"


# ------------------------------------------------------------------------------- TF Serving predict
def test_predict_route_with_colon_suffix_is_routed(client):
    assert client.post("/v1/models/churn:predict", json={"instances": churn_rows(1)}).status_code == 200


def test_predict_rows_match_the_model(tiny_registry, client):
    rows = churn_rows(3)
    got = np.array(client.post("/v1/models/churn:predict", json={"instances": rows}).json()["predictions"])
    # 1e-5: the service's NumPy encoder + compiled head vs the whole Keras model, float32 round-off
    np.testing.assert_allclose(got, direct_churn(tiny_registry, rows), atol=1e-5)


def test_predict_columnar_matches_rows(client):
    rows = churn_rows(3)
    columns = {c: [r[c] for r in rows] for c in rows[0]}
    by_rows = client.post("/v1/models/churn:predict", json={"instances": rows}).json()["predictions"]
    assert client.post("/v1/models/churn:predict", json={"inputs": columns}).json() == {"outputs": by_rows}


def test_predict_accepts_one_element_lists(client):
    rows = churn_rows(1)
    wrapped = [{k: [v] for k, v in rows[0].items()}]
    a = client.post("/v1/models/churn:predict", json={"instances": rows}).json()
    assert client.post("/v1/models/churn:predict", json={"instances": wrapped}).json() == a


def test_predict_version_and_label_routes_use_that_version(tiny_registry, client):
    rows = churn_rows(2)
    v2 = client.post("/v1/models/churn/versions/2:predict", json={"instances": rows}).json()["predictions"]
    canary = client.post("/v1/models/churn/labels/canary:predict", json={"instances": rows}).json()["predictions"]
    assert v2 == canary
    np.testing.assert_allclose(v2, direct_churn(tiny_registry, rows, version=2), atol=1e-5)  # float32 round-off
    assert not np.allclose(v2, direct_churn(tiny_registry, rows, version=1), atol=1e-3)


def test_predict_tensor_rows_and_columns(client):
    x = images(2)
    rows = client.post("/v1/models/fashion:predict", json={"instances": x.tolist()}).json()["predictions"]
    cols = client.post("/v1/models/fashion:predict", json={"inputs": x.tolist()}).json()["outputs"]
    named = client.post("/v1/models/fashion:predict", json={"instances": [{"image": i} for i in x.tolist()]}).json()
    assert np.array(rows).shape == (2, 10) and rows == cols == named["predictions"]


# -------------------------------------------------------------------------------------------- explain
def test_explain_values_add_up_to_the_prediction(client):
    body = client.post("/v1/models/churn:explain", json={"instances": churn_rows(2)}).json()
    assert len(body["explanations"]) == 2
    for e in body["explanations"]:
        assert list(e["values"]) == NUMERIC + CATEGORICAL
        # 1e-4: DeepExplainer is additive to ~1e-6 in float32; this leaves room for rounding
        assert abs(e["base_value"] + sum(e["values"].values()) - e["prediction"]) < 1e-4


def test_explain_says_its_method_deep_for_the_course_builder(client):
    info = client.post("/v1/models/churn:explain", json={"instances": churn_rows(1)}).json()["explainer"]
    assert info["method"] == "deep" and info["model_rows_per_instance"] == info["background_rows"] > 0


def test_explain_a_28x28_image_model_per_pixel(client):
    r = client.post("/v1/models/fashion:explain", json={"instances": images(1).tolist()})
    assert r.status_code == 200, r.text
    e, info = r.json()["explanations"][0], r.json()["explainer"]
    assert np.shape(e["values"]) == (28, 28, 1) and info["method"] == "deep"
    assert abs(np.sum(e["values"]) + e["base_value"] - e["prediction"]) < 1e-4


def test_explain_needs_exactly_instances(client):
    assert_error(client.post("/v1/models/churn:explain", json={"inputs": {}}), 400, '{"instances"')


def test_explain_limit_of_instances(tiny_registry):
    with TestClient(create_app(Settings(registry=tiny_registry, models=["churn"], max_explain_instances=1))) as c:
        wait_ready(c.get)
        r = c.post("/v1/models/churn:explain", json={"instances": churn_rows(2)})
    assert_error(r, 413, "max_explain_instances=1")


# ----------------------------------------------------------------------------------------- KServe V2
def test_v2_server_metadata(client):
    assert client.get("/v2").json()["name"] == "aiaas"


def test_v2_model_metadata(client):
    body = client.get("/v2/models/fashion").json()
    assert body == {"name": "fashion", "versions": ["1"], "platform": "tensorflow_keras",
                    "inputs": [{"name": "image", "datatype": "FP32", "shape": [-1, 28, 28, 1]}],
                    "outputs": [{"name": "logits", "datatype": "FP32", "shape": [-1, 10]}]}


def test_v2_tabular_metadata_has_one_input_per_column(client):
    inputs = client.get("/v2/models/churn/versions/2").json()["inputs"]
    assert [i["name"] for i in inputs] == NUMERIC + CATEGORICAL
    assert {i["datatype"] for i in inputs if i["name"] in CATEGORICAL} == {"BYTES"}


def test_v2_model_and_version_ready(client):
    assert client.get("/v2/models/churn/ready").json() == {"name": "churn", "ready": True}
    assert client.get("/v2/models/churn/versions/2/ready").status_code == 200


def test_v2_infer_tabular_matches_tf_serving_predict(client):
    rows = churn_rows(3)
    tf_rows = client.post("/v1/models/churn:predict", json={"instances": rows}).json()["predictions"]
    body = client.post("/v2/models/churn/infer", json={"id": "r1", "inputs": v2_churn_inputs(rows)}).json()
    assert body["model_name"] == "churn" and body["model_version"] == "1" and body["id"] == "r1"
    out = body["outputs"][0]
    assert out["name"] == "probability" and out["datatype"] == "FP32" and out["shape"] == [3, 1]
    np.testing.assert_allclose(out["data"], np.ravel(tf_rows), atol=1e-6)  # same model, JSON round trip


def test_v2_infer_tensor_version_route(client):
    x = images(2)
    req = {"inputs": [{"name": "image", "shape": [2, 28, 28, 1], "datatype": "FP32", "data": x.ravel().tolist()}],
           "outputs": [{"name": "logits"}]}
    body = client.post("/v2/models/fashion/versions/1/infer", json=req).json()
    assert body["outputs"][0]["shape"] == [2, 10] and "id" not in body


def test_v2_infer_accepts_shape_n_for_columns(client):
    rows = churn_rows(2)
    inputs = v2_churn_inputs(rows)
    for i in inputs:
        i["shape"] = [2]
    assert client.post("/v2/models/churn/infer", json={"inputs": inputs}).status_code == 200


def test_v2_infer_unknown_output_is_400(client):
    req = {"inputs": v2_churn_inputs(churn_rows(1)), "outputs": [{"name": "nope"}]}
    assert_error(client.post("/v2/models/churn/infer", json=req), 400, "unknown outputs ['nope']")


def test_v2_infer_binary_extension_is_refused(client):
    inputs = v2_churn_inputs(churn_rows(1))
    inputs[0]["parameters"] = {"binary_data_size": 4}
    assert_error(client.post("/v2/models/churn/infer", json={"inputs": inputs}), 400, "binary_data=False")
    r = client.post("/v2/models/churn/infer", content=b"{}", headers={"Inference-Header-Content-Length": "2"})
    assert_error(r, 400, "binary tensor data extension")


def test_v2_infer_wrong_datatype_names_the_input(client):
    inputs = v2_churn_inputs(churn_rows(1))
    inputs[3]["datatype"] = "FP32"
    inputs[3]["data"] = [1.0]
    r = client.post("/v2/models/churn/infer", json={"inputs": inputs})
    assert_error(r, 400, "input 'female' has datatype 'FP32'")


def test_v2_infer_missing_input_is_named(client):
    inputs = v2_churn_inputs(churn_rows(1))[1:]
    assert_error(client.post("/v2/models/churn/infer", json={"inputs": inputs}), 400, "missing ['tenure']")


def test_v2_infer_shape_and_data_must_agree(client):
    req = {"inputs": [{"name": "image", "shape": [1, 28, 28, 1], "datatype": "FP32", "data": [0.0] * 10}]}
    assert_error(client.post("/v2/models/fashion/infer", json=req), 400, "has 10 values but shape [1, 28, 28, 1]")


def test_v2_infer_without_inputs_is_400(client):
    assert_error(client.post("/v2/models/fashion/infer", json={"id": "x"}), 400, "no 'inputs'")


# ------------------------------------------------------------------------------------ 404 and 400s
@pytest.mark.parametrize("method,path", [
    ("get", "/v1/models/nope"), ("post", "/v1/models/nope:predict"), ("post", "/v1/models/nope:explain"),
    ("get", "/v2/models/nope"), ("get", "/v2/models/nope/ready"), ("post", "/v2/models/nope/infer"),
])
def test_unknown_model_is_404(client, method, path):
    r = client.post(path, json={}) if method == "post" else client.get(path)
    assert_error(r, 404, "model 'nope' is not served")


@pytest.mark.parametrize("path", ["/v1/models/churn/versions/9:predict", "/v2/models/churn/versions/9/infer"])
def test_unknown_version_is_404(client, path):
    assert_error(client.post(path, json={}), 404, "has no version 9; versions: [1, 2]")


def test_unknown_label_is_404(client):
    assert_error(client.post("/v1/models/churn/labels/gold:predict", json={}), 404, "has no label 'gold'")


def test_non_numeric_version_is_400(client):
    assert_error(client.get("/v1/models/churn/versions/abc"), 400, "must be a positive integer")


def test_registered_but_not_served_version_is_404(keyed):
    r = keyed.get("/v2/models/churn/versions/2", headers={"Authorization": f"Bearer {KEYS[0]}"})
    assert_error(r, 404, "registered but not served")


def test_unknown_route_and_wrong_method_use_the_error_shape(client):
    assert_error(client.get("/v3/anything"), 404, "no route GET /v3/anything")
    assert_error(client.get("/v1/models/churn:predict"), 405, "method GET is not allowed")  # a POST-only verb path
    assert_error(client.put("/v2/models/churn/infer"), 405, "method PUT is not allowed")


@pytest.mark.parametrize("body,match", [
    (b"{bad json", "not valid JSON"),
    (b"", "request body is empty"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"instances": [], "inputs": []}', "exactly one of 'instances'"),
    (b'{"instance": []}', "unknown request fields ['instance']"),
    (b'{"instances": [1], "signature_name": "other"}', "signature_name='other'"),
    (b'{"instances": []}', "instances is empty"),
    (b'{"instances": {"a": 1}}', "'instances' must be a list"),
    (b'\xff\xfe', "not UTF-8"),
    (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
])
def test_malformed_predict_bodies_are_400(client, body, match):
    r = client.post("/v1/models/fashion:predict", content=body, headers={"content-type": "application/json"})
    assert_error(r, 400, match)


def test_schema_violation_names_the_field(client):
    row = churn_rows(1)[0] | {"contract": "Forever", "tenure": "long"}
    r = client.post("/v1/models/churn:predict", json={"instances": [row]})
    assert_error(r, 400, "row 0: field 'tenure' must be a finite number, got 'long'")
    assert "field 'contract' must be one of" in r.json()["error"]


def test_unknown_column_is_refused(client):
    row = churn_rows(1)[0] | {"tenur": 3}
    assert_error(client.post("/v1/models/churn:predict", json={"instances": [row]}), 400, "unknown fields ['tenur']")


@pytest.mark.parametrize("instances,match", [
    ([[[[float("nan")]] * 28] * 28], "NaN and inf are refused"),
    ([[[[1e39]] * 28] * 28], "within float32's range"),
    ([[[[10 ** 400]] * 28] * 28], "beyond float32's range"),
    ([[[["0"]] * 28] * 28], "got str values"),
    ([[[[True]] * 28] * 28], "got bool values"),
    ([[[[None]] * 28] * 28], "NoneType"),
    ([[1, 2], [3]], "rectangular"),
    ([[0.0] * 3], "have shape [1, 3]; model 'fashion' takes [n, 28, 28, 1]"),
])
def test_bad_tensors_are_400(client, instances, match):
    body = json.dumps({"instances": instances}, allow_nan=True)
    r = client.post("/v1/models/fashion:predict", content=body, headers={"content-type": "application/json"})
    assert_error(r, 400, match)


def test_columnar_lengths_must_agree(client):
    assert_error(client.post("/v1/models/churn:predict", json={"inputs": {"tenure": [1, 2], "female": ["0"]}}),
                 400, "same length")


def test_wrong_content_type_is_415(client):
    r = client.post("/v1/models/fashion:predict", content=b"instances=1", headers={"content-type": "text/plain"})
    assert_error(r, 415, "Content-Type 'text/plain' is not supported")


def test_compressed_body_is_415(client):
    r = client.post("/v1/models/fashion:predict", content=b"x", headers={"content-encoding": "gzip"})
    assert_error(r, 415, "Content-Encoding 'gzip'")


def test_curl_default_form_content_type_is_read_as_json(client):
    body = json.dumps({"instances": images(1).tolist()})
    r = client.post("/v1/models/fashion:predict", content=body,
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200


# ------------------------------------------------------------------------------------------ limits
@pytest.fixture(scope="module")
def limited(tiny_registry):
    c = ready_client(create_app(Settings(registry=tiny_registry, models=["churn"], max_body_bytes=2000, max_instances=2)))
    yield c
    c.__exit__(None, None, None)


def test_body_over_limit_by_content_length_is_413(limited):
    r = limited.post("/v1/models/churn:predict", content=b" " * 2001, headers={"content-type": "application/json"})
    assert_error(r, 413, "max_body_bytes=2000")


def test_body_over_limit_while_streaming_is_413(limited):
    def chunks():  # no Content-Length: sent chunked, so the limit must hold while reading
        for _ in range(5):
            yield b" " * 1000

    r = limited.post("/v1/models/churn:predict", content=chunks(), headers={"content-type": "application/json"})
    assert_error(r, 413, "max_body_bytes=2000")


def test_too_many_instances_is_413_naming_the_limit(limited):
    r = limited.post("/v1/models/churn:predict", json={"instances": [{}] * 3})
    assert_error(r, 413, "max_instances=2")


def test_rate_limit_gives_429_with_retry_after(tiny_registry):
    settings = Settings(registry=tiny_registry, models=["churn"], api_keys=KEYS, rate_limit_per_minute=6,
                        rate_limit_burst=2)
    with TestClient(create_app(settings)) as c:
        wait_ready(c.get)
        first = {"Authorization": f"Bearer {KEYS[0]}"}
        codes = [c.get("/v1/models/churn", headers=first).status_code for _ in range(3)]
        refused = c.get("/v1/models/churn", headers=first)
        other_key = c.get("/v1/models/churn", headers={"Authorization": f"Bearer {KEYS[1]}"})
    assert codes == [200, 200, 429]
    assert_error(refused, 429, "6 requests per minute (burst 2)")
    assert 1 <= int(refused.headers["retry-after"]) <= 10  # one token comes back every 10 s
    assert other_key.status_code == 200


# -------------------------------------------------------------------------------------------- auth
def test_missing_key_is_401_with_www_authenticate(keyed):
    r = keyed.post("/v1/models/churn:predict", json={"instances": churn_rows(1)})
    assert_error(r, 401, "missing API key")
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_wrong_key_is_401(keyed):
    r = keyed.get("/v2/models/churn", headers={"Authorization": "Bearer wrong-key-xxxxxxxx"})
    assert_error(r, 401, "invalid API key")
    assert "invalid_token" in r.headers["www-authenticate"]


def test_good_key_is_200(keyed):
    r = keyed.post("/v1/models/churn:predict", json={"instances": churn_rows(1)},
                   headers={"Authorization": f"Bearer {KEYS[1]}"})
    assert r.status_code == 200


def test_keys_are_compared_in_constant_time_against_every_key(keyed, monkeypatch):
    calls, real = [], hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security_module.hmac, "compare_digest", spy)
    keyed.get("/v1/models/churn", headers={"Authorization": f"Bearer {KEYS[0]}"})
    assert [a for a, _ in calls] == [k.encode() for k in KEYS]  # the match is the first key: no early exit


def test_metrics_need_a_key_unless_public(keyed):
    assert_error(keyed.get("/metrics"), 401, "missing API key")
    assert keyed.get("/metrics", headers={"Authorization": f"Bearer {KEYS[0]}"}).status_code == 200


def test_metrics_public_setting_opens_metrics(tiny_registry):
    with TestClient(create_app(Settings(registry=tiny_registry, models=["churn"], api_keys=KEYS,
                                        metrics_public=True))) as c:
        assert c.get("/metrics").status_code == 200


# ----------------------------------------------------------------------------------------- metrics
def test_metrics_count_requests_by_route_template(client):
    client.post("/v1/models/churn:predict", json={"instances": churn_rows(1)})
    client.get("/not/a/route/12345")
    text = client.get("/metrics").text
    assert 'aiaas_requests_total{method="POST",route="/v1/models/{name}:predict",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert "/not/a/route" not in text  # raw paths never become labels (unbounded cardinality)


def test_metrics_have_latency_batch_size_and_load_time(client):
    client.post("/v1/models/churn:predict", json={"instances": churn_rows(3)})
    text = client.get("/metrics").text
    assert 'aiaas_request_duration_seconds_bucket{le="0.001",method="POST",route="/v1/models/{name}:predict"}' in text
    assert 'aiaas_batch_size_bucket{le="4.0",model="churn"}' in text
    assert 'aiaas_model_load_seconds{model="churn",version="2"}' in text
    assert "aiaas_ready 1.0" in text


# ---------------------------------------------------------------------------------------- batching
def test_concurrent_requests_are_batched(tiny_registry):
    settings = Settings(registry=tiny_registry, models=["churn"], batching=True, batch_max_wait_ms=500,
                        batch_max_size=64)
    rows = churn_rows(4)
    with TestClient(create_app(settings)) as c:
        wait_ready(c.get)
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda r: c.post("/v1/models/churn:predict", json={"instances": [r]}), rows))
        text = c.get("/metrics").text
        batches = c.app.state.service.entries["churn"].batchers[1].batches
    assert [r.status_code for r in results] == [200] * 4
    np.testing.assert_allclose([r.json()["predictions"][0] for r in results], direct_churn(tiny_registry, rows), atol=1e-5)
    assert max(batches) > 1
    count_le_1 = float(text.split('aiaas_batch_size_bucket{le="1.0",model="churn"} ')[1].split()[0])
    count_all = float(text.split('aiaas_batch_size_count{model="churn"} ')[1].split()[0])
    assert count_all > count_le_1  # the histogram saw a batch of more than one row


def test_full_batch_queue_is_503_with_retry_after(tiny_registry, monkeypatch):
    gate, entered = threading.Event(), threading.Event()
    settings = Settings(registry=tiny_registry, models=["fashion"], batching=True, batch_max_wait_ms=0,
                        batch_queue_size=1)
    body = {"instances": images(1).tolist()}
    with TestClient(create_app(settings)) as c:
        wait_ready(c.get)
        svc = c.app.state.service
        runtime = svc.entries["fashion"].runtimes[1]
        real = runtime.predict

        def blocked(x):
            entered.set()
            gate.wait(30)
            return real(x)

        monkeypatch.setattr(runtime, "predict", blocked)
        batcher = svc.entries["fashion"].batchers[1]
        with ThreadPoolExecutor(2) as pool:
            running = pool.submit(c.post, "/v1/models/fashion:predict", json=body)
            assert entered.wait(30)  # the first request is inside the model call
            queued = pool.submit(c.post, "/v1/models/fashion:predict", json=body)
            poll_until(lambda: batcher.waiting >= 1, 30, "the second request to queue")  # queue size 1
            refused = c.post("/v1/models/fashion:predict", json=body)
            gate.set()
            assert running.result().status_code == 200 and queued.result().status_code == 200
        text = c.get("/metrics").text
    assert_error(refused, 503, "batch_queue_size")
    assert refused.headers["retry-after"] == "1"
    assert 'aiaas_batch_rejected_total{model="fashion"} 1.0' in text


def test_settings_read_from_environment(monkeypatch):
    monkeypatch.setenv("AIAAS_MAX_INSTANCES", "7")
    monkeypatch.setenv("AIAAS_API_KEYS", "key-one-xxxx, key-two-xxxx")
    monkeypatch.setenv("AIAAS_MODE", "fast")  # a course variable, not a setting: ignored
    s = Settings()
    assert s.max_instances == 7 and s.api_keys == ["key-one-xxxx", "key-two-xxxx"]
    assert "key-one" not in repr(s)  # keys are never printed


@pytest.mark.parametrize("path", ["/v1/models/churn/versions/2:explain", "/v1/models/churn/labels/canary:explain"])
def test_explain_version_and_label_routes_use_that_version(client, path):
    rows = churn_rows(1)
    explained = client.post(path, json={"instances": rows}).json()["explanations"][0]["prediction"]
    predicted = client.post("/v1/models/churn/versions/2:predict", json={"instances": rows}).json()["predictions"]
    assert explained == pytest.approx(predicted[0][0], abs=1e-6)  # same model, same float32 output


def test_framework_validation_errors_use_the_error_shape():
    from fastapi import FastAPI

    from aiaas_lib.serving.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/items/{number}")
    async def item(number: int):
        return {"number": number}

    r = TestClient(app).get("/items/abc")
    assert_error(r, 400, "invalid request: path number:")


def test_unexpected_errors_are_500_without_internals():
    from fastapi import FastAPI

    from aiaas_lib.serving.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom():
        raise RuntimeError("secret internals")

    r = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert_error(r, 500, "internal error while serving GET /boom (RuntimeError)")
    assert "error id" in r.text and "secret" not in r.text


def test_status_of_a_version_not_served_is_404(keyed):
    r = keyed.get("/v1/models/churn/labels/canary", headers={"Authorization": f"Bearer {KEYS[0]}"})
    assert_error(r, 404, "version 2 of model 'churn' is registered but not served (served: [1])")


@pytest.mark.parametrize("body,match", [
    ({"inputs": [], "outputs": "probability"}, "'outputs' must be a list"),
    ({"inputs": [], "parameters": [1]}, "'parameters' must be an object"),
    ({"inputs": [], "id": 5}, "'id' must be a string"),
    ({"inputs": [], "extra": 1}, "unknown request fields ['extra']"),
    ({"inputs": [{"name": "image"}, {"name": "image"}]}, "input 'image' is given twice"),
    ({"inputs": [{"name": "image", "shape": [1, 28, 28, 1], "datatype": "FP32", "data": "x"}]}, "data must be a list"),
    ({"inputs": [{"name": "image", "shape": [1, 28, 28], "datatype": "FP32", "data": [0.0] * 784}]},
     "has shape [1, 28, 28]; model 'fashion' takes [n, 28, 28, 1]"),
    ({"inputs": [{"name": "image", "shape": [10 ** 6] * 4, "datatype": "FP32", "data": []}]}, "is too large"),
    ({"inputs": [{"name": "image", "shape": "big", "datatype": "FP32", "data": []}]}, "shape must be a list"),
])
def test_v2_malformed_requests_are_400(client, body, match):
    assert_error(client.post("/v2/models/fashion/infer", json=body), 400, match)


def test_v2_tabular_shapes_must_be_columns_of_equal_length(client):
    inputs = v2_churn_inputs(churn_rows(2))
    inputs[0] = {**inputs[0], "shape": [1, 2]}
    assert_error(client.post("/v2/models/churn/infer", json={"inputs": inputs}), 400, "expected [n] or [n, 1]")
    inputs = v2_churn_inputs(churn_rows(2))
    inputs[1] = {**inputs[1], "shape": [1, 1], "data": inputs[1]["data"][:1]}
    assert_error(client.post("/v2/models/churn/infer", json={"inputs": inputs}), 400, "all inputs need the same n")


@pytest.mark.parametrize("inputs,match", [
    ({"tenure": 3}, "columns ['tenure'] must be lists"),
    ("rows", "'inputs' must be an object of column"),
])
def test_tabular_columnar_errors(client, inputs, match):
    assert_error(client.post("/v1/models/churn:predict", json={"inputs": inputs}), 400, match)


@pytest.mark.parametrize("inputs,match", [
    ({"pixels": []}, "'inputs' names ['pixels']; model 'fashion' has one input 'image'"),
    (3, "'inputs' must be a nested list"),
])
def test_tensor_columnar_errors(client, inputs, match):
    assert_error(client.post("/v1/models/fashion:predict", json={"inputs": inputs}), 400, match)


def test_tensor_rows_with_wrong_input_name(client):
    r = client.post("/v1/models/fashion:predict", json={"instances": [{"pixels": 1}]})
    assert_error(r, 400, "instances name inputs ['pixels']")


def test_huge_number_in_a_row_is_named(client):
    r = client.post("/v1/models/churn:predict", json={"instances": [churn_rows(1)[0] | {"tenure": 10 ** 400}]})
    assert_error(r, 400, "row 0: field 'tenure' is beyond float32's range")


def test_explain_without_background_rows_is_400(tiny_registry, tmp_path):
    root = tmp_path / "reg"
    shutil.copytree(tiny_registry, root)
    meta_file = root / "churn" / "1" / "metadata.json"
    meta = json.loads(meta_file.read_text())
    del meta["background"]
    meta_file.write_text(json.dumps(meta))
    with TestClient(create_app(Settings(registry=root, models=["churn"]))) as c:
        wait_ready(c.get)
        r = c.post("/v1/models/churn:explain", json={"instances": churn_rows(1)})
    assert_error(r, 400, "has no 'background' rows")


def test_batching_also_serves_kserve_infer(tiny_registry):
    with TestClient(create_app(Settings(registry=tiny_registry, models=["fashion"], batching=True))) as c:
        wait_ready(c.get)
        x = images(1)
        req = {"inputs": [{"name": "image", "shape": [1, 28, 28, 1], "datatype": "FP32", "data": x.ravel().tolist()}]}
        r = c.post("/v2/models/fashion/infer", json=req)
    assert r.status_code == 200 and r.json()["outputs"][0]["shape"] == [1, 10]


def test_service_predict_without_batching_runs_in_a_worker_thread(client):
    import anyio

    svc = client.app.state.service
    rt = svc.runtime("fashion")
    out = anyio.run(svc.predict, rt, images(2), 2)
    assert out.shape == (2, 10)


# ------------------------------------------------------------------------------------------ gc freeze
def test_gc_freeze_freezes_the_loaded_objects_and_undoes_it_at_shutdown(tiny_registry):
    import gc

    gc.unfreeze()
    c = ready_client(create_app(Settings(registry=tiny_registry, models=["churn"], gc_freeze=True)))
    try:
        assert gc.get_freeze_count() > 10_000  # TF, Keras and the loaded model: out of the collector's scans
        assert c.post("/v1/models/churn:predict", json={"instances": churn_rows(1)}).status_code == 200
    finally:
        c.__exit__(None, None, None)
    assert gc.get_freeze_count() == 0


def test_gc_freeze_is_off_for_in_process_apps_and_on_for_aiaas_serve(tiny_registry, monkeypatch):
    from aiaas_lib import cli
    from aiaas_lib.serving import server

    assert Settings().gc_freeze is False
    seen = {}
    monkeypatch.delenv("AIAAS_GC_FREEZE", raising=False)
    monkeypatch.setattr(server, "serve", lambda settings: seen.setdefault("s", settings) and 0)
    assert cli.main(["serve", "--registry", tiny_registry]) == 0
    assert seen.pop("s").gc_freeze is True
    monkeypatch.setenv("AIAAS_GC_FREEZE", "false")  # the environment still decides when it is set
    assert cli.main(["serve", "--registry", tiny_registry]) == 0
    assert seen["s"].gc_freeze is False
