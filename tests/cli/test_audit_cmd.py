"""`xaa audit`: filters, limit, table and JSON, over entries written by the real AuditLog."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from xaa_cli.cli.app import app
from xaa_cli.cli.context import AppContext
from xaa_cli.cli.inputs import parse_duration
from xaa_cli.clock import FixedClock
from xaa_cli.errors import UsageError
from xaa_cli.storage import paths
from xaa_cli.storage.audit import AuditLog, token_fingerprint

START = 1_800_000_000.0
TOKEN = "at-" + "opaque-canary-5h4g3f"


@pytest.fixture
def clock() -> FixedClock:
    clock = FixedClock(START)
    log = AuditLog(paths.audit_log_file(), clock)
    log.record("token_request", profile="dev", audience="https://trello.example/as", alias="trello",
               client_id="agent", scope="board:read", token_fingerprint=token_fingerprint(TOKEN))  # fmt: skip
    clock.advance(3600)
    log.record("token_exchange", outcome="error", profile="dev", audience="https://jira.example/as",
               client_id="agent", error="invalid_grant")  # fmt: skip
    clock.advance(3600)
    log.record(
        "revoke", profile="acme", audience="https://trello.example/as", alias="trello", client_id="other"
    )
    clock.advance(60)
    return clock


def run(runner: CliRunner, clock: FixedClock, *args: str) -> list[dict[str, object]]:
    result = runner.invoke(app, ["audit", "-o", "json", *args], obj=AppContext(clock=clock))
    assert result.exit_code == 0, result.stderr
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def events(rows: list[dict[str, object]]) -> list[object]:
    return [r["event"] for r in rows]


def test_all_entries_oldest_first(runner: CliRunner, clock: FixedClock) -> None:
    rows = run(runner, clock)
    assert events(rows) == ["token_request", "token_exchange", "revoke"]
    assert rows[0]["time"] == "2027-01-15T08:00:00+00:00"
    assert rows[0]["token_fingerprint"] == token_fingerprint(TOKEN)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--since", "10m"], ["revoke"]),
        (["--since", "1h"], ["revoke"]),
        (["--since", "1h30m"], ["token_exchange", "revoke"]),
        (["--since", "2h"], ["token_exchange", "revoke"]),
        (["--since", "7d"], ["token_request", "token_exchange", "revoke"]),
        (["--event", "revoke"], ["revoke"]),
        (["--event", "revoke", "--event", "token_request"], ["token_request", "revoke"]),
        (["--aud", "trello"], ["token_request", "revoke"]),
        (["--aud", "https://jira.example/as"], ["token_exchange"]),
        (["--client", "other"], ["revoke"]),
        (["--outcome", "error"], ["token_exchange"]),
        (["--outcome", "ok", "--aud", "trello", "--client", "agent"], ["token_request"]),
        (["--limit", "2"], ["token_exchange", "revoke"]),
        (["--event", "nothing"], []),
    ],
)
def test_filters(runner: CliRunner, clock: FixedClock, args: list[str], expected: list[str]) -> None:
    assert events(run(runner, clock, *args)) == expected


def test_table(runner: CliRunner, clock: FixedClock) -> None:
    result = runner.invoke(app, ["audit"], obj=AppContext(clock=clock))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "EVENT" in lines[1]
    assert "TOKEN_FINGERPRINT" in lines[1]
    body = [line for line in lines if "token_" in line or "revoke" in line]
    assert len(body) == 3, result.stdout  # one line per entry, even when piped
    assert "invalid_grant" in result.stdout
    assert TOKEN not in result.stdout


def test_empty_log(runner: CliRunner) -> None:
    result = runner.invoke(app, ["audit"])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no audit entries" in result.stderr
    assert json.loads(runner.invoke(app, ["audit", "-o", "json"]).stdout) == []


@pytest.mark.parametrize(
    "args", [["--since", "10"], ["--since", "ten minutes"], ["--limit", "0"], ["-o", "raw"]]
)
def test_bad_arguments(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(app, ["audit", *args])
    assert result.exit_code == 2
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("10m", 600), ("2h", 7200), ("7d", 604800), ("1w", 604800),
                          ("1h30m", 5400), ("1.5h", 5400), (" 2H ", 7200)]
)  # fmt: skip
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "m", "-5m", "5 parsecs", "1h-", "h1"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="not a duration"):
        parse_duration(text)
