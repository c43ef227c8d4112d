"""``/docs`` (Swagger UI) and ``/redoc`` work offline: their pages reference only assets the service serves
itself (from the pinned fastapi-offline package), and they render in headless Chromium with every other host
unreachable (skipped, saying why, where Debian's ``chromium`` is not installed)."""
import re
import shutil
import subprocess
import tempfile

import pytest
from fastapi.testclient import TestClient

from _serving import live_server
from aiaas_lib.serving import Settings, create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def empty_client():
    with TestClient(create_app(Settings(registry=tempfile.mkdtemp()))) as client:
        yield client


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_reference_only_local_assets(empty_client, page):
    html = empty_client.get(page).text
    refs = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
    assert refs and all(r.startswith("/") and not r.startswith("//") for r in refs), refs
    assert "http://" not in html and "https://" not in html and "cdn" not in html.lower()
    for ref in refs:
        reply = empty_client.get(ref)
        assert reply.status_code == 200 and len(reply.content) > 1000, (ref, reply.status_code)


def test_docs_assets_are_not_in_the_openapi_document(empty_client):
    paths = empty_client.get("/openapi.json").json()["paths"]
    assert not any(p.startswith(("/docs", "/redoc")) for p in paths)


def render(url: str) -> str:
    """The DOM of ``url`` after its scripts ran, in headless Chromium with every non-local host unreachable
    (a proxy on a closed port; loopback bypasses it)."""
    out = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                          "--proxy-server=http://127.0.0.1:9", "--virtual-time-budget=8000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=60)
    return out.stdout


needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="Debian's chromium is not installed (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def live(tiny_registry):
    with live_server(create_app(Settings(registry=tiny_registry, models=["churn"]))) as url:
        yield url


@needs_chromium
def test_docs_and_redoc_render_offline_in_headless_chromium(live):
    swagger, redoc = render(f"{live}/docs"), render(f"{live}/redoc")
    assert "opblock" in swagger and "/v1/models/churn:predict" in swagger, swagger[-2000:]
    assert "/v1/models/churn:predict" in redoc and "aiaas model service" in redoc, redoc[-2000:]


# Swagger UI in the page: open POST /v1/models/churn:predict, "Try it out", "Execute" (with the documented
# example body), and read the status of the live response it shows.
TRY_IT_OUT = r"""(async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const until = async f => { for (let i = 0; i < 150; i++) { const v = f(); if (v) return v; await sleep(100); } };
  const text = e => (e ? e.textContent.replace(/\u200b/g, "") : "");
  const op = await until(() => [...document.querySelectorAll(".opblock")].find(
      e => text(e.querySelector(".opblock-summary-path")) === "/v1/models/churn:predict"));
  if (!op) return "no operation /v1/models/churn:predict";
  op.querySelector(".opblock-summary-control").click();
  const tryOut = await until(() => op.querySelector(".try-out__btn"));
  if (tryOut && !tryOut.classList.contains("cancel")) tryOut.click();
  const run = await until(() => op.querySelector("button.execute"));
  if (!run) return "no Execute button";
  run.click();
  const status = await until(() => op.querySelector(".live-responses-table tbody .response-col_status"));
  const body = op.querySelector(".live-responses-table .microlight");
  return status ? text(status).trim() + " " + text(body).slice(0, 200) : "no response shown";
})()"""


@needs_chromium
def test_try_it_out_on_predict_runs_the_example_and_gets_200(live):
    import json
    import urllib.request

    import websocket  # websocket-client (a jupyter_server dependency): Chromium's DevTools protocol

    from aiaas_lib.loadtest import free_port, poll_until

    port = free_port()
    browser = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                "--proxy-server=http://127.0.0.1:9", f"--remote-debugging-port={port}",
                                "--remote-allow-origins=*", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def page():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2) as reply:
                    return next((t for t in json.load(reply) if t["type"] == "page"), None)
            except OSError:
                return None

        poll_until(lambda: page() is not None, 15, "Chromium's DevTools endpoint")
        ws = websocket.create_connection(page()["webSocketDebuggerUrl"], timeout=30)

        def call(id_, method, **params):
            ws.send(json.dumps({"id": id_, "method": method, "params": params}))
            while True:
                message = json.loads(ws.recv())
                if message.get("id") == id_:
                    return message

        call(1, "Page.navigate", url=f"{live}/docs")
        loaded = "location.pathname === '/docs' && document.readyState === 'complete'"
        poll_until(lambda: call(2, "Runtime.evaluate", expression=loaded, returnByValue=True)
                   ["result"]["result"].get("value") is True, 15, "the /docs page to load")
        result = call(3, "Runtime.evaluate", expression=TRY_IT_OUT, awaitPromise=True, returnByValue=True)
        ws.close()
    finally:
        browser.terminate()
        browser.wait(10)
    shown = result["result"]["result"].get("value", str(result))
    assert shown.startswith("200") and "predictions" in shown, shown
