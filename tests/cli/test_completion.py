"""Shell completion: the committed scripts are exactly `xaa completion SHELL`, and completing through the
_XAA_COMPLETE protocol (what those scripts do at each <TAB>) answers from the real command tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xaa_cli.cli.app import app
from xaa_cli.cli.commands.completion import FILES

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "for s in bash zsh fish; do xaa completion $s > completions/<file>; done"


@pytest.mark.parametrize("shell", sorted(FILES))
def test_committed_script_matches_the_command(runner: CliRunner, shell: str) -> None:
    result = runner.invoke(app, ["completion", shell])
    assert result.exit_code == 0, result.output
    committed = (ROOT / "completions" / FILES[shell]).read_text()
    assert result.stdout == committed, f"completions/{FILES[shell]} is stale: regenerate ({REGENERATE})"
    assert "_XAA_COMPLETE=complete_" in committed


def test_unknown_shell_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["completion", "tcsh"])
    assert result.exit_code == 2
    assert result.stdout == ""


def _complete(env_extra: dict[str, str]) -> list[str]:
    env = {**os.environ, **env_extra}
    done = subprocess.run(
        [sys.executable, "-m", "xaa_cli"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_protocol_completes_commands_subcommands_and_options() -> None:
    assert _complete({"_XAA_COMPLETE": "complete_bash", "COMP_WORDS": "xaa to", "COMP_CWORD": "1"}) == [
        "token"
    ]
    words = {"_XAA_COMPLETE": "complete_bash", "COMP_WORDS": "xaa token ", "COMP_CWORD": "2"}
    assert {"get", "id-jag", "exchange", "list", "clear"} <= set(_complete(words))
    options = _complete(
        {"_XAA_COMPLETE": "complete_bash", "COMP_WORDS": "xaa token get --", "COMP_CWORD": "3"}
    )
    assert {"--aud", "--scope", "--fresh", "--show-steps"} <= set(options)


def test_zsh_and_fish_protocols_answer_with_help_text() -> None:
    zsh = _complete({"_XAA_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "xaa rev"})
    assert any('"revoke"' in word for word in zsh)
    env = {
        "_XAA_COMPLETE": "complete_fish",
        "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        "_TYPER_COMPLETE_ARGS": "xaa dem",
    }
    assert _complete(env)[0] == "demo"


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_bash_script_itself_completes(tmp_path: Path) -> None:
    """Source completions/xaa.bash in a real bash and call its function as bash would on <TAB>."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "xaa"  # `xaa` on PATH, running this checkout with this interpreter
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m xaa_cli "$@"\n')
    shim.chmod(0o755)
    script = (
        f"source {ROOT / 'completions' / 'xaa.bash'}\n"
        "COMP_WORDS=(xaa token g); COMP_CWORD=2; _xaa_completion xaa\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["get"]
