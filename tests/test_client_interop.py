"""Must-show interop of the paying clients: two sellers on 127.0.0.1 under uvicorn, one with
fastx402's middleware and one with the official SDK's FastAPI middleware
(``x402.http.middleware.fastapi.payment_middleware`` over an ``x402ResourceServer`` whose
facilitator is the SDK's own ``x402Facilitator``, settling on anvil), each paid by the httpx sync
client, the httpx async client and the requests session. On chain, the payer's and the payee's
balance changes equal what the ledger says was settled."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fastapi import FastAPI, Request
from x402 import x402ResourceServer
from x402.http.middleware.fastapi import payment_middleware
from x402.http.types import PaymentOption, RouteConfig
from x402.mechanisms.evm.exact import register_exact_evm_server

from asgi_server import running
from chain import NETWORK, Anvil, Token
from fastx402 import PrivateKey
from fastx402.client import Ledger, SpendPolicy
from official_facilitator import build_official_facilitator
from test_client_requests import KINDS, pay_once
from test_interop_official_facilitator import funded_key
from test_server import PRICE, Shop, facilitator, funded, shop, token  # noqa: F401

POLICY = SpendPolicy(max_per_call=Decimal("0.05"), allow_http=True)
CALLS = 2


class OfficialShop:
    """A seller built the way the SDK documents it: FastAPI + its payment middleware."""

    def __init__(self, anvil: Anvil, asset: Token) -> None:
        self.seller = Account.create().address
        self.runs = 0
        official = build_official_facilitator(anvil.url, funded_key(anvil), asynchronous=True)
        server = register_exact_evm_server(x402ResourceServer(official), NETWORK)
        price = {"amount": str(PRICE), "asset": asset.address, "extra": asset.extra}
        routes = {
            "GET /weather/*": RouteConfig(
                accepts=PaymentOption(
                    scheme="exact",
                    pay_to=self.seller,
                    price=price,
                    network=NETWORK,
                    max_timeout_seconds=120,
                ),
                description="weather",
            )
        }
        pay = payment_middleware(routes, server)
        app = FastAPI()

        @app.middleware("http")
        async def x402(request: Request, call_next: Any) -> Any:
            return await pay(request, call_next)

        @app.get("/weather/{city}")
        async def weather(city: str) -> dict[str, str]:
            self.runs += 1
            return {"city": city}

        self.app = app


@pytest.fixture(scope="module")
def official_shop(anvil: Anvil, token: Token) -> Iterator[tuple[OfficialShop, str]]:  # noqa: F811
    s = OfficialShop(anvil, token)
    with running(s.app) as url:
        yield s, url


def ledger_settled(url: str) -> Decimal:
    ledger = Ledger(url)
    try:
        spent = ledger.spent("all")
    finally:
        ledger.close()
    assert not spent.flagged
    return spent.settled


def pay_and_reconcile(
    kind: str, asset: Token, seller: str, base: str, tmp_path: Path
) -> tuple[PrivateKey, list[str]]:
    payer = funded(asset, CALLS * PRICE + 1)
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    before = asset.balance_of(seller)
    cities = [f"{kind}-{i}" for i in range(CALLS)]
    for city in cities:
        answer = pay_once(kind, payer, POLICY, f"{base}/weather/{city}", ledger=ledger_url)
        assert answer.status == 200 and city.encode() in answer.body, answer.body
        assert answer.receipt is not None and answer.receipt.outcome == "paid"
        assert answer.receipt.transaction is not None
    settled_atomic = int(ledger_settled(ledger_url) * 10**6)
    assert settled_atomic == CALLS * PRICE
    assert asset.balance_of(seller) - before == settled_atomic
    assert asset.balance_of(payer.address) == 1
    return payer, cities


def runs_of(seller: Shop | OfficialShop) -> int:
    return seller.runs if isinstance(seller, OfficialShop) else sum(seller.runs.values())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seller", ["shop", "official_shop"], ids=["fastx402", "official-sdk"])
def test_both_sellers_are_paid_by_every_client(
    request: pytest.FixtureRequest,
    token: Token,  # noqa: F811
    tmp_path: Path,
    seller: str,
    kind: str,
) -> None:
    s, url = request.getfixturevalue(seller)
    runs = runs_of(s)
    pay_and_reconcile(kind, token, s.seller, url, tmp_path)
    assert runs_of(s) - runs == CALLS
