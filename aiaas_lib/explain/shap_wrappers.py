"""Used by notebooks 09 and 10 (through :mod:`aiaas_lib.explain`); also imported by the CLI/service.

One door to the shap explainers: :func:`shap_explainer` picks the right one for a model and returns
:class:`Attribution` arrays of fixed shapes; :func:`fast_predict` calls any model without ``model.predict``.

===============  ========================================================  ============================
kind             used for                                                  what it explains
===============  ========================================================  ============================
``tree``         scikit-learn tree ensembles (HistGradientBoosting*,       log-odds (boosted
                 GradientBoosting*, RandomForest*, ExtraTrees*, trees):    classifiers), P(class 1)
                 ``shap.TreeExplainer``, interventional on the background  (forests), or prediction
                 (tree-path-dependent for HistGradientBoosting*, below)
``deep``         Keras models: ``shap.DeepExplainer`` (DeepLIFT rescale)   the model output
``gradient``     Keras models: ``shap.GradientExplainer`` (expected        the model output
                 gradients); only approximately additive
``permutation``  any callable: ``shap.PermutationExplainer``               the callable's output
``kernel``       any callable: ``shap.KernelExplainer``                    the callable's output
``exact``        any callable, few features: ``shap.explainers.Exact``     the callable's output
===============  ========================================================  ============================

``kind="auto"`` picks ``tree`` for the tree ensembles, ``deep`` for a Keras model and ``permutation``
for any other callable. ``shap.DeepExplainer`` works with TensorFlow 2.21 / Keras 3 for the course's
dense and convolutional models (checked by the tests: additivity error ~1e-7); should it fail for some
model (an op DeepLIFT has no rule for, or inputs that are not float tensors), ``auto`` falls back to
``GradientExplainer`` and records why in :attr:`ShapExplainer.fallback_reason`.

``TreeExplainer(feature_perturbation="interventional")`` gives wrong values for scikit-learn 1.9's
HistGradientBoosting models with shap 0.51 (it agrees with exact Shapley values for one tree only; with 20
trees the totals miss the model's log-odds by up to 0.7), while the tree-path-dependent algorithm is
additive to 1e-15. So HistGradientBoosting* models are explained tree-path-dependently: the background is
not used, and the base value is the model's mean output over its training data (from the trees' node
counts). RandomForest and GradientBoosting models match exact interventional Shapley values to 1e-8.

Models are always called through :func:`fast_predict` (``predict_on_batch``), never ``model.predict``:
``predict`` builds a dataset and callbacks on every call (~90 ms for one churn row against ~2 ms) and then
runs batches of 32 rows, so a permutation explanation of one churn row takes seconds instead of ~0.1 s
(``bench/explain.py``).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from aiaas_lib.explain.shapley import MAX_EXACT_FEATURES
from aiaas_lib.validation import positive_int

KINDS = ("auto", "tree", "deep", "gradient", "permutation", "kernel", "exact")
TREE_MODELS = (
    "HistGradientBoostingClassifier", "HistGradientBoostingRegressor", "GradientBoostingClassifier",
    "GradientBoostingRegressor", "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier",
    "ExtraTreesRegressor", "DecisionTreeClassifier", "DecisionTreeRegressor",
)
_MARGIN_CLASSIFIERS = ("HistGradientBoostingClassifier", "GradientBoostingClassifier")
_QUIET = (  # harmless warnings shap and Keras 3 print on every call
    r"The structure of `inputs` doesn't match", r"Your TensorFlow version is newer",
)


@dataclass
class Attribution:
    """Attributions of a batch of rows.

    ``values`` has shape (n, n_features) for a model with one output (for an image model
    (n, *input_shape)), with a trailing n_outputs axis for several outputs; ``base_values`` has shape
    (n,) (or (n, n_outputs)). Additivity: ``values.sum over features + base_values ≈ prediction``.
    """

    values: np.ndarray
    base_values: np.ndarray
    feature_names: list[str] | None = None
    output: str = "model output"
    method: str = ""
    extra: dict = field(default_factory=dict)

    def totals(self) -> np.ndarray:
        """``base_values`` plus the sum of ``values`` over every feature axis: the explained outputs."""
        feature_axes = tuple(range(1, self.values.ndim - (self.base_values.ndim - 1)))
        return self.base_values + self.values.sum(axis=feature_axes)


def is_keras_model(model) -> bool:
    """True for a Keras model (checked by type, without importing Keras)."""
    return any(c.__module__.startswith("keras") and c.__name__ in ("Model", "Functional", "Sequential")
               for c in type(model).__mro__)


def is_tree_ensemble(model) -> bool:
    """True for the scikit-learn tree models ``shap.TreeExplainer`` supports (see :data:`TREE_MODELS`)."""
    return type(model).__name__ in TREE_MODELS and type(model).__module__.startswith("sklearn")


def _as_1d_if_single(out) -> np.ndarray:
    out = np.asarray(out)
    return out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out


def fast_predict(model, batch_size: int | None = None) -> Callable[..., np.ndarray]:
    """A NumPy function of the model's input that returns its outputs, without ``model.predict``.

    Keras models run through ``predict_on_batch`` (one compiled call, no per-call dataset or callbacks);
    scikit-learn binary classifiers give P(class 1), multi-class ones all probabilities, regressors
    ``predict``; a plain callable is wrapped. A single output column (n, 1) becomes shape (n,).

    Parameters
    ----------
    batch_size : int, optional
        Split the rows into chunks of at most this many (bounds memory for huge batches).

    Examples
    --------
    >>> f = fast_predict(lambda X: X.sum(axis=1, keepdims=True))
    >>> f(np.ones((2, 3))).tolist()
    [3.0, 3.0]
    """
    if batch_size is not None:
        batch_size = positive_int("batch_size", batch_size, hint="or None: one batch")
    if is_keras_model(model):
        def call(X):
            return np.asarray(model.predict_on_batch(X))
    elif hasattr(model, "predict_proba") and hasattr(model, "classes_"):
        def call(X):
            proba = model.predict_proba(X)
            return proba[:, 1] if proba.shape[1] == 2 else proba
    elif hasattr(model, "predict") and hasattr(model, "fit"):
        call = model.predict
    elif callable(model):
        call = model
    else:
        raise TypeError(f"model of type {type(model).__name__} is neither a Keras/scikit-learn model nor callable")

    def predict(X):
        if batch_size is None or isinstance(X, dict) or len(X) <= batch_size:
            return _as_1d_if_single(call(X))
        return np.concatenate([_as_1d_if_single(call(X[i:i + batch_size])) for i in range(0, len(X), batch_size)])

    return predict


@contextmanager
def quiet_shap() -> Iterator[None]:
    """Hide the harmless warnings shap and Keras 3 repeat on every explainer call."""
    with warnings.catch_warnings():
        for message in _QUIET:
            warnings.filterwarnings("ignore", message=message)
        yield


@contextmanager
def numpy_seed(seed: int | None) -> Iterator[None]:
    """Seed NumPy's global generator (which shap's sampling explainers use) and restore it afterwards."""
    state = np.random.get_state()
    if seed is not None:
        np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


class ShapExplainer:
    """A shap explainer chosen by :func:`shap_explainer`; call it on rows to get an :class:`Attribution`.

    Attributes: ``kind`` (the explainer used), ``output`` (what is explained), ``predict`` (a fast
    function computing exactly that output, for additivity checks), ``fallback_reason`` (why ``auto``
    did not use DeepExplainer, else None), ``explainer`` (the shap object).
    """

    def __init__(self, kind: str, explain: Callable, predict: Callable, output: str,  # explain: X -> (values, base)
                 feature_names: list[str] | None = None, explainer=None, fallback_reason: str | None = None):
        self.kind, self._explain, self.predict, self.output = kind, explain, predict, output
        self.feature_names, self.explainer, self.fallback_reason = feature_names, explainer, fallback_reason

    def __call__(self, X) -> Attribution:
        """Attributions of the rows ``X`` (same layout as the background)."""
        with quiet_shap():
            values, base = self._explain(X)
        values, base = np.asarray(values, dtype=np.float64), np.asarray(base, dtype=np.float64)
        if base.ndim == 2 and base.shape[1] == 1:
            base = base[:, 0]
        return Attribution(values, base, self.feature_names, self.output, self.kind)

    def __repr__(self) -> str:
        return f"ShapExplainer(kind={self.kind!r}, output={self.output!r})"


def _per_row(base_per_output, n: int) -> np.ndarray:
    """Base values given once per model output → one row per explained row: (n,) or (n, n_outputs)."""
    base = np.ravel(np.asarray(base_per_output, dtype=np.float64))
    return np.full(n, base[0]) if base.size == 1 else np.tile(base, (n, 1))


def _drop_output_axis(values, model) -> np.ndarray:
    """Deep/Gradient explainers always append an outputs axis; drop it for a single-output model."""
    values = np.asarray(values)
    return values[..., 0] if int(model.outputs[0].shape[-1]) == 1 else values


def _tree(model, background):
    import shap

    name = type(model).__name__
    is_classifier = hasattr(model, "predict_proba")
    if is_classifier and len(model.classes_) != 2:
        raise ValueError(f"{name} with {len(model.classes_)} classes: only binary tree classifiers are supported")
    if name.startswith("HistGradientBoosting"):  # interventional mode is wrong for these: see the module docstring
        explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent", model_output="raw")
    else:
        explainer = shap.TreeExplainer(model, data=background, feature_perturbation="interventional",
                                       model_output="raw")
    if name in _MARGIN_CLASSIFIERS:
        predict, output = model.decision_function, "log-odds of class 1"
    elif is_classifier:
        predict, output = (lambda X: model.predict_proba(X)[:, 1]), "P(class 1)"
    else:
        predict, output = model.predict, "prediction"

    def explain(X):
        values = np.asarray(explainer.shap_values(X))
        base = np.ravel(explainer.expected_value)
        if is_classifier and values.ndim == 3 and values.shape[-1] == 2:  # forests: one slice per class
            values, base = values[..., 1], base[1:]
        return values, _per_row(base, len(values))

    return explain, predict, output, explainer


def _deep(model, background):
    import shap

    with quiet_shap():
        explainer = shap.DeepExplainer(model, background)

    def explain(X):
        values = _drop_output_axis(explainer.shap_values(X, check_additivity=False), model)
        return values, _per_row(np.asarray(explainer.expected_value), len(values))

    return explain, explainer


def _gradient(model, background, nsamples: int, seed: int, predict: Callable):
    import shap

    with quiet_shap():
        explainer = shap.GradientExplainer(model, background)
    base = np.mean(predict(background), axis=0)

    def explain(X):
        values = _drop_output_axis(explainer.shap_values(X, nsamples=nsamples, rseed=seed), model)
        return values, _per_row(base, len(values))

    return explain, explainer


def _sampling(kind: str, f: Callable, background, max_evals: int | str, nsamples: int | str, seed: int):
    import shap

    masker = shap.maskers.Independent(background, max_samples=len(background))
    with numpy_seed(seed):
        if kind == "permutation":
            explainer = shap.PermutationExplainer(f, masker, seed=seed)
        elif kind == "exact":
            explainer = shap.explainers.Exact(f, masker)
        else:
            explainer = shap.KernelExplainer(f, background)

    def explain(X):
        with numpy_seed(seed):
            if kind == "kernel":
                values = explainer.shap_values(X, nsamples=nsamples, silent=True)
                return values, _per_row(explainer.expected_value, len(values))
            evals = max_evals if kind == "permutation" else 2 ** np.shape(X)[1] + 1
            out = explainer(X, max_evals=evals, silent=True)
            return out.values, out.base_values

    return explain, explainer


def shap_explainer(model, background, kind: str = "auto", feature_names: list[str] | None = None,
                   max_evals: int | str = 500, nsamples: int | str = 200, seed: int = 0) -> ShapExplainer:
    """The right shap explainer for ``model``, as a callable giving an :class:`Attribution`.

    Parameters
    ----------
    model : scikit-learn tree model, keras.Model or callable
        A callable maps a 2-D array of rows to one output per row (or (n, k) outputs).
    background : numpy.ndarray
        Rows that stand for "feature unknown" (about 50–200 rows); the base value is the mean output on them.
    kind : {"auto", "tree", "deep", "gradient", "permutation", "kernel", "exact"}
        See the module docstring; ``auto`` picks tree / deep / permutation by model type.
    max_evals : int or "auto"
        Model evaluations per row for ``permutation`` (at least ``2 * n_features + 1``).
    nsamples : int or "auto"
        Samples per row for ``gradient`` and ``kernel``.
    seed : int
        Seeds the sampling explainers (NumPy's global generator is restored afterwards).

    Returns
    -------
    ShapExplainer
        ``explainer(X)`` returns ``Attribution(values (n, n_features), base_values (n,))``; with several
        model outputs ``values`` gains a last axis (n_outputs) and ``base_values`` is (n, n_outputs).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> background, X = rng.normal(size=(20, 3)), rng.normal(size=(2, 3))
    >>> explainer = shap_explainer(lambda rows: rows @ np.array([1.0, 2.0, 0.0]), background, kind="kernel")
    >>> attribution = explainer(X)
    >>> attribution.values.shape, attribution.base_values.shape
    ((2, 3), (2,))
    >>> bool(np.allclose(attribution.totals(), explainer.predict(X)))
    True
    """
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}; expected one of {list(KINDS)}")
    background = np.asarray(background)
    if background.ndim < 2 or len(background) == 0:
        raise ValueError(f"background has shape {background.shape}; expected a non-empty array of rows")
    keras_model = is_keras_model(model)
    requested = kind
    if kind == "auto":
        kind = "tree" if is_tree_ensemble(model) else "deep" if keras_model else "permutation"
    if kind == "tree" and not is_tree_ensemble(model):
        raise ValueError(f"kind='tree' needs a scikit-learn tree model, one of {list(TREE_MODELS)}; "
                         f"got {type(model).__name__}")
    if kind in ("deep", "gradient") and not keras_model:
        raise ValueError(f"kind={kind!r} needs a Keras model; got {type(model).__name__} "
                         "(use 'permutation' or 'kernel')")
    if not callable(model) and not hasattr(model, "predict"):
        raise TypeError(f"model of type {type(model).__name__} cannot be called")
    if kind == "tree":
        explain, predict, output, explainer = _tree(model, background)
        return ShapExplainer(kind, explain, predict, output, feature_names, explainer)
    predict = fast_predict(model)
    if kind in ("deep", "gradient"):
        fallback = None
        if kind == "deep":
            try:
                explain, explainer = _deep(model, background.astype(np.float32))
            except Exception as err:  # noqa: BLE001  (any failure of DeepExplainer's graph rules)
                if requested != "auto":
                    raise
                fallback = f"DeepExplainer failed ({type(err).__name__}: {err}); used GradientExplainer"
                kind = "gradient"
        if kind == "gradient":
            explain, explainer = _gradient(model, background.astype(np.float32), nsamples, seed, predict)
        return ShapExplainer(kind, explain, predict, "model output", feature_names, explainer, fallback)
    m = int(np.prod(background.shape[1:]))
    if kind == "exact" and m > MAX_EXACT_FEATURES:
        raise ValueError(f"kind='exact' enumerates 2**{m} coalitions; at most {MAX_EXACT_FEATURES} features are "
                         "allowed (use 'permutation' or 'kernel')")
    if kind == "permutation" and max_evals != "auto" and int(max_evals) < 2 * m + 1:
        raise ValueError(f"max_evals={max_evals!r} is too small for {m} features; it must be at least {2 * m + 1}")
    explain, explainer = _sampling(kind, predict, background, max_evals, nsamples, seed)
    return ShapExplainer(kind, explain, predict, "model output", feature_names, explainer)
