"""Magnitude pruning (aiaas_lib.compression.prune): exact sparsity, deterministic masks, kept through fit."""
import numpy as np
import pytest

from aiaas_lib.compression import (
    PolynomialSchedule, layer_sparsity, magnitude_mask, n_pruned, prunable_layers, prune, prune_during_fit,
    sparsity,
)
from aiaas_lib.env import import_tensorflow


def _model(seed=0):
    import_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((6, 6, 1)), keras.layers.Conv2D(4, 3, name="conv"), keras.layers.BatchNormalization(name="bn"),
        keras.layers.Flatten(), keras.layers.Dense(7, activation="relu", name="hidden"), keras.layers.Dense(3, name="out"),
    ])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _data(n=96):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 6, 6, 1)).astype("float32"), rng.integers(0, 3, size=n)


@pytest.mark.parametrize("n, s, k", [(10, 0.7, 7), (7, 0.5, 3), (3, 0.0, 0), (1000, 0.9, 900), (9, 0.99, 8)])
def test_n_pruned_is_floor_of_sparsity_times_n(n, s, k):
    assert n_pruned(n, s) == k


def test_mask_zeroes_the_smallest_magnitudes():
    w = np.array([[0.9, -0.05], [0.3, -0.7], [0.01, 0.2]])
    assert magnitude_mask(w, 0.5).tolist() == [[True, False], [True, True], [False, False]]


def test_ties_are_broken_by_lower_flat_index_first():
    assert magnitude_mask([0.2, 0.1, -0.1, 0.1, 0.5], 0.4).tolist() == [True, False, False, True, True]


@pytest.mark.parametrize("s", [0.0, 0.5, 0.8, 0.9, 0.95])
def test_prune_reaches_exactly_the_requested_sparsity_per_layer(s):
    model = _model()
    masks = prune(model, s)
    for layer in prunable_layers(model):
        n = int(np.prod(layer.kernel.shape))
        assert int(np.sum(np.asarray(layer.kernel) == 0)) == n_pruned(n, s)  # random init: no zeros before
        assert int((~masks[layer.name]).sum()) == n_pruned(n, s)


def test_only_kernels_are_pruned():
    model = _model()
    before = {v.path: np.asarray(v).copy() for v in model.weights}
    prune(model, 0.9)
    assert [layer.name for layer in prunable_layers(model)] == ["conv", "hidden", "out"]
    for v in model.weights:
        if not v.path.endswith("kernel"):
            np.testing.assert_array_equal(np.asarray(v), before[v.path])


def test_sparsity_counts_all_kernels_weighted_by_size():
    model = _model()
    prune(model, 0.5)
    sizes = [int(np.prod(layer.kernel.shape)) for layer in prunable_layers(model)]
    assert sparsity(model) == pytest.approx(sum(n_pruned(n, 0.5) for n in sizes) / sum(sizes), abs=1e-12)
    assert set(layer_sparsity(model)) == {"conv", "hidden", "out"}


@pytest.mark.parametrize("schedule", ["oneshot", "polynomial"])
def test_sparsity_is_kept_through_fine_tuning(schedule):
    model = _model()
    x, y = _data()
    callback = prune_during_fit(model, x, y, 0.8, epochs=2, batch_size=16, schedule=schedule)
    for layer in prunable_layers(model):
        n = int(np.prod(layer.kernel.shape))
        assert int(np.sum(np.asarray(layer.kernel) == 0)) == n_pruned(n, 0.8)
        # the zeros are exactly where the final mask says: the optimizer did not revive them
        assert np.all(np.asarray(layer.kernel)[~callback.masks_[layer.name]] == 0)
    assert callback.history_[-1][1] == 0.8


def test_fine_tuning_changes_the_kept_weights():
    model = _model()
    x, y = _data()
    prune(model, 0.5)
    before = np.asarray(model.get_layer("hidden").kernel).copy()
    prune_during_fit(model, x, y, 0.5, epochs=1, batch_size=16, schedule="oneshot")
    after = np.asarray(model.get_layer("hidden").kernel)
    assert not np.allclose(before[before != 0], after[before != 0])


def test_polynomial_schedule_rises_cubically_to_final():
    s = PolynomialSchedule(final=0.9, begin=10, end=20, initial=0.1, frequency=5)
    assert s(0) == 0.0 and s(10) == pytest.approx(0.1) and s(20) == 0.9 and s(99) == 0.9
    assert s(15) == pytest.approx(0.9 + (0.1 - 0.9) * 0.5 ** 3)
    assert [t for t in range(25) if s.updates_at(t)] == [10, 15, 20]


def test_one_shot_schedule_is_begin_equals_end():
    s = PolynomialSchedule(final=0.5)
    assert s(0) == 0.5 and [t for t in range(5) if s.updates_at(t)] == [0]


@pytest.mark.parametrize("s", [-0.1, 1.0, 1.5, "half", None])
def test_sparsity_outside_zero_one_is_refused(s):
    with pytest.raises(ValueError, match=r"sparsity=.* must be"):
        magnitude_mask([1.0, 2.0], s)


@pytest.mark.parametrize("kwargs, match", [
    ({"final": 0.5, "initial": 0.8}, "initial=0.8 is larger"),
    ({"final": 0.5, "begin": 5, "end": 2}, "begin <= end"),
    ({"final": 0.5, "power": 0}, "power=0"),
    ({"final": 0.5, "frequency": 0}, "frequency=0"),
    ({"final": 1.0}, "sparsity=1.0"),
])
def test_bad_schedules_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PolynomialSchedule(**kwargs)


def test_prune_during_fit_refusals():
    x, y = _data(8)
    with pytest.raises(ValueError, match="schedule='cubic'"):
        prune_during_fit(_model(), x, y, 0.5, schedule="cubic")
    with pytest.raises(ValueError, match="epochs=0"):
        prune_during_fit(_model(), x, y, 0.5, epochs=0)
    import keras

    with pytest.raises(ValueError, match="compile the model first"):
        prune_during_fit(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), x, y, 0.5)


def test_model_without_prunable_layers_is_refused():
    import_tensorflow()
    import keras

    with pytest.raises(ValueError, match="no prunable layers"):
        prune(keras.Sequential([keras.Input((2,)), keras.layers.ReLU()]), 0.5)
