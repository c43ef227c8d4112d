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
``deep`` (DeepExplainer on the whole model, when every layer has a DeepLIFT rule and the values add up on probe
rows; one backward pass over the background per row), else a model-agnostic explainer:
``permutation`` over the flattened input when it has at most :data:`MAX_TENSOR_VALUES` numbers (``2 * values + 1``
to :data:`PERMUTATION_EVALS` model calls per background row, at most :data:`EVAL_BUDGET` rows), and for wider
inputs (a 28×28 image: 784 numbers) ``permutation over patches``: the input is cut into at most
:data:`MAX_TENSOR_GROUPS` groups (:func:`value_groups`: a grid of pixel blocks for images, runs of consecutive
values otherwise), Shapley values of the groups are estimated from antithetic permutations against one baseline
(the mean background row, or zeros), and each value gets an equal share of its group's value. The values add up
exactly (each permutation's gains sum to f(x) - f(baseline)); the reply says the groups and the cost, which is
bounded by :data:`EVAL_BUDGET` model rows and :data:`MAX_EXPLAIN_NUMBERS` input numbers per instance.

Multi-input (``tensors``) models (:class:`MultiTensorExplainer`) are explained model-agnostically: their inputs are
flattened and concatenated in input order and explained as above (``permutation`` for at most
:data:`MAX_TENSOR_VALUES` numbers in all, else ``permutation over patches`` with groups per input, the
:data:`MAX_TENSOR_GROUPS` shared among the inputs by width, at least one each); ``values`` is an object
``{input name: values of its shape}``.
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
#: The widest tensor input (numbers per instance) the permutation explainer takes value by value; wider inputs
#: are explained per group of values (:data:`MAX_TENSOR_GROUPS`).
MAX_TENSOR_VALUES = 256
#: The most groups (patches) a wide tensor input is cut into for the model-agnostic explainer.
MAX_TENSOR_GROUPS = 64
#: Permutations (antithetic pairs: an order and its reverse) the patch explainer averages, at most.
TENSOR_PERMUTATIONS = 32
#: Input numbers the patch explainer may send to the model per explained instance (memory bound: 20 M float32
#: numbers are 80 MB).
MAX_EXPLAIN_NUMBERS = 20_000_000
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

        self.rt, self.shape = runtime, list(runtime.input_shape)
        shape = self.shape
        self.width = int(np.prod(shape))
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
            self._explain = lambda flat: self._flat(deep(flat.reshape(-1, *shape).astype(np.float32)))
            values, base = self._explain(self._flatten(probe))
            pred = runtime.predict(probe.astype(np.float32)).reshape(len(probe), -1)
            gap = float(np.abs(values.sum(axis=1) + base - pred).max())
            ok = gap <= 1e-4 * max(1.0, float(np.abs(pred).max()))
            why = "" if ok else f"DeepExplainer's values do not add up on this model (gap {gap:.2g})"
        except Exception as err:  # noqa: BLE001 — an op DeepLIFT has no rule for: go model-agnostic
            last = ([ln.strip() for ln in str(err).splitlines() if ln.strip()] or [""])[-1]  # tf: the cause
            why = f"DeepExplainer does not fit this model ({type(err).__name__}: {last[:200]})"
        if not why:
            self.method, self.reason = "deep", "DeepExplainer adds up on this model"
            self.rows_per_instance = self.background_rows = len(background)
        else:
            self._agnostic(f"{why}; ", " is used instead", self._flatten(background), bool(stored),
                           lambda: value_groups(shape))

    def _agnostic(self, why: str, instead: str, background: np.ndarray, stored: bool, groups_of) -> None:
        """Set up the model-agnostic explainer over flattened values (``background``: (rows, width)):
        permutation value by value when narrow, else over the groups ``groups_of()`` returns."""
        from aiaas_lib.explain import shap_explainer

        width = self.width
        if width <= MAX_TENSOR_VALUES:
            background = background[:MIN_BACKGROUND]
            evals = max(2 * width + 1, min(PERMUTATION_EVALS, EVAL_BUDGET // len(background)))
            background = background[:max(1, EVAL_BUDGET // evals)]
            perm = shap_explainer(self._predict_flat, background, kind="permutation", max_evals=evals, seed=0)
            self._explain = lambda flat: self._flat(perm(flat))
            self.method, self.rows_per_instance = "permutation", evals * len(background)
            self.reason = f"{why}a permutation explainer over the {width} input values{instead}"
        else:
            groups, described = groups_of()
            n_groups = int(groups.max()) + 1
            pairs = min(TENSOR_PERMUTATIONS, EVAL_BUDGET // (n_groups + 1),
                        MAX_EXPLAIN_NUMBERS // ((n_groups + 1) * width)) // 2
            permutations = 2 * max(1, pairs)
            baseline = background.mean(axis=0)
            if stored:
                self.baseline = f"the mean of {len(background)} background rows stored at registration"
            self._explain = lambda flat: self._patches(flat, groups, n_groups, baseline, permutations)
            self.method = "permutation over patches"
            self.rows_per_instance = permutations * (n_groups + 1)
            self.reason = (f"{why}the {width} input values are too many to explain one by one (more than "
                           f"{MAX_TENSOR_VALUES}), so Shapley values of {described} are estimated from "
                           f"{permutations} permutations, and each value gets an equal share of its group's value")
            background = baseline[None]
        self.background_rows = len(background)

    def _flatten(self, x) -> np.ndarray:
        """Model inputs (n, *shape) → float32 rows (n, width)."""
        x = np.asarray(x, np.float32)
        return x.reshape(len(x), -1)

    def _unflatten(self, flat: np.ndarray):
        """Values per row (n, width) → the shape of the model's input, (n, *shape)."""
        return flat.reshape(len(flat), *self.shape)

    def _predict_flat(self, flat: np.ndarray) -> np.ndarray:
        """The model's outputs (n, outputs) for flattened input rows (n, width)."""
        return self.rt.predict(self._unflatten(np.asarray(flat, np.float32))).reshape(len(flat), -1)

    def _patches(self, x, groups, n_groups, baseline, permutations):
        """Values (n, width, outputs) and base (n, outputs) of the patch explainer (see the module docstring)."""
        rng = np.random.default_rng(0)  # the same orders for every request: the same answer twice
        orders = []
        for _ in range(permutations // 2):  # antithetic: each order and its reverse
            order = rng.permutation(n_groups)
            orders += [order, order[::-1]]
        rank = np.argsort(np.asarray(orders), axis=1)  # rank[i, g]: when group g joins in order i
        present = rank[:, None, :] < np.arange(n_groups + 1)[None, :, None]  # (orders, steps, groups)
        present = present[:, :, groups]  # per value
        share = 1.0 / np.bincount(groups, minlength=n_groups)[groups]
        values, base = [], []
        for row in np.asarray(x, np.float32).reshape(len(x), -1):
            chain = np.where(present, row, baseline).astype(np.float32).reshape(-1, self.width)
            out = self._predict_flat(chain).reshape(len(orders), n_groups + 1, -1)
            gains = np.diff(out.astype(np.float64), axis=1)  # (orders, groups in join order, outputs)
            per_group = np.zeros((n_groups, out.shape[-1]))
            for order, gain in zip(orders, gains):
                per_group[order] += gain
            values.append(per_group[groups] / len(orders) * share[:, None])
            base.append(out[0, 0])
        return np.asarray(values), np.asarray(base, np.float64)

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

    def __call__(self, x):
        flat = self._flatten(x)
        values, base = self._explain(flat)
        k = np.argmax(self._predict_flat(flat), axis=1)
        rows = np.arange(len(flat))
        return self._unflatten(values[rows, :, k]), base[rows, k], k


class MultiTensorExplainer(TensorExplainer):
    """Attributions per input value of one loaded multi-input (``tensors``) runtime, model-agnostic: the inputs are
    flattened and concatenated in input order, explained like one tensor (:class:`TensorExplainer`'s permutation
    explainer for at most :data:`MAX_TENSOR_VALUES` numbers in all, else permutation over patches, the
    :data:`MAX_TENSOR_GROUPS` groups shared among the inputs by width, at least one each), and split back:
    ``explainer(inputs)`` → ``(values {name: (n, *shape)}, base_values (n,), output_index (n,))``.

    Examples
    --------
    >>> from aiaas_lib.env import import_tensorflow; tf = import_tensorflow(); import keras
    >>> from aiaas_lib.serving.runtime import ModelRuntime
    >>> a, b = keras.Input((2,), name="a"), keras.Input((3,), name="b")
    >>> model = keras.Model({"a": a, "b": b}, keras.layers.Dense(1)(keras.layers.Concatenate()([a, b])))
    >>> rt = ModelRuntime("demo", 1, model, {"kind": "tensors", "inputs": {"a": [2], "b": [3]}})
    >>> explainer = explainer_for(rt)
    >>> explainer.info["method"]
    'permutation'
    >>> x = {"a": np.array([[1.0, 2.0]], np.float32), "b": np.array([[0.5, -1.0, 3.0]], np.float32)}
    >>> values, base, k = explainer(x)
    >>> {n: v.shape for n, v in values.items()}
    {'a': (1, 2), 'b': (1, 3)}
    >>> bool(abs(values["a"].sum() + values["b"].sum() + base[0] - rt.predict(x)[0, 0]) < 1e-4)
    True
    """

    def __init__(self, runtime):
        self.rt, self.shapes = runtime, {n: list(shape) for n, shape in runtime.inputs.items()}
        self.sizes = [int(np.prod(shape)) for shape in self.shapes.values()]
        self.width = sum(self.sizes)
        stored = runtime.metadata.get("background")
        if stored:
            background = self._flatten({n: np.asarray(stored[n], np.float32)[:MAX_TENSOR_BACKGROUND]
                                        for n in self.shapes})
            self.baseline = f"{len(background)} background rows stored at registration"
        else:
            background = np.zeros((1, self.width), np.float32)
            self.baseline = ("zeros (no background rows stored: register with data=<one array per input> for a "
                             "better one)")
        inputs = ", ".join(f"{n!r} {list(shape)}" for n, shape in self.shapes.items())
        why = (f"a model with {len(self.shapes)} inputs ({inputs}) is explained model-agnostically over their values, "
               "flattened and concatenated in input order; ")
        self._agnostic(why, " is used", background, bool(stored), self._groups)

    def _groups(self) -> tuple[np.ndarray, str]:
        """Groups per input (:func:`value_groups`), the :data:`MAX_TENSOR_GROUPS` shared by width, one at least."""
        share = [max(1, MAX_TENSOR_GROUPS * size // self.width) for size in self.sizes]
        while sum(share) > MAX_TENSOR_GROUPS and max(share) > 1:
            share[int(np.argmax(share))] -= 1
        groups, parts, offset = [], [], 0
        for (name, shape), most in zip(self.shapes.items(), share):
            found, described = value_groups(shape, most)
            groups.append(found + offset)
            offset += int(found.max()) + 1
            parts.append(f"{name!r}: {described}")
        return np.concatenate(groups), f"{offset} groups ({'; '.join(parts)})"

    def _flatten(self, x) -> np.ndarray:
        """{name: (n, *shape)} → float32 rows (n, width), the inputs concatenated in input order."""
        n = len(next(iter(x.values())))
        return np.concatenate([np.asarray(x[name], np.float32).reshape(n, -1) for name in self.shapes], axis=1)

    def _unflatten(self, flat: np.ndarray) -> dict:
        """Rows (n, width) → {name: (n, *shape)}."""
        parts = np.split(flat, np.cumsum(self.sizes)[:-1], axis=1)
        return {name: part.reshape(len(flat), *shape) for (name, shape), part in zip(self.shapes.items(), parts)}


def value_groups(shape, max_groups: int = MAX_TENSOR_GROUPS) -> tuple[np.ndarray, str]:
    """The group (patch) of every value of a flattened input of ``shape``, at most ``max_groups``
    groups, and a description for the reply: image-like shapes ``(height, width)`` or ``(height, width,
    channels)`` get a grid of pixel blocks (a pixel's channels stay together), other shapes runs of
    consecutive values.

    Examples
    --------
    >>> groups, what = value_groups([28, 28, 1])
    >>> groups.shape, int(groups.max()) + 1, what
    ((784,), 49, '49 patches of 4×4 pixels')
    >>> value_groups([300])[1], value_groups([8, 8, 1], max_groups=16)[1]
    ('60 runs of 5 consecutive values', '16 patches of 2×2 pixels')
    """
    shape = [int(d) for d in shape]
    width = int(np.prod(shape))
    if width <= max_groups:
        return np.arange(width), f"{width} single values"
    if len(shape) in (2, 3) and min(shape[:2]) > 1:
        side = int(np.sqrt(max_groups))
        block_h, block_w = -(-shape[0] // side), -(-shape[1] // side)
        rows, cols = np.arange(shape[0]) // block_h, np.arange(shape[1]) // block_w
        grid = rows[:, None] * (cols.max() + 1) + cols[None, :]
        if len(shape) == 3:
            grid = np.repeat(grid[:, :, None], shape[2], axis=2)
        return grid.ravel(), f"{int(grid.max()) + 1} patches of {block_h}×{block_w} pixels"
    size = -(-width // max_groups)
    groups = np.arange(width) // size
    return groups, f"{int(groups.max()) + 1} runs of {size} consecutive values"


def explainer_for(runtime):
    """The explainer of ``runtime`` (built on first use, then kept on the runtime): :class:`RuntimeExplainer`
    for a tabular model, :class:`TensorExplainer` for a tensor model of any width, :class:`MultiTensorExplainer`
    for a multi-input (``tensors``) model."""
    explainer = getattr(runtime, "_explainer", None)
    if explainer is None:
        cls = {"tensor": TensorExplainer, "tensors": MultiTensorExplainer}.get(runtime.kind, RuntimeExplainer)
        explainer = runtime._explainer = cls(runtime)
    return explainer
