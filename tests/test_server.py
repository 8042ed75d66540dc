"""The seller middleware under a real uvicorn on 127.0.0.1, settling on the session anvil through
fastx402's in-process facilitator; payments made with ``fastx402.create_payment`` from the 402
answer, and by the official SDK's httpx client. Balances are read on chain after each paid test.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

import fastx402
from asgi_server import running
from chain import NETWORK, Anvil, Token
from fastx402 import Facilitator, PaymentRequired, PrivateKey, SettleResponse
from fastx402.client import SpendPolicy, paying_client
from fastx402.client import receipt_of as client_receipt
from fastx402.server import (
    Atomic,
    Exposure,
    PaymentEvent,
    PaymentMiddleware,
    PaymentOption,
    Route,
    payment_of,
    priced,
)
from test_facilitator import fund_eth

PRICE = 10_000


@pytest.fixture(scope="module")
def token(usdc: Token) -> Token:
    fastx402.register_asset(NETWORK, usdc.address, usdc.name, usdc.version, 6, symbol="tUSDC")
    return usdc


@pytest.fixture(scope="module")
def facilitator(anvil: Anvil) -> Facilitator:
    key = PrivateKey.generate()
    fund_eth(anvil, key.address)
    return Facilitator(anvil.url, NETWORK, key, poll_interval=0.02, receipt_timeout=10.0)


class Shop:
    """A priced FastAPI app: counts handler runs, records payment events."""

    def __init__(self, token: Token, facilitator: Any, **options: Any) -> None:
        self.seller = PrivateKey.generate().address
        self.runs: dict[str, int] = {}
        self.events: list[PaymentEvent] = []
        self.lock = threading.Lock()
        app = FastAPI()
        option = PaymentOption(Atomic(PRICE), NETWORK, self.seller, asset=token.address)
        pricey = PaymentOption(Atomic(3 * PRICE), NETWORK, self.seller, asset=token.address)
        app.add_middleware(
            PaymentMiddleware,
            facilitator=facilitator,
            routes={
                "GET /weather/{city}": Route([option], description="Weather report"),
                "GET /premium": Route([pricey], description="Premium report"),
                "GET /fail": Route([option]),
                "GET /stream": Route([option], mime_type="text/event-stream"),
                "POST /job": Route([option], mode="before"),
                "GET /fast": Route([option], mode="optimistic"),
                "GET /capped": Route(
                    [option], mode="optimistic", exposure=Exposure(max_amount=PRICE - 1)
                ),
            },
            on_event=self.events.append,
            **options,
        )

        def ran(name: str) -> None:
            with self.lock:
                self.runs[name] = self.runs.get(name, 0) + 1

        @app.get("/weather/{city}")
        def weather(city: str, request: Request) -> dict[str, Any]:
            ran("weather")
            p = payment_of(request)
            return {"city": city, "payer": p.payer, "amount": p.amount}

        @app.get("/premium")
        def premium() -> dict[str, str]:
            ran("premium")
            return {"tier": "premium"}

        @app.get("/fail")
        def fail() -> Any:
            ran("fail")
            from fastapi.responses import JSONResponse

            return JSONResponse({"error": "broken"}, status_code=500)

        @app.post("/job")
        def job(request: Request) -> dict[str, Any]:
            ran("job")
            return {"transaction": payment_of(request).transaction}

        @app.get("/stream")
        async def stream() -> StreamingResponse:
            async def events() -> AsyncIterator[bytes]:
                for i in range(3):
                    yield f"data: {i}\n\n".encode()
                    await asyncio.sleep(0.3)
                ran("stream")

            return StreamingResponse(events(), media_type="text/event-stream")

        @app.get("/fast")
        @app.get("/capped")
        def fast(request: Request) -> dict[str, Any]:
            ran("fast")
            return {"payer": payment_of(request).payer}

        @app.get("/free")
        def free() -> dict[str, bool]:
            return {"free": True}

        @app.get("/declared")
        @priced(Route([option], description="Declared where it is served"))
        def declared() -> dict[str, bool]:
            ran("declared")
            return {"declared": True}

        self.app = app


@pytest.fixture
def shop(token: Token, facilitator: Facilitator) -> Iterator[tuple[Shop, str]]:
    s = Shop(token, facilitator)
    with running(s.app) as url:
        yield s, url


def pay(client: httpx.Client, url: str, payer: PrivateKey, **kw: Any) -> httpx.Response:
    """Reads the 402, pays it with fastx402.create_payment, sends the payment."""
    first = client.get(url)
    assert first.status_code == 402, first.text
    required = PaymentRequired.from_header(first.headers["payment-required"])
    payment = fastx402.create_payment(required, payer, **kw)
    return client.get(url, headers={"PAYMENT-SIGNATURE": payment.to_header()})


def funded(token: Token, amount: int = PRICE) -> PrivateKey:
    payer = PrivateKey.generate()
    token.mint(payer.address, amount)
    return payer


def receipt_of(response: httpx.Response) -> SettleResponse:
    return SettleResponse.from_header(response.headers["payment-response"])


def test_unpaid_request_gets_a_402_every_client_understands(shop: tuple[Shop, str]) -> None:
    s, url = shop
    r = httpx.get(f"{url}/weather/paris")
    assert r.status_code == 402
    header = PaymentRequired.from_header(r.headers["payment-required"])
    assert r.json() == header.to_dict()
    assert header.error == "no payment"
    assert header.resource is not None and header.resource["url"] == f"{url}/weather/paris"
    (offer,) = header.accepts
    assert (offer.amount, offer.pay_to, offer.network) == (str(PRICE), s.seller, NETWORK)
    assert r.headers["cache-control"] == "no-store"
    assert "PAYMENT-REQUIRED" in r.headers["access-control-expose-headers"]
    assert s.runs == {}
    # Unpriced routes and CORS preflight pass through untouched.
    assert httpx.get(f"{url}/free").json() == {"free": True}
    assert httpx.options(f"{url}/weather/paris").status_code != 402


def test_browser_gets_a_small_self_contained_paywall(shop: tuple[Shop, str]) -> None:
    _, url = shop
    r = httpx.get(
        f"{url}/weather/paris",
        headers={"accept": "text/html,application/xhtml+xml", "user-agent": "Mozilla/5.0"},
    )
    assert r.status_code == 402 and r.headers["content-type"].startswith("text/html")
    assert "payment-required" in r.headers
    page = r.text
    assert len(r.content) < 8192 and "<script" not in page.lower()
    assert "Weather report" in page and "0.01 tUSDC" in page and f"{url}/weather/paris" in page


def test_paid_request_is_served_once_and_settled_on_chain(
    shop: tuple[Shop, str], token: Token
) -> None:
    s, url = shop
    payer = funded(token)
    with httpx.Client() as client:
        r = pay(client, f"{url}/weather/paris", payer)
        assert r.status_code == 200, r.text
        assert r.json() == {"city": "paris", "payer": payer.address, "amount": PRICE}
        receipt = receipt_of(r)
        assert receipt.success and receipt.payer == payer.address
        assert token.balance_of(s.seller) == PRICE and token.balance_of(payer.address) == 0
        # The same header again (a client that lost the answer): the kept response, no second
        # handler run, no second charge.
        again = client.get(
            f"{url}/weather/paris",
            headers={"PAYMENT-SIGNATURE": r.request.headers["payment-signature"]},
        )
        assert again.status_code == 200 and again.json() == r.json()
        assert receipt_of(again).transaction == receipt.transaction
    assert s.runs == {"weather": 1}
    assert [e.kind for e in s.events] == ["paid"]
    assert token.balance_of(s.seller) == PRICE


def test_another_authorization_with_the_same_nonce_is_refused(
    shop: tuple[Shop, str], token: Token
) -> None:
    s, url = shop
    payer = funded(token, 4 * PRICE)
    nonce = bytes(range(32))
    with httpx.Client() as client:
        first = pay(client, f"{url}/weather/paris", payer, nonce=nonce)
        assert first.status_code == 200
        other = pay(client, f"{url}/premium", payer, nonce=nonce)
        assert other.status_code == 402
        assert "nonce_already_used" in other.json()["error"]
    assert s.runs == {"weather": 1}
    assert token.balance_of(s.seller) == PRICE


def test_sixty_four_concurrent_copies_run_the_handler_once(
    shop: tuple[Shop, str], token: Token
) -> None:
    s, url = shop
    payer = funded(token)
    with httpx.Client() as client:
        first = client.get(f"{url}/weather/rome")
        payment = fastx402.create_payment(
            PaymentRequired.from_header(first.headers["payment-required"]), payer
        )

    async def copies() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            return await asyncio.gather(
                *(
                    client.get(
                        f"{url}/weather/rome", headers={"PAYMENT-SIGNATURE": payment.to_header()}
                    )
                    for _ in range(64)
                )
            )

    answers = asyncio.run(copies())
    statuses = sorted({r.status_code for r in answers})
    assert set(statuses) <= {200, 409}, statuses
    served = [r for r in answers if r.status_code == 200]
    assert served and all(r.json()["city"] == "rome" for r in served)
    assert len({receipt_of(r).transaction for r in served}) == 1
    assert all(r.headers.get("retry-after") for r in answers if r.status_code == 409)
    assert s.runs == {"weather": 1}
    assert token.balance_of(s.seller) == PRICE


def test_handler_error_settles_nothing_and_frees_the_key(
    shop: tuple[Shop, str], token: Token
) -> None:
    s, url = shop
    payer = funded(token)
    with httpx.Client() as client:
        r = pay(client, f"{url}/fail", payer)
        assert r.status_code == 500 and "payment-response" not in r.headers
        again = client.get(
            f"{url}/fail", headers={"PAYMENT-SIGNATURE": r.request.headers["payment-signature"]}
        )
        assert again.status_code == 500
    assert s.runs == {"fail": 2}
    assert token.balance_of(payer.address) == PRICE and token.balance_of(s.seller) == 0


def test_before_mode_settles_first_and_the_handler_sees_the_transaction(
    shop: tuple[Shop, str], token: Token
) -> None:
    s, url = shop
    payer = funded(token)
    with httpx.Client() as client:
        first = client.post(f"{url}/job")
        assert first.status_code == 402
        payment = fastx402.create_payment(
            PaymentRequired.from_header(first.headers["payment-required"]), payer
        )
        r = client.post(f"{url}/job", headers={"PAYMENT-SIGNATURE": payment.to_header()})
    assert r.status_code == 200
    assert r.json()["transaction"] == receipt_of(r).transaction
    assert token.balance_of(s.seller) == PRICE


def test_streaming_route_keeps_streaming_and_settles_once(
    shop: tuple[Shop, str], token: Token
) -> None:
    s, url = shop
    payer = funded(token)
    with httpx.Client(timeout=30) as client:
        first = client.get(f"{url}/stream")
        payment = fastx402.create_payment(
            PaymentRequired.from_header(first.headers["payment-required"]), payer
        )
        with client.stream(
            "GET", f"{url}/stream", headers={"PAYMENT-SIGNATURE": payment.to_header()}
        ) as r:
            assert r.status_code == 200 and receipt_of(r).success
            chunks = r.iter_raw()
            assert next(chunks).startswith(b"data: 0")
            assert s.runs.get("stream") is None  # the handler has not produced its last event
            rest = b"".join(chunks)
    assert b"data: 2" in rest
    assert s.runs == {"stream": 1}
    assert token.balance_of(s.seller) == PRICE


def test_endpoint_priced_where_declared_and_documented(
    shop: tuple[Shop, str], token: Token
) -> None:
    s, url = shop
    assert httpx.get(f"{url}/declared").status_code == 402
    payer = funded(token)
    with httpx.Client() as client:
        assert pay(client, f"{url}/declared", payer).json() == {"declared": True}
    schema = httpx.get(f"{url}/openapi.json").json()
    assert "402" in schema["paths"]["/declared"]["get"]["responses"]
    assert token.balance_of(s.seller) == PRICE


@pytest.mark.parametrize(
    "header",
    [
        "A" * 20_000,  # too large
        "!!!not base64!!!",
        base64.b64encode(b'{"x402Version":2,"x402Version":2}').decode(),
        base64.b64encode(json.dumps({"x402Version": "2"}).encode()).decode(),
        base64.b64encode(b"[" * 1_000 + b"]" * 1_000).decode(),  # nesting past the JSON limit
        base64.b64encode(
            json.dumps({"x402Version": 2, "accepted": 1, "payload": 2}).encode()
        ).decode(),
    ],
)
def test_hostile_headers_get_a_typed_4xx(shop: tuple[Shop, str], header: str) -> None:
    s, url = shop
    r = httpx.get(f"{url}/weather/paris", headers={"PAYMENT-SIGNATURE": header})
    assert r.status_code in (402, 431), r.text
    assert "error" in r.json()
    assert s.runs == {}


def test_facilitator_that_cannot_serve_a_route_fails_start_up(token: Token, anvil: Anvil) -> None:
    key = PrivateKey.generate()
    other_chain = Facilitator(anvil.url, "eip155:84532", key)
    app = FastAPI()
    app.add_middleware(
        PaymentMiddleware,
        facilitator=other_chain,
        routes={
            "GET /x": Route([PaymentOption(Atomic(1), NETWORK, key.address, asset=token.address)])
        },
    )
    middleware = PaymentMiddleware(
        app,
        facilitator=other_chain,
        routes={
            "GET /x": Route([PaymentOption(Atomic(1), NETWORK, key.address, asset=token.address)])
        },
    )
    with pytest.raises(ValueError, match="route 'GET /x'"):
        asyncio.run(middleware.startup())


def test_one_mebibyte_header_is_refused_before_decoding(
    token: Token, facilitator: Facilitator
) -> None:
    """uvicorn itself refuses headers past 64 KiB; an ASGI server that does not still gets a 431
    from the middleware, without decoding anything (timed over many calls, not asserted as a
    deadline: the benchmark measures speed)."""
    shop = Shop(token, facilitator)
    sent: list[dict[str, Any]] = []

    async def call() -> None:
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/weather/paris",
            "raw_path": b"/weather/paris",
            "query_string": b"",
            "headers": [(b"host", b"shop"), (b"payment-signature", b"A" * (1 << 20))],
            "scheme": "http",
            "server": ("shop", 80),
            "app": shop.app,
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await shop.app(scope, receive, send)

    asyncio.run(call())
    assert sent[0]["status"] == 431
    assert json.loads(sent[1]["body"])["error"] == "payment header too large"
    assert shop.runs == {}


def test_the_official_sdk_httpx_client_pays_a_route(shop: tuple[Shop, str], token: Token) -> None:
    """The official Python SDK's ``x402HttpxClient`` reads our 402, pays it, and is served."""
    from eth_account import Account
    from x402 import x402Client
    from x402.http.clients import x402HttpxClient
    from x402.mechanisms.evm.exact import register_exact_evm_client
    from x402.mechanisms.evm.signers import EthAccountSigner

    s, url = shop
    account = Account.create()
    token.mint(account.address, PRICE)
    client = register_exact_evm_client(x402Client(), EthAccountSigner(account))
    client.set_spend_controls({"allowed_assets": [{"network": NETWORK, "asset": token.address}]})

    async def get() -> httpx.Response:
        async with x402HttpxClient(client, timeout=30) as http:
            return await http.get(f"{url}/weather/oslo")

    r = asyncio.run(get())
    assert r.status_code == 200, r.text
    assert r.json()["payer"] == account.address
    assert receipt_of(r).success
    assert s.runs == {"weather": 1}
    assert token.balance_of(s.seller) == PRICE and token.balance_of(account.address) == 0


class FaultyFront:
    """A facilitator front on 127.0.0.1 that forwards to fastx402's real facilitator service but
    misbehaves on ``/settle`` as told (a fake is allowed only for faults: a real facilitator
    cannot be made to hang, lie or lose its answer on demand)."""

    def __init__(self, facilitator: Facilitator) -> None:
        from starlette.applications import Starlette
        from starlette.responses import Response
        from starlette.routing import Route as StarletteRoute

        from fastx402.facilitator import create_app

        self.mode = "ok"
        self.settles = 0
        real = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(facilitator, reconcile_interval=0)),
            base_url="http://facilitator",
        )

        async def forward(request: Any) -> Response:
            body = await request.body()
            mode = self.mode if request.url.path == "/settle" else "ok"
            if request.url.path == "/settle":
                self.settles += 1
            if mode == "hang":
                await asyncio.sleep(5)
                return Response(status_code=504)
            if mode == "500":
                return Response(b"upstream exploded", status_code=500)
            if mode == "garbage":
                return Response(b"<html>surprise</html>", media_type="text/html")
            answer = await real.request(
                request.method,
                request.url.path,
                content=body,
                headers={"content-type": "application/json"},
            )
            if mode == "truncated":
                return Response(
                    answer.content[: len(answer.content) // 2], media_type="application/json"
                )
            if mode == "no_tx":
                data = answer.json()
                data["transaction"] = ""
                return Response(json.dumps(data), media_type="application/json")
            if mode == "late":
                await asyncio.sleep(2)  # settled, but past the seller's timeout
            return Response(answer.content, answer.status_code, media_type="application/json")

        self.app = Starlette(
            routes=[
                StarletteRoute("/verify", forward, methods=["POST"]),
                StarletteRoute("/settle", forward, methods=["POST"]),
                StarletteRoute("/supported", forward, methods=["GET"]),
            ]
        )


@pytest.mark.parametrize("fault", ["hang", "500", "garbage", "truncated", "no_tx", "late"])
def test_facilitator_faults_serve_nothing_unpaid_and_lose_nothing(
    token: Token, facilitator: Facilitator, fault: str
) -> None:
    """While the settlement's outcome is unknown nothing is served (503 + Retry-After); the retry
    with the same header, once the facilitator answers again, gets the response the handler
    produced, charged once; the handler never runs twice."""
    front = FaultyFront(facilitator)
    with running(front.app) as facilitator_url:
        remote = fastx402.RemoteFacilitator(
            facilitator_url, timeout=1.0, settle_timeout=1.0, connect_timeout=0.5
        )
        # fastx402's facilitator service: settling again answers the stored result.
        s = Shop(token, remote, idempotent_settle=True, reconcile_interval=None)
        payer = funded(token)
        with running(s.app) as url, httpx.Client(timeout=30) as client:
            first = client.get(f"{url}/weather/lima")
            payment = fastx402.create_payment(
                PaymentRequired.from_header(first.headers["payment-required"]), payer
            )
            header = {"PAYMENT-SIGNATURE": payment.to_header()}
            front.mode = fault
            r = client.get(f"{url}/weather/lima", headers=header)
            assert r.status_code == 503, (fault, r.status_code, r.text)
            assert int(r.headers["retry-after"]) > 0 and "lima" not in r.text
            assert s.runs == {"weather": 1}
            front.mode = "ok"
            again = client.get(f"{url}/weather/lima", headers=header)
            assert again.status_code == 200, (fault, again.text)
            assert again.json() == {"city": "lima", "payer": payer.address, "amount": PRICE}
            assert receipt_of(again).success
            third = client.get(f"{url}/weather/lima", headers=header)
            assert third.status_code == 200 and third.json() == again.json()
    assert s.runs == {"weather": 1}
    assert [e.kind for e in s.events] == ["unknown", "paid"]
    assert token.balance_of(s.seller) == PRICE and token.balance_of(payer.address) == 0


def test_rate_card_lists_every_route_with_a_version_that_follows_the_terms(
    shop: tuple[Shop, str], token: Token, facilitator: Facilitator
) -> None:
    s, url = shop
    card = httpx.get(f"{url}/.well-known/x402").json()
    routes = {r["route"]: r for r in card["routes"]}
    assert set(routes) >= {"GET /weather/{city}", "POST /job", "GET /declared"}
    (weather,) = routes["GET /weather/{city}"]["accepts"]
    assert (weather["amount"], weather["asset"], weather["payTo"], weather["network"]) == (
        str(PRICE),
        token.address,
        s.seller,
        NETWORK,
    )
    assert routes["POST /job"]["mode"] == "before"
    assert httpx.get(f"{url}/.well-known/x402").json()["version"] == card["version"]
    other = Shop(token, facilitator)  # another seller: another payTo, another version
    with running(other.app) as other_url:
        assert httpx.get(f"{other_url}/.well-known/x402").json()["version"] != card["version"]


def test_optimistic_route_serves_first_and_settles_in_the_background(
    shop: tuple[Shop, str], token: Token
) -> None:
    s, url = shop
    payer = funded(token)
    with httpx.Client() as client:
        r = pay(client, f"{url}/fast", payer)
        assert r.status_code == 200 and r.json() == {"payer": payer.address}
        assert "payment-response" not in r.headers  # served before settlement
        for _ in range(200):  # bounded: the background settlement lands and is reported
            if token.balance_of(s.seller) == PRICE and s.events:
                break
            time.sleep(0.05)
        assert token.balance_of(s.seller) == PRICE and token.balance_of(payer.address) == 0
        assert [e.kind for e in s.events] == ["paid"]
        # A retry of the same header now gets the kept answer and the receipt; nothing runs again.
        again = client.get(
            f"{url}/fast", headers={"PAYMENT-SIGNATURE": r.request.headers["payment-signature"]}
        )
        assert again.status_code == 200 and receipt_of(again).success
    assert s.runs == {"fast": 1}


def test_optimistic_route_beyond_the_exposure_cap_falls_back_to_after(
    shop: tuple[Shop, str], token: Token
) -> None:
    s, url = shop
    payer = funded(token)
    with httpx.Client() as client:
        r = pay(client, f"{url}/capped", payer)
    assert r.status_code == 200 and receipt_of(r).success  # settled before it was released
    assert token.balance_of(s.seller) == PRICE


def test_the_official_typescript_fetch_client_pays_a_route(
    shop: tuple[Shop, str], token: Token
) -> None:
    """``@x402/fetch`` (npm, run by node) reads our 402, signs with viem, and is served."""
    import subprocess
    from pathlib import Path

    from eth_account import Account

    s, url = shop
    account = Account.create()
    token.mint(account.address, PRICE)
    # Beside tests/contracts/node_modules, where make chain-tools installs the npm packages.
    script = Path(__file__).parent / "contracts" / "pay_with_x402_fetch.mjs"
    done = subprocess.run(
        [
            "node",
            str(script),
            f"{url}/weather/tokyo",
            "0x" + account.key.hex().removeprefix("0x"),
            NETWORK,
            token.address,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] == 200, answer
    assert json.loads(answer["body"]) == {
        "city": "tokyo",
        "payer": account.address,
        "amount": PRICE,
    }
    assert SettleResponse.from_header(answer["paymentResponse"]).success
    assert s.runs == {"weather": 1}
    assert token.balance_of(s.seller) == PRICE and token.balance_of(account.address) == 0


class OfficialFacilitator:
    """The official Python SDK's facilitator (x402FacilitatorSync, web3 signer on the same
    anvil), behind the small verify/settle/supported surface the middleware calls."""

    def __init__(self, anvil: Anvil) -> None:
        from eth_account import Account

        from official_facilitator import build_official_facilitator

        account = Account.create()
        fund_eth(anvil, account.address)
        self.sdk = build_official_facilitator(
            anvil.url, "0x" + account.key.hex().removeprefix("0x"), NETWORK
        )

    def supported(self) -> fastx402.SupportedResponse:
        from official_facilitator import wire

        return fastx402.SupportedResponse.from_dict(wire(self.sdk.get_supported()))

    async def verify(self, payload: Any, requirements: Any) -> fastx402.VerifyResponse:
        from official_facilitator import official_verify, wire

        answer = await asyncio.to_thread(official_verify, self.sdk, payload, requirements)
        return fastx402.VerifyResponse.from_dict(wire(answer))

    async def settle(self, payload: Any, requirements: Any) -> SettleResponse:
        from official_facilitator import official_settle, wire

        answer = await asyncio.to_thread(official_settle, self.sdk, payload, requirements)
        return SettleResponse.from_dict(wire(answer))


def test_settlement_through_the_official_python_facilitator(token: Token, anvil: Anvil) -> None:
    s = Shop(token, OfficialFacilitator(anvil))
    payer = funded(token)
    with running(s.app) as url, httpx.Client(timeout=60) as client:
        r = pay(client, f"{url}/weather/cairo", payer)
    assert r.status_code == 200, r.text
    receipt = receipt_of(r)
    assert receipt.success and receipt.payer == payer.address
    tx = anvil.rpc.call("eth_getTransactionReceipt", receipt.transaction)
    assert int(tx["status"], 16) == 1
    assert s.runs == {"weather": 1}
    assert token.balance_of(s.seller) == PRICE and token.balance_of(payer.address) == 0


def test_payment_identifier_dedupes_a_re_signed_retry_of_the_same_request(
    shop: tuple[Shop, str], token: Token
) -> None:
    """The official ``payment-identifier`` extension, enforced: a client that lost the answer and
    signed a *new* payment for the same request with the same id gets the first payment's
    outcome and is not charged twice; the id cannot be reused for another request."""
    s, url = shop
    payer = funded(token, 2 * PRICE)
    pid = "pay_" + "a1" * 16
    with httpx.Client() as client:
        first402 = client.get(f"{url}/weather/quito")
        required = PaymentRequired.from_header(first402.headers["payment-required"])
        assert (required.extensions or {})["payment-identifier"]["info"] == {"required": False}
        one = fastx402.create_payment(required, payer).with_payment_identifier(pid)
        assert one.payment_identifier == pid
        a = client.get(f"{url}/weather/quito", headers={"PAYMENT-SIGNATURE": one.to_header()})
        assert a.status_code == 200
        two = fastx402.create_payment(required, payer).with_payment_identifier(pid)
        assert two.payload["authorization"]["nonce"] != one.payload["authorization"]["nonce"]
        b = client.get(f"{url}/weather/quito", headers={"PAYMENT-SIGNATURE": two.to_header()})
        assert b.status_code == 200 and b.json() == a.json()
        assert receipt_of(b).transaction == receipt_of(a).transaction
        other = fastx402.create_payment(
            PaymentRequired.from_header(client.get(f"{url}/premium").headers["payment-required"]),
            payer,
        ).with_payment_identifier(pid)
        c = client.get(f"{url}/premium", headers={"PAYMENT-SIGNATURE": other.to_header()})
        assert c.status_code == 402 and "another request" in c.json()["error"]
        bad = one.to_dict()
        bad["extensions"]["payment-identifier"]["info"]["id"] = "short"
        d = client.get(
            f"{url}/weather/quito",
            headers={"PAYMENT-SIGNATURE": fastx402.encode_header(bad)},
        )
        assert d.status_code == 402 and d.json()["error"] == "invalid payment: invalid_payload"
    assert s.runs == {"weather": 1}
    assert token.balance_of(s.seller) == PRICE and token.balance_of(payer.address) == PRICE


def test_a_v1_client_is_answered_and_served_in_v1(shop: tuple[Shop, str], token: Token) -> None:
    """An ``X-PAYMENT`` (v1) request gets a v1 402 in the body (``maxAmountRequired``, the v1
    network name), pays it with a v1 payment, and gets ``X-PAYMENT-RESPONSE``."""
    s, url = shop
    fastx402.register_network("anvil-x402-interop", 31337)  # idempotent; the v1 name of anvil
    payer = funded(token)
    with httpx.Client() as client:
        probe = client.get(f"{url}/weather/bern", headers={"X-PAYMENT": "bm90IGEgcGF5bWVudA=="})
        assert probe.status_code == 402 and "payment-required" not in probe.headers
        body = probe.json()
        assert body["x402Version"] == 1 and body["error"].startswith("invalid payment")
        (offer,) = body["accepts"]
        assert (offer["network"], offer["maxAmountRequired"]) == ("anvil-x402-interop", str(PRICE))
        payment = fastx402.create_payment(PaymentRequired.from_dict(body), payer)
        assert payment.x402_version == 1
        r = client.get(f"{url}/weather/bern", headers={"X-PAYMENT": payment.to_header()})
    assert r.status_code == 200 and r.json()["city"] == "bern"
    receipt = SettleResponse.from_header(r.headers["x-payment-response"])
    assert receipt.success and receipt.payer == payer.address
    assert s.runs == {"weather": 1}
    assert token.balance_of(s.seller) == PRICE and token.balance_of(payer.address) == 0


# The agent's paying client against this seller in v1 (here, not in test_client.py: it registers
# anvil's v1 network name, which the facilitator tests must not see: they run earlier).
AGENT_POLICY = SpendPolicy(max_per_call=Decimal("0.05"), allow_http=True)


def test_a_v1_only_seller_is_paid_in_v1(shop: tuple[Shop, str], token: Token) -> None:
    """The paying client (``fastx402.client``) and a seller that speaks only x402 v1
    (fastx402's seller answers v1 to an ``X-PAYMENT`` request: this front adds a junk one to
    every unpaid request, so all its 402s are v1)."""
    s, _ = shop
    fastx402.register_network("anvil-x402-interop", 31337)  # idempotent; anvil's v1 name
    inner = s.app

    async def v1_only(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and all(k != b"x-payment" for k, _ in scope["headers"]):
            scope = dict(
                scope, headers=[*scope["headers"], (b"x-payment", b"bm90IGEgcGF5bWVudA==")]
            )
        await inner(scope, receive, send)

    payer = funded(token)
    with running(v1_only) as url, paying_client(payer, AGENT_POLICY) as client:
        r = client.get(f"{url}/weather/bern")
    receipt = client_receipt(r)
    assert r.status_code == 200 and r.json()["city"] == "bern"
    assert receipt is not None and receipt.outcome == "paid"
    assert receipt.quote.required.x402_version == 1 and receipt.amount == PRICE
    assert token.balance_of(s.seller) == PRICE and token.balance_of(payer.address) == 0
    assert s.runs == {"weather": 1}
