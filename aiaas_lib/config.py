"""Used by every notebook (00–17); also imported by the CLI/service.

Course-wide settings: fast/full mode, the offline switch, seeds and project paths.

Notebooks never read environment variables themselves: they ask this module.

- ``AIAAS_MODE``: ``fast`` (CI, ``make test``: small data, few epochs) or ``full`` (the real results;
  the default).
- ``AIAAS_OFFLINE``: ``1`` forbids every online path (CI sets it); ``0`` or unset allows the optional
  online paths that exist for Colab.
- ``AIAAS_DATA_DIR``: where the shipped datasets live (default: ``data/`` beside the package).

Importing this module sets ``TF_CPP_MIN_LOG_LEVEL=3`` (unless already set) so that TensorFlow, imported
later, keeps its C++ log lines to itself.
"""
from __future__ import annotations

import os
import random
from pathlib import Path
from typing import TypeVar

from aiaas_lib.validation import integer

# 3: only FATAL. oneDNN reports harmless fall-backs at ERROR level (e.g. "supports DT_BOOL only on platforms
# with AVX-512" when a GRU uses a mask); real failures still surface as Python exceptions.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODES = ("fast", "full")
DEFAULT_MODE = "full"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

T = TypeVar("T")


class OfflineError(RuntimeError):
    """Raised when code asks for the network while ``AIAAS_OFFLINE=1``."""


def mode() -> str:
    """Return the course mode, ``"fast"`` or ``"full"``, read from ``AIAAS_MODE``.

    Raises
    ------
    ValueError
        If ``AIAAS_MODE`` holds anything else.

    Examples
    --------
    >>> mode() in ("fast", "full")
    True
    """
    value = os.environ.get("AIAAS_MODE", DEFAULT_MODE).strip().lower() or DEFAULT_MODE
    if value not in MODES:
        raise ValueError(f"AIAAS_MODE={value!r} is not a course mode; expected one of {list(MODES)}")
    return value


def scale(fast: T, full: T) -> T:
    """Pick the value for the current mode: ``fast`` in fast mode, ``full`` in full mode.

    Examples
    --------
    >>> num_epochs = scale(fast=2, full=20)
    >>> num_epochs == (2 if mode() == "fast" else 20)
    True
    """
    return fast if mode() == "fast" else full


def offline() -> bool:
    """Return True when ``AIAAS_OFFLINE`` forbids network access (``1/true/yes/on``).

    Raises
    ------
    ValueError
        If ``AIAAS_OFFLINE`` is neither a true nor a false word.

    Examples
    --------
    >>> isinstance(offline(), bool)
    True
    """
    value = os.environ.get("AIAAS_OFFLINE", "0").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"AIAAS_OFFLINE={value!r} is not understood; expected one of {sorted(_TRUE | _FALSE - {''})}"
    )


def require_online(what: str) -> None:
    """Raise :class:`OfflineError` naming ``what`` when offline mode forbids the network.

    Examples
    --------
    >>> try:
    ...     require_online("downloading Fashion-MNIST")
    ...     outcome = "allowed"
    ... except OfflineError:
    ...     outcome = "refused"
    >>> outcome == ("refused" if offline() else "allowed")
    True
    """
    if offline():
        raise OfflineError(
            f"{what} needs the network, but AIAAS_OFFLINE=1 forbids it. "
            "Use the offline source (see data/README.md) or unset AIAAS_OFFLINE."
        )


def set_seed(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy and (when TensorFlow is already imported) Keras/TensorFlow.

    Keras is seeded only if it is already imported, so calling this never imports TensorFlow.

    Examples
    --------
    >>> import numpy as np
    >>> set_seed(7); a = np.random.rand()
    >>> set_seed(7); a == np.random.rand()
    True
    """
    import sys

    import numpy as np

    seed = integer("seed", seed, 0)
    random.seed(seed)
    np.random.seed(seed)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)
    elif "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)


# ---------------------------------------------------------------------------------------------- paths
PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


def data_dir() -> Path:
    """The folder of shipped datasets: ``AIAAS_DATA_DIR`` or ``data/`` in the project."""
    return Path(os.environ.get("AIAAS_DATA_DIR", PROJECT_ROOT / "data"))


def build_dir() -> Path:
    """Where generated files go (executed notebooks, trained models); git-ignored."""
    return PROJECT_ROOT / "build"


def notebooks_dir() -> Path:
    """The course notebooks."""
    return PROJECT_ROOT / "notebooks"
