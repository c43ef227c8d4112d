r"""Used by notebook 14 (through :mod:`aiaas_lib.monitoring`).

Drift statistics: is the data a model sees now distributed like the data it was trained on?

Population stability index (PSI), with shares :math:`e_i` (reference) and :math:`a_i` (current) over the
same bins:

.. math:: \mathrm{PSI} = \sum_i (a_i - e_i)\,\ln\frac{a_i}{e_i}

Numeric features are cut into ``bins`` quantile bins of the *reference* sample (about equal reference
shares; tied values can merge bins), categorical ones use their categories. An empty bin would make
:math:`\ln(a_i/e_i)` infinite, so every share is raised to at least :data:`EPS` (1e-4) first. PSI is 0 for
identical shares and grows with the shift; the usual reading (:data:`PSI_THRESHOLDS`): below 0.1 stable,
0.1-0.25 a moderate shift worth a look (``warn``), 0.25 and above a major shift (``alert``).

Tests: two-sample Kolmogorov-Smirnov per numeric feature (:func:`ks_test`, statistic
:math:`D = \sup_x |F_{ref}(x) - F_{cur}(x)|`) and a chi-square test of homogeneity on category counts per
categorical feature (:func:`chi2_test`; a category unseen in the reference is a column of its own). With
large windows tiny, harmless shifts become "significant", and with many features some p-values are small
by chance: :func:`drift_report` therefore compares p-values with a Bonferroni-corrected level
``alpha / number_of_tests`` and lets the PSI, an effect size, decide between ``warn`` and ``alert``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from aiaas_lib.validation import integer

#: Smallest share a bin can have in the PSI (keeps ln(a/e) finite for empty bins).
EPS = 1e-4
#: PSI at or above the first value: ``warn``; at or above the second: ``alert``.
PSI_THRESHOLDS = (0.1, 0.25)
LEVELS = ("ok", "warn", "alert")


class TestResult(NamedTuple):
    """A test statistic and its p-value."""

    statistic: float
    p_value: float


def _numeric(values, what: str) -> np.ndarray:
    """``values`` as a 1-d float array; ValueError naming ``what`` when not numbers, empty or not finite."""
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        sample = next((v for v in np.asarray(values, dtype=object).ravel()
                       if not isinstance(v, (int, float, np.number)) or isinstance(v, bool)), None)
        raise ValueError(f"{what} must hold numbers, got {sample!r}; check it as a categorical column") from None
    if arr.size == 0:
        raise ValueError(f"{what} is empty; drift needs at least one value in each sample")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} holds NaN or inf; drop or impute missing values first")
    return arr


def _categories(values, what: str) -> pd.Series:
    """``values`` as a Series of strings; ValueError when empty."""
    series = pd.Series(np.asarray(values, dtype=object).ravel()).astype(str)
    if series.empty:
        raise ValueError(f"{what} is empty; drift needs at least one value in each sample")
    return series


def _check_bins(bins) -> int:
    return integer("bins", bins, 2)


def _psi_from_shares(e: np.ndarray, a: np.ndarray, eps: float) -> float:
    e, a = np.maximum(e, eps), np.maximum(a, eps)
    return float(np.sum((a - e) * np.log(a / e)))


def quantile_edges(expected, bins: int = 10) -> np.ndarray:
    """The inner bin edges of :func:`psi`: quantiles of ``expected`` (duplicates from ties removed).

    Examples
    --------
    >>> quantile_edges(np.arange(100), bins=4).tolist()
    [24.75, 49.5, 74.25]
    """
    exp = _numeric(expected, "expected")
    bins = _check_bins(bins)
    return np.unique(np.quantile(exp, np.linspace(0, 1, bins + 1))[1:-1])


def psi(expected, actual, bins: int = 10, eps: float = EPS) -> float:
    """Population stability index of a numeric sample ``actual`` against a reference ``expected``.

    Parameters
    ----------
    expected, actual : array-like of numbers
        Reference (e.g. training) and current samples; any sizes.
    bins : int
        Number of quantile bins of ``expected`` (>= 2; ties can merge some). A value on an edge goes to
        the upper bin; the outer bins are open (everything below / above the reference's range counts).
    eps : float
        Shares below ``eps`` are raised to it, so an empty bin adds a large but finite term.

    Examples
    --------
    >>> psi(np.arange(100), np.arange(100))
    0.0
    >>> round(psi(np.arange(100), np.arange(100) + 25, bins=4), 4)  # shares .25×4 → 0, .25, .25, .5
    2.1285
    >>> psi([1.0], [], bins=10)
    Traceback (most recent call last):
    ...
    ValueError: actual is empty; drift needs at least one value in each sample
    """
    edges = quantile_edges(expected, bins)
    exp, act = _numeric(expected, "expected"), _numeric(actual, "actual")
    n_bins = len(edges) + 1
    e = np.bincount(np.searchsorted(edges, exp, side="right"), minlength=n_bins) / exp.size
    a = np.bincount(np.searchsorted(edges, act, side="right"), minlength=n_bins) / act.size
    return _psi_from_shares(e, a, eps)


def categorical_psi(expected, actual, eps: float = EPS) -> float:
    """PSI over category shares (categories of either sample; one unseen in ``expected`` has share 0 there,
    raised to ``eps``).

    Examples
    --------
    >>> round(categorical_psi(["a", "a", "b", "b"], ["a", "b", "b", "b"]), 4)  # shares .5/.5 → .25/.75
    0.2747
    """
    exp, act = _categories(expected, "expected"), _categories(actual, "actual")
    cats = sorted(set(exp) | set(act))
    e = exp.value_counts(normalize=True).reindex(cats, fill_value=0).to_numpy()
    a = act.value_counts(normalize=True).reindex(cats, fill_value=0).to_numpy()
    return _psi_from_shares(e, a, eps)


def ks_test(expected, actual) -> TestResult:
    """Two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``): statistic D and p-value.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=500)
    >>> ks_test(ref, rng.normal(size=500)).p_value > 0.01, ks_test(ref, rng.normal(1, 1, 500)).p_value < 1e-10
    (True, True)
    """
    from scipy.stats import ks_2samp

    result = ks_2samp(_numeric(expected, "expected"), _numeric(actual, "actual"))
    return TestResult(float(result.statistic), float(result.pvalue))


def chi2_test(expected, actual) -> TestResult:
    """Chi-square test that two samples share one category distribution (``scipy.stats.chi2_contingency``
    on the 2 × categories table of counts, no continuity correction). Categories seen in only one sample
    are columns too; a single category in total gives statistic 0 and p-value 1.

    Examples
    --------
    >>> r = chi2_test(["a"] * 50 + ["b"] * 50, ["a"] * 50 + ["b"] * 40 + ["c"] * 10)
    >>> round(r.statistic, 3), r.p_value < 0.01
    (11.111, True)
    """
    from scipy.stats import chi2_contingency

    exp, act = _categories(expected, "expected"), _categories(actual, "actual")
    cats = sorted(set(exp) | set(act))
    if len(cats) < 2:
        return TestResult(0.0, 1.0)
    table = np.vstack([exp.value_counts().reindex(cats, fill_value=0), act.value_counts().reindex(cats, fill_value=0)])
    result = chi2_contingency(table, correction=False)
    return TestResult(float(result.statistic), float(result.pvalue))


def prediction_drift(reference_predictions, current_predictions, bins: int = 10) -> float:
    """PSI of the model's predicted probabilities (flattened): drift the model itself sees, which needs no
    labels.

    Examples
    --------
    >>> p = np.linspace(0.01, 0.99, 200)
    >>> prediction_drift(p, p), prediction_drift(p, p ** 0.5) > 0.25
    (0.0, True)
    """
    return psi(np.ravel(reference_predictions), np.ravel(current_predictions), bins=bins)


def _check_thresholds(thresholds) -> tuple[float, float]:
    try:
        low, high = (float(t) for t in thresholds)
    except (TypeError, ValueError):
        raise ValueError(f"thresholds={thresholds!r}; expected two numbers (warn, alert), e.g. (0.1, 0.25)") from None
    if not 0 < low < high:
        raise ValueError(f"thresholds={thresholds!r}; expected 0 < warn < alert, e.g. (0.1, 0.25)")
    return low, high


def alert_level(psi_value: float, p_value: float | None = None, alpha: float = 0.01,
                thresholds: Sequence[float] = PSI_THRESHOLDS) -> str:
    """``"alert"`` when PSI >= thresholds[1], ``"warn"`` when PSI >= thresholds[0] or ``p_value < alpha``,
    else ``"ok"``. (Pass an ``alpha`` already corrected for the number of tests.)

    Examples
    --------
    >>> alert_level(0.05), alert_level(0.15), alert_level(0.3), alert_level(0.05, p_value=1e-6)
    ('ok', 'warn', 'alert', 'warn')
    >>> alert_level(0.2, thresholds=(0.3, 0.1))
    Traceback (most recent call last):
    ...
    ValueError: thresholds=(0.3, 0.1); expected 0 < warn < alert, e.g. (0.1, 0.25)
    """
    low, high = _check_thresholds(thresholds)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha!r}; expected a level between 0 and 1, e.g. 0.01")
    if psi_value >= high:
        return "alert"
    if psi_value >= low or (p_value is not None and p_value < alpha):
        return "warn"
    return "ok"


def column_kinds(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """``(numeric, categorical)`` column names from the dtypes of ``frame``: integers and floats are numeric;
    strings, ``category`` and booleans categorical.

    Raises
    ------
    ValueError
        Naming each column of another dtype (dates, mixed objects, …), so none is left out silently.

    Examples
    --------
    >>> column_kinds(pd.DataFrame({"x": [1.0], "n": [2], "c": ["a"], "b": [True]}))
    (['x', 'n'], ['c', 'b'])
    >>> column_kinds(pd.DataFrame({"when": pd.to_datetime(["2026-01-01"])}))
    Traceback (most recent call last):
    ...
    ValueError: column 'when' has dtype datetime64[us]: drift_report checks numbers and categories; convert it,
    or pass numeric= and categorical= to choose the columns
    """
    numeric, categorical, other = [], [], []
    for col in (frame.columns if columns is None else columns):
        dtype = frame[col].dtype
        if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype) \
                or pd.api.types.is_string_dtype(dtype):
            if dtype == object and not frame[col].map(lambda v: isinstance(v, str)).all():
                other.append((col, "object (not all strings)"))
            else:
                categorical.append(col)
        elif pd.api.types.is_numeric_dtype(dtype):
            numeric.append(col)
        else:
            other.append((col, str(dtype)))
    if other:
        raise ValueError("; ".join(f"column {c!r} has dtype {d}" for c, d in other)
                         + ": drift_report checks numbers and categories; convert it, or pass numeric= and "
                           "categorical= to choose the columns")
    return numeric, categorical


def drift_report(reference: pd.DataFrame, current: pd.DataFrame, numeric: Sequence[str] | None = None,
                 categorical: Sequence[str] | None = None, predictions: tuple | None = None, bins: int = 10,
                 alpha: float = 0.01, thresholds: Sequence[float] = PSI_THRESHOLDS) -> pd.DataFrame:
    """One row per feature (and for the predictions): the test, its statistic and p-value, the PSI and an
    alert level.

    Parameters
    ----------
    reference, current : DataFrame
        The reference window (e.g. training data) and the window to check.
    numeric, categorical : sequence of str, optional
        Columns to check with KS + PSI, and with chi-square + categorical PSI. When both are left out,
        every column the two frames share is checked, its kind read from the reference's dtypes
        (:func:`column_kinds`); when one is given, the other defaults to none.
    predictions : (reference_predictions, current_predictions), optional
        Adds a row ``"prediction"`` (KS + PSI of the predicted probabilities).
    bins : int
        Quantile bins of the numeric PSI.
    alpha : float
        Family-wise significance level: each p-value is compared with ``alpha / number_of_rows``
        (Bonferroni), so checking 20 features does not raise a warning by chance one window in five.
    thresholds : (warn, alert)
        PSI thresholds, default (0.1, 0.25).

    Returns
    -------
    DataFrame
        Columns ``feature, kind, test, statistic, p_value, psi, level`` (``level`` from :func:`alert_level`).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=400), "c": rng.choice(["a", "b"], 400)})
    >>> cur = pd.DataFrame({"x": rng.normal(1.0, 1, 400), "c": rng.choice(["a", "b"], 400)})
    >>> drift_report(ref, cur, ["x"], ["c"])[["feature", "test", "level"]].to_dict("records")
    [{'feature': 'x', 'test': 'ks', 'level': 'alert'}, {'feature': 'c', 'test': 'chi2', 'level': 'ok'}]
    """
    _check_thresholds(thresholds)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha!r}; expected a level between 0 and 1, e.g. 0.01")
    for what, frame in (("reference", reference), ("current", current)):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"the {what} window must be a pandas DataFrame, got {type(frame).__name__}")
    if numeric is None and categorical is None:
        shared = [c for c in reference.columns if c in current.columns]
        only = sorted(set(map(str, reference.columns)) ^ set(map(str, current.columns)))
        if only:
            raise ValueError(f"columns {only} are in only one of the two frames; give both windows the same "
                             "columns, or pass numeric= and categorical= to choose them")
        numeric, categorical = column_kinds(reference, shared)
    numeric, categorical = list(numeric or ()), list(categorical or ())
    if not numeric and not categorical and predictions is None:
        raise ValueError("nothing to check: no numeric or categorical columns and no predictions; leave numeric= "
                         "and categorical= out to check every column")
    for what, frame in (("reference", reference), ("current", current)):
        missing = [c for c in numeric + categorical if c not in frame.columns]
        if missing:
            raise ValueError(f"columns {missing} are not in the {what} frame; it has {list(frame.columns)}")
        if len(frame) == 0:
            raise ValueError(f"the {what} frame is empty; drift needs at least one row in each window")
    rows = []
    for col in numeric:
        ref = _numeric(reference[col], f"column {col!r} of the reference frame")
        cur = _numeric(current[col], f"column {col!r} of the current frame")
        test = ks_test(ref, cur)
        rows.append((col, "numeric", "ks", test.statistic, test.p_value, psi(ref, cur, bins)))
    for col in categorical:
        test = chi2_test(reference[col], current[col])
        rows.append((col, "categorical", "chi2", test.statistic, test.p_value,
                     categorical_psi(reference[col], current[col])))
    if predictions is not None:
        ref_p, cur_p = predictions
        test = ks_test(ref_p, cur_p)
        rows.append(("prediction", "prediction", "ks", test.statistic, test.p_value,
                     prediction_drift(ref_p, cur_p, bins)))
    report = pd.DataFrame(rows, columns=["feature", "kind", "test", "statistic", "p_value", "psi"])
    level_alpha = alpha / max(len(report), 1)
    report["level"] = [alert_level(p, q, level_alpha, thresholds) for p, q in zip(report["psi"], report["p_value"])]
    return report
