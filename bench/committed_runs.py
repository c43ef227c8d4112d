"""Print what the committed notebooks' own full-mode runs recorded: each notebook's key result and its
seconds, as a Markdown table for bench/README.md.

Nothing is re-run and nothing is typed: the key result is the ``Key result:`` line the notebook printed
(:func:`aiaas_lib.course.key_result`), the seconds are the span between the first cell's start and the last
cell's reply in the execution timestamps nbclient stores in the notebook, and the date is that run's.
Usage: ``python bench/committed_runs.py [--solutions]``.
"""
from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from aiaas_lib.course import KEY_PREFIX, course_notebooks


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def committed_run(path: Path) -> dict:
    """The key result, seconds and date of the run whose outputs ``path`` holds."""
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    times = [c.get("metadata", {}).get("execution", {}) for c in code]
    start = next((_stamp(t["iopub.execute_input"]) for t in times if "iopub.execute_input" in t), None)
    end = next((_stamp(t["shell.execute_reply"]) for t in reversed(times) if "shell.execute_reply" in t), None)
    key = ""
    for cell in code:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                for line in "".join(out.get("text", "")).splitlines():
                    if line.startswith(KEY_PREFIX):
                        key = line[len(KEY_PREFIX):]
    return {"notebook": path.stem, "key": key,
            "seconds": (end - start).total_seconds() if start and end else float("nan"),
            "date": start.date().isoformat() if start else "?"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solutions", action="store_true", help="also list notebooks/solutions/")
    args = parser.parse_args()
    print("| notebook | full-mode seconds | run on | key result |")
    print("|---|---:|---|---|")
    for path in course_notebooks(solutions=args.solutions):
        run = committed_run(path)
        name = f"solutions/{run['notebook']}" if path.parent.name == "solutions" else run["notebook"]
        key = run["key"].replace("|", "\\|")  # a pipe inside a key result would split the Markdown row
        print(f"| `{name}` | {run['seconds']:.0f} | {run['date']} | {key} |")


if __name__ == "__main__":
    main()
