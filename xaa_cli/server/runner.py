"""Running the app on uvicorn: in the foreground (``xaa dev serve``), in a thread (tests), or as several
worker processes sharing one SQLite file (``--workers N``, measured by benchmarks/server_load.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from xaa_cli.server.checkpoint import WalCheckpointer
from xaa_cli.server.client_auth import ClientCredential
from xaa_cli.server.credentials import ClientKit, server_credentials
from xaa_cli.server.policy import Policy, policy_from_dict, policy_to_dict
from xaa_cli.server.settings import ServerSettings
from xaa_cli.server.store import DB_NAME, LOCK_NAME, Store

SETTINGS_ENV: Final = "XAA_DEV_SERVER_SETTINGS"


def settings_for(
    base_url: str,
    policy: Policy,
    kits: Mapping[str, ClientKit],
    admin_token: str | None,
    *,
    data_dir: Path | None,
    auto_approve: str | None = None,
) -> ServerSettings:
    import hashlib

    return ServerSettings(
        base_url=base_url,
        policy=policy,
        data_dir=data_dir,
        auto_approve=auto_approve,
        credentials=server_credentials(policy, kits),
        admin_token_sha256=hashlib.sha256(admin_token.encode()).hexdigest() if admin_token else None,
    )


def _settings_to_env(settings: ServerSettings) -> str:
    creds = [
        [realm, cid, c.secret_sha256, list(c.public_jwks)] for (realm, cid), c in settings.credentials.items()
    ]
    return json.dumps(
        {
            "base_url": settings.base_url,
            "policy": policy_to_dict(settings.policy),
            "data_dir": str(settings.data_dir) if settings.data_dir else None,
            "auto_approve": settings.auto_approve,
            "credentials": creds,
            "admin": settings.admin_token_sha256,
            "background_checkpoints": settings.background_checkpoints,
        }
    )


def app_from_env() -> Any:
    """uvicorn ``--factory`` entry point for worker processes (settings travel in an env variable)."""
    from xaa_cli.server.app import create_app

    raw = json.loads(os.environ[SETTINGS_ENV])
    creds = {(r, c): ClientCredential(h, tuple(k)) for r, c, h, k in raw["credentials"]}
    settings = ServerSettings(
        base_url=raw["base_url"],
        policy=policy_from_dict(raw["policy"]),
        data_dir=Path(raw["data_dir"]) if raw["data_dir"] else None,
        auto_approve=raw["auto_approve"],
        credentials=creds,
        admin_token_sha256=raw["admin"],
        background_checkpoints=raw["background_checkpoints"],
    )
    app = create_app(settings)
    _freeze_heap()
    return app


def _freeze_heap() -> None:
    """Move everything alive after start-up (modules, app, keys) out of the garbage collector's reach: a
    full collection then skips the ~45,000 start-up objects it would otherwise walk, a 15-30 ms stall of
    the event loop (and of every queued request) each time one runs under load."""
    import gc

    gc.collect()
    gc.freeze()


def _http_protocol() -> Any:
    """httptools with a head-size cap when installed (a dependency: it parses for a fraction of h11's CPU,
    see benchmarks/server_load.py); h11 with the same 64 KiB cap otherwise."""
    try:
        from xaa_cli.server.http_limits import BoundedHttpToolsProtocol
    except ImportError:
        return "h11"
    return BoundedHttpToolsProtocol


def _config(app: Any, **extra: Any) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        http=_http_protocol(),
        loop="auto",  # uvloop when installed (a dependency on POSIX), else asyncio
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_keep_alive=5,
        limit_concurrency=1024,
        # The server's URLs come from its configured base URL, never from X-Forwarded-* headers, and
        # skipping uvicorn's proxy-headers middleware saves a layer per request; no `server: uvicorn`.
        proxy_headers=False,
        server_header=False,
        h11_max_incomplete_event_size=64 * 1024,
        **extra,
    )


@contextmanager
def _checkpoints(settings: ServerSettings) -> Iterator[ServerSettings]:
    """While serving from a data directory, WAL checkpoints run on a thread of this process (the
    supervisor when there are several workers) instead of inside requests; see server/checkpoint.py."""
    data_dir = settings.data_dir
    if data_dir is None:
        yield settings
        return
    Store(data_dir, background_checkpoints=True).close()  # the file exists, in WAL mode
    checkpointer = WalCheckpointer(data_dir / DB_NAME, data_dir / LOCK_NAME)
    checkpointer.start()
    try:
        yield replace(settings, background_checkpoints=True)
    finally:
        checkpointer.stop()


def run_server(settings: ServerSettings, sock: socket.socket, *, workers: int = 1) -> None:
    """Serve until interrupted, on an already-bound socket (so port 0 works and the URL is known)."""
    with _checkpoints(settings) as served:
        stopped_by = _serve(served, sock, workers)
    if stopped_by is not None:
        # As uvicorn does for one worker: end the way the signal would have (Ctrl-C -> KeyboardInterrupt,
        # which the CLI reports as "interrupted", exit 130; SIGTERM -> terminated by it).
        signal.raise_signal(stopped_by)


def _serve(settings: ServerSettings, sock: socket.socket, workers: int) -> int | None:
    """Serve; returns the signal that stopped a multi-process server (None otherwise)."""
    import uvicorn

    from xaa_cli.server.app import create_app

    if workers <= 1:
        server = uvicorn.Server(_config(create_app(settings)))
        _freeze_heap()
        server.run(sockets=[sock])
        return None
    if settings.data_dir is None:
        raise ValueError("several workers need a data directory to share state")
    # The schema and signing keys exist before the workers race for them; the supervisor serves nothing.
    create_app(settings).state.runtime.store.close()
    os.environ[SETTINGS_ENV] = _settings_to_env(settings)
    if _reuses_port(sock):
        from xaa_cli.server.workers import serve_processes

        host, port = sock.getsockname()[:2]
        siblings = [_reuse_port_socket(host, port) for _ in range(workers - 1)]
        return serve_processes(_worker_main, [sock, *siblings])
    config = _config("xaa_cli.server.runner:app_from_env", factory=True, workers=workers)
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[sock]).run()
    return None


def _reuses_port(sock: socket.socket) -> bool:
    option = getattr(socket, "SO_REUSEPORT", None)
    return option is not None and bool(sock.getsockopt(socket.SOL_SOCKET, option))


def _worker_main(sock: socket.socket, supervisor: int) -> None:
    """A worker process of ``serve_processes`` (spawned: settings arrive in the inherited environment)."""
    import uvicorn

    from xaa_cli.server.workers import exit_with_parent

    exit_with_parent(supervisor)
    uvicorn.Server(_config(app_from_env())).run(sockets=[sock])


@dataclass
class BackgroundServer:
    """A uvicorn server on 127.0.0.1 in a daemon thread (tests' ``live_server``)."""

    settings: ServerSettings
    sock: socket.socket
    server: Any = None
    thread: threading.Thread | None = None
    _checkpoints: AbstractContextManager[ServerSettings] | None = None

    def start(self) -> None:
        import uvicorn

        from xaa_cli.server.app import create_app

        self._checkpoints = _checkpoints(self.settings)
        settings = self._checkpoints.__enter__()
        self.server = uvicorn.Server(_config(create_app(settings)))
        self.server.install_signal_handlers = lambda: None  # not the main thread
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        import time

        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self.server.started:
            raise RuntimeError("the background server did not start")

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        if self._checkpoints is not None:
            self._checkpoints.__exit__(None, None, None)
        self.sock.close()


def listening_socket(host: str = "127.0.0.1", port: int = 0, *, reuse_port: bool = False) -> socket.socket:
    """A bound, listening TCP socket for uvicorn (so port 0 works and the URL is known before serving).

    ``reuse_port``: ``SO_REUSEPORT``, so that each of several workers can listen on a socket of its own
    (server/workers.py). The port is first taken without it, so that a port another server already listens
    on is refused as usual instead of silently shared with it (SO_REUSEPORT alone would let any process of
    the same user join its group, and the kernel would split connections between the two servers).

    Created with ``IPPROTO_TCP`` explicitly and ``TCP_NODELAY`` set: asyncio only sets TCP_NODELAY on
    accepted connections when the socket's ``proto`` says TCP, and without it every response (uvicorn writes
    headers and body separately) waits for the client's delayed ACK, about 40 ms per request on Linux.
    """
    if reuse_port:
        probe = _bound_socket(host, port, reuse_port=False)
        port = probe.getsockname()[1]
        probe.close()
    return _bound_socket(host, port, reuse_port=reuse_port)


def _reuse_port_socket(host: str, port: int) -> socket.socket:
    """Another listener in the SO_REUSEPORT group our first socket started (no probe: we hold the port)."""
    return _bound_socket(host, port, reuse_port=True)


def _bound_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def loopback_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    return listening_socket(host, port)
