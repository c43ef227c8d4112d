"""Training throughput (images/s) of the course's Fashion-MNIST CNN across configurations.

Model: ``keras_models.fashion_cnn()`` (conv 32 → conv 64 → dense 128 → 10 logits), Adam, sparse
categorical cross-entropy from logits, trained with ``model.fit`` on random 28×28 uint8 images through
``training.image_dataset`` (cached, prefetched; timing does not depend on the pixel values). Each row is
measured by ``training.throughput``: 3 warm-up steps (tracing, and XLA compilation with jit) are not
counted. The configurations: eager (``run_eagerly=True``) against graph (``tf.function``), XLA
(``jit_compile=True``) on and off, batch sizes 64 and 256, and the ``mixed_float16`` policy; plus the
input pipeline alone, to see whether it could be the bottleneck.

On a CPU, expect mixed_float16 to be *slower*: CPUs have no float16 matrix units, so TensorFlow's CPU
kernels convert float16 to float32 and back around every operation, and the casts between float32
master weights and float16 activations add work. On a GPU with tensor cores (compute capability ≥ 7.0)
the same policy is typically 1.5–3× faster. Likewise XLA: on this 2-core CPU it was several times slower
(and compiling the step took tens of seconds), while on a GPU it usually helps.

Run: ``python bench/training_throughput.py`` (about 1–2.5 minutes on 2 CPU cores, most of it XLA). Prints a markdown
table, asserts nothing.
"""
from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from aiaas_lib import config, env, training  # noqa: E402
from aiaas_lib.keras_models import fashion_cnn  # noqa: E402

WARMUP = 3
#: (label, batch size, run_eagerly, jit_compile, dtype policy, timed steps)
CONFIGS = [
    ("graph", 64, False, False, "float32", 40),
    ("graph", 256, False, False, "float32", 12),
    ("eager", 64, True, False, "float32", 20),
    ("eager", 256, True, False, "float32", 8),
    ("graph + XLA", 64, False, True, "float32", 40),
    ("graph + XLA", 256, False, True, "float32", 12),
    ("graph, mixed_float16", 64, False, False, "mixed_float16", 10),
    ("graph, mixed_float16", 256, False, False, "mixed_float16", 4),
]


def main() -> None:
    tf = env.import_tensorflow()
    import keras

    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, size=(4096, 28, 28), dtype=np.uint8), rng.integers(0, 10, size=4096)
    gpus = env.gpus()
    where = ", ".join(g.name for g in gpus) if gpus else f"CPU only, {os.cpu_count()} cores"
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}; device: {where}")
    print(f"on this machine the course would pick: policy {training.precision_policy(gpus)}, "
          f"jit_compile {training.use_jit(gpus)}\n")
    rows, started = [], time.perf_counter()
    for label, batch_size, eager, jit, policy, steps in CONFIGS:
        config.set_seed(0)
        data = training.image_dataset(x, y, batch_size=batch_size, shuffle=True)
        model = fashion_cnn(dtype_policy=policy)
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      run_eagerly=eager, jit_compile=jit)
        t0 = time.perf_counter()
        with training.quiet_native_logs():  # oneDNN's one-line C++ note that this CPU has no float16 kernels
            result = training.throughput(model, data, steps=steps, warmup=WARMUP)
        rows.append((label, batch_size, policy, jit, result, time.perf_counter() - t0))
    pipeline = training.throughput(None, training.image_dataset(x, y, batch_size=256, shuffle=True), steps=50)
    base = next(r[4].images_per_s for r in rows if r[0] == "graph" and r[1] == 256)

    print("| configuration | batch | policy | jit_compile | images/s | ms/step | vs graph 256 | wall s (incl. warm-up) |")
    print("|---|---:|---|---|---:|---:|---:|---:|")
    for label, batch_size, policy, jit, result, wall in rows:
        print(f"| {label} | {batch_size} | {policy} | {jit} | {result.images_per_s:,.0f} | "
              f"{result.ms_per_step:.1f} | {result.images_per_s / base:.2f}× | {wall:.1f} |")
    print(f"| input pipeline alone | 256 | – | – | {pipeline.images_per_s:,.0f} | {pipeline.ms_per_step:.2f} | "
          f"{pipeline.images_per_s / base:.0f}× | – |")
    bound = training.input_bound(pipeline, base)
    print(f"\ninput pipeline the bottleneck for graph, batch 256: {bound} "
          f"(it delivers {pipeline.images_per_s / base:.0f}× what training consumes)")
    if not gpus:
        print("CPU numbers: mixed_float16 is slower here (no float16 kernels without AVX-512; casts around every "
              "op), and XLA is slower too (its CPU convolutions are generic, and compiling takes 10-40 s); on a GPU "
              "with compute capability >= 7.0 both usually speed training up.")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
