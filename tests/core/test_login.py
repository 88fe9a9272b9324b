from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.oauth_fakes import IDP, FakeServer, client, form_of, json_response
from xaa_cli.clock import FixedClock
from xaa_cli.core.client_auth import ClientCredentials
from xaa_cli.core.constants import ClientAuthMethod
from xaa_cli.core.discovery import fetch_server_metadata
from xaa_cli.core.login import browser_login, device_login
from xaa_cli.core.loopback import LoopbackRedirect
from xaa_cli.core.oidc import pkce_challenge
from xaa_cli.core.token_endpoint import Endpoint
from xaa_cli.errors import LoginRequired

NOW = 1_800_000_000
pytestmark = pytest.mark.loopback


def endpoint(server: FakeServer) -> Endpoint:
    creds = ClientCredentials("xaa-agent", ClientAuthMethod.PRIVATE_KEY_JWT, private_jwk=server.key)
    return Endpoint(IDP, server.token_endpoint, creds, "the IdP")


def tokens(server: FakeServer, nonce: str | None = None) -> Any:
    def reply(_request: httpx.Request) -> httpx.Response:
        claims = {"iss": IDP, "sub": "alice", "aud": "xaa-agent", "iat": NOW, "exp": NOW + 600}
        if nonce == "from-request":
            claims["nonce"] = server.routes_state["nonce"]  # type: ignore[attr-defined]
        id_token = server.sign(claims)
        return json_response(200, {"access_token": "at", "token_type": "Bearer", "id_token": id_token,
                                   "refresh_token": "rt-" + "1", "expires_in": 600})  # fmt: skip

    return reply


def test_browser_login_follows_the_loopback_redirect() -> None:
    server = FakeServer(IDP, extra_metadata={"authorization_response_iss_parameter_supported": True})
    server.routes_state = {}  # type: ignore[attr-defined]
    http = client(server)
    metadata = fetch_server_metadata(http, IDP)
    opened: list[str] = []

    def opener(url: str) -> bool:
        opened.append(url)
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        server.routes_state.update(query)  # type: ignore[attr-defined]
        redirect = f"{query['redirect_uri']}?code=c0de&state={query['state']}&iss={IDP}"
        threading.Thread(target=lambda: httpx.get(redirect, timeout=5)).start()
        return True

    server.token_replies.append(tokens(server, nonce="from-request"))
    messages: list[str] = []
    result = browser_login(
        http, endpoint(server), metadata, scopes=["openid", "offline_access"], open_browser=opener,
        announce=messages.append, clock=FixedClock(NOW), timeout=10,
    )  # fmt: skip
    assert result.claims["sub"] == "alice"
    assert result.refresh_token == "rt-1"
    (token_request,) = server.requests
    form = form_of(token_request)
    sent = server.routes_state  # type: ignore[attr-defined]
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "c0de"
    assert form["redirect_uri"] == sent["redirect_uri"]
    assert sent["redirect_uri"].startswith("http://127.0.0.1:")
    assert sent["redirect_uri"].endswith("/callback")
    assert pkce_challenge(form["code_verifier"]) == sent["code_challenge"]
    assert "client_assertion" in form


def test_no_browser_prints_the_url() -> None:
    server = FakeServer(IDP)
    http = client(server)
    metadata = fetch_server_metadata(http, IDP)
    messages: list[str] = []
    with pytest.raises(LoginRequired, match="no answer from the browser"):
        browser_login(
            http, endpoint(server), metadata, scopes=["openid"], open_browser=None, announce=messages.append,
            clock=FixedClock(NOW), timeout=0.2,
        )  # fmt: skip
    assert IDP + "/authorize?" in messages[0]


def test_loopback_ignores_other_paths() -> None:
    with LoopbackRedirect() as callback:
        base = callback.redirect_uri.removesuffix("/callback")
        assert httpx.get(base + "/favicon.ico").status_code == 404
        assert httpx.get(callback.redirect_uri + "?code=x&state=y").status_code == 200
        assert callback.wait(1) == {"code": "x", "state": "y"}


def device_reply(**extra: Any) -> Any:
    body = {"device_code": "dev-1", "user_code": "BCDF-GHJK", "verification_uri": IDP + "/device/verify",
            "expires_in": 600, **extra}  # fmt: skip
    return lambda _r: json_response(200, body)


def test_device_flow_honours_interval_and_slow_down() -> None:
    server = FakeServer(IDP)
    clock = FixedClock(NOW)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)

    server.token_replies += [
        device_reply(),
        lambda _r: json_response(400, {"error": "authorization_pending"}),
        lambda _r: json_response(400, {"error": "slow_down"}),
        lambda _r: json_response(400, {"error": "authorization_pending"}),
        tokens(server),
    ]
    messages: list[str] = []
    http = client(server)
    result = device_login(
        http, endpoint(server), fetch_server_metadata(http, IDP), scopes=["openid"], announce=messages.append,
        clock=clock, sleep=sleep,
    )  # fmt: skip
    assert result.claims["sub"] == "alice"
    assert waits == [5, 5, 10, 10]  # default 5 s; slow_down adds 5 s for this and every later poll
    assert "BCDF-GHJK" in messages[0]
    polls = [form_of(r) for r in server.requests[1:]]
    assert all(p["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code" for p in polls)
    assert all(p["device_code"] == "dev-1" for p in polls)


@pytest.mark.parametrize("error", ["access_denied", "expired_token"])
def test_device_flow_stops_on_denial_or_expiry(error: str) -> None:
    server = FakeServer(IDP)
    server.token_replies += [device_reply(interval=2), lambda _r: json_response(400, {"error": error})]
    http = client(server)
    with pytest.raises(LoginRequired):
        device_login(
            http, endpoint(server), fetch_server_metadata(http, IDP), scopes=["openid"],
            announce=lambda _m: None,
            clock=FixedClock(NOW), sleep=lambda _s: None,
        )  # fmt: skip
    assert len(server.requests) == 2


def test_device_flow_gives_up_after_expires_in() -> None:
    server = FakeServer(IDP)
    clock = FixedClock(NOW)
    server.token_replies += [device_reply(expires_in=12)] + [
        lambda _r: json_response(400, {"error": "authorization_pending"})
    ] * 5
    http = client(server)
    with pytest.raises(LoginRequired, match="expired"):
        device_login(
            http, endpoint(server), fetch_server_metadata(http, IDP), scopes=["openid"],
            announce=lambda _m: None,
            clock=clock, sleep=clock.advance,
        )  # fmt: skip
    assert len(server.requests) == 3  # the authorization request and two polls (at 5 s and 10 s)


def test_max_age_needs_a_recent_auth_time() -> None:
    from xaa_cli.core.login import check_auth_time
    from xaa_cli.errors import TokenVerificationError

    check_auth_time({"auth_time": NOW - 100}, 300, NOW)
    with pytest.raises(TokenVerificationError, match="no auth_time"):
        check_auth_time({}, 300, NOW)
    with pytest.raises(TokenVerificationError, match="older than max_age"):
        check_auth_time({"auth_time": NOW - 1000}, 300, NOW)


def test_refresh_without_id_token_is_login_required() -> None:
    from xaa_cli.core.oidc import refresh_login

    server = FakeServer(IDP)
    server.token_replies.append(lambda _r: json_response(200, {"access_token": "at", "token_type": "Bearer"}))
    http = client(server)
    with pytest.raises(LoginRequired, match="sent no new ID token"):
        refresh_login(
            http, endpoint(server), fetch_server_metadata(http, IDP), refresh_token="rt", clock=FixedClock()
        )
    assert form_of(server.requests[0])["grant_type"] == "refresh_token"
