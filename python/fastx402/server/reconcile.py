"""Reconciliation of seller records whose settlement outcome is unknown.

A facilitator that times out, answers 5xx or garbage, or claims success without a transaction
leaves the record ``unknown``: nothing was served, and nobody knows yet whether the payer was
charged. A record is resolved either when the client retries with the same header or by a
reconciliation pass (``PaymentMiddleware.reconcile``, run periodically from the lifespan), by
asking the facilitator again, in one of two ways, never causing a second charge:

- **idempotent** facilitators (fastx402's in-process ``Facilitator`` and its HTTP service, the
  testing ``FakeFacilitator``): the same settle request again. An authorization they settled is
  answered with the stored result (a pending transaction is followed to its receipt, never
  re-signed); one they never received is settled now (its first and only charge; the response
  the handler produced is kept with the record and served on retry).
- **other** facilitators (the official ones settle again and answer "failed" when the nonce is
  already used, which must never be read as "not charged"): only ``/verify``, read-only. A
  nonce already used means the first settlement landed: *settled* (without a transaction hash,
  none was ever received). An authorization still unused ``grace`` seconds after the outcome
  became unknown is taken as *not charged* (the facilitator's own attempt has long ended; a
  transaction stuck in a mempool past that could still land before ``validBefore``: keep
  ``grace`` above the facilitator's settlement timeout). Anything else stays unknown.

Outcomes: *settled* (the record keeps the receipt; a retry gets the kept response or "already
used"), *not charged* (the record is deleted; a retry gets 402 "not charged" and may pay
again), *unknown* (kept, asked again later). Records become known to a pass through an
append-only log in the store, so that every worker and host sharing it can reconcile them.

**Stale in-flight records** (their process died mid-payment: the handler may have run, a
settlement may have been sent): every claim is also appended to the log with its deadline
(``in_flight_until``); a pass looks at it once the deadline is past, and a record still in flight
then is resolved like an unknown one but always **read-only**, whatever the facilitator (a new
settlement could charge for content never produced): nonce used => *settled*, and, unless the
handler had already served it (``optimistic``), ``serve_pending``: the payer's first retry runs
the handler once; still unused ``grace`` seconds after the deadline => *not charged* (deleted);
otherwise it becomes ``unknown`` (``read_only``) and is asked again later.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastx402._core import PaymentPayload, PaymentRequirements, SettleResponse
from fastx402.errors import FacilitatorError, FacilitatorUnavailable, SettlementOutcomeUnknown
from fastx402.server.records import IN_FLIGHT, Record
from fastx402.store import AsyncStore

UNKNOWN_LOG = "x402:unknown-records"
# Where passes share how far the log is done with (every entry before it resolved or finished):
# a worker starting afresh reads on from there, not from the log's first entry.
CHECKPOINT = "x402:unknown-records:checkpoint"
NONCE_USED = "invalid_exact_evm_nonce_already_used"
# One pass reads at most LOG_PAGES pages of LOG_PAGE log entries (one per claim: a fleet's
# paid requests), and looks at most MAX_PER_PASS records up; the rest wait for the next pass.
LOG_PAGE = 500
LOG_PAGES = 40
MAX_PER_PASS = 20000

Kind = Literal["settled", "not_charged", "unknown"]
_FAULTS = (FacilitatorUnavailable, FacilitatorError, SettlementOutcomeUnknown)


@dataclass(frozen=True)
class Resolution:
    kind: Kind
    record: Record
    receipt: SettleResponse | None = None
    reason: str | None = None
    # False: another resolver wrote the outcome first (nothing to report again).
    fresh: bool = True


class Reconciler:
    """Resolves unknown records against one facilitator (see the module docs)."""

    def __init__(
        self,
        facilitator: Any,
        store: AsyncStore,
        *,
        idempotent: bool,
        grace: int,
        max_header_bytes: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.facilitator = facilitator
        self.store = store
        self.idempotent = idempotent
        self.grace = grace
        self.max_header_bytes = max_header_bytes
        self.clock = clock
        self._cursor: int | None = None  # read from CHECKPOINT by the first pass
        self._checkpoint = 0
        # (replay key, owner) pairs: still unknown after a pass; claims whose deadline is not
        # yet past (-> deadline); the first log entry of each, while in either.
        self._waiting: set[tuple[str, str]] = set()
        self._later: dict[tuple[str, str], int] = {}
        self._seq: dict[tuple[str, str], int] = {}

    async def note_unknown(self, key: str, owner: str) -> None:
        """Makes an unknown record known to every reconciliation pass (any worker, any host)."""
        entry = json.dumps({"key": key, "owner": owner}, separators=(",", ":")).encode()
        await self.store.append(UNKNOWN_LOG, entry, now=int(self.clock()))

    async def note_claim(self, key: str, owner: str, until: int) -> None:
        """Makes a claim known to every pass, to be looked at once ``until`` is past (appended
        before the claim: a process dying right after claiming has already noted it)."""
        entry = {"key": key, "owner": owner, "until": until}
        raw = json.dumps(entry, separators=(",", ":")).encode()
        await self.store.append(UNKNOWN_LOG, raw, now=int(self.clock()))

    async def candidates(self) -> list[tuple[str, str]]:
        """(replay key, owner) of the records that may still be unknown or stale (bounded)."""
        now = int(self.clock())
        if self._cursor is None:
            mark = await self.store.get(CHECKPOINT, now=now)
            self._cursor = self._checkpoint = int(mark.value) if mark is not None else 0
        found = dict.fromkeys(self._waiting)
        for _ in range(LOG_PAGES):
            page = await self.store.read(UNKNOWN_LOG, after=self._cursor, limit=LOG_PAGE)
            for seq, raw in page:
                self._cursor = max(self._cursor, seq)
                try:
                    entry = json.loads(raw)
                    pair = (str(entry["key"]), str(entry["owner"]))
                    until = entry.get("until")
                    if until is not None:
                        self._later[pair] = int(until)
                    else:
                        found[pair] = None
                    self._seq.setdefault(pair, seq)
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue  # not ours: the log is append-only, skip it
            if len(page) < LOG_PAGE:
                break
        # Claims whose deadline is past: most finished long ago (one read each tells).
        for pair, until in list(self._later.items()):
            if len(found) >= MAX_PER_PASS:
                break
            if until <= now:
                del self._later[pair]
                found[pair] = None
        return list(found)

    def keep_waiting(self, key: str, owner: str, unknown: bool) -> None:
        pair = (key, owner)
        if unknown:
            self._waiting.add(pair)
        else:
            self._waiting.discard(pair)
            if pair not in self._later:
                self._seq.pop(pair, None)

    async def save_checkpoint(self) -> None:
        """Shares how far the log is done with: before the first entry still waited on (any
        worker's view is complete, each reads every entry: the last write may win)."""
        if self._cursor is None:
            return
        waited = [self._seq[p] for p in (*self._waiting, *self._later) if p in self._seq]
        mark = min(waited) - 1 if waited else self._cursor
        if mark == self._checkpoint:
            return
        value, now = str(mark).encode(), int(self.clock())
        found = await self.store.claim(CHECKPOINT, "reconciler", value, expires_at=None, now=now)
        if found is not None:
            await self.store.update(CHECKPOINT, "reconciler", value, expires_at=None)
        self._checkpoint = mark

    async def resolve(self, record: Record, key: str, owner: str) -> Resolution:
        """Asks the facilitator about one unknown (or stale in-flight) record and writes what
        it learns."""
        payload = PaymentPayload.from_header(record.header, max_bytes=self.max_header_bytes)
        requirements = PaymentRequirements.from_dict(
            record.requirements, x402_version=record.version
        )
        read = record.state
        stale = read in IN_FLIGHT
        if self.idempotent and not stale and not record.read_only:
            resolution = await self._ask_again(record, payload, requirements)
        else:
            resolution = await self._read_only(record, payload, requirements)
        if resolution.kind == "unknown" and not stale:
            return resolution
        # A retry and a pass (or two workers) may resolve one record at once: the first to
        # write wins; the others report nothing and answer from what it wrote.
        current = await self.store.get(key, now=int(self.clock()))
        if current is None or current.owner != owner:
            return Resolution("not_charged", record, reason="resolved elsewhere", fresh=False)
        stored = Record.decode(current.value)
        if stored.state != read:
            return Resolution(_kind(stored), stored, reason="resolved elsewhere", fresh=False)
        if stale:
            # The handler has not served this payer, unless it had served before settling.
            record.serve_pending = record.serve_pending or read != "settling"
            record.in_flight_until, record.read_only = None, True
        if resolution.kind == "settled":
            record.state = "settled"
            record.receipt = resolution.receipt.to_dict() if resolution.receipt else None
            record.unknown_since = None
            await self.store.update(key, owner, record.encode(), expires_at=record.expires_at())
        elif resolution.kind == "unknown":
            record.state, record.unknown_since = "unknown", stored.in_flight_until
            await self.store.update(key, owner, record.encode(), expires_at=None)
        else:
            await self.store.release(key, owner)
        return resolution

    async def _ask_again(
        self, record: Record, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> Resolution:
        try:
            outcome = await self.facilitator.settle(payload, requirements)
        except _FAULTS as e:
            # Unreachable now says nothing about the first attempt: still unknown.
            return Resolution("unknown", record, reason=getattr(e, "code", None) or str(e)[:100])
        if outcome.success:
            return Resolution("settled", record, outcome)
        return Resolution("not_charged", record, outcome, reason=outcome.error_reason)

    async def _read_only(
        self, record: Record, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> Resolution:
        try:
            verdict = await self.facilitator.verify(payload, requirements)
        except _FAULTS as e:
            return Resolution("unknown", record, reason=getattr(e, "code", None) or str(e)[:100])
        if not verdict.is_valid and verdict.invalid_reason == NONCE_USED:
            return Resolution("settled", record, None, reason="nonce used on chain")
        since = record.unknown_since
        if since is None:
            since = record.in_flight_until or 0  # stale: its deadline
        if verdict.is_valid and int(self.clock()) - since >= self.grace:
            return Resolution("not_charged", record, reason="authorization still unused")
        return Resolution("unknown", record, reason=str(verdict.invalid_reason or "in grace"))


def _kind(record: Record) -> Kind:
    return "settled" if record.state == "settled" else "unknown"
