"""A practitioner's own Keras model through the whole lifecycle (issue 19), through public functions and the
``aiaas`` command only — the runnable version of the README's "Your own model" section.

Own data (four numeric columns, one string column), an ordinary functional Keras model with one
``Normalization`` over all numeric columns and a ``StringLookup`` inside (not the course's builder: no
``features`` layer), registered with no metadata, served over TF Serving REST and KServe V2 by a live
server, explained over HTTP (additivity checked), drift-reported, version 2 registered (no traffic until
labelled), a canary at a weight, rolled back (no request reaches version 2 afterwards), exported and compared.
"""
import json

import numpy as np
import pandas as pd

from _serving import live_server
from aiaas_lib import cli, monitoring
from aiaas_lib.packaging import export
from aiaas_lib.packaging.registry import ModelRegistry
from aiaas_lib.serving import Settings, create_app

NUMERIC = ["age", "income", "tenure", "visits"]


def own_data(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"age": rng.uniform(18, 80, n).round(1), "income": rng.normal(3000, 800, n).round(0),
                          "tenure": rng.integers(0, 60, n).astype(float),
                          "visits": rng.poisson(3, n).astype(float),
                          "city": rng.choice(["lyon", "oslo", "rome"], n)})
    y = ((frame.income > 3200) ^ (frame.city == "oslo")).astype("float32").to_numpy()
    return frame, y


def feed(frame: pd.DataFrame) -> dict:
    """The model's input dict: (n, 1) float32 per numeric column, (n, 1) strings for the city."""
    return {c: frame[[c]].to_numpy("float32") for c in NUMERIC} | {"city": frame[["city"]].to_numpy().astype(str)}


def own_model(frame: pd.DataFrame, y: np.ndarray, seed: int = 0):
    """Built the ordinary Keras way (as a practitioner would, not with aiaas_lib's builder)."""
    from aiaas_lib.env import import_tensorflow

    tf = import_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    inputs = {c: keras.Input((1,), name=c) for c in NUMERIC} | {"city": keras.Input((1,), name="city", dtype="string")}
    norm = keras.layers.Normalization()
    norm.adapt(frame[NUMERIC].to_numpy("float32"))
    lookup = keras.layers.StringLookup(output_mode="one_hot")
    lookup.adapt(frame["city"].to_numpy())
    x = keras.layers.Concatenate()([norm(keras.layers.Concatenate()([inputs[c] for c in NUMERIC])),
                                    lookup(inputs["city"])])
    hidden = keras.layers.Dense(16, activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile("adam", "binary_crossentropy")
    data = tf.data.Dataset.from_tensor_slices((feed(frame), y)).shuffle(len(y), seed=0).batch(64)
    model.fit(data, epochs=3, verbose=0, shuffle=False)  # the dataset shuffles itself; Keras warns otherwise
    return model


def aiaas(*argv) -> None:
    assert cli.main(list(argv)) == 0, argv


def test_own_model_through_the_whole_lifecycle(tmp_path, capsys):
    import httpx

    train, y = own_data()
    model = own_model(train, y)
    model.save(tmp_path / "own.keras")
    train.to_csv(tmp_path / "train.csv", index=False)
    root = str(tmp_path / "models")

    # register with no metadata: the signature is read from the model
    aiaas("models", "register", "own", str(tmp_path / "own.keras"), "--data", str(tmp_path / "train.csv"),
          "--label", "stable", "--registry", root)
    meta = ModelRegistry(root).metadata("own", 1)
    assert (meta["kind"], meta["numeric"], meta["categorical"]) == ("tabular", NUMERIC, ["city"])

    rows = train.iloc[:5]
    expected = np.asarray(model(feed(rows))).ravel()
    with live_server(create_app(Settings(registry=root, canary_seed=0))) as url, \
            httpx.Client(base_url=url, timeout=30) as http:
        # TF Serving REST and KServe V2 give the model's own predictions
        tfs = http.post("/v1/models/own:predict", json={"instances": rows.to_dict("records")})
        assert tfs.status_code == 200, tfs.text
        np.testing.assert_allclose(np.ravel(tfs.json()["predictions"]), expected, atol=1e-5)
        v2 = http.post("/v2/models/own/infer", json={"inputs": [
            {"name": c, "datatype": "FP32", "shape": [5, 1], "data": rows[c].tolist()} for c in NUMERIC] + [
            {"name": "city", "datatype": "BYTES", "shape": [5, 1], "data": rows["city"].tolist()}]})
        assert v2.status_code == 200, v2.text
        np.testing.assert_allclose(v2.json()["outputs"][0]["data"], expected, atol=1e-5)

        # explained over HTTP: not the course's structure, so a model-agnostic explainer, said in the reply
        reply = http.post("/v1/models/own:explain", json={"instances": rows.iloc[:2].to_dict("records")})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["explainer"]["method"] == "exact" and "features" in body["explainer"]["reason"]
        assert body["explainer"]["model_rows_per_instance"] == 2 ** 5 * 50
        for e, p in zip(body["explanations"], expected):
            assert set(e["values"]) == {*NUMERIC, "city"}
            assert abs(sum(e["values"].values()) + e["base_value"] - e["prediction"]) < 1e-5  # additivity
            assert abs(e["prediction"] - p) < 1e-5

        # drift: column kinds inferred from the dtypes, the shifted column flagged
        current = train.sample(300, random_state=1).assign(income=lambda d: d.income * 1.3)
        report = monitoring.drift_report(train, current)
        by_feature = report.set_index("feature")
        assert set(by_feature.index) >= {*NUMERIC, "city"}
        assert by_feature.loc["income", "level"] == "alert" and (by_feature.drop("income")["level"] == "ok").all()

        # version 2 (retrained on other rows): registered without a label, it gets no traffic, even after a reload
        v2_model = own_model(*own_data(seed=1), seed=1)
        v2_model.save(tmp_path / "own_v2.keras")
        aiaas("models", "register", "own", str(tmp_path / "own_v2.keras"), "--data", str(tmp_path / "train.csv"),
              "--registry", root)
        assert http.post("/v1/models/own:reload").json()["stable"] == 1

        def answered_by(n: int = 40) -> list[str]:
            return [http.post("/v1/models/own:predict", json={"instances": rows.iloc[:1].to_dict("records")})
                    .headers["x-model-version"] for _ in range(n)]

        assert set(answered_by(10)) == {"1"}
        # a canary at 30 %
        aiaas("models", "label", "own", "canary", "2", "--registry", root)
        reply = http.post("/v1/models/own:reload", json={"canary_weight": 0.3}).json()
        assert (reply["canary"], reply["canary_weight"]) == (2, 0.3)
        assert 0 < answered_by().count("2") < 40
        # promoted, then rolled back: the rollback removes the canary label and its weight with it
        aiaas("models", "promote", "own", "2", "--registry", root)
        http.post("/v1/models/own:reload")
        assert set(answered_by(5)) == {"2"}
        aiaas("models", "rollback", "own", "--registry", root)
        reply = http.post("/v1/models/own:reload").json()
        assert (reply["stable"], reply["canary"], reply["canary_weight"], reply["shadow"]) == (1, None, 0.0, False)
        assert answered_by().count("2") == 0
        # labelling a canary again does not bring the old weight back
        aiaas("models", "label", "own", "canary", "2", "--registry", root)
        assert http.post("/v1/models/own:reload").json()["canary_weight"] == 0.0
        assert answered_by().count("2") == 0

    # the registry command lists it
    capsys.readouterr()
    aiaas("models", "list", "--json", "--registry", root)
    listed = json.loads(capsys.readouterr().out)
    assert any(m.get("name") == "own" for m in listed), listed

    # export and compare: .keras and SavedModel keep the string lookup; the numeric head goes anywhere
    served = ModelRegistry(root).load("own", "stable")
    table = export.compare_formats(served, feed(rows), tmp_path / "exports", formats=("keras", "saved_model"),
                                   repeats=1)
    assert [r["format"] for r in table] == ["keras", "saved_model"]
    assert all(r["max_abs_diff"] is not None and r["max_abs_diff"] < 1e-5 for r in table), table
    encoder, head = export.numeric_parts(served)
    np.testing.assert_allclose(np.asarray(head(encoder(feed(rows)))).ravel(), expected, atol=1e-5)
