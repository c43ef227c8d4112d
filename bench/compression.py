"""Compression of the Fashion-MNIST CNN: one table of size, one-row latency and test accuracy.

Rows: the float Keras model; Keras 3's own int8 (``model.quantize("int8")``: Dense layers only); TFLite
float, dynamic-range and full-int8 (calibrated on 200 training images), run with ``ai_edge_litert``;
magnitude pruning to 50/80/90 % sparsity (polynomial schedule during fine-tuning, masks kept by a callback;
their size counts after gzip); and a small student CNN distilled from the float model (KD loss, T = 2, alpha = 0.5).

Sizes are real files (``.keras`` without optimizer state, ``.tflite``) and their gzip -9 size. Latency is
the median of many one-row calls after warm-up; for every Keras model the fastest of ``model(x)``,
``predict_on_batch``, a ``tf.function`` and a ``tf.function`` with XLA is used, so the float baseline is
the fastest way to call it; all rows are timed in interleaved rounds. All numbers come from this machine's CPU, shared with whatever else runs.

The goal of the course issue: an int8 model ≥ 3.5× smaller, ≤ 1 point accuracy drop and ≥ 1.5× faster
for one row than the float model's fastest Keras call. The last lines say which rows meet it.
Prints; asserts nothing. Run: ``AIAAS_MODE=fast python bench/compression.py`` (fast: about a minute on an idle
2-core machine; full: the whole training set, about 20 minutes on a busy one).
"""
from __future__ import annotations

import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


from aiaas_lib import compression as cp  # noqa: E402
from aiaas_lib import config, data, env  # noqa: E402
from aiaas_lib.packaging.export import export_tflite  # noqa: E402
from aiaas_lib.keras_models import fashion_cnn  # noqa: E402

SPARSITIES = (0.5, 0.8, 0.9)


def main() -> int:
    tf = env.import_tensorflow()
    import keras

    start = time.perf_counter()
    config.set_seed(0)
    fm = data.load_fashion_mnist()
    n_train = config.scale(fast=6000, full=60000)
    n_test = config.scale(fast=2000, full=10000)
    x_train = (fm.x_train[:n_train, ..., None] / 255.0).astype("float32")
    y_train = fm.y_train[:n_train]
    x_test = (fm.x_test[:n_test, ..., None] / 255.0).astype("float32")
    y_test = fm.y_test[:n_test]
    epochs = config.scale(fast=3, full=6)
    tune_epochs = config.scale(fast=1, full=2)
    repeats = config.scale(fast=100, full=300)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    folder = tempfile.mkdtemp(prefix="bench-compression-")
    print(f"mode {config.mode()} | {n_train} train / {n_test} test images | {os.cpu_count()} CPU cores | "
          f"TensorFlow {tf.__version__} | files in {folder}", flush=True)

    model = fashion_cnn()
    model.compile(keras.optimizers.Adam(1e-3), loss, metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=128, verbose=0)
    print(f"float CNN trained ({epochs} epochs) in {time.perf_counter() - start:.0f} s", flush=True)

    x_one = x_test[:1]
    candidates = [cp.keras_candidate("float Keras", model, folder, x_one, repeats=repeats)]
    candidates.append(cp.keras_candidate("Keras int8", cp.keras_int8(model), folder, x_one, repeats=repeats))
    for name, quantize in (("TFLite float", None), ("TFLite dynamic-range", "dynamic"), ("TFLite full-int8", "int8")):
        path = export_tflite(model, os.path.join(folder, name.replace(" ", "_") + ".tflite"), quantize=quantize,
                             representative_data=x_train[:200] if quantize == "int8" else None)
        candidates.append(cp.tflite_candidate(name, path))
    print(f"quantized in {time.perf_counter() - start:.0f} s", flush=True)

    for s in SPARSITIES:
        pruned = keras.models.clone_model(model)
        pruned.set_weights(model.get_weights())
        pruned.compile(keras.optimizers.Adam(3e-4), loss)
        cp.prune_during_fit(pruned, x_train, y_train, s, epochs=tune_epochs, batch_size=128, schedule="polynomial")
        candidates.append(cp.keras_candidate(f"pruned {int(s * 100)} %", pruned, folder, x_one, repeats=repeats))
        print(f"pruned to {cp.sparsity(pruned):.3f} in {time.perf_counter() - start:.0f} s", flush=True)

    student = fashion_cnn(filters=(8, 16), dense=32, dropout=0.1, name="student")
    cp.distill(model, student, x_train, y_train, temperature=2.0, alpha=0.5, epochs=epochs, batch_size=128)
    candidates.append(cp.keras_candidate("distilled student", student, folder, x_one, repeats=repeats))
    print(f"distilled in {time.perf_counter() - start:.0f} s", flush=True)

    table = cp.compare(candidates, x_test, y_test, repeats=repeats)
    print()
    print(table.round({"file_kb": 1, "x_smaller": 2, "gzip_kb": 1, "x_smaller_gzip": 2, "latency_ms": 3,
                       "x_faster": 2, "accuracy": 4, "drop_points": 2}).to_string())
    base = candidates[0]
    print()
    print("float Keras call paths, one row (median ms): "
          + ", ".join(f"{k} {v:.3f}" for k, v in sorted(base.latencies.items(), key=lambda kv: kv[1])))
    for name in ("Keras int8", "TFLite dynamic-range", "TFLite full-int8"):
        row = table.loc[name]
        met = row.x_smaller >= 3.5 and row.drop_points <= 1.0 and row.x_faster >= 1.5
        print(f"goal (≥3.5× smaller, ≤1 pt drop, ≥1.5× faster) for {name}: "
              f"{row.x_smaller:.2f}× smaller, {row.drop_points:+.2f} pt, {row.x_faster:.2f}× faster -> "
              f"{'met' if met else 'not met'}")
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
