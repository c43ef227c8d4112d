"""Used by notebooks 11 and 15; also imported by the CLI/service.

Package a Keras model in the formats a service or a device runs: SavedModel, TFLite (LiteRT), ONNX.

Each format has an ``export_*`` function and a way to run the file back with its own runtime, returning
NumPy: :func:`load_saved_model` (TensorFlow), :class:`TFLiteRunner` (``ai_edge_litert``, with int8
quantize/dequantize of inputs and outputs) and :class:`OnnxRunner` (onnxruntime). :func:`compare_formats`
writes every format of one model and tabulates file size, latency and how far each format's outputs are
from Keras' — the table of notebook 11.

TFLite and ONNX take numeric tensors. A tabular model with string inputs and ``StringLookup`` inside
cannot go there simply: the export functions refuse it with a message saying what to do instead, and
:func:`compare_formats` skips those rows with the reason. :func:`numeric_parts` cuts such a model into its
preprocessing (``encoder``, kept in Keras / SavedModel) and its numeric ``head`` (any format).

Dynamic-range quantization (``tflite_dynamic``) stores as int8 only the weight tensors the converter finds
worth it (in TF 2.x, those of at least 1,024 elements); a small model's kernels stay float32, so its file can
be as large as the float one (:func:`compare_formats` says so in a ``note``).
"""
from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from aiaas_lib.env import _stderr_fd_silenced, import_tensorflow
from aiaas_lib.validation import integer, positive_int

#: ``quantize`` values of :func:`export_tflite`.
QUANTIZE = (None, "dynamic", "int8")
#: Rows of :func:`compare_formats`, in order.
FORMATS = ("keras", "saved_model", "tflite", "tflite_dynamic", "tflite_int8", "onnx")
#: Exports :class:`aiaas_lib.packaging.registry.ModelRegistry` can write beside ``model.keras``: name -> file name.
EXPORT_FILES = {
    "saved_model": "saved_model",
    "tflite": "model.tflite",
    "tflite_dynamic": "model_dynamic.tflite",
    "onnx": "model.onnx",
}


_QUIET = threading.RLock()


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence C++ writes to fd 2, one thread at a time (interleaved fd swaps could leave stderr closed)."""
    with _QUIET, _stderr_fd_silenced():
        yield


def _input_spec(model, target: str):
    """The single numeric input of ``model`` as a ``tf.TensorSpec``, or a clear error naming why not."""
    tf = import_tensorflow()
    try:
        inputs = list(model.inputs)
    except (AttributeError, ValueError, TypeError):
        inputs = []
    if not inputs:
        raise ValueError(
            f"{target} export needs a model with defined inputs; build it with keras.Input "
            "(a functional or Sequential model) or call it once on data before exporting"
        )
    strings = [t.name for t in inputs if str(t.dtype) == "string"]
    if strings:
        raise ValueError(
            f"{target} cannot take this model: its inputs {strings} are strings, turned into numbers by "
            f"StringLookup inside the model, and {target} runs numeric tensors only. Export the numeric "
            "head instead (numeric_parts(model) cuts it off: the layers after the preprocessing, fed with "
            "encoded features), or serve the "
            ".keras file or the SavedModel (export_saved_model), which keep the preprocessing."
        )
    if len(inputs) != 1:
        raise ValueError(
            f"{target} export here handles a model with one input tensor; this one has {len(inputs)} "
            f"({[t.name for t in inputs]}). Concatenate them inside the model, or serve the .keras file "
            "or the SavedModel."
        )
    t = inputs[0]
    return tf.TensorSpec(tuple(t.shape), tf.as_dtype(str(t.dtype)), name=t.name)


# --------------------------------------------------------------------------------------------- SavedModel
def export_saved_model(model, path: str | Path) -> Path:
    """Write ``model`` as a TensorFlow SavedModel folder (what TF Serving loads) with a ``serve`` endpoint.

    Works for dict/string-input tabular models too: the preprocessing layers are part of the graph.

    Parameters
    ----------
    model : keras.Model
        A built model.
    path : str or Path
        Folder to write (created).

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> folder = export_saved_model(model, tempfile.mkdtemp() + "/sm")
    >>> (folder / "saved_model.pb").is_file()
    True
    """
    import_tensorflow()
    path = Path(path)
    model.export(str(path), format="tf_saved_model", verbose=False)
    return path


def load_saved_model(path: str | Path) -> Callable:
    """Load a SavedModel written by :func:`export_saved_model`; return its ``serve`` endpoint as a function
    taking NumPy (an array, or a dict of arrays for a dict-input model) and returning NumPy.

    Inputs are cast to the dtypes of the endpoint's signature (e.g. float64 → float32).

    Raises
    ------
    FileNotFoundError
        If ``path`` holds no ``saved_model.pb``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> serve = load_saved_model(export_saved_model(model, tempfile.mkdtemp() + "/sm"))
    >>> x = np.ones((4, 3))
    >>> bool(np.allclose(serve(x), model(x), atol=1e-6))
    True
    """
    tf = import_tensorflow()
    path = Path(path)
    if not (path / "saved_model.pb").is_file():
        raise FileNotFoundError(
            f"{path} holds no SavedModel (saved_model.pb is missing); write one with export_saved_model"
        )
    loaded = tf.saved_model.load(str(path))
    if not hasattr(loaded, "serve"):
        raise ValueError(f"the SavedModel at {path} has no 'serve' endpoint; export it with export_saved_model")
    fn = loaded.serve
    concrete = getattr(fn, "concrete_functions", None) or [fn]
    signature = concrete[0].structured_input_signature[0][0]

    def serve(x):
        if isinstance(signature, dict):
            if not isinstance(x, dict):
                raise TypeError(
                    f"this SavedModel takes a dict of inputs {sorted(signature)}, got {type(x).__name__}"
                )
            args = {k: tf.convert_to_tensor(np.asarray(x[k]), s.dtype) for k, s in signature.items() if k in x}
            missing = sorted(set(signature) - set(x))
            if missing:
                raise ValueError(f"inputs {missing} are missing; this SavedModel takes {sorted(signature)}")
        else:
            args = tf.convert_to_tensor(np.asarray(x), signature.dtype)
        return tf.nest.map_structure(lambda t: t.numpy(), fn(args))

    serve.saved_model = loaded  # keep the loaded object (its variables) alive with the function
    return serve


# ------------------------------------------------------------------------------------------------ TFLite
def export_tflite(model, path: str | Path, quantize: str | None = None, representative_data=None) -> Path:
    """Convert ``model`` to a TFLite (LiteRT) flatbuffer at ``path``.

    The model goes through a temporary SavedModel (``model.export``) and ``TFLiteConverter.from_saved_model``,
    the route that works with Keras 3 (``from_concrete_functions`` on a Keras 3 model keeps variable reads
    that the interpreter cannot run).

    Parameters
    ----------
    model : keras.Model
        A model with one numeric input tensor.
    path : str or Path
        The ``.tflite`` file to write.
    quantize : {None, "dynamic", "int8"}
        ``None``: float32 weights and maths. ``"dynamic"``: int8 weights, float activations (≈4× smaller
        weights, no data needed). ``"int8"``: weights *and* activations int8, input and output tensors int8
        too (for integer-only accelerators); needs ``representative_data`` to calibrate the ranges.
    representative_data : array-like, optional
        Typical inputs, shape ``(n, *input_shape)`` (a few hundred rows is plenty; at most 200 are used).
        Only for ``quantize="int8"``.

    Returns
    -------
    Path
        The file.

    Raises
    ------
    ValueError
        For an unknown ``quantize``, int8 without ``representative_data`` (or data given for another mode),
        and for a model with string inputs (see the module docstring).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> path = export_tflite(model, tempfile.mkdtemp() + "/model.tflite")
    >>> x = np.ones((4, 3), "float32")
    >>> bool(np.allclose(TFLiteRunner(path)(x), model(x), atol=1e-5))
    True
    """
    tf = import_tensorflow()
    if quantize not in QUANTIZE:
        raise ValueError(f"quantize={quantize!r}; expected one of {list(QUANTIZE)}")
    spec = _input_spec(model, "TFLite")
    if quantize == "int8" and representative_data is None:
        raise ValueError(
            "quantize='int8' needs representative_data: a few hundred typical inputs (e.g. x_train[:200]) "
            "to calibrate the int8 ranges of the activations"
        )
    if quantize != "int8" and representative_data is not None:
        raise ValueError(f"representative_data is only used by quantize='int8', not quantize={quantize!r}")
    if quantize == "int8":
        sample = np.asarray(representative_data, dtype=np.float32)[:200]
        if sample.ndim != len(spec.shape) or tuple(sample.shape[1:]) != tuple(spec.shape[1:]):
            raise ValueError(
                f"representative_data has shape {sample.shape}; "
                f"the model takes (n, {', '.join(map(str, spec.shape[1:]))})"
            )
        if len(sample) == 0:
            raise ValueError("representative_data is empty; give a few hundred typical inputs")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="aiaas-tflite-") as tmp:
        model.export(tmp, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        if quantize is not None:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "int8":
            def representative():
                for row in sample:
                    yield [row[None]]

            converter.representative_dataset = representative
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        with _quiet():  # the converter's C++ code prints progress lines on fd 2
            flatbuffer = converter.convert()
    path.write_bytes(flatbuffer)
    return path


def _quantize(x: np.ndarray, detail: dict) -> np.ndarray:
    """Float → the tensor's integer type with its scale and zero point (identity for float tensors)."""
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return x.astype(dtype, copy=False)
    scale, zero = detail["quantization"]
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)


def _dequantize(y: np.ndarray, detail: dict) -> np.ndarray:
    """The tensor's integers → float32 with its scale and zero point (a copy for float tensors)."""
    if np.dtype(detail["dtype"]).kind == "f":
        return y.astype(np.float32)
    scale, zero = detail["quantization"]
    return ((y.astype(np.float32) - zero) * scale).astype(np.float32)


class TFLiteRunner:
    """Run a ``.tflite`` file with LiteRT's interpreter (``ai_edge_litert``) on float NumPy batches.

    Any batch size works (the input is resized when it changes). For an int8 model, inputs are quantized
    with the input tensor's scale and zero point and outputs dequantized, so callers always see float32.
    Calls are serialised with a lock: one interpreter is not safe to use from two threads at once.

    Parameters
    ----------
    path : str or Path
        The ``.tflite`` file.
    num_threads : int, optional
        Interpreter threads; ``None`` lets LiteRT choose.

    Examples
    --------
    :func:`export_tflite` shows a run; a missing file is refused up front:

    >>> TFLiteRunner("no-such-model.tflite")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no-such-model.tflite does not exist; write it with export_tflite
    """

    def __init__(self, path: str | Path, num_threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path} does not exist; write it with export_tflite")
        with _quiet():  # "Created TensorFlow Lite XNNPACK delegate for CPU." on fd 2
            self.interpreter = Interpreter(model_path=str(self.path), num_threads=num_threads)
            self.interpreter.allocate_tensors()
        inputs = self.interpreter.get_input_details()
        if len(inputs) != 1:
            raise ValueError(
                f"{self.path} has {len(inputs)} input tensors; TFLiteRunner runs single-input models"
            )
        self._input = inputs[0]
        self._lock = threading.Lock()

    @property
    def quantized(self) -> bool:
        """True when the input tensor is integer (a full-int8 model)."""
        return np.dtype(self._input["dtype"]).kind in "iu"

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The input shape, -1 for the batch dimension."""
        return tuple(int(d) for d in self._input["shape_signature"])

    def __call__(self, x) -> np.ndarray:
        """Outputs for the batch ``x`` (float array of shape ``(n, *input_shape[1:])``), as float32."""
        x = np.asarray(x, dtype=np.float32)
        expected = self.input_shape[1:]
        if x.ndim != len(expected) + 1 or any(e not in (-1, s) for e, s in zip(expected, x.shape[1:])):
            raise ValueError(f"x has shape {x.shape}; this model takes (n, {', '.join(map(str, expected))})")
        if len(x) == 0:
            raise ValueError("x has no rows; give at least one input")
        interp = self.interpreter
        with self._lock:
            if tuple(interp.get_input_details()[0]["shape"]) != x.shape:
                interp.resize_tensor_input(self._input["index"], list(x.shape))
                interp.allocate_tensors()
            interp.set_tensor(self._input["index"], _quantize(x, self._input))
            interp.invoke()
            outs = [_dequantize(interp.get_tensor(d["index"]), d) for d in interp.get_output_details()]
        return outs[0] if len(outs) == 1 else outs


# -------------------------------------------------------------------------------------------------- ONNX
def export_onnx(model, path: str | Path, opset: int = 17) -> Path:
    """Convert ``model`` to ONNX at ``path`` with ``tf2onnx.convert.from_function``.

    The input signature comes from the model's input (batch dimension left free). ``tf2onnx.from_keras``
    is not used: it fails on Keras 3 models.

    Parameters
    ----------
    model : keras.Model
        A model with one numeric input tensor.
    path : str or Path
        The ``.onnx`` file to write.
    opset : int
        ONNX operator set version (13–18 are well supported by tf2onnx and onnxruntime).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> path = export_onnx(model, tempfile.mkdtemp() + "/model.onnx")
    >>> x = np.ones((4, 3), "float32")
    >>> bool(np.allclose(OnnxRunner(path)(x), model(x), atol=1e-5))
    True
    """
    tf = import_tensorflow()
    opset = integer("opset", opset, 7, 21, hint="17 is a safe default")
    spec = _input_spec(model, "ONNX")
    import tf2onnx

    @tf.function(input_signature=[spec])
    def forward(x):
        return model(x, training=False)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tf2onnx.convert.from_function(forward, input_signature=[spec], opset=opset, output_path=str(path))
    return path


class OnnxRunner:
    """Run an ``.onnx`` file with onnxruntime on the CPU; returns float32 NumPy.

    Thread counts are left to onnxruntime (not forced), so it shares the machine's cores sensibly.

    Parameters
    ----------
    path : str or Path
        The ``.onnx`` file.

    Examples
    --------
    :func:`export_onnx` shows a run; a missing file is refused up front:

    >>> OnnxRunner("no-such-model.onnx")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no-such-model.onnx does not exist; write it with export_onnx
    """

    def __init__(self, path: str | Path):
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path} does not exist; write it with export_onnx")
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only
        self.session = ort.InferenceSession(
            str(self.path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise ValueError(f"{self.path} has {len(inputs)} inputs; OnnxRunner runs single-input models")
        self._input = inputs[0]

    @property
    def input_shape(self) -> tuple:
        """The input shape as ONNX declares it (a name or None for the free batch dimension)."""
        return tuple(self._input.shape)

    def __call__(self, x) -> np.ndarray:
        """Outputs for the batch ``x``, as float32."""
        x = np.asarray(x, dtype=np.float32)
        expected = self.input_shape[1:]
        fixed = [e if isinstance(e, int) else -1 for e in expected]
        if x.ndim != len(expected) + 1 or any(e not in (-1, s) for e, s in zip(fixed, x.shape[1:])):
            raise ValueError(f"x has shape {x.shape}; this model takes (n, {', '.join(map(str, fixed))})")
        outs = [np.asarray(o, dtype=np.float32) for o in self.session.run(None, {self._input.name: x})]
        return outs[0] if len(outs) == 1 else outs


# ----------------------------------------------------------------------------------------------- compare
def write_export(model, folder: str | Path, export: str) -> Path:
    """Write one of the registry's exports (a key of :data:`EXPORT_FILES`) into ``folder``.

    Examples
    --------
    >>> write_export(None, ".", "tflite_int8")
    Traceback (most recent call last):
    ...
    ValueError: export='tflite_int8'; expected one of ['saved_model', 'tflite', 'tflite_dynamic', 'onnx']
    """
    if export not in EXPORT_FILES:
        raise ValueError(f"export={export!r}; expected one of {list(EXPORT_FILES)}")
    target = Path(folder) / EXPORT_FILES[export]
    if export == "saved_model":
        return export_saved_model(model, target)
    if export == "onnx":
        return export_onnx(model, target)
    return export_tflite(model, target, quantize="dynamic" if export == "tflite_dynamic" else None)


#: Preprocessing layers: the numeric head of a model starts after the last of them (:func:`numeric_parts`).
PREPROCESSING_LAYERS = ("Normalization", "StringLookup", "IntegerLookup", "Hashing", "CategoryEncoding",
                        "Discretization", "TextVectorization", "HashedCrossing")


def numeric_parts(model, layer: str | None = None):
    """Cut ``model`` into ``(encoder, head)``: ``encoder`` takes the raw inputs (strings included) to the
    numeric vector the dense layers read, ``head`` takes that vector to the output, and
    ``head(encoder(x)) == model(x)``. Export the head to TFLite or ONNX (numbers only), keep the encoder in
    Keras or a SavedModel, and run ``head_runner(encoder(x))``.

    Parameters
    ----------
    model : keras.Model
        A functional model whose layers after the cut form a chain (each reads only the previous one).
    layer : str, optional
        The layer whose output is the cut. Default: found by walking back from the output through
        single-input layers until a layer that merges several tensors (``Concatenate``) or a
        preprocessing layer (:data:`PREPROCESSING_LAYERS`).

    Raises
    ------
    ValueError
        When no cut leaves a head (the output layer itself merges the inputs), naming the layers.

    Examples
    --------
    >>> tf = import_tensorflow(); import keras
    >>> a, c = keras.Input((1,), name="a"), keras.Input((1,), name="c", dtype="string")
    >>> lookup = keras.layers.StringLookup(vocabulary=["x", "y"], output_mode="one_hot")
    >>> joined = keras.layers.Concatenate(name="joined")([a, lookup(c)])
    >>> model = keras.Model({"a": a, "c": c}, keras.layers.Dense(1)(keras.layers.Dense(4)(joined)))
    >>> encoder, head = numeric_parts(model)
    >>> x = {"a": np.ones((2, 1), "float32"), "c": np.array([["x"], ["y"]])}
    >>> head.inputs[0].shape, bool(np.allclose(head(encoder(x)), model(x)))
    ((None, 4), True)
    """
    from aiaas_lib.explain.keras_tabular import tabular_parts

    if layer is None:
        current = model.outputs[0]._keras_history.operation
        while True:
            parents = [t._keras_history.operation for t in current._inbound_nodes[0].input_tensors]
            if (len(parents) != 1 or type(parents[0]).__name__ in PREPROCESSING_LAYERS + ("InputLayer",)
                    or type(current).__name__ in PREPROCESSING_LAYERS):
                break
            current = parents[0]
        if len(current._inbound_nodes[0].input_tensors) != 1 and current is model.outputs[0]._keras_history.operation:
            raise ValueError(f"model {model.name!r}: its output layer {current.name!r} merges several inputs, so "
                             "there is no numeric head to cut off; give layer=<name> of the encoded vector")
        if type(current).__name__ in PREPROCESSING_LAYERS or len(current._inbound_nodes[0].input_tensors) != 1:
            layer = current.name  # the encoded vector: a merge's or the last preprocessing layer's output
        else:
            layer = current._inbound_nodes[0].input_tensors[0]._keras_history.operation.name
    return tabular_parts(model, layer)


def _as_batch(x):
    """``x`` as float32, or a dict of inputs with numbers as float32 and strings as str arrays."""
    if isinstance(x, dict):
        return {k: (np.asarray(v).astype(str) if np.asarray(v).dtype.kind in "OUS"
                    else np.asarray(v, dtype=np.float32)) for k, v in x.items()}
    return np.asarray(x, dtype=np.float32)


def compare_formats(model, x, folder: str | Path, formats: Sequence[str] = FORMATS,
                    representative_data=None, repeats: int = 5) -> list[dict]:
    """Write ``model`` in each format and compare every format's outputs on ``x`` with Keras' ``model(x)``.

    Parameters
    ----------
    model : keras.Model
        The model (one numeric input for the TFLite and ONNX rows; other formats skip a model with string
        or several inputs, see Returns).
    x : array-like or dict of array-like
        A batch to run through every format; a dict of named inputs for a multi-input model (strings stay
        strings, numbers become float32).
    folder : str or Path
        Where the files go (created): ``model.keras``, ``saved_model/``, ``model.tflite``,
        ``model_dynamic.tflite``, ``model_int8.tflite``, ``model.onnx``.
    formats : sequence of str
        Rows to make, a subset of :data:`FORMATS` (e.g. ``("keras", "saved_model")`` for a model with
        string inputs).
    representative_data : array-like, optional
        Calibration inputs for ``tflite_int8``; ``x`` when not given.
    repeats : int
        Timed calls per format (the median is reported).

    Returns
    -------
    list of dict
        One per format: ``format``, ``file``, ``size_bytes``, ``max_abs_diff`` (largest absolute
        difference from Keras over the batch), ``top1_agreement`` (share of rows whose arg-max class
        matches Keras; None for a single output column) and ``latency_ms`` (median time for the batch).
        A format that cannot take the model (TFLite or ONNX for string inputs) gives a row with those
        values None and ``skipped``: the reason (use :func:`numeric_parts` and export the head). A
        ``tflite_dynamic`` row at least 90 % the size of the float file has a ``note`` saying why (see the
        module docstring).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> rows = compare_formats(model, np.ones((4, 3)), tempfile.mkdtemp(), formats=("keras", "onnx"), repeats=1)
    >>> [(r["format"], r["max_abs_diff"] < 1e-5) for r in rows]
    [('keras', True), ('onnx', True)]
    """
    from aiaas_lib.compression.measure import file_size, median_ms

    import_tensorflow()
    import keras

    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"formats={list(formats)!r}; expected a non-empty subset of {list(FORMATS)}")
    repeats = positive_int("repeats", repeats)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    x = _as_batch(x)
    reference = np.asarray(model(x, training=False))
    rows = []
    for fmt in formats:
        if fmt in ("onnx", "tflite", "tflite_dynamic", "tflite_int8"):
            target = "ONNX" if fmt == "onnx" else "TFLite"
            try:
                _input_spec(model, target)
            except ValueError as err:
                strings = [t.name for t in model.inputs if str(t.dtype) == "string"]
                reason = (f"string inputs {strings}: {target} runs numeric tensors only; export the head of "
                          "numeric_parts(model) instead" if strings else str(err))
                rows.append({"format": fmt, "file": None, "size_bytes": None, "max_abs_diff": None,
                             "top1_agreement": None, "latency_ms": None, "skipped": reason})
                continue
        if fmt == "keras":
            path = folder / "model.keras"
            model.save(path)
            loaded = keras.saving.load_model(path, safe_mode=True)
            run = lambda batch, m=loaded: np.asarray(m(batch, training=False))  # noqa: E731
        elif fmt == "saved_model":
            path = export_saved_model(model, folder / "saved_model")
            run = load_saved_model(path)
        elif fmt == "onnx":
            path = export_onnx(model, folder / "model.onnx")
            run = OnnxRunner(path)
        else:
            quantize = {"tflite": None, "tflite_dynamic": "dynamic", "tflite_int8": "int8"}[fmt]
            name = {"tflite": "model.tflite", "tflite_dynamic": "model_dynamic.tflite",
                    "tflite_int8": "model_int8.tflite"}[fmt]
            data = (x if representative_data is None else representative_data) if quantize == "int8" else None
            path = export_tflite(model, folder / name, quantize=quantize, representative_data=data)
            run = TFLiteRunner(path)
        out = np.asarray(run(x), dtype=np.float32).reshape(reference.shape)
        agreement = None
        if reference.ndim == 2 and reference.shape[1] > 1:
            agreement = float(np.mean(out.argmax(axis=1) == reference.argmax(axis=1)))
        rows.append({
            "format": fmt,
            "file": path.name,
            "size_bytes": file_size(path),
            "max_abs_diff": float(np.max(np.abs(out - reference))),
            "top1_agreement": agreement,
            "latency_ms": median_ms(run, x, repeats, warmup=1),
        })
    sizes = {r["format"]: r["size_bytes"] for r in rows if r["size_bytes"]}
    if "tflite_dynamic" in sizes and "tflite" in sizes and sizes["tflite_dynamic"] >= 0.9 * sizes["tflite"]:
        next(r for r in rows if r["format"] == "tflite_dynamic")["note"] = (
            "as large as float: dynamic-range quantization stores only weight tensors of at least 1,024 "
            "elements as int8, and this model's are smaller (use tflite_int8 for a small model)")
    return rows
