"""Warnings for risky content: things that are not wrong per se, but that a reviewer should see."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from xaa_cli.core.inspect.checks import lifetime
from xaa_cli.core.inspect.kinds import looks_like_untyped_id_jag
from xaa_cli.core.inspect.model import TokenKind
from xaa_cli.core.inspect.timefmt import duration
from xaa_cli.core.jose import UNTRUSTED_KEY_HEADERS

VERY_LONG_LIFETIME: Final = 24 * 3600.0
# Claim names that should never travel in a token (they are readable by anyone who holds it).
_SECRET_NAME: Final = re.compile(
    r"(secret|passw(or)?d|passwd|api[_-]?key|private[_-]?key|refresh[_-]?token|credential|session[_-]?key)",
    re.IGNORECASE,
)
# Values with a well-known secret shape, whatever the claim is called.
_SECRET_VALUE: Final = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----"  # xaa:allow (a pattern, not a key)
    r"|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}|\bxox[abprs]-[A-Za-z0-9-]{10,}"
)
_MAX_DEPTH: Final = 8


def risk_warnings(header: Mapping[str, Any], claims: Mapping[str, Any], kind: TokenKind) -> list[str]:
    out: list[str] = []
    out += _header_warnings(header)
    if kind not in {TokenKind.DPOP_PROOF, TokenKind.CLIENT_ASSERTION} and "exp" not in claims:
        out.append("no exp: the token never expires; anyone who copies it can use it forever")
    span = lifetime(claims)
    if span is not None and span > VERY_LONG_LIFETIME:
        out.append(
            f"very long lifetime: {duration(span)} between iat and exp; short-lived tokens limit a leak"
        )
    if looks_like_untyped_id_jag(header, claims):
        out.append(
            "the claims look like an ID-JAG but typ is not 'oauth-id-jag+jwt'; a conformant resource AS "
            "rejects it (§4.4.1, RFC 8725 §3.11)"
        )
    out += [
        f"claim {path} looks like a secret; tokens are readable by anyone who holds them"
        for path in secret_paths(claims)
    ]
    return out


def _header_warnings(header: Mapping[str, Any]) -> list[str]:
    out = []
    alg = header.get("alg")
    if alg == "none":
        out.append("alg is 'none': the token is unsigned and proves nothing")
    for name in UNTRUSTED_KEY_HEADERS:
        if name in header:
            out.append(
                f"header carries {name!r}: a key or key location chosen by whoever made the token; xaa never "
                "uses it as a trust source (RFC 8725 §3.10)"
            )
    if header.get("crit"):
        out.append("header has 'crit' parameters that must be understood; xaa does not verify such tokens")
    return out


def secret_paths(value: Any, prefix: str = "", depth: int = 0) -> list[str]:
    """Dotted paths of claims whose name or value looks like a secret."""
    if depth > _MAX_DEPTH:
        return []
    found: list[str] = []
    if isinstance(value, Mapping):
        for key, inner in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if _SECRET_NAME.search(str(key)) and inner not in (None, "", [], {}):
                found.append(path)
            else:
                found += secret_paths(inner, path, depth + 1)
    elif isinstance(value, list):
        for index, inner in enumerate(value[:100]):
            found += secret_paths(inner, f"{prefix}[{index}]", depth + 1)
    elif isinstance(value, str) and _SECRET_VALUE.search(value[:10_000]):
        found.append(prefix or "(value)")
    return found


def hide_secrets(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` with secret-looking claims replaced by a fingerprint, for display."""
    from xaa_cli.core.redact import redacted

    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {
            key: redacted(str(inner))
            if _SECRET_NAME.search(str(key)) and inner not in (None, "", [], {})
            else hide_secrets(inner, depth + 1)
            for key, inner in value.items()
        }
    if isinstance(value, list):
        return [hide_secrets(inner, depth + 1) for inner in value]
    if isinstance(value, str) and _SECRET_VALUE.search(value[:10_000]):
        return redacted(value)
    return value
