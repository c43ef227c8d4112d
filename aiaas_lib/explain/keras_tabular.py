"""Used by notebooks 09 and 10 (through :mod:`aiaas_lib.explain`); also imported by the CLI/service.

Explaining the course's Keras tabular models (:func:`aiaas_lib.keras_models.tabular_classifier`) per raw column.

Those models take a dict of raw columns, categories as strings, so a gradient explainer cannot run on
them directly. :func:`tabular_parts` cuts a model at its layer ``"features"`` (the Concatenate of the
normalised numbers and one-hot categories) into an ``encoder`` (raw columns → encoded vector) and a
``head`` (encoded vector → P(class 1)); DeepExplainer or GradientExplainer explain the head, and
:func:`group_attributions` adds each raw column's encoded positions back together (Shapley values of a
one-hot block add up to the value of the column when the block is treated as one player — exactly so for
DeepLIFT's summation-to-delta, which is what makes the totals additive).

The model-agnostic methods (``exact``, ``permutation``, ``kernel``) instead work on the raw columns
themselves, with categories as integer codes (:class:`ColumnCodec`), calling the whole model.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

import numpy as np

from aiaas_lib.env import import_tensorflow
from aiaas_lib.explain.shap_wrappers import Attribution, fast_predict, shap_explainer

METHODS = ("deep", "gradient", "exact", "permutation", "kernel")
FEATURES_LAYER = "features"


def _features_layer(model, name: str):
    try:
        return model.get_layer(name)
    except ValueError:
        raise ValueError(
            f"model {model.name!r} has no layer named {name!r}; it must be a tabular_classifier "
            f"(its layers: {[layer.name for layer in model.layers]})"
        ) from None


def _source_input(tensor) -> str:
    """Follow a Keras tensor back to the one model input it is computed from; return that input's name."""
    seen, stack, names = set(), [tensor], set()
    while stack:
        t = stack.pop()
        op = t._keras_history.operation
        if type(op).__name__ == "InputLayer":
            names.add(t.name)
            continue
        for node in op._inbound_nodes:
            for parent in node.input_tensors:
                if id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append(parent)
    if len(names) != 1:
        raise ValueError(f"an input of the features layer depends on {len(names)} model inputs {sorted(names)}; "
                         "expected exactly one raw column per block")
    return names.pop()


def column_groups(model, features_layer: str = FEATURES_LAYER) -> dict[str, np.ndarray]:
    """Which positions of the encoded vector (the output of layer ``features_layer``) belong to which raw
    column: ``{column name: array of positions}``, in the order of the encoded vector. A number takes one
    position, a category one per vocabulary entry (including the out-of-vocabulary slot).

    Examples
    --------
    >>> import pandas as pd
    >>> from aiaas_lib.keras_models import tabular_classifier
    >>> df = pd.DataFrame({"a": [1.0, 2.0], "c": ["x", "y"]})
    >>> {k: v.tolist() for k, v in column_groups(tabular_classifier(df, ["a"], ["c"], hidden=(2,))).items()}
    {'a': [0], 'c': [1, 2, 3]}
    """
    layer = _features_layer(model, features_layer)
    groups, start = {}, 0
    for tensor in layer._inbound_nodes[0].input_tensors:
        width = int(tensor.shape[-1])
        groups[_source_input(tensor)] = np.arange(start, start + width)
        start += width
    return groups


def tabular_parts(model, features_layer: str = FEATURES_LAYER):
    """Split a tabular model into ``(encoder, head)`` at layer ``features_layer``.

    ``encoder`` is a ``keras.Model`` from the model's raw-column inputs to the encoded vector; ``head``
    applies the remaining layers, in order, to an encoded vector, so ``head(encoder(x)) == model(x)``.
    The layers after ``features`` must form a chain (each one reads only the previous one's output), as
    in :func:`~aiaas_lib.keras_models.tabular_classifier`; anything else is refused.

    Examples
    --------
    >>> import pandas as pd
    >>> from aiaas_lib.keras_models import tabular_classifier, tabular_inputs
    >>> df = pd.DataFrame({"a": [1.0, 2.0], "c": ["x", "y"]})
    >>> model = tabular_classifier(df, ["a"], ["c"], hidden=(2,))
    >>> encoder, head = tabular_parts(model)
    >>> x = tabular_inputs(df, ["a"], ["c"])
    >>> bool(np.allclose(head(encoder(x)), model(x)))
    True
    """
    import_tensorflow()
    import keras

    layer = _features_layer(model, features_layer)
    encoder = keras.Model(model.inputs, layer.output, name=f"{model.name}_encoder")
    rest = model.layers[model.layers.index(layer) + 1:]
    if not rest:
        raise ValueError(f"model {model.name!r} has no layers after {features_layer!r}; nothing to explain")
    previous = layer
    for later in rest:
        # node 0 is the call inside the model (later calls, e.g. by an earlier head, add nodes)
        parents = [t._keras_history.operation for t in later._inbound_nodes[0].input_tensors]
        if parents != [previous]:
            raise ValueError(f"layer {later.name!r} does not read only {previous.name!r}; the layers after "
                             f"{features_layer!r} must form a chain to be cut into encoder and head")
        previous = later
    encoded = keras.Input(shape=tuple(layer.output.shape[1:]), name="encoded")
    out = encoded
    for later in rest:
        out = later(out)
    head = keras.Model(encoded, out, name=f"{model.name}_head")
    return encoder, head


def group_attributions(values, groups) -> np.ndarray:
    """Sum attributions over each group of positions: (n, n_positions) → (n, n_groups).

    Parameters
    ----------
    values : array-like, shape (n_positions,) or (n, n_positions)
    groups : dict of name → positions, or sequence of positions
        Must cover every position exactly once (otherwise totals would not add up).

    Examples
    --------
    >>> group_attributions(np.array([[1.0, 2.0, 3.0]]), {"a": [0], "c": [1, 2]}).tolist()
    [[1.0, 5.0]]
    """
    values = np.asarray(values, dtype=np.float64)
    blocks = [np.asarray(g, dtype=int) for g in (groups.values() if isinstance(groups, dict) else groups)]
    width = values.shape[-1]
    covered = np.sort(np.concatenate(blocks)) if blocks else np.array([], dtype=int)
    if not np.array_equal(covered, np.arange(width)):
        raise ValueError(
            f"groups cover positions {covered.tolist()[:10]}{'...' if len(covered) > 10 else ''} "
            f"but values have {width} positions; every position 0..{width - 1} must be in exactly one group"
        )
    return np.stack([values[..., b].sum(axis=-1) for b in blocks], axis=-1)


class ColumnCodec:
    """Raw table rows ↔ a float matrix (numbers as they are, categories as integer codes), so that
    model-agnostic explainers, which mix rows column by column, can work on raw columns.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1.5, 2.0], "c": ["y", "x"]})
    >>> codec = ColumnCodec(["a"], ["c"]).fit(df)
    >>> codec.encode(df).tolist()
    [[1.5, 1.0], [2.0, 0.0]]
    >>> codec.decode(codec.encode(df)).equals(df)
    True
    """

    def __init__(self, numeric: Sequence[str], categorical: Sequence[str]):
        self.numeric, self.categorical = list(numeric), list(categorical)

    @property
    def columns(self) -> list[str]:
        """The raw columns, numbers first, in matrix order."""
        return self.numeric + self.categorical

    def fit(self, *frames) -> ColumnCodec:
        """Learn every category value present in ``frames``."""
        for frame in frames:
            missing = [c for c in self.columns if c not in frame.columns]
            if missing:
                raise ValueError(f"columns {missing} are missing; expected {self.columns}")
        self.levels_ = {c: sorted({str(v) for f in frames for v in f[c]}) for c in self.categorical}
        return self

    def extend(self, *frames) -> ColumnCodec:
        """Append category values first seen in ``frames`` to the end of each vocabulary (existing codes
        keep their meaning, so matrices encoded earlier stay valid)."""
        self._check_fitted()
        for c in self.categorical:
            known = set(self.levels_[c])
            new = sorted({str(v) for f in frames for v in f[c]} - known)
            self.levels_[c] = self.levels_[c] + new
        return self

    def _check_fitted(self):
        if not hasattr(self, "levels_"):
            raise RuntimeError("this ColumnCodec is not fitted yet; call fit(frame) first")

    def encode(self, frame) -> np.ndarray:
        """Rows → float matrix (n, n_columns)."""
        self._check_fitted()
        out = np.empty((len(frame), len(self.columns)))
        for j, c in enumerate(self.numeric):
            out[:, j] = frame[c].to_numpy(dtype=np.float64)
        for j, c in enumerate(self.categorical, start=len(self.numeric)):
            codes = {v: i for i, v in enumerate(self.levels_[c])}
            values = frame[c].astype(str)
            unknown = sorted(set(values) - set(codes))
            if unknown:
                raise ValueError(f"column {c!r} has values {unknown} not seen by fit; known: {self.levels_[c]}")
            out[:, j] = values.map(codes).to_numpy(dtype=np.float64)
        return out

    def decode(self, matrix):
        """Float matrix → rows (a DataFrame with the raw columns)."""
        import pandas as pd

        self._check_fitted()
        matrix = np.asarray(matrix, dtype=np.float64)
        data = {c: matrix[:, j] for j, c in enumerate(self.numeric)}
        for j, c in enumerate(self.categorical, start=len(self.numeric)):
            data[c] = np.asarray(self.levels_[c], dtype=object)[np.rint(matrix[:, j]).astype(int)]
        return pd.DataFrame(data)


def tabular_function(model, codec: ColumnCodec,
                     predict: Callable | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """``f(matrix) -> P(class 1)`` for a tabular model on :class:`ColumnCodec` matrices.

    ``predict`` takes the model's input dict and returns outputs; default :func:`fast_predict` (pass
    e.g. ``model.predict`` only to measure how slow it is).
    """
    from aiaas_lib.keras_models import tabular_inputs

    call = predict or fast_predict(model)

    def f(matrix):
        return np.asarray(call(tabular_inputs(codec.decode(matrix), codec.numeric, codec.categorical))).reshape(-1)

    return f


class TabularExplainer:
    """Explains a Keras tabular model per raw column, built once for a background, called per request.

    ``TabularExplainer(model, background_frame, numeric, categorical, method)(rows_frame)`` returns an
    :class:`~aiaas_lib.explain.shap_wrappers.Attribution` with values (n, n_columns) in the order
    ``numeric + categorical``, base values (n,), explaining P(class 1). See :func:`explain_keras_tabular`.
    """

    def __init__(self, model, background_frame, numeric: Sequence[str], categorical: Sequence[str],
                 method: str = "deep", seed: int = 0, nsamples: int = 200, max_evals: int = 500,
                 predict: Callable | None = None):
        from aiaas_lib.explain.shapley import MAX_EXACT_FEATURES, exact_shapley
        from aiaas_lib.keras_models import tabular_inputs

        if method not in METHODS:
            raise ValueError(f"method={method!r}; expected one of {list(METHODS)}")
        self.model, self.method = model, method
        self.numeric, self.categorical = list(numeric), list(categorical)
        self.feature_names = self.numeric + self.categorical
        if len(background_frame) == 0:
            raise ValueError("background_frame is empty; give some training rows (50-200 is typical)")
        self._inputs = lambda frame: tabular_inputs(frame, self.numeric, self.categorical)
        if method in ("deep", "gradient"):
            groups = column_groups(model)
            if set(groups) != set(self.feature_names):
                raise ValueError(f"the model's columns {sorted(groups)} differ from numeric + categorical "
                                 f"{sorted(self.feature_names)}")
            self._groups = [groups[c] for c in self.feature_names]
            self.encoder, head = tabular_parts(model)
            self._encode = fast_predict(self.encoder)
            background = self._encode(self._inputs(background_frame))
            self._shap = shap_explainer(head, background, kind=method, nsamples=nsamples, seed=seed)
        else:
            if method == "exact" and len(self.feature_names) > MAX_EXACT_FEATURES:
                raise ValueError(
                    f"method='exact' enumerates 2**{len(self.feature_names)} coalitions of raw columns; at most "
                    f"{MAX_EXACT_FEATURES} columns are allowed (use 'deep' or 'permutation')"
                )
            self.codec = ColumnCodec(self.numeric, self.categorical).fit(background_frame)
            f = tabular_function(model, self.codec, predict)
            background = self.codec.encode(background_frame)
            if method == "exact":
                self._shap = lambda X: Attribution(*exact_shapley(f, X, background))
            else:
                self._shap = shap_explainer(f, background, kind=method, max_evals=max_evals, nsamples=nsamples,
                                            seed=seed)

    def __call__(self, rows_frame) -> Attribution:
        """Attributions of ``rows_frame`` per raw column."""
        missing = [c for c in self.feature_names if c not in rows_frame.columns]
        if missing:
            raise ValueError(f"columns {missing} are missing from the rows; the model needs {self.feature_names}")
        if len(rows_frame) == 0:
            raise ValueError("rows_frame is empty; give at least one row to explain")
        if self.method in ("deep", "gradient"):
            encoded = self._encode(self._inputs(rows_frame))
            att = self._shap(encoded)
            values = group_attributions(att.values, self._groups)
        else:
            att = self._shap(self.codec.extend(rows_frame).encode(rows_frame))
            values = np.atleast_2d(att.values)
        base = np.broadcast_to(np.asarray(att.base_values, dtype=np.float64), (len(values),)).copy()
        return Attribution(values, base, list(self.feature_names), "P(class 1)", self.method)

    def predict(self, rows_frame) -> np.ndarray:
        """P(class 1) of the rows (what the attributions add up to), through ``predict_on_batch``."""
        return fast_predict(self.model)(self._inputs(rows_frame)).reshape(-1)


def explain_keras_tabular(model, X_frame, background_frame, numeric: Sequence[str], categorical: Sequence[str],
                          method: str = "deep", seed: int = 0, nsamples: int = 200, max_evals: int = 500,
                          predict: Callable | None = None) -> Attribution:
    """Attributions of a Keras tabular model's P(class 1) per raw column, for the rows ``X_frame``.

    Parameters
    ----------
    model : keras.Model
        A :func:`aiaas_lib.keras_models.tabular_classifier` (dict of raw columns in, P(class 1) out).
    X_frame, background_frame : pandas.DataFrame
        Rows to explain; rows standing for "unknown" (50–200 training rows).
    numeric, categorical : sequence of str
        The model's raw columns; the attributions come in the order ``numeric + categorical``.
    method : {"deep", "gradient", "exact", "permutation", "kernel"}
        ``deep``: DeepExplainer on the head, grouped per column (additive to ~1e-7, fastest);
        ``gradient``: expected gradients on the head (``nsamples`` per row; additive only approximately);
        ``exact``: :func:`~aiaas_lib.explain.shapley.exact_shapley` over the raw columns (at most 12);
        ``permutation`` / ``kernel``: shap's sampling explainers over the raw columns (``max_evals`` /
        ``nsamples`` model evaluations per row).
    predict : callable, optional
        For the raw-column methods: how to call the model on its input dict (default ``predict_on_batch``).

    Returns
    -------
    Attribution
        ``values`` (n, n_columns), ``base_values`` (n,), ``feature_names`` = numeric + categorical.

    Examples
    --------
    >>> import pandas as pd
    >>> from aiaas_lib.keras_models import tabular_classifier
    >>> df = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "c": ["x", "y", "x", "y"]})
    >>> model = tabular_classifier(df, ["a"], ["c"], hidden=(4,))
    >>> att = explain_keras_tabular(model, df.iloc[:2], df, ["a"], ["c"], method="exact")
    >>> att.values.shape, att.base_values.shape, att.feature_names
    ((2, 2), (2,), ['a', 'c'])
    """
    explainer = TabularExplainer(model, background_frame, numeric, categorical, method=method, seed=seed,
                                 nsamples=nsamples, max_evals=max_evals, predict=predict)
    return explainer(X_frame)


_CACHE: dict[tuple, tuple[weakref.ref, TabularExplainer]] = {}
_CACHE_SIZE = 8


def cached_explainer(model, background_frame, numeric: Sequence[str], categorical: Sequence[str],
                     method: str = "deep") -> TabularExplainer:
    """A :class:`TabularExplainer` reused across calls with the same model object and background rows
    (the key holds the model's identity, checked through a weak reference, and a hash of the background)."""
    from aiaas_lib.packaging.model_card import frame_hash

    key = (id(model), frame_hash(background_frame), tuple(numeric), tuple(categorical), method)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is model:
        return hit[1]
    explainer = TabularExplainer(model, background_frame, numeric, categorical, method=method)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (weakref.ref(model), explainer)
    return explainer


def explain_rows(model, rows_frame, background_frame, numeric: Sequence[str],
                 categorical: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """What the service's explain endpoint returns: per-raw-column attributions of P(class 1).

    Uses the fastest exact-additive method for a tabular Keras model, DeepExplainer on the model's head
    (a few milliseconds per row once built), with the explainer cached per model and background.

    Returns
    -------
    values : numpy.ndarray, shape (n, n_columns)
    base_values : numpy.ndarray, shape (n,)
        P(class 1) averaged over the background; ``values.sum(1) + base_values`` ≈ the predictions (~1e-6).
    feature_names : list of str
        ``numeric + categorical``, the column order of ``values``.

    Examples
    --------
    >>> import pandas as pd
    >>> from aiaas_lib.keras_models import tabular_classifier
    >>> df = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "c": ["x", "y", "x", "y"]})
    >>> values, base, names = explain_rows(tabular_classifier(df, ["a"], ["c"], hidden=(4,)), df, df, ["a"], ["c"])
    >>> values.shape, base.shape, names
    ((4, 2), (4,), ['a', 'c'])
    """
    att = cached_explainer(model, background_frame, numeric, categorical, method="deep")(rows_frame)
    return att.values, att.base_values, list(att.feature_names)
