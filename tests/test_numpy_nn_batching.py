import numpy as np
import pytest

from aiaas_lib.numpy_nn import minibatches


def test_minibatches_cover_every_index_once():
    batches = list(minibatches(103, 10, seed=1))
    assert [len(b) for b in batches] == [10] * 10 + [3]
    assert sorted(np.concatenate(batches).tolist()) == list(range(103))


def test_minibatches_same_seed_same_order_other_seed_other_order():
    a = np.concatenate(list(minibatches(50, 8, seed=0)))
    np.testing.assert_array_equal(a, np.concatenate(list(minibatches(50, 8, seed=0))))
    assert not np.array_equal(a, np.concatenate(list(minibatches(50, 8, seed=1))))


@pytest.mark.parametrize("n, batch_size, match", [(0, 4, "n=0"), (10, 0, "batch_size=0"), (10, 2.5, "batch_size=2.5")])
def test_minibatches_reject_bad_sizes(n, batch_size, match):
    with pytest.raises(ValueError, match=match):
        list(minibatches(n, batch_size))
