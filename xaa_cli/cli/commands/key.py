"""``xaa key generate|show``: the asymmetric client key for ``private_key_jwt`` (RFC 7523 §2.2).

The private JWK goes to the secret store and is never printed; stdout gets the public JWKS to register.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from xaa_cli.cli import render
from xaa_cli.cli.context import AppContext, get_ctx
from xaa_cli.errors import ConfigError, UsageError
from xaa_cli.storage.config import app_for

if TYPE_CHECKING:
    from xaa_cli.storage.config import Profile

KEY_ALGS = ("ES256", "ES384", "RS256", "PS256", "Ed25519")  # mirrors core.keys.KEY_ALGS (checked by a test)

key_app = typer.Typer(
    name="key", help="Manage the client key used for private_key_jwt authentication.", no_args_is_help=True
)

ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", "-p", help="The profile (default: the global --profile or default)."),
]
AppOpt = Annotated[
    str | None, typer.Option("--app", help="A key for this app only (default: the profile's key).")
]
JwkOpt = Annotated[bool, typer.Option("--jwk", help="Print the bare public JWK instead of a JWKS.")]


def _target(actx: AppContext, profile: str | None, app: str | None) -> tuple[Profile, str, str]:
    """(profile, store key, what to call it) for the key of ``profile`` or of its ``app``."""
    from xaa_cli.storage.secrets import secret_key

    prof = actx.profile(profile)
    if app is None:
        return prof, secret_key(prof.name, "private_key"), f"profile {prof.name!r}"
    app_for(prof, app)  # ConfigError naming the known apps
    return prof, secret_key(prof.name, "private_key", app=app), f"app {app!r} of profile {prof.name!r}"


def _public_output(private: dict[str, Any], bare: bool) -> Any:
    from xaa_cli.core.keys import jwks_document, public_jwk

    public = dict(sorted(public_jwk(private).items()))  # stable member order, same as `key show`
    return public if bare else jwks_document(public)


@key_app.command("generate")
def generate(
    ctx: typer.Context,
    profile: ProfileOpt = None,
    app: AppOpt = None,
    alg: Annotated[str, typer.Option("--alg", help="Key algorithm: " + " | ".join(KEY_ALGS) + ".")] = "ES256",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing key.")] = False,
    bare: JwkOpt = False,
) -> None:
    """Create a client key, keep the private half in the secret store and print the public JWKS.

    Examples: `xaa key generate > jwks.json`, `xaa key generate --app trello --alg RS256`.
    """
    from xaa_cli.core.keys import dumps_jwk, generate_private_jwk, loads_jwk

    actx = get_ctx(ctx)
    if alg not in KEY_ALGS:
        raise UsageError(f"unsupported key algorithm {alg!r}", hint=f"use one of {', '.join(KEY_ALGS)}")
    prof, key, what = _target(actx, profile, app)
    store = actx.secret_store()
    existing = store.get(key)
    if existing is not None and not force:
        kid = loads_jwk(existing).get("kid", "?")
        raise UsageError(
            f"{what} already has a client key (kid {kid})",
            hint="pass --force to replace it; the IdP rejects the old key's assertions once you register the "
            "new one, and the new one until you do",
        )
    private = generate_private_jwk(alg)
    store.set(key, dumps_jwk(private))
    render.emit_json(_public_output(private, bare))
    auth = app_for(prof, app).client_auth if app else prof.client_auth
    issuer = app_for(prof, app).issuer if app else prof.issuer
    actx.info(f"stored the private key (kid {private['kid']}) of {what} in the {store.kind} secret store")
    actx.info(f"register the public key above for the client at {issuer}")
    if auth != "private_key_jwt":
        actx.warn(f"{what} authenticates with {auth}; the key is used only with private_key_jwt")


@key_app.command("show")
def show(ctx: typer.Context, profile: ProfileOpt = None, app: AppOpt = None, bare: JwkOpt = False) -> None:
    """Print the public JWKS of the stored client key (the private key is never shown).

    Examples: `xaa key show`, `xaa key show --app trello --jwk`.
    """
    from xaa_cli.core.keys import loads_jwk

    actx = get_ctx(ctx)
    prof, key, what = _target(actx, profile, app)
    store = actx.secret_store()
    stored = store.get(key)
    if stored is None and app is not None:
        _, key, _ = _target(actx, prof.name, None)
        stored = store.get(key)
        if stored is not None:
            actx.info(f"app {app!r} has no key of its own; this is the profile's key, which it uses")
    if stored is None:
        target = f" --app {app}" if app else ""
        raise ConfigError(
            f"{what} has no client key",
            hint=f"create one with `xaa key generate --profile {prof.name}{target}`",
        )
    render.emit_json(_public_output(loads_jwk(stored), bare))


def register(app: typer.Typer) -> None:
    app.add_typer(key_app)
