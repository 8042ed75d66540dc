"""In-memory store: one process, nothing survives it.

Guarantees: every operation runs under one :class:`threading.Lock` and never awaits, so it is
atomic with respect to every thread and every asyncio task of the process (``claim`` has exactly
one winner). Nothing is shared with other processes: use SQLite for ``uvicorn --workers N``.

Expired claims and counters are pruned lazily: each call that passes ``now`` removes at most
``prune_batch`` dead entries (oldest expiry first), so no call does unbounded work; dead entries
not yet pruned are invisible. Logs are kept whole (they grow until the process ends).
"""

from __future__ import annotations

import heapq
import threading

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

__all__ = ["AsyncMemoryStore", "MemoryStore"]

_CLAIM, _COUNTER = 0, 1


class _Memory:
    """The data and its lock; :class:`MemoryStore` and :class:`AsyncMemoryStore` wrap it."""

    def __init__(self, prune_batch: int = 16) -> None:
        self._lock = threading.Lock()
        self._claims: dict[str, Entry] = {}
        self._counters: dict[str, tuple[int, int | None]] = {}
        self._logs: dict[str, list[bytes]] = {}
        # (expires_at, kind, key) for every expiry ever set; stale items are skipped when popped.
        self._expiries: list[tuple[int, int, str]] = []
        self._prune_batch = prune_batch
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("store is closed")

    def _schedule(self, expires_at: int | None, kind: int, key: str) -> None:
        if expires_at is not None:
            heapq.heappush(self._expiries, (expires_at, kind, key))

    def _prune(self, now: int) -> None:
        heap = self._expiries
        for _ in range(self._prune_batch):
            if not heap or heap[0][0] > now:
                return
            expires_at, kind, key = heapq.heappop(heap)
            if kind == _CLAIM:
                entry = self._claims.get(key)
                if entry is not None and entry.expires_at == expires_at:
                    del self._claims[key]
            else:
                counter = self._counters.get(key)
                if counter is not None and counter[1] == expires_at:
                    del self._counters[key]

    def claim(
        self, key: str, owner: str, value: bytes, expires_at: int | None, now: int
    ) -> Entry | None:
        check_claim(key, owner, value)
        expires_at, now = check_expiry(expires_at), check_int("now", now)
        with self._lock:
            self._check_open()
            self._prune(now)
            current = self._claims.get(key)
            if current is not None and current.live(now):
                return current
            self._claims[key] = Entry(owner, value, expires_at)
            self._schedule(expires_at, _CLAIM, key)
            return None

    def get(self, key: str, now: int) -> Entry | None:
        check_int("now", now)
        with self._lock:
            self._check_open()
            self._prune(now)
            current = self._claims.get(key)
            return current if current is not None and current.live(now) else None

    def update(self, key: str, owner: str, value: bytes, expires_at: int | None) -> bool:
        check_claim(key, owner, value)
        expires_at = check_expiry(expires_at)
        with self._lock:
            self._check_open()
            current = self._claims.get(key)
            if current is None or current.owner != owner:
                return False
            self._claims[key] = Entry(owner, value, expires_at)
            if expires_at != current.expires_at:
                self._schedule(expires_at, _CLAIM, key)
            return True

    def release(self, key: str, owner: str) -> bool:
        with self._lock:
            self._check_open()
            current = self._claims.get(key)
            if current is None or current.owner != owner:
                return False
            del self._claims[key]
            return True

    def _total(self, key: str, now: int) -> tuple[int, int | None]:
        total, expires_at = self._counters.get(key, (0, None))
        return (total, expires_at) if is_live(expires_at, now) else (0, None)

    def _set(self, key: str, total: int, old: int | None, expires_at: int | None) -> None:
        self._counters[key] = (total, expires_at)
        if expires_at != old:
            self._schedule(expires_at, _COUNTER, key)

    def add(self, key: str, amount: int, expires_at: int | None, now: int) -> int:
        amount, now = check_int("amount", amount), check_int("now", now)
        expires_at = check_expiry(expires_at)
        with self._lock:
            self._check_open()
            self._prune(now)
            total, old = self._total(key, now)
            total += amount
            self._set(key, total, old, expires_at)
            return total

    def add_within(
        self, key: str, amount: int, limit: int, expires_at: int | None, now: int
    ) -> tuple[bool, int]:
        amount, limit = check_int("amount", amount), check_int("limit", limit)
        now, expires_at = check_int("now", now), check_expiry(expires_at)
        with self._lock:
            self._check_open()
            self._prune(now)
            total, old = self._total(key, now)
            if total + amount > limit:
                return False, total
            total += amount
            self._set(key, total, old, expires_at)
            return True, total

    def append(self, stream: str, record: bytes, now: int) -> int:
        if not isinstance(record, bytes):
            raise TypeError(f"record must be bytes, not {type(record).__name__}")
        check_int("now", now)
        with self._lock:
            self._check_open()
            log = self._logs.setdefault(stream, [])
            log.append(record)
            return len(log)

    def read(self, stream: str, after: int, limit: int) -> list[tuple[int, bytes]]:
        check_read(after, limit)
        with self._lock:
            self._check_open()
            log = self._logs.get(stream, [])
            return list(enumerate(log[after : after + limit], start=after + 1))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._claims.clear()
            self._counters.clear()
            self._logs.clear()
            self._expiries.clear()


class MemoryStore(_Backed):
    """A :class:`~fastx402.store.Store` in this process's memory (thread-safe)."""

    def __init__(self, *, prune_batch: int = 16) -> None:
        self._impl = _Memory(prune_batch)


class AsyncMemoryStore(AsyncStore):
    """An :class:`~fastx402.store.AsyncStore` in this process's memory.

    Each call completes without awaiting (microseconds under the lock), so it is atomic with
    respect to other tasks and never blocks the loop for long.
    """

    def __init__(self, *, prune_batch: int = 16) -> None:
        self._m = _Memory(prune_batch)

    async def claim(
        self, key: str, owner: str, value: bytes, *, expires_at: int | None, now: int
    ) -> Entry | None:
        return self._m.claim(key, owner, value, expires_at, now)

    async def get(self, key: str, *, now: int) -> Entry | None:
        return self._m.get(key, now)

    async def update(self, key: str, owner: str, value: bytes, *, expires_at: int | None) -> bool:
        return self._m.update(key, owner, value, expires_at)

    async def release(self, key: str, owner: str) -> bool:
        return self._m.release(key, owner)

    async def add(self, key: str, amount: int, *, expires_at: int | None, now: int) -> int:
        return self._m.add(key, amount, expires_at, now)

    async def add_within(
        self, key: str, amount: int, limit: int, *, expires_at: int | None, now: int
    ) -> tuple[bool, int]:
        return self._m.add_within(key, amount, limit, expires_at, now)

    async def append(self, stream: str, record: bytes, *, now: int) -> int:
        return self._m.append(stream, record, now)

    async def read(
        self, stream: str, *, after: int = 0, limit: int = 1000
    ) -> list[tuple[int, bytes]]:
        return self._m.read(stream, after, limit)

    async def close(self) -> None:
        self._m.close()
