"""Receipts and offers as plain JSON-able dicts: what goes on ``ToolMessage.artifact`` and into the
``x402_receipt`` event. Agent state is checkpointed (msgpack) and traced; the typed
:class:`~fastx402.client.Receipt` holds core objects that neither can serialize, and a checkpointer
failing *after* a payment would lose the result that was paid for.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from fastx402.client import Offers, Outcome, Quote, Receipt


class QuoteRecord(TypedDict):
    url: str
    method: str
    network: str
    asset: str
    pay_to: str
    amount: str  # smallest units (a string: uint256)
    price: str  # token units, a decimal string
    symbol: str


class ReceiptRecord(TypedDict):
    outcome: Outcome
    transaction: str | None  # 0x + 64 hex when paid
    payer: str
    reason: str | None
    payment_id: str | None
    quote: QuoteRecord


class RefusedOffer(TypedDict):
    network: str
    asset: str
    pay_to: str
    amount: str
    reason: str


class OffersRecord(TypedDict):
    verdict: Literal["free", "would_pay", "would_not_pay"]
    quotes: list[QuoteRecord]  # allowed, best first
    refused: list[RefusedOffer]


def quote_record(q: Quote) -> QuoteRecord:
    return {
        "url": q.url,
        "method": q.method,
        "network": q.network,
        "asset": q.asset,
        "pay_to": q.pay_to,
        "amount": str(q.amount),
        "price": str(q.price),
        "symbol": q.symbol,
    }


def receipt_record(r: Receipt) -> ReceiptRecord:
    return {
        "outcome": r.outcome,
        "transaction": r.transaction,
        "payer": r.payer,
        "reason": r.reason,
        "payment_id": r.payment_id,
        "quote": quote_record(r.quote),
    }


def offers_record(found: Offers | None) -> OffersRecord:
    if found is None:
        return {"verdict": "free", "quotes": [], "refused": []}
    return {
        "verdict": "would_pay" if found.quotes else "would_not_pay",
        "quotes": [quote_record(q) for q in found.quotes],
        "refused": [
            {
                "network": r.network,
                "asset": r.asset,
                "pay_to": r.pay_to,
                "amount": str(r.amount),
                "reason": why,
            }
            for r, why in found.refused
        ],
    }


__all__ = [
    "OffersRecord",
    "QuoteRecord",
    "ReceiptRecord",
    "RefusedOffer",
    "offers_record",
    "quote_record",
    "receipt_record",
]
