"""The ASGI application: routes → pure handlers (``Request -> Response``), through one thin adapter.

``create_app(settings)`` is the only entry point; ``xaa dev serve`` runs it on uvicorn and the tests drive it
in-process with Starlette's TestClient.
Contract (issue 3): IdP issuer ``BASE/idp``, apps ``BASE/apps/NAME``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
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
from xaa_cli.server.wire import (
    MAX_FORM_BYTES,
    Deferred,
    Reply,
    Request,
    Response,
    error_response,
    json_response,
    parse_form,
)

Handler = Callable[[Runtime, Request], Reply]
FORM_TYPE = "application/x-www-form-urlencoded"
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class _Disconnected(Exception):
    """The client went away before its request body arrived: nothing to answer."""


async def _read_body(receive: Receive, headers: Mapping[str, str]) -> bytes:
    declared = headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
        raise OAuthServerError(
            "invalid_request", "the request body is too large or has a bad length", status=413
        )
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise OAuthServerError("invalid_request", "the request body is too large", status=413)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _to_request(rt: Runtime, scope: Scope, receive: Receive) -> Request:
    # Straight from the ASGI scope: Starlette's Request/Headers/URL objects cost more than the fields we
    # take from them (measured in-process; uvicorn lower-cases header names, as ASGI requires).
    method: str = scope["method"]
    form: dict[str, tuple[str, ...]] = {}
    headers: dict[str, str] = {}
    counts: dict[str, int] = {}
    for key, value in scope["headers"]:
        name = key.decode("latin-1").lower()
        headers[name] = value.decode("latin-1")
        counts[name] = counts.get(name, 0) + 1
    if method == "POST":
        body = await _read_body(receive, headers)
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if body and ctype != FORM_TYPE:
            raise OAuthServerError("invalid_request", f"the request body must be {FORM_TYPE}")
        form = parse_form(body)
    path: str = scope["path"]
    client = scope.get("client")
    query_string: bytes = scope.get("query_string", b"")
    return Request(
        method=method,
        path=path,
        url=rt.urls.base + path,
        headers=headers,
        # as Starlette's QueryParams: latin-1 bytes, percent-decoded as UTF-8, the last repeat wins
        query=dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)),
        form=form,
        client_host=client[0] if client else None,
        header_counts=counts,
        path_params={k: str(v) for k, v in scope.get("path_params", {}).items()},
    )


def _content_type(media_type: str) -> str:
    # Starlette's rule, so both dispatch paths answer byte for byte alike.
    if media_type.startswith("text/") and "charset=" not in media_type.lower():
        return f"{media_type}; charset=utf-8"
    return media_type


async def send_response(send: Send, response: Response) -> None:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    headers.append((b"content-length", str(len(response.body)).encode("latin-1")))
    headers.append((b"content-type", _content_type(response.media_type).encode("latin-1")))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


class Endpoint:
    """One handler as a raw ASGI app: scope -> ``Request`` -> handler -> ``Response`` -> two messages.

    A class rather than a function so that Starlette's ``Route`` mounts it as an ASGI app (no Starlette
    Request/Response objects in between), and the exact-path table below can call it directly."""

    def __init__(self, rt: Runtime, handler: Handler, path_params: Mapping[str, str] | None = None) -> None:
        self.rt = rt
        self.handler = handler
        self.path_params = dict(path_params or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.path_params:
            scope["path_params"] = self.path_params
        try:
            reply = self.handler(self.rt, await _to_request(self.rt, scope, receive))
            response = await self.rt.batch.commit(reply) if isinstance(reply, Deferred) else reply
        except OAuthServerError as exc:
            response = error_response(exc)
        except _Disconnected:
            return
        await send_response(send, response)


class ExactPaths:
    """ASGI middleware in front of Starlette's routing: a request whose method and path are in ``table``
    goes straight to its endpoint. Every route without a path parameter, and every ``/apps/{name}/...``
    route expanded for each app of the policy, is in the table, so the token endpoints skip the exception
    middleware, a regular-expression match per route and Starlette's request/response wrappers (about 10%
    of a jwt-bearer request's CPU, benchmarks/server_load.py). Anything else (HEAD, a wrong method, an
    unknown path, the admin routes with ids in the path) goes through Starlette as before, which renders
    404/405 as JSON."""

    def __init__(self, app: Any, table: Mapping[tuple[str, str], Endpoint]) -> None:
        self.app = app
        self.table = table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = self.table.get((scope["method"], scope["path"]))
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _app_handler(fn: Callable[[Runtime, Request, AppSpec], Reply]) -> Handler:
    def handler(rt: Runtime, req: Request) -> Reply:
        app = rt.policy.apps.get(req.path_params.get("name", ""))
        if app is None:
            return json_response({"error": "not_found", "error_description": "no such app"}, 404)
        return fn(rt, req, app)

    return handler


def _admin(fn: Handler) -> Handler:
    def handler(rt: Runtime, req: Request) -> Reply:
        return admin.check_admin(rt, req) or fn(rt, req)

    return handler


@dataclass(frozen=True, slots=True)
class RouteSpec:
    path: str  # Starlette syntax; ``{name}`` is an app of the policy
    handler: Handler
    methods: tuple[str, ...]


def _routes() -> list[RouteSpec]:
    def get(path: str, handler: Handler, methods: tuple[str, ...] = ("GET",)) -> RouteSpec:
        return RouteSpec(path, handler, methods)

    def post(path: str, handler: Handler) -> RouteSpec:
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


def _exact_table(rt: Runtime, specs: list[RouteSpec]) -> dict[tuple[str, str], Endpoint]:
    """(method, path) -> endpoint for every route whose only path parameter, if any, is the app name."""
    table: dict[tuple[str, str], Endpoint] = {}
    for spec in specs:
        stripped = spec.path.replace("{name}", "")
        if "{" in stripped:
            continue  # ids in the path: Starlette's router parses them
        variants = (
            [(spec.path.replace("{name}", name), {"name": name}) for name in rt.policy.apps]
            if "{name}" in spec.path
            else [(spec.path, {})]
        )
        for path, params in variants:
            endpoint = Endpoint(rt, spec.handler, params)
            for method in spec.methods:
                table.setdefault((method, path), endpoint)
    return table


def create_app(settings: ServerSettings) -> Starlette:
    """The reference IdP, every app's authorization server and every app's API, as one ASGI app."""
    rt = Runtime(settings)
    rt.keys.private(IDP)  # create (or load) signing keys now, not on the first request
    rt.keys.private(rt.id_token_key)
    for name in rt.policy.apps:
        rt.keys.private(name)
    rt.store.purge_expired(rt.now_int())

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        rt.store.close()

    specs = _routes()
    starlette = Starlette(
        routes=[Route(r.path, Endpoint(rt, r.handler), methods=list(r.methods)) for r in specs],
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},
        middleware=[Middleware(ExactPaths, table=_exact_table(rt, specs))],
    )
    starlette.state.runtime = rt
    return starlette
