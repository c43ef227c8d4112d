"""shap_explainer picks the right shap explainer per model kind and returns arrays of the documented shapes."""
import numpy as np
import pytest

from aiaas_lib.explain import (
    Attribution, additivity_error, exact_shapley, fast_predict, is_keras_model, is_tree_ensemble, shap_explainer,
)

N_FEATURES = 5


@pytest.fixture(scope="module")
def tabular():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, N_FEATURES))
    y = (X[:, 0] + 0.5 * X[:, 1] - X[:, 2] + 0.3 * rng.normal(size=300) > 0).astype(int)
    return X, y


@pytest.fixture(scope="module")
def hgb(tabular):
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = tabular
    return HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def keras_mlp():
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((N_FEATURES,)), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(1, activation="sigmoid")])


def linear(X):
    return np.asarray(X) @ np.array([1.0, -2.0, 0.5, 0.0, 3.0])


def test_auto_picks_tree_for_hist_gradient_boosting(hgb, tabular):
    assert shap_explainer(hgb, tabular[0][:50]).kind == "tree"


def test_tree_explainer_shapes_and_additivity_in_log_odds(hgb, tabular):
    X = tabular[0]
    explainer = shap_explainer(hgb, X[:50])
    att = explainer(X[:4])
    assert att.values.shape == (4, N_FEATURES) and att.base_values.shape == (4,)
    assert explainer.output == "log-odds of class 1"
    # interventional TreeSHAP is exact; float64 sums over 20 trees: 1e-6
    assert additivity_error(att.values, att.base_values, hgb.decision_function(X[:4])) < 1e-6


def test_tree_explainer_on_a_forest_explains_probability_of_class_one(tabular):
    from sklearn.ensemble import RandomForestClassifier

    X, y = tabular
    forest = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
    explainer = shap_explainer(forest, X[:30])
    att = explainer(X[:3])
    assert att.values.shape == (3, N_FEATURES)
    assert explainer.output == "P(class 1)"
    assert additivity_error(att.values, att.base_values, forest.predict_proba(X[:3])[:, 1]) < 1e-6


def test_auto_picks_deep_for_a_keras_model(keras_mlp, tabular):
    explainer = shap_explainer(keras_mlp, tabular[0][:40])
    assert explainer.kind == "deep" and explainer.fallback_reason is None


def test_deep_explainer_shapes_and_additivity(keras_mlp, tabular):
    X = tabular[0].astype("float32")
    explainer = shap_explainer(keras_mlp, X[:40], kind="deep")
    att = explainer(X[:3])
    assert att.values.shape == (3, N_FEATURES) and att.base_values.shape == (3,)
    # DeepLIFT sums to the output difference exactly up to float32 round-off (observed ~1e-7)
    assert additivity_error(att.values, att.base_values, explainer.predict(X[:3])) < 1e-5


def test_deep_explainer_on_a_small_cnn_keeps_image_and_class_axes():
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    from aiaas_lib.keras_models import fashion_cnn

    keras.utils.set_random_seed(0)
    cnn = fashion_cnn(filters=(2,), dense=4, batch_norm=False, output="softmax")
    rng = np.random.default_rng(0)
    background, X = rng.random((5, 28, 28, 1)).astype("float32"), rng.random((1, 28, 28, 1)).astype("float32")
    explainer = shap_explainer(cnn, background)
    att = explainer(X)
    assert explainer.kind == "deep"
    assert att.values.shape == (1, 28, 28, 1, 10) and att.base_values.shape == (1, 10)
    # DeepLIFT through conv, max-pool and softmax: float32 round-off only (observed ~1e-7)
    np.testing.assert_allclose(att.totals(), explainer.predict(X), atol=1e-5)


def test_gradient_explainer_shapes_and_approximate_additivity(keras_mlp, tabular):
    X = tabular[0].astype("float32")
    explainer = shap_explainer(keras_mlp, X[:40], kind="gradient", nsamples=300)
    att = explainer(X[:3])
    assert att.values.shape == (3, N_FEATURES) and att.base_values.shape == (3,)
    # expected gradients are a Monte-Carlo estimate: additive only on average; 300 samples keep it < 0.05
    assert additivity_error(att.values, att.base_values, explainer.predict(X[:3])) < 0.05


def test_auto_picks_permutation_for_a_callable(tabular):
    assert shap_explainer(linear, tabular[0][:20]).kind == "permutation"


@pytest.mark.parametrize("kind", ["permutation", "kernel", "exact"])
def test_model_agnostic_explainers_equal_exact_shapley_on_a_linear_model(kind, tabular):
    X = tabular[0]
    att = shap_explainer(linear, X[:20], kind=kind)(X[:2])
    assert att.values.shape == (2, N_FEATURES) and att.base_values.shape == (2,)
    # on a linear model every one of them is exact (no interactions to sample): float64 round-off only
    np.testing.assert_allclose(att.values, exact_shapley(linear, X[:2], X[:20])[0], atol=1e-8)


def test_multi_output_model_keeps_an_output_axis(tabular):
    X = tabular[0]
    att = shap_explainer(lambda rows: rows[:, :2] * [1.0, 2.0], X[:10], kind="kernel")(X[:2])  # 2 rows, 2 outputs
    assert att.values.shape == (2, N_FEATURES, 2) and att.base_values.shape == (2, 2)
    np.testing.assert_allclose(att.totals(), X[:2, :2] * [1.0, 2.0], atol=1e-8)


def test_sampling_explainers_are_reproducible_and_leave_numpy_seed_alone(tabular):
    X = tabular[0]
    f = lambda rows: np.tanh(rows).prod(axis=1)  # noqa: E731
    np.random.seed(123)
    expected_next = np.random.rand()
    np.random.seed(123)
    a = shap_explainer(f, X[:10], kind="permutation", seed=3)(X[:1]).values
    assert np.random.rand() == expected_next
    b = shap_explainer(f, X[:10], kind="permutation", seed=3)(X[:1]).values
    np.testing.assert_array_equal(a, b)


def test_fast_predict_uses_predict_on_batch_and_flattens_single_output(keras_mlp, tabular):
    X = tabular[0][:7].astype("float32")
    out = fast_predict(keras_mlp)(X)
    assert out.shape == (7,)
    np.testing.assert_allclose(out, np.asarray(keras_mlp(X)).ravel(), atol=1e-6)


def test_fast_predict_gives_probability_of_class_one_for_sklearn(hgb, tabular):
    X = tabular[0][:5]
    np.testing.assert_allclose(fast_predict(hgb)(X), hgb.predict_proba(X)[:, 1])


def test_fast_predict_in_chunks_equals_one_call(tabular):
    X = tabular[0][:25]
    np.testing.assert_allclose(fast_predict(linear, batch_size=4)(X), linear(X))


def test_model_kind_detection(hgb, keras_mlp):
    assert is_tree_ensemble(hgb) and not is_tree_ensemble(keras_mlp)
    assert is_keras_model(keras_mlp) and not is_keras_model(hgb)


def test_attribution_totals_add_base_and_values():
    att = Attribution(np.array([[1.0, 2.0]]), np.array([0.5]))
    assert att.totals().tolist() == [3.5]


# ---------------------------------------------------------------------------------------------- errors
def test_refuses_an_unknown_kind(tabular):
    with pytest.raises(ValueError, match=r"kind='lasso'; expected one of \['auto', 'tree'"):
        shap_explainer(linear, tabular[0][:5], kind="lasso")


def test_refuses_tree_kind_for_a_non_tree_model(tabular):
    with pytest.raises(ValueError, match=r"kind='tree' needs a scikit-learn tree model.*got function"):
        shap_explainer(linear, tabular[0][:5], kind="tree")


def test_refuses_deep_kind_for_a_non_keras_model(tabular):
    with pytest.raises(ValueError, match=r"kind='deep' needs a Keras model; got function"):
        shap_explainer(linear, tabular[0][:5], kind="deep")


def test_refuses_exact_kind_with_too_many_features():
    with pytest.raises(ValueError, match=r"kind='exact' enumerates 2\*\*13 coalitions; at most 12"):
        shap_explainer(lambda r: r.sum(axis=1), np.zeros((3, 13)), kind="exact")


def test_refuses_too_few_permutation_evaluations(tabular):
    with pytest.raises(ValueError, match=r"max_evals=5 is too small for 5 features; it must be at least 11"):
        shap_explainer(linear, tabular[0][:5], kind="permutation", max_evals=5)


def test_refuses_an_empty_background():
    with pytest.raises(ValueError, match=r"background has shape \(0, 3\); expected a non-empty array"):
        shap_explainer(linear, np.zeros((0, 3)))


def test_fast_predict_refuses_something_that_is_not_a_model():
    with pytest.raises(TypeError, match=r"model of type int is neither a Keras/scikit-learn model nor callable"):
        fast_predict(3)


def test_fast_predict_refuses_a_non_positive_batch_size():
    with pytest.raises(ValueError, match=r"batch_size=0 must be an integer >= 1 \(or None: one batch\)"):
        fast_predict(linear, batch_size=0)


def test_refuses_a_multiclass_boosted_classifier(tabular):
    from sklearn.ensemble import HistGradientBoostingClassifier

    X = tabular[0]
    three = HistGradientBoostingClassifier(max_iter=3).fit(X, np.arange(len(X)) % 3)
    with pytest.raises(ValueError, match=r"HistGradientBoostingClassifier with 3 classes: only binary tree classifiers"):
        shap_explainer(three, X[:10])


def test_tree_explainer_on_gradient_boosting_equals_exact_interventional_shapley(tabular):
    from sklearn.ensemble import GradientBoostingClassifier

    X, y = tabular
    boosted = GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=0).fit(X, y)
    att = shap_explainer(boosted, X[:20])(X[:2])
    # both are exact interventional Shapley values of the log-odds: float64 round-off only (observed ~1e-8)
    np.testing.assert_allclose(att.values, exact_shapley(boosted.decision_function, X[:2], X[:20])[0], atol=1e-6)
