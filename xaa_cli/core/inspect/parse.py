"""From pasted text to a token shape: compact JWS, JWE (header only), or opaque.

Only ``TokenFormatError`` escapes: it is what "this is not a token" means (exit 6).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from xaa_cli.b64 import b64url_decode
from xaa_cli.core.jose import MAX_HEADER_BYTES, MAX_TOKEN_BYTES, DecodedJWS, decode_unverified
from xaa_cli.errors import TokenFormatError

# RFC 6750 §2.1 b64token: what a bearer token may contain. Anything else is not a token.
_OPAQUE: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# People paste whole headers: "Authorization: Bearer eyJ…" or "DPoP eyJ…".
_SCHEME: Final = re.compile(r"^(?:authorization:\s*)?(?:bearer|dpop)\s+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """``jws`` for a signed JWT; ``header`` alone for a JWE; neither for an opaque token."""

    text: str
    segments: int
    header: dict[str, Any]
    jws: DecodedJWS | None = None

    @property
    def claims(self) -> dict[str, Any]:
        return dict(self.jws.claims) if self.jws is not None else {}


def clean_input(text: str) -> str:
    if len(text.encode("utf-8", "replace")) > MAX_TOKEN_BYTES:
        raise TokenFormatError(
            f"the input is larger than {MAX_TOKEN_BYTES // 1024} KiB; no token is that big",
            hint="pass only the token, not a whole log or response",
        )
    return _SCHEME.sub("", text.strip(), count=1).strip()


def parse_token(text: str) -> ParsedToken:
    token = clean_input(text)
    if not token:
        raise TokenFormatError("the input is empty", hint="pass the token, '-' for stdin or @FILE")
    parts = token.split(".")
    if len(parts) == 3:
        jws = decode_unverified(token)
        return ParsedToken(token, 3, dict(jws.header), jws)
    if len(parts) == 5:
        return ParsedToken(token, 5, _jwe_header(parts[0]))
    if _looks_like_jose_header(parts[0]):
        raise TokenFormatError(
            f"the input starts like a JWT but has {len(parts)} dot-separated parts "
            "(a signed JWT has 3, an encrypted one 5); it may be truncated"
        )
    if not _OPAQUE.fullmatch(token):
        raise TokenFormatError(
            "the input is not a token: it contains characters no bearer token has "
            "(whitespace, quotes or other punctuation)",
            hint="pass the token alone; JWTs start with 'eyJ'",
        )
    return ParsedToken(token, len(parts), {})


def _jwe_header(segment: str) -> dict[str, Any]:
    header = _json_object(segment)
    if header is None or not isinstance(header.get("enc"), str):
        raise TokenFormatError("the input has 5 parts like a JWE, but its first part is not a JWE header")
    return header


def _looks_like_jose_header(segment: str) -> bool:
    header = _json_object(segment)
    return header is not None and "alg" in header


def _json_object(segment: str) -> dict[str, Any] | None:
    try:
        raw = b64url_decode(segment)
        if len(raw) > MAX_HEADER_BYTES:
            return None
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
