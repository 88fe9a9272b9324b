"""The root ``xaa`` command: global options, command registration and the single error boundary."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from xaa_cli import __version__
from xaa_cli.cli import render
from xaa_cli.cli.context import AppContext, get_ctx
from xaa_cli.cli.exit_codes import ExitCode, exit_code_for
from xaa_cli.errors import XaaError

# Command modules, in help order. Each exposes ``register(app: typer.Typer) -> None``.
COMMAND_MODULES = (
    "login",
    "token",
    "run",
    "inspect",
    "scan",
    "revoke",
    "audit",
    "profile",
    "app_cmd",
    "config_cmd",
    "key",
    "dev",
    "demo",
    "completion",
)


class XaaGroup(TyperGroup):
    """Maps every exception escaping a command to one clear message and a documented exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:
            if type(exc).__module__.startswith(("click", "typer._click")):
                raise
            raise typer.Exit(report(exc, ctx.obj)) from None
        except KeyboardInterrupt:
            sys.stderr.write("\ninterrupted\n")
            raise typer.Exit(ExitCode.INTERRUPTED) from None


def _as_xaa_error(exc: BaseException) -> BaseException:
    """Foreign failures that have a clear meaning for users (an httpx transport error is a network
    problem, exit 4), so a command that forgot to wrap one still does not report an internal error."""
    if isinstance(exc, Exception) and "httpx" in sys.modules:
        from xaa_cli.core.http import network_error

        return network_error(exc) or exc
    return exc


def report(exc: BaseException, app_ctx: object) -> int:
    original, exc = exc, _as_xaa_error(exc)
    code = exit_code_for(exc)
    actx = app_ctx if isinstance(app_ctx, AppContext) else AppContext()
    debug = actx.debug or bool(os.environ.get("XAA_DEBUG"))
    if debug:
        traceback.print_exception(original, file=sys.stderr)
    if isinstance(exc, XaaError):
        message, hint, name = exc.message, exc.hint, exc.code
    else:
        message = f"[{type(exc).__name__}] {exc}"
        hint = None if debug else "this is a bug in xaa; rerun with --debug and report it"
        name = "internal"
    render.print_error(message, hint, as_json=actx.output == "json", code=name, exit_code=code)
    return int(code)


app = typer.Typer(
    name="xaa",
    cls=XaaGroup,
    help="Cross-App Access from the command line: short-lived, scoped tokens brokered by your "
    "identity provider (ID-JAG), instead of static API keys.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"xaa {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Output format: table | json | raw (each command lists what it supports).",
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", envvar="XAA_PROFILE", help="Profile to use."),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Trace HTTP on stderr (tokens and secrets redacted)."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", envvar="XAA_DEBUG", help="Show tracebacks on errors.")
    ] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="Disable colour (also NO_COLOR).")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Cross-App Access from the command line."""
    # Tests (and `xaa demo`) may pass a prepared AppContext (e.g. with a FixedClock) as ``obj``.
    actx = ctx.obj if isinstance(ctx.obj, AppContext) else AppContext()
    actx.output = output
    actx.verbose = verbose
    actx.debug = debug
    actx.color = render.color_enabled(no_color)
    actx.profile_name = profile
    ctx.obj = actx
    ctx.call_on_close(actx.close)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        module_name = f"xaa_cli.cli.commands.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # not built yet
            raise
        module.register(app)


_register_all()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    app(args=argv, prog_name="xaa")


__all__ = ["app", "get_ctx", "main"]
