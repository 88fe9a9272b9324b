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
    from xaa_cli.core.keys import sign_jwt

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
    return sign_jwt(claims, creds.private_jwk, typ=CLIENT_AUTH_JWT_TYP)


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
