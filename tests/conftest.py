"""Fixtures shared by the service tests: the tiny registries (built once per session) and TestClients that
are ready before a test sees them. Plain helpers (sample rows and images, ``ready_client``) are in
``tests/_serving.py``, which test modules import; no test module imports from another.

Readiness is polled with :func:`aiaas_lib.loadtest.wait_ready` — the same poll that
:class:`aiaas_lib.loadtest.ServerProcess` uses — with a deadline; no test sleeps to wait for a server.
Registries are built under pytest's session temporary folder, so nothing is left behind.
"""
import shutil

import pytest

from _serving import CATEGORICAL, NUMERIC, ready_client
from aiaas_lib import data


@pytest.fixture(scope="session")
def churn_registry(tmp_path_factory) -> str:
    """A registry with churn v1 (``stable``) and v2 (``canary``: the same network with its output bias
    raised by 1, so it predicts differently); tiny models (1 epoch on 300 rows). Read-only: copy it to change it."""
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    from aiaas_lib.defaults import tabular_metadata
    from aiaas_lib.keras_models import fit_tabular_classifier
    from aiaas_lib.packaging.registry import ModelRegistry

    root = tmp_path_factory.mktemp("churn-registry")
    reg = ModelRegistry(root)
    X, y = data.churn_xy(data.load_churn())
    X_train, y_train = X.iloc[:300], y[:300]
    model = fit_tabular_classifier(X_train, y_train, NUMERIC, CATEGORICAL, hidden=(4,), epochs=1)
    meta = tabular_metadata(X_train, NUMERIC, CATEGORICAL, {"roc_auc": 0.5}, n_background=20)
    reg.register("churn", model, meta)
    out = model.get_layer("p_positive")
    out.set_weights([out.get_weights()[0], out.get_weights()[1] + 1.0])  # version 2 predicts differently
    reg.register("churn", model, meta)
    reg.promote("churn", 1, "stable")
    reg.set_label("churn", "canary", 2)
    return str(root)


@pytest.fixture(scope="session")
def tiny_registry(churn_registry, tmp_path_factory) -> str:
    """``churn_registry``'s two churn versions plus a tiny Fashion-MNIST CNN ``fashion`` (``stable``). Read-only."""
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    from aiaas_lib.keras_models import fashion_cnn
    from aiaas_lib.packaging.registry import ModelRegistry

    root = tmp_path_factory.mktemp("tiny-registry") / "registry"
    shutil.copytree(churn_registry, root)
    reg = ModelRegistry(root)
    shipped = data.load_fashion_mnist("shipped", verbose=False)
    keras.utils.set_random_seed(0)
    cnn = fashion_cnn(filters=(4,), dense=8, batch_norm=False, dtype_policy="float32", name="fashion")
    cnn.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    cnn.fit(shipped.x_train[:256, ..., None] / 255.0, shipped.y_train[:256], epochs=1, verbose=0)
    reg.register("fashion", cnn, {"kind": "tensor", "input_shape": [28, 28, 1], "dtype": "float32",
                                  "class_names": list(shipped.class_names), "output": "logits",
                                  "metrics": {"accuracy": 0.1}})
    reg.promote("fashion", 1, "stable")
    return str(root)


@pytest.fixture
def serve():
    """``serve(settings)`` -> a ready TestClient of ``create_app(settings)``; all are shut down after the test."""
    from aiaas_lib.serving import create_app

    clients = []

    def make(settings, **client_kwargs):
        clients.append(ready_client(create_app(settings), **client_kwargs))
        return clients[-1]

    yield make
    for client in clients:
        client.__exit__(None, None, None)
