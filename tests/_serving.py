"""Helpers the service tests share (imported by test modules and by conftest.py's fixtures): sample inputs
and a TestClient that is ready before it is returned (polled with :func:`aiaas_lib.loadtest.wait_ready`,
the poll :class:`aiaas_lib.loadtest.ServerProcess` uses too)."""
import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np

from aiaas_lib import data
from aiaas_lib.loadtest import wait_ready

NUMERIC, CATEGORICAL = list(data.CHURN_NUMERIC), list(data.CHURN_CATEGORICAL)
TEXT = "the cat sat on the mat. user: assistant: system: a dog ate the log!\n"
WORDS = ["a", "good", "great", "coffee", "tea", "the", "tax", "form", "is", "due", "cat", "dog"]


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


def add_text_models(root, text: str = TEXT, words=WORDS) -> None:
    """Register two tiny untrained text models in the registry at ``root``: ``tiny-gpt`` (generation, a 1-layer
    GPT over the characters of ``text``, context 48) and ``tiny-embed`` (embedding, a 1-layer BERT over ``words``)."""
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras
    import keras_hub

    from aiaas_lib.generation import CharTokenizer
    from aiaas_lib.generation.model import tiny_gpt
    from aiaas_lib.packaging.registry import ModelRegistry

    reg = ModelRegistry(root)
    keras.utils.set_random_seed(0)
    tok = CharTokenizer().fit(text)
    gpt = tiny_gpt(tok.vocab_size, context=48, dim=16, num_heads=2, num_layers=1)
    reg.register("tiny-gpt", gpt, {"kind": "generation", "tokenizer": tok.to_config(), "context": 48})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    bert = keras_hub.models.BertBackbone(vocabulary_size=len(vocab), num_layers=1, num_heads=2, hidden_dim=16,
                                         intermediate_dim=32, max_sequence_length=16)
    reg.register("tiny-embed", bert, {"kind": "embedding", "sequence_length": 16,
                                      "tokenizer": {"kind": "bert", "vocabulary": vocab, "lowercase": True}})


class live_server:
    """``with live_server(app) as url:`` — ``app`` served by uvicorn on 127.0.0.1 in a thread of this process
    (its lifespan runs: models load), polled until ready; stopped on exit. For tools that need a real HTTP
    server (schemathesis, a browser) without the start-up cost of a new process."""

    def __init__(self, app):
        import uvicorn

        from aiaas_lib.loadtest import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))

    def __enter__(self) -> str:
        import threading

        import httpx

        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        with httpx.Client(base_url=self.url, timeout=10) as client:
            wait_ready(lambda path: _get_or_none(client, path))
        return self.url

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _get_or_none(client, path):
    """GET ``path``; a refused connection (the server is not listening yet) reads as a 503."""
    import httpx

    try:
        return client.get(path)
    except httpx.TransportError:
        return httpx.Response(503)


@functools.lru_cache(maxsize=None)
def every_kind_registry(tiny_registry: str) -> str:
    """A copy of ``tiny_registry`` (churn v1 stable + v2 canary, fashion) plus tiny-gpt and tiny-embed: a model of
    every kind, built once per session (a temporary folder removed at exit). Read-only."""
    root = Path(tempfile.mkdtemp(prefix="aiaas-every-kind-")) / "registry"
    atexit.register(shutil.rmtree, root.parent, True)
    shutil.copytree(tiny_registry, root)
    add_text_models(root)
    return str(root)
