"""``docs/commands.md``, generated from the command tree itself, so the reference cannot drift from the code.

    python -m xaa_cli.cli.docgen > docs/commands.md       (tests/cli/test_docs.py fails when it is stale)

Walks the click commands that Typer builds (every module in ``COMMAND_MODULES``), in ``xaa --help`` order,
and writes for each: its help, usage, arguments and options (with defaults and environment variables),
and its examples (the epilog). Rich markup in help text is rendered to plain text.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import typer.main
from rich.text import Text
from typer._click.core import Command, Context, Parameter  # typer <0.29 vendors click

HEADER = """# Command reference

Generated from the code by `python -m xaa_cli.cli.docgen > docs/commands.md`; do not edit by hand
(`tests/cli/test_docs.py` fails when this file and the commands disagree). `xaa COMMAND --help` shows
the same text in the terminal. Exit codes: [exit-codes.md](exit-codes.md).
"""


def _plain(text: str | None) -> str:
    if not text:
        return ""
    try:
        plain = Text.from_markup(text).plain
    except Exception:  # help text that is not valid markup is shown as written  # noqa: BLE001
        plain = text
    return "\n".join(line.rstrip() for line in plain.replace("\b\n", "").strip().splitlines())


def _subcommands(command: Command, ctx: Context) -> list[tuple[str, Command]]:
    if not hasattr(command, "list_commands"):
        return []
    found = ((name, command.get_command(ctx, name)) for name in command.list_commands(ctx))  # type: ignore[attr-defined]
    return [(name, sub) for name, sub in found if sub is not None and not sub.hidden]


def _walk(command: Command, ctx: Context, path: list[str]) -> Iterator[tuple[list[str], Command, Context]]:
    yield path, command, ctx
    for name, sub in _subcommands(command, ctx):
        yield from _walk(sub, Context(sub, info_name=name, parent=ctx), [*path, name])


def _param_row(param: Parameter, ctx: Context) -> tuple[str, str] | None:
    if getattr(param, "hidden", False) or "--help" in param.opts:
        return None  # every command has --help
    if param.param_type_name == "option":
        record = param.get_help_record(ctx)
        if record is None:
            return None
        names, help_text = record
        return names, _plain(help_text) + _default_note(param)
    return param.make_metavar(ctx), _plain(getattr(param, "help", None) or "") + _default_note(param)


def _default_note(param: Parameter) -> str:
    notes = []
    default = param.default
    if default not in (None, False, (), []) and not callable(default):
        notes.append(f"default: {getattr(default, 'value', default)}")
    if param.envvar:
        notes.append(f"env: {param.envvar}")
    return f" ({'; '.join(notes)})" if notes else ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _section(path: list[str], command: Command, ctx: Context) -> list[str]:
    title = " ".join(path)
    lines = [f"{'#' * min(len(path) + 1, 4)} `{title}`", ""]
    summary = _plain(command.help)
    if summary:
        lines += [summary, ""]
    pieces = " ".join(command.collect_usage_pieces(ctx))
    lines += ["```", f"{title} {pieces}".rstrip(), "```", ""]
    rows = [row for param in command.get_params(ctx) if (row := _param_row(param, ctx))]
    if rows:
        lines += ["| argument / option | meaning |", "| --- | --- |"]
        lines += [f"| `{_cell(name)}` | {_cell(text)} |" for name, text in rows]
        lines.append("")
    epilog = _plain(command.epilog)
    if epilog:
        lines += ["```text", epilog, "```", ""]
    subs = _subcommands(command, ctx)
    if subs:
        lines += ["Commands: " + ", ".join(f"[`{name}`](#{_anchor([*path, name])})" for name, _ in subs), ""]
    return lines


def render() -> str:
    from xaa_cli.cli.app import app

    root = typer.main.get_command(app)
    lines = [HEADER]
    for path, command, ctx in _walk(root, Context(root, info_name="xaa"), ["xaa"]):
        lines += _section(path, command, ctx)
    return "\n".join(lines).rstrip("\n") + "\n"


def _anchor(path: list[str]) -> str:
    """GitHub's heading anchor for `` `xaa token get` ``."""
    return "-".join(path).lower()


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
