"""Calling a token endpoint in three separate steps: build the request, parse the response, map the error.

One function per step keeps each testable on its own through ``httpx.MockTransport``:

- ``send_form`` posts ``application/x-www-form-urlencoded`` with the client's one authentication method and
  reads at most ``MAX_RESPONSE_BYTES`` of the answer;
- ``parse_token_response`` accepts only a JSON object with a string ``access_token``;
- ``error_for`` turns an RFC 6749 §5.2 error body into an ``OAuthError`` subclass (from ``ERROR_CLASSES``)
  whose message names the hop and whose hint says the likely cause in words.

Every exchange is reported to an optional ``Observer`` (``--show-steps``) with secrets already redacted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from xaa_cli.clock import Clock, IdFactory, random_id
from xaa_cli.core.client_auth import ClientCredentials, authenticate
from xaa_cli.core.http import MAX_RESPONSE_BYTES
from xaa_cli.core.redact import redact_form, scrub_mapping
from xaa_cli.errors import NetworkError, OAuthError, ProtocolError

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A token endpoint and the credentials this client uses there."""

    issuer: str
    url: str
    credentials: ClientCredentials
    label: str  # "the IdP" or the app alias, for messages


@dataclass(frozen=True, slots=True)
class Hop:
    """Where a request goes, in words, for messages and hints."""

    name: str  # e.g. "token exchange at the IdP"
    client_id: str
    target: str | None = None  # what the client tried to reach (an app alias or issuer)
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class StepEvent:
    """One request/response, safe to print: secrets in ``params`` and ``body`` are redacted."""

    hop: str
    url: str
    grant_type: str
    params: str
    status: int
    body: Mapping[str, Any] = field(default_factory=dict)


Observer = Callable[[StepEvent], None]


# ----------------------------------------------------------------------------------------- errors
class InvalidRequest(OAuthError):
    code = "invalid_request"


class InvalidClient(OAuthError):
    code = "invalid_client"


class InvalidGrant(OAuthError):
    code = "invalid_grant"


class UnauthorizedClient(OAuthError):
    code = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    code = "unsupported_grant_type"


class InvalidScope(OAuthError):
    code = "invalid_scope"


class InvalidTarget(OAuthError):
    code = "invalid_target"


class AccessDenied(OAuthError):
    code = "access_denied"


class InsufficientUserAuthentication(OAuthError):
    code = "insufficient_user_authentication"


class DevicePending(OAuthError):
    """RFC 8628 ``authorization_pending`` / ``slow_down``: not a failure, poll again."""

    code = "authorization_pending"


ERROR_CLASSES: Final[Mapping[str, type[OAuthError]]] = {
    "invalid_request": InvalidRequest,
    "invalid_client": InvalidClient,
    "invalid_grant": InvalidGrant,
    "unauthorized_client": UnauthorizedClient,
    "unsupported_grant_type": UnsupportedGrantType,
    "invalid_scope": InvalidScope,
    "invalid_target": InvalidTarget,
    "access_denied": AccessDenied,
    "insufficient_user_authentication": InsufficientUserAuthentication,
    "authorization_pending": DevicePending,
    "slow_down": DevicePending,
}

# The likely cause, in words. ``{client}``, ``{target}``, ``{scope}`` and ``{hop}`` are filled in.
HINTS: Final[Mapping[str, str]] = {
    "invalid_request": "the server found the request malformed or missing a parameter; rerun with "
    "--verbose to see what was sent",
    "invalid_client": "the server did not accept the credentials of client {client}; check the client "
    "secret or private key in the secret store and the authentication method in the profile",
    "invalid_grant": "the grant presented at the {hop} was refused (expired, revoked, already used or "
    "issued to another client); run `xaa login` if it keeps happening",
    "unauthorized_client": "client {client} is not allowed to use this grant type at this server, or "
    "has been disabled by an administrator",
    "unsupported_grant_type": "the server does not support this grant type",
    # Policy may decide per user as well as per client: name both rather than blame the client.
    "invalid_scope": "the requested scope ({scope}) is unknown at {target}, or the policy does not grant "
    "it to this user through client {client}",
    "invalid_target": "the IdP's policy does not let client {client} reach {target}",
    "access_denied": "the policy denies this user or client access to {target}",
    "insufficient_user_authentication": "the IdP wants a more recent or stronger sign-in: run `xaa login`",
    "expired_token": "the sign-in code expired before it was approved: run `xaa login --device` again",
}


def error_for(status: int, body: Mapping[str, Any], hop: Hop) -> OAuthError:
    """An ``OAuthError`` subclass for an RFC 6749 §5.2 body (``body['error']`` must be a string)."""
    code = "".join(c if c.isprintable() else "?" for c in str(body["error"])[:100])
    description = body.get("error_description")
    # Server text reaches the terminal: cap it and replace control characters (no escape sequences).
    desc = (
        "".join(c if c.isprintable() else "?" for c in description[:300])
        if isinstance(description, str)
        else None
    )
    template = HINTS.get(code)
    hint = None
    if template:
        hint = template.format(
            client=hop.client_id,
            target=hop.target or "the requested audience",
            scope=hop.scope or "none given",
            hop=hop.name,
        )
    extra = {k: v for k, v in body.items() if k in ("error_uri", "max_age", "acr_values", "interval")}
    klass = ERROR_CLASSES.get(code, OAuthError)
    return klass(code, desc, status=status, hop=hop.name, hint=hint, extra=extra)


# ----------------------------------------------------------------------------------------- transport
def read_capped(response: httpx.Response, hop: Hop, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    """Read at most ``limit`` bytes; a larger answer is refused instead of filling memory."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise ProtocolError(f"{hop.name}: the answer is larger than {limit // 1024} KiB; refusing it")
        chunks.append(chunk)
    return b"".join(chunks)


def round_trip(
    http: httpx.Client,
    method: str,
    url: str,
    hop: Hop,
    *,
    data: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    limit: int = MAX_RESPONSE_BYTES,
) -> tuple[int, bytes, httpx.Headers]:
    """One request with the body read under the size cap; network failures → ``NetworkError``."""
    import httpx

    try:
        with http.stream(
            method,
            url,
            data=dict(data) if data is not None else None,
            headers=dict(headers) if headers is not None else None,
            params=params,
        ) as response:
            raw = read_capped(response, hop, limit)
            return response.status_code, raw, response.headers
    except httpx.TransportError as exc:
        raise NetworkError(f"{hop.name}: cannot reach {url} ({type(exc).__name__})") from exc


def json_or_none(raw: bytes) -> Any:
    """The parsed body, or None when it is empty or not JSON (callers then describe the raw bytes)."""
    try:
        return json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        return None


def get_json(http: httpx.Client, url: str, hop: Hop) -> tuple[int, Any, httpx.Headers]:
    """GET ``url``; return ``(status, parsed JSON or None, headers)``. Network failures → ``NetworkError``."""
    status, raw, headers = round_trip(http, "GET", url, hop)
    return status, json_or_none(raw), headers


def send_form(
    http: httpx.Client, url: str, form: Mapping[str, str], headers: Mapping[str, str], hop: Hop
) -> tuple[int, Any, bytes]:
    """POST a form; return ``(status, parsed JSON or None, raw body)``."""
    status, raw, _ = round_trip(http, "POST", url, hop, data=form, headers=headers)
    return status, json_or_none(raw), raw


def describe_non_json(status: int, raw: bytes) -> str:
    """A short, safe description of a body that is not an OAuth JSON answer."""
    if not raw:
        return f"HTTP {status} with an empty body"
    head = raw[:200].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return f"HTTP {status} with an HTML page (a proxy, a login page or the wrong URL?)"
    return f"HTTP {status} with a body that is not a JSON object"


def parse_token_response(status: int, body: Any, raw: bytes, hop: Hop) -> dict[str, Any]:
    """Accept a 200 JSON object with a string ``access_token``; map anything else to an error."""
    if isinstance(body, dict) and isinstance(body.get("error"), str) and status >= 400:
        raise error_for(status, body, hop)
    if status != 200:
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            raise error_for(status, body, hop)
        raise ProtocolError(f"{hop.name}: the server answered {describe_non_json(status, raw)}")
    if not isinstance(body, dict):
        raise ProtocolError(f"{hop.name}: the server answered {describe_non_json(status, raw)}")
    if not isinstance(body.get("access_token"), str) or not body["access_token"]:
        raise ProtocolError(f"{hop.name}: the token response has no access_token")
    result: dict[str, Any] = dict(body)
    expires_in = result.get("expires_in")
    if isinstance(expires_in, str) and expires_in.isdigit() and len(expires_in) < 10:
        # RFC 6749 §5.1 says a number; some deployed servers send "3599". Harmless to accept.
        result["expires_in"] = int(expires_in)
    elif expires_in is not None and (isinstance(expires_in, bool) or not isinstance(expires_in, int | float)):
        raise ProtocolError(f"{hop.name}: expires_in in the token response is not a number")
    return result


def call_endpoint(
    http: httpx.Client,
    endpoint: Endpoint,
    form: Mapping[str, str],
    hop: Hop,
    *,
    clock: Clock,
    new_id: IdFactory = random_id,
    observer: Observer | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> tuple[int, Any, bytes]:
    """Authenticate the client, POST ``form`` to ``endpoint.url``, report the step; no parsing."""
    body_form, headers = authenticate(
        endpoint.credentials, form, issuer=endpoint.issuer, clock=clock, new_id=new_id
    )
    headers.update(extra_headers or {})
    status, body, raw = send_form(http, endpoint.url, body_form, headers, hop)
    if observer is not None:
        from urllib.parse import urlencode

        observer(
            StepEvent(
                hop=hop.name,
                url=endpoint.url,
                grant_type=form.get("grant_type", ""),
                params=redact_form(urlencode(body_form)),
                status=status,
                body=scrub_mapping(body) if isinstance(body, dict) else {},
            )
        )
    return status, body, raw


def token_request(
    http: httpx.Client,
    endpoint: Endpoint,
    form: Mapping[str, str],
    hop: Hop,
    *,
    clock: Clock,
    new_id: IdFactory = random_id,
    observer: Observer | None = None,
) -> dict[str, Any]:
    """Authenticate, POST, report, parse. Returns the token response object."""
    status, body, raw = call_endpoint(
        http, endpoint, form, hop, clock=clock, new_id=new_id, observer=observer
    )
    return parse_token_response(status, body, raw, hop)


def json_request(
    http: httpx.Client,
    endpoint: Endpoint,
    form: Mapping[str, str],
    hop: Hop,
    *,
    clock: Clock,
    new_id: IdFactory = random_id,
) -> dict[str, Any]:
    """Like ``token_request`` for endpoints that answer some other JSON object (device authorization)."""
    status, body, raw = call_endpoint(http, endpoint, form, hop, clock=clock, new_id=new_id)
    if isinstance(body, dict) and isinstance(body.get("error"), str) and status >= 400:
        raise error_for(status, body, hop)
    if status != 200 or not isinstance(body, dict):
        raise ProtocolError(f"{hop.name}: the server answered {describe_non_json(status, raw)}")
    return body
