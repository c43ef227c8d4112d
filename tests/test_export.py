"""Packaging formats: each format's outputs match Keras' within a written-down tolerance, and models
that a format cannot take are refused with a message that says why and what to do."""
import numpy as np
import pandas as pd
import pytest

from aiaas_lib import data
from aiaas_lib.env import import_tensorflow
from aiaas_lib.packaging.export import (
    FORMATS,
    OnnxRunner,
    TFLiteRunner,
    compare_formats,
    export_onnx,
    export_saved_model,
    export_tflite,
    load_saved_model,
    numeric_parts,
    write_export,
)
from aiaas_lib.keras_models import fashion_cnn, tabular_classifier, tabular_inputs

import_tensorflow()
import keras  # noqa: E402  (after import_tensorflow, which keeps TensorFlow's import quiet)

# Float formats run the same float32 maths as Keras, only with other kernels and summation orders:
# differences are a few float32 ulps of outputs of size ~1, far below 1e-5.
FLOAT_TOL = 1e-5
# Int8 formats round weights (and for full int8 activations) to 256 levels: probabilities move by up to
# ~1/256 per layer; 0.05 is a loose bound that still catches a wrong scale/zero point (errors of ~0.5+).
INT8_TOL = 0.05


@pytest.fixture(scope="module")
def mlp():
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [keras.Input((5,), name="features"), keras.layers.Dense(8, activation="relu"),
         keras.layers.Dense(3, activation="softmax")],
        name="mlp",
    )


@pytest.fixture(scope="module")
def x_mlp():
    return np.random.default_rng(0).normal(size=(16, 5)).astype("float32")


@pytest.fixture(scope="module")
def mlp_files(mlp, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mlp")
    return {e: write_export(mlp, folder, e) for e in ("saved_model", "tflite", "onnx")}


@pytest.fixture(scope="module")
def images():
    fashion = data.load_fashion_mnist("shipped", verbose=False)
    x_train = fashion.x_train[:512, ..., None].astype("float32") / 255
    x_test = fashion.x_test[:64, ..., None].astype("float32") / 255
    return x_train, fashion.y_train[:512], x_test


@pytest.fixture(scope="module")
def cnn(images):
    x_train, y_train, _ = images
    keras.utils.set_random_seed(0)
    # No BatchNorm/dropout and a large learning rate: 16 steps give a model with clear winners (test accuracy
    # ~0.5, mean top probability ~0.5). An untrained model's near-uniform probabilities would tie under int8
    # rounding, and top-1 agreement would then measure the ties, not the export.
    model = fashion_cnn(filters=(4, 8), dense=16, output="softmax", batch_norm=False, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x_train, y_train, epochs=1, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def cnn_table(cnn, images, tmp_path_factory):
    x_train, _, x_test = images
    return {r["format"]: r for r in compare_formats(cnn, x_test, tmp_path_factory.mktemp("cnn"),
                                                    representative_data=x_train[:200], repeats=1)}


@pytest.fixture(scope="module")
def tabular():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "c": ["x", "y", "x", "y"]})
    keras.utils.set_random_seed(0)
    return tabular_classifier(frame, ["a"], ["c"], hidden=(4,)), tabular_inputs(frame, ["a"], ["c"])


# ------------------------------------------------------------------------------------ float formats, MLP
def test_saved_model_matches_keras(mlp, x_mlp, mlp_files):
    serve = load_saved_model(mlp_files["saved_model"])
    np.testing.assert_allclose(serve(x_mlp), mlp(x_mlp), rtol=0, atol=FLOAT_TOL)


def test_saved_model_casts_float64_input(mlp, x_mlp, mlp_files):
    serve = load_saved_model(mlp_files["saved_model"])
    np.testing.assert_allclose(serve(x_mlp.astype("float64")), mlp(x_mlp), rtol=0, atol=FLOAT_TOL)


def test_tflite_float_matches_keras(mlp, x_mlp, mlp_files):
    runner = TFLiteRunner(mlp_files["tflite"])
    assert not runner.quantized
    np.testing.assert_allclose(runner(x_mlp), mlp(x_mlp), rtol=0, atol=FLOAT_TOL)


def test_tflite_runner_resizes_for_any_batch(mlp, x_mlp, mlp_files):
    runner = TFLiteRunner(mlp_files["tflite"])
    for n in (1, 7, 16, 3):
        out = runner(x_mlp[:n])
        assert out.shape == (n, 3)
        np.testing.assert_allclose(out, mlp(x_mlp[:n]), rtol=0, atol=FLOAT_TOL)


def test_onnx_matches_keras(mlp, x_mlp, mlp_files):
    runner = OnnxRunner(mlp_files["onnx"])
    assert runner.input_shape[1:] == (5,)
    np.testing.assert_allclose(runner(x_mlp), mlp(x_mlp), rtol=0, atol=FLOAT_TOL)


def test_tflite_int8_mlp_within_int8_tolerance(mlp, x_mlp, tmp_path):
    rep = np.random.default_rng(1).normal(size=(200, 5)).astype("float32")
    runner = TFLiteRunner(export_tflite(mlp, tmp_path / "m8.tflite", quantize="int8", representative_data=rep))
    assert runner.quantized and runner.interpreter.get_input_details()[0]["dtype"] == np.int8
    out = runner(x_mlp)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, mlp(x_mlp), rtol=0, atol=INT8_TOL)


def test_write_export_names_files_as_the_registry_expects(mlp_files):
    assert {e: p.name for e, p in mlp_files.items()} == {
        "saved_model": "saved_model", "tflite": "model.tflite", "onnx": "model.onnx"}
    assert (mlp_files["saved_model"] / "saved_model.pb").is_file()


# ------------------------------------------------------------------------------------- every format, CNN
def test_compare_formats_makes_every_row(cnn_table):
    assert list(cnn_table) == list(FORMATS)
    for row in cnn_table.values():
        assert set(row) == {"format", "file", "size_bytes", "max_abs_diff", "top1_agreement", "latency_ms"}
        assert row["size_bytes"] > 0 and row["latency_ms"] > 0


@pytest.mark.parametrize("fmt", ["keras", "saved_model", "tflite", "onnx"])
def test_cnn_float_formats_match_keras(cnn_table, fmt):
    assert cnn_table[fmt]["max_abs_diff"] <= FLOAT_TOL
    assert cnn_table[fmt]["top1_agreement"] == 1.0


@pytest.mark.parametrize("fmt", ["tflite_dynamic", "tflite_int8"])
def test_cnn_int8_formats_within_tolerance(cnn_table, fmt):
    assert cnn_table[fmt]["max_abs_diff"] <= INT8_TOL
    # near-ties between the two top classes may flip under rounding: allow 4 of 64 images to differ
    # (measured: 63/64 for full int8, 64/64 for dynamic range)
    assert cnn_table[fmt]["top1_agreement"] >= 60 / 64


def test_int8_files_are_smaller_than_float(cnn_table):
    assert cnn_table["tflite_int8"]["size_bytes"] < cnn_table["tflite"]["size_bytes"]
    assert cnn_table["tflite_dynamic"]["size_bytes"] < cnn_table["tflite"]["size_bytes"]


def test_compare_formats_subset_keeps_order(mlp, x_mlp, tmp_path):
    rows = compare_formats(mlp, x_mlp, tmp_path, formats=("onnx", "keras"), repeats=1)
    assert [r["format"] for r in rows] == ["onnx", "keras"]


# ------------------------------------------------------------------------------------- tabular (strings)
def test_tabular_saved_model_takes_raw_columns(tabular, tmp_path):
    model, x = tabular
    serve = load_saved_model(export_saved_model(model, tmp_path / "sm"))
    np.testing.assert_allclose(serve(x), model(x), rtol=0, atol=FLOAT_TOL)


def test_tabular_saved_model_names_missing_inputs(tabular, tmp_path):
    model, x = tabular
    serve = load_saved_model(export_saved_model(model, tmp_path / "sm"))
    with pytest.raises(ValueError, match=r"inputs \['c'\] are missing"):
        serve({"a": x["a"]})
    with pytest.raises(TypeError, match=r"takes a dict of inputs \['a', 'c'\], got ndarray"):
        serve(x["a"])


@pytest.mark.parametrize("export, target", [
    (lambda m, p: export_tflite(m, p / "m.tflite"), "TFLite"),
    (lambda m, p: export_onnx(m, p / "m.onnx"), "ONNX"),
])
def test_tabular_model_refused_by_numeric_formats(tabular, tmp_path, export, target):
    with pytest.raises(ValueError, match=rf"{target} cannot take this model: its inputs \['c'\] are strings.*"
                                         r"StringLookup.*Export the numeric head.*SavedModel"):
        export(tabular[0], tmp_path)


@pytest.fixture(scope="module")
def own_model():
    """A practitioner's model: one Normalization over two numeric columns, a StringLookup, two Dense layers."""
    keras.utils.set_random_seed(0)
    age, income = keras.Input((1,), name="age"), keras.Input((1,), name="income")
    city = keras.Input((1,), name="city", dtype="string")
    norm = keras.layers.Normalization(mean=[40.0, 3000.0], variance=[100.0, 250000.0])
    lookup = keras.layers.StringLookup(vocabulary=["lyon", "oslo"], output_mode="one_hot")
    x = keras.layers.Concatenate()([norm(keras.layers.Concatenate()([age, income])), lookup(city)])
    out = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dense(4, activation="relu")(x))
    model = keras.Model({"age": age, "income": income, "city": city}, out)
    x = {"age": np.array([[30.0], [55.0], [41.0]]), "income": np.array([[2500.0], [4100.0], [3000.0]]),
         "city": np.array([["lyon"], ["oslo"], ["rome"]], dtype=object)}
    return model, x


def test_compare_formats_takes_dict_inputs_as_the_docstring_advises(own_model, tmp_path):
    model, x = own_model
    rows = compare_formats(model, x, tmp_path, formats=("keras", "saved_model"), repeats=1)
    assert [(r["format"], r["max_abs_diff"] <= FLOAT_TOL) for r in rows] == [("keras", True), ("saved_model", True)]


def test_compare_formats_skips_numeric_formats_with_the_reason(own_model, tmp_path):
    model, x = own_model
    rows = {r["format"]: r for r in compare_formats(model, x, tmp_path, formats=("keras", "tflite", "onnx"),
                                                    repeats=1)}
    assert rows["keras"]["max_abs_diff"] <= FLOAT_TOL and "skipped" not in rows["keras"]
    for fmt, target in (("tflite", "TFLite"), ("onnx", "ONNX")):
        assert rows[fmt]["size_bytes"] is None and rows[fmt]["max_abs_diff"] is None
        assert rows[fmt]["skipped"] == (f"string inputs ['city']: {target} runs numeric tensors only; export the "
                                        "head of numeric_parts(model) instead")
    assert not (tmp_path / "model.tflite").exists()


def test_compare_formats_skips_multi_input_for_onnx(tmp_path):
    a, b = keras.Input((2,), name="a"), keras.Input((2,), name="b")
    model = keras.Model({"a": a, "b": b}, keras.layers.Dense(1)(keras.layers.Concatenate()([a, b])))
    x = {"a": np.ones((3, 2)), "b": np.zeros((3, 2))}
    rows = compare_formats(model, x, tmp_path, formats=("keras", "onnx"), repeats=1)
    assert rows[0]["max_abs_diff"] <= FLOAT_TOL
    assert "handles a model with one input tensor; this one has 2" in rows[1]["skipped"]


def test_numeric_parts_head_exports_where_the_model_cannot(own_model, tmp_path):
    model, x = own_model
    encoder, head = numeric_parts(model)
    assert tuple(head.inputs[0].shape) == (None, 5)  # 2 normalised numbers + 3 one-hot slots (oov, lyon, oslo)
    encoded = np.asarray(encoder(x))
    np.testing.assert_allclose(head(encoded), model(x), rtol=0, atol=1e-6)
    runner = TFLiteRunner(export_tflite(head, tmp_path / "head.tflite"))
    np.testing.assert_allclose(runner(encoded), model(x), rtol=0, atol=FLOAT_TOL)


def test_numeric_parts_cuts_course_models_at_features(tabular):
    encoder, head = numeric_parts(tabular[0])
    assert encoder.outputs[0]._keras_history.operation.name == "features"
    np.testing.assert_allclose(head(encoder(tabular[1])), tabular[0](tabular[1]), rtol=0, atol=1e-6)


def test_numeric_parts_needs_a_head(tmp_path):
    a, b = keras.Input((1,), name="a"), keras.Input((1,), name="b")
    model = keras.Model({"a": a, "b": b}, keras.layers.Concatenate(name="both")([a, b]))
    with pytest.raises(ValueError, match=r"its output layer 'both' merges several inputs, so there is no numeric head"):
        numeric_parts(model)


def test_dynamic_range_on_a_small_model_says_why_it_is_not_smaller(mlp, x_mlp, tmp_path):
    rows = {r["format"]: r for r in compare_formats(mlp, x_mlp, tmp_path, formats=("tflite", "tflite_dynamic"),
                                                    repeats=1)}
    assert rows["tflite_dynamic"]["size_bytes"] >= 0.9 * rows["tflite"]["size_bytes"]  # 5x8 and 8x3 kernels
    assert "at least 1,024 elements" in rows["tflite_dynamic"]["note"] and "note" not in rows["tflite"]


def test_multi_input_model_refused(tmp_path):
    a, b = keras.Input((2,), name="a"), keras.Input((2,), name="b")
    model = keras.Model([a, b], keras.layers.Dense(1)(keras.layers.Concatenate()([a, b])))
    with pytest.raises(ValueError, match=r"one input tensor; this one has 2 \(\['a', 'b'\]\)"):
        export_onnx(model, tmp_path / "m.onnx")


# ---------------------------------------------------------------------------------------------- errors
def test_unknown_quantize_refused(mlp, tmp_path):
    with pytest.raises(ValueError, match=r"quantize='float16'; expected one of \[None, 'dynamic', 'int8'\]"):
        export_tflite(mlp, tmp_path / "m.tflite", quantize="float16")


def test_int8_needs_representative_data(mlp, tmp_path):
    with pytest.raises(ValueError, match="quantize='int8' needs representative_data"):
        export_tflite(mlp, tmp_path / "m.tflite", quantize="int8")


def test_representative_data_only_for_int8(mlp, x_mlp, tmp_path):
    with pytest.raises(ValueError, match="representative_data is only used by quantize='int8', not quantize='dynamic'"):
        export_tflite(mlp, tmp_path / "m.tflite", quantize="dynamic", representative_data=x_mlp)


def test_representative_data_shape_checked(mlp, tmp_path):
    with pytest.raises(ValueError, match=r"representative_data has shape \(10, 4\); the model takes \(n, 5\)"):
        export_tflite(mlp, tmp_path / "m.tflite", quantize="int8", representative_data=np.zeros((10, 4)))


def test_runners_check_input_shape(mlp_files):
    tflite, onnx = TFLiteRunner(mlp_files["tflite"]), OnnxRunner(mlp_files["onnx"])
    for runner in (tflite, onnx):
        with pytest.raises(ValueError, match=r"x has shape \(2, 4\); this model takes \(n, 5\)"):
            runner(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="x has no rows"):
        tflite(np.zeros((0, 5)))


@pytest.mark.parametrize("make, match", [
    (lambda p: TFLiteRunner(p / "none.tflite"), "none.tflite does not exist; write it with export_tflite"),
    (lambda p: OnnxRunner(p / "none.onnx"), "none.onnx does not exist; write it with export_onnx"),
    (lambda p: load_saved_model(p), "holds no SavedModel"),
])
def test_missing_files_named(tmp_path, make, match):
    with pytest.raises(FileNotFoundError, match=match):
        make(tmp_path)


def test_bad_opset_refused(mlp, tmp_path):
    with pytest.raises(ValueError, match=r"opset=3 must be an integer in \[7, 21\] \(17 is a safe default\)"):
        export_onnx(mlp, tmp_path / "m.onnx", opset=3)


@pytest.mark.parametrize("kwargs, match", [
    ({"formats": ("keras", "tensorrt")}, r"formats=\['keras', 'tensorrt'\]; expected a non-empty subset"),
    ({"formats": ()}, r"formats=\[\]; expected a non-empty subset"),
    ({"repeats": 0}, "repeats=0 must be an integer >= 1"),
])
def test_compare_formats_checks_arguments(mlp, x_mlp, tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compare_formats(mlp, x_mlp, tmp_path, **kwargs)


def test_write_export_unknown_name(mlp, tmp_path):
    with pytest.raises(ValueError, match=r"export='tflite_int8'; expected one of"):
        write_export(mlp, tmp_path, "tflite_int8")
