from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.oauth_fakes import APP, IDP, RESOURCE, FakeServer, client, json_response
from xaa_cli.core.discovery import (
    discover_protected_resource,
    fetch_server_metadata,
    oauth_metadata_url,
    openid_configuration_url,
    resource_metadata_from_challenge,
    resource_metadata_urls,
)
from xaa_cli.errors import InsecureURLError, ProtocolError, RemoteError


class DictCache:
    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    def get(self, url: str) -> dict[str, Any] | None:
        return self.data.get(url)

    def put(self, url: str, document: dict[str, Any]) -> None:
        self.data[url] = document


@pytest.mark.parametrize(
    ("issuer", "url"),
    [
        ("https://h.example/issuer1", "https://h.example/.well-known/oauth-authorization-server/issuer1"),
        ("https://h.example", "https://h.example/.well-known/oauth-authorization-server"),
        ("https://h.example/", "https://h.example/.well-known/oauth-authorization-server"),
        (
            "http://127.0.0.1:8765/apps/x",
            "http://127.0.0.1:8765/.well-known/oauth-authorization-server/apps/x",
        ),
    ],
)
def test_rfc8414_path_insertion(issuer: str, url: str) -> None:
    assert oauth_metadata_url(issuer) == url


def test_openid_configuration_is_appended() -> None:
    assert openid_configuration_url(IDP) == IDP + "/.well-known/openid-configuration"


def test_resource_metadata_urls_path_then_root() -> None:
    assert resource_metadata_urls(RESOURCE) == [
        "https://apps.example/.well-known/oauth-protected-resource/apps/trello/api",
        "https://apps.example/.well-known/oauth-protected-resource",
    ]


def test_fetch_and_cache() -> None:
    server = FakeServer(APP)
    cache = DictCache()
    meta = fetch_server_metadata(client(server), APP, cache=cache)
    assert meta.issuer == APP
    assert meta.token_endpoint == APP + "/token"
    # a cache hit needs no network at all
    offline = httpx.Client(transport=httpx.MockTransport(lambda r: pytest.fail(f"network call {r.url}")))
    assert fetch_server_metadata(offline, APP, cache=cache).token_endpoint == APP + "/token"


def test_wrong_issuer_is_refused_and_not_cached() -> None:
    server = FakeServer(APP, extra_metadata={"issuer": APP + "/"})
    cache = DictCache()
    with pytest.raises(ProtocolError, match="refusing to use it"):
        fetch_server_metadata(client(server), APP, cache=cache)
    assert cache.data == {}


def test_falls_back_to_openid_configuration() -> None:
    def only_oidc(request: httpx.Request) -> httpx.Response:
        if str(request.url) == APP + "/.well-known/openid-configuration":
            return json_response(200, {"issuer": APP, "token_endpoint": APP + "/t"})
        return httpx.Response(404)

    http = httpx.Client(transport=httpx.MockTransport(only_oidc))
    assert fetch_server_metadata(http, APP).token_endpoint == APP + "/t"


def test_no_metadata_anywhere_lists_what_was_tried() -> None:
    http = httpx.Client(transport=httpx.MockTransport(lambda _r: httpx.Response(404, text="<html>")))
    with pytest.raises(RemoteError, match=r"tried .*oauth-authorization-server/apps/trello \(404\)"):
        fetch_server_metadata(http, APP)


def test_plain_http_endpoint_in_metadata_is_refused() -> None:
    server = FakeServer(APP, extra_metadata={"token_endpoint": "http://evil.example/token"})
    with pytest.raises(InsecureURLError):
        fetch_server_metadata(client(server), APP)


def test_challenge_parsing() -> None:
    header = 'Bearer error="invalid_token", resource_metadata="https://a.example/.well-known/x"'
    assert resource_metadata_from_challenge(header) == "https://a.example/.well-known/x"
    assert resource_metadata_from_challenge('Basic realm="x"') is None


PRM = {"resource": RESOURCE, "authorization_servers": [APP], "scopes_supported": ["board:read"]}


def _resource_server(prm_at: str, prm: dict[str, Any], challenge: bool) -> httpx.Client:
    pointer = "https://apps.example/meta/trello"

    def handler(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url == RESOURCE:
            headers = {"WWW-Authenticate": f'Bearer resource_metadata="{pointer}"'} if challenge else {}
            return httpx.Response(401, headers=headers)
        if url == (pointer if prm_at == "pointer" else prm_at):
            return json_response(200, prm)
        return httpx.Response(404)

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_prm_from_401_challenge() -> None:
    found = discover_protected_resource(_resource_server("pointer", PRM, True), RESOURCE)
    assert found.resource == RESOURCE
    assert found.authorization_servers == (APP,)
    assert found.source == "https://apps.example/meta/trello"


def test_prm_from_path_inserted_well_known() -> None:
    url = "https://apps.example/.well-known/oauth-protected-resource/apps/trello/api"
    assert discover_protected_resource(_resource_server(url, PRM, False), RESOURCE).source == url


def test_prm_for_another_resource_is_refused() -> None:
    other = {**PRM, "resource": "https://apps.example/apps/slack/api"}
    with pytest.raises(ProtocolError, match="RFC 9728"):
        discover_protected_resource(_resource_server("pointer", other, True), RESOURCE)


def test_prm_without_authorization_servers_is_refused() -> None:
    with pytest.raises(ProtocolError, match="no authorization_servers"):
        discover_protected_resource(_resource_server("pointer", {"resource": RESOURCE}, True), RESOURCE)


def test_idp_prefers_oidc_discovery() -> None:
    server = FakeServer(IDP)
    seen: list[str] = []

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return server.handle(request) or httpx.Response(404)

    fetch_server_metadata(httpx.Client(transport=httpx.MockTransport(spy)), IDP, prefer_oidc=True)
    assert seen == [IDP + "/.well-known/openid-configuration"]


def test_informational_http_links_do_not_block_discovery() -> None:
    server = FakeServer(APP, extra_metadata={"op_tos_uri": "http://legal.example/tos"})
    assert fetch_server_metadata(client(server), APP).issuer == APP


def test_plain_http_jwks_uri_is_refused() -> None:
    server = FakeServer(APP, extra_metadata={"jwks_uri": "http://keys.example/jwks"})
    with pytest.raises(InsecureURLError):
        fetch_server_metadata(client(server), APP)
