"""Exercise checks of notebook 00 (setup): used by notebooks/00_setup.ipynb."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aiaas_lib.exercises.feedback import exercise


@exercise
def check_churn_rate(rate) -> tuple[bool, str]:
    """Exercise 00.1: the fraction of customers in ``load_churn()`` who churned.

    Examples
    --------
    >>> check_churn_rate(1869 / 7043)
    ✓ churn rate 0.2654: about one customer in four leaves
    True
    """
    from aiaas_lib.data import load_churn

    expected = float((load_churn()["churn"] == "Yes").mean())
    value = float(rate)
    if abs(value - expected) < 5e-4:
        return True, f"churn rate {value:.4f}: about one customer in four leaves"
    if abs(value / 100 - expected) < 5e-4:
        return False, f"{value} looks like a percentage; give a fraction between 0 and 1"
    if abs((1 - value) - expected) < 5e-4:
        return False, f"{value:.4f} is the share who stayed; the question asks for those with churn == 'Yes'"
    return False, f"{value!r} is not it; compare df['churn'] == 'Yes' and take its mean"


@exercise
def check_split(train, val, test, labels=None, n_total: int = 7043, val_size: float = 0.2,
                test_size: float = 0.2) -> tuple[bool, str]:
    """Exercise 00.2: a 60/20/20 split of the churn table that keeps the churn rate in every part.

    ``train``, ``val`` and ``test`` are the three DataFrames; ``labels`` the name of the label column
    (``"churn"``) when the split should be stratified: then every part must hold within ±2 of
    ``churn rate × part size`` churners (a stratified split always does; a plain random one almost never).

    Examples
    --------
    >>> from aiaas_lib.data import load_churn, split
    >>> df = load_churn()
    >>> train, val, test = split(df, val_size=0.2, test_size=0.2, seed=0, stratify=df["churn"])
    >>> check_split(train, val, test, labels="churn")
    ✓ train/val/test = 4225/1409/1409 rows, disjoint, within ±2 churners of the table's churn rate in each
    True
    """
    parts = {"train": train, "val": val, "test": test}
    sizes = {k: len(v) for k, v in parts.items()}
    if sum(sizes.values()) != n_total:
        return False, f"the parts hold {sum(sizes.values())} rows in all, not {n_total}: every row goes to one part"
    idx = [set(v.index) for v in parts.values()]
    if idx[0] & idx[1] or idx[0] & idx[2] or idx[1] & idx[2]:
        return False, "a row appears in two parts: that leaks test data into training"
    want = {"val": val_size * n_total, "test": test_size * n_total}
    for k, n in want.items():
        if abs(sizes[k] - n) > 1:
            return False, f"{k} has {sizes[k]} rows; {k}_size={want[k] / n_total} of {n_total} is about {round(n)}"
    if labels is not None:
        # A stratified split puts round(rate × size) churners in each part (±1 from rounding); a plain random
        # split misses that by about √(rate·(1-rate)·size) ≈ 17 churners in a part of 1409 rows.
        rate = float(sum((v[labels] == "Yes").sum() for v in parts.values())) / n_total
        churners = {k: int((v[labels] == "Yes").sum()) for k, v in parts.items()}
        off = {k: churners[k] - rate * sizes[k] for k in parts}
        if max(abs(d) for d in off.values()) > 2:
            shown = ", ".join(f"{k} {churners[k]} (expected {rate * sizes[k]:.0f})" for k in parts)
            return False, (f"churners per part: {shown}; a stratified split is within ±2 of rate × size in every "
                           f"part: pass stratify=df['{labels}']")
    return True, f"train/val/test = {sizes['train']}/{sizes['val']}/{sizes['test']} rows, disjoint" + (
        ", within ±2 churners of the table's churn rate in each" if labels is not None else "")


def _reference_stratified_split(labels: np.ndarray, test_size: float, seed: int):
    """Per class: shuffle its indices with ``seed``, send ``round(test_size · n_class)`` of them to test."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = round(test_size * len(idx))
        test.append(idx[:k])
        train.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _split_cases():
    """Fresh label arrays the notebook never shows: imbalanced binary, three classes, string labels."""
    rng = np.random.default_rng(2026)
    return [
        (rng.choice([0, 1], size=200, p=[0.73, 0.27]), 0.2),
        (rng.choice([0, 1, 2], size=157, p=[0.6, 0.3, 0.1]), 0.25),
        (np.array(["Yes", "No"], dtype=object)[rng.choice(2, size=101, p=[0.35, 0.65])], 0.3),
    ]


@exercise
def check_stratified_split(func: Callable) -> tuple[bool, str]:
    """Exercise 00.2: ``func(labels, test_size, seed)`` returns ``(train_idx, test_idx)``, two arrays of row
    indices: disjoint, covering every row, with ``test_size`` of *each class* in test, shuffled by ``seed``
    (the same seed gives the same split, another seed another one).

    Examples
    --------
    >>> def split(labels, test_size, seed):
    ...     rng, train, test = np.random.default_rng(seed), [], []
    ...     for c in np.unique(labels):
    ...         idx = rng.permutation(np.flatnonzero(labels == c))
    ...         k = round(test_size * len(idx))
    ...         test.append(idx[:k]); train.append(idx[k:])
    ...     return np.concatenate(train), np.concatenate(test)
    >>> check_stratified_split(split)
    ✓ disjoint, complete, every class split test_size / rest, reproducible by seed: on 3 fresh label arrays
    True
    """
    for labels, test_size in _split_cases():
        n = len(labels)
        result = func(labels.copy(), test_size, 0)
        if result is None:
            return False, "your function returns None: return the pair (train_idx, test_idx)"
        if len(result) != 2:
            return False, f"return two index arrays (train_idx, test_idx); got {len(result)} items"
        train, test = (np.asarray(part) for part in result)
        if train.dtype == bool or test.dtype == bool:
            return False, "you returned boolean masks; return row indices (np.flatnonzero(mask) turns one into the other)"
        train, test = train.astype(int).ravel(), test.astype(int).ravel()
        if np.intersect1d(train, test).size:
            return False, "a row is in both train and test: that leaks test data into training"
        if len(np.unique(np.concatenate([train, test]))) != n or len(train) + len(test) != n:
            return False, f"train and test together must hold each of the {n} rows exactly once"
        if abs(len(train) - test_size * n) < abs(len(test) - test_size * n):
            return False, (f"test holds {len(test)} of {n} rows: train and test are swapped "
                           f"(test should get test_size = {test_size} of the rows)")
        for c in np.unique(labels):
            rows = np.flatnonzero(labels == c)
            k = np.isin(rows, test).sum()
            if abs(k - test_size * len(rows)) > 1:
                return False, (f"class {c!r} has {k} of its {len(rows)} rows in test, not about "
                               f"{test_size * len(rows):.0f}: split each class separately (that is what stratified means)")
            first, last = set(rows[:k].tolist()), set(rows[len(rows) - k:].tolist())
            if k > 2 and set(np.intersect1d(rows, test).tolist()) in (first, last):
                return False, (f"the test rows of class {c!r} are its first or last rows: shuffle each class's "
                               "indices (rng.permutation) before cutting; files are often sorted by date")
        again = func(labels.copy(), test_size, 0)
        if not np.array_equal(np.sort(np.asarray(again[1])), np.sort(test)):
            return False, "the same seed gave a different split: draw from np.random.default_rng(seed), not from global state"
        other = func(labels.copy(), test_size, 1)
        if np.array_equal(np.sort(np.asarray(other[1])), np.sort(test)):
            return False, "seed 1 gave the same split as seed 0: your function ignores its seed"
    return True, "disjoint, complete, every class split test_size / rest, reproducible by seed: on 3 fresh label arrays"
