"""aiaas_lib.training and keras_models.fashion_cnn: builders, decisions (pure, with made-up GPUs), the
tf.data pipeline, the callbacks' backup-and-resume, strategies on logical CPU devices, throughput."""
import csv
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from aiaas_lib import config, training
from aiaas_lib.env import GPU
from aiaas_lib.keras_models import fashion_cnn

keras = pytest.importorskip("keras")

T4, A100, K80, P100 = GPU("Tesla T4", (7, 5)), GPU("A100", (8, 0)), GPU("Tesla K80", (3, 7)), GPU("P100", (6, 0))


def _images(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), rng.integers(0, 10, size=n)


def _compiled(model=None, **kwargs):
    model = model or fashion_cnn(filters=(4,), dense=8)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), **kwargs)
    return model


# ------------------------------------------------------------------------------------ fashion_cnn
@pytest.mark.parametrize("filters", [(8,), (8, 16), (4, 8, 8)])
def test_fashion_cnn_maps_images_to_10_scores(filters):
    model = fashion_cnn(filters=filters, dense=16)
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert model(np.zeros((3, 28, 28, 1), "float32")).shape == (3, 10)


def test_fashion_cnn_softmax_output_sums_to_one():
    probs = fashion_cnn(filters=(4,), dense=8, output="softmax")(np.random.rand(2, 28, 28, 1).astype("float32"))
    np.testing.assert_allclose(np.sum(probs, axis=1), 1.0, rtol=1e-5)  # float32 rounding


def test_fashion_cnn_mixed_precision_computes_in_float16_outputs_float32_and_scales_loss():
    model = fashion_cnn(filters=(4,), dense=8, dtype_policy="mixed_float16")
    conv = model.get_layer("conv_0")
    assert (conv.compute_dtype, conv.kernel.dtype) == ("float16", "float32")  # float32 master weights
    assert model(np.zeros((2, 28, 28, 1), "float32")).dtype == "float32"
    x, y = _images(16)
    model = _compiled(model)
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"
    history = model.fit(x[..., None] / 255.0, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("kwargs, match", [
    ({"output": "probs"}, "output='probs'"), ({"dropout": 1.0}, "dropout=1.0"), ({"filters": ()}, "filters=()"),
    ({"filters": (8, 8, 8, 8)}, "1 to 3"), ({"filters": (8, 0)}, "positive"), ({"dense": 0}, "dense=0"),
])
def test_fashion_cnn_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fashion_cnn(**kwargs)


# ---------------------------------------------------------------------------- precision and XLA
@pytest.mark.parametrize("gpus, policy", [
    ([], "float32"), ([K80], "float32"), ([P100], "float32"), ([T4], "mixed_float16"), ([A100, T4], "mixed_float16"),
    ([T4, K80], "float32"), ([GPU("unknown", None)], "float32"),
])
def test_precision_policy_follows_compute_capability(gpus, policy):
    assert training.precision_policy(gpus) == policy


def test_precision_policy_explicit_choice_wins():
    assert training.precision_policy([], prefer="mixed_float16") == "mixed_float16"
    assert training.precision_policy([T4], prefer="float32") == "float32"


def test_precision_policy_on_this_machine_matches_its_gpus():
    from aiaas_lib.env import gpus

    assert training.precision_policy() == training.precision_policy(gpus())


@pytest.mark.parametrize("gpus, jit", [([], False), ([K80], True), ([T4, A100], True)])
def test_use_jit_only_on_gpus(gpus, jit):
    assert training.use_jit(gpus) is jit


@pytest.mark.parametrize("call, match", [
    (lambda: training.precision_policy([], prefer="fp16"), "prefer='fp16'"),
    (lambda: training.precision_policy("Tesla T4"), "gpus='Tesla T4'"),
    (lambda: training.precision_policy([("T4", (7, 5))]), "aiaas_lib.env.GPU"),
    (lambda: training.use_jit(7), "gpus=7"),
])
def test_decisions_reject_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------------- devices, strategy
def test_devices_lists_the_cpu():
    found = training.devices()
    assert found.cpus and found.cpus[0] == "/device:CPU:0"
    assert "logical CPU" in found.summary()


def test_default_strategy_has_one_replica_without_gpus():
    from aiaas_lib.env import gpus

    if len(gpus()) >= 2:
        pytest.skip("this machine has several GPUs")
    assert training.strategy().num_replicas_in_sync == 1


def test_one_explicit_device_gives_one_device_strategy():
    assert type(training.strategy(["cpu:0"])).__name__ == "OneDeviceStrategy"


@pytest.mark.parametrize("devices, match", [
    ([], "non-empty"), ("/cpu:0", "non-empty"), (["/gpu:7"], r"unknown device\(s\) \['/gpu:7'\]"),
    (["/cpu:0", "/CPU:0"], "twice"),
])
def test_strategy_rejects_bad_devices(devices, match):
    with pytest.raises(ValueError, match=match):
        training.strategy(devices)


@pytest.mark.parametrize("n", [0, -1, 2.0, True, "2"])
def test_split_cpu_rejects_non_positive_ints(n):
    with pytest.raises(ValueError, match=f"n={n!r}"):
        training.split_cpu(n)


SUBPROCESS = textwrap.dedent("""
    import json
    import numpy as np
    from aiaas_lib import config, training
    from aiaas_lib.env import import_tensorflow
    tf = import_tensorflow()
    import keras
    from aiaas_lib.keras_models import fashion_cnn

    names = training.split_cpu(2)
    again = training.split_cpu(2)  # same layout: nothing to do
    try:
        training.split_cpu(3)
        late = "no error"
    except RuntimeError as err:
        late = str(err)
    strategy = training.strategy(["/cpu:0", "/cpu:1"])
    config.set_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), rng.integers(0, 10, 64)
    with strategy.scope():
        model = fashion_cnn(filters=(4,), dense=8)
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(training.image_dataset(x, y, batch_size=16), epochs=2, verbose=0,
                        shuffle=False)
    print(json.dumps({"names": names, "again": again, "late": late, "kind": type(strategy).__name__,
                      "replicas": strategy.num_replicas_in_sync, "loss": history.history["loss"]}))
""")


def test_mirrored_strategy_trains_with_fit_on_two_logical_cpus():
    # logical devices can only be configured before TensorFlow starts: use a fresh process
    result = subprocess.run([sys.executable, "-c", SUBPROCESS], capture_output=True, text=True, timeout=120,
                            cwd=config.PROJECT_ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["names"] == out["again"] == ["/device:CPU:0", "/device:CPU:1"]
    assert "too late" in out["late"] and "restart the kernel" in out["late"]
    assert (out["kind"], out["replicas"]) == ("MirroredStrategy", 2)
    assert len(out["loss"]) == 2 and all(np.isfinite(out["loss"]))


# ---------------------------------------------------------------------------------------- tf.data
def test_image_dataset_scales_adds_channel_and_batches():
    x, y = _images(10)
    batches = list(training.image_dataset(x, y, batch_size=4))
    assert [tuple(xb.shape) for xb, _ in batches] == [(4, 28, 28, 1), (4, 28, 28, 1), (2, 28, 28, 1)]
    xb, yb = batches[0]
    assert xb.dtype == "float32" and yb.dtype == "int32"
    np.testing.assert_allclose(xb.numpy()[..., 0], x[:4] / 255.0, rtol=1e-6)  # float32 division
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)


def test_image_dataset_reshuffles_each_epoch_reproducibly():
    x, y = _images(64)
    ds = training.image_dataset(x, np.arange(64), batch_size=64, shuffle=True, seed=3)
    first, second = (next(iter(ds))[1].numpy() for _ in range(2))
    assert sorted(first) == list(range(64)) and not np.array_equal(first, second)
    again = training.image_dataset(x, np.arange(64), batch_size=64, shuffle=True, seed=3)
    np.testing.assert_array_equal(next(iter(again))[1].numpy(), first)


def test_image_dataset_without_labels_and_with_channel_and_file_cache(tmp_path):
    x, _ = _images(5)
    ds = training.image_dataset(x[..., None], batch_size=5, cache=tmp_path / "cache")
    assert [tuple(b.shape) for b in ds] == [(5, 28, 28, 1)]
    assert list(tmp_path.glob("cache*"))


@pytest.mark.parametrize("kwargs, match", [
    ({"x": np.zeros((4, 28)), "y": np.zeros(4)}, r"x has shape \(4, 28\)"),
    ({"y": np.zeros(3)}, r"y has shape \(3,\) but x holds 4"),
    ({"batch_size": 0}, "batch_size=0"), ({"cache": 1}, "cache=1"),
])
def test_image_dataset_rejects_bad_input(kwargs, match):
    args = {"x": np.zeros((4, 28, 28), np.uint8), "y": np.zeros(4), **kwargs}
    with pytest.raises(ValueError, match=match):
        training.image_dataset(**args)


# -------------------------------------------------------------------------------------- callbacks
def test_standard_callbacks_write_into_the_folder(tmp_path):
    cbs = training.standard_callbacks(tmp_path / "run", monitor="val_accuracy", patience=2, tensorboard=True)
    assert [type(c).__name__ for c in cbs] == [
        "BackupAndRestore", "CSVLogger", "ModelCheckpoint", "EarlyStopping", "TensorBoard"]
    assert cbs[0].backup_dir == str(tmp_path / "run" / "backup")
    assert cbs[2].filepath == str(tmp_path / "run" / "best.keras")
    assert (cbs[3].monitor, cbs[3].patience) == ("val_accuracy", 2)


@pytest.mark.parametrize("kwargs, match", [({"monitor": ""}, "monitor=''"), ({"patience": -1}, "patience=-1"),
                                           ({"patience": 1.5}, "patience=1.5")])
def test_standard_callbacks_reject_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        training.standard_callbacks(tmp_path, **kwargs)


class _Interrupt(keras.callbacks.Callback):
    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise RuntimeError(f"interrupted on purpose at epoch {epoch}")


class _Record(keras.callbacks.Callback):
    def __init__(self, checkpoint):
        super().__init__()
        self.epochs, self.checkpoint, self.best_at_start, self.steps_at_start = [], checkpoint, None, None

    def on_epoch_begin(self, epoch, logs=None):
        if not self.epochs:
            self.best_at_start = self.checkpoint.best
            self.steps_at_start = int(self.model.optimizer.iterations.numpy())
        self.epochs.append(epoch)


def test_backup_and_restore_resumes_at_the_interrupted_epoch(tmp_path):
    x, y = _images(32)
    train = training.image_dataset(x, y, batch_size=16)
    folder, num_epochs, k = tmp_path / "run", 5, 3

    config.set_seed(0)
    model = _compiled()
    with pytest.raises(RuntimeError, match="on purpose at epoch 3"):
        model.fit(train, validation_data=train, epochs=num_epochs, verbose=0, shuffle=False,
                  callbacks=[*training.standard_callbacks(folder, patience=10), _Interrupt(k)])
    assert (folder / "backup" / "training_metadata.json").is_file()

    fresh = _compiled()  # as after a crash: new model, new callbacks, same folder
    callbacks = training.standard_callbacks(folder, patience=10)
    record = _Record(callbacks[2])
    history = fresh.fit(train, validation_data=train, epochs=num_epochs, verbose=0, shuffle=False,
                        callbacks=[*callbacks, record])

    assert record.epochs == [3, 4] and len(history.history["loss"]) == num_epochs - k
    assert record.steps_at_start == k * 2  # the optimizer state came back too (2 batches per epoch)
    with (folder / "log.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3, 4]  # the log continues, one header
    assert record.best_at_start == pytest.approx(min(float(r["val_loss"]) for r in rows[:k]))
    assert (folder / "best.keras").is_file() and not (folder / "backup").exists()


def test_a_fresh_run_starts_a_new_log(tmp_path):
    x, y = _images(16)
    train = training.image_dataset(x, y, batch_size=16)
    for _ in range(2):
        _compiled().fit(train, validation_data=train, epochs=2, verbose=0, shuffle=False,
                        callbacks=training.standard_callbacks(tmp_path))
    with (tmp_path / "log.csv").open() as fh:
        assert [r["epoch"] for r in csv.DictReader(fh)] == ["0", "1"]


# ------------------------------------------------------------------------------------- throughput
def test_throughput_of_the_pipeline_alone_counts_only_timed_images():
    x, y = _images(40)
    result = training.throughput(None, training.image_dataset(x, y, batch_size=8), steps=7, warmup=2)
    assert (result.steps, result.images) == (7, 56) and result.images_per_s > 0 and result.ms_per_step > 0


def test_throughput_of_a_compiled_model_and_of_a_step_function():
    x, y = _images(32)
    ds = training.image_dataset(x, y, batch_size=16)
    by_fit = training.throughput(_compiled(), ds, steps=3, warmup=1)
    model = fashion_cnn(filters=(4,), dense=8)
    by_call = training.throughput(lambda xb, yb: model(xb), ds, steps=3, warmup=1)
    assert by_fit.images == by_call.images == 48 and by_fit.images_per_s > 0 and by_call.images_per_s > 0


@pytest.mark.parametrize("args, match", [
    ((fashion_cnn(filters=(4,), dense=8),), "is not compiled"), ((5,), "model_or_step=5"),
    ((None, {"steps": 0}), "steps=0"), ((None, {"warmup": -2}), "warmup=-2"),
])
def test_throughput_rejects_bad_arguments(args, match):
    x, y = _images(8)
    kwargs = args[1] if len(args) > 1 else {}
    with pytest.raises(ValueError, match=match):
        training.throughput(args[0], training.image_dataset(x, y, batch_size=4), **kwargs)


def test_input_bound_compares_pipeline_and_training_speed():
    fast_pipe = training.Throughput(images_per_s=40_000.0, ms_per_step=1.0, steps=1, images=1)
    assert not training.input_bound(fast_pipe, 5_000.0)
    assert training.input_bound(9_000.0, 5_000.0)
    assert not training.input_bound(9_000.0, 5_000.0, headroom=1.5)


@pytest.mark.parametrize("args, match", [((1.0, 1.0, 0.5), "headroom=0.5"), ((0.0, 1.0), "positive"),
                                         ((1.0, -3.0), "training=-3.0")])
def test_input_bound_rejects_bad_values(args, match):
    with pytest.raises(ValueError, match=match):
        training.input_bound(*args)
