"""RFC 7009 client: request building (pure), answers from the real reference server (in-process), and the
error answers the reference server never gives (503 + Retry-After, unsupported_token_type) on a
MockTransport."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from tests.support.oauth_fakes import json_response
from tests.support.server import DevServer, sign_in, start_in_process
from xaa_cli.clock import FixedClock
from xaa_cli.core.client_auth import ClientCredentials
from xaa_cli.core.constants import CLIENT_ASSERTION_TYPE_JWT, ClientAuthMethod
from xaa_cli.core.discovery import ServerMetadata
from xaa_cli.core.http import make_client
from xaa_cli.core.idjag import get_access_token
from xaa_cli.core.jose import decode_unverified
from xaa_cli.core.revocation import (
    RevocationUnavailable,
    UnsupportedTokenType,
    build_revocation_request,
    parse_retry_after,
    revocation_endpoint,
    revoke_token,
)
from xaa_cli.core.token_endpoint import Endpoint, InvalidClient
from xaa_cli.errors import InsecureURLError, NetworkError, OAuthError, ProtocolError, RemoteError, UsageError

SECRET = "s3cr" + "et+with%odd/chars"
TOKEN = "opaque-" + "token-value"
BASIC = ClientCredentials("agent", ClientAuthMethod.CLIENT_SECRET_BASIC, secret=SECRET)
MOCK_ENDPOINT = Endpoint("https://as.example", "https://as.example/revoke", BASIC, "trello")


# ----------------------------------------------------------------------------------------- pure request
def test_request_carries_token_hint_and_basic_auth_only() -> None:
    request = build_revocation_request(MOCK_ENDPOINT, TOKEN, "access_token", clock=FixedClock())
    assert request.url == "https://as.example/revoke"
    assert dict(request.form) == {"token": TOKEN, "token_type_hint": "access_token", "client_id": "agent"}
    scheme, _, value = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    # RFC 6749 §2.3.1: each part form-urlencoded before base64.
    assert base64.b64decode(value).decode() == "agent:s3cret%2Bwith%25odd%2Fchars"
    assert SECRET not in repr(request)


def test_request_without_hint_and_with_post_auth() -> None:
    creds = ClientCredentials("agent", ClientAuthMethod.CLIENT_SECRET_POST, secret=SECRET)
    endpoint = Endpoint("https://as.example", "https://as.example/revoke", creds, "trello")
    request = build_revocation_request(endpoint, TOKEN, None, clock=FixedClock())
    assert dict(request.form) == {"token": TOKEN, "client_id": "agent", "client_secret": SECRET}
    assert "Authorization" not in request.headers


def test_private_key_jwt_assertion_targets_the_issuer() -> None:
    from xaa_cli.core.keys import generate_private_jwk

    creds = ClientCredentials(
        "agent", ClientAuthMethod.PRIVATE_KEY_JWT, private_jwk=generate_private_jwk("ES256")
    )
    endpoint = Endpoint("https://as.example", "https://as.example/revoke", creds, "trello")
    clock = FixedClock()
    request = build_revocation_request(endpoint, TOKEN, "refresh_token", clock=clock, new_id=lambda: "j1")
    assert request.form["client_assertion_type"] == CLIENT_ASSERTION_TYPE_JWT
    claims = decode_unverified(request.form["client_assertion"]).claims
    assert claims["aud"] == "https://as.example"
    assert claims["iss"] == claims["sub"] == "agent"
    assert claims["jti"] == "j1"
    assert request.form["token_type_hint"] == "refresh_token"


@pytest.mark.parametrize(("token", "hint"), [("", None), (" padded ", None), (TOKEN, "id_token")])
def test_bad_input_is_a_usage_error(token: str, hint: str | None) -> None:
    with pytest.raises(UsageError):
        build_revocation_request(MOCK_ENDPOINT, token, hint, clock=FixedClock())


def test_endpoint_comes_from_metadata_and_must_exist_and_be_secure() -> None:
    meta = ServerMetadata(
        "https://as.example", "https://as.example/token", {"revocation_endpoint": "https://as.example/r"}
    )
    assert revocation_endpoint(meta, BASIC, "trello").url == "https://as.example/r"
    with pytest.raises(RemoteError, match="offers no revocation endpoint"):
        revocation_endpoint(ServerMetadata("https://as.example", "https://as.example/token", {}), BASIC, "x")
    insecure = ServerMetadata("https://as.example", "t", {"revocation_endpoint": "http://as.example/r"})
    with pytest.raises(InsecureURLError):
        revocation_endpoint(insecure, BASIC, "x")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("Fri, 15 Jan 2027 08:00:10 GMT", 10.0),
        ("Fri, 15 Jan 2027 07:00:00 GMT", 0.0),  # in the past: retry now
        ("soon", None),
        ("", None),
        (None, None),
        ("99999999999", 86400.0),
    ],
)
def test_retry_after_forms(value: str | None, expected: float | None) -> None:
    from datetime import UTC, datetime

    now = datetime(2027, 1, 15, 8, 0, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after(value, now) == expected


# ----------------------------------------------------------------------------------------- mock answers
def _mock(replies: list[httpx.Response | Exception], seen: list[dict[str, str]]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(parse_qsl(request.content.decode())))
        reply = replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    return make_client(transport=httpx.MockTransport(handler))


def _revoke(http: httpx.Client, sleep: Callable[[float], None] | None = None) -> Any:
    return revoke_token(http, MOCK_ENDPOINT, TOKEN, hint="access_token", clock=FixedClock(), sleep=sleep)


def test_200_with_any_body_is_success() -> None:
    seen: list[dict[str, str]] = []
    result = _revoke(_mock([httpx.Response(200, content=b"<html>ignored</html>")], seen))
    assert (result.status, result.attempts) == (200, 1)
    assert seen[0]["token"] == TOKEN


def test_503_with_short_retry_after_is_retried_once() -> None:
    seen: list[dict[str, str]] = []
    waits: list[float] = []
    replies: list[httpx.Response | Exception] = [
        httpx.Response(503, headers={"Retry-After": "2"}),
        httpx.Response(200),
    ]
    result = _revoke(_mock(replies, seen), sleep=waits.append)
    assert (result.attempts, waits, len(seen)) == (2, [2.0], 2)


def test_503_twice_or_long_wait_or_no_sleep_is_reported() -> None:
    again: list[httpx.Response | Exception] = [
        httpx.Response(503, headers={"Retry-After": "1"}),
        httpx.Response(503, headers={"Retry-After": "1"}),
    ]
    with pytest.raises(RevocationUnavailable) as info:
        _revoke(_mock(again, []), sleep=lambda _s: None)
    assert info.value.retry_after == 1.0
    with pytest.raises(RevocationUnavailable, match="retry in 3600 s"):
        _revoke(_mock([httpx.Response(503, headers={"Retry-After": "3600"})], []), sleep=lambda _s: None)
    with pytest.raises(RevocationUnavailable):
        _revoke(_mock([httpx.Response(503, headers={"Retry-After": "1"})], []), sleep=None)


def test_unsupported_token_type_is_its_own_error() -> None:
    reply = json_response(
        400, {"error": "unsupported_token_type", "error_description": "access tokens are JWTs"}
    )
    with pytest.raises(UnsupportedTokenType) as info:
        _revoke(_mock([reply], []))
    assert info.value.status == 400
    assert "stays valid until it expires" in (info.value.hint or "")


def test_oauth_errors_and_nonsense_and_network() -> None:
    with pytest.raises(InvalidClient):
        _revoke(_mock([json_response(401, {"error": "invalid_client"})], []))
    with pytest.raises(ProtocolError, match="HTML page"):
        _revoke(_mock([httpx.Response(404, content=b"<html>nope</html>")], []))
    with pytest.raises(NetworkError, match="cannot reach"):
        _revoke(_mock([httpx.ConnectError("refused")], []))


# ----------------------------------------------------------------------------------------- real server
@pytest.fixture
def server() -> Iterator[DevServer]:
    started = start_in_process()
    yield started
    started.close()


def _app_endpoint(server: DevServer, app: str) -> Endpoint:
    creds = ClientCredentials(
        server.app_client_id(app), ClientAuthMethod.CLIENT_SECRET_BASIC, secret=server.kit.app_secrets[app]
    )
    return Endpoint(server.app_issuer(app), f"{server.app_issuer(app)}/revoke", creds, app)


def _idp_endpoint(server: DevServer, url: str = "") -> Endpoint:
    creds = ClientCredentials(
        server.kit.client_id, ClientAuthMethod.PRIVATE_KEY_JWT, private_jwk=server.kit.private_jwk
    )
    return Endpoint(server.idp_issuer, url or f"{server.idp_issuer}/token", creds, "the IdP")


def _introspect(server: DevServer, endpoint: Endpoint, token: str) -> dict[str, Any]:
    url = endpoint.url.replace("/revoke", "/introspect")
    if endpoint.credentials.method == ClientAuthMethod.CLIENT_SECRET_BASIC:
        auth = (endpoint.credentials.client_id, endpoint.credentials.secret or "")
        response = server.client.post(url, data={"token": token}, auth=auth)
    else:
        form = build_revocation_request(endpoint, token, None, clock=FixedClock(time.time())).form
        response = server.client.post(url, data={k: v for k, v in form.items() if k != "token_type_hint"})
    body: dict[str, Any] = response.json()
    return body


def test_app_access_token_is_revoked_and_introspects_inactive(server: DevServer) -> None:
    clock = FixedClock(time.time())
    id_token = sign_in(server)["id_token"]
    app = _app_endpoint(server, "trello")
    app_token = Endpoint(app.issuer, f"{app.issuer}/token", app.credentials, "trello")
    access = get_access_token(
        server.client, _idp_endpoint(server), app_token, subject_token=id_token,
        resource=server.resource("trello"), scope="board:read", clock=clock,
    ).access.access_token  # fmt: skip
    assert _introspect(server, app, access)["active"] is True
    result = revoke_token(server.client, app, access, hint="access_token", clock=clock)
    assert result.status == 200
    assert _introspect(server, app, access) == {"active": False}
    whoami = server.client.get(
        f"{server.resource('trello')}/whoami", headers={"Authorization": f"Bearer {access}"}
    )
    assert whoami.status_code == 401
    # Again, and with a token the server never issued: both 200 (RFC 7009 §2.2).
    assert revoke_token(server.client, app, access, hint="access_token", clock=clock).status == 200
    assert revoke_token(server.client, app, "never-issued", hint=None, clock=clock).status == 200


def test_idp_refresh_token_revocation_with_private_key_jwt(server: DevServer) -> None:
    clock = FixedClock(time.time())
    refresh = sign_in(server)["refresh_token"]
    idp = _idp_endpoint(server, f"{server.idp_issuer}/revoke")
    assert _introspect(server, idp, refresh)["active"] is True
    revoke_token(server.client, idp, refresh, hint="refresh_token", clock=clock)
    assert _introspect(server, idp, refresh) == {"active": False}
    renewed = server.client.post(
        f"{server.idp_issuer}/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        auth=(server.kit.client_id, server.kit.secret),
    )
    assert (renewed.status_code, renewed.json()["error"]) == (400, "invalid_grant")


def test_wrong_credentials_are_refused_by_the_real_server(server: DevServer) -> None:
    wrong = ClientCredentials(
        server.app_client_id("slack"), ClientAuthMethod.CLIENT_SECRET_BASIC, secret="nope"
    )
    endpoint = Endpoint(server.app_issuer("slack"), f"{server.app_issuer('slack')}/revoke", wrong, "slack")
    with pytest.raises(OAuthError) as info:
        revoke_token(server.client, endpoint, TOKEN, hint="access_token", clock=FixedClock())
    assert info.value.error == "invalid_client"
