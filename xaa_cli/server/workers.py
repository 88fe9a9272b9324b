"""Several server processes, each accepting on a listening socket of its own (``SO_REUSEPORT``).

uvicorn's own supervisor hands one shared socket to every worker. Each worker's event loop then accepts
greedily whenever it wakes, so the keep-alive connections of a burst of clients split unevenly (21/11 and
13/19 of 32 were measured), and the busier worker answers its clients about twice as slowly as the other
while both cores are saturated: the p99 latency is that worker's. With one ``SO_REUSEPORT`` socket per
worker the kernel spreads connections by a hash of their addresses instead.

Worker ``i`` always serves socket ``i``, which the supervisor keeps open: a worker that dies is replaced on
the same socket, and connections that arrive meanwhile wait in its backlog rather than in a queue nobody
accepts from."""

from __future__ import annotations

import multiprocessing
import signal
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any, Final

RESTART_LIMIT: Final = 5  # replacements of a worker that keeps dying within CRASH_WINDOW seconds
CRASH_WINDOW: Final = 10.0


def reuse_port_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def serve_processes(target: Callable[[socket.socket], None], sockets: list[socket.socket]) -> None:
    """Run ``target(sockets[i])`` in one spawned process per socket until SIGINT/SIGTERM; replace a worker
    that exits on its own (and give up, raising ``RuntimeError``, when one keeps dying at start-up)."""
    multiprocessing.allow_connection_pickling()
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start(index: int) -> BaseProcess:
        process = context.Process(target=target, args=(sockets[index],), name=f"xaa-dev-worker-{index}")
        process.start()
        return process

    previous = {sig: signal.signal(sig, _setter(stopping)) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = [start(i) for i in range(len(sockets))]
    crashes: list[float] = []
    try:
        while not stopping.wait(0.25):
            for index, process in enumerate(processes):
                if process.is_alive():
                    continue
                now = time.monotonic()
                crashes = [t for t in crashes if now - t < CRASH_WINDOW] + [now]
                if len(crashes) > RESTART_LIMIT:
                    raise RuntimeError(f"server workers keep exiting (last exit code {process.exitcode})")
                processes[index] = start(index)
    finally:
        _stop_all(processes)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _setter(event: threading.Event) -> Callable[[int, FrameType | None], Any]:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        event.set()

    return handler


def _stop_all(processes: list[BaseProcess]) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()  # SIGTERM: uvicorn finishes the requests in flight, then exits
    deadline = time.monotonic() + 10
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()
