"""Exercise checks of notebook 00 (setup)."""
import numpy as np
import pytest

from aiaas_lib import data
from aiaas_lib.exercises import nb00_setup as ex
from _feedback import run_check as _run


def test_churn_rate_right(capsys):
    assert _run(capsys, ex.check_churn_rate, 1869 / 7043)[0]


@pytest.mark.parametrize("answer, hint", [(26.54, "percentage"), (5174 / 7043, "stayed"), (0.5, "not it"),
                                          ("abc", "could not check")])
def test_churn_rate_wrong_gives_hint(capsys, answer, hint):
    ok, out = _run(capsys, ex.check_churn_rate, answer)
    assert not ok and hint in out


def _churn_split(stratify: bool):
    df = data.load_churn()
    return data.split(df, val_size=0.2, test_size=0.2, seed=0, stratify=df["churn"] if stratify else None)


def test_split_right(capsys):
    train, val, test = _churn_split(True)
    ok, out = _run(capsys, ex.check_split, train, val, test, labels="churn")
    assert ok and "churn rate in each" in out


def test_split_leak_detected(capsys):
    import pandas as pd

    train, val, test = _churn_split(True)
    leaky_test = pd.concat([test.iloc[:-3], train.iloc[:3]])
    ok, out = _run(capsys, ex.check_split, train, val, leaky_test, labels="churn")
    assert not ok and "leaks" in out


def test_split_wrong_sizes(capsys):
    df = data.load_churn()
    train, val, test = data.split(df, val_size=0.1, test_size=0.3, seed=0)
    ok, out = _run(capsys, ex.check_split, train, val, test)
    assert not ok and "val has" in out


def test_split_unstratified_hint(capsys):
    df = data.load_churn().sort_values("churn")
    train, val, test = df.iloc[:4225], df.iloc[4225:5634], df.iloc[5634:]
    ok, out = _run(capsys, ex.check_split, train, val, test, labels="churn")
    assert not ok and "stratify" in out


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_split_plain_random_fails(capsys, seed):  # the reviewer's wrong answer: data.split without stratify
    train, val, test = data.split(data.load_churn(), val_size=0.2, test_size=0.2, seed=seed)
    ok, out = _run(capsys, ex.check_split, train, val, test, labels="churn")
    assert not ok and "stratify" in out


@pytest.mark.parametrize("seed", range(10))
def test_split_stratified_passes_every_seed(capsys, seed):
    df = data.load_churn()
    train, val, test = data.split(df, val_size=0.2, test_size=0.2, seed=seed, stratify=df["churn"])
    assert _run(capsys, ex.check_split, train, val, test, labels="churn")[0]


def _stratified(labels, test_size, seed):
    rng, train, test = np.random.default_rng(seed), [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = round(test_size * len(idx))
        test.append(idx[:k])
        train.append(idx[k:])
    return np.concatenate(train), np.concatenate(test)


def _random_split(labels, test_size, seed):  # the typical mistake: shuffled but not stratified
    order = np.random.default_rng(seed).permutation(len(labels))
    k = round(test_size * len(labels))
    return order[k:], order[:k]


def _unshuffled(labels, test_size, seed):  # stratified, but each class's first rows go to test
    train, test = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = round(test_size * len(idx))
        test.append(idx[:k])
        train.append(idx[k:])
    return np.concatenate(train), np.concatenate(test)


def _global_rng(labels, test_size, seed):  # ignores the seed, draws from global state
    return _stratified(labels, test_size, np.random.randint(1 << 30))


def test_stratified_split_right(capsys):
    assert _run(capsys, ex.check_stratified_split, _stratified)[0]


@pytest.mark.parametrize("func, hint", [
    (_random_split, "split each class separately"),
    (_unshuffled, "shuffle each class"),
    (lambda y, t, s: _stratified(y, t, s)[::-1], "swapped"),
    (lambda y, t, s: (np.arange(len(y)), _stratified(y, t, s)[1]), "both train and test"),
    (lambda y, t, s: (_stratified(y, t, s)[0][1:], _stratified(y, t, s)[1]), "exactly once"),
    (lambda y, t, s: tuple(np.isin(np.arange(len(y)), p) for p in _stratified(y, t, s)), "boolean masks"),
    (lambda y, t, s: _stratified(y, t, 0), "ignores its seed"),
    (_global_rng, "same seed gave a different split"),
    (lambda y, t, s: _stratified(y, t, s)[0], "two index arrays"),
    (lambda y, t, s: None, "returns None"),
    (lambda y, t, s: 1 / 0, "could not check"),
])
def test_stratified_split_wrong_gives_hint(capsys, func, hint):
    ok, out = _run(capsys, ex.check_stratified_split, func)
    assert not ok and hint in out
