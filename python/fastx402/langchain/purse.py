"""What every tool of one toolkit spends from, together: one set of budgets, breakers, ledger and
kill switch, whichever path (sync ``invoke`` or async ``ainvoke``) a tool call takes.

A tool builds a new paying client per call (parallel calls of one turn each get their own
connection), so budgets must not live in the client: a :class:`Purse` holds one
:class:`~fastx402.client.Spending` and its asyncio twin, an
:class:`~fastx402.client.AsyncSpending` over the *same* store and ledger (same session, same
key prefix), so a session budget counts the calls of both paths and a reservation on one is
seen by the other. It also remembers which assets, hosts and tools it was quoted for (what the
budget tool reports on).
"""

from __future__ import annotations

import asyncio
import threading

from fastx402._core import to_checksum_address
from fastx402.client import AsyncLedger, AsyncSpending, Quote, Spender, Spending, SpendPolicy
from fastx402.store import AsyncStore, Entry, Store


class _AsyncView(AsyncStore):
    """An :class:`AsyncStore` over a sync :class:`Store`: each primitive is already atomic in
    the store, so running it in a worker thread keeps it atomic and never blocks the loop."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def claim(
        self, key: str, owner: str, value: bytes, *, expires_at: int | None, now: int
    ) -> Entry | None:
        return await asyncio.to_thread(
            self.store.claim, key, owner, value, expires_at=expires_at, now=now
        )

    async def get(self, key: str, *, now: int) -> Entry | None:
        return await asyncio.to_thread(self.store.get, key, now=now)

    async def update(self, key: str, owner: str, value: bytes, *, expires_at: int | None) -> bool:
        return await asyncio.to_thread(self.store.update, key, owner, value, expires_at=expires_at)

    async def release(self, key: str, owner: str) -> bool:
        return await asyncio.to_thread(self.store.release, key, owner)

    async def add(self, key: str, amount: int, *, expires_at: int | None, now: int) -> int:
        return await asyncio.to_thread(self.store.add, key, amount, expires_at=expires_at, now=now)

    async def add_within(
        self, key: str, amount: int, limit: int, *, expires_at: int | None, now: int
    ) -> tuple[bool, int]:
        return await asyncio.to_thread(
            self.store.add_within, key, amount, limit, expires_at=expires_at, now=now
        )

    async def append(self, stream: str, record: bytes, *, now: int) -> int:
        return await asyncio.to_thread(self.store.append, stream, record, now=now)

    async def read(
        self, stream: str, *, after: int = 0, limit: int = 1000
    ) -> list[tuple[int, bytes]]:
        return await asyncio.to_thread(self.store.read, stream, after=after, limit=limit)

    async def close(self) -> None:
        """The sync store's owner closes it."""


class Purse:
    """One :class:`Spending` (budgets, breakers, ledger) for sync calls, its asyncio twin over
    the same store and ledger, and a kill switch.

    ``spending``: a :class:`Spending`, or a store URL for its counters (``memory://`` by
    default: this process; SQLite or Redis to share budgets between agent processes).
    ``ledger``: a ledger store URL (default: the per-user SQLite ledger).
    """

    def __init__(
        self,
        spending: Spending | str = "memory://",
        *,
        ledger: str | None = None,
        halt: threading.Event | None = None,
    ) -> None:
        self.spending = spending if isinstance(spending, Spending) else Spending(spending, ledger)
        core = self.spending.core
        ledger_view = AsyncLedger(
            _AsyncView(self.spending.ledger.store),
            stream=self.spending.ledger.stream,
            clock=self.spending.ledger.clock,
        )
        self.aspending = AsyncSpending(
            _AsyncView(self.spending.store),
            ledger_view,
            clock=core.clock,
            session=core.session,
            prefix=core.prefix,
        )
        # The operator's kill switch, shared by every tool of the toolkit (an Event, so it can
        # be set from any thread: the run's, a signal handler's, a supervisor's).
        self.halt = halt if halt is not None else threading.Event()
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], str] = {}  # (network, asset) -> symbol
        self._hosts: set[str] = set()
        self._spenders: set[Spender] = set()

    def kill(self) -> None:
        """Stop all spending: no tool signs or sends a payment after this (the run ends), in
        this process and in every process sharing the store."""
        self.halt.set()
        self.spending.kill()

    def halted(self, policy: SpendPolicy, *, store: bool = True) -> str | None:
        """Why spending is stopped (this kill switch, the policy's file or environment
        variable, or, with ``store``, the store's flag set by a process sharing it), or None.
        The paying path leaves the store to the reservation, which checks it on either path."""
        if self.halt.is_set():
            return "x402 spending is halted by the operator's kill switch"
        core = self.spending.core
        why = core.halted(policy)
        if why is None and store and self.spending.store.get(core.prefix + "halt", now=core.now()):
            why = "x402 spending is halted in the shared store"
        return why

    def saw(self, quote: Quote, spender: Spender) -> None:
        """Remember a quote's asset and host, and who spent (the budget tool reports on them)."""
        with self._lock:
            self._seen[(quote.network, to_checksum_address(quote.asset))] = quote.symbol
            self._hosts.add(quote.origin)
            self._spenders.add(spender)

    def assets(self) -> dict[tuple[str, str], str]:
        with self._lock:
            return dict(self._seen)

    def hosts(self) -> list[str]:
        with self._lock:
            return sorted(self._hosts)

    def spenders(self) -> list[Spender]:
        with self._lock:
            return list(self._spenders)

    def close(self) -> None:
        self.spending.close()


__all__ = ["Purse"]
