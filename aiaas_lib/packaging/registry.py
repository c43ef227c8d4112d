"""Used by notebooks 11, 13, 14 and 16; also imported by the CLI/service (``aiaas models``:
:mod:`aiaas_lib.packaging.registry_cli`).

A versioned model registry on disk: every model version with its metadata and checksums, plus labels.

Layout (the version folders are numbered like TF Serving's model base path)::

    root/
      churn/
        1/  model.keras  metadata.json  [saved_model/ model.tflite model.onnx]
        2/  ...
        labels.json          {"stable": 1, "canary": 2}
        label_history.json   {"stable": [1]}   (earlier versions, for rollback)

``metadata.json`` holds the model's signature and the keys the service needs to serve it, read from the model
at registration (:mod:`aiaas_lib.packaging.signature`; metadata the caller writes is checked against the model), what
the caller gave (input schema, metrics, data hash, …) plus ``name``,
``version``, ``created`` (UTC), library ``versions`` and ``files``: the sha256 of every file of the version.
:meth:`ModelRegistry.load` checks every one of them before it loads anything, and loads with Keras'
``safe_mode`` on, so a file changed after registration, or a model carrying Python code (a ``Lambda``
layer), is refused.

A version is written into a hidden temporary folder and renamed into place only when complete; version
numbers are allocated with ``os.mkdir``, which only one caller can win, so concurrent registrations never
share a number.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

from aiaas_lib.packaging import model_card
from aiaas_lib.validation import file_sha256

MODEL_FILE, METADATA_FILE = "model.keras", "metadata.json"
LABELS_FILE, HISTORY_FILE = "labels.json", "label_history.json"
NAME_RULE = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
LABEL_RULE = r"^[a-z][a-z0-9_-]{0,31}$"
#: Keys the registry writes into metadata.json itself; callers may not pass them.
RESERVED_KEYS = ("name", "version", "created", "versions", "files")


class RegistryError(RuntimeError):
    """Something is wrong with a registry request or its files."""


class ModelNotFound(RegistryError, LookupError):
    """No model of that name is registered."""


class VersionNotFound(RegistryError, LookupError):
    """The model exists, but not that version (or label)."""


class LabelNotFound(VersionNotFound):
    """The model exists, but no version carries that label."""


class IntegrityError(RegistryError, model_card.IntegrityError):
    """A registered file is missing or its sha256 differs from the one recorded at registration."""


class UnsafeModelError(RegistryError, ValueError):
    """Keras' safe_mode refused to load the model (it carries Python code, e.g. a Lambda layer)."""


def _check_name(name: str) -> str:
    """``name`` if it is an allowed model name, else ValueError naming it and the rule."""
    if not isinstance(name, str) or not re.fullmatch(NAME_RULE, name):
        raise ValueError(
            f"model name {name!r} is not allowed: use 1-64 characters of lowercase letters, digits, '_', '.' "
            f"or '-', starting with a letter or digit ({NAME_RULE})"
        )
    return name


def _check_label(label: str) -> str:
    """``label`` if it is an allowed label name, else ValueError naming it and the rule."""
    if not isinstance(label, str) or not re.fullmatch(LABEL_RULE, label) or label == "latest":
        raise ValueError(
            f"label {label!r} is not allowed: use 1-32 characters of lowercase letters, digits, '_' or '-', "
            f"starting with a letter ({LABEL_RULE}), and not 'latest' (it always means the newest version)"
        )
    return label


def _write_json(path: Path, value) -> None:
    """Write JSON atomically: a temporary file beside ``path``, then ``os.replace``."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _read_json(path: Path, default):
    """The JSON in ``path``, or ``default`` when the file does not exist."""
    return json.loads(path.read_text()) if path.is_file() else default


class ModelRegistry:
    """Versioned models under ``root``: register, load (verified), label, promote and roll back.

    Parameters
    ----------
    root : str or Path
        The registry folder (created on the first :meth:`register`).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from aiaas_lib.env import import_tensorflow; tf = import_tensorflow(); import keras
    >>> reg = ModelRegistry(tempfile.mkdtemp())
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> reg.register("demo", model, {"metrics": {"auc": 0.8}}), reg.register("demo", model)
    (1, 2)
    >>> reg.promote("demo", 1), reg.promote("demo", 2), reg.labels("demo")
    (1, 2, {'stable': 2})
    >>> reg.rollback("demo"), reg.resolve("demo", "stable"), reg.resolve("demo", "latest")
    (1, 1, 2)
    >>> x = np.ones((2, 3), "float32")
    >>> bool(np.allclose(reg.load("demo", "stable")(x), model(x)))
    True
    >>> reg.load("churn")
    Traceback (most recent call last):
    ...
    aiaas_lib.packaging.registry.ModelNotFound: model 'churn' is not in the registry at ...; known models: ['demo']
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ModelRegistry({str(self.root)!r})"

    # ------------------------------------------------------------------------------------------ reading
    def models(self) -> list[str]:
        """Names of the registered models (those with at least one complete version), sorted."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir()
            if p.is_dir() and re.fullmatch(NAME_RULE, p.name) and self._versions_in(p)
        )

    def _model_dir(self, name: str) -> Path:
        """The folder of a registered model, or ModelNotFound listing the known ones."""
        folder = self.root / _check_name(name)
        if not self._versions_in(folder):
            raise ModelNotFound(
                f"model {name!r} is not in the registry at {self.root}; known models: {self.models()}"
            )
        return folder

    @staticmethod
    def _versions_in(folder: Path) -> list[int]:
        """Complete versions in a model folder: numbered subfolders that hold a metadata.json."""
        if not folder.is_dir():
            return []
        return sorted(
            int(p.name) for p in folder.iterdir()
            if p.name.isdigit() and not p.name.startswith("0") and (p / METADATA_FILE).is_file()
        )

    def versions(self, name: str) -> list[int]:
        """The versions of model ``name``, oldest first.

        Examples
        --------
        >>> ModelRegistry("/nonexistent").versions("Churn")
        Traceback (most recent call last):
        ...
        ValueError: model name 'Churn' is not allowed: use 1-64 characters of lowercase letters, digits,
        '_', '.' or '-', starting with a letter or digit (^[a-z0-9][a-z0-9_.-]{0,63}$)
        """
        return self._versions_in(self._model_dir(name))

    def labels(self, name: str) -> dict[str, int]:
        """Labels of model ``name`` and the version each points to, e.g. ``{"stable": 1, "canary": 2}``."""
        return {k: int(v) for k, v in _read_json(self._model_dir(name) / LABELS_FILE, {}).items()}

    def list(self) -> list[dict]:
        """One dict per model: ``name``, ``versions``, ``latest``, ``labels``.

        Examples
        --------
        >>> ModelRegistry("/nonexistent").list()
        []
        """
        return [
            {"name": n, "versions": self.versions(n), "latest": self.versions(n)[-1], "labels": self.labels(n)}
            for n in self.models()
        ]

    def resolve(self, name: str, version_or_label: int | str = "latest") -> int:
        """The version number meant by an int, a digit string (``"2"``), ``"latest"`` or a label name.

        Raises
        ------
        ModelNotFound
            Unknown model.
        VersionNotFound
            No such version (the message lists the versions and labels).
        LabelNotFound
            No such label (a :class:`VersionNotFound`, so one except catches both).
        """
        versions = self.versions(name)
        ref = version_or_label
        if isinstance(ref, bool) or not isinstance(ref, (int, str)):
            raise ValueError(
                f"version={ref!r}; expected a version number, a digit string, 'latest' or a label name"
            )
        if isinstance(ref, str) and ref.isdigit():
            ref = int(ref)
        if isinstance(ref, int):
            if ref not in versions:
                raise VersionNotFound(
                    f"model {name!r} has no version {ref}; versions: {versions}, labels: {self.labels(name)}"
                )
            return ref
        if ref == "latest":
            return versions[-1]
        labels = self.labels(name)
        if ref not in labels:
            raise LabelNotFound(
                f"model {name!r} has no label {ref!r}; labels: {labels}, versions: {versions} (or 'latest')"
            )
        return labels[ref]

    def path(self, name: str, version: int | str = "latest") -> Path:
        """The folder of one version (``version`` as in :meth:`resolve`)."""
        return self.root / name / str(self.resolve(name, version))

    def metadata(self, name: str, version: int | str = "latest") -> dict:
        """The ``metadata.json`` of one version: the caller's metadata plus name, version, created,
        library versions and file hashes."""
        return json.loads((self.path(name, version) / METADATA_FILE).read_text())

    def verify(self, name: str, version: int | str = "latest") -> dict:
        """Check the sha256 of every file listed in a version's metadata; return the metadata.

        Raises
        ------
        IntegrityError
            Naming the first missing file, or the first file whose sha256 differs (both short hashes).
        """
        folder = self.path(name, version)
        meta = json.loads((folder / METADATA_FILE).read_text())
        if not meta.get("files"):
            raise IntegrityError(f"{folder / METADATA_FILE} lists no files; this version cannot be verified")
        for rel, expected in sorted(meta["files"].items()):
            path = folder / rel
            if not path.is_file():
                raise IntegrityError(
                    f"{path} is missing: model {name!r} version {meta['version']} lists it, "
                    "so it cannot be verified"
                )
            actual = file_sha256(path)
            if actual != expected:
                raise IntegrityError(
                    f"{path} was changed after registration: sha256 {actual[:12]}… but the registry recorded "
                    f"{expected[:12]}…; refusing to use model {name!r} version {meta['version']}"
                )
        return meta

    def load(self, name: str, version: int | str = "latest"):
        """Load one version as a Keras model, after :meth:`verify`, with Keras ``safe_mode=True``.

        Raises
        ------
        ModelNotFound, VersionNotFound, LabelNotFound
            Unknown model, version or label.
        IntegrityError
            A registered file is missing or changed.
        UnsafeModelError
            Keras' safe_mode refused the model (a ``Lambda`` layer holding Python code).
        """
        from aiaas_lib.env import import_tensorflow

        meta = self.verify(name, version)
        path = self.path(name, meta["version"]) / MODEL_FILE
        import_tensorflow()
        import keras

        try:
            return keras.saving.load_model(path, safe_mode=True)
        except ValueError as err:
            if "safe_mode" not in str(err):
                raise
            raise UnsafeModelError(
                f"model {name!r} version {meta['version']} was refused by Keras safe_mode: it holds Python code "
                f"(a Lambda layer), which could run anything when loaded. Rebuild it without Lambda layers "
                f"(use a registered custom layer class); do not turn safe_mode off for files you did not write. "
                f"Keras said: {err}"
            ) from err

    def load_export(self, name: str, version: int | str = "latest", export: str = "tflite"):
        """A runner for one of a version's exports, after :meth:`verify`:
        a :class:`~aiaas_lib.packaging.export.TFLiteRunner` (``"tflite"``, ``"tflite_dynamic"``), an
        :class:`~aiaas_lib.packaging.export.OnnxRunner` (``"onnx"``) or the SavedModel's serve function (``"saved_model"``)."""
        from aiaas_lib.packaging import export as ex

        if export not in ex.EXPORT_FILES:
            raise ValueError(f"export={export!r}; expected one of {list(ex.EXPORT_FILES)}")
        meta = self.verify(name, version)
        target = ex.EXPORT_FILES[export]
        have = sorted(
            k for k, f in ex.EXPORT_FILES.items() if any(r == f or r.startswith(f + "/") for r in meta["files"])
        )
        if export not in have:
            raise RegistryError(
                f"model {name!r} version {meta['version']} has no {export!r} export (it has {have}); "
                f"register it with exports=({export!r},)"
            )
        path = self.path(name, meta["version"]) / target
        if export == "saved_model":
            return ex.load_saved_model(path)
        return ex.OnnxRunner(path) if export == "onnx" else ex.TFLiteRunner(path)

    # ------------------------------------------------------------------------------------------ writing
    def register(self, name: str, model, metadata: Mapping | None = None, exports: Iterable[str] = (), *,
                 data=None, infer: bool = True) -> int:
        """Store ``model`` as the next version of ``name``; return the new version number (1, 2, …).

        The model's signature is read and stored, with the keys the service needs to serve it
        (:func:`aiaas_lib.packaging.signature.resolve_metadata`): ``register(name, model)`` with no metadata gives a
        version ``aiaas serve`` can load — a single-tensor model, or a tabular model with one input per column
        (string columns included). Serving keys you do pass (``kind``, ``numeric``, ``categorical``,
        ``input_schema``, ``input_shape``, ``dtype``, ``background``) are checked against the model first.

        Parameters
        ----------
        name : str
            Model name: lowercase letters, digits, ``_ . -``; starts with a letter or digit; ≤ 64 chars.
        model : keras.Model
            Saved as ``model.keras``.
        metadata : dict, optional
            JSON-serialisable facts about the model, e.g. ``input_schema``
            (:func:`aiaas_lib.packaging.schema.input_schema`), ``metrics``, ``data_sha256``
            (:func:`aiaas_lib.packaging.model_card.frame_hash`), ``kind``, ``description``.
            The registry adds ``name``, ``version``, ``created``, ``versions`` and ``files``.
        exports : iterable of str
            Extra formats to write beside the ``.keras`` file, from
            :data:`aiaas_lib.packaging.export.EXPORT_FILES`: ``"saved_model"``, ``"tflite"``, ``"tflite_dynamic"``,
            ``"onnx"``.
        data : DataFrame or array, optional
            Training rows (keyword only). For a tabular model they give the input ranges, the allowed
            categories, 50 ``background`` rows for ``:explain`` and ``data_sha256``.
        infer : bool
            ``False`` stores ``metadata`` as given without reading or checking the model's signature: for a
            model the service does not serve.

        Raises
        ------
        aiaas_lib.packaging.signature.SignatureError
            (a ValueError) Metadata that disagrees with the model — naming the key, the model's value and the
            fix — or a model whose inputs the service cannot serve (use ``infer=False`` to store it anyway).

        Examples
        --------
        >>> import tempfile
        >>> ModelRegistry(tempfile.mkdtemp()).register("demo", None, exports=("pickle",))
        Traceback (most recent call last):
        ...
        ValueError: exports=['pickle']; expected some of ['saved_model', 'tflite', 'tflite_dynamic', 'onnx']
        """
        from aiaas_lib.env import package_version
        from aiaas_lib.packaging.export import EXPORT_FILES, write_export

        _check_name(name)
        exports = list(dict.fromkeys([exports] if isinstance(exports, str) else exports))
        if any(e not in EXPORT_FILES for e in exports):
            raise ValueError(f"exports={exports!r}; expected some of {list(EXPORT_FILES)}")
        metadata = dict(metadata or {})
        reserved = sorted(set(metadata) & set(RESERVED_KEYS))
        if reserved:
            raise ValueError(f"metadata keys {reserved} are written by the registry itself; rename them")
        try:
            json.dumps(metadata)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"metadata must be JSON-serialisable (plain dicts, lists, str, numbers): {err}"
            ) from err
        if not hasattr(model, "save"):
            raise TypeError(f"model must be a Keras model, got {type(model).__name__}")
        if infer:
            from aiaas_lib.packaging.signature import resolve_metadata

            metadata = resolve_metadata(model, metadata, data)
            json.dumps(metadata)  # what the registry added is plain JSON too
        elif data is not None:
            raise ValueError("data= is read only when infer=True (it completes the serving metadata)")

        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        target = None
        try:
            model.save(tmp / MODEL_FILE)
            for export in exports:
                write_export(model, tmp, export)
            files = {
                p.relative_to(tmp).as_posix(): file_sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()
            }
            version = self._reserve_version(folder)
            target = folder / str(version)
            meta = {
                **metadata,
                "name": name,
                "version": version,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "versions": {k: package_version(k) for k in ("tensorflow", "keras", "aiaas-lib")},
                "files": files,
            }
            (tmp / METADATA_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
            try:
                os.replace(tmp, target)  # POSIX: atomically replaces the empty reserved folder
            except OSError:  # Windows cannot replace a folder: free the reservation, then rename
                target.rmdir()
                os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if target is not None and target.is_dir() and not any(target.iterdir()):
                target.rmdir()  # give back a reserved number that was never filled
            raise
        return version

    @staticmethod
    def _reserve_version(folder: Path) -> int:
        """Claim the next free version number by creating its (empty) folder; only one caller can win."""
        taken = [int(p.name) for p in folder.iterdir() if p.name.isdigit()]
        version = max(taken, default=0) + 1
        while True:
            try:
                (folder / str(version)).mkdir()
                return version
            except FileExistsError:
                version += 1

    def set_label(self, name: str, label: str, version: int | str) -> int:
        """Point ``label`` at ``version`` (as in :meth:`resolve`); return that version. No history is kept:
        use :meth:`promote` for changes you may want to :meth:`rollback`."""
        _check_label(label)
        version = self.resolve(name, version)
        labels = self.labels(name)
        labels[label] = version
        _write_json(self.root / name / LABELS_FILE, labels)
        return version

    def remove_label(self, name: str, label: str) -> None:
        """Remove ``label`` (and its rollback history) from model ``name``."""
        labels = self.labels(name)
        if label not in labels:
            raise LabelNotFound(f"model {name!r} has no label {label!r}; labels: {labels}")
        del labels[label]
        _write_json(self.root / name / LABELS_FILE, labels)
        history = _read_json(self.root / name / HISTORY_FILE, {})
        history.pop(label, None)
        _write_json(self.root / name / HISTORY_FILE, history)

    def promote(self, name: str, version: int | str, label: str = "stable") -> int:
        """Point ``label`` at ``version``, remembering the version it pointed to before so that
        :meth:`rollback` can return to it; return the version now labelled."""
        _check_label(label)
        version = self.resolve(name, version)
        previous = self.labels(name).get(label)
        if previous is not None and previous != version:
            history = _read_json(self.root / name / HISTORY_FILE, {})
            history.setdefault(label, []).append(previous)
            _write_json(self.root / name / HISTORY_FILE, history)
        return self.set_label(name, label, version)

    def rollback(self, name: str, label: str = "stable") -> int:
        """Point ``label`` back at the version it had before the last :meth:`promote`; return that version.

        Rolling back ``stable`` also removes the ``canary`` label when it points at the version being rolled
        back from: that version was judged bad, so no service should keep sending it a canary share (nor
        shadow traffic) after its next reload.

        Raises
        ------
        LabelNotFound
            The model has no such label.
        RegistryError
            The label has no earlier version to return to.
        """
        _check_label(label)
        labels = self.labels(name)
        if label not in labels:
            raise LabelNotFound(f"model {name!r} has no label {label!r} to roll back; labels: {labels}")
        history = _read_json(self.root / name / HISTORY_FILE, {})
        if not history.get(label):
            raise RegistryError(
                f"cannot roll back label {label!r} of model {name!r}: it has no earlier version "
                f"(it points to version {labels[label]} and was never promoted over another)"
            )
        previous = history[label].pop()
        _write_json(self.root / name / HISTORY_FILE, history)
        bad = labels[label]
        version = self.set_label(name, label, previous)
        if label == "stable" and self.labels(name).get("canary") == bad and bad != previous:
            self.remove_label(name, "canary")
        return version
