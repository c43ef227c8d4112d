"""Exercise checks of notebook 01 (ai as a service): used by notebooks/01_ai_as_a_service.ipynb."""
from __future__ import annotations

from collections.abc import Sequence

from aiaas_lib.exercises.feedback import exercise


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
