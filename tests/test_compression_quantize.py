"""Int8 quantization: the affine maths, Keras 3's model.quantize, and TFLite files (aiaas_lib.compression)."""
import numpy as np
import pytest

from aiaas_lib.compression import (
    affine_params, dequantize, keras_int8, quantize, symmetric_scale, tflite_tensor_params,
)
from aiaas_lib.env import import_tensorflow


def test_affine_params_match_the_formula_for_an_asymmetric_range():
    scale, zero = affine_params(-1.0, 3.0)
    assert scale == pytest.approx(4.0 / 255, rel=1e-12)
    assert zero == round(-128 + 1.0 / scale)  # = -64 (-64.25 rounded)


def test_affine_params_widen_the_range_to_contain_zero():
    assert affine_params(2.0, 3.0) == affine_params(0.0, 3.0)
    assert affine_params(2.0, 3.0)[1] == -128


def test_zero_is_exactly_representable():
    scale, zero = affine_params(-0.37, 1.91)
    assert dequantize(quantize([0.0], scale, zero), scale, zero)[0] == 0.0


def test_round_trip_error_is_at_most_half_a_step():
    rng = np.random.default_rng(0)
    r = rng.uniform(-2, 5, size=1000)
    scale, zero = affine_params(r.min(), r.max())
    err = np.abs(dequantize(quantize(r, scale, zero), scale, zero) - r)
    assert err.max() <= scale / 2 + 1e-6  # 1e-6: float32 output of dequantize


def test_quantize_saturates_outside_the_range():
    assert quantize([-5.0, 5.0], 1 / 255, -128).tolist() == [-128, 127]
    assert quantize([-5.0, 5.0], 1 / 255, 0, dtype="uint8").tolist() == [0, 255]


def test_symmetric_scale_is_per_output_channel():
    w = np.array([[0.5, -2.54], [-1.27, 1.0]])
    assert symmetric_scale(w).tolist() == pytest.approx([1.27 / 127, 2.54 / 127])
    assert float(symmetric_scale(w, axis=None)) == pytest.approx(2.54 / 127)


@pytest.mark.parametrize("call, match", [
    (lambda: affine_params(1.0, 0.0), "larger than r_max"),
    (lambda: affine_params(0.0, float("inf")), "finite"),
    (lambda: affine_params(0.0, 1.0, dtype="int4"), "dtype='int4'"),
    (lambda: quantize([1.0], 0.0, 0), "scale=0.0 must be > 0"),
    (lambda: symmetric_scale([1.0], num_bits=1), "num_bits=1"),
    (lambda: keras_int8("model"), "built keras.Model"),
    (lambda: tflite_tensor_params("missing.tflite"), "does not exist"),
])
def test_bad_inputs_are_refused(call, match):
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        call()


@pytest.fixture(scope="module")
def tiny_cnn():
    """A small CNN trained 3 epochs on a separable 4-class image task (so predictions have margins)."""
    import_tensorflow()
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, size=600)
    x = rng.normal(0, 0.3, size=(600, 8, 8, 1)).astype("float32")
    for c in range(4):  # class c lights up quadrant c
        r, k = divmod(c, 2)
        x[y == c, 4 * r:4 * r + 4, 4 * k:4 * k + 4, 0] += 1.0
    x = np.clip(x, 0, None) / x.max()
    model = keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Conv2D(8, 3, activation="relu", name="conv"),
        keras.layers.Flatten(), keras.layers.Dense(16, activation="relu", name="hidden"),
        keras.layers.Dense(4, name="scores"),
    ])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    return model, x, y


def test_keras_int8_quantizes_dense_but_not_conv(tiny_cnn):
    model, _, _ = tiny_cnn
    q = keras_int8(model)
    assert q.quantized_layers == ["hidden", "scores"]
    assert str(q.get_layer("hidden").kernel.dtype) == "int8"
    assert str(q.get_layer("conv").kernel.dtype) == "float32"


def test_keras_int8_agrees_with_float_on_most_rows(tiny_cnn):
    model, x, _ = tiny_cnn
    p_float = np.asarray(model(x)).argmax(1)
    p_int8 = np.asarray(keras_int8(model)(x)).argmax(1)
    # int8 weights move each logit by ~1 % of its size: only rows whose top two logits are that close can
    # flip, a few percent at most on a trained model; 95 % leaves room for the machine's rounding.
    assert np.mean(p_float == p_int8) >= 0.95


def test_tflite_int8_agrees_with_float_and_stores_input_params(tiny_cnn, tmp_path):
    from aiaas_lib.packaging.export import TFLiteRunner, export_tflite

    model, x, _ = tiny_cnn
    path = export_tflite(model, tmp_path / "m.tflite", quantize="int8", representative_data=x[:100])
    p_int8 = np.asarray(TFLiteRunner(path)(x)).argmax(1)
    # activations are int8 too (more rounding than Keras' weight-only int8): 90 % agreement
    assert np.mean(p_int8 == np.asarray(model(x)).argmax(1)) >= 0.90
    params = tflite_tensor_params(path)
    inputs = [p for p in params.values() if p["shape"] == (1, 8, 8, 1)]
    scale, zero = affine_params(float(x[:100].min()), float(x[:100].max()))
    assert inputs[0]["dtype"] == "int8"
    assert inputs[0]["scales"][0] == pytest.approx(scale, rel=1e-6)  # calibration saw exactly this range
    assert inputs[0]["zero_points"][0] == zero


def test_tflite_weights_are_symmetric_per_channel(tiny_cnn, tmp_path):
    from aiaas_lib.packaging.export import export_tflite

    model, x, _ = tiny_cnn
    path = export_tflite(model, tmp_path / "m.tflite", quantize="int8", representative_data=x[:50])
    kernel = np.asarray(model.get_layer("conv").kernel)  # (3, 3, 1, 8): output channels last
    expected = symmetric_scale(kernel, axis=-1)
    conv = [p for p in params_of(path) if p["dtype"] == "int8" and p["shape"] == (8, 3, 3, 1)]
    assert len(conv) == 1 and np.all(conv[0]["zero_points"] == 0)
    np.testing.assert_allclose(np.sort(conv[0]["scales"]), np.sort(expected), rtol=1e-5)


def params_of(path):
    return list(tflite_tensor_params(path).values())


def test_importing_the_package_does_not_import_tensorflow():
    import subprocess
    import sys

    code = ("import sys, aiaas_lib.compression as c; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
