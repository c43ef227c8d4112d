"""Per-raw-column explanations of Keras tabular models on churn rows."""
import numpy as np
import pytest

from aiaas_lib import data
from aiaas_lib.explain import (
    ColumnCodec, additivity_error, cached_explainer, column_groups, explain_keras_tabular, explain_rows,
    group_attributions, rank_agreement, tabular_parts,
)
from aiaas_lib.keras_models import fit_tabular_classifier, tabular_inputs

NUMERIC, CATEGORICAL = list(data.CHURN_NUMERIC), list(data.CHURN_CATEGORICAL)
SMALL_CATEGORICAL = ["contract", "internet_service", "payment_method"]  # 6 raw columns: exact is cheap


@pytest.fixture(scope="module")
def churn():
    X, y = data.churn_xy(data.load_churn())
    return X.iloc[:800], y[:800], X.iloc[800:]


@pytest.fixture(scope="module")
def model(churn):
    X, y, _ = churn
    return fit_tabular_classifier(X, y, NUMERIC, CATEGORICAL, hidden=(8,), epochs=2)


@pytest.fixture(scope="module")
def small_model(churn):
    X, y, _ = churn
    return fit_tabular_classifier(X, y, NUMERIC, SMALL_CATEGORICAL, hidden=(8,), epochs=2, name="small")


def predict(model, frame, numeric, categorical):
    return np.asarray(model.predict_on_batch(tabular_inputs(frame, numeric, categorical))).ravel()


def test_column_groups_partition_the_encoded_vector(model, churn):
    groups = column_groups(model)
    assert list(groups) == NUMERIC + CATEGORICAL
    assert all(len(groups[c]) == 1 for c in NUMERIC)
    contract_levels = churn[0]["contract"].nunique()
    assert len(groups["contract"]) == contract_levels + 1  # + the out-of-vocabulary slot
    positions = np.concatenate(list(groups.values()))
    np.testing.assert_array_equal(positions, np.arange(model.get_layer("features").output.shape[-1]))


def test_encoder_then_head_equals_the_model(model, churn):
    encoder, head = tabular_parts(model)
    x = tabular_inputs(churn[2].iloc[:5], NUMERIC, CATEGORICAL)
    np.testing.assert_allclose(np.asarray(head(encoder(x))), np.asarray(model(x)), atol=1e-6)


def test_group_attributions_sum_each_block():
    values = np.arange(12.0).reshape(2, 6)
    out = group_attributions(values, {"a": [0], "b": [1, 2, 3], "c": [4, 5]})
    np.testing.assert_array_equal(out, [[0, 6, 9], [6, 24, 21]])


def test_deep_attributions_are_per_raw_column_and_additive(model, churn):
    X, _, X_new = churn
    att = explain_keras_tabular(model, X_new.iloc[:5], X.iloc[:100], NUMERIC, CATEGORICAL, method="deep")
    assert att.values.shape == (5, 19) and att.base_values.shape == (5,)
    assert att.feature_names == NUMERIC + CATEGORICAL
    # DeepLIFT's summation-to-delta is exact; float32 round-off over 62 encoded positions stays < 1e-5
    predictions = predict(model, X_new.iloc[:5], NUMERIC, CATEGORICAL)
    assert additivity_error(att.values, att.base_values, predictions) < 1e-5


def test_gradient_attributions_have_the_same_shape(model, churn):
    X, _, X_new = churn
    att = explain_keras_tabular(model, X_new.iloc[:2], X.iloc[:50], NUMERIC, CATEGORICAL, method="gradient",
                                nsamples=100)
    assert att.values.shape == (2, 19) and att.base_values.shape == (2,)


def test_exact_over_raw_columns_is_additive(small_model, churn):
    X, _, X_new = churn
    att = explain_keras_tabular(small_model, X_new.iloc[:3], X.iloc[:30], NUMERIC, SMALL_CATEGORICAL,
                                method="exact")
    assert att.values.shape == (3, 6)
    # exact Shapley sums are exact up to float32 model outputs averaged in float64: 1e-4 is the bound
    assert additivity_error(att.values, att.base_values,
                            predict(small_model, X_new.iloc[:3], NUMERIC, SMALL_CATEGORICAL)) < 1e-4


def test_permutation_over_raw_columns_is_additive(small_model, churn):
    X, _, X_new = churn
    att = explain_keras_tabular(small_model, X_new.iloc[:2], X.iloc[:30], NUMERIC, SMALL_CATEGORICAL,
                                method="permutation", max_evals=50)
    assert att.values.shape == (2, 6)
    assert additivity_error(att.values, att.base_values,
                            predict(small_model, X_new.iloc[:2], NUMERIC, SMALL_CATEGORICAL)) < 1e-4


def test_deep_and_exact_rank_the_columns_alike(small_model, churn):
    X, _, X_new = churn
    rows, bg = X_new.iloc[:3], X.iloc[:30]
    deep = explain_keras_tabular(small_model, rows, bg, NUMERIC, SMALL_CATEGORICAL, method="deep")
    exact = explain_keras_tabular(small_model, rows, bg, NUMERIC, SMALL_CATEGORICAL, method="exact")
    # different definitions (DeepLIFT vs Shapley) on a nearly linear 8-unit model: they mostly agree
    assert rank_agreement(deep.values, exact.values, k=3).rho > 0.5


def test_explain_rows_returns_values_base_and_names(model, churn):
    X, _, X_new = churn
    values, base, names = explain_rows(model, X_new.iloc[:4], X.iloc[:100], NUMERIC, CATEGORICAL)
    assert values.shape == (4, 19) and base.shape == (4,) and names == NUMERIC + CATEGORICAL
    assert additivity_error(values, base, predict(model, X_new.iloc[:4], NUMERIC, CATEGORICAL)) < 1e-5


def test_explain_rows_reuses_its_explainer(model, churn):
    X = churn[0]
    first = cached_explainer(model, X.iloc[:100], NUMERIC, CATEGORICAL)
    assert cached_explainer(model, X.iloc[:100], NUMERIC, CATEGORICAL) is first
    assert cached_explainer(model, X.iloc[:99], NUMERIC, CATEGORICAL) is not first


def test_column_codec_round_trips_and_keeps_codes_when_extended():
    import pandas as pd

    frame = pd.DataFrame({"a": [1.0, 2.0], "c": ["x", "y"]})
    codec = ColumnCodec(["a"], ["c"]).fit(frame)
    before = codec.encode(frame)
    codec.extend(pd.DataFrame({"a": [0.0], "c": ["new"]}))
    np.testing.assert_array_equal(codec.encode(frame), before)
    assert codec.decode(codec.encode(frame)).equals(frame)


# ---------------------------------------------------------------------------------------------- errors
def test_refuses_an_unknown_method(model, churn):
    with pytest.raises(ValueError, match=r"method='shapley'; expected one of \['deep', 'gradient', 'exact'"):
        explain_keras_tabular(model, churn[2].iloc[:1], churn[0].iloc[:10], NUMERIC, CATEGORICAL, method="shapley")


def test_refuses_exact_over_more_than_twelve_columns(model, churn):
    with pytest.raises(ValueError, match=r"method='exact' enumerates 2\*\*19 coalitions .*; at most 12"):
        explain_keras_tabular(model, churn[2].iloc[:1], churn[0].iloc[:10], NUMERIC, CATEGORICAL, method="exact")


def test_refuses_rows_missing_a_column(model, churn):
    rows = churn[2].iloc[:1].drop(columns=["tenure"])
    with pytest.raises(ValueError, match=r"columns \['tenure'\] are missing"):
        explain_rows(model, rows, churn[0].iloc[:100], NUMERIC, CATEGORICAL)


def test_refuses_no_rows(model, churn):
    with pytest.raises(ValueError, match=r"rows_frame is empty"):
        explain_rows(model, churn[2].iloc[:0], churn[0].iloc[:100], NUMERIC, CATEGORICAL)


def test_refuses_an_empty_background(model, churn):
    with pytest.raises(ValueError, match=r"background_frame is empty"):
        explain_keras_tabular(model, churn[2].iloc[:1], churn[0].iloc[:0], NUMERIC, CATEGORICAL)


def test_refuses_columns_the_model_does_not_have(model, churn):
    with pytest.raises(ValueError, match=r"the model's columns .* differ from numeric \+ categorical"):
        explain_keras_tabular(model, churn[2].iloc[:1], churn[0].iloc[:10], NUMERIC, SMALL_CATEGORICAL)


def test_refuses_a_model_without_a_features_layer():
    import keras

    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)], name="plain")
    with pytest.raises(ValueError, match=r"model 'plain' has no layer named 'features'"):
        tabular_parts(plain)


def test_group_attributions_refuse_groups_that_miss_positions():
    with pytest.raises(ValueError, match=r"groups cover positions \[0, 1\] but values have 3 positions"):
        group_attributions(np.zeros((1, 3)), {"a": [0], "b": [1]})


def test_codec_refuses_a_category_it_never_saw():
    import pandas as pd

    codec = ColumnCodec([], ["c"]).fit(pd.DataFrame({"c": ["x"]}))
    with pytest.raises(ValueError, match=r"column 'c' has values \['z'\] not seen by fit"):
        codec.encode(pd.DataFrame({"c": ["z"]}))


def test_codec_refuses_use_before_fit():
    import pandas as pd

    with pytest.raises(RuntimeError, match=r"not fitted yet; call fit"):
        ColumnCodec(["a"], []).encode(pd.DataFrame({"a": [1.0]}))


def test_refuses_to_cut_a_model_whose_head_is_not_a_chain():
    import keras

    a, b = keras.Input((1,), name="a"), keras.Input((1,), name="b")
    features = keras.layers.Concatenate(name="features")([a, b])
    hidden = keras.layers.Dense(2, name="hidden")(features)
    skip = keras.layers.Concatenate(name="skip")([hidden, features])
    model = keras.Model([a, b], keras.layers.Dense(1, name="out")(skip))
    with pytest.raises(ValueError, match=r"layer 'skip' does not read only 'hidden'; .* must form a chain"):
        tabular_parts(model)


def test_column_groups_refuse_a_block_computed_from_two_columns():
    import keras

    a, b = keras.Input((1,), name="a"), keras.Input((1,), name="b")
    mixed = keras.layers.Add(name="mixed")([a, b])
    model = keras.Model([a, b], keras.layers.Concatenate(name="features")([mixed, a]))
    with pytest.raises(ValueError, match=r"depends on 2 model inputs \['a', 'b'\]; expected exactly one"):
        column_groups(model)


def test_codec_refuses_frames_without_its_columns():
    import pandas as pd

    with pytest.raises(ValueError, match=r"columns \['c'\] are missing; expected \['a', 'c'\]"):
        ColumnCodec(["a"], ["c"]).fit(pd.DataFrame({"a": [1.0]}))
