"""The fallback for apps whose authorization server does not accept ID-JAGs (draft A.4.2, §9.1): the user
signs in at the app itself with authorization code + PKCE S256 through the browser and a loopback redirect,
and the client redeems the code at the app's token endpoint with its credentials *at the app*."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from xaa_cli.clock import Clock, IdFactory, random_id
from xaa_cli.core.constants import GrantType
from xaa_cli.core.discovery import ServerMetadata
from xaa_cli.core.idjag import DEFAULT_LIFETIME_S, AccessToken
from xaa_cli.core.login import BROWSER_TIMEOUT_S, Announce, authorize_in_browser
from xaa_cli.core.token_endpoint import Endpoint, Hop, Observer, token_request
from xaa_cli.errors import ProtocolError

if TYPE_CHECKING:
    import httpx


def authorization_code_at_app(
    http: httpx.Client,
    app: Endpoint,
    metadata: ServerMetadata,
    *,
    scopes: Sequence[str],
    resource: str | None,
    open_browser: Callable[[str], bool] | None,
    announce: Announce,
    clock: Clock,
    new_id: IdFactory = random_id,
    timeout: float = BROWSER_TIMEOUT_S,
    observer: Observer | None = None,
) -> AccessToken:
    """Sign in at the app (browser) and redeem the code; ``resource`` is sent in both requests (RFC 8707)."""
    extra = {"resource": resource} if resource else None
    grant = authorize_in_browser(
        metadata, client_id=app.credentials.client_id, scopes=scopes, open_browser=open_browser,
        announce=announce, new_id=new_id, timeout=timeout, where=app.label, extra=extra,
    )  # fmt: skip
    form = {
        "grant_type": GrantType.AUTHORIZATION_CODE.value,
        "code": grant.code,
        "redirect_uri": grant.redirect_uri,
        "code_verifier": grant.pkce.verifier,
        **(extra or {}),
    }
    hop = Hop(
        f"authorization code grant at {app.label}", app.credentials.client_id, app.label, " ".join(scopes)
    )
    response = token_request(http, app, form, hop, clock=clock, new_id=new_id, observer=observer)
    token_type = response.get("token_type")
    if not isinstance(token_type, str):
        raise ProtocolError(f"{hop.name}: the token response has no token_type")
    lifetime = response.get("expires_in")
    scope = response.get("scope")
    return AccessToken(
        response["access_token"],
        token_type,
        float(lifetime) if isinstance(lifetime, int | float) else DEFAULT_LIFETIME_S,
        scope if isinstance(scope, str) else " ".join(scopes) or None,
    )
