"""Used by notebooks 09 and 10 (through :mod:`aiaas_lib.explain`); also imported by the CLI/service.

LIME for tabular data, from scratch: sample around the data, weight by closeness, fit a weighted ridge.

This reproduces what ``lime.lime_tabular.LimeTabularExplainer`` does with ``discretize_continuous=False``
(and ``sample_around_instance=False``, ``feature_selection="none"``) in regression mode:

1. perturb: ``z = N(0, 1) * std + mean`` per feature, with the training data's mean and (population)
   standard deviation; the first sample is replaced by the instance itself;
2. scale every sample to ``(z - mean) / std`` and take its Euclidean distance ``d`` to the scaled instance;
3. weight each sample by the exponential kernel ``sqrt(exp(-d**2 / w**2))``, ``w = 0.75 * sqrt(M)`` by default;
4. fit ``Ridge(alpha=1)`` with those sample weights on the *scaled* samples against ``f(z)``; its
   coefficients are the explanation, its weighted R² on the same samples is ``score``.

The random numbers are drawn exactly as lime draws them (one ``RandomState(seed).normal`` call of
``num_samples * M`` values), so the same seed gives the same samples and the two agree to round-off.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class LimeExplanation:
    """A local linear explanation in the scaled feature space ``(x - mean) / std``.

    ``weights[i]`` is the change of the output per training standard deviation of feature ``i``;
    ``intercept + scaled_x @ weights == prediction_local``; ``score`` is the weighted R² of the local model;
    ``effective_samples`` is Kish's effective sample size of the kernel weights, ``(sum w)² / sum w²``: about
    ``num_samples`` when the kernel is so wide that every sample counts the same (a global fit), about 1 when
    it is so narrow that only the instance itself counts (NaN from :func:`lime_tabular_lib`: lime keeps its
    weights to itself).
    """

    weights: np.ndarray
    intercept: float
    score: float
    prediction_local: float
    kernel_width: float = float("nan")
    effective_samples: float = float("nan")


def weighted_ridge(X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray,
                   alpha: float = 1.0) -> tuple[np.ndarray, float]:
    """Ridge regression with an intercept and sample weights (the intercept is not penalised),
    solved in closed form: centre on the weighted means, then solve ``(Xc' W Xc + alpha I) b = Xc' W yc``.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> coef, intercept = weighted_ridge(X, 3 * X[:, 0] + 1, np.ones(3), alpha=0.0)
    >>> np.round(coef, 6).tolist(), round(intercept, 6)
    ([3.0], 1.0)
    """
    sw = sample_weight / sample_weight.sum()
    x_mean, y_mean = sw @ X, sw @ y
    Xc, yc = X - x_mean, y - y_mean
    gram = Xc.T @ (sample_weight[:, None] * Xc) + alpha * np.eye(X.shape[1])
    coef = np.linalg.solve(gram, Xc.T @ (sample_weight * yc))
    return coef, float(y_mean - x_mean @ coef)


def weighted_r2(y: np.ndarray, y_hat: np.ndarray, sample_weight: np.ndarray) -> float:
    """R² with sample weights: ``1 - sum w (y - y_hat)² / sum w (y - weighted mean of y)²``.

    Examples
    --------
    >>> weighted_r2(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]), np.ones(3))
    1.0
    """
    y_bar = np.average(y, weights=sample_weight)
    total = np.sum(sample_weight * (y - y_bar) ** 2)
    if total == 0:
        return 1.0 if np.allclose(y, y_hat) else 0.0
    return float(1 - np.sum(sample_weight * (y - y_hat) ** 2) / total)


def lime_tabular(f: Callable, x, training_data, num_samples: int = 5000, kernel_width: float | None = None,
                 seed: int = 0, alpha: float = 1.0) -> LimeExplanation:
    """Explain ``f`` at ``x`` with LIME (continuous features, no discretisation), from scratch.

    Parameters
    ----------
    f : callable
        Maps a 2-D array of rows to one number per row, shape (n,) or (n, 1) (e.g. P(class 1)).
    x : array-like, shape (n_features,)
        The instance.
    training_data : array-like, shape (n_rows, n_features)
        Gives the mean and standard deviation the samples are drawn with (a constant column gets std 1).
    num_samples : int
        Perturbed samples, the first of which is ``x`` itself; at least 2.
    kernel_width : float, optional
        Width ``w`` of the kernel ``sqrt(exp(-d**2 / w**2))``; default ``0.75 * sqrt(n_features)`` (lime's).
    seed : int
        Seed of the ``numpy.random.RandomState`` that draws the samples (lime's ``random_state``).
    alpha : float
        Ridge penalty (lime's default Ridge has ``alpha=1``).

    Returns
    -------
    LimeExplanation
        ``weights`` shape (n_features,), in the scaled space: for a linear model ``f(x) = c @ x`` they are
        close to ``c * std`` (the ridge shrinks them very slightly).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> train = rng.normal(size=(500, 3)) * [1.0, 2.0, 0.5]
    >>> exp = lime_tabular(lambda rows: rows @ np.array([1.0, -1.0, 2.0]), train[0], train, num_samples=2000)
    >>> np.round(exp.weights / train.std(axis=0), 2).tolist(), round(exp.score, 4)
    ([1.0, -1.0, 2.0], 1.0)
    """
    training_data = np.asarray(training_data, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if training_data.ndim != 2 or len(training_data) == 0:
        raise ValueError(f"training_data has shape {training_data.shape}; expected a non-empty 2-D array")
    m = training_data.shape[1]
    if x.shape != (m,):
        raise ValueError(f"x has shape {x.shape}; expected ({m},), one row with the training data's {m} features")
    if int(num_samples) < 2:
        raise ValueError(f"num_samples={num_samples!r}; LIME needs at least 2 samples (the instance and one more)")
    if kernel_width is None:
        kernel_width = 0.75 * np.sqrt(m)
    if not kernel_width > 0:
        raise ValueError(f"kernel_width={kernel_width!r} must be a positive number")
    num_samples = int(num_samples)
    mean = training_data.mean(axis=0)
    std = training_data.std(axis=0)
    std[std < 10 * np.finfo(np.float64).eps] = 1.0  # a constant column (what scikit-learn's StandardScaler does)

    rng = np.random.RandomState(seed)
    samples = rng.normal(0, 1, num_samples * m).reshape(num_samples, m) * std + mean
    samples[0] = x
    scaled = (samples - mean) / std
    distances = np.sqrt(((scaled - scaled[0]) ** 2).sum(axis=1))
    kernel = np.sqrt(np.exp(-(distances ** 2) / kernel_width ** 2))

    y = np.asarray(f(samples), dtype=np.float64)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (num_samples,):
        raise ValueError(f"f returned shape {y.shape} for {num_samples} rows; expected one output per row")
    coef, intercept = weighted_ridge(scaled, y, kernel, alpha=alpha)
    score = weighted_r2(y, scaled @ coef + intercept, kernel)
    return LimeExplanation(coef, intercept, score, float(intercept + scaled[0] @ coef), float(kernel_width),
                           float(kernel.sum() ** 2 / (kernel ** 2).sum()))
