"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

The ``aiaas`` command line.

    aiaas env            print the environment check (versions, device, mode) with fix hints
    aiaas data           verify every shipped data file against data/manifest.json
    aiaas course [...]   run the notebooks headless (same as `make course`)
    aiaas train-defaults --registry DIR [--mode fast|full]
                         train the default models (churn, fashion, tiny-gpt; minilm is packaged),
                         register them, label them stable
    aiaas serve --ray [--replicas N] ...   the same service on Ray Serve replicas (aiaas_lib.scaling.ray_serve)
    aiaas serve --registry DIR [--host H] [--port P] [--api-keys-file F] [--batching] [--drain-seconds S]
                         serve the registry's models (TF Serving REST, KServe V2, explain, OpenAI-compatible
                         text routes, /metrics); [--canary-weight [NAME=]W] [--shadow] split the default route
                         with the 'canary' label (POST /v1/models/{name}:reload changes it at run time);
                         [--poll-seconds S] follow the registry (new models, label changes) without a restart
    aiaas conformance URL [--model NAME] [--api-key K] ...   grade a server (aiaas_lib.conformance.cli)
    aiaas models list|show|register|promote|rollback|label ...   manage the registry (aiaas_lib.packaging.registry_cli)
"""
from __future__ import annotations

import argparse
import os
import sys


def _env(_args) -> int:
    from aiaas_lib import env

    report = env.check()
    return 1 if report.problems else 0


def _data(_args) -> int:
    from aiaas_lib import data

    try:
        entries = data.manifest()
        for name in entries:
            data.verified_path(name)
            print(f"ok  {name}")
    except data.DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{len(entries)} files match data/manifest.json")
    return 0


def _train_defaults(args) -> int:
    from aiaas_lib import config
    from aiaas_lib.defaults import train_defaults

    print(f"training the default models ({args.mode or config.mode()} mode) into {args.registry} ...", flush=True)
    train_defaults(args.registry, mode=args.mode, log=lambda line: print(line, flush=True))
    print(f"serve them with: aiaas serve --registry {args.registry}")
    return 0


def _serve(args) -> int:
    from aiaas_lib.packaging.registry import ModelRegistry
    from aiaas_lib.serving import Settings
    from aiaas_lib.serving.security import load_api_keys

    overrides = {k: v for k, v in {
        "registry": args.registry, "host": args.host, "port": args.port, "api_keys_file": args.api_keys_file,
        "batching": True if args.batching else None, "drain_seconds": args.drain_seconds,
        "models": args.models,
        "shadow": True if args.shadow else None, "poll_seconds": args.poll_seconds,
    }.items() if v is not None}
    for weight in args.canary_weight or []:  # W for every model, or NAME=W for one
        if "=" in weight:
            overrides.setdefault("canary_weights", []).append(weight)
        else:
            overrides["canary_weight"] = weight
    if "AIAAS_GC_FREEZE" not in os.environ:  # a long-running server process: freeze the loaded objects
        overrides["gc_freeze"] = True
    try:
        settings = Settings(**overrides)
        keys = load_api_keys(settings.api_keys, settings.api_keys_file)
    except ValueError as err:  # pydantic's ValidationError is a ValueError
        print(f"error: {err}", file=sys.stderr)
        return 2
    from aiaas_lib.serving.server import is_loopback, serve

    if not keys and not is_loopback(settings.host):
        print(f"error: refusing to listen on {settings.host} without API keys: anyone who can reach it could use "
              "the models. Give keys (--api-keys-file FILE, one per line, or AIAAS_API_KEYS=k1,k2), or serve on "
              "--host 127.0.0.1.", file=sys.stderr)
        return 2
    if not ModelRegistry(settings.registry).models():
        print(f"error: the registry {settings.registry} has no models; train the defaults first: "
              f"aiaas train-defaults --registry {settings.registry}", file=sys.stderr)
        return 2
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(f"aiaas serve: http://{host}:{settings.port} serving {settings.registry} | API keys "
          f"{f'on ({len(keys)})' if keys else 'off (loopback only)'} | batching "
          f"{'on' if settings.batching else 'off'} | rate limit "
          f"{f'{settings.rate_limit_per_minute:g}/min' if settings.rate_limit_per_minute else 'off'}", flush=True)
    if getattr(args, "ray", False):  # the same app on Ray Serve replicas (aiaas_lib.scaling.ray_serve)
        from aiaas_lib.scaling.ray_serve import serve_forever

        return serve_forever(settings, num_replicas=args.replicas, port=settings.port)
    return serve(settings)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``aiaas`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["course"]:
        from aiaas_lib import course

        return course.main(argv[1:])
    parser = argparse.ArgumentParser(prog="aiaas", description="AI models as a service: course tools")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{env,data,course,train-defaults,serve}")
    sub.add_parser("env", help="print the environment check with fix hints").set_defaults(func=_env)
    sub.add_parser("data", help="verify the shipped data files").set_defaults(func=_data)
    sub.add_parser("course", help="run every notebook headless (see `aiaas course --help`)")
    train = sub.add_parser("train-defaults", help="train, register and label the default served models")
    train.add_argument("--registry", default="models", help="registry folder (default: models)")
    train.add_argument("--mode", choices=["fast", "full"], default=None,
                       help="fast: small models in under a minute; full: the real ones (default: AIAAS_MODE)")
    train.set_defaults(func=_train_defaults)
    serve = sub.add_parser("serve", help="serve the registry's models (settings also from AIAAS_* variables)")
    serve.add_argument("--registry", default=None, help="registry folder (default: AIAAS_REGISTRY or models)")
    serve.add_argument("--host", default=None, help="default 127.0.0.1; another host needs API keys")
    serve.add_argument("--port", type=int, default=None, help="default 8000")
    serve.add_argument("--api-keys-file", default=None, help="file with one API key per line")
    serve.add_argument("--batching", action="store_true", help="turn server-side micro-batching on")
    serve.add_argument("--ray", action="store_true",
                       help="serve on Ray Serve (replicas, @serve.batch route /batched/...); stops Ray on SIGTERM")
    serve.add_argument("--replicas", type=int, default=2, help="Ray Serve replicas with --ray (default 2)")
    serve.add_argument("--drain-seconds", type=float, default=None,
                       help="after SIGTERM, report not ready for this long before stopping (default 0)")
    serve.add_argument("--models", nargs="+", default=None,
                       help="names (or name@version / name@label) to serve; default: all")
    serve.add_argument("--canary-weight", action="append", default=None, metavar="[NAME=]W",
                       help="share (0..1) of default-route requests answered by the 'canary' label: W for every "
                            "model, NAME=W for one (repeatable; default 0)")
    serve.add_argument("--poll-seconds", type=float, default=None,
                       help="follow the registry without a restart: new models and label changes are picked up "
                            "this often (default 0: only POST /v1/models/{name}:reload)")
    serve.add_argument("--shadow", action="store_true",
                       help="the 'canary' version also scores every request silently (metrics only)")
    serve.set_defaults(func=_serve)
    from aiaas_lib.conformance.cli import add_parser as add_conformance

    add_conformance(sub)
    from aiaas_lib.packaging.registry_cli import add_parser as add_models

    add_models(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
