import json

import numpy as np
import pandas as pd
import pytest

from aiaas_lib import data
from aiaas_lib.env import import_tensorflow
from aiaas_lib.keras_models import tabular_classifier, tabular_inputs
from aiaas_lib.packaging.model_card import IntegrityError, frame_hash, load_model, read_card, save_model
from aiaas_lib.packaging.schema import SchemaError, input_schema, validate_rows

import_tensorflow()

NUM, CAT = list(data.CHURN_NUMERIC), list(data.CHURN_CATEGORICAL)


@pytest.fixture(scope="module")
def churn():
    X, _ = data.churn_xy(data.load_churn())
    return X


@pytest.fixture(scope="module")
def schema(churn):
    return input_schema(churn, NUM, CAT)


def test_schema_records_ranges_and_categories(schema):
    assert schema["numeric"]["tenure"] == {"min": 0.0, "max": 72.0}
    assert schema["categorical"]["contract"] == ["Month-to-month", "One year", "Two year"]
    assert schema["categorical"]["female"] == ["0", "1"]


def test_schema_rejects_missing_columns(churn):
    with pytest.raises(ValueError, match=r"columns \['nope'\] are not in the frame"):
        input_schema(churn, ["nope"], [])


def test_validate_raw_churn_rows_round_trip(churn, schema):
    rows = data.load_churn().drop(columns="churn").iloc[:3].to_dict(orient="records")
    frame = validate_rows(rows, schema)
    assert list(frame.columns) == NUM + CAT and len(frame) == 3
    assert frame["female"].tolist() == ["1", "0", "0"]


def test_validate_fills_missing_number_when_told(schema, churn):
    row = churn.iloc[0].to_dict()
    row["total_charges"] = None
    assert validate_rows([row], schema, fill={"total_charges": 0.0})["total_charges"].tolist() == [0.0]
    with pytest.raises(SchemaError, match="field 'total_charges' is missing"):
        validate_rows([row], schema)


@pytest.mark.parametrize("change, match", [
    ({"tenure": "12"}, "field 'tenure' must be a finite number, got '12'"),
    ({"tenure": float("nan")}, "field 'tenure' must be a finite number"),
    ({"tenure": True}, "field 'tenure' must be a finite number, got True"),
    ({"contract": "Forever"}, r"field 'contract' must be one of \['Month-to-month', 'One year', 'Two year'\], got 'Forever'"),
    ({"contrakt": "One year"}, r"unknown fields \['contrakt'\]"),
])
def test_validate_names_field_value_and_allowed(schema, churn, change, match):
    row = {**churn.iloc[0].to_dict(), **change}
    with pytest.raises(SchemaError, match=match):
        validate_rows([row], schema)


def test_validate_lists_every_problem(schema):
    with pytest.raises(SchemaError) as err:
        validate_rows([{"tenure": 1}, "not a row"], schema)
    assert len(err.value.problems) == len(NUM) + len(CAT) - 1 + 1
    assert "row 1: expected an object of fields, got str" in err.value.problems


@pytest.mark.parametrize("rows", [[], {"tenure": 1}, None])
def test_validate_needs_a_list_of_rows(schema, rows):
    with pytest.raises(SchemaError, match="expected a non-empty list of rows"):
        validate_rows(rows, schema)


def _small_model(churn):
    return tabular_classifier(churn.iloc[:500], NUM, CAT, hidden=(4,), name="churn")


def test_saved_model_predicts_raw_rows_exactly_as_in_memory(tmp_path, churn, schema):
    model = _small_model(churn)
    save_model(model, tmp_path / "v1", {"name": "churn", "input_schema": schema, "data_sha256": frame_hash(churn)})
    again = load_model(tmp_path / "v1")
    rows = data.load_churn().drop(columns="churn").iloc[:50].to_dict(orient="records")
    x = tabular_inputs(validate_rows(rows, schema, fill={"total_charges": 0.0}), NUM, CAT)
    np.testing.assert_array_equal(again.predict_on_batch(x), model.predict_on_batch(x))


def test_card_records_hash_versions_and_fields(tmp_path, churn):
    save_model(_small_model(churn), tmp_path, {"name": "churn", "metrics": {"auc": 0.8}})
    card = read_card(tmp_path)
    assert card["name"] == "churn" and card["metrics"] == {"auc": 0.8}
    assert len(card["model_sha256"]) == 64 and card["versions"]["keras"].startswith("3.")
    json.dumps(card)


def test_tampered_model_is_refused(tmp_path, churn):
    save_model(_small_model(churn), tmp_path, {"name": "churn"})
    with open(tmp_path / "model.keras", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(IntegrityError, match="does not match its model card"):
        load_model(tmp_path)


def test_missing_card_or_file_is_refused(tmp_path, churn):
    with pytest.raises(IntegrityError, match="model_card.json is missing"):
        load_model(tmp_path)
    save_model(_small_model(churn), tmp_path, {"name": "churn"})
    (tmp_path / "model.keras").unlink()
    with pytest.raises(IntegrityError, match="model.keras is missing"):
        load_model(tmp_path)


def test_frame_hash_changes_with_data():
    assert frame_hash(pd.DataFrame({"a": [1, 2]})) != frame_hash(pd.DataFrame({"a": [1, 3]}))


def test_validate_rows_refuses_an_int_too_large_for_a_float():
    schema_ = {"numeric": {"a": {"min": 0, "max": 1}}, "categorical": {}}
    with pytest.raises(SchemaError, match=r"^row 0: field 'a' is beyond float32's range \(\|x\| <= 3.4e38\)$"):
        validate_rows([{"a": 10**400}], schema_)  # named without its 401 digits


def test_validate_rows_refuses_a_number_beyond_float32():
    schema_ = {"numeric": {"a": {"min": 0, "max": 1}}, "categorical": {}}
    with pytest.raises(SchemaError, match=r"field 'a' is beyond float32.s range"):
        validate_rows([{"a": 1e300}], schema_)


def test_check_rows_returns_clean_columns_in_schema_order():
    from aiaas_lib.packaging.schema import check_rows

    schema_ = {"numeric": {"a": {"min": 0, "max": 1}, "b": {"min": 0, "max": 1}}, "categorical": {"c": ["1", "x"]}}
    columns = check_rows([{"c": 1, "b": 2, "a": 0.5}, {"a": None, "b": 0, "c": "x"}], schema_, fill={"a": 0.0})
    assert columns == {"a": [0.5, 0.0], "b": [2.0, 0.0], "c": ["1", "x"]}  # ints → floats, 1 → "1"
    assert all(type(v) is float for v in columns["b"])


def test_check_rows_lists_every_problem():
    from aiaas_lib.packaging.schema import check_rows

    schema_ = {"numeric": {"a": {"min": 0, "max": 1}}, "categorical": {"c": ["x"]}}
    with pytest.raises(SchemaError) as err:
        check_rows([{"a": True, "c": "y", "z": 1}, {}], schema_)
    assert err.value.problems == [
        "row 0: unknown fields ['z']",
        "row 0: field 'a' must be a finite number, got True",
        "row 0: field 'c' must be one of ['x'], got 'y'",
        "row 1: field 'a' is missing",
        "row 1: field 'c' is missing",
    ]
