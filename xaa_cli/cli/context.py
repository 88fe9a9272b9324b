"""AppContext: what every command reaches through ``ctx.obj`` — output settings, consoles, configuration,
secret store, HTTP client, clock, audit log and token cache. Everything is built lazily, so a command pays
only for what it uses."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

from xaa_cli.cli import render
from xaa_cli.errors import UsageError
from xaa_cli.storage import paths

if TYPE_CHECKING:
    import httpx
    from rich.console import Console

    from xaa_cli.clock import Clock
    from xaa_cli.storage.audit import AuditLog
    from xaa_cli.storage.config import Config, Profile
    from xaa_cli.storage.secrets import SecretStore
    from xaa_cli.storage.token_cache import TokenCache


def _system_clock() -> Clock:
    # Imported on first use: xaa_cli.clock pulls in `secrets` (random, hashlib, hmac), ~10 ms at start-up.
    from xaa_cli.clock import SystemClock

    return SystemClock()


@dataclass
class AppContext:
    output: str | None = None  # global -o; commands validate it against what they support
    verbose: bool = False
    debug: bool = False
    color: bool = True
    profile_name: str | None = None  # global --profile / XAA_PROFILE
    resolved_output: str | None = None  # what output_mode() chose: errors answer in JSON after `cmd -o json`
    clock: Clock = field(default_factory=_system_clock)
    # Injected by tests and `xaa demo`: how `xaa login` opens the sign-in URL (None = webbrowser.open) and
    # how the device flow waits between polls (None = time.sleep).
    open_browser: Callable[[str], bool] | None = None
    sleep: Callable[[float], None] | None = None
    _config: Config | None = None
    _store: SecretStore | None = None
    _client: httpx.Client | None = None
    _out: Console | None = None
    _err: Console | None = None

    # ------------------------------------------------------------ output
    @property
    def out(self) -> Console:
        if self._out is None:
            self._out = render.make_console(stderr=False, color=self.color)
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            self._err = render.make_console(stderr=True, color=self.color)
        return self._err

    def output_mode(self, local: str | None, allowed: tuple[str, ...], default: str) -> str:
        """Resolve ``-o``: the command's own flag beats the global one; refuse unsupported modes."""
        mode = local or self.output or default
        if mode not in allowed:
            raise UsageError(f"this command cannot print {mode!r}", hint=f"use -o {' | '.join(allowed)}")
        # Remembered so that an error raised later in the command gets a JSON envelope for `cmd -o json`.
        self.resolved_output = mode
        return mode

    # Messages are plain text: they carry user data (issuers, client ids, paths) that rich must not read
    # as markup ("[bold]" in a client id would vanish). No hard line breaks inside paths and URLs either.
    def info(self, message: str) -> None:
        """Progress and notes: stderr, never stdout."""
        self.err.print(message, soft_wrap=True, markup=False, highlight=False)

    def warn(self, message: str) -> None:
        if self.color:
            self.err.print("warning:", style="yellow", end=" ", soft_wrap=True)
            self.err.print(message, soft_wrap=True, markup=False, highlight=False)
        else:
            self.err.print(f"warning: {message}", soft_wrap=True, markup=False, highlight=False)

    def trace(self, line: str) -> None:
        sys.stderr.write(line + "\n")

    # ------------------------------------------------------------ storage
    @property
    def config_path(self) -> Any:
        return paths.config_file()

    # Storage modules are imported on first use: `xaa --version` needs none of them.
    def config(self) -> Config:
        if self._config is None:
            from xaa_cli.storage.config import load_config

            self._config = load_config(paths.config_file())
        return self._config

    def save_config(self, config: Config) -> None:
        from xaa_cli.storage.config import save_config

        save_config(config, paths.config_file())
        self._config = config

    def profile(self, name: str | None = None) -> Profile:
        return self.config().profile(name or self.profile_name)

    def secret_store(self) -> SecretStore:
        if self._store is None:
            from xaa_cli.storage.secrets import open_secret_store

            self._store = open_secret_store(self.config().secret_store, paths.secrets_file())
        return self._store

    def audit(self) -> AuditLog:
        from xaa_cli.storage.audit import AuditLog

        return AuditLog(paths.audit_log_file(), self.clock)

    def token_cache(self) -> TokenCache:
        from xaa_cli.storage.token_cache import TokenCache

        return TokenCache(paths.token_cache_file(), self.clock, warn=self.warn)

    # ------------------------------------------------------------ network
    def http(self) -> httpx.Client:
        if self._client is None:
            from xaa_cli.core.http import make_client

            cfg = self.config()
            self._client = make_client(
                timeout=cfg.timeout,
                ca_bundle=cfg.ca_bundle,
                trace=self.trace if self.verbose else None,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def get_ctx(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):
        obj = AppContext()
        ctx.find_root().obj = obj
    return obj
