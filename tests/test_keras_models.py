import numpy as np
import pandas as pd
import pytest

from aiaas_lib import data
from aiaas_lib.env import import_tensorflow
from aiaas_lib.keras_models import fit_tabular_classifier, tabular_classifier, tabular_dataset, tabular_inputs

tf = import_tensorflow()
import keras  # noqa: E402

FRAME = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.5, 0.1, 0.2, 0.3], "c": ["x", "y", "x", "z"]})


def test_tabular_inputs_shapes_and_types():
    x = tabular_inputs(FRAME, ["a", "b"], ["c"])
    assert x["a"].shape == (4, 1) and x["a"].dtype == np.float32
    assert x["c"].shape == (4, 1) and x["c"][3, 0] == "z"


def test_tabular_inputs_missing_column_named():
    with pytest.raises(ValueError, match=r"columns \['d'\] are missing"):
        tabular_inputs(FRAME, ["a", "d"], ["c"])


def test_tabular_inputs_rejects_nan():
    with pytest.raises(ValueError, match=r"numeric columns \['a'\] contain missing values"):
        tabular_inputs(FRAME.assign(a=[1.0, np.nan, 2.0, 3.0]), ["a"], [])


def test_preprocessing_learns_from_given_rows_only():
    model = tabular_classifier(FRAME, ["a"], ["c"], hidden=())
    norm = model.get_layer("a_norm")
    np.testing.assert_allclose(np.ravel(norm.mean), [2.5])
    np.testing.assert_allclose(np.ravel(norm.variance), [1.25])
    vocab = model.get_layer("c_onehot").get_vocabulary()
    assert vocab[0] == "[UNK]" and sorted(vocab[1:]) == ["x", "y", "z"]


def test_unknown_category_maps_to_oov_not_error():
    model = tabular_classifier(FRAME, ["a"], ["c"], hidden=(3,))
    p = model.predict_on_batch(tabular_inputs(FRAME.assign(c=["never seen"] * 4), ["a"], ["c"]))
    assert p.shape == (4, 1) and np.all((p > 0) & (p < 1))


def test_saved_model_takes_raw_rows_and_reloads_identically(tmp_path):
    model = tabular_classifier(FRAME, ["a", "b"], ["c"], hidden=(4,))
    x = tabular_inputs(FRAME, ["a", "b"], ["c"])
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict_on_batch(x), model.predict_on_batch(x), atol=1e-7)


@pytest.mark.parametrize("kwargs, match", [({"dropout": 1.0}, "dropout=1.0"), ({"hidden": (4, 0)}, "positive int")])
def test_classifier_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tabular_classifier(FRAME, ["a"], ["c"], **kwargs)


def test_dataset_batches_and_label_count_check():
    ds = tabular_dataset(FRAME, [0, 1, 0, 1], ["a"], ["c"], batch_size=3, shuffle=False)
    batches = list(ds)
    assert [len(yb) for _, yb in batches] == [3, 1]
    assert batches[0][0]["c"].dtype == tf.string
    with pytest.raises(ValueError, match="4 rows but 3 labels"):
        tabular_dataset(FRAME, [0, 1, 0], ["a"], ["c"])


def test_churn_classifier_learns_something():
    X, y = data.churn_xy(data.load_churn())
    X_tr, _, X_te, y_tr, _, y_te = data.split(X, y, seed=0, stratify=y)
    keras.utils.set_random_seed(0)
    model = tabular_classifier(X_tr, list(data.CHURN_NUMERIC), list(data.CHURN_CATEGORICAL), hidden=())
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    model.fit(tabular_dataset(X_tr, y_tr, list(data.CHURN_NUMERIC), list(data.CHURN_CATEGORICAL)),
              epochs=2, verbose=0, shuffle=False)
    from sklearn.metrics import roc_auc_score

    p = model.predict_on_batch(tabular_inputs(X_te, list(data.CHURN_NUMERIC), list(data.CHURN_CATEGORICAL)))
    assert roc_auc_score(y_te, p.ravel()) > 0.8


def test_fit_tabular_classifier_trains_requested_epochs():
    model = fit_tabular_classifier(FRAME, [0, 1, 0, 1], ["a"], ["c"], hidden=(3,), epochs=3, batch_size=2)
    assert len(model.history.history["loss"]) == 3
    assert model.predict_on_batch(tabular_inputs(FRAME, ["a"], ["c"])).shape == (4, 1)


def test_fit_tabular_classifier_is_repeatable():
    x = tabular_inputs(FRAME, ["a"], ["c"])
    a = fit_tabular_classifier(FRAME, [0, 1, 0, 1], ["a"], ["c"], epochs=2, seed=3).predict_on_batch(x)
    b = fit_tabular_classifier(FRAME, [0, 1, 0, 1], ["a"], ["c"], epochs=2, seed=3).predict_on_batch(x)
    np.testing.assert_allclose(a, b)


def test_fit_tabular_classifier_stops_early_on_validation():
    model = fit_tabular_classifier(FRAME, [0, 1, 0, 1], ["a"], ["c"], epochs=50, learning_rate=0.0,
                                   validation=(FRAME, [0, 1, 0, 1]), patience=2)
    assert len(model.history.history["loss"]) == 3  # lr 0: no improvement after the first epoch
    assert "val_loss" in model.history.history


def test_fit_tabular_classifier_rejects_zero_epochs():
    with pytest.raises(ValueError, match="epochs=0 must be an integer >= 1"):
        fit_tabular_classifier(FRAME, [0, 1, 0, 1], ["a"], ["c"], epochs=0)
