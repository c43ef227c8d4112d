"""Exercise checks of notebook 00 (setup): used by notebooks/00_setup.ipynb."""
from __future__ import annotations


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
    (``"churn"``) when the split should be stratified.
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
        rates = {k: float((v[labels] == "Yes").mean()) for k, v in parts.items()}
        if max(rates.values()) - min(rates.values()) > 0.01:
            shown = ", ".join(f"{k} {r:.3f}" for k, r in rates.items())
            return False, f"churn rates differ between parts ({shown}): pass stratify=df['{labels}']"
    return True, f"train/val/test = {sizes['train']}/{sizes['val']}/{sizes['test']} rows, disjoint" + (
        ", same churn rate in each" if labels is not None else "")
