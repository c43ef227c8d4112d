"""Used by notebooks 11, 13, 14 and 16 (through :meth:`aiaas_lib.packaging.registry.ModelRegistry.register`; 14 and 16
also call :func:`tabular_metadata`); also imported by the CLI (``aiaas models register``, ``aiaas train-defaults``).

A Keras model's signature, read from the model itself, and the serving metadata it implies.

The service (:mod:`aiaas_lib.serving.runtime`) serves three kinds of model, named by the ``kind`` key of a
version's registry metadata:

``tensor``
    one numeric input tensor (``keras.Sequential([keras.Input((20,)), ...])``, a CNN on images). Metadata:
    ``input_shape`` (without the batch axis), ``dtype``, and given training rows ``data``, up to 50
    ``background`` rows for ``:explain`` when they hold at most :data:`MAX_BACKGROUND_VALUES` numbers (at
    least :data:`MIN_TENSOR_BACKGROUND` rows: a 20-feature input gets 50, a 28×28 image none).
``tabular``
    one input of shape ``(1,)`` per column, named like the column: numbers as float, categories as
    ``string`` turned into numbers inside the model (``StringLookup``), e.g. a functional model built on
    ``{"age": keras.Input((1,), name="age"), "city": keras.Input((1,), name="city", dtype="string")}``
    (a named multi-input model whose inputs are all single numbers is served this way too). Metadata:
    ``numeric``, ``categorical``, ``input_schema`` (:mod:`aiaas_lib.packaging.schema`), optionally ``background``
    rows (for ``:explain``).
``tensors``
    several named numeric inputs of fixed shapes, not all of shape ``(1,)``, e.g.
    ``keras.Model({"image": keras.Input((8, 8, 1)), "meta": keras.Input((3,))}, ...)`` (or a list of inputs).
    Metadata: ``inputs`` (``{name: shape}`` in the model's input order; a dict model's names are its keys),
    ``structure`` (``"named"`` or ``"list"``: how the model is called), and given training rows ``data`` (a
    dict of arrays, one per input), up to 50 ``background`` rows (``{name: rows}``) when all the inputs
    together hold at most :data:`MAX_TENSORS_BACKGROUND_WIDTH` numbers. String inputs are served only as
    columns of shape ``(1,)`` (kind ``tabular``).

:func:`infer_signature` reads the inputs and outputs (name, dtype, shape); :func:`serving_metadata` turns
them into those keys — the allowed values of a string column come from the ``StringLookup`` layer that
reads it, and, given training rows (``data``), the numeric ranges, 50 background rows and the data hash
come from :func:`tabular_metadata`. :func:`check_metadata` compares metadata a caller wrote with the
model and names the key, the model's value and the fix. The registry runs all three at registration, so
a version that registers is a version the service can load.
"""
from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

#: Kinds the TF Serving / KServe V2 routes serve (see the module docstring).
SERVED_KINDS = ("tabular", "tensor", "tensors")
#: Kinds served by the OpenAI-compatible routes (token-id models: no signature checks).
TEXT_KINDS = ("generation", "embedding")
KINDS = SERVED_KINDS + TEXT_KINDS
#: Keys that describe how to call the model; :func:`check_metadata` compares them with the model.
SERVING_KEYS = ("kind", "numeric", "categorical", "input_schema", "input_shape", "dtype", "inputs", "structure",
                "background")
#: A tensor model's stored background holds at most this many numbers (it lives in the registry's JSON) ...
MAX_BACKGROUND_VALUES = 5_000
#: ... and is stored only when at least this many rows fit (fewer would be a poor background).
MIN_TENSOR_BACKGROUND = 10
#: A ``tensors`` model stores background rows only when its inputs together hold at most this many numbers (the
#: width :mod:`aiaas_lib.serving.explaining` explains value by value).
MAX_TENSORS_BACKGROUND_WIDTH = 256


class SignatureError(ValueError):
    """Metadata that disagrees with the model, or a model whose inputs the service cannot serve."""


def _dtype(tensor) -> str:
    return str(getattr(tensor.dtype, "name", tensor.dtype))


def _is_string(dtype: str) -> bool:
    return dtype in ("string", "str", "object")


def _is_number(dtype: str) -> bool:
    return dtype.startswith(("float", "int", "uint", "bfloat"))


def infer_signature(model) -> dict:
    """The inputs and outputs of a built Keras model: ``{"structure", "inputs", "outputs"}``.

    ``structure`` is ``"single"`` (one input tensor), ``"named"`` (a dict of inputs, like
    ``keras.Model({"a": ..., "b": ...}, ...)``) or ``"list"`` (a list of inputs); each input and output is
    ``{"name", "dtype", "shape"}`` with the batch axis left out (``None`` for a free dimension).

    Raises
    ------
    SignatureError
        For a model without defined inputs (a subclassed model never called).

    Examples
    --------
    >>> from aiaas_lib.env import import_tensorflow; tf = import_tensorflow(); import keras
    >>> model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(1, name="score")])
    >>> sig = infer_signature(model)
    >>> sig["structure"], sig["inputs"][0]["shape"], sig["inputs"][0]["dtype"], sig["outputs"]
    ('single', [20], 'float32', [{'name': 'score', 'dtype': 'float32', 'shape': [1]}])
    """
    try:
        inputs, outputs = list(model.inputs), list(model.outputs)
    except (AttributeError, ValueError, TypeError):
        inputs, outputs = [], []
    if not inputs or not outputs:
        raise SignatureError(
            f"model {getattr(model, 'name', type(model).__name__)!r} has no defined inputs, so its signature "
            "cannot be read: build it with keras.Input (a functional or Sequential model), or call it once on "
            "data before registering"
        )
    struct = getattr(model, "_inputs_struct", None)
    structure = "named" if isinstance(struct, Mapping) else ("single" if len(inputs) == 1 else "list")
    keys = {id(t): k for k, t in struct.items()} if structure == "named" else {}  # a dict model is called by key

    def describe(tensor, name=None) -> dict:
        shape = [None if d is None else int(d) for d in tuple(tensor.shape)[1:]]
        return {"name": str(name or tensor.name), "dtype": _dtype(tensor), "shape": shape}

    def output_name(tensor) -> str:
        history = getattr(tensor, "_keras_history", None)
        return str(getattr(getattr(history, "operation", None), "name", None) or tensor.name)

    return {"structure": structure, "inputs": [describe(t, keys.get(id(t))) for t in inputs],
            "outputs": [describe(t, output_name(t)) for t in outputs]}


def _lookup_vocabularies(model) -> dict[str, list[str]]:
    """{input name: allowed values} for every string input read by exactly one ``StringLookup`` layer."""
    found: dict[str, list[list[str]]] = {}
    for layer in getattr(model, "layers", []):
        if type(layer).__name__ != "StringLookup" or not getattr(layer, "_inbound_nodes", None):
            continue
        sources = set()
        stack = list(layer._inbound_nodes[0].input_tensors)
        while stack:  # walk up the graph to the Input layers that feed this lookup
            history = getattr(stack.pop(), "_keras_history", None)
            op = getattr(history, "operation", None)
            if op is None:
                continue
            if type(op).__name__ == "InputLayer":
                sources.add(op.name)
            else:
                stack.extend(op._inbound_nodes[history.node_index].input_tensors)
        if len(sources) == 1:
            oov = {str(t) for t in (getattr(layer, "oov_token", None), getattr(layer, "mask_token", None)) if t}
            vocab = [str(v) for v in layer.get_vocabulary(include_special_tokens=False)]
            found.setdefault(sources.pop(), []).append([v for v in vocab if v not in oov])
    return {name: sorted(set(v[0])) for name, v in found.items() if len(v) == 1}


def tabular_metadata(X_train, numeric: Sequence[str], categorical: Sequence[str], metrics: dict,
                     seed: int = 0, n_background: int = 50, output: str = "probability") -> dict:
    """The registry metadata the service needs to serve (and explain) a tabular model trained on ``X_train``:
    kind, columns, input schema, ``n_background`` training rows, output name, metrics, data hash.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": ["x", "y", "x"]})
    >>> meta = tabular_metadata(X, ["a"], ["c"], {"roc_auc": 0.5}, n_background=2)
    >>> meta["kind"], meta["input_schema"]["categorical"], len(meta["background"])
    ('tabular', {'c': ['x', 'y']}, 2)
    """
    from aiaas_lib.packaging.model_card import frame_hash
    from aiaas_lib.packaging.schema import input_schema

    numeric, categorical = list(numeric), list(categorical)
    background = X_train[numeric + categorical].sample(min(n_background, len(X_train)), random_state=seed)
    return {
        "kind": "tabular",
        "numeric": numeric,
        "categorical": categorical,
        "input_schema": input_schema(X_train, numeric, categorical),
        "background": background.to_dict("records"),
        "output": output,
        "metrics": dict(metrics),
        "data_sha256": frame_hash(X_train),
    }


def _candidate_kinds(sig: dict, input_shape=None, shapes=None) -> tuple[list[str], str]:
    """(kinds the service could serve the signature as, preferred first; the reason when there is none).
    ``input_shape`` / ``shapes`` ({name: shape}): concrete shapes the caller gave for inputs with free dimensions."""
    inputs = sig["inputs"]
    bad = [i["name"] for i in inputs if not (_is_string(i["dtype"]) or _is_number(i["dtype"]))]
    if bad:
        return [], f"inputs {bad} are neither numbers nor strings"
    kinds = []
    if len(inputs) == 1 and _is_number(inputs[0]["dtype"]):
        shape = inputs[0]["shape"]
        if None not in shape or (input_shape is not None and _fits(input_shape, shape)):
            kinds.append("tensor")
        else:
            return [], (f"its input has shape {shape} with a free dimension (None); give the shape it takes as "
                        "metadata={'input_shape': [...]}")
    if all(i["shape"] == [1] for i in inputs):
        kinds.append("tabular")
    if kinds:
        return kinds, ""
    strings = {i["name"]: i["shape"] for i in inputs if _is_string(i["dtype"])}
    wide = {n: shape for n, shape in strings.items() if shape != [1]}
    if wide:
        return [], (f"its string inputs {wide} have shapes other than [1], and strings are served only as columns "
                    "of shape [1] (one value per input, kind 'tabular'): give each string column its own "
                    "keras.Input((1,), dtype='string'), or turn the text into numbers before the model")
    if strings:
        others = {i["name"]: i["shape"] for i in inputs if i["shape"] != [1]}
        return [], (f"its string inputs {sorted(strings)} are served only as columns of a tabular model, whose every "
                    f"input has shape [1], but inputs {others} do not: give each column its own input of shape [1], "
                    "or turn the strings into numbers before the model")
    shapes = shapes if isinstance(shapes, Mapping) else {}
    free = {i["name"]: i["shape"] for i in inputs
            if None in i["shape"] and not _fits(shapes.get(i["name"]), i["shape"])}
    if free:
        return [], (f"its inputs {free} have free dimensions (None); give the shapes they take as "
                    "metadata={'inputs': {name: [...], ...}}")
    return ["tensors"], ""


def serving_metadata(model, data=None, n_background: int = 50, seed: int = 0, given: Mapping | None = None) -> dict:
    """The metadata keys the service needs to serve ``model``, read from the model (and from ``data``).

    Parameters
    ----------
    model : keras.Model
        A built model (see the module docstring for the three kinds the service serves).
    data : DataFrame or array, optional
        Training rows. For a tabular model: numeric ranges, allowed categories, ``n_background`` background
        rows for explanations and the data hash (:func:`tabular_metadata`). Without it the categories come
        from the model's ``StringLookup`` layers and there are no background rows (``:explain`` then needs
        them elsewhere). For a tensor model: the data hash and, for narrow inputs, background rows (see the
        module docstring; without them ``:explain`` uses a zero baseline). For a ``tensors`` model: the same,
        from a dict of arrays, one per input name.
    given : dict, optional
        Metadata the caller wrote: its ``kind`` picks between two possible kinds, its ``input_schema`` is
        used instead of reading the vocabularies, its ``input_shape`` (``inputs`` for a ``tensors`` model)
        fixes free dimensions.

    Returns
    -------
    dict
        ``signature`` (:func:`infer_signature`) plus ``kind`` and its keys, and ``output``.

    Raises
    ------
    SignatureError
        When the service cannot serve the model's inputs, or a string input has no ``StringLookup`` to
        read its categories from and no ``data`` was given — naming the input and the fix.

    Examples
    --------
    >>> from aiaas_lib.env import import_tensorflow; tf = import_tensorflow(); import keras
    >>> model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(1)])
    >>> meta = serving_metadata(model)
    >>> meta["kind"], meta["input_shape"], meta["dtype"]
    ('tensor', [20], 'float32')
    >>> image, extra = keras.Input((8, 8, 1), name="image"), keras.Input((3,), name="meta")
    >>> joined = keras.layers.Concatenate()([keras.layers.Flatten()(image), extra])
    >>> two = keras.Model({"image": image, "meta": extra}, keras.layers.Dense(1)(joined))
    >>> meta = serving_metadata(two)
    >>> meta["kind"], meta["inputs"], meta["structure"]
    ('tensors', {'image': [8, 8, 1], 'meta': [3]}, 'named')
    """
    import numpy as np

    given = dict(given or {})
    sig = infer_signature(model)
    kinds, why = _candidate_kinds(sig, given.get("input_shape"), given.get("inputs"))
    name = getattr(model, "name", "model")
    if not kinds:
        raise SignatureError(
            f"the service cannot serve model {name!r} as it is: {why}. To store it without serving, register it "
            "with infer=False"
        )
    kind = given["kind"] if given.get("kind") in kinds else kinds[0]
    output = sig["outputs"][0]["name"]
    meta: dict = {"signature": sig, "kind": kind, "output": output}
    if kind == "tensor":
        shape = sig["inputs"][0]["shape"]
        meta.update(input_shape=given["input_shape"] if None in shape else shape, dtype=sig["inputs"][0]["dtype"])
        if data is not None:
            meta["data_sha256"] = array_hash(np.asarray(data))
            arr, width = np.asarray(data), int(np.prod(meta["input_shape"] or [1]))
            rows = min(n_background, len(arr), MAX_BACKGROUND_VALUES // max(width, 1))
            if rows >= MIN_TENSOR_BACKGROUND and list(arr.shape[1:]) == list(meta["input_shape"]):
                pick = np.sort(np.random.default_rng(seed).choice(len(arr), rows, replace=False))
                meta["background"] = arr[pick].astype(np.float32).tolist()
        return meta
    if kind == "tensors":
        fixed = given["inputs"] if isinstance(given.get("inputs"), Mapping) else {}
        shapes = {i["name"]: ([int(d) for d in fixed[i["name"]]] if None in i["shape"] else i["shape"])
                  for i in sig["inputs"]}
        meta.update(inputs=shapes, structure=sig["structure"])
        if data is not None:
            arrays = _tensors_data(data, shapes, name)
            meta["data_sha256"] = array_hash(*arrays.values())
            n, width = len(next(iter(arrays.values()))), sum(int(np.prod(s)) for s in shapes.values())
            rows = min(n_background, n, MAX_BACKGROUND_VALUES // max(width, 1))
            if width <= MAX_TENSORS_BACKGROUND_WIDTH and rows >= MIN_TENSOR_BACKGROUND:
                pick = np.sort(np.random.default_rng(seed).choice(n, rows, replace=False))
                meta["background"] = {k: a[pick].astype(np.float32).tolist() for k, a in arrays.items()}
        return meta
    numeric = [i["name"] for i in sig["inputs"] if _is_number(i["dtype"])]
    categorical = [i["name"] for i in sig["inputs"] if _is_string(i["dtype"])]
    meta.update(numeric=numeric, categorical=categorical)
    if data is not None:
        if not hasattr(data, "columns"):
            raise SignatureError(f"data for the tabular model {name!r} must be a DataFrame of training rows "
                                 f"with columns {numeric + categorical}; got {type(data).__name__}")
        missing = [c for c in numeric + categorical if c not in data.columns]
        if missing:
            raise SignatureError(f"data lacks the model's input columns {missing}; it has {list(data.columns)}")
        found = tabular_metadata(data, numeric, categorical, {}, seed=seed, n_background=n_background,
                                 output=output)
        del found["metrics"]
        return {**meta, **found}
    if "input_schema" in given:
        return {**meta, "input_schema": given["input_schema"]}
    vocabularies = _lookup_vocabularies(model)
    unknown = [c for c in categorical if not vocabularies.get(c)]
    if unknown:
        raise SignatureError(
            f"model {name!r}: the allowed values of string inputs {unknown} cannot be read from the model (no single "
            "StringLookup layer with a vocabulary reads them); register with data=<training rows> or give "
            "metadata={'input_schema': aiaas_lib.packaging.schema.input_schema(X_train, numeric, categorical)}"
        )
    schema = {"numeric": {c: {} for c in numeric}, "categorical": {c: vocabularies[c] for c in categorical}}
    return {**meta, "input_schema": schema}


def _tensors_data(data, shapes: Mapping, name: str) -> dict:
    """Training rows of a ``tensors`` model: {input name: float array (n, *shape)}, one per input, the same n."""
    import numpy as np

    if not isinstance(data, Mapping):
        raise SignatureError(f"data for the multi-input model {name!r} must be a dict of arrays, one per input "
                             f"{list(shapes)}; got {type(data).__name__}")
    missing, unknown = [k for k in shapes if k not in data], sorted(set(map(str, data)) - set(shapes))
    if missing or unknown:
        raise SignatureError(f"data must have one array per input of model {name!r}, {list(shapes)}; missing "
                             f"{missing}, unknown {unknown}")
    arrays, counts = {}, set()
    for key, shape in shapes.items():
        try:
            arr = np.asarray(data[key], dtype=np.float32)
        except (TypeError, ValueError):
            raise SignatureError(f"data[{key!r}] must be an array of numbers") from None
        if list(arr.shape[1:]) != list(shape) or not len(arr):
            raise SignatureError(f"data[{key!r}] has shape {list(arr.shape)}; input {key!r} takes [n, "
                                 f"{', '.join(map(str, shape))}] (n > 0)")
        arrays[key] = arr
        counts.add(len(arr))
    if len(counts) > 1:
        rows = {k: len(a) for k, a in arrays.items()}
        raise SignatureError(f"data's arrays have different numbers of rows {rows}; give the same rows of every input")
    return arrays


def _check_tensors(metadata: Mapping, inferred: Mapping) -> None:
    """A ``tensors`` model's caller-written ``inputs``, ``structure`` and ``background`` against the model."""
    import numpy as np

    shapes = inferred["inputs"]
    given = metadata.get("inputs", shapes)
    if not isinstance(given, Mapping) or list(given) != list(shapes):
        names = list(given) if isinstance(given, Mapping) else given
        raise SignatureError(f"metadata['inputs'] must be {{name: shape}} of every input in the model's order; got "
                             f"{names!r}, but the model's inputs are {list(shapes)}: {_fix('inputs')}")
    for key, shape in given.items():
        if list(shape) != list(shapes[key]) and not _fits(shape, shapes[key]):
            raise SignatureError(f"metadata['inputs'][{key!r}]={list(shape)!r}, but the model's input {key!r} has "
                                 f"shape {shapes[key]!r}: {_fix('inputs')}")
    if metadata.get("structure", inferred["structure"]) != inferred["structure"]:
        raise SignatureError(f"metadata['structure']={metadata['structure']!r}, but the model takes its inputs as a "
                             f"{'dict' if inferred['structure'] == 'named' else 'list'} ({inferred['structure']!r}): "
                             f"{_fix('structure')}")
    background = metadata.get("background")
    if background is None:
        return
    found = None
    if isinstance(background, Mapping) and list(background) == list(given):
        try:
            found = {k: list(np.asarray(v, dtype=np.float64).shape) for k, v in background.items()}
        except (TypeError, ValueError):
            found = None
    ok = found is not None and all(s[:1] and s[0] > 0 and s[1:] == list(given[k]) for k, s in found.items())
    if not ok or len({s[0] for s in found.values()}) != 1:
        raise SignatureError(f"metadata['background'] must be {{name: rows}} for every input {list(given)}, the same "
                             f"number of rows each, rows of the input's shape; got shapes {found}: "
                             f"{_fix('background')}")


def _fix(key: str) -> str:
    return f"fix it, or leave '{key}' out and the registry reads it from the model"


def check_metadata(metadata: Mapping, inferred: Mapping) -> None:
    """Check the serving keys of caller-written ``metadata`` against ``inferred`` (:func:`serving_metadata`).

    Raises
    ------
    SignatureError
        Naming the key, the value given, the model's value and the fix.

    Examples
    --------
    >>> inferred = {"kind": "tabular", "numeric": ["age"], "categorical": ["city"],
    ...             "input_schema": {"numeric": {"age": {}}, "categorical": {"city": ["a", "b"]}}}
    >>> check_metadata({"numeric": ["Age"]}, inferred)
    Traceback (most recent call last):
    ...
    aiaas_lib.packaging.signature.SignatureError: metadata['numeric'] names 'Age', which is not an input of the model
    (did you mean 'age'?); its numeric inputs are ['age'] (categorical: ['city']): fix it, or leave 'numeric'
    out and the registry reads it from the model
    """
    kind = metadata.get("kind", inferred["kind"])
    if kind not in SERVED_KINDS:
        raise SignatureError(
            f"metadata['kind']={kind!r} is not a kind the service serves; expected one of {list(KINDS)}. This "
            f"model's inputs make it {inferred['kind']!r}: write that, or leave 'kind' out and the registry infers it"
        )
    if kind != inferred["kind"]:
        shapes = {i["name"]: i["shape"] for i in inferred["signature"]["inputs"]} if "signature" in inferred else {}
        raise SignatureError(
            f"metadata['kind']={kind!r}, but the model's inputs {shapes} make it {inferred['kind']!r}: "
            f"{_fix('kind')}"
        )
    if kind == "tensor":
        for key in ("input_shape", "dtype"):
            if key in metadata and metadata[key] != inferred[key] and not (
                    key == "input_shape" and _fits(metadata[key], inferred[key])):
                raise SignatureError(
                    f"metadata[{key!r}]={metadata[key]!r}, but the model's input has {key} {inferred[key]!r}: "
                    f"{_fix(key)}"
                )
        shape = metadata.get("input_shape", inferred["input_shape"])
        _check_tensor_background(metadata.get("background"), shape)
        return
    if kind == "tensors":
        _check_tensors(metadata, inferred)
        return
    num, cat = inferred["numeric"], inferred["categorical"]
    for key, mine, other in (("numeric", num, cat), ("categorical", cat, num)):
        if key not in metadata:
            continue
        given = metadata[key]
        if isinstance(given, str) or not isinstance(given, Sequence):
            raise SignatureError(f"metadata[{key!r}] must be a list of column names, got {given!r}")
        for col in given:
            if col in other:
                dtype = "string" if key == "numeric" else "a number"
                raise SignatureError(
                    f"metadata[{key!r}] lists {col!r}, but the model's input {col!r} takes {dtype}: move it to "
                    f"metadata[{'categorical' if key == 'numeric' else 'numeric'!r}], or leave both out and the "
                    "registry reads them from the model"
                )
            if col not in mine:
                close = difflib.get_close_matches(str(col), mine, n=1)
                raise SignatureError(
                    f"metadata[{key!r}] names {col!r}, which is not an input of the model"
                    + (f" (did you mean {close[0]!r}?)" if close else "") + f"; its {key} inputs are "
                    f"{mine} ({'categorical' if key == 'numeric' else 'numeric'}: {other}): {_fix(key)}"
                )
        left = [c for c in mine if c not in given]
        if left:
            raise SignatureError(f"metadata[{key!r}]={list(given)} leaves out the model's {key} inputs {left}: "
                                 f"{_fix(key)}")
    schema = metadata.get("input_schema")
    if schema is not None:
        if not isinstance(schema, Mapping) or set(schema) != {"numeric", "categorical"}:
            raise SignatureError("metadata['input_schema'] must be {'numeric': {...}, 'categorical': {...}} "
                                 "(aiaas_lib.packaging.schema.input_schema); " + _fix("input_schema"))
        for key, mine in (("numeric", num), ("categorical", cat)):
            if sorted(schema[key]) != sorted(mine):
                raise SignatureError(
                    f"metadata['input_schema'][{key!r}] has columns {sorted(schema[key])}, but the model's {key} "
                    f"inputs are {sorted(mine)}: {_fix('input_schema')}"
                )
    background = metadata.get("background")
    if background:
        from aiaas_lib.packaging.schema import SchemaError, check_rows

        try:
            check_rows(background, schema or inferred["input_schema"])
        except SchemaError as err:
            raise SignatureError(f"metadata['background'] does not match the input schema: {err}") from None


def _check_tensor_background(background, shape) -> None:
    """A tensor model's ``background``: None, or a list of numeric rows of the input's shape."""
    if background is None:
        return
    import numpy as np

    try:
        found = list(np.asarray(background, dtype=np.float64).shape)
    except (TypeError, ValueError):
        found = None
    if not found or found[0] == 0 or found[1:] != list(shape):
        raise SignatureError(f"metadata['background'] must be a non-empty list of numeric rows of shape "
                             f"{list(shape)}; got shape {found}: {_fix('background')}")


def _fits(given, actual) -> bool:
    """True when ``given`` is a concrete shape that ``actual`` (with None for free dimensions) accepts."""
    return (isinstance(given, Sequence) and len(given) == len(actual)
            and all(a is None or a == g for g, a in zip(given, actual)))


def resolve_metadata(model, metadata: Mapping | None = None, data=None) -> dict:
    """``metadata`` completed with what serving needs, read from ``model`` (and ``data``), and checked.

    The caller's keys win where they agree with the model (:func:`check_metadata`); text models (kind
    ``generation`` / ``embedding``) are stored as given. This is what :meth:`ModelRegistry.register` stores.

    Examples
    --------
    >>> from aiaas_lib.env import import_tensorflow; tf = import_tensorflow(); import keras
    >>> model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(1)])
    >>> meta = resolve_metadata(model, {"purpose": "demo"})
    >>> meta["purpose"], meta["kind"], meta["input_shape"]
    ('demo', 'tensor', [20])
    >>> resolve_metadata(model, {"kind": "image"})
    Traceback (most recent call last):
    ...
    aiaas_lib.packaging.signature.SignatureError: metadata['kind']='image' is not a kind the service serves; expected one
    of ['tabular', 'tensor', 'tensors', 'generation', 'embedding']. This model's inputs make it 'tensor': write
    that, or leave 'kind' out and the registry infers it
    """
    metadata = dict(metadata or {})
    kind = metadata.get("kind")
    if kind in TEXT_KINDS:
        return metadata
    if kind is not None and kind not in SERVED_KINDS:
        kinds, _ = _candidate_kinds(infer_signature(model), metadata.get("input_shape"), metadata.get("inputs"))
        hint = (f"This model's inputs make it {kinds[0]!r}: write that, or leave 'kind' out and the registry infers it"
                if kinds else "To store a model the service does not serve, register it with infer=False")
        raise SignatureError(f"metadata['kind']={kind!r} is not a kind the service serves; expected one of "
                             f"{list(KINDS)}. {hint}")
    inferred = serving_metadata(model, data, given=metadata)
    check_metadata(metadata, inferred)
    return {**inferred, **metadata}


def array_hash(*arrays: np.ndarray) -> str:
    """sha256 over arrays' bytes (which data trained a model).

    Examples
    --------
    >>> import numpy as np
    >>> array_hash(np.zeros(3)) == array_hash(np.zeros(3)) != array_hash(np.ones(3))
    True
    """
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()
