"""Feedback for the notebooks' exercises.

Every ``check_*`` function prints one clear line — ``✓`` and what was right, or ``✗`` and a hint — and
returns True or False. It never raises on a wrong answer, whatever its type: a learner's mistake is
feedback, not a traceback. Worked solutions are in ``notebooks/solutions/`` (CI runs them).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps

PASS, FAIL = "✓", "✗"


def _feedback(ok: bool, message: str) -> bool:
    """Print one ✓/✗ line and return ``ok``."""
    print(f"{PASS if ok else FAIL} {message}")
    return ok


def exercise(func: Callable[..., tuple[bool, str]]) -> Callable[..., bool]:
    """Turn ``func(answer) -> (ok, message)`` into a checker that prints feedback and never raises."""

    @wraps(func)
    def checker(*args, **kwargs) -> bool:
        if args and args[0] is None:
            return _feedback(False, "no answer yet: replace None with your answer and run the cell again")
        try:
            ok, message = func(*args, **kwargs)
        except Exception as err:  # a malformed answer is feedback too
            ok, message = False, f"could not check this answer ({type(err).__name__}: {err}); see the exercise text"
        return _feedback(bool(ok), message)

    return checker


# ------------------------------------------------------------------------------------ notebook 00
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


# ------------------------------------------------------------------------------------ notebook 01
LIFECYCLE = ("collect", "preprocess", "select", "train", "evaluate", "deploy", "monitor", "update")


@exercise
def check_lifecycle_order(stages: Sequence[str]) -> tuple[bool, str]:
    """Exercise 01.1: put the model lifecycle's stages in order.

    Examples
    --------
    >>> check_lifecycle_order(["collect", "preprocess", "select", "train",
    ...                        "evaluate", "deploy", "monitor", "update"])
    ✓ collect → preprocess → select → train → evaluate → deploy → monitor → update (and back to collect)
    True
    """
    given = [str(s).strip().lower() for s in stages]
    if sorted(given) != sorted(LIFECYCLE):
        missing = sorted(set(LIFECYCLE) - set(given))
        extra = sorted(set(given) - set(LIFECYCLE))
        return False, f"use each of {list(LIFECYCLE)} once (missing {missing}, unknown {extra})"
    for i, (g, e) in enumerate(zip(given, LIFECYCLE)):
        if g != e:
            return False, f"stage {i + 1} should not be {g!r}: what must exist before you can {g}?"
    return True, " → ".join(LIFECYCLE) + " (and back to collect)"


SERVICE_MODELS = {
    "rent a virtual machine with a GPU and install everything yourself": "IaaS",
    "upload your training script; the platform runs it and scales the workers": "PaaS",
    "log in to a hosted CRM in the browser": "SaaS",
    "send text to an HTTP endpoint and get a sentiment score back": "AIaaS",
}


@exercise
def check_service_models(answers: dict) -> tuple[bool, str]:
    """Exercise 01.2: name the service model (IaaS, PaaS, SaaS, AIaaS) of each scenario in
    ``SERVICE_MODELS``; ``answers`` maps each scenario to its model."""
    wrong = [s for s, m in SERVICE_MODELS.items() if str(answers.get(s, "")).strip().upper() != m.upper()]
    if not wrong:
        return True, "all four scenarios placed: the higher the layer, the less you run yourself"
    return False, f"{len(wrong)} of {len(SERVICE_MODELS)} not right yet, e.g. {wrong[0]!r}: who runs the model there?"


@exercise
def check_drift_retrain(old_auc: float, new_auc: float, retrained_auc: float) -> tuple[bool, str]:
    """Exercise 01.3: after drift, the old model's AUC on new data should drop and retraining should
    recover part of it. Pass the three ROC-AUCs you measured."""
    old_auc, new_auc, retrained_auc = float(old_auc), float(new_auc), float(retrained_auc)
    for name, v in (("old_auc", old_auc), ("new_auc", new_auc), ("retrained_auc", retrained_auc)):
        if not 0 <= v <= 1:
            return False, f"{name}={v} is not a ROC-AUC (it lies between 0 and 1)"
    if not new_auc < old_auc:
        return False, "the old model should score worse on drifted data than on data like its training data"
    if not retrained_auc > new_auc:
        return False, "retraining on recent data should beat the old model on that data; did you refit on it?"
    return True, f"AUC {old_auc:.3f} → {new_auc:.3f} after drift → {retrained_auc:.3f} after retraining"

