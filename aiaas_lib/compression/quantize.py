"""Used by notebook 15 (through :mod:`aiaas_lib.compression`).

Int8 quantization: the affine map itself in NumPy, Keras 3's ``model.quantize("int8")``, and the
quantization parameters a TFLite file stores.

Affine (asymmetric) quantization maps a real range :math:`[r_{min}, r_{max}]` (widened to contain 0, so
that 0 is exact) onto the integers :math:`[q_{min}, q_{max}]`:

.. math:: s = \\frac{r_{max} - r_{min}}{q_{max} - q_{min}}, \\quad
          z = \\mathrm{round}\\!\\left(q_{min} - \\frac{r_{min}}{s}\\right), \\quad
          q = \\mathrm{clip}(\\mathrm{round}(r / s) + z,\\ q_{min}, q_{max}), \\quad \\hat r = s\\,(q - z).

TFLite uses it for activations (int8, :math:`[-128, 127]`); weights are *symmetric* per output channel
(:math:`z = 0`, :math:`s = \\max|w| / 127`). The TFLite conversion itself lives in
:func:`aiaas_lib.packaging.export.export_tflite` (``quantize="dynamic"`` or ``"int8"``).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from aiaas_lib.env import import_tensorflow
from aiaas_lib.validation import integer

#: Integer ranges of the quantized types: name -> (q_min, q_max).
INT_RANGES = {"int8": (-128, 127), "uint8": (0, 255)}


def _dtype(dtype: str) -> tuple[int, int]:
    """The (q_min, q_max) of ``dtype`` or a clear error."""
    if dtype not in INT_RANGES:
        raise ValueError(f"dtype={dtype!r}; expected one of {sorted(INT_RANGES)}")
    return INT_RANGES[dtype]


def affine_params(r_min: float, r_max: float, dtype: str = "int8") -> tuple[float, int]:
    """Scale and zero point of asymmetric (affine) quantization of the real range ``[r_min, r_max]``.

    The range is first widened to contain 0 (so that 0, e.g. ReLU's output and padding, is represented
    exactly), as TFLite does.

    Parameters
    ----------
    r_min, r_max : float
        The observed range of the tensor (``r_min <= r_max``).
    dtype : {"int8", "uint8"}
        The integer type.

    Returns
    -------
    (float, int)
        ``scale`` :math:`s` and ``zero_point`` :math:`z`.

    Raises
    ------
    ValueError
        For ``r_min > r_max``, a non-finite bound, or an unknown ``dtype``.

    Examples
    --------
    Pixels in [0, 1] (the CNN's input) in int8:

    >>> scale, zero_point = affine_params(0.0, 1.0)
    >>> round(scale * 255, 6), zero_point
    (1.0, -128)
    """
    q_min, q_max = _dtype(dtype)
    r_min, r_max = float(r_min), float(r_max)
    if not (np.isfinite(r_min) and np.isfinite(r_max)):
        raise ValueError(f"r_min={r_min!r}, r_max={r_max!r} must be finite numbers")
    if r_min > r_max:
        raise ValueError(f"r_min={r_min!r} is larger than r_max={r_max!r}; give the range as (min, max)")
    r_min, r_max = min(r_min, 0.0), max(r_max, 0.0)
    if r_max == r_min:  # an all-zero tensor: any scale represents it; 1.0 keeps the maths finite
        return 1.0, 0
    scale = (r_max - r_min) / (q_max - q_min)
    zero_point = int(np.clip(np.round(q_min - r_min / scale), q_min, q_max))
    return float(scale), zero_point


def symmetric_scale(w, axis: int | None = -1, num_bits: int = 8) -> np.ndarray:
    """Scales of symmetric quantization (zero point 0): :math:`s = \\max|w| / (2^{b-1} - 1)`, per slice
    along ``axis`` (TFLite and Keras quantize weights per output channel: the last axis of a kernel), or
    one scale for the whole tensor with ``axis=None``.

    Examples
    --------
    >>> w = np.array([[0.5, -2.0], [-1.27, 1.0]])
    >>> symmetric_scale(w).round(4).tolist()
    [0.01, 0.0157]
    """
    w = np.asarray(w, dtype=np.float64)
    num_bits = integer("num_bits", num_bits, 2, 16)
    if axis is None:
        peak = np.max(np.abs(w))
    else:
        axis = axis % w.ndim
        peak = np.max(np.abs(w), axis=tuple(i for i in range(w.ndim) if i != axis))
    peak = np.where(peak == 0, 1.0, peak)  # an all-zero channel: any scale works
    return np.asarray(peak / (2 ** (int(num_bits) - 1) - 1))


def quantize(r, scale: float, zero_point: int, dtype: str = "int8") -> np.ndarray:
    """Real values → integers: :math:`q = \\mathrm{clip}(\\mathrm{round}(r/s) + z, q_{min}, q_{max})`.

    Rounding is NumPy's round-half-to-even.

    Examples
    --------
    >>> quantize([0.0, 0.5, 1.0, 2.0], 1 / 255, -128).tolist()
    [-128, 0, 127, 127]
    """
    q_min, q_max = _dtype(dtype)
    if not scale > 0:
        raise ValueError(f"scale={scale!r} must be > 0")
    q = np.round(np.asarray(r, dtype=np.float64) / scale) + int(zero_point)
    return np.clip(q, q_min, q_max).astype(dtype)


def dequantize(q, scale: float, zero_point: int) -> np.ndarray:
    """Integers → real values: :math:`\\hat r = s\\,(q - z)` (float32).

    Examples
    --------
    >>> [round(float(v), 4) for v in dequantize(np.array([-128, 0, 127], "int8"), 1 / 255, -128)]
    [0.0, 0.502, 1.0]
    """
    return (float(scale) * (np.asarray(q, dtype=np.float64) - int(zero_point))).astype(np.float32)


def keras_int8(model):
    """A copy of ``model`` with Keras 3's own int8 weight quantization (``model.quantize("int8")``).

    On Keras 3.15 this quantizes ``Dense``, ``EinsumDense`` and ``Embedding`` layers (int8 kernel with
    one float scale per output channel; inputs quantized on the fly per row): **not** ``Conv2D``, which
    stays float. The warnings Keras prints for each layer it skips are silenced here; the returned
    model's ``quantized_layers`` attribute lists what was quantized.

    Parameters
    ----------
    model : keras.Model
        A built functional or Sequential model; it is not changed.

    Returns
    -------
    keras.Model
        The quantized copy (uncompiled).

    Examples
    --------
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d")])
    >>> keras_int8(model).quantized_layers
    ['d']
    """
    import_tensorflow()
    import keras

    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(f"model must be a built keras.Model; got {type(model).__name__}")
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    with warnings.catch_warnings():
        # Keras warns "Layer X does not have a `quantize` method implemented" once per skipped layer
        warnings.filterwarnings("ignore", message=".*does not have a `quantize` method", category=UserWarning)
        copy.quantize("int8")
    copy.quantized_layers = [layer.name for layer in copy.layers if getattr(layer, "quantization_mode", None)]
    return copy


def tflite_tensor_params(path: str | Path) -> dict[str, dict]:
    """The quantization parameters stored in a ``.tflite`` file, per tensor name.

    Returns
    -------
    dict
        name -> ``{"dtype", "shape", "scales", "zero_points", "axis"}`` (``scales`` and ``zero_points``
        are arrays: one entry per tensor, or one per channel along ``axis`` for per-channel weights; empty
        for float tensors).

    Examples
    --------
    >>> tflite_tensor_params("no-such-model.tflite")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no-such-model.tflite does not exist; write it with aiaas_lib.packaging.export.export_tflite
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; write it with aiaas_lib.packaging.export.export_tflite")
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    out = {}
    for t in interpreter.get_tensor_details():
        qp = t.get("quantization_parameters", {})
        out[t["name"]] = {
            "dtype": np.dtype(t["dtype"]).name,
            "shape": tuple(int(s) for s in t["shape"]),
            "scales": np.asarray(qp.get("scales", []), dtype=np.float64),
            "zero_points": np.asarray(qp.get("zero_points", []), dtype=np.int64),
            "axis": int(qp.get("quantized_dimension", 0)),
        }
    return out
