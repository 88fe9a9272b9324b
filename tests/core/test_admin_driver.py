"""The ``reference`` IdP admin driver against the real reference server (in-process), plus the answers a
correct server never gives (MockTransport)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.oauth_fakes import json_response
from tests.support.server import DevServer, sign_in, start_in_process
from xaa_cli.core.admin import DRIVERS, IdpAdminDriver, driver_for
from xaa_cli.core.admin.reference import ReferenceAdminDriver
from xaa_cli.core.http import make_client
from xaa_cli.errors import InsecureURLError, NetworkError, ProtocolError, RemoteError, UsageError

AGENT = "xaa-agent"


@pytest.fixture
def server() -> Iterator[DevServer]:
    started = start_in_process()
    yield started
    started.close()


def driver(server: DevServer, token: str | None = None) -> IdpAdminDriver:
    return driver_for("reference", server.client, server.idp_issuer, token or server.admin_token)


def exchange_status(server: DevServer, id_token: str) -> int:
    response = server.client.post(
        f"{server.idp_issuer}/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "requested_token_type": "urn:ietf:params:oauth:token-type:id-jag",
            "subject_token": id_token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
            "audience": server.app_issuer("trello"),
            "scope": "board:read",
        },
        auth=(server.kit.client_id, server.kit.secret),
    )
    return response.status_code


def test_disable_and_enable_a_client(server: DevServer) -> None:
    admin = driver(server)
    id_token = sign_in(server)["id_token"]
    assert exchange_status(server, id_token) == 200
    result = admin.disable_client(AGENT)
    assert result.endpoint == f"{server.idp_issuer}/admin/clients/{AGENT}/disable"
    assert exchange_status(server, id_token) == 400
    admin.disable_client(AGENT)  # idempotent
    admin.enable_client(AGENT)
    assert exchange_status(server, id_token) == 200


def test_client_apps_and_revoking_at_one_app(server: DevServer) -> None:
    admin = driver(server)
    apps = admin.client_apps(AGENT)
    assert apps == {name: f"{AGENT}-at-{name}" for name in server.policy.apps}
    result = admin.revoke_client_tokens_at_app("trello", apps["trello"])
    assert result.endpoint == f"{server.app_issuer('trello')}/admin/clients/{AGENT}-at-trello/revoke-tokens"
    assert result.count == 0
    with pytest.raises(RemoteError, match="no client 'nobody'"):
        admin.client_apps("nobody")


def test_user_refresh_tokens_and_the_audit_trail(server: DevServer) -> None:
    admin = driver(server)
    sign_in(server)
    assert admin.revoke_user_refresh_tokens("alice").count == 1
    assert admin.revoke_user_refresh_tokens("alice").count == 0
    trail = admin.read_audit(limit=50)
    assert trail[-1]["event"] == "refresh_tokens.revoked"
    assert trail[-1]["subject"] == "alice"
    assert len(admin.read_audit(limit=1)) == 1
    with pytest.raises(RemoteError, match="not found"):
        admin.revoke_user_refresh_tokens("mallory")


def test_wrong_admin_credential_is_refused_and_never_shown(server: DevServer) -> None:
    wrong = "wrong-" + "admin-credential"
    admin = driver(server, wrong)
    with pytest.raises(RemoteError, match="admin credential was refused") as info:
        admin.disable_client(AGENT)
    assert wrong not in str(info.value)
    assert wrong not in repr(admin)


def test_unknown_driver_and_insecure_issuer() -> None:
    assert "reference" in DRIVERS
    with pytest.raises(UsageError, match="no admin driver 'okta'") as info:
        driver_for("okta", make_client(), "https://idp.example", "t")
    assert info.value.hint == "known drivers: reference"
    with pytest.raises(InsecureURLError):
        ReferenceAdminDriver(make_client(), "http://idp.example/idp", "t")


def _mock(reply: httpx.Response | Exception) -> ReferenceAdminDriver:
    def handler(_request: httpx.Request) -> httpx.Response:
        if isinstance(reply, Exception):
            raise reply
        return reply

    return ReferenceAdminDriver(
        make_client(transport=httpx.MockTransport(handler)), "https://idp.example/idp", "t"
    )


def test_answers_a_correct_server_never_gives() -> None:
    with pytest.raises(ProtocolError, match="does not say which apps"):
        _mock(json_response(200, {"clients": [{"client_id": AGENT, "disabled": False}]})).client_apps(AGENT)
    with pytest.raises(ProtocolError, match="did not confirm"):
        _mock(json_response(200, {"client_id": AGENT})).disable_client(AGENT)
    with pytest.raises(ProtocolError, match="HTML page"):
        _mock(httpx.Response(500, content=b"<html>oops</html>")).read_audit(limit=5)
    with pytest.raises(ProtocolError, match="no entries list"):
        _mock(json_response(200, {"entries": "nope"})).read_audit(limit=5)
    with pytest.raises(NetworkError, match="cannot reach"):
        _mock(httpx.ConnectError("refused")).revoke_user_refresh_tokens("alice")


def test_app_urls_follow_the_reference_layout_and_escape_names() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return json_response(200, {"revoked": 2})

    admin = ReferenceAdminDriver(
        make_client(transport=httpx.MockTransport(handler)), "https://h.example/idp", "t"
    )
    assert admin.revoke_client_tokens_at_app("trello", "a/b c").count == 2
    assert seen == ["https://h.example/apps/trello/admin/clients/a%2Fb%20c/revoke-tokens"]
