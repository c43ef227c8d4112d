"""Measurement (aiaas_lib.compression.measure): real file sizes, gzip, latency paths and the one table."""
import gzip

import numpy as np
import pytest

from aiaas_lib.compression import (
    CALL_PATHS, Candidate, compare, file_size, gzip_size, keras_candidate, median_ms, prune, save_for_serving,
    tflite_candidate,
)
from aiaas_lib.env import import_tensorflow


@pytest.fixture(scope="module")
def model():
    import_tensorflow()
    import keras

    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((20,)), keras.layers.Dense(200, name="a"), keras.layers.Dense(3, name="b")])
    m.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    m.fit(np.random.default_rng(0).normal(size=(32, 20)), np.arange(32) % 3, verbose=0)
    return m


def test_file_size_is_the_bytes_on_disk(tmp_path):
    (tmp_path / "a").write_bytes(b"1" * 123)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"2" * 77)
    assert file_size(tmp_path / "a") == 123 and file_size(tmp_path) == 200


def test_gzip_size_equals_gzip_of_the_file(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(np.random.default_rng(0).integers(0, 4, 5000, dtype=np.uint8).tobytes())
    assert gzip_size(path) == len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def test_saved_file_has_no_optimizer_and_its_size_is_the_weights(model, tmp_path):
    path = save_for_serving(model, tmp_path / "m.keras")
    weights = sum(int(np.prod(v.shape)) * 4 for v in model.weights)  # float32
    assert weights < file_size(path) < weights + 30_000  # + zip directory, config JSON and h5 headers
    model.save(tmp_path / "with_optimizer.keras")
    assert file_size(tmp_path / "with_optimizer.keras") > 2.5 * weights  # Adam's two moments


def test_pruned_file_is_not_smaller_until_gzipped(model, tmp_path):
    import keras

    pruned = keras.models.clone_model(model)
    pruned.set_weights(model.get_weights())
    prune(pruned, 0.9)
    dense, sparse = save_for_serving(model, tmp_path / "d.keras"), save_for_serving(pruned, tmp_path / "p.keras")
    assert abs(file_size(sparse) - file_size(dense)) < 1_000  # same shapes, same bytes (zeros are bytes too)
    assert gzip_size(sparse) < 0.4 * gzip_size(dense)  # 90 % zeros: gzip removes most of them


def test_median_ms_calls_warmup_plus_repeats_times():
    calls = []
    assert median_ms(calls.append, 1, repeats=7, warmup=3) >= 0
    assert len(calls) == 10


def test_keras_candidate_times_every_call_path_and_keeps_the_fastest(model, tmp_path):
    c = keras_candidate("float", model, tmp_path, np.ones((1, 20), "float32"), repeats=5)
    assert set(c.latencies) == set(CALL_PATHS)
    assert c.latencies[c.call_path] == min(c.latencies.values())


def test_keras_candidate_reuses_given_latencies(model, tmp_path):
    c = keras_candidate("float", model, tmp_path, None, latencies={"tf.function": 2.0, "model(x)": 9.0})
    assert c.call_path == "tf.function" and c.latencies["tf.function"] == 2.0
    with pytest.raises(ValueError, match="latencies is empty"):
        keras_candidate("float", model, tmp_path, None, latencies={})


def test_compare_table_columns_and_ratios(model, tmp_path):
    from aiaas_lib.packaging.export import export_tflite

    x = np.random.default_rng(1).normal(size=(50, 20)).astype("float32")
    y = np.asarray(model(x)).argmax(1)
    float_c = keras_candidate("float", model, tmp_path, x[:1], repeats=5)
    lite = tflite_candidate("tflite int8", export_tflite(model, tmp_path / "q.tflite", quantize="int8",
                                                          representative_data=x))
    table = compare([float_c, lite], x, y, repeats=5)
    assert list(table.index) == ["float", "tflite int8"]
    assert table.loc["float", "accuracy"] == 1.0  # labels are the float model's own predictions
    assert table.loc["float", "x_smaller"] == 1.0 and table.loc["float", "drop_points"] == 0.0
    assert table.loc["tflite int8", "file_kb"] == file_size(tmp_path / "q.tflite") / 1e3
    assert table.loc["tflite int8", "x_smaller"] == pytest.approx(
        file_size(float_c.path) / file_size(tmp_path / "q.tflite"))
    assert table.loc["tflite int8", "x_smaller"] > 3  # int8 weights: a quarter of float32's bytes
    assert table.loc["tflite int8", "accuracy"] >= 0.9  # int8 activations flip only close calls


@pytest.mark.parametrize("kwargs, match", [
    ({"candidates": []}, "candidates is empty"),
    ({"baseline": 5}, "baseline=5"),
    ({"y_test": [0]}, "2 test rows but 1 labels"),
    ({"rounds": 0}, "rounds=0"),
    ({"repeats": 2, "rounds": 3}, "rounds <= repeats"),
])
def test_compare_refusals(kwargs, match, tmp_path):
    c = Candidate("a", tmp_path, lambda x: np.zeros((len(x), 2)))
    args = {"candidates": [c], "x_test": np.zeros((2, 3)), "y_test": [0, 0], **kwargs}
    with pytest.raises(ValueError, match=match):
        compare(**args)


def test_compare_times_every_row_in_interleaved_rounds(tmp_path):
    order = []
    a = Candidate("a", tmp_path, lambda x: order.append("a") or np.zeros((len(x), 2)))
    b = Candidate("b", tmp_path, lambda x: order.append("b") or np.zeros((len(x), 2)))
    table = compare([a, b], np.zeros((2, 3)), [0, 0], repeats=6, rounds=3)
    timed = order[2 * 6:2 * 6 + 12]  # after 6 warm-up calls each: 3 rounds of (2 a, 2 b)
    assert timed == ["a", "a", "b", "b"] * 3
    assert (table["latency_ms"] > 0).all()


def test_compare_refuses_duplicate_names(tmp_path):
    c = Candidate("a", tmp_path, lambda x: np.zeros((len(x), 2)))
    with pytest.raises(ValueError, match="unique"):
        compare([c, c], np.zeros((2, 3)), [0, 0])


def test_other_refusals(tmp_path):
    with pytest.raises(ValueError, match="must end in .keras"):
        save_for_serving(None, tmp_path / "m.h5")
    with pytest.raises(ValueError, match="repeats=0"):
        median_ms(len, [], repeats=0)
    with pytest.raises(FileNotFoundError, match="is not a file"):
        gzip_size(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        file_size(tmp_path / "nothing")
