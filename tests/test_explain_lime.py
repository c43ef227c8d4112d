"""LIME: the from-scratch tabular version against a linear model and against the lime package; the
text and image wrappers' outputs."""
import numpy as np
import pytest

from aiaas_lib.explain import lime_image, lime_tabular, lime_tabular_lib, lime_text, slic_segments


@pytest.fixture(scope="module")
def train():
    rng = np.random.default_rng(0)
    return rng.normal(size=(400, 4)) * [1.0, 3.0, 0.5, 2.0] + [0.0, 10.0, -1.0, 5.0]


def mlp(X):
    W = np.random.default_rng(1).normal(size=(4, 6)) / 3
    return np.tanh(X @ W).sum(axis=1)


def test_recovers_linear_coefficients_in_scaled_space(train):
    coef = np.array([0.5, -0.2, 1.5, 0.1])
    exp = lime_tabular(lambda X: X @ coef + 3.0, train[5], train, num_samples=5000)
    # weights are per training std: coef * std. Ridge(alpha=1) against a kernel-weight total of ~1,500
    # shrinks them by well under 0.1 %, hence rtol 1e-3.
    np.testing.assert_allclose(exp.weights, coef * train.std(axis=0), rtol=1e-3)
    assert exp.score > 0.999


def test_prediction_local_is_the_local_model_at_the_instance(train):
    exp = lime_tabular(mlp, train[1], train, num_samples=1000)
    scaled = (train[1] - train.mean(axis=0)) / train.std(axis=0)
    assert exp.prediction_local == pytest.approx(exp.intercept + scaled @ exp.weights, abs=1e-12)


def test_default_kernel_width_is_lime_s(train):
    exp = lime_tabular(mlp, train[1], train, num_samples=100)
    assert exp.kernel_width == pytest.approx(0.75 * np.sqrt(4))


def test_effective_samples_is_all_samples_for_a_very_wide_kernel(train):
    exp = lime_tabular(mlp, train[1], train, num_samples=500, kernel_width=1e6)
    # every kernel weight is exp(-d²/2e12) = 1 - O(1e-11): (sum w)² / sum w² = 500 to ~1e-9
    assert exp.effective_samples == pytest.approx(500, rel=1e-9)


def test_effective_samples_is_one_for_a_very_narrow_kernel(train):
    exp = lime_tabular(mlp, train[1], train, num_samples=500, kernel_width=1e-3)
    # only the instance itself (distance 0, weight 1) has a weight that is not exp(-(d/1e-3)²/2) ~ 0
    assert exp.effective_samples == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("kernel_width,seed", [(None, 0), (1.2, 7)])
def test_matches_the_lime_package(train, kernel_width, seed):
    ours = lime_tabular(mlp, train[2], train, num_samples=2000, kernel_width=kernel_width, seed=seed)
    theirs = lime_tabular_lib(mlp, train[2], train, num_samples=2000, kernel_width=kernel_width, seed=seed)
    # Same RandomState draws, same scaling, kernel and ridge: only round-off differs (sklearn computes
    # distances as sqrt(|a|^2 - 2ab + |b|^2) and solves the ridge its own way); observed ~1e-15, bound 1e-6.
    np.testing.assert_allclose(ours.weights, theirs.weights, atol=1e-6)
    assert ours.intercept == pytest.approx(theirs.intercept, abs=1e-6)
    assert ours.score == pytest.approx(theirs.score, abs=1e-6)
    assert ours.prediction_local == pytest.approx(theirs.prediction_local, abs=1e-6)


def test_constant_training_column_gets_std_one():
    train = np.column_stack([np.random.default_rng(2).normal(size=50), np.full(50, 3.0)])
    exp = lime_tabular(lambda X: X[:, 0] + X[:, 1], np.array([0.5, 3.0]), train, num_samples=500)
    assert exp.weights[1] == pytest.approx(1.0, rel=1e-2)  # coef 1 * std 1; rel 1 % for the ridge shrinkage


def test_refuses_fewer_than_two_samples(train):
    with pytest.raises(ValueError, match=r"num_samples=1; LIME needs at least 2 samples"):
        lime_tabular(mlp, train[0], train, num_samples=1)


def test_library_wrapper_refuses_fewer_than_two_samples(train):
    with pytest.raises(ValueError, match=r"num_samples=0; LIME needs at least 2 samples"):
        lime_tabular_lib(mlp, train[0], train, num_samples=0)


def test_refuses_an_instance_of_the_wrong_length(train):
    with pytest.raises(ValueError, match=r"x has shape \(3,\); expected \(4,\)"):
        lime_tabular(mlp, train[0, :3], train)


def test_library_wrapper_refuses_an_instance_of_the_wrong_length(train):
    with pytest.raises(ValueError, match=r"x has shape \(3,\) and training_data \(400, 4\)"):
        lime_tabular_lib(mlp, train[0, :3], train)


def test_refuses_empty_training_data():
    with pytest.raises(ValueError, match=r"training_data has shape \(0, 2\); expected a non-empty 2-D array"):
        lime_tabular(mlp, np.zeros(2), np.zeros((0, 2)))


def test_refuses_a_non_positive_kernel_width(train):
    with pytest.raises(ValueError, match=r"kernel_width=0 must be a positive number"):
        lime_tabular(mlp, train[0], train, kernel_width=0)


def test_refuses_a_model_with_several_outputs_per_row(train):
    with pytest.raises(ValueError, match=r"f returned shape \(50, 2\) for 50 rows"):
        lime_tabular(lambda X: X[:, :2], train[0], train, num_samples=50)


# ------------------------------------------------------------------------------------------------ text
def tiny_sentiment(texts):
    """P(positive) rises with 'great', falls with 'awful'; other words do nothing."""
    score = np.array([1.5 * t.split().count("great") - 2.0 * t.split().count("awful") for t in texts])
    p = 1 / (1 + np.exp(-score))
    return np.column_stack([1 - p, p])


def test_lime_text_finds_the_words_the_classifier_uses():
    out = lime_text(tiny_sentiment, "great taste but awful smell and a plain box", num_features=3, num_samples=300)
    words = dict(out["words"])
    assert len(out["words"]) == 3
    assert words["great"] > 0 > words["awful"]
    assert set(out) == {"words", "intercept", "score", "prediction_local", "label"}


def test_lime_text_refuses_fewer_than_two_samples():
    with pytest.raises(ValueError, match=r"num_samples=1; LIME needs at least 2 samples"):
        lime_text(tiny_sentiment, "great", num_samples=1)


def test_lime_text_refuses_zero_features():
    with pytest.raises(ValueError, match=r"num_features=0 must be an integer >= 1"):
        lime_text(tiny_sentiment, "great", num_features=0)


# ----------------------------------------------------------------------------------------------- image
def top_half_classifier(images):
    """Class 1 = bright top half, for images of shape (n, 28, 28) or (n, 28, 28, 1)."""
    p = np.asarray(images).reshape(len(images), 28, 28)[:, :14].mean(axis=(1, 2))
    return np.column_stack([1 - p, p])


@pytest.fixture(scope="module")
def picture():
    img = np.zeros((28, 28))
    img[4:24, 6:22] = 1.0  # a bright block across both halves
    return img


def test_slic_segments_label_a_28x28_image_without_gaps(picture):
    seg = slic_segments(picture, n_segments=25, compactness=0.5)
    assert seg.shape == (28, 28)
    assert 5 <= seg.max() + 1 <= 40
    np.testing.assert_array_equal(np.unique(seg), np.arange(seg.max() + 1))


def test_lime_image_returns_documented_shapes(picture):
    out = lime_image(top_half_classifier, picture[..., None], label=1, num_samples=150, num_features=3)
    n_segments = out["segments"].max() + 1
    assert out["segments"].shape == out["heatmap"].shape == out["mask"].shape == (28, 28)
    assert out["weights"].shape == (n_segments,)
    assert out["mask"].dtype == bool and out["label"] == 1


def test_lime_image_supports_the_top_half_for_class_one(picture):
    out = lime_image(top_half_classifier, picture, label=1, num_samples=200)
    heat = out["heatmap"]
    assert heat[4:14].sum() > 0 and heat[4:14].sum() > heat[14:24].sum()
    assert out["mask"][:14].sum() > out["mask"][14:].sum()


def test_lime_image_default_label_is_the_top_class(picture):
    out = lime_image(top_half_classifier, 1 - picture, num_samples=20)
    assert out["label"] == int(np.argmax(top_half_classifier((1 - picture)[None])[0]))


def test_lime_image_refuses_colour_images():
    with pytest.raises(ValueError, match=r"image has shape \(28, 28, 3\); expected a grey image"):
        lime_image(top_half_classifier, np.zeros((28, 28, 3)))


def test_lime_image_refuses_fewer_than_two_samples(picture):
    with pytest.raises(ValueError, match=r"num_samples=1; LIME needs at least 2 samples"):
        lime_image(top_half_classifier, picture, num_samples=1)
