"""Redaction for traces and reports: tokens become ``<redacted sha256:ab12cd34>`` fingerprints."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SECRET_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "assertion",
        "subject_token",
        "actor_token",
        "client_secret",
        "client_assertion",
        "code",
        "code_verifier",
        "device_code",
        "token",
        "password",
        "admin_token",
    }
)
SECRET_HEADERS: Final[frozenset[str]] = frozenset(
    {"authorization", "cookie", "set-cookie", "dpop", "x-xaa-admin-token", "proxy-authorization"}
)
# Redirects carry authorization codes and (implicit flow) tokens in their query or fragment.
URL_HEADERS: Final[frozenset[str]] = frozenset({"location", "content-location"})
_JSON_SECRET = re.compile(r'("(?:' + "|".join(sorted(SECRET_FIELDS)) + r')"\s*:\s*)"([^"]*)"')


def fingerprint(secret: str, length: int = 12) -> str:
    """A stable, non-reversible handle for a secret: the SHA-256 hex prefix."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:length]


def redacted(secret: str) -> str:
    return f"<redacted sha256:{fingerprint(secret, 8)}>"


def redact_form(body: str, extra: Iterable[str] = ()) -> str:
    """Redact secret-bearing fields of an ``application/x-www-form-urlencoded`` body."""
    names = SECRET_FIELDS | set(extra)
    pairs = parse_qsl(body, keep_blank_values=True)
    return urlencode([(k, redacted(v) if k in names and v else v) for k, v in pairs], safe="<>:")


def redact_json_text(text: str) -> str:
    """Redact secret-bearing members of a JSON text without parsing it (it may be truncated)."""
    return _JSON_SECRET.sub(lambda m: m.group(1) + '"' + redacted(m.group(2)) + '"', text)


def redact_url_query(url: str) -> str:
    """``url`` with secret-bearing query and fragment parameters redacted (``?code=<redacted …>``)."""
    parts = urlsplit(url)
    query = redact_form(parts.query) if parts.query else ""
    fragment = redact_form(parts.fragment) if "=" in parts.fragment else parts.fragment
    return urlunsplit(parts._replace(query=query, fragment=fragment))


def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for name, value in headers:
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            out.append((name, f"{scheme} {redacted(value)}".strip()))
        elif name.lower() in URL_HEADERS:
            out.append((name, redact_url_query(value)))
        else:
            out.append((name, value))
    return out


def scrub_mapping(data: Mapping[str, object]) -> dict[str, object]:
    """A copy of ``data`` with secret-named members redacted, recursively."""
    out: dict[str, object] = {}
    for key, value in data.items():
        if key in SECRET_FIELDS and isinstance(value, str):
            out[key] = redacted(value)
        elif isinstance(value, Mapping):
            out[key] = scrub_mapping(value)
        else:
            out[key] = value
    return out
