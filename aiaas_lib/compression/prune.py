"""Used by notebook 15.

Magnitude pruning that works with Keras 3 (``tensorflow_model_optimization`` refuses Keras 3 models).

Definition used throughout: pruning a kernel of :math:`n` weights to sparsity :math:`s \\in [0, 1)` zeroes
exactly :math:`k = \\lfloor s\\,n \\rfloor` weights — those of smallest magnitude :math:`|w|`; among equal
magnitudes the one with the lower flat (C-order) index goes first, so the mask is deterministic. Each
prunable layer (``Dense``, ``Conv*``, ``EinsumDense``: their ``kernel``; biases and normalisation
parameters are left alone) gets its own mask: per-layer, not global, sparsity.

Masks survive fine-tuning through :class:`~aiaas_lib.compression.keras_classes.PruningCallback`, which
multiplies every kernel by its mask
after each optimizer step (``on_train_batch_end``). A callback rather than a ``kernel_constraint``:
constraints are set when a layer is built, so they would mean rebuilding the model, while a callback
works on any built model and can also *change* the masks as a schedule raises the sparsity. (Keras also
applies constraints after each step, so the two give the same weights at the end of a step.) Note: with
``steps_per_execution > 1`` Keras calls batch callbacks only every that many steps; keep it at 1.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aiaas_lib.env import import_tensorflow
from aiaas_lib.validation import positive_int


def _check_sparsity(sparsity: float) -> float:
    """``sparsity`` as a float in [0, 1), or a clear error."""
    try:
        value = float(sparsity)
    except (TypeError, ValueError):
        raise ValueError(f"sparsity={sparsity!r} must be a number in [0, 1)") from None
    if not 0.0 <= value < 1.0:
        raise ValueError(f"sparsity={sparsity!r} must be in [0, 1): 0 keeps every weight, 1 would zero them all")
    return value


def n_pruned(n: int, sparsity: float) -> int:
    """How many of ``n`` weights pruning to ``sparsity`` zeroes: :math:`\\lfloor s\\,n \\rfloor`.

    Computed with a small tolerance so that e.g. 0.7 × 10 counts as 7, not 6 (0.7 × 10 = 6.9999… in
    floating point).

    Examples
    --------
    >>> n_pruned(10, 0.7), n_pruned(7, 0.5), n_pruned(3, 0.0)
    (7, 3, 0)
    """
    sparsity = _check_sparsity(sparsity)
    return int(math.floor(sparsity * int(n) + 1e-9))


def magnitude_mask(w, sparsity: float) -> np.ndarray:
    """The pruning mask of ``w``: False for the :math:`\\lfloor s\\,n \\rfloor` smallest :math:`|w|`
    (ties: lower flat index first), True elsewhere.

    Parameters
    ----------
    w : array-like
        A kernel of any shape.
    sparsity : float
        Fraction to zero, in [0, 1).

    Returns
    -------
    numpy.ndarray of bool
        Same shape as ``w``; ``w * mask`` is the pruned kernel.

    Raises
    ------
    ValueError
        If ``sparsity`` is outside [0, 1).

    Examples
    --------
    >>> magnitude_mask([0.3, -0.1, 0.5, 0.1, -0.2], 0.4).tolist()
    [True, False, True, False, True]
    """
    w = np.asarray(w)
    k = n_pruned(w.size, sparsity)
    mask = np.ones(w.size, dtype=bool)
    order = np.argsort(np.abs(w).ravel(), kind="stable")  # stable: equal |w| keep index order
    mask[order[:k]] = False
    return mask.reshape(w.shape)


def prunable_layers(model) -> list:
    """The layers whose ``kernel`` is pruned: Dense, EinsumDense and convolutions (including those
    inside nested models), in model order.

    Examples
    --------
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d"),
    ...                           keras.layers.BatchNormalization(name="bn")])
    >>> [layer.name for layer in prunable_layers(model)]
    ['d']
    """
    import_tensorflow()
    import keras

    kinds = (keras.layers.Dense, keras.layers.EinsumDense, keras.layers.Conv1D, keras.layers.Conv2D,
             keras.layers.Conv3D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)
    return [layer for layer in model._flatten_layers(include_self=False)
            if isinstance(layer, kinds) and getattr(layer, "kernel", None) is not None]


def layer_sparsity(model) -> dict[str, float]:
    """Fraction of exactly-zero kernel weights in each prunable layer.

    Examples
    --------
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, name="d")])
    >>> _ = prune(model, 0.5)
    >>> layer_sparsity(model)
    {'d': 0.5}
    """
    return {layer.name: float(np.mean(np.asarray(layer.kernel) == 0)) for layer in prunable_layers(model)}


def sparsity(model) -> float:
    """Fraction of exactly-zero weights over all prunable kernels of ``model`` (weighted by size).

    Examples
    --------
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5), keras.layers.Dense(2)])
    >>> _ = prune(model, 0.8)
    >>> sparsity(model)  # floor(0.8*20) + floor(0.8*10) = 16 + 8 zeros of 30
    0.8
    """
    layers = prunable_layers(model)
    if not layers:
        raise ValueError(f"model {model.name!r} has no prunable layers (Dense, EinsumDense or Conv)")
    zeros = sum(int(np.sum(np.asarray(layer.kernel) == 0)) for layer in layers)
    total = sum(int(np.prod(layer.kernel.shape)) for layer in layers)
    return zeros / total


def _apply(model, masks: dict[str, np.ndarray]) -> None:
    """Multiply each prunable kernel by its mask, in place."""
    for layer in prunable_layers(model):
        if layer.name in masks:
            layer.kernel.assign(np.asarray(layer.kernel) * masks[layer.name])


def prune(model, sparsity: float) -> dict[str, np.ndarray]:
    """One-shot magnitude pruning of ``model`` in place: each prunable kernel loses its
    :math:`\\lfloor s\\,n \\rfloor` smallest weights.

    Returns
    -------
    dict
        layer name -> boolean mask (True = kept), as :func:`magnitude_mask` gives it.

    Examples
    --------
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, name="d")])
    >>> masks = prune(model, 0.25)
    >>> int((~masks["d"]).sum())  # floor(0.25 * 20)
    5
    """
    _check_sparsity(sparsity)
    masks = {layer.name: magnitude_mask(np.asarray(layer.kernel), sparsity) for layer in prunable_layers(model)}
    if not masks:
        raise ValueError(f"model {model.name!r} has no prunable layers (Dense, EinsumDense or Conv)")
    _apply(model, masks)
    return masks


@dataclass(frozen=True)
class PolynomialSchedule:
    """Sparsity rising from ``initial`` to ``final`` between steps ``begin`` and ``end`` (Zhu & Gupta, 2017):

    .. math:: s_t = s_f + (s_i - s_f)\\left(1 - \\frac{t - t_0}{t_1 - t_0}\\right)^{p}

    fast at first, when many weights are near-useless, and slowly at the end. ``begin == end`` is the
    one-shot schedule (``final`` from step ``begin`` on). The masks are recomputed every ``frequency``
    steps (and at ``end``).

    Examples
    --------
    >>> schedule = PolynomialSchedule(final=0.8, begin=0, end=100)
    >>> [round(schedule(t), 3) for t in (0, 50, 100, 200)]
    [0.0, 0.7, 0.8, 0.8]
    """

    final: float
    begin: int = 0
    end: int = 0
    initial: float = 0.0
    power: float = 3.0
    frequency: int = 10

    def __post_init__(self):
        _check_sparsity(self.final)
        _check_sparsity(self.initial)
        if self.initial > self.final:
            raise ValueError(f"initial={self.initial!r} is larger than final={self.final!r}")
        if not 0 <= int(self.begin) <= int(self.end):
            raise ValueError(f"begin={self.begin!r}, end={self.end!r}: need 0 <= begin <= end (steps)")
        if not self.power > 0:
            raise ValueError(f"power={self.power!r} must be > 0")
        positive_int("frequency", self.frequency, hint="steps")

    def __call__(self, step: int) -> float:
        """The target sparsity at optimizer step ``step``."""
        if step < self.begin:
            return 0.0
        if step >= self.end:
            return float(self.final)
        done = (step - self.begin) / (self.end - self.begin)
        return float(self.final + (self.initial - self.final) * (1.0 - done) ** self.power)

    def updates_at(self, step: int) -> bool:
        """True when the masks are recomputed at ``step``."""
        return self.begin <= step <= self.end and ((step - self.begin) % int(self.frequency) == 0 or step == self.end)



__all__: Sequence[str] = (
    "n_pruned", "magnitude_mask", "prunable_layers", "layer_sparsity", "sparsity", "prune",
    "PolynomialSchedule",
)
