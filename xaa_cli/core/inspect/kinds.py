"""Recognise what a JWT is for: by its explicit ``typ`` first (RFC 8725 §3.11), then by its claims.

Recognition only labels the token for display and picks the profile checks; it never makes a token valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from xaa_cli.core.inspect.model import TokenKind

ID_JAG_TYP: Final = "oauth-id-jag+jwt"
LOGOUT_EVENT: Final = "http://schemas.openid.net/event/backchannel-logout"
TYP_KINDS: Final[Mapping[str, TokenKind]] = {
    ID_JAG_TYP: TokenKind.ID_JAG,
    "at+jwt": TokenKind.ACCESS_TOKEN,
    "dpop+jwt": TokenKind.DPOP_PROOF,
    "logout+jwt": TokenKind.LOGOUT_TOKEN,
    "client-authentication+jwt": TokenKind.CLIENT_ASSERTION,
}
# Claims only an ID token carries (OIDC Core §2, §3.1.3.6).
_ID_TOKEN_HINTS: Final = frozenset({"nonce", "at_hash", "c_hash", "auth_time", "azp", "sid"})
_ID_TOKEN_CORE: Final = frozenset({"iss", "sub", "aud", "exp", "iat"})
_ACCESS_HINTS: Final = frozenset({"scope", "scp", "client_id"})


def normalise_typ(typ: object) -> str | None:
    """RFC 7515 §4.1.9: media types compare case-insensitively and may omit ``application/``."""
    if not isinstance(typ, str):
        return None
    lowered = typ.strip().lower()
    return lowered.removeprefix("application/")


def recognise(header: Mapping[str, Any], claims: Mapping[str, Any]) -> tuple[TokenKind, str]:
    """The kind and, in words, why we think so."""
    typ = header.get("typ")
    known = TYP_KINDS.get(normalise_typ(typ) or "")
    if known is not None:
        return known, f"header typ is {typ!r}"
    events = claims.get("events")
    if isinstance(events, Mapping) and LOGOUT_EVENT in events:
        return TokenKind.LOGOUT_TOKEN, "its events claim holds the back-channel logout event"
    if "htm" in claims and "htu" in claims:
        return TokenKind.DPOP_PROOF, "it has htm and htu claims"
    if _is_client_assertion(claims):
        return TokenKind.CLIENT_ASSERTION, "iss equals sub and it has aud and jti (RFC 7523 §3)"
    hints = sorted(_ID_TOKEN_HINTS & claims.keys())
    if hints:
        return TokenKind.ID_TOKEN, f"it has ID-token claims ({', '.join(hints)})"
    if claims.keys() >= _ID_TOKEN_CORE and not _ACCESS_HINTS & claims.keys():
        return TokenKind.ID_TOKEN, "it has iss, sub, aud, exp and iat and no scope or client_id"
    return TokenKind.JWT, "neither its typ nor its claims match a profile xaa knows"


def _is_client_assertion(claims: Mapping[str, Any]) -> bool:
    iss = claims.get("iss")
    return isinstance(iss, str) and iss == claims.get("sub") and "aud" in claims and "jti" in claims


def looks_like_untyped_id_jag(header: Mapping[str, Any], claims: Mapping[str, Any]) -> bool:
    """An ID-JAG's claims with no explicit type (or plain ``JWT``): a conformant RAS rejects it (§4.4.1)."""
    required = {"iss", "sub", "aud", "client_id", "jti", "exp", "iat"}
    untyped = normalise_typ(header.get("typ")) in {None, "jwt"}
    return untyped and required <= claims.keys() and "nonce" not in claims
