"""``xaa demo``: the whole flow against real servers on 127.0.0.1, narrated, with no OS keyring, leaving
nothing behind (or, with ``--keep``, a home plain ``xaa`` commands keep working in)."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from typer.testing import CliRunner

from xaa_cli.cli.app import app

pytestmark = pytest.mark.loopback

# A compact JWS anywhere in the output would be a whole token printed.
JWT = re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}")

HOPS = (
    "Reference servers up",
    "Sign in: alice at the IdP",
    "Hop 1: ID token → ID-JAG at the IdP",
    "Hop 2: ID-JAG → access token at trello",
    "Call trello's API with the token",
    "Inspect the ID-JAG",
    "Inspect the access token",
    "The IdP's audit trail",
    "Revoke the access token",
    "Call trello's API again: refused",
    "Sign in: bob at the IdP",
    "A refused request: bob asks for board:write at trello",
    "The IdP recorded the denial",
)


def _demo_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TMPDIR=str(tmp_path / "tmp"),
        XAA_HOME=str(tmp_path / "user-home"),  # the user's own home: the demo must not touch it
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",  # a machine with no OS keyring
        COLUMNS="160",
    )
    (tmp_path / "tmp").mkdir()
    return env


def test_demo_narrates_every_hop_without_keyring_and_leaves_nothing(tmp_path: Path) -> None:
    env = _demo_env(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "xaa_cli", "demo"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = " ".join(re.sub("[│╭╮╰╯─]", " ", done.stdout).split())  # panels' borders and wrapping away
    for title in HOPS:
        assert title in out, title
    assert out.index(HOPS[2]) < out.index(HOPS[3]) < out.index(HOPS[8]) < out.index(HOPS[11])
    # The answers, not just the titles.
    for answer in ("HTTP 200", "HTTP 201", "HTTP 401", "invalid_scope", "VERIFIED"):
        assert answer in out
    assert "urn:ietf:params:oauth:token-type:id-jag" in out
    assert "rule alice-trello-write" in out
    assert "rule bob-trello-read" in out
    assert "NOT VERIFIED" not in out
    assert "<redacted sha256:" in out  # the hop parameters carry tokens only as fingerprints
    # Nothing in full: no JWT, and no secret form value.
    assert not JWT.search(out + done.stderr)
    assert done.stderr == ""  # the narration is the product: stdout
    hosts = set(re.findall(r"https?://([^/\s:]+)", done.stdout))
    assert hosts == {"127.0.0.1"}  # loopback only
    # Nothing left behind: the temporary directory is empty and the user's home was never created.
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "user-home").exists()


def test_demo_keep_leaves_a_home_that_plain_commands_use(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # restored by the conftest fixture
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    monkeypatch.setenv("XAA_PROFILE", "someone-elses")  # the caller's settings must not leak in
    (tmp_path / "tmp").mkdir()
    result = runner.invoke(app, ["demo", "--keep"])
    assert result.exit_code == 0, result.output
    assert os.environ["XAA_PROFILE"] == "someone-elses"  # the environment is restored
    assert os.environ["XAA_HOME"] == str(isolated_home)
    (home,) = (tmp_path / "tmp").iterdir()
    assert f"export XAA_HOME={home}" in result.stdout
    assert "xaa dev serve --port" in result.stdout
    assert not JWT.search(result.stdout)
    secrets = home / "state" / "secrets.json"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert 'secret_store = "file"' in (home / "config.toml").read_text()
    # Continue by hand: the kept home is an ordinary xaa home.
    monkeypatch.setenv("XAA_HOME", str(home))
    monkeypatch.delenv("XAA_PROFILE")
    status = runner.invoke(app, ["status", "-o", "json"])
    assert status.exit_code == 0, status.output
    info = json.loads(status.stdout)
    assert (info["profile"], info["subject"], info["secret_store"]["kind"]) == ("dev", "bob", "file")
    audit = (home / "state" / "audit.jsonl").read_text()
    assert '"event": "revoke"' in audit or '"event":"revoke"' in audit
    assert not JWT.search(audit)


def test_demo_refuses_json_output_before_starting_anything(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["-o", "json", "demo"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert '"error": "usage"' in result.stderr
