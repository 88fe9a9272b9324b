"""``xaa app add|list|remove``: the apps (resource authorization servers) reached through a profile.

``add`` is split into ``build_app`` (flags → ``App``) and ``install_app`` (secret + config), so another
source of settings (e.g. ``--discover URL``) only has to produce an ``App``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from xaa_cli.cli import render
from xaa_cli.cli.commands.profile import APP_SECRETS, ClientAuthOpt, check_client_auth, drop_unused_secret
from xaa_cli.cli.context import AppContext, get_ctx
from xaa_cli.cli.inputs import (
    SECRET_METHODS,
    ClientSecretStdinOpt,
    ClientSecretTrapOpt,
    check_client_id,
    check_issuer,
    check_resource,
    obtain_secret,
    refuse_secret_on_argv,
)
from xaa_cli.errors import ConfigError, UsageError
from xaa_cli.storage.config import App, app_for, validate_name, with_app, without_app

if TYPE_CHECKING:
    from xaa_cli.core.app_discovery import AppDiscovery
    from xaa_cli.storage.config import Profile

app_group = typer.Typer(
    name="app",
    help="Manage apps: the authorization servers of the APIs you get tokens for, per profile.",
    no_args_is_help=True,
)

ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", "-p", help="The profile (default: the global --profile or default)."),
]


IssuerOpt = Annotated[
    str | None,
    typer.Option(
        "--issuer",
        help="The app's authorization-server issuer URL (with --discover: which one, if several).",
    ),
]
DiscoverOpt = Annotated[
    str | None,
    typer.Option(
        "--discover",
        metavar="URL",
        help="Fill issuer, resource and ID-JAG support from the metadata of the app's API URL "
        "(RFC 9728) or its authorization server's issuer (RFC 8414); prints the entry.",
    ),
]
ResourceOpt = Annotated[
    str | None, typer.Option("--resource", help="Resource (API) URL the tokens are for (RFC 8707).")
]
ScopeOpt = Annotated[
    list[str] | None, typer.Option("--scope", help="Default scope; repeat or space-separate for more.")
]
ReplaceOpt = Annotated[bool, typer.Option("--replace", help="Update an existing app.")]


def normalise_scopes(values: list[str] | None) -> tuple[str, ...]:
    """``--scope a --scope "b c"`` → ``("a", "b", "c")``: order kept, duplicates dropped."""
    seen: dict[str, None] = {}
    for value in values or ():
        for scope in value.split():
            seen.setdefault(scope, None)
    return tuple(seen)


def build_app(
    alias: str,
    *,
    issuer: str,
    client_id: str,
    client_auth: str,
    resource: str | None = None,
    scopes: tuple[str, ...] = (),
    id_jag: bool | None = None,
) -> App:
    """Validate the settings of one app and return it (nothing is stored)."""
    validate_name("app", alias)
    check_issuer(issuer, what="app issuer")
    if resource is not None:
        check_resource(resource)
    check_client_id(client_id)
    return App(
        alias=alias,
        issuer=issuer,
        client_id=client_id,
        client_auth=check_client_auth(client_auth),
        resource=resource,
        scopes=scopes,
        id_jag=id_jag,
    )


def refuse_taken(profile: Profile, alias: str) -> None:
    if alias in profile.apps:
        raise ConfigError(
            f"profile {profile.name!r} already has an app {alias!r}",
            hint="pass --replace to update it, or `xaa app remove` it first",
        )


def install_app(
    actx: AppContext, profile: Profile, app: App, *, client_secret_stdin: bool, replace: bool = False
) -> None:
    """Store the app's secret (if its method needs one), then the config; refuse to clobber silently."""
    from xaa_cli.storage.secrets import secret_key

    old = profile.apps.get(app.alias)
    if not replace:
        refuse_taken(profile, app.alias)
    key = secret_key(profile.name, "client_secret", app=app.alias)
    needs = app.client_auth in SECRET_METHODS
    have_stored = needs and old is not None and actx.secret_store().get(key) is not None
    secret = obtain_secret(
        "client secret", from_stdin=client_secret_stdin, needed=needs, have_stored=have_stored
    )
    if secret is not None:
        actx.secret_store().set(key, secret)  # first: a store failure must leave the config untouched
    elif old is not None and not needs and old.client_auth in SECRET_METHODS:
        drop_unused_secret(actx, key)
    config = actx.config()
    actx.save_config(config.with_profile(with_app(profile, app)))
    actx.info(f"saved app {app.alias!r} in profile {profile.name!r}: {app.issuer}, client {app.client_id}")
    if secret is not None:
        actx.info(f"stored its client secret in the {actx.secret_store().kind} secret store")
    if app.client_auth == "private_key_jwt":
        actx.info(
            f"it signs with the profile's key unless you run `xaa key generate --profile {profile.name} "
            f"--app {app.alias}`; register the public key at {app.issuer}"
        )


AddOutputOpt = Annotated[
    str | None,
    typer.Option(
        "--output", "-o", help="Print the entry as toml | json (--discover prints toml unless told)."
    ),
]
ListOutputOpt = Annotated[str | None, typer.Option("--output", "-o", help="Output format: table | json.")]


@app_group.command("add")
def add(
    ctx: typer.Context,
    alias: Annotated[str, typer.Argument(help="Short name for the app, e.g. trello.")],
    client_id: Annotated[str, typer.Option("--client-id", help="This client's id at the app's server.")],
    issuer: IssuerOpt = None,
    discover: DiscoverOpt = None,
    client_auth: ClientAuthOpt = "client_secret_basic",
    resource: ResourceOpt = None,
    scope: ScopeOpt = None,
    client_secret_stdin: ClientSecretStdinOpt = False,
    profile: ProfileOpt = None,
    replace: ReplaceOpt = False,
    output: AddOutputOpt = None,
    client_secret: ClientSecretTrapOpt = None,
) -> None:
    """Add an app to a profile. A client secret is read from stdin or a hidden prompt, never from argv.

    With --discover URL the app's metadata supplies the issuer, resource and ID-JAG support, and the entry is
    printed (-o toml | json); the client id, client authentication and secret still come from you.

    Examples: `xaa app add trello --issuer https://auth.trello.example --client-id xaa --scope board:read`,
    `pass show jira | xaa app add jira --discover https://jira.example --client-id xaa --client-secret-stdin`.
    """
    from xaa_cli.cli import app_discover

    refuse_secret_on_argv(client_secret)
    actx = get_ctx(ctx)
    prof = actx.profile(profile)
    # Resolved first: a bad -o must fail before anything is fetched or saved.
    mode = app_discover.entry_mode(actx, output) if discover is not None or output is not None else None
    if discover is None:
        if issuer is None:
            raise UsageError("say where the app is", hint="pass --issuer URL, or --discover URL")
        app = build_app(
            alias,
            issuer=issuer,
            client_id=client_id,
            client_auth=client_auth,
            resource=resource,
            scopes=normalise_scopes(scope),
        )
        install_app(actx, prof, app, client_secret_stdin=client_secret_stdin, replace=replace)
        if mode is not None:
            app_discover.print_entry(prof, app, _app_row(prof.name, app), mode)
        return
    # Local checks first: a typo in the alias or a taken alias must not cost a round of network requests.
    validate_name("app", alias)
    check_client_id(client_id)
    check_client_auth(client_auth)
    if not replace:
        refuse_taken(prof, alias)
    found = app_discover.discover(actx, discover, issuer=issuer)
    app = _discovered_app(alias, found, client_id, client_auth, resource, normalise_scopes(scope))
    app_discover.report(actx, found, app)
    install_app(actx, prof, app, client_secret_stdin=client_secret_stdin, replace=replace)
    app_discover.print_entry(prof, app, _app_row(prof.name, app), mode or "toml")


def _discovered_app(
    alias: str,
    found: AppDiscovery,
    client_id: str,
    client_auth: str,
    resource: str | None,
    scopes: tuple[str, ...],
) -> App:
    """Issuer, resource and ID-JAG support from the metadata; the registration from the user."""
    from xaa_cli.cli.app_discover import resource_for

    return build_app(
        alias,
        issuer=found.issuer,
        client_id=client_id,
        client_auth=client_auth,
        resource=resource_for(found, resource),
        scopes=scopes,
        id_jag=found.metadata.supports_id_jag,
    )


@app_group.command("list")
def list_apps(
    ctx: typer.Context,
    profile: ProfileOpt = None,
    all_profiles: Annotated[bool, typer.Option("--all", help="Apps of every profile.")] = False,
    output: ListOutputOpt = None,
) -> None:
    """List the apps of a profile (-o table | json).

    Examples: `xaa app list`, `xaa app list --all -o json`.
    """
    actx = get_ctx(ctx)
    mode = actx.output_mode(output, ("table", "json"), "table")
    profiles = list(actx.config().profiles.values()) if all_profiles else [actx.profile(profile)]
    rows = [_app_row(p.name, a) for p in profiles for a in p.apps.values()]
    if mode == "json":
        render.emit_json(rows)
        return
    if not rows:
        actx.info("no apps yet; add one with `xaa app add ALIAS --issuer URL --client-id ID`")
        return
    render.table(
        actx.out,
        ("PROFILE", "ALIAS", "ISSUER", "CLIENT ID", "CLIENT AUTH", "RESOURCE", "SCOPES"),
        (
            (
                r["profile"],
                r["alias"],
                r["issuer"],
                r["client_id"],
                r["client_auth"],
                r["resource"] or "-",
                " ".join(r["scopes"]) or "-",
            )
            for r in rows
        ),
    )


def _app_row(profile: str, app: App) -> dict[str, Any]:
    return {
        "profile": profile,
        "alias": app.alias,
        "issuer": app.issuer,
        "client_id": app.client_id,
        "client_auth": app.client_auth,
        "resource": app.resource,
        "scopes": list(app.scopes),
        "id_jag": app.id_jag,
        "interactive": app.interactive,
    }


@app_group.command("remove")
def remove(
    ctx: typer.Context,
    alias: Annotated[str, typer.Argument(help="The app to remove.")],
    profile: ProfileOpt = None,
) -> None:
    """Remove an app, its stored secrets and its cached tokens.

    Examples: `xaa app remove trello`, `xaa app remove trello -p work`.
    """
    from xaa_cli.storage.secrets import secret_key

    actx = get_ctx(ctx)
    prof = actx.profile(profile)
    app = app_for(prof, alias)
    store = actx.secret_store()
    deleted = sum(store.delete(secret_key(prof.name, name, app=alias)) for name in APP_SECRETS)
    actx.save_config(actx.config().with_profile(without_app(prof, alias)))
    dropped = actx.token_cache().clear(
        lambda t: t.profile == prof.name and (t.alias == alias or t.audience == app.issuer)
    )
    actx.info(
        f"removed app {alias!r} from profile {prof.name!r} ({deleted} secret(s), {dropped} cached token(s))"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(app_group)
