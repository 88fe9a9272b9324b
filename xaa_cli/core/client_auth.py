"""Client authentication at a token endpoint: exactly one method per request (RFC 6749 §2.3.1).

- ``client_secret_basic``: ``client_id`` and secret are each ``application/x-www-form-urlencoded``-encoded,
  joined by ``:`` and base64-encoded (RFC 6749 §2.3.1). Encoding matters: a secret with ``+`` or ``%``
  sent raw authenticates differently at a strict server.
- ``client_secret_post``: ``client_id`` and ``client_secret`` in the form body.
- ``private_key_jwt``: a signed assertion (RFC 7523 §2.2) with ``aud`` = the AS *issuer* (rfc7523bis),
  a fresh ``jti`` and a short ``exp``.
- ``none``: ``client_id`` only (public client).

``client_id`` is also sent as a form field with Basic and private_key_jwt: RFC 6749 §3.2.1 allows a
client to identify itself that way, it is not a second authentication method, and some servers require it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote_plus

from xaa_cli.clock import Clock, IdFactory, random_id
from xaa_cli.core.constants import CLIENT_ASSERTION_TYPE_JWT, CLIENT_AUTH_JWT_TYP, ClientAuthMethod
from xaa_cli.errors import ConfigError

ASSERTION_LIFETIME_S: Final = 60
_SECRET_METHODS: Final = (ClientAuthMethod.CLIENT_SECRET_BASIC, ClientAuthMethod.CLIENT_SECRET_POST)


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """Who the client is at one authorization server, and how it proves it."""

    client_id: str
    method: ClientAuthMethod
    secret: str | None = field(default=None, repr=False)
    private_jwk: Mapping[str, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.method in _SECRET_METHODS and not self.secret:
            raise ConfigError(
                f"{self.method} is configured for client {self.client_id!r} but no client secret is stored",
                hint="store it with `xaa profile add --client-secret-stdin` "
                "or `xaa app add --client-secret-stdin`",
            )
        if self.method == ClientAuthMethod.PRIVATE_KEY_JWT and not self.private_jwk:
            raise ConfigError(
                f"private_key_jwt is configured for client {self.client_id!r} but no private key is stored",
                hint="create one with `xaa key generate` and register its public key at the server",
            )


def basic_header(client_id: str, secret: str) -> str:
    """The ``Authorization`` value for client_secret_basic, form-urlencoding each part first."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def client_assertion(
    creds: ClientCredentials, audience: str, *, clock: Clock, new_id: IdFactory = random_id
) -> str:
    """A private_key_jwt assertion: iss = sub = client_id, aud = the AS issuer, short-lived, unique jti."""
    if creds.private_jwk is None:  # prevented by __post_init__; kept for the type checker
        raise ConfigError(f"no private key for client {creds.client_id!r}")
    now = int(clock.now())
    claims = {
        "iss": creds.client_id,
        "sub": creds.client_id,
        "aud": audience,
        "jti": new_id(),
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_S,
    }
    return sign_assertion(claims, creds.private_jwk)


def sign_assertion(claims: Mapping[str, Any], jwk: Mapping[str, Any]) -> str:
    """Sign with the key's algorithm. ES256/384/512 keys are signed with ``cryptography`` directly: the
    token path then skips importing joserfc (~80-190 ms measured), which ``benchmarks/token_bench.py``
    shows is most of a cold ``xaa token get``. Other key types go through ``core.keys.sign_jwt``."""
    alg = str(jwk.get("alg") or "ES256")
    if jwk.get("kty") == "EC" and alg in _EC_HASH and jwk.get("crv") == _EC_CURVE[alg]:
        return _sign_ec(claims, jwk, alg)
    from xaa_cli.core.keys import sign_jwt

    return sign_jwt(claims, jwk, typ=CLIENT_AUTH_JWT_TYP)


_EC_HASH: Final = {"ES256": "SHA256", "ES384": "SHA384", "ES512": "SHA512"}
_EC_CURVE: Final = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_EC_SIZE: Final = {"ES256": 32, "ES384": 48, "ES512": 66}


def _sign_ec(claims: Mapping[str, Any], jwk: Mapping[str, Any], alg: str) -> str:
    """RFC 7515 §A.3: JWS with ECDSA, signature = R || S as fixed-size big-endian integers."""
    import json

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    from xaa_cli.b64 import b64url_decode, b64url_encode

    curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}[alg]
    key = ec.derive_private_key(int.from_bytes(b64url_decode(str(jwk["d"])), "big"), curve)
    header: dict[str, Any] = {"alg": alg, "typ": CLIENT_AUTH_JWT_TYP}
    if jwk.get("kid"):
        header["kid"] = jwk["kid"]
    signing_input = ".".join(
        b64url_encode(json.dumps(part, separators=(",", ":")).encode()) for part in (header, dict(claims))
    )
    der = key.sign(signing_input.encode("ascii"), ec.ECDSA(getattr(hashes, _EC_HASH[alg])()))
    r, s = decode_dss_signature(der)
    size = _EC_SIZE[alg]
    return f"{signing_input}.{b64url_encode(r.to_bytes(size, 'big') + s.to_bytes(size, 'big'))}"


def authenticate(
    creds: ClientCredentials,
    form: Mapping[str, str],
    *,
    issuer: str,
    clock: Clock,
    new_id: IdFactory = random_id,
) -> tuple[dict[str, str], dict[str, str]]:
    """Return ``(form, headers)`` with the client's one authentication method applied."""
    body = dict(form)
    headers: dict[str, str] = {}
    body["client_id"] = creds.client_id
    secret = creds.secret or ""  # non-empty for the secret methods (checked in __post_init__)
    if creds.method == ClientAuthMethod.CLIENT_SECRET_BASIC:
        headers["Authorization"] = basic_header(creds.client_id, secret)
    elif creds.method == ClientAuthMethod.CLIENT_SECRET_POST:
        body["client_secret"] = secret
    elif creds.method == ClientAuthMethod.PRIVATE_KEY_JWT:
        body["client_assertion_type"] = CLIENT_ASSERTION_TYPE_JWT
        body["client_assertion"] = client_assertion(creds, issuer, clock=clock, new_id=new_id)
    return body, headers
