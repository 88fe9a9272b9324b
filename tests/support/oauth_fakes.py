"""Scriptable OAuth servers behind ``httpx.MockTransport`` for wire-exact unit tests of ``xaa_cli.core``.

Each ``FakeServer`` answers metadata and JWKS from real documents and token requests from a queue of
handlers the test supplies, and records every request so the test can assert the exact form that was sent.
Real keys, real signatures: only the network is replaced.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx

from xaa_cli.core.keys import generate_private_jwk, jwks_document, sign_jwt

IDP = "https://idp.example/idp"
APP = "https://apps.example/apps/trello"
RESOURCE = "https://apps.example/apps/trello/api"

Reply = Callable[[httpx.Request], httpx.Response]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return httpx.Response(status, content=json.dumps(body).encode(), headers=all_headers)


def form_of(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))


@dataclass
class FakeServer:
    """An authorization server at ``issuer`` on a mock transport."""

    issuer: str
    extra_metadata: dict[str, Any] = field(default_factory=dict)
    key: dict[str, Any] = field(default_factory=lambda: generate_private_jwk("ES256"))
    token_replies: list[Reply] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    routes: dict[str, Reply] = field(default_factory=dict)

    @property
    def token_endpoint(self) -> str:
        return self.issuer + "/token"

    def metadata(self) -> dict[str, Any]:
        base = {
            "issuer": self.issuer,
            "token_endpoint": self.token_endpoint,
            "jwks_uri": self.issuer + "/jwks",
            "authorization_endpoint": self.issuer + "/authorize",
            "device_authorization_endpoint": self.issuer + "/device",
            "revocation_endpoint": self.issuer + "/revoke",
            "response_types_supported": ["code"],
        }
        return {**base, **self.extra_metadata}

    def sign(self, claims: dict[str, Any], typ: str | None = "JWT") -> str:
        return sign_jwt(claims, self.key, typ=typ)

    def handle(self, request: httpx.Request) -> httpx.Response | None:
        url = str(request.url.copy_with(query=None))
        from urllib.parse import urlsplit

        host = urlsplit(self.issuer)
        if request.url.host != host.hostname:
            return None
        if url in self.routes:
            self.requests.append(request)
            return self.routes[url](request)
        path = host.path
        wk = {
            f"{host.scheme}://{host.netloc}/.well-known/oauth-authorization-server{path}",
            f"{self.issuer}/.well-known/openid-configuration",
        }
        if url in wk:
            return json_response(200, self.metadata())
        if url == self.issuer + "/jwks":
            return json_response(200, jwks_document(self.key))
        if url == self.token_endpoint or url == self.issuer + "/device":
            self.requests.append(request)
            if not self.token_replies:
                return json_response(500, {"error": "server_error"})
            return self.token_replies.pop(0)(request)
        return None


def transport(*servers: FakeServer, fallback: Reply | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        for server in servers:
            response = server.handle(request)
            if response is not None:
                return response
        if fallback is not None:
            return fallback(request)
        return httpx.Response(404, text="not found")

    return httpx.MockTransport(handler)


def client(*servers: FakeServer, fallback: Reply | None = None) -> httpx.Client:
    from xaa_cli.core.http import make_client

    return make_client(transport=transport(*servers, fallback=fallback))
