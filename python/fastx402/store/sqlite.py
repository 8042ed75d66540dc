"""SQLite store (stdlib ``sqlite3``): one file shared by the processes of one host.

Guarantees: every read-modify-write (``claim``, ``add``, ``add_within``, ``append``) runs in a
``BEGIN IMMEDIATE`` transaction, and ``update`` / ``release`` are single conditional statements,
so each is atomic across threads and processes using the same file (``uvicorn --workers N``):
``claim`` has exactly one winner. The database runs in WAL mode with the default
``synchronous=FULL``: a committed claim survives a crash of the process and of the machine.
Writers wait up to ``timeout`` seconds (busy timeout) for one another, then raise
:class:`sqlite3.OperationalError`. Not for network file systems (SQLite's locks need a local
one); use Redis across hosts.

Expired claims and counters are pruned lazily: each ``claim``/``add``/``add_within`` deletes at
most ``prune_batch`` dead rows of its table. Log rows keep the caller's ``now`` (column ``at``)
for a later retention policy; nothing deletes them today.

:class:`AsyncSqliteStore` runs every call on one worker thread of its own, never on the loop.
``sqlite://:memory:`` is a private database of one store (one connection), lost on close.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from fastx402.store import (
    AsyncStore,
    Entry,
    _Backed,
    check_claim,
    check_expiry,
    check_int,
    check_read,
    is_live,
)

__all__ = ["AsyncSqliteStore", "SqliteStore"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    key TEXT PRIMARY KEY, owner TEXT NOT NULL, value BLOB NOT NULL, expires_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS claims_expiry ON claims (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, total INTEGER NOT NULL, expires_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS counters_expiry ON counters (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS log (
    stream TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, record BLOB NOT NULL,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
"""


class _Sqlite:
    """One connection, guarded by a lock; :class:`SqliteStore` and the async twin wrap it."""

    def __init__(self, path: str | Path, timeout: float, prune_batch: int) -> None:
        self._lock = threading.Lock()
        self._prune_batch = prune_batch
        self._conn = sqlite3.connect(
            str(path), timeout=timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            if str(path) != ":memory:":
                self._wal(timeout)
            with self._tx() as db:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
        except BaseException:
            self._conn.close()
            raise

    def _wal(self, timeout: float) -> None:
        # Switching to WAL needs a moment alone with the file; processes opening it together
        # may see "database is locked" before the busy handler applies: retry, bounded.
        deadline = time.monotonic() + timeout
        while True:
            try:
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
                continue
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"cannot use WAL mode (journal_mode={mode})")
            return

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _prune(self, db: sqlite3.Connection, table: str, now: int) -> None:
        db.execute(
            f"DELETE FROM {table} WHERE key IN (SELECT key FROM {table} "
            "WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)",
            (now, self._prune_batch),
        )

    def claim(
        self, key: str, owner: str, value: bytes, expires_at: int | None, now: int
    ) -> Entry | None:
        check_claim(key, owner, value)
        expires_at, now = check_expiry(expires_at), check_int("now", now)
        with self._tx() as db:
            self._prune(db, "claims", now)
            row = db.execute(
                "SELECT owner, value, expires_at FROM claims WHERE key = ?", (key,)
            ).fetchone()
            if row is not None and is_live(row[2], now):
                return Entry(row[0], bytes(row[1]), row[2])
            db.execute(
                "INSERT OR REPLACE INTO claims (key, owner, value, expires_at) VALUES (?, ?, ?, ?)",
                (key, owner, value, expires_at),
            )
            return None

    def get(self, key: str, now: int) -> Entry | None:
        check_int("now", now)
        with self._lock:
            row = self._conn.execute(
                "SELECT owner, value, expires_at FROM claims WHERE key = ?", (key,)
            ).fetchone()
        if row is None or not is_live(row[2], now):
            return None
        return Entry(row[0], bytes(row[1]), row[2])

    def update(self, key: str, owner: str, value: bytes, expires_at: int | None) -> bool:
        check_claim(key, owner, value)
        expires_at = check_expiry(expires_at)
        with self._lock:
            cursor = self._conn.execute(
                "UPDATE claims SET value = ?, expires_at = ? WHERE key = ? AND owner = ?",
                (value, expires_at, key, owner),
            )
        return cursor.rowcount == 1

    def release(self, key: str, owner: str) -> bool:
        with self._lock:
            cursor = self._conn.execute(
                "DELETE FROM claims WHERE key = ? AND owner = ?", (key, owner)
            )
        return cursor.rowcount == 1

    def _total(self, db: sqlite3.Connection, key: str, now: int) -> int:
        row = db.execute("SELECT total, expires_at FROM counters WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row is not None and is_live(row[1], now) else 0

    def add(self, key: str, amount: int, expires_at: int | None, now: int) -> int:
        amount, now = check_int("amount", amount), check_int("now", now)
        expires_at = check_expiry(expires_at)
        with self._tx() as db:
            self._prune(db, "counters", now)
            total = self._total(db, key, now) + amount
            db.execute(
                "INSERT OR REPLACE INTO counters (key, total, expires_at) VALUES (?, ?, ?)",
                (key, total, expires_at),
            )
            return total

    def add_within(
        self, key: str, amount: int, limit: int, expires_at: int | None, now: int
    ) -> tuple[bool, int]:
        amount, limit = check_int("amount", amount), check_int("limit", limit)
        now, expires_at = check_int("now", now), check_expiry(expires_at)
        with self._tx() as db:
            self._prune(db, "counters", now)
            total = self._total(db, key, now)
            if total + amount > limit:
                return False, total
            total += amount
            db.execute(
                "INSERT OR REPLACE INTO counters (key, total, expires_at) VALUES (?, ?, ?)",
                (key, total, expires_at),
            )
            return True, total

    def append(self, stream: str, record: bytes, now: int) -> int:
        if not isinstance(record, bytes):
            raise TypeError(f"record must be bytes, not {type(record).__name__}")
        now = check_int("now", now)
        with self._tx() as db:
            row = db.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM log WHERE stream = ?", (stream,)
            ).fetchone()
            seq = int(row[0])
            db.execute(
                "INSERT INTO log (stream, seq, at, record) VALUES (?, ?, ?, ?)",
                (stream, seq, now, record),
            )
            return seq

    def read(self, stream: str, after: int, limit: int) -> list[tuple[int, bytes]]:
        check_read(after, limit)
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, record FROM log WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?",
                (stream, after, limit),
            ).fetchall()
        return [(int(seq), bytes(record)) for seq, record in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class SqliteStore(_Backed):
    """A :class:`~fastx402.store.Store` in the SQLite file at ``path`` (created if missing).

    Thread-safe: one connection, used under a lock. ``timeout``: seconds a writer waits for
    another (the busy timeout).
    """

    def __init__(self, path: str | Path, *, timeout: float = 10.0, prune_batch: int = 16) -> None:
        self._impl = _Sqlite(path, timeout, prune_batch)


class AsyncSqliteStore(AsyncStore):
    """An :class:`~fastx402.store.AsyncStore` on a SQLite file: every call, opening included,
    runs on the store's own worker thread, so the event loop never waits on the disk or a lock.
    """

    def __init__(self, path: str | Path, *, timeout: float = 10.0, prune_batch: int = 16) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fastx402-sqlite")
        # Opened on the worker; the first call waits for it (and raises its error, if any).
        self._opening = self._executor.submit(_Sqlite, path, timeout, prune_batch)

    async def _run(self, method: Callable[..., T], *args: object) -> T:
        db = self._opening  # a Future[_Sqlite]; resolved by the time the worker runs `call`

        def call() -> T:
            return method(db.result(), *args)

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def claim(
        self, key: str, owner: str, value: bytes, *, expires_at: int | None, now: int
    ) -> Entry | None:
        return await self._run(_Sqlite.claim, key, owner, value, expires_at, now)

    async def get(self, key: str, *, now: int) -> Entry | None:
        return await self._run(_Sqlite.get, key, now)

    async def update(self, key: str, owner: str, value: bytes, *, expires_at: int | None) -> bool:
        return await self._run(_Sqlite.update, key, owner, value, expires_at)

    async def release(self, key: str, owner: str) -> bool:
        return await self._run(_Sqlite.release, key, owner)

    async def add(self, key: str, amount: int, *, expires_at: int | None, now: int) -> int:
        return await self._run(_Sqlite.add, key, amount, expires_at, now)

    async def add_within(
        self, key: str, amount: int, limit: int, *, expires_at: int | None, now: int
    ) -> tuple[bool, int]:
        return await self._run(_Sqlite.add_within, key, amount, limit, expires_at, now)

    async def append(self, stream: str, record: bytes, *, now: int) -> int:
        return await self._run(_Sqlite.append, stream, record, now)

    async def read(
        self, stream: str, *, after: int = 0, limit: int = 1000
    ) -> list[tuple[int, bytes]]:
        return await self._run(_Sqlite.read, stream, after, limit)

    async def close(self) -> None:
        try:
            await self._run(_Sqlite.close)
        finally:
            self._executor.shutdown(wait=False)
