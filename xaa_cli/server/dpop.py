"""DPoP proof validation (RFC 9449 §4.3) at the token endpoints, for ID-JAG binding (draft §9.8.1)."""

from __future__ import annotations

import hashlib
from typing import Final

from xaa_cli.b64 import b64url_encode
from xaa_cli.core.jose import ASYMMETRIC_ALGS, decode_unverified, jwk_thumbprint, verify_signature
from xaa_cli.errors import TokenFormatError, TokenVerificationError
from xaa_cli.server.errors import OAuthServerError
from xaa_cli.server.settings import Runtime
from xaa_cli.server.wire import Request

DPOP_TYP: Final = "dpop+jwt"
MAX_PROOF_AGE: Final = 300
_PRIVATE: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "k"})


def _ath(token: str) -> str:
    return b64url_encode(hashlib.sha256(token.encode("ascii", "replace")).digest())


def _bad(description: str) -> OAuthServerError:
    return OAuthServerError("invalid_dpop_proof", description)


def proof_thumbprint(rt: Runtime, req: Request, *, access_token: str | None = None) -> str | None:
    """The RFC 7638 thumbprint of a valid proof's key; None without a ``DPoP`` header.

    At a resource server pass ``access_token``: the proof must then carry its hash as ``ath`` (§4.3 #11).
    """
    proof = req.headers.get("dpop")
    if proof is None:
        return None
    if req.header_counts.get("dpop", 1) != 1 or "," in proof:
        raise _bad("exactly one DPoP header is allowed")
    try:
        decoded = decode_unverified(proof)
    except TokenFormatError as exc:
        raise _bad(f"the DPoP proof is malformed: {exc}") from None
    header, claims = decoded.header, decoded.claims
    jwk = header.get("jwk")
    if header.get("typ") != DPOP_TYP or not isinstance(jwk, dict) or _PRIVATE & set(jwk):
        raise _bad("the DPoP proof needs typ dpop+jwt and a public jwk header")
    try:
        # The proof's own key is the only key; a `kid` in the header just has to name it.
        key = {
            **{k: v for k, v in jwk.items() if k != "kid"},
            **({"kid": header["kid"]} if "kid" in header else {}),
        }
        verify_signature(decoded, [key], algorithms=ASYMMETRIC_ALGS)
    except TokenVerificationError as exc:
        raise _bad(f"the DPoP proof signature is not valid: {exc}") from None
    if claims.get("htm") != req.method or claims.get("htu") != req.url:
        raise _bad("the DPoP proof htm/htu do not match this request")
    if access_token is not None and claims.get("ath") != _ath(access_token):
        raise _bad("the DPoP proof ath does not match the access token")
    iat, jti = claims.get("iat"), claims.get("jti")
    now = rt.now()
    if not isinstance(iat, int | float) or abs(now - iat) > MAX_PROOF_AGE:
        raise _bad("the DPoP proof iat is missing or not recent")
    if not isinstance(jti, str) or not jti:
        raise _bad("the DPoP proof has no jti")
    if not rt.store.remember_jti("dpop", jwk_thumbprint(jwk), jti, int(now) + MAX_PROOF_AGE, int(now)):
        raise _bad("the DPoP proof was already used")
    return jwk_thumbprint(jwk)
