"""Used by the conformance kit (:mod:`aiaas_lib.conformance`, ``aiaas conformance``; notebook 12).

:func:`run` detects which protocols a server speaks, runs their checks in order and returns a
:class:`Report` (a pass/fail/skip table per protocol; ``ok`` is False on any failure).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from aiaas_lib.conformance import oip, openai_api, tfserving
from aiaas_lib.conformance.core import CHECKS, PREFIXES, PROTOCOLS, Context, Failure, Skip

DETECT = {"tfserving": tfserving.detect, "oip": oip.detect, "openai": openai_api.detect}


@dataclass(frozen=True)
class Result:
    """One check's outcome: ``status`` is ``"pass"``, ``"fail"`` or ``"skip"``; ``detail`` what was seen."""

    check: str
    protocol: str
    status: str
    detail: str


@dataclass(frozen=True)
class Report:
    """The results of one run, in order, and the server's base URL."""

    url: str
    results: tuple[Result, ...]

    @property
    def ok(self) -> bool:
        """True when no check failed (and at least one passed)."""
        return not self.failed and any(r.status == "pass" for r in self.results)

    @property
    def failed(self) -> list[Result]:
        """The failed checks."""
        return [r for r in self.results if r.status == "fail"]

    def status(self, check_id: str) -> str:
        """The status of one check (``KeyError`` naming the known ids if it did not run)."""
        for r in self.results:
            if r.check == check_id:
                return r.status
        raise KeyError(f"check {check_id!r} is not in this report; it has {[r.check for r in self.results]}")

    def table(self, width: int = 110) -> str:
        """A plain-text table per protocol (failures in full, the rest cut to ``width``), then totals."""
        lines = [f"conformance of {self.url}"]
        for protocol, title in PROTOCOLS.items():
            mine = [r for r in self.results if r.protocol == protocol]
            if not mine:
                continue
            lines.append(f"{title}:")
            for r in mine:
                text = f"  {r.status.upper() if r.status == 'fail' else r.status:<5} {r.check:<28} {r.detail}"
                if r.status == "fail":  # in full: what was sent, what came back, what the rule wants
                    lines += textwrap.wrap(text, width, subsequent_indent=" " * 37)
                else:
                    lines.append(text if len(text) <= width else text[: width - 3] + "...")
        counts = {s: sum(r.status == s for r in self.results) for s in ("pass", "fail", "skip")}
        if not any(r.status == "pass" for r in self.results) and not counts["fail"]:
            lines.append("no check ran: the server speaks none of the protocols asked for")
        lines.append(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _run_check(ctx: Context, check) -> Result:
    missing = [n for n in check.needs if getattr(ctx, n) is None]
    if missing:
        option = "--" + missing[0].replace("_", "-")
        return Result(check.id, check.protocol, "skip", f"needs {missing[0]}= ({option})")
    try:
        detail = check.run(ctx) or ""
        return Result(check.id, check.protocol, "pass", detail)
    except Skip as err:
        return Result(check.id, check.protocol, "skip", str(err))
    except Failure as err:
        return Result(check.id, check.protocol, "fail", str(err))
    except Exception as err:  # noqa: BLE001 - no answer, or an answer of an unexpected shape: a failure
        return Result(check.id, check.protocol, "fail", f"{type(err).__name__}: {err}")


def run(
    target,
    model: str | None = None,
    instances: list | None = None,
    protocols: Iterable[str] | None = None,
    api_key: str | None = None,
    max_body_bytes: int | None = None,
    llm: str | None = None,
    embedding_model: str | None = None,
    skip: Iterable[str] = (),
    timeout: float = 60.0,
) -> Report:
    """Grade the HTTP server at ``target``: a base URL, or an ``httpx.Client`` such as FastAPI's TestClient.

    Parameters
    ----------
    model : the model for TF Serving and the OIP (neither can list models).
    instances : example instances in TF Serving's row format (objects of named columns, or nested lists);
        default: zeros shaped by the model's metadata, when every input is numeric.
    protocols : ids from :data:`~aiaas_lib.conformance.core.PROTOCOLS`; default all, each skipped when the
        server does not speak it (one asked for by name and not spoken is a failure).
    api_key : sent as ``Authorization: Bearer``; also turns the ``*.auth`` checks on.
    max_body_bytes : the server's body limit; turns the ``*.body_limit`` checks on.
    llm, embedding_model : the OpenAI models to use (default: from ``GET /v1/models``).
    skip : check ids not to run (reported as skipped).

    Examples
    --------
    >>> run("http://127.0.0.1:9", protocols=["nope"])
    Traceback (most recent call last):
    ...
    ValueError: unknown protocols ['nope']; expected some of ['tfserving', 'oip', 'openai']
    """
    import httpx

    asked = list(protocols) if protocols is not None else None
    unknown = sorted(set(asked or ()) - set(PROTOCOLS))
    if unknown:
        raise ValueError(f"unknown protocols {unknown}; expected some of {list(PROTOCOLS)}")
    unknown = sorted(set(skip) - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown check ids {unknown}; known: {sorted(CHECKS)}")
    if instances is not None and (not isinstance(instances, list) or not instances):
        raise ValueError(f"instances must be a non-empty list of instances, got {type(instances).__name__}")
    own = isinstance(target, str)
    if own and not target.startswith(("http://", "https://")):
        raise ValueError(
            f"target {target!r} must be a base URL such as http://127.0.0.1:8000, or an httpx.Client"
        )
    client = httpx.Client(base_url=target.rstrip("/"), timeout=timeout) if own else target
    ctx = Context(client, model, instances, api_key, max_body_bytes, llm, embedding_model)
    results = []
    try:
        for protocol in PROTOCOLS:
            if asked is not None and protocol not in asked:
                continue
            checks = [c for c in CHECKS.values() if c.protocol == protocol]
            try:
                reason = DETECT[protocol](ctx)
            except Failure as err:
                reason, fatal = str(err), True
            except httpx.HTTPError as err:
                reason, fatal = f"no answer from {client.base_url}: {type(err).__name__}: {err}", True
            else:
                fatal = reason is not None and asked is not None
            if reason is not None:
                prefix = next(p for p, name in PREFIXES.items() if name == protocol)
                results.append(Result(f"{prefix}.detect", protocol, "fail" if fatal else "skip", reason))
                continue
            for c in checks:
                results.append(
                    Result(c.id, protocol, "skip", "deselected") if c.id in set(skip) else _run_check(ctx, c)
                )
    finally:
        if own:
            client.close()
    return Report(str(client.base_url), tuple(results))
