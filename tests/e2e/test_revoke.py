"""End to end: `xaa revoke` and `xaa audit --idp` against a real reference server on 127.0.0.1 (uvicorn).

Proofs are taken from the servers, not from xaa's own report: introspection (RFC 7662) at the issuing
server, the app's API answering 401, the IdP refusing new ID-JAGs, and the state surviving a restart.
"""

from __future__ import annotations

import json
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.xaa_harness import Xaa
from tests.support.server import DevServer, provision
from xaa_cli.cli.commands.dev import provision_dev_profile
from xaa_cli.cli.context import AppContext
from xaa_cli.clock import SystemClock
from xaa_cli.server.credentials import ClientKit, new_client_kit
from xaa_cli.server.policy import DEFAULT_POLICY, Policy
from xaa_cli.server.runner import BackgroundServer, loopback_socket, settings_for
from xaa_cli.server.settings import ServerSettings
from xaa_cli.storage.audit import token_fingerprint
from xaa_cli.storage.config import load_config, save_config
from xaa_cli.storage.paths import audit_log_file, config_file
from xaa_cli.storage.secrets import secret_key

pytestmark = pytest.mark.loopback

AGENT = "xaa-agent"
OTHER = "xaa-agent-2"


# ----------------------------------------------------------------------------------------- servers
def two_client_policy() -> Policy:
    """The default policy plus a second confidential client with the same rules (ids ``agent2-at-APP``)."""
    base = DEFAULT_POLICY
    second = replace(
        base.clients[AGENT], client_id=OTHER, app_client_ids={a: f"agent2-at-{a}" for a in base.apps}
    )
    rules = tuple(replace(r, name=f"{r.name}-2", client=OTHER) for r in base.rules if r.client == AGENT)
    return replace(base, clients={**base.clients, OTHER: second}, rules=base.rules + rules)


@dataclass
class LiveServer:
    """A real uvicorn server that can be stopped and started again on the same port and data directory."""

    policy: Policy
    kits: dict[str, ClientKit]
    admin_token: str
    data_dir: Path
    port: int = 0
    background: BackgroundServer | None = None
    settings: ServerSettings | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        sock = loopback_socket(port=self.port)
        self.port = sock.getsockname()[1]
        self.settings = settings_for(
            self.base_url,
            self.policy,
            self.kits,
            self.admin_token,
            data_dir=self.data_dir,
            auto_approve="alice",
        )
        self.background = BackgroundServer(self.settings, sock)
        self.background.start()

    def stop(self) -> None:
        if self.background is not None:
            self.background.stop()
            self.background = None

    def as_dev_server(self, client: httpx.Client) -> DevServer:
        assert self.settings is not None
        return DevServer(
            self.base_url, self.policy, self.kits[AGENT], self.admin_token, client, self.settings
        )

    def introspect(self, app: str, token: str, client_id: str = AGENT) -> dict[str, Any]:
        kit = self.kits[client_id]
        app_client = self.policy.clients[client_id].app_client_ids[app]
        url = f"{self.base_url}/apps/{app}/introspect"
        body: dict[str, Any] = httpx.post(
            url, data={"token": token}, auth=(app_client, kit.app_secrets[app])
        ).json()
        return body

    def introspect_at_idp(self, token: str, client_id: str = AGENT) -> dict[str, Any]:
        auth = (client_id, self.kits[client_id].secret)
        body: dict[str, Any] = httpx.post(
            f"{self.base_url}/idp/introspect", data={"token": token}, auth=auth
        ).json()
        return body

    def whoami(self, app: str, token: str) -> int:
        url = f"{self.base_url}/apps/{app}/api/whoami"
        return httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    policy = two_client_policy()
    kits = {cid: new_client_kit(spec) for cid, spec in policy.clients.items() if spec.confidential}
    server = LiveServer(policy, kits, secrets.token_urlsafe(24), tmp_path / "server-state")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def xaa(live: LiveServer, isolated_home: Path) -> Iterator[Xaa]:
    """Profiles ``dev`` (client xaa-agent, with the admin credential) and ``dev2`` (xaa-agent-2)."""
    actx = AppContext()
    provision_dev_profile(actx, live.base_url, live.policy, {AGENT: live.kits[AGENT]})
    provision_dev_profile(actx, live.base_url, live.policy, {OTHER: live.kits[OTHER]}, profile="dev2")
    actx.secret_store().set(secret_key("dev", "admin_token"), live.admin_token)
    with httpx.Client(timeout=10) as client:
        yield Xaa(live.as_dev_server(client), SystemClock(), isolated_home, in_process=False)


@pytest.fixture
def shared(live_server: DevServer, isolated_home: Path) -> Xaa:
    """The session's live server (default policy), signed in as alice."""
    provision(live_server)
    xaa = Xaa(live_server, SystemClock(), isolated_home, in_process=False)
    xaa.ok("login")
    return xaa


def token(xaa: Xaa, app: str, *extra: str) -> str:
    value: str = xaa.json("token", "get", "--aud", app, *extra)["access_token"]
    return value


def stored(name: str, profile: str = "dev") -> str | None:
    return AppContext().secret_store().get(secret_key(profile, name))


def cached_aliases(xaa: Xaa) -> list[str]:
    return sorted(e["alias"] for e in xaa.json("token", "list"))


def revoke_json(xaa: Xaa, *args: str, exit_code: int = 0) -> dict[str, Any]:
    result = xaa("revoke", *args, "-o", "json")
    assert result.exit_code == exit_code, f"exit {result.exit_code}: {result.stderr}"
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def set_app_issuer(app: str, issuer: str) -> None:
    config = load_config(config_file())
    profile = config.profiles["dev"]
    moved = replace(profile, apps={**profile.apps, app: replace(profile.apps[app], issuer=issuer)})
    save_config(config.with_profile(moved), config_file())


# ----------------------------------------------------------------------------------------- one token
def test_revoked_token_is_inactive_and_refused_by_the_api(shared: Xaa) -> None:
    server = shared.server
    access = token(shared, "trello")
    introspect_url = f"{server.app_issuer('trello')}/introspect"
    auth = (server.app_client_id("trello"), server.kit.app_secrets["trello"])

    def active() -> bool:
        return bool(httpx.post(introspect_url, data={"token": access}, auth=auth).json()["active"])

    assert active()
    assert shared.whoami("trello", access).status_code == 200
    report = revoke_json(shared, access)
    assert report["still_live"] == []
    (row,) = report["results"]
    assert row["outcome"] == "revoked"
    assert row["endpoint"] == f"{server.app_issuer('trello')}/revoke"
    assert not active()
    assert shared.whoami("trello", access).status_code == 401
    # xaa's own RFC 7662 client agrees: `inspect --introspect` reports it inactive (a failed check, exit 1).
    inspected = shared("inspect", access, "--introspect", "--profile", "dev", "--aud", "trello", "-o", "json")
    assert inspected.exit_code == 1
    (check,) = [c for c in json.loads(inspected.stdout)["checks"] if c["name"] == "introspection"]
    assert check["ok"] is False
    assert check["detail"].startswith("inactive")
    assert "trello" not in cached_aliases(shared)
    # Repeating is harmless (RFC 7009 §2.2: 200 for a token the server no longer honours), also from stdin.
    again = shared.ok("revoke", "-", input=access + "\n")
    assert "revoked" in again.stdout
    entries = [e for e in shared.json("audit", "--event", "revoke") if e["outcome"] == "ok"]
    assert [e["token_fingerprint"] for e in entries] == [token_fingerprint(access)] * 2
    assert access not in audit_log_file().read_text()


def test_aud_then_all_revoke_cached_tokens_and_empty_the_cache(shared: Xaa) -> None:
    tokens = {app: token(shared, app) for app in ("trello", "slack", "github")}
    dry = revoke_json(shared, "--aud", "trello", "--dry-run")
    assert [r["outcome"] for r in dry["results"]] == ["would revoke"]
    assert cached_aliases(shared) == ["github", "slack", "trello"]
    assert shared.whoami("trello", tokens["trello"]).status_code == 200

    report = revoke_json(shared, "--aud", "trello")
    assert [r["outcome"] for r in report["results"]] == ["revoked"]
    assert cached_aliases(shared) == ["github", "slack"]
    assert shared.whoami("trello", tokens["trello"]).status_code == 401
    assert shared.whoami("slack", tokens["slack"]).status_code == 200

    shared.ok("revoke", "--all")
    assert cached_aliases(shared) == []
    assert {app: shared.whoami(app, t).status_code for app, t in tokens.items()} == dict.fromkeys(tokens, 401)
    nothing = revoke_json(shared, "--all")
    assert nothing == {"dry_run": False, "results": [], "still_live": []}


def test_tokens_that_cannot_be_revoked_or_placed_are_explained(shared: Xaa) -> None:
    id_jag = shared.ok("token", "id-jag", "--aud", "trello").stdout.strip()
    refused = shared("revoke", id_jag)
    assert refused.exit_code == 6
    assert "ID-JAG cannot be revoked" in refused.stderr
    opaque = shared("revoke", "some-" + "opaque-value")
    assert opaque.exit_code == 2
    assert "--aud ALIAS" in opaque.stderr
    assert shared("revoke").exit_code == 2
    assert shared("revoke", "--client", AGENT).exit_code == 2
    assert shared("revoke", "x", "--all").exit_code == 2


# ----------------------------------------------------------------------------------------- admin: a client
def test_cutting_off_a_client_at_the_idp(xaa: Xaa, live: LiveServer) -> None:
    xaa.ok("login")
    xaa.ok("login", "--profile", "dev2")
    mine = {app: token(xaa, app) for app in ("trello", "slack")}
    theirs = {app: token(xaa, app, "--profile", "dev2") for app in ("trello", "slack")}

    report = revoke_json(xaa, "--client", AGENT, "--at-idp")
    outcomes = {r["target"]: r["outcome"] for r in report["results"]}
    assert outcomes.pop(f"client {AGENT} at the IdP") == "disabled"
    assert sorted(outcomes.values()) == ["revoked"] * len(live.policy.apps)

    # Every app refuses the client's existing tokens...
    for app, value in mine.items():
        assert live.whoami(app, value) == 401
        assert live.introspect(app, value) == {"active": False}
    # ...the IdP refuses it new ID-JAGs (fresh flow, and an app it never had a token for)...
    refused = xaa("token", "get", "--aud", "trello", "--fresh")
    assert refused.exit_code == 5
    assert "disabled" in refused.stderr
    assert xaa("token", "get", "--aud", "github").exit_code == 5
    # ...and the other client keeps working.
    for app, value in theirs.items():
        assert live.whoami(app, value) == 200
    assert live.whoami("github", token(xaa, "github", "--profile", "dev2")) == 200

    events = {e["event"] for e in xaa.json("audit", "--outcome", "ok")}
    assert {"admin_disable_client", "admin_revoke_client_tokens"} <= events
    # Repeating is harmless.
    assert revoke_json(xaa, "--client", AGENT, "--at-idp")["still_live"] == []


def test_a_token_is_revoked_only_with_its_own_clients_credentials(xaa: Xaa, live: LiveServer) -> None:
    # RFC 7009 §2.1: another client's revocation request is answered 200 and changes nothing, so xaa must
    # never send it (a "revoked" report would be a lie).
    xaa.ok("login", "--profile", "dev2")
    theirs = token(xaa, "trello", "--profile", "dev2")
    xaa.ok("token", "clear")  # xaa must now place the token from its claims alone
    for args in (("--profile", "dev"), ("--aud", "trello", "--profile", "dev")):
        refused = xaa("revoke", theirs, *args)
        assert refused.exit_code == 2, refused.stderr
        assert "issued to client 'agent2-at-trello'" in refused.stderr
    assert live.whoami("trello", theirs) == 200
    (row,) = revoke_json(xaa, theirs)["results"]
    assert row["outcome"] == "revoked"
    assert live.whoami("trello", theirs) == 401


def test_dry_run_changes_nothing_at_the_idp(xaa: Xaa, live: LiveServer) -> None:
    xaa.ok("login")
    access = token(xaa, "slack")
    report = revoke_json(xaa, "--client", AGENT, "--at-idp", "--dry-run")
    assert report["dry_run"] is True
    assert {r["outcome"] for r in report["results"]} == {"would disable", "would revoke"}
    assert live.whoami("slack", access) == 200
    assert xaa("token", "get", "--aud", "github").exit_code == 0
    assert not [e for e in xaa.json("audit") if e["event"].startswith("admin_")]


def test_revoking_a_users_refresh_tokens(xaa: Xaa, live: LiveServer) -> None:
    xaa.ok("login")
    refresh = stored("refresh_token")
    assert refresh is not None
    assert live.introspect_at_idp(refresh)["active"] is True
    report = revoke_json(xaa, "--user", "alice")
    (row,) = report["results"]
    assert row["outcome"] == "revoked"
    assert row["detail"].startswith("1 ")
    assert live.introspect_at_idp(refresh) == {"active": False}
    assert revoke_json(xaa, "--user", "alice")["results"][0]["detail"].startswith("0 ")


def test_admin_needs_its_credential(xaa: Xaa) -> None:
    result = xaa("revoke", "--client", OTHER, "--at-idp", "--profile", "dev2")
    assert result.exit_code == 3
    assert "admin credential" in result.stderr


def test_idp_audit_trail_through_the_admin_api(xaa: Xaa) -> None:
    xaa.ok("login")
    token(xaa, "trello")
    xaa.ok("revoke", "--client", AGENT, "--at-idp")
    trail = xaa.json("audit", "--idp")
    events = [(e["server"], e["event"], e["issued_to"]) for e in trail]
    assert ("idp", "client.disabled", AGENT) in events
    assert ("trello", "access_token.issued", "xaa-agent-at-trello") in events
    only = xaa.json("audit", "--idp", "--client", AGENT, "--event", "client.disabled")
    assert [e["event"] for e in only] == ["client.disabled"]
    table = xaa.ok("audit", "--idp", "--aud", "trello").stdout
    assert "access_token.issued" in table
    assert "client.disabled" not in table
    assert len(xaa.json("audit", "--idp", "--since", "1h")) == len(trail)
    assert xaa.json("audit", "--idp", "--limit", "1") == trail[-1:]
    assert xaa("audit", "--profile", "dev").exit_code == 2  # --profile is for --idp


# ----------------------------------------------------------------------------------------- the IdP sign-in
def test_idp_revocation_means_login_again(xaa: Xaa, live: LiveServer) -> None:
    xaa.ok("login")
    token(xaa, "trello")
    refresh = stored("refresh_token")
    assert refresh is not None
    result = xaa.ok("revoke", "--idp")
    assert "cached access token(s) of profile dev stay valid" in result.stderr
    assert live.introspect_at_idp(refresh) == {"active": False}
    assert stored("refresh_token") is None
    assert stored("id_token") is None
    for args in (("--aud", "slack"), ("--aud", "trello", "--fresh")):
        needs_login = xaa("token", "get", *args)
        assert needs_login.exit_code == 7, needs_login.stderr
        assert "xaa login" in needs_login.stderr
    xaa.ok("login")
    assert token(xaa, "slack")


def test_verbose_trace_shows_neither_the_token_nor_the_admin_credential(xaa: Xaa, live: LiveServer) -> None:
    xaa.ok("login")
    access = token(xaa, "trello")
    result = xaa.ok("-v", "revoke", access)
    assert "/apps/trello/revoke" in result.stderr  # the trace is on
    assert access not in result.stderr + result.stdout
    admin = xaa.ok("-v", "revoke", "--user", "alice")
    assert "/idp/admin/users/alice/revoke-refresh-tokens" in admin.stderr
    assert live.admin_token not in admin.stderr + admin.stdout


# ----------------------------------------------------------------------------------------- failures
def test_unreachable_app_leaves_its_entry_marked_and_reported(xaa: Xaa, live: LiveServer) -> None:
    xaa.ok("login")
    tokens = {app: token(xaa, app) for app in ("trello", "slack")}
    set_app_issuer("slack", f"http://127.0.0.1:{closed_port()}/apps/slack")
    report = revoke_json(xaa, "--all", exit_code=1)
    outcomes = {r["target"].split(" ")[0]: r for r in report["results"]}
    assert outcomes["dev/trello"]["outcome"] == "revoked"
    assert outcomes["dev/slack"]["outcome"] == "FAILED"
    assert outcomes["dev/slack"]["still_live"] is True
    assert report["still_live"] == [outcomes["dev/slack"]["target"]]
    # Honest: the slack token really is still live, and the cache still holds it, marked.
    assert live.whoami("slack", tokens["slack"]) == 200
    assert live.whoami("trello", tokens["trello"]) == 401
    (left,) = xaa.json("token", "list")
    assert left["alias"] == "slack"
    assert "revoked" not in json.dumps(left)
    table = xaa("revoke", "--all")
    assert table.exit_code == 1
    assert "still live: dev/slack" in table.stderr

    set_app_issuer("slack", f"{live.base_url}/apps/slack")
    # The marked entry is never served again: `token get` mints a new one, and both stay in the cache
    # (the new one must not overwrite the one still waiting for its revocation).
    fresh_slack = token(xaa, "slack")
    assert fresh_slack != tokens["slack"]
    assert cached_aliases(xaa) == ["slack", "slack"]
    report = revoke_json(xaa, "--all")
    assert [r["outcome"] for r in report["results"]] == ["revoked", "revoked"]
    assert cached_aliases(xaa) == []
    assert live.whoami("slack", tokens["slack"]) == 401
    assert live.whoami("slack", fresh_slack) == 401
    failures = xaa.json("audit", "--event", "revoke", "--outcome", "error")
    assert failures
    assert all(e["error"] == "network" for e in failures)


def test_server_down_then_back_on_the_same_state(xaa: Xaa, live: LiveServer) -> None:
    xaa.ok("login")
    tokens = {app: token(xaa, app) for app in ("trello", "slack")}
    refresh = stored("refresh_token")
    assert refresh is not None
    live.stop()

    down = revoke_json(xaa, "--all", "--idp", exit_code=1)
    failed = [r for r in down["results"] if r["outcome"] == "FAILED"]
    assert len(failed) == 3  # two cached tokens and the refresh token
    assert len(down["still_live"]) == 3
    assert cached_aliases(xaa) == ["slack", "trello"]  # kept, marked
    assert stored("refresh_token") is None  # set aside: it renews nothing any more...
    assert stored("refresh_token_unrevoked") == refresh  # ...and is retried next time
    assert xaa("token", "get", "--aud", "trello").exit_code == 7  # nothing is minted from this machine

    live.start()  # same port, same data directory
    back = revoke_json(xaa, "--all", "--idp")
    assert {r["outcome"] for r in back["results"]} == {"revoked"}
    assert cached_aliases(xaa) == []
    assert stored("refresh_token_unrevoked") is None
    assert live.introspect_at_idp(refresh) == {"active": False}
    assert {app: live.whoami(app, t) for app, t in tokens.items()} == dict.fromkeys(tokens, 401)


class StopAfterFirstRevocation(httpx.BaseTransport):
    """Real HTTP, but the server is stopped right after it answered the first revocation."""

    def __init__(self, live: LiveServer) -> None:
        self.inner, self.live, self.revocations = httpx.HTTPTransport(), live, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.endswith("/revoke"):
            self.revocations += 1
            if self.revocations == 1:
                response.read()
                self.live.stop()
        return response

    def close(self) -> None:
        self.inner.close()


def test_server_stopped_between_two_revocations(xaa: Xaa, live: LiveServer) -> None:
    from xaa_cli.cli.app import app
    from xaa_cli.core.http import make_client

    xaa.ok("login")
    tokens = {app_name: token(xaa, app_name) for app_name in ("slack", "trello")}
    actx = AppContext(clock=SystemClock())
    actx._client = make_client(transport=StopAfterFirstRevocation(live))
    result = xaa.runner.invoke(app, ["revoke", "--all", "-o", "json"], obj=actx)
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    assert [(r["target"].split(" ")[0], r["outcome"]) for r in report["results"]] == [
        ("dev/slack", "revoked"),
        ("dev/trello", "FAILED"),
    ]
    assert report["still_live"] == [report["results"][1]["target"]]
    assert cached_aliases(xaa) == ["trello"]  # the confirmed one left, the other stayed (marked)
    live.start()
    assert live.whoami("slack", tokens["slack"]) == 401
    assert live.whoami("trello", tokens["trello"]) == 200  # honest: it really is still live
    assert [r["outcome"] for r in revoke_json(xaa, "--all")["results"]] == ["revoked"]
    assert live.whoami("trello", tokens["trello"]) == 401
    assert cached_aliases(xaa) == []


def test_one_token_while_its_server_is_down_exits_4_and_marks_the_cache(xaa: Xaa, live: LiveServer) -> None:
    xaa.ok("login")
    access = token(xaa, "trello")
    live.stop()
    result = xaa("revoke", access)
    assert result.exit_code == 4
    assert "FAILED" in result.stdout
    assert "cannot reach" in result.stderr
    live.start()
    assert live.whoami("trello", access) == 200  # the report was honest: still live
    assert token(xaa, "trello") != access  # the marked copy is never served again
    report = revoke_json(xaa, "--aud", "trello")
    assert [r["outcome"] for r in report["results"]] == ["revoked", "revoked"]
    assert cached_aliases(xaa) == []
    assert live.whoami("trello", access) == 401


def test_refresh_tokens_set_aside_accumulate_until_revoked(xaa: Xaa, live: LiveServer) -> None:
    refreshes = []
    for _ in range(2):  # sign in, then fail to revoke with the IdP down: twice
        xaa.ok("login")
        refreshes.append(stored("refresh_token"))
        live.stop()
        assert xaa("revoke", "--idp").exit_code == 1
        live.start()
    assert sorted((stored("refresh_token_unrevoked") or "").split()) == sorted(r or "" for r in refreshes)
    assert all(live.introspect_at_idp(r or "")["active"] for r in refreshes)
    report = revoke_json(xaa, "--idp")
    assert [r["outcome"] for r in report["results"]] == ["revoked", "revoked"]
    assert stored("refresh_token_unrevoked") is None
    assert [live.introspect_at_idp(r or "") for r in refreshes] == [{"active": False}] * 2


def test_revocations_survive_a_server_restart(xaa: Xaa, live: LiveServer) -> None:
    xaa.ok("login")
    xaa.ok("login", "--profile", "dev2")
    revoked = token(xaa, "trello")
    kept = token(xaa, "slack")
    xaa.ok("revoke", revoked)
    xaa.ok("revoke", "--client", OTHER, "--at-idp")

    live.stop()
    live.start()

    assert live.whoami("trello", revoked) == 401
    assert live.introspect("trello", revoked) == {"active": False}
    assert live.whoami("slack", kept) == 200
    assert xaa("token", "get", "--aud", "github", "--profile", "dev2").exit_code == 5
    assert live.whoami("github", token(xaa, "github")) == 200
