"""Used by notebook 14 (through :mod:`aiaas_lib.monitoring`).

Simulated production traffic for the monitoring notebook: churn rows arriving in windows, with drift
injected part-way.

The drift (:func:`drift_churn`) imitates a change in the customer base after, say, a marketing campaign
and a price rise: customers are newer (``tenure`` scaled down), pay more (``monthly_charges`` up,
``total_charges`` following both), and more of them are on month-to-month ``contract``\\ s. Each row
keeps its churn label: the relation between the features and the outcome the model learned no longer
holds for the new rows, so the model gets worse, and a model retrained on recent rows does better.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Columns :func:`drift_churn` changes.
DRIFTED_COLUMNS = ("tenure", "monthly_charges", "total_charges", "contract")


def drift_churn(X: pd.DataFrame, strength: float = 1.0, seed: int = 0) -> pd.DataFrame:
    """A drifted copy of raw churn rows (``X`` as from :func:`aiaas_lib.data.churn_xy`).

    With ``s = strength`` (0: unchanged, 1: the full shift):

    - ``tenure`` ← round(tenure · (1 − 0.6 s)) (newer customers);
    - ``monthly_charges`` ← monthly_charges + 25 s (dollars; a price rise);
    - ``total_charges`` scaled by the same factors (shorter tenure, higher monthly bill);
    - ``contract``: each one- or two-year contract becomes ``Month-to-month`` with probability 0.6 s.

    Parameters
    ----------
    X : DataFrame
        Raw churn rows with the columns in :data:`DRIFTED_COLUMNS`.
    strength : float
        Between 0 and 1.5.
    seed : int
        Seed of the contract changes (the numeric shifts are deterministic).

    Examples
    --------
    >>> from aiaas_lib import data
    >>> X, _ = data.churn_xy(data.load_churn())
    >>> D = drift_churn(X, strength=1.0, seed=0)
    >>> print(f"{X.tenure.mean():.1f} {D.tenure.mean():.1f} {D.monthly_charges.mean() - X.monthly_charges.mean():.1f}")
    32.4 12.9 25.0
    >>> drift_churn(X, strength=-1)
    Traceback (most recent call last):
    ...
    ValueError: strength=-1; expected a number between 0 (no drift) and 1.5
    """
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0 <= strength <= 1.5:
        raise ValueError(f"strength={strength!r}; expected a number between 0 (no drift) and 1.5")
    missing = [c for c in DRIFTED_COLUMNS if c not in X.columns]
    if missing:
        raise ValueError(f"X lacks the columns {missing}; expected raw churn rows from data.churn_xy")
    rng = np.random.default_rng(seed)
    out = X.copy()
    out["tenure"] = np.round(X["tenure"].to_numpy() * (1 - 0.6 * strength)).astype(X["tenure"].dtype)
    out["monthly_charges"] = X["monthly_charges"] + 25.0 * strength
    tenure, new_tenure = X["tenure"].to_numpy(dtype=float), out["tenure"].to_numpy(dtype=float)
    ratio = np.divide(new_tenure, tenure, out=np.ones_like(tenure), where=tenure > 0)
    out["total_charges"] = X["total_charges"] * ratio * (out["monthly_charges"] / X["monthly_charges"])
    long_contract = X["contract"].isin(["One year", "Two year"]).to_numpy()
    switch = long_contract & (rng.random(len(X)) < min(0.6 * strength, 1.0))
    out.loc[switch, "contract"] = "Month-to-month"
    return out


@dataclass
class Window:
    """One window of the stream: its rows, their labels, and the drift strength applied."""

    index: int
    X: pd.DataFrame
    y: np.ndarray
    strength: float


def churn_stream(X: pd.DataFrame, y, n_windows: int = 12, window_size: int = 300, drift_from: int = 6,
                 strength: float = 1.0, ramp: int = 1, seed: int = 0) -> list[Window]:
    """``n_windows`` windows of ``window_size`` rows sampled from ``X`` (without replacement within a
    window), drifted from window ``drift_from`` on.

    The drift strength of window ``i`` is 0 before ``drift_from`` and
    ``strength · min(1, (i − drift_from + 1) / ramp)`` from it (``ramp=1``: a step; larger: gradual).

    Examples
    --------
    >>> from aiaas_lib import data
    >>> X, y = data.churn_xy(data.load_churn())
    >>> stream = churn_stream(X, y, n_windows=6, window_size=100, drift_from=3, ramp=2, seed=0)
    >>> [w.strength for w in stream], stream[0].X.shape, stream[0].y.shape
    ([0.0, 0.0, 0.0, 0.5, 1.0, 1.0], (100, 19), (100,))
    >>> churn_stream(X, y, window_size=10_000)
    Traceback (most recent call last):
    ...
    ValueError: window_size=10000; expected 1..7043 (the rows of X)
    """
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}; give one label per row")
    for name, value, low in (("n_windows", n_windows, 1), ("ramp", ramp, 1)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name}={value!r}; expected an integer >= {low}")
    if not isinstance(window_size, (int, np.integer)) or not 1 <= window_size <= len(X):
        raise ValueError(f"window_size={window_size!r}; expected 1..{len(X)} (the rows of X)")
    if not isinstance(drift_from, (int, np.integer)) or drift_from < 0:
        raise ValueError(f"drift_from={drift_from!r}; expected a window index >= 0")
    rng = np.random.default_rng(seed)
    windows = []
    for i in range(n_windows):
        idx = rng.choice(len(X), size=window_size, replace=False)
        s = 0.0 if i < drift_from else float(strength) * min(1.0, (i - drift_from + 1) / ramp)
        rows = X.iloc[idx].reset_index(drop=True)
        if s > 0:
            rows = drift_churn(rows, s, seed=seed * 1000 + i)
        windows.append(Window(i, rows, y[idx], s))
    return windows


def stack(windows: Sequence[Window]) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows and labels of several windows as one frame and one label array.

    Examples
    --------
    >>> w = Window(0, pd.DataFrame({"a": [1, 2]}), np.array([0, 1]), 0.0)
    >>> frame, labels = stack([w, w]); frame.shape, labels.tolist()
    ((4, 1), [0, 1, 0, 1])
    """
    if not windows:
        raise ValueError("windows is empty; give at least one Window")
    return (pd.concat([w.X for w in windows], ignore_index=True), np.concatenate([w.y for w in windows]))
