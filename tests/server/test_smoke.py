"""The contract of issue 3 end to end: sign in, ID-JAG, access token, API; provisioning; real uvicorn."""

from __future__ import annotations

import httpx
import pytest
from typer.testing import CliRunner

from tests.server.helpers import bearer, exchange, id_jag, jwt_bearer
from tests.support.server import DevServer, provision, sign_in
from xaa_cli.cli.app import app
from xaa_cli.storage import paths
from xaa_cli.storage.config import load_config
from xaa_cli.storage.secrets import secret_key


def test_full_flow_reaches_the_api(dev_server: DevServer) -> None:
    tokens = sign_in(dev_server)
    response = exchange(dev_server, tokens["id_token"], scope="board:write")
    assert response.status_code == 200
    grant = response.json()["access_token"]
    answer = jwt_bearer(dev_server, grant)
    assert answer.status_code == 200, answer.text
    access = answer.json()["access_token"]
    who = dev_server.client.get(f"{dev_server.resource('trello')}/whoami", headers=bearer(access))
    assert who.json() == {
        "sub": "alice",
        "client_id": "xaa-agent-at-trello",
        "scope": "board:write",
        "aud": dev_server.resource("trello"),
    }
    wrote = dev_server.client.post(f"{dev_server.resource('trello')}/records", headers=bearer(access))
    assert wrote.status_code == 201


def test_write_route_needs_the_write_scope(make_dev_server) -> None:
    server = make_dev_server(auto_approve="bob")
    access = jwt_bearer(server, id_jag(server, "trello")).json()["access_token"]
    response = server.client.post(f"{server.resource('trello')}/records", headers=bearer(access))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


def test_api_without_token_points_at_resource_metadata(dev_server: DevServer) -> None:
    response = dev_server.client.get(f"{dev_server.resource('slack')}/whoami")
    assert response.status_code == 401
    expected = (
        f'resource_metadata="{dev_server.base_url}/.well-known/oauth-protected-resource/apps/slack/api"'
    )
    assert expected in response.headers["www-authenticate"]
    prm = dev_server.client.get(f"{dev_server.base_url}/.well-known/oauth-protected-resource/apps/slack/api")
    assert prm.json()["resource"] == dev_server.resource("slack")
    assert prm.json()["authorization_servers"] == [dev_server.app_issuer("slack")]


def test_provision_writes_profile_and_secrets(dev_server: DevServer, memory_keyring) -> None:
    profile = provision(dev_server)
    config = load_config(paths.config_file())
    assert config.default_profile == "dev"
    assert config.profiles["dev"] == profile
    assert profile.issuer == f"{dev_server.base_url}/idp"
    assert profile.apps["trello"].issuer == f"{dev_server.base_url}/apps/trello"
    assert profile.apps["trello"].client_id == "xaa-agent-at-trello"
    assert memory_keyring.get_password("xaa", secret_key("dev", "client_secret")) == dev_server.kit.secret
    app_secret = memory_keyring.get_password("xaa", secret_key("dev", "client_secret", app="slack"))
    assert app_secret == dev_server.kit.app_secrets["slack"]


def test_dev_policy_prints_toml(runner: CliRunner) -> None:
    import tomllib

    from xaa_cli.server.policy import DEFAULT_POLICY, policy_from_dict

    result = runner.invoke(app, ["dev", "policy"])
    assert result.exit_code == 0, result.output
    assert policy_from_dict(tomllib.loads(result.stdout)) == DEFAULT_POLICY


@pytest.mark.loopback
def test_live_server_runs_the_flow_on_a_socket(live_server: DevServer) -> None:
    assert live_server.base_url.startswith("http://127.0.0.1:")
    tokens = sign_in(live_server)
    grant = exchange(live_server, tokens["id_token"], app="slack").json()["access_token"]
    answer = jwt_bearer(live_server, grant, app="slack")
    assert answer.status_code == 200
    who = httpx.get(f"{live_server.resource('slack')}/whoami", headers=bearer(answer.json()["access_token"]))
    assert who.json()["sub"] == "alice"


def test_resource_identifier_itself_challenges_with_resource_metadata(dev_server: DevServer) -> None:
    # RFC 9728 §5.1: a client that knows only the resource URL learns where its metadata is from the 401.
    resource = dev_server.resource("trello")
    response = dev_server.client.get(resource)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    prm_url = f"{dev_server.base_url}/.well-known/oauth-protected-resource/apps/trello/api"
    assert f'resource_metadata="{prm_url}"' in challenge
    assert dev_server.client.get(prm_url).json()["resource"] == resource

    access = jwt_bearer(dev_server, id_jag(dev_server, "trello")).json()["access_token"]
    answer = dev_server.client.get(resource, headers=bearer(access))
    assert answer.status_code == 200
    assert answer.json()["resource"] == resource
