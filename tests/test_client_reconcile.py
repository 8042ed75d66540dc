"""Reconciling unknown payments from a later receipt of the same signed payment: the seller
settled but its answer was lost; resending the identical request gets the receipt; the ledger
then says ``settled`` (one payment on chain, never re-signed) and the budget stays spent. A
seller that says it did not settle gives the reservation back. Errors for receipts that cannot
finish a payment."""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal

import httpx
import pytest

import fastx402
from asgi_server import running
from chain import Token
from fastx402 import Facilitator, PrivateKey
from fastx402.client import (
    Budget,
    PaymentRefused,
    PaymentTransport,
    PaymentUnconfirmed,
    Receipt,
    ReconcileError,
    Spending,
    SpendPolicy,
    paid_request_of,
    receipt_of,
    receipt_of_answer,
)
from test_client_budgets import lost, refused, required, seller, settled  # noqa: F401
from test_server import PRICE, FaultyFront, Shop, facilitator, funded, shop, token  # noqa: F401

ONE_PAYMENT = SpendPolicy(
    max_per_call=Decimal("0.05"),
    allow_http=True,
    budgets=(Budget(window="day", limit=Decimal("0.01")),),
)


def phases(spending: Spending) -> list[str]:
    return [r["phase"] for r in spending.ledger.records()]


def test_a_lost_answer_is_reconciled_from_the_resent_payment(
    token: Token,  # noqa: F811
    facilitator: Facilitator,  # noqa: F811
) -> None:
    front = FaultyFront(facilitator)
    spending = Spending("memory://", "memory://")
    with running(front.app) as facilitator_url:
        remote = fastx402.RemoteFacilitator(
            facilitator_url, timeout=1.0, settle_timeout=1.0, connect_timeout=0.5
        )
        # fastx402's facilitator behind the proxy: a repeated settle returns the first result.
        s = Shop(token, remote, unknown_retry_after=1, idempotent_settle=True)
        payer = funded(token)
        transport = PaymentTransport(payer, ONE_PAYMENT, resends=0, spending=spending)
        front.mode = "late"  # settles on chain, answers the seller too late
        with running(s.app) as url, httpx.Client(transport=transport, timeout=0.5) as client:
            with pytest.raises(PaymentUnconfirmed) as caught:
                client.get(f"{url}/weather/rome")
            lost_payment = caught.value
            assert phases(spending)[-1] == "unknown"
            assert spending.ledger.spent("all").flagged
            with pytest.raises(PaymentRefused, match="budget_exhausted"):
                client.get(f"{url}/weather/oslo")  # the unknown payment keeps the budget
            front.mode = "ok"
            time.sleep(2.5)  # the late settle answer has come and gone
            with httpx.Client(timeout=30) as plain:
                answer = plain.send(lost_payment.request)  # the same signature, resent
    receipt = receipt_of_answer(lost_payment.receipt, answer)
    assert answer.status_code == 200 and receipt.outcome == "paid", answer.text
    assert spending.reconcile(receipt, ONE_PAYMENT) == "settled"
    records = spending.ledger.records()
    assert records[-1]["phase"] == "settled" and records[-1]["transaction"] == receipt.transaction
    spent = spending.ledger.spent("all")
    assert spent.settled == Decimal("0.01") and not spent.flagged
    assert token.balance_of(s.seller) == PRICE and token.balance_of(payer.address) == 0
    with pytest.raises(ReconcileError, match="already settled"):
        spending.reconcile(receipt, ONE_PAYMENT)


def unknown_payment(header: str, key: PrivateKey, spending: Spending) -> Receipt:
    """A payment sent to a seller that answers 500 (no resend): its outcome is unknown. The
    answer carries the signed request; sent again, to a seller that now refuses it, it is the
    very same signature."""
    first = seller(header, lost)
    transport = PaymentTransport(key, ONE_PAYMENT, inner=first, resends=0, spending=spending)
    with httpx.Client(transport=transport) as client:
        r = client.get("http://shop.test/weather/x")
    unknown = receipt_of(r)
    assert r.status_code == 500 and unknown is not None and unknown.outcome == "unknown"
    again = seller(header, refused)
    with httpx.Client(transport=again) as plain:
        assert plain.send(paid_request_of(r)).status_code == 402
    (original,), (resent,) = first.paid, again.paid  # type: ignore[attr-defined]
    assert resent.headers["payment-signature"] == original.headers["payment-signature"]
    return unknown


def test_not_charged_gives_the_budget_back(required: tuple[str, str]) -> None:  # noqa: F811
    header, _ = required
    key = PrivateKey.generate()
    spending = Spending("memory://", "memory://")
    unknown = unknown_payment(header, key, spending)
    still = receipt_of_answer(unknown, httpx.Response(503))
    assert spending.reconcile(still, ONE_PAYMENT) == "unknown"
    assert phases(spending)[-1] == "unknown"  # nothing written
    refusal = receipt_of_answer(unknown, httpx.Response(402, json={"error": "insufficient_funds"}))
    assert refusal.outcome == "not_charged"
    assert spending.reconcile(refusal, ONE_PAYMENT) == "not_charged"
    assert phases(spending) == ["intent", "signed", "sent", "unknown", "not_charged"]
    assert not spending.ledger.spent("all").flagged
    with httpx.Client(
        transport=PaymentTransport(
            key, ONE_PAYMENT, inner=seller(header, settled(key)), spending=spending
        )
    ) as client:
        assert client.get("http://shop.test/weather/y").status_code == 200  # budget is back
    with pytest.raises(ReconcileError, match="already not_charged"):
        spending.reconcile(refusal, ONE_PAYMENT)


def test_receipts_that_cannot_finish_a_payment_are_refused(
    required: tuple[str, str],  # noqa: F811
) -> None:
    header, _ = required
    key = PrivateKey.generate()
    spending = Spending("memory://", "memory://")
    refusal = receipt_of_answer(unknown_payment(header, key, spending), httpx.Response(402))
    with pytest.raises(ReconcileError, match="no payment"):
        spending.reconcile(replace(refusal, payment_id="nope"), ONE_PAYMENT)
    with pytest.raises(ReconcileError, match="names no payment"):
        spending.reconcile(replace(refusal, payment_id=None), ONE_PAYMENT)
    cheaper = replace(refusal, quote=replace(refusal.quote, amount=1))
    with pytest.raises(ReconcileError, match="not payment"):
        spending.reconcile(cheaper, ONE_PAYMENT)
