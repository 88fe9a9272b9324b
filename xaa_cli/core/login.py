"""Signing in at the IdP: the browser flow (authorization code + PKCE S256 through a loopback redirect) and
the device flow (RFC 8628) for machines without a browser. Both end in a validated ``LoginResult``.

The browser opener, the messages to the user, the clock and the sleep are injected, so tests can follow the
URL from a thread and run the device flow without waiting.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from xaa_cli.clock import Clock, IdFactory, random_id
from xaa_cli.core.constants import GrantType
from xaa_cli.core.discovery import ServerMetadata
from xaa_cli.core.loopback import LoopbackRedirect
from xaa_cli.core.oidc import (
    LEEWAY_S,
    LoginResult,
    Pkce,
    authorization_url,
    check_authorization_response,
    login_result,
    make_pkce,
    redeem_code,
)
from xaa_cli.core.token_endpoint import (
    DevicePending,
    Endpoint,
    Hop,
    call_endpoint,
    json_request,
    parse_token_response,
)
from xaa_cli.errors import LoginRequired, OAuthError, ProtocolError, TokenVerificationError

if TYPE_CHECKING:
    import httpx

DEFAULT_INTERVAL_S: Final = 5  # RFC 8628 §3.2: "clients MUST use 5 as the default"
SLOW_DOWN_STEP_S: Final = 5  # RFC 8628 §3.5
BROWSER_TIMEOUT_S: Final = 300.0
_AGAIN: Final = "run `xaa login --device` again"

Announce = Callable[[str], None]
Sleep = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class Authorization:
    """A checked authorization response: the code and what redeeming it needs."""

    code: str = field(repr=False)
    redirect_uri: str
    pkce: Pkce


def authorize_in_browser(
    metadata: ServerMetadata,
    *,
    client_id: str,
    scopes: Sequence[str],
    open_browser: Callable[[str], bool] | None,
    announce: Announce,
    new_id: IdFactory = random_id,
    timeout: float = BROWSER_TIMEOUT_S,
    nonce: str | None = None,
    where: str = "the IdP",
    extra: Mapping[str, str] | None = None,
) -> Authorization:
    """Open the authorization URL (or print it when ``open_browser`` is None or fails), wait for the loopback
    redirect and check ``state`` and RFC 9207 ``iss``."""
    pkce, state = make_pkce(new_id), new_id()
    with LoopbackRedirect() as callback:
        url = authorization_url(
            metadata, client_id=client_id, redirect_uri=callback.redirect_uri, scopes=scopes, state=state,
            nonce=nonce, pkce=pkce, extra=extra,
        )  # fmt: skip
        opened = False
        if open_browser is not None:
            announce(f"Opening the browser to sign in at {where}...")
            opened = bool(open_browser(url))
        if not opened:
            announce(f"Open this URL in a browser to sign in:\n{url}")
            if where == "the IdP":
                # Otherwise a user on a machine with no browser just watches a silent wait.
                announce(
                    f"Waiting up to {timeout:.0f} s. No browser on this machine? Use `xaa login --device`."
                )
        params = callback.wait(timeout)
    code = check_authorization_response(params, state=state, metadata=metadata)
    return Authorization(code, callback.redirect_uri, pkce)


def browser_login(
    http: httpx.Client,
    idp: Endpoint,
    metadata: ServerMetadata,
    *,
    scopes: Sequence[str],
    open_browser: Callable[[str], bool] | None,
    announce: Announce,
    clock: Clock,
    new_id: IdFactory = random_id,
    timeout: float = BROWSER_TIMEOUT_S,
    max_age: int | None = None,
    acr_values: str | None = None,
) -> LoginResult:
    """OIDC sign-in at the IdP: authorization code + PKCE S256 + nonce, then ID token validation.

    ``max_age`` / ``acr_values`` (OIDC Core §3.1.2.1) answer an IdP's step-up demand (draft §9.2)."""
    nonce = new_id()
    extra = {"max_age": str(max_age)} if max_age is not None else {}
    if acr_values:
        extra["acr_values"] = acr_values
    grant = authorize_in_browser(
        metadata, client_id=idp.credentials.client_id, scopes=scopes, open_browser=open_browser,
        announce=announce, new_id=new_id, timeout=timeout, nonce=nonce, extra=extra,
    )  # fmt: skip
    result = redeem_code(
        http, idp, metadata, code=grant.code, redirect_uri=grant.redirect_uri, pkce=grant.pkce, nonce=nonce,
        clock=clock, new_id=new_id,
    )  # fmt: skip
    if max_age is not None:
        check_auth_time(result.claims, max_age, clock.now())
    return result


def check_auth_time(claims: Mapping[str, Any], max_age: int, now: float) -> None:
    """OIDC Core §3.1.3.7 item 13: with ``max_age`` the ID token must carry a recent enough ``auth_time``."""
    auth_time = claims.get("auth_time")
    if not isinstance(auth_time, int | float) or isinstance(auth_time, bool):
        raise TokenVerificationError("max_age was requested but the ID token has no auth_time")
    if now - auth_time > max_age + LEEWAY_S:
        raise TokenVerificationError(f"the IdP reused a sign-in older than max_age={max_age} s")


@dataclass(frozen=True, slots=True)
class DeviceAuthorization:
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: float
    interval: float


def start_device_authorization(
    http: httpx.Client, idp: Endpoint, metadata: ServerMetadata, *, scopes: Sequence[str], clock: Clock
) -> DeviceAuthorization:
    url = metadata.endpoint("device_authorization_endpoint")
    if not url:
        raise ProtocolError(
            f"the IdP {metadata.issuer} has no device_authorization_endpoint",
            hint="sign in with the browser flow: `xaa login` (add --no-browser to print the URL)",
        )
    endpoint = Endpoint(idp.issuer, url, idp.credentials, idp.label)
    hop = Hop("device authorization at the IdP", idp.credentials.client_id, "the IdP")
    body = json_request(http, endpoint, {"scope": " ".join(scopes)}, hop, clock=clock)
    try:
        interval = body.get("interval", DEFAULT_INTERVAL_S)
        return DeviceAuthorization(
            device_code=str(body["device_code"]),
            user_code=str(body["user_code"]),
            verification_uri=str(body.get("verification_uri") or body["verification_url"]),
            verification_uri_complete=body.get("verification_uri_complete"),
            expires_in=float(body["expires_in"]),
            interval=float(interval) if isinstance(interval, int | float) else DEFAULT_INTERVAL_S,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"{hop.name}: the answer lacks {exc} (RFC 8628 §3.2)") from None


def poll_device_token(
    http: httpx.Client,
    idp: Endpoint,
    metadata: ServerMetadata,
    grant: DeviceAuthorization,
    *,
    clock: Clock,
    sleep: Sleep,
    new_id: IdFactory = random_id,
) -> LoginResult:
    """Poll at ``interval``; ``slow_down`` adds 5 s for this and every later request (RFC 8628 §3.5)."""
    hop = Hop("device code grant at the IdP", idp.credentials.client_id, "the IdP")
    form = {"grant_type": GrantType.DEVICE_CODE.value, "device_code": grant.device_code}
    deadline = clock.now() + grant.expires_in
    interval = max(grant.interval, 1.0)
    while True:
        sleep(interval)
        if clock.now() > deadline:
            raise LoginRequired("the device sign-in expired before it was approved", hint=_AGAIN)
        status, body, raw = call_endpoint(http, idp, form, hop, clock=clock, new_id=new_id)
        try:
            response = parse_token_response(status, body, raw, hop)
        except DevicePending as exc:
            if exc.error == "slow_down":
                interval += SLOW_DOWN_STEP_S
            continue
        except OAuthError as exc:
            if exc.error in ("access_denied", "expired_token"):
                denied = exc.error == "access_denied"
                message = "the device sign-in was denied" if denied else "the device code expired"
                raise LoginRequired(message, hint=_AGAIN) from exc
            raise
        client_id = idp.credentials.client_id
        return login_result(http, response, metadata, client_id=client_id, clock=clock, nonce=None)


def device_login(
    http: httpx.Client,
    idp: Endpoint,
    metadata: ServerMetadata,
    *,
    scopes: Sequence[str],
    announce: Announce,
    clock: Clock,
    sleep: Sleep,
    new_id: IdFactory = random_id,
) -> LoginResult:
    grant = start_device_authorization(http, idp, metadata, scopes=scopes, clock=clock)
    target = grant.verification_uri_complete or grant.verification_uri
    minutes = max(1, math.ceil(grant.expires_in / 60))
    announce(f"To sign in, open {target}\nand enter the code {grant.user_code} (valid {minutes} min).")
    return poll_device_token(http, idp, metadata, grant, clock=clock, sleep=sleep, new_id=new_id)
