"""Membership inference from the loss gap: per-example losses are −log p(y|x), the attack's AUC is 0.5 when
members and non-members look alike and 1 when they separate, and an overfitted model leaks."""
import numpy as np
import pytest

from aiaas_lib.privacy import membership as mi
from aiaas_lib.privacy.sgd import mlp_classifier, train_sgd


def test_per_example_loss_is_minus_log_softmax():
    rng = np.random.default_rng(0)
    x, y = rng.random((5, 28, 28, 1)).astype("float32"), np.array([0, 3, 9, 1, 1])
    model = mlp_classifier(hidden=4)
    logits = np.asarray(model(x)).astype("float64")
    log_p = logits - logits.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(mi.per_example_loss(model, x, y), -log_p[np.arange(5), y], rtol=1e-5)


def test_separated_losses_give_auc_one():
    report = mi.loss_threshold_attack([0.01, 0.02, 0.03], [1.0, 2.0])
    assert report.auc == 1.0 and report.advantage == 1.0
    assert 0.03 <= report.threshold <= 1.0


def test_identical_distributions_give_a_coin_flip():
    rng = np.random.default_rng(0)
    report = mi.loss_threshold_attack(rng.exponential(size=4000), rng.exponential(size=4000))
    assert abs(report.auc - 0.5) < 0.03  # std of the AUC with 4000+4000 samples ≈ 0.0065


def test_loss_gap_is_the_difference_of_means():
    report = mi.loss_threshold_attack([0.1, 0.3], [1.0, 1.4])
    assert report.loss_gap == pytest.approx(1.0)


def test_an_overfitted_model_leaks_membership():
    rng = np.random.default_rng(1)
    x = rng.random((120, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, 120)  # random labels: only memorising can fit them
    model = mlp_classifier(hidden=64)
    train_sgd(model, x[:60], y[:60], epochs=60, lr=0.1)
    report = mi.loss_threshold_attack(mi.per_example_loss(model, x[:60], y[:60]),
                                      mi.per_example_loss(model, x[60:], y[60:]))
    assert report.auc > 0.9 and report.loss_gap > 1.0


@pytest.mark.parametrize("members, others, match", [
    ([], [1.0], "member_losses must be a non-empty array of finite losses"),
    ([1.0], [np.nan], "nonmember_losses must be a non-empty array of finite losses"),
])
def test_attack_errors(members, others, match):
    with pytest.raises(ValueError, match=match):
        mi.loss_threshold_attack(members, others)


def test_per_example_loss_errors():
    with pytest.raises(ValueError, match="x has 2 rows and y 1"):
        mi.per_example_loss(mlp_classifier(hidden=4), np.zeros((2, 28, 28, 1)), [0])
