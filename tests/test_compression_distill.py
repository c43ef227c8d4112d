"""Knowledge distillation (aiaas_lib.compression.kd and keras_classes): the KD loss equals its formula; Distiller trains."""
import numpy as np
import pytest

from aiaas_lib.compression import distill, kd_loss, soft_targets
from aiaas_lib.env import import_tensorflow


def _numpy_kd(y, s, t, temperature, alpha):
    """The formula, written out: alpha*CE(y, softmax(s)) + (1-alpha)*T^2*KL(softmax(t/T) || softmax(s/T))."""
    def softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    ce = -np.log(softmax(s)[np.arange(len(y)), y])
    pt, ps = softmax(t / temperature), softmax(s / temperature)
    kl = np.sum(pt * np.log(pt / ps), axis=1)
    return np.mean(alpha * ce + (1 - alpha) * temperature ** 2 * kl)


@pytest.mark.parametrize("temperature, alpha", [(1.0, 0.5), (4.0, 0.1), (2.5, 0.0), (10.0, 1.0)])
def test_kd_loss_equals_its_formula(temperature, alpha):
    rng = np.random.default_rng(0)
    s, t = rng.normal(0, 3, (16, 10)), rng.normal(0, 3, (16, 10))
    y = rng.integers(0, 10, 16)
    # float32 inside kd_loss vs float64 here: relative 1e-5 covers the rounding of a sum of ~10 terms
    assert float(kd_loss(y, s, t, temperature, alpha)) == pytest.approx(_numpy_kd(y, s, t, temperature, alpha), rel=1e-5)


def test_kd_loss_hand_computed_value():
    # s = [1, 0], t = [0, 1], y = 0, T = 1, alpha = 0.5:
    # CE = log(1 + e^-1); KL = sum pt log(pt/ps) with pt = [a, b], ps = [b, a], a = 1/(1+e), b = e/(1+e)
    a, b = 1 / (1 + np.e), np.e / (1 + np.e)
    expected = 0.5 * np.log(1 + np.exp(-1)) + 0.5 * (a * np.log(a / b) + b * np.log(b / a))
    assert float(kd_loss([0], [[1.0, 0.0]], [[0.0, 1.0]], 1.0, 0.5)) == pytest.approx(expected, rel=1e-6)


def test_kd_term_is_zero_when_student_equals_teacher():
    z = np.random.default_rng(1).normal(size=(5, 4))
    assert float(kd_loss(np.zeros(5, int), z, z, temperature=3.0, alpha=0.0)) == pytest.approx(0.0, abs=1e-6)


def test_higher_temperature_softens_the_targets():
    z = np.array([[3.0, 1.0, 0.0]])
    entropy = [float(-(p * np.log(p)).sum()) for p in (soft_targets(z, t) for t in (1, 2, 5))]
    assert entropy == sorted(entropy) and entropy[-1] < np.log(3)


@pytest.mark.parametrize("kwargs, match", [
    ({"temperature": 0.0}, "temperature=0.0 must be a number > 0"),
    ({"temperature": -1.0}, "temperature=-1.0"),
    ({"alpha": 1.5}, r"alpha=1.5 must be in \[0, 1\]"),
    ({"alpha": -0.1}, "alpha=-0.1"),
])
def test_bad_temperature_or_alpha_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        kd_loss([0], [[0.0, 1.0]], [[1.0, 0.0]], **{"temperature": 2.0, "alpha": 0.5, **kwargs})


def test_distill_refuses_bad_settings():
    with pytest.raises(ValueError, match="temperature=0"):
        distill(None, None, [], [], temperature=0)
    with pytest.raises(ValueError, match="epochs=0"):
        distill(None, None, [], [], epochs=0)


def test_distilled_student_learns_to_imitate_the_teacher():
    import_tensorflow()
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 8)).astype("float32")
    w = rng.normal(size=(8, 4))
    teacher = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)])
    teacher.layers[0].set_weights([w.astype("float32") * 2, np.zeros(4, "float32")])
    y = (x @ w).argmax(1)  # the teacher is right by construction
    student = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(4)])
    teacher_before = [np.asarray(v).copy() for v in teacher.weights]
    before = np.mean(np.asarray(student(x)).argmax(1) == y)
    history = distill(teacher, student, x, y, temperature=4.0, alpha=0.1, epochs=15, batch_size=32,
                      learning_rate=1e-2)
    after = np.mean(np.asarray(student(x)).argmax(1) == y)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert after >= 0.85 and after > before + 0.3  # a linear 4-class rule: a 16-unit MLP gets it
    for v, b in zip(teacher.weights, teacher_before):  # the teacher is only read
        np.testing.assert_array_equal(np.asarray(v), b)


def test_distiller_is_a_keras_model_calling_the_student():
    import_tensorflow()
    import keras

    from aiaas_lib.compression import Distiller

    student = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    teacher = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    d = Distiller(student, teacher, temperature=2.0, alpha=0.5)
    x = np.ones((2, 3), "float32")
    assert isinstance(d, keras.Model)
    np.testing.assert_allclose(np.asarray(d(x)), np.asarray(student(x)), atol=1e-6)
    with pytest.raises(ValueError, match="alpha=2"):
        Distiller(student, teacher, alpha=2)
