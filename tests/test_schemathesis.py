"""schemathesis, with all its default checks, against the service's own OpenAPI document: a live server (uvicorn
in a thread) over tiny churn, fashion, tiny-gpt and tiny-embed models, a few generated cases per operation and
phase with a fixed seed (bounded: well under a minute on two cores). The ≥ 1,000-case run against a live
``aiaas serve`` of the default models is ``bench/schemathesis_serve.py`` (its result: bench/README.md)."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from _serving import every_kind_registry, live_server
from aiaas_lib.serving import Settings, create_app

MAX_EXAMPLES = 4


@pytest.fixture(scope="module")
def live(tiny_registry):
    with live_server(create_app(Settings(registry=every_kind_registry(tiny_registry)))) as url:
        yield url


def run_schemathesis(url: str, folder, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """``schemathesis run`` on ``url``'s document, in ``folder`` (where it keeps its cache)."""
    cli = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    return subprocess.run([cli, "run", f"{url}/openapi.json", "--seed", "0", "--workers", "1", "--no-color",
                           *args], capture_output=True, text=True, timeout=timeout, cwd=folder)


def test_schemathesis_default_checks_find_no_failure(live, tmp_path):
    run = run_schemathesis(live, tmp_path, "--max-examples", str(MAX_EXAMPLES))
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-12000:]
    cases = int(re.search(r"(\d+) generated", output).group(1))
    assert cases > 1000 and f"{cases} generated, {cases} passed" in output, output[-3000:]  # an empty run proves nothing
