"""64 concurrent copies of one payment header, 20 rounds (a fresh payment each round), against
real sellers settling on the session anvil: each round runs the handler exactly once and settles
exactly once on chain (balances read on chain: the seller gets rounds x price, every payer is
charged once although funded twice over).

(a) one uvicorn (in a thread) with the memory store and an in-process ``Facilitator``;
(b) ``uvicorn --workers 2`` (two worker processes) sharing a SQLite store;
(c) two separate uvicorn processes sharing a real redis-server, the copies split between them.

In (b) and (c) every seller process uses one fastx402 facilitator service over HTTP
(``fastx402.facilitator.create_app`` under uvicorn; ``RemoteFacilitator`` in the sellers), as in
production: one sender key whose nonces the service orders, and the seller's HTTP path
(timeouts, answers parsed in Rust) on the way. Handler runs are counted across processes in an
append-only file (one line per run, with the PID of the process that ran it).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import fastx402
from asgi_server import running
from chain import Anvil, Token
from fastx402 import Facilitator, PaymentRequired, PrivateKey, SettleResponse
from fastx402.facilitator import create_app
from processes import RedisServer, UvicornProcess
from test_server import PRICE, Shop

ROUNDS = 20
COPIES = 64
RESOURCE = "http://seller.test/weather"


@pytest.fixture(scope="module")
def token(usdc: Token) -> Token:
    fastx402.register_asset(
        "eip155:31337", usdc.address, usdc.name, usdc.version, 6, symbol="tUSDC"
    )
    return usdc


def _facilitator(anvil: Anvil) -> Facilitator:
    from test_facilitator import new_facilitator

    return new_facilitator(anvil)


@pytest.fixture(scope="module")
def facilitator_service(anvil: Anvil) -> Iterator[str]:
    """One fastx402 facilitator service on 127.0.0.1 for every seller process of a test."""
    with running(create_app(_facilitator(anvil), reconcile_interval=0)) as url:
        yield url


def run_rounds(
    urls: list[str], token: Token, seller: str, ran: Callable[[], list[str]]
) -> dict[str, Any]:
    """``ROUNDS`` rounds of ``COPIES`` concurrent copies of one fresh payment, spread over
    ``urls`` in turn; ``ran()`` lists the cities whose handler ran so far (one per run)."""
    answered_by: Counter[str] = Counter()
    transactions: set[str] = set()
    payers: list[PrivateKey] = []
    started = time.monotonic()
    for n in range(ROUNDS):
        city = f"city{n}"
        payer = PrivateKey.generate()
        token.mint(payer.address, 2 * PRICE)  # funded twice over: a double charge would pass
        payers.append(payer)
        first = httpx.get(f"{urls[0]}/weather/{city}", trust_env=False, timeout=10)
        assert first.status_code == 402, first.text
        required = PaymentRequired.from_header(first.headers["payment-required"])
        header = {"PAYMENT-SIGNATURE": fastx402.create_payment(required, payer).to_header()}

        async def copies(header: dict[str, str] = header, city: str = city) -> list[httpx.Response]:
            limits = httpx.Limits(max_connections=COPIES, max_keepalive_connections=0)
            async with httpx.AsyncClient(limits=limits, timeout=30, trust_env=False) as client:
                return await asyncio.gather(
                    *(
                        client.get(f"{urls[i % len(urls)]}/weather/{city}", headers=header)
                        for i in range(COPIES)
                    )
                )

        answers = asyncio.run(copies())
        statuses = Counter(r.status_code for r in answers)
        assert set(statuses) <= {200, 409}, (n, statuses, [r.text for r in answers][:3])
        served = [r for r in answers if r.status_code == 200]
        assert served, (n, statuses)
        bodies = {r.content for r in served}
        assert len(bodies) == 1, (n, bodies)  # late copies get the kept response, same bytes
        assert served[0].json()["city"] == city and served[0].json()["payer"] == payer.address
        receipts = {SettleResponse.from_header(r.headers["payment-response"]).transaction
                    for r in served}  # fmt: skip
        assert len(receipts) == 1, (n, receipts)
        assert all(int(r.headers["retry-after"]) > 0 for r in answers if r.status_code == 409)
        transactions |= receipts
        answered_by.update(r.headers.get("x-seller-pid", "") for r in answers)
        # Exactly one handler run for this round, across every process.
        assert Counter(ran()) == Counter(f"city{i}" for i in range(n + 1)), (n, ran())
    elapsed = time.monotonic() - started
    assert len(transactions) == ROUNDS
    assert token.balance_of(seller) == ROUNDS * PRICE
    assert [token.balance_of(p.address) for p in payers] == [PRICE] * ROUNDS
    return {"answered_by": answered_by, "elapsed": elapsed}


def test_a_one_process_memory_store(token: Token, anvil: Anvil) -> None:
    shop = Shop(token, _facilitator(anvil))
    with running(shop.app) as url:
        # Shop counts runs per route; round n's check asks for exactly n + 1 runs so far.
        run_rounds(
            [url], token, shop.seller, lambda: [f"city{i}" for i in range(shop.runs["weather"])]
        )
    assert shop.runs == {"weather": ROUNDS}
    assert Counter(e.kind for e in shop.events) == {"paid": ROUNDS}


def _seller_env(
    token: Token, store: str, facilitator: str, runs: Path, pay_to: str
) -> dict[str, str]:
    return {
        "SELLER_STORE": store,
        "SELLER_FACILITATOR": facilitator,
        "SELLER_TOKEN": token.address,
        "SELLER_TOKEN_NAME": token.name,
        "SELLER_TOKEN_VERSION": token.version,
        "SELLER_PAY_TO": pay_to,
        "SELLER_PRICE": str(PRICE),
        "SELLER_RESOURCE": RESOURCE,
        "SELLER_RUNS": str(runs),
    }


def _runs(path: Path) -> tuple[Callable[[], list[str]], Callable[[], set[str]]]:
    def lines() -> list[list[str]]:
        if not path.exists():
            return []
        return [line.split() for line in path.read_text().splitlines()]

    return (lambda: [city for _, city in lines()]), (lambda: {pid for pid, _ in lines()})


def test_b_two_workers_share_a_sqlite_store(
    token: Token, facilitator_service: str, tmp_path: Path
) -> None:
    seller = PrivateKey.generate().address
    runs = tmp_path / "runs.txt"
    env = _seller_env(
        token, f"sqlite:///{tmp_path / 'replay.db'}", facilitator_service, runs, seller
    )
    with UvicornProcess("seller_app:create_app", env, workers=2) as server:
        ran, _ = _runs(runs)
        report = run_rounds([server.url], token, seller, ran)
        workers = set(report["answered_by"])
        assert len(workers) == 2, report  # both worker processes answered copies
        assert "" not in workers
    print(f"sqlite, 2 workers: {ROUNDS} rounds in {report['elapsed']:.1f} s")


def test_c_two_processes_share_a_redis(
    token: Token, facilitator_service: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    seller = PrivateKey.generate().address
    runs = tmp_path / "runs.txt"
    env = _seller_env(token, redis_server.url(), facilitator_service, runs, seller)
    with (
        UvicornProcess("seller_app:create_app", env) as one,
        UvicornProcess("seller_app:create_app", env) as two,
    ):
        ran, ran_in = _runs(runs)
        report = run_rounds([one.url, two.url], token, seller, ran)
        assert set(report["answered_by"]) == one.pids | two.pids and len(one.pids | two.pids) == 2
        assert ran_in() <= one.pids | two.pids
    print(f"redis, 2 processes: {ROUNDS} rounds in {report['elapsed']:.1f} s")


def test_a_copy_during_the_paid_response_is_in_flight_then_served(
    token: Token, anvil: Anvil
) -> None:
    """Deterministic form of the window (a) to (c) hit at random: the payment is settled and the
    response is still streaming when a copy arrives; it is in flight (409), not "already used",
    and once the body is complete the copy gets the kept response."""
    shop = Shop(token, _facilitator(anvil))
    payer = PrivateKey.generate()
    token.mint(payer.address, PRICE)
    with running(shop.app) as url, httpx.Client(timeout=30, trust_env=False) as client:
        first = client.get(f"{url}/stream")
        required = PaymentRequired.from_header(first.headers["payment-required"])
        header = {"PAYMENT-SIGNATURE": fastx402.create_payment(required, payer).to_header()}
        with client.stream("GET", f"{url}/stream", headers=header) as r:
            assert r.status_code == 200
            chunks = r.iter_raw()
            assert next(chunks).startswith(b"data: 0")  # settled, body under way
            copy = httpx.get(f"{url}/stream", headers=header, trust_env=False, timeout=30)
            assert copy.status_code == 409, copy.text
            assert int(copy.headers["retry-after"]) > 0
            body = b"data: 0\n\n" + b"".join(chunks)
        again = client.get(f"{url}/stream", headers=header)
        assert again.status_code == 200 and again.content == body
    assert shop.runs == {"stream": 1}
    assert token.balance_of(shop.seller) == PRICE
