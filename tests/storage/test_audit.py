"""The audit log never holds a token: canaries, JWT-looking values, damaged lines, line size, mode."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from xaa_cli.b64 import b64url_encode
from xaa_cli.clock import FixedClock
from xaa_cli.errors import StorageError
from xaa_cli.storage.audit import MAX_LINE_BYTES, AuditLog, token_fingerprint


def fake_jwt(marker: str) -> str:
    """A JWT-shaped string built at run time (no real-looking secret in the source)."""
    header = b64url_encode(json.dumps({"alg": "ES256", "typ": "JWT"}).encode())
    claims = b64url_encode(json.dumps({"sub": marker, "exp": 1}).encode())
    return f"{header}.{claims}.{b64url_encode(marker.encode() * 4)}"


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "state" / "audit.jsonl", FixedClock(1_800_000_000.0))


def test_canary_token_is_never_written(log: AuditLog) -> None:
    canary = "CANARY-" + "opaque-access-token-7f3a9c"
    jwt_canary = fake_jwt("CANARY-JWT")
    log.record(
        "token_request",
        profile="dev",
        issuer="https://idp.example",
        audience="https://as.example",
        client_id="agent",
        scope="board:read",
        jti="jti-1",
        token_fingerprint=token_fingerprint(canary),
    )
    log.record("token_exchange", token_fingerprint=token_fingerprint(jwt_canary))
    data = log.path.read_bytes()
    assert canary.encode() not in data
    assert jwt_canary.encode() not in data
    for part in jwt_canary.split("."):
        assert part.encode() not in data
    assert token_fingerprint(canary).encode() in data
    assert len(token_fingerprint(canary)) == 16


@pytest.mark.parametrize(
    "fields",
    [
        {"error": "bad token " + fake_jwt("x")},
        {"jti": fake_jwt("y")},
        {"extra": {"nested": [fake_jwt("z")]}},
        {"tokens": [fake_jwt("w")]},
    ],
)
def test_jwt_looking_values_are_refused(log: AuditLog, fields: dict[str, object]) -> None:
    with pytest.raises(StorageError, match="refusing to write a token"):
        log.record("token_request", outcome="error", **fields)
    assert not log.path.exists(), "nothing is written when an entry is refused"


def test_entry_shape_time_is_utc(log: AuditLog) -> None:
    log.record("revoke", profile="dev", audience="trello", jti="j", error=None)
    [entry] = [e.data for e in log.entries()]
    assert entry == {
        "time": "2027-01-15T08:00:00+00:00",
        "event": "revoke",
        "outcome": "ok",
        "profile": "dev",
        "audience": "trello",
        "jti": "j",
    }


def test_damaged_lines_are_skipped(log: AuditLog) -> None:
    log.record("one")
    with log.path.open("ab") as handle:
        handle.write(b'{"event": "half-writ\n')
        handle.write(b"\xff\xfe garbage\n")
        handle.write(b"[1, 2, 3]\n")
        handle.write(b"\n")
    log.record("two")
    assert [e.get("event") for e in log.entries()] == ["one", "two"]


def test_oversized_entry_stays_valid_json(log: AuditLog) -> None:
    log.record("token_request", outcome="error", error="é" * MAX_LINE_BYTES)
    raw = log.path.read_bytes()
    assert len(raw) <= MAX_LINE_BYTES + 1
    [entry] = [e.data for e in log.entries()]
    assert entry["truncated"] is True
    assert entry["event"] == "token_request"


def test_log_is_0600_and_append_only(log: AuditLog) -> None:
    log.record("a")
    first = log.path.read_bytes()
    log.record("b")
    assert log.path.read_bytes().startswith(first)
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600


def test_missing_log_has_no_entries(log: AuditLog) -> None:
    assert list(log.entries()) == []
