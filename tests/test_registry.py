"""The model registry: versions, metadata, labels with promote/rollback, and refusing changed or unsafe files."""
import json
import re
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aiaas_lib import data
from aiaas_lib.packaging import model_card
from aiaas_lib.env import import_tensorflow
from aiaas_lib.keras_models import fit_tabular_classifier, tabular_inputs
from aiaas_lib.packaging.registry import (
    IntegrityError,
    LabelNotFound,
    ModelNotFound,
    ModelRegistry,
    RegistryError,
    UnsafeModelError,
    VersionNotFound,
    file_sha256,
)
from aiaas_lib.packaging.schema import input_schema

import_tensorflow()
import keras  # noqa: E402  (after import_tensorflow, which keeps TensorFlow's import quiet)

X = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((3,), name="x"), keras.layers.Dense(2, activation="softmax")])


@pytest.fixture
def reg(tmp_path):
    return ModelRegistry(tmp_path / "models")


@pytest.fixture
def three(reg, model):
    """A registry holding versions 1, 2, 3 of 'demo'."""
    for _ in range(3):
        reg.register("demo", model)
    return reg


# ------------------------------------------------------------------------------------ register and load
def test_round_trip_predictions_equal(reg, model):
    version = reg.register("demo", model)
    loaded = reg.load("demo", version)
    # same weights and the same float32 kernels: equal up to float rounding of a re-traced graph
    np.testing.assert_allclose(loaded(X), model(X), rtol=0, atol=1e-7)


def test_versions_increment_from_one(reg, model):
    assert [reg.register("demo", model) for _ in range(3)] == [1, 2, 3]
    assert reg.versions("demo") == [1, 2, 3]
    assert sorted(p.name for p in (reg.root / "demo").iterdir()) == ["1", "2", "3"]  # no temp folders left


def test_metadata_holds_callers_facts_and_registry_facts(reg, model):
    reg.register("demo", model, {"metrics": {"auc": 0.84}, "kind": "tensor"})
    meta = reg.metadata("demo")
    assert meta["metrics"] == {"auc": 0.84} and meta["kind"] == "tensor"
    assert (meta["name"], meta["version"]) == ("demo", 1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["created"])
    assert set(meta["versions"]) == {"tensorflow", "keras", "aiaas-lib"} and meta["versions"]["keras"].startswith("3.")
    assert meta["files"] == {"model.keras": file_sha256(reg.path("demo", 1) / "model.keras")}


def test_latest_is_the_newest(three):
    assert three.resolve("demo") == 3 and three.metadata("demo", "latest")["version"] == 3


def test_resolve_int_digit_string_label_latest(three):
    three.set_label("demo", "canary", 2)
    assert [three.resolve("demo", v) for v in (1, "1", "canary", "latest")] == [1, 1, 2, 3]


def test_path_is_the_version_folder(three):
    assert three.path("demo", "2") == three.root / "demo" / "2"


def test_models_and_list(three, model):
    three.register("other", model)
    three.promote("demo", 2)
    assert three.models() == ["demo", "other"]
    assert three.list() == [
        {"name": "demo", "versions": [1, 2, 3], "latest": 3, "labels": {"stable": 2}},
        {"name": "other", "versions": [1], "latest": 1, "labels": {}},
    ]


def test_empty_registry_has_no_models(reg):
    assert reg.models() == [] and reg.list() == []


def test_tabular_model_round_trip_on_raw_rows(reg):
    X_raw, y = data.churn_xy(data.load_churn())
    X_raw, y = X_raw.iloc[:300], y[:300]
    num, cat = list(data.CHURN_NUMERIC), list(data.CHURN_CATEGORICAL)
    tab = fit_tabular_classifier(X_raw, y, num, cat, hidden=(4,), epochs=1)
    meta = {"kind": "tabular", "input_schema": input_schema(X_raw, num, cat), "numeric": num, "categorical": cat,
            "data_sha256": model_card.frame_hash(X_raw)}
    reg.register("churn", tab, meta)
    loaded = reg.load("churn")
    rows = tabular_inputs(X_raw.iloc[:20], num, cat)
    np.testing.assert_allclose(loaded(rows), tab(rows), rtol=0, atol=1e-6)
    assert reg.metadata("churn")["input_schema"]["categorical"]["contract"] == [
        "Month-to-month", "One year", "Two year"]


def test_concurrent_registers_get_different_versions(reg, model):
    barrier, results, errors = threading.Barrier(4), [], []

    def worker():
        try:
            barrier.wait()
            results.append(reg.register("demo", model))
        except Exception as err:  # collected and reported below
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [1, 2, 3, 4] and reg.versions("demo") == [1, 2, 3, 4]
    assert sorted(reg.metadata("demo", v)["version"] for v in results) == [1, 2, 3, 4]


def test_version_claimed_in_between_is_skipped(reg, model, monkeypatch):
    real_mkdir = Path.mkdir

    def racing_mkdir(self, *args, **kwargs):
        if self.name == "1" and not self.exists():
            real_mkdir(self)  # another writer claims version 1 just before this one does
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", racing_mkdir)
    assert reg.register("demo", model) == 2
    assert reg.versions("demo") == [2]  # the other writer's folder is not complete, so not listed yet


# ------------------------------------------------------------------------------------------------ labels
def test_set_label_and_labels_file(three):
    three.set_label("demo", "stable", 1)
    three.set_label("demo", "canary", "latest")
    assert three.labels("demo") == {"stable": 1, "canary": 3}
    assert json.loads((three.root / "demo" / "labels.json").read_text()) == {"canary": 3, "stable": 1}


def test_promote_then_rollback_twice(three):
    assert [three.promote("demo", v) for v in (1, 2, 3)] == [1, 2, 3]
    assert three.rollback("demo") == 2 and three.labels("demo") == {"stable": 2}
    assert three.rollback("demo") == 1 and three.resolve("demo", "stable") == 1
    with pytest.raises(RegistryError, match="cannot roll back label 'stable' of model 'demo': it has no earlier version"):
        three.rollback("demo")


def test_promote_to_same_version_adds_no_history(three):
    three.promote("demo", 2)
    three.promote("demo", 2)
    with pytest.raises(RegistryError, match="no earlier version"):
        three.rollback("demo")


def test_labels_roll_back_independently(three):
    three.promote("demo", 1)
    three.promote("demo", 2)
    three.promote("demo", 2, label="canary")
    three.promote("demo", 3, label="canary")
    assert three.rollback("demo", label="canary") == 2
    assert three.labels("demo") == {"stable": 2, "canary": 2}


def test_rollback_of_stable_clears_the_canary_on_the_bad_version(three):
    three.promote("demo", 1)
    three.set_label("demo", "canary", 2)
    three.promote("demo", 2)  # the canary looked good ...
    assert three.rollback("demo") == 1  # ... then an alert fired
    assert three.labels("demo") == {"stable": 1}  # no service keeps sending version 2 a canary share


def test_rollback_keeps_a_canary_on_another_version(three):
    three.promote("demo", 1)
    three.promote("demo", 2)
    three.set_label("demo", "canary", 3)
    three.rollback("demo")
    assert three.labels("demo") == {"stable": 1, "canary": 3}


def test_data_needs_infer(reg, model):
    with pytest.raises(ValueError, match="data= is read only when infer=True"):
        reg.register("demo", model, data=X, infer=False)


def test_remove_label(three):
    three.promote("demo", 1, label="canary")
    three.remove_label("demo", "canary")
    assert three.labels("demo") == {}
    with pytest.raises(LabelNotFound, match="model 'demo' has no label 'canary'"):
        three.remove_label("demo", "canary")


def test_rollback_of_unknown_label(three):
    with pytest.raises(LabelNotFound, match=r"no label 'stable' to roll back; labels: \{\}"):
        three.rollback("demo")


# ------------------------------------------------------------------------------------------------ errors
def test_unknown_model_lists_known(three):
    with pytest.raises(ModelNotFound, match=r"model 'churn' is not in the registry at .*; known models: \['demo'\]"):
        three.load("churn")
    assert issubclass(ModelNotFound, LookupError)


def test_unknown_version_lists_versions(three):
    with pytest.raises(VersionNotFound, match=r"model 'demo' has no version 7; versions: \[1, 2, 3\]"):
        three.load("demo", 7)
    with pytest.raises(VersionNotFound, match="has no version 0"):
        three.resolve("demo", "0")


def test_unknown_label_lists_labels_and_versions(three):
    three.set_label("demo", "stable", 1)
    with pytest.raises(LabelNotFound, match=r"no label 'canary'; labels: \{'stable': 1\}, versions: \[1, 2, 3\]"):
        three.resolve("demo", "canary")
    assert issubclass(LabelNotFound, VersionNotFound)


def test_set_label_needs_an_existing_version(three):
    with pytest.raises(VersionNotFound, match="has no version 9"):
        three.set_label("demo", "stable", 9)


@pytest.mark.parametrize("ref", [1.0, True, None])
def test_resolve_rejects_other_types(three, ref):
    with pytest.raises(ValueError, match=r"expected a version number, a digit string, 'latest' or a label name"):
        three.resolve("demo", ref)


@pytest.mark.parametrize("name", ["Churn", "", "_hidden", ".tmp", "a/b", "x" * 65, "sp ace", 3])
def test_bad_model_names_refused(reg, model, name):
    with pytest.raises(ValueError, match=r"model name .* is not allowed: use 1-64 characters"):
        reg.register(name, model)


@pytest.mark.parametrize("label", ["latest", "Stable", "1st", "", "a" * 33, "with space"])
def test_bad_label_names_refused(three, label):
    with pytest.raises(ValueError, match=rf"label {re.escape(repr(label))} is not allowed"):
        three.promote("demo", 1, label=label)


def test_reserved_metadata_keys_refused(reg, model):
    with pytest.raises(ValueError, match=r"metadata keys \['files', 'version'\] are written by the registry"):
        reg.register("demo", model, {"version": 9, "files": {}})


def test_metadata_must_be_json(reg, model):
    with pytest.raises(ValueError, match="metadata must be JSON-serialisable.*ndarray"):
        reg.register("demo", model, {"background": np.zeros(3)})


def test_register_needs_a_keras_model(reg):
    with pytest.raises(TypeError, match="model must be a Keras model, got dict"):
        reg.register("demo", {})


def test_unknown_export_refused(reg, model):
    with pytest.raises(ValueError, match=r"exports=\['pickle'\]; expected some of"):
        reg.register("demo", model, exports=("pickle",))


# ------------------------------------------------------------------------------------------- integrity
def test_tampered_file_refused_naming_it(three):
    path = three.path("demo", 2) / "model.keras"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # flip one byte
    path.write_bytes(bytes(raw))
    with pytest.raises(IntegrityError, match=r"/demo/2/model.keras was changed after registration: "
                                             r"sha256 [0-9a-f]{12}… but the registry recorded [0-9a-f]{12}…"):
        three.load("demo", 2)
    three.load("demo", 1)  # the other versions are untouched


def test_integrity_error_is_the_model_card_one(three):
    (three.path("demo", 1) / "model.keras").write_bytes(b"not a model")
    with pytest.raises(model_card.IntegrityError):
        three.load("demo", 1)


def test_deleted_file_refused_naming_it(three):
    (three.path("demo", 3) / "model.keras").unlink()
    with pytest.raises(IntegrityError, match=r"/demo/3/model.keras is missing"):
        three.load("demo")


def test_lambda_model_refused_by_safe_mode(reg):
    unsafe = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda t: t * 2), keras.layers.Dense(1)])
    reg.register("unsafe", unsafe)
    with pytest.raises(UnsafeModelError, match=r"refused by Keras safe_mode: it holds Python code \(a Lambda layer\)"):
        reg.load("unsafe")


# --------------------------------------------------------------------------------------------- exports
def test_exports_recorded_and_runnable(reg, model):
    reg.register("demo", model, exports=("saved_model", "tflite", "onnx"))
    files = reg.metadata("demo")["files"]
    assert {"model.keras", "model.tflite", "model.onnx", "saved_model/saved_model.pb"} <= set(files)
    for rel, digest in files.items():
        assert file_sha256(reg.path("demo", 1) / rel) == digest
    # float formats: same float32 maths as Keras, other kernels (see test_export.py)
    for export in ("saved_model", "tflite", "onnx"):
        np.testing.assert_allclose(reg.load_export("demo", 1, export)(X), model(X), rtol=0, atol=1e-5)


def test_tampered_export_blocks_loading(reg, model):
    reg.register("demo", model, exports=("tflite",))
    with open(reg.path("demo", 1) / "model.tflite", "ab") as f:
        f.write(b"\0")
    with pytest.raises(IntegrityError, match="model.tflite was changed after registration"):
        reg.load("demo")


def test_missing_export_named(reg, model):
    reg.register("demo", model)
    with pytest.raises(RegistryError, match=r"has no 'onnx' export \(it has \[\]\); register it with exports=\('onnx',\)"):
        reg.load_export("demo", 1, "onnx")


def test_failed_export_leaves_no_version(reg):
    frame = pd.DataFrame({"a": [1.0, 2.0], "c": ["x", "y"]})
    tab = fit_tabular_classifier(frame, [0, 1], ["a"], ["c"], epochs=1)
    with pytest.raises(ValueError, match=r"TFLite cannot take this model: its inputs \['c'\] are strings"):
        reg.register("tab", tab, exports=("tflite",))
    assert reg.models() == [] and list((reg.root / "tab").iterdir()) == []
