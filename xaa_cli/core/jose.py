"""JOSE primitives shared by the client, ``xaa inspect`` and the reference server.

Two explicit steps, as in joserfc: ``decode_unverified`` splits and parses a compact JWS with size caps and
never trusts it; ``verify_signature`` checks the signature with keys the *caller* trusts, using only an
asymmetric algorithm from an allow-list that matches the key's type and curve (RFC 8725 §3.1-3.2). Header
parameters that try to supply their own key (``jku``, ``x5u``, ``jwk``, ``x5c``) are never used as trust.
Claim checks live with the callers, which know the token profile.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from xaa_cli.b64 import b64url_decode
from xaa_cli.errors import TokenFormatError, TokenVerificationError

MAX_TOKEN_BYTES: Final = 64 * 1024
MAX_HEADER_BYTES: Final = 4096
# Algorithm allow-list by key type (and curve): the key decides, never the token.
ALGS_FOR_KEY: Final[Mapping[tuple[str, str | None], frozenset[str]]] = {
    ("EC", "P-256"): frozenset({"ES256"}),
    ("EC", "P-384"): frozenset({"ES384"}),
    ("EC", "P-521"): frozenset({"ES512"}),
    ("RSA", None): frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}),
    ("OKP", "Ed25519"): frozenset({"EdDSA", "Ed25519"}),
}
ASYMMETRIC_ALGS: Final[frozenset[str]] = frozenset().union(*ALGS_FOR_KEY.values())
UNTRUSTED_KEY_HEADERS: Final[tuple[str, ...]] = ("jku", "x5u", "jwk", "x5c")


@dataclass(frozen=True, slots=True)
class DecodedJWS:
    """A parsed, NOT verified, compact JWS."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes
    raw: str


def segments(token: str) -> list[str]:
    token = token.strip()
    if len(token.encode("utf-8", "replace")) > MAX_TOKEN_BYTES:
        raise TokenFormatError(f"the token is larger than {MAX_TOKEN_BYTES // 1024} KiB")
    return token.split(".")


def _json_segment(segment: str, what: str, limit: int | None = None) -> dict[str, Any]:
    try:
        raw = b64url_decode(segment)
    except ValueError:
        raise TokenFormatError(f"the JWT {what} is not base64url") from None
    if limit is not None and len(raw) > limit:
        raise TokenFormatError(f"the JWT {what} is larger than {limit} bytes")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise TokenFormatError(f"the JWT {what} is not JSON") from None
    if not isinstance(value, dict):
        raise TokenFormatError(f"the JWT {what} is not a JSON object")
    return value


def decode_unverified(token: str) -> DecodedJWS:
    """Split and parse a compact JWS (RFC 7515 §7.1). Raises only ``TokenFormatError``."""
    parts = segments(token)
    if len(parts) == 5:
        raise TokenFormatError("the token is an encrypted JWT (JWE); it cannot be read without the key")
    if len(parts) != 3:
        raise TokenFormatError("the token is not a JWT (a JWT has three dot-separated parts)")
    header = _json_segment(parts[0], "header", MAX_HEADER_BYTES)
    claims = _json_segment(parts[1], "payload")
    try:
        signature = b64url_decode(parts[2])
    except ValueError:
        raise TokenFormatError("the JWT signature is not base64url") from None
    if not isinstance(header.get("alg"), str):
        raise TokenFormatError("the JWT header has no 'alg'")
    return DecodedJWS(header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature, token.strip())


def key_algs(jwk: Mapping[str, Any]) -> frozenset[str]:
    """The algorithms a public JWK may verify, per ``ALGS_FOR_KEY`` (its own ``alg`` narrows them)."""
    kty = jwk.get("kty")
    crv = None if kty == "RSA" else jwk.get("crv")
    allowed = ALGS_FOR_KEY.get((str(kty), crv), frozenset())
    pinned = jwk.get("alg")
    return allowed & {pinned} if isinstance(pinned, str) else allowed


def select_key(header: Mapping[str, Any], jwks: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """Pick the trusted key for this header: by ``kid``; without a ``kid``, only if exactly one key fits."""
    alg = header.get("alg")
    kid = header.get("kid")
    usable = [k for k in jwks if alg in key_algs(k) and k.get("use", "sig") == "sig"]
    if kid is not None:
        matches = [k for k in usable if k.get("kid") == kid]
        if not matches:
            known = ", ".join(str(k.get("kid")) for k in jwks) or "none"
            raise TokenVerificationError(
                f"no trusted key has kid {kid!r} for alg {alg} (trusted kids: {known})"
            )
        return matches[0]
    if len(usable) != 1:
        raise TokenVerificationError("the token has no 'kid' and the trusted keys do not pick one key")
    return usable[0]


def check_alg(header: Mapping[str, Any], allowed: frozenset[str] = ASYMMETRIC_ALGS) -> str:
    alg = header.get("alg")
    if alg == "none" or not isinstance(alg, str):
        raise TokenVerificationError("alg 'none' means the token is unsigned; it is never accepted")
    if alg.startswith("HS"):
        raise TokenVerificationError(
            f"{alg} is a shared-secret MAC; tokens from an IdP must be signed with an asymmetric key "
            "(accepting it would allow the HMAC key-confusion attack)"
        )
    if alg not in allowed:
        raise TokenVerificationError(f"alg {alg!r} is not on the allow-list ({', '.join(sorted(allowed))})")
    return alg


@functools.lru_cache(maxsize=32)
def alg_model(alg: str) -> Any:
    """joserfc's algorithm object for ``alg`` through a registry that allows that one algorithm (cached:
    these are stateless). Signing and verifying call it directly on the signing input, because
    ``jws.serialize_compact``/``deserialize_compact`` re-encode or re-parse what the caller already holds:
    about 60% of the cost of each ES256 operation on the reference server (benchmarks/server_load.py)."""
    from joserfc.errors import SecurityWarning
    from joserfc.jws import JWSRegistry

    with warnings.catch_warnings():
        # joserfc warns that "EdDSA" is deprecated (RFC 9864); we accept it on purpose from Ed25519 keys,
        # because tokens in the wild still carry it.
        warnings.simplefilter("ignore", SecurityWarning)
        return JWSRegistry(algorithms=[alg]).get_alg(alg)


@functools.lru_cache(maxsize=1)
def _header_registry() -> Any:
    from joserfc.jws import JWSRegistry

    return JWSRegistry()


def check_header(header: Mapping[str, Any]) -> None:
    """joserfc's checks of a JWS header: registered parameters have their JSON types, ``crit`` names
    parameters that are present and understood. Raises joserfc's ``JoseError`` subclasses."""
    _header_registry().check_header(dict(header))


def verify_signature(
    decoded: DecodedJWS,
    jwks: Sequence[Mapping[str, Any]],
    *,
    algorithms: frozenset[str] = ASYMMETRIC_ALGS,
) -> Mapping[str, Any]:
    """Verify ``decoded`` with one of ``jwks`` (trusted public keys). Returns the key used.

    Raises ``TokenVerificationError`` with a reason a person can act on.
    """
    from joserfc.errors import JoseError

    from xaa_cli.core.keys import key_object

    alg = check_alg(decoded.header, algorithms)
    if "crit" in decoded.header:  # present at all, even null or []: extensions we do not implement
        raise TokenVerificationError("the token has 'crit' header parameters xaa does not understand")
    key_dict = select_key(decoded.header, jwks)
    try:
        check_header(decoded.header)
        key = key_object(key_dict)
        model = alg_model(alg)
        model.check_key(key)
        valid = model.verify(decoded.signing_input, decoded.signature, key)
    except JoseError as exc:
        raise TokenVerificationError(f"the signature does not verify ({exc.error})") from exc
    except ValueError as exc:
        raise TokenVerificationError(f"the trusted key could not be used ({exc})") from exc
    if not valid:
        raise TokenVerificationError("the signature does not verify (bad_signature)")
    return key_dict


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint, base64url (used for ``cnf.jkt``)."""
    from joserfc.jwk import import_key

    return import_key(dict(jwk)).thumbprint()
