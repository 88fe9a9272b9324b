"""RFC 8628 device authorization grant at the IdP: the device authorization endpoint, the verification
page and the polling rules (``authorization_pending``, ``slow_down`` +5 s, ``access_denied``,
``expired_token``)."""

from __future__ import annotations

import secrets
from typing import Any, Final

from xaa_cli.server import pages
from xaa_cli.server.errors import OAuthServerError, invalid_grant
from xaa_cli.server.idp_tokens import SignIn, issue_user_tokens, login_scope
from xaa_cli.server.settings import IDP, Runtime
from xaa_cli.server.store import token_hash
from xaa_cli.server.wire import Request, Response, html_response, json_response

USER_CODE_ALPHABET: Final = "BCDFGHJKLMNPQRSTVWXZ"  # RFC 8628 §6.1: no vowels, no look-alikes


def _normalise(user_code: str) -> str:
    return "".join(c for c in user_code.upper() if c.isalnum())


def device_authorization(rt: Runtime, req: Request) -> Response:
    auth = rt.authenticator(IDP).authenticate(req)
    device_code = rt.secret(32)
    raw = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
    user = rt.settings.auto_approve
    status = "approved" if user else "pending"
    now = rt.now_int()
    rt.store.execute(
        "INSERT INTO device_codes (device_hash, user_code, client_id, scope, user, status, expires_at,"
        " interval, auth_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            token_hash(device_code),
            raw,
            auth.client_id,
            login_scope(req.param("scope")),
            user,
            status,
            now + rt.options.device_code_lifetime,
            rt.options.device_interval,
            now if user else None,
        ),
    )
    user_code = f"{raw[:4]}-{raw[4:]}"
    verification = rt.urls.endpoint(IDP, "device")
    return json_response(
        {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification,
            "verification_uri_complete": f"{verification}?user_code={user_code}",
            "expires_in": rt.options.device_code_lifetime,
            "interval": rt.options.device_interval,
        }
    )


def verification_page(rt: Runtime, req: Request) -> Response:
    if req.method == "GET":
        return html_response(pages.device_page(rt.policy.users, req.query.get("user_code", "")))
    if pages.cross_site(rt.urls.base, req.headers.get("origin")):
        return html_response(pages.message_page("Refused", "This form was posted from another site."), 403)
    code = _normalise(req.param("user_code") or "")
    row = rt.store.one("SELECT * FROM device_codes WHERE user_code = ?", (code,))
    if row is None or row["status"] != "pending" or row["expires_at"] < rt.now():
        return html_response(
            pages.device_page(rt.policy.users, message="That code is unknown or expired."), 400
        )
    user = req.param("user")
    if req.param("decision") == "deny" or user not in rt.policy.users:
        rt.store.execute("UPDATE device_codes SET status = 'denied' WHERE user_code = ?", (code,))
        return html_response(pages.message_page("Denied", "The device was not signed in."))
    rt.store.execute(
        "UPDATE device_codes SET status = 'approved', user = ?, auth_time = ? WHERE user_code = ?",
        (user, rt.now_int(), code),
    )
    return html_response(pages.message_page("Signed in", f"You may return to your device, {user}."))


def device_code_grant(rt: Runtime, req: Request, client_id: str) -> dict[str, Any]:
    device_code = req.require("device_code")
    now = rt.now()
    with rt.store.transaction() as db:
        row = db.execute(
            "SELECT * FROM device_codes WHERE device_hash = ?", (token_hash(device_code),)
        ).fetchone()
        if row is None or row["client_id"] != client_id:
            raise invalid_grant("the device code is unknown or belongs to another client")
        if row["expires_at"] < now:
            raise OAuthServerError("expired_token", "the device code has expired; start again")
        if row["status"] == "pending":
            too_fast = now - row["last_poll"] < row["interval"]
            interval = row["interval"] + 5 if too_fast else row["interval"]
            db.execute(
                "UPDATE device_codes SET last_poll = ?, interval = ? WHERE device_hash = ?",
                (now, interval, token_hash(device_code)),
            )
        elif row["status"] != "denied":
            db.execute("DELETE FROM device_codes WHERE device_hash = ?", (token_hash(device_code),))
    if row["status"] == "pending":
        if too_fast:
            raise OAuthServerError(
                "slow_down", f"poll at most every {interval} seconds", extra={"interval": interval}
            )
        raise OAuthServerError("authorization_pending", "the user has not finished signing in")
    if row["status"] == "denied":
        raise OAuthServerError("access_denied", "the user denied the request")
    sign_in = SignIn(rt.policy.users[row["user"]], client_id, row["scope"], row["auth_time"] or int(now))
    return issue_user_tokens(rt, sign_in)
