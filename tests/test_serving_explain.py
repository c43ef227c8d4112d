"""``:explain`` for tensor models (issue 19): a plain Keras model registered with no metadata explains over
HTTP, its values add up to the prediction, the reply names the method, the baseline and the cost; inputs of any
width explain (wide ones per patch when DeepExplainer does not fit); bad requests are 4xx naming the problem
(:mod:`aiaas_lib.serving.explaining`)."""
import numpy as np
import pytest
from fastapi.testclient import TestClient

from aiaas_lib.loadtest import wait_ready
from aiaas_lib.serving import Settings, create_app

X20 = np.random.default_rng(0).normal(size=(200, 20)).astype(np.float32)
IMAGES = np.random.default_rng(1).uniform(size=(3, 20, 20, 1)).astype(np.float32)  # 400 values: wide


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    from aiaas_lib.packaging.registry import ModelRegistry

    keras.utils.set_random_seed(0)
    reg = ModelRegistry(tmp_path_factory.mktemp("explain") / "registry")

    def dense(width, units=1, activation="sigmoid"):
        return keras.Sequential([keras.Input((width,)), keras.layers.Dense(8, activation="relu"),
                                 keras.layers.Dense(units, activation=activation)])

    reg.register("own", dense(20), data=X20)  # no metadata: background rows come from the data
    reg.register("nodata", dense(20))  # no data either: a zero baseline
    reg.register("classes", dense(6, 3, "softmax"))
    inputs = keras.Input((6,))  # LayerNormalization has no DeepLIFT rule: model-agnostic
    reg.register("norm", keras.Model(inputs, keras.layers.Dense(1)(keras.layers.LayerNormalization()(
        keras.layers.Dense(4)(inputs)))), data=X20[:, :6])
    image = keras.Input((20, 20, 1))  # wide, and LayerNormalization again: permutation over patches
    reg.register("wide", keras.Model(image, keras.layers.Dense(2, activation="softmax")(
        keras.layers.LayerNormalization()(keras.layers.Flatten()(image)))))
    reg.register("widecnn", keras.Sequential([keras.Input((20, 20, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                                              keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                                              keras.layers.Dense(1, activation="sigmoid")]))
    with TestClient(create_app(Settings(registry=reg.root, models=["own", "nodata", "classes", "norm", "wide",
                                                                   "widecnn"],
                                        max_explain_instances=4))) as c:
        wait_ready(c.get)
        yield c


def explain(client, name, x):
    r = client.post(f"/v1/models/{name}:explain", json={"instances": np.asarray(x).tolist()})
    assert r.status_code == 200, r.text
    return r.json()


def assert_adds_up(client, name, x, body):
    predicted = np.asarray(client.post(f"/v1/models/{name}:predict",
                                       json={"instances": np.asarray(x).tolist()}).json()["predictions"])
    for row, e in zip(predicted, body["explanations"]):
        assert np.shape(e["values"]) == np.shape(x)[1:]
        assert e["prediction"] == pytest.approx(row[e.get("output_index", 0)], abs=1e-6)
        assert abs(np.sum(e["values"]) + e["base_value"] - e["prediction"]) < 1e-4


def test_tensor_model_registered_with_no_metadata_explains_and_adds_up(client):
    body = explain(client, "own", X20[:3])
    assert_adds_up(client, "own", X20[:3], body)
    info = body["explainer"]
    assert info["method"] == "deep" and info["baseline"] == "50 background rows stored at registration"
    assert info["model_rows_per_instance"] == info["background_rows"] == 50
    assert body["explanations"][0]["output_index"] == 0


def test_without_background_rows_the_baseline_is_zeros_and_said(client):
    body = explain(client, "nodata", np.vstack([np.zeros((1, 20), np.float32), X20[:1]]))
    assert body["explainer"]["baseline"].startswith("zeros") and body["explainer"]["background_rows"] == 1
    at_zero = body["explanations"][0]
    assert at_zero["base_value"] == pytest.approx(at_zero["prediction"], abs=1e-6)  # f(baseline)
    assert np.abs(at_zero["values"]).max() < 1e-6
    assert_adds_up(client, "nodata", X20[:1], {"explanations": body["explanations"][1:]})


def test_several_outputs_explain_the_predicted_class(client):
    x = X20[:4, :6]
    body = explain(client, "classes", x)
    predicted = np.asarray(client.post("/v1/models/classes:predict", json={"instances": x.tolist()}).json()[
        "predictions"])
    assert [e["output_index"] for e in body["explanations"]] == predicted.argmax(axis=1).tolist()
    assert_adds_up(client, "classes", x, body)


def test_a_model_deep_explainer_cannot_read_falls_back_to_bounded_permutation(client):
    body = explain(client, "norm", X20[:2, :6])
    info = body["explainer"]
    assert info["method"] == "permutation" and "DeepExplainer does not fit" in info["reason"]
    assert info["background_rows"] == 20 and info["model_rows_per_instance"] == 500 * 20
    assert_adds_up(client, "norm", X20[:2, :6], body)


def test_wide_input_deep_explainer_cannot_read_is_explained_per_patch_and_adds_up(client):
    body = explain(client, "wide", IMAGES[:2])
    info = body["explainer"]
    assert info["method"] == "permutation over patches" and "49 patches of 3×3 pixels" in info["reason"]
    assert info["model_rows_per_instance"] == 32 * 50 and info["baseline"].startswith("zeros")
    assert_adds_up(client, "wide", IMAGES[:2], body)
    values = np.asarray(body["explanations"][0]["values"])[:, :, 0]
    assert np.allclose(values[:3, :3], values[0, 0]) and not np.allclose(values[:3, :3], values[3, 3])  # per patch
    again = explain(client, "wide", IMAGES[:1])["explanations"][0]["values"]
    assert np.array_equal(again, body["explanations"][0]["values"])  # same orders every request


def test_wide_input_deep_explainer_can_read_is_explained_per_value(client):
    body = explain(client, "widecnn", IMAGES)
    assert body["explainer"]["method"] == "deep"
    assert_adds_up(client, "widecnn", IMAGES, body)


@pytest.mark.parametrize("body, status, match", [
    ({"instances": [[0.0] * 19]}, 400, "[n, 20]"),
    ({"inputs": [[0.0] * 20]}, 400, '{"instances": [instances of shape [20]]}'),
    ({"instances": [["a"] * 20]}, 400, "instances"),
    ({"instances": []}, 400, "empty"),
    ({"instances": [[0.0] * 20] * 5}, 413, "max_explain_instances=4"),
])
def test_bad_requests_are_4xx_naming_the_problem(client, body, status, match):
    r = client.post("/v1/models/own:explain", json=body)
    assert r.status_code == status and match in r.json()["error"], r.text


def test_openapi_documents_tensor_explain_with_the_instance_shape(client):
    paths = client.get("/openapi.json").json()["paths"]
    schema = paths["/v1/models/own:explain"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "20" in str(schema["properties"]["instances"])


def test_registration_stores_a_bounded_background_and_checks_a_given_one():
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    from aiaas_lib.packaging.signature import SignatureError, resolve_metadata

    image = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    assert "background" not in resolve_metadata(image, data=np.zeros((60, 28, 28, 1), np.float32))  # 784 wide
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(1)])
    assert np.shape(resolve_metadata(model, data=X20)["background"]) == (50, 20)
    with pytest.raises(SignatureError, match=r"rows of shape \[20\]; got shape \[2, 3\]"):
        resolve_metadata(model, {"background": [[0.0] * 3] * 2})
