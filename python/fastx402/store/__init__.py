"""Storage for fastx402: a small interface of atomic primitives, embedded by default.

The seller middleware keeps replay records here and the agent client keeps budgets and its ledger
here; both build their semantics on three primitives that every backend makes atomic:

* **claims** (reserve-with-expiry): :meth:`Store.claim` inserts ``key -> (owner, value)`` unless a
  live entry holds the key; :meth:`Store.update` and :meth:`Store.release` are compare-and-set on
  the owner. Exactly one of any number of concurrent claimers wins.
* **counters**: :meth:`Store.add` and :meth:`Store.add_within` (add only if the total stays within
  a limit: budget reservations, exposure caps).
* **logs**: :meth:`Store.append` / :meth:`Store.read`, append-only with a sequence per stream.

Claims, counters and logs are three separate key spaces: a claim ``"a"``, a counter ``"a"`` and a
stream ``"a"`` never meet.

Time is the caller's: every method that decides liveness takes ``now`` (Unix seconds, an ``int``)
and no store ever reads a clock for its logic. ``expires_at`` is an absolute Unix second; an
entry whose ``expires_at <= now`` is dead (invisible, and replaced by the next claim or add).
``expires_at=None`` means never: a record whose outcome is unknown must never vanish.
:meth:`Store.update` and :meth:`Store.release` take no ``now``: they act on the stored entry
whatever its expiry, so an owner may still extend or release its own expired entry as long as
nobody has claimed the key since (a backend may already have pruned it: then they answer False).

Integers (``amount``, ``limit``, ``expires_at``, ``now``) must lie within +-(2**53 - 1): the range
every backend holds exactly (Redis scripts compute in doubles). Counter totals should stay there.

Backends (each with a sync twin for sync callers such as ``requests``):

==========================  ======================================  =========================
``memory://``               :class:`MemoryStore`                    one process
``sqlite:///path/to.db``    :class:`SqliteStore`                    processes of one host
``redis://host:port/db``    :class:`RedisStore` (``fastx402[redis]``) hosts sharing a Redis
==========================  ======================================  =========================

:func:`from_url` opens a sync :class:`Store`, :func:`async_from_url` an :class:`AsyncStore`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    from fastx402.store.memory import AsyncMemoryStore, MemoryStore
    from fastx402.store.redis import AsyncRedisStore, RedisStore
    from fastx402.store.sqlite import AsyncSqliteStore, SqliteStore

__all__ = [
    "MAX_INT",
    "AsyncMemoryStore",
    "AsyncRedisStore",
    "AsyncSqliteStore",
    "AsyncStore",
    "Entry",
    "MemoryStore",
    "RedisStore",
    "SqliteStore",
    "Store",
    "async_from_url",
    "from_url",
]

MAX_INT = 2**53 - 1
"""The largest magnitude of ``amount``, ``limit``, ``expires_at`` and ``now`` a store accepts."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A claim: who holds the key, what it stores, and until when (``None``: forever)."""

    owner: str
    value: bytes
    expires_at: int | None

    def live(self, now: int) -> bool:
        return is_live(self.expires_at, now)


def is_live(expires_at: int | None, now: int) -> bool:
    """An entry lives while ``now < expires_at``; ``None`` lives forever."""
    return expires_at is None or now < expires_at


def check_int(name: str, value: int) -> int:
    """``value`` if it is an ``int`` (not a ``bool``) within +-:data:`MAX_INT`, else raise."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not -MAX_INT <= value <= MAX_INT:
        raise ValueError(f"{name} out of range: {value}")
    return value


def check_expiry(expires_at: int | None) -> int | None:
    return None if expires_at is None else check_int("expires_at", expires_at)


def check_claim(key: str, owner: str, value: bytes) -> None:
    if not isinstance(key, str) or not isinstance(owner, str):
        raise TypeError("key and owner must be str")
    if not isinstance(value, bytes):
        raise TypeError(f"value must be bytes, not {type(value).__name__}")


def check_read(after: int, limit: int) -> None:
    if check_int("after", after) < 0 or check_int("limit", limit) < 0:
        raise ValueError("after and limit must be >= 0")


class Store(abc.ABC):
    """The sync interface. Every method is atomic with respect to every other user of the data."""

    @abc.abstractmethod
    def claim(
        self, key: str, owner: str, value: bytes, *, expires_at: int | None, now: int
    ) -> Entry | None:
        """Insert ``key -> (owner, value)`` unless a live entry holds ``key``.

        Returns ``None`` when inserted (this caller won), else the live :class:`Entry`.
        """

    @abc.abstractmethod
    def get(self, key: str, *, now: int) -> Entry | None:
        """The live entry at ``key``, or ``None``."""

    @abc.abstractmethod
    def update(self, key: str, owner: str, value: bytes, *, expires_at: int | None) -> bool:
        """Replace value and expiry if ``key`` exists and is held by ``owner``; else False."""

    @abc.abstractmethod
    def release(self, key: str, owner: str) -> bool:
        """Delete ``key`` if it is held by ``owner``; else False."""

    @abc.abstractmethod
    def add(self, key: str, amount: int, *, expires_at: int | None, now: int) -> int:
        """Add ``amount`` (may be negative) to counter ``key``; returns the new total.

        A dead (or missing) counter restarts from 0. The counter's expiry becomes ``expires_at``.
        """

    @abc.abstractmethod
    def add_within(
        self, key: str, amount: int, limit: int, *, expires_at: int | None, now: int
    ) -> tuple[bool, int]:
        """Add ``amount`` only if the total stays ``<= limit``; returns ``(added, total)``.

        When refused nothing changes (not even the expiry) and ``total`` is the current total.
        The rule holds for decreases too (over a lowered limit): return reservations with
        :meth:`add`.
        """

    @abc.abstractmethod
    def append(self, stream: str, record: bytes, *, now: int) -> int:
        """Append ``record`` to ``stream``; returns its sequence number (1, 2, 3... per stream)."""

    @abc.abstractmethod
    def read(self, stream: str, *, after: int = 0, limit: int = 1000) -> list[tuple[int, bytes]]:
        """Up to ``limit`` records of ``stream`` with sequence ``> after``, in order."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections and files; the store is unusable afterwards."""

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncStore(abc.ABC):
    """The asyncio interface: :class:`Store`'s methods as coroutines. No method blocks the loop."""

    @abc.abstractmethod
    async def claim(
        self, key: str, owner: str, value: bytes, *, expires_at: int | None, now: int
    ) -> Entry | None:
        """See :meth:`Store.claim`."""

    @abc.abstractmethod
    async def get(self, key: str, *, now: int) -> Entry | None:
        """See :meth:`Store.get`."""

    @abc.abstractmethod
    async def update(self, key: str, owner: str, value: bytes, *, expires_at: int | None) -> bool:
        """See :meth:`Store.update`."""

    @abc.abstractmethod
    async def release(self, key: str, owner: str) -> bool:
        """See :meth:`Store.release`."""

    @abc.abstractmethod
    async def add(self, key: str, amount: int, *, expires_at: int | None, now: int) -> int:
        """See :meth:`Store.add`."""

    @abc.abstractmethod
    async def add_within(
        self, key: str, amount: int, limit: int, *, expires_at: int | None, now: int
    ) -> tuple[bool, int]:
        """See :meth:`Store.add_within`."""

    @abc.abstractmethod
    async def append(self, stream: str, record: bytes, *, now: int) -> int:
        """See :meth:`Store.append`."""

    @abc.abstractmethod
    async def read(
        self, stream: str, *, after: int = 0, limit: int = 1000
    ) -> list[tuple[int, bytes]]:
        """See :meth:`Store.read`."""

    @abc.abstractmethod
    async def close(self) -> None:
        """See :meth:`Store.close`."""

    async def __aenter__(self) -> AsyncStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def _parse(url: str) -> tuple[str, str, str | None]:
    """``(scheme, target, prefix)``: a SQLite path or a Redis URL without ``prefix=``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        return scheme, "", None
    if scheme == "sqlite":
        # sqlite:///relative.db, sqlite:////absolute.db (SQLAlchemy style), sqlite://:memory:
        rest = url[len("sqlite://") :]
        if rest in (":memory:", "/:memory:"):
            return scheme, ":memory:", None
        if not rest.startswith("/") or rest == "/":
            raise ValueError(f"sqlite URL needs a path: sqlite:///path/to.db, not {url!r}")
        return scheme, rest[1:], None
    if scheme in ("redis", "rediss", "unix"):
        query = parse_qsl(parts.query, keep_blank_values=True)
        prefix = next((v for k, v in query if k == "prefix"), None)
        rest = urlencode([(k, v) for k, v in query if k != "prefix"])
        return scheme, urlunsplit(parts._replace(query=rest)), prefix
    raise ValueError(f"unknown store URL scheme {parts.scheme!r} (memory, sqlite, redis, rediss)")


class _Primitives(Protocol):
    """The positional, already-validated operations a backend implements once; :class:`_Backed`
    turns them into a :class:`Store`."""

    def claim(
        self, key: str, owner: str, value: bytes, expires_at: int | None, now: int
    ) -> Entry | None: ...
    def get(self, key: str, now: int) -> Entry | None: ...
    def update(self, key: str, owner: str, value: bytes, expires_at: int | None) -> bool: ...
    def release(self, key: str, owner: str) -> bool: ...
    def add(self, key: str, amount: int, expires_at: int | None, now: int) -> int: ...
    def add_within(
        self, key: str, amount: int, limit: int, expires_at: int | None, now: int
    ) -> tuple[bool, int]: ...
    def append(self, stream: str, record: bytes, now: int) -> int: ...
    def read(self, stream: str, after: int, limit: int) -> list[tuple[int, bytes]]: ...
    def close(self) -> None: ...


class _Backed(Store):
    """A sync :class:`Store` over a backend's :class:`_Primitives` (``self._impl``)."""

    _impl: _Primitives

    def claim(
        self, key: str, owner: str, value: bytes, *, expires_at: int | None, now: int
    ) -> Entry | None:
        return self._impl.claim(key, owner, value, expires_at, now)

    def get(self, key: str, *, now: int) -> Entry | None:
        return self._impl.get(key, now)

    def update(self, key: str, owner: str, value: bytes, *, expires_at: int | None) -> bool:
        return self._impl.update(key, owner, value, expires_at)

    def release(self, key: str, owner: str) -> bool:
        return self._impl.release(key, owner)

    def add(self, key: str, amount: int, *, expires_at: int | None, now: int) -> int:
        return self._impl.add(key, amount, expires_at, now)

    def add_within(
        self, key: str, amount: int, limit: int, *, expires_at: int | None, now: int
    ) -> tuple[bool, int]:
        return self._impl.add_within(key, amount, limit, expires_at, now)

    def append(self, stream: str, record: bytes, *, now: int) -> int:
        return self._impl.append(stream, record, now)

    def read(self, stream: str, *, after: int = 0, limit: int = 1000) -> list[tuple[int, bytes]]:
        return self._impl.read(stream, after, limit)

    def close(self) -> None:
        self._impl.close()


def from_url(url: str) -> Store:
    """A sync store for one of:

    * ``memory://``: a new :class:`MemoryStore`;
    * ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` (SQLAlchemy's convention)
      or ``sqlite://:memory:``: a :class:`SqliteStore`;
    * ``redis://host:port/db``, ``rediss://...`` (TLS), ``unix:///path.sock``: a
      :class:`RedisStore`; ``?prefix=app:`` sets its key prefix (default ``fastx402:``).
    """
    scheme, target, prefix = _parse(url)
    if scheme == "memory":
        from fastx402.store.memory import MemoryStore

        return MemoryStore()
    if scheme == "sqlite":
        from fastx402.store.sqlite import SqliteStore

        return SqliteStore(target)
    from fastx402.store.redis import DEFAULT_PREFIX, RedisStore

    return RedisStore.from_url(target, prefix=DEFAULT_PREFIX if prefix is None else prefix)


def async_from_url(url: str) -> AsyncStore:
    """:func:`from_url` for asyncio callers."""
    scheme, target, prefix = _parse(url)
    if scheme == "memory":
        from fastx402.store.memory import AsyncMemoryStore

        return AsyncMemoryStore()
    if scheme == "sqlite":
        from fastx402.store.sqlite import AsyncSqliteStore

        return AsyncSqliteStore(target)
    from fastx402.store.redis import DEFAULT_PREFIX, AsyncRedisStore

    return AsyncRedisStore.from_url(target, prefix=DEFAULT_PREFIX if prefix is None else prefix)


_LAZY = {
    "MemoryStore": "memory",
    "AsyncMemoryStore": "memory",
    "SqliteStore": "sqlite",
    "AsyncSqliteStore": "sqlite",
    "RedisStore": "redis",
    "AsyncRedisStore": "redis",
}


def __getattr__(name: str) -> Any:
    """The backends load on first use, so the package works without the ``redis`` client."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
