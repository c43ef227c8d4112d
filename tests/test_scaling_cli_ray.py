"""`aiaas serve --ray` end to end: a real process starts Ray and Ray Serve, answers like the plain service,
and on SIGTERM stops Serve and Ray and exits 0 (bounded; no process left behind)."""
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("ray", reason="ray[serve] is not installed: the Ray Serve tests need it")
httpx = pytest.importorskip("httpx")

from aiaas_lib import loadtest  # noqa: E402


def _ray_processes() -> list[str]:
    """Command lines of Ray's own processes (raylet, GCS server) running on this machine."""
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout.splitlines()
    return [line for line in out if "raylet" in line or "gcs_server" in line]


def test_aiaas_serve_ray_answers_like_the_plain_service_and_stops_ray(tmp_path):
    from aiaas_lib import data
    from aiaas_lib.defaults import train_defaults
    from aiaas_lib.packaging.registry import ModelRegistry
    from aiaas_lib.serving.runtime import ModelRuntime

    before = set(_ray_processes())
    registry = tmp_path / "registry"
    train_defaults(registry, mode="fast", names=["churn"], log=None)
    X, _ = data.churn_xy(data.load_churn())
    rows = X.iloc[:3].to_dict("records")
    port = loadtest.free_port()
    server = loadtest.ServerProcess(
        [sys.executable, "-m", "aiaas_lib.cli", "serve", "--ray", "--replicas", "1", "--registry", str(registry),
         "--port", str(port)], f"http://127.0.0.1:{port}")
    with server.launch():
        server.wait_ready(timeout=240)  # Ray start-up, then one replica loading TensorFlow and the model
        reply = httpx.post(f"{server.url}/v1/models/churn:predict", json={"instances": rows}, timeout=60)
        assert reply.status_code == 200, reply.text
        runtime = ModelRuntime.from_registry(ModelRegistry(registry), "churn")
        expected = runtime.predict(runtime.decode_rows(rows)[0])
        np.testing.assert_allclose(reply.json()["predictions"], expected, atol=1e-6)
        assert set(_ray_processes()) - before, "no Ray processes: the reply did not come from Ray Serve"
    assert server.returncode == 0, server.log_text()[-2000:]
    deadline = time.monotonic() + 30  # ray.shutdown() has signalled them; give them a bounded time to exit
    while not set(_ray_processes()) <= before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert set(_ray_processes()) <= before, "aiaas serve --ray left Ray processes behind"
