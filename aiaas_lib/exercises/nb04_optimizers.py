"""Exercise checks of notebook 04 (optimizers): used by notebooks/04_optimizers.ipynb.

Both checkers run the learner's update rule for several steps on fresh random gradients next to the
real ``keras.optimizers`` (float64 variables) and compare the parameter trajectories. Keras keeps the
learning rate, the momentum and the betas in float32 (``0.9`` becomes ``0.89999998``), so an exact float64
rule drifts from it over these few steps: by ~1e-7 for Nesterov momentum, ~1e-6 for AMSGrad (whose bias
corrections use float32 powers of β). The tolerances below (1e-6 and 1e-5) sit above that drift and well
below what the typical wrong rules give (2e-4 for plain Adam in place of AMSGrad, 0.1 and more otherwise).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aiaas_lib.exercises.feedback import exercise

_NESTEROV_TOL = 1e-6   # max |θ_learner − θ_keras| over the steps, Nesterov momentum
_AMSGRAD_TOL = 1e-5    # the same for AMSGrad (more float32 constants: β₁, β₂ and their powers)


def _keras():
    """Keras, with TensorFlow imported quietly."""
    from aiaas_lib import env

    env.import_tensorflow()
    import keras

    return keras


def _keras_trajectory(optimizer, start: list[np.ndarray], grads: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """Parameters after each step of a ``keras.optimizers`` optimizer fed ``grads``, from ``start``."""
    keras = _keras()
    variables = [keras.Variable(p.copy(), dtype="float64") for p in start]
    out = []
    for step_grads in grads:
        optimizer.apply_gradients(zip([g.copy() for g in step_grads], variables))
        out.append([np.asarray(v.numpy()) for v in variables])
    return out


def _gap(a: list[list[np.ndarray]], b: list[list[np.ndarray]]) -> float:
    """Largest absolute difference between two trajectories of parameter lists."""
    return max(float(np.max(np.abs(np.asarray(x, dtype=float) - y))) for sa, sb in zip(a, b) for x, y in zip(sa, sb))


def _nesterov_variant(theta, grads, lr, mu, kind):
    """Trajectory of a Nesterov momentum rule (``kind="right"``) or of a typical mistake."""
    v, out = np.zeros_like(theta), []
    for g in grads:
        old_v = v
        v = mu * v - lr * g
        if kind == "right":
            theta = theta + mu * v - lr * g
        elif kind == "old velocity":  # θ + μ·v_old − lr·g is θ + v_new: plain momentum
            theta = theta + mu * old_v - lr * g
        elif kind == "no gradient step":
            theta = theta + mu * v
        out.append([theta])
    return out


@exercise
def check_nesterov_step(func: Callable) -> tuple[bool, str]:
    """Exercise 04.1: ``func(phi, velocity, grad, lr, momentum)`` returns the new ``(phi, velocity)`` of
    SGD with Nesterov momentum as Keras writes it, on the look-ahead point ``φ = θ + μ v`` that it stores as
    the parameters: ``v ← μ v − lr g``, then ``φ ← φ + μ v − lr g`` with the *new* ``v``. Run for 10 steps on fresh random gradients against ``keras.optimizers.SGD(lr, momentum=μ,
    nesterov=True)``; right when the parameters stay within 1e-6 of Keras'.

    Examples
    --------
    >>> def nesterov(phi, velocity, grad, lr, momentum):
    ...     velocity = momentum * velocity - lr * grad
    ...     return phi + momentum * velocity - lr * grad, velocity
    >>> check_nesterov_step(nesterov)
    ✓ Nesterov step right: it follows keras.optimizers.SGD(nesterov=True) for 10 steps (within 1e-06)
    True
    """
    rng = np.random.default_rng(41)
    lr, mu, num_steps = 0.05, 0.9, 10
    theta0 = rng.normal(size=5)
    grads = [rng.normal(size=5) for _ in range(num_steps)]
    theta, v, ours = theta0.copy(), np.zeros(5), []
    for g in grads:
        result = func(theta.copy(), v.copy(), g.copy(), lr, mu)
        if result is None or not isinstance(result, (tuple, list)) or len(result) != 2:
            return False, "return the pair (new_phi, new_velocity)"
        theta, v = (np.asarray(r, dtype=float) for r in result)
        if theta.shape != theta0.shape or v.shape != theta0.shape:
            return False, f"new_phi and new_velocity must have phi's shape {theta0.shape}, got {theta.shape} and {v.shape}"
        ours.append([theta])
    keras = _keras()
    want = _keras_trajectory(keras.optimizers.SGD(lr, momentum=mu, nesterov=True), [theta0], [[g] for g in grads])
    gap = _gap(ours, want)
    if gap < _NESTEROV_TOL:
        return True, (f"Nesterov step right: it follows keras.optimizers.SGD(nesterov=True) for {num_steps} steps "
                      f"(within {_NESTEROV_TOL:.0e})")
    if _gap(ours, _nesterov_variant(theta0, grads, lr, mu, "old velocity")) < _NESTEROV_TOL:
        return False, ("that is plain momentum: with the old velocity, φ + μ·v − lr·g is just φ + v_new. Update v "
                       "first (v = μ·v − lr·g), then look ahead with the new v: φ + μ·v − lr·g")
    if _gap(ours, _nesterov_variant(theta0, grads, lr, mu, "no gradient step")) < _NESTEROV_TOL:
        return False, "the look-ahead step is μ·v − lr·g: you left out the − lr·g"
    return False, (f"after {num_steps} steps φ is {gap:.2g} away from Keras': the velocity is v = μ·v − lr·g, "
                   "then φ moves by μ·v − lr·g (mind the signs)")


def _amsgrad_variant(start, grads, lr, b1, b2, eps, kind):
    """Trajectory of Keras' AMSGrad (``kind="right"``) or of a typical mistake, in float64."""
    params = [p.copy() for p in start]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    v_max = [np.zeros_like(p) for p in params]
    out = []
    for t, step_grads in enumerate(grads, start=1):
        c1, c2 = (1 - b1 ** t, 1 - b2 ** t) if kind != "no bias correction" else (1.0, 1.0)
        for p, g, m_, v_, vm in zip(params, step_grads, m, v, v_max):
            m_[:] = b1 * m_ + (1 - b1) * g
            v_[:] = b2 * v_ + (1 - b2) * g ** 2
            if kind == "max of m":
                vm[:] = np.maximum(vm, m_)
                numerator, denominator = vm / c1, np.sqrt(v_ / c2) + eps
            elif kind == "max of m under the root":
                vm[:] = np.maximum(vm, m_)
                numerator, denominator = m_ / c1, np.sqrt(vm / c2) + eps
            elif kind == "max of corrected v":
                vm[:] = np.maximum(vm, v_ / c2)
                numerator, denominator = m_ / c1, np.sqrt(vm) + eps
            elif kind == "adam":
                numerator, denominator = m_ / c1, np.sqrt(v_ / c2) + eps
            else:
                vm[:] = np.maximum(vm, v_)
                numerator, denominator = m_ / c1, np.sqrt(vm / c2) + eps
            p -= lr * numerator / denominator
        out.append([p.copy() for p in params])
    return out


def _zero_arrays(obj, shapes, where="self", depth=0) -> str:
    """Where in the optimizer's attributes an all-zero array of a parameter's shape is kept ("" if nowhere):
    after steps on random gradients m and v are never all zero, a v_max that was never stored back is."""
    if isinstance(obj, np.ndarray):
        return where if obj.shape in shapes and obj.size and not np.any(obj) else ""
    if depth > 3:
        return ""
    if depth == 0:
        items = [(f"self.{k}", v) for k, v in vars(obj).items()] if hasattr(obj, "__dict__") else []
    elif isinstance(obj, dict):
        items = [(f"{where}[{k!r}]", v) for k, v in obj.items()]
    elif isinstance(obj, (list, tuple)):
        items = [(f"{where}[{i}]", v) for i, v in enumerate(obj)]
    else:
        return ""
    for name, value in items:
        found = _zero_arrays(value, shapes, name, depth + 1)
        if found:
            return found
    return ""


@exercise
def check_amsgrad(cls: type) -> tuple[bool, str]:
    """Exercise 04.2: ``cls(lr, beta_1=0.9, beta_2=0.999, eps=1e-7)`` is AMSGrad with the notebook's
    interface: ``opt.step(params, grads)`` updates each float64 array in ``params`` in place. AMSGrad is
    Adam whose denominator never shrinks: keep ``v_max ← max(v_max, v)`` (of the raw ``v``) and use
    ``v_max`` where Adam uses ``v``, with the same bias corrections. Run for 20 steps on fresh random
    gradients (two parameter arrays) against ``keras.optimizers.Adam(lr, amsgrad=True)``; right when the
    parameters stay within 1e-5 of Keras'.

    Examples
    --------
    >>> class AMSGrad:
    ...     def __init__(self, lr, beta_1=0.9, beta_2=0.999, eps=1e-7):
    ...         self.lr, self.beta_1, self.beta_2, self.eps, self.t, self.state = lr, beta_1, beta_2, eps, 0, None
    ...     def step(self, params, grads):
    ...         if self.state is None:
    ...             self.state = [[np.zeros_like(p) for _ in range(3)] for p in params]
    ...         self.t += 1
    ...         for p, g, (m, v, v_max) in zip(params, grads, self.state):
    ...             m[:] = self.beta_1 * m + (1 - self.beta_1) * g
    ...             v[:] = self.beta_2 * v + (1 - self.beta_2) * g ** 2
    ...             v_max[:] = np.maximum(v_max, v)
    ...             m_hat, v_hat = m / (1 - self.beta_1 ** self.t), v_max / (1 - self.beta_2 ** self.t)
    ...             p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
    >>> check_amsgrad(AMSGrad)
    ✓ AMSGrad right: it follows keras.optimizers.Adam(amsgrad=True) for 20 steps (within 1e-05)
    True
    """
    rng = np.random.default_rng(42)
    lr, num_steps = 0.02, 20
    start = [rng.normal(size=3), rng.normal(size=(2, 2))]
    # large gradients, then small ones (as near a minimum): v shrinks, and only then does AMSGrad differ from Adam
    grads = [[rng.normal(scale=3.0 if t < 5 else 0.1, size=p.shape) for p in start] for t in range(num_steps)]
    opt = cls(lr)
    params, ours = [p.copy() for p in start], []
    for step_grads in grads:
        opt.step(params, [g.copy() for g in step_grads])
        ours.append([np.array(p, dtype=float) for p in params])
    if all(np.array_equal(p, s) for p, s in zip(params, start)):
        return False, "the parameters did not change: step() must update each array in place (p -= ..., not p = ...)"
    if not all(np.all(np.isfinite(p)) for p in params):
        return False, ("the parameters became NaN or inf: a square root of a negative number? The running max is "
                       "of v (squared gradients, never negative), not of m")
    keras = _keras()
    want = _keras_trajectory(keras.optimizers.Adam(lr, amsgrad=True), start, grads)
    gap = _gap(ours, want)
    if gap < _AMSGRAD_TOL:
        return True, (f"AMSGrad right: it follows keras.optimizers.Adam(amsgrad=True) for {num_steps} steps "
                      f"(within {_AMSGRAD_TOL:.0e})")

    def close_to(kind):
        return _gap(ours, _amsgrad_variant(start, grads, lr, 0.9, 0.999, 1e-7, kind)) < _AMSGRAD_TOL

    if close_to("adam"):
        stuck = _zero_arrays(opt, [p.shape for p in start])
        if stuck:
            return False, (f"that is plain Adam, and your stored v_max ({stuck}) is still all zeros after {num_steps} "
                           "steps: `v_max = np.maximum(v_max, v)` inside the loop makes a new local array and leaves "
                           "the stored one at 0 (and max(0, v) is just v). Update it in place, "
                           "`v_max[:] = np.maximum(v_max, v)`, or store it back: `self.v_max[i] = ...`")
        return False, ("that is plain Adam: keep v_max = max(v_max, v) from step to step (stored in the optimizer, "
                       "updated in place) and use it where Adam uses v")
    if close_to("max of m") or close_to("max of m under the root"):
        return False, "take the running max of v (the squared gradients), not of m"
    if close_to("no bias correction"):
        return False, "you forgot the bias correction: divide m by (1 − β₁ᵗ) and v_max by (1 − β₂ᵗ), as in Adam"
    if close_to("max of corrected v"):
        return False, ("take the max of the raw v, then bias-correct it (v_max / (1 − β₂ᵗ)); the max of the "
                       "corrected v is another algorithm")
    return False, (f"after {num_steps} steps the parameters are {gap:.2g} away from Keras': start from the "
                   "notebook's Adam and change only the denominator")
