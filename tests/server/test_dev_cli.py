"""``xaa dev serve | policy | audit`` through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.server.helpers import exchange, jwt_bearer
from tests.support.server import sign_in
from xaa_cli.cli.app import app
from xaa_cli.cli.commands.dev import base_url_for, is_loopback_host
from xaa_cli.cli.exit_codes import ExitCode


def test_non_loopback_host_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(app, ["dev", "serve", "--host", "0.0.0.0", "--port", "0"])  # noqa: S104
    assert result.exit_code == ExitCode.USAGE
    assert "not a loopback address" in result.stderr


def test_unknown_auto_approve_user(runner: CliRunner) -> None:
    result = runner.invoke(app, ["dev", "serve", "--port", "0", "--auto-approve", "mallory"])
    assert result.exit_code == ExitCode.USAGE


def test_bad_policy_file(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "policy.toml"
    bad.write_text('[[rules]]\nname = "r"\nclient = "nobody"\napp = "trello"\nusers = ["alice"]\n')
    result = runner.invoke(app, ["dev", "serve", "--port", "0", "--policy", str(bad)])
    assert result.exit_code == ExitCode.CONFIG
    assert "unknown client" in result.stderr


def test_loopback_helpers() -> None:
    assert is_loopback_host("127.0.0.1")
    assert is_loopback_host("::1")
    assert is_loopback_host("localhost")
    assert not is_loopback_host("192.168.1.4")
    assert base_url_for("::1", 80) == "http://[::1]:80"


def test_audit_command_reads_the_data_dir(runner: CliRunner, make_dev_server, tmp_path: Path) -> None:
    server = make_dev_server(data_dir=tmp_path, auto_approve="bob")
    id_token = sign_in(server)["id_token"]
    jwt_bearer(server, exchange(server, id_token).json()["access_token"])
    exchange(server, id_token, app="salesforce")
    result = runner.invoke(app, ["dev", "audit", "--data-dir", str(tmp_path), "-o", "json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)
    assert [e["event"] for e in entries] == [
        "id_token.issued",
        "id_jag.issued",
        "access_token.issued",
        "id_jag.denied",
    ]
    assert entries[-1]["policy"] == "deny-bob-salesforce"
    table = runner.invoke(app, ["dev", "audit", "--data-dir", str(tmp_path)])
    assert "deny-bob-salesforce" in table.stdout


def test_audit_without_state(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["dev", "audit", "--data-dir", str(tmp_path / "none")])
    assert result.exit_code == ExitCode.CONFIG


@pytest.mark.loopback
def test_serve_writes_the_profile_and_answers(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "XAA_HOME": str(home), "XAA_SECRET_STORE": "file", "NO_COLOR": "1"}
    command = [
        sys.executable,
        "-m",
        "xaa_cli",
        "dev",
        "serve",
        "--port",
        "0",
        "--data-dir",
        str(tmp_path / "d"),
        "--auto-approve",
        "alice",
    ]
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("xaa dev serve: listening on http://127.0.0.1:"), line
        base = line.split()[-1]
        deadline = time.monotonic() + 10
        while True:
            try:
                doc = httpx.get(f"{base}/.well-known/oauth-authorization-server/idp").json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert doc["issuer"] == f"{base}/idp"
        config = (home / "config.toml").read_text()
        assert f'issuer = "{base}/idp"' in config
        assert 'default_profile = "dev"' in config
        secrets = json.loads((home / "state" / "secrets.json").read_text())
        assert "profile/dev/admin_token" in secrets
        assert "profile/dev/client_secret" in secrets
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_no_profile_reuses_but_never_writes_credentials() -> None:
    from xaa_cli.cli.commands.dev import load_or_create_kits
    from xaa_cli.server.policy import DEFAULT_POLICY
    from xaa_cli.storage.secrets import MemoryStore

    store = MemoryStore()
    assert load_or_create_kits(store, DEFAULT_POLICY, persist=False)["xaa-agent"].secret
    assert store.get("profile/dev/client_secret") is None
    first = load_or_create_kits(store, DEFAULT_POLICY)["xaa-agent"]
    again = load_or_create_kits(store, DEFAULT_POLICY, persist=False)["xaa-agent"]
    assert (again.secret, again.app_secrets) == (first.secret, first.app_secrets)
    assert list(load_or_create_kits(store, DEFAULT_POLICY)) == ["xaa-agent"]  # the public client has no kit


@pytest.mark.loopback
def test_listening_socket_is_tcp_with_nodelay() -> None:
    import socket

    from xaa_cli.server.runner import listening_socket

    sock = listening_socket()
    try:
        # asyncio sets TCP_NODELAY on accepted connections only when proto says TCP; without it every
        # response waits for the client's delayed ACK (~40 ms).
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()
