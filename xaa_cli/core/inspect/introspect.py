"""RFC 7662 token introspection at an app's authorization server, with the client's own authentication
(the shared ``xaa_cli.core.client_auth``: exactly one method per request).

``active: false`` is an answer, not an error: the caller turns it into a failed check row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from xaa_cli.clock import Clock
from xaa_cli.core.client_auth import ClientCredentials, authenticate
from xaa_cli.core.http import require_secure_url
from xaa_cli.core.inspect.model import Check
from xaa_cli.core.inspect.timefmt import as_timestamp, relative
from xaa_cli.core.redact import scrub_mapping
from xaa_cli.core.token_endpoint import Hop, send_form
from xaa_cli.errors import OAuthError, ProtocolError

if TYPE_CHECKING:
    import httpx

__all__ = ["ClientCredentials", "introspect", "introspection_check", "scrubbed"]


def introspect(
    client: httpx.Client,
    endpoint: str,
    token: str,
    creds: ClientCredentials,
    *,
    issuer: str,
    clock: Clock,
) -> dict[str, Any]:
    """POST the token to ``endpoint``; returns the JSON answer (``active`` is always a bool).

    ``issuer`` is the AS issuer: the audience of a private_key_jwt assertion (rfc7523bis).
    """
    require_secure_url(endpoint, what="introspection endpoint")
    form, headers = authenticate(creds, {"token": token}, issuer=issuer, clock=clock)
    hop = Hop(name="introspection", client_id=creds.client_id, target=issuer)
    status, answer, _ = send_form(client, endpoint, form, headers, hop)
    if status != 200:
        body = answer if isinstance(answer, dict) else {}
        description = body.get("error_description")
        raise OAuthError(
            str(body.get("error") or f"HTTP {status}"),
            str(description) if description else None,
            status=status,
            hop="introspection",
            hint="check the client credentials configured for this app",
        )
    if not isinstance(answer, dict) or not isinstance(answer.get("active"), bool):
        raise ProtocolError("the introspection answer has no boolean 'active' (RFC 7662 §2.2)")
    return answer


def introspection_check(answer: Mapping[str, Any], now: float) -> Check:
    if not answer.get("active"):
        return Check("introspection", False, "inactive: the server says it is revoked, expired or unknown")
    names = ("sub", "client_id", "scope", "aud")
    facts = [f"{k}={answer[k]}" for k in names if isinstance(answer.get(k), str)]
    stamp = as_timestamp(answer.get("exp"))
    if stamp is not None:
        facts.append(relative("exp", stamp, now))
    return Check("introspection", True, "active" + (f": {', '.join(facts)}" if facts else ""))


def scrubbed(answer: Mapping[str, Any]) -> dict[str, Any]:
    return scrub_mapping(answer)
