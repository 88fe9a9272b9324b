"""Several server processes, each accepting on a listening socket of its own (``SO_REUSEPORT``).

uvicorn's own supervisor hands one shared socket to every worker. Each worker's event loop then accepts
greedily whenever it wakes, so the keep-alive connections of a burst of clients split unevenly (21/11 and
13/19 of 32 were measured), and the busier worker answers its clients about twice as slowly as the other
while both cores are saturated: the p99 latency is that worker's. With one ``SO_REUSEPORT`` socket per
worker the kernel spreads connections by a hash of their addresses instead.

Worker ``i`` always serves socket ``i``, which the supervisor keeps open: a worker that dies is replaced on
the same socket, and connections that arrive meanwhile wait in its backlog rather than in a queue nobody
accepts from. A worker whose supervisor disappears (even by SIGKILL) shuts itself down, so no orphan keeps
answering on the port."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any, Final

from xaa_cli.errors import ConfigError

RESTART_LIMIT: Final = 5  # replacements of workers that keep dying within CRASH_WINDOW seconds
CRASH_WINDOW: Final = 10.0
STOP_GRACE: Final = 10.0  # seconds the workers get to finish their requests after SIGTERM
log = logging.getLogger("uvicorn.error")


def reuse_port_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def serve_processes(target: Callable[[socket.socket, int], None], sockets: list[socket.socket]) -> int:
    """Run ``target(sockets[i], supervisor_pid)`` in one spawned process per socket until SIGINT or
    SIGTERM, which it returns (the caller re-raises it once cleaned up, so both end as ``--workers 1``
    does). A worker that exits on its own is replaced; one that keeps dying raises ``ConfigError``. A
    second signal during the shutdown kills the workers at once."""
    multiprocessing.allow_connection_pickling()
    context = multiprocessing.get_context("spawn")
    received: list[int] = []
    stopping = threading.Event()

    def start(index: int) -> BaseProcess:
        process = context.Process(
            target=target, args=(sockets[index], os.getpid()), name=f"xaa-dev-worker-{index}"
        )
        process.start()
        return process

    previous = {
        sig: signal.signal(sig, _recorder(received, stopping)) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    processes = [start(i) for i in range(len(sockets))]
    try:
        _supervise(processes, start, stopping)
    finally:
        _stop_all(processes, received)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return received[0] if received else signal.SIGTERM


def _supervise(
    processes: list[BaseProcess], start: Callable[[int], BaseProcess], stopping: threading.Event
) -> None:
    crashes: list[float] = []
    while not stopping.wait(0.25):
        for index, process in enumerate(processes):
            if process.is_alive() or stopping.is_set():
                continue
            now = time.monotonic()
            crashes = [t for t in crashes if now - t < CRASH_WINDOW] + [now]
            if len(crashes) > RESTART_LIMIT:
                raise ConfigError(
                    f"the server's worker processes keep exiting (last exit code {process.exitcode})",
                    hint="run `xaa dev serve --workers 1` to see the worker's own error",
                )
            log.warning("worker %d exited (code %s); starting a new one", index, process.exitcode)
            processes[index] = start(index)


def _recorder(received: list[int], stopping: threading.Event) -> Callable[[int, FrameType | None], Any]:
    def handler(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        stopping.set()

    return handler


def _stop_all(processes: list[BaseProcess], received: list[int]) -> None:
    """SIGTERM every worker (uvicorn finishes the requests in flight), wait up to STOP_GRACE, then kill;
    a further signal meanwhile (a second Ctrl-C) kills at once."""
    signals_before = len(received)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE
    while any(p.is_alive() for p in processes) and time.monotonic() < deadline:
        if len(received) > signals_before:
            break
        time.sleep(0.05)
    for process in processes:
        if process.is_alive():
            process.kill()
        process.join()


def exit_with_parent(parent: int, interval: float = 1.0) -> None:
    """In a worker: SIGTERM ourselves (a graceful uvicorn shutdown) once the supervisor ``parent`` is gone.
    Its pid comes from the supervisor itself: one that dies while the worker is still importing has
    already been replaced by init as our parent, so ``os.getppid()`` at start-up could not tell."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="xaa-parent-watch", daemon=True).start()
