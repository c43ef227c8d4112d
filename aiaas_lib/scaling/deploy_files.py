"""Used by notebook 17.

The cluster configuration files in ``deploy/``, read and parsed (for notebook 17 and the tests).

:func:`read` parses a file by its kind: YAML (``.yaml``; all documents), JSON (``.json``), TF Serving's
text-protobuf ``models.config`` (:func:`parse_models_config`), or text (``.md``).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

#: The files notebook 17 shows, in order.
FILES = ("tf_config.json", "ray-cluster.yaml", "rayservice.yaml", "models.config", "kserve-inferenceservice.yaml")


def deploy_dir() -> Path:
    """The repository's ``deploy/`` folder.

    Examples
    --------
    >>> (deploy_dir() / "models.config").is_file()
    True
    """
    return Path(__file__).resolve().parents[2] / "deploy"


def parse_models_config(text: str) -> dict[str, dict]:
    """TF Serving's ``model_config_list`` → ``{name: {"base_path", "platform", "versions", "labels"}}``
    (a small reader for the fields used here, not a full text-protobuf parser).

    Examples
    --------
    >>> text = 'model_config_list { config { name: "churn" base_path: "/models/churn" model_platform: "tensorflow" '
    >>> text += 'model_version_policy { specific { versions: 1 versions: 2 } } version_labels { key: "stable" value: 1 } } }'
    >>> parse_models_config(text)
    {'churn': {'base_path': '/models/churn', 'platform': 'tensorflow', 'versions': [1, 2], 'labels': {'stable': 1}}}
    """
    body = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    models = {}
    for chunk in re.split(r"\bconfig\s*\{", body)[1:]:
        name = re.search(r'\bname:\s*"([^"]+)"', chunk)
        if name is None:
            raise ValueError(f"a config block without a name: {chunk[:80]!r}")
        models[name.group(1)] = {
            "base_path": (re.search(r'base_path:\s*"([^"]+)"', chunk) or [None, None])[1],
            "platform": (re.search(r'model_platform:\s*"([^"]+)"', chunk) or [None, None])[1],
            "versions": [int(v) for v in re.findall(r"\bversions:\s*(\d+)", chunk)],
            "labels": {k: int(v) for k, v in re.findall(r'key:\s*"([^"]+)"\s*value:\s*(\d+)', chunk)},
        }
    return models


def read(name: str):
    """Parse ``deploy/<name>``: a list of YAML documents, a JSON value, the models.config dict, or text.

    Examples
    --------
    >>> read("tf_config.json")["task"]
    {'type': 'worker', 'index': 0}
    >>> read("secrets.txt")
    Traceback (most recent call last):
    ...
    ValueError: name='secrets.txt'; expected one of ['README.md', 'tf_config.json', 'ray-cluster.yaml', 'rayservice.yaml', 'models.config', 'kserve-inferenceservice.yaml']
    """
    known = ["README.md", *FILES]
    if name not in known:
        raise ValueError(f"name={name!r}; expected one of {known}")
    text = (deploy_dir() / name).read_text()
    if name.endswith(".yaml"):
        import yaml

        return [doc for doc in yaml.safe_load_all(text) if doc is not None]
    if name.endswith(".json"):
        return json.loads(text)
    if name == "models.config":
        return parse_models_config(text)
    return text
