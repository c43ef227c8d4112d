import numpy as np
import pytest

from aiaas_lib import data
from aiaas_lib.language.embeddings import EMBEDDING_SIZE, SentenceEncoder


@pytest.fixture(scope="module")
def encoder():
    return SentenceEncoder(sequence_length=64)


def test_embeddings_are_unit_vectors_of_384(encoder):
    e = encoder.encode(["hello world", "a much longer sentence about coffee and tea"])
    assert e.shape == (2, EMBEDDING_SIZE)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-6)


def test_similar_sentences_are_closer(encoder):
    e = encoder.encode(["This coffee tastes wonderful.", "I love the taste of this coffee.",
                        "The train to Berlin was late."])
    assert e[0] @ e[1] > 0.6 > e[0] @ e[2]


def test_padding_does_not_change_an_embedding(encoder):
    alone = encoder.encode(["short text"])
    with_long = encoder.encode(["short text", "a much longer text " * 5])[:1]
    np.testing.assert_allclose(alone, with_long, atol=1e-5)


def test_tokenizer_matches_the_packaged_tokenizer_json(encoder):
    from tokenizers import Tokenizer

    hf = Tokenizer.from_file(str(data.minilm_path() / "tokenizer.json"))
    hf.no_padding()
    hf.no_truncation()
    texts = data.load_reviews()["review"].tolist()[:300]
    same = [hf.encode(t, add_special_tokens=False).ids == np.asarray(encoder.tokenizer(t)).tolist() for t in texts]
    assert np.mean(same) >= 0.99  # measured: 1995/2000 identical; rare accented words differ


@pytest.mark.parametrize("texts", ["just a string", [1, 2]])
def test_encode_needs_list_of_strings(encoder, texts):
    with pytest.raises(ValueError, match="texts must be a list of strings"):
        encoder.encode(texts)


def test_bad_sequence_length():
    with pytest.raises(ValueError, match="sequence_length=4"):
        SentenceEncoder(sequence_length=4)


def test_minilm_classifier_fine_tunes_the_encoder():
    from aiaas_lib.language.embeddings import minilm_classifier

    enc = SentenceEncoder(sequence_length=16)
    model = minilm_classifier(enc)
    trainable = {w.path for w in model.trainable_weights}
    assert any("transformer_layer_0" in p for p in trainable)  # the encoder itself is trained
    assert not any("pooled_dense" in p for p in trainable)   # the unused [CLS] pooler is frozen
    x = enc.preprocessor(["good coffee", "bad tea", "okay"])
    p = np.asarray(model(x)).ravel()
    assert p.shape == (3,) and np.all((p > 0) & (p < 1))


def test_minilm_classifier_pools_like_the_sentence_encoder():
    from aiaas_lib.language.embeddings import mean_pool

    enc = SentenceEncoder(sequence_length=32)
    texts = ["short text", "a somewhat longer text about tea"]
    x = enc.preprocessor(texts)
    pooled = np.asarray(mean_pool(enc.backbone(x)["sequence_output"], x["padding_mask"]))
    unit = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    np.testing.assert_allclose(unit, enc.encode(texts), atol=1e-5)  # float32 model vs float64 pooling


def test_minilm_classifier_bad_dropout():
    from aiaas_lib.language.embeddings import minilm_classifier

    with pytest.raises(ValueError, match="dropout=1.5"):
        minilm_classifier(SentenceEncoder(sequence_length=16), dropout=1.5)
