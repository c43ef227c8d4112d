"""Exercise checks of notebook 04 (optimizers)."""
import pytest

from aiaas_lib.exercises import nb04_optimizers as ex
from _feedback import run_check as _run


def test_momentum_step_right(capsys):
    assert _run(capsys, ex.check_momentum_step, lambda th, v, g, lr, mu: (th + mu * v - lr * g, mu * v - lr * g))[0]


@pytest.mark.parametrize("func, hint", [
    (lambda th, v, g, lr, mu: (th - lr * g, mu * v - lr * g), "plain SGD"),
    (lambda th, v, g, lr, mu: (th + v - lr * g, v - lr * g), "velocity is μ·v"),
    (lambda th, v, g, lr, mu: (th, mu * v - 2 * lr * g), "momentum * velocity - lr * grad"),
    (lambda th, v, g, lr, mu: (th + 1, mu * v - lr * g), "theta + new_velocity"),
    (lambda th, v, g, lr, mu: None, "pair"),
])
def test_momentum_step_wrong(capsys, func, hint):
    ok, out = _run(capsys, ex.check_momentum_step, func)
    assert not ok and hint in out
