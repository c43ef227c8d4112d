"""Keras model builders used by more than one notebook and by the service.

:func:`tabular_classifier` puts the preprocessing inside the model (Normalization for numbers,
StringLookup one-hot for categories), so a saved ``.keras`` file takes raw rows and nobody can forget
to scale a request — the mistake of the source material's Flask example.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aiaas_lib.env import import_tensorflow


def tabular_inputs(frame, numeric: Sequence[str], categorical: Sequence[str]) -> dict[str, np.ndarray]:
    """Turn a DataFrame into the dict of column arrays that :func:`tabular_classifier` models take:
    numbers as float32 of shape (n, 1), categories as strings of shape (n, 1).

    Examples
    --------
    >>> import pandas as pd
    >>> x = tabular_inputs(pd.DataFrame({"a": [1, 2], "c": ["x", "y"]}), ["a"], ["c"])
    >>> x["a"].dtype, x["c"].shape
    (dtype('float32'), (2, 1))
    """
    missing = [c for c in (*numeric, *categorical) if c not in frame.columns]
    if missing:
        raise ValueError(f"columns {missing} are missing; the model needs {list(numeric) + list(categorical)}")
    out = {c: frame[c].to_numpy(dtype="float32").reshape(-1, 1) for c in numeric}
    out.update({c: frame[c].astype(str).to_numpy(dtype=str).reshape(-1, 1) for c in categorical})
    bad = [c for c in numeric if np.isnan(out[c]).any()]
    if bad:
        raise ValueError(f"numeric columns {bad} contain missing values; fill them before calling the model")
    return out


def tabular_dataset(frame, y, numeric: Sequence[str], categorical: Sequence[str], batch_size: int = 64,
                    shuffle: bool = True, seed: int = 0):
    """A batched ``tf.data.Dataset`` of (column dict, label) for ``model.fit`` (Keras' NumPy adapter
    does not take string columns). Pass ``shuffle=False`` to ``fit``: the dataset shuffles itself.

    Examples
    --------
    >>> import pandas as pd
    >>> ds = tabular_dataset(pd.DataFrame({"a": [1, 2, 3]}), [0, 1, 0], ["a"], [], batch_size=2)
    >>> [len(yb) for _, yb in ds]
    [2, 1]
    """
    tf = import_tensorflow()
    y = np.asarray(y)
    if len(y) != len(frame):
        raise ValueError(f"{len(frame)} rows but {len(y)} labels; they must match")
    ds = tf.data.Dataset.from_tensor_slices((tabular_inputs(frame, numeric, categorical), y))
    if shuffle:
        ds = ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def tabular_classifier(frame, numeric: Sequence[str], categorical: Sequence[str],
                       hidden: Sequence[int] = (32, 16), dropout: float = 0.0, name: str = "tabular"):
    """A binary classifier over raw table rows, its preprocessing adapted to ``frame`` (training rows only).

    Parameters
    ----------
    frame : pandas.DataFrame
        Training rows: the Normalization means/variances and the category vocabularies come from here.
    numeric, categorical : sequence of str
        Column names of each kind.
    hidden : sequence of int
        Hidden layer widths; ``()`` gives logistic regression.
    dropout : float
        Dropout rate after each hidden layer, in [0, 1).

    Returns
    -------
    keras.Model
        Uncompiled; input: dict of columns as from :func:`tabular_inputs`; output: P(class 1), shape (n, 1).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": ["x", "y", "x"]})
    >>> model = tabular_classifier(df, ["a"], ["c"], hidden=(4,))
    >>> model(tabular_inputs(df, ["a"], ["c"])).shape
    TensorShape([3, 1])
    """
    import_tensorflow()
    import keras

    if not 0 <= dropout < 1:
        raise ValueError(f"dropout={dropout!r} must be in [0, 1)")
    if any(int(h) < 1 for h in hidden):
        raise ValueError(f"hidden={tuple(hidden)!r}: every layer width must be a positive int")
    data = tabular_inputs(frame, numeric, categorical)
    inputs, encoded = {}, []
    for col in numeric:
        inputs[col] = keras.Input(shape=(1,), name=col, dtype="float32")
        norm = keras.layers.Normalization(name=f"{col}_norm")
        norm.adapt(data[col])
        encoded.append(norm(inputs[col]))
    for col in categorical:
        inputs[col] = keras.Input(shape=(1,), name=col, dtype="string")
        lookup = keras.layers.StringLookup(output_mode="one_hot", name=f"{col}_onehot")
        lookup.adapt(data[col])
        encoded.append(lookup(inputs[col]))
    x = keras.layers.Concatenate(name="features")(encoded) if len(encoded) > 1 else encoded[0]
    for i, width in enumerate(hidden):
        x = keras.layers.Dense(int(width), activation="relu", name=f"hidden_{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    out = keras.layers.Dense(1, activation="sigmoid", name="p_positive")(x)
    return keras.Model(inputs, out, name=name)


def fit_tabular_classifier(X, y, numeric: Sequence[str], categorical: Sequence[str], hidden: Sequence[int] = (),
                           epochs: int = 10, learning_rate: float = 1e-3, batch_size: int = 64, seed: int = 0,
                           validation=None, patience: int = 5, class_weight: dict | None = None,
                           name: str = "tabular"):
    """Build a :func:`tabular_classifier` adapted to ``X``, train it with Adam on binary cross-entropy,
    and return it (with ``model.history``).

    Parameters
    ----------
    validation : (X_val, y_val), optional
        When given, training stops early once the validation loss has not improved for ``patience``
        epochs, and the best weights are kept.
    class_weight : dict, optional
        Loss weight per class, e.g. ``{0: 1.0, 1: 2.8}`` to count each rare positive as 2.8 rows.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "c": ["x", "x", "y", "y"]})
    >>> model = fit_tabular_classifier(X, [0, 0, 1, 1], ["a"], ["c"], epochs=2)
    >>> len(model.history.history["loss"])
    2
    """
    import_tensorflow()
    import keras

    from aiaas_lib.config import set_seed

    if int(epochs) < 1:
        raise ValueError(f"epochs={epochs!r} must be a positive int")
    set_seed(seed)
    model = tabular_classifier(X, numeric, categorical, hidden=hidden, name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="binary_crossentropy")
    train = tabular_dataset(X, y, numeric, categorical, batch_size=batch_size, seed=seed)
    kwargs = {}
    if validation is not None:
        kwargs["validation_data"] = tabular_dataset(*validation, numeric, categorical, batch_size=512, shuffle=False)
        kwargs["callbacks"] = [keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)]
    model.fit(train, epochs=int(epochs), verbose=0, shuffle=False, class_weight=class_weight, **kwargs)
    return model
