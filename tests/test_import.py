import subprocess
import sys


def _fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_import_aiaas_lib_does_not_import_tensorflow_or_explainers():
    out = _fresh(
        "import sys, aiaas_lib, aiaas_lib.data, aiaas_lib.exercises, aiaas_lib.course, aiaas_lib.cli;"
        "print(sorted(m for m in ('tensorflow', 'keras', 'shap', 'lime', 'sklearn') if m in sys.modules))"
    )
    assert out == "[]"


def test_import_sets_quiet_tensorflow_logging():
    assert _fresh("import os, aiaas_lib; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])") in {"2", "3"}


def test_import_tensorflow_writes_nothing_to_stderr():
    proc = subprocess.run(
        [sys.executable, "-c", "from aiaas_lib import env; tf = env.import_tensorflow(); print(tf.constant(2) * 3)"],
        capture_output=True, text=True, check=True,
    )
    assert proc.stderr == ""
    assert "6" in proc.stdout
