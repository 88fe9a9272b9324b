"""The same flow over real sockets: a real uvicorn `xaa dev serve` on 127.0.0.1, the real HTTP client,
the real loopback redirect listener, and a separate `xaa` process for the cache-hit proof."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.xaa_harness import Xaa
from tests.support.server import DevServer, provision, start_live
from xaa_cli.clock import SystemClock

pytestmark = pytest.mark.loopback


def test_browser_login_token_and_run_over_sockets(
    live_server: DevServer, isolated_home: Path, tmp_path: Path
) -> None:
    provision(live_server)
    xaa = Xaa(live_server, SystemClock(), isolated_home, in_process=False)
    xaa.ok("login")
    assert xaa.opened[0].startswith(live_server.idp_issuer + "/authorize?")
    token = xaa.ok("token", "get", "--aud", "trello", "-s", "board:write").stdout.strip()
    who = xaa.whoami("trello", token)
    assert who.status_code == 200
    assert who.json()["scope"] == "board:write"
    write = httpx.post(
        f"{live_server.resource('trello')}/boards", headers={"Authorization": f"Bearer {token}"}
    )
    assert write.status_code != 403  # board:write is what the write route needs
    out = tmp_path / "seen"
    script = "import os, sys; open(sys.argv[1], 'w').write(os.environ['XAA_ACCESS_TOKEN'])"
    xaa.ok("run", "--aud", "slack", "-s", "chat:write", "--", sys.executable, "-c", script, str(out))
    assert xaa.whoami("slack", out.read_text()).json()["scope"] == "chat:write"


def test_cache_hit_needs_no_server_in_a_new_process(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XAA_SECRET_STORE", "file")  # a child process cannot see the test's in-memory keyring
    server = start_live()
    try:
        provision(server)
        xaa = Xaa(server, SystemClock(), isolated_home, in_process=False)
        xaa.ok("login")
        token = xaa.ok("token", "get", "--aud", "github", "-s", "repo:status").stdout
    finally:
        server.close()  # from here on, nothing answers at the server's address
    env = {**os.environ, "XAA_HOME": str(isolated_home), "XAA_SECRET_STORE": "file"}
    argv = [sys.executable, "-m", "xaa_cli", "token", "get", "--aud", "github", "-s", "repo:status"]
    hit = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=30)
    assert hit.returncode == 0, hit.stderr
    assert hit.stdout == token
    assert hit.stderr == ""
    miss = subprocess.run(
        [*argv, "--fresh"], env=env, capture_output=True, text=True, check=False, timeout=30
    )
    assert miss.returncode == 4  # the server is gone: a network error, clearly reported
    assert miss.stdout == ""
    assert "error:" in miss.stderr
    assert token.strip() not in miss.stderr
