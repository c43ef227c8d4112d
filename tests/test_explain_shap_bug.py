"""Evidence behind notebook 09 §4 (kept out of its teaching path; seconds-fast).

shap 0.51's interventional TreeSHAP misses the exact interventional Shapley values of scikit-learn's
HistGradientBoosting models, so ``explain.shap_explainer`` explains them path-dependently. The path-dependent
values must add up; the interventional gap is reported (xfail) and never fails the suite when shap fixes it.
"""
import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from aiaas_lib import explain

shap = pytest.importorskip("shap")


@pytest.fixture(scope="module")
def trees():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5))
    y = (X[:, 0] + X[:, 1] * X[:, 2] + rng.normal(scale=0.5, size=len(X)) > 0).astype(int)
    return HistGradientBoostingClassifier(max_iter=20, max_depth=3, random_state=0).fit(X, y), X


def test_path_dependent_treeshap_adds_up(trees):
    model, X = trees
    explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
    values = explainer.shap_values(X[:100])
    np.testing.assert_allclose(explainer.expected_value + values.sum(axis=1), model.decision_function(X[:100]),
                               atol=1e-9)


def test_interventional_treeshap_against_exact(trees):
    model, X = trees
    background = X[:100]
    exact, base = explain.exact_shapley(model.decision_function, X[-1], background)
    # the reference is right: base value = mean log-odds on the background, and the values add up
    assert np.isclose(base, model.decision_function(background).mean())
    assert np.isclose(base + exact.sum(), model.decision_function(X[-1:])[0])
    explainer = shap.TreeExplainer(model, background, feature_perturbation="interventional")
    gap = np.abs(explainer.shap_values(X[-1:], check_additivity=False)[0] - exact).max()
    if gap > 1e-6:
        pytest.xfail(f"known: shap {shap.__version__} interventional TreeSHAP is {gap:.1e} off the exact values")
    # shap fixed it: notebook 09 §4 and explain.shap_explainer could use the interventional game again
