"""``xaa config show|path``: what xaa reads and where it keeps things.

Must stay instant: no keyring, httpx or rich import; the secret store is *described*, never opened.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from xaa_cli.cli import render
from xaa_cli.cli.context import get_ctx
from xaa_cli.storage import paths
from xaa_cli.storage.config import config_to_toml

config_app = typer.Typer(
    name="config", help="Show the configuration and where xaa keeps its files.", no_args_is_help=True
)


def describe_secret_store(configured: str | None) -> dict[str, str]:
    """Which store would be used and why, without touching the keyring (which can take 100 ms or hang)."""
    from xaa_cli.storage.secrets import choose_store_kind

    kind = choose_store_kind(configured)
    if os.environ.get("XAA_SECRET_STORE", "").strip():
        source = "XAA_SECRET_STORE"
    elif configured:
        source = "config file"
    else:
        source = "default"
    if kind == "file":
        location = f"{paths.secrets_file()} (plaintext, mode 0600)"
    else:
        backend = os.environ.get("PYTHON_KEYRING_BACKEND", "").strip()
        location = f"OS keyring ({backend or 'backend chosen by the keyring library'})"
    return {"kind": kind, "source": source, "location": location}


def _scrub(data: dict[str, Any]) -> dict[str, Any]:
    """Defence in depth: the loader refuses secret-looking keys, except in the free-form `scan` table."""
    if not isinstance(data.get("scan"), dict):
        return data  # (and core.redact, with hashlib, is not even imported)
    from xaa_cli.core.redact import scrub_mapping

    return {**data, "scan": scrub_mapping(data["scan"])}


ShowOutputOpt = Annotated[
    str | None, typer.Option("--output", "-o", help="Output format: toml (default) | json | table | raw.")
]
PathOutputOpt = Annotated[
    str | None, typer.Option("--output", "-o", help="Output format: raw (default) | json | table.")
]


@config_app.command("show")
def show(ctx: typer.Context, output: ShowOutputOpt = None) -> None:
    """Print the configuration (-o toml | json) and the secret store in use. Secrets are never in it.

    Examples: `xaa config show`, `xaa config show -o json`.
    """
    actx = get_ctx(ctx)
    mode = actx.output_mode(output, ("toml", "table", "raw", "json"), "toml")
    path = paths.config_file()
    config = actx.config()
    data = _scrub(config_to_toml(config))
    store = describe_secret_store(config.secret_store)
    if mode == "json":
        render.emit_json({"path": str(path), "exists": path.exists(), "secret_store": store, "config": data})
        return
    import tomli_w

    header = [f"# {path}" + ("" if path.exists() else " (does not exist yet)")]
    header.append(f"# secret store: {store['kind']} ({store['source']}): {store['location']}")
    render.write_stdout("\n".join(header) + "\n\n" + tomli_w.dumps(data))


def _locations() -> dict[str, Path]:
    return {
        "config": paths.config_file(),
        "state": paths.state_dir(),
        "token_cache": paths.token_cache_file(),
        "audit_log": paths.audit_log_file(),
        "secrets_file": paths.secrets_file(),
    }


@config_app.command("path")
def path(
    ctx: typer.Context,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also the state directory, token cache, audit log and secrets file.")
    ] = False,
    output: PathOutputOpt = None,
) -> None:
    """Print the config file path (--all: every location; -o json for a JSON object).

    Examples: `xaa config path`, `$EDITOR "$(xaa config path)"`, `xaa config path --all -o json`.
    """
    actx = get_ctx(ctx)
    mode = actx.output_mode(output, ("table", "raw", "json"), "raw")
    locations = _locations() if show_all else {"config": paths.config_file()}
    if mode == "json":
        render.emit_json({name: str(p) for name, p in locations.items()})
    elif show_all:
        width = max(len(n) for n in locations)
        render.write_stdout("".join(f"{n:<{width}}  {p}\n" for n, p in locations.items()))
    else:
        render.write_stdout(f"{locations['config']}\n")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app)
