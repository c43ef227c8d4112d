"""The cluster files in deploy/ parse and name the course's models, ports and import paths."""
import importlib

import pytest
import yaml

from aiaas_lib.scaling import deploy_files


def test_tf_config_lists_several_hosts_and_one_task():
    config = deploy_files.read("tf_config.json")
    assert len(config["cluster"]["worker"]) >= 2
    assert all(addr.rsplit(":", 1)[1] == "2222" for addr in config["cluster"]["worker"])
    assert config["task"] == {"type": "worker", "index": 0}


def test_models_config_serves_churn_and_fashion_with_labels():
    models = deploy_files.read("models.config")
    assert set(models) == {"churn", "fashion"}
    for name, m in models.items():
        assert m["base_path"] == f"/models/{name}" and m["platform"] == "tensorflow"
        assert set(m["labels"].values()) <= set(m["versions"]) and "stable" in m["labels"]


def test_models_config_shows_the_docker_command_with_tf_serving_ports():
    text = (deploy_files.deploy_dir() / "models.config").read_text()
    assert "docker run" in text and "tensorflow/serving" in text and "-p 8501:8501" in text


def test_ray_cluster_config_has_head_and_workers():
    (config,) = deploy_files.read("ray-cluster.yaml")
    assert config["provider"]["type"] == "local" and len(config["provider"]["worker_ips"]) == config["max_workers"]
    assert any("ray start --head --port=6379" in c for c in config["head_start_ray_commands"])


def test_rayservice_imports_the_course_app_builder():
    (service,) = deploy_files.read("rayservice.yaml")
    assert service["kind"] == "RayService"
    (app,) = yaml.safe_load(service["spec"]["serveConfigV2"])["applications"]
    module, attr = app["import_path"].split(":")
    assert callable(getattr(importlib.import_module(module), attr))
    assert app["args"]["models"] == "churn"
    assert app["deployments"][0]["autoscaling_config"]["max_replicas"] >= 2
    ports = service["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]["containers"][0]["ports"]
    assert {"containerPort": 8000, "name": "serve"} in ports


def test_kserve_serves_the_churn_saved_model():
    (isvc,) = deploy_files.read("kserve-inferenceservice.yaml")
    assert isvc["kind"] == "InferenceService" and isvc["metadata"]["name"] == "churn"
    assert isvc["spec"]["predictor"]["model"]["modelFormat"]["name"] == "tensorflow"
    assert isvc["spec"]["predictor"]["model"]["storageUri"].endswith("/churn")


def test_read_rejects_unknown_files():
    with pytest.raises(ValueError, match="name='x.yaml'; expected one of"):
        deploy_files.read("x.yaml")


def test_parse_models_config_needs_names():
    with pytest.raises(ValueError, match="config block without a name"):
        deploy_files.parse_models_config('model_config_list { config { base_path: "/m" } }')
