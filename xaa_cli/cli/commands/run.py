"""``xaa run --aud ALIAS [--scope S]… [--env NAME] -- CMD ARGS…``: run a program with a fresh access token in
its environment instead of a static API key in a ``.env`` file. The child's exit status is passed through.
"""

from __future__ import annotations

import os
import re
from typing import Annotated

import typer

from xaa_cli.cli.context import get_ctx

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def run(
    ctx: typer.Context,
    command: Annotated[list[str], typer.Argument(metavar="-- CMD [ARGS]...", help="The program to run.")],
    aud: Annotated[
        str | None, typer.Option("--aud", help="App alias or its authorization-server issuer.")
    ] = None,
    scope: Annotated[
        list[str] | None, typer.Option("--scope", "-s", help="Scope to request (repeatable).")
    ] = None,
    resource: Annotated[str | None, typer.Option("--resource", help="Resource (API) URL.")] = None,
    env: Annotated[
        str, typer.Option("--env", help="Environment variable for the token.")
    ] = "XAA_ACCESS_TOKEN",
    profile: Annotated[str | None, typer.Option("--profile", "-p", help="Profile (IdP) to use.")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Ignore the token cache.")] = False,
) -> None:
    """Get a token and run CMD with it in the environment; exits with CMD's status.

    Examples: `xaa run --aud trello --scope board:read -- ./sync.sh`,
    `xaa run --aud trello --env TRELLO_TOKEN -- python sync.py`.
    """
    import subprocess

    from xaa_cli.cli import flow
    from xaa_cli.errors import UsageError

    actx = get_ctx(ctx)
    if not _ENV_NAME.match(env):
        raise UsageError(f"{env!r} is not a valid environment variable name")
    if not command:
        raise UsageError("give the command to run after --", hint="xaa run --aud trello -- curl ...")
    prof = actx.profile(profile)
    target = flow.resolve_target(actx, prof, aud, resource)
    entry, _ = flow.get_token(actx, prof, target, flow.default_scopes(target, scope or []), fresh=fresh)
    child_env = {**os.environ, env: entry.access_token}
    actx.close()  # the child may run for long; do not hold connections open meanwhile
    try:
        completed = subprocess.run(command, env=child_env, check=False)
    except FileNotFoundError:
        raise UsageError(f"command not found: {command[0]}") from None
    except PermissionError:
        raise UsageError(f"cannot execute {command[0]}: permission denied") from None
    # The child's status is the product here, so it is passed through as is (not an xaa ExitCode).
    raise typer.Exit(completed.returncode if completed.returncode >= 0 else 128 - completed.returncode)


def register(app: typer.Typer) -> None:
    app.command(
        "run",
        context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
    )(run)
