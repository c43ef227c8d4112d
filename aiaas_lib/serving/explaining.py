"""Serves the CLI/service only (``aiaas serve``), which notebooks 12, 13, 14, 16 and 17 start as a process.

The explainer behind ``POST /v1/models/{name}:explain``, for any served tabular model, chosen once per loaded
version (:func:`explainer_for`) and said in every reply:

``deep``
    DeepExplainer on the model's head, grouped per raw column (:func:`aiaas_lib.explain.explain_rows`): for
    models built like :func:`aiaas_lib.keras_models.tabular_classifier` (a ``features`` layer that
    concatenates the encoded columns). Used only when its values add up to the predictions on background
    rows (|sum + base - prediction| ≤ 1e-4); cost: one backward pass per row.
``exact``
    Model-agnostic exact Shapley values over the raw columns (:func:`aiaas_lib.explain.exact_shapley`):
    any other model (one ``Normalization`` over all numeric columns, a renamed layer, ...) while
    ``2**columns * background`` model rows fit :data:`EVAL_BUDGET` (the background is subsampled, down to
    :data:`MIN_BACKGROUND` rows, to fit). Additive exactly.
``permutation``
    shap's permutation explainer over the raw columns, for wider tables: :data:`PERMUTATION_EVALS` masked
    samples (at least ``2 * columns + 1``) over :data:`MIN_BACKGROUND` background rows per row. Additive
    exactly (antithetic permutations).

Each reply says the method, why it was chosen and its cost (``model_rows_per_instance``). A request
beyond the budget cannot happen: the cost is fixed per version, and ``max_explain_instances`` bounds the rows.

Tensor models (:class:`TensorExplainer`) are explained per input value (``values`` has the instance's shape),
for the output the model predicts highest (``output_index``; 0 for a single output), against the
``background`` rows stored at registration (:func:`aiaas_lib.packaging.signature.serving_metadata` with ``data=``, at
most :data:`MAX_TENSOR_BACKGROUND` used), else a zero baseline; the reply says which (``baseline``):
``deep`` (DeepExplainer on the whole model, when it adds up on probe rows; one backward pass over the
background per row), else ``permutation`` over the flattened input (``2 * values + 1`` to
:data:`PERMUTATION_EVALS` model calls per background row, at most :data:`EVAL_BUDGET` rows). Inputs wider than
:data:`MAX_TENSOR_VALUES` numbers (a 28×28 image: 784) are refused with a 400 that names the limit and the
fix: explaining images per pixel is notebook 09's work (``aiaas_lib.explain.shap_explainer``), not a
request's.
"""
from __future__ import annotations

import numpy as np

#: Model rows one explained instance may cost (exact: 2**columns × background rows; permutation: max_evals ×
#: background rows). 20,000 rows of a small tabular model take a few tens of milliseconds on a CPU.
EVAL_BUDGET = 20_000
#: The fewest background rows a model-agnostic explainer averages over.
MIN_BACKGROUND = 20
#: Masked samples per row of the permutation explainer (shap's default). Measured on a 2-core Intel Xeon CPU with
#: the 11-column model of tests/test_serving_units.py: 68 ms a row (exact on 5 columns: 2 ms a row), once shap's
#: numba code is compiled — the first permutation explanation in a process compiles it (8 s on that CPU).
PERMUTATION_EVALS = 500
#: The widest tensor input (numbers per instance) ``:explain`` takes.
MAX_TENSOR_VALUES = 256
#: The most background rows a tensor explanation averages over.
MAX_TENSOR_BACKGROUND = 50


class RuntimeExplainer:
    """Attributions per raw column of one loaded tabular runtime: ``explainer(frame)`` →
    ``(values (n, columns), base_values (n,), column names)``; ``info`` says the method, reason and cost.

    Examples
    --------
    >>> import pandas as pd
    >>> from aiaas_lib.env import import_tensorflow; tf = import_tensorflow(); import keras
    >>> from aiaas_lib.serving.runtime import ModelRuntime
    >>> from aiaas_lib.packaging.signature import serving_metadata
    >>> df = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0] * 10, "b": [1.0, 0.0, 2.0, 5.0] * 10})
    >>> inputs = {c: keras.Input((1,), name=c) for c in df}
    >>> model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Concatenate()(list(inputs.values()))))
    >>> rt = ModelRuntime("demo", 1, model, serving_metadata(model, data=df))
    >>> explainer = explainer_for(rt)
    >>> explainer.info["method"], explainer.info["model_rows_per_instance"]
    ('exact', 160)
    >>> values, base, names = explainer(df.iloc[:2])
    >>> bool(abs(values.sum(1) + base - rt.predict(rt._column_inputs(df.iloc[:2])).ravel()).max() < 1e-5), names
    (True, ['a', 'b'])
    """

    def __init__(self, runtime):
        self.rt = runtime
        self.names = list(runtime.numeric) + list(runtime.categorical)
        why = self._try_deep()
        if why:
            self._agnostic(why)

    def _try_deep(self) -> str:
        """'' when the DeepExplainer path works and adds up on background rows, else why not."""
        from aiaas_lib.explain import explain_rows

        rt = self.rt
        sample = rt.background.iloc[:4]
        try:
            values, base, _ = explain_rows(rt.model, sample, rt.background, rt.numeric, rt.categorical)
            pred = rt.predict(rt._column_inputs(sample)).reshape(len(sample), -1)[:, 0]
            gap = float(np.abs(values.sum(axis=1) + base - pred).max())
        except Exception as err:  # noqa: BLE001 — any structure DeepExplainer cannot read: go model-agnostic
            return f"DeepExplainer does not fit this model ({type(err).__name__}: {str(err).split(';')[0][:200]})"
        if not gap <= 1e-4:
            return f"DeepExplainer's values do not add up on this model (gap {gap:.2g})"
        self.method, self.reason = "deep", "the model concatenates its encoded columns in a 'features' layer"
        self.rows_per_instance, self.background_rows = len(rt.background), len(rt.background)
        self._explain = lambda frame: explain_rows(rt.model, frame, rt.background, rt.numeric, rt.categorical)[:2]
        return ""

    def _agnostic(self, why: str) -> None:
        from aiaas_lib.explain import ColumnCodec, exact_shapley, shap_explainer, tabular_function
        from aiaas_lib.explain.shapley import MAX_EXACT_FEATURES

        rt = self.rt
        width = len(self.names)
        codec = ColumnCodec(rt.numeric, rt.categorical).fit(rt.background)

        def first_output(inputs):  # the runtime's fast call; the first output column
            return rt.predict(inputs).reshape(len(inputs[self.names[0]]), -1)[:, 0]

        f = tabular_function(rt.model, codec, predict=first_output)
        background = codec.encode(rt.background)
        rows = EVAL_BUDGET // 2 ** width if width <= MAX_EXACT_FEATURES else 0
        if rows >= MIN_BACKGROUND:
            background = background[:rows]
            self.method, self.rows_per_instance = "exact", 2 ** width * len(background)
            explain = lambda X: exact_shapley(f, X, background)  # noqa: E731
        else:
            background = background[:MIN_BACKGROUND]
            background = background[:MIN_BACKGROUND]
            evals = max(2 * width + 1, min(PERMUTATION_EVALS, EVAL_BUDGET // len(background)))
            self.method, self.rows_per_instance = "permutation", evals * len(background)
            shap = shap_explainer(f, background, kind="permutation", max_evals=evals, seed=0)

            def explain(X):
                att = shap(X)
                return att.values, att.base_values
        self.background_rows = len(background)
        self.reason = f"{why}; a model-agnostic explainer over the {width} raw columns is used instead"

        def run(frame):
            values, base = explain(codec.extend(frame).encode(frame))
            values = np.atleast_2d(np.asarray(values, dtype=np.float64))
            base = np.broadcast_to(np.asarray(base, dtype=np.float64).reshape(-1), (len(values),)).copy()
            return values, base

        self._explain = run

    @property
    def info(self) -> dict:
        """What the reply says about the explainer: method, reason, cost."""
        return {"method": self.method, "reason": self.reason, "model_rows_per_instance": int(self.rows_per_instance),
                "background_rows": int(self.background_rows)}

    def __call__(self, frame):
        values, base = self._explain(frame)
        return np.asarray(values, dtype=np.float64), np.asarray(base, dtype=np.float64), self.names


DEEP_LAYERS = frozenset({"InputLayer", "Dense", "Dropout", "Flatten", "Reshape", "Activation", "ReLU", "Conv1D",
                         "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "Rescaling"})
"""Layer types whose ops DeepExplainer handles; a tensor model with any other goes model-agnostic at once."""


class TensorExplainer:
    """Attributions per input value of one loaded tensor runtime: ``explainer(x)`` → ``(values (n, *shape),
    base_values (n,), output_index (n,))``; ``info`` says the method, reason, baseline and cost.

    Examples
    --------
    >>> from aiaas_lib.env import import_tensorflow; tf = import_tensorflow(); import keras
    >>> from aiaas_lib.serving.runtime import ModelRuntime
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
    ...                           keras.layers.Dense(1)])
    >>> rt = ModelRuntime("demo", 1, model, {"kind": "tensor", "input_shape": [3]})
    >>> explainer = explainer_for(rt)
    >>> explainer.info["method"], explainer.info["baseline"][:6]
    ('deep', 'zeros ')
    >>> x = np.array([[1.0, -2.0, 0.5]], np.float32)
    >>> values, base, k = explainer(x)
    >>> bool(abs(values.sum() + base[0] - rt.predict(x)[0, 0]) < 1e-4)
    True
    """

    def __init__(self, runtime):
        from aiaas_lib.explain import shap_explainer

        check_explainable(runtime)
        self.rt, shape = runtime, list(runtime.input_shape)
        self.width = width = int(np.prod(shape))
        stored = runtime.metadata.get("background")
        if stored:
            background = np.asarray(stored, np.float32)[:MAX_TENSOR_BACKGROUND]
            self.baseline = f"{len(background)} background rows stored at registration"
        else:
            background = np.zeros((1, *shape), np.float32)
            self.baseline = ("zeros (no background rows stored: register with data=<training rows> for a "
                             "better one)")
        probe = background[:4] if len(background) > 1 else np.random.default_rng(0).normal(size=(4, *shape))
        other = sorted({type(layer).__name__ for layer in getattr(runtime.model, "layers", [None])} - DEEP_LAYERS)
        try:
            if other:  # never start DeepExplainer on ops it has no rule for: a failure half-way leaves shap's
                # gradient overrides in TensorFlow's registry and breaks later training in the process
                raise TypeError(f"layers DeepLIFT has no rule for here: {', '.join(other)}")
            deep = shap_explainer(runtime.model, background, kind="deep")
            self._explain = lambda x: self._flat(deep(x.astype(np.float32)))
            values, base = self._explain(probe.astype(np.float32))
            pred = runtime.predict(probe.astype(np.float32)).reshape(len(probe), -1)
            gap = float(np.abs(values.sum(axis=1) + base - pred).max())
            ok = gap <= 1e-4 * max(1.0, float(np.abs(pred).max()))
            why = "" if ok else f"DeepExplainer's values do not add up on this model (gap {gap:.2g})"
        except Exception as err:  # noqa: BLE001 — an op DeepLIFT has no rule for: go model-agnostic
            last = ([ln.strip() for ln in str(err).splitlines() if ln.strip()] or [""])[-1]  # tf: the cause
            why = f"DeepExplainer does not fit this model ({type(err).__name__}: {last[:200]})"
        if not why:
            self.method, self.reason = "deep", "DeepExplainer adds up on this model"
            self.rows_per_instance = len(background)
        else:
            background = background[:MIN_BACKGROUND]
            evals = max(2 * width + 1, min(PERMUTATION_EVALS, EVAL_BUDGET // len(background)))
            background = background[:max(1, EVAL_BUDGET // evals)]

            def f(flat):  # flattened rows → (n, outputs)
                return runtime.predict(flat.reshape(-1, *shape).astype(np.float32)).reshape(len(flat), -1)

            perm = shap_explainer(f, background.reshape(len(background), -1), kind="permutation",
                                  max_evals=evals, seed=0)
            self._explain = lambda x: self._flat(perm(x.reshape(len(x), -1)))
            self.method, self.rows_per_instance = "permutation", evals * len(background)
            self.reason = f"{why}; a permutation explainer over the {width} input values is used instead"
        self.background_rows = len(background)

    def _flat(self, att):
        """An :class:`~aiaas_lib.explain.Attribution` as values (n, width, outputs), base (n, outputs)."""
        values = np.asarray(att.values, np.float64)
        return values.reshape(len(values), self.width, -1), np.asarray(att.base_values, np.float64).reshape(
            len(values), -1)

    @property
    def info(self) -> dict:
        """What the reply says about the explainer: method, reason, baseline, cost."""
        return {"method": self.method, "reason": self.reason, "baseline": self.baseline,
                "model_rows_per_instance": int(self.rows_per_instance),
                "background_rows": int(self.background_rows)}

    def __call__(self, x: np.ndarray):
        values, base = self._explain(np.asarray(x))
        k = np.argmax(self.rt.predict(np.asarray(x, np.float32)).reshape(len(x), -1), axis=1)
        rows = np.arange(len(x))
        return values[rows, :, k].reshape(len(x), *self.rt.input_shape), base[rows, k], k


def check_explainable(runtime) -> None:
    """ValueError naming the limit and the fix when ``runtime`` is a tensor model too wide to explain."""
    width = int(np.prod(runtime.input_shape))
    if runtime.kind == "tensor" and width > MAX_TENSOR_VALUES:
        raise ValueError(
            f"explanations of tensor models take at most {MAX_TENSOR_VALUES} input values per instance "
            f"(MAX_TENSOR_VALUES); model {runtime.name!r} takes {list(runtime.input_shape)} = {width}: "
            "explain it offline with aiaas_lib.explain.shap_explainer (notebook 09), or serve a model of "
            "fewer inputs")


def explainer_for(runtime):
    """The explainer of ``runtime`` (built on first use, then kept on the runtime): :class:`RuntimeExplainer`
    for a tabular model, :class:`TensorExplainer` for a tensor model (ValueError when it is too wide)."""
    explainer = getattr(runtime, "_explainer", None)
    if explainer is None:
        cls = TensorExplainer if runtime.kind == "tensor" else RuntimeExplainer
        explainer = runtime._explainer = cls(runtime)
    return explainer
