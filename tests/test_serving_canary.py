"""Canary routing, shadow mode and live reloads of the model service (TestClient; tiny churn models).

The registry has churn version 1 (``stable``) and version 2 (``canary``: the same network with its output
bias raised by 1, so it predicts differently). Tests that promote or roll back work on their own copy."""
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from _serving import CATEGORICAL, NUMERIC, churn_rows, ready_client
from aiaas_lib.monitoring import parse_metrics, predictions_by_version
from aiaas_lib.packaging.registry import ModelRegistry
from aiaas_lib.serving import Settings, create_app
from fastapi.testclient import TestClient

KEY = "canary-test-key-aaaaaaaa"


@pytest.fixture
def registry_copy(churn_registry, tmp_path) -> str:
    """A copy of the churn registry that a test may promote, roll back or break."""
    target = tmp_path / "registry"
    shutil.copytree(churn_registry, target)
    return str(target)


def rows(n: int = 2) -> list[dict]:
    return churn_rows(n, start=400)


@pytest.fixture
def serve(serve, churn_registry):
    """conftest's ``serve``, taking the settings as keywords, on the churn registry unless ``registry`` is given."""
    return lambda **settings: serve(Settings(**{"registry": churn_registry, **settings}))


@pytest.fixture(scope="module")
def canary20(churn_registry):
    """Read-only: 20 % canary, seeded, public metrics."""
    client = ready_client(create_app(Settings(
        registry=churn_registry, canary_weight=0.2, canary_seed=0, metrics_public=True)))
    yield client
    client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def plain(churn_registry):
    """Read-only use or validation errors only: no canary, every version loaded, API keys on."""
    client = ready_client(create_app(Settings(
        registry=churn_registry, all_versions=True, api_keys=[KEY], canary_seed=0)))
    client.headers["Authorization"] = f"Bearer {KEY}"
    yield client
    client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def all_canary(churn_registry):
    """Read-only: every default-route request to the canary, shadow on (it must not shadow those)."""
    client = ready_client(create_app(Settings(
        registry=churn_registry, canary_weight=1.0, shadow=True, all_versions=True)))
    yield client
    client.__exit__(None, None, None)


def predict(client, n=1, **headers):
    return client.post("/v1/models/churn:predict", json={"instances": rows(n)}, headers=headers)


def metrics(client):
    return parse_metrics(client.get("/metrics").text)


# ------------------------------------------------------------------------------------------- routing
def test_canary_weight_is_honoured_within_a_binomial_bound(canary20):
    # 2000 routing decisions at w = 0.2: mean 400, sigma = sqrt(2000 * 0.2 * 0.8) = 17.9; 4 sigma is
    # exceeded by chance about once in 16,000 runs (and the seed fixes the draw anyway).
    svc = canary20.app.state.service
    roles = [svc.route("churn")[1] for _ in range(2000)]
    n_canary = roles.count("canary")
    assert abs(n_canary - 400) <= 4 * math.sqrt(2000 * 0.2 * 0.8), n_canary


def test_canary_replies_name_the_answering_version_and_are_counted(canary20):
    client = canary20
    versions = [predict(client).headers["x-model-version"] for _ in range(100)]  # P(no canary) = 0.8**100
    assert set(versions) == {"1", "2"}
    counted = predictions_by_version(metrics(client), "churn").set_index("version")["rows"]
    assert counted[1] == versions.count("1") and counted[2] == versions.count("2")


def test_canary_reply_equals_the_canary_versions_prediction(all_canary):
    client = all_canary
    routed = predict(client, 3)
    pinned = client.post("/v1/models/churn/versions/2:predict", json={"instances": rows(3)})
    assert routed.headers["x-model-version"] == "2" and routed.json() == pinned.json()


def test_weight_zero_never_routes_to_the_canary_nor_draws(plain):
    client = plain
    svc = client.app.state.service
    state = svc.rng.getstate()
    assert {predict(client).headers["x-model-version"] for _ in range(50)} == {"1"}
    assert svc.rng.getstate() == state


def test_v2_infer_default_route_follows_the_canary(all_canary):
    client = all_canary
    r = rows(2)
    tensors = [{"name": c, "shape": [2, 1], "datatype": "FP32" if c in NUMERIC else "BYTES",
                "data": [x[c] if c in NUMERIC else str(x[c]) for x in r]} for c in NUMERIC + CATEGORICAL]
    reply = client.post("/v2/models/churn/infer", json={"inputs": tensors})
    assert reply.json()["model_version"] == "2" and reply.headers["x-model-version"] == "2"


@pytest.mark.parametrize("settings, planned", [({}, [1]), ({"canary_weight": 0.1}, [1, 2]), ({"shadow": True}, [1, 2])])
def test_canary_is_loaded_only_when_used(churn_registry, settings, planned):
    from aiaas_lib.serving.service import Service

    svc = Service(Settings(registry=churn_registry, **settings))
    svc.plan()  # plans without loading
    assert svc.entries["churn"].planned == planned


def test_settings_refuse_a_weight_outside_0_1():
    with pytest.raises(ValueError, match="canary_weight"):
        Settings(canary_weight=1.5)


# -------------------------------------------------------------------------------------------- shadow
def test_shadow_never_changes_a_reply_and_records_the_shadow_predictions(serve, plain):
    shadowed = serve(shadow=True, metrics_public=True)
    pinned_v2 = plain.post("/v1/models/churn/versions/2:predict", json={"instances": rows(3)})
    a, b = predict(plain, 3), predict(shadowed, 3)
    assert a.json() == b.json() and b.headers["x-model-version"] == "1"
    entry = shadowed.app.state.service.entries["churn"]
    record = entry.shadow_log[-1]
    assert record["stable_version"] == 1 and record["shadow_version"] == 2
    # the shadow outputs are version 2's predictions (float32 model outputs; 1e-6 covers float32 rounding)
    np.testing.assert_allclose(record["shadow"], pinned_v2.json()["predictions"], atol=1e-6)
    counted = predictions_by_version(metrics(shadowed), "churn", counter="aiaas_shadow_predictions_total")
    assert counted.to_dict("records") == [{"version": 2, "role": "shadow", "rows": 3.0}]
    traffic = shadowed.get("/v1/models/churn/traffic").json()
    assert traffic["shadow"] and traffic["shadow_summary"]["rows"] == 3
    assert traffic["shadow_summary"]["mean_abs_diff"] > 0  # version 2's bias differs


def test_shadow_errors_never_reach_the_client(serve):
    client = serve(shadow=True, metrics_public=True)
    entry = client.app.state.service.entries["churn"]

    def broken(_inputs):
        raise RuntimeError("shadow exploded")

    entry.runtimes[2].predict = broken
    reply = predict(client, 2)
    assert reply.status_code == 200 and len(reply.json()["predictions"]) == 2
    errors = metrics(client).query("name == 'aiaas_shadow_errors_total'")["value"].sum()
    assert errors == 1 and entry.shadow_stats["errors"] == 1


def test_canary_answered_requests_are_not_shadowed(all_canary):
    client = all_canary
    predict(client)
    assert len(client.app.state.service.entries["churn"].shadow_log) == 0


# -------------------------------------------------------------------------------------------- reload
def test_reload_picks_up_a_promotion(registry_copy, serve):
    root = registry_copy
    client = serve(registry=root)
    ModelRegistry(root).promote("churn", 2, "stable")
    assert predict(client).headers["x-model-version"] == "1"  # labels are read at start and by reload only
    reply = client.post("/v1/models/churn:reload")
    assert reply.status_code == 200 and reply.json()["stable"] == 2 and reply.json()["loaded"] == [2]
    assert predict(client).headers["x-model-version"] == "2"


def test_rollback_restores_the_previous_version_after_reload(registry_copy, serve):
    root = registry_copy
    client = serve(registry=root)
    reg = ModelRegistry(root)
    reg.promote("churn", 2, "stable")
    client.post("/v1/models/churn:reload")
    reg.rollback("churn", "stable")
    reply = client.post("/v1/models/churn:reload").json()
    assert reply["stable"] == 1 and reply["loaded"] == []  # version 1 is still in memory
    assert predict(client).headers["x-model-version"] == "1"


def test_reload_body_sets_the_split_at_run_time(serve):
    client = serve(canary_seed=0)
    reply = client.post("/v1/models/churn:reload", json={"canary_weight": 1.0, "shadow": False}).json()
    assert (reply["canary"], reply["canary_weight"], reply["loaded"]) == (2, 1.0, [2])
    assert predict(client).headers["x-model-version"] == "2"
    client.post("/v1/models/churn:reload", json={"canary_weight": 0})
    assert predict(client).headers["x-model-version"] == "1"


@pytest.mark.parametrize("body, status, match", [
    ({"canary_weight": 1.5}, 400, "canary_weight=1.5; expected a number between 0 and 1"),
    ({"canary_weight": "half"}, 400, "canary_weight='half'"),
    ({"shadow": "yes"}, 400, "shadow='yes'; expected true or false"),
    ({"weight": 0.2}, 400, "unknown reload fields ['weight']"),
    ([0.2], 400, "reload body must be a JSON object"),
])
def test_reload_refuses_bad_bodies(plain, body, status, match):
    reply = plain.post("/v1/models/churn:reload", json=body)
    assert reply.status_code == status and match in reply.json()["error"], reply.text


def test_reload_without_a_canary_label_is_409(registry_copy, serve):
    root = registry_copy
    ModelRegistry(root).remove_label("churn", "canary")
    reply = serve(registry=root).post("/v1/models/churn:reload", json={"canary_weight": 0.3})
    assert reply.status_code == 409 and "has no 'canary' label" in reply.json()["error"]


def test_reload_of_an_unknown_model_is_404(plain):
    reply = plain.post("/v1/models/nope:reload")
    assert reply.status_code == 404 and "not served" in reply.json()["error"]


def test_reload_needs_an_api_key_when_keys_are_set(plain):
    reply = plain.post("/v1/models/churn:reload", headers={"Authorization": "Bearer wrong-key"})
    assert reply.status_code == 401 and "invalid API key" in reply.json()["error"]
    assert plain.post("/v1/models/churn:reload").status_code == 200  # the fixture's valid key


def test_reload_that_fails_to_load_keeps_the_old_routing(registry_copy, serve):
    root = registry_copy
    client = serve(registry=root)
    (Path(root) / "churn" / "2" / "model.keras").write_bytes(b"tampered")
    ModelRegistry(root).promote("churn", 2, "stable")
    reply = client.post("/v1/models/churn:reload")
    assert reply.status_code == 500 and "still serving version 1" in reply.json()["error"]
    assert predict(client).headers["x-model-version"] == "1"


def test_cli_passes_canary_flags_to_the_settings(churn_registry, monkeypatch, tmp_path, capsys):
    from aiaas_lib import cli
    from aiaas_lib.serving import server

    seen = []
    monkeypatch.setattr(server, "serve", lambda settings: seen.append(settings) or 0)
    assert cli.main(["serve", "--registry", churn_registry, "--canary-weight", "0.25", "--shadow"]) == 0
    assert (seen[-1].canary_weight, seen[-1].shadow, seen[-1].canary_weights) == (0.25, True, {})
    assert cli.main(["serve", "--registry", churn_registry, "--canary-weight", "churn=0.2",
                     "--canary-weight", "0.1", "--poll-seconds", "2"]) == 0
    assert (seen[-1].canary_weights, seen[-1].canary_weight, seen[-1].poll_seconds) == ({"churn": 0.2}, 0.1, 2.0)
    assert cli.main(["serve", "--registry", churn_registry, "--canary-weight", "2"]) == 2
    assert cli.main(["serve", "--registry", churn_registry, "--canary-weight", "churn=1.5"]) == 2
    assert "canary weight 'churn=1.5': the weight must be a number between 0 and 1" in capsys.readouterr().err


# ---------------------------------------------------------------- per-model weights, safe updates, polling
def test_canary_weight_per_model(serve):
    client = serve(canary_weights="churn=1.0", canary_seed=0)
    assert client.get("/v1/models/churn/traffic").json()["canary_weight"] == 1.0
    assert predict(client).headers["x-model-version"] == "2"


def test_canary_weight_for_a_model_not_served_stops_start_up(churn_registry):
    with pytest.raises(ValueError, match=r"canary_weights names models \['nope'\] that are not served"):
        with TestClient(create_app(Settings(registry=churn_registry, canary_weights="nope=0.2"))):
            pass


def test_rollback_clears_the_canary_weight_and_shadow_for_good(registry_copy, serve, caplog):
    root = registry_copy
    client = serve(registry=root, canary_weight=0.5, shadow=True, canary_seed=0)
    reg = ModelRegistry(root)
    reg.promote("churn", 2, "stable")
    client.post("/v1/models/churn:reload")
    reg.rollback("churn", "stable")  # removes the canary label, which pointed at version 2
    with caplog.at_level("INFO", logger="aiaas.serving"):
        reply = client.post("/v1/models/churn:reload").json()
    assert (reply["stable"], reply["canary"], reply["canary_weight"], reply["shadow"]) == (1, None, 0.0, False)
    assert "weight 0.00, shadow False" in caplog.records[-1].getMessage()  # the log agrees with the reply
    reg.set_label("churn", "canary", 2)  # a new canary label gets no traffic until a weight is asked for
    reply = client.post("/v1/models/churn:reload").json()
    assert (reply["canary_weight"], reply["shadow"]) == (0.0, False)
    assert {predict(client).headers["x-model-version"] for _ in range(20)} == {"1"}


def _register_copy(root, name: str, version: int = 1) -> int:
    """Register the churn model's version ``version`` again, as the next version of ``name``."""
    reg = ModelRegistry(root)
    meta = reg.metadata("churn", version)
    keep = {k: meta[k] for k in ("kind", "numeric", "categorical", "input_schema", "output") if k in meta}
    return reg.register(name, reg.load("churn", version), keep)


def test_reload_never_serves_a_version_nobody_labelled(registry_copy, serve, caplog):
    root = registry_copy
    client = serve(registry=root)
    assert _register_copy(root, "churn") == 3
    with caplog.at_level("WARNING", logger="aiaas.serving"):
        reply = client.post("/v1/models/churn:reload").json()
    assert reply["stable"] == 1 and predict(client).headers["x-model-version"] == "1"  # 'stable' still says 1
    ModelRegistry(root).remove_label("churn", "stable")
    with caplog.at_level("WARNING", logger="aiaas.serving"):
        reply = client.post("/v1/models/churn:reload").json()
    assert reply["stable"] == 1 and predict(client).headers["x-model-version"] == "1"  # no label: no switch
    assert "has no 'stable' label: still serving version 1, not the newest 3" in caplog.text


def test_reload_serves_a_model_registered_after_start_up(registry_copy, serve):
    root = registry_copy
    client = serve(registry=root)
    assert client.post("/v1/models/late:reload").status_code == 404
    _register_copy(root, "late")
    reply = client.post("/v1/models/late:reload")
    assert reply.status_code == 200 and reply.json()["stable"] == 1, reply.text
    answer = client.post("/v1/models/late:predict", json={"instances": rows(1)})
    assert answer.status_code == 200 and answer.headers["x-model-version"] == "1"


def test_polling_follows_the_registry_without_a_restart(registry_copy, serve, caplog):
    from aiaas_lib.loadtest import poll_until

    root = registry_copy
    with caplog.at_level("INFO", logger="aiaas.serving"):
        client = serve(registry=root, poll_seconds=0.2)
        _register_copy(root, "late")
        poll_until(lambda: client.post("/v1/models/late:predict", json={"instances": rows(1)}).status_code == 200,
                   30, "the new model to be served")
        ModelRegistry(root).promote("churn", 2, "stable")
        poll_until(lambda: predict(client).headers["x-model-version"] == "2", 30, "the promotion to be followed")
    assert "registry poll: late: new, available" in caplog.text
    assert "registry poll: churn: reloaded, stable 2" in caplog.text
