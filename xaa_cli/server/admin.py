"""The admin API (loopback only, ``Authorization: Bearer <admin token>``): the IdP as control plane.

IdP: disable/enable a client (no more ID-JAGs), revoke all of a user's refresh tokens, read the audit trail.
Each app: revoke every live token of one of its clients. Documented in docs/reference-server.md."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from xaa_cli.server.audit import read_audit
from xaa_cli.server.settings import IDP, Runtime
from xaa_cli.server.tokens import revoke_client, revoke_user_refresh_tokens
from xaa_cli.server.wire import Request, Response, json_response


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _denied(status: int, error: str, description: str) -> Response:
    return json_response(
        {"error": error, "error_description": description},
        status,
        headers={"WWW-Authenticate": 'Bearer realm="xaa-dev-admin"'} if status == 401 else None,
    )


def check_admin(rt: Runtime, req: Request) -> Response | None:
    """None when the caller is the local administrator; else the refusal to send."""
    if not _is_loopback(req.client_host):
        return _denied(403, "access_denied", "the admin API answers loopback callers only")
    expected = rt.settings.admin_token_sha256
    header = req.headers.get("authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if expected is None:
        return _denied(403, "access_denied", "no admin credential is configured for this server")
    if not given or not hmac.compare_digest(hashlib.sha256(given.encode()).hexdigest(), expected):
        return _denied(401, "invalid_token", "the admin credential is missing or wrong")
    return None


def set_client(rt: Runtime, _req: Request, client_id: str, *, disabled: bool) -> Response:
    if client_id not in rt.policy.clients:
        return _denied(404, "not_found", "no such client at the IdP")
    rt.store.set_client_disabled(client_id, disabled, rt.now_int())
    rt.audit.record(
        IDP, "client.disabled" if disabled else "client.enabled", "ok", issued_to=client_id, policy="admin"
    )
    return json_response({"client_id": client_id, "disabled": disabled})


def revoke_user(rt: Runtime, _req: Request, user: str) -> Response:
    if user not in rt.policy.users:
        return _denied(404, "not_found", "no such user")
    count = revoke_user_refresh_tokens(rt.store, rt.policy.users[user].sub, rt.now_int())
    rt.audit.record(
        IDP, "refresh_tokens.revoked", "ok", subject=user, policy="admin", detail=f"{count} revoked"
    )
    return json_response({"user": user, "revoked": count})


def revoke_app_client(rt: Runtime, _req: Request, app: str, client_id: str) -> Response:
    count = revoke_client(rt.store, app, client_id, rt.now_int())
    rt.audit.record(
        app, "client_tokens.revoked", "ok", issued_to=client_id, policy="admin", detail=f"{count} revoked"
    )
    return json_response({"app": app, "client_id": client_id, "revoked": count})


def clients(rt: Runtime, _req: Request) -> Response:
    return json_response(
        {
            "clients": [
                # app_client_ids: where the client's live tokens are, for `xaa revoke --client --at-idp`.
                {
                    "client_id": c,
                    "disabled": rt.store.client_disabled(c),
                    "app_client_ids": dict(s.app_client_ids),
                }
                for c, s in rt.policy.clients.items()
            ]
        }
    )


def audit(rt: Runtime, req: Request) -> Response:
    try:
        limit = max(1, min(int(req.query.get("limit", "1000")), 10000))
    except ValueError:
        limit = 1000
    return json_response({"entries": read_audit(rt.store, limit=limit)})
