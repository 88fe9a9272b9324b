"""RFC 7009 token revocation, as a client: build the request, send it, read the answer.

- The request is a form POST of ``token`` and (optionally) ``token_type_hint`` with the client's one
  configured authentication method (§2.1) — the same credentials the client uses at that server's token
  endpoint, because the server checks that the token was issued to the client asking (§2.1).
- HTTP 200 is success *even for a token the server does not know* (§2.2): an invalid token cannot be used,
  so there is nothing left to revoke. Repeating a revocation is therefore harmless.
- ``unsupported_token_type`` (§2.2.1) means the server cannot revoke that kind of token: it stays valid
  until it expires. It is raised as ``UnsupportedTokenType`` so callers can say so.
- 503 with ``Retry-After`` (§2.2.1) is retried once when the wait is short and the caller passed ``sleep``;
  otherwise ``RevocationUnavailable`` carries the advertised wait.

Building the request is pure (``build_revocation_request``) so it can be tested without a network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from xaa_cli.clock import Clock, IdFactory, random_id
from xaa_cli.core.client_auth import ClientCredentials, authenticate
from xaa_cli.core.token_endpoint import Endpoint, Hop, describe_non_json, error_for, json_or_none, round_trip
from xaa_cli.errors import OAuthError, ProtocolError, RemoteError, UsageError

if TYPE_CHECKING:
    import httpx

    from xaa_cli.core.discovery import ServerMetadata

TokenTypeHint = Literal["access_token", "refresh_token"]
TOKEN_TYPE_HINTS: Final[tuple[str, ...]] = ("access_token", "refresh_token")
MAX_RETRY_WAIT_S: Final = 5.0  # longer waits are reported, not slept through: incident response is urgent
MAX_RETRY_AFTER_S: Final = 24 * 3600.0


class UnsupportedTokenType(OAuthError):
    """RFC 7009 §2.2.1: the server does not revoke this type of token (it stays valid until it expires)."""

    code = "unsupported_token_type"


class RevocationUnavailable(RemoteError):
    """RFC 7009 §2.2.1: 503, the server cannot revoke right now; ``retry_after`` seconds if it said."""

    code = "revocation_unavailable"

    def __init__(self, message: str, *, retry_after: float | None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RevocationRequest:
    """Exactly what goes on the wire (``form`` and ``headers`` hold secrets: never print them)."""

    url: str
    form: Mapping[str, str] = field(repr=False)
    headers: Mapping[str, str] = field(repr=False)


@dataclass(frozen=True, slots=True)
class RevocationResult:
    endpoint: str
    status: int
    attempts: int


def revocation_endpoint(metadata: ServerMetadata, credentials: ClientCredentials, label: str) -> Endpoint:
    """The server's ``revocation_endpoint`` (RFC 8414) with this client's credentials there."""
    from xaa_cli.core.http import require_secure_url

    url = metadata.endpoint("revocation_endpoint")
    if not url:
        raise RemoteError(
            f"{label} ({metadata.issuer}) offers no revocation endpoint (RFC 7009)",
            hint="its tokens stay valid until they expire; ask its administrator to revoke them",
        )
    return Endpoint(metadata.issuer, require_secure_url(url, what="revocation_endpoint"), credentials, label)


def build_revocation_request(
    endpoint: Endpoint,
    token: str,
    hint: str | None,
    *,
    clock: Clock,
    new_id: IdFactory = random_id,
) -> RevocationRequest:
    """The RFC 7009 §2.1 request: ``token``, ``token_type_hint`` and the client's authentication."""
    if not token or token != token.strip():
        raise UsageError("the token to revoke is empty or has surrounding whitespace")
    if hint is not None and hint not in TOKEN_TYPE_HINTS:
        raise UsageError(f"token_type_hint {hint!r} is not one of {', '.join(TOKEN_TYPE_HINTS)}")
    form = {"token": token} | ({"token_type_hint": hint} if hint else {})
    creds = endpoint.credentials
    body, headers = authenticate(creds, form, issuer=endpoint.issuer, clock=clock, new_id=new_id)
    return RevocationRequest(endpoint.url, body, headers)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(0.0, when.timestamp() - now), MAX_RETRY_AFTER_S)


def check_revocation_response(
    status: int, body: Any, raw: bytes, headers: Mapping[str, str], hop: Hop, *, now: float
) -> None:
    """Return on success (200, whatever the body says: §2.2 tells clients to ignore it); raise otherwise."""
    if status == 200:
        return
    if status == 503:
        wait = parse_retry_after(headers.get("retry-after"), now)
        later = f"; it asks to retry in {int(wait)} s" if wait is not None else ""
        raise RevocationUnavailable(
            f"{hop.name}: the server is temporarily unable to revoke (HTTP 503){later}",
            retry_after=wait,
            hint="the token is still valid: run the same command again shortly",
        )
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        if body["error"] == UnsupportedTokenType.code:
            description = body.get("error_description")
            raise UnsupportedTokenType(
                UnsupportedTokenType.code,
                description[:300] if isinstance(description, str) else None,
                status=status,
                hop=hop.name,
                hint="this server cannot revoke this kind of token: it stays valid until it expires",
            )
        raise error_for(status, body, hop)
    raise ProtocolError(f"{hop.name}: the server answered {describe_non_json(status, raw)}")


def _post(http: httpx.Client, request: RevocationRequest, hop: Hop) -> tuple[int, Any, bytes, dict[str, str]]:
    status, raw, headers = round_trip(
        http, "POST", request.url, hop, data=request.form, headers=request.headers
    )
    return status, json_or_none(raw), raw, {k.lower(): v for k, v in headers.items()}


def revoke_token(
    http: httpx.Client,
    endpoint: Endpoint,
    token: str,
    *,
    hint: str | None,
    clock: Clock,
    sleep: Callable[[float], None] | None = None,
    new_id: IdFactory = random_id,
    max_wait: float = MAX_RETRY_WAIT_S,
) -> RevocationResult:
    """Revoke ``token`` at ``endpoint``; one retry after a short ``Retry-After`` when ``sleep`` is given.

    Raises ``NetworkError``, ``RevocationUnavailable``, ``UnsupportedTokenType``, ``OAuthError`` or
    ``ProtocolError``: in every one of those cases the token must be assumed to be still valid.
    """
    hop = Hop(f"revocation at {endpoint.label}", endpoint.credentials.client_id, endpoint.label)
    attempts = 0
    while True:
        attempts += 1
        # Rebuilt per attempt: a private_key_jwt assertion carries a fresh jti and must not be replayed.
        request = build_revocation_request(endpoint, token, hint, clock=clock, new_id=new_id)
        status, body, raw, headers = _post(http, request, hop)
        try:
            check_revocation_response(status, body, raw, headers, hop, now=clock.now())
        except RevocationUnavailable as exc:
            wait = exc.retry_after
            if attempts > 1 or sleep is None or wait is None or wait > max_wait:
                raise
            sleep(wait)
            continue
        return RevocationResult(endpoint.url, status, attempts)
