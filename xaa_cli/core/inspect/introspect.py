"""RFC 7662 token introspection at an app's authorization server, with the client's own authentication.

``active: false`` is an answer, not an error: the caller turns it into a failed check. The minimal client
authentication here (``client_secret_basic``/``_post``, ``private_key_jwt``, ``none``) should move to the
client flow's shared helpers once they exist in ``xaa_cli.core``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from xaa_cli.clock import Clock, IdFactory, random_id
from xaa_cli.core.http import require_secure_url
from xaa_cli.core.inspect.model import Check
from xaa_cli.core.inspect.timefmt import as_timestamp, relative
from xaa_cli.core.redact import scrub_mapping
from xaa_cli.errors import NetworkError, OAuthError, ProtocolError, UsageError

if TYPE_CHECKING:
    import httpx

CLIENT_ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_RESPONSE_BYTES: Final = 256 * 1024
ASSERTION_LIFETIME: Final = 60


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """How the client authenticates at the app's AS. ``secret`` or ``private_jwk`` as the method needs."""

    client_id: str
    method: str
    secret: str | None = None
    private_jwk: Mapping[str, Any] | None = None


def authenticate(
    creds: ClientCredentials, form: dict[str, str], audience: str, clock: Clock, new_id: IdFactory = random_id
) -> dict[str, str]:
    """Add client authentication to ``form``; returns the extra HTTP headers it needs."""
    if creds.method == "client_secret_basic":
        secret = _need(creds.secret, creds)
        # RFC 6749 §2.3.1: form-urlencode both parts before Base64.
        pair = f"{quote(creds.client_id, safe='')}:{quote(secret, safe='')}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    if creds.method == "client_secret_post":
        form.update(client_id=creds.client_id, client_secret=_need(creds.secret, creds))
    elif creds.method == "private_key_jwt":
        from xaa_cli.core.keys import sign_jwt

        if creds.private_jwk is None:
            raise UsageError(f"no private key is stored for client {creds.client_id}", hint="run `xaa key`")
        now = int(clock.now())
        claims = {
            "iss": creds.client_id,
            "sub": creds.client_id,
            "aud": audience,
            "jti": new_id(),
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        }
        form.update(
            client_id=creds.client_id,
            client_assertion_type=CLIENT_ASSERTION_TYPE,
            client_assertion=sign_jwt(claims, creds.private_jwk),
        )
    elif creds.method == "none":
        form["client_id"] = creds.client_id
    else:
        raise UsageError(f"unknown client authentication method {creds.method!r}")
    return {}


def _need(secret: str | None, creds: ClientCredentials) -> str:
    if not secret:
        raise UsageError(
            f"no client secret is stored for client {creds.client_id}",
            hint="store it with `xaa app add` (or `xaa profile add`)",
        )
    return secret


def introspect(
    client: httpx.Client,
    endpoint: str,
    token: str,
    creds: ClientCredentials,
    *,
    audience: str,
    clock: Clock,
) -> dict[str, Any]:
    """POST the token to ``endpoint``; returns the JSON answer (``active`` is always a bool)."""
    import httpx

    require_secure_url(endpoint, what="introspection endpoint")
    form = {"token": token}
    headers = authenticate(creds, form, audience, clock)
    try:
        response = client.post(endpoint, data=form, headers=headers)
    except httpx.TransportError as exc:
        raise NetworkError(f"cannot reach the introspection endpoint {endpoint}: {exc}") from None
    body = response.content[: MAX_RESPONSE_BYTES + 1]
    if len(body) > MAX_RESPONSE_BYTES:
        raise ProtocolError("the introspection answer is too large")
    answer = _json_object(body)
    if response.status_code != 200:
        error = answer.get("error") if answer else None
        raise OAuthError(
            str(error or f"HTTP {response.status_code}"),
            str(answer.get("error_description")) if answer and answer.get("error_description") else None,
            status=response.status_code,
            hop="introspection",
            hint="check the client credentials configured for this app",
        )
    if answer is None or not isinstance(answer.get("active"), bool):
        raise ProtocolError("the introspection answer has no boolean 'active' (RFC 7662 §2.2)")
    return answer


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def introspection_check(answer: Mapping[str, Any], now: float) -> Check:
    if not answer.get("active"):
        return Check(
            "introspection", False, "inactive: the server says the token is revoked, expired or unknown"
        )
    facts = [
        f"{k}={answer[k]}" for k in ("sub", "client_id", "scope", "aud") if isinstance(answer.get(k), str)
    ]
    stamp = as_timestamp(answer.get("exp"))
    if stamp is not None:
        facts.append(relative("exp", stamp, now))
    return Check("introspection", True, "active" + (f": {', '.join(facts)}" if facts else ""))


def scrubbed(answer: Mapping[str, Any]) -> dict[str, Any]:
    return scrub_mapping(answer)
