"""pytest hooks shared by tests/ and the nbval run over notebooks/.

Prints, at the end of the run, how long each notebook took (all its cells), so the fast-mode budget of
120 s per notebook can be read off every CI log. It only reports; no test depends on timing.
"""
from collections import defaultdict

_notebook_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    terminalreporter.section("seconds per notebook (fast mode budget: 120 s)")
    for path, seconds in sorted(_notebook_seconds.items()):
        flag = "" if seconds <= 120 else "  <-- over the 120 s budget"
        terminalreporter.write_line(f"{seconds:7.1f}  {path}{flag}")
