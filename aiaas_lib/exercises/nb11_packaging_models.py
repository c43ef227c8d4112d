"""Exercise checks of notebook 11 (packaging models): used by notebooks/11_packaging_models.ipynb."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aiaas_lib.exercises.feedback import exercise


@exercise
def check_int8_quantize(func: Callable) -> tuple[bool, str]:
    """Exercise 11.1: ``func(x, scale, zero_point)`` returns the int8 codes of the float array ``x``,
    ``clip(round(x / scale) + zero_point, -128, 127)`` stored as ``np.int8``.

    Examples
    --------
    >>> check_int8_quantize(lambda x, s, z: np.clip(np.round(x / s) + z, -128, 127).astype(np.int8))
    ✓ int8 codes right: q = clip(round(x / s) + z, −128, 127), one byte each; x ≈ s · (q − z)
    True
    """
    x = np.array([0.0, 0.1, -0.05, -0.37, 1.234, 3.9, 5.0, -4.0])  # no value sits on a .5 tie
    scale, zero = 0.03, -5
    unclipped = np.round(x / scale) + zero
    want = np.clip(unclipped, -128, 127)
    result = func(x.copy(), scale, zero)
    if result is None:
        return False, "your function returns None: return the array of int8 codes"
    got = np.asarray(result)
    if got.shape != x.shape:
        return False, f"for {len(x)} values return {len(x)} codes (shape {x.shape}), got shape {got.shape}"
    if got.dtype.kind not in "iuf":
        return False, f"return numbers (an int8 array), got dtype {got.dtype}"
    values = got.astype(np.float64)
    if np.array_equal(values, want):
        if got.dtype != np.int8:
            return False, (f"the values are right but stored as {got.dtype}: cast them with .astype(np.int8) — "
                           "one byte per value is the point of int8")
        return True, "int8 codes right: q = clip(round(x / s) + z, −128, 127), one byte each; x ≈ s · (q − z)"
    inside = (unclipped >= -128) & (unclipped <= 127)
    if np.array_equal(values[inside], want[inside]):
        return False, ("not clipped: 5.0 / 0.03 − 5 = 162 lies outside int8's [−128, 127], and casting it to "
                       "int8 wraps around (162 → −94); np.clip(..., -128, 127) before .astype(np.int8)")
    for rounding in (np.trunc, np.floor):
        if np.array_equal(values, np.clip(rounding(x / scale) + zero, -128, 127)):
            return False, ("rounded toward zero or down: round to the nearest integer (np.round); "
                           "−0.05 / 0.03 = −1.67 → −2")
    if np.array_equal(values, np.clip(np.round(x / scale) - zero, -128, 127)):
        return False, "the zero point is added, not subtracted: q = round(x / s) + z (dequantizing subtracts it)"
    if np.array_equal(values, np.clip(np.round(x * scale) + zero, -128, 127)):
        return False, "divide by the scale: the scale is the float size of one int8 step, so x / s counts steps"
    return False, f"expected {want.astype(int).tolist()}, got {values.tolist()}"


#: Exercise 11.2's scenarios: key -> where the model must run.
FORMAT_SCENARIOS = {
    "phone_app": "an Android app classifies clothing photos offline, on the phone",
    "integer_chip": "a microcontroller accelerator that computes with 8-bit integers only",
    "tf_serving": "TensorFlow Serving in a Docker container answers REST requests",
    "dotnet_service": "a C# (.NET) web service runs the model with ONNX Runtime; TensorFlow is not installed there",
    "resume_training": "next month you continue training in Python with Keras, from where it stopped",
}
#: The formats exercise 11.2 accepts.
FORMAT_CHOICES = ("keras", "saved_model", "tflite", "tflite_int8", "onnx")
_FORMAT_ANSWERS = {"phone_app": {"tflite", "tflite_int8"}, "integer_chip": {"tflite_int8"},
                   "tf_serving": {"saved_model"}, "dotnet_service": {"onnx"}, "resume_training": {"keras"}}
_FORMAT_HINTS = {
    "phone_app": "a phone runs LiteRT (TFLite) files: small, no TensorFlow needed; float or int8 both work",
    "integer_chip": ("integer-only hardware needs every tensor in int8, inputs and activations too: full-int8 "
                     "TFLite, calibrated with representative data ('tflite_int8')"),
    "tf_serving": "TF Serving loads SavedModel folders (base/1/saved_model.pb), not .keras files",
    "dotnet_service": "without TensorFlow you need a runtime-neutral graph: ONNX, which ONNX Runtime runs from C#",
    "resume_training": ("only the .keras file keeps the Keras model with its optimizer state; the other formats "
                        "are inference graphs"),
}
_FORMAT_ALIASES = {"savedmodel": "saved_model", "litert": "tflite", "tflite_float": "tflite", "int8": "tflite_int8"}


@exercise
def check_format_choice(answers: dict) -> tuple[bool, str]:
    """Exercise 11.2: for each scenario of :data:`FORMAT_SCENARIOS`, the format to ship, one of
    :data:`FORMAT_CHOICES`.

    Examples
    --------
    >>> check_format_choice({"phone_app": "tflite", "integer_chip": "tflite_int8", "tf_serving": "saved_model",
    ...                      "dotnet_service": "onnx", "resume_training": "keras"})
    ✓ all 5 right: .keras to keep training, SavedModel for TF Serving, TFLite on devices (full int8 for integer chips), ONNX for other runtimes
    True
    """
    if not isinstance(answers, dict):
        return False, f"give a dict {{scenario: format}} with the keys {list(FORMAT_SCENARIOS)}"
    missing = [k for k in FORMAT_SCENARIOS if k not in answers]
    if missing:
        return False, f"answer every scenario: {missing} missing (see FORMAT_SCENARIOS)"
    unknown = sorted(set(answers) - set(FORMAT_SCENARIOS))
    if unknown:
        return False, f"unknown scenarios {unknown}; the keys are {list(FORMAT_SCENARIOS)}"
    for key in FORMAT_SCENARIOS:
        given = str(answers[key]).strip().lower().lstrip(".").replace("-", "_").replace(" ", "_")
        given = _FORMAT_ALIASES.get(given, given)
        if given not in FORMAT_CHOICES:
            return False, f"{key}: {answers[key]!r} is not a format; choose one of {list(FORMAT_CHOICES)}"
        if given not in _FORMAT_ANSWERS[key]:
            return False, f"{key} ({FORMAT_SCENARIOS[key]}): not {given!r} — {_FORMAT_HINTS[key]}"
    return True, ("all 5 right: .keras to keep training, SavedModel for TF Serving, TFLite on devices "
                  "(full int8 for integer chips), ONNX for other runtimes")


def _relative_name(item, folder) -> str:
    """A file named in an answer, as a path relative to ``folder`` when it lies inside it."""
    from pathlib import Path

    path = Path(item)
    try:
        return path.relative_to(folder).as_posix() if path.is_absolute() else path.as_posix()
    except ValueError:
        return path.as_posix()


@exercise
def check_changed_files(func: Callable, folder) -> tuple[bool, str]:
    """Exercise 11.3: ``func(folder)`` returns the sorted names (keys of ``metadata.json["files"]``) of the
    files of a registry version folder whose sha256 no longer matches the one recorded; a missing file
    counts as changed.

    The check runs ``func`` on three copies of ``folder``: untouched; one byte flipped in one file; one
    file appended to and another deleted.

    Examples
    --------
    >>> import hashlib, json, pathlib, tempfile
    >>> version = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("a.bin", "b.bin"):
    ...     _ = (version / name).write_bytes(name.encode() * 8)
    >>> def sha(path):
    ...     return hashlib.sha256(path.read_bytes()).hexdigest()
    >>> meta = {"version": 1, "files": {n: sha(version / n) for n in ("a.bin", "b.bin")}}
    >>> _ = (version / "metadata.json").write_text(json.dumps(meta))
    >>> def changed(folder):
    ...     files = json.loads((folder / "metadata.json").read_text())["files"]
    ...     return sorted(n for n, h in files.items() if not (folder / n).is_file() or sha(folder / n) != h)
    >>> check_changed_files(changed, version)
    ✓ right on 3 copies of version 1: untouched, one byte flipped, one file changed and another deleted
    True
    """
    import hashlib
    import json
    import shutil
    import tempfile
    from pathlib import Path

    folder = Path(folder)
    meta_path = folder / "metadata.json"
    if not meta_path.is_file():
        return False, f"{folder} holds no metadata.json: pass a registry version folder, e.g. reg.path('churn', 2)"
    meta = json.loads(meta_path.read_text())
    recorded = meta.get("files") or {}
    if not recorded:
        return False, f"{meta_path} lists no files: pass a registry version folder, e.g. reg.path('churn', 2)"

    def changed(root: Path) -> list[str]:
        return sorted(n for n, digest in recorded.items() if not (root / n).is_file()
                      or hashlib.sha256((root / n).read_bytes()).hexdigest() != digest)

    intact = [n for n in sorted(recorded) if n not in changed(folder) and (folder / n).stat().st_size > 0]
    if not intact:
        return False, f"every file of {folder} already differs from its record: pass an intact version"
    with tempfile.TemporaryDirectory(prefix="aiaas-ex11-") as tmp:
        copies = {tag: Path(tmp) / tag for tag in ("untouched", "one byte flipped", "one changed, one deleted")}
        for copy in copies.values():
            shutil.copytree(folder, copy)
        flipped = copies["one byte flipped"] / intact[0]
        raw = bytearray(flipped.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        flipped.write_bytes(bytes(raw))
        appended, deleted = intact[-1], intact[0]
        with open(copies["one changed, one deleted"] / appended, "ab") as f:
            f.write(b"\0")
        if deleted != appended:
            (copies["one changed, one deleted"] / deleted).unlink()
        for tag, copy in copies.items():
            want = changed(copy)
            try:
                result = func(copy)
            except FileNotFoundError as err:
                return False, (f"your function fails when a file was deleted ({err}): a missing file counts as "
                               "changed; test path.is_file() before hashing it")
            if result is None:
                return False, "your function returns None: return a sorted list of file names"
            got = sorted(_relative_name(r, copy) for r in result)
            if got == want:
                continue
            if any(Path(g).is_absolute() for g in got):
                return False, (f"return names relative to the version folder, as in metadata['files'] "
                               f"(e.g. {intact[0]!r}), from the folder your function is given; got {got}")
            if "metadata.json" in got:
                return False, "metadata.json is not in its own files list: check only the files it lists"
            extra = sorted(set(got) - set(want))
            if extra and tag == "untouched":
                return False, (f"on the untouched copy your function reports {extra}, but they still match: hash "
                               "each file's bytes, hashlib.sha256(path.read_bytes()).hexdigest(), and compare "
                               "with metadata['files'][name]")
            if deleted in want and deleted not in got and tag != "one byte flipped":
                return False, f"{deleted!r} was deleted: a missing file counts as changed"
            if not got:
                return False, (f"after {tag} your function reports nothing: does it hash the files in the folder "
                               "it is given and compare them with metadata['files']?")
            if set(got) < set(want):
                return False, ("it stops after the first changed file (as registry.verify() does): "
                               "collect every file that differs")
            return False, f"after {tag}: expected {want}, got {got}"
    return True, (f"right on 3 copies of version {meta.get('version', '?')}: untouched, one byte flipped, "
                  "one file changed and another deleted")
