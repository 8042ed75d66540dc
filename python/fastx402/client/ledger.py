"""The agent's ledger: an append-only record of every quote and payment, phase by phase.

Each payment (one id) goes through ``intent`` (the quote, who spends, before any budget is
reserved or anything signed), ``signed`` (the authorization's nonce, never the signature),
``sent``, then one final phase: ``settled`` (the amount the receipt says was charged),
``not_charged`` (provably not charged: refused before signing, or the seller said so) or
``unknown`` (may have settled: counted as spent, flagged, until reconciled). Every phase is
written before the next step is taken, so a crash leaves the last step that may have happened.

Records are JSON lines in a :mod:`fastx402.store` log: SQLite by default
(per user: :func:`default_ledger_url`), ``memory://`` for tests, Redis for a shared fleet. They hold
no key and no signature.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import IO, Any, Literal

from fastx402.store import AsyncStore, Store, async_from_url, from_url


def default_ledger_url() -> str:
    """``sqlite:///`` + ``$FASTX402_LEDGER`` if set, else ``$XDG_DATA_HOME/fastx402/ledger.db``
    (``~/.local/share/fastx402/ledger.db``): one ledger per user, never a file dropped in the
    working directory. The folder is created when the ledger is opened."""
    path = os.environ.get("FASTX402_LEDGER")
    if not path:
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(
            os.path.expanduser("~"), ".local", "share"
        )
        path = os.path.join(base, "fastx402", "ledger.db")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return f"sqlite:///{os.path.abspath(path)}"


# Kept for callers that name it: the default in effect is :func:`default_ledger_url`.
DEFAULT_LEDGER_URL = "default"
STREAM = "fastx402:ledger"

Phase = Literal["intent", "signed", "sent", "settled", "not_charged", "unknown"]
PHASES: tuple[Phase, ...] = ("intent", "signed", "sent", "settled", "not_charged", "unknown")
FINAL: frozenset[str] = frozenset({"settled", "not_charged", "unknown"})
FIELDS = (
    "seq",
    "id",
    "phase",
    "at",
    "method",
    "url",
    "origin",
    "network",
    "asset",
    "symbol",
    "pay_to",
    "payer",
    "amount",
    "price",
    "agent",
    "tool",
    "user",
    "nonce",
    "transaction",
    "reason",
)
By = Literal["day", "host", "tool", "user", "agent", "asset"]
SpentWindow = Literal["hour", "day", "month", "all"]


@dataclass(frozen=True)
class Spent:
    """Token units charged (``settled``) and possibly charged (``unknown``, flagged)."""

    settled: Decimal
    unknown: Decimal
    payments: int

    @property
    def total(self) -> Decimal:
        return self.settled + self.unknown

    @property
    def flagged(self) -> bool:
        """Some of it is ``unknown``: reconcile before trusting the total."""
        return self.unknown > 0


@dataclass(frozen=True)
class StatementLine:
    key: str
    settled: Decimal
    unknown: Decimal
    payments: int
    not_charged: int


def _window_start(window: SpentWindow, now: int) -> int:
    if window == "all":
        return 0
    if window == "hour":
        return now - now % 3600
    if window == "day":
        return now - now % 86400
    d = datetime.fromtimestamp(now, timezone.utc)
    return int(datetime(d.year, d.month, 1, tzinfo=timezone.utc).timestamp())


def payments(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per payment: its latest record, with ``started`` (the intent's time)."""
    latest: dict[str, dict[str, Any]] = {}
    for r in records:
        row = latest.get(r["id"])
        started = row["started"] if row is not None else r["at"]
        latest[r["id"]] = {**r, "started": started}
    return list(latest.values())


def _matches(row: Mapping[str, Any], by: Mapping[str, str | None]) -> bool:
    names = {"host": "origin"}
    return all(row.get(names.get(k, k)) == v for k, v in by.items() if v is not None)


def spent(
    records: Iterable[Mapping[str, Any]],
    window: SpentWindow,
    now: int,
    by: Mapping[str, str | None] | None = None,
    asset: str | None = None,
) -> Spent:
    start = _window_start(window, now)
    settled = unknown = Decimal(0)
    count = 0
    for row in payments(records):
        if row["started"] < start or not _matches(row, by or {}):
            continue
        if asset is not None and row["asset"].lower() != asset.lower():
            continue
        if row["phase"] == "settled":
            settled += Decimal(row["price"])
        elif row["phase"] in ("unknown", "signed", "sent"):
            unknown += Decimal(row["price"])  # in flight or lost: may have been charged
        else:
            continue
        count += 1
    return Spent(settled, unknown, count)


def _key(row: Mapping[str, Any], by: By) -> str:
    if by == "day":
        return datetime.fromtimestamp(row["started"], timezone.utc).strftime("%Y-%m-%d")
    if by == "host":
        return str(row["origin"])
    if by == "asset":
        return f"{row['network']}:{row['asset']}"
    value = row.get(by)
    return "-" if value is None else str(value)


def statement(records: Iterable[Mapping[str, Any]], by: By) -> list[StatementLine]:
    lines: dict[str, list[Any]] = {}
    for row in payments(records):
        line = lines.setdefault(_key(row, by), [Decimal(0), Decimal(0), 0, 0])
        if row["phase"] == "settled":
            line[0] += Decimal(row["price"])
            line[2] += 1
        elif row["phase"] == "not_charged":
            line[3] += 1
        elif row["phase"] != "intent":
            line[1] += Decimal(row["price"])
            line[2] += 1
    return [StatementLine(k, *v) for k, v in sorted(lines.items())]


def to_csv(records: Iterable[Mapping[str, Any]], out: IO[str]) -> None:
    writer = csv.DictWriter(out, fieldnames=FIELDS, extrasaction="ignore")
    writer.writeheader()
    for r in records:
        writer.writerow({k: "" if r.get(k) is None else r[k] for k in FIELDS})


def to_json(records: Iterable[Mapping[str, Any]], out: IO[str]) -> None:
    json.dump([dict(r) for r in records], out, indent=1)


def _decode(seq: int, raw: bytes) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(raw)
    record["seq"] = seq
    return record


# One encoder for every record (json.dumps builds a new one per call when given options).
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True)


def _encode(record: Mapping[str, Any]) -> bytes:
    if "signature" in record or "key" in record:
        raise ValueError("a ledger record never holds a signature or a key")
    return _ENCODER.encode(record).encode()


class _Reports:
    """Reading helpers shared by both ledgers, given the records."""

    clock: Callable[[], float]

    def _spent(
        self,
        records: list[dict[str, Any]],
        window: SpentWindow,
        by: Any,
        now: int | None,
        asset: str | None,
    ) -> Spent:
        if by is not None and not isinstance(by, Mapping):
            by = {"agent": by.agent, "tool": by.tool, "user": by.user}
        return spent(records, window, int(self.clock()) if now is None else now, by, asset)


class Ledger(_Reports):
    """The sync ledger over a :class:`~fastx402.store.Store` (or a store URL)."""

    def __init__(
        self,
        store: Store | str = DEFAULT_LEDGER_URL,
        *,
        stream: str = STREAM,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if store == DEFAULT_LEDGER_URL:
            store = default_ledger_url()
        self._owns = isinstance(store, str)
        self.store = from_url(store) if isinstance(store, str) else store
        self.stream = stream
        self.clock = clock

    def append(self, record: Mapping[str, Any]) -> int:
        return self.store.append(self.stream, _encode(record), now=int(record["at"]))

    def records(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            page = self.store.read(self.stream, after=out[-1]["seq"] if out else 0)
            if not page:
                return out
            out.extend(_decode(seq, raw) for seq, raw in page)

    def history(self, payment_id: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r["id"] == payment_id]

    def payments(self) -> list[dict[str, Any]]:
        return payments(self.records())

    def spent(
        self,
        window: SpentWindow = "day",
        *,
        by: Any = None,
        now: int | None = None,
        asset: str | None = None,
    ) -> Spent:
        """Token units settled (and unknown, flagged) in this window (UTC), optionally only of
        ``by`` (``{"user": "alice"}``, ``{"host": "https://api.example.com"}`` or a Spender)."""
        return self._spent(self.records(), window, by, now, asset)

    def statement(self, by: By = "day") -> list[StatementLine]:
        return statement(self.records(), by)

    def export_csv(self, out: IO[str] | None = None) -> str:
        buf = out or io.StringIO()
        to_csv(self.records(), buf)
        return buf.getvalue() if isinstance(buf, io.StringIO) else ""

    def export_json(self, out: IO[str] | None = None) -> str:
        buf = out or io.StringIO()
        to_json(self.records(), buf)
        return buf.getvalue() if isinstance(buf, io.StringIO) else ""

    def close(self) -> None:
        if self._owns:
            self.store.close()


class AsyncLedger(_Reports):
    """The asyncio ledger over an :class:`~fastx402.store.AsyncStore` (or a store URL)."""

    def __init__(
        self,
        store: AsyncStore | str = DEFAULT_LEDGER_URL,
        *,
        stream: str = STREAM,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if store == DEFAULT_LEDGER_URL:
            store = default_ledger_url()
        self._owns = isinstance(store, str)
        self.store = async_from_url(store) if isinstance(store, str) else store
        self.stream = stream
        self.clock = clock

    async def append(self, record: Mapping[str, Any]) -> int:
        return await self.store.append(self.stream, _encode(record), now=int(record["at"]))

    async def records(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            page = await self.store.read(self.stream, after=out[-1]["seq"] if out else 0)
            if not page:
                return out
            out.extend(_decode(seq, raw) for seq, raw in page)

    async def history(self, payment_id: str) -> list[dict[str, Any]]:
        return [r for r in await self.records() if r["id"] == payment_id]

    async def payments(self) -> list[dict[str, Any]]:
        return payments(await self.records())

    async def spent(
        self,
        window: SpentWindow = "day",
        *,
        by: Any = None,
        now: int | None = None,
        asset: str | None = None,
    ) -> Spent:
        return self._spent(await self.records(), window, by, now, asset)

    async def statement(self, by: By = "day") -> list[StatementLine]:
        return statement(await self.records(), by)

    async def export_csv(self) -> str:
        buf = io.StringIO()
        to_csv(await self.records(), buf)
        return buf.getvalue()

    async def export_json(self) -> str:
        buf = io.StringIO()
        to_json(await self.records(), buf)
        return buf.getvalue()

    async def close(self) -> None:
        if self._owns:
            await self.store.close()
