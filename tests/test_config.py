import sys

import numpy as np
import pytest

from aiaas_lib import config


def test_mode_defaults_to_full(monkeypatch):
    monkeypatch.delenv("AIAAS_MODE", raising=False)
    assert config.mode() == "full"


@pytest.mark.parametrize("value, expected", [("fast", "fast"), ("FULL", "full"), (" fast ", "fast"), ("", "full")])
def test_mode_reads_environment(monkeypatch, value, expected):
    monkeypatch.setenv("AIAAS_MODE", value)
    assert config.mode() == expected


def test_mode_rejects_unknown_value_naming_it(monkeypatch):
    monkeypatch.setenv("AIAAS_MODE", "quick")
    with pytest.raises(ValueError, match=r"AIAAS_MODE='quick'.*\['fast', 'full'\]"):
        config.mode()


def test_scale_picks_value_for_mode(monkeypatch):
    monkeypatch.setenv("AIAAS_MODE", "fast")
    assert config.scale(fast=2, full=20) == 2
    monkeypatch.setenv("AIAAS_MODE", "full")
    assert config.scale(fast=2, full=20) == 20


def test_scale_propagates_bad_mode(monkeypatch):
    monkeypatch.setenv("AIAAS_MODE", "turbo")
    with pytest.raises(ValueError, match="turbo"):
        config.scale(fast=1, full=2)


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("0", False), ("", False), ("no", False)])
def test_offline_reads_environment(monkeypatch, value, expected):
    monkeypatch.setenv("AIAAS_OFFLINE", value)
    assert config.offline() is expected


def test_offline_rejects_unknown_word(monkeypatch):
    monkeypatch.setenv("AIAAS_OFFLINE", "maybe")
    with pytest.raises(ValueError, match="AIAAS_OFFLINE='maybe'"):
        config.offline()


def test_require_online_refuses_when_offline(monkeypatch):
    monkeypatch.setenv("AIAAS_OFFLINE", "1")
    with pytest.raises(config.OfflineError, match="Downloading X needs the network.*AIAAS_OFFLINE=1"):
        config.require_online("Downloading X")


def test_require_online_allows_when_online(monkeypatch):
    monkeypatch.setenv("AIAAS_OFFLINE", "0")
    assert config.require_online("Downloading X") is None


def test_set_seed_makes_numpy_repeatable():
    config.set_seed(3)
    a = np.random.rand(3)
    config.set_seed(3)
    np.testing.assert_array_equal(a, np.random.rand(3))


def test_set_seed_seeds_keras_when_imported():
    import keras

    config.set_seed(5)
    a = keras.random.uniform((3,)).numpy()
    config.set_seed(5)
    np.testing.assert_array_equal(a, keras.random.uniform((3,)).numpy())
    assert "keras" in sys.modules


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_set_seed_rejects_bad_seed(seed):
    with pytest.raises(ValueError, match="seed="):
        config.set_seed(seed)


def test_paths_point_into_project():
    assert (config.PROJECT_ROOT / "pyproject.toml").is_file()
    assert (config.data_dir() / "manifest.json").is_file()
    assert config.notebooks_dir().name == "notebooks"
