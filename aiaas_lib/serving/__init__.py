"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

The course's model service: TF Serving REST and KServe V2 predictions, SHAP explanations, an
OpenAI-compatible text API (completions, chat, embeddings), health, Prometheus metrics, API keys, limits
and micro-batching, over the models of a
:class:`~aiaas_lib.packaging.registry.ModelRegistry`; its OpenAPI document at ``/openapi.json``, rendered offline
at ``/docs`` and ``/redoc``.

Imports flow one way (no cycle): errors, settings, security, metrics, batching ← runtime, text_runtime ←
loading ← service ← the protocol modules (tfserving, kserve, openai_api) and openapi ← app.

=====================  ====================================================================================
module                 what
=====================  ====================================================================================
:mod:`.settings`       :class:`Settings` — everything configurable, from ``AIAAS_*`` environment variables
:mod:`.app`            :func:`create_app` — the FastAPI app factory and its start-up/shut-down lifecycle
:mod:`.server`         uvicorn with a graceful stop (not ready first, drain, finish in-flight requests)
:mod:`.service`        the served models, readiness per model, the one prediction path; canary, shadow, live
                       reload, registry polling
:mod:`.loading`        the one way to load a version by its kind, and the routes that serve each kind
:mod:`.runtime`        one loaded tabular or tensor version: compiled call, row and array checks
:mod:`.text_runtime`   one loaded generation (tiny GPT) or embedding (BERT) version
:mod:`.tfserving`      TF Serving REST routes (status, metadata, ``:predict``) and ``:explain``
:mod:`.explaining`     the explainer of ``:explain``: deep where the model allows, else exact/permutation Shapley
:mod:`.kserve`         KServe V2 / Open Inference Protocol routes (health, metadata, ready, ``infer``), V2 tensors
:mod:`.openai_api`     OpenAI-compatible routes: ``/v1/models``, completions, chat completions, embeddings
:mod:`.openapi`        the OpenAPI document: bodies, errors and examples per protocol and per served model
:mod:`.docs`           ``/docs`` and ``/redoc`` with their assets served locally (they work offline)
:mod:`.security`       API keys, rate limit, body size/type/JSON checks
:mod:`.batching`       server-side micro-batching with a bounded queue
:mod:`.metrics`        Prometheus metrics in a per-app registry
:mod:`.errors`         each protocol's error shape (``{"error": ...}``; OpenAI's ``{"error": {...}}``)
=====================  ====================================================================================

Importing this package imports FastAPI and pydantic, not TensorFlow (models load when the app starts).
"""
from aiaas_lib.serving.app import create_app  # noqa: F401
from aiaas_lib.serving.settings import Settings  # noqa: F401

__all__ = ["create_app", "Settings"]
