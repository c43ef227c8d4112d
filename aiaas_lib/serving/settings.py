"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

The service's settings, read from ``AIAAS_*`` environment variables (pydantic-settings).

Every field can be set as ``AIAAS_<FIELD>`` (e.g. ``AIAAS_REGISTRY=models``, ``AIAAS_API_KEYS=k1,k2``,
``AIAAS_BATCHING=1``) or passed to :class:`Settings` directly. Other ``AIAAS_*`` variables of the course
(``AIAAS_MODE``, ``AIAAS_OFFLINE``, ``AIAAS_DATA_DIR``) are ignored here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split_list(value):
    """Accept a comma-separated string (``"a,b"``) as well as a list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def parse_weights(value) -> dict[str, float]:
    """Per-model canary weights: ``"churn=0.2,own=0.1"`` (or a list of ``name=w``, or a dict) → a dict; a
    ValueError names the bad part and the expected form.

    Examples
    --------
    >>> parse_weights("churn=0.2, own=0.1")
    {'churn': 0.2, 'own': 0.1}
    >>> parse_weights("churn=2")
    Traceback (most recent call last):
    ...
    ValueError: canary weight 'churn=2': the weight must be a number between 0 and 1, as in churn=0.2
    """
    if isinstance(value, dict):
        items = list(value.items())
    else:
        items = []
        for part in _split_list(value) or []:
            name, sep, weight = str(part).partition("=")
            if not sep or not name.strip():
                raise ValueError(f"canary weight {part!r}: expected name=weight, as in churn=0.2")
            items.append((name.strip(), weight.strip()))
    out = {}
    for name, weight in items:
        try:
            number = float(weight)
        except (TypeError, ValueError):
            number = -1.0
        if isinstance(weight, bool) or not 0 <= number <= 1:
            raise ValueError(f"canary weight '{name}={weight}': the weight must be a number between 0 and 1, "
                             f"as in {name}=0.2")
        out[str(name)] = number
    return out


class Settings(BaseSettings):
    """What the model service serves and how it protects itself.

    Models
        ``registry``: the :class:`~aiaas_lib.packaging.registry.ModelRegistry` folder. ``models``: which models to
        load, as ``name`` or ``name@version_or_label`` (empty: every model in the registry). A model without
        ``@`` serves its ``stable`` label if it has one, else its latest version. ``all_versions``: also load
        every other version, so ``/versions/{v}`` and ``/labels/{label}`` can reach them. Labels are read
        at start-up and again by ``POST /v1/models/{name}:reload`` (after a promote or rollback).
Canary and shadow (see :mod:`.service`)
        ``canary_weight`` (0..1): the share of default-route requests answered by the version labelled
        ``canary``, for every model; ``canary_weights``: per model, overriding it (``"churn=0.2,own=0.1"``;
        a name that is not served stops the start); ``shadow``: the canary version also scores every request the stable version answers,
        silently (recorded in the metrics, never in the reply). ``canary_seed`` seeds the routing (tests);
        ``shadow_log_size`` shadow records kept in memory per model. Both can be changed at run time by
        the reload route.
    Live updates
        ``poll_seconds``: re-read the registry this often and follow it without a restart — new models are
        served, changed labels or versions reloaded, each switch logged (like TF Serving's file-system
        source); 0 (the default) turns polling off (``POST /v1/models/{name}:reload`` still works).
    Security
        ``api_keys`` / ``api_keys_file`` (one key per line, ``#`` comments): when any key is set, every model
        route needs ``Authorization: Bearer <key>``; without keys the service is meant for 127.0.0.1 only
        (``aiaas serve`` refuses another host). Health routes are always public; ``/metrics`` is public only
        with ``metrics_public``. ``rate_limit_per_minute`` (0: off) and ``rate_limit_burst`` set a token
        bucket per key (per client address without keys).
    Limits
        ``max_body_bytes`` (413 beyond it), ``max_instances`` per predict/infer request and
        ``max_explain_instances`` per explain request (413 beyond them).
    Micro-batching (off by default: it trades a little latency at low load for throughput under load)
        ``batching``, ``batch_max_size`` (rows per model call), ``batch_max_wait_ms`` (how long the first
        request of a batch waits for others), ``batch_queue_size`` (requests waiting; 503 when full).
    Process
        ``host``, ``port`` (127.0.0.1:8000), ``drain_seconds``: after SIGTERM, report not-ready for this long
        while still serving, then stop accepting and finish in-flight requests. ``gc_freeze``: once the
        models are loaded, move every live object into the garbage collector's permanent generation
        (``gc.freeze()``), so that full collections stop rescanning the hundreds of thousands of objects
        TensorFlow and Keras keep alive — each such scan stalled every request in flight for about 0.25 s
        (bench/serving.py: p99 260 ms → 40 ms). ``aiaas serve`` turns it on; it is off for in-process apps
        (tests, notebooks), and undone at shutdown.

    Examples
    --------
    >>> s = Settings(api_keys="k1, k2", batching=True)
    >>> s.api_keys, s.batching, s.max_body_bytes, s.host
    (['k1', 'k2'], True, 1048576, '127.0.0.1')
    """

    model_config = SettingsConfigDict(env_prefix="AIAAS_", extra="ignore", protected_namespaces=())

    registry: Path = Path("models")
    models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    all_versions: bool = False

    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)  # never printed
    api_keys_file: Path | None = None
    metrics_public: bool = False
    rate_limit_per_minute: float = Field(0.0, ge=0)
    rate_limit_burst: int = Field(20, ge=1)

    max_body_bytes: int = Field(1 << 20, ge=1)
    max_instances: int = Field(1024, ge=1)
    max_explain_instances: int = Field(32, ge=1)

    batching: bool = False
    batch_max_size: int = Field(64, ge=1)
    batch_max_wait_ms: float = Field(2.0, ge=0)
    batch_queue_size: int = Field(128, ge=1)

    canary_weight: float = Field(0.0, ge=0, le=1)
    canary_weights: Annotated[dict[str, float], NoDecode] = Field(default_factory=dict)
    poll_seconds: float = Field(0.0, ge=0)
    shadow: bool = False
    canary_seed: int | None = None
    shadow_log_size: int = Field(1000, ge=0)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    drain_seconds: float = Field(0.0, ge=0)
    gc_freeze: bool = False

    _split = field_validator("models", "api_keys", mode="before")(_split_list)
    _weights = field_validator("canary_weights", mode="before")(parse_weights)
