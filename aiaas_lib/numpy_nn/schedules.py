"""Used by notebooks 02, 03 and 04 (through :mod:`aiaas_lib.numpy_nn`); also imported by the CLI/service.

Learning-rate schedules with the names, arguments and formulas of ``keras.optimizers.schedules``.

A schedule is a callable ``lr = schedule(step)``; an optimizer calls it with its step counter
(0 for the first update), as Keras does. ``step`` may also be an array, handy for plotting.
Keras computes Python-float schedules in float32; these compute in float64.
"""
from __future__ import annotations

import numpy as np

from aiaas_lib.validation import positive_number


def _steps(step):
    step = np.asarray(step, dtype=np.float64)
    if np.any(step < 0):
        raise ValueError(f"step={step.min().item()!r} must be >= 0")
    return step


def _out(value: np.ndarray):
    return float(value) if np.ndim(value) == 0 else value


class ExponentialDecay:
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; with ``staircase=True`` the exponent
    is ``floor(step / decay_steps)``: a step decay that multiplies the rate by ``decay_rate`` every
    ``decay_steps`` steps.

    Examples
    --------
    >>> schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    >>> [schedule(s) for s in (0, 9, 10, 25)]
    [0.1, 0.1, 0.05, 0.025]
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        positive_number("decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate = decay_rate
        self.staircase, self.name = staircase, name

    def __call__(self, step):
        p = _steps(step) / self.decay_steps
        if self.staircase:
            p = np.floor(p)
        return _out(self.initial_learning_rate * np.power(float(self.decay_rate), p))


class PiecewiseConstantDecay:
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, and ``values[-1]`` after ``boundaries[-1]``.

    Raises
    ------
    ValueError
        If ``len(values) != len(boundaries) + 1`` or the boundaries do not strictly increase.

    Examples
    --------
    >>> schedule = PiecewiseConstantDecay(boundaries=[100, 200], values=[1.0, 0.5, 0.1])
    >>> [schedule(s) for s in (0, 100, 101, 200, 201)]
    [1.0, 1.0, 0.5, 0.5, 0.1]
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"boundaries has length {len(boundaries)} and values has length {len(values)}; "
                "values needs exactly one more entry than boundaries"
            )
        if np.any(np.diff(boundaries) <= 0):
            raise ValueError(f"boundaries={list(boundaries)!r} must be strictly increasing")
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step):
        index = np.searchsorted(np.asarray(self.boundaries, dtype=np.float64), _steps(step), side="left")
        return _out(np.asarray(self.values, dtype=np.float64)[index])


class CosineDecay:
    """Cosine decay from the start rate to ``alpha`` times it over ``decay_steps``, then flat:
    ``lr0 * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)``.

    With ``warmup_target`` the rate first rises linearly from ``initial_learning_rate`` to
    ``warmup_target`` over ``warmup_steps`` and the cosine then decays from ``warmup_target``
    (Keras' "linear warmup + cosine decay").

    Examples
    --------
    >>> schedule = CosineDecay(1.0, decay_steps=100, alpha=0.1)
    >>> [round(schedule(s), 4) for s in (0, 50, 100, 1000)]
    [1.0, 0.55, 0.1, 0.1]
    >>> warm = CosineDecay(0.0, decay_steps=100, warmup_target=1.0, warmup_steps=10)
    >>> [round(warm(s), 4) for s in (0, 5, 10, 60)]
    [0.0, 0.5, 1.0, 0.5]
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        positive_number("decay_steps", decay_steps)
        if warmup_steps < 0:
            raise ValueError(f"warmup_steps={warmup_steps!r} must be >= 0")
        self.initial_learning_rate, self.decay_steps, self.alpha = initial_learning_rate, decay_steps, alpha
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps

    def _decay(self, step, decay_from):
        cosine = 0.5 * (1.0 + np.cos(np.pi * step / self.decay_steps))
        return decay_from * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = _steps(step)
        if self.warmup_target is None:
            return _out(self._decay(np.minimum(step, self.decay_steps), self.initial_learning_rate))
        lr0, target, warm = self.initial_learning_rate, self.warmup_target, self.warmup_steps
        step = np.minimum(step, self.decay_steps + warm)
        warming = (target - lr0) * (step / warm if warm else 0.0) + lr0
        return _out(np.where(step < warm, warming, self._decay(step - warm, target)))
