"""Federated averaging: client splits (IID and Dirichlet label skew), FedAvg as the sample-weighted mean, and
the training loop (one client and one round is plain SGD)."""
import numpy as np
import pytest

from aiaas_lib.privacy import federated as fed
from aiaas_lib.privacy.sgd import mlp_classifier, train_sgd

Y = np.repeat(np.arange(10), 30)  # 300 labels, 30 per class


def test_iid_split_is_a_partition_of_near_equal_parts():
    parts = fed.split_clients(Y, 7, seed=1)
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(Y)))
    assert {len(p) for p in parts} <= {42, 43}


def test_dirichlet_split_is_a_partition_and_seeded():
    a, b = fed.split_clients(Y, 5, alpha=0.3, seed=3), fed.split_clients(Y, 5, alpha=0.3, seed=3)
    assert sorted(np.concatenate(a).tolist()) == list(range(len(Y)))
    assert all(np.array_equal(p, q) for p, q in zip(a, b))


def _top_class_share(parts):
    counts = np.stack([np.bincount(Y[p], minlength=10) for p in parts])  # (clients, classes)
    return float(np.mean(counts.max(axis=1) / np.maximum(counts.sum(axis=1), 1)))


def test_small_alpha_skews_labels_more_than_large_alpha():
    # the mean share of each client's most common class: 0.1 for a perfect IID split of 10 classes
    skewed = _top_class_share(fed.split_clients(Y, 5, alpha=0.1, seed=0))
    near_iid = _top_class_share(fed.split_clients(Y, 5, alpha=100.0, seed=0))
    assert skewed > 0.4 and near_iid < 0.2


@pytest.mark.parametrize("kwargs, match", [
    ({"num_clients": 0}, "num_clients=0 must be an integer >= 1"),
    ({"num_clients": 301}, "num_clients=301 is more than the 300 rows"),
    ({"num_clients": 3, "alpha": 0.0}, "alpha=0.0 must be a positive number"),
    ({"num_clients": 3, "alpha": "iid"}, "alpha='iid' must be a positive number"),
])
def test_split_clients_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fed.split_clients(Y, **kwargs)


def test_split_clients_refuses_empty_labels():
    with pytest.raises(ValueError, match="non-empty 1-d array"):
        fed.split_clients([], 2)


def test_fedavg_equals_the_sample_weighted_mean_exactly():
    # dyadic numbers and weights 1/4, 3/4: every product and sum is exact in float32, so == holds
    w1 = [np.array([[0.5, -1.0]], "float32"), np.array([2.0], "float32")]
    w2 = [np.array([[1.5, 3.0]], "float32"), np.array([-2.0], "float32")]
    avg = fed.fedavg([w1, w2], [10, 30])
    assert np.array_equal(avg[0], np.array([[1.25, 2.0]], "float32")) and avg[0].dtype == np.float32
    assert np.array_equal(avg[1], np.array([-1.0], "float32"))


def test_fedavg_matches_numpy_average_for_random_weights():
    rng = np.random.default_rng(0)
    clients = [[rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=3).astype("float32")] for _ in range(5)]
    sizes = [12, 0, 7, 30, 1]
    avg = fed.fedavg(clients, sizes)
    for i in range(2):
        want = np.average(np.stack([c[i] for c in clients]).astype("float64"), axis=0, weights=sizes)
        # computed in float64, rounded once to float32: within float32's relative precision
        np.testing.assert_allclose(avg[i], want, rtol=1e-6, atol=1e-7)


def test_fedavg_with_equal_sizes_is_the_plain_mean():
    clients = [[np.array([1.0, 2.0])], [np.array([3.0, 6.0])]]
    assert np.array_equal(fed.fedavg(clients, [5, 5])[0], np.array([2.0, 4.0]))


@pytest.mark.parametrize("weights, sizes, match", [
    ([], [], "client_weights is empty"),
    ([[np.zeros(2)]], [1, 2], "1 clients' weights but 2 client_sizes"),
    ([[np.zeros(2)], [np.zeros(2)]], [1, -1], "must be finite, ≥ 0 and not all 0"),
    ([[np.zeros(2)], [np.zeros(2)]], [0, 0], "must be finite, ≥ 0 and not all 0"),
    ([[np.zeros(2)], [np.zeros(3)]], [1, 1], "client 1 has tensor shapes"),
])
def test_fedavg_errors(weights, sizes, match):
    with pytest.raises(ValueError, match=match):
        fed.fedavg(weights, sizes)


def _toy(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.random((n, 28, 28, 1)).astype("float32") * 0.2
    for i, label in enumerate(y):
        x[i, 4 * label:4 * label + 4] = 1.0  # the class is written as a bright band: learnable in a few steps
    return x, y


def test_one_client_one_round_is_plain_sgd():
    x, y = _toy()
    a, b = mlp_classifier(hidden=8, seed=1), mlp_classifier(hidden=8, seed=1)
    fed.federated_training(a, [(x, y)], (x, y), rounds=1, local_epochs=2, lr=0.2, seed=5)
    train_sgd(b, x, y, epochs=2, lr=0.2, seed=5)  # client 0 of round 0 trains with the run's seed
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_federated_training_learns_and_reports_each_round():
    x, y = _toy()
    parts = fed.split_clients(y, 3, seed=0)
    result = fed.federated_training(mlp_classifier(hidden=8), [(x[p], y[p]) for p in parts], (x, y),
                                    rounds=4, lr=0.5)
    assert len(result.accuracy) == 5 and result.client_sizes == [40, 40, 40]
    assert result.accuracy[-1] > result.accuracy[0] + 0.3


def test_empty_clients_are_skipped():
    x, y = _toy(30)
    result = fed.federated_training(mlp_classifier(hidden=4), [(x, y), (x[:0], y[:0])], (x, y), rounds=1)
    assert result.client_sizes == [30, 0]


@pytest.mark.parametrize("clients, kwargs, match", [
    ([], {}, "clients is empty"),
    ([(np.zeros((0, 28, 28, 1)), np.zeros(0))], {}, "every client is empty"),
    ([(np.zeros((2, 28, 28, 1)), np.zeros(2))], {"rounds": 0}, "rounds=0 must be an integer >= 1"),
])
def test_federated_training_errors(clients, kwargs, match):
    x, y = _toy(10)
    with pytest.raises(ValueError, match=match):
        fed.federated_training(mlp_classifier(hidden=4), clients, (x, y), **kwargs)
