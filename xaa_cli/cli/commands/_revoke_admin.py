"""The administrator's side of ``xaa revoke`` (``--client … --at-idp``, ``--user``) and ``xaa audit --idp``.

Everything goes through an ``IdpAdminDriver`` (``xaa_cli.core.admin``); this module only decides the order
(disable at the IdP first, so no new ID-JAG can replace the tokens being revoked), reports each step and
writes the local audit log. A failed step does not stop the others: the report names what is still live.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from xaa_cli.cli.commands._revoke_ops import Row, failed
from xaa_cli.errors import ConfigError, XaaError

if TYPE_CHECKING:
    from xaa_cli.cli.context import AppContext
    from xaa_cli.core.admin import IdpAdminDriver
    from xaa_cli.storage.config import Profile
    from xaa_cli.storage.token_cache import CachedToken

DEFAULT_DRIVER: Final = "reference"
IDP_AUDIT_COLUMNS: Final = (
    "time",
    "server",
    "event",
    "issued_to",
    "subject",
    "audience",
    "scope",
    "policy",
    "outcome",
    "detail",
)


def admin_driver(actx: AppContext, profile: Profile, kind: str = DEFAULT_DRIVER) -> IdpAdminDriver:
    from xaa_cli.core.admin import driver_for
    from xaa_cli.storage.secrets import secret_key

    token = actx.secret_store().get(secret_key(profile.name, "admin_token"))
    if not token:
        raise ConfigError(
            f"no admin credential for the IdP of profile {profile.name!r}",
            hint="`xaa dev serve` stores it for the dev profile; otherwise store the IdP admin API token "
            f"under the secret-store key {secret_key(profile.name, 'admin_token')!r}",
        )
    return driver_for(kind, actx.http(), profile.issuer, token)


def _record(actx: AppContext, event: str, profile: Profile, exc: XaaError | None, **fields: Any) -> None:
    actx.audit().record(
        event,
        outcome="error" if exc is not None else "ok",
        profile=profile.name,
        issuer=profile.issuer,
        error=(getattr(exc, "error", None) or exc.code) if exc is not None else None,
        **fields,
    )


def cut_off_client(
    actx: AppContext, profile: Profile, driver: IdpAdminDriver, client_id: str, *, dry_run: bool
) -> list[Row]:
    """Disable ``client_id`` at the IdP, then revoke its live tokens at every app it is registered at."""
    rows = [_disable(actx, profile, driver, client_id, dry_run=dry_run)]
    try:
        apps: Mapping[str, str] = driver.client_apps(client_id)
    except XaaError as exc:
        if not dry_run:
            _record(actx, "admin_revoke_client_tokens", profile, exc, client_id=client_id)
        rows.append(failed(f"tokens of {client_id} at every app", profile.issuer, exc))
        return rows
    for app, app_client_id in apps.items():
        target = f"tokens of {client_id} at {app} (as {app_client_id})"
        if dry_run:
            rows.append(Row(target, app, "would revoke", "every live access token of this client"))
            continue
        try:
            result = driver.revoke_client_tokens_at_app(app, app_client_id)
        except XaaError as exc:
            _record(actx, "admin_revoke_client_tokens", profile, exc, client_id=app_client_id, alias=app)
            rows.append(failed(target, app, exc))
            continue
        _record(actx, "admin_revoke_client_tokens", profile, None, client_id=app_client_id, alias=app,
                endpoint=result.endpoint, revoked=result.count)  # fmt: skip
        dropped = _drop_cached(actx, app, app_client_id)
        note = f"; {dropped} local cache entr{'y' if dropped == 1 else 'ies'} dropped" if dropped else ""
        rows.append(Row(target, result.endpoint, "revoked", result.detail + note))
    return rows


def _drop_cached(actx: AppContext, app: str, app_client_id: str) -> int:
    """This machine's cached tokens that the app just revoked: dead now, so no longer worth keeping."""

    def revoked_there(entry: CachedToken) -> bool:
        at_app = entry.alias == app or entry.audience.rstrip("/").endswith("/" + app)
        return entry.client_id == app_client_id and at_app

    return actx.token_cache().clear(revoked_there)


def _disable(
    actx: AppContext, profile: Profile, driver: IdpAdminDriver, client_id: str, *, dry_run: bool
) -> Row:
    target = f"client {client_id} at the IdP"
    if dry_run:
        return Row(target, profile.issuer, "would disable", "the IdP will refuse it new ID-JAGs")
    try:
        result = driver.disable_client(client_id)
    except XaaError as exc:
        _record(actx, "admin_disable_client", profile, exc, client_id=client_id)
        return failed(target, profile.issuer, exc)
    _record(actx, "admin_disable_client", profile, None, client_id=client_id, endpoint=result.endpoint)
    return Row(target, result.endpoint, "disabled", result.detail)


def cut_off_user(
    actx: AppContext, profile: Profile, driver: IdpAdminDriver, user: str, *, dry_run: bool
) -> Row:
    target = f"IdP refresh tokens of {user}"
    if dry_run:
        return Row(target, profile.issuer, "would revoke", "every refresh token of this user")
    try:
        result = driver.revoke_user_refresh_tokens(user)
    except XaaError as exc:
        _record(actx, "admin_revoke_user_tokens", profile, exc, subject=user)
        return failed(target, profile.issuer, exc)
    _record(actx, "admin_revoke_user_tokens", profile, None, subject=user, endpoint=result.endpoint,
            revoked=result.count)  # fmt: skip
    return Row(target, result.endpoint, "revoked", result.detail)


# ----------------------------------------------------------------------------------------- xaa audit --idp
def select_idp_entries(
    entries: list[dict[str, Any]],
    *,
    since: float | None,
    events: list[str] | None,
    audiences: list[str] | None,
    clients: list[str] | None,
    outcomes: list[str] | None,
) -> list[dict[str, Any]]:
    """The local audit filters, mapped onto the IdP trail's fields (client = ``issued_to``; audience =
    ``audience``, ``resource`` or the app ``server`` name)."""

    def keep(entry: dict[str, Any]) -> bool:
        time = entry.get("time")
        if since is not None and (not isinstance(time, int | float) or time < since):
            return False
        if events and entry.get("event") not in events:
            return False
        if clients and entry.get("issued_to") not in clients:
            return False
        if outcomes and entry.get("outcome") not in outcomes:
            return False
        places = {entry.get("audience"), entry.get("resource"), entry.get("server")}
        return not audiences or bool(places & set(audiences))

    return [e for e in entries if keep(e)]


def show_idp_audit(
    actx: AppContext,
    *,
    profile_name: str | None,
    since: float | None,
    events: list[str] | None,
    audiences: list[str] | None,
    clients: list[str] | None,
    outcomes: list[str] | None,
    limit: int | None,
    mode: str,
) -> None:
    """``xaa audit --idp``: the IdP's central trail (who reached which app, under whose authority, when)."""
    from xaa_cli.cli import render

    profile = actx.profile(profile_name)
    entries = admin_driver(actx, profile).read_audit(limit=10_000)
    rows = select_idp_entries(
        entries, since=since, events=events, audiences=audiences, clients=clients, outcomes=outcomes
    )
    if limit is not None:
        rows = rows[-limit:]
    if mode == "json":
        render.emit_json(rows)
        return
    if not rows:
        actx.info(f"no IdP audit entries match (IdP {profile.issuer})")
        return
    render.table(actx.out, [c.upper() for c in IDP_AUDIT_COLUMNS], (_cells(r) for r in rows))


def _cells(entry: dict[str, Any]) -> list[str]:
    out = []
    for column in IDP_AUDIT_COLUMNS:
        value = entry.get(column)
        if column == "time" and isinstance(value, int | float):
            value = datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append("" if value is None else str(value))
    return out
