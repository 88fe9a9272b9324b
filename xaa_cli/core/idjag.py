"""The two-hop Cross-App Access flow (ID-JAG draft -04 §4.3, §4.4).

1. RFC 8693 token exchange at the IdP: subject token → ID-JAG (``audience`` = the app's AS issuer exactly,
   ``resource`` when known, ``scope``). The answer must say ``issued_token_type`` = ID-JAG; ``token_type``
   is ``N_A``, compared case-insensitively (RFC 6749 §5.1); ``expires_in`` may be missing.
2. RFC 7523 jwt-bearer at the app's AS with the ID-JAG as ``assertion`` → access token.

On ``invalid_grant`` at hop 2 (expired, replayed or otherwise refused grant) one fresh ID-JAG is fetched
and hop 2 retried once; ``access_denied`` is never retried (reference §10 item 92). Where a server
granted fewer scopes than asked for, ``FlowResult.narrowed`` says which and where.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from xaa_cli.clock import Clock, IdFactory, random_id
from xaa_cli.core.constants import TOKEN_TYPE_NOT_APPLICABLE, GrantType, TokenType
from xaa_cli.core.redact import fingerprint
from xaa_cli.core.token_endpoint import Endpoint, Hop, InvalidGrant, Observer, token_request
from xaa_cli.errors import OAuthError, ProtocolError, TokenFormatError

if TYPE_CHECKING:
    import httpx

TOKEN_EXCHANGE_HOP: Final = "token exchange at the IdP"  # noqa: S105 (a hop name, not a secret)
DEFAULT_LIFETIME_S: Final = 300  # used only when a server omits expires_in
Recorder = Callable[..., None]  # AuditLog.record-compatible: (event, *, outcome=..., **fields)


@dataclass(frozen=True, slots=True)
class IdJag:
    token: str = field(repr=False)
    expires_in: float | None
    scope: str | None  # granted (None: the server granted nothing it named)
    claims: Mapping[str, Any] = field(default_factory=dict)  # decoded, NOT verified: for display only

    @property
    def jti(self) -> str | None:
        jti = self.claims.get("jti")
        return jti if isinstance(jti, str) else None


@dataclass(frozen=True, slots=True)
class AccessToken:
    access_token: str = field(repr=False)
    token_type: str
    expires_in: float
    scope: str | None


@dataclass(frozen=True, slots=True)
class FlowResult:
    access: AccessToken
    id_jag: IdJag
    narrowed: tuple[str, ...] = ()  # "board:write (dropped by the IdP)"
    retried: bool = False


def _scope_set(scope: str | None) -> list[str]:
    return scope.split() if scope else []


def _granted(response: Mapping[str, Any], requested: str | None, hop: Hop) -> str | None:
    """RFC 6749 §5.1: ``scope`` is omitted when identical to the request."""
    scope = response.get("scope")
    if scope is None:
        return requested
    if not isinstance(scope, str):
        raise ProtocolError(f"{hop.name}: scope in the response is not a string")
    return scope


def _lifetime(response: Mapping[str, Any]) -> float | None:
    value = response.get("expires_in")
    return float(value) if isinstance(value, int | float) else None


def _unverified_claims(token: str) -> dict[str, Any]:
    from xaa_cli.core.jose import decode_unverified

    try:
        return decode_unverified(token).claims
    except TokenFormatError:
        return {}  # e.g. an encrypted ID-JAG: the client does not need to read it


def exchange_for_id_jag(
    http: httpx.Client,
    idp: Endpoint,
    *,
    subject_token: str,
    subject_token_type: str = TokenType.ID_TOKEN,
    audience: str,
    resource: str | None = None,
    scope: str | None = None,
    target: str | None = None,
    clock: Clock,
    new_id: IdFactory = random_id,
    observer: Observer | None = None,
) -> IdJag:
    """Hop 1: RFC 8693 token exchange for an ID-JAG."""
    hop = Hop(TOKEN_EXCHANGE_HOP, idp.credentials.client_id, target or audience, scope)
    form = {
        "grant_type": GrantType.TOKEN_EXCHANGE.value,
        "requested_token_type": TokenType.ID_JAG.value,
        "audience": audience,
    }
    if resource:
        form["resource"] = resource
    if scope:
        form["scope"] = scope
    form["subject_token"] = subject_token
    form["subject_token_type"] = subject_token_type
    response = token_request(http, idp, form, hop, clock=clock, new_id=new_id, observer=observer)
    issued = response.get("issued_token_type")
    if issued != TokenType.ID_JAG:
        raise ProtocolError(
            f"{hop.name}: the IdP issued {issued!r}, not an ID-JAG ({TokenType.ID_JAG.value})",
            hint="the IdP may not support ID-JAG token exchange (draft §4.3)",
        )
    token_type = response.get("token_type")
    if token_type is not None and str(token_type).upper() != TOKEN_TYPE_NOT_APPLICABLE:
        raise ProtocolError(f"{hop.name}: token_type is {token_type!r}; an ID-JAG answer says N_A (RFC 8693)")
    token = response["access_token"]
    return IdJag(token, _lifetime(response), _granted(response, scope, hop), _unverified_claims(token))


def redeem_id_jag(
    http: httpx.Client,
    app: Endpoint,
    id_jag: str,
    *,
    scope: str | None = None,
    resource: str | None = None,
    clock: Clock,
    new_id: IdFactory = random_id,
    observer: Observer | None = None,
) -> AccessToken:
    """Hop 2: RFC 7523 jwt-bearer grant at the app's authorization server."""
    hop = Hop(f"jwt-bearer grant at {app.label}", app.credentials.client_id, app.label, scope)
    form = {"grant_type": GrantType.JWT_BEARER.value, "assertion": id_jag}
    if scope:
        form["scope"] = scope
    if resource:
        form["resource"] = resource
    response = token_request(http, app, form, hop, clock=clock, new_id=new_id, observer=observer)
    token_type = response.get("token_type")
    if not isinstance(token_type, str):
        raise ProtocolError(f"{hop.name}: the token response has no token_type")
    lifetime = _lifetime(response)
    return AccessToken(
        response["access_token"],
        token_type,
        lifetime if lifetime is not None else DEFAULT_LIFETIME_S,
        _granted(response, scope, hop),
    )


def _dropped(requested: str | None, granted: str | None, where: str) -> list[str]:
    have = set(_scope_set(granted))
    return [f"{s} (dropped by {where})" for s in _scope_set(requested) if s not in have]


def get_access_token(
    http: httpx.Client,
    idp: Endpoint,
    app: Endpoint,
    *,
    subject_token: str,
    subject_token_type: str = TokenType.ID_TOKEN,
    resource: str | None = None,
    scope: str | None = None,
    clock: Clock,
    new_id: IdFactory = random_id,
    observer: Observer | None = None,
    record: Recorder | None = None,
) -> FlowResult:
    """Both hops, with one fresh-ID-JAG retry on ``invalid_grant`` at hop 2; each outcome is recorded."""
    audit = record or (lambda *_a, **_k: None)

    def hop1() -> IdJag:
        common = {"issuer": idp.issuer, "audience": app.issuer, "client_id": idp.credentials.client_id}
        try:
            jag = exchange_for_id_jag(
                http, idp, subject_token=subject_token, subject_token_type=subject_token_type,
                audience=app.issuer, resource=resource, scope=scope, target=app.label,
                clock=clock, new_id=new_id, observer=observer,
            )  # fmt: skip
        except OAuthError as exc:
            audit("token_exchange", outcome="error", error=exc.error, scope=scope, **common)
            raise
        shown = fingerprint(jag.token, 16)
        audit("token_exchange", scope=jag.scope, jti=jag.jti, token_fingerprint=shown, **common)
        return jag

    def hop2(jag: IdJag) -> AccessToken:
        common = {"issuer": app.issuer, "audience": resource, "client_id": app.credentials.client_id}
        try:
            access = redeem_id_jag(
                http, app, jag.token, scope=jag.scope if scope else None, resource=resource,
                clock=clock, new_id=new_id, observer=observer,
            )  # fmt: skip
        except OAuthError as exc:
            audit("jwt_bearer", outcome="error", error=exc.error, jti=jag.jti, **common)
            raise
        audit(
            "jwt_bearer", scope=access.scope, jti=jag.jti,
            token_fingerprint=fingerprint(access.access_token, 16), **common,
        )  # fmt: skip
        return access

    jag = hop1()
    retried = False
    try:
        access = hop2(jag)
    except InvalidGrant:
        jag, retried = hop1(), True
        access = hop2(jag)
    narrowed = _dropped(scope, jag.scope, "the IdP")
    narrowed += _dropped(jag.scope if scope else None, access.scope, app.label)
    return FlowResult(access, jag, tuple(narrowed), retried)
