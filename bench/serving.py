"""Serving throughput and latency: the source article's design against the course's service.

Three servers, each a subprocess on 127.0.0.1 (loopback; CPU only), measured one at a time:

- **source design**: Flask's development server (``app.run``, threaded) whose ``/predict`` runs
  ``model.predict`` per request (:mod:`aiaas_lib.serving.source_design`; an MLP on the 45 churn design-matrix
  features, the client sends one encoded row per request);
- **service**: ``aiaas serve`` (uvicorn + FastAPI) with the fast-mode default ``churn`` model, one raw
  churn row per request in TF Serving's row format (schema check, encoding and the model inside);
- **service + batching**: the same with ``--batching`` (default batch settings);
- **fashion CNN, direct / + batching**: the default ``fashion`` CNN, one 28×28 image per request, without
  and with ``--batching``: a model whose own call costs more than the HTTP work around it, which is where
  micro-batching pays (for the tiny churn MLP the model call is about 60 µs of the request's ~600 µs).

The load generator (:func:`aiaas_lib.loadtest.run_load`, a minimal HTTP/1.1 client on asyncio streams)
runs in this process on the same 2 cores:
``concurrency`` workers, each sending its next request when the previous one is answered, a fixed number
of requests per cell after a warm-up; latency is measured at the client (request sent → reply read).
Prints a markdown table and the ratios of the done-when targets; asserts nothing.

Run: ``AIAAS_MODE=fast python bench/serving.py`` (a few minutes; the source design is slow).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from aiaas_lib import data, loadtest
from aiaas_lib.serving import source_design  # noqa: E402
from aiaas_lib.defaults import train_defaults  # noqa: E402

CONCURRENCY = (1, 8, 32)
REQUESTS = {"source design": 160, "service": 2000, "service + batching": 2000,
            "fashion CNN, direct": 1000, "fashion CNN + batching": 1000}


def measure(name: str, server: loadtest.ServerProcess, path: str, body: dict) -> list[dict]:
    rows = []
    with server:
        for concurrency in CONCURRENCY:
            result = loadtest.run_load(server.url + path, body, concurrency=concurrency,
                                       requests=REQUESTS[name],
                                       warmup=2 * concurrency)
            rows.append({"design": name, **result.summary()})
            print(f"  {name:<20} concurrency {concurrency:>2}: {result.requests_per_s:8.1f} req/s  "
                  f"p50 {result.p50_ms:8.2f} ms  p99 {result.p99_ms:8.2f} ms  statuses {result.statuses}",
                  flush=True)
    return rows


def main() -> int:
    folder = tempfile.mkdtemp(prefix="bench-serving-")
    start = time.perf_counter()
    registry = os.path.join(folder, "registry")
    train_defaults(registry, mode="fast", names=["churn", "fashion"], log=None)
    source = source_design.train_source_model(folder, mode="fast")
    print(f"trained both models in {time.perf_counter() - start:.0f} s (source MLP ROC-AUC {source.roc_auc})",
          flush=True)
    X, _ = data.churn_xy(data.load_churn())
    raw_row = {"instances": X.iloc[[0]].to_dict("records")}
    encoded_row = {"features": source.features[:1].tolist()}
    image = {"instances": (data.load_fashion_mnist().x_test[:1, ..., None] / 255.0).round(3).tolist()}

    rows = []
    port = loadtest.free_port()
    rows += measure("source design", loadtest.ServerProcess(
        [sys.executable, "-m", "aiaas_lib.serving.source_design", "--model", str(source.path), "--port", str(port)],
        f"http://127.0.0.1:{port}", ready_path="/predict", ready_status=None,  # no health route: any answer
    ), "/predict", encoded_row)
    for name, extra in (("service", []), ("service + batching", ["--batching"])):
        port = loadtest.free_port()
        rows += measure(name, loadtest.ServerProcess(
            [sys.executable, "-m", "aiaas_lib.cli", "serve", "--registry", registry, "--port", str(port),
             *extra],
            f"http://127.0.0.1:{port}",
        ), "/v1/models/churn:predict", raw_row)
    for name, extra in (("fashion CNN, direct", []), ("fashion CNN + batching", ["--batching"])):
        port = loadtest.free_port()
        rows += measure(name, loadtest.ServerProcess(
            [sys.executable, "-m", "aiaas_lib.cli", "serve", "--registry", registry, "--port", str(port),
             *extra],
            f"http://127.0.0.1:{port}",
        ), "/v1/models/fashion:predict", image)

    print("\nCPU only, loopback, 2 shared cores; client and server on the same machine.\n")
    print(loadtest.markdown_table(rows, ["design", "concurrency", "requests", "requests_per_s", "p50_ms",
                                         "p99_ms", "errors"]))
    cell = {(r["design"], r["concurrency"]): r for r in rows}
    speedup = cell[("service", 32)]["requests_per_s"] / cell[("source design", 32)]["requests_per_s"]
    batching = cell[("service + batching", 32)]["requests_per_s"] / cell[("service", 32)]["requests_per_s"]
    print(f"\nservice / source design at concurrency 32: {speedup:.1f}x requests/s (target >= 50x)")
    print(f"service + batching / service at concurrency 32 (churn MLP): {batching:.2f}x requests/s")
    cnn = cell[("fashion CNN + batching", 32)]["requests_per_s"] / cell[("fashion CNN, direct", 32)]["requests_per_s"]
    print(f"batching / direct at concurrency 32 (fashion CNN): {cnn:.2f}x requests/s (target >= 1.5x)")
    print(f"service p50 at concurrency 1: {cell[('service', 1)]['p50_ms']:.2f} ms (target <= 2 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
