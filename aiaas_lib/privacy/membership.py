"""Used by notebook 16.

Membership inference from the loss gap (Yeom et al., 2018): an overfitted model has a lower loss on the
examples it was trained on than on others, so "loss below a threshold τ → member" tells who was in the
training set better than chance.

The attack's ROC-AUC over all thresholds measures the risk: 0.5 is a coin flip (no leak), 1.0 a perfect
test. Its *advantage* :math:`\\max_\\tau (\\mathrm{TPR} - \\mathrm{FPR})` bounds what one threshold gains;
(ε, δ)-DP caps it at :math:`(e^{\\varepsilon} - 1 + 2\\delta) / (e^{\\varepsilon} + 1)` (from TPR ≤ e^ε·FPR + δ and
its mirror image for the complement; Kairouz et al., 2015 — notebook 16 §7 derives it). The older form
:math:`e^{\\varepsilon} - 1 + \\delta` (Yeom et al.) is also valid but looser.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aiaas_lib.env import import_tensorflow


def per_example_loss(model, x, y, from_logits: bool = True, batch_size: int = 1024) -> np.ndarray:
    """Each example's cross-entropy loss :math:`-\\log p_\\theta(y_i \\mid x_i)` (inference mode).

    Examples
    --------
    >>> from aiaas_lib.privacy.sgd import mlp_classifier
    >>> model = mlp_classifier(hidden=4)
    >>> per_example_loss(model, np.zeros((3, 28, 28, 1), "float32"), [0, 1, 2]).shape
    (3,)
    """
    tf = import_tensorflow()
    x, y = np.asarray(x, "float32"), np.asarray(y, "int32")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x has {len(x)} rows and y {len(y)}; give the same, non-zero number of each")
    out = []
    for i in range(0, len(x), batch_size):
        pred = tf.cast(model(x[i:i + batch_size], training=False), tf.float32)
        if from_logits:
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y[i:i + batch_size], logits=pred)
        else:
            loss = -tf.math.log(tf.gather(pred, y[i:i + batch_size], batch_dims=1) + 1e-12)
        out.append(loss.numpy())
    return np.concatenate(out).astype("float64")


@dataclass
class MembershipReport:
    """The loss-threshold attack's result: ROC-AUC, advantage (max TPR − FPR), the threshold that reaches
    it, and the mean losses of members and non-members (their difference is the loss gap)."""

    auc: float
    advantage: float
    threshold: float
    member_loss: float
    nonmember_loss: float

    @property
    def loss_gap(self) -> float:
        """Mean non-member loss minus mean member loss (the train/test loss gap)."""
        return self.nonmember_loss - self.member_loss


def loss_threshold_attack(member_losses, nonmember_losses) -> MembershipReport:
    """Score each example by its negative loss (low loss → "member") and measure how well that separates the
    training examples (members) from held-out ones.

    Examples
    --------
    >>> report = loss_threshold_attack([0.1, 0.2, 0.9], [0.5, 1.0, 2.0])
    >>> round(report.auc, 3), round(report.advantage, 3), round(report.loss_gap, 3)
    (0.889, 0.667, 0.767)
    >>> loss_threshold_attack([0.3, 0.3], [0.3, 0.3]).auc  # identical losses: a coin flip
    0.5
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    members = np.asarray(member_losses, dtype="float64").ravel()
    others = np.asarray(nonmember_losses, dtype="float64").ravel()
    for name, values in (("member_losses", members), ("nonmember_losses", others)):
        if values.size == 0 or not np.all(np.isfinite(values)):
            raise ValueError(f"{name} must be a non-empty array of finite losses; got {values.size} values")
    labels = np.r_[np.ones(members.size), np.zeros(others.size)]
    scores = -np.r_[members, others]
    fpr, tpr, thresholds = roc_curve(labels, scores)
    best = int(np.argmax(tpr - fpr))
    return MembershipReport(float(roc_auc_score(labels, scores)), float(tpr[best] - fpr[best]),
                            float(-thresholds[best]), float(members.mean()), float(others.mean()))
