"""Exercise checks of notebook 04 (optimizers): used by notebooks/04_optimizers.ipynb."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aiaas_lib.exercises.feedback import exercise


@exercise
def check_momentum_step(func: Callable) -> tuple[bool, str]:
    """Exercise 04.1: ``func(theta, velocity, grad, lr, momentum)`` returns the new ``(theta, velocity)``
    of SGD with momentum as Keras writes it: ``v ← μ v - lr g``, ``θ ← θ + v``.

    Examples
    --------
    >>> check_momentum_step(lambda th, v, g, lr, mu: (th + (mu * v - lr * g), mu * v - lr * g))
    ✓ momentum step right: the velocity remembers past gradients, the step follows the velocity
    True
    """
    rng = np.random.default_rng(4)
    theta, v, g = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3)
    lr, mu = 0.1, 0.9
    result = func(theta.copy(), v.copy(), g.copy(), lr, mu)
    if result is None or len(result) != 2:
        return False, "return the pair (new_theta, new_velocity)"
    new_theta, new_v = (np.asarray(r, dtype=float) for r in result)
    want_v = mu * v - lr * g
    if np.allclose(new_v, v - lr * g) or np.allclose(new_v, mu * v + lr * g):
        return False, "the velocity is μ·v minus lr·g: decay the old velocity, then subtract the gradient step"
    if not np.allclose(new_v, want_v):
        return False, "new_velocity should be momentum * velocity - lr * grad"
    if np.allclose(new_theta, theta - lr * g):
        return False, "that is plain SGD: move θ by the new velocity instead"
    if not np.allclose(new_theta, theta + want_v):
        return False, "new_theta should be theta + new_velocity"
    return True, "momentum step right: the velocity remembers past gradients, the step follows the velocity"
