"""``xaa app add ALIAS --discover URL``: discovery, the report on stderr and the entry on stdout.

Choices (docs/configuration.md, "Adding an app from its metadata"):
- the issuer, the resource and ``id_jag`` come from the metadata; the token endpoint is read again from the
  issuer's metadata at every ``token get`` (cached an hour), so it is shown but not stored;
- the scopes offered are shown, never made the defaults: a default of "everything the app offers" would give
  write access to every script that runs ``xaa token get --aud ALIAS``. ``--scope`` sets the defaults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xaa_cli.errors import UsageError

if TYPE_CHECKING:
    from xaa_cli.cli.context import AppContext
    from xaa_cli.core.app_discovery import AppDiscovery
    from xaa_cli.storage.config import App, Profile


def discover(actx: AppContext, url: str, *, issuer: str | None) -> AppDiscovery:
    from xaa_cli.core.app_discovery import discover_app

    actx.info(f"discovering {url} ...")
    return discover_app(actx.http(), url, issuer=issuer)


def resource_for(found: AppDiscovery, given: str | None) -> str | None:
    """The resource the metadata names; ``--resource`` only when discovery started at the issuer."""
    if found.resource is None or given is None or given == found.resource:
        return found.resource or given
    raise UsageError(
        f"--resource {given} contradicts the discovered resource {found.resource}",
        hint="drop --resource: the resource metadata names the API",
    )


def report(actx: AppContext, found: AppDiscovery, app: App) -> None:
    """What was discovered, and what it means for this entry (stderr)."""
    from xaa_cli.core.constants import ID_JAG_GRANT_PROFILE

    metadata = found.metadata
    if found.protected_resource is not None:
        actx.info(f"protected resource: {found.protected_resource.resource}")
        actx.info(f"  metadata from {found.protected_resource.source}")
    actx.info(f"authorization server: {metadata.issuer}")
    actx.info(f"  token endpoint: {metadata.token_endpoint}")
    if metadata.supports_id_jag:
        actx.info(f"  ID-JAG: supported ({ID_JAG_GRANT_PROFILE})")
    else:
        hint = (
            " (authorization code + PKCE at the app)" if metadata.endpoint("authorization_endpoint") else ""
        )
        actx.info(f"  ID-JAG: not supported; `xaa token get --aud {app.alias} --interactive` signs in{hint}")
    offered = found.scopes_offered
    actx.info(f"  scopes offered: {' '.join(offered) if offered else '(not listed)'}")
    _advise(actx, found, app)


def _advise(actx: AppContext, found: AppDiscovery, app: App) -> None:
    offered = found.scopes_offered
    if not app.scopes and offered:
        actx.info("no default scopes stored: pass --scope (or `token get --scope`) to ask for some")
    unknown = [s for s in app.scopes if offered and s not in offered]
    if unknown:  # a warning, not a refusal: metadata may list only some scopes (RFC 8414 §2)
        actx.warn(f"the metadata does not list the scope(s) {', '.join(unknown)}")
    methods = found.metadata.strings("token_endpoint_auth_methods_supported")
    if methods and app.client_auth not in methods:
        actx.warn(
            f"{found.issuer} does not list {app.client_auth} among its client authentication methods "
            f"({', '.join(methods)}); pass --client-auth with one of them"
        )
    if app.resource is None:
        actx.info("no resource: tokens will not name an API; pass --resource URL if the app needs one")


def entry_mode(actx: AppContext, output: str | None) -> str:
    return actx.output_mode(output, ("toml", "json"), "toml")


def print_entry(profile: Profile, app: App, row: dict[str, Any], mode: str) -> None:
    """The stored entry on stdout: TOML as in the config file, or ``-o json`` (the `app list` row)."""
    from xaa_cli.cli import render

    if mode == "json":
        render.emit_json(row)
        return
    import tomli_w

    from xaa_cli.storage.config import Config, config_to_toml, with_app

    one = Config(profiles={profile.name: with_app(_bare(profile), app)})
    table = config_to_toml(one)["profiles"][profile.name]["apps"]
    render.write_stdout(tomli_w.dumps({"profiles": {profile.name: {"apps": table}}}))


def _bare(profile: Profile) -> Profile:
    from dataclasses import replace

    return replace(profile, apps={})
