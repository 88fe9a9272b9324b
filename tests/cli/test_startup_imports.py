"""Start-up stays light: the fast paths must not import heavy modules (checked with -X importtime).

Timing itself is measured in benchmarks/startup.py, never asserted here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("httpx", "joserfc", "keyring", "starlette", "uvicorn", "rich.table", "pydantic", "cryptography")


def imported_modules(args: list[str], home: Path) -> set[str]:
    env = {**os.environ, "XAA_HOME": str(home), "NO_COLOR": "1"}
    env.pop("XAA_SECRET_STORE", None)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "xaa_cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
    assert "xaa_cli.cli.app" in modules  # the measurement itself worked
    return modules


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.mark.parametrize(
    "args",
    [["--version"], ["config", "show"], ["config", "path", "--all"], ["config", "show", "-o", "json"]],
    ids=["version", "config-show", "config-path", "config-show-json"],
)
def test_fast_paths_import_nothing_heavy(tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        'default_profile = "dev"\n[profiles.dev]\nissuer = "https://idp.example"\nclient_id = "c"\n'
    )
    assert _heavy(imported_modules(args, home)) == []
