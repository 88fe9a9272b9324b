"""The root ``xaa`` command: global options, command registration and the single error boundary."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup
from typer.main import get_group

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


# Commands whose name is not their module's name. Anything missing here is still found: an unknown name
# makes the group import every module before it answers "no such command".
MODULE_FOR_COMMAND = {"logout": "login", "status": "login", "app": "app_cmd", "config": "config_cmd"}


class XaaGroup(TyperGroup):
    """Loads command modules lazily, and maps every exception escaping a command to one clear message and
    a documented exit code.

    Lazy loading keeps `xaa --version` and `xaa config show` from importing every command (and what they
    import): only the module of the command being run is imported; `--help` and completion load them all.
    """

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            module = MODULE_FOR_COMMAND.get(cmd_name, cmd_name)
            self._load(module if module in COMMAND_MODULES else None)
        if cmd_name not in self.commands:
            self._load(None)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: Any) -> list[str]:
        self._load(None)
        order = self.__dict__.setdefault("_xaa_order", {})
        return sorted(super().list_commands(ctx), key=lambda name: order.get(name, -1))

    def _load(self, module_name: str | None) -> None:
        """Register the commands of one module (``None``: of every module) on this group, once."""
        loaded: set[str] = self.__dict__.setdefault("_xaa_loaded", set())
        order: dict[str, int] = self.__dict__.setdefault("_xaa_order", {})
        for index, name in enumerate(COMMAND_MODULES):
            if name in loaded or module_name not in (None, name):
                continue
            loaded.add(name)
            for cmd_name, command in _commands_of(name).items():
                self.add_command(command, cmd_name)
                order[cmd_name] = index

    def _main_shell_completion(self, ctx_args: Any, prog_name: str, complete_var: str | None = None) -> None:
        # add_completion=False keeps --install-completion out of every help page, but it also skips
        # registering typer's shell classes; the scripts in completions/ (`xaa completion SHELL`) speak
        # the _XAA_COMPLETE protocol, so register them when, and only when, a shell asks.
        if os.environ.get(complete_var or "_XAA_COMPLETE"):
            from typer._completion_classes import completion_init

            completion_init()
        super()._main_shell_completion(ctx_args, prog_name, complete_var)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except BrokenPipeError:
            raise  # the reader left (`xaa ... | head`): click's main exits 1 quietly, as on every other path
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
        import traceback  # lazy: ~5 ms (linecache, tokenize) that only --debug needs

        traceback.print_exception(original, file=sys.stderr)
    if isinstance(exc, XaaError):
        message, hint, name = exc.message, exc.hint, exc.code
    else:
        message = f"[{type(exc).__name__}] {exc}"
        hint = None if debug else "this is a bug in xaa; rerun with --debug and report it"
        name = "internal"
    as_json = "json" in (actx.output, actx.resolved_output)
    render.print_error(message, hint, as_json=as_json, code=name, exit_code=code)
    return int(code)


ROOT_EPILOG = """[bold]Start here[/bold]

  [cyan]xaa demo[/cyan]                                        the whole flow, narrated, in a few seconds
  [cyan]xaa dev serve[/cyan]                                   a reference IdP and apps on 127.0.0.1:8765
  [cyan]xaa login[/cyan]                                       sign in at the profile's IdP
  [cyan]xaa token get --aud trello --scope board:write[/cyan]  a short-lived token on stdout
  [cyan]xaa run --aud trello -- python report.py[/cyan]        a program gets a token, not a static key
  [cyan]xaa scan .[/cyan]                                      the static secrets to replace

Every command has --help with its options; docs/index.md maps the documentation.
"""

app = typer.Typer(
    name="xaa",
    cls=XaaGroup,
    help="Cross-App Access from the command line: short-lived, scoped tokens brokered by your "
    "identity provider (ID-JAG), instead of static API keys.",
    epilog=ROOT_EPILOG,
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
    actx.resolved_output = None  # an injected AppContext may have run a command before
    actx.verbose = verbose
    actx.debug = debug
    actx.color = render.color_enabled(no_color)
    actx.profile_name = profile
    ctx.obj = actx
    ctx.call_on_close(actx.close)


def _commands_of(name: str) -> dict[str, Any]:
    """The click commands that ``xaa_cli.cli.commands.<name>.register`` defines ({} if not built yet)."""
    module_name = f"xaa_cli.cli.commands.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return {}  # not built yet
        raise
    # Each module registers on a scratch Typer with the root's settings; its commands then join the group.
    scratch = typer.Typer(rich_markup_mode="rich", add_completion=False)
    module.register(scratch)
    return dict(get_group(scratch).commands)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    app(args=argv, prog_name="xaa")


__all__ = ["app", "get_ctx", "main"]
