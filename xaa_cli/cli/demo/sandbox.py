"""The demo's world: a throw-away xaa home and the reference servers on a free loopback port.

Everything xaa writes goes under the throw-away home, through the same ``XAA_HOME`` switch users and tests
rely on: config, token cache, audit log, discovery cache, the server's SQLite state, and the secrets — in a
0600 file store inside the home (``secret_store = "file"``), so the demo works on a machine with no OS
keyring and ``--keep`` leaves a home that plain ``xaa`` commands can keep using.

The servers are the ones ``xaa dev serve`` runs (same credentials, same ``dev`` profile, same runner), on
uvicorn in a background thread, without ``--auto-approve``: the demo signs users in through the real
sign-in page (see ``browser``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Final

from xaa_cli.cli.context import AppContext

if TYPE_CHECKING:
    from xaa_cli.clock import Clock
    from xaa_cli.server.policy import Policy
    from xaa_cli.server.runner import BackgroundServer

# What the demo sets while it runs (and restores after): the caller's own settings must not leak in.
ENV_SET: Final = {"XAA_SECRET_STORE": "file"}
ENV_CLEARED: Final = ("XAA_CONFIG", "XAA_PROFILE")


@dataclass
class Sandbox:
    """``with Sandbox(clock=..., keep=False) as box: ...`` — ``box.actx`` works inside the home."""

    clock: Clock
    color: bool = True
    keep: bool = False
    home: Path = field(init=False)
    base_url: str = field(init=False)
    policy: Policy = field(init=False)
    actx: AppContext = field(init=False)
    _server: BackgroundServer | None = field(default=None, init=False)
    _saved_env: dict[str, str | None] = field(default_factory=dict, init=False)

    def __enter__(self) -> Sandbox:
        self.home = Path(tempfile.mkdtemp(prefix="xaa-demo-"))  # 0700, ours alone
        try:
            self._swap_env()
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if getattr(self, "actx", None) is not None:
                self.actx.close()  # first: uvicorn's shutdown waits for open keep-alive connections
            if self._server is not None:
                self._server.stop()
        finally:
            self._restore_env()
            if not self.keep:
                shutil.rmtree(self.home, ignore_errors=True)

    # ------------------------------------------------------------------ environment
    def _swap_env(self) -> None:
        wanted: dict[str, str | None] = {"XAA_HOME": str(self.home), **ENV_SET}
        wanted.update(dict.fromkeys(ENV_CLEARED))
        for name, value in wanted.items():
            self._saved_env[name] = os.environ.get(name)
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _restore_env(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    # ------------------------------------------------------------------ servers
    def _start(self) -> None:
        from xaa_cli.cli.commands.dev import (
            base_url_for,
            load_or_create_admin_token,
            load_or_create_kits,
            provision_dev_profile,
        )
        from xaa_cli.server.policy import DEFAULT_POLICY
        from xaa_cli.server.runner import BackgroundServer, loopback_socket, settings_for
        from xaa_cli.storage import paths
        from xaa_cli.storage.config import Config

        self.policy = DEFAULT_POLICY
        self.actx = AppContext(clock=self.clock, color=self.color)
        # The 0600 file store inside the home, never the OS keyring.
        self.actx.save_config(Config(secret_store="file"))  # noqa: S106 (a store kind, not a secret)
        store = self.actx.secret_store()
        kits = load_or_create_kits(store, self.policy)
        admin_token = load_or_create_admin_token(store)
        sock = loopback_socket()
        self.base_url = base_url_for("127.0.0.1", sock.getsockname()[1])
        provision_dev_profile(self.actx, self.base_url, self.policy, kits)
        settings = settings_for(
            self.base_url, self.policy, kits, admin_token, data_dir=paths.server_data_dir()
        )
        self._server = BackgroundServer(settings, sock)
        self._server.start()

    @property
    def data_dir(self) -> Path:
        return self.home / "state" / "server"

    def files_left(self) -> list[Path]:
        return sorted(p for p in self.home.rglob("*") if p.is_file()) if self.home.exists() else []
