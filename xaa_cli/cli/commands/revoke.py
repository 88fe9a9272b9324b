"""``xaa revoke``: incident response in one command (RFC 7009 + the IdP's admin API).

    xaa revoke TOKEN|-                      one token, at the server that issued it
    xaa revoke --aud ALIAS | --all          every cached token (of one app): at its server, then locally
    xaa revoke --idp                        the IdP refresh token; the ID token is forgotten
    xaa revoke --client ID --at-idp         admin: disable the client, revoke its tokens at every app
    xaa revoke --user USER                  admin: revoke every IdP refresh token of a user

The report is a table (target, endpoint, outcome, detail) or ``-o json``. Exit status: 0 when every
revocation was confirmed (repeating one is harmless: RFC 7009 answers 200 for unknown tokens); when one
was not, the report names what is still live and the exit status is 1 (``CheckFailed``) — or, when a single
token was asked for, the exit status of its error (4 unreachable, 5 refused). See docs/revoke.md.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Final

import typer

from xaa_cli.cli.context import AppContext, get_ctx
from xaa_cli.errors import UsageError

if TYPE_CHECKING:
    from xaa_cli.cli.commands._revoke_ops import Row

MAX_TOKEN_BYTES: Final = 64 * 1024
COLUMNS: Final = ("target", "endpoint", "outcome", "detail")
RevokeOutputOpt = Annotated[str | None, typer.Option("--output", "-o", help="Output format: table | json.")]


def revoke(
    ctx: typer.Context,
    token: Annotated[
        str | None,
        typer.Argument(metavar="[TOKEN|-]", help="A token to revoke, or '-' to read it from stdin."),
    ] = None,
    aud: Annotated[
        str | None,
        typer.Option("--aud", help="With TOKEN: the app that issued it. Alone: revoke its cached tokens."),
    ] = None,
    all_cached: Annotated[bool, typer.Option("--all", help="Revoke every cached token.")] = False,
    idp: Annotated[
        bool, typer.Option("--idp", help="Revoke the IdP refresh token and forget the ID token.")
    ] = False,
    client: Annotated[
        str | None, typer.Option("--client", help="Admin: the client to cut off (with --at-idp).")
    ] = None,
    at_idp: Annotated[
        bool, typer.Option("--at-idp", help="Admin: disable --client at the IdP and revoke its app tokens.")
    ] = False,
    user: Annotated[
        str | None, typer.Option("--user", help="Admin: revoke every IdP refresh token of this user.")
    ] = None,
    hint: Annotated[
        str | None,
        typer.Option("--hint", help="token_type_hint for TOKEN: access_token | refresh_token."),
    ] = None,
    profile: Annotated[str | None, typer.Option("--profile", "-p", help="Profile (IdP) to use.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be revoked; change nothing.")
    ] = False,
    driver: Annotated[
        str, typer.Option("--admin-driver", help="The IdP admin API to drive (see docs/revoke.md).")
    ] = "reference",
    output: RevokeOutputOpt = None,
) -> None:
    """Revoke tokens at the servers that issued them, and cut off clients or users at the IdP.

    Examples: `xaa revoke --aud trello`, `xaa revoke --all --dry-run`, `xaa revoke --client agent-7 --at-idp`.
    """
    actx = get_ctx(ctx)
    mode = actx.output_mode(output, ("table", "json"), "table")
    _check_flags(token, aud, all_cached, idp, client, at_idp, user, hint)
    if token is not None:
        rows = [_one_token(actx, _read_token(token), profile, aud, hint, dry_run)]
    else:
        rows = _batch(actx, profile, aud, all_cached, idp, client, user, driver, dry_run)
    _report(actx, rows, mode, dry_run)
    _fail_if_live(rows, single_token=token is not None)


def _check_flags(
    token: str | None,
    aud: str | None,
    all_cached: bool,
    idp: bool,
    client: str | None,
    at_idp: bool,
    user: str | None,
    hint: str | None,
) -> None:
    if at_idp and not client:
        raise UsageError("--at-idp needs --client CLIENT_ID")
    if token is not None and (all_cached or idp or client or user):
        raise UsageError("give either a TOKEN or --all/--idp/--client/--user, not both")
    if token is None and not (aud or all_cached or idp or client or user):
        raise UsageError(
            "say what to revoke",
            hint="xaa revoke TOKEN | --aud ALIAS | --all | --idp | --client ID --at-idp | --user USER",
        )
    if aud and all_cached:
        raise UsageError("--aud and --all cannot be combined: --all already includes every app")
    if client and not at_idp:
        raise UsageError(
            "--client needs --at-idp", hint="cutting a client off is done at the IdP: add --at-idp"
        )
    if hint is not None and token is None:
        raise UsageError("--hint applies to a TOKEN given on the command line")
    if hint is not None and hint not in ("access_token", "refresh_token"):
        raise UsageError(f"--hint {hint!r} is not access_token or refresh_token")


def _read_token(token: str) -> str:
    text = sys.stdin.read(MAX_TOKEN_BYTES + 1) if token == "-" else token  # noqa: S105  ('-' = stdin)
    if len(text) > MAX_TOKEN_BYTES:
        raise UsageError(f"the token is larger than {MAX_TOKEN_BYTES // 1024} KiB")
    text = text.strip()
    if not text or any(c.isspace() for c in text):
        raise UsageError("give one token, as an argument or on stdin with '-'")
    return text


def _one_token(
    actx: AppContext, token: str, profile: str | None, aud: str | None, hint: str | None, dry_run: bool
) -> Row:
    from xaa_cli.cli.commands import _revoke_ops as ops
    from xaa_cli.cli.commands._revoke_target import resolve_token

    target = resolve_token(actx, token, profile_name=profile, aud=aud, hint=hint)
    return ops.revoke_one(actx, token, target, dry_run=dry_run)


def _batch(
    actx: AppContext,
    profile: str | None,
    aud: str | None,
    all_cached: bool,
    idp: bool,
    client: str | None,
    user: str | None,
    driver_kind: str,
    dry_run: bool,
) -> list[Row]:
    """Admin steps first (disabling the client stops new tokens replacing revoked ones), then the cache,
    then this machine's sign-in."""
    from xaa_cli.cli.commands import _revoke_admin as admin
    from xaa_cli.cli.commands import _revoke_ops as ops

    rows: list[Row] = []
    if client or user:
        prof = actx.profile(profile)
        driver = admin.admin_driver(actx, prof, driver_kind)
        if client:
            rows += admin.cut_off_client(actx, prof, driver, client, dry_run=dry_run)
        if user:
            rows.append(admin.cut_off_user(actx, prof, driver, user, dry_run=dry_run))
    if aud or all_cached:
        entries = ops.cached_selection(actx, profile_name=profile, aud=aud)
        if not entries:
            actx.info(f"No cached tokens{f' for {aud}' if aud else ''}: nothing to revoke in the cache.")
        rows += ops.revoke_cached(actx, entries, dry_run=dry_run)
    if idp:
        prof = actx.profile(profile)
        rows += ops.revoke_login(actx, prof, dry_run=dry_run)
        left = [e for e in actx.token_cache().entries() if e.profile == prof.name and not e.revocation_failed]
        if left and not (aud or all_cached):
            actx.info(
                f"{len(left)} cached access token(s) of profile {prof.name} stay valid until they expire; "
                "add --all to revoke them too."
            )
    return rows


def _report(actx: AppContext, rows: list[Row], mode: str, dry_run: bool) -> None:
    from xaa_cli.cli import render

    live = [r.target for r in rows if not r.ok]
    if mode == "json":
        render.emit_json({"dry_run": dry_run, "results": [r.as_json() for r in rows], "still_live": live})
        return
    if rows:
        render.table(actx.out, COLUMNS, [(r.target, r.endpoint, r.outcome, r.detail) for r in rows])


def _fail_if_live(rows: list[Row], *, single_token: bool) -> None:
    from xaa_cli.errors import CheckFailed

    failures = [r for r in rows if r.error is not None]
    if not failures:
        return
    if single_token and failures[0].error is not None:
        raise failures[0].error  # one token asked for: its own exit status (4 unreachable, 5 refused, ...)
    names = "; ".join(r.target for r in failures)
    raise CheckFailed(
        f"{len(failures)} of {len(rows)} revocation(s) not confirmed; still live: {names}",
        hint="run the same command again once the server answers; failed cache entries are kept, marked, "
        "and never used again",
    )


def register(app: typer.Typer) -> None:
    app.command("revoke")(revoke)
