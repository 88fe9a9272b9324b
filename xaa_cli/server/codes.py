"""Authorization codes with PKCE S256 (RFC 6749 §4.1, RFC 7636), single use, short-lived, kept by hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode, urlsplit

from xaa_cli.server.errors import invalid_grant, invalid_request
from xaa_cli.server.settings import Runtime
from xaa_cli.server.store import token_hash

_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True, slots=True)
class CodeGrant:
    realm: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    user: str
    scope: str
    nonce: str | None
    state: str | None
    auth_time: int


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_challenge(challenge: str | None, method: str | None) -> str:
    if challenge is None:
        raise invalid_request("code_challenge is required (PKCE, RFC 7636)")
    if method != "S256":
        raise invalid_request("code_challenge_method must be S256")
    if not _CHALLENGE.match(challenge):
        raise invalid_request("code_challenge is not a base64url SHA-256 value")
    return challenge


def is_loopback_redirect(uri: str) -> bool:
    """RFC 8252 §7.3: any port on a loopback host, http only, no fragment."""
    try:
        parts = urlsplit(uri)
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return False
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS and not parts.fragment


def origin_of(uri: str) -> str:
    """``scheme://host[:port]`` of an already validated redirect URI (for the page's CSP)."""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def with_query(uri: str, params: dict[str, str | None]) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def create_code(rt: Runtime, grant: CodeGrant) -> str:
    code = rt.secret(32)
    rt.store.execute(
        "INSERT INTO codes (code_hash, realm, client_id, redirect_uri, code_challenge, user, scope, nonce,"
        " state, auth_time, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            token_hash(code),
            grant.realm,
            grant.client_id,
            grant.redirect_uri,
            grant.code_challenge,
            grant.user,
            grant.scope,
            grant.nonce,
            grant.state,
            grant.auth_time,
            rt.now_int() + rt.options.code_lifetime,
        ),
    )
    return code


def consume_code(
    rt: Runtime, realm: str, code: str, client_id: str, redirect_uri: str | None, verifier: str | None
) -> CodeGrant:
    """Redeem ``code`` once: client, redirect URI and PKCE verifier must match (RFC 6749 §4.1.3)."""
    if verifier is None or not _VERIFIER.match(verifier):
        raise invalid_request("code_verifier is missing or malformed (RFC 7636 §4.1)")
    with rt.store.transaction() as db:
        row = db.execute(
            "SELECT * FROM codes WHERE code_hash = ? AND realm = ?", (token_hash(code), realm)
        ).fetchone()
        if row is None or row["used"]:
            raise invalid_grant("the authorization code is unknown or was already used")
        db.execute("UPDATE codes SET used = 1 WHERE code_hash = ?", (token_hash(code),))
    if row["expires_at"] < rt.now():
        raise invalid_grant("the authorization code has expired")
    if row["client_id"] != client_id:
        raise invalid_grant("the authorization code was issued to another client")
    if redirect_uri != row["redirect_uri"]:
        raise invalid_grant("redirect_uri does not match the authorization request")
    if not hmac.compare_digest(s256(verifier), row["code_challenge"]):
        raise invalid_grant("the PKCE code_verifier does not match the code_challenge")
    return CodeGrant(
        realm,
        client_id,
        row["redirect_uri"],
        row["code_challenge"],
        row["user"],
        row["scope"],
        row["nonce"],
        row["state"],
        row["auth_time"],
    )
