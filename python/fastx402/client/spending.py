"""Spending: rolling budgets, circuit breakers, the kill switch and the ledger, around each payment.

One payment is a :class:`Reservation`: :meth:`Spending.reserve` writes the ``intent`` to the
ledger, checks the kill switch and the breakers, then reserves the quoted amount on every budget
that applies with :meth:`~fastx402.store.Store.add_within` (atomic: parallel tool calls never
check-then-spend) on counters keyed by the window's start and expiring at its end. A refusal
gives back whatever it took and raises :class:`~fastx402.client.PaymentRefused`
(``budget_exhausted: …``, ``rate_limited: …``, ``breaker_open: …``, ``repeated_call: …``)
before anything is signed. Then:

* :meth:`Reservation.signed` / :meth:`Reservation.sent` record those phases (the kill switch is
  checked once more before sending: a payment never sent is released);
* :meth:`Reservation.commit` with the receipt: ``paid`` keeps what the receipt says was charged
  (and gives back the rest, for schemes that may charge less than quoted), ``not_charged``
  releases everything, ``unknown`` keeps the quoted amount until reconciled;
* :meth:`Reservation.release` (provably not charged) and :meth:`Reservation.keep` (may have
  been charged) for the paths without a receipt.

The logic is written once as plans of store operations, run by :class:`Spending` on a sync
:class:`~fastx402.store.Store` and by :class:`AsyncSpending` on an
:class:`~fastx402.store.AsyncStore`.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_FLOOR, Decimal
from typing import Any, TypeVar

from fastx402._core import PaymentPayload, find_asset, to_checksum_address
from fastx402.client.ledger import AsyncLedger, Ledger
from fastx402.client.policy import Budget, SpendPolicy, Window
from fastx402.client.quote import Quote
from fastx402.client.receipt import Receipt
from fastx402.errors import X402Error
from fastx402.store import AsyncStore, Store, async_from_url, from_url

T = TypeVar("T")
SPENDER = "fastx402_spender"
PREFIX = "fastx402:spend:"


# How long a reconciled payment's claim is remembered (a second reconcile is refused).
RECONCILE_MEMORY = 90 * 86400


class ReconcileError(X402Error, ValueError):
    """A receipt that cannot finish a payment: unknown id, already final, another quote."""


class SpendingHalted(X402Error):
    """The kill switch is on: nothing is signed or sent until it is off. Not a
    :class:`~fastx402.client.PaymentRefused`: a hard stop, not a policy answer to retry."""


@dataclass(frozen=True)
class Spender:
    """Who spends: the agent, the tool it called, the user it acts for (all optional)."""

    agent: str | None = None
    tool: str | None = None
    user: str | None = None

    def over(self, default: Spender | None) -> Spender:
        """These fields, the default's where unset."""
        if default is None:
            return self
        return Spender(
            self.agent or default.agent, self.tool or default.tool, self.user or default.user
        )


def spender_of(extensions: Mapping[str, Any], default: Spender | None) -> Spender:
    """The per-call spender (``request.extensions["fastx402_spender"]``, a Spender or a dict)
    over the client's default."""
    given = extensions.get(SPENDER)
    if given is None:
        return default or Spender()
    if isinstance(given, Mapping):
        given = Spender(**given)
    if not isinstance(given, Spender):
        raise TypeError(f"{SPENDER}: a Spender or a dict, not {type(given).__name__}")
    return given.over(default)


def window_bounds(window: Window, now: int, session: str) -> tuple[str, int | None]:
    """The window's id (its start) and its end (None: the session's, never expires)."""
    if window == "session":
        return f"s{session}", None
    if window == "hour":
        start = now - now % 3600
        return str(start), start + 3600
    if window == "day":
        start = now - now % 86400
        return str(start), start + 86400
    d = datetime.fromtimestamp(now, timezone.utc)
    start_dt = datetime(d.year, d.month, 1, tzinfo=timezone.utc)
    end_dt = datetime(d.year + d.month // 12, d.month % 12 + 1, 1, tzinfo=timezone.utc)
    return str(int(start_dt.timestamp())), int(end_dt.timestamp())


def _atomic(limit: Decimal, decimals: int) -> int:
    return int((limit * (Decimal(10) ** decimals)).to_integral_value(ROUND_FLOOR))


def nonce_of(payment: PaymentPayload) -> str | None:
    """The authorization's nonce (EIP-3009 or Permit2), never the signature."""
    payload = payment.payload
    for name in ("authorization", "permit2Authorization"):
        part = payload.get(name)
        if isinstance(part, dict) and part.get("nonce") is not None:
            return str(part["nonce"])
    return None


# --- plans: generators of store operations ----------------------------------------------------

Op = tuple[str, str, tuple[Any, ...], dict[str, Any]]  # (target "s"|"l", method, args, kwargs)
Plan = Generator[Op, Any, T]


def _s(method: str, *args: Any, **kwargs: Any) -> Op:
    return ("s", method, args, kwargs)


def _log(record: dict[str, Any]) -> Op:
    return ("l", "append", (record,), {})


class _Refused(Exception):
    pass


@dataclass
class _Hold:
    """One reservation's state: the counters it holds and its ledger record."""

    record: dict[str, Any]
    amount: int
    budgets: list[tuple[str, int | None]] = field(default_factory=list)
    done: bool = False


class _Core:
    def __init__(
        self,
        clock: Callable[[], float],
        session: str | None,
        prefix: str,
    ) -> None:
        self.clock = clock
        self.session = session or uuid.uuid4().hex[:16]
        self.prefix = prefix
        self.killed = False

    def now(self) -> int:
        return int(self.clock())

    def halted(self, policy: SpendPolicy) -> str | None:
        if self.killed:
            return "kill switch: kill() was called"
        if policy.kill_file and os.path.exists(policy.kill_file):
            return f"kill switch: {policy.kill_file} exists"
        if policy.kill_env and os.environ.get(policy.kill_env):
            return f"kill switch: {policy.kill_env} is set"
        return None

    def reserve(self, quote: Quote, policy: SpendPolicy, spender: Spender, now: int) -> Plan[_Hold]:
        p = self.prefix
        why = self.halted(policy)
        if why is None and (yield _s("get", p + "halt", now=now)) is not None:
            why = "kill switch: halted in the store"
        if why is not None:
            raise SpendingHalted(why)
        record: dict[str, Any] = {
            "id": os.urandom(16).hex(),  # random like uuid4().hex, at a fifth of its cost
            "at": now,
            "method": quote.method,
            "url": quote.url,
            "origin": quote.origin,
            "network": quote.network,
            "asset": quote.asset,
            "symbol": quote.symbol,
            "pay_to": quote.pay_to,
            "amount": quote.amount,
            "price": str(quote.price),
            "agent": spender.agent,
            "tool": spender.tool,
            "user": spender.user,
        }
        hold = _Hold(record, quote.amount)
        yield _log({**record, "phase": "intent"})
        taken: list[tuple[str, int, int | None]] = []
        try:
            payee = to_checksum_address(quote.pay_to)
            if policy.breaker_failures is not None and (
                (yield _s("get", f"{p}breaker:{payee}", now=now)) is not None
            ):
                raise _Refused(f"breaker_open: payments to {payee} are paused")
            if policy.max_repeats is not None:
                w = max(policy.repeat_window, 1)
                start = now - now % w
                key = f"{p}repeat:{start}:{quote.method} {quote.url}"
                ok, _ = yield _s(
                    "add_within", key, 1, policy.max_repeats, expires_at=start + w, now=now
                )
                if not ok:
                    raise _Refused(
                        f"repeated_call: {quote.method} {quote.url} paid {policy.max_repeats}"
                        f" times in {w}s"
                    )
                taken.append((key, 1, start + w))
            if policy.max_payments_per_minute is not None:
                start = now - now % 60
                key = f"{p}rate:{start}"
                ok, _ = yield _s(
                    "add_within",
                    key,
                    1,
                    policy.max_payments_per_minute,
                    expires_at=start + 60,
                    now=now,
                )
                if not ok:
                    raise _Refused(
                        f"rate_limited: {policy.max_payments_per_minute} payments per minute"
                    )
                taken.append((key, 1, start + 60))
            for budget in policy.budgets:
                bkey, limit, end, who = self._budget_key(budget, quote, spender, now)
                if bkey is None:
                    continue
                ok, total = yield _s(
                    "add_within", bkey, quote.amount, limit, expires_at=end, now=now
                )
                if not ok:
                    left = Decimal(max(limit - total, 0)) / (Decimal(10) ** self._decimals(quote))
                    raise _Refused(
                        f"budget_exhausted: {budget.window} budget of {budget.limit}"
                        f" {quote.symbol} {who}has {left} left, {quote.price} asked"
                    )
                taken.append((bkey, quote.amount, end))
                hold.budgets.append((bkey, end))
        except _Refused as refused:
            for key, amount, end in reversed(taken):
                if end is None or now < end:
                    yield _s("add", key, -amount, expires_at=end, now=now)
            hold.done = True
            yield _log({**record, "phase": "not_charged", "at": now, "reason": str(refused)})
            from fastx402.client.transport import PaymentRefused

            raise PaymentRefused(f"{refused} ({quote.describe()})", (str(refused),)) from None
        return hold

    @staticmethod
    def _decimals(quote: Quote) -> int:
        return int(find_asset(quote.network, quote.asset)["decimals"])

    def _budget_key(
        self, budget: Budget, quote: Quote, spender: Spender, now: int
    ) -> tuple[str | None, int, int | None, str]:
        asset = to_checksum_address(quote.asset)
        if budget.asset is not None and budget.asset != (quote.network, asset):
            return None, 0, None, ""
        start, end = window_bounds(budget.window, now, self.session)
        if budget.per == "all":
            who = ""
        elif budget.per == "host":
            who = quote.origin
        else:
            who = getattr(spender, budget.per) or "-"
        limit = _atomic(budget.limit, self._decimals(quote))
        key = (
            f"{self.prefix}budget:{budget.window}:{start}:{budget.per}:{who}:"
            f"{quote.network}:{asset}:{limit}"
        )
        return key, limit, end, (f"for {budget.per} {who} " if who else "")

    def give_back(self, hold: _Hold, amount: int, now: int) -> Plan[None]:
        if amount > 0:
            for key, end in hold.budgets:
                if end is None or now < end:
                    yield _s("add", key, -amount, expires_at=end, now=now)

    def failure(self, hold: _Hold, policy: SpendPolicy, now: int) -> Plan[None]:
        if policy.breaker_failures is None:
            return
        payee = to_checksum_address(hold.record["pay_to"])
        key = f"{self.prefix}failures:{payee}"
        n = yield _s("add", key, 1, expires_at=now + policy.breaker_cooldown, now=now)
        if n >= policy.breaker_failures:
            yield _s(
                "claim",
                f"{self.prefix}breaker:{payee}",
                hold.record["id"],
                b"",
                expires_at=now + policy.breaker_cooldown,
                now=now,
            )
            yield _s("add", key, -n, expires_at=now + policy.breaker_cooldown, now=now)

    def success(self, hold: _Hold, policy: SpendPolicy, now: int) -> Plan[None]:
        if policy.breaker_failures is None:
            return
        key = f"{self.prefix}failures:{to_checksum_address(hold.record['pay_to'])}"
        n = yield _s("add", key, 0, expires_at=now + policy.breaker_cooldown, now=now)
        if n:
            yield _s("add", key, -n, expires_at=now + policy.breaker_cooldown, now=now)

    def finish(
        self,
        hold: _Hold,
        policy: SpendPolicy,
        phase: str,
        now: int,
        *,
        charged: int | None = None,
        reason: str | None = None,
        transaction: str | None = None,
        counts_as_failure: bool = True,
    ) -> Plan[None]:
        if hold.done:
            return
        hold.done = True
        record = {**hold.record, "phase": phase, "at": now}
        if reason is not None:
            record["reason"] = reason
        if transaction is not None:
            record["transaction"] = transaction
        if phase == "settled":
            charged = hold.amount if charged is None else charged
            record["amount"] = charged
            decimals = self._decimals_of(hold)
            record["price"] = str(Decimal(charged) / (Decimal(10) ** decimals))
            yield from self.give_back(hold, hold.amount - charged, now)
            yield _log(record)
            yield from self.success(hold, policy, now)
        elif phase == "not_charged":
            yield from self.give_back(hold, hold.amount, now)
            yield _log(record)
            if counts_as_failure:
                yield from self.failure(hold, policy, now)
        else:  # unknown: the reservation stays, at the quoted amount
            yield _log(record)
            yield from self.failure(hold, policy, now)

    @staticmethod
    def _decimals_of(hold: _Hold) -> int:
        return int(find_asset(hold.record["network"], hold.record["asset"])["decimals"])

    def reconcile(self, receipt: Receipt, policy: SpendPolicy, now: int) -> Plan[str]:
        """Finish a payment left ``unknown`` (or ``signed``/``sent`` by a crash) with a later
        receipt of the same signed payment: the ledger's final phase, the budgets given back
        as for :meth:`commit`. Exactly once per payment (a claim on the store)."""
        pid = receipt.payment_id
        if pid is None:
            raise ReconcileError("the receipt names no payment (payment_id)")
        history = yield ("l", "history", (pid,), {})
        if not history:
            raise ReconcileError(f"no payment {pid} in the ledger")
        phase = history[-1]["phase"]
        if phase in ("settled", "not_charged"):
            raise ReconcileError(f"payment {pid} is already {phase}")
        intent, quote = history[0], receipt.quote
        if (intent["url"], int(intent["amount"]), intent["network"]) != (
            quote.url,
            quote.amount,
            quote.network,
        ) or to_checksum_address(intent["pay_to"]) != to_checksum_address(quote.pay_to):
            raise ReconcileError(f"the receipt's quote is not payment {pid}'s")
        if receipt.outcome == "unknown":
            return "unknown"
        claimed = yield _s(
            "claim",
            f"{self.prefix}reconciled:{pid}",
            "reconcile",
            b"",
            expires_at=now + RECONCILE_MEMORY,
            now=now,
        )
        if claimed is not None:
            raise ReconcileError(f"payment {pid} is already reconciled")
        record = {k: v for k, v in intent.items() if k not in ("seq", "phase")}
        hold = _Hold(record, int(intent["amount"]))
        spender = Spender(intent.get("agent"), intent.get("tool"), intent.get("user"))
        for budget in policy.budgets:
            # Session budgets are left as they are: the session that reserved may be another
            # (keeping its reservation can only under-spend, never overspend).
            if budget.window != "session":
                key, _, end, _ = self._budget_key(budget, quote, spender, int(intent["at"]))
                if key is not None:
                    hold.budgets.append((key, end))
        yield from self.commit(hold, policy, receipt, now)
        return "settled" if receipt.outcome == "paid" else "not_charged"

    def commit(self, hold: _Hold, policy: SpendPolicy, receipt: Receipt, now: int) -> Plan[None]:
        if receipt.outcome == "paid":
            yield from self.finish(
                hold,
                policy,
                "settled",
                now,
                charged=receipt.amount,
                transaction=receipt.transaction,
            )
        elif receipt.outcome == "not_charged":
            yield from self.finish(hold, policy, "not_charged", now, reason=receipt.reason)
        else:
            yield from self.finish(hold, policy, "unknown", now, reason=receipt.reason)


def _run(plan: Plan[T], store: Store, ledger: Ledger) -> T:
    try:
        op = next(plan)
        while True:
            target, method, args, kwargs = op
            obj: Any = store if target == "s" else ledger
            op = plan.send(getattr(obj, method)(*args, **kwargs))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def _arun(plan: Plan[T], store: AsyncStore, ledger: AsyncLedger) -> T:
    try:
        op = next(plan)
        while True:
            target, method, args, kwargs = op
            obj: Any = store if target == "s" else ledger
            op = plan.send(await getattr(obj, method)(*args, **kwargs))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


# --- the sync and async front ends -------------------------------------------------------------


class Reservation:
    """One payment's reservation (sync). Finish it exactly once: commit, release or keep."""

    def __init__(self, spending: Spending, hold: _Hold, policy: SpendPolicy) -> None:
        self._spending = spending
        self._hold = hold
        self._policy = policy

    @property
    def id(self) -> str:
        return str(self._hold.record["id"])

    @property
    def record(self) -> Mapping[str, Any]:
        return self._hold.record

    def _log(self, phase: str, **extra: Any) -> None:
        record = {**self._hold.record, "phase": phase, "at": self._spending.core.now(), **extra}
        self._spending.ledger.append(record)

    def signed(self, payment: PaymentPayload) -> None:
        self._log("signed", nonce=nonce_of(payment), payer=payment.payer)

    def sent(self) -> None:
        """Before the payment goes out: the kill switch once more, then the ``sent`` phase."""
        why = self._spending.core.halted(self._policy)
        if why is not None:
            self.release(why)
            raise SpendingHalted(why)
        self._log("sent")

    def commit(self, receipt: Receipt) -> None:
        s = self._spending
        _run(s.core.commit(self._hold, self._policy, receipt, s.core.now()), s.store, s.ledger)

    def release(self, reason: str, *, failure: bool = False) -> None:
        """Provably not charged (refused or failed before sending)."""
        s = self._spending
        plan = s.core.finish(
            self._hold,
            self._policy,
            "not_charged",
            s.core.now(),
            reason=reason,
            counts_as_failure=failure,
        )
        _run(plan, s.store, s.ledger)

    def keep(self, reason: str) -> None:
        """May have been charged: the reservation stays at the quoted amount."""
        s = self._spending
        _run(
            s.core.finish(self._hold, self._policy, "unknown", s.core.now(), reason=reason),
            s.store,
            s.ledger,
        )


class AsyncReservation:
    """The asyncio twin of :class:`Reservation`."""

    def __init__(self, spending: AsyncSpending, hold: _Hold, policy: SpendPolicy) -> None:
        self._spending = spending
        self._hold = hold
        self._policy = policy

    @property
    def id(self) -> str:
        return str(self._hold.record["id"])

    async def _log(self, phase: str, **extra: Any) -> None:
        record = {**self._hold.record, "phase": phase, "at": self._spending.core.now(), **extra}
        await self._spending.ledger.append(record)

    async def signed(self, payment: PaymentPayload) -> None:
        await self._log("signed", nonce=nonce_of(payment), payer=payment.payer)

    async def sent(self) -> None:
        why = self._spending.core.halted(self._policy)
        if why is not None:
            await self.release(why)
            raise SpendingHalted(why)
        await self._log("sent")

    async def commit(self, receipt: Receipt) -> None:
        s = self._spending
        plan = s.core.commit(self._hold, self._policy, receipt, s.core.now())
        await _arun(plan, s.store, s.ledger)

    async def release(self, reason: str, *, failure: bool = False) -> None:
        s = self._spending
        plan = s.core.finish(
            self._hold,
            self._policy,
            "not_charged",
            s.core.now(),
            reason=reason,
            counts_as_failure=failure,
        )
        await _arun(plan, s.store, s.ledger)

    async def keep(self, reason: str) -> None:
        s = self._spending
        plan = s.core.finish(self._hold, self._policy, "unknown", s.core.now(), reason=reason)
        await _arun(plan, s.store, s.ledger)


class Spending:
    """Budgets, breakers, kill switch and ledger for sync clients.

    ``store``: where counters live (``memory://`` by default: one process; a SQLite or Redis URL
    shares budgets between processes or hosts). ``ledger``: a :class:`Ledger` or a store URL
    (per user by default: ``fastx402.client.ledger.default_ledger_url``). ``clock`` returns
    Unix seconds; ``session`` names the session budgets (a new one per instance by default).
    """

    def __init__(
        self,
        store: Store | str = "memory://",
        ledger: Ledger | str | None = None,
        *,
        clock: Callable[[], float] = time.time,
        session: str | None = None,
        prefix: str = PREFIX,
    ) -> None:
        self._owns_store = isinstance(store, str)
        self.store = from_url(store) if isinstance(store, str) else store
        self._owns_ledger = not isinstance(ledger, Ledger)
        if isinstance(ledger, Ledger):
            self.ledger = ledger
        else:
            self.ledger = Ledger(ledger) if ledger is not None else Ledger(clock=clock)
        self.core = _Core(clock, session, prefix)

    def reserve(
        self, quote: Quote, policy: SpendPolicy, spender: Spender | None = None
    ) -> Reservation:
        """Reserve ``quote`` on every budget (or raise PaymentRefused / SpendingHalted)."""
        plan = self.core.reserve(quote, policy, spender or Spender(), self.core.now())
        return Reservation(self, _run(plan, self.store, self.ledger), policy)

    def reconcile(self, receipt: Receipt, policy: SpendPolicy) -> str:
        """Finish an ``unknown`` payment from a later receipt of the same signed payment
        (:func:`fastx402.client.reconcile.receipt_of_answer` reads it from the resent
        request's answer): ``settled`` or ``not_charged`` is written to the ledger and the
        budgets are given back as the receipt says; an ``unknown`` receipt changes nothing.
        Returns the payment's phase. ``policy``: the one it was reserved under."""
        plan = self.core.reconcile(receipt, policy, self.core.now())
        return _run(plan, self.store, self.ledger)

    def kill(self) -> None:
        """Stop all spending of this process at once (and of every process sharing the store)."""
        self.core.killed = True
        self.store.claim(self.core.prefix + "halt", "kill", b"", expires_at=None, now=0)

    def resume(self) -> None:
        self.core.killed = False
        self.store.release(self.core.prefix + "halt", "kill")

    def close(self) -> None:
        if self._owns_store:
            self.store.close()
        if self._owns_ledger:
            self.ledger.close()


class AsyncSpending:
    """The asyncio twin of :class:`Spending` (over an AsyncStore and an :class:`AsyncLedger`)."""

    def __init__(
        self,
        store: AsyncStore | str = "memory://",
        ledger: AsyncLedger | str | None = None,
        *,
        clock: Callable[[], float] = time.time,
        session: str | None = None,
        prefix: str = PREFIX,
    ) -> None:
        self._owns_store = isinstance(store, str)
        self.store = async_from_url(store) if isinstance(store, str) else store
        self._owns_ledger = not isinstance(ledger, AsyncLedger)
        if isinstance(ledger, AsyncLedger):
            self.ledger = ledger
        else:
            self.ledger = AsyncLedger(ledger) if ledger is not None else AsyncLedger(clock=clock)
        self.core = _Core(clock, session, prefix)

    async def reserve(
        self, quote: Quote, policy: SpendPolicy, spender: Spender | None = None
    ) -> AsyncReservation:
        plan = self.core.reserve(quote, policy, spender or Spender(), self.core.now())
        return AsyncReservation(self, await _arun(plan, self.store, self.ledger), policy)

    async def reconcile(self, receipt: Receipt, policy: SpendPolicy) -> str:
        """See :meth:`Spending.reconcile`."""
        plan = self.core.reconcile(receipt, policy, self.core.now())
        return await _arun(plan, self.store, self.ledger)

    def kill(self) -> None:
        """Stop all spending of this process at once (see :meth:`akill` for the store too)."""
        self.core.killed = True

    async def akill(self) -> None:
        self.core.killed = True
        await self.store.claim(self.core.prefix + "halt", "kill", b"", expires_at=None, now=0)

    async def resume(self) -> None:
        self.core.killed = False
        await self.store.release(self.core.prefix + "halt", "kill")

    async def close(self) -> None:
        if self._owns_store:
            await self.store.close()
        if self._owns_ledger:
            await self.ledger.close()
