"""Exercise checks of notebook 11: int8 codes, choosing a format, finding changed files of a registry version."""
import hashlib
import json

import numpy as np
import pytest

from aiaas_lib.exercises import nb11_packaging_models as ex
from _feedback import run_check as _run


# ------------------------------------------------------------------------------------------ int8 codes
def _quantize(x, scale, zero_point):
    return np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)


def test_int8_quantize_right(capsys):
    assert _run(capsys, ex.check_int8_quantize, _quantize)[0]


@pytest.mark.parametrize("func, hint", [
    (lambda x, s, z: (np.round(x / s) + z).astype(np.int64).astype(np.int8), "not clipped"),  # wraps around
    (lambda x, s, z: np.round(x / s) + z, "not clipped"),
    (lambda x, s, z: np.clip(np.trunc(x / s) + z, -128, 127).astype(np.int8), "round to the nearest"),
    (lambda x, s, z: np.clip(np.floor(x / s) + z, -128, 127).astype(np.int8), "round to the nearest"),
    (lambda x, s, z: np.clip(np.round(x / s) - z, -128, 127).astype(np.int8), "added, not subtracted"),
    (lambda x, s, z: np.clip(np.round(x * s) + z, -128, 127).astype(np.int8), "divide by the scale"),
    (lambda x, s, z: np.clip(np.round(x / s) + z, -128, 127), "cast them with .astype(np.int8)"),
    (lambda x, s, z: _quantize(x, s, z)[:3], "shape"),
    (lambda x, s, z: np.zeros(len(x), np.int8), "expected ["),
    (lambda x, s, z: None, "returns None"),
])
def test_int8_quantize_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_int8_quantize, func)
    assert not ok and hint in out


def test_int8_quantize_no_answer(capsys):
    ok, out = _run(capsys, ex.check_int8_quantize, None)
    assert not ok and "no answer yet" in out


# ---------------------------------------------------------------------------------------- format choice
RIGHT = {"phone_app": "tflite", "integer_chip": "tflite_int8", "tf_serving": "saved_model",
         "dotnet_service": "onnx", "resume_training": "keras"}


def test_format_choice_right(capsys):
    assert _run(capsys, ex.check_format_choice, RIGHT)[0]


def test_format_choice_accepts_int8_on_a_phone_and_spelling_variants(capsys):
    answers = {**RIGHT, "phone_app": "tflite_int8", "tf_serving": "SavedModel", "resume_training": ".keras"}
    assert _run(capsys, ex.check_format_choice, answers)[0]


def test_format_choice_scenarios_match_the_answer_keys():
    assert set(ex.FORMAT_SCENARIOS) == set(RIGHT)


@pytest.mark.parametrize("change, hint", [
    ({"integer_chip": "tflite"}, "full-int8"),
    ({"tf_serving": "keras"}, "TF Serving loads SavedModel"),
    ({"dotnet_service": "saved_model"}, "ONNX Runtime runs from C#"),
    ({"resume_training": "saved_model"}, "optimizer state"),
    ({"phone_app": "onnx"}, "LiteRT"),
    ({"phone_app": "pickle"}, "is not a format"),
])
def test_format_choice_wrong(capsys, change, hint):
    ok, out = _run(capsys, ex.check_format_choice, {**RIGHT, **change})
    assert not ok and hint in out


@pytest.mark.parametrize("answers, hint", [
    ({k: v for k, v in RIGHT.items() if k != "tf_serving"}, "['tf_serving'] missing"),
    ({**RIGHT, "browser": "onnx"}, "unknown scenarios ['browser']"),
    (["tflite", "saved_model"], "give a dict"),
])
def test_format_choice_malformed(capsys, answers, hint):
    ok, out = _run(capsys, ex.check_format_choice, answers)
    assert not ok and hint in out


# ---------------------------------------------------------------------------------------- changed files
def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def version(tmp_path):
    """A registry-like version folder: three files and a metadata.json with their sha256."""
    folder = tmp_path / "churn" / "2"
    (folder / "saved_model").mkdir(parents=True)
    for name in ("model.keras", "saved_model/saved_model.pb", "saved_model/fingerprint.pb"):
        (folder / name).write_bytes(name.encode() * 20)
    files = {n: _sha(folder / n) for n in ("model.keras", "saved_model/saved_model.pb", "saved_model/fingerprint.pb")}
    (folder / "metadata.json").write_text(json.dumps({"version": 2, "files": files}))
    return folder


def _files(folder):
    return json.loads((folder / "metadata.json").read_text())["files"]


def _changed(folder):
    return sorted(n for n, h in _files(folder).items() if not (folder / n).is_file() or _sha(folder / n) != h)


def test_changed_files_right(capsys, version):
    ok, out = _run(capsys, ex.check_changed_files, _changed, version)
    assert ok and "version 2" in out


def test_changed_files_leaves_the_folder_untouched(capsys, version):
    before = {p: p.read_bytes() for p in version.rglob("*") if p.is_file()}
    _run(capsys, ex.check_changed_files, _changed, version)
    assert {p: p.read_bytes() for p in version.rglob("*") if p.is_file()} == before


def test_changed_files_right_when_the_folder_already_has_a_change(capsys, version):
    (version / "model.keras").write_bytes(b"edited by hand")  # the truth on every copy includes this file
    assert _run(capsys, ex.check_changed_files, _changed, version)[0]


def _first_only(folder):
    return _changed(folder)[:1]


def _crashes_on_missing(folder):
    return sorted(n for n, h in _files(folder).items() if _sha(folder / n) != h)


def _skips_missing(folder):
    return sorted(n for n, h in _files(folder).items() if (folder / n).is_file() and _sha(folder / n) != h)


@pytest.mark.parametrize("func, hint", [
    (lambda folder: sorted(_files(folder)), "they still match"),  # hashes nothing, lists everything
    (lambda folder: [], "reports nothing"),
    (_first_only, "stops after the first changed file"),
    (_crashes_on_missing, "fails when a file was deleted"),
    (_skips_missing, "a missing file counts as changed"),
    (lambda folder: [str(folder / n) for n in _changed(folder)] + ["/elsewhere/x"], "relative to the version folder"),
    (lambda folder: _changed(folder) + ["metadata.json"], "metadata.json is not in its own files list"),
    (lambda folder: None, "returns None"),
])
def test_changed_files_wrong(capsys, version, func, hint):
    ok, out = _run(capsys, ex.check_changed_files, func, version)
    assert not ok and hint in out


def test_changed_files_accepts_absolute_paths_inside_the_folder(capsys, version):
    assert _run(capsys, ex.check_changed_files, lambda f: [f / n for n in _changed(f)], version)[0]


@pytest.mark.parametrize("setup, hint", [
    (lambda v: (v / "metadata.json").unlink(), "holds no metadata.json"),
    (lambda v: (v / "metadata.json").write_text(json.dumps({"files": {}})), "lists no files"),
    (lambda v: [(v / n).write_bytes(b"x") for n in _files(v)], "already differs"),
])
def test_changed_files_needs_an_intact_registry_version(capsys, version, setup, hint):
    setup(version)
    ok, out = _run(capsys, ex.check_changed_files, _changed, version)
    assert not ok and hint in out
