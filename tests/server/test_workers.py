"""``xaa dev serve --workers 2``: one SO_REUSEPORT listening socket per worker process under a small
supervisor (xaa_cli/server/workers.py). Real processes started through the real CLI, real sockets on
127.0.0.1, observed through /proc (tests/server/workers_support.py); no mocks."""

from __future__ import annotations

import errno
import os
import signal
import socket
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.helpers import JB, app_auth, bearer, exchange, jwt_bearer
from tests.server.workers_support import (
    CliServer,
    Topology,
    cmdline,
    connect_to_worker,
    descendants,
    is_running,
    launch_cli_server,
    listening_inodes,
    listening_or_exited,
    post_form,
    socket_inodes,
    start_cli_server,
    topology,
    wait_for,
)
from tests.support.server import DevServer, sign_in
from xaa_cli.cli.commands.dev import _bind
from xaa_cli.cli.exit_codes import ExitCode
from xaa_cli.server.runner import _reuses_port, listening_socket
from xaa_cli.server.store import DB_NAME
from xaa_cli.server.workers import reuse_port_supported

pytestmark = pytest.mark.loopback

real_processes = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists() or not reuse_port_supported(),
    reason="observes processes and sockets through Linux's /proc; needs SO_REUSEPORT",
)

ROUNDS = 12  # token exchange + jwt-bearer + API call, each request on a connection of its own
REPLAYS = 10  # new connections each: with 2 workers, all landing on one socket is a 1-in-512 chance


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CliServer, Topology]]:
    """One server for the tests that leave it running."""
    server = start_cli_server(tmp_path_factory.mktemp("workers"))
    try:
        yield server, wait_for("two workers on sockets of their own", lambda: topology(server, 2))
    finally:
        server.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[CliServer]:
    """A server of the test's own, for tests that kill part of it."""
    server = start_cli_server(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def view(served: tuple[CliServer, Topology]) -> Iterator[DevServer]:
    server = served[0].view()
    try:
        yield server
    finally:
        server.close()


def _grant(view: DevServer, id_token: str) -> str:
    response = exchange(view, id_token)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _full_flow(view: DevServer, id_token: str) -> None:
    """Token exchange at the IdP, jwt-bearer at trello's AS, then trello's API: each must succeed."""
    redeemed = jwt_bearer(view, _grant(view, id_token))
    assert redeemed.status_code == 200, redeemed.text
    whoami = view.client.get(
        f"{view.resource('trello')}/whoami", headers=bearer(redeemed.json()["access_token"])
    )
    assert whoami.status_code == 200, whoami.text
    assert whoami.json()["sub"]


def _redeem_at(server: CliServer, view: DevServer, worker: int, grant: str) -> tuple[int, dict[str, Any]]:
    """jwt-bearer on a connection that ``worker`` accepted."""
    with connect_to_worker(server, worker) as sock:
        return post_form(
            sock,
            f"{view.app_issuer('trello')}/token",
            {"grant_type": JB, "assertion": grant},
            app_auth(view, "trello"),
        )


def _refused_as_replay(answer: tuple[int, dict[str, Any]]) -> bool:
    status, body = answer
    refused = status == 400 and body.get("error") == "invalid_grant"
    return refused and "already used" in body["error_description"]


def _probe_bind(port: int, *, reuse_port: bool) -> OSError | None:
    """Bind (never listen: a bound socket receives no connections) a fresh socket to 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if reuse_port:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            return exc
    return None


# ---------------------------------------------------------------- topology


@real_processes
def test_each_worker_listens_on_a_socket_of_its_own(served: tuple[CliServer, Topology]) -> None:
    server, topo = served
    supervisor = server.supervisor()
    assert sorted(topo.workers) == sorted(p.pid for p in server.workers())
    assert len(topo.workers) == 2
    children = [p for p in descendants(supervisor.pid) if p.ppid == supervisor.pid]
    others = [p for p in children if p.pid not in topo.workers]
    assert all("resource_tracker" in cmdline(p.pid) for p in others), [cmdline(p.pid) for p in others]
    # Two listening sockets on the one port, distinct kernel objects, each held by exactly one worker...
    assert len(topo.listeners) == 2
    assert set(topo.workers.values()) == topo.listeners
    for pid, inode in topo.workers.items():
        assert socket_inodes(pid) & topo.listeners == {inode}
    # ...and both kept open by the supervisor, so that a replacement worker gets the same socket.
    assert topo.listeners <= socket_inodes(supervisor.pid)


@real_processes
def test_both_listeners_have_so_reuseport(served: tuple[CliServer, Topology]) -> None:
    # Linux lets a socket bind a port that a listening socket holds only when both set SO_REUSEPORT (and
    # belong to the same user): so the second bind succeeding proves every listener on the port has it.
    server, _ = served
    refused = _probe_bind(server.port, reuse_port=False)
    assert refused is not None
    assert refused.errno == errno.EADDRINUSE
    assert _probe_bind(server.port, reuse_port=True) is None


# ---------------------------------------------------------------- the protocol across workers


@real_processes
def test_the_whole_flow_works_on_new_connections(view: DevServer) -> None:
    client_ports: list[int] = []

    def note_port(response: httpx.Response) -> None:
        client_ports.append(response.extensions["network_stream"].get_extra_info("client_addr")[1])

    view.client.event_hooks = {"response": [note_port]}
    id_token = sign_in(view)["id_token"]
    for _ in range(ROUNDS):
        _full_flow(view, id_token)
    assert len(client_ports) == 2 + 3 * ROUNDS
    assert len(set(client_ports)) == len(client_ports)  # a connection of its own for every request


@real_processes
def test_a_redeemed_id_jag_is_refused_on_every_new_connection(view: DevServer) -> None:
    grant = _grant(view, sign_in(view)["id_token"])
    assert jwt_bearer(view, grant).status_code == 200
    for _ in range(REPLAYS):
        replay = jwt_bearer(view, grant)
        assert replay.status_code == 400, replay.text
        assert replay.json()["error"] == "invalid_grant"


@real_processes
def test_an_id_jag_redeemed_at_one_worker_is_refused_by_the_other(
    served: tuple[CliServer, Topology], view: DevServer
) -> None:
    server, topo = served
    id_token = sign_in(view)["id_token"]
    first, second = sorted(topo.workers)
    for redeemer, other in ((first, second), (second, first)):
        grant = _grant(view, id_token)
        status, body = _redeem_at(server, view, redeemer, grant)
        assert status == 200, body
        assert _refused_as_replay(_redeem_at(server, view, other, grant))
        assert _refused_as_replay(_redeem_at(server, view, redeemer, grant))


@real_processes
def test_simultaneous_redemptions_at_both_workers_have_one_winner(
    served: tuple[CliServer, Topology], view: DevServer
) -> None:
    server, topo = served
    id_token = sign_in(view)["id_token"]
    url, auth = f"{view.app_issuer('trello')}/token", app_auth(view, "trello")
    for _ in range(3):
        form = {"grant_type": JB, "assertion": _grant(view, id_token)}
        socks = [connect_to_worker(server, pid) for pid in sorted(topo.workers)]
        try:
            # Each worker has its connection already; both requests go out at once.
            with ThreadPoolExecutor(2) as pool:
                answers = list(pool.map(partial(post_form, url=url, form=form, auth=auth), socks))
        finally:
            for sock in socks:
                sock.close()
        assert sorted(status for status, _ in answers) == [200, 400], answers
        assert any(_refused_as_replay(answer) for answer in answers)


# ---------------------------------------------------------------- a worker dies; the supervisor stops


@real_processes
def test_a_killed_worker_is_replaced_on_the_same_socket(own_server: CliServer) -> None:
    server = own_server
    before = wait_for("two workers on sockets of their own", lambda: topology(server, 2))
    victim, survivor = sorted(before.workers)
    victim_proc = next(p for p in server.workers() if p.pid == victim)
    view = server.view()
    try:
        id_token = sign_in(view)["id_token"]
        os.kill(victim, signal.SIGKILL)
        wait_for("the killed worker to die", lambda: None if is_running(victim_proc) else True)
        # Its socket stays open in the supervisor: connections made meanwhile wait in its backlog for the
        # replacement rather than fail (several at once, so that some very likely hash to that socket).
        with ThreadPoolExecutor(8) as pool:
            outage = list(pool.map(lambda _: view.client.get(f"{view.idp_issuer}/jwks"), range(8)))
        assert [r.status_code for r in outage] == [200] * 8

        after = wait_for("a replacement worker", lambda: _without(topology(server, 2), victim), timeout=15)
        assert server.proc.poll() is None
        assert survivor in after.workers
        (replacement,) = set(after.workers) - {survivor}
        assert after.listeners == before.listeners
        assert after.workers[replacement] == before.workers[victim]
        assert after.workers[survivor] == before.workers[survivor]

        for _ in range(4):
            _full_flow(view, id_token)
        grant = _grant(view, id_token)
        status, body = _redeem_at(server, view, replacement, grant)
        assert status == 200, body
        assert _refused_as_replay(_redeem_at(server, view, survivor, grant))
    finally:
        view.close()


def _without(topo: Topology | None, pid: int) -> Topology | None:
    return None if topo is None or pid in topo.workers else topo


@real_processes
@pytest.mark.parametrize(("stop_signal", "status"), [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, 130)])
def test_a_signal_stops_the_supervisor_and_every_worker(
    own_server: CliServer, stop_signal: signal.Signals, status: int
) -> None:
    server = own_server
    wait_for("two workers on sockets of their own", lambda: topology(server, 2))
    view = server.view()
    try:
        id_token = sign_in(view)["id_token"]
        for _ in range(3):
            _full_flow(view, id_token)
    finally:
        view.close()
    family = descendants(server.proc.pid)  # the workers and multiprocessing's resource tracker
    assert len(family) >= 2

    server.proc.send_signal(stop_signal)
    # The supervisor stops its workers (SIGTERM: they finish what is in flight), then ends the way the
    # signal would have, as uvicorn does with --workers 1: killed by SIGTERM (-15), or "interrupted" (130)
    # after Ctrl-C.
    assert server.proc.wait(timeout=30) == status, server.stderr()
    assert "Traceback" not in server.stderr()
    wait_for("every worker to exit", lambda: None if any(is_running(p) for p in family) else True)
    assert listening_inodes(server.port) == set()

    with closing(sqlite3.connect(server.data_dir / DB_NAME)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        (access_tokens,) = db.execute("SELECT count(*) FROM tokens WHERE realm = 'trello'").fetchone()
    assert access_tokens == 3


# ---------------------------------------------------------------- without SO_REUSEPORT


@pytest.mark.skipif(not reuse_port_supported(), reason="needs SO_REUSEPORT")
def test_reuses_port_reads_the_option_from_the_socket() -> None:
    with listening_socket(reuse_port=True) as shared, listening_socket() as plain:
        assert _reuses_port(shared) is True
        assert _reuses_port(plain) is False


def test_without_so_reuseport_serve_binds_a_plain_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    # A platform without the option: `dev serve --workers 2` must still bind, and `_serve` must then take
    # uvicorn's Multiprocess path (one shared socket) since _reuses_port says no.
    monkeypatch.delattr(socket, "SO_REUSEPORT", raising=False)
    assert reuse_port_supported() is False
    with _bind("127.0.0.1", 0, reuse_port=True) as sock:
        assert _reuses_port(sock) is False


@real_processes
def test_without_so_reuseport_the_workers_share_one_socket(tmp_path: Path) -> None:
    # The real CLI in a process whose socket module lacks SO_REUSEPORT: uvicorn's Multiprocess serves.
    server = start_cli_server(tmp_path, preamble="import socket\ndel socket.SO_REUSEPORT")
    try:
        shared = wait_for("two workers on the one socket", lambda: _sharing(server))
        assert len(listening_inodes(server.port)) == 1
        assert shared <= socket_inodes(server.proc.pid)
        view = server.view()
        try:
            _full_flow(view, sign_in(view)["id_token"])
        finally:
            view.close()
    finally:
        server.stop()


def _sharing(server: CliServer) -> set[int] | None:
    listeners = listening_inodes(server.port)
    workers = server.workers()
    if len(listeners) != 1 or len(workers) != 2:
        return None
    return listeners if all(socket_inodes(w.pid) & listeners == listeners for w in workers) else None


# ---------------------------------------------------------------- known bugs (strict: fixing one fails here)


@real_processes
def test_a_second_server_on_the_same_port_is_refused(
    served: tuple[CliServer, Topology], tmp_path: Path
) -> None:
    server, _ = served
    second = launch_cli_server(tmp_path, port=server.port)
    try:
        outcome = wait_for("the second server to listen or exit", partial(listening_or_exited, second))
        listeners = len(listening_inodes(server.port))
    finally:
        second.stop()
    # As with --workers 1: "cannot listen on 127.0.0.1:PORT: Address already in use", a usage error.
    assert outcome == ExitCode.USAGE, (
        f"the second server serves at {outcome}; {listeners} listeners on the port"
    )


@real_processes
def test_workers_exit_when_their_supervisor_is_killed(own_server: CliServer) -> None:
    server = own_server
    topo = wait_for("two workers on sockets of their own", lambda: topology(server, 2))
    workers = [p for p in descendants(server.proc.pid) if p.pid in topo.workers]
    assert len(workers) == 2
    server.proc.kill()  # SIGKILL: the supervisor cannot stop anyone (the workers may still be importing)
    server.proc.wait(timeout=10)
    # each worker notices its parent is gone and shuts itself down: nothing keeps answering on the port
    wait_for("the orphaned workers to exit", lambda: None if any(is_running(p) for p in workers) else True)
    assert listening_inodes(server.port) == set()
