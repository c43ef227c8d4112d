"""Used by notebooks 12, 13, 14, 16 and 17; also imported by the CLI/service.

The course's default served models, trained and registered in one call (``aiaas train-defaults``).

- ``churn``: a :func:`~aiaas_lib.keras_models.tabular_classifier` on raw Telco churn rows (preprocessing
  inside the model), early-stopped on a validation split; ROC-AUC on a held-out test split.
- ``fashion``: a :func:`~aiaas_lib.keras_models.fashion_cnn` on Fashion-MNIST (pixels / 255, shape
  28×28×1), returning logits; accuracy on the test images.

Each is registered with the metadata the service reads (``kind``, inputs, ``output``, ``metrics``,
``data_sha256``; for churn also ``input_schema`` and 50 ``background`` rows for explanations) and
labelled ``stable``. Fast mode (``AIAAS_MODE=fast``) trains small versions in well under a minute on two
CPU cores (measured 19 s; ROC-AUC 0.854, accuracy 0.828); full mode trains the real ones.

Two text models for the OpenAI-compatible routes (:mod:`aiaas_lib.serving.openai_api`) are registered too:

- ``tiny-gpt``: :func:`aiaas_lib.generation.training.train_default_gpt` (kind ``generation``, the character
  tokenizer in its metadata; about a minute on two cores in fast mode).
- ``minilm``: the packaged all-MiniLM-L6-v2 (kind ``embedding``), nothing trained. The registry stores its
  keras-hub ``BertBackbone`` as ``model.keras`` (91 MB; it round-trips exactly with ``safe_mode`` once
  keras-hub is imported), so the registry's checksums cover the weights actually served; the word-piece
  vocabulary is read from the installed package (``tokenizer: {"kind": "bert", "preset": ...}``).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from aiaas_lib.packaging.signature import array_hash, tabular_metadata  # noqa: F401  (its home; notebooks 14, 16 import it from here)
from aiaas_lib.validation import integer

DEFAULT_MODELS = ("churn", "fashion", "tiny-gpt", "minilm")
#: The defaults served by the OpenAI-compatible routes rather than TF Serving / KServe V2.
TEXT_MODELS = ("tiny-gpt", "minilm")


def train_churn(mode: str | None = None, seed: int = 0) -> tuple[object, dict]:
    """Train the churn classifier; return ``(model, metadata)`` (metadata ready for the registry).

    Examples
    --------
    ``model, meta = train_churn(mode="fast")`` takes ~10 s; ``meta["metrics"]`` holds ``roc_auc``.

    >>> train_churn(mode="quick")
    Traceback (most recent call last):
    ...
    ValueError: mode='quick'; expected one of ['fast', 'full']
    """
    fast = _fast(mode)
    from sklearn.metrics import roc_auc_score

    from aiaas_lib import data, keras_models

    numeric, categorical = list(data.CHURN_NUMERIC), list(data.CHURN_CATEGORICAL)
    X, y = data.churn_xy(data.load_churn())
    X_train, X_val, X_test, y_train, y_val, y_test = data.split(X, y, seed=seed, stratify=y)
    model = keras_models.fit_tabular_classifier(
        X_train, y_train, numeric, categorical, hidden=(16,) if fast else (32, 16), epochs=8 if fast else 60,
        learning_rate=3e-3 if fast else 1e-3, seed=seed, validation=(X_val, y_val), patience=5, name="churn",
    )
    p_test = np.asarray(model.predict_on_batch(keras_models.tabular_inputs(X_test, numeric, categorical))).ravel()
    auc = float(roc_auc_score(y_test, p_test))
    metadata = tabular_metadata(X_train, numeric, categorical, {"roc_auc": round(auc, 4)}, seed=seed)
    metadata.update(description="P(customer churns) from raw Telco customer rows", positive_class="churn",
                    mode="fast" if fast else "full")
    return model, metadata


def train_fashion(mode: str | None = None, seed: int = 0) -> tuple[object, dict]:
    """Train the Fashion-MNIST CNN; return ``(model, metadata)``.

    Examples
    --------
    ``model, meta = train_fashion(mode="fast")`` takes ~10-15 s on two cores; ``meta["metrics"]`` holds
    ``accuracy``.

    >>> train_fashion(mode="quick")
    Traceback (most recent call last):
    ...
    ValueError: mode='quick'; expected one of ['fast', 'full']
    """
    fast = _fast(mode)
    from aiaas_lib import data, keras_models
    from aiaas_lib.config import set_seed
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    images = data.load_fashion_mnist(verbose=False)
    n_train = 6000 if fast else len(images.x_train)
    x_train = images.x_train[:n_train, ..., None].astype("float32") / 255.0
    x_test = images.x_test[..., None].astype("float32") / 255.0
    set_seed(seed)
    model = keras_models.fashion_cnn(filters=(16, 32) if fast else (32, 64), dense=64 if fast else 128,
                                     output="logits", dtype_policy="float32", name="fashion")
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x_train, images.y_train[:n_train], epochs=3 if fast else 10, batch_size=64, verbose=0)
    logits = np.concatenate([np.asarray(model.predict_on_batch(x_test[i:i + 1000]))
                             for i in range(0, len(x_test), 1000)])
    accuracy = float((logits.argmax(axis=1) == images.y_test).mean())
    metadata = {
        "kind": "tensor",
        "description": "Fashion-MNIST class scores (logits) of 28x28 grey images, pixels scaled to [0, 1]",
        "input_shape": [28, 28, 1],
        "dtype": "float32",
        "preprocessing": "pixels / 255",
        "class_names": list(images.class_names),
        "output": "logits",
        "metrics": {"accuracy": round(accuracy, 4)},
        "data_sha256": array_hash(images.x_train[:n_train], images.y_train[:n_train]),
        "data_source": images.source,
        "mode": "fast" if fast else "full",
    }
    return model, metadata


def train_gpt(mode: str | None = None, seed: int = 0) -> tuple[object, dict]:
    """Train the default language model ``tiny-gpt``; return ``(model, metadata)`` (kind ``generation``).

    Examples
    --------
    ``model, meta = train_gpt(mode="fast")`` takes about a minute on two cores; ``meta["metrics"]`` holds
    ``val_bpc`` (bits per character on held-out text) and the ``unigram_bpc`` baseline.

    >>> train_gpt(mode="quick")
    Traceback (most recent call last):
    ...
    ValueError: mode='quick'; expected one of ['fast', 'full']
    """
    _fast(mode)
    from aiaas_lib import config
    from aiaas_lib.generation.training import train_default_gpt

    return train_default_gpt(config.mode() if mode is None else mode, seed=seed)


def minilm_model(mode: str | None = None, seed: int = 0, sequence_length: int = 256) -> tuple[object, dict]:
    """The packaged all-MiniLM-L6-v2 backbone and its registry metadata (kind ``embedding``); nothing is trained.

    ``sequence_length`` (tokens per text, [CLS] and [SEP] included; longer texts are truncated) is 256,
    the length the model was trained with. ``mode`` and ``seed`` are accepted for the common signature.

    Examples
    --------
    ``model, meta = minilm_model()`` loads the 22.7 M weights in ~5-15 s; ``meta["dimensions"]`` is 384.

    >>> minilm_model(sequence_length=4)
    Traceback (most recent call last):
    ...
    ValueError: sequence_length=4 must be an integer in [8, 512]
    """
    sequence_length = integer("sequence_length", sequence_length, 8, 512)
    fast = _fast(mode)
    from aiaas_lib.data import MINILM_PACKAGE, minilm_path
    from aiaas_lib.language.embeddings import EMBEDDING_SIZE, SentenceEncoder
    from aiaas_lib.env import package_version
    from aiaas_lib.validation import file_sha256

    encoder = SentenceEncoder(sequence_length=sequence_length)
    folder = minilm_path()
    metadata = {
        "kind": "embedding",
        "description": "all-MiniLM-L6-v2 sentence embeddings: mean of the last layer over real tokens, unit length",
        "tokenizer": {"kind": "bert", "preset": MINILM_PACKAGE.replace("_", "-")},
        "sequence_length": sequence_length,
        "dimensions": EMBEDDING_SIZE,
        "pooling": "mean",
        "normalized": True,
        "output": "embedding",
        "metrics": {},
        "source": {"package": MINILM_PACKAGE.replace("_", "-"),
                   "package_version": package_version(MINILM_PACKAGE.replace("_", "-")),
                   "weights_sha256": file_sha256(folder / "model.safetensors")},
        "mode": "fast" if fast else "full",
    }
    return encoder.backbone, metadata


TRAINERS: dict[str, Callable] = {"churn": train_churn, "fashion": train_fashion, "tiny-gpt": train_gpt,
                                 "minilm": minilm_model}


def train_defaults(registry_root: str | Path, mode: str | None = None, names: Sequence[str] | None = None,
                   log: Callable[[str], None] | None = print) -> dict[str, int]:
    """Train the default models (``names``; default: all of :data:`TRAINERS`), register each in
    ``registry_root`` and label it ``stable``.

    Returns ``{name: version}``. ``log`` gets one line per model with its metric and time.

    Examples
    --------
    >>> train_defaults("/tmp/unused", names=["mnist"])
    Traceback (most recent call last):
    ...
    ValueError: names=['mnist']; the default models are ['churn', 'fashion'] and the text models ['minilm', 'tiny-gpt']
    """
    from aiaas_lib.packaging.registry import ModelRegistry

    names = list(TRAINERS) if names is None else list(names)
    unknown = [n for n in names if n not in TRAINERS]
    if unknown:
        text = sorted(n for n in TRAINERS if n in TEXT_MODELS)
        raise ValueError(f"names={unknown!r}; the default models are {sorted(n for n in TRAINERS if n not in text)}"
                         + (f" and the text models {text}" if text else ""))
    registry = ModelRegistry(registry_root)
    versions = {}
    for name in names:
        start = time.perf_counter()
        model, metadata = TRAINERS[name](mode=mode)
        version = registry.register(name, model, metadata)
        registry.promote(name, version, "stable")
        versions[name] = version
        if log is not None:
            metrics = " ".join(f"{k}={v:.4f}" for k, v in metadata["metrics"].items())
            log(f"{name:<8} version {version} (stable)  {metrics}  [{metadata['mode']} mode, "
                f"{time.perf_counter() - start:.1f} s]")
    return versions


def _fast(mode: str | None) -> bool:
    """True for fast mode (``mode`` or, when None, ``AIAAS_MODE``)."""
    from aiaas_lib import config

    mode = config.mode() if mode is None else mode
    if mode not in config.MODES:
        raise ValueError(f"mode={mode!r}; expected one of {list(config.MODES)}")
    return mode == "fast"


