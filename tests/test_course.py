import nbformat
import pytest

from aiaas_lib import course


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_key_result_prints_one_line(capsys):
    course.key_result("accuracy", 0.91234, ".2%")
    assert capsys.readouterr().out == "Key result: accuracy = 91.23%\n"


def test_run_notebook_executes_and_finds_key_result(tmp_path):
    src = _notebook(tmp_path / "01_demo.ipynb", "x = 6 * 7",
                    "from aiaas_lib.course import key_result\nkey_result('answer', x)")
    result = course.run_notebook(src, tmp_path / "out")
    assert result.status == "ok" and result.key == "answer = 42"
    executed = nbformat.read(tmp_path / "out" / "01_demo.ipynb", as_version=4)
    assert executed.cells[1].outputs[0]["text"] == "Key result: answer = 42\n"
    assert nbformat.read(src, as_version=4).cells[1].outputs == []  # the source is untouched


def test_run_notebook_reports_failure(tmp_path):
    src = _notebook(tmp_path / "02_bad.ipynb", "raise ValueError('boom')")
    result = course.run_notebook(src, tmp_path / "out")
    assert result.status == "FAILED" and "boom" in result.error


def test_main_prints_table_and_fails_when_a_notebook_fails(tmp_path, capsys):
    good = _notebook(tmp_path / "01_ok.ipynb", "print('hi')")
    bad = _notebook(tmp_path / "02_bad.ipynb", "1/0")
    code = course.main([str(good), str(bad), "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 1
    assert "01_ok.ipynb" in out and "FAILED" in out and "2 notebooks, 1 failed" in out


def test_main_rejects_missing_notebook(tmp_path):
    with pytest.raises(SystemExit):
        course.main([str(tmp_path / "nope.ipynb")])


def test_course_notebooks_are_in_reading_order():
    names = [p.name for p in course.course_notebooks()]
    assert names == sorted(names) and names[:2] == ["00_setup.ipynb", "01_ai_as_a_service.ipynb"]
