"""aiaas_lib.numpy_nn.schedules equal keras.optimizers.schedules at many steps.

Keras computes a schedule in the dtype of its arguments; given np.float64 arguments it runs in float64
like ours, and we require rtol=1e-12. Given Python floats it runs in float32, and the last test shows the
values then agree only to float32 precision (rtol=1e-6).
"""
import numpy as np
import pytest

from aiaas_lib.numpy_nn import schedules

STEPS = [0, 1, 2, 7, 9, 10, 11, 29, 30, 31, 49, 50, 51, 99, 100, 101, 150, 199, 200, 201, 500, 10_000]
F = np.float64
CASES = {
    "exponential": ("ExponentialDecay", dict(initial_learning_rate=F(0.1), decay_steps=30,
                                             decay_rate=F(0.5))),
    "exponential-staircase": ("ExponentialDecay", dict(initial_learning_rate=F(0.1), decay_steps=30,
                                                       decay_rate=F(0.96), staircase=True)),
    "piecewise": ("PiecewiseConstantDecay", dict(boundaries=[10, 50, 200],
                                                 values=[F(1.0), F(0.5), F(0.1), F(0.01)])),
    "piecewise-one-boundary": ("PiecewiseConstantDecay", dict(boundaries=[100], values=[F(0.3), F(0.03)])),
    "cosine": ("CosineDecay", dict(initial_learning_rate=F(0.1), decay_steps=200)),
    "cosine-alpha": ("CosineDecay", dict(initial_learning_rate=F(0.1), decay_steps=100, alpha=0.2)),
    "cosine-warmup": ("CosineDecay", dict(initial_learning_rate=F(0.0), decay_steps=150, alpha=0.1,
                                          warmup_target=F(0.05), warmup_steps=50)),
}


@pytest.fixture(scope="module")
def keras_schedules():
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    return keras.optimizers.schedules


@pytest.mark.parametrize("case", CASES)
def test_schedule_equals_keras_at_many_steps(keras_schedules, case):
    name, kwargs = CASES[case]
    ours, theirs = getattr(schedules, name)(**kwargs), getattr(keras_schedules, name)(**kwargs)
    expected = [float(theirs(step)) for step in STEPS]
    np.testing.assert_allclose([ours(step) for step in STEPS], expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("case", CASES)
def test_schedule_accepts_an_array_of_steps(case):
    name, kwargs = CASES[case]
    schedule = getattr(schedules, name)(**kwargs)
    np.testing.assert_array_equal(schedule(np.array(STEPS)), [schedule(s) for s in STEPS])


def test_python_float_keras_schedule_agrees_to_float32_precision(keras_schedules):
    kwargs = dict(initial_learning_rate=0.1, decay_steps=30, decay_rate=0.9)
    theirs = keras_schedules.ExponentialDecay(**kwargs)
    assert theirs(5).dtype.name == "float32"
    early = [s for s in STEPS if s <= 500]  # later float32(0.9) ** (step / 30) drifts more (1e-5 at 10,000)
    np.testing.assert_allclose([schedules.ExponentialDecay(**kwargs)(s) for s in early],
                               [float(theirs(s)) for s in early], rtol=1e-6)


def test_staircase_exponential_decay_is_a_step_decay():
    schedule = schedules.ExponentialDecay(1.0, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [schedule(s) for s in (0, 9, 10, 19, 20)] == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_scalar_step_gives_a_python_float():
    assert type(schedules.CosineDecay(0.1, decay_steps=10)(3)) is float


# ------------------------------------------------------------------------------------------ error paths
@pytest.mark.parametrize("cls", [schedules.ExponentialDecay, schedules.CosineDecay])
def test_non_positive_decay_steps_raise(cls):
    args = (0.1, 0, 0.5) if cls is schedules.ExponentialDecay else (0.1, 0)
    with pytest.raises(ValueError, match="decay_steps=0 must be a number > 0"):
        cls(*args)


def test_piecewise_needs_one_more_value_than_boundaries():
    with pytest.raises(ValueError, match="boundaries has length 2 and values has length 2"):
        schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5])


def test_piecewise_boundaries_must_increase():
    with pytest.raises(ValueError, match=r"boundaries=\[20, 10\] must be strictly increasing"):
        schedules.PiecewiseConstantDecay([20, 10], [1.0, 0.5, 0.1])


def test_negative_warmup_steps_raise():
    with pytest.raises(ValueError, match="warmup_steps=-1 must be >= 0"):
        schedules.CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=-1)


def test_negative_step_raises():
    with pytest.raises(ValueError, match=r"step=-1.0 must be >= 0"):
        schedules.ExponentialDecay(0.1, 10, 0.5)(-1)
