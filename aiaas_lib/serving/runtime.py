"""Serves the CLI/service only (``aiaas serve``, ``aiaas train-defaults``), which notebooks 12, 13, 14, 16
and 17 start as a process.

One loaded tabular, tensor or multi-input (``tensors``) model version: its metadata, a fast compiled call,
and the checks that turn rows or arrays into the model's input (:meth:`ModelRuntime.decode_rows`,
:meth:`~ModelRuntime.decode_instances`, :meth:`~ModelRuntime.decode_columns`; KServe V2's tensors are read in
:mod:`.kserve`). Text models: :mod:`.text_runtime`; loading any kind: :mod:`.loading`.

Three kinds (the ``"kind"`` of the registry metadata):

``tabular``
    Raw table rows (dicts of named columns) → a dict of column arrays, the input of
    :func:`aiaas_lib.keras_models.tabular_classifier` models. Rows are checked with
    :func:`aiaas_lib.packaging.schema.validate_rows` against the ``input_schema`` of the metadata. Metadata:
    ``numeric``, ``categorical``, ``input_schema``, ``background`` (rows for explanations).
``tensor``
    A numeric array with a batch axis, e.g. images (n, 28, 28, 1). Metadata: ``input_shape`` (without the
    batch axis), ``dtype``, optionally ``class_names``.
``tensors``
    Several named numeric inputs of fixed shapes (``{"image": (n, 8, 8, 1), "meta": (n, 3)}``), taken in TF
    Serving's row format (``[{"image": ..., "meta": ...}, ...]``) or columnar format (``{"image": [batch],
    "meta": [batch]}``) and KServe V2 (one tensor per input); decoded to a dict of float32 arrays and passed to
    the model as a dict, or as a list in input order for a list-structured model. Metadata: ``inputs``
    (``{name: shape}`` in input order), ``structure`` (``"named"`` or ``"list"``), optionally ``background``.

Speed: the model is called through one ``tf.function`` with a fixed input signature (batch axis free),
traced once at load and warmed up, never through ``model.predict`` (which costs tens of milliseconds of
set-up per call). Rows become arrays in plain Python/NumPy (no per-request DataFrame work beyond the
schema check).
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aiaas_lib.serving.errors import InputError, ServiceError

#: The kinds of tensor model this module serves (text models: :mod:`.text_runtime`; loading any: :mod:`.loading`).
KINDS = ("tabular", "tensor", "tensors")
FLOAT32_MAX = float(np.finfo(np.float32).max)
#: Numbers in model inputs must lie within ±MAX_ABS_INPUT: no real feature or pixel is that large, and larger
#: ones overflow a float32 model's sums (an answer of NaN), so they are refused with 400 naming the field.
MAX_ABS_INPUT = 1e9


def shape_text(shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def numeric_array(value, what: str) -> np.ndarray:
    """``value`` (nested lists of numbers) as a float32 array; 400 naming ``what`` for strings, bools, ragged
    lists, NaN/inf or numbers beyond float32's range.

    Examples
    --------
    >>> numeric_array([[1, 2.5]], "instances").tolist()
    [[1.0, 2.5]]
    >>> numeric_array([1, "2"], "instances")
    Traceback (most recent call last):
    ...
    aiaas_lib.serving.errors.InputError: instances must hold only numbers; got str values
    """
    try:
        raw = np.asarray(value)
    except (ValueError, TypeError, OverflowError, RecursionError):
        raise InputError(f"{what} must be a (nested) list of numbers of one rectangular shape") from None
    if raw.dtype.kind not in "iuf":
        if raw.dtype.kind == "O":
            kinds = sorted({type(v).__name__ for v in raw.ravel()[:1000]} - {"int", "float"})
            if not kinds:  # Python ints too large for int64
                raise InputError(f"{what} holds numbers beyond float32's range (|x| <= {FLOAT32_MAX:.3g})")
            raise InputError(
                f"{what} must hold only numbers, in a rectangular nesting; got {', '.join(kinds)} values"
            )
        raise InputError(f"{what} must hold only numbers; got {'bool' if raw.dtype.kind == 'b' else 'str'} values")
    with np.errstate(over="ignore", invalid="ignore"):
        arr = raw.astype(np.float32)
    if not np.isfinite(arr).all():
        raise InputError(
            f"{what} must be finite numbers within float32's range (|x| <= {FLOAT32_MAX:.3g}); "
            "NaN and inf are refused"
        )
    if arr.size and float(np.abs(raw.astype(np.float64)).max()) > MAX_ABS_INPUT:  # the sent numbers, before float32 rounding
        raise InputError(f"{what} holds numbers beyond ±{MAX_ABS_INPUT:.0e}, the service's limit for model inputs")
    return arr


@dataclass
class ModelRuntime:
    """A loaded model version ready to serve.

    Build one with :meth:`from_registry` (verifies, loads, compiles, warms up) or directly from a Keras
    model and its metadata.

    Examples
    --------
    >>> from aiaas_lib.env import import_tensorflow; tf = import_tensorflow(); import keras
    >>> model = keras.Sequential([keras.Input((2,), name="x"), keras.layers.Dense(1)])
    >>> rt = ModelRuntime("demo", 1, model, {"kind": "tensor", "input_shape": [2], "output": "score"})
    >>> inputs, n = rt.decode_instances([[1.0, 2.0], [3.0, 4.0]])
    >>> rt.predict(inputs).shape, rt.output_name, rt.v2_inputs()
    ((2, 1), 'score', [{'name': 'x', 'datatype': 'FP32', 'shape': [-1, 2]}])
    """

    name: str
    version: int
    model: Any = field(repr=False)
    metadata: dict = field(repr=False)
    load_seconds: float = 0.0

    def __post_init__(self):
        meta = self.metadata
        self.kind = meta.get("kind")
        if self.kind not in KINDS:
            raise ValueError(
                f"model {self.name!r} version {self.version}: metadata kind={self.kind!r}; "
                f"expected one of {list(KINDS)}"
            )
        self.output_name = str(meta.get("output") or "output")
        self.output_shape = [int(d) for d in tuple(self.model.outputs[0].shape)[1:]]
        self.class_names = list(meta.get("class_names") or [])
        if self.kind == "tabular":
            missing = [k for k in ("numeric", "categorical", "input_schema") if k not in meta]
            if missing:
                raise ValueError(f"model {self.name!r} version {self.version}: tabular metadata lacks {missing}")
            self.numeric, self.categorical = list(meta["numeric"]), list(meta["categorical"])
            self.columns = self.numeric + self.categorical
            self.schema = meta["input_schema"]
            background = meta.get("background") or []
            self.background = _frame(self.decode_rows(background)[1]) if background else None  # validated
            self.input_name, self.input_shape = None, [1]
        elif self.kind == "tensors":
            if not isinstance(meta.get("inputs"), Mapping) or not meta["inputs"]:
                raise ValueError(f"model {self.name!r} version {self.version}: tensors metadata lacks 'inputs' "
                                 "({name: shape} of every input)")
            self.inputs = {str(k): [int(d) for d in v] for k, v in meta["inputs"].items()}
            self.structure = meta.get("structure", "named")
            self.input_name, self.input_shape, self.columns, self.background = None, None, [], None
        else:
            if "input_shape" not in meta:
                raise ValueError(f"model {self.name!r} version {self.version}: tensor metadata lacks 'input_shape'")
            self.input_shape = [int(d) for d in meta["input_shape"]]
            self.input_name = str(self.model.inputs[0].name) if self.model.inputs else "input"
            self.columns, self.background = [], None
        self._call = self._compile()

    # -------------------------------------------------------------------------------------- loading
    @classmethod
    def from_registry(cls, registry, name: str, version: int | str = "latest") -> ModelRuntime:
        """Verify and load ``name``/``version`` (a tabular or tensor model) from a
        :class:`~aiaas_lib.packaging.registry.ModelRegistry`, compile its call and warm it up; ``load_seconds`` records
        how long all that took. Any kind of model: :func:`aiaas_lib.serving.loading.load_runtime`."""
        start = time.perf_counter()
        number = registry.resolve(name, version)
        model = registry.load(name, number)
        runtime = cls(name, number, model, registry.metadata(name, number))
        runtime.warm_up()
        runtime.load_seconds = time.perf_counter() - start
        return runtime

    def _compile(self):
        """The fastest faithful way to call the model; sets ``call_path`` to say which was chosen.

        Tabular models built by :func:`~aiaas_lib.keras_models.tabular_classifier` get their input
        encoding (normalisation, one-hot lookups) done in NumPy and only the dense head run by a compiled
        ``tf.function``: the 19 string/number inputs and their lookup ops are most of the model's per-call
        cost. The fast path is used only if it matches the whole model on the background rows (checked in
        :meth:`warm_up`). Otherwise: one ``tf.function`` over the whole model with a fixed signature (batch
        axis free); for a model that cannot be traced that way, ``predict_on_batch``.
        """
        from aiaas_lib.env import import_tensorflow

        tf = import_tensorflow()
        model = self.model
        call = lambda x: model(x, training=False)  # noqa: E731
        if self.kind == "tabular":
            spec = {c: tf.TensorSpec((None, 1), tf.float32, name=c) for c in self.numeric}
            spec.update({c: tf.TensorSpec((None, 1), tf.string, name=c) for c in self.categorical})
        elif self.kind == "tensors":
            spec = {n: tf.TensorSpec((None, *shape), tf.float32) for n, shape in self.inputs.items()}
            if self.structure == "list":  # a list-structured model takes its inputs in order
                call = lambda x: model([x[n] for n in self.inputs], training=False)  # noqa: E731
        else:
            spec = tf.TensorSpec((None, *self.input_shape), tf.float32, name=self.input_name)
        fn = tf.function(call, input_signature=[spec])
        try:
            fn.get_concrete_function()
        except Exception:  # noqa: BLE001 — an unusual model: keep the slower but general path
            self.call_path = "predict_on_batch"
            return lambda x: np.asarray(model.predict_on_batch(x))
        self.call_path = "tf.function"
        self._full_call = lambda x: fn(x).numpy()
        self._fast = None
        if self.kind == "tabular":
            self._fast = _TabularEncoder.for_model(model, self.numeric, self.categorical)
        return self._full_call

    def warm_up(self) -> None:
        """Run one prediction so that the first request does not pay for set-up; for tabular models,
        switch to the NumPy-encoder fast path if it matches the whole model on the background rows."""
        if self.kind == "tabular":
            if self.background is not None:
                inputs = self._column_inputs(self.background)
                full = self._full_call(inputs) if self._fast is not None else self.predict(inputs)
                if self._fast is not None:
                    fast = self._fast(inputs)
                    # 1e-5: float32 sums of ~60 terms in another order differ by ~1e-7; a real mismatch is larger
                    if fast.shape == full.shape and np.allclose(fast, full, rtol=0, atol=1e-5):
                        self._call, self.call_path = self._fast, f"numpy encoder + {self._fast.head_path}"
        elif self.kind == "tensors":
            self.predict({n: np.zeros((1, *shape), np.float32) for n, shape in self.inputs.items()})
        else:
            self.predict(np.zeros((1, *self.input_shape), np.float32))

    # ------------------------------------------------------------------------------------ predicting
    def predict(self, inputs) -> np.ndarray:
        """Model output for decoded ``inputs`` (from a ``decode_*`` method), float32 with a batch axis."""
        return np.asarray(self._call(inputs), dtype=np.float32)

    def check_finite(self, outputs: np.ndarray) -> np.ndarray:
        """``outputs`` if finite, else 400: inputs far outside the training range can overflow the model."""
        bad = ~np.isfinite(outputs.reshape(len(outputs), -1)).all(axis=1)
        if bad.any():
            rows = np.flatnonzero(bad)[:10].tolist()
            raise InputError(
                f"the model's output is not finite for instance(s) {rows}: their values are far outside the "
                "range the model was trained on"
            )
        return outputs

    # ------------------------------------------------------------------------------------- decoding
    @staticmethod
    def _check_count(n: int, max_instances: int | None, what: str, limit_name: str = "max_instances") -> None:
        if n == 0:
            raise InputError(f"{what} is empty; send at least one instance")
        if max_instances is not None and n > max_instances:
            raise ServiceError(413, f"{what} has {n} instances; the limit is {limit_name}={max_instances} "
                                    "per request: split it into smaller requests")

    def decode_rows(self, rows, max_instances: int | None = None, limit_name: str = "max_instances"):
        """Tabular rows (list of dicts) → (column dict of model input arrays, validated columns as lists).
        Values may be scalars or one-element lists (TF Serving's row format for inputs of shape [1]).

        Pure Python and NumPy (:func:`aiaas_lib.packaging.schema.check_rows`): no DataFrame per request. Build one
        from the returned columns when a table is wanted (``pandas.DataFrame(columns)``)."""
        if not isinstance(rows, list) or any(not isinstance(r, Mapping) for r in rows):
            raise InputError(
                f"model {self.name!r} takes rows as objects of named columns, e.g. "
                f'{{"instances": [{{"{self.columns[0]}": ...}}]}}; columns: {self.columns}'
            )
        self._check_count(len(rows), max_instances, "instances", limit_name)
        from aiaas_lib.packaging.schema import SchemaError, check_rows

        rows = [{k: (v[0] if type(v) is list and len(v) == 1 else v) for k, v in r.items()} for r in rows]
        try:
            columns = check_rows(rows, self.schema)
        except SchemaError as err:
            raise InputError(f"invalid instances: {err}") from None
        for c in self.numeric:
            big = [i for i, v in enumerate(columns[c]) if abs(v) > MAX_ABS_INPUT]
            if big:
                raise InputError(f"invalid instances: row {big[0]}: field {c!r} is beyond ±{MAX_ABS_INPUT:.0e}, "
                                 "the service's limit for model inputs")
        return self._column_inputs(columns), columns

    def _column_inputs(self, columns: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Validated columns (lists or a DataFrame) → the model's input dict: (n, 1) float32 numbers and
        (n, 1) str categories."""
        out = {c: np.asarray(columns[c], dtype=np.float32).reshape(-1, 1) for c in self.numeric}
        out.update({c: np.asarray(columns[c], dtype=object).reshape(-1, 1) for c in self.categorical})
        return out

    def decode_instances(self, instances, max_instances: int | None = None):
        """TF Serving row format (``"instances"``) → (model inputs, n)."""
        if not isinstance(instances, list):
            raise InputError(f"'instances' must be a list, got {type(instances).__name__}")
        if self.kind == "tabular":
            inputs, _ = self.decode_rows(instances, max_instances)
            return inputs, len(instances)
        self._check_count(len(instances), max_instances, "instances")
        if self.kind == "tensors":
            return self._decode_named_rows(instances), len(instances)
        if all(isinstance(i, Mapping) for i in instances):  # named-input row format: [{"image": [...]}, ...]
            names = {k for i in instances for k in i}
            if names != {self.input_name}:
                raise InputError(
                    f"instances name inputs {sorted(names)}; model {self.name!r} has one input {self.input_name!r}"
                )
            instances = [i[self.input_name] for i in instances]
        arr = numeric_array(instances, "instances")
        return self._check_tensor_shape(arr, "instances"), len(arr)

    def decode_columns(self, inputs, max_instances: int | None = None):
        """TF Serving columnar format (``"inputs"``) → (model inputs, n): a dict of column → list for
        tabular models; a nested list (or ``{input_name: nested list}``) for tensor models."""
        if self.kind == "tabular":
            if not isinstance(inputs, Mapping) or not inputs:
                raise InputError(f"'inputs' must be an object of column -> list of values; columns: {self.columns}")
            lengths = {k: len(v) if isinstance(v, list) else None for k, v in inputs.items()}
            bad = sorted(k for k, n in lengths.items() if n is None)
            if bad:
                raise InputError(f"'inputs' columns {bad} must be lists of values (one per instance)")
            if len(set(lengths.values())) != 1:
                raise InputError(f"'inputs' columns must have the same length; got {lengths}")
            n = next(iter(lengths.values()))
            self._check_count(n, max_instances, "inputs")
            rows = [{k: v[i] for k, v in inputs.items()} for i in range(n)]
            decoded, _ = self.decode_rows(rows, max_instances)
            return decoded, n
        if self.kind == "tensors":
            return self._decode_named_columns(inputs, max_instances)
        if isinstance(inputs, Mapping):
            if set(inputs) != {self.input_name}:
                raise InputError(
                    f"'inputs' names {sorted(inputs)}; model {self.name!r} has one input {self.input_name!r}"
                )
            inputs = inputs[self.input_name]
        if not isinstance(inputs, list):
            raise InputError(
                f"'inputs' must be a nested list with a batch axis, shape [n, {', '.join(map(str, self.input_shape))}]"
            )
        self._check_count(len(inputs), max_instances, "inputs")
        arr = numeric_array(inputs, "inputs")
        return self._check_tensor_shape(arr, "inputs"), len(arr)

    # ------------------------------------------------------------------- several named inputs (tensors)
    def inputs_text(self) -> str:
        """The inputs of a ``tensors`` model as text: ``'image' [8, 8, 1], 'meta' [3]``."""
        return ", ".join(f"{n!r} {shape_text(shape)}" for n, shape in self.inputs.items())

    def _check_names(self, names, what: str) -> None:
        """400 unless ``names`` are exactly the model's input names (naming the missing and unknown ones)."""
        missing = [n for n in self.inputs if n not in names]
        unknown = sorted(set(map(str, names)) - set(self.inputs))
        if missing or unknown:
            raise InputError(f"{what} names inputs {sorted(map(str, names))}; model {self.name!r} takes inputs "
                             f"{self.inputs_text()}: missing {missing}, unknown {unknown}")

    def named_array(self, value, name: str, what: str) -> np.ndarray:
        """The batch of input ``name`` (nested lists, batch axis first) as float32, checked against its shape."""
        shape = self.inputs[name]
        try:
            arr = numeric_array(value, f"{what}: input {name!r}")
        except InputError as err:
            raise InputError(f"{err.message}; input {name!r} takes shape {shape_text(shape)} per instance") from None
        if arr.ndim == 0 or list(arr.shape[1:]) != shape:
            raise InputError(f"{what}: input {name!r} has shape {shape_text(arr.shape)}; model {self.name!r} takes "
                             f"[n, {', '.join(map(str, shape))}] for it")
        return arr

    def _decode_named_rows(self, instances: list) -> dict[str, np.ndarray]:
        """Row format ``[{"image": ..., "meta": ...}, ...]`` → {input name: (n, *shape) float32}."""
        for i, row in enumerate(instances):
            if not isinstance(row, Mapping):
                raise InputError(f"instance {i} is a {type(row).__name__}; model {self.name!r} takes each instance "
                                 f"as an object of its named inputs {self.inputs_text()}")
            self._check_names(row, f"instance {i}")
        return {n: self.named_array([row[n] for row in instances], n, "instances") for n in self.inputs}

    def _decode_named_columns(self, inputs, max_instances: int | None):
        """Columnar format ``{"image": [batch], "meta": [batch]}`` → ({input name: array}, n)."""
        if not isinstance(inputs, Mapping):
            raise InputError(f"'inputs' must be an object of input name -> batch (a list, one entry per instance); "
                             f"model {self.name!r} takes inputs {self.inputs_text()}")
        self._check_names(inputs, "'inputs'")
        bad = [n for n in self.inputs if not isinstance(inputs[n], list)]
        if bad:
            raise InputError(f"'inputs' {bad} must be lists with a batch axis (one entry per instance)")
        lengths = {n: len(inputs[n]) for n in self.inputs}
        if len(set(lengths.values())) != 1:
            raise InputError(f"'inputs' have different batch sizes {lengths}; every input needs the same n")
        n = next(iter(lengths.values()))
        self._check_count(n, max_instances, "inputs")
        return {name: self.named_array(inputs[name], name, "inputs") for name in self.inputs}, n

    def _check_tensor_shape(self, arr: np.ndarray, what: str) -> np.ndarray:
        if list(arr.shape[1:]) != self.input_shape:
            raise InputError(
                f"{what} have shape {shape_text(arr.shape)}; model {self.name!r} takes [n, "
                f"{', '.join(map(str, self.input_shape))}]"
            )
        return arr

    # ------------------------------------------------------------------------------------ KServe V2
    def v2_inputs(self) -> list[dict]:
        """The V2 metadata of the inputs: name, datatype, shape (-1: any batch size)."""
        if self.kind == "tabular":
            return [{"name": c, "datatype": "FP32" if c in self.numeric else "BYTES", "shape": [-1, 1]}
                    for c in self.columns]
        if self.kind == "tensors":
            return [{"name": n, "datatype": "FP32", "shape": [-1, *shape]} for n, shape in self.inputs.items()]
        return [{"name": self.input_name, "datatype": "FP32", "shape": [-1, *self.input_shape]}]

    def v2_outputs(self) -> list[dict]:
        """The V2 metadata of the output."""
        return [{"name": self.output_name, "datatype": "FP32", "shape": [-1, *self.output_shape]}]


def _frame(columns: Mapping[str, list]):
    """Validated columns as a DataFrame (for explanations, which work on tables)."""
    import pandas as pd

    return pd.DataFrame(columns, columns=list(columns))


_ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0, out=z),
    "sigmoid": lambda z: np.exp(-np.logaddexp(0, -z)),  # 1 / (1 + e^-z) without overflow
    "tanh": np.tanh,
}


def _dense_chain(head) -> list[tuple[np.ndarray, np.ndarray, Any]] | None:
    """The (kernel, bias, activation) of each Dense layer of ``head`` when it is only Dense layers (with the
    activations above) and Dropout (identity at inference); None for anything else."""
    chain = []
    for layer in head.layers:
        kind = type(layer).__name__
        if kind in ("InputLayer", "Dropout"):
            continue
        activation = getattr(getattr(layer, "activation", None), "__name__", None)
        if kind != "Dense" or activation not in _ACTIVATIONS or len(layer.get_weights()) != 2:
            return None
        kernel, bias = (np.asarray(w, np.float32) for w in layer.get_weights())
        chain.append((kernel, bias, _ACTIVATIONS[activation]))
    return chain or None


class _TabularEncoder:
    """NumPy version of a tabular_classifier's input encoding (layers ``<col>_norm`` and ``<col>_onehot``
    feeding layer ``features``), followed by the model's head.

    The head runs in NumPy when it is a chain of Dense/Dropout layers (a tiny MLP: a few small matrix
    products take microseconds, while dispatching a ``tf.function`` costs about half a millisecond on a CPU),
    otherwise as a compiled ``tf.function``. Either way the runtime uses it only after checking it equals the
    whole Keras model on the background rows (:meth:`ModelRuntime.warm_up`)."""

    def __init__(self, numeric, categorical, head_fn, width, chain=None):
        self.numeric, self.categorical, self.head_fn, self.width = numeric, categorical, head_fn, width
        self.chain = chain
        self.head_path = "numpy dense head" if chain else "tf.function head"

    @classmethod
    def for_model(cls, model, numeric, categorical):
        """The encoder for ``model``, or None when the model is not built like a tabular_classifier."""
        from aiaas_lib.env import import_tensorflow
        from aiaas_lib.explain.keras_tabular import column_groups, tabular_parts

        tf = import_tensorflow()
        try:
            groups = column_groups(model)
            _, head = tabular_parts(model)
            num, cat = [], []
            for c in numeric:
                layer = model.get_layer(f"{c}_norm")
                mean = np.float32(np.asarray(layer.mean).reshape(-1)[0])
                std = np.float32(max(float(np.sqrt(np.asarray(layer.variance).reshape(-1)[0])), 1e-7))
                num.append((c, int(groups[c][0]), mean, std))
            for c in categorical:
                layer = model.get_layer(f"{c}_onehot")
                vocab = [str(v) for v in layer.get_vocabulary()]
                if layer.output_mode != "one_hot" or len(vocab) != len(groups[c]):
                    return None
                cat.append((c, int(groups[c][0]), {v: i for i, v in enumerate(vocab)}))
        except (ValueError, KeyError, AttributeError, IndexError, TypeError):
            return None
        width = int(head.inputs[0].shape[-1])
        spec = tf.TensorSpec((None, width), tf.float32)
        fn = tf.function(lambda x: head(x, training=False), input_signature=[spec])
        return cls(num, cat, fn, width, _dense_chain(head))

    def encode(self, inputs: dict) -> np.ndarray:
        """Column arrays (n, 1) → the encoded matrix (n, width) the head takes."""
        n = len(inputs[self.numeric[0][0]] if self.numeric else inputs[self.categorical[0][0]])
        out = np.zeros((n, self.width), np.float32)
        for c, pos, mean, std in self.numeric:
            out[:, pos] = (inputs[c][:, 0] - mean) / std
        rows = np.arange(n)
        for c, pos, index in self.categorical:
            codes = np.fromiter((index.get(v, 0) for v in inputs[c][:, 0]), dtype=np.intp, count=n)
            out[rows, pos + codes] = 1.0
        return out

    def __call__(self, inputs: dict) -> np.ndarray:
        x = self.encode(inputs)
        if self.chain is None:
            return self.head_fn(x).numpy()
        for kernel, bias, activation in self.chain:
            x = activation(x @ kernel + bias)
        return x
