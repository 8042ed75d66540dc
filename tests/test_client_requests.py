"""The requests adapter behaves like the httpx transports (one shared flow): paid against
fastx402's seller under uvicorn and settled on anvil, with every ledger phase; refusals and
approvals before anything is signed; the same signed header resent on a lost answer.

``pay_once`` pays one URL with any of the three clients (httpx sync, httpx async, requests): the
interop tests use it too."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from requests.adapters import HTTPAdapter

import fastx402
from asgi_server import running
from chain import Token
from fastx402 import Facilitator, PrivateKey
from fastx402.client import (
    AsyncSpending,
    Ledger,
    PaymentRefused,
    PaymentUnconfirmed,
    Quote,
    Receipt,
    Spending,
    SpendingHalted,
    SpendPolicy,
    async_paying_client,
    paid_request_of,
    paying_client,
    receipt_of,
)
from fastx402.client.requests_adapter import PaymentAdapter, paying_session
from test_langchain import faulty_seller
from test_server import PRICE, FaultyFront, Shop, facilitator, funded, shop, token  # noqa: F401

POLICY = SpendPolicy(max_per_call=Decimal("0.05"), allow_http=True)
KINDS = ["httpx", "httpx-async", "requests"]


@dataclass
class Answer:
    status: int
    body: bytes
    receipt: Receipt | None


def pay_once(kind: str, key: PrivateKey, policy: SpendPolicy, url: str, **kw: Any) -> Answer:
    """GET ``url`` with one of the three paying clients. ``ledger``: a store URL for the
    ledger (read it back with ``Ledger(url)``); other keywords go to the client."""
    ledger = kw.pop("ledger", None)
    timeout = kw.pop("timeout", 30.0)
    if kind == "httpx-async":

        async def go() -> Answer:
            spending = AsyncSpending("memory://", ledger) if ledger else None
            async with async_paying_client(
                key, policy, spending=spending, timeout=timeout, **kw
            ) as client:
                r = await client.get(url)
            if spending is not None:
                await spending.close()
            return Answer(r.status_code, r.content, receipt_of(r))

        return asyncio.run(go())
    spending = Spending("memory://", ledger) if ledger else None
    try:
        if kind == "httpx":
            with paying_client(key, policy, spending=spending, timeout=timeout, **kw) as client:
                r = client.get(url)
                return Answer(r.status_code, r.content, receipt_of(r))
        with paying_session(key, policy, spending=spending, **kw) as session:
            answer = session.get(url, timeout=timeout)
            return Answer(answer.status_code, answer.content, receipt_of(answer))
    finally:
        if spending is not None:
            spending.close()


FUNDS = 3 * PRICE


@dataclass
class Buyer:
    shop: Shop
    url: str
    payer: PrivateKey
    token: Token


@pytest.fixture
def buyer(shop: tuple[Shop, str], token: Token) -> Buyer:  # noqa: F811
    """fastx402's seller on anvil and a payer holding ``FUNDS``."""
    return Buyer(shop[0], shop[1], funded(token, FUNDS), token)


def ledger_records(url: str) -> list[dict[str, Any]]:
    ledger = Ledger(url)
    try:
        return ledger.records()
    finally:
        ledger.close()


@pytest.mark.parametrize("kind", KINDS)
def test_every_client_pays_and_writes_each_phase(
    buyer: Buyer,
    tmp_path: Path,
    kind: str,
) -> None:
    s, url, payer, usdc = buyer.shop, buyer.url, buyer.payer, buyer.token
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    answer = pay_once(kind, payer, POLICY, f"{url}/weather/paris", ledger=ledger_url)
    assert answer.status == 200 and b"paris" in answer.body
    receipt = answer.receipt
    assert receipt is not None and receipt.outcome == "paid" and receipt.amount == PRICE
    assert receipt.transaction is not None and len(receipt.transaction) == 66
    records = ledger_records(ledger_url)
    assert [r["phase"] for r in records] == ["intent", "signed", "sent", "settled"]
    assert records[-1]["transaction"] == receipt.transaction
    assert usdc.balance_of(s.seller) == PRICE and usdc.balance_of(payer.address) == 2 * PRICE
    assert s.runs == {"weather": 1}


def test_requests_refuses_over_the_cap_before_signing(
    buyer: Buyer,
) -> None:
    s, url, payer, usdc = buyer.shop, buyer.url, buyer.payer, buyer.token
    policy = POLICY.with_cap(Decimal("0.001"))
    with paying_session(payer, policy) as session, pytest.raises(PaymentRefused) as caught:
        session.get(f"{url}/weather/paris", timeout=10)
    assert caught.value.reasons[0].startswith("over_cap")
    assert s.runs == {} and usdc.balance_of(payer.address) == FUNDS


def test_requests_approver_sees_the_quote_that_is_signed(
    buyer: Buyer,
) -> None:
    s, url, payer, usdc = buyer.shop, buyer.url, buyer.payer, buyer.token
    seen: list[Quote] = []

    def approve(q: Quote) -> bool:
        seen.append(q)
        return True

    with paying_session(payer, POLICY, approve=approve) as session:
        r = session.get(f"{url}/premium", timeout=30)
    assert r.status_code == 200
    receipt = receipt_of(r)
    assert receipt is not None and receipt.outcome == "paid"
    (q,) = seen
    assert receipt.quote is q and q.amount == 3 * PRICE
    assert usdc.balance_of(s.seller) == 3 * PRICE


def test_requests_refuses_an_async_approver_and_a_killed_spending(
    buyer: Buyer,
) -> None:
    s, url, payer, usdc = buyer.shop, buyer.url, buyer.payer, buyer.token

    async def approve(_: Quote) -> bool:
        return True

    spending = Spending("memory://", "memory://")
    with (
        paying_session(payer, POLICY, approve=approve, spending=spending) as session,
        pytest.raises(TypeError, match="async approver"),
    ):
        session.get(f"{url}/weather/x", timeout=10)
    assert [r["phase"] for r in spending.ledger.records()] == ["intent", "not_charged"]
    with paying_session(payer, POLICY) as session, pytest.raises(SpendingHalted):
        session.kill()
        session.get(f"{url}/weather/x", timeout=10)
    assert s.runs == {} and usdc.balance_of(payer.address) == FUNDS


@pytest.mark.parametrize(("delay", "status"), [(4.0, 504), (0.0, 504)], ids=["timeout", "504"])
def test_requests_resends_the_same_signed_header_on_a_lost_answer(
    buyer: Buyer,
    delay: float,
    status: int,
) -> None:
    url, payer = buyer.url, buyer.payer
    spending = Spending("memory://", "memory://")
    with (
        faulty_seller(url, delay, status) as (faulty, faulty_url),
        paying_session(payer, POLICY, spending=spending, resend_wait=0.05) as session,
    ):
        try:
            r = session.get(f"{faulty_url}/weather/x", timeout=0.3)
            # Answered, but never settled: the answer carries an unknown receipt.
            assert delay == 0.0 and r.status_code == 504
            receipt, sent = receipt_of(r), r.request.headers["payment-signature"]
            assert paid_request_of(r).headers["payment-signature"] == sent  # to resend later
        except PaymentUnconfirmed as e:  # never answered
            assert delay == 4.0
            receipt, sent = e.receipt, e.request.headers["payment-signature"]
    assert receipt is not None and receipt.outcome == "unknown"
    assert len(faulty.paid) == 4 and set(faulty.paid) == {sent}
    assert [r["phase"] for r in spending.ledger.records()] == [
        "intent",
        "signed",
        "sent",
        "unknown",
    ]
    assert buyer.token.balance_of(payer.address) == FUNDS


@pytest.mark.parametrize("kind", ["httpx", "requests"])
def test_lost_answer_is_resent_with_the_same_payment_never_resigned(
    token: Token,  # noqa: F811
    facilitator: Facilitator,  # noqa: F811
    kind: str,
) -> None:
    """The seller's facilitator loses the settle answer (it settled, late): the seller answers
    503; the client resends the identical header after Retry-After and gets the kept answer;
    one payment on chain."""
    front = FaultyFront(facilitator)
    sent: list[str] = []

    def record(headers: Any) -> None:
        if "payment-signature" in headers:
            sent.append(headers["payment-signature"])
            if len(sent) == 2:
                front.mode = "ok"

    class RecordingAdapter(HTTPAdapter):
        def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:  # type: ignore[override]
            record(request.headers)
            return super().send(request, **kw)

    class Adapter(PaymentAdapter, RecordingAdapter):
        pass

    class RecordingTransport(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            record(request.headers)
            return super().handle_request(request)

    with running(front.app) as facilitator_url:
        remote = fastx402.RemoteFacilitator(
            facilitator_url, timeout=1.0, settle_timeout=1.0, connect_timeout=0.5
        )
        # fastx402's facilitator behind the proxy: a repeated settle returns the first result.
        s = Shop(token, remote, unknown_retry_after=1, idempotent_settle=True)
        payer = funded(token)
        front.mode = "late"
        with running(s.app) as url:
            if kind == "requests":
                with requests.Session() as session:
                    session.mount("http://", Adapter(payer, POLICY))
                    answer = session.get(f"{url}/weather/lima", timeout=30)
                    status, body, receipt = answer.status_code, answer.json(), receipt_of(answer)
            else:
                transport = RecordingTransport()
                with paying_client(payer, POLICY, transport=transport, timeout=30) as client:
                    r = client.get(f"{url}/weather/lima")
                    status, body, receipt = r.status_code, r.json(), receipt_of(r)
    assert status == 200 and body["city"] == "lima"
    assert receipt is not None and receipt.outcome == "paid"
    assert len(sent) == 2 and sent[0] == sent[1]
    assert s.runs == {"weather": 1}
    assert token.balance_of(s.seller) == PRICE and token.balance_of(payer.address) == 0
