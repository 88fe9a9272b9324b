"""Each app's sample API (the protected resource ``BASE/apps/NAME/api``): ``GET whoami`` and a write route
that needs the app's write scope (RFC 6750 §3 errors, RFC 9728 §5.1 ``resource_metadata``)."""

from __future__ import annotations

from xaa_cli.server import dpop
from xaa_cli.server.errors import OAuthServerError
from xaa_cli.server.policy import AppSpec
from xaa_cli.server.settings import Runtime
from xaa_cli.server.tokens import TokenRecord, find_token
from xaa_cli.server.wire import Request, Response, json_response


def _challenge(rt: Runtime, app: AppSpec, error: str | None = None, scope: str | None = None) -> str:
    parts = [f'realm="{app.name}"', f'resource_metadata="{rt.urls.prm(app.name)}"']
    if error:
        parts.append(f'error="{error}"')
    if scope:
        parts.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(parts)


def _unauthorized(rt: Runtime, app: AppSpec, error: str | None, description: str) -> Response:
    body = {"error": error or "invalid_token", "error_description": description}
    return json_response(body, 401, headers={"WWW-Authenticate": _challenge(rt, app, error)})


def _authorize(rt: Runtime, req: Request, app: AppSpec) -> TokenRecord | Response:
    header = req.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() not in ("bearer", "dpop") or not value.strip():
        return _unauthorized(rt, app, None, "an access token is required")
    record = find_token(rt.store, value.strip(), app.name)
    if record is None or record.kind != "access_token":
        return _unauthorized(rt, app, "invalid_token", "the access token is not known here")
    if not record.active(rt.now()):
        return _unauthorized(rt, app, "invalid_token", "the access token has expired or was revoked")
    if record.aud not in (None, rt.urls.resource(app.name)):
        return _unauthorized(rt, app, "invalid_token", "the access token is for another resource")
    if record.cnf_jkt is not None:
        return _check_dpop(rt, req, app, record, value.strip(), scheme.lower())
    if app.require_dpop:
        return _unauthorized(rt, app, "invalid_token", "this API accepts only DPoP-bound access tokens")
    return record


def _check_dpop(
    rt: Runtime, req: Request, app: AppSpec, record: TokenRecord, token: str, scheme: str
) -> TokenRecord | Response:
    """RFC 9449 §7: a bound token is presented with the DPoP scheme and a proof by the same key."""
    if scheme != "dpop":
        return _unauthorized(rt, app, "invalid_token", "this access token is DPoP-bound; use the DPoP scheme")
    try:
        jkt = dpop.proof_thumbprint(rt, req, access_token=token)
    except OAuthServerError as exc:
        return _unauthorized(rt, app, "invalid_dpop_proof", exc.description)
    if jkt != record.cnf_jkt:
        return _unauthorized(rt, app, "invalid_dpop_proof", "the DPoP proof key is not the token's key")
    return record


def index(rt: Runtime, req: Request, app: AppSpec) -> Response:
    """The resource identifier itself: 401 with the RFC 9728 §5.1 challenge without a token, so that a
    client that knows only the resource URL can discover the authorization server from it."""
    record = _authorize(rt, req, app)
    if isinstance(record, Response):
        return record
    return json_response(
        {
            "resource": rt.urls.resource(app.name),
            "routes": {"GET whoami": None, "POST records": app.write_scope},
        }
    )


def whoami(rt: Runtime, req: Request, app: AppSpec) -> Response:
    record = _authorize(rt, req, app)
    if isinstance(record, Response):
        return record
    return json_response(
        {
            "sub": record.sub,
            "client_id": record.client_id,
            "scope": record.scope,
            "aud": record.aud or rt.urls.resource(app.name),
        }
    )


def write(rt: Runtime, req: Request, app: AppSpec) -> Response:
    record = _authorize(rt, req, app)
    if isinstance(record, Response):
        return record
    if app.write_scope not in record.scope.split():
        header = _challenge(rt, app, "insufficient_scope", app.write_scope)
        body = {
            "error": "insufficient_scope",
            "error_description": f"this route needs the {app.write_scope} scope",
        }
        return json_response(body, 403, headers={"WWW-Authenticate": header})
    return json_response({"created": True, "by": record.sub, "client_id": record.client_id}, 201)
