"""``xaa login`` / ``xaa logout`` / ``xaa status``: the sign-in at the IdP that every token starts from.

``xaa login`` runs authorization code + PKCE through the system browser and a loopback redirect (RFC 8252),
or the device flow (RFC 8628) with ``--device``, or takes an ID token the user already holds
(``--subject-token-file``). The ID token is validated before it is stored; ID and refresh tokens go to
the secret store, never to the config file or the terminal.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from xaa_cli.cli.context import AppContext, get_ctx
from xaa_cli.cli.inputs import stdin_is_tty

ProfileOpt = Annotated[str | None, typer.Option("--profile", "-p", help="Profile to sign in with.")]
# logout and status act on a profile rather than sign in with it: same option, accurate words.
UseProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", "-p", help="Profile to use (default: the default profile)."),
]
StatusOutputOpt = Annotated[str | None, typer.Option("--output", "-o", help="Output format: table | json.")]
DeviceOpt = Annotated[
    bool, typer.Option("--device", help="Sign in with a code on another device (RFC 8628).")
]
NoBrowserOpt = Annotated[
    bool,
    typer.Option("--no-browser", help="Print the sign-in URL on stderr instead of opening a browser."),
]
SubjectTokenFileOpt = Annotated[
    str | None,
    typer.Option(
        "--subject-token-file", help="Use an ID token you already hold from this IdP ('-' = stdin)."
    ),
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", min=0.1, help="Seconds to wait for the browser sign-in.")
]
MaxAgeOpt = Annotated[
    int | None,
    typer.Option("--max-age", min=0, help="Ask the IdP for a sign-in at most this old (step-up)."),
]
AcrValuesOpt = Annotated[
    str | None,
    typer.Option("--acr-values", help="Ask the IdP for this authentication context (step-up)."),
]
MAX_SUBJECT_TOKEN_BYTES = 64 * 1024


def login(
    ctx: typer.Context,
    device: DeviceOpt = False,
    no_browser: NoBrowserOpt = False,
    subject_token_file: SubjectTokenFileOpt = None,
    timeout: TimeoutOpt = 300.0,
    max_age: MaxAgeOpt = None,
    acr_values: AcrValuesOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Sign in at the profile's IdP (OIDC) and keep the ID and refresh tokens in the secret store.

    Examples: `xaa login`, `xaa login --device` (no browser here), `xaa login -p work --no-browser`.
    """
    from xaa_cli.cli import flow

    actx = get_ctx(ctx)
    prof = actx.profile(profile)
    metadata = flow.idp_metadata(actx, prof)
    idp = flow.idp_endpoint(actx, prof, metadata)
    if subject_token_file is not None:
        result = _from_file(actx, subject_token_file, metadata, prof.client_id)
        method = "subject_token_file"
    elif device:
        from xaa_cli.core.login import device_login

        result = device_login(
            actx.http(), idp, metadata, scopes=prof.login_scopes, announce=actx.info, clock=actx.clock,
            sleep=actx.sleep or _sleep,
        )  # fmt: skip
        method = "device_code"
    else:
        from xaa_cli.core.login import browser_login

        result = browser_login(
            actx.http(), idp, metadata, scopes=prof.login_scopes, announce=actx.info, clock=actx.clock,
            open_browser=flow.browser_opener(actx, no_browser), timeout=timeout, max_age=max_age,
            acr_values=acr_values,
        )  # fmt: skip
        method = "authorization_code"
    flow.store_login(actx, prof, result)
    claims = result.claims
    actx.audit().record(
        "login", profile=prof.name, issuer=prof.issuer, client_id=prof.client_id, method=method,
        subject=claims.get("sub"),
    )  # fmt: skip
    who = claims.get("email") or claims.get("preferred_username") or claims.get("sub")
    renew = (
        "" if result.refresh_token else " (no refresh token: you will need to sign in again when it expires)"
    )
    actx.info(f"Signed in to {prof.issuer} as {who} (profile {prof.name}){renew}.")


def _sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


def _from_file(actx: AppContext, path: str, metadata: Any, client_id: str) -> Any:
    from xaa_cli.core.oidc import LoginResult, validate_id_token
    from xaa_cli.errors import UsageError

    if path == "-" and stdin_is_tty():
        raise UsageError("'-' reads the ID token from stdin, but stdin is a terminal", hint="pipe it in")
    try:
        raw = sys.stdin.read(MAX_SUBJECT_TOKEN_BYTES + 1) if path == "-" else _read(path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    if len(raw) > MAX_SUBJECT_TOKEN_BYTES:
        raise UsageError("the subject token is larger than 64 KiB")
    token = raw.strip()
    if not token:
        raise UsageError("the subject token file is empty")
    claims = validate_id_token(actx.http(), token, metadata, client_id=client_id, clock=actx.clock)
    return LoginResult(token, None, claims)


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read(MAX_SUBJECT_TOKEN_BYTES + 1)


def logout(ctx: typer.Context, profile: UseProfileOpt = None) -> None:
    """Forget the sign-in: revoke the refresh token at the IdP (RFC 7009) and delete the stored tokens.

    Examples: `xaa logout`, `xaa logout -p work`.
    """
    from xaa_cli.storage.secrets import secret_key

    actx = get_ctx(ctx)
    prof = actx.profile(profile)
    store = actx.secret_store()
    refresh = store.get(secret_key(prof.name, "refresh_token"))
    revoked = _revoke(actx, prof, refresh) if refresh else None
    removed = sum(store.delete(secret_key(prof.name, name)) for name in ("id_token", "refresh_token"))
    dropped = actx.token_cache().clear(lambda t: t.profile == prof.name)
    actx.audit().record(
        "logout", profile=prof.name, issuer=prof.issuer, client_id=prof.client_id,
        outcome="ok" if revoked is not False else "revocation_failed",
    )  # fmt: skip
    if not removed:
        actx.info(f"Profile {prof.name} was not signed in.")
        return
    note = {True: "refresh token revoked at the IdP", False: "the IdP did not confirm revocation", None: ""}[
        revoked
    ]
    actx.info(
        f"Signed out of {prof.issuer}; {dropped} cached token(s) dropped" + (f"; {note}." if note else ".")
    )


def _revoke(actx: AppContext, prof: Any, refresh: str) -> bool | None:
    """True when the IdP confirmed (RFC 7009: 200 even for unknown tokens), None when it cannot revoke."""
    from xaa_cli.cli import flow
    from xaa_cli.core.revocation import revocation_endpoint, revoke_token
    from xaa_cli.errors import XaaError

    try:
        metadata = flow.idp_metadata(actx, prof)
        if not metadata.endpoint("revocation_endpoint"):
            return None
        base = flow.idp_endpoint(actx, prof, metadata)
        endpoint = revocation_endpoint(metadata, base.credentials, "the IdP")
        revoke_token(actx.http(), endpoint, refresh, hint="refresh_token", clock=actx.clock)
    except XaaError as exc:
        actx.warn(f"could not revoke the refresh token: {exc.message}")
        return False
    return True


def status(ctx: typer.Context, profile: UseProfileOpt = None, output: StatusOutputOpt = None) -> None:
    """Show the profile, IdP, signed-in subject, token expiries and the secret store in use.

    Examples: `xaa status`, `xaa status -p work -o json`.
    """
    from xaa_cli.cli import render

    actx = get_ctx(ctx)
    mode = actx.output_mode(output, ("table", "json"), "table")
    info = _status(actx, profile)
    if mode == "json":
        render.emit_json(info)
        return
    rows = [(k.replace("_", " "), _show(v)) for k, v in info.items()]
    render.table(actx.out, ("", "value"), rows)


def _status(actx: AppContext, profile: str | None) -> dict[str, Any]:
    from xaa_cli.core.jose import decode_unverified
    from xaa_cli.errors import TokenError
    from xaa_cli.storage.secrets import secret_key

    prof = actx.profile(profile)
    store = actx.secret_store()
    id_token = store.get(secret_key(prof.name, "id_token"))
    claims: dict[str, Any] = {}
    if id_token:
        try:
            claims = decode_unverified(id_token).claims
        except TokenError:
            claims = {}
    exp = claims.get("exp") if isinstance(claims.get("exp"), int | float) else None
    now = actx.clock.now()
    refresh = store.get(secret_key(prof.name, "refresh_token")) is not None
    return {
        "profile": prof.name,
        "issuer": prof.issuer,
        "client_id": prof.client_id,
        "client_auth": prof.client_auth,
        "signed_in": bool(id_token) and ((exp is not None and exp > now) or refresh),
        "subject": claims.get("sub"),
        "email": claims.get("email"),
        "id_token_expires_at": int(exp) if exp is not None else None,
        "id_token_expires_in": int(exp - now) if exp is not None else None,
        "refresh_token": refresh,
        "secret_store": {"kind": store.kind, "location": store.location},
        "cached_tokens": [
            {"app": t.alias, "scope": t.scope, "expires_in": max(0, int(t.expires_at - now))}
            for t in actx.token_cache().entries()
            if t.profile == prof.name
        ],
    }


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(f"{t['app']} ({t['scope']}, {t['expires_in']} s)" for t in value) or "0"
    if isinstance(value, dict):
        return ", ".join(f"{v}" for v in value.values())
    if value is None:
        return "-"
    return str(value).lower() if isinstance(value, bool) else str(value)


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("status")(status)
