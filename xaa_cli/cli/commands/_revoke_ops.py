"""What ``xaa revoke`` does, one target at a time, each ending in a ``Row`` for the report.

Rules kept here (not in the command) so that every mode obeys them:
- a cached token leaves the cache only after its server confirmed the revocation; otherwise it is marked
  (``TokenCache.mark_revocation_failed``: never served again, retried next time) and reported as live;
- an IdP refresh token that could not be revoked is moved aside (``refresh_token_unrevoked``) so it mints
  nothing more from this machine, and retried by the next ``xaa revoke --idp``;
- every real attempt (not ``--dry-run``) is written to the local audit log, success or failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from xaa_cli.errors import ConfigError, XaaError

if TYPE_CHECKING:
    from xaa_cli.cli.commands._revoke_target import TokenTarget
    from xaa_cli.cli.context import AppContext
    from xaa_cli.core.token_endpoint import Endpoint
    from xaa_cli.storage.config import Profile
    from xaa_cli.storage.token_cache import CachedToken

PENDING_REFRESH: Final = "refresh_token_unrevoked"  # secret-store name of a refresh token awaiting revocation


@dataclass
class Row:
    """One line of the report. ``error`` set = not confirmed: the thing is still live."""

    target: str
    endpoint: str
    outcome: str
    detail: str = ""
    error: XaaError | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "target": self.target,
            "endpoint": self.endpoint,
            "outcome": self.outcome,
            "detail": self.detail or None,
            "still_live": not self.ok,
        }
        if self.error is not None:
            data["error"] = _error_code(self.error)
        return data


def failed(target: str, endpoint: str, exc: XaaError) -> Row:
    return Row(target, endpoint, "FAILED", exc.message, exc)


def _error_code(exc: XaaError) -> str:
    return str(getattr(exc, "error", None) or exc.code)


# ----------------------------------------------------------------------------------------- endpoints
def _metadata(actx: AppContext, issuer: str) -> Any:
    from xaa_cli.cli import flow
    from xaa_cli.core.discovery import fetch_server_metadata

    return fetch_server_metadata(actx.http(), issuer, cache=flow.metadata_cache(actx))


def idp_revocation_endpoint(actx: AppContext, profile: Profile) -> Endpoint:
    from xaa_cli.cli import flow
    from xaa_cli.core.revocation import revocation_endpoint

    metadata = flow.idp_metadata(actx, profile)
    creds = flow.idp_endpoint(actx, profile, metadata).credentials
    return revocation_endpoint(metadata, creds, f"the IdP of profile {profile.name}")


def app_revocation_endpoint(actx: AppContext, profile: Profile, app_ref: str) -> Endpoint:
    """``app_ref`` is an alias of the profile or an authorization-server issuer URL."""
    from xaa_cli.cli import flow
    from xaa_cli.core.revocation import revocation_endpoint

    target = flow.resolve_target(actx, profile, app_ref, None)
    metadata = _metadata(actx, target.audience)
    creds = flow.app_endpoint(actx, profile, target, metadata).credentials
    return revocation_endpoint(metadata, creds, target.app.alias)


def _revoke(actx: AppContext, endpoint: Endpoint, token: str, hint: str | None) -> None:
    from xaa_cli.core.revocation import revoke_token

    revoke_token(actx.http(), endpoint, token, hint=hint, clock=actx.clock, sleep=actx.sleep or _sleep)


def _sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


# ----------------------------------------------------------------------------------------- one token
def revoke_one(actx: AppContext, token: str, target: TokenTarget, *, dry_run: bool) -> Row:
    from xaa_cli.storage.audit import token_fingerprint

    where = target.app or target.profile.issuer
    alias = target.app if target.app and "://" not in target.app else None
    try:
        endpoint = (
            app_revocation_endpoint(actx, target.profile, target.app)
            if target.app
            else idp_revocation_endpoint(actx, target.profile)
        )
    except XaaError as exc:
        if dry_run:
            return Row(target.label, where, "would revoke", f"endpoint not discovered: {exc.message}")
        _record(
            actx, "revoke", target.profile.name, where, None, exc, token=token, jti=target.jti, alias=alias
        )
        return _failed_one(actx, token, target.label, where, exc)
    if dry_run:
        return Row(target.label, endpoint.url, "would revoke", f"token_type_hint={target.hint}")
    try:
        _revoke(actx, endpoint, token, target.hint)
    except XaaError as exc:
        _record(actx, "revoke", target.profile.name, endpoint.issuer, endpoint, exc, token=token,
                jti=target.jti, alias=alias)  # fmt: skip
        return _failed_one(actx, token, target.label, endpoint.url, exc)
    _record(actx, "revoke", target.profile.name, endpoint.issuer, endpoint, None, token=token,
            jti=target.jti, alias=alias)  # fmt: skip
    dropped = actx.token_cache().clear(lambda e: e.access_token == token)
    note = f"fingerprint {token_fingerprint(token)}" + ("; removed from the cache" if dropped else "")
    return Row(target.label, endpoint.url, "revoked", note)


def _failed_one(actx: AppContext, token: str, label: str, where: str, exc: XaaError) -> Row:
    """A cached copy of a token whose revocation failed is marked: never served again, retried by --all."""
    cache = actx.token_cache()
    marked = [e.key for e in cache.entries() if e.access_token == token and not e.revocation_failed]
    for key in marked:
        cache.mark_revocation_failed(key)
    row = failed(label, where, exc)
    if marked:
        row.detail += "; its cache entry is marked (retried by `xaa revoke --all`)"
    return row


# ----------------------------------------------------------------------------------------- cached tokens
def cached_selection(actx: AppContext, *, profile_name: str | None, aud: str | None) -> list[CachedToken]:
    entries = actx.token_cache().entries()
    named = profile_name or actx.profile_name
    chosen = [e for e in entries if named is None or e.profile == named]
    if aud is not None:
        chosen = [e for e in chosen if aud in (e.alias, e.audience)]
    return chosen


def revoke_cached(actx: AppContext, entries: list[CachedToken], *, dry_run: bool) -> list[Row]:
    cache = actx.token_cache()
    endpoints: dict[tuple[str, str], Endpoint | XaaError] = {}
    rows = []
    now = actx.clock.now()
    for entry in entries:
        app = entry.alias or entry.audience
        label = f"{entry.profile}/{app} [{entry.scope or ' '.join(entry.requested_scopes) or '-'}]"
        if entry.expires_at <= now:
            if not dry_run:
                cache.remove(entry.key)
            rows.append(
                Row(label, entry.audience, "would drop" if dry_run else "expired", "nothing to revoke")
            )
            continue
        key = (entry.profile, app)
        if key not in endpoints:
            endpoints[key] = _cached_endpoint(actx, entry)
        endpoint = endpoints[key]
        rows.append(_revoke_entry(actx, entry, label, endpoint, dry_run=dry_run))
    return rows


def _cached_endpoint(actx: AppContext, entry: CachedToken) -> Endpoint | XaaError:
    try:
        profile = actx.config().profiles.get(entry.profile)
        if profile is None:
            raise ConfigError(f"the cached token's profile {entry.profile!r} no longer exists")
        app = entry.alias if entry.alias and entry.alias in profile.apps else entry.audience
        return app_revocation_endpoint(actx, profile, app)
    except XaaError as exc:
        return exc


def _revoke_entry(
    actx: AppContext, entry: CachedToken, label: str, endpoint: Endpoint | XaaError, *, dry_run: bool
) -> Row:
    cache = actx.token_cache()
    if dry_run:
        if isinstance(endpoint, XaaError):
            return Row(label, entry.audience, "would revoke", f"endpoint not discovered: {endpoint.message}")
        return Row(label, endpoint.url, "would revoke", _expiry_note(actx, entry))
    try:
        if isinstance(endpoint, XaaError):
            raise endpoint
        _revoke(actx, endpoint, entry.access_token, "access_token")
    except XaaError as exc:
        cache.mark_revocation_failed(entry.key)
        _record(actx, "revoke", entry.profile, entry.audience, None, exc, token=entry.access_token,
                jti=None, alias=entry.alias, mode="cache")  # fmt: skip
        where = endpoint.url if not isinstance(endpoint, XaaError) else entry.audience
        row = failed(label, where, exc)
        row.detail = f"{exc.message}; kept in the cache, marked; {_expiry_note(actx, entry)}"
        return row
    cache.remove(entry.key)
    _record(actx, "revoke", entry.profile, entry.audience, endpoint, None, token=entry.access_token,
            jti=None, alias=entry.alias, mode="cache")  # fmt: skip
    return Row(label, endpoint.url, "revoked", "removed from the cache")


def _expiry_note(actx: AppContext, entry: CachedToken) -> str:
    return f"valid for {max(0, int(entry.expires_at - actx.clock.now()))} s more"


# ----------------------------------------------------------------------------------------- IdP sign-in
def revoke_login(actx: AppContext, profile: Profile, *, dry_run: bool) -> list[Row]:
    """Revoke the IdP refresh token (and any left over from failed attempts) and forget the ID token."""
    from xaa_cli.storage.secrets import secret_key

    store = actx.secret_store()
    current_key, pending_key = (secret_key(profile.name, n) for n in ("refresh_token", PENDING_REFRESH))
    current = store.get(current_key)
    pending = (store.get(pending_key) or "").split()  # tokens hold no whitespace: a space-separated list
    candidates = list(dict.fromkeys([current, *pending] if current else pending))
    label = f"refresh token of profile {profile.name}"
    rows = [_revoke_refresh(actx, profile, refresh, label, dry_run=dry_run) for refresh in candidates]
    if candidates and not dry_run:
        # Failed ones are set aside (written before the sign-in's copy is deleted, so none is ever lost):
        # they renew nothing any more, and the next `xaa revoke --idp` retries them.
        still = [refresh for refresh, row in zip(candidates, rows, strict=True) if not row.ok]
        if still:
            store.set(pending_key, " ".join(still))
        else:
            store.delete(pending_key)
        if current:
            store.delete(current_key)
    id_key = secret_key(profile.name, "id_token")
    if store.get(id_key) is not None:
        if not dry_run:
            store.delete(id_key)
            _record(actx, "forget_id_token", profile.name, profile.issuer, None, None)
        detail = "ID tokens cannot be revoked; it is accepted by the IdP until its exp"
        rows.append(Row(f"ID token of profile {profile.name}", "(local secret store)",
                        "would forget" if dry_run else "forgotten", detail))  # fmt: skip
    if not rows:
        rows.append(
            Row(f"sign-in of profile {profile.name}", profile.issuer, "nothing to revoke", "not signed in")
        )
    return rows


def _revoke_refresh(actx: AppContext, profile: Profile, refresh: str, label: str, *, dry_run: bool) -> Row:
    try:
        endpoint = idp_revocation_endpoint(actx, profile)
        if dry_run:
            return Row(label, endpoint.url, "would revoke", "token_type_hint=refresh_token")
        _revoke(actx, endpoint, refresh, "refresh_token")
    except XaaError as exc:
        if dry_run:
            return Row(label, profile.issuer, "would revoke", f"endpoint not discovered: {exc.message}")
        _record(actx, "revoke_login", profile.name, profile.issuer, None, exc, token=refresh)
        row = failed(label, profile.issuer, exc)
        row.detail = f"{exc.message}; set aside (no longer used to sign in), retried by the next --idp"
        return row
    _record(actx, "revoke_login", profile.name, profile.issuer, endpoint, None, token=refresh)
    return Row(label, endpoint.url, "revoked", "deleted from the secret store")


# ----------------------------------------------------------------------------------------- audit
def _record(
    actx: AppContext,
    event: str,
    profile: str,
    issuer: str,
    endpoint: Endpoint | None,
    exc: XaaError | None,
    *,
    token: str | None = None,
    jti: str | None = None,
    **extra: Any,
) -> None:
    from xaa_cli.storage.audit import token_fingerprint

    actx.audit().record(
        event,
        outcome="error" if exc is not None else "ok",
        profile=profile,
        issuer=endpoint.issuer if endpoint is not None else issuer,
        audience=issuer,
        client_id=endpoint.credentials.client_id if endpoint is not None else None,
        endpoint=endpoint.url if endpoint is not None else None,
        token_fingerprint=token_fingerprint(token) if token else None,
        jti=jti,
        error=_error_code(exc) if exc is not None else None,
        **extra,
    )
