"""schemathesis, with all its default checks, against a live ``aiaas serve`` of the default models.

The service's OpenAPI document (:mod:`aiaas_lib.serving.openapi`) promises which requests are valid and what
each answer looks like; schemathesis generates requests from it (valid and invalid ones, boundary values,
wrong methods, wrong types) and checks every answer: no server error, only documented status codes,
content types and headers, response bodies that match their schemas, valid data accepted, invalid data
rejected, ``405`` with a correct ``Allow`` header for undeclared methods.

Steps: train the default models in fast mode (``aiaas train-defaults``; skipped with ``--registry DIR`` of
an existing registry), start ``aiaas serve`` on 127.0.0.1 (a subprocess, CPU only), run
``schemathesis run`` on its ``/openapi.json`` with ``--max-examples`` per operation and a fixed seed, then
print the cases, failures, seconds and the CPU. Exits with schemathesis's status (0: no failure).

Run: ``AIAAS_MODE=fast python bench/schemathesis_serve.py [--max-examples 40] [--registry DIR]``
(a few minutes on two cores; prefix it with ``flock /tmp/aiaas-cpu.lock`` on a shared machine).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from aiaas_lib import env, loadtest  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", help="an existing registry (default: train the default models, fast)")
    parser.add_argument("--max-examples", type=int, default=40, help="generated cases per operation and phase")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-schemathesis-"))
    registry = args.registry
    if registry is None:
        registry = str(folder / "registry")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "aiaas_lib.cli", "train-defaults", "--registry", registry,
                        "--mode", "fast"], check=True)
        print(f"trained the default models in {time.perf_counter() - start:.0f} s", flush=True)
    port = loadtest.free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "aiaas_lib.cli", "serve", "--registry", registry, "--port", str(port)]
    cli = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    with loadtest.ServerProcess(command, url, log=folder / "server.log"):
        start, cpu = time.perf_counter(), os.times()
        run = subprocess.run([cli, "run", f"{url}/openapi.json", "--max-examples", str(args.max_examples),
                              "--seed", str(args.seed), "--workers", "1", "--no-color"],
                             capture_output=True, text=True, cwd=folder)  # its cache goes there
        seconds = time.perf_counter() - start
        used = os.times()
    output = run.stdout + run.stderr
    (folder / "schemathesis.txt").write_text(output)
    print(output[-6000:])
    cases = re.search(r"Test cases:\s*(\d+) generated", output)
    print(f"\nschemathesis against `aiaas serve` (default models, fast mode): "
          f"{cases.group(1) if cases else '?'} generated cases, exit status {run.returncode} "
          f"({'no failures' if run.returncode == 0 else 'failures: see above'}), {seconds:.0f} s wall, "
          f"{used.children_user - cpu.children_user + used.children_system - cpu.children_system:.0f} s of "
          f"schemathesis CPU; CPU: {env.cpu_model()}, {os.cpu_count()} cores; full output: "
          f"{folder / 'schemathesis.txt'}")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
