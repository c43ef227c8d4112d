"""Exercise checks of notebook 00 (setup)."""
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
    assert ok and "same churn rate" in out


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
