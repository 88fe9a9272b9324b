"""An app's authorization server token endpoint: RFC 7523 jwt-bearer with an ID-JAG (draft §4.4) and, for
clients that cannot use ID-JAG, authorization code + PKCE (issue 9). Access tokens are ``at+jwt`` (RFC 9068)
signed by the app and recorded by hash so they can be revoked and introspected."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xaa_cli.core.keys import sign_jwt
from xaa_cli.server import dpop
from xaa_cli.server.client_auth import Authenticated, require_confidential
from xaa_cli.server.codes import consume_code
from xaa_cli.server.constants import ACCESS_TOKEN_TYP, JWT_BEARER, JWT_DPOP
from xaa_cli.server.errors import OAuthServerError, invalid_grant, invalid_request
from xaa_cli.server.idjag_verify import TrustedIssuer, verify_id_jag
from xaa_cli.server.policy import AppSpec
from xaa_cli.server.settings import IDP, Runtime
from xaa_cli.server.subjects import app_rp_client_id, resolve_app_subject, subject_for
from xaa_cli.server.tokens import TokenRecord, save_token
from xaa_cli.server.wire import Deferred, Reply, Request, Response, error_response, json_response


def token(rt: Runtime, req: Request, app: AppSpec) -> Reply:
    grant_type = req.require("grant_type")
    auth = rt.authenticator(app.name).authenticate(req)
    if grant_type in (JWT_BEARER, JWT_DPOP):
        if not app.id_jag:
            raise OAuthServerError("unsupported_grant_type", f"{app.name} does not support ID-JAG grants")
        return _jwt_bearer(rt, req, app, auth, grant_type)
    if grant_type == "authorization_code":
        return _authorization_code(rt, req, app, auth)
    raise OAuthServerError("unsupported_grant_type", "this grant type is not supported here")


def _jwt_bearer(rt: Runtime, req: Request, app: AppSpec, auth: Authenticated, grant_type: str) -> Deferred:
    """Every check and the signing now; the replay check and the writes in the next group commit."""
    fields: dict[str, Any] = {"issued_to": auth.client_id, "audience": rt.urls.app(app.name)}
    try:
        claims, issued = _validate_and_mint(rt, req, app, auth, grant_type, fields)
    except OAuthServerError as exc:
        _deny(rt, app, exc, fields)
        raise
    return Deferred(lambda: _redeem(rt, app, claims, issued, fields))


def _deny(rt: Runtime, app: AppSpec, exc: OAuthServerError, fields: dict[str, Any]) -> None:
    rt.audit.record(app.name, "access_token.denied", exc.error, detail=exc.description, **fields)


def _redeem(
    rt: Runtime, app: AppSpec, claims: dict[str, Any], issued: _Issued, fields: dict[str, Any]
) -> Response:
    """Inside the group commit: consume the ID-JAG's ``jti`` (single use), then record the token."""
    if rt.options.jti_single_use and not rt.store.remember_jti(
        app.name, claims["iss"], claims["jti"], int(claims["exp"]) + rt.options.leeway, rt.now_int()
    ):
        exc = invalid_grant("this ID-JAG was already used (single-use policy)")
        _deny(rt, app, exc, fields)
        return error_response(exc)
    return json_response(_persist(rt, app, issued, fields))


def _validate_and_mint(
    rt: Runtime, req: Request, app: AppSpec, auth: Authenticated, grant_type: str, fields: dict[str, Any]
) -> tuple[dict[str, Any], _Issued]:
    if rt.options.confidential_only:
        require_confidential(auth)
    spec = rt.policy.client_at_app(app.name, auth.client_id)
    if spec is None or JWT_BEARER not in spec.grant_types:
        raise OAuthServerError("unauthorized_client", "this client may not use the jwt-bearer grant")
    assertions = req.form.get("assertion", ())
    if len(assertions) != 1 or not assertions[0]:
        raise invalid_request("exactly one assertion is required")
    if len(assertions[0]) > rt.options.max_assertion_bytes:
        raise invalid_grant("the assertion is too large")
    trusted = {rt.urls.idp: TrustedIssuer(rt.urls.idp, rt.keys.trusted(IDP))}
    claims = verify_id_jag(
        assertions[0],
        trusted=trusted,
        issuer=rt.urls.app(app.name),
        client_id=auth.client_id,
        now=rt.now(),
        options=rt.options,
    )
    fields.update(subject=claims["sub"], jti=claims["jti"])
    jkt = _binding(rt, req, app, claims, grant_type)
    resolve_app_subject(rt, app, claims)
    if app.tenant is not None and claims.get("aud_tenant") != app.tenant:
        raise invalid_grant(f"the ID-JAG is not for the {app.name} tenant this server hosts")
    resource = _resource(rt, app, claims, req.params("resource"))
    scope = _scope(app, claims.get("scope"), req.param("scope"))
    fields.update(resource=resource, scope=scope)
    return claims, _mint(rt, app, auth.client_id, claims, scope, resource, jkt)


def _binding(rt: Runtime, req: Request, app: AppSpec, claims: dict[str, Any], grant_type: str) -> str | None:
    """§9.8.1.2: ``cnf.jkt`` needs a matching proof; a proof without ``cnf`` may bind the token."""
    cnf = claims.get("cnf")
    bound = cnf.get("jkt") if isinstance(cnf, dict) else None
    try:
        jkt = dpop.proof_thumbprint(rt, req)
    except OAuthServerError:
        if bound is not None:
            raise invalid_grant("the DPoP proof for this bound ID-JAG is not valid") from None
        raise
    if bound is not None and jkt is None:
        raise invalid_grant("proof of possession is required for this authorization grant")
    if bound is not None and jkt != bound:
        raise invalid_grant("the DPoP proof key does not match the ID-JAG cnf.jkt")
    if grant_type == JWT_DPOP and jkt is None:
        raise invalid_request("the jwt-dpop grant needs a DPoP proof")
    if app.require_dpop and jkt is None:
        raise invalid_grant(f"{app.name} requires sender-constrained (DPoP) access tokens")
    return jkt if (bound is not None or rt.options.dpop_bound_when_proof) else None


def _resource(rt: Runtime, app: AppSpec, claims: dict[str, Any], requested: tuple[str, ...]) -> str:
    served = rt.urls.resource(app.name)
    claimed = claims.get("resource")
    values = [claimed] if isinstance(claimed, str) else claimed if isinstance(claimed, list) else []
    if any(v != served for v in values):
        raise OAuthServerError(
            rt.options.unserved_resource_error, f"the ID-JAG resource is not served by {app.name}"
        )
    if any(r != served for r in requested):
        raise OAuthServerError("invalid_target", f"the requested resource is not served by {app.name}")
    return served


def _scope(app: AppSpec, granted: object, requested: str | None) -> str:
    """EMA §7.2.1: the intersection of the request's and the ID-JAG's scopes, limited to the app's scopes."""
    in_grant = [s for s in (granted.split() if isinstance(granted, str) else []) if s in app.scopes]
    if requested is None:
        return " ".join(in_grant)
    asked = requested.split()
    scope = [s for s in in_grant if s in asked]
    if not scope:
        raise OAuthServerError("invalid_scope", "the requested scope is not covered by the ID-JAG")
    return " ".join(scope)


@dataclass(frozen=True, slots=True)
class _Issued:
    access_token: str
    record: TokenRecord
    body: dict[str, Any]


def _mint(
    rt: Runtime,
    app: AppSpec,
    client_id: str,
    claims: dict[str, Any],
    scope: str,
    resource: str,
    jkt: str | None,
) -> _Issued:
    """Sign the access token and build its record and response (no store access)."""
    now = rt.now_int()
    lifetime = rt.options.access_token_lifetime
    jti = rt.new_id()
    at_claims: dict[str, Any] = {
        "iss": rt.urls.app(app.name),
        "sub": claims["sub"],
        "aud": resource,
        "client_id": client_id,
        "scope": scope,
        "jti": jti,
        "iat": now,
        "exp": now + lifetime,
    }
    if jkt:
        at_claims["cnf"] = {"jkt": jkt}
    access_token = sign_jwt(at_claims, rt.keys.private(app.name), typ=ACCESS_TOKEN_TYP)
    record = TokenRecord(
        "access_token",
        app.name,
        client_id,
        claims["sub"],
        scope,
        now,
        now + lifetime,
        resource,
        jti,
        claims.get("jti"),
        claims.get("iss"),
        claims.get("auth_time"),
        jkt,
    )
    body = {
        "access_token": access_token,
        "token_type": "DPoP" if jkt else "Bearer",
        "expires_in": lifetime,
        "scope": scope,
    }
    return _Issued(access_token, record, body)


def _persist(rt: Runtime, app: AppSpec, issued: _Issued, fields: dict[str, Any]) -> dict[str, Any]:
    save_token(rt.store, issued.access_token, issued.record)
    rt.audit.record(app.name, "access_token.issued", "ok", **{**fields, "jti": issued.record.jti})
    return issued.body


def _authorization_code(rt: Runtime, req: Request, app: AppSpec, auth: Authenticated) -> Deferred:
    grant = consume_code(
        rt,
        app.name,
        req.require("code"),
        auth.client_id,
        req.param("redirect_uri"),
        req.param("code_verifier"),
    )
    sub = subject_for(rt, rt.policy.users[grant.user], app_rp_client_id(app.name))
    claims = {"sub": sub, "iss": None, "jti": None, "auth_time": grant.auth_time}
    fields = {"issued_to": auth.client_id, "audience": rt.urls.app(app.name), "subject": grant.user}
    issued = _mint(rt, app, auth.client_id, claims, grant.scope, rt.urls.resource(app.name), None)
    return Deferred(lambda: json_response(_persist(rt, app, issued, fields)))  # same group commit
