"""The load generator, the background-server helper and the source design's Flask app."""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from aiaas_lib import loadtest
from aiaas_lib.serving import source_design


class _Handler(BaseHTTPRequestHandler):
    """Echo server: 200 with the body's length; 500 on /fail; a chunked reply on /chunked; a reply that
    closes the connection on /close (as HTTP/1.0 servers such as Flask's development server do)."""

    seen: list = []  # (path, authorization header, body length) of every request

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        _Handler.seen.append((self.path, self.headers.get("authorization"), len(body)))
        reply = json.dumps({"n": len(body), "auth": self.headers.get("authorization")}).encode()
        self.send_response(500 if self.path == "/fail" else 200)
        self.send_header("content-type", "application/json")
        if self.path == "/chunked":
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            half = len(reply) // 2
            for part in (reply[:half], reply[half:], b""):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            return
        self.send_header("content-length", str(len(reply)))
        if self.path == "/close":
            self.send_header("connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture(scope="module")
def echo():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.protocol_version = "HTTP/1.1"  # keep-alive
    _Handler.protocol_version = "HTTP/1.1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# ------------------------------------------------------------------------------------ percentiles
def test_percentile_ms_interpolates_like_numpy():
    lat = [0.001 * i for i in range(1, 101)]  # 1..100 ms
    assert loadtest.percentile_ms(lat, 50) == pytest.approx(50.5)  # exact up to float rounding
    assert loadtest.percentile_ms(lat, 99) == pytest.approx(99.01)


def test_percentile_ms_refuses_empty():
    with pytest.raises(ValueError, match="latencies_s is empty"):
        loadtest.percentile_ms([], 50)


def test_percentile_ms_refuses_q_outside_0_100():
    with pytest.raises(ValueError, match=r"q=101; expected a percentile in \[0, 100\]"):
        loadtest.percentile_ms([0.1], 101)


def test_load_result_throughput_and_summary():
    r = loadtest.LoadResult(np.full(10, 0.002), seconds=0.5, concurrency=2, statuses={200: 9, 500: 1})
    assert r.requests_per_s == 20.0 and not r.ok
    assert r.summary() == {"concurrency": 2, "requests": 10, "requests_per_s": 20.0, "p50_ms": 2.0,
                           "p99_ms": 2.0, "errors": 1}


def test_load_result_repr_shows_its_figures():
    r = loadtest.LoadResult(np.array([0.001, 0.002, 0.003, 0.010]), seconds=0.02, concurrency=2,
                            statuses={500: 1, 200: 3})
    assert repr(r) == ("LoadResult(requests=4, concurrency=2, seconds=0.02, requests_per_s=200.0, p50_ms=2.5, "
                       "p99_ms=9.79, errors=1, statuses={200: 3, 500: 1})")


def test_markdown_table_takes_load_results():
    r = loadtest.LoadResult(np.full(10, 0.002), seconds=0.5, concurrency=2, statuses={200: 10})
    assert loadtest.markdown_table([r], ["concurrency", "requests_per_s", "p99_ms"]).splitlines() == [
        "| concurrency | requests_per_s | p99_ms |", "|---|---|---|", "| 2 | 20.0 | 2.0 |"]
    assert loadtest.markdown_table([r, {"concurrency": 8}]).splitlines()[3] == "| 8 |  |  |  |  |  |"


def test_markdown_table_refuses_other_rows():
    with pytest.raises(TypeError, match=r"rows\[0\] is a list; expected dicts or LoadResult objects"):
        loadtest.markdown_table([[1, 2]])


def test_markdown_table_refuses_no_rows():
    with pytest.raises(ValueError, match="rows is empty"):
        loadtest.markdown_table([])


# --------------------------------------------------------------------------------------- run_load
def test_run_load_sends_exactly_the_requested_number(echo):
    r = loadtest.run_load(echo + "/predict", {"x": [1, 2]}, concurrency=4, requests=50, warmup=4)
    assert r.requests == 50 and r.statuses == {200: 50} and r.ok
    assert r.seconds > 0 and np.all(r.latencies > 0)


def test_run_load_counts_error_statuses(echo):
    r = loadtest.run_load(echo + "/fail", b"{}", concurrency=2, requests=6, warmup=0)
    assert r.statuses == {500: 6} and r.summary()["errors"] == 6


def test_run_load_counts_refused_connections_as_status_0():
    url = f"http://127.0.0.1:{loadtest.free_port()}/x"  # nothing listens there
    r = loadtest.run_load(url, {}, concurrency=1, requests=3, warmup=0)
    assert r.statuses == {0: 3}


def test_run_load_sends_headers_and_body(echo):
    _Handler.seen.clear()
    r = loadtest.run_load(echo + "/predict", {"x": [1, 2]}, concurrency=1, requests=2, warmup=0,
                          headers={"Authorization": "Bearer k"})
    assert r.ok
    assert _Handler.seen == [("/predict", "Bearer k", len(b'{"x": [1, 2]}'))] * 2


@pytest.mark.parametrize("path", ["/chunked", "/close"])
def test_run_load_reads_chunked_replies_and_reconnects_after_close(echo, path):
    _Handler.seen.clear()
    r = loadtest.run_load(echo + path, {}, concurrency=2, requests=10, warmup=0)
    assert r.statuses == {200: 10}
    assert len(_Handler.seen) == 10


def test_run_load_refuses_a_header_with_a_line_break(echo):
    with pytest.raises(ValueError, match=r"headers \['X-Evil'\] contain a line break"):
        loadtest.run_load(echo + "/p", {}, headers={"X-Evil": "a\r\nHost: b"})


def test_run_load_refuses_a_non_http_url():
    with pytest.raises(ValueError, match=r"url='https://example.org/x'; expected a plain http://"):
        loadtest.run_load("https://example.org/x", {}, warmup=0, requests=1)


@pytest.mark.parametrize("kwargs, match", [
    ({"concurrency": 0}, "concurrency=0 must be an integer >= 1"),
    ({"requests": 0}, "requests=0 must be an integer >= 1"),
])
def test_run_load_refuses_bad_bounds(kwargs, match):
    with pytest.raises(ValueError, match=match):
        loadtest.run_load("http://127.0.0.1:1/x", {}, **kwargs)


def test_run_load_works_inside_a_running_event_loop(echo):
    import asyncio

    async def from_a_notebook_cell():  # Jupyter runs cells inside an event loop
        return loadtest.run_load(echo + "/predict", {}, concurrency=2, requests=4, warmup=0)

    assert asyncio.run(from_a_notebook_cell()).ok


# ---------------------------------------------------------------------------------- ServerProcess
def _http_server_cmd(port):
    return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]


def test_server_process_starts_polls_and_stops_with_sigterm():
    port = loadtest.free_port()
    server = loadtest.ServerProcess(_http_server_cmd(port), f"http://127.0.0.1:{port}", ready_path="/")
    with server:
        assert server.running
    assert not server.running and server.returncode is not None
    assert server not in loadtest._RUNNING  # nothing left for the atexit clean-up


def test_server_process_reports_an_early_exit_with_its_log():
    server = loadtest.ServerProcess([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"],
                                    "http://127.0.0.1:1")
    with pytest.raises(RuntimeError, match=r"exited with code 3 before it was ready; its log:\nboom"):
        server.start(timeout=30)


def test_server_process_times_out_when_never_ready():
    port = loadtest.free_port()
    server = loadtest.ServerProcess(_http_server_cmd(port), f"http://127.0.0.1:{port}", ready_path="/",
                                    ready_status=299)  # http.server never answers 299
    with pytest.raises(RuntimeError, match="was not ready at .* within 1 s"):
        server.start(timeout=1)
    assert not server.running


def test_server_process_refuses_a_second_start():
    port = loadtest.free_port()
    with loadtest.ServerProcess(_http_server_cmd(port), f"http://127.0.0.1:{port}", ready_path="/") as server:
        with pytest.raises(RuntimeError, match="is already running"):
            server.start()


# ---------------------------------------------------------------------------------- source design
def test_source_flask_app_calls_model_predict_per_request():
    calls = []

    class Model:
        def predict(self, x, verbose="auto"):
            calls.append(x.shape)
            return x[:, :1] * 2

    client = source_design.create_flask_app(Model()).test_client()
    reply = client.post("/predict", json={"features": [[1.0, 5.0]]})
    assert reply.status_code == 200 and reply.get_json() == [[2.0]] and calls == [(1, 2)]


def test_source_design_main_refuses_a_missing_model(capsys):
    assert source_design.main(["--model", "/nonexistent/model.keras"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_train_source_model_refuses_unknown_mode():
    with pytest.raises(ValueError, match=r"mode='quick'; expected one of \['fast', 'full'\]"):
        source_design.train_source_model("/tmp/unused", mode="quick")


def test_server_process_wait_ready_needs_a_launch():
    server = loadtest.ServerProcess(["true"], "http://127.0.0.1:1")
    with pytest.raises(RuntimeError, match="never launched"):
        server.wait_ready(timeout=1)


def test_server_process_polls_readiness_with_its_tls_verify(monkeypatch):
    import ssl

    import httpx

    seen = []

    def fake_get(url, timeout, verify):  # stands in for an https server with a self-signed certificate
        seen.append((url, verify))
        return httpx.Response(200)

    monkeypatch.setattr(httpx, "get", fake_get)
    context = ssl.create_default_context()
    server = loadtest.ServerProcess([sys.executable, "-c", "import time; time.sleep(30)"], "https://127.0.0.1:1",
                                    verify=context)
    with server:
        assert seen == [("https://127.0.0.1:1/v2/health/ready", context)]
    assert not server.running
