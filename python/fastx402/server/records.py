"""Payment records of the seller, one per replay key, in a store (memory, SQLite, Redis).

A key belongs to the authorization that first reserved it (its EIP-712 digest is the record's
owner): the same authorization again is a duplicate (409 while in flight, the kept outcome once
settled), another authorization with the same key is refused as "nonce already used" and never
handed the stored outcome.

| state     | entered when                                     |
|-----------|--------------------------------------------------|
| reserved  | local verification passed (signature authenticated) |
| verified  | the facilitator verified it; the handler may run |
| settling  | settlement sent (written in ``optimistic`` mode, with the served response;
              ``after``/``before`` keep the reservation until the outcome is written: same 409) |
| settled   | success with a transaction: kept with the receipt (and the response, if small) |

In ``before`` mode a record is settled with ``serve_pending`` (and ``serving_until``, the
deadline) before its handler runs, and written served once the handler's last body message is
about to go out: a retry past the deadline finds the owner died in the handler and runs it once.

In ``after`` mode a record is settled before the handler's body has gone out; until the body is
complete (at most ``SERVING_WINDOW`` seconds, ``serving_until``) a duplicate is still in flight
(409, retry), not "already used": the kept response is about to be stored.
| unknown   | the facilitator's answer was lost: kept, never expires, reconciled (on retry, and
              by ``PaymentMiddleware.reconcile``, periodically from the lifespan) |

An in-flight record carries ``in_flight_until`` (written with the claim: no extra write): its
owner sends no settlement later than that minus the settle margin, and a record still in flight
past it is *stale* (its process died, or its request task was lost). In-flight records never
expire blindly either: a stale one is reconciled read-only (``read_only``), see
:mod:`fastx402.server.reconcile`.

A record refused before settlement, whose handler failed, or whose settlement definitively
failed is released (deleted): the payer was not charged and may retry.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Literal

State = Literal["reserved", "verified", "settling", "settled", "unknown"]
IN_FLIGHT: frozenset[str] = frozenset({"reserved", "verified", "settling"})
# Records outlive the authorization's validity by this much (late duplicates still find them).
KEEP_AFTER_EXPIRY = 600
# How long a settled record whose response is still being sent counts as in flight.
SERVING_WINDOW = 60


@dataclass
class KeptResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "headers": [list(h) for h in self.headers],
            "body": base64.b64encode(self.body).decode(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeptResponse:
        return cls(
            int(data["status"]),
            [(str(k), str(v)) for k, v in data["headers"]],
            base64.b64decode(data["body"]),
        )


@dataclass
class Record:
    state: State
    # What is needed to ask the facilitator again about an unknown outcome.
    header: str
    version: int
    requirements: dict[str, Any]
    valid_before: int
    receipt: dict[str, Any] | None = None
    response: KeptResponse | None = field(default=None)
    # Set while the settled response is being sent (``after`` mode): duplicates are in flight.
    serving_until: int | None = None
    # The route pattern (for events) and when the outcome became unknown (for reconciliation).
    route: str = ""
    unknown_since: int | None = None
    # ``before`` mode: settled (or unknown) before the handler ran; the first retry runs it.
    serve_pending: bool = False
    # Deadline of an in-flight record (claim time + ``stale_after``); past it, it is stale.
    in_flight_until: int | None = None
    # Resolved only by a read-only ``/verify`` (a stale record: nobody knows what was sent).
    read_only: bool = False
    _terms: str | None = field(default=None, init=False, repr=False, compare=False)

    def stale(self, now: int) -> bool:
        """In flight past its deadline: its owner is gone (reconciled read-only)."""
        until = self.in_flight_until
        return self.state in IN_FLIGHT and until is not None and now >= until

    def in_flight(self, now: int) -> bool:
        if self.state in IN_FLIGHT:
            return not self.stale(now)
        serving = self.serving_until is not None and now < self.serving_until
        # ``unknown`` while the held response is still being kept: not yet reconcilable.
        return self.state in ("settled", "unknown") and self.response is None and serving

    def encode(self) -> bytes:
        # The terms never change: encoded once per record, then spliced with the changing part
        # (a paid request writes its record 2 to 4 times; dataclasses.asdict deep-copied every field
        # and was ~40% of a paid request, benches/README.md).
        if self._terms is None:
            terms = {
                "header": self.header,
                "version": self.version,
                "requirements": self.requirements,
                "valid_before": self.valid_before,
                "route": self.route,
            }
            self._terms = json.dumps(terms, separators=(",", ":"))[:-1]
        moving = {
            "state": self.state,
            "receipt": self.receipt,
            "response": self.response.to_json() if self.response else None,
            "serving_until": self.serving_until,
            "unknown_since": self.unknown_since,
            "serve_pending": self.serve_pending,
            "in_flight_until": self.in_flight_until,
            "read_only": self.read_only,
        }
        return (self._terms + "," + json.dumps(moving, separators=(",", ":"))[1:]).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Record:
        data = json.loads(raw)
        response = data.pop("response", None)
        record = cls(**data)
        record.response = KeptResponse.from_json(response) if response else None
        return record

    def expires_at(self) -> int | None:
        if self.state == "unknown" or self.state in IN_FLIGHT:
            return None  # reconciled (stale in-flight ones too), never expired blindly
        return self.valid_before + KEEP_AFTER_EXPIRY
