"""Where xaa keeps things.

``XAA_HOME`` puts everything under one directory (tests and scripts rely on it)::

    $XAA_HOME/config.toml   $XAA_HOME/state/{tokens.json,audit.jsonl,secrets.json,server/}

Otherwise the XDG layout: ``$XDG_CONFIG_HOME/xaa/config.toml`` (``~/.config``) and
``$XDG_STATE_HOME/xaa/`` (``~/.local/state``), on macOS too, as gh does. ``XAA_CONFIG`` overrides the config
file alone.
"""

from __future__ import annotations

import os
from pathlib import Path


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def xaa_home() -> Path | None:
    return _env_path("XAA_HOME")


def config_dir() -> Path:
    home = xaa_home()
    if home is not None:
        return home
    base = _env_path("XDG_CONFIG_HOME") or Path.home() / ".config"
    return base / "xaa"


def state_dir() -> Path:
    home = xaa_home()
    if home is not None:
        return home / "state"
    base = _env_path("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return base / "xaa"


def config_file() -> Path:
    return _env_path("XAA_CONFIG") or config_dir() / "config.toml"


def token_cache_file() -> Path:
    return state_dir() / "tokens.json"


def audit_log_file() -> Path:
    return state_dir() / "audit.jsonl"


def secrets_file() -> Path:
    """The opt-in 0600 file secret store (``XAA_SECRET_STORE=file``)."""
    return state_dir() / "secrets.json"


def server_data_dir() -> Path:
    """Default ``--data-dir`` of ``xaa dev serve``."""
    return state_dir() / "server"


def discovery_cache_dir() -> Path:
    return state_dir() / "discovery"
