"""The ASGI application: routes → pure handlers (``Request -> Response``), through one thin adapter.

``create_app(settings)`` is the only entry point; ``xaa dev serve`` runs it on uvicorn and the tests drive it
in-process with Starlette's TestClient.
Contract (issue 3): IdP issuer ``BASE/idp``, apps ``BASE/apps/NAME``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from xaa_cli.server import (
    admin,
    api,
    app_authorize,
    idp_authorize,
    idp_device,
    idp_token,
    metadata,
    ras_token,
)
from xaa_cli.server.errors import OAuthServerError
from xaa_cli.server.policy import AppSpec
from xaa_cli.server.settings import IDP, Runtime, ServerSettings
from xaa_cli.server.wire import MAX_FORM_BYTES, Request, Response, json_response, parse_form

Handler = Callable[[Runtime, Request], Response]
FORM_TYPE = "application/x-www-form-urlencoded"


async def _read_body(request: StarletteRequest, headers: dict[str, str]) -> bytes:
    declared = headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
        raise OAuthServerError(
            "invalid_request", "the request body is too large or has a bad length", status=413
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise OAuthServerError("invalid_request", "the request body is too large", status=413)
        chunks.append(chunk)
    return b"".join(chunks)


async def _to_request(rt: Runtime, request: StarletteRequest) -> Request:
    # Straight from the ASGI scope: Starlette's Headers/URL/QueryParams objects cost more than the fields
    # we take from them (measured in-process; uvicorn lower-cases header names, as ASGI requires).
    scope = request.scope
    method: str = scope["method"]
    form: dict[str, tuple[str, ...]] = {}
    headers: dict[str, str] = {}
    counts: dict[str, int] = {}
    for key, value in scope["headers"]:
        name = key.decode("latin-1").lower()
        headers[name] = value.decode("latin-1")
        counts[name] = counts.get(name, 0) + 1
    if method == "POST":
        body = await _read_body(request, headers)
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if body and ctype != FORM_TYPE:
            raise OAuthServerError("invalid_request", f"the request body must be {FORM_TYPE}")
        form = parse_form(body)
    path: str = scope["path"]
    client = scope.get("client")
    return Request(
        method=method,
        path=path,
        url=rt.urls.base + path,
        headers=headers,
        query=dict(request.query_params) if scope.get("query_string") else {},
        form=form,
        client_host=client[0] if client else None,
        header_counts=counts,
        path_params={k: str(v) for k, v in scope.get("path_params", {}).items()},
    )


def _adapt(rt: Runtime, handler: Handler) -> Callable[[StarletteRequest], Any]:
    async def endpoint(request: StarletteRequest) -> StarletteResponse:
        try:
            response = handler(rt, await _to_request(rt, request))
        except OAuthServerError as exc:
            response = Response(exc.status, exc.body(), exc.all_headers())
        return StarletteResponse(response.body, response.status, dict(response.headers), response.media_type)

    return endpoint


def _app_handler(fn: Callable[[Runtime, Request, AppSpec], Response]) -> Handler:
    def handler(rt: Runtime, req: Request) -> Response:
        app = rt.policy.apps.get(req.path_params.get("name", ""))
        if app is None:
            return json_response({"error": "not_found", "error_description": "no such app"}, 404)
        return fn(rt, req, app)

    return handler


def _admin(fn: Handler) -> Handler:
    def handler(rt: Runtime, req: Request) -> Response:
        return admin.check_admin(rt, req) or fn(rt, req)

    return handler


def _routes(rt: Runtime) -> list[Route]:
    def get(path: str, handler: Handler, methods: tuple[str, ...] = ("GET",)) -> Route:
        return Route(path, _adapt(rt, handler), methods=list(methods))

    def post(path: str, handler: Handler) -> Route:
        return get(path, handler, ("POST",))

    def idp_doc(rt: Runtime, _req: Request) -> Response:
        return json_response(metadata.idp_metadata(rt.urls, rt.policy), no_store=False)

    app = _app_handler
    return [
        get("/idp/.well-known/openid-configuration", idp_doc),
        get("/.well-known/oauth-authorization-server/idp", idp_doc),
        get("/.well-known/openid-configuration/idp", idp_doc),
        get(
            "/.well-known/oauth-authorization-server/apps/{name}",
            app(lambda rt, _, a: json_response(metadata.app_metadata(rt.urls, a), no_store=False)),
        ),
        get(
            "/.well-known/oauth-protected-resource/apps/{name}/api",
            app(
                lambda rt, _, a: json_response(
                    metadata.protected_resource_metadata(rt.urls, a), no_store=False
                )
            ),
        ),
        get("/idp/authorize", idp_authorize.authorize, ("GET", "POST")),
        post("/idp/device_authorization", idp_device.device_authorization),
        get("/idp/device", idp_device.verification_page, ("GET", "POST")),
        post("/idp/token", idp_token.token),
        post("/idp/revoke", lambda rt, req: idp_token.revoke(rt, req, IDP)),
        post("/idp/introspect", lambda rt, req: idp_token.introspect(rt, req, IDP)),
        get("/idp/userinfo", idp_token.userinfo, ("GET", "POST")),
        get("/idp/jwks", lambda rt, _: json_response(rt.keys.jwks(IDP), no_store=False)),
        get("/idp/admin/clients", _admin(admin.clients)),
        post(
            "/idp/admin/clients/{client_id}/disable",
            _admin(lambda rt, req: admin.set_client(rt, req, req.path_params["client_id"], disabled=True)),
        ),
        post(
            "/idp/admin/clients/{client_id}/enable",
            _admin(lambda rt, req: admin.set_client(rt, req, req.path_params["client_id"], disabled=False)),
        ),
        post(
            "/idp/admin/users/{user}/revoke-refresh-tokens",
            _admin(lambda rt, req: admin.revoke_user(rt, req, req.path_params["user"])),
        ),
        get("/idp/admin/audit", _admin(admin.audit)),
        post("/apps/{name}/token", app(ras_token.token)),
        post("/apps/{name}/revoke", app(lambda rt, req, a: idp_token.revoke(rt, req, a.name))),
        post("/apps/{name}/introspect", app(lambda rt, req, a: idp_token.introspect(rt, req, a.name))),
        get("/apps/{name}/jwks", app(lambda rt, _, a: json_response(rt.keys.jwks(a.name), no_store=False))),
        get("/apps/{name}/authorize", app(app_authorize.authorize)),
        get("/apps/{name}/callback", app(app_authorize.callback)),
        get("/apps/{name}/api", app(api.index)),
        get("/apps/{name}/api/whoami", app(api.whoami)),
        post("/apps/{name}/api/records", app(api.write)),
        post(
            "/apps/{name}/admin/clients/{client_id}/revoke-tokens",
            _admin(
                app(lambda rt, req, a: admin.revoke_app_client(rt, req, a.name, req.path_params["client_id"]))
            ),
        ),
    ]


async def _http_error(_: StarletteRequest, exc: Exception) -> StarletteResponse:
    """Routing errors (unknown path 404, wrong method 405) as JSON too, never an HTML or text page."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    error = {404: "not_found", 405: "method_not_allowed"}.get(status, "invalid_request")
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    response = json_response(
        {"error": error, "error_description": str(getattr(exc, "detail", error))}, status, headers=headers
    )
    return StarletteResponse(response.body, response.status, dict(response.headers), response.media_type)


def create_app(settings: ServerSettings) -> Starlette:
    """The reference IdP, every app's authorization server and every app's API, as one ASGI app."""
    rt = Runtime(settings)
    rt.keys.private(IDP)  # create (or load) signing keys now, not on the first request
    for name in rt.policy.apps:
        rt.keys.private(name)
    rt.store.purge_expired(rt.now_int())

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        rt.store.close()

    starlette = Starlette(
        routes=_routes(rt), lifespan=lifespan, exception_handlers={HTTPException: _http_error}
    )
    starlette.state.runtime = rt
    return starlette
