"""`xaa revoke` details on the in-process reference server (fast): every client-authentication method at
the revocation endpoint, what --dry-run sends, the IdP-trail filters, and flag checking."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pytest

from tests.e2e.xaa_harness import Xaa
from tests.support.server import provision, start_in_process
from xaa_cli.cli.commands._revoke_admin import select_idp_entries
from xaa_cli.clock import FixedClock
from xaa_cli.storage.config import load_config, save_config
from xaa_cli.storage.paths import config_file


@pytest.fixture
def xaa(isolated_home: Any) -> Any:
    clock = FixedClock(time.time())
    server = start_in_process(clock=clock)
    provision(server)
    harness = Xaa(server, clock, isolated_home)
    harness.ok("login")
    yield harness
    server.close()


def set_app_auth(app: str, method: str) -> None:
    config = load_config(config_file())
    profile = config.profiles["dev"]
    moved = replace(profile, apps={**profile.apps, app: replace(profile.apps[app], client_auth=method)})
    save_config(config.with_profile(moved), config_file())


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post", "private_key_jwt"])
def test_each_client_auth_method_at_the_revocation_endpoint(xaa: Xaa, method: str) -> None:
    set_app_auth("trello", method)
    access = json.loads(xaa.ok("token", "get", "--aud", "trello", "-o", "json").stdout)["access_token"]
    assert xaa.whoami("trello", access).status_code == 200
    report = json.loads(xaa.ok("revoke", "--aud", "trello", "-o", "json").stdout)
    assert [r["outcome"] for r in report["results"]] == ["revoked"]
    assert xaa.whoami("trello", access).status_code == 401


def test_dry_run_sends_no_revocation(xaa: Xaa) -> None:
    xaa.ok("token", "get", "--aud", "trello")
    xaa.ok("token", "get", "--aud", "slack")
    xaa.requests.clear()
    result = xaa.ok("revoke", "--all", "--idp", "--dry-run")
    assert "would revoke" in result.stdout
    assert "would forget" in result.stdout
    assert not [r for r in xaa.requests if r.startswith("POST")]
    assert len(json.loads(xaa.ok("token", "list", "-o", "json").stdout)) == 2
    assert not [e for e in json.loads(xaa.ok("audit", "-o", "json").stdout) if "revoke" in e["event"]]


def test_table_report_on_stdout_and_notes_on_stderr(xaa: Xaa) -> None:
    xaa.ok("token", "get", "--aud", "trello")
    result = xaa.ok("revoke", "--idp")
    assert "refresh token of profile dev" in result.stdout
    assert "forgotten" in result.stdout
    assert "stay valid until they expire; add --all" in result.stderr
    assert "stay valid" not in result.stdout
    again = xaa.ok("revoke", "--idp")
    assert "nothing to revoke" in again.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "say what to revoke"),
        (("tok", "--idp"), "either a TOKEN"),
        (("--aud", "trello", "--all"), "cannot be combined"),
        (("--client", "c"), "--client needs --at-idp"),
        (("--at-idp",), "--at-idp needs --client"),
        (("--all", "--hint", "access_token"), "--hint applies to a TOKEN"),
        (("tok", "--hint", "id_token"), "is not access_token or refresh_token"),
    ],
)
def test_flags_are_checked_before_anything_is_sent(xaa: Xaa, args: tuple[str, ...], message: str) -> None:
    xaa.requests.clear()
    result = xaa("revoke", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert xaa.requests == []


TRAIL = [
    {"time": 100, "server": "idp", "event": "id_jag.issued", "issued_to": "a", "audience": "https://x/apps/trello",
     "outcome": "ok"},
    {"time": 200, "server": "trello", "event": "access_token.issued", "issued_to": "a-at-trello",
     "outcome": "ok"},
    {"time": 300, "server": "idp", "event": "id_jag.denied", "issued_to": "b", "audience": "https://x/apps/slack",
     "outcome": "access_denied"},
]  # fmt: skip


@pytest.mark.parametrize(
    ("filters", "events"),
    [
        ({}, ["id_jag.issued", "access_token.issued", "id_jag.denied"]),
        ({"since": 150.0}, ["access_token.issued", "id_jag.denied"]),
        ({"clients": ["a"]}, ["id_jag.issued"]),
        ({"audiences": ["trello"]}, ["access_token.issued"]),
        ({"audiences": ["https://x/apps/trello"]}, ["id_jag.issued"]),
        ({"outcomes": ["access_denied"]}, ["id_jag.denied"]),
        ({"events": ["id_jag.issued", "id_jag.denied"], "clients": ["b"]}, ["id_jag.denied"]),
    ],
)
def test_idp_trail_filters(filters: dict[str, Any], events: list[str]) -> None:
    options: dict[str, Any] = {
        "since": None,
        "events": None,
        "audiences": None,
        "clients": None,
        "outcomes": None,
    }
    selected = select_idp_entries(TRAIL, **{**options, **filters})
    assert [e["event"] for e in selected] == events
