"""Used by every notebook (00–17) through the library: the argument checks of numpy_nn, vision, training,
generation and privacy, and the sha256 that data, model cards and the registry verify; also the
CLI/service.

Argument checks shared by the whole library: each returns the value, converted, or raises a ValueError
that names the argument, repeats the bad value and says what is allowed (``epochs=0 must be an integer >= 1``);
and :func:`file_sha256`, the one checksum that data files, model cards and the registry verify files with.

One argument order everywhere: ``check(name, value, ...)``, as in ``ValueError(f"{name}={value!r} ...")``.
``bool`` is never accepted as a number (``True`` is an ``int`` in Python, but never what the caller meant).
"""
from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np

_INTS = (int, np.integer)
_REALS = (int, float, np.integer, np.floating)


def integer(name: str, value, low: int = 1, high: int | None = None, *, hint: str = "") -> int:
    """``value`` as an ``int`` in ``[low, high]`` (no upper bound when ``high`` is None); ``hint``, when
    given, is added to the error in brackets (what the number counts, a safe default).

    Examples
    --------
    >>> integer("epochs", 3), integer("top_k", 0, low=0)
    (3, 0)
    >>> integer("epochs", 0)
    Traceback (most recent call last):
    ...
    ValueError: epochs=0 must be an integer >= 1
    >>> integer("top_logprobs", 21, 0, 20)
    Traceback (most recent call last):
    ...
    ValueError: top_logprobs=21 must be an integer in [0, 20]
    >>> integer("opset", 3, 7, 21, hint="17 is a safe default")
    Traceback (most recent call last):
    ...
    ValueError: opset=3 must be an integer in [7, 21] (17 is a safe default)
    """
    allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
    if isinstance(value, bool) or not isinstance(value, _INTS) or value < low or (high is not None and value > high):
        raise ValueError(f"{name}={value!r} must be an integer {allowed}" + (f" ({hint})" if hint else ""))
    return int(value)


def positive_int(name: str, value, *, hint: str = "") -> int:
    """``value`` as an ``int`` >= 1 (a count: epochs, batch size, layer width, stride).

    Examples
    --------
    >>> positive_int("batch_size", 32)
    32
    >>> positive_int("batch_size", 1.5)
    Traceback (most recent call last):
    ...
    ValueError: batch_size=1.5 must be an integer >= 1
    """
    return integer(name, value, 1, hint=hint)


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    """How an allowed range reads in an error message: ``in [0, 1)``, ``> 0``, ``>= 0``, ``<= 2``."""
    if math.isinf(low) and math.isinf(high):
        return "(any finite or infinite value)"
    if math.isinf(high):
        return f"{'>' if low_open else '>='} {low:g}"
    if math.isinf(low):
        return f"{'<' if high_open else '<='} {high:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def number(name: str, value, low: float = -math.inf, high: float = math.inf, *,
           low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a ``float`` in the range from ``low`` to ``high`` (closed ends unless ``*_open``); never NaN.

    Examples
    --------
    >>> number("temperature", 0.7, 0, 2)
    0.7
    >>> number("top_p", 0, 0, 1, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: top_p=0 must be a number in (0, 1]
    """
    ok = isinstance(value, _REALS) and not isinstance(value, bool) and not math.isnan(value)
    if not ok or not (low < value if low_open else low <= value) or not (value < high if high_open else value <= high):
        raise ValueError(f"{name}={value!r} must be a number {_interval(low, high, low_open, high_open)}")
    return float(value)


def positive_number(name: str, value) -> float:
    """``value`` as a ``float`` > 0 (a learning rate, a clipping norm, a scale).

    Examples
    --------
    >>> positive_number("lr", 0)
    Traceback (most recent call last):
    ...
    ValueError: lr=0 must be a number > 0
    """
    return number(name, value, 0.0, low_open=True)


def non_negative(name: str, value) -> float:
    """``value`` as a ``float`` >= 0 (a penalty weight, an epsilon).

    Examples
    --------
    >>> non_negative("l2", -0.1)
    Traceback (most recent call last):
    ...
    ValueError: l2=-0.1 must be a number >= 0
    """
    return number(name, value, 0.0)


def in_unit_interval(name: str, value) -> float:
    """``value`` as a ``float`` in [0, 1) (a momentum, a decay rate, a sparsity).

    Examples
    --------
    >>> in_unit_interval("momentum", 0.9)
    0.9
    >>> in_unit_interval("momentum", 1.0)
    Traceback (most recent call last):
    ...
    ValueError: momentum=1.0 must be a number in [0, 1)
    """
    return number(name, value, 0.0, 1.0, high_open=True)


def file_sha256(path: str | Path) -> str:
    """sha256 (hex) of a file, read in 1 MiB chunks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:12]
    'ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
