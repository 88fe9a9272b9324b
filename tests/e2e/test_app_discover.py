"""`xaa app add ALIAS --discover URL` on the real reference server, then `xaa token get --aud ALIAS` with the
entry it wrote; refusals on a tiny loopback server that answers with the wrong metadata."""

from __future__ import annotations

import json
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.xaa_harness import Xaa
from tests.support.server import DevServer, provision
from xaa_cli.clock import FixedClock, SystemClock
from xaa_cli.server.policy import DEFAULT_POLICY
from xaa_cli.storage.config import load_config
from xaa_cli.storage.paths import config_file

MakeServer = Callable[..., DevServer]
ID_JAG_PROFILE = "urn:ietf:params:oauth:grant-profile:id-jag"


@pytest.fixture
def xaa(make_dev_server: MakeServer, isolated_home: Path) -> Xaa:
    server = make_dev_server(clock=FixedClock(time.time()))
    provision(server)
    return Xaa(server, server.settings.clock, isolated_home)


def discover(xaa: Xaa, alias: str, url: str, app_name: str, *extra: str) -> Any:
    """`app add --discover` with this client's id and secret at ``app_name`` (the user's part)."""
    return xaa(
        "app", "add", alias, "--discover", url, "--client-id", xaa.server.app_client_id(app_name),
        "--client-secret-stdin", *extra, input=xaa.server.kit.app_secrets[app_name],
    )  # fmt: skip


def entry(stdout: str, alias: str) -> dict[str, Any]:
    apps: dict[str, Any] = tomllib.loads(stdout)["profiles"]["dev"]["apps"]
    assert list(apps) == [alias]
    return dict(apps[alias])


def stored_app(alias: str) -> Any:
    return load_config(config_file()).profile("dev").apps.get(alias)


# ----------------------------------------------------------------------------------------- working entries
def test_discover_from_the_resource_url_then_token_get(xaa: Xaa) -> None:
    resource = xaa.server.resource("trello")
    result = discover(xaa, "board", resource, "trello")
    assert result.exit_code == 0, result.stderr
    assert entry(result.stdout, "board") == {
        "issuer": xaa.server.app_issuer("trello"),
        "client_id": "xaa-agent-at-trello",
        "client_auth": "client_secret_basic",
        "resource": resource,
        "id_jag": True,
    }
    assert f"protected resource: {resource}" in result.stderr
    assert f"token endpoint: {xaa.server.app_issuer('trello')}/token" in result.stderr
    assert "scopes offered: board:read board:write" in result.stderr
    assert f"ID-JAG: supported ({ID_JAG_PROFILE})" in result.stderr
    assert xaa.server.kit.app_secrets["trello"] not in result.stdout + result.stderr
    assert stored_app("board").scopes == ()  # offered scopes are shown, never made the defaults

    xaa.ok("login")
    token = xaa.ok("token", "get", "--aud", "board", "-s", "board:write").stdout.strip()
    who = xaa.whoami("trello", token).json()
    assert (who["sub"], who["client_id"], who["scope"]) == ("alice", "xaa-agent-at-trello", "board:write")
    assert who["aud"] == resource


def test_discover_from_the_issuer_with_default_scopes(xaa: Xaa) -> None:
    issuer = xaa.server.app_issuer("slack")
    result = discover(xaa, "chat", issuer, "slack", "--scope", "chat:write", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["alias"], data["issuer"], data["resource"], data["id_jag"]) == ("chat", issuer, None, True)
    assert data["scopes"] == ["chat:write"]
    assert "protected resource" not in result.stderr
    assert "no resource: tokens will not name an API" in result.stderr

    xaa.ok("login")
    got = xaa.json("token", "get", "--aud", "chat")  # no --scope: the entry's default
    assert (got["audience"], got["scope"]) == (issuer, "chat:write")
    assert xaa.whoami("slack", got["access_token"]).json()["client_id"] == "xaa-agent-at-slack"


def test_issuer_discovery_keeps_an_explicit_resource_and_warns_about_unlisted_choices(xaa: Xaa) -> None:
    resource = xaa.server.resource("github")
    result = discover(
        xaa, "gh", xaa.server.app_issuer("github"), "github",
        "--resource", resource, "--scope", "repo:status admin:org",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert entry(result.stdout, "gh")["resource"] == resource
    assert "does not list the scope(s) admin:org" in result.stderr


def test_app_without_id_jag_is_discovered_as_such_and_token_get_explains(
    make_dev_server: MakeServer, isolated_home: Path
) -> None:
    apps = {**DEFAULT_POLICY.apps, "github": replace(DEFAULT_POLICY.apps["github"], id_jag=False)}
    server = make_dev_server(clock=FixedClock(time.time()), policy=replace(DEFAULT_POLICY, apps=apps))
    provision(server)
    xaa = Xaa(server, server.settings.clock, isolated_home)
    result = discover(xaa, "gh", server.resource("github"), "github")
    assert result.exit_code == 0, result.stderr
    assert entry(result.stdout, "gh")["id_jag"] is False
    assert "ID-JAG: not supported; `xaa token get --aud gh --interactive` signs in" in result.stderr

    xaa.ok("login")
    refused = xaa("token", "get", "--aud", "gh", "-s", "repo:status")
    assert refused.exit_code == 5
    assert refused.stdout == ""
    assert "does not accept ID-JAGs: it is configured with id_jag = false" in refused.stderr
    assert "--interactive" in refused.stderr
    got = xaa.json("token", "get", "--aud", "gh", "-s", "repo:status", "--interactive")
    assert got["id_jag_jti"] is None
    assert xaa.whoami("github", got["access_token"]).json()["sub"] == "alice"


@pytest.mark.loopback
def test_discover_over_sockets_on_a_live_server(live_server: DevServer, isolated_home: Path) -> None:
    provision(live_server)
    xaa = Xaa(live_server, SystemClock(), isolated_home, in_process=False)
    result = discover(xaa, "hub", live_server.resource("github"), "github", "--scope", "repo:status")
    assert result.exit_code == 0, result.stderr
    xaa.ok("login")
    token = xaa.ok("token", "get", "--aud", "hub").stdout.strip()
    assert xaa.whoami("github", token).json()["scope"] == "repo:status"


# ----------------------------------------------------------------------------------------- refused locally
def test_plain_http_to_a_non_loopback_host_is_refused_without_a_request(xaa: Xaa) -> None:
    before = len(xaa.requests)
    result = discover(xaa, "x", "http://api.example.com/v1", "trello")
    assert result.exit_code == 2
    assert "refusing plain http:// for the discovery URL http://api.example.com/v1" in result.stderr
    assert len(xaa.requests) == before
    assert stored_app("x") is None


def test_a_taken_alias_is_refused_before_any_request(xaa: Xaa) -> None:
    before = len(xaa.requests)
    result = discover(xaa, "trello", xaa.server.resource("trello"), "trello")
    assert result.exit_code == 3
    assert "already has an app 'trello'" in result.stderr
    assert len(xaa.requests) == before


def test_a_contradicting_resource_or_issuer_is_refused(xaa: Xaa) -> None:
    url = xaa.server.resource("trello")
    result = discover(xaa, "t", url, "trello", "--resource", xaa.server.resource("slack"))
    assert result.exit_code == 2
    assert "contradicts the discovered resource" in result.stderr
    result = discover(xaa, "t", url, "trello", "--issuer", xaa.server.app_issuer("slack"))
    assert result.exit_code == 2
    assert f"does not name {xaa.server.app_issuer('slack')} as an authorization server" in result.stderr
    result = discover(xaa, "t", xaa.server.app_issuer("trello"), "trello", "--issuer", url)
    assert result.exit_code == 2
    assert stored_app("t") is None


def test_an_unsupported_output_mode_fails_before_any_request(xaa: Xaa) -> None:
    before = len(xaa.requests)
    result = discover(xaa, "t", xaa.server.resource("trello"), "trello", "-o", "table")
    assert result.exit_code == 2
    assert "use -o toml | json" in result.stderr
    assert len(xaa.requests) == before
    assert stored_app("t") is None


def test_plain_add_prints_the_entry_only_when_asked(xaa: Xaa) -> None:
    args = ("app", "add", "t", "--issuer", xaa.server.app_issuer("trello"), "--client-id", "c")
    assert xaa.ok(*args, "--client-auth", "none").stdout == ""
    shown = xaa.ok(*args, "--client-auth", "none", "--replace", "-o", "json").stdout
    assert json.loads(shown)["issuer"] == xaa.server.app_issuer("trello")


def test_neither_issuer_nor_discover_is_a_usage_error(xaa: Xaa) -> None:
    result = xaa("app", "add", "t", "--client-id", "c", "--client-auth", "none")
    assert result.exit_code == 2
    assert "--issuer URL, or --discover URL" in result.stderr


# ----------------------------------------------------------------------------------------- wrong metadata
@dataclass
class Tiny:
    """A loopback HTTP server answering fixed JSON documents; records the paths it was asked for."""

    base: str = ""
    routes: dict[str, tuple[int, dict[str, str], Any]] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)

    def json(self, path: str, document: Any) -> None:
        self.routes[path] = (200, {}, document)


@pytest.fixture
def tiny() -> Iterator[Tiny]:
    state = Tiny()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.seen.append(self.path)
            status, headers, document = state.routes.get(self.path, (404, {}, {"error": "not_found"}))
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def net(xaa: Xaa) -> Xaa:
    """The CLI with its real HTTP client (the tiny server is a real socket)."""
    return Xaa(xaa.server, xaa.clock, xaa.home, in_process=False)


def as_document(issuer: str, **extra: Any) -> dict[str, Any]:
    return {"issuer": issuer, "token_endpoint": issuer + "/token", **extra}


@pytest.mark.loopback
def test_an_issuer_that_is_not_byte_for_byte_the_url_is_refused(net: Xaa, tiny: Tiny) -> None:
    tiny.json("/.well-known/oauth-authorization-server/as", as_document(tiny.base + "/as/"))
    result = discover(net, "x", tiny.base + "/as", "trello")
    assert result.exit_code == 5
    assert f"names issuer '{tiny.base}/as/', not '{tiny.base}/as'; refusing to use it" in result.stderr
    assert "RFC 8414 §3.3" in result.stderr
    assert result.stdout == ""
    assert stored_app("x") is None


@pytest.mark.loopback
def test_the_401_challenge_is_followed_and_its_metadata_checked(net: Xaa, tiny: Tiny) -> None:
    api, issuer = tiny.base + "/api", tiny.base + "/as"
    pointer = "/meta/api-prm"  # not a well-known path: only the challenge leads there
    challenge = f'Bearer realm="api", resource_metadata="{tiny.base}{pointer}"'
    tiny.routes["/api"] = (401, {"WWW-Authenticate": challenge}, {"error": "invalid_token"})
    tiny.json(pointer, {"resource": api, "authorization_servers": [issuer], "scopes_supported": ["r"]})
    tiny.json(
        "/.well-known/oauth-authorization-server/as",
        as_document(issuer, authorization_grant_profiles_supported=[ID_JAG_PROFILE]),
    )
    result = discover(net, "ok", api, "trello")
    assert result.exit_code == 0, result.stderr
    assert tiny.seen[:2] == ["/api", pointer]
    assert f"metadata from {tiny.base}{pointer}" in result.stderr
    assert entry(result.stdout, "ok") == {
        "issuer": issuer, "client_id": "xaa-agent-at-trello", "client_auth": "client_secret_basic",
        "resource": api, "id_jag": True,
    }  # fmt: skip

    # the same resource metadata naming another resource: refused (RFC 9728 §3.3)
    tiny.json(pointer, {"resource": tiny.base + "/other", "authorization_servers": [issuer]})
    result = discover(net, "other", api, "trello")
    assert result.exit_code == 5
    assert "refusing to use it (RFC 9728 §3.3)" in result.stderr
    assert stored_app("other") is None

    # ...or naming an authorization server whose metadata names another issuer
    tiny.json(pointer, {"resource": api, "authorization_servers": [issuer]})
    tiny.json("/.well-known/oauth-authorization-server/as", as_document(tiny.base + "/evil"))
    result = discover(net, "evil", api, "trello")
    assert result.exit_code == 5
    assert f"names issuer '{tiny.base}/evil', not '{issuer}'" in result.stderr
    assert stored_app("evil") is None


@pytest.mark.loopback
def test_a_resource_naming_a_plain_http_remote_server_is_refused(net: Xaa, tiny: Tiny) -> None:
    api = tiny.base + "/api"
    tiny.json("/.well-known/oauth-protected-resource/api", {"resource": api, "authorization_servers": [
        "http://as.example.com"]})  # fmt: skip
    result = discover(net, "x", api, "trello")
    assert result.exit_code == 2
    assert "refusing plain http:// for the issuer http://as.example.com" in result.stderr
    assert stored_app("x") is None


@pytest.mark.loopback
def test_several_authorization_servers_need_issuer(net: Xaa, tiny: Tiny) -> None:
    api, one, two = tiny.base + "/api", tiny.base + "/one", tiny.base + "/two"
    tiny.json(
        "/.well-known/oauth-protected-resource/api", {"resource": api, "authorization_servers": [one, two]}
    )
    tiny.json("/.well-known/oauth-authorization-server/two", as_document(two))
    result = discover(net, "x", api, "trello")
    assert result.exit_code == 2
    assert f"names 2 authorization servers: {one}, {two}" in result.stderr
    result = discover(net, "x", api, "trello", "--issuer", two)
    assert result.exit_code == 0, result.stderr
    assert entry(result.stdout, "x")["issuer"] == two
    assert entry(result.stdout, "x")["id_jag"] is False  # no grant profile listed
    assert "ID-JAG: not supported" in result.stderr


@pytest.mark.loopback
def test_nothing_to_discover_says_what_was_looked_for(net: Xaa, tiny: Tiny) -> None:
    result = discover(net, "x", tiny.base + "/nothing", "trello")
    assert result.exit_code == 5
    assert "found neither protected-resource metadata (RFC 9728) nor authorization-server metadata" in (
        result.stderr
    )
