"""Authorization code + PKCE at an app's authorization server, the path for public clients and for clients
that do not speak ID-JAG (draft §9.1, A.4.2; issue 9). The app signs the user in through the IdP as an OIDC
relying party (client ``app-NAME``), as a real SaaS app would, then issues its own code."""

from __future__ import annotations

import json
from typing import Any

from xaa_cli.server import idp_token
from xaa_cli.server.codes import (
    CodeGrant,
    check_challenge,
    create_code,
    is_loopback_redirect,
    s256,
    with_query,
)
from xaa_cli.server.errors import OAuthServerError
from xaa_cli.server.idp_tokens import verify_id_token
from xaa_cli.server.pages import message_page
from xaa_cli.server.policy import AppSpec
from xaa_cli.server.settings import IDP, Runtime
from xaa_cli.server.wire import Request, Response, html_response, redirect

PENDING_LIFETIME = 600


def authorize(rt: Runtime, req: Request, app: AppSpec) -> Response:
    q = req.query
    client_id, redirect_uri = q.get("client_id", ""), q.get("redirect_uri", "")
    if rt.policy.client_at_app(app.name, client_id) is None or not is_loopback_redirect(redirect_uri):
        msg = "The client is not registered at this app or its redirect_uri is not loopback http."
        return html_response(message_page("Invalid authorization request", msg), 400)
    back = {"state": q.get("state"), "iss": rt.urls.app(app.name)}
    try:
        if q.get("response_type") != "code":
            raise OAuthServerError("unsupported_response_type", "only response_type=code is supported")
        challenge = check_challenge(q.get("code_challenge"), q.get("code_challenge_method"))
    except OAuthServerError as exc:
        return redirect(
            with_query(redirect_uri, {"error": exc.error, "error_description": exc.description, **back})
        )
    asked = (q.get("scope") or " ".join(app.scopes)).split()
    pending: dict[str, Any] = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": q.get("state"),
        "challenge": challenge,
        "scope": " ".join(s for s in app.scopes if s in asked),
        "verifier": rt.secret(48),
        "nonce": rt.new_id(),
        "expires_at": rt.now_int() + PENDING_LIFETIME,
    }
    key = rt.new_id()
    rt.store.set_kv(f"pending:{app.name}:{key}", json.dumps(pending))
    return redirect(
        with_query(
            rt.urls.endpoint(IDP, "authorize"),
            {
                "response_type": "code",
                "client_id": f"app-{app.name}",
                "redirect_uri": rt.urls.endpoint(app.name, "callback"),
                "scope": "openid email profile",
                "state": key,
                "nonce": pending["nonce"],
                "code_challenge": s256(pending["verifier"]),
                "code_challenge_method": "S256",
            },
        )
    )


def callback(rt: Runtime, req: Request, app: AppSpec) -> Response:
    key = req.query.get("state", "")
    stored = rt.store.get_kv(f"pending:{app.name}:{key}") if key else None
    if stored is None:
        return html_response(message_page("Sign-in failed", "Unknown or expired sign-in request."), 400)
    rt.store.execute("DELETE FROM kv WHERE key = ?", (f"pending:{app.name}:{key}",))
    pending: dict[str, Any] = json.loads(stored)
    back = {"state": pending["state"], "iss": rt.urls.app(app.name)}
    if pending["expires_at"] < rt.now() or req.query.get("iss") != rt.urls.idp or "code" not in req.query:
        error = req.query.get("error", "access_denied")
        return redirect(with_query(pending["redirect_uri"], {"error": error, **back}))
    user = _sign_in_at_idp(rt, app, req.query["code"], pending)
    if user is None:
        return redirect(with_query(pending["redirect_uri"], {"error": "access_denied", **back}))
    grant = CodeGrant(
        app.name,
        pending["client_id"],
        pending["redirect_uri"],
        pending["challenge"],
        user,
        pending["scope"],
        None,
        pending["state"],
        rt.now_int(),
    )
    return redirect(with_query(pending["redirect_uri"], {"code": create_code(rt, grant), **back}))


def _sign_in_at_idp(rt: Runtime, app: AppSpec, code: str, pending: dict[str, Any]) -> str | None:
    """Redeem the IdP code as relying party ``app-NAME`` (in-process call of the IdP's token endpoint)."""
    form = {
        "grant_type": ("authorization_code",),
        "code": (code,),
        "code_verifier": (pending["verifier"],),
        "redirect_uri": (rt.urls.endpoint(app.name, "callback"),),
        "client_id": (f"app-{app.name}",),
        "client_secret": (rt.rp_secrets[app.name],),
    }
    token_url = rt.urls.endpoint(IDP, "token")
    inner = Request("POST", "/idp/token", token_url, {}, form=form, client_host="127.0.0.1")
    try:
        reply = idp_token.token(rt, inner)
        if not isinstance(reply, Response):  # only a token exchange answers later (group commit)
            return None
        id_token = json.loads(reply.body)["id_token"]
        user, claims = verify_id_token(rt, id_token, f"app-{app.name}")
    except (OAuthServerError, KeyError, ValueError):
        return None
    return user.name if claims.get("nonce") == pending["nonce"] else None
