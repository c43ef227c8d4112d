"""Used by notebooks 01, 05, 06, 09, 10, 11, 14, 15 and 16; also imported by the CLI/service.

Keras model builders used by more than one notebook and by the service.

:func:`tabular_classifier` puts the preprocessing inside the model (Normalization for numbers,
StringLookup one-hot for categories), so a saved ``.keras`` file takes raw rows and nobody can forget
to scale a request — the mistake of the source material's Flask example.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aiaas_lib.env import import_tensorflow
from aiaas_lib.validation import positive_int


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

    epochs = positive_int("epochs", epochs)
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


def fashion_cnn(filters: Sequence[int] = (32, 64), dense: int = 128, dropout: float = 0.3,
                output: str = "logits", dtype_policy: str | None = None, batch_norm: bool = True,
                name: str = "fashion_cnn"):
    """A small CNN for 28×28 grey images and 10 classes (Fashion-MNIST, MNIST).

    Each entry of ``filters`` adds a block Conv2D(3×3, same padding) → BatchNormalization → ReLU →
    MaxPool(2×2) that halves the image; then Flatten → Dropout → Dense(``dense``, ReLU) → Dropout →
    Dense(10) → the output activation, always computed in float32: under a mixed policy the layers
    compute in float16/bfloat16 but the logits or probabilities (and so the loss) stay float32.
    BatchNormalization uses momentum 0.9 (Keras' default 0.99 leaves its moving averages far behind
    after the few hundred steps of a short run, and the model then fails at inference).

    Parameters
    ----------
    filters : sequence of int
        Channels of each convolution block (1–3 blocks: 28 → 14 → 7 → 3 pixels).
    dense : int
        Width of the hidden dense layer.
    dropout : float
        Dropout rate in [0, 1).
    output : {"logits", "softmax"}
        Raw scores (use a loss with ``from_logits=True``) or class probabilities.
    dtype_policy : str, optional
        Keras dtype policy of the model, e.g. ``"float32"`` or ``"mixed_float16"`` (from
        :func:`aiaas_lib.training.precision_policy`); ``None`` uses Keras' global policy. ``compile``
        wraps the optimizer in a ``LossScaleOptimizer`` when it is ``"mixed_float16"``.
    batch_norm : bool
        ``False`` drops the BatchNormalization layers (and gives the convolutions a bias): then the
        model's output for one image does not depend on the other images of its batch.

    Returns
    -------
    keras.Model
        Uncompiled; input (batch, 28, 28, 1) float32 in [0, 1]; output (batch, 10) float32.

    Examples
    --------
    >>> import numpy as np
    >>> model = fashion_cnn(dtype_policy="mixed_float16")
    >>> y_hat = model(np.zeros((2, 28, 28, 1), "float32"))
    >>> tuple(y_hat.shape), y_hat.dtype.name
    ((2, 10), 'float32')
    """
    import_tensorflow()
    import keras

    if output not in ("logits", "softmax"):
        raise ValueError(f"output={output!r}; expected 'logits' or 'softmax'")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout={dropout!r} must be in [0, 1)")
    filters = tuple(filters)
    if not 1 <= len(filters) <= 3 or any(int(f) < 1 for f in filters):
        raise ValueError(f"filters={filters!r}: give 1 to 3 positive channel counts (28 → 14 → 7 → 3 pixels)")
    dense = positive_int("dense", dense)
    policy = keras.mixed_precision.Policy(dtype_policy) if dtype_policy is not None else None
    inputs = keras.Input(shape=(28, 28, 1), name="image")
    x = inputs
    for i, f in enumerate(filters):
        x = keras.layers.Conv2D(int(f), 3, padding="same", use_bias=not batch_norm, dtype=policy, name=f"conv_{i}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(momentum=0.9, dtype=policy, name=f"bn_{i}")(x)
        x = keras.layers.ReLU(dtype=policy, name=f"relu_{i}")(x)
        x = keras.layers.MaxPooling2D(dtype=policy, name=f"pool_{i}")(x)
    x = keras.layers.Flatten(dtype=policy, name="flatten")(x)
    x = keras.layers.Dropout(dropout, dtype=policy, name="dropout_0")(x)
    x = keras.layers.Dense(int(dense), activation="relu", dtype=policy, name="hidden")(x)
    x = keras.layers.Dropout(dropout, dtype=policy, name="dropout_1")(x)
    x = keras.layers.Dense(10, dtype=policy, name="scores")(x)
    out = keras.layers.Activation("linear" if output == "logits" else "softmax", dtype="float32", name=output)(x)
    model = keras.Model(inputs, out, name=name)
    if policy is not None:
        model.dtype_policy = policy  # so compile() adds loss scaling under mixed_float16, as under the global policy
    return model
