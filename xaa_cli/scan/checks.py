"""Offline validity checks: checksums and structure that real credentials carry (no network, stdlib only).

Each check takes the secret bytes and answers ``True`` (valid), ``False`` (cannot be a real credential of
that kind: dropped) — see scanning-notes §2.4 for the GitHub/npm CRC32 and Grafana schemes.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable
from typing import Final

_B62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_PEM_BODY: Final = re.compile(rb"-----BEGIN[ A-Z0-9_-]*-----(.*?)-----END", re.DOTALL)
_PEM_HEADER_LINE: Final = re.compile(rb"^[A-Za-z-]+:.*$", re.MULTILINE)


def shannon_entropy(data: bytes) -> float:
    """Shannon entropy in bits per symbol over the bytes of ``data``."""
    if not data:
        return 0.0
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in Counter(data).values())


def base62_crc32(payload: str, width: int = 6) -> str:
    """The CRC32 of ``payload`` written in base62 and left-padded with zeros (GitHub/npm token format)."""
    n = zlib.crc32(payload.encode())
    digits = ""
    while n:
        n, r = divmod(n, 62)
        digits = _B62[r] + digits
    return digits.rjust(width, "0")


def github_crc32(secret: bytes) -> bool:
    """``ghp_``/``gho_``/``ghu_``/``ghs_``/``ghr_``/``npm_``: 30 random base62 + 6-char base62 CRC32."""
    body = secret.decode("ascii", "replace").split("_", 1)[-1]
    return len(body) == 36 and base62_crc32(body[:30]) == body[30:]


def grafana_crc32(secret: bytes) -> bool:
    """``glsa_<32>_<8 hex>``: CRC32-IEEE of everything before the last ``_``, little-endian hex."""
    head, _, crc = secret.decode("ascii", "replace").rpartition("_")
    return zlib.crc32(head.encode()).to_bytes(4, "little").hex() == crc.lower()


def b64url_json(segment: bytes) -> object:
    padded = segment + b"=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


def jwt_decodable(secret: bytes) -> bool:
    """Header and payload decode to JSON objects and the header names an ``alg`` (detect-secrets' check)."""
    parts = secret.split(b".")
    if len(parts) < 2:
        return False
    try:
        header, payload = b64url_json(parts[0]), b64url_json(parts[1])
    except (ValueError, binascii.Error):
        return False
    return isinstance(header, dict) and "alg" in header and isinstance(payload, dict)


def pem_body(secret: bytes) -> bool:
    """A PEM private-key block whose body is real base64 of at least 64 bytes (not ``...`` or ``<key>``)."""
    match = _PEM_BODY.search(secret)
    if not match:
        return False
    body = _PEM_HEADER_LINE.sub(b"", match.group(1))
    body = b"".join(body.split()).replace(b"\\n", b"").replace(b'"', b"")
    try:
        raw = base64.b64decode(body, validate=True)
    except (ValueError, binascii.Error):
        return False
    return len(raw) >= 64 and len(set(raw)) > 16


def base64_bytes(expected: int) -> Callable[[bytes], bool]:
    """Base64 text that decodes to exactly ``expected`` bytes (Azure storage keys are 64 bytes)."""

    def check(secret: bytes) -> bool:
        try:
            return len(base64.b64decode(secret, validate=True)) == expected
        except (ValueError, binascii.Error):
            return False

    return check


def basic_auth_b64(secret: bytes) -> bool:
    """Base64 of ``user:password`` with a non-empty password (Docker ``auth``, npm ``_auth``)."""
    try:
        raw = base64.b64decode(secret, validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    user, sep, password = raw.partition(":")
    return bool(sep and user and len(password) >= 4)


def pypi_macaroon(secret: bytes) -> bool:
    """``pypi-`` + base64url macaroon whose first bytes name the location ``pypi.org``."""
    body = secret[5:]
    try:
        raw = base64.urlsafe_b64decode(body[:64] + b"=" * (-len(body[:64]) % 4))
    except (ValueError, binascii.Error):
        return False
    return b"pypi.org" in raw


CHECKS: Final[dict[str, Callable[[bytes], bool]]] = {
    "github-crc32": github_crc32,
    "npm-crc32": github_crc32,
    "grafana-crc32": grafana_crc32,
    "jwt": jwt_decodable,
    "pem": pem_body,
    "base64-64-bytes": base64_bytes(64),
    "base64-32-bytes": base64_bytes(32),
    "basic-auth-b64": basic_auth_b64,
    "pypi-macaroon": pypi_macaroon,
}

#: Checks that are real checksums: a pass is reported as ``checksum: valid``.
CHECKSUMS: Final = frozenset({"github-crc32", "npm-crc32", "grafana-crc32"})
