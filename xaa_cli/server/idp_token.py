"""The IdP token endpoint: authorization_code, refresh_token, device_code and token exchange → ID-JAG.
Plus RFC 7009 revocation, RFC 7662 introspection and OIDC userinfo at the IdP."""

from __future__ import annotations

from typing import Any

from xaa_cli.server import dpop
from xaa_cli.server.codes import consume_code
from xaa_cli.server.constants import DEVICE_CODE, JWT_BEARER, TOKEN_EXCHANGE
from xaa_cli.server.errors import OAuthServerError, invalid_grant
from xaa_cli.server.idp_device import device_code_grant
from xaa_cli.server.idp_exchange import token_exchange
from xaa_cli.server.idp_tokens import SignIn, active_refresh_token, issue_user_tokens
from xaa_cli.server.settings import IDP, Runtime
from xaa_cli.server.subjects import subject_for
from xaa_cli.server.tokens import find_token
from xaa_cli.server.wire import Reply, Request, Response, json_response

GRANT_NAMES = {
    "authorization_code": "authorization_code",
    "refresh_token": "refresh_token",
    DEVICE_CODE: DEVICE_CODE,
    TOKEN_EXCHANGE: TOKEN_EXCHANGE,
}


def token(rt: Runtime, req: Request) -> Reply:
    grant_type = req.require("grant_type")
    auth = rt.authenticator(IDP).authenticate(req)
    if grant_type == JWT_BEARER:
        # §9.3: the IdP never issues access tokens for an ID-JAG (its own or anyone's) in its own domain.
        raise invalid_grant(
            "this IdP does not accept ID-JAGs; present them to the app's authorization server"
        )
    if grant_type not in GRANT_NAMES:
        raise OAuthServerError("unsupported_grant_type", "this grant type is not supported by the IdP")
    spec = rt.policy.clients.get(auth.client_id)
    if spec is not None and grant_type not in spec.grant_types:
        raise OAuthServerError("unauthorized_client", "this client may not use this grant type")
    body: dict[str, Any]
    if grant_type == "authorization_code":
        grant = consume_code(
            rt,
            IDP,
            req.require("code"),
            auth.client_id,
            req.param("redirect_uri"),
            req.param("code_verifier"),
        )
        sign_in = SignIn(
            rt.policy.users[grant.user], auth.client_id, grant.scope, grant.auth_time, grant.nonce
        )
        body = issue_user_tokens(rt, sign_in)
    elif grant_type == "refresh_token":
        body = _refresh(rt, req, auth.client_id)
    elif grant_type == DEVICE_CODE:
        body = device_code_grant(rt, req, auth.client_id)
    else:
        return token_exchange(rt, req, auth, dpop.proof_thumbprint(rt, req))
    return json_response(body)


def _refresh(rt: Runtime, req: Request, client_id: str) -> dict[str, Any]:
    refresh_token = req.require("refresh_token")
    record, user = active_refresh_token(rt, refresh_token, client_id)
    scope = record.scope
    requested = req.param("scope")
    if requested is not None:
        if not set(requested.split()) <= set(scope.split()):
            raise OAuthServerError("invalid_scope", "a refresh may not widen the original scope")
        scope = requested
    sign_in = SignIn(user, client_id, scope, record.auth_time or record.iat)
    return issue_user_tokens(rt, sign_in, refresh_token=refresh_token)


def revoke(rt: Runtime, req: Request, realm: str) -> Response:
    """RFC 7009: 200 whether or not the token was known (§2.2)."""
    auth = rt.authenticator(realm).authenticate(req)
    hint = req.param("token_type_hint")
    if hint is not None and hint not in ("access_token", "refresh_token"):
        raise OAuthServerError(
            "unsupported_token_type", "token_type_hint must be access_token or refresh_token"
        )
    from xaa_cli.server.tokens import revoke as revoke_token

    record = revoke_token(rt.store, req.require("token"), realm, auth.client_id, rt.now_int())
    if record is not None:
        rt.audit.record(
            realm,
            f"{record.kind}.revoked",
            "ok",
            issued_to=record.client_id,
            subject=record.sub,
            scope=record.scope,
            jti=record.jti,
        )
    return json_response({})


def introspect(rt: Runtime, req: Request, realm: str) -> Response:
    """RFC 7662: only the client the token was issued to learns about it; others see ``active: false``."""
    auth = rt.authenticator(realm).authenticate(req)
    record = find_token(rt.store, req.require("token"), realm)
    if record is None or record.client_id != auth.client_id or not record.active(rt.now()):
        return json_response({"active": False})
    body: dict[str, Any] = {
        "active": True,
        "iss": rt.urls.issuer(realm),
        "sub": _presented_sub(rt, realm, record.sub, record.client_id),
        "client_id": record.client_id,
        "scope": record.scope,
        "token_type": "Bearer" if record.cnf_jkt is None else "DPoP",
        "exp": record.expires_at,
        "iat": record.iat,
    }
    for key in ("aud", "jti"):
        if getattr(record, key):
            body[key] = getattr(record, key)
    if record.source_jti:
        body["id_jag"] = {"iss": record.source_iss, "jti": record.source_jti}
    if record.cnf_jkt:
        body["cnf"] = {"jkt": record.cnf_jkt}
    return json_response(body)


def _presented_sub(rt: Runtime, realm: str, sub: str, client_id: str) -> str:
    """IdP records keep the user name; clients see their (possibly pairwise) subject."""
    user = rt.policy.users.get(sub) if realm == IDP else None
    return subject_for(rt, user, client_id) if user is not None else sub


def userinfo(rt: Runtime, req: Request) -> Response:
    header = req.headers.get("authorization", "")
    token_value = header[7:].strip() if header[:7].lower() == "bearer " else ""
    record = find_token(rt.store, token_value, IDP) if token_value else None
    if record is None or record.kind != "access_token" or not record.active(rt.now()):
        return Response(401, b"", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    user = rt.policy.users[record.sub]
    info: dict[str, Any] = {"sub": subject_for(rt, user, record.client_id)}
    if "email" in record.scope.split():
        info.update(email=user.email, email_verified=True)
    if "profile" in record.scope.split():
        info.update(name=user.display_name, preferred_username=user.name)
    return json_response(info)
