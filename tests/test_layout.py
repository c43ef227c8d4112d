"""The library's layout keeps its promises (issue 17): every module says which notebooks use it, none is too
long to read, and the README's library table lists every top-level module and package."""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted((ROOT / "aiaas_lib").rglob("*.py"))
NAMES_NOTEBOOKS = re.compile(r"notebooks? \d\d|notebooks \d\d?[-–]\d\d|every notebook|\bCLI\b|``aiaas``")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_docstring_opens_with_its_notebooks(path):
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    first_paragraph = doc.split("\n\n")[0]
    assert NAMES_NOTEBOOKS.search(first_paragraph), (
        f"{path.relative_to(ROOT)}: the docstring's first paragraph must name the notebooks that use the module "
        f"(or say it serves the CLI/service only); it reads {first_paragraph[:120]!r}")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_too_long_to_read(path):
    lines = len(path.read_text().splitlines())
    assert lines <= 700, f"{path.relative_to(ROOT)} has {lines} lines; split it by idea (at most ~700)"


def test_readme_library_table_lists_every_top_level_module_and_package():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## The library"):]
    table = table[:table.index("\n## ", 1)]
    listed = {name.split(".")[0] for name in re.findall(r"^\| `([\w.]+)` \|", table, re.M)}
    package = ROOT / "aiaas_lib"
    top = {p.stem for p in package.glob("*.py") if p.stem != "__init__"} | {
        p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    assert top - listed == set(), f"add these to the README's library table: {sorted(top - listed)}"
    assert listed - top == set(), f"the README's library table names modules that do not exist: {sorted(listed - top)}"
