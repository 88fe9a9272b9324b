"""Where trusted keys come from: a JWKS file or URL, or an issuer's discovery document.

Only keys the *user* points at are trusted. Keys a token carries or points to (``jku``, ``x5u``, ``jwk``,
``x5c``) never are. Symmetric (``oct``) keys are refused: xaa verifies asymmetric signatures only, so an
HMAC-signed token can never borrow a public key as its secret (RFC 8725 §3.1).

Discovery is the shared ``xaa_cli.core.discovery`` (exact ``issuer`` match, secure endpoint URLs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from xaa_cli.core.http import require_secure_url
from xaa_cli.core.keys import public_jwk
from xaa_cli.errors import ProtocolError, UsageError

if TYPE_CHECKING:
    import httpx

MAX_DOCUMENT_BYTES: Final = 512 * 1024
MAX_KEYS: Final = 100


@dataclass(frozen=True, slots=True)
class TrustedKeys:
    """Public keys the user trusts, where they came from, and the issuer they speak for (if known)."""

    keys: tuple[Mapping[str, Any], ...]
    source: str
    issuer: str | None = None
    ignored: tuple[str, ...] = field(default=())


def parse_jwks(data: bytes, where: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Public keys from a JWKS (or a single JWK) document, and notes about the keys that were ignored."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise UsageError(f"{where} is not JSON") from None
    if isinstance(doc, dict) and "keys" not in doc and "kty" in doc:
        doc = {"keys": [doc]}
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise UsageError(f'{where} is not a JWKS document (expected {{"keys": [...]}})')
    keys: list[dict[str, Any]] = []
    ignored: list[str] = []
    for index, jwk in enumerate(doc["keys"][:MAX_KEYS]):
        label = f"key {jwk.get('kid', index)!s}" if isinstance(jwk, dict) else f"entry {index}"
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kty"), str):
            ignored.append(f"{label}: not a JWK")
        elif jwk["kty"] == "oct":
            ignored.append(f"{label}: a symmetric (oct) key; xaa verifies asymmetric signatures only")
        elif not _usable(public_jwk(jwk)):
            ignored.append(f"{label}: not a valid {jwk['kty']} public key")
        else:
            keys.append(public_jwk(jwk))
    if not keys:
        raise UsageError(f"{where} holds no usable public key", hint="; ".join(ignored) or None)
    return keys, ignored


def _usable(jwk: dict[str, Any]) -> bool:
    from joserfc.errors import JoseError
    from joserfc.jwk import import_key

    try:
        import_key(jwk)
    except (JoseError, ValueError, TypeError, KeyError, AttributeError):
        return False
    return True


def keys_from_file(path: Path, issuer: str | None = None) -> TrustedKeys:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read the JWKS file {path}: {exc.strerror}") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise UsageError(f"the JWKS file {path} is larger than {MAX_DOCUMENT_BYTES // 1024} KiB")
    keys, ignored = parse_jwks(data, f"the JWKS file {path}")
    return TrustedKeys(tuple(keys), f"JWKS file {path}", issuer, tuple(ignored))


def keys_from_url(client: httpx.Client, url: str, issuer: str | None = None, via: str = "") -> TrustedKeys:
    require_secure_url(url, what="JWKS URL")
    data = get_document(client, url, "JWKS")
    keys, ignored = parse_jwks(data, f"the JWKS at {url}")
    return TrustedKeys(tuple(keys), f"JWKS {url}{via}", issuer, tuple(ignored))


def keys_from_issuer(client: httpx.Client, issuer: str) -> TrustedKeys:
    """The keys at the ``jwks_uri`` of ``issuer``'s metadata (OIDC discovery first, then RFC 8414); the
    shared discovery refuses a document whose ``issuer`` is not exactly ``issuer`` (RFC 8414 §3.3)."""
    from xaa_cli.core.discovery import fetch_server_metadata

    metadata = fetch_server_metadata(client, issuer, prefer_oidc=True)
    jwks_uri = metadata.endpoint("jwks_uri")
    if jwks_uri is None:
        raise ProtocolError(f"the metadata of {issuer} has no jwks_uri", hint="pass the keys with --jwks")
    return keys_from_url(client, jwks_uri, issuer, via=f" (discovered from {issuer})")


def get_document(client: httpx.Client, url: str, what: str) -> bytes:
    """GET ``url`` with a size cap; anything but 200 is a ``ProtocolError``."""
    from xaa_cli.core.token_endpoint import Hop, round_trip

    hop = Hop(f"fetching the {what} at {url}", client_id="")
    status, raw, _ = round_trip(client, "GET", url, hop, limit=MAX_DOCUMENT_BYTES)
    if status != 200:
        raise ProtocolError(f"fetching the {what} at {url} answered HTTP {status}")
    return raw
