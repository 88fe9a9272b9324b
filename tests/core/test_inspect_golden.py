"""Golden files pin ``xaa inspect``'s table output and JSON shape (tests/golden/inspect/).

Tokens are deterministic (Ed25519 from a fixed seed, fixed claims) and time comes from a FixedClock, so the
files change only when the output does. Regenerate after an intended change, then review the diff:

    XAA_UPDATE_GOLDEN=1 python -m pytest tests/core/test_inspect_golden.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support.indep_jws import encode, make_signer, unsigned_token
from xaa_cli.cli.app import app
from xaa_cli.cli.context import AppContext
from xaa_cli.clock import FixedClock

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "inspect"
UPDATE = os.environ.get("XAA_UPDATE_GOLDEN") == "1"
NOW = 1_800_000_000
SIGNER = make_signer("EdDSA", "idp-key-1", seed=1)


def claims(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": "https://idp.example.com",
        "sub": "1997e829-2029-41d4-a716-446655440000",
        "aud": "https://auth.trello.example",
        "client_id": "xaa-agent-at-trello",
        "jti": "9e43f81b64a33f20116179",
        "iat": NOW - 48,
        "exp": NOW + 252,
        "resource": "https://api.trello.example/",
        "scope": "board:read board:write",
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def id_jag(**over: Any) -> str:
    return SIGNER.token(claims(**over), typ="oauth-id-jag+jwt")


CASES: dict[str, tuple[list[str], int]] = {
    "idjag_decoded": (["inspect", id_jag()], 0),
    "idjag_verified": (["inspect", id_jag(), "--jwks", "{jwks}", "--aud", "https://auth.trello.example"], 0),
    "idjag_failures": (
        [
            "inspect",
            id_jag(
                exp=NOW - 3 * 3600, iat=NOW - 3 * 3600 - 7200, aud=["https://a.example", "https://b.example"]
            ),
            "--jwks",
            "{jwks}",
            "--aud",
            "https://auth.trello.example",
        ],
        1,
    ),
    "alg_none": (
        ["inspect", unsigned_token({"typ": "JWT"}, claims(exp=None, password="hunter2")), "--jwks", "{jwks}"],
        1,
    ),
    "access_token": (
        [
            "inspect",
            SIGNER.token(claims(aud="https://api.trello.example/", exp=NOW + 86400 * 30), typ="at+jwt"),
        ],
        0,
    ),
    "opaque": (["inspect", "2YotnFZFEjr1zCsicMWpAA"], 0),
    "jwe": (
        [
            "inspect",
            ".".join(
                [encode({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "ras-enc"}), "k", "iv", "ct", "tag"]
            ),
        ],
        0,
    ),
}


def run(runner: CliRunner, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    # A relative path keeps the output independent of where pytest puts tmp_path.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jwks.json").write_text(json.dumps(SIGNER.jwks()))
    args = [a.replace("{jwks}", "jwks.json") for a in args]
    return runner.invoke(app, args, obj=AppContext(clock=FixedClock(float(NOW))))


def compare(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with XAA_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8"), (
        f"{name} changed; rerun with XAA_UPDATE_GOLDEN=1 and review"
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_table_output(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    args, code = CASES[case]
    result = run(runner, args, tmp_path, monkeypatch)
    assert result.exit_code == code, result.output
    compare(f"{case}.txt", result.stdout)


@pytest.mark.parametrize("case", sorted(CASES))
def test_json_output(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    args, code = CASES[case]
    result = run(runner, [*args, "-o", "json"], tmp_path, monkeypatch)
    assert result.exit_code == code, result.output
    compare(f"{case}.json", result.stdout)


def test_golden_files_have_no_stale_entries() -> None:
    expected = {f"{case}.{ext}" for case in CASES for ext in ("txt", "json")}
    assert {p.name for p in GOLDEN.iterdir() if p.suffix in {".txt", ".json"}} == expected
