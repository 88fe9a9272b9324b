"""The IdP authorization endpoint (OIDC Core §3.1.2, RFC 7636 PKCE S256, RFC 9207 ``iss``): a real sign-in
page listing the policy's users, or ``--auto-approve USER`` for scripts and CI.

Errors about the client or redirect URI are shown as a page (never redirected, RFC 6749 §4.1.2.1); the rest
go back to the client's redirect URI."""

from __future__ import annotations

from collections.abc import Mapping

from xaa_cli.server import pages
from xaa_cli.server.codes import (
    CodeGrant,
    check_challenge,
    create_code,
    is_loopback_redirect,
    origin_of,
    with_query,
)
from xaa_cli.server.errors import OAuthServerError
from xaa_cli.server.idp_tokens import login_scope
from xaa_cli.server.settings import IDP, Runtime
from xaa_cli.server.wire import Request, Response, html_response, redirect

FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


def _valid_redirect(rt: Runtime, client_id: str, redirect_uri: str) -> bool:
    if client_id.startswith("app-") and client_id[4:] in rt.policy.apps:
        return redirect_uri == rt.urls.endpoint(client_id[4:], "callback")
    return client_id in rt.policy.clients and is_loopback_redirect(redirect_uri)


def _params(req: Request) -> dict[str, str]:
    source: Mapping[str, str] = (
        req.query if req.method == "GET" else {k: v[0] for k, v in req.form.items() if v}
    )
    return {k: source[k] for k in FIELDS if source.get(k)}


def authorize(rt: Runtime, req: Request) -> Response:
    params = _params(req)
    client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
    if not _valid_redirect(rt, client_id, redirect_uri):
        msg = "The client is unknown or its redirect_uri is not registered (loopback http only)."
        return html_response(pages.message_page("Invalid authorization request", msg), 400)
    back = {"state": params.get("state"), "iss": rt.urls.idp}
    try:
        if params.get("response_type") != "code":
            raise OAuthServerError("unsupported_response_type", "only response_type=code is supported")
        check_challenge(params.get("code_challenge"), params.get("code_challenge_method"))
    except OAuthServerError as exc:
        return redirect(
            with_query(redirect_uri, {"error": exc.error, "error_description": exc.description, **back})
        )
    if req.method == "POST" and pages.cross_site(rt.urls.base, req.headers.get("origin")):
        return html_response(pages.message_page("Refused", "This form was posted from another site."), 403)
    user = _chosen_user(rt, req)
    if user is None:
        if req.method == "POST" and req.param("decision") == "deny":
            return redirect(with_query(redirect_uri, {"error": "access_denied", **back}))
        page = pages.sign_in_page(client_id, login_scope(params.get("scope")), rt.policy.users, params)
        return html_response(page, form_targets=_form_targets(rt, client_id, redirect_uri))
    grant = CodeGrant(
        IDP,
        client_id,
        redirect_uri,
        params["code_challenge"],
        user,
        login_scope(params.get("scope")),
        params.get("nonce"),
        params.get("state"),
        rt.now_int(),
    )
    code = create_code(rt, grant)
    return redirect(with_query(redirect_uri, {"code": code, **back}))


def _form_targets(rt: Runtime, client_id: str, redirect_uri: str) -> tuple[str, ...]:
    """Origins the sign-in form's navigation may reach. For an app's own sign-in (``app-NAME``) the app's
    callback then redirects to *its* client's loopback URI, unknown here: allow any loopback port."""
    if client_id.startswith("app-") and client_id[4:] in rt.policy.apps:
        return ("http://127.0.0.1:*", "http://localhost:*")
    return (origin_of(redirect_uri),)


def _chosen_user(rt: Runtime, req: Request) -> str | None:
    if rt.settings.auto_approve:
        return rt.settings.auto_approve
    if req.method != "POST":
        return None
    name = req.param("user")
    return name if name in rt.policy.users else None
