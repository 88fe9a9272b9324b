"""A real ``xaa dev serve --workers N`` for tests: started in an isolated XAA_HOME in a session of its own,
observed through /proc (processes, file descriptors, TCP sockets; no iproute2 needed), reached through a
connection that a chosen worker accepted, and never left behind (``CliServer.stop``)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx

from tests.support.server import DevServer
from xaa_cli.core.keys import loads_jwk
from xaa_cli.server.credentials import ClientKit
from xaa_cli.server.policy import DEFAULT_POLICY
from xaa_cli.server.runner import settings_for
from xaa_cli.storage.secrets import secret_key

# A bound on waits for things that take well under a second on an idle box: generous, because CI boxes
# (and this one, with benchmarks running next door) are busy. Only ever a deadline, never a measurement.
WAIT = 15.0
LISTEN = "0A"  # the TCP state as /proc/net/tcp spells it

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = WAIT) -> T:
    """Poll ``probe`` until it returns something other than None (or fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while (value := probe()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)
    return value


# ---------------------------------------------------------------- processes and sockets, from /proc


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgid: int
    state: str
    started: int  # clock ticks after boot: tells this process from a later one that reuses its pid


def proc_stat(pid: int) -> Proc | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after "pid (comm)": fields 3.. of proc(5)
    return Proc(pid, int(fields[1]), int(fields[2]), fields[0], int(fields[19]))


def all_procs() -> list[Proc]:
    found = (proc_stat(int(entry.name)) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return [p for p in found if p is not None]


def is_running(process: Proc) -> bool:
    """Still this process, and not a zombie (a container's init may be slow to reap orphans)."""
    now = proc_stat(process.pid)
    return now is not None and now.started == process.started and now.state not in ("Z", "X")


def descendants(pid: int) -> list[Proc]:
    procs = all_procs()
    family, found = {pid}, []
    grew = True
    while grew:
        grew = False
        for p in procs:
            if p.ppid in family and p.pid not in family:
                family.add(p.pid)
                found.append(p)
                grew = True
    return [p for p in found if p.state not in ("Z", "X")]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets among the process's open file descriptors."""
    inodes = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return set()
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


# 127.0.0.1 as /proc/net/tcp prints it: the address's 32 bits as a number in the host's byte order, in hex.
LOOPBACK_HEX = f"{int.from_bytes(socket.inet_aton('127.0.0.1'), sys.byteorder):08X}"


@dataclass(frozen=True)
class TcpRow:
    """A TCP socket on 127.0.0.1 (the server only ever listens there, so /proc/net/tcp6 is not read)."""

    local_port: int
    remote_port: int
    state: str
    inode: int  # 0 while a connection waits in a backlog, not yet accepted by anyone


def tcp_rows() -> list[TcpRow]:
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        (local, local_port), (_, remote_port) = (parts[1].split(":"), parts[2].split(":"))
        if local == LOOPBACK_HEX:
            rows.append(TcpRow(int(local_port, 16), int(remote_port, 16), parts[3], int(parts[9])))
    return rows


def listening_inodes(port: int) -> set[int]:
    return {row.inode for row in tcp_rows() if row.state == LISTEN and row.local_port == port}


# ---------------------------------------------------------------- the server


@dataclass
class CliServer:
    """``python -m xaa_cli dev serve --workers N`` in a session of its own (so its pgid is its pid)."""

    proc: subprocess.Popen[bytes]
    home: Path
    data_dir: Path
    stderr_path: Path
    base_url: str = ""

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def supervisor(self) -> Proc:
        found = proc_stat(self.proc.pid)
        assert found is not None, "the supervisor is gone"
        return found

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def workers(self) -> list[Proc]:
        """The supervisor's live children that run multiprocessing's spawn entry point (its other child is
        multiprocessing's resource tracker)."""
        return [p for p in descendants(self.proc.pid) if p.ppid == self.proc.pid and is_worker(p.pid)]

    def view(self) -> DevServer:
        """The test helpers' view of this server (credentials from its file secret store); its client opens
        a new connection for every request, so the kernel picks a listening socket for each."""
        stored = json.loads((self.home / "state" / "secrets.json").read_text())
        spec = next(c for c in DEFAULT_POLICY.clients.values() if c.confidential)
        kit = ClientKit(
            spec.client_id,
            stored[secret_key("dev", "client_secret")],
            loads_jwk(stored[secret_key("dev", "private_key")]),
            {app: stored[secret_key("dev", "client_secret", app=app)] for app in spec.app_client_ids},
        )
        admin = stored[secret_key("dev", "admin_token")]
        settings = settings_for(
            self.base_url, DEFAULT_POLICY, {kit.client_id: kit}, admin, data_dir=self.data_dir
        )
        client = httpx.Client(
            timeout=WAIT, follow_redirects=False, limits=httpx.Limits(max_keepalive_connections=0)
        )
        server = DevServer(self.base_url, DEFAULT_POLICY, kit, admin, client, settings)
        server._closers.append(client.close)
        return server

    def stop(self) -> None:
        """SIGKILL whatever is left of the server's session (a finalizer: the test is over either way)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=WAIT)
        wait_for("the server's processes to die", self._kill_leftovers)

    def _kill_leftovers(self) -> bool | None:
        # Orphaned workers keep the supervisor's process group (start_new_session made it ours).
        left = [p for p in all_procs() if p.pgid == self.proc.pid and p.state not in ("Z", "X")]
        for p in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid, signal.SIGKILL)
        return None if left else True


def is_worker(pid: int) -> bool:
    return "spawn_main" in cmdline(pid)


def start_cli_server(tmp: Path, *, workers: int = 2, port: int = 0, preamble: str = "") -> CliServer:
    """The real CLI server, once it has printed its URL (fails if it exits first)."""
    server = launch_cli_server(tmp, workers=workers, port=port, preamble=preamble)
    try:
        outcome = wait_for("the server's 'listening on' line", partial(listening_or_exited, server))
        if isinstance(outcome, int):
            raise AssertionError(f"the server exited ({outcome}): {server.stderr()}")
    except BaseException:
        server.stop()
        raise
    return server


def launch_cli_server(tmp: Path, *, workers: int = 2, port: int = 0, preamble: str = "") -> CliServer:
    """Start ``xaa dev serve`` without waiting; ``preamble`` is Python run before the CLI in its process.
    The caller must ``stop()`` it."""
    home, data = tmp / "home", tmp / "data"
    env = {**os.environ, "XAA_HOME": str(home), "XAA_SECRET_STORE": "file", "NO_COLOR": "1"}
    for var in ("XAA_PROFILE", "XAA_CONFIG", "XAA_DEBUG"):
        env.pop(var, None)
    args = ["dev", "serve", "--port", str(port), "--data-dir", str(data), "--auto-approve", "alice"]
    args += ["--workers", str(workers)]
    command = [sys.executable, "-m", "xaa_cli", *args]
    if preamble:
        run = f"{preamble}\nimport runpy, sys\nsys.argv = ['xaa', *sys.argv[1:]]\n"
        command = [sys.executable, "-c", run + "runpy.run_module('xaa_cli', run_name='__main__')", *args]
    stderr_path = tmp / "server.stderr"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    return CliServer(proc, home, data, stderr_path)


def listening_or_exited(server: CliServer) -> str | int | None:
    """The server's URL once it prints it (and records it), its exit status if it exits first, else None."""
    for line in server.stderr().splitlines():
        if "listening on " in line:
            server.base_url = line.split()[-1]
            return server.base_url
    return server.proc.poll()


@dataclass(frozen=True)
class Topology:
    """Worker pid -> the inode of the listening socket it holds; and every listening socket on the port."""

    workers: dict[int, int]
    listeners: frozenset[int]


def topology(server: CliServer, count: int) -> Topology | None:
    """``count`` workers, each holding exactly one of the port's ``count`` listening sockets, no two the
    same (None until then)."""
    listeners = listening_inodes(server.port)
    held = {p.pid: socket_inodes(p.pid) & listeners for p in server.workers()}
    if len(listeners) != count or len(held) != count or any(len(s) != 1 for s in held.values()):
        return None
    workers = {pid: next(iter(s)) for pid, s in held.items()}
    if len(set(workers.values())) != count:
        return None
    return Topology(workers, frozenset(listeners))


# ---------------------------------------------------------------- one request to one chosen worker


def connect_to_worker(server: CliServer, pid: int, *, attempts: int = 200) -> socket.socket:
    """A TCP connection that worker ``pid`` accepted. The kernel picks the listening socket by a hash of
    the connection's addresses, so connect until it picks ``pid``'s (1 in N each time)."""
    for _ in range(attempts):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
        try:
            owner = wait_for("a worker to accept the connection", partial(accepted_by, server, sock))
        except BaseException:
            sock.close()
            raise
        if owner == pid:
            return sock
        sock.close()
    raise AssertionError(f"worker {pid} accepted none of {attempts} connections")


def accepted_by(server: CliServer, sock: socket.socket) -> int | None:
    client_port = sock.getsockname()[1]
    inodes = {
        row.inode
        for row in tcp_rows()
        if row.local_port == server.port and row.remote_port == client_port and row.inode
    }
    for worker in server.workers():
        if socket_inodes(worker.pid) & inodes:
            return worker.pid
    return None


def post_form(
    sock: socket.socket, url: str, form: dict[str, str], auth: tuple[str, str]
) -> tuple[int, dict[str, Any]]:
    """One HTTP/1.1 POST (client_secret_basic, ``Connection: close``) on ``sock``: (status, JSON body)."""
    host, path = url.split("://", 1)[1].split("/", 1)
    body = urlencode(form).encode()
    basic = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    head = (
        f"POST /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {basic}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    status_line, _, payload = b"".join(chunks).partition(b"\r\n\r\n")
    return int(status_line.split(b" ", 2)[1]), json.loads(payload)
