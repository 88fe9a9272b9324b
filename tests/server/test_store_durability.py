"""The server store under several writers (issue 3's storage changes): writers queue on the ``xaa-dev.lock``
file lock, across stores and across processes; WAL checkpoints run off the request path and keep the log
short; old data directories (4 KiB pages, the previous schema) keep working; nothing is lost on restart.

No timing is asserted: "B waits for A" is shown by the kernel listing B as a blocked waiter on the lock
(``/proc/locks``) and by the order of the effects; loops that wait for something have a generous deadline
only so that a broken build fails instead of hanging."""

from __future__ import annotations

import itertools
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.server.helpers import app_auth, bearer, exchange, id_jag, jwt_bearer
from tests.support.server import DevServer, sign_in
from xaa_cli.server.checkpoint import WalCheckpointer
from xaa_cli.server.settings import ServerSettings
from xaa_cli.server.store import BACKSTOP_BYTES, DB_NAME, LOCK_NAME, PAGE_SIZE, Store, WriterLock

needs_proc_locks = pytest.mark.skipif(
    not Path("/proc/locks").exists(), reason="needs Linux flock and /proc/locks to observe a queued writer"
)

DEADLINE_SECONDS = 30.0  # a failsafe against hanging, never an assertion about speed
SQLITE_DEFAULT_AUTOCHECKPOINT = 1000
AUDIT_ROW = "INSERT INTO audit (time, server, event, outcome, detail) VALUES (1, ?, 'test.row', 'ok', ?)"
# The schema before commit 45903b0 (`git show e8a1e9b:xaa_cli/server/store.py`): jti_cache with a rowid,
# audit with AUTOINCREMENT. Data directories created by that version have it, with 4 KiB pages.
OLD_SCHEMA = """
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
CREATE INDEX IF NOT EXISTS tokens_by_sub ON tokens (realm, sub);
CREATE TABLE IF NOT EXISTS jti_cache (
    realm TEXT NOT NULL, iss TEXT NOT NULL, jti TEXT NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (realm, iss, jti));
CREATE TABLE IF NOT EXISTS disabled_clients (client_id TEXT PRIMARY KEY, since INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, server TEXT NOT NULL, event TEXT NOT NULL,
    issued_to TEXT, subject TEXT, audience TEXT, resource TEXT, scope TEXT, jti TEXT, policy TEXT,
    outcome TEXT NOT NULL, detail TEXT);
"""


# ------------------------------------------------------------------ helpers
class _Worker(threading.Thread):
    """A thread whose exception is re-raised by ``finish`` (a failure must fail the test, not vanish)."""

    def __init__(self, target: Callable[[], None]) -> None:
        super().__init__(daemon=True)
        self._target_fn = target
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._target_fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised by finish(), in the test's thread
            self.error = exc

    def finish(self) -> None:
        self.join(DEADLINE_SECONDS)
        assert not self.is_alive(), "the thread is still blocked"
        if self.error is not None:
            raise self.error


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.002)


def _flocks(path: Path) -> list[tuple[bool, int]]:
    """``(waiting, pid)`` for every flock the kernel lists on ``path`` (``->`` marks a blocked waiter)."""
    st = path.stat()
    ident = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    found = []
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()[1:]  # drop the "N:" ordinal
        waiting = fields[:1] == ["->"]
        rest = fields[1:] if waiting else fields  # FLOCK ADVISORY WRITE pid dev:inode start end
        if len(rest) >= 5 and rest[0] == "FLOCK" and rest[4] == ident:
            found.append((waiting, int(rest[3])))
    return found


def _waiters(path: Path) -> list[int]:
    return [pid for waiting, pid in _flocks(path) if waiting]


def _holders(path: Path) -> list[int]:
    return [pid for waiting, pid in _flocks(path) if not waiting]


def _reader(data_dir: Path) -> sqlite3.Connection:
    """A plain connection for looking, independent of the stores under test (reads take no writer lock)."""
    return sqlite3.connect(str(data_dir / DB_NAME), isolation_level=None)


def _value(data_dir: Path, key: str) -> str | None:
    db = _reader(data_dir)
    try:
        row = db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    finally:
        db.close()
    return None if row is None else str(row[0])


def _wal_bytes(data_dir: Path) -> int:
    wal = data_dir / f"{DB_NAME}-wal"
    return wal.stat().st_size if wal.exists() else 0


def _checkpoint_connection(data_dir: Path, factory: type[sqlite3.Connection] = sqlite3.Connection) -> Any:
    """The checkpointer's own connection, opened as ``WalCheckpointer._run`` opens it."""
    return sqlite3.connect(
        str(data_dir / DB_NAME), isolation_level=None, timeout=1.0, check_same_thread=False, factory=factory
    )


def _log_frames(data_dir: Path) -> int:
    """Frames in the write-ahead log now (a PASSIVE checkpoint on a fresh connection reports them)."""
    db = _reader(data_dir)
    try:
        _, log, _ = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        db.close()
    return int(log)


@contextmanager
def _stores(data_dir: Path, count: int, **options: Any) -> Iterator[list[Store]]:
    stores = [Store(data_dir, **options) for _ in range(count)]
    try:
        yield stores
    finally:
        for store in stores:
            store.close()


# ------------------------------------------------------------------ the writer lock
@needs_proc_locks
def test_a_second_store_queues_on_the_lock_until_the_first_commits(tmp_path: Path) -> None:
    lock = tmp_path / LOCK_NAME
    entered, release = threading.Event(), threading.Event()
    effects: list[str] = []
    with _stores(tmp_path, 2) as (first, second):

        def hold_open() -> None:
            with first.transaction() as db:
                db.execute("INSERT INTO kv (key, value) VALUES ('first', 'committed')")
                entered.set()
                assert release.wait(DEADLINE_SECONDS)
                effects.append("first commits")

        def write_after() -> None:
            # copies what the first store wrote: it can only find it if it ran after that COMMIT
            second.execute(
                "INSERT INTO kv (key, value) SELECT 'second', "
                "coalesce((SELECT value FROM kv WHERE key = 'first'), 'not yet committed')"
            )
            effects.append("second wrote")

        holder = _Worker(hold_open)
        holder.start()
        assert entered.wait(DEADLINE_SECONDS)
        assert _holders(lock) == [os.getpid()]
        writer = _Worker(write_after)
        writer.start()
        _wait_for(lambda: _waiters(lock) == [os.getpid()], "the second writer queued on the flock")
        assert effects == []
        assert _value(tmp_path, "second") is None  # readers are not blocked, and nothing was written yet
        release.set()
        holder.finish()
        writer.finish()

    assert effects == ["first commits", "second wrote"]
    assert _value(tmp_path, "second") == "committed"
    assert _flocks(lock) == []  # both released


class _HandlerFailed(Exception):
    pass


def _fail_inside_transaction(store: Store) -> None:
    with store.transaction() as db:
        db.execute("INSERT INTO kv (key, value) VALUES ('ghost', 'x')")
        with store.transaction() as inner:  # a nested use joins the outer transaction
            inner.execute(AUDIT_ROW, ("ghost", "x"))
        raise _HandlerFailed


@needs_proc_locks
def test_a_rollback_leaves_nothing_behind_and_frees_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / LOCK_NAME
    with _stores(tmp_path, 2) as (first, second):
        with pytest.raises(_HandlerFailed):
            _fail_inside_transaction(first)
        assert _flocks(lock) == []
        assert second.get_kv("ghost") is None
        assert second.one("SELECT count(*) AS n FROM audit")["n"] == 0  # type: ignore[index]
        # the other store writes at once, and so does the one that rolled back
        writer = _Worker(lambda: second.set_kv("after", "ok"))
        writer.start()
        writer.finish()
        first.set_kv("again", "ok")
    assert _value(tmp_path, "after") == "ok"
    assert _value(tmp_path, "again") == "ok"
    assert _value(tmp_path, "ghost") is None


def test_files_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with _stores(data_dir, 1):
        assert (data_dir / LOCK_NAME).stat().st_mode & 0o777 == 0o600
        assert (data_dir / DB_NAME).stat().st_mode & 0o777 == 0o600
        assert data_dir.stat().st_mode & 0o777 == 0o700


CHILD = """
import sqlite3, sys
from pathlib import Path
from xaa_cli.server.store import WriterLock

lock = WriterLock(Path(sys.argv[1]))
with lock:
    print("locked", flush=True)
    sys.stdin.readline()
    db = sqlite3.connect(sys.argv[2])
    row = db.execute("SELECT value FROM kv WHERE key = 'parent'").fetchone()
    db.close()
    print(f"parent row while I held the lock: {row}", flush=True)
lock.close()
print("released", flush=True)
"""


@needs_proc_locks
def test_a_write_waits_for_another_process_holding_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / LOCK_NAME
    with _stores(tmp_path, 1) as (store,):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(lock), str(tmp_path / DB_NAME)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdin is not None
        assert child.stdout is not None
        try:
            assert child.stdout.readline() == "locked\n"
            assert _holders(lock) == [child.pid]
            writer = _Worker(lambda: store.set_kv("parent", "written"))
            writer.start()
            _wait_for(lambda: _waiters(lock) == [os.getpid()], "this process queued behind the child")
            child.stdin.write("go\n")
            child.stdin.flush()
            # The child only holds the flock (no SQLite lock at all): SQLite alone would have let us write.
            assert child.stdout.readline() == "parent row while I held the lock: None\n"
            assert child.stdout.readline() == "released\n"
            writer.finish()
        finally:
            child.stdin.close()  # EOF: a child still waiting for "go" lets go of the lock and exits
            try:
                child.wait(DEADLINE_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                raise
            finally:
                child.stdout.close()
        assert child.returncode == 0
        assert store.get_kv("parent") == "written"


# ------------------------------------------------------------------ WAL checkpoints
def _write_rows(store: Store, count: int, tag: str = "a") -> None:
    for _ in range(count):
        store.execute(AUDIT_ROW, (tag, "x" * 200))


@needs_proc_locks
def test_run_once_rewinds_the_log_past_restart_bytes(tmp_path: Path) -> None:
    restart_bytes = 64 * 1024
    with _stores(tmp_path, 1, background_checkpoints=True) as (store,):
        db = _checkpoint_connection(tmp_path)
        writers = WriterLock(tmp_path / LOCK_NAME)
        checkpointer = WalCheckpointer(tmp_path / DB_NAME, tmp_path / LOCK_NAME, restart_bytes=restart_bytes)
        try:
            while _wal_bytes(tmp_path) < 2 * restart_bytes:
                _write_rows(store, 10)
            grown = _wal_bytes(tmp_path)
            assert checkpointer.run_once(db, writers) == 0  # every frame copied
            assert (checkpointer.passes, checkpointer.restarts) == (1, 1)
            assert _flocks(tmp_path / LOCK_NAME) == []  # the locked pass released the writers' lock
            _write_rows(store, 1)
            # the next writer started the log again from its beginning: a handful of frames, not hundreds
            assert _log_frames(tmp_path) <= 8
            assert _wal_bytes(tmp_path) == grown  # and wrote over the old frames instead of appending
            assert store.one("SELECT count(*) AS n FROM audit")["n"] > 0  # type: ignore[index]
        finally:
            writers.close()
            db.close()


def _writes_during_unlocked_passes(
    reader: sqlite3.Connection, other: Store, probe: int
) -> type[sqlite3.Connection]:
    """A checkpointer connection on which another worker commits while every *unlocked* PASSIVE checkpoint
    runs, as under load. Deterministic: a reader pins the checkpoint at the log's current end, the other
    worker commits past it, then the checkpoint runs (so, like a real race, it copies all but the newest
    frames). While the writers' lock is held (the locked pass) no other worker can commit."""
    import fcntl

    class Racing(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> Any:
            if "wal_checkpoint" not in sql:
                return super().execute(sql, *args)
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # the locked pass: workers wait
                return super().execute(sql, *args)
            fcntl.flock(probe, fcntl.LOCK_UN)
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM audit").fetchone()
            other.execute(AUDIT_ROW, ("b", "concurrent"))
            cursor = super().execute(sql, *args)
            row = cursor.fetchone()
            reader.execute("COMMIT")
            return _Fetched(row)

    return Racing


class _Fetched:
    def __init__(self, row: Any) -> None:
        self._row = row

    def fetchone(self) -> Any:
        return self._row


def _wal_sizes_under_load(data_dir: Path, restart_bytes: int, rounds: int = 24) -> tuple[list[int], int]:
    """WAL file size after each of ``rounds`` (writes, then one checkpointer tick); and the restarts."""
    with _stores(data_dir, 2, background_checkpoints=True) as (store, other):
        probe = os.open(data_dir / LOCK_NAME, os.O_RDWR)
        reader = _reader(data_dir)
        db = _checkpoint_connection(data_dir, _writes_during_unlocked_passes(reader, other, probe))
        writers = WriterLock(data_dir / LOCK_NAME)
        checkpointer = WalCheckpointer(data_dir / DB_NAME, data_dir / LOCK_NAME, restart_bytes=restart_bytes)
        sizes = []
        try:
            for _ in range(rounds):
                _write_rows(store, 15)
                checkpointer.run_once(db, writers)
                sizes.append(_wal_bytes(data_dir))
            assert checkpointer.passes == rounds
            rows = store.one("SELECT count(*) AS n FROM audit")["n"]  # type: ignore[index]
            assert rows == rounds * 16  # 15 of ours and one concurrent per round: nothing lost
        finally:
            writers.close()
            db.close()
            reader.close()
            os.close(probe)
    return sizes, checkpointer.restarts


@needs_proc_locks
def test_the_locked_pass_is_what_keeps_the_log_bounded(tmp_path: Path) -> None:
    restart_bytes = 64 * 1024
    bounded, restarts = _wal_sizes_under_load(tmp_path / "locked", restart_bytes)
    growing, no_restarts = _wal_sizes_under_load(tmp_path / "unlocked", 1 << 40)

    assert restarts >= 3
    assert max(bounded) <= 3 * restart_bytes
    assert len(set(bounded[len(bounded) // 2 :])) == 1  # steady: the log is reused, no longer extended
    # Without the locked pass the log is never completely checkpointed, so it is never rewound:
    assert no_restarts == 0
    assert all(later > earlier for earlier, later in itertools.pairwise(growing))
    assert growing[-1] > 3 * max(bounded)


@needs_proc_locks
def test_the_checkpoint_thread_runs_beside_writers_and_stops(tmp_path: Path) -> None:
    with _stores(tmp_path, 2, background_checkpoints=True) as (first, second):
        checkpointer = WalCheckpointer(
            tmp_path / DB_NAME, tmp_path / LOCK_NAME, interval=0.001, restart_bytes=16 * 1024
        )
        checkpointer.start()
        written = 0
        try:
            deadline = time.monotonic() + DEADLINE_SECONDS
            while checkpointer.restarts < 3 or checkpointer.passes < 5:
                assert time.monotonic() < deadline, "the checkpoint thread made no progress"
                _write_rows(first, 2, "first")
                _write_rows(second, 2, "second")
                written += 4
        finally:
            checkpointer.stop()
        assert "xaa-wal-checkpoint" not in [t.name for t in threading.enumerate()]
        passes = checkpointer.passes
        _write_rows(first, 5)
        written += 5
        assert checkpointer.passes == passes  # stopped means stopped
        assert _flocks(tmp_path / LOCK_NAME) == []

    db = _reader(tmp_path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("SELECT count(*) FROM audit").fetchone()[0] == written
    finally:
        db.close()


def _autocheckpoint(store: Store) -> int:
    return int(store.one("PRAGMA wal_autocheckpoint")[0])  # type: ignore[index]


def test_background_checkpoints_raise_the_automatic_threshold_to_the_backstop(tmp_path: Path) -> None:
    with _stores(tmp_path, 1, background_checkpoints=True) as (served,):
        assert _autocheckpoint(served) == BACKSTOP_BYTES // PAGE_SIZE
    with _stores(tmp_path, 1) as (plain,):
        assert _autocheckpoint(plain) == SQLITE_DEFAULT_AUTOCHECKPOINT


def test_a_new_database_has_small_pages_and_the_lean_schema(tmp_path: Path) -> None:
    with _stores(tmp_path, 1) as (store,):
        assert store.one("PRAGMA page_size")[0] == PAGE_SIZE == 1024  # type: ignore[index]
        assert store.one("PRAGMA journal_mode")[0] == "wal"  # type: ignore[index]
        sql = {r["name"]: r["sql"] for r in store.all("SELECT name, sql FROM sqlite_master")}
        assert "WITHOUT ROWID" in sql["jti_cache"]
        assert "AUTOINCREMENT" not in sql["audit"]
        store.execute(AUDIT_ROW, ("a", "x"))  # an AUTOINCREMENT table would create sqlite_sequence now
        assert store.one("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'") is None


# ------------------------------------------------------------------ old data directories, restarts
def _old_data_dir(data_dir: Path) -> None:
    """A data directory as the previous version left it: 4 KiB pages, old schema, one audit entry."""
    data_dir.mkdir(mode=0o700)
    db = sqlite3.connect(str(data_dir / DB_NAME), isolation_level=None)
    try:
        db.execute("PRAGMA page_size=4096")
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(OLD_SCHEMA)
        db.execute("INSERT INTO audit (time, server, event, outcome) VALUES (1, 'idp', 'old.entry', 'ok')")
    finally:
        db.close()
    (data_dir / DB_NAME).chmod(0o600)


def test_an_old_data_directory_keeps_its_pages_and_serves_the_whole_flow(
    tmp_path: Path, make_dev_server: Callable[..., DevServer]
) -> None:
    data_dir = tmp_path / "old"
    _old_data_dir(data_dir)
    with _stores(data_dir, 1, background_checkpoints=True) as (store,):
        assert store.one("PRAGMA page_size")[0] == 4096  # type: ignore[index]
        assert _autocheckpoint(store) == BACKSTOP_BYTES // 4096  # the backstop is bytes, not pages

    server = make_dev_server(data_dir=data_dir)
    assert server.runtime is not None
    assert server.runtime.store.one("PRAGMA page_size")[0] == 4096  # type: ignore[index]
    id_token = sign_in(server)["id_token"]
    grant = exchange(server, id_token)
    assert grant.status_code == 200, grant.text
    assertion = grant.json()["access_token"]
    issued = jwt_bearer(server, assertion)
    assert issued.status_code == 200, issued.text
    whoami = server.client.get(
        f"{server.resource('trello')}/whoami", headers=bearer(issued.json()["access_token"])
    )
    assert whoami.json()["sub"] == "alice"
    replay = jwt_bearer(server, assertion)
    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")

    audit = server.client.get(f"{server.idp_issuer}/admin/audit", headers=bearer(server.admin_token))
    assert audit.status_code == 200
    entries = audit.json()["entries"]
    events = [e["event"] for e in entries]
    assert events[0] == "old.entry"  # the previous version's trail is still there, first
    assert events.count("id_jag.issued") == 1
    assert events.count("access_token.issued") == 1
    assert events[-1] == "access_token.denied"  # the replay, recorded after everything else
    # the old tables are used as they are: AUTOINCREMENT still counts, the jti cache has its rowid table
    sequence = server.runtime.store.one("SELECT seq FROM sqlite_sequence WHERE name = 'audit'")
    assert sequence is not None
    assert sequence[0] == len(entries)
    jti_sql = server.runtime.store.one("SELECT sql FROM sqlite_master WHERE name = 'jti_cache'")
    assert jti_sql is not None
    assert "WITHOUT ROWID" not in jti_sql[0]


@pytest.fixture
def with_background_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process servers from ``make_dev_server`` as ``xaa dev serve --data-dir`` runs them."""
    from xaa_cli.server.runner import settings_for as plain

    def settings_for(*args: Any, **kwargs: Any) -> ServerSettings:
        return replace(plain(*args, **kwargs), background_checkpoints=True)

    # start_in_process builds its settings with this name
    monkeypatch.setattr("tests.support.server.settings_for", settings_for)


@pytest.mark.usefixtures("with_background_checkpoints")
def test_a_revocation_survives_a_restart_with_background_checkpoints(
    tmp_path: Path, make_dev_server: Callable[..., DevServer]
) -> None:
    first = make_dev_server(data_dir=tmp_path)
    assert first.runtime is not None
    assert _autocheckpoint(first.runtime.store) == BACKSTOP_BYTES // PAGE_SIZE
    revoked = jwt_bearer(first, id_jag(first)).json()["access_token"]
    kept = jwt_bearer(first, id_jag(first)).json()["access_token"]
    answer = first.client.post(
        f"{first.app_issuer('trello')}/revoke", data={"token": revoked}, auth=app_auth(first, "trello")
    )
    assert answer.status_code == 200
    # A checkpointer tick that rewinds the log, then writes over the old frames: from here on the
    # revocation lives in the database file itself, not in the log.
    db = _checkpoint_connection(tmp_path)
    writers = WriterLock(tmp_path / LOCK_NAME)
    checkpointer = WalCheckpointer(tmp_path / DB_NAME, tmp_path / LOCK_NAME, restart_bytes=0)
    try:
        assert checkpointer.run_once(db, writers) == 0
        assert checkpointer.restarts == 1
    finally:
        writers.close()
        db.close()
    later = jwt_bearer(first, id_jag(first)).json()["access_token"]
    assert _log_frames(tmp_path) < 64  # the log was started again from its beginning
    first.close()

    second = make_dev_server(data_dir=tmp_path, kit=first.kit, admin_token=first.admin_token)
    whoami = f"{second.resource('trello')}/whoami"
    assert second.client.get(whoami, headers=bearer(revoked)).status_code == 401  # still revoked
    assert second.client.get(whoami, headers=bearer(kept)).json()["sub"] == "alice"  # still valid
    assert second.client.get(whoami, headers=bearer(later)).json()["sub"] == "alice"


def test_refresh_tokens_by_user_use_their_own_index(tmp_path: Path) -> None:
    store = Store(tmp_path)
    plan = store.all(
        "EXPLAIN QUERY PLAN UPDATE tokens SET revoked_at = 1 WHERE realm = 'idp' AND kind = 'refresh_token' "
        "AND sub = ? AND revoked_at IS NULL",
        ("alice",),
    )
    assert "refresh_tokens_by_sub" in plan[0]["detail"]
    # the partial index holds refresh tokens only: access tokens, the bulk of the rows, never enter it
    indexes = {
        row["name"]: row["sql"] for row in store.all("SELECT name, sql FROM sqlite_master WHERE type='index'")
    }
    assert "WHERE realm = 'idp' AND kind = 'refresh_token'" in indexes["refresh_tokens_by_sub"]
    store.close()
