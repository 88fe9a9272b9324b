"""The ID-JAG profile (draft-ietf-oauth-identity-assertion-authz-grant §3.1, reference §3.2): the checks a
Resource Authorization Server applies before it trusts the grant, explained one row each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from xaa_cli.core.inspect.checks import lifetime_check
from xaa_cli.core.inspect.model import Check

REQUIRED: Final = ("iss", "sub", "aud", "client_id", "jti", "exp", "iat")
# Reference §3.3: the reference IdP issues 300 s ID-JAGs; EMA §7.4.2 says "MUST be short-lived".
DEFAULT_MAX_LIFETIME: Final = 600.0


def profile_checks(claims: Mapping[str, Any], max_lifetime: float | None) -> list[Check]:
    rows = [_required(claims), _single_audience(claims), _client_id(claims)]
    bound = lifetime_check(claims, max_lifetime if max_lifetime is not None else DEFAULT_MAX_LIFETIME)
    if bound is not None:
        rows.append(Check("id-jag: lifetime", bound.ok, bound.detail))
    rows.append(_resource(claims))
    rows.append(_scope(claims))
    return rows


def _required(claims: Mapping[str, Any]) -> Check:
    missing = [name for name in REQUIRED if name not in claims]
    if missing:
        return Check("id-jag: required claims", False, f"missing {', '.join(missing)} (§3.1 REQUIRED)")
    return Check("id-jag: required claims", True, ", ".join(REQUIRED) + " present")


def _single_audience(claims: Mapping[str, Any]) -> Check:
    aud = claims.get("aud")
    name = "id-jag: aud single value"
    if isinstance(aud, str):
        return Check(name, True, aud)
    if isinstance(aud, list) and len(aud) == 1 and isinstance(aud[0], str):
        return Check(name, True, f"{aud[0]} (an array of exactly one, allowed by §4.4.1)")
    if isinstance(aud, list):
        return Check(name, False, f"aud has {len(aud)} values; it must name exactly one authorization server")
    return Check(name, False, "aud must be the resource authorization server's issuer (a string)")


def _client_id(claims: Mapping[str, Any]) -> Check:
    client_id = claims.get("client_id")
    if isinstance(client_id, str) and client_id:
        return Check("id-jag: client_id", True, f"{client_id} (the client at the resource AS)")
    return Check("id-jag: client_id", False, "client_id is missing or not a string (§3.1 REQUIRED)")


def _resource(claims: Mapping[str, Any]) -> Check:
    value = claims.get("resource")
    if value is None:
        return Check("id-jag: resource", True, "none (the grant is not limited to a resource)")
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) and _absolute_uri(v) for v in values):
        return Check(
            "id-jag: resource", False, "resource must be an absolute URI or an array of them (RFC 8707)"
        )
    return Check("id-jag: resource", True, ", ".join(values))


def _scope(claims: Mapping[str, Any]) -> Check:
    value = claims.get("scope")
    if value is None:
        return Check("id-jag: scope", True, "none")
    if not isinstance(value, str):
        return Check("id-jag: scope", False, "scope must be one space-separated string (RFC 6749 §3.3)")
    return Check("id-jag: scope", True, value or "(empty)")


def _absolute_uri(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(parts.scheme and (parts.netloc or parts.path)) and "#" not in value
