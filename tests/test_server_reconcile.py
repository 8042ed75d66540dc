"""Reconciliation of unknown settlement outcomes, without waiting for the client to retry.

A facilitator that hangs, answers 5xx, non-JSON, truncated JSON, ``success:true`` without a
transaction, or settles after the seller's timeout: nothing unpaid is served; the periodic
reconciliation (from the ASGI lifespan) resolves the record; after it no payer is charged and
left unserved (balances read on anvil); the retry with the same header gets the stored outcome
without another facilitator round trip. Real parts: fastx402's facilitator service over HTTP
(behind a front that misbehaves on ``/settle``), the official Python facilitator, anvil,
uvicorn; wrappers only for a lost answer, which a real facilitator cannot produce on demand.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

import fastx402
from asgi_server import running
from chain import NETWORK, Anvil, Token
from fastx402 import Facilitator, PaymentPayload, PaymentRequired, PrivateKey, SettleResponse
from fastx402.errors import SettlementOutcomeUnknown
from fastx402.server import (
    Atomic,
    PaymentEvent,
    PaymentMiddleware,
    PaymentOption,
    Route,
    payment_of,
)
from fastx402.testing import FakeFacilitator
from test_facilitator import fund_eth
from test_server import PRICE, FaultyFront, OfficialFacilitator, funded, receipt_of

FAULTS = ["hang", "500", "garbage", "truncated", "no_tx", "late"]


@pytest.fixture(scope="module")
def token(usdc: Token) -> Token:
    fastx402.register_asset(NETWORK, usdc.address, usdc.name, usdc.version, 6, symbol="tUSDC")
    return usdc


@pytest.fixture(scope="module")
def facilitator(anvil: Anvil) -> Facilitator:
    key = PrivateKey.generate()
    fund_eth(anvil, key.address)
    return Facilitator(anvil.url, NETWORK, key, poll_interval=0.02, receipt_timeout=10.0)


class Seller:
    """A one-route app wrapped directly in ``PaymentMiddleware`` (so the test holds it)."""

    def __init__(self, token: Token, facilitator: Any, **options: Any) -> None:
        self.seller = PrivateKey.generate().address
        self.runs = 0
        self.events: list[PaymentEvent] = []
        app = FastAPI()

        @app.get("/weather/{city}")
        def weather(city: str, request: Request) -> dict[str, str]:
            self.runs += 1
            return {"city": city}

        @app.post("/job")
        def job(request: Request) -> dict[str, Any]:
            self.runs += 1
            return {"transaction": payment_of(request).transaction}

        option = PaymentOption(Atomic(PRICE), NETWORK, self.seller, asset=token.address)
        self.mw = PaymentMiddleware(
            app,
            facilitator=facilitator,
            routes={
                "GET /weather/{city}": Route([option]),
                "POST /job": Route([option], mode="before"),
            },
            on_event=self.events.append,
            **options,
        )

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


def _header(
    client: httpx.Client, url: str, payer: PrivateKey, method: str = "GET"
) -> dict[str, str]:
    first = client.request(method, url)
    assert first.status_code == 402, first.text
    payment = fastx402.create_payment(
        PaymentRequired.from_header(first.headers["payment-required"]), payer
    )
    return {"PAYMENT-SIGNATURE": payment.to_header()}


def _wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not reconciled in time"
        time.sleep(0.05)


def _passes(mw: PaymentMiddleware, until: int, limit: int = 50) -> dict[str, int]:
    """Reconciliation passes (from this thread) until ``until`` records are resolved: a held
    response is written to the record just after the 503 went out."""
    total = {"settled": 0, "not_charged": 0, "unknown": 0}
    for _ in range(limit):
        counts = asyncio.run(mw.reconcile())
        total["settled"] += counts["settled"]
        total["not_charged"] += counts["not_charged"]
        total["unknown"] = counts["unknown"]
        if total["settled"] + total["not_charged"] >= until:
            return total
        time.sleep(0.05)
    return total


@pytest.mark.parametrize("fault", FAULTS)
def test_the_lifespan_reconciles_unknown_records_before_any_retry(
    token: Token, facilitator: Facilitator, fault: str
) -> None:
    front = FaultyFront(facilitator)
    with running(front.app) as facilitator_url:
        remote = fastx402.RemoteFacilitator(
            facilitator_url, timeout=1.0, settle_timeout=1.0, connect_timeout=0.5
        )
        s = Seller(token, remote, idempotent_settle=True, reconcile_interval=0.2)
        payer = funded(token)
        with running(s.mw) as url, httpx.Client(timeout=30) as client:
            header = _header(client, f"{url}/weather/lima", payer)
            front.mode = fault
            r = client.get(f"{url}/weather/lima", headers=header)
            assert r.status_code == 503 and "lima" not in r.text, (fault, r.text)
            front.mode = "ok"
            _wait_for(lambda: "paid" in s.kinds())
            # Charged once, on chain, before the payer came back.
            assert token.balance_of(s.seller) == PRICE and token.balance_of(payer.address) == 0
            settles = front.settles
            again = client.get(f"{url}/weather/lima", headers=header)
            assert again.status_code == 200, (fault, again.text)
            assert again.json() == {"city": "lima"} and receipt_of(again).success
            assert front.settles == settles  # the stored outcome: no facilitator round trip
        assert s.mw._reconcile_task is None  # stopped with the lifespan
    paid = [e for e in s.events if e.kind == "paid"]
    assert s.kinds() == ["unknown", "paid"] and paid[0].payer == payer.address
    assert paid[0].amount == PRICE and paid[0].transaction == receipt_of(again).transaction
    assert s.runs == 1


@pytest.mark.parametrize("fault", ["late", "no_tx"])
def test_a_before_route_runs_its_handler_once_when_the_unknown_settlement_turns_out_made(
    token: Token, facilitator: Facilitator, fault: str
) -> None:
    """``before`` settles first: an unknown outcome leaves the handler not run. Once reconciled
    as settled, the first of many concurrent retries runs it (once), with the receipt; the
    others are told it is in flight, later ones that the payment was used."""
    front = FaultyFront(facilitator)
    with running(front.app) as facilitator_url:
        remote = fastx402.RemoteFacilitator(
            facilitator_url, timeout=1.0, settle_timeout=1.0, connect_timeout=0.5
        )
        s = Seller(token, remote, idempotent_settle=True, reconcile_interval=0.2)
        payer = funded(token)
        with running(s.mw) as url, httpx.Client(timeout=30) as client:
            header = _header(client, f"{url}/job", payer, method="POST")
            front.mode = fault
            assert client.post(f"{url}/job", headers=header).status_code == 503
            assert s.runs == 0
            front.mode = "ok"
            _wait_for(lambda: "paid" in s.kinds())

            async def retries() -> list[httpx.Response]:
                async with httpx.AsyncClient(timeout=30) as c:
                    calls = [c.post(f"{url}/job", headers=header) for _ in range(8)]
                    return list(await asyncio.gather(*calls))

            answers = asyncio.run(retries())
            served = [r for r in answers if r.status_code == 200]
            assert len(served) == 1, [(r.status_code, r.text) for r in answers]
            assert {r.status_code for r in answers} <= {200, 409, 402}
            receipt = receipt_of(served[0])
            assert served[0].json() == {"transaction": receipt.transaction}
            later = client.post(f"{url}/job", headers=header)
            assert later.status_code == 402 and receipt_of(later).transaction == receipt.transaction
    assert s.runs == 1
    assert "paid_unserved" not in s.kinds()
    assert token.balance_of(s.seller) == PRICE and token.balance_of(payer.address) == 0


def test_a_payment_that_can_no_longer_settle_is_reconciled_as_not_charged(
    token: Token, facilitator: Facilitator
) -> None:
    """The settle never reached the facilitator (5xx from the front); the payer then spends the
    funds on another request: asked again, the facilitator definitively refuses; the record is
    released (one payment, one served request)."""
    front = FaultyFront(facilitator)
    with running(front.app) as facilitator_url:
        remote = fastx402.RemoteFacilitator(
            facilitator_url, timeout=2.0, settle_timeout=2.0, connect_timeout=1.0
        )
        s = Seller(token, remote, idempotent_settle=True, reconcile_interval=None)
        payer = funded(token)
        with running(s.mw) as url, httpx.Client(timeout=30) as client:
            lost = _header(client, f"{url}/weather/lima", payer)
            front.mode = "500"
            assert client.get(f"{url}/weather/lima", headers=lost).status_code == 503
            front.mode = "ok"
            spent = client.get(
                f"{url}/weather/rome", headers=_header(client, f"{url}/weather/rome", payer)
            )
            assert spent.status_code == 200
            assert _passes(s.mw, until=1) == {"settled": 0, "not_charged": 1, "unknown": 0}
            # Released: the retry is a new payment, refused for what it now is (no funds left).
            retry = client.get(f"{url}/weather/lima", headers=lost)
            assert retry.status_code == 402
            assert (
                retry.json()["error"] == "invalid payment: invalid_exact_evm_insufficient_balance"
            )
    assert token.balance_of(s.seller) == PRICE and token.balance_of(payer.address) == 0
    assert s.kinds() == ["unknown", "paid", "settle_failed", "refused"]
    assert s.runs == 2  # lima (held, never served) and rome (paid, served)


class LostAnswer:
    """A real facilitator whose settle answer is lost on the way back (or, with
    ``settle=False``, whose request never arrived): a fault a real facilitator cannot produce."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.lose: str | None = None

    def supported(self) -> Any:
        return self.inner.supported()

    async def verify(self, payload: PaymentPayload, requirements: Any) -> Any:
        return await self.inner.verify(payload, requirements)

    async def settle(self, payload: PaymentPayload, requirements: Any) -> SettleResponse:
        lose, self.lose = self.lose, None
        if lose == "after":
            await self.inner.settle(payload, requirements)
        if lose is not None:
            raise SettlementOutcomeUnknown("answer lost", "timeout", None)
        answer: SettleResponse = await self.inner.settle(payload, requirements)
        return answer


def test_a_non_idempotent_facilitator_is_only_verified_never_settled_again(
    token: Token, anvil: Anvil
) -> None:
    """The official facilitator settles a replayed payment again and answers "failed": that
    must not read as "not charged". Reconciliation only verifies: a nonce used on chain is a
    settled payment (served on retry, charged once); one still unused after the grace period
    was not charged: its record is released, and the retry is then a new payment (charged once,
    served once)."""
    official = LostAnswer(OfficialFacilitator(anvil))
    s = Seller(token, official, reconcile_interval=None, reconcile_grace=0)
    charged, unsent = funded(token), funded(token)
    with running(s.mw) as url, httpx.Client(timeout=60) as client:
        settled_header = _header(client, f"{url}/weather/oslo", charged)
        official.lose = "after"
        assert client.get(f"{url}/weather/oslo", headers=settled_header).status_code == 503
        unsent_header = _header(client, f"{url}/weather/bern", unsent)
        official.lose = "before"
        assert client.get(f"{url}/weather/bern", headers=unsent_header).status_code == 503
        assert _passes(s.mw, until=2) == {"settled": 1, "not_charged": 1, "unknown": 0}
        served = client.get(f"{url}/weather/oslo", headers=settled_header)
        assert served.status_code == 200 and served.json() == {"city": "oslo"}
        assert "payment-response" not in served.headers  # no transaction hash was ever received
        assert token.balance_of(s.seller) == PRICE and token.balance_of(unsent.address) == PRICE
        fresh = client.get(f"{url}/weather/bern", headers=unsent_header)
        assert fresh.status_code == 200 and receipt_of(fresh).success
    assert token.balance_of(s.seller) == 2 * PRICE
    assert token.balance_of(charged.address) == 0 and token.balance_of(unsent.address) == 0
    assert s.runs == 3  # oslo once, bern held once and served once on its fresh settlement
    assert s.kinds() == ["unknown", "unknown", "paid", "settle_failed", "paid"]


def test_a_record_made_unknown_by_one_worker_is_reconciled_by_another(
    tmp_path: Path, token: Token
) -> None:
    """Two middlewares sharing one SQLite store (two workers of a host): the unknown record is
    found through the store's log by the other one; the first then serves the kept answer."""
    fake = FakeFacilitator([NETWORK])
    store = f"sqlite:///{tmp_path / 'records.db'}"
    one = Seller(token, fake, store=store, reconcile_interval=None)
    two = Seller(token, fake, store=store, reconcile_interval=None)
    payer = PrivateKey.generate()

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=one.mw)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            first = await c.get("/weather/rome")
            required = PaymentRequired.from_header(first.headers["payment-required"])
            header = {"payment-signature": fastx402.create_payment(required, payer).to_header()}
            fake.fail_next("unknown")
            assert (await c.get("/weather/rome", headers=header)).status_code == 503
            assert await two.mw.reconcile() == {"settled": 1, "not_charged": 0, "unknown": 0}
            assert await two.mw.reconcile() == {"settled": 0, "not_charged": 0, "unknown": 0}
            settled = len(fake.settled)
            retry = await c.get("/weather/rome", headers=header)
            assert retry.status_code == 200 and retry.json() == {"city": "rome"}
            assert len(fake.settled) == settled

    asyncio.run(scenario())
    assert one.runs == 1 and two.runs == 0
    assert one.kinds() == ["unknown"] and two.kinds() == ["paid"]


class Gate(FakeFacilitator):
    """Holds each settle until a second one arrives (bounded), so that two resolvers of one
    record are inside the facilitator call together: an interleaving a real one gives rarely."""

    def __init__(self) -> None:
        super().__init__([NETWORK])
        self.waiting = 0
        self.both: asyncio.Event | None = None

    async def settle(self, payload: PaymentPayload, requirements: Any) -> SettleResponse:
        if self.both is not None:
            self.waiting += 1
            if self.waiting >= 2:
                self.both.set()
            await asyncio.wait_for(self.both.wait(), timeout=5)
        return await super().settle(payload, requirements)


def test_a_retry_and_a_pass_resolving_one_record_at_once_report_it_once(token: Token) -> None:
    """A client retry and a reconciliation pass (or two workers) resolve the same unknown record
    concurrently: one writes the outcome and reports it, the other answers from what it wrote."""
    gate = Gate()
    s = Seller(token, gate, reconcile_interval=None)
    payer = PrivateKey.generate()

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=s.mw)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            first = await c.get("/weather/rome")
            required = PaymentRequired.from_header(first.headers["payment-required"])
            header = {"payment-signature": fastx402.create_payment(required, payer).to_header()}
            gate.fail_next("unknown")
            assert (await c.get("/weather/rome", headers=header)).status_code == 503
            gate.both = asyncio.Event()
            retry, counts = await asyncio.gather(
                c.get("/weather/rome", headers=header), s.mw.reconcile()
            )
            assert gate.waiting == 2  # both were asking at once
            assert retry.status_code == 200 and retry.json() == {"city": "rome"}
            assert counts["settled"] == 1

    asyncio.run(scenario())
    assert s.kinds() == ["unknown", "paid"] and s.runs == 1
