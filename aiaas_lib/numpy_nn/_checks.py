"""Argument checks shared by the numpy_nn modules: each returns the value or raises a ValueError naming it."""
from __future__ import annotations

import numpy as np


def positive_int(name: str, value) -> int:
    """``value`` as an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive int")
    return int(value)


def non_negative(name: str, value) -> float:
    """``value`` as a float >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name}={value!r} must be a number >= 0")
    return float(value)


def in_unit_interval(name: str, value) -> float:
    """``value`` as a float in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name}={value!r} must be a number in [0, 1)")
    return float(value)
