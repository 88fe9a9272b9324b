"""Issue 9 (server half): complete RFC 8414 / OIDC Discovery metadata, authorization code + PKCE at each app
(the app as an OIDC relying party of the IdP), and apps that do not support ID-JAG."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.server.helpers import bearer
from tests.support.server import DevServer, pkce_pair
from xaa_cli.server.policy import DEFAULT_POLICY

REDIRECT = "http://127.0.0.1:7777/cb"
RFC8414_REQUIRED = ("issuer", "response_types_supported")
ENDPOINTS = (
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "revocation_endpoint",
    "introspection_endpoint",
)


def check_rfc8414(doc: dict[str, Any], issuer: str) -> None:
    """RFC 8414 §2 (and §3.3): the fields a third-party client reads."""
    for field in RFC8414_REQUIRED:
        assert field in doc, field
    assert doc["issuer"] == issuer
    parts = urlsplit(issuer)
    assert parts.scheme == "http"
    assert parts.hostname == "127.0.0.1"
    assert not parts.query
    assert not parts.fragment
    for field in ENDPOINTS:
        assert doc[field].startswith(issuer + "/"), field
    assert "code" in doc["response_types_supported"]
    assert "authorization_code" in doc["grant_types_supported"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    for prefix in ("token_endpoint", "revocation_endpoint", "introspection_endpoint"):
        methods = doc[f"{prefix}_auth_methods_supported"]
        assert {"client_secret_basic", "client_secret_post", "private_key_jwt"} <= set(methods)
        algs = doc[f"{prefix}_auth_signing_alg_values_supported"]
        assert algs
        assert "none" not in algs
    assert isinstance(doc["scopes_supported"], list)


def test_every_authorization_server_publishes_complete_metadata(dev_server: DevServer) -> None:
    get = dev_server.client.get
    idp = get(f"{dev_server.base_url}/.well-known/oauth-authorization-server/idp").json()
    check_rfc8414(idp, dev_server.idp_issuer)
    oidc = get(f"{dev_server.idp_issuer}/.well-known/openid-configuration").json()
    assert oidc == idp
    for field in (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
        "userinfo_endpoint",
    ):
        assert field in oidc, field  # OIDC Discovery §3
    assert {"openid", "offline_access"} <= set(oidc["scopes_supported"])
    assert oidc["device_authorization_endpoint"] == f"{dev_server.idp_issuer}/device_authorization"
    for name in DEFAULT_POLICY.apps:
        doc = get(f"{dev_server.base_url}/.well-known/oauth-authorization-server/apps/{name}").json()
        check_rfc8414(doc, dev_server.app_issuer(name))
        assert doc["scopes_supported"] == list(DEFAULT_POLICY.apps[name].scopes)
        for field in ENDPOINTS:
            assert get(doc[field]).status_code != 404, field


def _app_login(server: DevServer, app: str, client_id: str, scope: str | None = None) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **({"scope": scope} if scope else {}),
    }
    first = server.client.get(f"{server.app_issuer(app)}/authorize", params=params)
    assert first.status_code == 302
    assert first.headers["location"].startswith(f"{server.idp_issuer}/authorize?")
    at_idp = server.client.get(first.headers["location"])  # auto-approve at the IdP
    back = server.client.get(at_idp.headers["location"])  # the app's callback
    query = {k: v[0] for k, v in parse_qs(urlsplit(back.headers["location"]).query).items()}
    assert back.headers["location"].startswith(REDIRECT)
    assert (query["state"], query["iss"]) == ("xyz", server.app_issuer(app))
    return query["code"], verifier


def test_public_client_completes_authorization_code_at_an_app(make_dev_server) -> None:
    server = make_dev_server(auto_approve="bob")
    code, verifier = _app_login(server, "slack", "xaa-public", "chat:write")
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": "xaa-public",
    }
    response = server.client.post(f"{server.app_issuer('slack')}/token", data=data)
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "chat:write"
    who = server.client.get(
        f"{server.resource('slack')}/whoami", headers=bearer(response.json()["access_token"])
    )
    assert who.json() == {
        "sub": "bob",
        "client_id": "xaa-public",
        "scope": "chat:write",
        "aud": server.resource("slack"),
    }
    again = server.client.post(f"{server.app_issuer('slack')}/token", data=data)
    assert again.json()["error"] == "invalid_grant"


def test_app_without_id_jag_still_offers_authorization_code(make_dev_server) -> None:
    apps = {**DEFAULT_POLICY.apps, "github": replace(DEFAULT_POLICY.apps["github"], id_jag=False)}
    server = make_dev_server(policy=replace(DEFAULT_POLICY, apps=apps))
    doc = server.client.get(f"{server.base_url}/.well-known/oauth-authorization-server/apps/github").json()
    assert doc["grant_types_supported"] == ["authorization_code"]
    code, verifier = _app_login(server, "github", "xaa-agent-at-github")
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    auth = (server.app_client_id("github"), server.kit.app_secrets["github"])
    response = server.client.post(f"{server.app_issuer('github')}/token", data=data, auth=auth)
    assert response.json()["scope"] == "repo:status contents:read"


@pytest.mark.parametrize("redirect", ["https://evil.example/cb", ""])
def test_app_authorize_refuses_bad_redirects(dev_server: DevServer, redirect: str) -> None:
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": "xaa-public",
        "redirect_uri": redirect,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    response = dev_server.client.get(f"{dev_server.app_issuer('trello')}/authorize", params=params)
    assert response.status_code == 400


def test_app_callback_with_unknown_state(dev_server: DevServer) -> None:
    response = dev_server.client.get(
        f"{dev_server.app_issuer('trello')}/callback", params={"state": "x", "code": "y"}
    )
    assert response.status_code == 400
