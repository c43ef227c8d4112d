"""Used by notebooks 12, 13, 14, 16 and 17; also imported by the CLI/service.

A bounded load generator and a background-server helper, for measuring a model service honestly.

- :class:`ServerProcess` starts a server command as a subprocess, polls a URL until it answers (with a
  deadline, never a fixed sleep), and stops it with SIGTERM (then waits; kills only if it hangs). Every
  process it starts is also stopped at interpreter exit, so a failing notebook cell leaves none behind.
- :func:`run_load` sends requests from ``concurrency`` workers, each sending its next request as soon as
  its previous one is answered (a *closed* loop), for a fixed total number of requests; it records the
  latency of every request and returns a :class:`LoadResult` (requests/s, p50, p99, status counts).
- :func:`poll_until` and :func:`wait_ready`: the one readiness poll (a deadline and a short interval,
  never a fixed sleep) that :class:`ServerProcess` and the service tests share.
- :func:`percentile_ms` and :func:`markdown_table` for the reports.

The load generator is a minimal HTTP/1.1 client on asyncio streams (keep-alive connections, one per
worker), run in its own thread with its own event loop, so it works the same from a script and from a
Jupyter cell (where an event loop is already running).
"""
from __future__ import annotations

import asyncio
import atexit
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aiaas_lib.validation import positive_int

_RUNNING: set[ServerProcess] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it).

    Examples
    --------
    >>> 1024 <= free_port() <= 65535
    True
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def poll_until(check: Callable[[], bool], timeout: float = 60.0, what: str = "the condition",
               interval: float = 0.05) -> None:
    """Call ``check()`` every ``interval`` seconds until it returns True; TimeoutError after ``timeout`` s.

    A ``check`` that raises a connection error (``OSError``, ``httpx.TransportError``: a server still
    starting refuses connections) counts as "not yet"; any other exception propagates at once.

    Examples
    --------
    >>> calls = []
    >>> poll_until(lambda: calls.append(1) or len(calls) == 3, timeout=5, interval=0.001); len(calls)
    3
    >>> poll_until(lambda: False, timeout=0.01, what="the moon", interval=0.001)
    Traceback (most recent call last):
    ...
    TimeoutError: timed out after 0.01 s waiting for the moon
    """
    try:
        from httpx import TransportError
    except ImportError:  # pragma: no cover - httpx is a course requirement
        TransportError = OSError  # noqa: N806
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (OSError, TransportError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)  # poll interval, not a wait for readiness


def wait_ready(get: Callable, path: str = "/v2/health/ready", timeout: float = 60.0, status: int = 200) -> None:
    """Poll ``get(path)`` (a ``TestClient``'s or ``httpx.Client``'s ``get``) until it answers ``status``.

    Examples
    --------
    >>> class Answer:
    ...     status_code = 200
    >>> wait_ready(lambda path: Answer())
    """
    poll_until(lambda: get(path).status_code == status, timeout, f"{path} to answer {status}")


def percentile_ms(latencies_s: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of latencies given in seconds, in milliseconds (linear interpolation
    between the two nearest ranks, NumPy's default).

    Examples
    --------
    >>> percentile_ms([0.001, 0.002, 0.003, 0.004], 50)
    2.5
    >>> percentile_ms([], 50)
    Traceback (most recent call last):
    ...
    ValueError: latencies_s is empty; run at least one request
    """
    if not 0 <= q <= 100:
        raise ValueError(f"q={q!r}; expected a percentile in [0, 100]")
    values = np.asarray(latencies_s, dtype=np.float64)
    if values.size == 0:
        raise ValueError("latencies_s is empty; run at least one request")
    return round(float(np.percentile(values, q)) * 1000.0, 6)


@dataclass
class LoadResult:
    """What one load test measured.

    ``latencies`` holds the seconds of every request (answered with any status), ``seconds`` the wall time
    from the first request sent to the last answer, ``statuses`` a count per HTTP status (``0`` for a
    transport error such as a refused connection).

    Examples
    --------
    >>> r = LoadResult(np.array([0.001, 0.002, 0.003, 0.004]), seconds=0.01, concurrency=1,
    ...                statuses={200: 4})
    >>> r.requests, r.requests_per_s, r.p50_ms, r.ok
    (4, 400.0, 2.5, True)
    >>> r
    LoadResult(requests=4, concurrency=1, seconds=0.01, requests_per_s=400.0, p50_ms=2.5, p99_ms=3.97,
               errors=0, statuses={200: 4})
    """

    latencies: np.ndarray = field(repr=False)
    seconds: float
    concurrency: int
    statuses: dict[int, int]

    @property
    def requests(self) -> int:
        """Requests sent (and answered or failed)."""
        return int(len(self.latencies))

    @property
    def requests_per_s(self) -> float:
        """Throughput: requests / wall seconds."""
        return self.requests / self.seconds if self.seconds > 0 else float("nan")

    @property
    def p50_ms(self) -> float:
        """Median latency in ms."""
        return percentile_ms(self.latencies, 50)

    @property
    def p99_ms(self) -> float:
        """99th-percentile latency in ms."""
        return percentile_ms(self.latencies, 99)

    @property
    def ok(self) -> bool:
        """True when every request was answered with 200."""
        return set(self.statuses) == {200}

    def __repr__(self) -> str:
        if not self.requests:
            return f"LoadResult(requests=0, concurrency={self.concurrency}, statuses={self.statuses})"
        figures = ", ".join(f"{k}={v}" for k, v in self.summary().items() if k not in ("concurrency", "requests"))
        return (f"LoadResult(requests={self.requests}, concurrency={self.concurrency}, seconds={self.seconds:.3g}, "
                f"{figures}, statuses={dict(sorted(self.statuses.items()))})")

    def summary(self) -> dict:
        """The key numbers, rounded, as a dict (one row of a table)."""
        return {"concurrency": self.concurrency, "requests": self.requests,
                "requests_per_s": round(self.requests_per_s, 1), "p50_ms": round(self.p50_ms, 2),
                "p99_ms": round(self.p99_ms, 2), "errors": self.requests - self.statuses.get(200, 0)}


class _Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol for a load test: POST a body,
    read the status and a ``Content-Length`` or chunked reply, reconnect when the server closes.

    A minimal client on asyncio streams costs the client about a tenth of what a general-purpose client
    (httpx) does per request; with client and server on the same 2 cores, the client's CPU time is taken
    from the server, so a heavy client measures itself more than the server (as ``wrk`` or ``hey`` avoid).
    """

    def __init__(self, host: str, port: int, request: bytes, timeout: float):
        self.host, self.port, self.request, self.timeout = host, port, request, timeout
        self.reader = self.writer = None

    async def post(self) -> int:
        """Send the request, read the whole reply; its HTTP status."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ", 2)[:2]
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if "content-length" in fields:
            await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:  # the body runs to the end of the connection
            await self.reader.read()
            fields["connection"] = "close"
        if fields.get("connection", "").lower() == "close" or version == "HTTP/1.0":
            self.close()
        return int(status)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _load(url: str, content: bytes, headers: dict, concurrency: int, requests: int, warmup: int,
                timeout: float) -> LoadResult:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"url={url!r}; expected a plain http:// address (a load test runs on loopback)")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    head = [f"POST {target} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(content)}",
            *(f"{k}: {v}" for k, v in headers.items())]
    request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + content
    connections = [_Connection(parts.hostname, parts.port or 80, request, timeout) for _ in range(concurrency)]

    async def one(connection: _Connection) -> tuple[float, int]:
        start = time.perf_counter()
        try:
            status = await asyncio.wait_for(connection.post(), timeout)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                ValueError):
            connection.close()
            status = 0
        return time.perf_counter() - start, status

    try:
        # warm-up: open every connection once (not recorded)
        for _ in range(max(0, warmup) // concurrency + (1 if warmup else 0)):
            await asyncio.gather(*(one(c) for c in connections))
        remaining = [requests]
        latencies: list[float] = []
        statuses: Counter = Counter()

        async def worker(connection: _Connection):
            while remaining[0] > 0:
                remaining[0] -= 1
                seconds, status = await one(connection)
                latencies.append(seconds)
                statuses[status] += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in connections))
        seconds = time.perf_counter() - start
    finally:
        for c in connections:
            c.close()
    return LoadResult(np.asarray(latencies), seconds, concurrency, dict(sorted(statuses.items())))


def run_load(url: str, body: Mapping | bytes, concurrency: int = 1, requests: int = 200,
             headers: Mapping[str, str] | None = None, warmup: int = 20, timeout: float = 30.0) -> LoadResult:
    """POST ``body`` to ``url`` ``requests`` times from ``concurrency`` workers; return the latencies.

    Each worker sends its next request when its previous one is answered (closed loop): at most
    ``concurrency`` requests are in flight, so the test is bounded in load as well as in count. The body
    is serialised to JSON once, up front (so the client's JSON work is not measured). ``warmup`` requests
    (at least one round over all connections) go first and are not recorded.

    Examples
    --------
    >>> run_load("http://127.0.0.1:1/predict", {}, concurrency=0)
    Traceback (most recent call last):
    ...
    ValueError: concurrency=0 must be an integer >= 1
    """
    import json

    concurrency, requests = positive_int("concurrency", concurrency), positive_int("requests", requests)
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    all_headers = {"content-type": "application/json", **dict(headers or {})}
    bad = [k for k, v in all_headers.items() if any(ch in f"{k}{v}" for ch in "\r\n")]
    if bad:
        raise ValueError(f"headers {bad} contain a line break; header names and values are single lines")
    box: dict = {}

    def target():  # own thread, own event loop: works inside Jupyter's running loop too
        try:
            work = _load(url, content, all_headers, concurrency, requests, warmup, timeout)
            box["result"] = asyncio.run(work)
        except BaseException as err:  # noqa: BLE001 — re-raised in the caller's thread
            box["error"] = err

    thread = threading.Thread(target=target, name="run_load")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


def markdown_table(rows: Sequence[Mapping | LoadResult], columns: Sequence[str] | None = None) -> str:
    """Rows (dicts, or :class:`LoadResult` objects: their :meth:`~LoadResult.summary`) as a GitHub markdown table.

    Examples
    --------
    >>> print(markdown_table([{"design": "flask", "rps": 12.5}, {"design": "service", "rps": 900.0}]))
    | design | rps |
    |---|---|
    | flask | 12.5 |
    | service | 900.0 |
    """
    if not rows:
        raise ValueError("rows is empty; give at least one row")
    rows = [r.summary() if isinstance(r, LoadResult) else r for r in rows]
    bad = [i for i, r in enumerate(rows) if not isinstance(r, Mapping)]
    if bad:
        raise TypeError(f"rows[{bad[0]}] is a {type(rows[bad[0]]).__name__}; expected dicts or LoadResult objects")
    columns = list(columns or rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


class ServerProcess:
    """A server command run in the background: started, polled until ready, stopped with SIGTERM.

    Parameters
    ----------
    command : list of str
        The command (e.g. ``[sys.executable, "-m", "aiaas_lib.cli", "serve", ...]``).
    url : str
        The server's base URL, e.g. ``http://127.0.0.1:8123``.
    ready_path : str
        Polled with GET until it answers ``ready_status`` (``None``: any HTTP answer, e.g. a 404 from a
        server without a health route, counts as ready).
    log : path, optional
        File for the server's stdout and stderr (default: a temporary file); :meth:`log_text` reads it.

    Use it as a context manager, or call :meth:`start` / :meth:`stop`; processes still running at
    interpreter exit are stopped then.

    Examples
    --------
    >>> import sys
    >>> port = free_port()
    >>> cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    >>> with ServerProcess(cmd, f"http://127.0.0.1:{port}", ready_path="/") as server:
    ...     server.running
    True
    >>> server.running, server.returncode in (0, -signal.SIGTERM)
    (False, True)
    """

    def __init__(self, command: Sequence[str], url: str, ready_path: str = "/v2/health/ready",
                 ready_status: int | None = 200, log: str | Path | None = None, env: Mapping | None = None,
                 verify=True):
        self.command, self.url = [str(c) for c in command], url.rstrip("/")
        self.ready_path, self.ready_status, self.env = ready_path, ready_status, env
        self.verify = verify  # httpx's: an ssl.SSLContext trusts an https server's self-signed certificate
        if log is None:
            import tempfile

            log = Path(tempfile.mkdtemp(prefix="aiaas-server-")) / "server.log"
        self.log = Path(log)
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None
        self._log_file = None

    @property
    def running(self) -> bool:
        """True while the process runs."""
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        """What the server printed so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self, timeout: float = 120.0) -> ServerProcess:
        """:meth:`launch` the process, then :meth:`wait_ready`."""
        return self.launch().wait_ready(timeout)

    def launch(self) -> ServerProcess:
        """Start the process without waiting (start several, then wait for each: they load in parallel)."""
        if self.running:
            raise RuntimeError(f"{self.command[:3]} is already running (pid {self.proc.pid})")
        self._log_file = open(self.log, "w")
        self.proc = subprocess.Popen(self.command, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     env=None if self.env is None else dict(self.env))
        self.returncode = None
        _RUNNING.add(self)
        return self

    def wait_ready(self, timeout: float = 120.0) -> ServerProcess:
        """Poll ``ready_path`` every 50 ms until ready; stop the process and raise RuntimeError (with the
        server's log) if it exits first or ``timeout`` seconds pass."""
        import httpx

        if self.proc is None:
            raise RuntimeError("the server was never launched; call launch() or start() first")

        def ready() -> bool:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"the server exited with code {self.returncode} before it was ready; "
                                   f"its log:\n{self.log_text()[-3000:]}")
            status = httpx.get(self.url + self.ready_path, timeout=2.0, verify=self.verify).status_code
            return self.ready_status is None or status == self.ready_status

        try:
            poll_until(ready, timeout, f"{self.url}{self.ready_path}")
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"the server was not ready at {self.url}{self.ready_path} "
                               f"within {timeout:g} s; "
                               f"its log:\n{self.log_text()[-3000:]}") from None
        return self

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait up to ``timeout`` seconds (then SIGKILL); return the exit code."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout)
            self.returncode = self.proc.returncode
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        _RUNNING.discard(self)
        return self.returncode

    def __enter__(self) -> ServerProcess:
        return self if self.running else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    for server in list(_RUNNING):
        server.stop(timeout=10.0)
