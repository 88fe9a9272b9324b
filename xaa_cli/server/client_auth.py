"""Client authentication at every token, revocation and introspection endpoint (RFC 6749 §2.3.1, RFC 7523
§2.2 / rfc7523bis): ``client_secret_basic`` (form-urlencoded id and secret), ``client_secret_post``,
``private_key_jwt``; exactly one method per request. A ``client_id`` form field next to Basic is accepted when
it names the same client."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote_plus

from xaa_cli.core.jose import ASYMMETRIC_ALGS, decode_unverified, verify_signature
from xaa_cli.errors import TokenFormatError, TokenVerificationError
from xaa_cli.server.errors import OAuthServerError, invalid_client, invalid_request
from xaa_cli.server.store import Store
from xaa_cli.server.wire import Request

CLIENT_ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_ASSERTION_TYPS: Final = frozenset({"jwt", "client-authentication+jwt"})
MAX_CLIENT_ASSERTION_BYTES: Final = 8 * 1024
MAX_CLIENT_ASSERTION_LIFETIME: Final = 3600


@dataclass(frozen=True, slots=True)
class ClientCredential:
    """What a server knows of a client's credentials: a secret's SHA-256 and/or public keys."""

    secret_sha256: str | None = None
    public_jwks: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Registration:
    client_id: str
    methods: tuple[str, ...]
    credential: ClientCredential


@dataclass(frozen=True, slots=True)
class Authenticated:
    client_id: str
    method: str  # one of policy.AUTH_METHODS


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ClientAuthenticator:
    """Authenticates clients of one realm (the IdP or an app)."""

    realm: str
    lookup: Callable[[str], Registration | None]
    audiences: frozenset[str]  # issuer (rfc7523bis) and endpoint URLs (RFC 7523 legacy) accepted as `aud`
    store: Store
    now: Callable[[], float]

    def authenticate(self, req: Request) -> Authenticated:
        basic = _basic_credentials(req)
        assertion = req.param("client_assertion")
        secret = req.param("client_secret")
        used = [m for m, present in (("basic", basic), ("post", secret), ("jwt", assertion)) if present]
        if len(used) > 1:
            raise invalid_request("the request uses more than one client authentication method")
        form_id = req.param("client_id")
        if basic is not None:
            return self._secret(basic[0], basic[1], "client_secret_basic", form_id, basic=True)
        if secret is not None:
            if form_id is None:
                raise invalid_client("client_secret without client_id", basic=False)
            return self._secret(form_id, secret, "client_secret_post", None, basic=False)
        if assertion is not None:
            return self._assertion(req, assertion, form_id)
        if form_id is None:
            raise invalid_client("the client did not authenticate", basic=False)
        registration = self._registration(form_id, basic=False)
        if "none" not in registration.methods:
            raise invalid_client("this client must authenticate", basic=False)
        return Authenticated(form_id, "none")

    def _registration(self, client_id: str, *, basic: bool) -> Registration:
        registration = self.lookup(client_id)
        if registration is None:
            raise invalid_client("unknown client", basic=basic)
        return registration

    def _secret(
        self, client_id: str, secret: str, method: str, form_id: str | None, *, basic: bool
    ) -> Authenticated:
        if form_id is not None and form_id != client_id:
            raise invalid_request("the client_id parameter does not match the authenticated client")
        registration = self._registration(client_id, basic=basic)
        expected = registration.credential.secret_sha256
        if method not in registration.methods or expected is None:
            raise invalid_client(f"{method} is not registered for this client", basic=basic)
        if not hmac.compare_digest(secret_sha256(secret), expected):
            raise invalid_client("client authentication failed", basic=basic)
        return Authenticated(client_id, method)

    def _assertion(self, req: Request, assertion: str, form_id: str | None) -> Authenticated:
        if req.param("client_assertion_type") != CLIENT_ASSERTION_TYPE:
            raise invalid_request(f"client_assertion_type must be {CLIENT_ASSERTION_TYPE}")
        if len(assertion) > MAX_CLIENT_ASSERTION_BYTES:
            raise invalid_client("the client assertion is too large", basic=False)
        try:
            decoded = decode_unverified(assertion)
        except TokenFormatError as exc:
            raise invalid_client(f"the client assertion is malformed: {exc}", basic=False) from None
        claims = decoded.claims
        client_id = claims.get("iss")
        if not isinstance(client_id, str) or claims.get("sub") != client_id:
            raise invalid_client("the client assertion must have iss == sub == client_id", basic=False)
        if form_id is not None and form_id != client_id:
            raise invalid_request("the client_id parameter does not match the client assertion")
        registration = self._registration(client_id, basic=False)
        if "private_key_jwt" not in registration.methods or not registration.credential.public_jwks:
            raise invalid_client("private_key_jwt is not registered for this client", basic=False)
        typ = decoded.header.get("typ")
        if typ is not None and str(typ).lower() not in CLIENT_ASSERTION_TYPS:
            raise invalid_client(
                "the client assertion typ is not JWT or client-authentication+jwt", basic=False
            )
        try:
            verify_signature(decoded, registration.credential.public_jwks, algorithms=ASYMMETRIC_ALGS)
        except TokenVerificationError as exc:
            raise invalid_client(f"the client assertion is not valid: {exc}", basic=False) from None
        self._check_assertion_claims(claims, client_id)
        return Authenticated(client_id, "private_key_jwt")

    def _check_assertion_claims(self, claims: Mapping[str, Any], client_id: str) -> None:
        aud = claims.get("aud")
        auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not any(isinstance(a, str) and a in self.audiences for a in auds):
            raise invalid_client(
                "the client assertion aud is not this server's issuer or endpoint", basic=False
            )
        now = self.now()
        exp, iat, jti = claims.get("exp"), claims.get("iat"), claims.get("jti")
        if not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= now - 30:
            raise invalid_client("the client assertion has expired or has no exp", basic=False)
        if isinstance(iat, int | float) and iat > now + 30:
            raise invalid_client("the client assertion is issued in the future", basic=False)
        if exp - now > MAX_CLIENT_ASSERTION_LIFETIME:
            raise invalid_client("the client assertion lives too long", basic=False)
        if not isinstance(jti, str) or not jti:
            raise invalid_client("the client assertion has no jti", basic=False)
        if not self.store.remember_jti(
            f"client-assertion:{self.realm}", client_id, jti, int(exp) + 60, int(now)
        ):
            raise invalid_client("the client assertion was already used (jti replay)", basic=False)


def _basic_credentials(req: Request) -> tuple[str, str] | None:
    header = req.headers.get("authorization")
    if header is None or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_client("the Basic credentials are not valid base64", basic=True) from None
    if ":" not in decoded:
        raise invalid_client("the Basic credentials have no ':' separator", basic=True)
    raw_id, raw_secret = decoded.split(":", 1)
    # RFC 6749 §2.3.1: both halves are application/x-www-form-urlencoded before base64.
    return unquote_plus(raw_id), unquote_plus(raw_secret)


def require_confidential(auth: Authenticated) -> None:
    if auth.method == "none":
        raise OAuthServerError("unauthorized_client", "this grant is only for confidential clients")
