"""Used by every notebook (00–17); also imported by the CLI/service.

Environment check: versions, device (GPU or CPU), Colab or local, mode, and a fix hint per problem.

The first code cell of every notebook calls :func:`check`. :func:`import_tensorflow` imports TensorFlow
without the C++ lines it writes straight to the process's stderr at import time (``TF_CPP_MIN_LOG_LEVEL``
no longer silences them in TF 2.19+), so notebooks stay free of log noise.
"""
from __future__ import annotations

import os
import platform
import shutil
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from typing import Iterator

from aiaas_lib import __version__, config

#: Packages whose versions :func:`check` reports, in this order.
REPORTED = ("tensorflow", "keras", "numpy", "pandas", "scikit-learn", "shap", "lime")


@dataclass
class GPU:
    """One GPU as TensorFlow sees it."""

    name: str
    compute_capability: tuple[int, int] | None = None

    @property
    def supports_mixed_precision(self) -> bool:
        """float16 tensor cores exist from compute capability 7.0 (Volta) on."""
        return self.compute_capability is not None and self.compute_capability >= (7, 0)


@dataclass
class EnvReport:
    """What :func:`check` found. ``problems`` holds one fix hint per problem."""

    python: str
    versions: dict[str, str | None]
    gpus: list[GPU]
    cpu_count: int
    colab: bool
    mode: str
    offline: bool
    nvidia_driver: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def device(self) -> str:
        """``"GPU"`` when TensorFlow sees a GPU, else ``"CPU"``."""
        return "GPU" if self.gpus else "CPU"

    def summary(self) -> str:
        """The environment in a few short lines, as printed by :func:`check`."""
        vers = " | ".join(f"{k} {v or 'missing'}" for k, v in self.versions.items())
        if self.gpus:
            dev = ", ".join(
                f"{g.name} (compute {'.'.join(map(str, g.compute_capability or ())) or '?'})" for g in self.gpus
            )
            dev = f"GPU: {dev}"
        else:
            dev = f"CPU only ({self.cpu_count} cores): numbers in this notebook come from a CPU"
        where = "Colab" if self.colab else "local"
        lines = [
            f"aiaas_lib {__version__} | mode {self.mode} | offline {'yes' if self.offline else 'no'} | "
            f"{where} | Python {self.python}",
            vers,
            f"device: {dev}",
        ]
        lines += [f"fix: {p}" for p in self.problems]
        return "\n".join(lines)


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def cpu_model() -> str:
    """The CPU's model name, for naming the device of a timing (``/proc/cpuinfo`` on Linux).

    Elsewhere, or when the file names no model, what :mod:`platform` knows (often just ``x86_64``).

    Examples
    --------
    >>> isinstance(cpu_model(), str) and cpu_model() != ""
    True
    """
    info = "/proc/cpuinfo"
    if os.path.isfile(info):
        with open(info) as lines:
            for line in lines:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def package_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None (never imports it)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@contextmanager
def _stderr_fd_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the duration (C++ logging bypasses sys.stderr)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def import_tensorflow():
    """Import TensorFlow (and initialise its devices) without its import-time C++ log lines.

    Returns the ``tensorflow`` module. Errors are still raised as Python exceptions.

    Examples
    --------
    >>> tf = import_tensorflow()
    >>> tf.__name__
    'tensorflow'
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with _stderr_fd_silenced():
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
        tf.config.list_physical_devices()  # first device initialisation logs too (cuInit on GPU-less hosts)
    return tf


def gpus() -> list[GPU]:
    """The GPUs TensorFlow can use (empty on a CPU-only machine)."""
    tf = import_tensorflow()
    found = []
    for dev in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(dev)
        found.append(GPU(details.get("device_name", dev.name), details.get("compute_capability")))
    return found


def hints(report: EnvReport) -> list[str]:
    """One fix hint per problem in ``report`` (pure: no look at the machine)."""
    out = []
    py = tuple(int(p) for p in report.python.split(".")[:2])
    if py < (3, 11):
        out.append(f"Python {report.python} is too old: the course needs Python 3.11 (make creates .venv with it).")
    tf_v, keras_v = report.versions.get("tensorflow"), report.versions.get("keras")
    if tf_v is None:
        out.append("TensorFlow is not installed: run `make venv` (or `pip install -r requirements.txt`).")
    if keras_v is None:
        out.append("Keras is not installed: `pip install keras==3.15.1`.")
    elif int(keras_v.split(".")[0]) < 3:
        out.append(
            f"Keras {keras_v} is Keras 2; the course needs Keras 3: `pip install -U 'keras>=3.3'` "
            "(and unset TF_USE_LEGACY_KERAS)."
        )
    for name in ("shap", "lime"):
        if report.versions.get(name) is None:
            out.append(f"{name} is not installed (needed from notebook 09 on): `pip install -r requirements.txt`.")
    if report.colab and not report.gpus:
        out.append(
            "Colab is running on a CPU runtime: Runtime > Change runtime type > T4 GPU, then run the notebook again."
        )
    if not report.colab and report.nvidia_driver and not report.gpus:
        out.append(
            "An NVIDIA driver is present but TensorFlow sees no GPU: `pip install 'tensorflow[and-cuda]==2.21.0'`."
        )
    return out


def check(verbose: bool = True) -> EnvReport:
    """Look at this environment, print a short summary with fix hints, and return it.

    Parameters
    ----------
    verbose : bool
        Print the summary (the default) or only return the report.

    Examples
    --------
    >>> report = check(verbose=False)
    >>> report.device in ("CPU", "GPU")
    True
    """
    report = EnvReport(
        python=platform.python_version(),
        versions={name: package_version(name) for name in REPORTED},
        gpus=gpus() if package_version("tensorflow") else [],
        cpu_count=os.cpu_count() or 1,
        colab=in_colab(),
        mode=config.mode(),
        offline=config.offline(),
        nvidia_driver=shutil.which("nvidia-smi") is not None,
    )
    report.problems = hints(report)
    if verbose:
        print(report.summary())
    return report
