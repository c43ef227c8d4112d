"""Helpers the service tests share (imported by test modules and by conftest.py's fixtures): sample inputs
and a TestClient that is ready before it is returned (polled with :func:`aiaas_lib.loadtest.wait_ready`,
the poll :class:`aiaas_lib.loadtest.ServerProcess` uses too)."""
import numpy as np

from aiaas_lib import data
from aiaas_lib.loadtest import wait_ready

NUMERIC, CATEGORICAL = list(data.CHURN_NUMERIC), list(data.CHURN_CATEGORICAL)


def churn_rows(n: int = 2, start: int = 300) -> list[dict]:
    """``n`` churn rows the tiny models were not trained on (they saw rows 0-299)."""
    X, _ = data.churn_xy(data.load_churn())
    return X.iloc[start:start + n].to_dict("records")


def images(n: int = 2) -> np.ndarray:
    """``n`` Fashion-MNIST test images as float32 (n, 28, 28, 1) in [0, 1]."""
    return data.load_fashion_mnist("shipped", verbose=False).x_test[:n, ..., None].astype("float32") / 255.0


def ready_client(app, **client_kwargs):
    """A ``TestClient`` for ``app``, started (lifespan entered) and polled until ``/v2/health/ready`` is 200.
    Leave it with ``client.__exit__(None, None, None)``, or use the :func:`serve` fixture, which does."""
    from fastapi.testclient import TestClient

    client = TestClient(app, **client_kwargs)
    client.__enter__()
    try:
        wait_ready(client.get)
    except BaseException:
        client.__exit__(None, None, None)
        raise
    return client
