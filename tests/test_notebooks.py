"""The committed notebooks keep the course contract (DESIGN.md): outputs of one clean top-to-bottom run,
no errors, no log noise, the standard setup cell, and a Summary and Exercises with feedback."""
import json
import re

import pytest

from aiaas_lib import config
from aiaas_lib.course import course_notebooks

MAIN = course_notebooks()
ALL = course_notebooks(solutions=True)


def _load(path):
    return json.loads(path.read_text())


def _code(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_outputs_from_one_clean_run(path):
    counts = [c["execution_count"] for c in _code(_load(path))]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: execution counts {counts}"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_no_errors_or_stderr_noise(path):
    for cell in _code(_load(path)):
        for out in cell["outputs"]:
            assert out["output_type"] != "error", f"{path.name}: error output {out.get('ename')}"
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), (
                f"{path.name}: stderr output {''.join(out['text'])[:200]!r}")


@pytest.mark.parametrize("path", MAIN, ids=lambda p: p.name)
def test_setup_cell_is_colab_guarded_and_checks_env(path):
    first = "".join(_code(_load(path))[0]["source"])
    assert '"google.colab" in sys.modules' in first
    assert "env.check()" in first and "env.import_tensorflow()" in first


@pytest.mark.parametrize("path", MAIN, ids=lambda p: p.name)
def test_has_learn_summary_exercises_and_solution(path):
    nb = _load(path)
    md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    for heading in ("What you will learn", "## Setup", "## Summary", "## Exercises"):
        assert heading in md, f"{path.name} lacks {heading!r}"
    code = "\n".join("".join(c["source"]) for c in _code(nb))
    assert re.search(r"check_\w+\(", code), f"{path.name}: no check_* call in the exercises"
    assert "key_result(" in code, f"{path.name}: no key_result for the course table"
    assert (config.notebooks_dir() / "solutions" / path.name).is_file(), f"no solution notebook for {path.name}"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_no_environment_reads_or_downloads_in_notebooks(path):
    code = "\n".join("".join(c["source"]) for c in _code(_load(path)))
    assert "os.environ" not in code and "getenv" not in code, f"{path.name} reads the environment itself"
    assert not re.search(r"load_data\(|urlretrieve|get_file\(|tfds\.load", code), f"{path.name} downloads"
