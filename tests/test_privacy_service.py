"""Attacking the service from outside: settings for a server process, hostile bodies answered with 400
naming the field (never 500), a flipped bit refused by the registry, a lambda layer refused by safe_mode, a
self-signed certificate for localhost."""
import shutil
import tempfile

import pytest
from fastapi.testclient import TestClient

from aiaas_lib import data
from aiaas_lib.loadtest import wait_ready
from aiaas_lib.privacy import service as svc

KEY = "privacy-test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def registry_root():
    from aiaas_lib.defaults import tabular_metadata
    from aiaas_lib.keras_models import fit_tabular_classifier
    from aiaas_lib.packaging.registry import ModelRegistry

    root = tempfile.mkdtemp(prefix="aiaas-privacy-test-")
    X, y = data.churn_xy(data.load_churn())
    numeric, categorical = list(data.CHURN_NUMERIC), list(data.CHURN_CATEGORICAL)
    model = fit_tabular_classifier(X.iloc[:200], y[:200], numeric, categorical, hidden=(4,), epochs=1)
    ModelRegistry(root).register("churn", model, tabular_metadata(X.iloc[:200], numeric, categorical,
                                                                  {"roc_auc": 0.5}, n_background=10))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def client(registry_root):
    from aiaas_lib.serving import Settings, create_app

    settings = Settings(registry=registry_root, api_keys=[KEY], rate_limit_per_minute=60, rate_limit_burst=50,
                        max_body_bytes=200_000)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        wait_ready(c.get)  # models load in the background: poll readiness
        yield c


def _row():
    X, _ = data.churn_xy(data.load_churn())
    return X.iloc[0].to_dict() | {"tenure": int(X.iloc[0]["tenure"])}


def test_service_env_sets_aiaas_variables_that_settings_read(monkeypatch):
    from aiaas_lib.serving import Settings

    env = svc.service_env({"PATH": "/bin"}, rate_limit_per_minute=30, api_keys=["k1-aaaaaaaa", "k2-bbbbbbbb"])
    assert env["PATH"] == "/bin" and env["AIAAS_API_KEYS"] == "k1-aaaaaaaa,k2-bbbbbbbb"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.rate_limit_per_minute == 30 and settings.api_keys == ["k1-aaaaaaaa", "k2-bbbbbbbb"]


def test_service_env_refuses_unknown_settings():
    with pytest.raises(ValueError, match="unknown service setting 'rate'"):
        svc.service_env({}, rate=3)


@pytest.mark.parametrize("name", ["NaN", "infinity", "huge integer", "string instead of number",
                                  "list instead of number", "unknown field", "missing field", "deep nesting"])
def test_hostile_bodies_get_400_naming_the_problem(client, name):
    body = svc.hostile_bodies(_row(), "tenure")[name]
    reply = client.post("/v1/models/churn:predict", content=body, headers=AUTH)
    assert reply.status_code == 400, (name, reply.status_code, reply.text[:300])
    message = reply.json()["error"]
    expected = {"unknown field": "is_admin", "deep nesting": "nested too deeply"}.get(name, "tenure")
    assert expected in message, message


def test_valid_row_is_answered(client):
    reply = client.post("/v1/models/churn:predict", json={"instances": [_row()]}, headers=AUTH)
    assert reply.status_code == 200 and 0 <= reply.json()["predictions"][0][0] <= 1


def test_hostile_bodies_needs_the_field():
    with pytest.raises(ValueError, match="field='age' is not in the row"):
        svc.hostile_bodies({"tenure": 1}, "age")


def test_flipped_bit_is_refused_by_the_registry(registry_root, tmp_path):
    from aiaas_lib.packaging.registry import IntegrityError, ModelRegistry

    copy = tmp_path / "reg"
    shutil.copytree(registry_root, copy)
    reg = ModelRegistry(copy)
    reg.verify("churn", 1)  # intact
    old, new = svc.flip_byte(reg.path("churn", 1) / "model.keras", offset=-50)
    assert old ^ new == 1
    with pytest.raises(IntegrityError, match="was changed after registration"):
        reg.load("churn", 1)


def test_flip_byte_refuses_an_offset_outside_the_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    with pytest.raises(ValueError, match="offset=3 is outside f.bin, which has 3 bytes"):
        svc.flip_byte(path, 3)


def test_self_signed_cert_is_valid_for_localhost(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert_path, key_path = svc.self_signed_cert(tmp_path, days=2)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert 1 < (cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds() / 86400 < 2.1


def test_self_signed_cert_needs_positive_days(tmp_path):
    with pytest.raises(ValueError, match="days=0 must be an integer >= 1"):
        svc.self_signed_cert(tmp_path, days=0)

