"""Serves the CLI only (``aiaas models ...``), for people who manage a registry without writing Python;
notebooks use :class:`aiaas_lib.packaging.registry.ModelRegistry` directly.

The ``aiaas models`` command: list, show, register, promote, roll back and label model versions.

    aiaas models list [--registry DIR] [--json]
    aiaas models show NAME [VERSION|LABEL] [--json]            metadata of one version (default: latest)
    aiaas models register NAME FILE.keras [--data ROWS.csv] [--metadata META.json] [--label stable]
                                          [--export saved_model ...] [--no-infer]
    aiaas models promote NAME VERSION [--label stable]        move a label, remembering where it was
    aiaas models rollback NAME [--label stable]               back to the version before the last promote
    aiaas models label NAME LABEL VERSION | --remove          set (or remove) a label without history

``--registry`` defaults to ``$AIAAS_REGISTRY`` or ``models`` (the folder ``aiaas serve`` reads). A
``.keras`` file is loaded with Keras' ``safe_mode`` on (a ``Lambda`` layer is refused) and registered with
its signature read from the model (:mod:`aiaas_lib.packaging.signature`), so the service can serve it without
hand-written metadata; ``--data`` (training rows, CSV) adds input ranges and background rows for
explanations. Rolling back ``stable`` also removes a ``canary`` label that points at the version rolled back
from (:meth:`~aiaas_lib.packaging.registry.ModelRegistry.rollback`). A running service picks label changes up on
``POST /v1/models/{name}:reload``.

Exit status: 0 done; 1 refused (unknown model, version or label, nothing to roll back, metadata that
disagrees with the model, a file that cannot be read), with one ``error:`` line on stderr saying why and
what to do; 2 bad command line (argparse).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

#: Metadata keys too long for ``show`` without ``--json``.
_BULKY = ("background", "files", "signature", "input_schema")


def _registry(args):
    from aiaas_lib.packaging.registry import ModelRegistry

    return ModelRegistry(args.registry or os.environ.get("AIAAS_REGISTRY") or "models")


def _version_ref(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _list(args) -> int:
    reg = _registry(args)
    rows = reg.list()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no models in {reg.root}; add one with: aiaas models register NAME FILE.keras --registry {reg.root}")
        return 0
    print(f"{'name':<20} {'versions':<16} {'latest':>6}  labels")
    for r in rows:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(r["labels"].items())) or "-"
        versions = ",".join(map(str, r["versions"]))
        print(f"{r['name']:<20} {versions:<16} {r['latest']:>6}  {labels}")
    return 0


def _show(args) -> int:
    reg = _registry(args)
    meta = reg.metadata(args.name, _version_ref(args.version))
    if args.json:
        print(json.dumps(meta, indent=2, sort_keys=True))
        return 0
    labels = sorted(k for k, v in reg.labels(args.name).items() if v == meta["version"])
    print(f"{meta['name']} version {meta['version']}  labels {labels or '-'}  created {meta['created']}")
    for key in sorted(k for k in meta if k not in (*_BULKY, "name", "version", "created")):
        print(f"  {key}: {json.dumps(meta[key])}")
    for i in meta.get("signature", {}).get("inputs", []):
        print(f"  input  {i['name']}: {i['dtype']} {i['shape']}")
    for o in meta.get("signature", {}).get("outputs", []):
        print(f"  output {o['name']}: {o['dtype']} {o['shape']}")
    if meta.get("background"):
        print(f"  background: {len(meta['background'])} rows (for :explain)")
    print(f"  files: {', '.join(sorted(meta.get('files', {})))}")
    return 0


def _load_keras(path: Path):
    from aiaas_lib.env import import_tensorflow

    if not path.is_file():
        raise ValueError(f"{path} does not exist; give the path of a model saved with model.save('model.keras')")
    if path.suffix != ".keras":
        raise ValueError(f"{path} is not a .keras file; save the model with model.save('model.keras') (Keras 3 format)")
    import_tensorflow()
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=True)
    except ValueError as err:
        if "safe_mode" in str(err):
            raise ValueError(f"{path} holds Python code (a Lambda layer) and was refused by Keras safe_mode; rebuild "
                             "the model without Lambda layers") from None
        raise ValueError(f"{path} could not be loaded as a Keras model: {err}") from None


def _register(args) -> int:
    reg = _registry(args)
    metadata = None
    if args.metadata:
        try:
            metadata = json.loads(Path(args.metadata).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"--metadata {args.metadata}: cannot read a JSON object from it ({err})") from None
        if not isinstance(metadata, dict):
            raise ValueError(f"--metadata {args.metadata} holds a JSON {type(metadata).__name__}; expected an object")
    data = None
    if args.data:
        import pandas as pd

        try:
            data = pd.read_csv(args.data)
        except (OSError, ValueError) as err:
            raise ValueError(f"--data {args.data}: cannot read CSV rows from it ({err})") from None
    model = _load_keras(Path(args.file))
    version = reg.register(args.name, model, metadata, exports=args.export or (), data=data,
                           infer=not args.no_infer)
    meta = reg.metadata(args.name, version)
    print(f"registered {args.name} version {version} (kind {meta.get('kind', 'not served')}) in {reg.root}")
    if args.label:
        reg.promote(args.name, version, args.label)
        print(f"{args.label} -> version {version}; labels {reg.labels(args.name)}")
    return 0


def _promote(args) -> int:
    reg = _registry(args)
    before = reg.labels(args.name).get(args.label)
    version = reg.promote(args.name, _version_ref(args.version), args.label)
    print(f"{args.name}: {args.label} {before if before is not None else '(none)'} -> {version}; "
          f"labels {reg.labels(args.name)}")
    return 0


def _rollback(args) -> int:
    reg = _registry(args)
    before = reg.labels(args.name)
    version = reg.rollback(args.name, args.label)
    after = reg.labels(args.name)
    removed = sorted(set(before) - set(after))
    print(f"{args.name}: {args.label} {before.get(args.label)} -> {version}"
          + (f"; removed {removed} (they pointed at version {before.get(args.label)})" if removed else "")
          + f"; labels {after}")
    return 0


def _label(args) -> int:
    reg = _registry(args)
    if args.remove:
        if args.version is not None:
            raise ValueError("give either a VERSION or --remove, not both")
        reg.remove_label(args.name, args.label)
        print(f"{args.name}: removed label {args.label!r}; labels {reg.labels(args.name)}")
        return 0
    if args.version is None:
        raise ValueError(f"give the VERSION for label {args.label!r} (a number, 'latest' or another label), "
                         "or --remove")
    version = reg.set_label(args.name, args.label, _version_ref(args.version))
    print(f"{args.name}: {args.label} -> {version}; labels {reg.labels(args.name)}")
    return 0


def run(args) -> int:
    """Run one ``aiaas models`` subcommand; registry and input errors become one ``error:`` line and exit 1."""
    from aiaas_lib.packaging.registry import RegistryError

    try:
        return args.models_func(args)
    except (RegistryError, LookupError, ValueError, TypeError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``models`` and its subcommands to the ``aiaas`` parser's ``subparsers``; return its parser."""
    from aiaas_lib.packaging.export import EXPORT_FILES

    models = subparsers.add_parser("models", help="list, register, promote, roll back and label registry versions",
                                   description="\n\n".join(__doc__.split("\n\n")[1:3]),
                                   formatter_class=argparse.RawTextHelpFormatter)
    models.set_defaults(func=run)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--registry", default=None, help="registry folder (default: $AIAAS_REGISTRY or models)")
    sub = models.add_subparsers(dest="models_command", required=True,
                                metavar="{list,show,register,promote,rollback,label}")

    p = sub.add_parser("list", parents=[common], help="every model with its versions and labels")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(models_func=_list)

    p = sub.add_parser("show", parents=[common], help="the metadata of one version")
    p.add_argument("name")
    p.add_argument("version", nargs="?", default="latest", help="version number, label or 'latest' (default)")
    p.add_argument("--json", action="store_true", help="print the whole metadata.json")
    p.set_defaults(models_func=_show)

    p = sub.add_parser("register", parents=[common], help="register a .keras file as the next version")
    p.add_argument("name", help="model name: lowercase letters, digits, _ . -")
    p.add_argument("file", help="the model, saved with model.save('model.keras')")
    p.add_argument("--data", default=None, help="training rows (CSV): input ranges and background rows for :explain")
    p.add_argument("--metadata", default=None, help="JSON file of extra metadata (metrics, description, ...)")
    p.add_argument("--label", default=None, help="promote the new version to this label (e.g. stable)")
    p.add_argument("--export", nargs="+", choices=list(EXPORT_FILES), default=None, help="formats to write beside it")
    p.add_argument("--no-infer", action="store_true", help="store without reading the signature (not served)")
    p.set_defaults(models_func=_register)

    p = sub.add_parser("promote", parents=[common], help="point a label at a version (remembered for rollback)")
    p.add_argument("name")
    p.add_argument("version", help="version number, 'latest' or a label")
    p.add_argument("--label", default="stable", help="default: stable")
    p.set_defaults(models_func=_promote)

    p = sub.add_parser("rollback", parents=[common], help="point a label back at its previous version")
    p.add_argument("name")
    p.add_argument("--label", default="stable", help="default: stable")
    p.set_defaults(models_func=_rollback)

    p = sub.add_parser("label", parents=[common], help="set or remove a label (no rollback history)")
    p.add_argument("name")
    p.add_argument("label")
    p.add_argument("version", nargs="?", default=None, help="version number, 'latest' or another label")
    p.add_argument("--remove", action="store_true", help="remove the label instead")
    p.set_defaults(models_func=_label)
    return models
