"""Used by notebook 13; also imported by the CLI/service.

Training the tiny GPT on the course corpus and measuring it in bits per character.

**Bits per character (bpc)** is the model's average cross-entropy on held-out text, in bits:
``mean(-ln p(next char)) / ln 2``. A model that knew nothing (uniform over 85 tokens) scores
log2(85) ≈ 6.4; the **unigram** baseline (character frequencies, no context) ≈ 4.4 on The Devil's
Dictionary; every bit below that is what the context taught the model.

The split is contiguous: the first 90 % of the text trains, the last 10 % is held out (random windows
would leak overlapping text into validation). The tokenizer's alphabet comes from the whole text —
knowing which characters exist leaks nothing — while every learned statistic comes from the training part.
"""
from __future__ import annotations

import hashlib
import math
import time

import numpy as np

from aiaas_lib.generation.sampling import log_softmax
from aiaas_lib.generation.tokenizer import CharTokenizer
from aiaas_lib.validation import positive_int

#: Architecture and schedule of the default served model, per course mode (see :func:`train_default_gpt`).
DEFAULT_GPT = {
    "fast": dict(context=64, dim=64, num_heads=4, num_layers=2, dropout=0.0, batch_size=16, steps_per_epoch=400,
                 epochs=4, learning_rate=3e-3),
    "full": dict(context=256, dim=128, num_heads=4, num_layers=3, dropout=0.1, batch_size=16, steps_per_epoch=500,
                 epochs=8, learning_rate=2e-3),
}


def split_ids(ids: np.ndarray, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Contiguous split: the first ``1 - val_fraction`` of the ids train, the rest is held out.

    Examples
    --------
    >>> train, val = split_ids(np.arange(10), val_fraction=0.2)
    >>> train.tolist(), val.tolist()
    ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9])
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction={val_fraction!r} must be strictly between 0 and 1")
    cut = int(round(len(ids) * (1 - val_fraction)))
    return ids[:cut], ids[cut:]


def unigram_bpc(train_ids: np.ndarray, val_ids: np.ndarray, vocab_size: int) -> float:
    """Bits per character of the context-free baseline: character frequencies of ``train_ids`` (add-one
    smoothed over the vocabulary) scored on ``val_ids``.

    Examples
    --------
    >>> round(unigram_bpc(np.array([0, 1, 0, 1]), np.array([0, 1]), vocab_size=2), 4)  # fair coin: 1 bit
    1.0
    """
    counts = np.bincount(np.asarray(train_ids), minlength=vocab_size) + 1.0
    p = counts / counts.sum()
    return float(-np.log2(p[np.asarray(val_ids)]).mean())


def _windows(ids: np.ndarray, context: int) -> list[tuple[int, int]]:
    """Non-overlapping (start, length) windows covering every next-character prediction of ``ids``."""
    return [(s, min(context, len(ids) - 1 - s)) for s in range(0, len(ids) - 1, context)]


def bits_per_character(model, ids: np.ndarray, context: int | None = None, batch_size: int = 32) -> float:
    """Held-out bits per character of a Keras :func:`~.model.tiny_gpt` (or a :class:`~.inference.NumpyGPT`).

    The ids are cut into non-overlapping windows of ``context`` tokens; each window predicts its next
    characters from the window only (the first characters of a window see little context, so a sliding
    evaluation would score slightly better). Mean ``-ln p / ln 2`` over all ``len(ids) - 1`` predictions.

    Examples
    --------
    >>> from aiaas_lib.generation.model import tiny_gpt
    >>> model = tiny_gpt(vocab_size=8, context=8, dim=16, num_heads=2, num_layers=1)
    >>> head = model.get_layer("lm_head")
    >>> head.set_weights([w * 0 for w in head.get_weights()])  # all logits equal: a uniform guess
    >>> round(bits_per_character(model, np.arange(20) % 8), 6)  # log2(8)
    3.0
    """
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 1 or ids.size < 2:
        raise ValueError(f"ids must be 1-D with at least 2 tokens; got shape {ids.shape}")
    if hasattr(model, "logits"):  # NumpyGPT: one window at a time
        context = context or model.context
        total = 0.0
        for s, n in _windows(ids, context):
            logp = log_softmax(model.logits(ids[s:s + n]))
            total -= logp[np.arange(n), ids[s + 1:s + n + 1]].sum()
        return float(total / (ids.size - 1) / math.log(2))
    from aiaas_lib.generation.model import gpt_config

    context = context or gpt_config(model)["context"]
    total = 0.0
    windows = _windows(ids, context)
    full = [w for w in windows if w[1] == context]
    for b in range(0, len(full), batch_size):
        starts = np.array([s for s, _ in full[b:b + batch_size]])
        x = ids[starts[:, None] + np.arange(context)]
        y = ids[starts[:, None] + np.arange(1, context + 1)]
        logp = log_softmax(np.asarray(model(x.astype(np.int32), training=False)))
        total -= np.take_along_axis(logp, y[..., None], axis=-1).sum()
    for s, n in (w for w in windows if w[1] != context):  # the last, shorter window
        logp = log_softmax(np.asarray(model(ids[None, s:s + n].astype(np.int32), training=False))[0])
        total -= logp[np.arange(n), ids[s + 1:s + n + 1]].sum()
    return float(total / (ids.size - 1) / math.log(2))


def train_tiny_gpt(text: str, *, context: int = 128, dim: int = 128, num_heads: int = 4, num_layers: int = 2,
                   ff_dim: int | None = None, dropout: float = 0.0, batch_size: int = 32, steps_per_epoch: int = 100,
                   epochs: int = 4, learning_rate: float = 3e-3, val_fraction: float = 0.1, seed: int = 0,
                   verbose: int = 0, tokenizer: CharTokenizer | None = None):
    """Train a :func:`~.model.tiny_gpt` on ``text`` to predict each next character.

    Each epoch draws ``steps_per_epoch × batch_size`` random windows of ``context + 1`` characters from
    the training part (a fresh draw per epoch, from ``seed``); the loss is the mean next-character
    cross-entropy at every position. Adam with a cosine-decayed learning rate and gradient clipping (norm 1).

    Returns
    -------
    (model, tokenizer, history)
        ``history`` is a dict: ``loss`` (mean training cross-entropy per epoch, nats), ``val_bpc``,
        ``unigram_bpc``, ``train_seconds``, ``train_chars``, ``val_chars``, ``parameters``.

    Examples
    --------
    Training takes seconds to minutes, so it is not run here; this is the shape of a call:

    >>> train_tiny_gpt("too short", context=128)
    Traceback (most recent call last):
    ...
    ValueError: the training part has 8 characters; it needs more than context + 1 = 129
    """
    from aiaas_lib.config import set_seed
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    from aiaas_lib.generation.model import tiny_gpt

    tokenizer = tokenizer or CharTokenizer().fit(text)
    ids = tokenizer.encode(text).astype(np.int64)
    train_ids, val_ids = split_ids(ids, val_fraction)
    if len(train_ids) <= context + 1:
        raise ValueError(f"the training part has {len(train_ids)} characters; it needs more than context + 1 = "
                         f"{context + 1}")
    for param, value in (("batch_size", batch_size), ("steps_per_epoch", steps_per_epoch), ("epochs", epochs)):
        positive_int(param, value)
    set_seed(seed)
    model = tiny_gpt(tokenizer.vocab_size, context=context, dim=dim, num_heads=num_heads, num_layers=num_layers,
                     ff_dim=ff_dim, dropout=dropout)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=epochs * steps_per_epoch, alpha=0.1)
    model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(seed)
    offsets = np.arange(context + 1)
    losses, start = [], time.perf_counter()
    for _ in range(epochs):
        starts = rng.integers(0, len(train_ids) - context - 1, size=steps_per_epoch * batch_size)
        windows = train_ids[starts[:, None] + offsets].astype(np.int32)
        fit = model.fit(windows[:, :-1], windows[:, 1:], batch_size=batch_size, epochs=1, shuffle=False,
                        verbose=verbose)
        losses.append(float(fit.history["loss"][0]))
    seconds = time.perf_counter() - start
    history = {
        "loss": losses,
        "val_bpc": bits_per_character(model, val_ids, context),
        "unigram_bpc": unigram_bpc(train_ids, val_ids, tokenizer.vocab_size),
        "train_seconds": seconds,
        "train_chars": int(len(train_ids)),
        "val_chars": int(len(val_ids)),
        "parameters": int(model.count_params()),
    }
    return model, tokenizer, history


def train_default_gpt(mode: str | None = None, seed: int = 0) -> tuple[object, dict]:
    """Train the course's default language model on The Devil's Dictionary; return ``(model, metadata)``.

    Sizes are in :data:`DEFAULT_GPT`. ``metadata`` is ready for the model registry: ``kind``
    ("generation"), ``tokenizer`` (:meth:`CharTokenizer.to_config`), ``context``, ``architecture``,
    ``metrics`` (``val_bpc``, ``unigram_bpc``), ``data_sha256``, ``mode`` and ``train_seconds``.

    Examples
    --------
    ``model, meta = train_default_gpt(mode="fast")`` takes about a minute on two CPU cores.

    >>> train_default_gpt(mode="quick")
    Traceback (most recent call last):
    ...
    ValueError: mode='quick'; expected one of ['fast', 'full']
    """
    from aiaas_lib import config, data

    mode = config.mode() if mode is None else mode
    if mode not in DEFAULT_GPT:
        raise ValueError(f"mode={mode!r}; expected one of {sorted(DEFAULT_GPT)}")
    text = data.load_corpus()
    settings = DEFAULT_GPT[mode]
    model, tokenizer, history = train_tiny_gpt(text, seed=seed, **settings)
    from aiaas_lib.generation.model import gpt_config

    metadata = {
        "kind": "generation",
        "description": "character-level tiny GPT trained on The Devil's Dictionary (Ambrose Bierce, 1911)",
        "tokenizer": tokenizer.to_config(),
        "context": settings["context"],
        "architecture": gpt_config(model),
        "output": "logits",
        "metrics": {"val_bpc": round(history["val_bpc"], 4), "unigram_bpc": round(history["unigram_bpc"], 4)},
        "data_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "mode": mode,
        "train_seconds": round(history["train_seconds"], 1),
    }
    return model, metadata
