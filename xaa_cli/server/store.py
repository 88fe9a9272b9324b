"""All server state in SQLite: codes, device codes, refresh and access tokens (by SHA-256 hash, never in
clear), the ``jti`` replay cache, disabled clients, signing keys and the audit trail.

``data_dir=None`` keeps everything in memory (tests); a directory gets ``xaa-dev.sqlite3`` in WAL mode so a
restart loses nothing and several worker processes can share it.

Writers from several worker processes queue on an OS file lock (``xaa-dev.lock``) before ``BEGIN
IMMEDIATE``: the kernel wakes the next writer the moment the lock is released, whereas SQLite's own busy
handler polls with sleeps of 1, 2, 5, 10... ms that stall the whole event loop of the waiting worker
(measured under load: ~2,300 waits per 20 s run, median 1.1 ms, worst 79 ms — most of the p99 tail)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Final

DB_NAME: Final = "xaa-dev.sqlite3"
# Every write is one small transaction, and each page it touches is one more frame appended to the WAL, so
# the hot tables keep their rows in their primary-key b-tree (WITHOUT ROWID: one b-tree instead of a
# table plus a key index) and the audit table appends without AUTOINCREMENT's sqlite_sequence update
# (rows are never deleted, so ids still only grow). Measured: 9.5 -> ~5 pages per jwt-bearer commit.
# Only the IdP's refresh tokens are looked up by user (the admin API's "revoke a user's refresh tokens"),
# so access tokens, the bulk of the rows, stay out of that index.
LOCK_NAME: Final = "xaa-dev.lock"
# Sizes of the write-ahead log. Under load the WalCheckpointer (server/checkpoint.py) rewinds it each time it
# reaches RESTART_BYTES; the automatic checkpoint inside a COMMIT only fires at BACKSTOP_BYTES (if that
# thread stops); and a log is only cut back to JOURNAL_SIZE_LIMIT after it grew past it, because truncating
# a file of tens of MiB inside the COMMIT that rewinds it stalled that request ~12 ms (measured).
RESTART_BYTES: Final = 16 * 1024 * 1024
JOURNAL_SIZE_LIMIT: Final = 2 * RESTART_BYTES
BACKSTOP_BYTES: Final = 4 * RESTART_BYTES
# 1 KiB pages for new databases: a commit appends every page it touched to the log, and the hot rows are
# small, so 4 KiB pages tripled the bytes written per jwt-bearer commit (31 KB -> 11 KB measured).
PAGE_SIZE: Final = 1024
SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS codes (
    code_hash TEXT PRIMARY KEY, realm TEXT NOT NULL, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
    code_challenge TEXT, user TEXT NOT NULL, scope TEXT NOT NULL, nonce TEXT, state TEXT, auth_time INTEGER,
    expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS device_codes (
    device_hash TEXT PRIMARY KEY, user_code TEXT UNIQUE NOT NULL, client_id TEXT NOT NULL,
    scope TEXT NOT NULL, user TEXT, status TEXT NOT NULL, expires_at INTEGER NOT NULL,
    interval INTEGER NOT NULL,
    last_poll REAL NOT NULL DEFAULT 0, auth_time INTEGER);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY, kind TEXT NOT NULL, realm TEXT NOT NULL, client_id TEXT NOT NULL,
    sub TEXT NOT NULL, scope TEXT NOT NULL, aud TEXT, jti TEXT, source_jti TEXT, source_iss TEXT,
    iat INTEGER NOT NULL, expires_at INTEGER NOT NULL, auth_time INTEGER, cnf_jkt TEXT,
    revoked_at INTEGER);
CREATE INDEX IF NOT EXISTS tokens_by_client ON tokens (realm, client_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_sub ON tokens (sub)
    WHERE realm = 'idp' AND kind = 'refresh_token';
CREATE TABLE IF NOT EXISTS jti_cache (
    realm TEXT NOT NULL, iss TEXT NOT NULL, jti TEXT NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (realm, iss, jti)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS disabled_clients (client_id TEXT PRIMARY KEY, since INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, time INTEGER NOT NULL, server TEXT NOT NULL, event TEXT NOT NULL,
    issued_to TEXT, subject TEXT, audience TEXT, resource TEXT, scope TEXT, jti TEXT, policy TEXT,
    outcome TEXT NOT NULL, detail TEXT);
"""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _fcntl_module() -> Any:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    return fcntl


class WriterLock:
    """An exclusive ``flock`` on a file next to the database, held for the length of one write transaction.

    One open file description per ``Store``, so processes (and stores within one process) exclude each
    other; threads sharing a ``Store`` are already serialised by its ``RLock``. Where ``fcntl`` does not
    exist (Windows) the lock is a no-op and SQLite's busy timeout does the waiting."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        path.chmod(0o600)  # also when an older file exists with a looser mode
        self._fcntl: Any = _fcntl_module()

    def __enter__(self) -> None:
        if self._fcntl is not None:
            self._fcntl.flock(self._fd, self._fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        if self._fcntl is not None:
            self._fcntl.flock(self._fd, self._fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)


class Store:
    """A thread-safe SQLite connection with the few queries the servers need."""

    def __init__(self, data_dir: Path | None, *, background_checkpoints: bool = False) -> None:
        """``background_checkpoints``: a ``WalCheckpointer`` thread keeps the log short, so this connection
        checkpoints only past a backstop size instead of inside some request's ``COMMIT``."""
        self.path = None if data_dir is None else data_dir / DB_NAME
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = ":memory:" if self.path is None else str(self.path)
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None, timeout=10.0)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        self._writer = None if data_dir is None else WriterLock(data_dir / LOCK_NAME)
        with self._lock:
            if self.path is not None:
                self._db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # no effect on an existing file
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
                if background_checkpoints:
                    page_size = int(self._db.execute("PRAGMA page_size").fetchone()[0])
                    self._db.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_BYTES // page_size}")
                self.path.chmod(0o600)
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if self._writer is not None:
                self._writer.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit (BEGIN IMMEDIATE, so concurrent workers serialise instead of failing).
        Nested uses join the outer transaction: one commit per request."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._db
                finally:
                    self._depth -= 1
                return
            with self._writer or nullcontext():
                self._db.execute("BEGIN IMMEDIATE")
                self._depth = 1
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                else:
                    self._db.execute("COMMIT")
                finally:
                    self._depth = 0

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a transaction: a block whose writes are undone, alone, if it raises."""
        with self._lock:
            self._db.execute("SAVEPOINT block")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK TO block")
                self._db.execute("RELEASE block")
                raise
            self._db.execute("RELEASE block")

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """A write: in the current transaction, or in one of its own (so it queues on the writer lock)."""
        with self.transaction() as db:
            return db.execute(sql, args).rowcount

    def one(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
            return row

    def all(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    # ------------------------------------------------------------ key/value (signing keys, admin hash)
    def get_kv(self, key: str) -> str | None:
        row = self.one("SELECT value FROM kv WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    def setdefault_kv(self, key: str, value: str) -> str:
        """Insert unless present; return what is stored (the first writer wins across workers)."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO kv (key, value) VALUES (?, ?)", (key, value))
            row = db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return str(row["value"])

    def set_kv(self, key: str, value: str) -> None:
        self.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, value))

    # ------------------------------------------------------------ jti replay cache
    def remember_jti(self, realm: str, iss: str, jti: str, expires_at: int, now: int) -> bool:
        """Record a ``jti``; False if it was already seen and has not expired (a replay)."""
        # One statement: insert, or take over an expired entry; a live entry is left alone (rowcount 0).
        changed = self.execute(
            "INSERT INTO jti_cache (realm, iss, jti, expires_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (realm, iss, jti) DO UPDATE SET expires_at = excluded.expires_at "
            "WHERE jti_cache.expires_at < ?",
            (realm, iss, jti, expires_at, now),
        )
        return changed == 1

    def purge_expired(self, now: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM jti_cache WHERE expires_at < ?", (now,))
            db.execute("DELETE FROM codes WHERE expires_at < ?", (now - 3600,))
            db.execute("DELETE FROM device_codes WHERE expires_at < ?", (now - 3600,))

    # ------------------------------------------------------------ disabled clients
    def client_disabled(self, client_id: str) -> bool:
        return self.one("SELECT 1 FROM disabled_clients WHERE client_id = ?", (client_id,)) is not None

    def set_client_disabled(self, client_id: str, disabled: bool, now: int) -> None:
        if disabled:
            self.execute("INSERT OR IGNORE INTO disabled_clients VALUES (?, ?)", (client_id, now))
        else:
            self.execute("DELETE FROM disabled_clients WHERE client_id = ?", (client_id,))
