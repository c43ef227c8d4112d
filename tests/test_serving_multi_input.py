"""Multi-input models (kind ``tensors``, issue 19): a Keras model with several named numeric inputs of any shape,
registered with no metadata, is served end to end — TF Serving rows and columns, KServe V2, ``:explain`` (values
per input that add up), its OpenAPI operations with runnable examples, every bad request a 400 naming the input,
and the conformance kit passes. One module-scoped TestClient over three such models."""
import re

import numpy as np
import pytest

from _serving import ready_client
from aiaas_lib.conformance import run
from aiaas_lib.env import import_tensorflow
from aiaas_lib.packaging.signature import SignatureError
from aiaas_lib.serving import Settings, create_app

import_tensorflow()
import keras  # noqa: E402  (after import_tensorflow, which keeps TensorFlow's import quiet)

# the "pair" model's keras.Input are unnamed on purpose (the dict's keys name them), which Keras warns about
pytestmark = pytest.mark.filterwarnings("ignore:When providing `inputs` as a dict:UserWarning")
RNG = np.random.default_rng(0)
DATA = {"image": RNG.uniform(size=(60, 8, 8, 1)).astype("float32"), "meta": RNG.normal(size=(60, 3)).astype("float32")}
MAX_INSTANCES = 8


def two_inputs(side: int, outputs: int = 2) -> keras.Model:
    """A dict model: an image (side×side×1) and 3 numbers, concatenated inside (unnamed keras.Input)."""
    image, meta = keras.Input((side, side, 1)), keras.Input((3,))
    x = keras.layers.Concatenate()([keras.layers.Flatten()(image), meta])
    out = keras.layers.Dense(outputs, activation="softmax")(keras.layers.Dense(4, activation="relu")(x))
    return keras.Model({"image": image, "meta": meta}, out)


@pytest.fixture(scope="module")
def models():
    keras.utils.set_random_seed(0)
    a, b = keras.Input((4,)), keras.Input((2, 2))
    listed = keras.Model([a, b], keras.layers.Dense(1)(keras.layers.Concatenate()([a, keras.layers.Flatten()(b)])))
    return {"pair": two_inputs(8), "wide": two_inputs(16), "listed": listed}


@pytest.fixture(scope="module")
def registry(models, tmp_path_factory):
    from aiaas_lib.packaging.registry import ModelRegistry

    reg = ModelRegistry(tmp_path_factory.mktemp("multi-input") / "registry")
    reg.register("pair", models["pair"], data=DATA)  # no metadata: 67 numbers, so background rows are stored
    reg.register("wide", models["wide"])  # 259 numbers: explained per patch, against zeros
    reg.register("listed", models["listed"])
    return reg


@pytest.fixture(scope="module")
def client(registry):
    c = ready_client(create_app(Settings(registry=registry.root, max_instances=MAX_INSTANCES, max_explain_instances=4)))
    yield c
    c.__exit__(None, None, None)


def rows(n=3, start=0, data=DATA):
    return [{k: v[i].tolist() for k, v in data.items()} for i in range(start, start + n)]


def expected(model, n=3):
    return np.asarray(model({k: v[:n] for k, v in DATA.items()}))


def post(client, path, body, status=200):
    reply = client.post(path, json=body)
    assert reply.status_code == status, reply.text
    return reply.json()


# ------------------------------------------------------------------------------------------- registration
def test_registration_reads_the_inputs_and_stores_background_rows(registry):
    meta = registry.metadata("pair")
    assert (meta["kind"], meta["structure"]) == ("tensors", "named")
    assert meta["inputs"] == {"image": [8, 8, 1], "meta": [3]}  # the dict's keys, not the tensors' names
    assert {k: np.shape(v) for k, v in meta["background"].items()} == {"image": (50, 8, 8, 1), "meta": (50, 3)}
    assert "background" not in registry.metadata("wide")  # 259 numbers > 256
    assert registry.metadata("listed")["structure"] == "list"


def test_string_input_of_shape_other_than_one_is_refused_saying_why(tmp_path):
    from aiaas_lib.packaging.registry import ModelRegistry

    words, x = keras.Input((3,), dtype="string", name="words"), keras.Input((2,), name="x")
    hashed = keras.layers.Hashing(num_bins=8, output_mode="multi_hot")(words)
    model = keras.Model({"words": words, "x": x}, keras.layers.Dense(1)(keras.layers.Concatenate()([hashed, x])))
    with pytest.raises(SignatureError, match=r"string inputs \{'words': \[3\]\} have shapes other than \[1\], and "
                                             r"strings are served only as columns of shape \[1\]"):
        ModelRegistry(tmp_path / "r").register("words", model)


# ---------------------------------------------------------------------------------------------- predicting
def test_tf_serving_rows_and_columns_equal_the_model(client, models):
    want = expected(models["pair"])
    got = post(client, "/v1/models/pair:predict", {"instances": rows()})["predictions"]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    got = post(client, "/v1/models/pair:predict", {"inputs": {k: v[:3].tolist() for k, v in DATA.items()}})["outputs"]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_kserve_v2_takes_one_tensor_per_input(client, models):
    meta = client.get("/v2/models/pair").json()
    assert meta["inputs"] == [{"name": "image", "datatype": "FP32", "shape": [-1, 8, 8, 1]},
                              {"name": "meta", "datatype": "FP32", "shape": [-1, 3]}]
    tensors = [{"name": k, "shape": [3, *v.shape[1:]], "datatype": "FP32", "data": v[:3].ravel().tolist()}
               for k, v in DATA.items()]
    out = post(client, "/v2/models/pair/infer", {"inputs": tensors})["outputs"][0]
    assert out["shape"] == [3, 2]
    np.testing.assert_allclose(out["data"], expected(models["pair"]).ravel(), rtol=0, atol=1e-6)


def test_list_structured_model_gets_its_inputs_in_order(client, models):
    shapes = client.get("/v1/models/listed/metadata").json()["metadata"]["aiaas"]["inputs"]  # the tensors' names
    assert list(shapes.values()) == [[4], [2, 2]]
    sent = {name: RNG.normal(size=(2, *shape)).astype("float32") for name, shape in shapes.items()}
    got = post(client, "/v1/models/listed:predict", {"inputs": {k: v.tolist() for k, v in sent.items()}})["outputs"]
    want = models["listed"](list(sent.values()))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


# ---------------------------------------------------------------------------------------------- explaining
@pytest.mark.parametrize("name, side, method", [("pair", 8, "permutation"), ("wide", 16, "permutation over patches")])
def test_explain_values_per_input_add_up_to_the_prediction(client, name, side, method):
    data = {"image": RNG.uniform(size=(2, side, side, 1)), "meta": RNG.normal(size=(2, 3))}
    body = post(client, f"/v1/models/{name}:explain", {"instances": rows(2, data=data)})
    predicted = post(client, f"/v1/models/{name}:predict", {"instances": rows(2, data=data)})["predictions"]
    info = body["explainer"]
    assert info["method"] == method and {"reason", "baseline", "model_rows_per_instance"} <= set(info)
    for row, e in zip(predicted, body["explanations"]):
        assert {k: np.shape(v) for k, v in e["values"].items()} == {"image": (side, side, 1), "meta": (3,)}
        assert e["prediction"] == pytest.approx(row[e["output_index"]], abs=1e-6)
        assert abs(sum(np.sum(v) for v in e["values"].values()) + e["base_value"] - e["prediction"]) <= 1e-4
    if name == "wide":  # groups for each input, and no background rows: zeros
        assert "'image': " in info["reason"] and "'meta': 1 runs of 3" in info["reason"]
        assert info["baseline"].startswith("zeros")
    else:
        assert info["baseline"] == "50 background rows stored at registration"


# ------------------------------------------------------------------------------------------ bad requests
ROW = rows(1)[0]
BAD_PREDICT = {
    "missing input": ({"instances": [{"image": ROW["image"]}]}, r"missing \['meta'\]"),
    "unknown input": ({"instances": [{**ROW, "extra": [1.0]}]}, r"unknown \['extra'\]"),
    "wrong shape": ({"instances": [{**ROW, "meta": [1.0, 2.0]}]}, r"input 'meta' has shape \[1, 2\]; .*takes \[n, 3\]"),
    "not an object": ({"instances": [[1.0, 2.0]]}, r"instance 0 is a list; .*named inputs 'image' \[8, 8, 1\]"),
    "not a number": ({"instances": [{**ROW, "meta": [1.0, "a", 2.0]}]}, r"input 'meta' must hold only numbers"),
    "beyond 1e9": ({"instances": [{**ROW, "meta": [1.0, 2e10, 2.0]}]}, r"input 'meta' holds numbers beyond ±1e\+09"),
    "ragged": ({"instances": [ROW, {**ROW, "meta": [1.0]}]}, r"input 'meta' .*rectangular.*takes shape \[3\]"),
    "columns: unequal batch": ({"inputs": {"image": [ROW["image"]] * 2, "meta": [ROW["meta"]]}},
                               r"different batch sizes \{'image': 2, 'meta': 1\}"),
    "columns: missing input": ({"inputs": {"image": [ROW["image"]]}}, r"'inputs' names inputs \['image'\].*missing"),
    "columns: wrong shape": ({"inputs": {"image": [[[0.0]]], "meta": [ROW["meta"]]}},
                             r"input 'image' has shape \[1, 1, 1\]; .*takes \[n, 8, 8, 1\]"),
}


@pytest.mark.parametrize("case", sorted(BAD_PREDICT))
def test_bad_predict_requests_are_400_naming_the_input(client, case):
    body, message = BAD_PREDICT[case]
    error = post(client, "/v1/models/pair:predict", body, 400)["error"]
    assert re.search(message, error), error


def v2(**change):
    tensors = {k: {"name": k, "shape": [1, *v.shape[1:]], "datatype": "FP32", "data": v[:1].ravel().tolist()}
               for k, v in DATA.items()}
    for name, fields in change.items():
        tensors[name] = None if fields is None else {**tensors[name], **fields}
    return {"inputs": [t for t in tensors.values() if t is not None]}


BAD_V2 = {
    "missing input": (v2(meta=None), r"missing \['meta'\]"),
    "wrong shape": (v2(meta={"shape": [1, 2], "data": [1.0, 2.0]}), r"input 'meta' has shape \[1, 2\]; .*\[n, 3\]"),
    "unequal n": (v2(meta={"shape": [2, 3], "data": [0.0] * 6}), r"input 'meta' has 2 rows but others have 1"),
    "strings": (v2(meta={"datatype": "BYTES", "data": ["a", "b", "c"]}), r"input 'meta' has datatype 'BYTES'"),
    "beyond 1e9": (v2(meta={"data": [0.0, 2e10, 0.0]}), r"input 'meta' data holds numbers beyond"),
}


@pytest.mark.parametrize("case", sorted(BAD_V2))
def test_bad_v2_requests_are_400_naming_the_input(client, case):
    body, message = BAD_V2[case]
    error = post(client, "/v2/models/pair/infer", body, 400)["error"]
    assert re.search(message, error), error


def test_max_instances_applies_to_every_format(client):
    many = rows(MAX_INSTANCES + 1)
    assert "max_instances=8" in post(client, "/v1/models/pair:predict", {"instances": many}, 413)["error"]
    columns = {k: [r[k] for r in many] for k in DATA}
    assert "max_instances=8" in post(client, "/v1/models/pair:predict", {"inputs": columns}, 413)["error"]
    tensors = [{"name": k, "shape": [MAX_INSTANCES + 1, *v.shape[1:]], "datatype": "FP32",
                "data": v[:MAX_INSTANCES + 1].ravel().tolist()} for k, v in DATA.items()]
    assert "max_instances=8" in post(client, "/v2/models/pair/infer", {"inputs": tensors}, 413)["error"]
    assert "max_explain_instances=4" in post(client, "/v1/models/pair:explain", {"instances": rows(5)}, 413)["error"]


# --------------------------------------------------------------------------------------- OpenAPI and kit
def test_openapi_documents_the_models_routes_and_their_examples_run(client, registry):
    doc = client.get("/openapi.json").json()
    for path in ("/v1/models/pair:predict", "/v1/models/pair:explain", "/v2/models/pair/infer",
                 "/v1/models/listed:predict", "/v2/models/listed/infer"):
        media = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        post(client, path, media["example"])  # 200, or the assertion names the path's reply
    body = doc["paths"]["/v1/models/pair:predict"]["post"]["requestBody"]["content"]["application/json"]
    item = body["schema"]["properties"]["instances"]["items"]
    assert item["required"] == ["image", "meta"] and item["properties"]["meta"]["minItems"] == 3
    assert body["example"]["instances"][0]["meta"] == registry.metadata("pair")["background"]["meta"][0]


def test_conformance_kit_passes_with_instances_made_from_the_metadata(client):
    report = run(client, model="pair", protocols=["tfserving", "oip"])
    assert report.ok, report.table()
    assert report.status("tfs.predict_columnar") == "pass" and report.status("oip.infer") == "pass"
