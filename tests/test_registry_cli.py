"""`aiaas models list|show|register|promote|rollback|label`: the registry for people who do not write Python."""
import json
import re

import numpy as np
import pandas as pd
import pytest

from aiaas_lib import cli
from aiaas_lib.env import import_tensorflow
from aiaas_lib.packaging.registry import ModelRegistry

import_tensorflow()
import keras  # noqa: E402  (after import_tensorflow, which keeps TensorFlow's import quiet)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A practitioner's tabular model saved as .keras, its training rows as CSV, and a Lambda model."""
    folder = tmp_path_factory.mktemp("own")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.uniform(18, 80, 40), "city": rng.choice(["lyon", "oslo"], 40)})
    keras.utils.set_random_seed(0)
    age, city = keras.Input((1,), name="age"), keras.Input((1,), name="city", dtype="string")
    norm = keras.layers.Normalization()
    norm.adapt(frame[["age"]].to_numpy("float32"))
    lookup = keras.layers.StringLookup(output_mode="one_hot")
    lookup.adapt(frame["city"].to_numpy()[:, None])
    out = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Concatenate()([norm(age), lookup(city)]))
    keras.Model({"age": age, "city": city}, out).save(folder / "own.keras")
    frame.to_csv(folder / "train.csv", index=False)
    unsafe = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda t: t * 2), keras.layers.Dense(1)])
    unsafe.save(folder / "unsafe.keras")
    (folder / "typo.json").write_text(json.dumps({"numeric": ["Age"], "categorical": ["city"]}))
    return folder


def models(root, *argv):
    return cli.main(["models", *argv, "--registry", str(root)])


@pytest.fixture
def root(tmp_path, files, capsys):
    """A registry with two versions of 'own', v1 stable."""
    assert models(tmp_path, "register", "own", str(files / "own.keras"), "--data", str(files / "train.csv"),
                  "--label", "stable") == 0
    assert models(tmp_path, "register", "own", str(files / "own.keras")) == 0
    capsys.readouterr()
    return tmp_path


def test_register_reads_the_signature_and_labels(root, capsys):
    reg = ModelRegistry(root)
    assert reg.versions("own") == [1, 2] and reg.labels("own") == {"stable": 1}
    first, second = reg.metadata("own", 1), reg.metadata("own", 2)
    assert (first["kind"], first["numeric"], first["categorical"]) == ("tabular", ["age"], ["city"])
    assert len(first["background"]) == 40 and "background" not in second  # --data gave v1 its rows
    assert second["input_schema"]["categorical"] == {"city": ["lyon", "oslo"]}  # read from the StringLookup


def test_register_prints_version_and_kind(tmp_path, files, capsys):
    assert models(tmp_path, "register", "own", str(files / "own.keras"), "--label", "stable") == 0
    out = capsys.readouterr().out
    assert "registered own version 1 (kind tabular)" in out and "stable -> version 1" in out


def test_list_table_and_json(root, capsys):
    assert models(root, "list") == 0
    assert "own                  1,2                   2  stable=1" in capsys.readouterr().out
    assert models(root, "list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == [
        {"name": "own", "versions": [1, 2], "latest": 2, "labels": {"stable": 1}}]


def test_show_summarises_one_version(root, capsys):
    assert models(root, "show", "own", "stable") == 0
    out = capsys.readouterr().out
    assert out.startswith("own version 1  labels ['stable']")
    assert "  input  city: string [1]" in out and "  background: 40 rows (for :explain)" in out
    assert models(root, "show", "own", "--json") == 0
    assert json.loads(capsys.readouterr().out)["version"] == 2


def test_promote_canary_rollback_clears_canary(root, capsys):
    assert models(root, "label", "own", "canary", "2") == 0
    assert models(root, "promote", "own", "2") == 0
    assert "own: stable 1 -> 2" in capsys.readouterr().out
    assert models(root, "rollback", "own") == 0
    assert "own: stable 2 -> 1; removed ['canary'] (they pointed at version 2); labels {'stable': 1}" in \
        capsys.readouterr().out
    assert ModelRegistry(root).labels("own") == {"stable": 1}


def test_label_remove(root, capsys):
    assert models(root, "label", "own", "canary", "latest") == 0
    assert models(root, "label", "own", "canary", "--remove") == 0
    assert ModelRegistry(root).labels("own") == {"stable": 1}


@pytest.mark.parametrize("argv, message", [
    (["show", "churn"], r"error: model 'churn' is not in the registry at .*; known models: \['own'\]"),
    (["promote", "own", "7"], r"error: model 'own' has no version 7; versions: \[1, 2\]"),
    (["rollback", "own"], r"error: cannot roll back label 'stable' of model 'own': it has no earlier version"),
    (["label", "own", "canary"], r"error: give the VERSION for label 'canary'"),
    (["register", "own", "missing.keras"], r"error: missing.keras does not exist"),
])
def test_refusals_exit_1_with_one_error_line(root, capsys, argv, message):
    assert models(root, *argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert re.match(message, err), err


def test_lambda_file_refused(tmp_path, files, capsys):
    assert models(tmp_path, "register", "bad", str(files / "unsafe.keras")) == 1
    assert "holds Python code (a Lambda layer) and was refused by Keras safe_mode" in capsys.readouterr().err
    assert ModelRegistry(tmp_path).models() == []


def test_metadata_that_disagrees_with_the_model_refused(tmp_path, files, capsys):
    assert models(tmp_path, "register", "own", str(files / "own.keras"), "--metadata", str(files / "typo.json")) == 1
    assert "metadata['numeric'] names 'Age', which is not an input of the model (did you mean 'age'?)" in \
        capsys.readouterr().err


def test_bad_command_line_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        models(tmp_path, "promote", "own")
    assert exit_info.value.code == 2


def test_empty_registry_says_how_to_add(tmp_path, capsys):
    assert models(tmp_path, "list") == 0
    assert "no models in" in capsys.readouterr().out
