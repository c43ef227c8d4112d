"""The service on Ray Serve answers like the plain service, batches through @serve.batch, and stops Ray;
Ray batch inference equals the in-process loop. One Ray session for the module (~60 s on 2 busy cores)."""
import numpy as np
import pytest

from aiaas_lib.scaling import ray_batch, ray_serve

ray = pytest.importorskip("ray", reason="ray[serve] is not installed: the Ray Serve tests need it")
httpx = pytest.importorskip("httpx")


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    from aiaas_lib.defaults import train_defaults

    root = tmp_path_factory.mktemp("registry")
    train_defaults(root, mode="fast", names=["churn"], log=None)
    return root


@pytest.fixture(scope="module")
def rows():
    from aiaas_lib import data

    X, _ = data.churn_xy(data.load_churn())
    return X.iloc[:3]


@pytest.fixture(scope="module")
def session(registry, rows):
    """Start Ray Serve (1 replica: the test checks behaviour, not scaling), make every request, stop."""
    from concurrent.futures import ThreadPoolExecutor

    instances = {"instances": rows.to_dict(orient="records")}
    out = {}
    runner = ray_serve.RayServeRunner(ray_serve.build_app({"registry": str(registry), "models": ["churn"]},
                                                          num_replicas=1, batch_wait_timeout_s=0.05),
                                      ready_hits=3)
    with runner:
        out["plain_route"] = httpx.post(runner.url + "/v1/models/churn:predict", json=instances, timeout=30).json()
        out["batched"] = httpx.post(runner.url + "/batched/v1/models/churn:predict", json=instances, timeout=30).json()
        out["bad"] = httpx.post(runner.url + "/batched/v1/models/churn:predict", json={"rows": []}, timeout=30)
        before = httpx.get(runner.url + "/batched/stats", timeout=30).json()
        one = {"instances": instances["instances"][:1]}
        with ThreadPoolExecutor(8) as pool:  # 8 concurrent one-row requests within the 50 ms batch window
            list(pool.map(lambda _: httpx.post(runner.url + "/batched/v1/models/churn:predict", json=one,
                                               timeout=30), range(8)))
        after = httpx.get(runner.url + "/batched/stats", timeout=30).json()
        out["stats"] = (before, after)
        big = ray_batch.resample_rows(rows, 500)
        out["ray_rows"] = ray_batch.predict_ray(big, registry, batch_size=128, concurrency=1, engine="actors")[0]
        out["ray_data_rows"] = ray_batch.predict_ray(big, registry, batch_size=128, concurrency=1, engine="data")[0]
        out["big"] = big
        out["ray_was_running"] = ray.is_initialized()
    out["ray_after"] = ray.is_initialized()
    return out


def _plain_predictions(registry, rows):
    from fastapi.testclient import TestClient

    from aiaas_lib.serving import Settings
    from aiaas_lib.serving.app import create_app

    from aiaas_lib.loadtest import wait_ready

    with TestClient(create_app(Settings(registry=registry, models=["churn"]))) as client:
        wait_ready(client.get)
        return client.post("/v1/models/churn:predict", json={"instances": rows.to_dict(orient="records")}).json()


def test_ray_serve_answers_like_the_plain_service(session, registry, rows):
    plain = np.array(_plain_predictions(registry, rows)["predictions"])
    # same model file, same rows: the same float32 computation; 1e-6 allows another summation order
    np.testing.assert_allclose(np.array(session["plain_route"]["predictions"]), plain, atol=1e-6)


def test_batched_route_answers_the_same(session):
    np.testing.assert_allclose(np.array(session["batched"]["predictions"]),
                               np.array(session["plain_route"]["predictions"]), atol=1e-6)


def test_serve_batch_joins_concurrent_requests(session):
    before, after = session["stats"]
    assert after["requests"] - before["requests"] == 8
    assert after["calls"] - before["calls"] < 8  # at least two requests shared one model call


def test_batched_route_rejects_a_bad_body(session):
    assert session["bad"].status_code == 400 and "instances" in session["bad"].json()["error"]


def test_ray_actors_batch_inference_equals_the_local_loop(session, registry):
    local, _ = ray_batch.predict_local(session["big"], registry, batch_size=128)
    np.testing.assert_allclose(session["ray_rows"], local, atol=1e-6)


def test_ray_data_batch_inference_equals_the_local_loop(session, registry):
    local, _ = ray_batch.predict_local(session["big"], registry, batch_size=128)
    np.testing.assert_allclose(session["ray_data_rows"], local, atol=1e-6)  # in row order


def test_ray_is_stopped_afterwards(session):
    assert session["ray_was_running"] and not session["ray_after"]


def test_autoscaling_config_fields():
    config = ray_serve.autoscaling_config(1, 4, 8)
    assert (config["min_replicas"], config["max_replicas"], config["target_ongoing_requests"]) == (1, 4, 8.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"min_replicas": 3, "max_replicas": 2}, "min_replicas=3, max_replicas=2"),
    ({"target_ongoing_requests": 0}, "target_ongoing_requests=0"),
])
def test_autoscaling_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ray_serve.autoscaling_config(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"num_replicas": 0}, "num_replicas=0"),
    ({"autoscaling": {"min_replicas": 1}}, "expected a dict with"),
    ({"max_batch_size": 0}, "max_batch_size=0"),
])
def test_build_app_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ray_serve.build_app(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size=0"), ({"concurrency": 0}, "concurrency=0"), ({"engine": "spark"}, "engine='spark'"),
])
def test_predict_ray_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ray_batch.predict_ray(None, "models", **kwargs)


def test_resample_rows_is_reproducible(rows):
    a, b = ray_batch.resample_rows(rows, 10, seed=1), ray_batch.resample_rows(rows, 10, seed=1)
    assert a.equals(b) and len(a) == 10


def test_resample_rows_rejects_zero(rows):
    with pytest.raises(ValueError, match="rows=0"):
        ray_batch.resample_rows(rows, 0)


def test_cli_serve_ray_checks_the_registry_first(tmp_path, capsys):
    from aiaas_lib.cli import main

    assert main(["serve", "--ray", "--registry", str(tmp_path)]) == 2
    assert "has no models" in capsys.readouterr().err
