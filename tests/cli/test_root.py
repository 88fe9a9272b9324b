from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from xaa_cli import __version__
from xaa_cli.cli.app import app


def test_version_in_process(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"xaa {__version__}\n"


def test_python_dash_m_works() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "xaa_cli", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"xaa {__version__}"
    assert proc.stderr == ""


def test_unknown_command_is_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["no-such-command"])
    assert result.exit_code == 2
    assert result.stdout == ""
