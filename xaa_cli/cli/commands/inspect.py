"""``xaa inspect TOKEN|-|@FILE``: decode, verify (only with keys the user trusts) and explain a token.

The first line of the human output always says whether the signature was verified. Exit 0 when every
requested check passes (decoding alone passes, with the NOT VERIFIED notice), 1 when a check fails, 6 when
the input is not a token.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xaa_cli.cli.context import AppContext, get_ctx
from xaa_cli.cli.inputs import parse_duration, stdin_is_tty
from xaa_cli.errors import CheckFailed, TokenFormatError, UsageError

if TYPE_CHECKING:
    from xaa_cli.core.inspect import ParsedToken, Report, TrustedKeys
    from xaa_cli.storage.config import App, Profile

MAX_INPUT_BYTES = 64 * 1024  # the same cap as xaa_cli.core.jose.MAX_TOKEN_BYTES
InspectOutputOpt = Annotated[str | None, typer.Option("--output", "-o", help="Output format: table | json.")]


def register(app: typer.Typer) -> None:
    app.command("inspect", help=inspect_cmd.__doc__)(inspect_cmd)


def inspect_cmd(
    ctx: typer.Context,
    token: Annotated[
        str,
        typer.Argument(
            help="The token, '-' to read stdin, or @FILE.", metavar="TOKEN|-|@FILE", show_default=False
        ),
    ],
    jwks: Annotated[
        str | None, typer.Option("--jwks", help="Trust the keys in this JWKS (https URL or file).")
    ] = None,
    issuer: Annotated[
        str | None,
        typer.Option(
            "--issuer", help="Trust this issuer: discover its jwks_uri; the token's iss must equal it."
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", help="Trust the IdP of this profile (or, with --aud ALIAS, that app's AS)."
        ),
    ] = None,
    aud: Annotated[
        str | None,
        typer.Option("--aud", help="Expected audience; with --profile, an app alias of that profile."),
    ] = None,
    leeway: Annotated[
        str, typer.Option("--leeway", help="Clock skew allowed for exp/nbf/iat (seconds or 30s, 2m).")
    ] = "60",
    max_lifetime: Annotated[
        str | None,
        typer.Option("--max-lifetime", help="Fail if exp - iat is longer (ID-JAG default: 10m)."),
    ] = None,
    introspect: Annotated[
        bool,
        typer.Option("--introspect", help="Ask the app's AS (RFC 7662); needs --profile P --aud ALIAS."),
    ] = False,
    show_secrets: Annotated[
        bool,
        typer.Option("--show-secrets", help="Show claims that look like secrets instead of hiding them."),
    ] = False,
    output: InspectOutputOpt = None,
) -> None:
    """Decode, verify and explain a token (ID-JAG, access token, ID token, ...).

    Examples: `xaa token get --aud trello | xaa inspect -`,
    `xaa inspect @token.jwt --issuer https://idp.example.com`,
    `xaa inspect "$TOKEN" --profile work --aud trello -o json`.
    """
    from xaa_cli.core.inspect import Options, inspect_report, parse_token

    actx = get_ctx(ctx)
    mode = actx.output_mode(output, ("table", "json"), "table")
    if jwks and profile:
        raise UsageError("give either --jwks or --profile as the trust source, not both")
    # Every local mistake is reported before anything touches the network.
    leeway_s = seconds(leeway, "--leeway")
    bound = seconds(max_lifetime, "--max-lifetime") if max_lifetime else None
    target = _introspection_target(actx, profile, aud) if introspect else None
    parsed = parse_token(read_token(token))
    plan = trust_plan(
        actx, parsed, jwks=jwks, issuer=issuer, profile_name=profile, aud=aud, introspect=introspect
    )
    options = Options(
        leeway=leeway_s,
        max_lifetime=bound,
        expected_aud=plan.expected_aud,
        enforced=bool(jwks or issuer or profile or aud or max_lifetime or introspect),
        show_secrets=show_secrets,
    )
    now = actx.clock.now()
    report = inspect_report(parsed, now=now, trust=plan.trust, options=options)
    if target is not None:
        run_introspection(actx, report, parsed.text, *target, now)
    from xaa_cli.cli.commands import _inspect_render as view

    if mode == "json":
        from xaa_cli.cli.render import emit_json

        emit_json(report.as_json())
    else:
        view.print_report(actx.out, report, parsed.text)
    if not report.passed:
        names = ", ".join(dict.fromkeys(c.name for c in report.failed))
        raise CheckFailed(
            f"{len(report.failed)} check(s) failed: {names}",
            hint="each ✗ row above says why" if mode == "table" else "see the checks in the JSON output",
        )


# ------------------------------------------------------------------ input


def read_token(arg: str) -> str:
    """The token text from the argument, stdin (``-``) or a file (``@FILE``), capped at 64 KiB."""
    if arg == "-":
        if stdin_is_tty():
            raise UsageError(
                "'-' reads the token from stdin, but stdin is a terminal", hint="pipe the token in"
            )
        return _capped(sys.stdin.read(MAX_INPUT_BYTES + 1), "stdin")
    if arg.startswith("@") and len(arg) > 1:
        path = Path(arg[1:]).expanduser()
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_INPUT_BYTES + 1)
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        try:
            return _capped(data.decode("utf-8"), str(path))
        except UnicodeDecodeError:
            raise TokenFormatError(f"{path} is not text, so it holds no token") from None
    return _capped(arg, "the argument")


def _capped(text: str, where: str) -> str:
    if len(text.encode("utf-8", "replace")) > MAX_INPUT_BYTES:
        raise TokenFormatError(
            f"the input from {where} is larger than {MAX_INPUT_BYTES // 1024} KiB; no token is that big",
            hint="pass only the token, not a whole log or response",
        )
    return text


def seconds(text: str, option: str) -> float:
    stripped = text.strip()
    try:
        value = float(stripped) if stripped.replace(".", "", 1).isdigit() else parse_duration(stripped)
    except UsageError as exc:
        raise UsageError(f"{option}: {exc.message}", hint=exc.hint) from None
    return value


# ------------------------------------------------------------------ trust


@dataclass(frozen=True, slots=True)
class TrustPlan:
    """The keys to trust and the audience to expect, resolved from the options (and the token's iss)."""

    trust: TrustedKeys | None = None
    expected_aud: str | None = None


def trust_plan(
    actx: AppContext,
    parsed: ParsedToken,
    *,
    jwks: str | None,
    issuer: str | None,
    profile_name: str | None,
    aud: str | None,
    introspect: bool = False,
) -> TrustPlan:
    from xaa_cli.core.inspect import trust

    if jwks:
        if jwks.startswith(("https://", "http://")):
            return TrustPlan(trust.keys_from_url(actx.http(), jwks, issuer), aud)
        return TrustPlan(trust.keys_from_file(Path(jwks).expanduser(), issuer), aud)
    if issuer:
        return TrustPlan(trust.keys_from_issuer(actx.http(), issuer), aud)
    if profile_name:
        return _profile_plan(actx, parsed, profile_name, aud, introspect)
    return TrustPlan(None, aud)


def _profile_plan(
    actx: AppContext, parsed: ParsedToken, profile_name: str, aud: str | None, introspect: bool
) -> TrustPlan:
    """Trust the profile's IdP, or the app's AS when ``aud`` names an app and the token comes from it."""
    from xaa_cli.core.inspect import TokenKind, trust
    from xaa_cli.core.inspect.kinds import recognise

    prof = actx.profile(profile_name)
    app = prof.apps.get(aud) if aud else None
    if parsed.jws is None:
        # Opaque or encrypted: nothing to verify locally. With --introspect the server vouches instead;
        # without it, an empty key set makes the signature row fail and say why.
        empty = None if introspect else trust.TrustedKeys((), f"profile {prof.name}")
        return TrustPlan(empty, None)
    token_iss = parsed.claims.get("iss")
    trusted = [prof.issuer] + ([app.issuer] if app else [])
    chosen: str = token_iss if isinstance(token_iss, str) and token_iss in trusted else trusted[-1]
    kind, _ = recognise(parsed.header, parsed.claims)
    if app is None:
        expected = aud if aud else (prof.client_id if kind is TokenKind.ID_TOKEN else None)
    elif chosen == app.issuer:
        expected = app.resource  # an access token from the app's AS is for its resource
    else:  # from the IdP: an ID-JAG is for the app's AS, an ID token for this client
        expected = prof.client_id if kind is TokenKind.ID_TOKEN else app.issuer
    return TrustPlan(trust.keys_from_issuer(actx.http(), chosen), expected)


# ------------------------------------------------------------------ introspection


def run_introspection(
    actx: AppContext, report: Report, token: str, prof: Profile, app: App, now: float
) -> None:
    from xaa_cli.cli.flow import Target, app_endpoint, metadata_cache
    from xaa_cli.core.discovery import fetch_server_metadata
    from xaa_cli.core.inspect import introspect
    from xaa_cli.errors import ProtocolError

    metadata = fetch_server_metadata(actx.http(), app.issuer, cache=metadata_cache(actx))
    endpoint = metadata.endpoint("introspection_endpoint")
    if endpoint is None:
        raise ProtocolError(f"the authorization server {app.issuer} offers no introspection_endpoint")
    # The same credentials `xaa token get` uses at this app (secret store names per the team contract).
    creds = app_endpoint(actx, prof, Target(app, app.resource), metadata).credentials
    answer = introspect.introspect(actx.http(), endpoint, token, creds, issuer=app.issuer, clock=actx.clock)
    report.introspection = introspect.scrubbed(answer)
    report.checks.append(introspect.introspection_check(answer, now))


def _introspection_target(actx: AppContext, profile: str | None, aud: str | None) -> tuple[Profile, App]:
    from xaa_cli.storage.config import app_for

    if not (profile and aud):
        raise UsageError("--introspect needs --profile P and --aud ALIAS (the app whose server to ask)")
    prof = actx.profile(profile)
    return prof, app_for(prof, aud)
