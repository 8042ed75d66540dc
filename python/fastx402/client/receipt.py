"""What a paid call cost: a typed receipt, checked against the quote.

``paid``: the settle header says success, with a 32-byte transaction, on the quoted network, for
this payer and the quoted amount when the server states them (one check, in the core, shared with
the seller's facilitator client: ``SettleResponse.check``). ``not_charged``: the seller says it
did not settle (a 402 after payment, a failure receipt). ``unknown``: no usable answer (lost, 5xx,
a receipt that does not match the quote): the payment may have settled; it is never re-signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx

from fastx402._core import SettleResponse
from fastx402.client.quote import Quote
from fastx402.errors import ProtocolError

Outcome = Literal["paid", "not_charged", "unknown"]


@dataclass(frozen=True)
class Receipt:
    outcome: Outcome
    quote: Quote
    payer: str
    transaction: str | None = None
    reason: str | None = None
    payment_id: str | None = None
    # What the seller settled when a scheme may charge less than quoted (``upto``); None: the
    # quoted amount (``exact``).
    settled_amount: int | None = None

    @property
    def amount(self) -> int:
        """What was charged (smallest units): 0 unless paid."""
        if self.outcome != "paid":
            return 0
        return self.quote.amount if self.settled_amount is None else self.settled_amount


def read_receipt(
    response: httpx.Response | None, quote: Quote, payer: str, payment_id: str | None
) -> Receipt:
    def unknown(reason: str) -> Receipt:
        return Receipt("unknown", quote, payer, reason=reason, payment_id=payment_id)

    if response is None:
        return unknown("no answer")
    header = response.headers.get("payment-response") or response.headers.get("x-payment-response")
    settle = None
    if header:
        try:
            settle = SettleResponse.from_header(header)
        except ValueError as e:
            return unknown(f"unreadable PAYMENT-RESPONSE: {e}")
    if settle is not None and settle.success:
        try:
            settle.check(quote.requirements, payer)
        except ProtocolError as e:
            return unknown(f"receipt does not match the quote: {e}")
        settled = settle.amount_atomic if quote.requirements.scheme == "upto" else None
        return Receipt(
            "paid", quote, payer, settle.transaction, payment_id=payment_id, settled_amount=settled
        )
    if response.status_code == 402 or (settle is not None and not settle.success):
        reason = settle.error_reason if settle is not None else "refused"
        return Receipt("not_charged", quote, payer, reason=reason, payment_id=payment_id)
    if response.status_code >= 500 or response.status_code == 409:
        return unknown(f"HTTP {response.status_code}")
    return unknown(f"HTTP {response.status_code} without a settlement receipt")
