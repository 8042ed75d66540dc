"""fastx402.store: one conformance suite over every backend (memory, SQLite, Redis), sync and async.

Redis is a real ``redis-server`` (Debian package; ``make redis-server`` installs it) started on a
free 127.0.0.1 port for the session, without persistence, and stopped by PID. Missing, the Redis
tests fail: they never skip. Time is frozen: every ``now`` is a literal.

Concurrency: 64 asyncio tasks and 16 threads racing for one key have exactly one winner; for
SQLite and Redis, so do 4 spawned processes, and ``add_within`` from those processes never passes
its limit.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fastx402.store import (
    MAX_INT,
    AsyncStore,
    Entry,
    Store,
    async_from_url,
    from_url,
)
from fastx402.store.memory import MemoryStore
from processes import RedisServer

BACKENDS = ["memory", "sqlite", "redis"]
SHARED = ["sqlite", "redis"]  # backends shared by processes
T0 = 1_700_000_000  # the frozen clock


# --- one suite for every backend, sync and async ------------------------------------------------


class Blocking:
    """Drives an AsyncStore from sync test code on one event loop, so one suite runs both."""

    def __init__(self, store: AsyncStore, loop: asyncio.AbstractEventLoop) -> None:
        self._store = store
        self._loop = loop

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._store, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._loop.run_until_complete(method(*args, **kwargs))

        return call


@pytest.fixture
def url_for(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    def url(backend: str) -> str:
        if backend == "memory":
            return "memory://"
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / 'store.db'}"
        server: RedisServer = request.getfixturevalue("redis_server")
        return server.url()

    return url


@pytest.fixture(params=[f"{b}-{m}" for b in BACKENDS for m in ("sync", "async")])
def store(request: pytest.FixtureRequest, url_for: Callable[[str], str]) -> Iterator[Any]:
    """Every backend, sync and async, behind the sync method signatures."""
    backend, mode = request.param.split("-")
    url = url_for(backend)
    if mode == "sync":
        with from_url(url) as sync_store:
            yield sync_store
        return
    loop = asyncio.new_event_loop()
    try:
        async_store = async_from_url(url)
        yield Blocking(async_store, loop)
        loop.run_until_complete(async_store.close())
    finally:
        loop.close()


def test_claim_once_then_get(store: Store) -> None:
    assert store.get("k", now=T0) is None
    assert store.claim("k", "alice", b"v1", expires_at=T0 + 60, now=T0) is None
    held = Entry("alice", b"v1", T0 + 60)
    # Another owner, and the same owner again: both see the live entry, neither replaces it.
    assert store.claim("k", "bob", b"v2", expires_at=None, now=T0 + 1) == held
    assert store.claim("k", "alice", b"v3", expires_at=None, now=T0 + 1) == held
    assert store.get("k", now=T0 + 59) == held
    assert store.claim("other", "bob", b"", expires_at=None, now=T0) is None
    assert store.get("other", now=T0) == Entry("bob", b"", None)


def test_expiry_follows_the_callers_clock(store: Store) -> None:
    assert store.claim("k", "alice", b"a", expires_at=T0 + 10, now=T0) is None
    assert store.get("k", now=T0 + 9) is not None
    assert store.get("k", now=T0 + 10) is None  # expires_at <= now: dead
    assert store.claim("k", "bob", b"b", expires_at=T0 + 20, now=T0 + 10) is None
    assert store.get("k", now=T0 + 10) == Entry("bob", b"b", T0 + 20)
    # The former owner lost it: compare-and-set on the owner refuses.
    assert store.update("k", "alice", b"x", expires_at=None) is False
    assert store.release("k", "alice") is False
    assert store.get("k", now=T0 + 11) == Entry("bob", b"b", T0 + 20)
    # A clock running backwards is the caller's business: the entry is live again for it.
    assert store.get("k", now=T0) is not None


def test_never_expiring_entries_never_vanish(store: Store) -> None:
    assert store.claim("k", "alice", b"unknown outcome", expires_at=None, now=T0) is None
    for now in (T0, T0 + 10**9, MAX_INT):
        assert store.get("k", now=now) == Entry("alice", b"unknown outcome", None)
        assert store.claim("k", "bob", b"", expires_at=None, now=now) is not None


def test_update_is_compare_and_set_on_the_owner(store: Store) -> None:
    assert store.update("k", "alice", b"v", expires_at=None) is False  # nothing to update
    assert store.claim("k", "alice", b"pending", expires_at=T0 + 10, now=T0) is None
    assert store.update("k", "bob", b"stolen", expires_at=None) is False
    assert store.update("k", "alice", b"settled", expires_at=T0 + 100) is True
    assert store.get("k", now=T0 + 50) == Entry("alice", b"settled", T0 + 100)
    assert store.update("k", "alice", b"final", expires_at=None) is True
    assert store.get("k", now=T0 + 10**6) == Entry("alice", b"final", None)
    # Shortening works too: the entry dies at its new expiry.
    assert store.update("k", "alice", b"short", expires_at=T0 + 5) is True
    assert store.get("k", now=T0 + 5) is None
    assert store.claim("k", "bob", b"b", expires_at=None, now=T0 + 5) is None


def test_release_only_by_the_owner(store: Store) -> None:
    assert store.release("k", "alice") is False
    assert store.claim("k", "alice", b"v", expires_at=None, now=T0) is None
    assert store.release("k", "bob") is False
    assert store.get("k", now=T0) is not None
    assert store.release("k", "alice") is True
    assert store.get("k", now=T0) is None
    assert store.release("k", "alice") is False
    assert store.claim("k", "bob", b"w", expires_at=None, now=T0) is None


def test_values_keys_and_owners_are_opaque(store: Store) -> None:
    value = bytes(range(256)) * 4  # NULs, invalid UTF-8
    key, owner = "pay:0xAbC/é ☃ :c:", "agent ✓ 0"
    assert store.claim(key, owner, value, expires_at=None, now=T0) is None
    assert store.get(key, now=T0) == Entry(owner, value, None)
    assert store.get(key + " ", now=T0) is None


def test_counters(store: Store) -> None:
    assert store.add("c", 5, expires_at=None, now=T0) == 5
    assert store.add("c", -7, expires_at=None, now=T0) == -2
    assert store.add("d", 1, expires_at=None, now=T0) == 1
    big = 10**15  # USDC atomic units of a billion dollars
    assert store.add("big", big, expires_at=None, now=T0) == big
    assert store.add("big", big + 1, expires_at=None, now=T0) == 2 * big + 1
    # Expiry: each add sets it; a dead counter restarts from 0.
    assert store.add("w", 3, expires_at=T0 + 60, now=T0) == 3
    assert store.add("w", 4, expires_at=T0 + 60, now=T0 + 59) == 7
    assert store.add("w", 4, expires_at=T0 + 120, now=T0 + 60) == 4
    assert store.add("w", 1, expires_at=None, now=T0 + 61) == 5
    assert store.add("w", 1, expires_at=None, now=T0 + 10**9) == 6


def test_claims_counters_and_logs_are_separate_key_spaces(store: Store) -> None:
    assert store.claim("x", "alice", b"v", expires_at=None, now=T0) is None
    assert store.add("x", 2, expires_at=None, now=T0) == 2
    assert store.append("x", b"r", now=T0) == 1
    assert store.get("x", now=T0) == Entry("alice", b"v", None)
    assert store.add("x", 0, expires_at=None, now=T0) == 2
    assert store.read("x") == [(1, b"r")]


def test_add_within_never_passes_the_limit(store: Store) -> None:
    assert store.add_within("b", 60, 100, expires_at=None, now=T0) == (True, 60)
    assert store.add_within("b", 41, 100, expires_at=None, now=T0) == (False, 60)
    assert store.add_within("b", 40, 100, expires_at=None, now=T0) == (True, 100)
    assert store.add_within("b", 1, 100, expires_at=None, now=T0) == (False, 100)
    assert store.add_within("b", -30, 100, expires_at=None, now=T0) == (True, 70)  # a refund
    assert store.add_within("b", 0, 0, expires_at=None, now=T0) == (False, 70)
    assert store.add("b", 0, expires_at=None, now=T0) == 70
    # The rule is total + amount <= limit, even for a decrease over a lowered cap: refunds use add.
    assert store.add_within("b", -10, 50, expires_at=None, now=T0) == (False, 70)
    assert store.add("b", -10, expires_at=None, now=T0) == 60
    assert store.add_within("new", 5, 4, expires_at=None, now=T0) == (False, 0)


def test_add_within_expiry(store: Store) -> None:
    assert store.add_within("b", 9, 10, expires_at=T0 + 60, now=T0) == (True, 9)
    # Refused: nothing changes, not even the expiry.
    assert store.add_within("b", 2, 10, expires_at=None, now=T0 + 1) == (False, 9)
    assert store.add_within("b", 1, 10, expires_at=None, now=T0 + 59) == (True, 10)
    assert store.add_within("b", 1, 10, expires_at=T0 + 120, now=T0 + 10**6) == (False, 10)
    # A counter that dies restarts the window at 0.
    assert store.add_within("w", 10, 10, expires_at=T0 + 60, now=T0) == (True, 10)
    assert store.add_within("w", 10, 10, expires_at=T0 + 120, now=T0 + 60) == (True, 10)


def test_log_appends_and_reads_in_order(store: Store) -> None:
    assert store.read("s") == []
    records = [b"r%d" % i for i in range(25)] + [b"", b"\x00\xff"]
    for i, record in enumerate(records, start=1):
        assert store.append("s", record, now=T0 + i) == i
    assert store.append("other", b"o", now=T0) == 1
    everything = store.read("s")
    assert everything == list(enumerate(records, start=1))
    assert store.read("s", after=20, limit=3) == [(21, b"r20"), (22, b"r21"), (23, b"r22")]
    assert store.read("s", after=26) == [(27, b"\x00\xff")]
    assert store.read("s", after=27) == []
    assert store.read("s", after=5, limit=0) == []
    assert store.read("other") == [(1, b"o")]
    with pytest.raises(ValueError):
        store.read("s", after=-1)


def test_bad_arguments_are_refused(store: Store) -> None:
    with pytest.raises(TypeError):
        store.claim("k", "a", "text", expires_at=None, now=T0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.claim("k", "a", b"v", expires_at=1.5, now=T0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.add("c", True, expires_at=None, now=T0)
    with pytest.raises(ValueError):
        store.add("c", MAX_INT + 1, expires_at=None, now=T0)
    with pytest.raises(ValueError):
        store.add_within("c", 1, -MAX_INT - 1, expires_at=None, now=T0)
    with pytest.raises(TypeError):
        store.append("s", bytearray(b"x"), now=T0)  # type: ignore[arg-type]
    assert store.get("k", now=T0) is None
    assert store.add("c", 0, expires_at=None, now=T0) == 0


# --- from_url, context managers, laziness ---------------------------------------------------------


def test_from_url_schemes(tmp_path: Path, redis_server: RedisServer) -> None:
    from fastx402.store.memory import AsyncMemoryStore
    from fastx402.store.redis import AsyncRedisStore, RedisStore
    from fastx402.store.sqlite import AsyncSqliteStore, SqliteStore

    cases: list[tuple[str, type[Store], type[AsyncStore]]] = [
        ("memory://", MemoryStore, AsyncMemoryStore),
        ("sqlite://:memory:", SqliteStore, AsyncSqliteStore),
        (f"sqlite:///{tmp_path / 'a.db'}", SqliteStore, AsyncSqliteStore),
        (redis_server.url(), RedisStore, AsyncRedisStore),
    ]
    for url, sync_type, async_type in cases:
        with from_url(url) as s:
            assert type(s) is sync_type
            assert s.claim("k", "o", b"v", expires_at=None, now=T0) is None

        async def run(url: str = url, async_type: type[AsyncStore] = async_type) -> None:
            async with async_from_url(url) as a:
                assert type(a) is async_type
                assert await a.add("c", 1, expires_at=None, now=T0) >= 1

        asyncio.run(run())
    # A file store keeps its data; the Redis prefix isolates.
    with from_url(f"sqlite:///{tmp_path / 'a.db'}") as s:
        assert s.get("k", now=T0) == Entry("o", b"v", None)
    with from_url(redis_server.url()) as s:
        assert s.get("k", now=T0) is None
    for bad in ("mysql://x", "sqlite://", "sqlite:///", "file:///x.db"):
        with pytest.raises(ValueError):
            from_url(bad)
    # The package exports the backends by name (lazily).
    import fastx402.store as store_pkg

    assert store_pkg.RedisStore is RedisStore
    assert store_pkg.SqliteStore is SqliteStore


def test_store_package_does_not_import_redis() -> None:
    code = (
        "import sys, fastx402.store as s; "
        "m = s.from_url('memory://'); q = s.from_url('sqlite://:memory:'); "
        "assert 'redis' not in sys.modules, 'redis imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_closed_store_refuses() -> None:
    s = MemoryStore()
    s.close()
    with pytest.raises(RuntimeError):
        s.get("k", now=T0)


def test_memory_prunes_expired_entries_lazily_and_bounded() -> None:
    s = MemoryStore(prune_batch=16)
    for i in range(100):
        s.claim(f"k{i}", "o", b"", expires_at=T0 + 1, now=T0)
        s.add(f"c{i}", 1, expires_at=T0 + 1, now=T0)
    s.claim("forever", "o", b"", expires_at=None, now=T0)
    claims, counters = s._impl._claims, s._impl._counters  # type: ignore[attr-defined]
    assert len(claims) == 101 and len(counters) == 100
    s.get("forever", now=T0 + 1)  # one call: at most 16 removed
    assert len(claims) + len(counters) == 201 - 16
    for _ in range(20):
        s.get("forever", now=T0 + 1)
    assert list(claims) == ["forever"] and counters == {}
    # A replaced entry is not removed at the old entry's expiry.
    s.claim("r", "a", b"", expires_at=T0 + 5, now=T0)
    assert s.update("r", "a", b"", expires_at=T0 + 50)
    for _ in range(5):
        s.get("x", now=T0 + 10)
    assert s.get("r", now=T0 + 10) == Entry("a", b"", T0 + 50)


def test_redis_ttl_collects_garbage_late(redis_server: RedisServer) -> None:
    import redis

    from fastx402.store.redis import TTL_GRACE, RedisStore

    client = redis.Redis(port=redis_server.port)
    s = RedisStore(client, prefix="ttl:")
    try:
        client.delete("ttl:c:k", "ttl:c:n", "ttl:n:c")
        # A clock decades behind the server's (frozen tests): keys are not collected early.
        s.claim("k", "o", b"v", expires_at=1000 + 30, now=1000)
        assert 30 + TTL_GRACE - 2 <= client.ttl("ttl:c:k") <= 30 + TTL_GRACE
        assert s.update("k", "o", b"w", expires_at=1000 + 300)
        assert 300 + TTL_GRACE - 2 <= client.ttl("ttl:c:k") <= 300 + TTL_GRACE
        assert s.update("k", "o", b"w", expires_at=None)
        assert client.ttl("ttl:c:k") == -1  # no TTL: never collected
        s.claim("n", "o", b"v", expires_at=None, now=1000)
        assert client.ttl("ttl:c:n") == -1
        s.add("c", 1, expires_at=1000 + 10, now=1000)
        assert 10 + TTL_GRACE - 2 <= client.ttl("ttl:n:c") <= 10 + TTL_GRACE
        s.add("c", 1, expires_at=MAX_INT, now=1000)  # too far for Redis: kept without a TTL
        assert client.ttl("ttl:n:c") == -1
        assert s.add("c", 1, expires_at=MAX_INT, now=1001) == 3
    finally:
        s.close()


# --- concurrency: threads, tasks, processes -------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_winner_among_64_tasks(backend: str, url_for: Callable[[str], str]) -> None:
    url = url_for(backend)

    async def main() -> None:
        async with async_from_url(url) as s:
            for round_ in range(3):
                key = f"race{round_}"
                results = await asyncio.gather(
                    *(
                        s.claim(key, f"task{i}", b"%d" % i, expires_at=None, now=T0)
                        for i in range(64)
                    )
                )
                winners = [i for i, r in enumerate(results) if r is None]
                assert len(winners) == 1
                winner = Entry(f"task{winners[0]}", b"%d" % winners[0], None)
                assert all(r == winner for r in results if r is not None)
                assert await s.get(key, now=T0) == winner
            spent = await asyncio.gather(
                *(s.add_within("budget", 3, 100, expires_at=None, now=T0) for _ in range(64))
            )
            assert sum(added for added, _ in spent) == 33
            assert await s.add("budget", 0, expires_at=None, now=T0) == 99

    asyncio.run(asyncio.wait_for(main(), timeout=60))


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_winner_among_16_threads(backend: str, url_for: Callable[[str], str]) -> None:
    n = 16
    with from_url(url_for(backend)) as s:
        barrier = threading.Barrier(n)
        results: list[Entry | str | None] = ["not run"] * n
        added: list[int] = [0] * n

        def work(i: int) -> None:
            barrier.wait(timeout=30)
            results[i] = s.claim("race", f"thread{i}", b"", expires_at=T0 + 60, now=T0)
            for _ in range(10):
                added[i] += s.add_within("budget", 1, 100, expires_at=None, now=T0)[0]

        threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads)
        assert results.count(None) == 1
        assert "not run" not in results
        assert sum(added) == 100
        assert s.add("budget", 0, expires_at=None, now=T0) == 100


def _process_worker(
    url: str, name: str, keys: int, tries: int, limit: int, barrier: Any, out: Any
) -> None:  # pragma: no cover - runs in a spawned process
    """After the barrier: claims keys 0..keys-1, then tries add_within(1, limit) `tries` times."""
    try:
        with from_url(url) as s:
            barrier.wait(timeout=60)
            won = [
                k
                for k in range(keys)
                if s.claim(f"k{k}", name, b"", expires_at=None, now=T0) is None
            ]
            added = sum(
                s.add_within("budget", 1, limit, expires_at=None, now=T0)[0] for _ in range(tries)
            )
        out.put((name, won, added, None))
    except BaseException as exc:
        out.put((name, [], 0, repr(exc)))


@pytest.mark.parametrize("backend", SHARED)
def test_one_winner_among_4_processes(backend: str, url_for: Callable[[str], str]) -> None:
    url = url_for(backend)
    # No set-up: the workers also race to create the SQLite file, its schema and WAL mode.
    ctx = multiprocessing.get_context("spawn")
    n, keys, tries, limit = 4, 1000, 1000, 2500
    barrier = ctx.Barrier(n)
    out = ctx.Queue()
    procs = [
        ctx.Process(
            target=_process_worker, args=(url, f"proc{i}", keys, tries, limit, barrier, out)
        )
        for i in range(n)
    ]
    for p in procs:
        p.start()
    try:
        reports = [out.get(timeout=120) for _ in range(n)]
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)
    assert [r[3] for r in reports] == [None] * n, reports
    wins = Counter(k for _, won, _, _ in reports for k in won)
    assert wins == Counter(range(keys))  # every key won exactly once
    assert sum(r[2] for r in reports) == limit
    with from_url(url) as s:
        assert s.add("budget", 0, expires_at=None, now=T0) == limit
        for k in range(keys):
            entry = s.get(f"k{k}", now=T0)
            assert entry is not None and k in dict((r[0], r[1]) for r in reports)[entry.owner]


def test_async_sqlite_never_blocks_the_loop(tmp_path: Path) -> None:
    """A claim waiting on another process's write lock leaves the event loop free."""
    import sqlite3

    from fastx402.store.sqlite import AsyncSqliteStore

    path = tmp_path / "locked.db"

    async def main() -> None:
        async with AsyncSqliteStore(path, timeout=10) as s:
            assert await s.claim("warm", "o", b"", expires_at=None, now=T0) is None
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # holds the write lock, as another worker would
            try:
                claim = asyncio.ensure_future(s.claim("k", "o", b"v", expires_at=None, now=T0))
                ticks = 0
                for _ in range(20):
                    await asyncio.sleep(0.01)
                    ticks += 1
                assert ticks == 20 and not claim.done()  # the loop ran while the claim waited
            finally:
                other.execute("COMMIT")
                other.close()
            assert await asyncio.wait_for(claim, timeout=10) is None

    asyncio.run(main())
