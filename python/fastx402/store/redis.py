"""Redis store (``pip install 'fastx402[redis]'``): shared by processes on any number of hosts.

Guarantees: each operation is one Lua script or one command on one key, which Redis runs
atomically, so ``claim`` has exactly one winner among every client of the server (and the store
works on Redis Cluster: no script touches two keys). Durability is Redis's: configure AOF
(``appendonly yes``, ``appendfsync always`` for replay records) if a server crash must not lose
claims; a failover to a replica may lose the last writes.

Liveness is decided by the stored ``expires_at`` against the caller's ``now``, never by Redis's
clock. Redis TTLs only collect garbage, and late: a key expires ``expires_at - now`` seconds
(measured at the write) plus :data:`TTL_GRACE` after the write, so a logically live entry is
never dropped early even when the caller's clock runs behind the server's. ``expires_at=None``
keys have no TTL. ``update`` has no ``now``: it measures the TTL from the ``now`` of the claim.

Layout under ``prefix`` (default ``fastx402:``): claims are hashes ``{prefix}c:{key}`` (owner
``o``, value ``v``, expiry ``e``, claim time ``b``), counters hashes ``{prefix}n:{key}`` (total
``n``, expiry ``e``), logs lists ``{prefix}l:{stream}`` (the sequence is the list position).
Counter arithmetic in scripts is exact within +-2**53.
"""

from __future__ import annotations

from typing import Any

try:
    import redis
    import redis.asyncio
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "fastx402.store.redis needs the redis client: pip install 'fastx402[redis]'"
    ) from exc

from fastx402.store import (
    AsyncStore,
    Entry,
    Store,
    check_claim,
    check_expiry,
    check_int,
    check_read,
    is_live,
)

__all__ = ["DEFAULT_PREFIX", "TTL_GRACE", "AsyncRedisStore", "RedisStore"]

DEFAULT_PREFIX = "fastx402:"
TTL_GRACE = 60
"""Seconds a Redis key outlives its logical expiry before Redis may collect it."""

# Sets the TTL of `key` to (expires_at - base) + grace seconds, at least grace; none when
# expires_at is '' (never) or too far to express (Lua numbers are doubles: format with %d).
_TTL = """
local function ttl(key, expires_at, base, grace)
  if expires_at == '' then
    redis.call('PERSIST', key)
    return
  end
  local t = math.max(tonumber(expires_at) - tonumber(base), 0) + tonumber(grace)
  if t > 1e12 then
    redis.call('PERSIST', key)
  else
    redis.call('EXPIRE', key, string.format('%d', t))
  end
end
"""

# ARGV: owner, value, expires_at ('' = never), now, grace. Returns nil if claimed, else o, v, e.
_CLAIM = (
    _TTL
    + """
local e = redis.call('HGET', KEYS[1], 'e')
if e and (e == '' or tonumber(e) > tonumber(ARGV[4])) then
  return redis.call('HMGET', KEYS[1], 'o', 'v', 'e')
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'o', ARGV[1], 'v', ARGV[2], 'e', ARGV[3], 'b', ARGV[4])
ttl(KEYS[1], ARGV[3], ARGV[4], ARGV[5])
return false
"""
)

# ARGV: owner, value, expires_at ('' = never), grace. Returns 1 if updated.
_UPDATE = (
    _TTL
    + """
if redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'e', ARGV[3])
ttl(KEYS[1], ARGV[3], redis.call('HGET', KEYS[1], 'b'), ARGV[4])
return 1
"""
)

# ARGV: owner. Returns 1 if deleted.
_RELEASE = """
if redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""

# ARGV: amount, limit ('' = none), expires_at ('' = never), now, grace. Returns {added, total}.
_ADD = (
    _TTL
    + """
local now = tonumber(ARGV[4])
local total = 0
local e = redis.call('HGET', KEYS[1], 'e')
if e and (e == '' or tonumber(e) > now) then
  total = tonumber(redis.call('HGET', KEYS[1], 'n'))
end
local amount = tonumber(ARGV[1])
if ARGV[2] ~= '' and total + amount > tonumber(ARGV[2]) then return {0, total} end
total = total + amount
redis.call('HSET', KEYS[1], 'n', string.format('%d', total), 'e', ARGV[3])
ttl(KEYS[1], ARGV[3], ARGV[4], ARGV[5])
return {1, total}
"""
)


def _exp(expires_at: int | None) -> str:
    return "" if expires_at is None else str(expires_at)


def _bytes(item: bytes | str) -> bytes:
    return item if isinstance(item, bytes) else item.encode()


def _entry(fields: list[Any] | None, now: int | None = None) -> Entry | None:
    """``HMGET o v e`` -> an Entry (None if missing, or dead at ``now`` when given)."""
    if fields is None or fields[0] is None:
        return None
    owner, value, e = fields
    expires_at = None if e in (b"", "") else int(e)
    if now is not None and not is_live(expires_at, now):
        return None
    return Entry(
        owner.decode() if isinstance(owner, bytes) else str(owner), bytes(value), expires_at
    )


def _client_url(url: str) -> dict[str, Any]:
    # Values come back as bytes: the store decodes owners itself.
    return {"url": url, "decode_responses": False}


class _Keys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def claim(self, key: str) -> str:
        return f"{self.prefix}c:{key}"

    def counter(self, key: str) -> str:
        return f"{self.prefix}n:{key}"

    def log(self, stream: str) -> str:
        return f"{self.prefix}l:{stream}"


def _add_args(amount: int, limit: int | None, expires_at: int | None, now: int) -> list[str | int]:
    check_int("amount", amount)
    check_int("now", now)
    check_expiry(expires_at)
    return [amount, "" if limit is None else check_int("limit", limit), _exp(expires_at), now,
            TTL_GRACE]  # fmt: skip


class RedisStore(Store):
    """A :class:`~fastx402.store.Store` on a ``redis.Redis`` client (sync, thread-safe).

    The client must return bytes (``decode_responses=False``, the default).
    """

    def __init__(self, client: redis.Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._keys = _Keys(prefix)
        self._claim = client.register_script(_CLAIM)
        self._update = client.register_script(_UPDATE)
        self._release = client.register_script(_RELEASE)
        self._add = client.register_script(_ADD)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> RedisStore:
        """``redis://host:port/db``, ``rediss://...`` (TLS) or ``unix:///path.sock``."""
        return cls(redis.Redis.from_url(**_client_url(url)), prefix=prefix)

    def claim(
        self, key: str, owner: str, value: bytes, *, expires_at: int | None, now: int
    ) -> Entry | None:
        check_claim(key, owner, value)
        check_expiry(expires_at)
        check_int("now", now)
        fields = self._claim(
            keys=[self._keys.claim(key)], args=[owner, value, _exp(expires_at), now, TTL_GRACE]
        )
        return _entry(fields)

    def get(self, key: str, *, now: int) -> Entry | None:
        check_int("now", now)
        return _entry(self._client.hmget(self._keys.claim(key), ["o", "v", "e"]), now)

    def update(self, key: str, owner: str, value: bytes, *, expires_at: int | None) -> bool:
        check_claim(key, owner, value)
        check_expiry(expires_at)
        args: list[str | bytes | int] = [owner, value, _exp(expires_at), TTL_GRACE]
        return bool(self._update(keys=[self._keys.claim(key)], args=args))

    def release(self, key: str, owner: str) -> bool:
        return bool(self._release(keys=[self._keys.claim(key)], args=[owner]))

    def add(self, key: str, amount: int, *, expires_at: int | None, now: int) -> int:
        args = _add_args(amount, None, expires_at, now)
        _, total = self._add(keys=[self._keys.counter(key)], args=args)
        return int(total)

    def add_within(
        self, key: str, amount: int, limit: int, *, expires_at: int | None, now: int
    ) -> tuple[bool, int]:
        args = _add_args(amount, limit, expires_at, now)
        added, total = self._add(keys=[self._keys.counter(key)], args=args)
        return bool(added), int(total)

    def append(self, stream: str, record: bytes, *, now: int) -> int:
        if not isinstance(record, bytes):
            raise TypeError(f"record must be bytes, not {type(record).__name__}")
        check_int("now", now)
        return int(self._client.rpush(self._keys.log(stream), record))

    def read(self, stream: str, *, after: int = 0, limit: int = 1000) -> list[tuple[int, bytes]]:
        check_read(after, limit)
        if limit == 0:
            return []
        items = self._client.lrange(self._keys.log(stream), after, after + limit - 1)
        return list(enumerate(map(_bytes, items), start=after + 1))

    def close(self) -> None:
        self._client.close()


class AsyncRedisStore(AsyncStore):
    """An :class:`~fastx402.store.AsyncStore` on a ``redis.asyncio.Redis`` client."""

    def __init__(self, client: redis.asyncio.Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._keys = _Keys(prefix)
        self._claim = client.register_script(_CLAIM)
        self._update = client.register_script(_UPDATE)
        self._release = client.register_script(_RELEASE)
        self._add = client.register_script(_ADD)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> AsyncRedisStore:
        """``redis://host:port/db``, ``rediss://...`` (TLS) or ``unix:///path.sock``."""
        return cls(redis.asyncio.Redis.from_url(**_client_url(url)), prefix=prefix)

    async def claim(
        self, key: str, owner: str, value: bytes, *, expires_at: int | None, now: int
    ) -> Entry | None:
        check_claim(key, owner, value)
        check_expiry(expires_at)
        check_int("now", now)
        fields = await self._claim(
            keys=[self._keys.claim(key)], args=[owner, value, _exp(expires_at), now, TTL_GRACE]
        )
        return _entry(fields)

    async def get(self, key: str, *, now: int) -> Entry | None:
        check_int("now", now)
        return _entry(await self._client.hmget(self._keys.claim(key), ["o", "v", "e"]), now)

    async def update(self, key: str, owner: str, value: bytes, *, expires_at: int | None) -> bool:
        check_claim(key, owner, value)
        check_expiry(expires_at)
        args: list[str | bytes | int] = [owner, value, _exp(expires_at), TTL_GRACE]
        return bool(await self._update(keys=[self._keys.claim(key)], args=args))

    async def release(self, key: str, owner: str) -> bool:
        return bool(await self._release(keys=[self._keys.claim(key)], args=[owner]))

    async def add(self, key: str, amount: int, *, expires_at: int | None, now: int) -> int:
        args = _add_args(amount, None, expires_at, now)
        _, total = await self._add(keys=[self._keys.counter(key)], args=args)
        return int(total)

    async def add_within(
        self, key: str, amount: int, limit: int, *, expires_at: int | None, now: int
    ) -> tuple[bool, int]:
        args = _add_args(amount, limit, expires_at, now)
        added, total = await self._add(keys=[self._keys.counter(key)], args=args)
        return bool(added), int(total)

    async def append(self, stream: str, record: bytes, *, now: int) -> int:
        if not isinstance(record, bytes):
            raise TypeError(f"record must be bytes, not {type(record).__name__}")
        check_int("now", now)
        return int(await self._client.rpush(self._keys.log(stream), record))

    async def read(
        self, stream: str, *, after: int = 0, limit: int = 1000
    ) -> list[tuple[int, bytes]]:
        check_read(after, limit)
        if limit == 0:
            return []
        items = await self._client.lrange(self._keys.log(stream), after, after + limit - 1)
        return list(enumerate(map(_bytes, items), start=after + 1))

    async def close(self) -> None:
        await self._client.aclose()
