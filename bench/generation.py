"""Text-generation speed of the tiny GPT: tokens/s with and without the KV cache, and time to first token.

Three ways to produce each new token, all through :func:`aiaas_lib.generation.decoding.stream`:

- ``NumPy + KV cache``: :class:`~aiaas_lib.generation.inference.NumpyGPT` runs the prompt once, then one
  position per token against the cached keys/values (what the service uses);
- ``NumPy, recompute``: the same NumPy forward pass over the whole prefix at every step;
- ``Keras, recompute``: calling the Keras model on the whole prefix at every step (``model(x)``, not
  ``predict``).

The model has the full-mode default architecture (dim 128, 4 heads, 4 layers, 85-character vocabulary)
with random weights — speed does not depend on the weights' values — and a context of 512 positions,
so a 14-character prompt plus 256 new tokens fit. Sampling: temperature 1, seed 0, no stop sequence, so
every run makes exactly ``max_tokens`` tokens. Each cell is the best of ``--repeats`` runs. Time to first
token is the median over 20 requests from calling ``stream`` (parameter checks, prompt encoding, prefill,
first sample) to the first event, with the model already loaded. NumPy runs with its BLAS pinned to
``--threads`` threads (default 1, like a request worker; see bench/numpy_vs_tf.py for why).

Run: ``python bench/generation.py`` (about a minute on two cores). Prints a markdown table; it asserts
nothing but says whether the course's targets (KV cache >= 5x recomputation at 256 new tokens, first
token <= 100 ms) were met.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from threadpoolctl import threadpool_limits  # noqa: E402  (installed with scikit-learn)

from aiaas_lib import data  # noqa: E402
from aiaas_lib.generation.decoding import stream  # noqa: E402
from aiaas_lib.generation.tokenizer import CharTokenizer  # noqa: E402

NEW_TOKENS, PROMPT = (64, 128, 256), "ABDICATION, n."
TARGET_SPEEDUP, TARGET_TTFT_MS = 5.0, 100.0


def run(engine, prompt_ids, max_tokens: int, use_cache: bool) -> float:
    """Seconds to generate ``max_tokens`` tokens."""
    start = time.perf_counter()
    n = sum(1 for _ in stream(engine, prompt_ids, max_tokens, seed=0, use_cache=use_cache))
    seconds = time.perf_counter() - start
    if n != max_tokens:
        raise RuntimeError(f"expected {max_tokens} tokens, got {n}")
    return seconds


def time_to_first_token(engine, prompt_ids, use_cache: bool, repeats: int = 20) -> float:
    """Median seconds from calling ``stream`` to its first event."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        tokens = stream(engine, prompt_ids, 64, seed=0, use_cache=use_cache)
        next(tokens)
        times.append(time.perf_counter() - start)
        tokens.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    from aiaas_lib.generation.inference import KerasRecompute, NumpyGPT
    from aiaas_lib.generation.model import tiny_gpt

    tokenizer = CharTokenizer().fit(data.load_corpus())
    keras.utils.set_random_seed(0)
    model = tiny_gpt(tokenizer.vocab_size, context=512, dim=128, num_heads=4, num_layers=4)
    prompt_ids = tokenizer.encode(PROMPT)
    engines = {
        "NumPy + KV cache": (NumpyGPT.from_keras(model), True),
        "NumPy, recompute": (NumpyGPT.from_keras(model), False),
        "Keras, recompute": (KerasRecompute(model), False),
    }
    rows, speed = [], {}
    with threadpool_limits(limits=args.threads):
        for name, (engine, use_cache) in engines.items():
            run(engine, prompt_ids, 8, use_cache)  # warm-up (Keras traces on the first calls)
            ttft = time_to_first_token(engine, prompt_ids, use_cache)
            cells = []
            for n in NEW_TOKENS:
                best = min(run(engine, prompt_ids, n, use_cache) for _ in range(args.repeats))
                speed[name, n] = n / best
                cells.append(f"{n / best:,.0f}")
            rows.append(f"| {name} | " + " | ".join(cells) + f" | {ttft * 1000:.1f} |")
            print(f"  measured {name}", flush=True)

    print(f"\nTiny GPT (dim 128, 4 heads, 4 layers, context 512), prompt {PROMPT!r} ({len(prompt_ids)} tokens), "
          f"{os.cpu_count()} CPU cores, NumPy BLAS threads {args.threads}, best of {args.repeats}\n")
    print("| decoding | " + " | ".join(f"tokens/s @ {n} new" for n in NEW_TOKENS) + " | first token (ms) |")
    print("|---|" + "---:|" * (len(NEW_TOKENS) + 1))
    print("\n".join(rows))
    cached = speed["NumPy + KV cache", 256]
    for other in ("NumPy, recompute", "Keras, recompute"):
        ratio = cached / speed[other, 256]
        verdict = "meets" if ratio >= TARGET_SPEEDUP else "MISSES"
        print(f"\nKV cache vs {other} at 256 new tokens: {ratio:.1f}x ({verdict} the >= {TARGET_SPEEDUP:g}x target)")


if __name__ == "__main__":
    main()
