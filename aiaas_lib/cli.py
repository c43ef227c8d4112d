"""The ``aiaas`` command line.

    aiaas env            print the environment check (versions, device, mode) with fix hints
    aiaas data           verify every shipped data file against data/manifest.json
    aiaas course [...]   run the notebooks headless (same as `make course`)
"""
from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``aiaas`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["course"]:
        from aiaas_lib import course

        return course.main(argv[1:])
    parser = argparse.ArgumentParser(prog="aiaas", description="AI models as a service: course tools")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{env,data,course}")
    sub.add_parser("env", help="print the environment check with fix hints").set_defaults(func=_env)
    sub.add_parser("data", help="verify the shipped data files").set_defaults(func=_data)
    sub.add_parser("course", help="run every notebook headless (see `aiaas course --help`)")
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
