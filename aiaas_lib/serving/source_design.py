"""Used by notebook 12.

The source article's serving design, rebuilt faithfully but runnable, to measure the course's service
against it.

The source trains a Keras ``Sequential`` MLP (Dense 32 relu → 16 relu → 1 sigmoid, Adam, binary
cross-entropy) on numeric features and serves it with Flask: ``/predict`` does ``request.get_json()``,
``model.predict(np.array(...))`` for every request, and returns ``jsonify``; the app runs on Flask's
development server (``app.run``). Here:

- the features are the churn design matrix of :func:`aiaas_lib.data.churn_matrix` (standardised
  numbers, one-hot categories), because the source's model takes numbers only; the client sends the
  encoded rows as ``{"features": [[...], ...]}``;
- two changes make it run at all: the reply is ``jsonify(prediction.tolist())`` (a NumPy array is not
  JSON), and ``debug=False`` (the debugger's reloader would start a second process);
- one change *helps* it: ``model.predict(..., verbose=0)`` (the default prints a progress bar per call).

Run it with ``python -m aiaas_lib.serving.source_design --model FILE.keras --port 8001``.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class SourceModel:
    """The source design's trained model: its file, a few encoded test rows to send, and its ROC-AUC."""

    path: Path
    features: np.ndarray
    roc_auc: float


def train_source_model(folder: str | Path, mode: str | None = None, seed: int = 0) -> SourceModel:
    """Train the source's MLP on churn design-matrix features and save it as ``folder/source_mlp.keras``.

    Fast mode: 3 epochs; full mode: the source's 10 epochs (batch 32 both). ``features`` holds 32 encoded
    test rows (float64, 45 columns) to put in requests.

    Examples
    --------
    ``train_source_model(tmp_dir, mode="fast")`` takes a few seconds; ``.roc_auc`` is about 0.84.

    >>> train_source_model("/tmp/unused", mode="quick")
    Traceback (most recent call last):
    ...
    ValueError: mode='quick'; expected one of ['fast', 'full']
    """
    from aiaas_lib import config, data

    mode = config.mode() if mode is None else mode
    if mode not in config.MODES:
        raise ValueError(f"mode={mode!r}; expected one of {list(config.MODES)}")
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split  # the source's 80/20 split

    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    X, y = data.churn_xy(data.load_churn())
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=seed, stratify=y)
    M_train, M_test, _ = data.churn_matrix(X_train, X_test)
    config.set_seed(seed)
    model = keras.Sequential([
        keras.Input((M_train.shape[1],)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ], name="source_mlp")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(M_train, np.asarray(y_train), epochs=3 if mode == "fast" else 10, batch_size=32, verbose=0)
    auc = float(roc_auc_score(np.asarray(y_test), model.predict(M_test, verbose=0).ravel()))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "source_mlp.keras"
    model.save(path)
    return SourceModel(path, M_test[:32], round(auc, 4))


def create_flask_app(model):
    """The source's Flask app around a loaded Keras ``model``: ``POST /predict`` with
    ``{"features": [[numbers], ...]}`` → the list of ``model.predict`` outputs.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> fake = SimpleNamespace(predict=lambda x, verbose=0: x.sum(axis=1, keepdims=True))
    >>> client = create_flask_app(fake).test_client()
    >>> client.post("/predict", json={"features": [[1.0, 2.0], [3.0, 4.0]]}).get_json()
    [[3.0], [7.0]]
    """
    from flask import Flask, jsonify, request

    app = Flask("source_design")

    @app.route("/predict", methods=["POST"])
    def predict():
        data = request.get_json()
        prediction = model.predict(np.array(data["features"]), verbose=0)
        return jsonify(prediction.tolist())

    return app


def main(argv: list[str] | None = None) -> int:
    """``python -m aiaas_lib.serving.source_design --model FILE --port P``: load the model, ``app.run`` it."""
    parser = argparse.ArgumentParser(description="the source article's Flask + model.predict service")
    parser.add_argument("--model", required=True, help="a .keras file from train_source_model")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    if not Path(args.model).is_file():
        print(f"error: --model {args.model!r} does not exist; make it with train_source_model()",
              file=sys.stderr)
        return 2
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    app = create_flask_app(keras.models.load_model(args.model))
    app.run(host=args.host, port=args.port, debug=False, threaded=True)  # Flask's development server
    return 0


if __name__ == "__main__":
    sys.exit(main())
