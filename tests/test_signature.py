"""Signature at registration: a model registered with no metadata is served by the service's own runtime,
and metadata a caller writes is checked against the model (aiaas_lib.packaging.signature, ModelRegistry.register)."""
import numpy as np
import pandas as pd
import pytest

from aiaas_lib import defaults
from aiaas_lib.packaging import signature
from aiaas_lib.env import import_tensorflow
from aiaas_lib.packaging.registry import ModelRegistry
from aiaas_lib.serving.errors import InputError
from aiaas_lib.serving.runtime import ModelRuntime
from aiaas_lib.packaging.signature import SignatureError

import_tensorflow()
import keras  # noqa: E402  (after import_tensorflow, which keeps TensorFlow's import quiet)

NUMERIC = ["age", "income", "tenure", "score"]
CITIES = ["lyon", "oslo", "rome"]


def _own_data(n=60, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.uniform(18, 80, n), "income": rng.normal(3000, 800, n),
                         "tenure": rng.integers(0, 60, n).astype(float), "score": rng.normal(0, 1, n),
                         "city": rng.choice(CITIES, n)})


@pytest.fixture(scope="module")
def frame():
    return _own_data()


@pytest.fixture(scope="module")
def tabular(frame):
    """A practitioner's model, built the ordinary Keras way: one Normalization over all numeric columns,
    a StringLookup for the string column, one input per column."""
    keras.utils.set_random_seed(0)
    inputs = {c: keras.Input((1,), name=c) for c in NUMERIC}
    inputs["city"] = keras.Input((1,), name="city", dtype="string")
    norm = keras.layers.Normalization()
    norm.adapt(frame[NUMERIC].to_numpy("float32"))
    lookup = keras.layers.StringLookup(output_mode="one_hot")
    lookup.adapt(frame["city"].to_numpy()[:, None])
    x = keras.layers.Concatenate()([norm(keras.layers.Concatenate()([inputs[c] for c in NUMERIC])),
                                    lookup(inputs["city"])])
    out = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dense(8, activation="relu")(x))
    return keras.Model(inputs, out)


@pytest.fixture(scope="module")
def dense20():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((20,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])


@pytest.fixture
def reg(tmp_path):
    return ModelRegistry(tmp_path / "models")


def _served(reg, name):
    """The registry's latest version of ``name`` loaded exactly as the service loads it."""
    return ModelRuntime.from_registry(reg, name)


def _rows(frame, n):
    return [{c: (float(v) if c in NUMERIC else str(v)) for c, v in r.items()} for r in frame.head(n).to_dict("records")]


def _model_inputs(frame):
    out = {c: frame[[c]].to_numpy("float32") for c in NUMERIC}
    out["city"] = frame[["city"]].to_numpy().astype(str)
    return out


# ---------------------------------------------------------------------------- no metadata, still served
@pytest.mark.parametrize("metadata", [None, {"purpose": "demo"}])
def test_sequential_registered_without_serving_keys_is_served(reg, dense20, metadata):
    reg.register("plain", dense20, metadata)
    meta = reg.metadata("plain")
    assert (meta["kind"], meta["input_shape"], meta["dtype"]) == ("tensor", [20], "float32")
    assert meta["signature"]["structure"] == "single"
    x = np.random.default_rng(1).normal(size=(3, 20)).astype("float32")
    rt = _served(reg, "plain")
    inputs, n = rt.decode_instances(x.tolist())
    np.testing.assert_allclose(rt.predict(inputs), dense20(x), rtol=0, atol=1e-5)  # float32, other kernels
    assert n == 3 and rt.v2_inputs()[0]["shape"] == [-1, 20]


def test_named_multi_input_model_is_served_as_columns(reg):
    keras.utils.set_random_seed(0)
    a, b = keras.Input((1,), name="height"), keras.Input((1,), name="weight")
    model = keras.Model({"height": a, "weight": b}, keras.layers.Dense(1)(keras.layers.Concatenate()([a, b])))
    reg.register("body", model)
    meta = reg.metadata("body")
    assert meta["kind"] == "tabular" and meta["signature"]["structure"] == "named"
    assert (meta["numeric"], meta["categorical"]) == (["height", "weight"], [])
    rt = _served(reg, "body")
    inputs, _ = rt.decode_instances([{"height": 1.8, "weight": 70.0}, {"height": 1.6, "weight": 55.0}])
    expected = model({"height": np.array([[1.8], [1.6]], "float32"), "weight": np.array([[70.0], [55.0]], "float32")})
    np.testing.assert_allclose(rt.predict(inputs), expected, rtol=0, atol=1e-5)


def test_tabular_model_with_string_column_is_served_from_its_own_vocabulary(reg, tabular, frame):
    reg.register("own", tabular)
    meta = reg.metadata("own")
    assert meta["kind"] == "tabular" and meta["categorical"] == ["city"]
    assert sorted(meta["numeric"]) == sorted(NUMERIC)
    assert meta["input_schema"]["categorical"] == {"city": CITIES}  # read from the StringLookup, [UNK] left out
    rt = _served(reg, "own")
    inputs, _ = rt.decode_instances(_rows(frame, 5))
    np.testing.assert_allclose(rt.predict(inputs), tabular(_model_inputs(frame.head(5))), rtol=0, atol=1e-5)
    with pytest.raises(InputError, match=r"field 'city' must be one of \['lyon', 'oslo', 'rome'\], got 'paris'"):
        rt.decode_instances([{**_rows(frame, 1)[0], "city": "paris"}])


def test_data_gives_ranges_background_and_hash(reg, tabular, frame):
    reg.register("own", tabular, {"metrics": {"auc": 0.7}}, data=frame)
    meta = reg.metadata("own")
    assert meta["metrics"] == {"auc": 0.7} and len(meta["background"]) == 50
    assert meta["input_schema"]["numeric"]["age"] == {"min": frame.age.min(), "max": frame.age.max()}
    assert meta["output"] == meta["signature"]["outputs"][0]["name"] and len(meta["data_sha256"]) == 64
    rt = _served(reg, "own")
    assert rt.background is not None and len(rt.background) == 50


def test_defaults_tabular_metadata_is_the_signature_one():
    assert defaults.tabular_metadata is signature.tabular_metadata


def test_free_dimension_needs_input_shape(reg):
    model = keras.Sequential([keras.Input((None, 3)), keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
    with pytest.raises(SignatureError, match=r"shape \[None, 3\] with a free dimension.*metadata=\{'input_shape'"):
        reg.register("seq", model)
    reg.register("seq", model, {"input_shape": [5, 3]})
    assert _served(reg, "seq").input_shape == [5, 3]


# ------------------------------------------------------------------------------- checked metadata
def test_typo_in_column_name_is_refused_naming_the_fix(reg, tabular):
    with pytest.raises(SignatureError, match=r"metadata\['numeric'\] names 'Age', which is not an input of the "
                                             r"model \(did you mean 'age'\?\).*leave 'numeric' out"):
        reg.register("own", tabular, {"numeric": ["Age", "income", "tenure", "score"], "categorical": ["city"]})
    assert reg.models() == []


def test_string_column_listed_as_numeric_is_refused(reg, tabular):
    with pytest.raises(SignatureError, match=r"metadata\['numeric'\] lists 'city', but the model's input 'city' "
                                             r"takes string: move it to metadata\['categorical'\]"):
        reg.register("own", tabular, {"numeric": [*NUMERIC, "city"], "categorical": []})


def test_left_out_column_is_refused(reg, tabular):
    with pytest.raises(SignatureError, match=r"metadata\['numeric'\]=\['age'\] leaves out the model's numeric inputs"):
        reg.register("own", tabular, {"numeric": ["age"]})


@pytest.mark.parametrize("kind", ["image", "classifier"])
def test_unknown_kind_is_refused_naming_the_inferred_one(reg, dense20, kind):
    with pytest.raises(SignatureError, match=rf"metadata\['kind'\]='{kind}' is not a kind the service serves; "
                                             r"expected one of \['tabular', 'tensor', 'tensors', 'generation', "
                                             r"'embedding'\]\. "
                                             r"This model's inputs make it 'tensor'"):
        reg.register("plain", dense20, {"kind": kind})


def test_kind_that_does_not_fit_the_inputs_is_refused(reg, tabular):
    with pytest.raises(SignatureError, match=r"metadata\['kind'\]='tensor', but the model's inputs .*'city': \[1\].* "
                                             r"make it 'tabular'"):
        reg.register("own", tabular, {"kind": "tensor"})


def test_wrong_input_shape_and_dtype_are_refused(reg, dense20):
    with pytest.raises(SignatureError, match=r"metadata\['input_shape'\]=\[28, 28, 1\], but the model's input has "
                                             r"input_shape \[20\]"):
        reg.register("plain", dense20, {"kind": "tensor", "input_shape": [28, 28, 1]})
    with pytest.raises(SignatureError, match=r"metadata\['dtype'\]='uint8', but the model's input has dtype 'float32'"):
        reg.register("plain", dense20, {"dtype": "uint8"})


def test_input_schema_columns_must_match(reg, tabular, frame):
    from aiaas_lib.packaging.schema import input_schema

    schema = input_schema(frame, ["age", "income", "tenure"], ["city"])
    with pytest.raises(SignatureError, match=r"metadata\['input_schema'\]\['numeric'\] has columns "
                                             r"\['age', 'income', 'tenure'\], but the model's numeric inputs are"):
        reg.register("own", tabular, {"input_schema": schema})


def test_background_rows_are_checked(reg, tabular, frame):
    rows = _rows(frame, 2)
    rows[1]["city"] = "paris"
    with pytest.raises(SignatureError, match=r"metadata\['background'\] does not match the input schema: row 1: "
                                             r"field 'city' must be one of"):
        reg.register("own", tabular, {"background": rows})


def test_string_input_without_lookup_needs_data(reg, frame):
    inp = keras.Input((1,), name="city", dtype="string")
    hashed = keras.layers.Hashing(num_bins=4, output_mode="one_hot")(inp)
    model = keras.Model({"city": inp}, keras.layers.Dense(1)(hashed))
    with pytest.raises(SignatureError, match=r"allowed values of string inputs \['city'\] cannot be read from the "
                                             r"model.*data=<training rows>"):
        reg.register("hashed", model)
    reg.register("hashed", model, data=frame[["city"]])
    assert reg.metadata("hashed")["input_schema"]["categorical"] == {"city": CITIES}


def _two_inputs(a_shape=(3,)):
    a, b = keras.Input(a_shape, name="a"), keras.Input((2,), name="b")
    pooled = keras.layers.GlobalAveragePooling1D()(a) if len(a_shape) == 2 else a
    return keras.Model({"a": a, "b": b}, keras.layers.Dense(1)(keras.layers.Concatenate()([pooled, b])))


def test_unservable_inputs_are_refused_unless_infer_false(reg):
    model = _two_inputs((None, 3))
    with pytest.raises(SignatureError, match=r"cannot serve model .*inputs \{'a': \[None, 3\]\} have free "
                                             r"dimensions \(None\); give the shapes they take as "
                                             r"metadata=\{'inputs'.*infer=False"):
        reg.register("wide", model)
    reg.register("wide", model, {"note": "kept, not served"}, infer=False)
    assert "kind" not in reg.metadata("wide") and reg.metadata("wide")["note"] == "kept, not served"
    reg.register("wide", model, {"inputs": {"a": [5, 3], "b": [2]}})  # the free dimension fixed: served
    assert _served(reg, "wide").inputs == {"a": [5, 3], "b": [2]}


def test_several_numeric_inputs_are_served_as_tensors(reg):
    model = _two_inputs()
    reg.register("two", model)
    meta = reg.metadata("two")
    assert (meta["kind"], meta["inputs"], meta["structure"]) == ("tensors", {"a": [3], "b": [2]}, "named")
    x = {"a": np.ones((2, 3), "float32"), "b": np.zeros((2, 2), "float32")}
    rt = _served(reg, "two")
    inputs, n = rt.decode_columns({k: v.tolist() for k, v in x.items()})
    np.testing.assert_allclose(rt.predict(inputs), model(x), rtol=0, atol=1e-5)
    assert n == 2 and [i["shape"] for i in rt.v2_inputs()] == [[-1, 3], [-1, 2]]


@pytest.mark.parametrize("metadata, message", [
    ({"inputs": {"a": [4], "b": [2]}}, r"metadata\['inputs'\]\['a'\]=\[4\], but the model's input 'a' has shape \[3\]"),
    ({"inputs": {"b": [2], "a": [3]}}, r"metadata\['inputs'\] must be \{name: shape\} of every input in the model's "
                                       r"order; got \['b', 'a'\], but the model's inputs are \['a', 'b'\]"),
    ({"structure": "list"}, r"metadata\['structure'\]='list', but the model takes its inputs as a dict"),
    ({"background": {"a": [[1.0, 2.0, 3.0]], "b": [[1.0]]}}, r"metadata\['background'\] must be \{name: rows\}"),
    ({"kind": "tabular"}, r"metadata\['kind'\]='tabular', but the model's inputs .* make it 'tensors'"),
])
def test_multi_input_metadata_is_checked_naming_the_key_and_the_fix(reg, metadata, message):
    with pytest.raises(SignatureError, match=message):
        reg.register("two", _two_inputs(), metadata)


def test_multi_input_data_must_be_one_array_per_input(reg):
    with pytest.raises(SignatureError, match=r"data must have one array per input of model .*\['a', 'b'\]; missing "
                                             r"\['b'\], unknown \[\]"):
        reg.register("two", _two_inputs(), data={"a": np.zeros((20, 3))})
    with pytest.raises(SignatureError, match=r"data\['b'\] has shape \[20, 3\]; input 'b' takes \[n, 2\]"):
        reg.register("two", _two_inputs(), data={"a": np.zeros((20, 3)), "b": np.zeros((20, 3))})


def test_text_kinds_are_stored_as_given(reg, dense20):
    reg.register("gen", dense20, {"kind": "generation", "context": 8})
    assert "signature" not in reg.metadata("gen") and reg.metadata("gen")["context"] == 8


def test_service_serves_models_registered_without_metadata(tmp_path, tabular, dense20, frame, serve):
    """The whole point: register(name, model) and `aiaas serve` answers TF Serving REST and KServe V2."""
    from aiaas_lib.serving import Settings

    reg = ModelRegistry(tmp_path / "models")
    reg.register("own", tabular)
    reg.register("plain", dense20, {"purpose": "demo"})
    client = serve(Settings(registry=reg.root))
    rows = _rows(frame, 3)
    reply = client.post("/v1/models/own:predict", json={"instances": rows})
    assert reply.status_code == 200, reply.text
    expected = np.asarray(tabular(_model_inputs(frame.head(3))))
    np.testing.assert_allclose(reply.json()["predictions"], expected, rtol=0, atol=1e-5)
    v2 = [{"name": c, "datatype": "BYTES" if c == "city" else "FP32", "shape": [3, 1],
           "data": [r[c] for r in rows]} for c in [*NUMERIC, "city"]]
    reply = client.post("/v2/models/own/infer", json={"inputs": v2})
    assert reply.status_code == 200, reply.text
    np.testing.assert_allclose(reply.json()["outputs"][0]["data"], expected.ravel(), rtol=0, atol=1e-5)
    x = np.ones((2, 20), "float32")
    reply = client.post("/v1/models/plain:predict", json={"instances": x.tolist()})
    assert reply.status_code == 200, reply.text
    np.testing.assert_allclose(reply.json()["predictions"], dense20(x), rtol=0, atol=1e-5)
