"""WAL checkpoints on a thread of their own, off every request's path.

SQLite's automatic checkpoint runs inside the ``COMMIT`` of whichever request pushes the write-ahead log past
its threshold: that request then copies about a thousand pages (4-12 ms measured here), and every request
queued behind it, in its worker's event loop and behind the writer lock in the others, waits as long.
Served stores therefore raise the automatic threshold to a backstop (``BACKSTOP_BYTES`` in store.py: it only
fires if this thread stops) and this thread checkpoints every ``interval`` seconds on its own connection:

1. a ``PASSIVE`` checkpoint without any lock: it copies nearly every frame while the workers keep writing
   (``sqlite3`` releases the GIL meanwhile, so a single-process server's event loop keeps going too);
2. once the log holds ``restart_bytes``, a second ``PASSIVE`` pass *holding the writers' lock*: it
   only has the few frames written since step 1 to copy, and because no writer can append during it, the
   log is then completely checkpointed, so the next writer starts it again from the beginning.

Step 2 is what keeps the file small. Without it, frames keep arriving while each checkpoint runs, the log is
never completely copied, SQLite never rewinds it, and it grows until the backstop fires inside a request (a
25-30 ms stall every ~1.5 s under load, measured with benchmarks/server_load.py)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Final

from xaa_cli.server.store import RESTART_BYTES, WriterLock

INTERVAL_SECONDS: Final = 0.1


class WalCheckpointer:
    """Checkpoint ``db_path`` every ``interval`` seconds until ``stop()``; ``run_once`` does one pass."""

    def __init__(
        self,
        db_path: Path,
        lock_path: Path,
        *,
        interval: float = INTERVAL_SECONDS,
        restart_bytes: int = RESTART_BYTES,
    ) -> None:
        self._db_path = db_path
        self._lock_path = lock_path
        self._interval = interval
        self._restart_bytes = restart_bytes
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0
        self.restarts = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="xaa-wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run_once(self, db: sqlite3.Connection, writers: WriterLock) -> int:
        """One tick (steps 1 and 2 above). Returns the frames left in the log after it."""
        _, log, done = _passive(db)
        self.passes += 1
        if log * _page_size(db) >= self._restart_bytes:
            with writers:
                _, log, done = _passive(db)
            self.restarts += 1
        return log - done

    def _run(self) -> None:
        db = sqlite3.connect(str(self._db_path), isolation_level=None, timeout=1.0, check_same_thread=False)
        writers = WriterLock(self._lock_path)
        try:
            while not self._stopping.wait(self._interval):
                try:
                    self.run_once(db, writers)
                except sqlite3.Error:
                    # A locked or briefly unavailable file: try again at the next tick; the workers'
                    # backstop threshold bounds the log meanwhile.
                    continue
        finally:
            writers.close()
            db.close()


def _page_size(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA page_size").fetchone()[0])


def _passive(db: sqlite3.Connection) -> tuple[int, int, int]:
    """``(busy, frames in the log, frames checkpointed)``."""
    busy, log, done = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(busy), int(log), int(done)
