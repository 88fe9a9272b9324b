"""Nothing in the README (or the migration playbook) is out of date with the code: every `xaa ...` shown
names real commands and real options (checked against the click command tree), and the README's two
first commands are the ones CI runs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import typer.main
from typer._click.core import Context

from xaa_cli.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"```(sh|console|bash)\n(.*?)```", re.S)
SUBSTITUTION = re.compile(r"\$\(([^()]*)\)")


def _command_lines(text: str = README) -> list[str]:
    lines = []
    for kind, body in BLOCK.findall(text):
        joined = body.replace("\\\n", " ")
        for line in joined.splitlines():
            if kind == "console":
                if not line.startswith("$ "):
                    continue  # output, not a command
                line = line[2:]
            lines.append(line)
    return lines


def _invocations(line: str) -> list[list[str]]:
    """Every `xaa ...` in a shell line, as words, including those inside $(...)."""
    found = [inner for sub in SUBSTITUTION.findall(line) for inner in _invocations(sub)]
    lexer = shlex.shlex(SUBSTITUTION.sub("SUBST", line), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words: list[str] = []
    for token in [*lexer, ";"]:
        if token and set(token) <= set("();<>|&"):
            if words and words[0] == "xaa":
                found.append(words)
            words = []
            continue
        words.append(token)
    return found


def _check(words: list[str]) -> None:
    root = typer.main.get_command(app)
    ctx = Context(root, info_name="xaa")
    command: Any = root
    global_opts = {opt: p for p in root.params for opt in p.opts}
    rest = words[1:]
    while rest:
        word = rest.pop(0)
        if word == "--":
            break  # xaa run -- CMD ...: the rest belongs to CMD
        if word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            params = {opt: p for p in command.params for opt in p.opts}
            param = params.get(name) or global_opts.get(name)
            assert param is not None, f"{' '.join(words)}: no option {name} on `{ctx.command_path}`"
            if not param.is_flag and "=" not in word and rest:
                rest.pop(0)  # the option's value
            continue
        if hasattr(command, "list_commands"):
            sub = command.get_command(ctx, word)
            assert sub is not None, f"{' '.join(words)}: no command {word!r} under `{ctx.command_path}`"
            command, ctx = sub, Context(sub, info_name=word, parent=ctx)
    assert not hasattr(command, "list_commands"), f"{' '.join(words)}: `{ctx.command_path}` needs a command"


def test_every_xaa_command_in_the_readme_exists() -> None:
    invocations = [words for line in _command_lines() for words in _invocations(line)]
    assert len(invocations) >= 15  # the tour is there
    for words in invocations:
        _check(words)


def test_every_xaa_command_in_the_playbook_exists() -> None:
    text = (ROOT / "docs" / "migration-playbook.md").read_text(encoding="utf-8")
    invocations = [words for line in _command_lines(text) for words in _invocations(line)]
    assert any(words[:2] == ["xaa", "run"] for words in invocations)
    for words in invocations:
        _check(words)


def test_the_checker_catches_stale_commands_and_options() -> None:
    for stale in (["xaa", "token", "fetch"], ["xaa", "token", "get", "--audience", "x"], ["xaa", "token"]):
        try:
            _check(stale)
        except AssertionError:
            continue
        raise AssertionError(f"{stale} was not caught")


def test_the_readme_opens_with_the_install_and_test_commands_ci_runs() -> None:
    first_block = BLOCK.search(README)
    assert first_block is not None
    body = first_block.group(2)
    assert "pip install -e '.[test]'" in body
    assert "xaa demo" in body
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = "python -m pytest -q"
    assert test_command in body
    assert test_command in ci
    assert "pip install --quiet -e '.[test]'" in ci
