"""Used by notebooks 02, 03 and 04 (through :mod:`aiaas_lib.numpy_nn`); also imported by the CLI/service.

SGD (with momentum and Nesterov), Adagrad, RMSprop and Adam, update for update as ``keras.optimizers``.

Names, defaults and equations follow Keras 3.15's source (``keras/src/optimizers/*.py``), in the same
order of floating-point operations, so a float64 run matches Keras to rounding. ``step(params, grads)``
updates the parameter arrays in place; ``learning_rate`` is a float or a schedule ``lr(step)`` (see
:mod:`aiaas_lib.numpy_nn.schedules`), evaluated at :attr:`Optimizer.iterations`, the number of steps
taken so far (0 for the first). Not implemented: Keras' ``weight_decay``, gradient clipping, EMA and
gradient accumulation.

Below ``g`` is the gradient, ``lr`` the learning rate and ``t`` the step number starting at 1.

One precision quirk is copied on purpose. Where Keras writes ``ops.cast(python_float, variable.dtype)``
(SGD's momentum, Adam's β₁ and β₂ in the bias correction, Adagrad's initial accumulator through
``initializers.Constant``), the float goes through a float32 tensor first, so even a float64 model uses
``float32(0.9) = 0.89999998``. We round those values the same way (``_as_keras_casts``): without it a
200-step Adam trajectory drifts ~1e-5 from Keras', with it the two agree to ~1e-13.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from aiaas_lib.validation import in_unit_interval, non_negative


def _as_keras_casts(value: float) -> float:
    """``value`` rounded to float32 and back, as ``keras.ops.cast(value, "float64")`` does."""
    return float(np.float32(value))


class Optimizer:
    """Shared machinery: the learning rate, the step counter and per-parameter state built on first use."""

    def __init__(self, learning_rate: float | Callable[[int], float]):
        if not callable(learning_rate):
            learning_rate = non_negative("learning_rate", learning_rate)
        self.learning_rate = learning_rate
        self.iterations = 0
        self._shapes: list[tuple[int, ...]] | None = None

    def current_learning_rate(self) -> float:
        """The rate the next :meth:`step` uses: the float, or the schedule at :attr:`iterations`."""
        if not callable(self.learning_rate):
            return self.learning_rate
        return non_negative(f"learning_rate({self.iterations})", float(self.learning_rate(self.iterations)))

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        """Apply one update to every array in ``params`` (in place), given ``grads`` in the same order.

        Raises
        ------
        ValueError
            If ``params`` are not float64 arrays, ``grads`` does not match them one for one in shape,
            or the shapes differ from those of the first call (the state is per parameter).
        """
        if len(params) != len(grads):
            raise ValueError(f"got {len(params)} params but {len(grads)} grads; they must pair up")
        for i, (p, g) in enumerate(zip(params, grads)):
            if not isinstance(p, np.ndarray) or p.dtype != np.float64:
                raise ValueError(f"params[{i}] must be a float64 numpy array (it is updated in place)")
            if np.shape(g) != p.shape:
                raise ValueError(f"grads[{i}] has shape {np.shape(g)} but params[{i}] has shape {p.shape}")
        shapes = [p.shape for p in params]
        if self._shapes is None:
            self._shapes = shapes
            self._build(params)
        elif shapes != self._shapes:
            raise ValueError(f"params have shapes {shapes}, but this optimizer was built for {self._shapes}")
        lr = self.current_learning_rate()
        for i, (p, g) in enumerate(zip(params, grads)):
            self._update(i, p, np.asarray(g, dtype=np.float64), lr)
        self.iterations += 1

    def _build(self, params: Sequence[np.ndarray]) -> None:
        """Create the per-parameter state."""

    def _update(self, i: int, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent ``θ ← θ - lr g``, optionally with momentum (``keras.optimizers.SGD``).

    With ``momentum`` μ > 0: ``m ← μ m - lr g``, then ``θ ← θ + m``; with ``nesterov=True``
    ``θ ← θ + μ m - lr g`` (looking one momentum step ahead). ``m`` starts at 0.

    Raises
    ------
    ValueError
        For a negative ``learning_rate`` or ``momentum`` outside [0, 1) (Keras allows 1, which never forgets).

    Examples
    --------
    >>> theta = np.array([1.0])
    >>> opt = SGD(learning_rate=0.5)
    >>> opt.step([theta], [2 * theta])      # J = θ², g = 2θ
    >>> theta
    array([0.])
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        super().__init__(learning_rate)
        self.momentum = in_unit_interval("momentum", momentum)
        self.nesterov = bool(nesterov)

    def _build(self, params):
        self.momentums = [np.zeros_like(p) for p in params] if self.momentum else []

    def _update(self, i, p, g, lr):
        if not self.momentum:
            p -= g * lr
            return
        m, momentum = self.momentums[i], _as_keras_casts(self.momentum)
        m[...] = m * momentum - g * lr
        p += m * momentum - g * lr if self.nesterov else m


class Adagrad(Optimizer):
    """Per-coordinate rates shrinking with the sum of squared gradients (``keras.optimizers.Adagrad``).

    ``a ← a + g²`` (``a`` starts at ``initial_accumulator_value``), then ``θ ← θ - lr g / sqrt(a + ε)``:
    epsilon sits *inside* the square root.

    Examples
    --------
    >>> theta = np.array([1.0])
    >>> opt = Adagrad(learning_rate=0.1, initial_accumulator_value=0.0, epsilon=0.0)
    >>> opt.step([theta], [np.array([4.0])])
    >>> theta                               # 1 - 0.1 * 4 / sqrt(16)
    array([0.9])
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
        super().__init__(learning_rate)
        self.initial_accumulator_value = non_negative("initial_accumulator_value", initial_accumulator_value)
        self.epsilon = non_negative("epsilon", epsilon)

    def _build(self, params):
        self.accumulators = [np.full_like(p, _as_keras_casts(self.initial_accumulator_value)) for p in params]

    def _update(self, i, p, g, lr):
        a = self.accumulators[i]
        a += np.square(g)
        p -= (lr * g) / np.sqrt(a + self.epsilon)


class RMSprop(Optimizer):
    """Divide by a running root-mean-square of the gradients (``keras.optimizers.RMSprop``).

    ``v ← ρ v + (1 - ρ) g²``; with ``centered=True`` also ``ḡ ← ρ ḡ + (1 - ρ) g`` and the denominator is
    ``sqrt(v - ḡ² + ε)`` (an estimate of the variance), else ``sqrt(v + ε)``: epsilon sits *inside* the
    square root. The increment is ``Δ = lr g / denominator``; with ``momentum`` μ > 0, ``m ← μ m + Δ`` and
    ``θ ← θ - m``, else ``θ ← θ - Δ``. All state starts at 0.

    Examples
    --------
    >>> theta = np.array([1.0])
    >>> RMSprop(learning_rate=0.01, rho=0.75, epsilon=0.0).step([theta], [np.array([2.0])])
    >>> theta                               # 1 - 0.01 * 2 / sqrt(0.25 * 4)
    array([0.98])
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
        super().__init__(learning_rate)
        self.rho = in_unit_interval("rho", rho)
        self.momentum = in_unit_interval("momentum", momentum)
        self.epsilon = non_negative("epsilon", epsilon)
        self.centered = bool(centered)

    def _build(self, params):
        self.velocities = [np.zeros_like(p) for p in params]
        self.momentums = [np.zeros_like(p) for p in params] if self.momentum > 0 else []
        self.average_gradients = [np.zeros_like(p) for p in params] if self.centered else []

    def _update(self, i, p, g, lr):
        rho, v = self.rho, self.velocities[i]
        v[...] = rho * v + (1 - rho) * np.square(g)
        if self.centered:
            avg = self.average_gradients[i]
            avg[...] = rho * avg + (1 - rho) * g
            denominator = v - np.square(avg) + self.epsilon
        else:
            denominator = v + self.epsilon
        increment = (lr * g) / np.sqrt(denominator)
        if self.momentum > 0:
            m = self.momentums[i]
            m[...] = self.momentum * m + increment
            p -= m
        else:
            p -= increment


class Adam(Optimizer):
    """Momentum plus RMS scaling with bias correction (``keras.optimizers.Adam``).

    ``m ← m + (g - m)(1 - β₁)``, ``v ← v + (g² - v)(1 - β₂)`` (both start at 0; with ``amsgrad=True``
    ``v̂ ← max(v̂, v)`` is used in place of ``v``), ``α = lr sqrt(1 - β₂ᵗ) / (1 - β₁ᵗ)`` and
    ``θ ← θ - α m / (sqrt(v) + ε)``. Epsilon sits *outside* the square root and is added to the
    *uncorrected* ``sqrt(v)`` (the "ε̂" form of Kingma & Ba, Algorithm 1's last remark), not to
    ``sqrt(v / (1 - β₂ᵗ))``.

    Examples
    --------
    >>> theta = np.array([1.0])
    >>> Adam(learning_rate=0.1, epsilon=0.0).step([theta], [np.array([3.0])])
    >>> round(float(theta[0]), 5)           # the first Adam step has size lr whatever g is
    0.9
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
        super().__init__(learning_rate)
        self.beta_1 = in_unit_interval("beta_1", beta_1)
        self.beta_2 = in_unit_interval("beta_2", beta_2)
        self.epsilon = non_negative("epsilon", epsilon)
        self.amsgrad = bool(amsgrad)

    def _build(self, params):
        self.momentums = [np.zeros_like(p) for p in params]
        self.velocities = [np.zeros_like(p) for p in params]
        self.velocity_hats = [np.zeros_like(p) for p in params] if self.amsgrad else []

    def _update(self, i, p, g, lr):
        t = float(self.iterations + 1)
        beta_1_power, beta_2_power = _as_keras_casts(self.beta_1) ** t, _as_keras_casts(self.beta_2) ** t
        alpha = lr * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        m, v = self.momentums[i], self.velocities[i]
        m += (g - m) * (1 - self.beta_1)
        v += (np.square(g) - v) * (1 - self.beta_2)
        if self.amsgrad:
            v_hat = self.velocity_hats[i]
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        p -= (m * alpha) / (np.sqrt(v) + self.epsilon)


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam}


def get(name: str, **kwargs) -> Optimizer:
    """Build optimizer ``name`` (case-insensitive, as ``keras.optimizers.get``) with ``kwargs``.

    Raises
    ------
    ValueError
        If ``name`` is not in :data:`OPTIMIZERS`.

    Examples
    --------
    >>> get("Adam", learning_rate=0.01).learning_rate
    0.01
    >>> get("lbfgs")
    Traceback (most recent call last):
    ...
    ValueError: Unknown optimizer 'lbfgs'; expected one of ['adagrad', 'adam', 'rmsprop', 'sgd']
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[key](**kwargs)
