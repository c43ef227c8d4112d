"""Training-step time of the from-scratch NumPy MLP vs the same Keras model under tf.function.

One step = forward + backward + Adam update, on churn-sized input: 45 features (the Telco churn table
after one-hot encoding), hidden layers (64, 32) with relu, a sigmoid output and binary cross-entropy.
The data are random numbers of that shape (timing does not depend on the values). NumPy runs in
float64 (the library's dtype) with one BLAS thread; Keras in its default float32 with TensorFlow's
default threading. Each cell is the best of 5 repeats of a timed loop (timeit), after a warm-up that
also traces the tf.function. It prints a markdown table and asserts nothing.

Run: ``python bench/numpy_vs_tf.py`` (about 10 s, half of it importing TensorFlow).
"""
from __future__ import annotations

import os
import timeit

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402  (installed with scikit-learn)

from aiaas_lib import numpy_nn as nn  # noqa: E402
from aiaas_lib.env import import_tensorflow  # noqa: E402

N_FEATURES, HIDDEN, BATCH_SIZES, REPEATS = 45, (64, 32), (32, 256, 1024), 5


def numpy_step(batch_size: int):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(batch_size, N_FEATURES)), rng.integers(0, 2, size=(batch_size, 1)).astype(float)
    model = nn.MLP([N_FEATURES, *HIDDEN, 1], activation="relu", output="sigmoid", seed=0)
    opt = nn.Adam(learning_rate=1e-3)

    def step():
        model.loss_and_grad(X, y)
        opt.step(model.params, model.grads)

    return step


def keras_step(batch_size: int):
    tf = import_tensorflow()
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    X = tf.constant(rng.normal(size=(batch_size, N_FEATURES)), dtype=tf.float32)
    y = tf.constant(rng.integers(0, 2, size=(batch_size, 1)), dtype=tf.float32)
    model = keras.Sequential([keras.Input((N_FEATURES,)), *(keras.layers.Dense(h, "relu") for h in HIDDEN),
                              keras.layers.Dense(1, "sigmoid")])
    opt, loss_fn = keras.optimizers.Adam(learning_rate=1e-3), keras.losses.BinaryCrossentropy()

    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(X, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    return lambda: train_step().numpy()  # .numpy() waits for the step to finish


def ms_per_step(step, target_seconds: float = 0.15) -> float:
    for _ in range(3):
        step()  # warm-up (and tracing)
    number = max(1, int(target_seconds / max(timeit.timeit(step, number=5) / 5, 1e-7)))
    return 1000 * min(timeit.repeat(step, number=number, repeat=REPEATS)) / number


def main() -> None:
    # NumPy first, before TensorFlow is even imported (TF's idle worker threads spin after each step), and
    # with a single BLAS thread: for matrices this small a second thread gains nothing, and on a busy
    # 2-core machine OpenBLAS's threads sometimes stall each other for a whole timing run (10-40x slower).
    with threadpool_limits(limits=1, user_api="blas"):
        t_np = {b: ms_per_step(numpy_step(b)) for b in BATCH_SIZES}
    tf = import_tensorflow()
    t_tf = {b: ms_per_step(keras_step(b)) for b in BATCH_SIZES}
    print(f"numpy {np.__version__}, tensorflow {tf.__version__}, {os.cpu_count()} CPUs; "
          f"MLP {N_FEATURES}-{'-'.join(map(str, HIDDEN))}-1, relu, sigmoid, Adam; random data\n")
    print("| batch | numpy ms/step (float64, 1 BLAS thread) | tf.function ms/step (float32) "
          "| ratio numpy / tf |")
    print("|---:|---:|---:|---:|")
    for b in BATCH_SIZES:
        print(f"| {b} | {t_np[b]:.3f} | {t_tf[b]:.3f} | {t_np[b] / t_tf[b]:.2f} |")


if __name__ == "__main__":
    main()
