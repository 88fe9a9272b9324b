"""Signing in at the IdP: the authorization endpoint's page, PKCE, codes, refresh tokens and the RFC 8628
device flow (with its verification page and ``slow_down``)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.server.helpers import bearer, idp_auth
from tests.support.server import DevServer, authorize_code, pkce_pair, sign_in
from xaa_cli.clock import FixedClock
from xaa_cli.core.jose import decode_unverified

REDIRECT = "http://127.0.0.1:9/callback"


def _params(server: DevServer, **changes: str) -> dict[str, str]:
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": server.kit.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid email",
        "state": "s1",
        "nonce": "n1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return params


def _query(response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


def test_sign_in_page_lists_the_policy_users(make_dev_server) -> None:
    server = make_dev_server(auto_approve=None)
    page = server.client.get(f"{server.idp_issuer}/authorize", params=_params(server))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for user in ("alice@example.com", "bob@example.com", "Alice Anderson"):
        assert user in page.text
    assert "<script" not in page.text


def test_choosing_a_user_on_the_page_issues_a_code(make_dev_server) -> None:
    server = make_dev_server(auto_approve=None)
    tokens = sign_in(server, "bob", scope="openid email profile")
    claims = decode_unverified(tokens["id_token"]).claims
    assert (claims["sub"], claims["email"], claims["name"]) == ("bob", "bob@example.com", "Bob Brown")
    assert claims["aud"] == server.kit.client_id
    assert claims["nonce"] == "n0"
    assert "refresh_token" not in tokens  # no offline_access asked


def test_denying_redirects_with_access_denied(make_dev_server) -> None:
    server = make_dev_server(auto_approve=None)
    response = server.client.post(
        f"{server.idp_issuer}/authorize", data={**_params(server), "decision": "deny"}
    )
    assert _query(response) == {"error": "access_denied", "state": "s1", "iss": server.idp_issuer}


def test_auto_approve_redirects_with_code_state_and_iss(dev_server: DevServer) -> None:
    response = dev_server.client.get(f"{dev_server.idp_issuer}/authorize", params=_params(dev_server))
    query = _query(response)
    assert (response.status_code, query["state"], query["iss"]) == (302, "s1", dev_server.idp_issuer)
    assert len(query["code"]) > 30


@pytest.mark.parametrize("redirect", ["https://evil.example/cb", "http://10.0.0.1:80/cb", "not a url"])
def test_non_loopback_redirect_is_shown_not_followed(dev_server: DevServer, redirect: str) -> None:
    response = dev_server.client.get(
        f"{dev_server.idp_issuer}/authorize", params=_params(dev_server, redirect_uri=redirect)
    )
    assert response.status_code == 400
    assert "location" not in response.headers


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_authorization_errors_go_back_to_the_client(dev_server: DevServer, change: dict, error: str) -> None:
    response = dev_server.client.get(
        f"{dev_server.idp_issuer}/authorize", params=_params(dev_server, **change)
    )
    assert _query(response)["error"] == error


def _redeem(server: DevServer, code: str, verifier: str, redirect: str = REDIRECT):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "code_verifier": verifier,
    }
    return server.client.post(f"{server.idp_issuer}/token", data=data, auth=idp_auth(server))


def test_code_is_single_use_and_pkce_bound(dev_server: DevServer) -> None:
    code, verifier = authorize_code(dev_server, client_id=dev_server.kit.client_id)
    _, other_verifier = pkce_pair()
    assert _redeem(dev_server, code, other_verifier).json()["error"] == "invalid_grant"
    code, verifier = authorize_code(dev_server, client_id=dev_server.kit.client_id)
    assert _redeem(dev_server, code, verifier, "http://127.0.0.1:10/other").json()["error"] == "invalid_grant"
    code, verifier = authorize_code(dev_server, client_id=dev_server.kit.client_id)
    assert _redeem(dev_server, code, verifier).status_code == 200
    assert _redeem(dev_server, code, verifier).json()["error"] == "invalid_grant"


def test_code_expires(make_dev_server) -> None:
    clock = FixedClock(time.time())
    server = make_dev_server(clock=clock)
    code, verifier = authorize_code(server, client_id=server.kit.client_id)
    clock.advance(121)
    assert _redeem(server, code, verifier).json()["error"] == "invalid_grant"


def test_refresh_grant_and_userinfo(dev_server: DevServer) -> None:
    tokens = sign_in(dev_server)
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refreshed = dev_server.client.post(f"{dev_server.idp_issuer}/token", data=data, auth=idp_auth(dev_server))
    assert refreshed.status_code == 200
    assert decode_unverified(refreshed.json()["id_token"]).claims["sub"] == "alice"
    info = dev_server.client.get(
        f"{dev_server.idp_issuer}/userinfo", headers=bearer(refreshed.json()["access_token"])
    )
    assert info.json()["email"] == "alice@example.com"
    wider = dev_server.client.post(
        f"{dev_server.idp_issuer}/token", data={**data, "scope": "openid admin"}, auth=idp_auth(dev_server)
    )
    assert wider.json()["error"] == "invalid_scope"


def test_refresh_token_of_another_client_is_refused(dev_server: DevServer) -> None:
    refresh = sign_in(dev_server)["refresh_token"]
    data = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": "xaa-public"}
    response = dev_server.client.post(f"{dev_server.idp_issuer}/token", data=data)
    assert response.json()["error"] == "invalid_grant"


def _device_start(server: DevServer) -> dict:
    response = server.client.post(
        f"{server.idp_issuer}/device_authorization", data={"scope": "openid email"}, auth=idp_auth(server)
    )
    assert response.status_code == 200
    return dict(response.json())


def _poll(server: DevServer, device_code: str):
    data = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": device_code}
    return server.client.post(f"{server.idp_issuer}/token", data=data, auth=idp_auth(server))


def test_device_flow_with_verification_page_and_slow_down(make_dev_server) -> None:
    clock = FixedClock(time.time())
    server = make_dev_server(auto_approve=None, clock=clock)
    started = _device_start(server)
    assert started["verification_uri"] == f"{server.idp_issuer}/device"
    assert started["interval"] == 5
    assert _poll(server, started["device_code"]).json()["error"] == "authorization_pending"
    slow = _poll(server, started["device_code"]).json()
    assert (slow["error"], slow["interval"]) == ("slow_down", 10)
    page = server.client.get(started["verification_uri_complete"])
    assert started["user_code"] in page.text
    assert "bob@example.com" in page.text
    typed = started["user_code"].lower().replace("-", "")
    done = server.client.post(started["verification_uri"], data={"user_code": typed, "user": "bob"})
    assert done.status_code == 200
    clock.advance(11)
    tokens = _poll(server, started["device_code"]).json()
    assert decode_unverified(tokens["id_token"]).claims["sub"] == "bob"
    assert _poll(server, started["device_code"]).json()["error"] == "invalid_grant"


def test_device_flow_denied_and_expired(make_dev_server) -> None:
    clock = FixedClock(time.time())
    server = make_dev_server(auto_approve=None, clock=clock)
    denied = _device_start(server)
    server.client.post(
        denied["verification_uri"], data={"user_code": denied["user_code"], "decision": "deny"}
    )
    assert _poll(server, denied["device_code"]).json()["error"] == "access_denied"
    late = _device_start(server)
    clock.advance(601)
    assert _poll(server, late["device_code"]).json()["error"] == "expired_token"
    wrong = server.client.post(late["verification_uri"], data={"user_code": "BCDF-GHJK", "user": "bob"})
    assert wrong.status_code == 400


def test_device_flow_auto_approve(dev_server: DevServer) -> None:
    started = _device_start(dev_server)
    tokens = _poll(dev_server, started["device_code"]).json()
    assert decode_unverified(tokens["id_token"]).claims["sub"] == "alice"


def test_cross_site_form_posts_are_refused(make_dev_server) -> None:
    server = make_dev_server(auto_approve=None)
    evil = {"Origin": "https://evil.example"}
    signed = server.client.post(
        f"{server.idp_issuer}/authorize", data={**_params(server), "user": "alice"}, headers=evil
    )
    assert signed.status_code == 403
    assert "location" not in signed.headers
    device = server.client.post(
        f"{server.idp_issuer}/device", data={"user_code": "BCDF-GHJK", "user": "bob"}, headers=evil
    )
    assert device.status_code == 403
    same_site = server.client.post(
        f"{server.idp_issuer}/authorize",
        data={**_params(server), "user": "alice"},
        headers={"Origin": server.base_url},
    )
    assert "code" in _query(same_site)


def test_sign_in_page_csp_lets_the_form_reach_the_loopback_redirect(make_dev_server) -> None:
    server = make_dev_server(auto_approve=None)
    page = server.client.get(f"{server.idp_issuer}/authorize", params=_params(server))
    csp = page.headers["content-security-policy"]
    assert "form-action 'self' http://127.0.0.1:9;" in csp + ";"
    assert "default-src 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
