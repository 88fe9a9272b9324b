"""Group commit: the writes of every request one event-loop turn handled, in one SQLite transaction.

A jwt-bearer request writes three rows (the ``jti`` it consumed, the access token's record, the audit
entry); alone, that is a writer-lock round trip, ``BEGIN IMMEDIATE`` and a ``COMMIT`` appending every page it
touched to the log, once per request. Handlers therefore do their checks and signing first and return a
``Deferred`` (server/wire.py) holding only the writes; the endpoint hands it to ``WriteBatch.commit``,
which queues it and, once the loop has run every request that was ready, runs all queued writes in one
transaction, each inside a savepoint of its own, and answers them all after the ``COMMIT``. No response
leaves before its writes are committed, and a replay decided by the ``jti`` insert is still decided under
the writer lock, in commit order, across worker processes."""

from __future__ import annotations

import asyncio
from typing import Any

from xaa_cli.server.store import Store
from xaa_cli.server.wire import Deferred, Response

_Job = tuple[Deferred, "asyncio.Future[Response]"]


class WriteBatch:
    def __init__(self, store: Store) -> None:
        self._store = store
        # Per event loop: the in-process test client runs its own loop in a thread of its own.
        self._pending: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        self.commits = 0

    async def commit(self, deferred: Deferred) -> Response:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Response] = loop.create_future()
        queue = self._pending.setdefault(loop, [])
        queue.append((deferred, future))
        if len(queue) == 1:
            # Runs after the callbacks already queued, i.e. after every request this turn read.
            loop.call_soon(self._flush, loop)
        return await future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        jobs = self._pending.pop(loop, [])
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self._store.transaction():
                for deferred, _ in jobs:
                    outcomes.append(self._run(deferred))
        except Exception as exc:  # noqa: BLE001 - the COMMIT failed: none of these writes landed; each caller hears why
            for _, future in jobs:
                if not future.done():
                    future.set_exception(exc)
            return
        self.commits += 1
        for (_, future), (ok, value) in zip(jobs, outcomes, strict=True):
            if future.done():  # the request was cancelled meanwhile; its writes stand
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _run(self, deferred: Deferred) -> tuple[bool, Any]:
        try:
            with self._store.savepoint():
                return True, deferred.commit()
        except Exception as exc:  # noqa: BLE001 - a bug in one request's writes: undo them, 500 it, keep the rest
            return False, exc
