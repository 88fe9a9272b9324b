"""RFC 8693 token exchange at the IdP: an ID token (or IdP refresh token) becomes an ID-JAG for one app's
authorization server (draft §4.3). Policy decides; every issuance and denial is audited."""

from __future__ import annotations

import json
from typing import Any, Final

from xaa_cli.core.keys import sign_jwt
from xaa_cli.server.client_auth import Authenticated, require_confidential
from xaa_cli.server.constants import ID_JAG, ID_JAG_TYP, ID_TOKEN_TYPE, REFRESH_TOKEN_TYPE, SAML2_TYPE
from xaa_cli.server.errors import OAuthServerError, invalid_request
from xaa_cli.server.idp_tokens import active_refresh_token, verify_id_token
from xaa_cli.server.policy import AppSpec, User
from xaa_cli.server.rules import PolicyDenied, decide
from xaa_cli.server.settings import IDP, Runtime
from xaa_cli.server.subjects import app_rp_client_id, sub_id_claim, subject_for
from xaa_cli.server.wire import Deferred, Request, Response, json_response

MAX_AUTHORIZATION_DETAILS: Final = 8 * 1024


def token_exchange(rt: Runtime, req: Request, auth: Authenticated, dpop_jkt: str | None) -> Deferred:
    """Every check and the signing now; the audit entry (the only write) in the next group commit."""
    fields: dict[str, Any] = {"issued_to": auth.client_id}
    try:
        return _exchange(rt, req, auth, dpop_jkt, fields)
    except OAuthServerError as exc:
        rule = exc.rule if isinstance(exc, PolicyDenied) else None
        rt.audit.record(IDP, "id_jag.denied", exc.error, policy=rule, detail=exc.description, **fields)
        raise


def _exchange(
    rt: Runtime, req: Request, auth: Authenticated, jkt: str | None, fields: dict[str, Any]
) -> Deferred:
    if rt.options.confidential_only:
        require_confidential(auth)
    requested_type = req.require("requested_token_type")
    audience = req.require("audience")
    subject_token = req.require("subject_token")
    subject_type = req.require("subject_token_type")
    if req.param("actor_token") is not None and req.param("actor_token_type") is None:
        raise invalid_request("actor_token_type is required with actor_token")
    if req.param("actor_token") is None and req.param("actor_token_type") is not None:
        raise invalid_request("actor_token_type must not be sent without actor_token")
    if requested_type != ID_JAG:
        raise invalid_request(f"requested_token_type must be {ID_JAG}")
    if rt.store.client_disabled(auth.client_id):
        raise OAuthServerError("unauthorized_client", "the IdP administrator has disabled this client")
    user, auth_time = _subject(rt, subject_type, subject_token, auth.client_id)
    fields["subject"] = user.sub
    app = _resolve_audience(rt, audience)
    fields["audience"] = rt.urls.app(app.name)
    resources = req.params("resource")
    fields["resource"] = " ".join(resources) or None
    for resource in resources:
        if resource != rt.urls.resource(app.name):
            raise OAuthServerError(
                "invalid_target", f"the resource is not served by the {app.name} authorization server"
            )
    details = _authorization_details(req.param("authorization_details"))
    decision = decide(rt.policy, auth.client_id, app, user.name, req.param("scope"))
    _check_step_up(rt, app, auth_time)
    app_client_id = rt.policy.clients[auth.client_id].app_client_ids.get(app.name)
    if app_client_id is None:
        raise OAuthServerError("invalid_target", f"this client is not registered at {app.name}")
    scope = " ".join(decision.scopes)
    claims = _id_jag_claims(rt, user, app, app_client_id, scope, resources, details, auth_time, jkt)
    token = sign_jwt(claims, rt.keys.private(IDP), typ=ID_JAG_TYP)
    body: dict[str, Any] = {
        "issued_token_type": ID_JAG,
        "access_token": token,
        "token_type": "N_A",
        "expires_in": claims["exp"] - claims["iat"],
        "scope": scope,
    }
    if details is not None:
        body["authorization_details"] = details

    def record() -> Response:
        audit = {"scope": scope, "jti": claims["jti"], "policy": decision.rule, **fields}
        rt.audit.record(IDP, "id_jag.issued", "ok", **audit)
        return json_response(body)

    return Deferred(record)


def _subject(rt: Runtime, subject_type: str, token: str, client_id: str) -> tuple[User, int | None]:
    if subject_type == ID_TOKEN_TYPE:
        user, claims = verify_id_token(rt, token, client_id)
        auth_time = claims.get("auth_time")
        return user, auth_time if isinstance(auth_time, int) else None
    if subject_type == REFRESH_TOKEN_TYPE and rt.options.refresh_token_subject:
        record, known = active_refresh_token(rt, token, client_id)
        return known, record.auth_time
    if subject_type == SAML2_TYPE:
        raise invalid_request("SAML 2.0 subject tokens are not supported by this IdP")
    raise invalid_request("unsupported subject_token_type")


def _resolve_audience(rt: Runtime, audience: str) -> AppSpec:
    """Exact issuer match, or a configured alias (§4.3); never normalised."""
    for app in rt.policy.apps.values():
        if audience == rt.urls.app(app.name) or audience in app.aliases:
            return app
    raise OAuthServerError("invalid_target", "the audience is not an authorization server known to this IdP")


def _authorization_details(raw: str | None) -> list[Any] | None:
    if raw is None:
        return None
    if len(raw) > MAX_AUTHORIZATION_DETAILS:
        raise OAuthServerError("invalid_authorization_details", "authorization_details is too large")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, list) or not all(
        isinstance(d, dict) and isinstance(d.get("type"), str) for d in value
    ):
        raise OAuthServerError(
            "invalid_authorization_details",
            "authorization_details must be a JSON array of objects with a type",
        )
    return value


def _check_step_up(rt: Runtime, app: AppSpec, auth_time: int | None) -> None:
    if app.max_auth_age is None:
        return
    if auth_time is None or rt.now() - auth_time > app.max_auth_age:
        raise OAuthServerError(
            "insufficient_user_authentication",
            f"{app.name} requires a sign-in within the last {app.max_auth_age} seconds",
            extra={"max_age": app.max_auth_age},
        )


def _id_jag_claims(
    rt: Runtime,
    user: User,
    app: AppSpec,
    client_id: str,
    scope: str,
    resources: tuple[str, ...],
    details: list[Any] | None,
    auth_time: int | None,
    jkt: str | None,
) -> dict[str, Any]:
    now = rt.now_int()
    claims: dict[str, Any] = {
        "iss": rt.urls.idp,
        "sub": subject_for(rt, user, app_rp_client_id(app.name)),
        "aud": rt.urls.app(app.name),
        "client_id": client_id,
        "jti": rt.new_id(),
        "iat": now,
        "exp": now + rt.options.id_jag_lifetime,
        "email": user.email,
        "email_verified": True,
        "amr": list(user.amr),
        "acr": user.acr,
    }
    if scope:
        claims["scope"] = scope
    if resources:
        claims["resource"] = resources[0] if len(resources) == 1 else list(resources)
    if details is not None:
        claims["authorization_details"] = details
    if auth_time is not None:
        claims["auth_time"] = auth_time
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}
    if rt.options.tenant is not None:
        claims["tenant"] = rt.options.tenant
    if app.tenant is not None:
        claims.update(aud_tenant=app.tenant, aud_sub=claims["sub"])
    if app.sub_id:
        claims["sub_id"] = sub_id_claim(rt, user)
    return claims
