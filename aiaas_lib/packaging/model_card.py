"""Used by notebooks 05 and 11; also imported by the CLI/service.

Save a Keras model with a small model card, and load it back only if it is the file the card describes.

The card (``model_card.json``) says what the model is for, how good it was, which data made it (a hash),
what input it takes (a :mod:`aiaas_lib.packaging.schema`), with which library versions, and the sha256 of the model
file. :func:`load_model` refuses a model whose bytes no longer match, and keeps Keras' ``safe_mode`` on.
Chapter 11's registry builds on this.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from aiaas_lib.validation import file_sha256

MODEL_FILE, CARD_FILE = "model.keras", "model_card.json"


class IntegrityError(RuntimeError):
    """A saved model is missing or does not match its card."""


def frame_hash(frame) -> str:
    """sha256 of a DataFrame's contents (values and index), to record which data trained a model.

    Examples
    --------
    >>> import pandas as pd
    >>> frame_hash(pd.DataFrame({"a": [1, 2]})) == frame_hash(pd.DataFrame({"a": [1, 2]}))
    True
    """
    import pandas as pd

    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).values.tobytes()).hexdigest()


def save_model(model, folder: str | Path, card: dict) -> Path:
    """Write ``folder/model.keras`` and ``folder/model_card.json`` (``card`` plus file hash, versions, time).

    Returns the folder. ``card`` must be JSON-serialisable; it typically holds ``name``, ``metrics``,
    ``data_sha256`` and ``input_schema``.
    """
    from aiaas_lib.env import package_version

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / MODEL_FILE)
    full = {
        **card,
        "model_file": MODEL_FILE,
        "model_sha256": file_sha256(folder / MODEL_FILE),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": {k: package_version(k) for k in ("tensorflow", "keras", "aiaas-lib")},
    }
    (folder / CARD_FILE).write_text(json.dumps(full, indent=2, sort_keys=True) + "\n")
    return folder


def read_card(folder: str | Path) -> dict:
    """The model card in ``folder``."""
    path = Path(folder) / CARD_FILE
    if not path.is_file():
        raise IntegrityError(f"{path} is missing: this folder holds no saved model card")
    return json.loads(path.read_text())


def load_model(folder: str | Path):
    """Load ``folder/model.keras`` after checking its sha256 against the card; Keras ``safe_mode`` stays on.

    Raises
    ------
    IntegrityError
        If the card or the model file is missing, or the file's sha256 differs from the card's.
    """
    from aiaas_lib.env import import_tensorflow

    folder = Path(folder)
    card = read_card(folder)
    path = folder / card.get("model_file", MODEL_FILE)
    if not path.is_file():
        raise IntegrityError(f"{path} is missing")
    digest = file_sha256(path)
    if digest != card["model_sha256"]:
        raise IntegrityError(
            f"{path} does not match its model card: sha256 {digest[:12]}… but the card says "
            f"{card['model_sha256'][:12]}…; refusing to load a model that changed after it was saved"
        )
    import_tensorflow()
    import keras

    return keras.saving.load_model(path, safe_mode=True)
