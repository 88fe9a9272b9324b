"""``xaa token get|id-jag|exchange|list|clear``: short-lived, scoped tokens through the IdP (ID-JAG).

``get`` runs both hops (or answers from the cache with no network call); ``id-jag`` and ``exchange`` run
one hop each, for people learning or debugging an integration. ``--show-steps`` narrates every hop on stderr
with tokens redacted. stdout carries only the product.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from xaa_cli.cli.context import AppContext, get_ctx
from xaa_cli.cli.inputs import stdin_is_tty

if TYPE_CHECKING:
    from xaa_cli.cli.flow import Target
    from xaa_cli.core.idjag import FlowResult, IdJag
    from xaa_cli.core.token_endpoint import StepEvent
    from xaa_cli.storage.audit import AuditLog
    from xaa_cli.storage.token_cache import CachedToken

token_app = typer.Typer(
    name="token", help="Get, inspect and manage short-lived access tokens.", no_args_is_help=True
)

AudOpt = Annotated[
    str | None, typer.Option("--aud", help="App alias or its authorization-server issuer URL.")
]
ScopeOpt = Annotated[list[str] | None, typer.Option("--scope", "-s", help="Scope to request (repeatable).")]
ResourceOpt = Annotated[
    str | None, typer.Option("--resource", help="Resource (API) URL; alone, discovers the app (RFC 9728).")
]
ProfileOpt = Annotated[str | None, typer.Option("--profile", "-p", help="Profile (IdP) to use.")]
TokenOutputOpt = Annotated[
    str | None, typer.Option("--output", "-o", help="Output format: raw (default) | json | header | env.")
]
IdJagOutputOpt = Annotated[
    str | None,
    typer.Option("--output", "-o", help="Output format: raw (default) | json (the decoded claims)."),
]
ListOutputOpt = Annotated[str | None, typer.Option("--output", "-o", help="Output format: table | json.")]
FreshOpt = Annotated[bool, typer.Option("--fresh", help="Ignore the cache and run the whole flow.")]
StepsOpt = Annotated[bool, typer.Option("--show-steps", help="Narrate each hop on stderr (tokens redacted).")]
MAX_ID_JAG_BYTES = 64 * 1024


class StepPrinter:
    """The ``--show-steps`` narrator: endpoint, grant, parameters (redacted), status, scope, lifetime."""

    def __init__(self, actx: AppContext) -> None:
        self.actx = actx
        self.count = 0

    def __call__(self, event: StepEvent) -> None:
        self.count += 1
        body = event.body
        lines = [
            f"step {self.count}: {event.hop}",
            f"  POST {event.url}",
            f"  grant_type: {event.grant_type}",
            f"  parameters: {event.params}",
            f"  answer: HTTP {event.status}",
        ]
        if "error" in body:
            lines.append(f"  error: {body.get('error')} {body.get('error_description') or ''}".rstrip())
        for name in ("issued_token_type", "token_type", "scope", "expires_in"):
            if name in body:
                lines.append(f"  {name}: {body[name]}")
        sys.stderr.write("\n".join(lines) + "\n")


def _observer(actx: AppContext, show: bool) -> StepPrinter | None:
    return StepPrinter(actx) if show else None


def _emit_token(actx: AppContext, entry: CachedToken, mode: str, cached: bool) -> None:
    from xaa_cli.cli import render

    token = entry.access_token
    if mode == "raw":
        render.write_stdout(token + "\n")
    elif mode == "header":
        render.write_stdout(f"Authorization: {_scheme(entry.token_type)} {token}\n")
    elif mode == "env":
        render.write_stdout(f"export XAA_ACCESS_TOKEN={shlex.quote(token)}\n")
    else:
        now = actx.clock.now()
        render.emit_json(
            {
                "access_token": token,
                "token_type": entry.token_type,
                "expires_at": int(entry.expires_at),
                "expires_in": max(0, int(entry.expires_at - now)),
                "scope": entry.scope,
                "audience": entry.audience,
                "resource": entry.resource,
                "id_jag_jti": entry.id_jag_jti,
            }
        )
    if cached and actx.verbose:
        actx.info(f"from the cache (expires in {int(entry.expires_at - actx.clock.now())} s)")


def _scheme(token_type: str) -> str:
    return "Bearer" if token_type.lower() == "bearer" else token_type


@token_app.command("get")
def get(
    ctx: typer.Context,
    aud: AudOpt = None,
    scope: ScopeOpt = None,
    resource: ResourceOpt = None,
    profile: ProfileOpt = None,
    fresh: FreshOpt = False,
    show_steps: StepsOpt = False,
    interactive: Annotated[
        bool,
        typer.Option("--interactive", help="If the app does not accept ID-JAGs, sign in at the app itself."),
    ] = False,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="With --interactive: print the sign-in URL instead.")
    ] = False,
    output: TokenOutputOpt = None,
) -> None:
    """Get an access token for an app: ID token → ID-JAG at the IdP → access token at the app.

    Examples: `xaa token get --aud trello --scope board:write`,
    `curl -H "$(xaa token get --aud trello -o header)" https://api.trello.example/boards`,
    `eval "$(xaa token get --aud trello -o env)"`.
    """
    from xaa_cli.cli import flow

    actx = get_ctx(ctx)
    mode = actx.output_mode(output, ("raw", "json", "header", "env"), "raw")
    prof = actx.profile(profile)
    target = flow.resolve_target(actx, prof, aud, resource)
    scopes = flow.default_scopes(target, scope or [])
    entry, result = flow.get_token(
        actx, prof, target, scopes, fresh=fresh, observer=_observer(actx, show_steps),
        interactive=interactive, no_browser=no_browser,
    )  # fmt: skip
    if result is not None:
        _report_flow(actx, result)
    _emit_token(actx, entry, mode, cached=result is None)


def _report_flow(actx: AppContext, result: FlowResult) -> None:
    if result.narrowed:
        actx.warn("granted fewer scopes than requested: " + ", ".join(result.narrowed))
    if result.retried:
        actx.info("the app refused the first ID-JAG (invalid_grant); a fresh one was accepted")


@contextmanager
def _audit_failure(audit: AuditLog, event: str, fields: Mapping[str, Any]) -> Iterator[None]:
    """Record a failed single hop before the error propagates: refusals belong in the trail too."""
    try:
        yield
    except Exception as exc:
        audit.record(event, outcome="error", error=getattr(exc, "error", type(exc).__name__), **fields)
        raise


@token_app.command("id-jag")
def id_jag(
    ctx: typer.Context,
    aud: AudOpt = None,
    scope: ScopeOpt = None,
    resource: ResourceOpt = None,
    profile: ProfileOpt = None,
    show_steps: StepsOpt = False,
    output: IdJagOutputOpt = None,
) -> None:
    """Hop 1 only: exchange the ID token for an ID-JAG at the IdP and print it (-o json: decoded claims).

    Examples: `xaa token id-jag --aud trello --scope board:write`, `xaa token id-jag --aud trello -o json`.
    """
    from xaa_cli.cli import flow, render
    from xaa_cli.core.idjag import exchange_for_id_jag

    actx = get_ctx(ctx)
    mode = actx.output_mode(output, ("raw", "json"), "raw")
    prof = actx.profile(profile)
    target = flow.resolve_target(actx, prof, aud, resource)
    scopes = flow.default_scopes(target, scope or [])
    subject = flow.subject_token(actx, prof)
    idp = flow.idp_endpoint(actx, prof, flow.idp_metadata(actx, prof))
    audit = actx.audit()
    common = {
        "profile": prof.name,
        "issuer": prof.issuer,
        "audience": target.audience,
        "client_id": prof.client_id,
    }
    with _audit_failure(audit, "token_exchange", common):
        jag = exchange_for_id_jag(
            actx.http(), idp, subject_token=subject, audience=target.audience, resource=target.resource,
            scope=" ".join(scopes) or None, target=target.app.alias, clock=actx.clock,
            observer=_observer(actx, show_steps),
        )  # fmt: skip
    from xaa_cli.core.redact import fingerprint

    audit.record(
        "token_exchange", scope=jag.scope, jti=jag.jti, token_fingerprint=fingerprint(jag.token, 16), **common
    )
    if mode == "raw":
        render.write_stdout(jag.token + "\n")
        return
    render.emit_json(_id_jag_json(jag, target))


def _id_jag_json(jag: IdJag, target: Target) -> dict[str, Any]:
    """``token id-jag -o json``: the decoded ID-JAG, marked unverified (we are not its audience)."""
    from xaa_cli.core.jose import decode_unverified
    from xaa_cli.errors import TokenFormatError

    try:
        header: dict[str, Any] | None = decode_unverified(jag.token).header
    except TokenFormatError:
        header = None
    return {
        "id_jag": jag.token,
        "expires_in": jag.expires_in,
        "scope": jag.scope,
        "audience": target.audience,
        "resource": target.resource,
        "header": header,
        "claims": dict(jag.claims) or None,
        "verified": False,
    }


@token_app.command("exchange")
def exchange(
    ctx: typer.Context,
    assertion: Annotated[
        str, typer.Argument(metavar="ID_JAG|-", help="The ID-JAG, or '-' to read it from stdin.")
    ],
    aud: AudOpt = None,
    scope: ScopeOpt = None,
    resource: ResourceOpt = None,
    profile: ProfileOpt = None,
    show_steps: StepsOpt = False,
    output: TokenOutputOpt = None,
) -> None:
    """Hop 2 only: redeem an ID-JAG at the app's authorization server (jwt-bearer) for an access token.

    Examples: `xaa token id-jag --aud trello | xaa token exchange --aud trello -`,
    `xaa token exchange --aud trello "$ID_JAG" -o json`.
    """
    from xaa_cli.cli import flow
    from xaa_cli.core.idjag import redeem_id_jag
    from xaa_cli.core.redact import fingerprint
    from xaa_cli.storage.token_cache import CachedToken

    actx = get_ctx(ctx)
    mode = actx.output_mode(output, ("raw", "json", "header", "env"), "raw")
    token = _read_assertion(assertion)
    prof = actx.profile(profile)
    target = flow.resolve_target(actx, prof, aud, resource)
    scopes = [s for item in scope or [] for s in item.split()]
    endpoint = flow.app_endpoint(actx, prof, target, flow.app_metadata(actx, target))
    audit = actx.audit()
    common: dict[str, Any] = {"profile": prof.name, "issuer": target.audience, "audience": target.resource}
    with _audit_failure(audit, "jwt_bearer", common):
        access = redeem_id_jag(
            actx.http(), endpoint, token, scope=" ".join(scopes) or None, resource=target.resource,
            clock=actx.clock, observer=_observer(actx, show_steps),
        )  # fmt: skip
    audit.record(
        "jwt_bearer", client_id=endpoint.credentials.client_id, scope=access.scope,
        token_fingerprint=fingerprint(access.access_token, 16), **common,
    )  # fmt: skip
    entry = CachedToken(
        profile=prof.name, audience=target.audience, resource=target.resource, requested_scopes=tuple(scopes),
        access_token=access.access_token, token_type=access.token_type,
        expires_at=actx.clock.now() + access.expires_in, scope=access.scope, alias=target.app.alias,
    )  # fmt: skip
    _emit_token(actx, entry, mode, cached=False)


def _read_assertion(assertion: str) -> str:
    """The ID-JAG from the argument, or from stdin for '-' (size-capped: it is untrusted input)."""
    from xaa_cli.errors import UsageError

    if assertion == "-" and stdin_is_tty():
        raise UsageError("'-' reads the ID-JAG from stdin, but stdin is a terminal", hint="pipe it in")
    token = (sys.stdin.read(MAX_ID_JAG_BYTES + 1) if assertion == "-" else assertion).strip()
    if not token or len(token) > MAX_ID_JAG_BYTES:
        raise UsageError("give the ID-JAG as an argument or on stdin with '-'")
    return token


@token_app.command("list")
def list_tokens(ctx: typer.Context, profile: ProfileOpt = None, output: ListOutputOpt = None) -> None:
    """Show cached tokens: audience, resource, scope and time left (never the token).

    Examples: `xaa token list`, `xaa token list -p work -o json`.
    """
    from xaa_cli.cli import render

    actx = get_ctx(ctx)
    mode = actx.output_mode(output, ("table", "json"), "table")
    now = actx.clock.now()
    entries = [e for e in actx.token_cache().entries() if profile is None or e.profile == profile]
    rows = [
        {
            "profile": e.profile,
            "alias": e.alias,
            "audience": e.audience,
            "resource": e.resource,
            "scope": e.scope,
            "expires_at": int(e.expires_at),
            "expires_in": max(0, int(e.expires_at - now)),
        }
        for e in entries
    ]
    if mode == "json":
        render.emit_json(rows)
        return
    if not rows:
        actx.info("No cached tokens.")
        return
    columns = ("profile", "alias", "audience", "resource", "scope", "expires in")
    render.table(
        actx.out,
        columns,
        [
            (r["profile"], r["alias"], r["audience"], r["resource"], r["scope"], f"{r['expires_in']} s")
            for r in rows
        ],
    )


@token_app.command("clear")
def clear(
    ctx: typer.Context,
    aud: Annotated[str | None, typer.Option("--aud", help="Only tokens for this alias or issuer.")] = None,
    profile: ProfileOpt = None,
) -> None:
    """Empty the token cache (or only the entries of one profile or app).

    Examples: `xaa token clear`, `xaa token clear --aud trello`.
    """
    actx = get_ctx(ctx)

    def chosen(entry: CachedToken) -> bool:
        if profile is not None and entry.profile != profile:
            return False
        return aud is None or aud in (entry.alias, entry.audience)

    removed = actx.token_cache().clear(chosen)
    actx.audit().record("token_cache_clear", profile=profile, audience=aud, removed=removed)
    actx.info(f"Removed {removed} cached token(s).")


def register(app: typer.Typer) -> None:
    app.add_typer(token_app)
