from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.oauth_fakes import APP, RESOURCE, FakeServer, client, form_of, json_response
from xaa_cli.clock import FixedClock
from xaa_cli.core.app_code import authorization_code_at_app
from xaa_cli.core.client_auth import ClientCredentials, basic_header
from xaa_cli.core.constants import ClientAuthMethod
from xaa_cli.core.discovery import fetch_server_metadata
from xaa_cli.core.oidc import pkce_challenge
from xaa_cli.core.token_endpoint import Endpoint

pytestmark = pytest.mark.loopback
SECRET = "app-" + "secret"


def test_authorization_code_at_the_app_wire() -> None:
    server = FakeServer(APP, extra_metadata={"authorization_response_iss_parameter_supported": True})
    http = client(server)
    metadata = fetch_server_metadata(http, APP)
    creds = ClientCredentials("xaa-at-github", ClientAuthMethod.CLIENT_SECRET_BASIC, secret=SECRET)
    endpoint = Endpoint(APP, server.token_endpoint, creds, "github")
    sent: dict[str, str] = {}

    def browser(url: str) -> bool:
        sent.update({k: v[0] for k, v in parse_qs(urlsplit(url).query).items()})
        httpx.get(f"{sent['redirect_uri']}?code=c1&state={sent['state']}&iss={APP}", timeout=5)
        return True

    server.token_replies.append(
        lambda _r: json_response(200, {"access_token": "at-" + "1", "token_type": "Bearer", "expires_in": 60})
    )
    access = authorization_code_at_app(
        http, endpoint, metadata, scopes=["repo:status"], resource=RESOURCE, open_browser=browser,
        announce=lambda _m: None, clock=FixedClock(), timeout=10,
    )  # fmt: skip
    assert "nonce" not in sent  # plain OAuth at the app, not OIDC
    assert sent["resource"] == RESOURCE
    assert sent["client_id"] == "xaa-at-github"
    (request,) = server.requests
    assert request.headers["authorization"] == basic_header("xaa-at-github", SECRET)
    form = form_of(request)
    assert form.pop("grant_type") == "authorization_code"
    assert form.pop("code") == "c1"
    assert form.pop("redirect_uri") == sent["redirect_uri"]
    assert pkce_challenge(form.pop("code_verifier")) == sent["code_challenge"]
    assert form.pop("resource") == RESOURCE
    assert form.pop("client_id") == "xaa-at-github"
    assert not form
    assert access.scope == "repo:status"
    assert access.expires_in == 60
