"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

The one way to load a served model version, whatever its kind (the ``"kind"`` of its registry metadata),
and where each kind is served:

===============  ===========================================  ==========================================
kind             runtime                                      routes
===============  ===========================================  ==========================================
``tabular``      :class:`.runtime.ModelRuntime`               TF Serving ``:predict``/``:explain``, KServe V2 ``infer``
``tensor``       :class:`.runtime.ModelRuntime`               TF Serving ``:predict``/``:explain``, KServe V2 ``infer``
``tensors``      :class:`.runtime.ModelRuntime`               TF Serving ``:predict``/``:explain``, KServe V2 ``infer``
``generation``   :class:`.text_runtime.GenerationRuntime`     ``/v1/completions``, ``/v1/chat/completions``
``embedding``    :class:`.text_runtime.EmbeddingRuntime`      ``/v1/embeddings``
===============  ===========================================  ==========================================

:class:`~.service.Service` loads through :func:`load_runtime` only; the runtime modules import nothing
of the service or of a protocol, so the import graph has no cycle (runtime ← loading ← service ← routes).
"""
from __future__ import annotations

from aiaas_lib.serving.runtime import KINDS, ModelRuntime
from aiaas_lib.serving.text_runtime import TEXT_KINDS, load_text_runtime

#: Every kind the service can serve, and the routes that serve it (named in a 400 on a route of another kind).
SERVED_AT = {
    "tabular": "/v1/models/{name}:predict or /v2/models/{name}/infer",
    "tensor": "/v1/models/{name}:predict or /v2/models/{name}/infer",
    "tensors": "/v1/models/{name}:predict or /v2/models/{name}/infer",
    "generation": "/v1/completions or /v1/chat/completions",
    "embedding": "/v1/embeddings",
}
ALL_KINDS = KINDS + TEXT_KINDS


def load_runtime(registry, name: str, version: int | str = "latest"):
    """Verify, load and warm up version ``version`` of ``name`` from a
    :class:`~aiaas_lib.packaging.registry.ModelRegistry`, as the runtime of its kind (see the table above).

    Raises
    ------
    ValueError
        When the metadata's ``kind`` is none of :data:`ALL_KINDS` (naming it and the allowed kinds).
    """
    number = registry.resolve(name, version)
    kind = registry.metadata(name, number).get("kind")
    if kind in TEXT_KINDS:
        return load_text_runtime(registry, name, number)
    if kind in KINDS:
        return ModelRuntime.from_registry(registry, name, number)
    raise ValueError(f"model {name!r} version {number}: metadata kind={kind!r}; expected one of {list(ALL_KINDS)}")


def served_at(kind: str, name: str) -> str:
    """The routes that serve a model of ``kind`` named ``name``.

    Examples
    --------
    >>> served_at("embedding", "minilm"), served_at("tensor", "fashion")
    ('/v1/embeddings', '/v1/models/fashion:predict or /v2/models/fashion/infer')
    """
    return SERVED_AT[kind].replace("{name}", name)
