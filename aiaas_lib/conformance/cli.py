"""Used by the ``aiaas`` CLI (:mod:`aiaas_lib.cli`): the ``aiaas conformance`` command.

    aiaas conformance URL [--model NAME] [--instances FILE] [--protocol P ...] [--api-key K]
                      [--max-body-bytes N] [--llm NAME] [--embedding-model NAME] [--skip CHECK ...]

Prints the pass/fail table per protocol; exit code 0 when every check that ran passed, 1 on any failure
(or when no protocol answered), 2 on bad usage (argparse's own, a bad URL, an unreadable instances file,
an unknown check id).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    """Add the ``conformance`` command to the ``aiaas`` subparsers."""
    from aiaas_lib.conformance.core import PROTOCOLS

    p = subparsers.add_parser(
        "conformance",
        help="grade an HTTP model server against TF Serving REST, the Open "
        "Inference Protocol and the OpenAI API",
    )
    p.add_argument("url", help="the server's base URL, e.g. http://127.0.0.1:8000")
    p.add_argument(
        "--model", default=None, help="the model for TF Serving and the OIP (they cannot list models)"
    )
    p.add_argument(
        "--instances",
        default=None,
        metavar="FILE",
        help="JSON file: a list of instances in TF Serving's row format (default: zeros from metadata)",
    )
    p.add_argument(
        "--protocol",
        nargs="+",
        choices=list(PROTOCOLS),
        default=None,
        help="only these protocols (default: every protocol the server speaks)",
    )
    p.add_argument("--api-key", default=None, help="sent as a Bearer token; turns the *.auth checks on")
    p.add_argument(
        "--max-body-bytes", type=int, default=None, help="the server's body limit; turns *.body_limit on"
    )
    p.add_argument("--llm", default=None, help="OpenAI completions/chat model (default: from GET /v1/models)")
    p.add_argument(
        "--embedding-model", default=None, help="OpenAI embeddings model (default: from GET /v1/models)"
    )
    p.add_argument("--skip", nargs="+", default=(), metavar="CHECK", help="check ids not to run")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per request (default 60)")
    p.set_defaults(func=main)


def main(args) -> int:
    """Run the kit with the parsed ``args``; print the table; 0 all passed, 1 a failure, 2 bad usage."""
    from aiaas_lib.conformance import run

    instances = None
    if args.instances is not None:
        path = Path(args.instances)
        try:
            instances = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            print(f"error: --instances {str(path)!r} is not a readable JSON file: {err}", file=sys.stderr)
            return 2
        if isinstance(instances, dict) and "instances" in instances:  # a whole predict body is fine too
            instances = instances["instances"]
    if args.max_body_bytes is not None and args.max_body_bytes < 1:
        print(f"error: --max-body-bytes={args.max_body_bytes} must be at least 1", file=sys.stderr)
        return 2
    try:
        report = run(
            args.url,
            model=args.model,
            instances=instances,
            protocols=args.protocol,
            api_key=args.api_key,
            max_body_bytes=args.max_body_bytes,
            llm=args.llm,
            embedding_model=args.embedding_model,
            skip=args.skip,
            timeout=args.timeout,
        )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(report.table())
    return 0 if report.ok else 1
