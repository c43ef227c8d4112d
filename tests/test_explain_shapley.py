"""exact_shapley: the four Shapley axioms on small random models, and equality with shap's exact explainer."""
import numpy as np
import pytest

from aiaas_lib.explain import MAX_EXACT_FEATURES, exact_shapley

# Sums of up to 2**8 weighted float64 differences: round-off stays far below 1e-9.
TOL = 1e-9


def random_mlp(n_features: int, seed: int, hidden: int = 6):
    """A small random tanh MLP in NumPy: rows (n, n_features) -> outputs (n,)."""
    rng = np.random.default_rng(seed)
    W1, b1 = rng.normal(size=(n_features, hidden)), rng.normal(size=hidden)
    w2 = rng.normal(size=hidden)
    return lambda X: np.tanh(X @ W1 + b1) @ w2


def data(n_features: int, seed: int, n_background: int = 15):
    rng = np.random.default_rng(seed + 100)
    return rng.normal(size=n_features), rng.normal(size=(n_background, n_features))


@pytest.mark.parametrize("n_features", [3, 5, 8])
def test_efficiency_values_sum_to_output_minus_background_mean(n_features):
    f = random_mlp(n_features, seed=n_features)
    x, background = data(n_features, seed=n_features)
    values, base = exact_shapley(f, x, background)
    assert base == pytest.approx(f(background).mean(), abs=TOL)
    assert values.sum() == pytest.approx(f(x[None])[0] - base, abs=TOL)


def test_symmetry_interchangeable_features_get_equal_values():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 5))
    W[1] = W[0]  # features 0 and 1 enter the model the same way ...
    f = lambda X: np.tanh(X @ W).sum(axis=1)  # noqa: E731
    background = rng.normal(size=(12, 4))
    background[:, 1] = background[:, 0]  # ... and have the same background values
    x = rng.normal(size=4)
    x[1] = x[0]
    values, _ = exact_shapley(f, x, background)
    assert values[0] == pytest.approx(values[1], abs=TOL)


def test_dummy_feature_the_model_ignores_gets_zero():
    inner = random_mlp(4, seed=1)
    f = lambda X: inner(X[:, [0, 1, 3, 4]])  # noqa: E731  (feature 2 is never read)
    x, background = data(5, seed=1)
    values, _ = exact_shapley(f, x, background)
    assert values[2] == pytest.approx(0.0, abs=TOL)


def test_linearity_values_of_a_sum_are_the_sum_of_values():
    f, g = random_mlp(5, seed=2), random_mlp(5, seed=3)
    x, background = data(5, seed=2)
    vf, bf = exact_shapley(f, x, background)
    vg, bg = exact_shapley(g, x, background)
    vfg, bfg = exact_shapley(lambda X: f(X) + g(X), x, background)
    np.testing.assert_allclose(vfg, vf + vg, atol=TOL)
    assert bfg == pytest.approx(bf + bg, abs=TOL)


def test_linear_model_values_are_weight_times_distance_from_background_mean():
    rng = np.random.default_rng(4)
    w, b = rng.normal(size=6), 0.7
    x, background = data(6, seed=4)
    values, _ = exact_shapley(lambda X: X @ w + b, x, background)
    np.testing.assert_allclose(values, w * (x - background.mean(axis=0)), atol=TOL)


@pytest.mark.parametrize("n_features", [3, 6])
def test_equals_shap_exact_explainer(n_features):
    shap = pytest.importorskip("shap")
    f = random_mlp(n_features, seed=10 + n_features)
    rng = np.random.default_rng(n_features)
    X, background = rng.normal(size=(3, n_features)), rng.normal(size=(10, n_features))
    masker = shap.maskers.Independent(background, max_samples=len(background))
    theirs = shap.explainers.Exact(f, masker)(X, silent=True)
    values, base = exact_shapley(f, X, background)
    # Both compute the same finite sums in float64: 1e-6 is the bound, the observed gap is ~1e-15.
    np.testing.assert_allclose(values, theirs.values, atol=1e-6)
    np.testing.assert_allclose(base, theirs.base_values, atol=1e-6)


def test_two_dimensional_x_gives_one_row_of_values_per_row():
    f = random_mlp(4, seed=5)
    rng = np.random.default_rng(5)
    X, background = rng.normal(size=(3, 4)), rng.normal(size=(8, 4))
    values, _ = exact_shapley(f, X, background)
    assert values.shape == (3, 4)
    np.testing.assert_allclose(values[1], exact_shapley(f, X[1], background)[0], atol=TOL)


def test_small_batches_give_the_same_values():
    f = random_mlp(5, seed=6)
    x, background = data(5, seed=6)
    np.testing.assert_allclose(exact_shapley(f, x, background, batch_rows=7)[0],
                               exact_shapley(f, x, background)[0], atol=TOL)


def test_model_output_of_shape_n_by_1_is_accepted():
    x, background = data(3, seed=7)
    values, _ = exact_shapley(lambda X: X.sum(axis=1, keepdims=True), x, background)
    np.testing.assert_allclose(values, x - background.mean(axis=0), atol=TOL)


def test_refuses_more_than_max_features():
    n = MAX_EXACT_FEATURES + 1
    with pytest.raises(ValueError, match=r"13 features means 2\*\*13 .* max_features=12"):
        exact_shapley(lambda X: X.sum(axis=1), np.zeros(n), np.zeros((2, n)))


def test_refuses_x_with_a_different_number_of_features():
    with pytest.raises(ValueError, match=r"x has shape \(4,\) but the background has 3 features"):
        exact_shapley(lambda X: X.sum(axis=1), np.zeros(4), np.zeros((2, 3)))


def test_refuses_an_empty_background():
    with pytest.raises(ValueError, match=r"background has shape \(0, 3\); expected a non-empty 2-D array"):
        exact_shapley(lambda X: X.sum(axis=1), np.zeros(3), np.zeros((0, 3)))


def test_refuses_a_model_with_several_outputs_per_row():
    with pytest.raises(ValueError, match=r"f returned shape \(\d+, 2\) .* one output per row"):
        exact_shapley(lambda X: X[:, :2], np.zeros(3), np.zeros((2, 3)))


def test_refuses_a_non_positive_batch_size():
    with pytest.raises(ValueError, match=r"batch_rows=0 must be an integer >= 1"):
        exact_shapley(lambda X: X.sum(axis=1), np.zeros(3), np.zeros((2, 3)), batch_rows=0)


def test_importing_explain_loads_no_heavy_library():
    import subprocess
    import sys

    code = ("import sys, aiaas_lib.explain; print(sorted(m for m in ('tensorflow', 'keras', 'shap', 'lime', "
            "'matplotlib', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
