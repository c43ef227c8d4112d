"""Used by every notebook (00–17); also imported by the CLI/service.

Run the whole course headless: every notebook in order, with a progress bar and a closing table.

``make course`` calls ``python -m aiaas_lib.course --out build/course``. Executed copies are written to
the output folder; the committed notebooks are never touched. A notebook names its key result by calling
:func:`key_result`, which prints a line the runner picks up for the table.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from aiaas_lib import config

KEY_PREFIX = "Key result: "


def key_result(name: str, value, fmt: str = "") -> None:
    """Print the notebook's key result as ``Key result: name = value`` (``make course`` tabulates it).

    Examples
    --------
    >>> key_result("test ROC-AUC", 0.84567, ".3f")
    Key result: test ROC-AUC = 0.846
    """
    print(f"{KEY_PREFIX}{name} = {value:{fmt}}")


@dataclass
class RunResult:
    """What running one notebook gave."""

    notebook: str
    status: str
    seconds: float
    key: str = ""
    error: str = ""


def course_notebooks(folder: Path | None = None, solutions: bool = False) -> list[Path]:
    """The course notebooks in reading order (``NN_name.ipynb``), optionally with their solutions."""
    folder = folder or config.notebooks_dir()
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if solutions:
        found += sorted((folder / "solutions").glob("[0-9][0-9]_*.ipynb"))
    return found


def _key_from(nb) -> str:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "") if out.get("output_type") == "stream" else ""
            for line in text.splitlines():
                if line.startswith(KEY_PREFIX):
                    return line[len(KEY_PREFIX):]
    return ""


def run_notebook(path: Path, out_dir: Path, timeout: int = 3600, progress=None) -> RunResult:
    """Execute one notebook in its own folder; write the executed copy to ``out_dir``."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],  # the kernel's start-up chatter is not a result
        on_cell_executed=(lambda **_: progress.update(1)) if progress is not None else None,
    )
    start = time.perf_counter()
    status, error = "ok", ""
    try:
        client.execute()
    except CellExecutionError as err:
        status, error = "FAILED", str(err).strip().splitlines()[-1][:200]
    seconds = time.perf_counter() - start
    out_dir.mkdir(parents=True, exist_ok=True)
    rel = path.relative_to(path.parents[1]) if path.parent.name == "solutions" else Path(path.name)
    (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_dir / rel)
    return RunResult(str(rel), status, seconds, _key_from(nb), error)


def table(results: list[RunResult]) -> str:
    """The closing table: notebook, status, seconds, key result."""
    w = max([len("notebook")] + [len(r.notebook) for r in results])
    lines = [f"{'notebook':<{w}}  status  seconds  key result", f"{'-' * w}  ------  -------  ----------"]
    for r in results:
        lines.append(f"{r.notebook:<{w}}  {r.status:<6}  {r.seconds:7.1f}  {r.key or r.error}")
    total = sum(r.seconds for r in results)
    failed = sum(r.status != "ok" for r in results)
    lines.append(f"{len(results)} notebooks, {failed} failed, {total:.0f} s in all (mode {config.mode()})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m aiaas_lib.course [--out DIR] [--solutions] [NOTEBOOK ...]``."""
    import nbformat
    from tqdm import tqdm

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[1].splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all, in order)")
    parser.add_argument("--out", type=Path, default=config.build_dir() / "course", help="folder for executed copies")
    parser.add_argument("--solutions", action="store_true", help="also run notebooks/solutions/")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    paths = args.notebooks or course_notebooks(solutions=args.solutions)
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    cells = sum(sum(c.cell_type == "code" for c in nbformat.read(p, as_version=4).cells) for p in paths)
    print(f"Running {len(paths)} notebooks in {config.mode()} mode; executed copies go to {args.out}/")
    results = []
    with tqdm(total=cells, unit="cell", file=sys.stdout, dynamic_ncols=True) as bar:
        for p in paths:
            bar.set_description(Path(p).stem[:28])
            results.append(run_notebook(Path(p).resolve(), args.out, args.timeout, progress=bar))
    print(table(results))
    return 0 if all(r.status == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
