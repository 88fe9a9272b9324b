"""``xaa profile add|list|use|remove``: the IdPs this client is registered at.

Client secrets come from stdin or a hidden prompt, never argv, and go to the secret store, never the TOML.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from xaa_cli.cli import render
from xaa_cli.cli.context import AppContext, get_ctx
from xaa_cli.cli.inputs import (
    SECRET_METHODS,
    ClientSecretStdinOpt,
    ClientSecretTrapOpt,
    check_client_id,
    check_issuer,
    obtain_secret,
    refuse_secret_on_argv,
    stdin_is_tty,
)
from xaa_cli.errors import ConfigError, SecretStoreUnavailable, UsageError
from xaa_cli.storage.config import CLIENT_AUTH_METHODS, Profile, validate_name

if TYPE_CHECKING:
    from xaa_cli.storage.config import ClientAuth
    from xaa_cli.storage.secrets import SecretStore

# Every secret a profile can own in the store (see the brief's key-name contract).
# "refresh_token_unrevoked": a refresh token `xaa logout` could not revoke yet (commands/_revoke_ops.py).
PROFILE_SECRETS = (
    "client_secret",
    "private_key",
    "id_token",
    "refresh_token",
    "refresh_token_unrevoked",
    "admin_token",
)
REFRESH_SECRETS = ("refresh_token", "refresh_token_unrevoked")
APP_SECRETS = ("client_secret", "private_key")

profile_app = typer.Typer(
    name="profile",
    help="Manage profiles: one identity provider (IdP) and this client's registration there.",
    no_args_is_help=True,
)

ClientAuthOpt = Annotated[
    str,
    typer.Option(
        "--client-auth",
        help="How the client authenticates: " + " | ".join(CLIENT_AUTH_METHODS) + ".",
        case_sensitive=False,
    ),
]


def check_client_auth(value: str) -> ClientAuth:
    method = value.strip().lower()
    if method not in CLIENT_AUTH_METHODS:
        raise UsageError(
            f"unknown client authentication {value!r}", hint=f"use one of {', '.join(CLIENT_AUTH_METHODS)}"
        )
    return method  # type: ignore[return-value]  # checked against the Literal's values above


def profile_secret_keys(profile: Profile) -> list[str]:
    """Store keys of every secret that belongs to ``profile``, its apps included."""
    from xaa_cli.storage.secrets import secret_key

    keys = [secret_key(profile.name, name) for name in PROFILE_SECRETS]
    for alias in profile.apps:
        keys += [secret_key(profile.name, name, app=alias) for name in APP_SECRETS]
    return keys


@profile_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Profile name, e.g. acme or dev.")],
    issuer: Annotated[
        str, typer.Option("--issuer", help="The IdP's issuer URL (https, or http to loopback).")
    ],
    client_id: Annotated[str, typer.Option("--client-id", help="This client's id at the IdP.")],
    client_auth: ClientAuthOpt = "private_key_jwt",
    client_secret_stdin: ClientSecretStdinOpt = False,
    make_default: Annotated[bool, typer.Option("--default", help="Make this the default profile.")] = False,
    replace_existing: Annotated[
        bool,
        typer.Option("--replace", help="Update an existing profile (its apps and stored secrets are kept)."),
    ] = False,
    client_secret: ClientSecretTrapOpt = None,
) -> None:
    """Add a profile. A client secret (client_secret_basic/post) is read from stdin or a hidden prompt.

    Examples: `xaa profile add work --issuer https://idp.example.com --client-id xaa-cli --default`,
    `xaa profile add dev --issuer http://127.0.0.1:8765 --client-id xaa-cli --client-auth none`.
    """
    from xaa_cli.storage.secrets import secret_key

    refuse_secret_on_argv(client_secret)
    actx = get_ctx(ctx)
    validate_name("profile", name)
    method = check_client_auth(client_auth)
    check_issuer(issuer)
    check_client_id(client_id)
    config = actx.config()
    old = config.profiles.get(name)
    if old is not None and not replace_existing:
        raise ConfigError(
            f"a profile named {name!r} already exists",
            hint="pass --replace to update it, or `xaa profile remove` it first",
        )
    key = secret_key(name, "client_secret")
    needs_secret = method in SECRET_METHODS
    have_stored = needs_secret and old is not None and actx.secret_store().get(key) is not None
    secret = obtain_secret(
        "client secret", from_stdin=client_secret_stdin, needed=needs_secret, have_stored=have_stored
    )
    # The issuer is kept byte for byte: metadata must echo it exactly (RFC 8414 §3.3), trailing "/" included.
    profile = Profile(name=name, issuer=issuer, client_id=client_id, client_auth=method)
    if old is not None:
        profile = replace(old, issuer=issuer, client_id=client_id, client_auth=method)
    if secret is not None:
        actx.secret_store().set(key, secret)  # first: a store failure must leave the config untouched
    elif old is not None and not needs_secret and old.client_auth in SECRET_METHODS:
        drop_unused_secret(actx, key)
    config = config.with_profile(profile)
    if make_default or (not config.default_profile and len(config.profiles) == 1):
        config = replace(config, default_profile=name)
    actx.save_config(config)
    _report_added(actx, profile, secret is not None, is_default=config.default_profile == name)


def drop_unused_secret(actx: AppContext, key: str) -> None:
    """After a switch away from a client secret, the stored one would only be a liability."""
    if actx.secret_store().delete(key):
        actx.info("deleted the stored client secret, which the new client authentication does not use")


def _report_added(actx: AppContext, profile: Profile, stored_secret: bool, *, is_default: bool) -> None:
    suffix = " (default)" if is_default else ""
    actx.info(f"saved profile {profile.name!r}{suffix}: {profile.issuer}, client {profile.client_id}")
    if stored_secret:
        actx.info(f"stored the client secret in the {actx.secret_store().kind} secret store")
    if profile.client_auth == "private_key_jwt":
        actx.info(
            f"next: `xaa key generate --profile {profile.name}` and register the printed JWKS at the IdP"
        )


ListOutputOpt = Annotated[str | None, typer.Option("--output", "-o", help="Output format: table | json.")]


@profile_app.command("list")
def list_profiles(ctx: typer.Context, output: ListOutputOpt = None) -> None:
    """List profiles (-o table | json); the default one is marked.

    Examples: `xaa profile list`, `xaa profile list -o json`.
    """
    actx = get_ctx(ctx)
    mode = actx.output_mode(output, ("table", "json"), "table")
    config = actx.config()
    # With no default_profile, a single profile is the one every command uses: mark it too.
    implicit = config.default_profile is None and len(config.profiles) == 1
    rows = [_profile_row(p, implicit or p.name == config.default_profile) for p in config.profiles.values()]
    if mode == "json":
        render.emit_json(rows)
        return
    if not rows:
        actx.info("no profiles yet; add one with `xaa profile add NAME --issuer URL --client-id ID`")
        return
    render.table(
        actx.out,
        ("", "NAME", "ISSUER", "CLIENT ID", "CLIENT AUTH", "APPS"),
        (
            ("*" if r["default"] else "", r["name"], r["issuer"], r["client_id"], r["client_auth"], _apps(r))
            for r in rows
        ),
    )


def _apps(row: dict[str, Any]) -> str:
    return ", ".join(row["apps"]) or "-"


def _profile_row(profile: Profile, is_default: bool) -> dict[str, Any]:
    return {
        "name": profile.name,
        "default": is_default,
        "issuer": profile.issuer,
        "client_id": profile.client_id,
        "client_auth": profile.client_auth,
        "apps": sorted(profile.apps),
    }


@profile_app.command("use")
def use(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The profile to make default.")]
) -> None:
    """Make NAME the default profile.

    Examples: `xaa profile use work`.
    """
    actx = get_ctx(ctx)
    config = actx.config()
    config.profile(name)  # ConfigError naming the known profiles
    actx.save_config(replace(config, default_profile=name))
    actx.info(f"default profile: {name}")


@profile_app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The profile to remove.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    keep_secrets: Annotated[
        bool, typer.Option("--keep-secrets", help="Leave its secrets in the store (remove only the config).")
    ] = False,
) -> None:
    """Remove a profile, its apps, its stored secrets and its cached tokens.

    Examples: `xaa profile remove old`, `xaa profile remove old --yes --keep-secrets`.
    """
    actx = get_ctx(ctx)
    config = actx.config()
    profile = config.profile(name)
    if not yes and stdin_is_tty():
        typer.confirm(
            f"Remove profile {name!r}, its {len(profile.apps)} app(s) and its secrets?", abort=True, err=True
        )
    deleted, refresh_deleted = 0, False
    if not keep_secrets:
        from xaa_cli.storage.secrets import secret_key

        store = _store_or_explain(actx)  # fails before anything is changed when the store is unusable
        refresh_deleted = any(store.get(secret_key(name, n)) is not None for n in REFRESH_SECRETS)
        deleted = sum(store.delete(key) for key in profile_secret_keys(profile))
    actx.save_config(config.without_profile(name))
    dropped = actx.token_cache().clear(lambda t: t.profile == name)
    actx.info(f"removed profile {name!r} ({deleted} stored secret(s), {dropped} cached token(s))")
    if config.default_profile == name and config.without_profile(name).profiles:
        actx.warn("it was the default profile; pick another with `xaa profile use NAME`")
    if refresh_deleted:
        actx.warn(
            "a refresh token was deleted here but not revoked at the IdP, where it stays valid until it "
            f"expires; next time run `xaa logout --profile {name}` first"
        )


def _store_or_explain(actx: AppContext) -> SecretStore:
    try:
        return actx.secret_store()
    except SecretStoreUnavailable as exc:
        raise SecretStoreUnavailable(
            f"{exc.message}; nothing was removed",
            hint=f"{exc.hint}; or pass --keep-secrets to remove only the configuration",
        ) from exc


def register(app: typer.Typer) -> None:
    app.add_typer(profile_app)
