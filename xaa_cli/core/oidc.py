"""OpenID Connect pieces of ``xaa login``: PKCE, the authorization request and response checks, the ID token
validation (OIDC Core §3.1.3.7) and the grants that return an ID token (code, refresh, device code).

Signature verification goes through ``core.jose`` against the IdP's JWKS, with one refetch when the ``kid``
is unknown (key rotation); claims are checked here because only the caller knows the token profile.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from xaa_cli.b64 import b64url_encode
from xaa_cli.clock import Clock, IdFactory, random_id
from xaa_cli.core.constants import ID_JAG_JWT_TYP, PKCE_METHOD, GrantType
from xaa_cli.core.discovery import ServerMetadata
from xaa_cli.core.token_endpoint import Endpoint, Hop, get_json, token_request
from xaa_cli.errors import LoginRequired, ProtocolError, RemoteError, TokenVerificationError, UsageError

if TYPE_CHECKING:
    import httpx

LEEWAY_S: Final = 60
MAX_JWKS_KEYS: Final = 50


@dataclass(frozen=True, slots=True)
class Pkce:
    verifier: str = field(repr=False)
    challenge: str


def make_pkce(new_id: IdFactory = random_id) -> Pkce:
    """RFC 7636 §4.1-4.2: a verifier of 43-128 unreserved characters and its S256 challenge."""
    verifier = (new_id() + new_id())[:128]
    if len(verifier) < 43:
        raise ValueError("the id factory makes identifiers too short for a PKCE verifier")
    return Pkce(verifier, pkce_challenge(verifier))


def pkce_challenge(verifier: str) -> str:
    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True, slots=True)
class LoginResult:
    """What a successful sign-in yields; ``claims`` are from the validated ID token."""

    id_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    claims: Mapping[str, Any]


# ----------------------------------------------------------------------------------------- authorize
def authorization_url(
    metadata: ServerMetadata,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: Sequence[str],
    state: str,
    nonce: str | None,
    pkce: Pkce,
    extra: Mapping[str, str] | None = None,
) -> str:
    """The authorization request URL; ``nonce`` only for OIDC, ``extra`` e.g. an RFC 8707 ``resource``."""
    endpoint = metadata.endpoint("authorization_endpoint")
    if not endpoint:
        raise ProtocolError(f"{metadata.issuer} advertises no authorization_endpoint")
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
    }
    if nonce is not None:
        params["nonce"] = nonce
    params |= {"code_challenge": pkce.challenge, "code_challenge_method": PKCE_METHOD, **(extra or {})}
    query = urlencode(params)
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def check_authorization_response(params: Mapping[str, str], *, state: str, metadata: ServerMetadata) -> str:
    """Return the code after the ``state`` (CSRF) and RFC 9207 ``iss`` (mix-up) checks."""
    if params.get("state") != state:
        raise ProtocolError("the sign-in answer carries the wrong state; it was not for this login (CSRF?)")
    iss = params.get("iss")
    if iss is not None and iss != metadata.issuer:
        raise ProtocolError(
            f"the sign-in answer came from issuer {iss!r}, not {metadata.issuer!r} (RFC 9207 mix-up defence)"
        )
    if iss is None and metadata.iss_parameter_supported:
        raise ProtocolError("the IdP promises an iss parameter (RFC 9207) but the sign-in answer has none")
    if "error" in params:
        error, detail = _printable(params["error"], 100), _printable(params.get("error_description", ""), 200)
        raise RemoteError(
            f"sign-in at {metadata.issuer} failed: {error}" + (f" ({detail})" if detail else ""),
            hint="try again; if it keeps failing, ask the administrator whether you may use this client",
        )
    code = params.get("code")
    if not code:
        raise ProtocolError("the sign-in answer has no authorization code")
    return code


def _printable(text: str, limit: int) -> str:
    return "".join(c if c.isprintable() else "?" for c in text[:limit])


# ----------------------------------------------------------------------------------------- ID token
def fetch_jwks(http: httpx.Client, metadata: ServerMetadata) -> list[Mapping[str, Any]]:
    uri = metadata.endpoint("jwks_uri")
    if not uri:
        raise ProtocolError(f"the IdP {metadata.issuer} advertises no jwks_uri")
    status, document, _ = get_json(http, uri, Hop("fetching the IdP's keys", ""))
    keys = document.get("keys") if isinstance(document, dict) else None
    if status != 200 or not isinstance(keys, list):
        raise ProtocolError(f"the IdP's JWKS at {uri} is not a JWK set (HTTP {status})")
    return [k for k in keys[:MAX_JWKS_KEYS] if isinstance(k, dict)]


def check_id_token_claims(
    claims: Mapping[str, Any], *, issuer: str, client_id: str, now: float, nonce: str | None
) -> None:
    """OIDC Core §3.1.3.7 items 2-3, 9-11, exact string comparisons."""
    if claims.get("iss") != issuer:
        raise TokenVerificationError(f"the ID token was issued by {claims.get('iss')!r}, not {issuer!r}")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if client_id not in audiences:
        raise TokenVerificationError(f"the ID token is for {aud!r}, not for client {client_id!r}")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise TokenVerificationError("the ID token has several audiences and azp is not this client")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise TokenVerificationError("the ID token has no exp")
    if exp + LEEWAY_S < now:
        raise TokenVerificationError("the ID token has expired")
    if not isinstance(claims.get("iat"), int | float) or not isinstance(claims.get("sub"), str):
        raise TokenVerificationError("the ID token lacks iat or sub")
    if nonce is not None and claims.get("nonce") != nonce:
        raise TokenVerificationError("the ID token's nonce does not match this login (replayed token?)")


def validate_id_token(
    http: httpx.Client,
    token: str,
    metadata: ServerMetadata,
    *,
    client_id: str,
    clock: Clock,
    nonce: str | None = None,
    jwks: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Signature (IdP JWKS), ``iss``, ``aud``, ``exp``, ``nonce``. Returns the claims."""
    from xaa_cli.core.jose import decode_unverified, verify_signature

    decoded = decode_unverified(token)
    if str(decoded.header.get("typ", "")).lower().endswith(ID_JAG_JWT_TYP):
        raise TokenVerificationError("this is an ID-JAG, not an ID token (RFC 8725 §3.11)")
    keys = list(jwks) if jwks is not None else fetch_jwks(http, metadata)
    try:
        verify_signature(decoded, keys)
    except TokenVerificationError:
        if jwks is not None:
            raise
        verify_signature(decoded, fetch_jwks(http, metadata))  # the IdP may have rotated its keys
    check_id_token_claims(
        decoded.claims, issuer=metadata.issuer, client_id=client_id, now=clock.now(), nonce=nonce
    )
    return decoded.claims


def login_result(
    http: httpx.Client,
    response: Mapping[str, Any],
    metadata: ServerMetadata,
    *,
    client_id: str,
    clock: Clock,
    nonce: str | None,
    previous_refresh: str | None = None,
) -> LoginResult:
    id_token = response.get("id_token")
    if not isinstance(id_token, str) and previous_refresh is not None:
        # OIDC Core §12.2: a refresh answer MAY omit the ID token; then it cannot renew the subject token.
        raise LoginRequired(
            "the IdP renewed the session but sent no new ID token, so your sign-in cannot be renewed",
            hint="run `xaa login`",
        )
    if not isinstance(id_token, str):
        raise ProtocolError("the IdP answered without an id_token; is 'openid' among the login scopes?")
    claims = validate_id_token(http, id_token, metadata, client_id=client_id, clock=clock, nonce=nonce)
    refresh = response.get("refresh_token")
    return LoginResult(id_token, refresh if isinstance(refresh, str) else previous_refresh, claims)


# ----------------------------------------------------------------------------------------- grants
def redeem_code(
    http: httpx.Client,
    idp: Endpoint,
    metadata: ServerMetadata,
    *,
    code: str,
    redirect_uri: str,
    pkce: Pkce,
    nonce: str,
    clock: Clock,
    new_id: IdFactory = random_id,
) -> LoginResult:
    form = {
        "grant_type": GrantType.AUTHORIZATION_CODE.value,
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": pkce.verifier,
    }
    hop = Hop("authorization code grant at the IdP", idp.credentials.client_id, "the IdP")
    response = token_request(http, idp, form, hop, clock=clock, new_id=new_id)
    client_id = idp.credentials.client_id
    return login_result(http, response, metadata, client_id=client_id, clock=clock, nonce=nonce)


def refresh_login(
    http: httpx.Client,
    idp: Endpoint,
    metadata: ServerMetadata,
    *,
    refresh_token: str,
    clock: Clock,
    new_id: IdFactory = random_id,
) -> LoginResult:
    """Renew the ID token with the IdP refresh token (ID-JAG §4.4.3); nonce is not checked (OIDC §12.2)."""
    form = {"grant_type": GrantType.REFRESH_TOKEN.value, "refresh_token": refresh_token}
    hop = Hop("refresh token grant at the IdP", idp.credentials.client_id, "the IdP")
    response = token_request(http, idp, form, hop, clock=clock, new_id=new_id)
    return login_result(
        http, response, metadata, client_id=idp.credentials.client_id, clock=clock, nonce=None,
        previous_refresh=refresh_token,
    )  # fmt: skip


def require_loopback_redirect(uri: str) -> str:
    if not uri.startswith("http://127.0.0.1:"):
        raise UsageError(f"the redirect URI {uri} is not a loopback IP redirect (RFC 8252 §7.3)")
    return uri
