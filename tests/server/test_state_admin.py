"""State survives a restart; the admin API (loopback only) and the audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.helpers import app_auth, bearer, exchange, id_jag, idp_auth, jwt_bearer
from tests.support.server import DevServer, sign_in, start_in_process
from xaa_cli.server.audit import read_audit


def _admin(server: DevServer, token: str | None = None) -> dict[str, str]:
    return bearer(token or server.admin_token)


def test_restart_loses_nothing(tmp_path: Path, make_dev_server) -> None:
    first = make_dev_server(data_dir=tmp_path)
    tokens = sign_in(first)
    used_grant = id_jag(first)
    access = jwt_bearer(first, used_grant).json()["access_token"]
    kept = jwt_bearer(first, id_jag(first)).json()["access_token"]
    first.client.post(
        f"{first.app_issuer('trello')}/revoke", data={"token": access}, auth=app_auth(first, "trello")
    )
    first.client.post(f"{first.idp_issuer}/admin/clients/xaa-agent/disable", headers=_admin(first))
    first.close()

    second = make_dev_server(data_dir=tmp_path, kit=first.kit, admin_token=first.admin_token)
    whoami = f"{second.resource('trello')}/whoami"
    assert second.client.get(whoami, headers=bearer(access)).status_code == 401  # still revoked
    assert second.client.get(whoami, headers=bearer(kept)).json()["sub"] == "alice"  # still valid
    assert exchange(second, tokens["id_token"]).json()["error"] == "unauthorized_client"  # still disabled
    second.client.post(f"{second.idp_issuer}/admin/clients/xaa-agent/enable", headers=_admin(second))
    assert exchange(second, tokens["id_token"]).status_code == 200  # signing key survived
    assert jwt_bearer(second, used_grant).json()["error"] == "invalid_grant"  # jti cache survived
    events = [e["event"] for e in read_audit(second.runtime.store)]
    assert events.count("id_jag.issued") == 3
    assert "client.disabled" in events
    assert "client.enabled" in events
    assert (tmp_path / "xaa-dev.sqlite3").stat().st_mode & 0o777 == 0o600


def test_admin_disable_and_enable_client(dev_server: DevServer) -> None:
    id_token = sign_in(dev_server)["id_token"]
    response = dev_server.client.post(
        f"{dev_server.idp_issuer}/admin/clients/xaa-agent/disable", headers=_admin(dev_server)
    )
    assert response.json() == {"client_id": "xaa-agent", "disabled": True}
    listed = dev_server.client.get(
        f"{dev_server.idp_issuer}/admin/clients", headers=_admin(dev_server)
    ).json()
    entry = next(c for c in listed["clients"] if c["client_id"] == "xaa-agent")
    assert entry["disabled"] is True
    assert entry["app_client_ids"]["trello"] == "xaa-agent-at-trello"
    assert exchange(dev_server, id_token).json()["error"] == "unauthorized_client"
    dev_server.client.post(
        f"{dev_server.idp_issuer}/admin/clients/xaa-agent/enable", headers=_admin(dev_server)
    )
    assert exchange(dev_server, id_token).status_code == 200
    missing = dev_server.client.post(
        f"{dev_server.idp_issuer}/admin/clients/nobody/disable", headers=_admin(dev_server)
    )
    assert missing.status_code == 404


def test_admin_revokes_a_users_refresh_tokens(dev_server: DevServer) -> None:
    refresh = sign_in(dev_server)["refresh_token"]
    response = dev_server.client.post(
        f"{dev_server.idp_issuer}/admin/users/alice/revoke-refresh-tokens", headers=_admin(dev_server)
    )
    assert response.json() == {"user": "alice", "revoked": 1}
    data = {"grant_type": "refresh_token", "refresh_token": refresh}
    refused = dev_server.client.post(f"{dev_server.idp_issuer}/token", data=data, auth=idp_auth(dev_server))
    assert refused.json()["error"] == "invalid_grant"


def test_app_admin_revokes_every_token_of_a_client(dev_server: DevServer) -> None:
    tokens = [jwt_bearer(dev_server, id_jag(dev_server)).json()["access_token"] for _ in range(2)]
    url = f"{dev_server.app_issuer('trello')}/admin/clients/xaa-agent-at-trello/revoke-tokens"
    assert dev_server.client.post(url, headers=_admin(dev_server)).json()["revoked"] == 2
    for token in tokens:
        assert (
            dev_server.client.get(
                f"{dev_server.resource('trello')}/whoami", headers=bearer(token)
            ).status_code
            == 401
        )


@pytest.mark.parametrize(
    "path", ["/idp/admin/clients/xaa-agent/disable", "/apps/trello/admin/clients/x/revoke-tokens"]
)
def test_admin_needs_the_credential(dev_server: DevServer, path: str) -> None:
    for headers in ({}, _admin(dev_server, "wrong")):
        response = dev_server.client.post(dev_server.base_url + path, headers=headers)
        assert response.status_code == 401


def test_admin_is_loopback_only() -> None:
    from tests.support.server import TestClient

    server = start_in_process()
    try:
        remote = TestClient(server.client.app, base_url=server.base_url, client=("192.0.2.10", 4000))  # type: ignore[attr-defined]
        response = remote.post(f"{server.idp_issuer}/admin/clients/xaa-agent/disable", headers=_admin(server))
        assert response.status_code == 403
        assert not server.runtime.store.client_disabled("xaa-agent")
    finally:
        server.close()


def test_admin_without_configured_credential(make_dev_server) -> None:
    server = make_dev_server()
    from dataclasses import replace

    from tests.support.server import TestClient
    from xaa_cli.server.app import create_app

    app = create_app(replace(server.settings, admin_token_sha256=None))
    with TestClient(app, base_url=server.base_url, client=("127.0.0.1", 1)) as client:
        response = client.post(f"{server.idp_issuer}/admin/clients/xaa-agent/disable", headers=_admin(server))
    assert response.status_code == 403


def test_audit_trail_records_issuance_denial_and_revocation(make_dev_server) -> None:
    server = make_dev_server(auto_approve="bob")
    id_token = sign_in(server)["id_token"]
    grant = exchange(server, id_token, scope="board:read", resource=server.resource("trello")).json()[
        "access_token"
    ]
    exchange(server, id_token, app="salesforce")
    access = jwt_bearer(server, grant).json()["access_token"]
    server.client.post(
        f"{server.app_issuer('trello')}/revoke", data={"token": access}, auth=app_auth(server, "trello")
    )
    audit = server.client.get(f"{server.idp_issuer}/admin/audit", headers=_admin(server)).json()["entries"]
    issued = next(e for e in audit if e["event"] == "id_jag.issued")
    assert issued | {"time": 0, "jti": "J"} == {
        "time": 0,
        "server": "idp",
        "event": "id_jag.issued",
        "issued_to": "xaa-agent",
        "subject": "bob",
        "audience": server.app_issuer("trello"),
        "resource": server.resource("trello"),
        "scope": "board:read",
        "jti": "J",
        "policy": "bob-trello-read",
        "outcome": "ok",
        "detail": None,
    }
    denied = next(e for e in audit if e["event"] == "id_jag.denied")
    assert (denied["outcome"], denied["policy"]) == ("access_denied", "deny-bob-salesforce")
    assert [e["event"] for e in audit if e["server"] == "trello"] == [
        "access_token.issued",
        "access_token.revoked",
    ]
    assert all(grant not in str(e) and access not in str(e) for e in audit)
