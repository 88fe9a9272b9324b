"""ID-JAG validation at an app's authorization server, exactly as draft §4.4.1 (with RFC 7521 §5.2 and
RFC 7523 §3) says. Every failure is ``invalid_grant``; the description never echoes the assertion.

Claim policy lives in constants, as in authlib's ``JWTBearerGrant``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from xaa_cli.core.jose import ASYMMETRIC_ALGS, check_alg, decode_unverified, verify_signature
from xaa_cli.errors import TokenFormatError, TokenVerificationError
from xaa_cli.server.constants import ID_JAG_TYP
from xaa_cli.server.errors import invalid_grant
from xaa_cli.server.policy import Options

REQUIRED_CLAIMS: Final[Mapping[str, type | tuple[type, ...]]] = {
    "iss": str,
    "sub": str,
    "aud": (str, list),
    "client_id": str,
    "jti": str,
    "iat": (int, float),
    "exp": (int, float),
}
ALLOWED_ALGS: Final = ASYMMETRIC_ALGS


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    issuer: str
    jwks: Sequence[Mapping[str, Any]]


def _typ_ok(typ: object, options: Options) -> bool:
    if not isinstance(typ, str):
        return False
    accepted = {ID_JAG_TYP, f"application/{ID_JAG_TYP}"} if options.accept_application_typ else {ID_JAG_TYP}
    return typ in accepted or (options.accept_application_typ and typ.lower() in accepted)


def verify_id_jag(
    assertion: str,
    *,
    trusted: Mapping[str, TrustedIssuer],
    issuer: str,
    client_id: str,
    now: float,
    options: Options,
) -> dict[str, Any]:
    """Return the claims of a valid ID-JAG for this RAS (``issuer``) and authenticated ``client_id``."""
    try:
        decoded = decode_unverified(assertion)
    except TokenFormatError as exc:
        raise invalid_grant(f"the assertion is not a single compact JWT: {exc}") from None
    if not _typ_ok(decoded.header.get("typ"), options):
        raise invalid_grant(
            f"the assertion typ must be {ID_JAG_TYP} (an ID token or access token is not a grant)"
        )
    try:
        check_alg(decoded.header, ALLOWED_ALGS)
    except TokenVerificationError as exc:
        raise invalid_grant(str(exc)) from None
    claims = decoded.claims
    source = trusted.get(str(claims.get("iss")))
    if source is None:
        raise invalid_grant("the ID-JAG issuer is not trusted by this authorization server")
    try:
        verify_signature(decoded, source.jwks, algorithms=ALLOWED_ALGS)
    except TokenVerificationError as exc:
        raise invalid_grant(f"the ID-JAG signature does not verify: {exc}") from None
    _check_claims(claims, issuer=issuer, client_id=client_id, now=now, options=options)
    return claims


def _check_claims(
    claims: Mapping[str, Any], *, issuer: str, client_id: str, now: float, options: Options
) -> None:
    for name, kind in REQUIRED_CLAIMS.items():
        value = claims.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, kind) or value == "":
            raise invalid_grant(f"the ID-JAG claim {name} is missing or malformed")
    aud = claims["aud"]
    if isinstance(aud, list):
        if len(aud) != 1:
            raise invalid_grant("the ID-JAG aud array must contain exactly one element")
        aud = aud[0]
    if aud != issuer:
        raise invalid_grant("the ID-JAG aud is not this authorization server's issuer")
    if claims["client_id"] != client_id:
        raise invalid_grant("the ID-JAG client_id is not the authenticated client")
    _check_times(claims, now, options)


def _check_times(claims: Mapping[str, Any], now: float, options: Options) -> None:
    exp, iat, leeway = claims["exp"], claims["iat"], options.leeway
    if exp < now - leeway:
        raise invalid_grant("the ID-JAG has expired")
    if iat > now + leeway:
        raise invalid_grant("the ID-JAG iat is in the future")
    if exp - iat > options.max_id_jag_lifetime or exp > now + options.max_id_jag_lifetime + leeway:
        raise invalid_grant("the ID-JAG lifetime exceeds what this server accepts")
    if now - iat > options.max_id_jag_age:
        raise invalid_grant("the ID-JAG was issued too long ago")
    nbf = claims.get("nbf")
    if nbf is not None and (not isinstance(nbf, int | float) or nbf > now + leeway):
        raise invalid_grant("the ID-JAG is not valid yet (nbf)")
