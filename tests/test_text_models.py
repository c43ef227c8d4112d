import numpy as np
import pytest

from aiaas_lib.language import text_models as tm

keras = tm.keras
TEXTS = ["good coffee", "bad coffee", "great tea, really great", "awful"]


def test_vectorizer_maps_words_to_ids_with_padding_and_unknown():
    vec = tm.vectorizer(TEXTS, sequence_length=5)
    ids = vec(["great coffee zebra"]).numpy()[0]
    vocab = vec.get_vocabulary()
    assert ids.tolist()[3:] == [0, 0] and ids[2] == 1 and vocab[ids[0]] == "great"


def test_vectorizer_orders_by_count_then_word_descending():
    vec = tm.vectorizer(["b a c b a z y"], sequence_length=2)  # b and a twice; c, y, z once
    assert vec.get_vocabulary() == ["", "[UNK]", "b", "a", "z", "y", "c"]


def test_vectorizer_cuts_ties_at_max_tokens_keeping_the_later_words():
    vec = tm.vectorizer(["b a c b a z y"], max_tokens=5, sequence_length=2)
    assert vec.get_vocabulary() == ["", "[UNK]", "b", "a", "z"]


def test_vectorizer_rejects_bad_sizes():
    with pytest.raises(ValueError, match="max_tokens=2"):
        tm.vectorizer(TEXTS, max_tokens=2)


@pytest.mark.parametrize("build", [
    lambda: tm.bag_of_embeddings(50, embedding_dim=4),
    lambda: tm.transformer_classifier(50, sequence_length=6, dim=8, num_heads=2, ff_dim=16),
])
def test_classifiers_give_one_probability_per_text(build):
    model = build()
    p = model.predict_on_batch(np.array([[3, 4, 5, 0, 0, 0], [7, 0, 0, 0, 0, 0]]))
    assert p.shape == (2, 1) and np.all((p > 0) & (p < 1))


def test_transformer_ignores_padding():
    model = tm.transformer_classifier(50, sequence_length=6, dim=8, num_heads=2, ff_dim=16, dropout=0.0)
    x = np.array([[3, 4, 0, 0, 0, 0]])
    before = model.predict_on_batch(x)
    emb = model.layers[1]
    table = emb.get_weights()[0]
    table[0] = 100.0  # the padding token's vector: masked everywhere, so it must not matter
    emb.set_weights([table])
    np.testing.assert_allclose(model.predict_on_batch(x), before, atol=1e-6)


def test_transformer_saves_and_loads_in_safe_mode(tmp_path):
    model = tm.transformer_classifier(50, sequence_length=6, dim=8, num_heads=2, ff_dim=16)
    x = np.array([[3, 4, 5, 0, 0, 0]])
    model.save(tmp_path / "t.keras")
    again = keras.saving.load_model(tmp_path / "t.keras")
    np.testing.assert_allclose(again.predict_on_batch(x), model.predict_on_batch(x), atol=1e-6)


def test_transformer_dim_must_split_into_heads():
    with pytest.raises(ValueError, match="dim=10 must be divisible by num_heads=4"):
        tm.transformer_classifier(50, 6, dim=10, num_heads=4)


def test_seq2seq_learns_to_copy_and_decodes_greedily():
    rng = np.random.default_rng(0)
    src = rng.integers(1, 5, size=(600, 3))
    tin = np.concatenate([np.full((600, 1), 5), src[:, :-1]], axis=1)
    keras.utils.set_random_seed(0)
    model = tm.seq2seq_gru(vocab_size=6, embedding_dim=8, units=32)
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit({"source": src, "target_in": tin}, src, epochs=15, batch_size=32, verbose=0)
    out = tm.greedy_decode(model, src[:50], start_id=5, length=3)
    assert out.shape == (50, 3)
    assert np.mean(np.all(out == src[:50], axis=1)) > 0.8
