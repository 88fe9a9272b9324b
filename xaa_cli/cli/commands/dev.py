"""``xaa dev serve | policy | audit``: the reference IdP + per-app authorization servers and APIs.

``serve`` writes a ready-to-use ``dev`` profile and the client's credentials into the secret store (unless
``--no-profile``), so ``xaa login`` then ``xaa token get --aud trello`` work with no more set-up. The server
layer never touches the secret store: this module reads/creates credentials and passes hashes and public
keys in. Heavy imports (starlette, uvicorn, joserfc) happen inside the commands.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from xaa_cli.cli.context import AppContext, get_ctx
from xaa_cli.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from xaa_cli.server.credentials import ClientKit
    from xaa_cli.server.policy import Policy
    from xaa_cli.storage.config import Profile
    from xaa_cli.storage.secrets import SecretStore

PROFILE = "dev"
MAX_POLICY_BYTES = 1024 * 1024

dev_app = typer.Typer(name="dev", help="Run the reference IdP and app servers locally.", no_args_is_help=True)


# ---------------------------------------------------------------- credentials and profile (shared with tests)


def load_or_create_kits(
    store: SecretStore | None, policy: Policy, profile: str = PROFILE, *, persist: bool = True
) -> dict[str, ClientKit]:
    """The client credentials from the secret store, creating any that are missing (stored if ``persist``).

    ``persist=False`` (``--no-profile``) reuses stored credentials but writes nothing.
    """
    from xaa_cli.core.keys import dumps_jwk, generate_private_jwk, loads_jwk
    from xaa_cli.server.credentials import ClientKit, new_secret
    from xaa_cli.storage.secrets import secret_key

    def get_or_make(key: str, make: Any) -> str:
        value = store.get(key) if store is not None else None
        if value is None:
            value = make()
            if store is not None and persist:
                store.set(key, value)
        return str(value)

    kits: dict[str, ClientKit] = {}
    for spec in (c for c in policy.clients.values() if c.confidential):
        # One client per dev profile: the first client in the policy is the profile's own.
        name = profile if not kits else f"{profile}-{spec.client_id}"
        secret = get_or_make(secret_key(name, "client_secret"), new_secret)
        private = get_or_make(
            secret_key(name, "private_key"), lambda: dumps_jwk(generate_private_jwk("ES256"))
        )
        apps = {
            app: get_or_make(secret_key(name, "client_secret", app=app), new_secret)
            for app in spec.app_client_ids
        }
        kits[spec.client_id] = ClientKit(spec.client_id, secret, loads_jwk(private), apps)
    return kits


def load_or_create_admin_token(store: SecretStore | None, profile: str = PROFILE) -> str:
    from xaa_cli.server.credentials import new_secret
    from xaa_cli.storage.secrets import secret_key

    key = secret_key(profile, "admin_token")
    token = store.get(key) if store is not None else None
    if token is None:
        token = new_secret()
        if store is not None:
            store.set(key, token)
    return token


def dev_profile(base_url: str, policy: Policy, kit: ClientKit, profile: str = PROFILE) -> Profile:
    """The ``dev`` profile for a server at ``base_url``: IdP + every app as an alias."""
    from xaa_cli.storage.config import App, Profile

    base = base_url.rstrip("/")
    spec = policy.clients[kit.client_id]
    apps = {
        name: App(
            alias=name,
            issuer=f"{base}/apps/{name}",
            client_id=app_client_id,
            client_auth="client_secret_basic",
            resource=f"{base}/apps/{name}/api",
            scopes=policy.apps[name].scopes,
            id_jag=policy.apps[name].id_jag,
        )
        for name, app_client_id in spec.app_client_ids.items()
    }
    return Profile(
        name=profile, issuer=f"{base}/idp", client_id=kit.client_id, client_auth="private_key_jwt", apps=apps
    )


def provision_dev_profile(
    actx: AppContext, base_url: str, policy: Policy, kits: Mapping[str, ClientKit], *, profile: str = PROFILE
) -> Profile:
    """Write the ``dev`` profile into the config and the client's credentials into the secret store,
    making it the default profile when none is set. ``xaa dev serve`` and the test helper both call this."""
    from dataclasses import replace

    from xaa_cli.core.keys import dumps_jwk
    from xaa_cli.storage.secrets import secret_key

    kit = next(iter(kits.values()))
    store = actx.secret_store()
    store.set(secret_key(profile, "client_secret"), kit.secret)
    store.set(secret_key(profile, "private_key"), dumps_jwk(kit.private_jwk))
    for app, secret in kit.app_secrets.items():
        store.set(secret_key(profile, "client_secret", app=app), secret)
    made = dev_profile(base_url, policy, kit, profile)
    config = actx.config().with_profile(made)
    if config.default_profile is None:
        config = replace(config, default_profile=profile)
    actx.save_config(config)
    return made


def load_policy(path: Path | None) -> Policy:
    import tomllib

    from xaa_cli.server.policy import DEFAULT_POLICY, policy_from_dict

    if path is None:
        return DEFAULT_POLICY
    try:
        data = path.read_bytes()
        if len(data) > MAX_POLICY_BYTES:
            raise ConfigError(f"{path} is larger than 1 MiB")
        return policy_from_dict(tomllib.loads(data.decode("utf-8")), str(path))
    except OSError as exc:
        raise ConfigError(f"cannot read the policy file {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot parse the policy file {path}: {exc}") from None


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url_for(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


# ---------------------------------------------------------------- commands


def _announce(
    actx: AppContext, base: str, policy: Policy, profile_written: bool, data_dir: Path | None
) -> None:
    lines = [
        f"xaa dev serve: listening on {base}",
        f"  IdP issuer      {base}/idp",
        f"  IdP metadata    {base}/.well-known/oauth-authorization-server/idp",
    ]
    for name in policy.apps:
        lines.append(f"  app {name:<11} {base}/apps/{name}   (API {base}/apps/{name}/api)")
    lines.append(f"  state           {data_dir if data_dir else 'in memory'}")
    if profile_written:
        lines += [
            "",
            f"Profile {PROFILE!r} written. Next:",
            "  xaa login",
            "  xaa token get --aud trello --scope board:write",
        ]
    sys.stderr.write("\n".join(lines) + "\n")


@dev_app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (loopback only by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0 = any free port).")] = 8765,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Policy TOML (see `xaa dev policy`).")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where the SQLite state lives.")] = None,
    auto_approve: Annotated[
        str | None, typer.Option("--auto-approve", help="Approve every sign-in as this user, without a page.")
    ] = None,
    no_profile: Annotated[bool, typer.Option("--no-profile", help="Do not write the dev profile.")] = False,
    allow_remote: Annotated[
        bool, typer.Option("--allow-non-loopback", help="Allow binding a non-loopback address (plain http!).")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Server processes sharing the state, each on a socket of its own (2 fits a 2-core box).",
        ),
    ] = 1,
) -> None:
    """Serve the reference IdP, every app's authorization server and sample API (plain http on loopback).

    Examples: `xaa dev serve`, `xaa dev serve --port 0 --auto-approve alice@example.com`,
    `xaa dev serve --policy policy.toml --data-dir .xaa-dev`.
    """
    actx = get_ctx(ctx)
    if not is_loopback_host(host) and not allow_remote:
        raise UsageError(
            f"{host} is not a loopback address; the dev server speaks plain http",
            hint="bind 127.0.0.1, or pass --allow-non-loopback if you really mean it",
        )
    policy = load_policy(policy_file)
    if auto_approve is not None and auto_approve not in policy.users:
        raise UsageError(
            f"--auto-approve names unknown user {auto_approve!r}", hint=f"users: {', '.join(policy.users)}"
        )
    from xaa_cli.storage import paths

    data = data_dir or paths.server_data_dir()
    store = actx.secret_store()
    kits = load_or_create_kits(store, policy, persist=not no_profile)
    admin_token = load_or_create_admin_token(store)
    sock = _bind(host, port, reuse_port=workers > 1)
    base = base_url_for(host, sock.getsockname()[1])
    if not no_profile:
        provision_dev_profile(actx, base, policy, kits)
    _announce(actx, base, policy, not no_profile, data)
    from xaa_cli.server.runner import run_server, settings_for

    settings = settings_for(base, policy, kits, admin_token, data_dir=data, auto_approve=auto_approve)
    run_server(settings, sock, workers=workers)


def _bind(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    from xaa_cli.server.runner import listening_socket
    from xaa_cli.server.workers import reuse_port_supported

    try:
        return listening_socket(host, port, reuse_port=reuse_port and reuse_port_supported())
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror}", hint="pick another --port (0 = any free port)"
        ) from None


@dev_app.command("policy")
def policy_cmd(ctx: typer.Context) -> None:
    """Print the built-in policy as TOML (start a custom --policy file from it).

    Examples: `xaa dev policy > policy.toml`, then `xaa dev serve --policy policy.toml`.
    """
    import tomli_w

    from xaa_cli.cli.render import write_stdout
    from xaa_cli.server.policy import DEFAULT_POLICY, policy_to_dict

    write_stdout(tomli_w.dumps(policy_to_dict(DEFAULT_POLICY)))


AuditOutputOpt = Annotated[str | None, typer.Option("--output", "-o", help="Output format: table | json.")]


@dev_app.command("audit")
def audit_cmd(
    ctx: typer.Context,
    output: AuditOutputOpt = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="The server's state directory.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many recent entries.")] = 200,
) -> None:
    """Show the dev IdP's audit trail: every issuance and denial, with the policy rule that decided.

    Examples: `xaa dev audit`, `xaa dev audit --limit 20 -o json`, `xaa dev audit --data-dir .xaa-dev`.
    """
    from xaa_cli.cli import render
    from xaa_cli.server.audit import FIELDS, read_audit
    from xaa_cli.server.store import DB_NAME, Store
    from xaa_cli.storage import paths

    actx = get_ctx(ctx)
    mode = actx.output_mode(output, ("table", "json"), "table")
    data = data_dir or paths.server_data_dir()
    if not (data / DB_NAME).exists():
        raise ConfigError(f"no dev server state in {data}", hint="start `xaa dev serve` (or pass --data-dir)")
    store = Store(data)
    try:
        entries = read_audit(store, limit=max(1, limit))
    finally:
        store.close()
    if mode == "json":
        render.emit_json(entries)
        return
    from datetime import UTC, datetime

    rows = [
        [
            datetime.fromtimestamp(e["time"], UTC).strftime("%Y-%m-%d %H:%M:%S")
            if c == "time"
            else str(e.get(c) or "")
            for c in FIELDS
            if c != "detail"
        ]
        for e in entries
    ]
    render.table(actx.out, [c for c in FIELDS if c != "detail"], rows)


def register(app: typer.Typer) -> None:
    app.add_typer(dev_app)
