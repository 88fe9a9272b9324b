"""The lazily loading root group: every command is found, each by importing only its own module."""

from __future__ import annotations

import typer
from typer.main import get_command
from typer.testing import CliRunner

from xaa_cli.cli.app import COMMAND_MODULES, app


def _fresh_group() -> tuple[typer.core.TyperGroup, typer.Context]:
    group = get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    return group, typer.Context(group)


def test_help_lists_every_command_in_module_order() -> None:
    group, ctx = _fresh_group()
    names = group.list_commands(ctx)
    assert {"profile", "app", "config", "key", "audit"} <= set(names)
    order = group.__dict__["_xaa_order"]
    assert [order[n] for n in names] == sorted(order[n] for n in names)


def test_each_command_loads_only_its_own_module() -> None:
    group, ctx = _fresh_group()
    names = group.list_commands(ctx)
    for name in names:
        fresh, fresh_ctx = _fresh_group()
        assert fresh.get_command(fresh_ctx, name) is not None, name
        loaded = fresh.__dict__["_xaa_loaded"]
        assert len(loaded) == 1, f"`xaa {name}` imports every command module: add it to MODULE_FOR_COMMAND"
        assert loaded <= set(COMMAND_MODULES)


def test_unknown_command_still_suggests(runner: CliRunner) -> None:
    result = runner.invoke(app, ["confg", "show"])
    assert result.exit_code == 2
    assert "Did you mean 'config'?" in result.stderr


def test_every_subcommand_help_works(runner: CliRunner) -> None:
    group, ctx = _fresh_group()
    for name in group.list_commands(ctx):
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.stderr)
        assert "Usage: xaa" in result.stdout
