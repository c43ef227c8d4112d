"""One real service process (`python -m aiaas_lib.cli serve`): HTTP with httpx, KServe V2 with
tritonclient, and a graceful SIGTERM while a large request is in flight."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import httpx
import numpy as np
import pytest

from aiaas_lib.loadtest import free_port, poll_until
from _serving import CATEGORICAL, NUMERIC, churn_rows, images

KEY = "process-test-key-0123456789"


@pytest.fixture(scope="module")
def server(tiny_registry, tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    (folder / "keys.txt").write_text(f"# test key\n{KEY}\n")
    log = open(folder / "server.log", "w")
    port = free_port()
    env = dict(os.environ, AIAAS_MAX_BODY_BYTES=str(64 << 20), AIAAS_MAX_INSTANCES="4096")
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiaas_lib.cli", "serve", "--registry", tiny_registry, "--port", str(port),
         "--api-keys-file", str(folder / "keys.txt"), "--drain-seconds", "1"],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        def ready():
            assert proc.poll() is None, (folder / "server.log").read_text()
            return httpx.get(f"{url}/v2/health/ready", timeout=5).status_code == 200

        poll_until(ready, 120, "the service to be ready")
        yield SimpleNamespace(url=url, port=port, proc=proc, log=folder / "server.log",
                              auth={"Authorization": f"Bearer {KEY}"})
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        log.close()


def test_serve_logs_its_url_and_that_keys_are_on(server):
    first = server.log.read_text().splitlines()[0]
    assert first.startswith(f"aiaas serve: http://127.0.0.1:{server.port} ") and "API keys on (1)" in first


def test_real_process_predicts_with_a_key_and_refuses_without(server):
    rows = churn_rows(2)
    with httpx.Client(base_url=server.url) as c:
        assert c.post("/v1/models/churn:predict", json={"instances": rows}).status_code == 401
        r = c.post("/v1/models/churn:predict", json={"instances": rows}, headers=server.auth)
    assert r.status_code == 200 and np.array(r.json()["predictions"]).shape == (2, 1)


def test_real_process_sequential_latency(server):
    body = json.dumps({"instances": churn_rows(1)})
    headers = {**server.auth, "content-type": "application/json"}
    with httpx.Client(base_url=server.url, headers=headers) as c:
        for _ in range(20):  # warm-up
            c.post("/v1/models/churn:predict", content=body)
        times = []
        for _ in range(200):
            start = time.perf_counter()
            assert c.post("/v1/models/churn:predict", content=body).status_code == 200
            times.append(time.perf_counter() - start)
    p50 = float(np.median(times) * 1e3)
    print(f"churn predict through uvicorn + httpx, sequential: p50 {p50:.2f} ms")
    assert p50 < 250  # a sanity bound only (shared CI cores); the measured value is reported, not asserted


# ------------------------------------------------------------------------------------ tritonclient
@pytest.fixture(scope="module")
def triton(server):
    import tritonclient.http as httpclient

    client = httpclient.InferenceServerClient(url=f"127.0.0.1:{server.port}")
    # tritonclient adds headers to the dict it is given: the tests pass copies of auth
    yield SimpleNamespace(client=client, http=httpclient, auth=server.auth)
    client.close()


def test_tritonclient_health_and_model_ready(triton):
    c = triton.client
    assert c.is_server_live() and c.is_server_ready()
    assert c.is_model_ready("churn", headers=dict(triton.auth))
    assert not c.is_model_ready("nope", headers=dict(triton.auth))


def test_tritonclient_model_metadata(triton):
    meta = triton.client.get_model_metadata("fashion", headers=dict(triton.auth))
    assert meta["platform"] == "tensorflow_keras" and meta["inputs"][0]["shape"] == [-1, 28, 28, 1]


def test_tritonclient_infers_tabular_with_bytes_inputs(triton, server):
    rows = churn_rows(3)
    inputs = []
    for c in NUMERIC + CATEGORICAL:
        if c in NUMERIC:
            tensor = triton.http.InferInput(c, [3, 1], "FP32")
            tensor.set_data_from_numpy(np.array([[r[c]] for r in rows], np.float32), binary_data=False)
        else:
            tensor = triton.http.InferInput(c, [3, 1], "BYTES")
            tensor.set_data_from_numpy(np.array([[str(r[c])] for r in rows], dtype=object), binary_data=False)
        inputs.append(tensor)
    result = triton.client.infer("churn", inputs, headers=dict(triton.auth), request_id="abc")
    expected = httpx.post(f"{server.url}/v1/models/churn:predict", json={"instances": rows},
                          headers=server.auth).json()["predictions"]
    assert result.get_response()["id"] == "abc"
    np.testing.assert_allclose(result.as_numpy("probability"), expected, atol=1e-6)  # FP32 via JSON both ways


def test_tritonclient_infers_a_tensor_model_version(triton):
    x = images(2)
    tensor = triton.http.InferInput("image", list(x.shape), "FP32")
    tensor.set_data_from_numpy(x, binary_data=False)
    out = triton.client.infer("fashion", [tensor], model_version="1", headers=dict(triton.auth),
                              outputs=[triton.http.InferRequestedOutput("logits", binary_data=False)])
    assert out.as_numpy("logits").shape == (2, 10)


def test_tritonclient_binary_data_gets_a_clear_error(triton):
    from tritonclient.utils import InferenceServerException

    tensor = triton.http.InferInput("image", [1, 28, 28, 1], "FP32")
    tensor.set_data_from_numpy(images(1), binary_data=True)
    with pytest.raises(InferenceServerException, match="binary tensor data extension"):
        triton.client.infer("fashion", [tensor], headers=dict(triton.auth))


# --------------------------------------------------------------------------------- graceful SIGTERM
def test_sigterm_reports_not_ready_finishes_in_flight_request_and_exits_0(server):
    n, parts = 64, 25
    body = json.dumps({"instances": np.zeros((n, 28, 28, 1)).tolist()}).encode()
    step = len(body) // parts + 1
    headers = {**server.auth, "content-type": "application/json"}
    result = {}

    def slow_upload():  # a slow client: the request stays in flight for ~2.5 s, longer than the 1 s drain
        for i in range(0, len(body), step):
            yield body[i:i + step]
            time.sleep(0.1)

    def slow_request():
        result["response"] = httpx.post(f"{server.url}/v1/models/fashion:predict", content=slow_upload(),
                                        headers=headers, timeout=120)

    worker = threading.Thread(target=slow_request)
    worker.start()

    def in_flight():  # the metrics request itself counts one; the slow one makes two
        text = httpx.get(f"{server.url}/metrics", headers=server.auth, timeout=5).text
        return float(re.search(r"^aiaas_requests_in_progress (\S+)$", text, re.M).group(1)) >= 2

    poll_until(in_flight, 60, "the slow request to be in flight")
    server.proc.send_signal(signal.SIGTERM)
    ready = httpx.get(f"{server.url}/v2/health/ready", timeout=5)  # within the 1 s drain: still answering
    worker.join(120)
    code = server.proc.wait(60)
    assert ready.status_code == 503 and "shutting down" in ready.json()["error"]
    assert result["response"].status_code == 200 and len(result["response"].json()["predictions"]) == n
    assert code == 0
    assert "Waiting for connections to close" in server.log.read_text()  # uvicorn waited for the request
