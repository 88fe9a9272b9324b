"""Issued tokens (IdP refresh/access tokens, app access tokens) kept by hash, with revocation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from xaa_cli.server.store import Store, token_hash

COLUMNS: Final = (
    "kind",
    "realm",
    "client_id",
    "sub",
    "scope",
    "aud",
    "jti",
    "source_jti",
    "source_iss",
    "iat",
    "expires_at",
    "auth_time",
    "cnf_jkt",
    "revoked_at",
)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    kind: str  # "access_token" | "refresh_token"
    realm: str  # "idp" or the app name
    client_id: str
    sub: str
    scope: str
    iat: int
    expires_at: int
    aud: str | None = None
    jti: str | None = None
    source_jti: str | None = None  # the ID-JAG this access token came from
    source_iss: str | None = None
    auth_time: int | None = None
    cnf_jkt: str | None = None
    revoked_at: int | None = None

    def active(self, now: float) -> bool:
        return self.revoked_at is None and now < self.expires_at


def save_token(store: Store, token: str, record: TokenRecord) -> None:
    values = [getattr(record, c) for c in COLUMNS]
    placeholders = ", ".join("?" * (len(COLUMNS) + 1))
    store.execute(
        f"INSERT INTO tokens (token_hash, {', '.join(COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
        (token_hash(token), *values),
    )


def find_token(store: Store, token: str, realm: str) -> TokenRecord | None:
    row = store.one("SELECT * FROM tokens WHERE token_hash = ? AND realm = ?", (token_hash(token), realm))
    if row is None:
        return None
    return TokenRecord(**{c: row[c] for c in COLUMNS})


def revoke(store: Store, token: str, realm: str, client_id: str, now: int) -> TokenRecord | None:
    """RFC 7009: revoke ``token`` if it was issued to ``client_id`` here. Returns the record if revoked."""
    record = find_token(store, token, realm)
    if record is None or record.client_id != client_id:
        return None
    store.execute(
        "UPDATE tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
        (now, token_hash(token)),
    )
    return record


def revoke_client(store: Store, realm: str, client_id: str, now: int) -> int:
    """Revoke every live token of ``client_id`` at ``realm`` (admin API)."""
    return store.execute(
        "UPDATE tokens SET revoked_at = ? WHERE realm = ? AND client_id = ? AND revoked_at IS NULL "
        "AND expires_at > ?",
        (now, realm, client_id, now),
    )


def revoke_user_refresh_tokens(store: Store, sub: str, now: int) -> int:
    """Revoke all of a user's IdP refresh tokens (admin API)."""
    return store.execute(
        "UPDATE tokens SET revoked_at = ? WHERE realm = 'idp' AND kind = 'refresh_token' AND sub = ? "
        "AND revoked_at IS NULL",
        (now, sub),
    )
