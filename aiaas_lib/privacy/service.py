"""Used by notebook 16 (and notebook 14, for :func:`service_env`: a seeded canary router).

Tools for attacking (and so testing) the running model service from outside: the settings a server process
starts with, hostile request bodies, a tampered model file, and a self-signed TLS certificate for localhost.

The defences themselves live in :mod:`aiaas_lib.serving` (keys, rate limit, size limits, validation) and
:mod:`aiaas_lib.packaging.registry` (hashes, safe loading); this module only pokes at them.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path

from aiaas_lib.validation import positive_int


def service_env(base: Mapping[str, str] | None = None, **settings) -> dict[str, str]:
    """The environment for a service process: ``base`` (default: this process's environment) plus one
    ``AIAAS_<NAME>`` variable per setting of :class:`aiaas_lib.serving.Settings` (lists joined by commas,
    booleans as 1/0).

    Examples
    --------
    >>> env = service_env({}, rate_limit_per_minute=30, rate_limit_burst=5, batching=False)
    >>> env
    {'AIAAS_RATE_LIMIT_PER_MINUTE': '30', 'AIAAS_RATE_LIMIT_BURST': '5', 'AIAAS_BATCHING': '0'}
    >>> service_env({}, rate_limit=3)
    Traceback (most recent call last):
    ...
    ValueError: unknown service setting 'rate_limit'; expected some of ['all_versions', 'api_keys', ...]
    """
    from aiaas_lib.serving.settings import Settings

    fields = sorted(Settings.model_fields)
    env = dict(os.environ if base is None else base)
    for name, value in settings.items():
        if name not in fields:
            raise ValueError(f"unknown service setting {name!r}; expected some of {fields}")
        if isinstance(value, bool):
            text = "1" if value else "0"
        elif isinstance(value, (list, tuple)):
            text = ",".join(str(v) for v in value)
        else:
            text = str(value)
        env[f"AIAAS_{name.upper()}"] = text
    return env


def hostile_bodies(row: Mapping, field: str) -> dict[str, bytes]:
    """Request bodies (TF Serving row format, raw JSON bytes) that attack input validation through the
    numeric column ``field`` of one valid ``row``: NaN, infinity, a 400-digit integer, a string, a list, an
    unknown field, a missing field, and 10,000 nested lists. A careful service answers each with 400 naming
    the problem — never 500, never a prediction.

    Examples
    --------
    >>> bodies = hostile_bodies({"tenure": 3, "contract": "One year"}, "tenure")
    >>> sorted(bodies)
    ['NaN', 'deep nesting', 'huge integer', 'infinity', 'list instead of number', 'missing field', 'string instead of number', 'unknown field']
    >>> bodies["NaN"]
    b'{"instances": [{"tenure": NaN, "contract": "One year"}]}'
    """
    if field not in row:
        raise ValueError(f"field={field!r} is not in the row; it has {sorted(row)}")

    def body(changed: dict) -> bytes:
        return json.dumps({"instances": [changed]}).encode()

    def with_value(value_json: str) -> bytes:
        marker = "__VALUE__"
        return json.dumps({"instances": [{**row, field: marker}]}).replace(f'"{marker}"', value_json).encode()

    return {
        "NaN": with_value("NaN"),
        "infinity": with_value("1e999"),
        "huge integer": with_value("9" * 400),
        "string instead of number": body({**row, field: "twelve"}),
        "list instead of number": body({**row, field: [1, 2]}),
        "unknown field": body({**row, "is_admin": True}),
        "missing field": body({k: v for k, v in row.items() if k != field}),
        "deep nesting": b'{"instances": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    }


def flip_byte(path: str | Path, offset: int = -100) -> tuple[int, int]:
    """Tamper with a file: flip the lowest bit of the byte at ``offset`` (negative: from the end); return
    (old byte, new byte). One bit is enough to change the file's sha256 completely.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "model.bin"
    >>> _ = path.write_bytes(b"weights")
    >>> flip_byte(path, 0), path.read_bytes()
    ((119, 118), b'veights')
    """
    path = Path(path)
    data = bytearray(path.read_bytes())
    if not -len(data) <= offset < len(data):
        raise ValueError(f"offset={offset} is outside {path.name}, which has {len(data)} bytes")
    old = data[offset]
    data[offset] = old ^ 1
    path.write_bytes(bytes(data))
    return old, data[offset]


def self_signed_cert(folder: str | Path, host: str = "localhost", days: int = 1) -> tuple[Path, Path]:
    """Make a self-signed TLS certificate for ``host`` (and 127.0.0.1) with the ``cryptography`` package;
    write ``cert.pem`` and ``key.pem`` (mode 600) into ``folder``; return their paths.

    For a demo on localhost only: clients must be told to trust this exact certificate
    (``httpx.Client(verify=ssl.create_default_context(cafile=cert_path))``). A real service gets its certificate from a CA (e.g. Let's Encrypt)
    or terminates TLS at a proxy or load balancer.

    Examples
    --------
    >>> import tempfile
    >>> cert, key = self_signed_cert(tempfile.mkdtemp())
    >>> cert.read_text().splitlines()[0], oct(key.stat().st_mode & 0o777)
    ('-----BEGIN CERTIFICATE-----', '0o600')
    """
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    days = positive_int("days", days)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.chmod(0o600)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
