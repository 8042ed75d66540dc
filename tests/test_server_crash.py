"""A seller worker that dies mid-payment does not make the payment forgotten.

Worker A is a real uvicorn subprocess killed with SIGKILL by PID while a payment is in flight
(``before``: after its settlement landed on chain, its answer held by the facilitator front, or
later, in the handler; ``after``: while the handler runs, before any settlement). Worker B (in
this process, uvicorn in a thread) shares A's SQLite store and reconciles A's stale record
read-only through the facilitator's ``/verify``; the payer's retry with the same header then
gets the content (the handler run once) or, when nothing was charged, pays normally. Balances
are read on anvil. Real parts: anvil + TestUSDC, fastx402's facilitator service over HTTP
(behind a front that can hold its ``/settle`` answer: a lost answer a real facilitator cannot
produce on demand), uvicorn, SQLite. Run as a script, this file is worker A.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

import fastx402
from fastx402.server import (
    Atomic,
    PaymentEvent,
    PaymentMiddleware,
    PaymentOption,
    Route,
    payment_of,
)

# Seconds: long enough for a loaded machine to kill worker A and retry before the deadline.
STALE_AFTER, SETTLE_MARGIN, GRACE = 8, 1, 3
SPAWN_TIMEOUT = 30.0


def build(cfg: dict[str, Any], on_run: Callable[[], None], **options: Any) -> PaymentMiddleware:
    """The seller of both workers: the same routes, store and facilitator."""
    app = FastAPI()

    @app.get("/slow")
    async def slow(s: float = 0.0) -> dict[str, str]:
        on_run()
        await asyncio.sleep(min(s, 60.0))
        return {"content": "slow"}

    @app.post("/job")
    def job(request: Request) -> dict[str, Any]:
        on_run()
        return {"job": "done", "transaction": payment_of(request).transaction}

    @app.post("/slowjob")
    async def slowjob(request: Request, s: float = 0.0) -> dict[str, Any]:
        on_run()
        await asyncio.sleep(min(s, 60.0))
        return {"job": "done", "transaction": payment_of(request).transaction}

    @app.get("/stream")
    def stream(n: int = 10) -> StreamingResponse:
        on_run()

        async def events() -> AsyncIterator[bytes]:
            for i in range(min(n, 100)):
                yield f"data: {i}\n\n".encode()
                await asyncio.sleep(0.5)

        return StreamingResponse(events(), media_type="text/event-stream")

    option = PaymentOption(Atomic(cfg["price"]), cfg["network"], cfg["seller"], asset=cfg["asset"])
    base = "http://seller.test"  # one resource URL for both workers (A's and B's ports differ)
    remote = fastx402.RemoteFacilitator(
        cfg["facilitator"], timeout=5.0, settle_timeout=60.0, connect_timeout=1.0
    )
    return PaymentMiddleware(
        app,
        facilitator=remote,
        routes={
            "GET /slow": Route([option], resource=f"{base}/slow"),
            "POST /job": Route([option], mode="before", resource=f"{base}/job"),
            "POST /slowjob": Route([option], mode="before", resource=f"{base}/slowjob"),
            "GET /stream": Route([option], resource=f"{base}/stream"),
        },
        store=f"sqlite:///{cfg['db']}",
        # Idempotent: a stale record must still be resolved read-only (never settled again).
        idempotent_settle=True,
        reconcile_grace=GRACE,
        stale_after=STALE_AFTER,
        settle_margin=SETTLE_MARGIN,
        **options,
    )


def worker_main(config_path: str) -> None:
    """Worker A: serves on a free port (printed on stdout) until killed."""
    cfg = json.loads(Path(config_path).read_text())
    fastx402.register_asset(cfg["network"], cfg["asset"], cfg["name"], cfg["version"], 6)
    marker = Path(cfg["marker"])
    mw = build(cfg, lambda: marker.write_text("ran"), reconcile_interval=None)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    uvicorn.Server(uvicorn.Config(mw, log_level="warning")).run(sockets=[sock])


if __name__ == "__main__":
    worker_main(sys.argv[1])
    sys.exit(0)

# --- the tests (worker B and the payer) --------------------------------------------------------

from asgi_server import running  # noqa: E402
from chain import NETWORK, Anvil, Token  # noqa: E402
from fastx402 import Facilitator, PaymentRequired, PrivateKey  # noqa: E402
from fastx402.server.reconcile import UNKNOWN_LOG  # noqa: E402
from fastx402.server.records import Record  # noqa: E402
from test_facilitator import fund_eth  # noqa: E402
from test_server import PRICE, funded, receipt_of  # noqa: E402


@pytest.fixture(scope="module")
def token(usdc: Token) -> Token:
    fastx402.register_asset(NETWORK, usdc.address, usdc.name, usdc.version, 6, symbol="tUSDC")
    return usdc


@pytest.fixture(scope="module")
def facilitator(anvil: Anvil) -> Facilitator:
    key = PrivateKey.generate()
    fund_eth(anvil, key.address)
    return Facilitator(anvil.url, NETWORK, key, poll_interval=0.02, receipt_timeout=10.0)


class HoldFront:
    """fastx402's facilitator service, whose ``/settle`` answer can be held after settling (the
    seller then waits for it, as for a slow facilitator): the moment to kill the seller."""

    def __init__(self, facilitator: Facilitator) -> None:
        from starlette.applications import Starlette
        from starlette.responses import Response
        from starlette.routing import Route as StarletteRoute

        from fastx402.facilitator import create_app

        self.hold = False
        self.settles = 0
        self.released = threading.Event()
        real = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(facilitator, reconcile_interval=0)),
            base_url="http://facilitator",
        )

        async def forward(request: Any) -> Response:
            body = await request.body()
            settle = request.url.path == "/settle"
            self.settles += settle
            answer = await real.request(
                request.method,
                request.url.path,
                content=body,
                headers={"content-type": "application/json"},
            )
            if settle and self.hold:
                for _ in range(400):  # at most 20 s
                    if self.released.is_set():
                        break
                    await asyncio.sleep(0.05)
            return Response(answer.content, answer.status_code, media_type="application/json")

        self.app = Starlette(
            routes=[
                StarletteRoute(p, forward, methods=[m])
                for p, m in (("/verify", "POST"), ("/settle", "POST"), ("/supported", "GET"))
            ]
        )


class Shop:
    """Worker B in this process, and what worker A needs to start with the same config."""

    def __init__(self, token: Token, front_url: str, tmp: Path, **options: Any) -> None:
        self.seller = PrivateKey.generate().address
        self.runs = 0
        self.events: list[PaymentEvent] = []
        self.cfg = {
            "price": PRICE,
            "network": NETWORK,
            "seller": self.seller,
            "asset": token.address,
            "name": token.name,
            "version": token.version,
            "facilitator": front_url,
            "db": str(tmp / "records.db"),
            "marker": str(tmp / "a-ran"),
        }
        options.setdefault("reconcile_interval", 0.2)
        self.mw = build(self.cfg, self._ran, on_event=self.events.append, **options)

    def _ran(self) -> None:
        self.runs += 1

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    @property
    def a_ran(self) -> bool:
        return Path(self.cfg["marker"]).exists()


@pytest.fixture
def front(facilitator: Facilitator) -> Iterator[tuple[HoldFront, str]]:
    f = HoldFront(facilitator)
    with running(f.app) as url:
        yield f, url
        f.released.set()


@pytest.fixture
def worker_a(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], tuple[int, str]]]:
    """Starts worker A (a subprocess); yields a starter returning (pid, base URL)."""
    procs: list[subprocess.Popen[str]] = []

    def start(cfg: dict[str, Any]) -> tuple[int, str]:
        config = tmp_path / "worker.json"
        config.write_text(json.dumps(cfg))
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
        proc = subprocess.Popen(
            [sys.executable, __file__, str(config)], stdout=subprocess.PIPE, text=True, env=env
        )
        procs.append(proc)
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), "worker A did not start"
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SPAWN_TIMEOUT
        while True:
            try:
                if httpx.get(f"{url}/.well-known/x402", timeout=1).status_code == 200:
                    return proc.pid, url
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "worker A did not serve in time"
            time.sleep(0.1)

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _header(url: str, payer: PrivateKey, method: str = "GET") -> dict[str, str]:
    first = httpx.request(method, url)
    assert first.status_code == 402, first.text
    payment = fastx402.create_payment(
        PaymentRequired.from_header(first.headers["payment-required"]), payer
    )
    return {"PAYMENT-SIGNATURE": payment.to_header()}


def _wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _stored(shop: Shop) -> Record:
    """The one payment's record in the shared store (its key read from the claims log)."""

    async def read() -> Record:
        entries = await shop.mw.store.read(UNKNOWN_LOG, after=0, limit=10)
        key = json.loads(entries[0][1])["key"]
        entry = await shop.mw.store.get(key, now=int(time.time()))
        assert entry is not None
        return Record.decode(entry.value)

    return asyncio.run(read())


def _sleep_past(deadline: int | None) -> None:
    assert deadline is not None
    time.sleep(max(0.0, deadline + 0.2 - time.time()))


def _in_background(call: Callable[[], Any]) -> threading.Thread:
    """A request to worker A, left hanging when A is killed (its failure is expected)."""

    def run() -> None:
        with contextlib.suppress(httpx.HTTPError):
            call()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [("POST", "/job", {"job": "done", "transaction": None}), ("GET", "/slow", {"content": "slow"})],
    ids=["before", "after"],
)
def test_a_worker_killed_after_its_settlement_landed_is_reconciled_and_serves_the_retry_once(
    token: Token,
    front: tuple[HoldFront, str],
    worker_a: Any,
    tmp_path: Path,
    method: str,
    path: str,
    content: dict[str, Any],
) -> None:
    """Killed while its settlement is answered (landed on chain, the answer not yet heard): the
    record is still "reserved". (``after``: the handler had run, its response never went out;
    no transaction hash was ever received, so the content has none.)"""
    f, front_url = front
    shop = Shop(token, front_url, tmp_path)
    payer = funded(token)
    with running(shop.mw) as url_b:
        pid, url_a = worker_a(shop.cfg)
        header = _header(f"{url_b}{path}", payer, method)
        f.hold = True
        hung = _in_background(
            lambda: httpx.request(method, f"{url_a}{path}", headers=header, timeout=30)
        )
        _wait_for(lambda: token.balance_of(shop.seller) == PRICE)  # settled on chain
        _kill(pid)  # before A heard the answer: its record is still "reserved"
        f.hold = False
        f.released.set()
        hung.join(timeout=10)
        assert shop.a_ran == (method == "GET")  # after mode: ran, not served
        early = httpx.request(method, f"{url_b}{path}", headers=header, timeout=30)
        assert early.status_code == 409 and "retry-after" in early.headers  # not stale yet
        _wait_for(lambda: "paid" in shop.kinds())  # B's pass: stale, nonce used => settled
        assert f.settles == 1  # read-only: never settled again

        answers = asyncio.run(_concurrent(method, f"{url_b}{path}", header, 8))
        served = [r for r in answers if r.status_code == 200]
        assert len(served) == 1, [(r.status_code, r.text) for r in answers]
        assert {r.status_code for r in answers} <= {200, 409}
        assert served[0].json() == content
        later = httpx.request(method, f"{url_b}{path}", headers=header, timeout=30)
        assert later.status_code == 402 and "already used" in later.text
    assert shop.runs == 1 and f.settles == 1
    assert token.balance_of(shop.seller) == PRICE and token.balance_of(payer.address) == 0
    assert "paid_unserved" not in shop.kinds()


async def _concurrent(
    method: str, url: str, header: dict[str, str], n: int
) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=30) as c:
        calls = [c.request(method, url, headers=header) for _ in range(n)]
        return list(await asyncio.gather(*calls))


def test_a_worker_killed_in_its_handler_after_settling_first_serves_the_retry_once(
    token: Token, front: tuple[HoldFront, str], worker_a: Any, tmp_path: Path
) -> None:
    """``before``: settled (on chain, and in the store), then the handler runs; A is killed in
    it. Past the deadline, the first of the payer's retries runs the handler, once."""
    f, front_url = front
    shop = Shop(token, front_url, tmp_path)
    payer = funded(token)
    with running(shop.mw) as url_b:
        pid, url_a = worker_a(shop.cfg)
        header = _header(f"{url_b}/slowjob", payer, "POST")
        hung = _in_background(
            lambda: httpx.post(f"{url_a}/slowjob?s=60", headers=header, timeout=30)
        )
        _wait_for(lambda: shop.a_ran)
        assert token.balance_of(shop.seller) == PRICE
        _kill(pid)
        hung.join(timeout=10)
        early = httpx.post(f"{url_b}/slowjob", headers=header, timeout=30)
        assert early.status_code == 409 and "retry-after" in early.headers
        assert shop.runs == 0
        _sleep_past(_stored(shop).serving_until)
        answers = asyncio.run(_concurrent("POST", f"{url_b}/slowjob", header, 8))
        served = [r for r in answers if r.status_code == 200]
        assert len(served) == 1, [(r.status_code, r.text) for r in answers]
        assert {r.status_code for r in answers} <= {200, 409}
        receipt = receipt_of(served[0])
        assert served[0].json() == {"job": "done", "transaction": receipt.transaction}
        later = httpx.post(f"{url_b}/slowjob", headers=header, timeout=30)
        assert later.status_code == 402 and receipt_of(later).transaction == receipt.transaction
    assert shop.runs == 1 and f.settles == 1
    assert token.balance_of(shop.seller) == PRICE and token.balance_of(payer.address) == 0


def test_a_worker_killed_before_settling_charges_nothing_and_the_retry_pays_normally(
    token: Token, front: tuple[HoldFront, str], worker_a: Any, tmp_path: Path
) -> None:
    f, front_url = front
    shop = Shop(token, front_url, tmp_path)
    payer = funded(token)
    with running(shop.mw) as url_b:
        pid, url_a = worker_a(shop.cfg)
        header = _header(f"{url_b}/slow", payer)
        hung = _in_background(lambda: httpx.get(f"{url_a}/slow?s=60", headers=header, timeout=30))
        _wait_for(lambda: shop.a_ran)  # the handler started (after mode: nothing settled)
        _kill(pid)
        hung.join(timeout=10)
        early = httpx.get(f"{url_b}/slow", headers=header, timeout=30)
        assert early.status_code == 409 and "retry-after" in early.headers
        # Past the deadline, within the grace: being resolved, nothing served, retry later.
        _sleep_past(_stored(shop).in_flight_until)
        pending = httpx.get(f"{url_b}/slow", headers=header, timeout=30)
        assert pending.status_code == 503 and "retry-after" in pending.headers, pending.text
        _wait_for(lambda: "settle_failed" in shop.kinds())  # unused past the grace: released
        assert f.settles == 0 and shop.runs == 0
        assert token.balance_of(payer.address) == PRICE and token.balance_of(shop.seller) == 0
        again = httpx.get(f"{url_b}/slow", headers=header, timeout=30)
        assert again.status_code == 200 and again.json() == {"content": "slow"}, again.text
        assert receipt_of(again).success
    assert shop.runs == 1 and f.settles == 1
    assert token.balance_of(shop.seller) == PRICE and token.balance_of(payer.address) == 0


def test_a_live_slow_handler_and_a_long_stream_are_not_taken_as_abandoned(
    token: Token, front: tuple[HoldFront, str], tmp_path: Path
) -> None:
    f, front_url = front
    shop = Shop(token, front_url, tmp_path)
    with running(shop.mw) as url:
        # Slower than nothing, within the bound (stale_after - settle_margin): paid and served;
        # passes run meanwhile (every 0.2 s) and a duplicate is told it is in flight.
        payer = funded(token)
        header = _header(f"{url}/slow", payer)
        result: list[httpx.Response] = []
        slow = threading.Thread(
            target=lambda: result.append(httpx.get(f"{url}/slow?s=1.5", headers=header, timeout=30))
        )
        slow.start()
        time.sleep(0.7)
        dup = httpx.get(f"{url}/slow", headers=header, timeout=30)
        assert dup.status_code == 409
        slow.join(timeout=30)
        assert result[0].status_code == 200 and result[0].json() == {"content": "slow"}
        assert token.balance_of(payer.address) == 0
        # Past the bound, a live owner sends no settlement: nothing charged, released.
        late_payer = funded(token)
        late_header = _header(f"{url}/slow", late_payer)
        beyond = STALE_AFTER - SETTLE_MARGIN + 0.5
        late = httpx.get(f"{url}/slow?s={beyond}", headers=late_header, timeout=30)
        assert late.status_code == 503 and "nothing was charged" in late.text
        assert token.balance_of(late_payer.address) == PRICE
        # An SSE stream longer than stale_after, after its settlement: every event arrives.
        streamer = funded(token)
        stream_header = _header(f"{url}/stream", streamer)
        n = 2 * STALE_AFTER + 4  # 0.5 s apart
        with httpx.stream("GET", f"{url}/stream?n={n}", headers=stream_header, timeout=30) as r:
            assert r.status_code == 200
            events = [line for line in r.iter_lines() if line.startswith("data:")]
        assert events == [f"data: {i}" for i in range(n)]
        assert token.balance_of(streamer.address) == 0
        time.sleep(0.5)  # passes after the stream: nothing to resolve
    assert shop.kinds().count("paid") == 2 and "settle_failed" not in shop.kinds()
    assert "unknown" not in shop.kinds() and f.settles == 2
    assert shop.runs == 3  # slow, late (not settled: too late), stream; the dup never ran
    assert token.balance_of(shop.seller) == 2 * PRICE


def test_passes_share_a_checkpoint_and_a_new_worker_reads_the_log_on_from_it(
    tmp_path: Path,
) -> None:
    """Every claim is logged: a worker starting afresh must not read the whole history, nor skip
    a claim still waited on (a deadline not yet past)."""
    from fastx402.server.reconcile import CHECKPOINT
    from fastx402.testing import FakeFacilitator

    store = f"sqlite:///{tmp_path / 'records.db'}"

    def worker() -> PaymentMiddleware:
        return PaymentMiddleware(
            FastAPI(), facilitator=FakeFacilitator(), store=store, reconcile_interval=None
        )

    async def scenario() -> None:
        first = worker()
        now = int(time.time())
        for i in range(5):  # finished long ago: their records are gone
            await first._reconciler.note_claim(f"done{i}", "owner", now - 10)
        assert await first.reconcile() == {"settled": 0, "not_charged": 0, "unknown": 0}
        mark = await first.store.get(CHECKPOINT, now=now)
        assert mark is not None and int(mark.value) == 5
        await first._reconciler.note_claim("running", "owner", now + 3600)  # seq 6: waited on
        await first._reconciler.note_claim("done5", "owner", now - 10)  # seq 7
        await first.reconcile()
        mark = await first.store.get(CHECKPOINT, now=now)
        assert mark is not None and int(mark.value) == 5  # held before the claim waited on
        fresh = worker()
        reads: list[int] = []
        read = fresh.store.read

        async def spied(stream: str, *, after: int = 0, limit: int = 1000) -> Any:
            reads.append(after)
            return await read(stream, after=after, limit=limit)

        fresh.store.read = spied  # type: ignore[method-assign]
        await fresh.reconcile()
        assert reads == [5]  # from the checkpoint, not from the log's start
        entries = await read(UNKNOWN_LOG, after=0, limit=100)
        assert [seq for seq, _ in entries] == list(range(1, 8))
        assert fresh._reconciler._later == {("running", "owner"): now + 3600}

    asyncio.run(scenario())


def test_a_lost_request_task_on_a_memory_store_is_resolved_on_the_retry() -> None:
    """One process, memory store: a request task lost mid-handler (cancelled) leaves its record
    reserved, exactly as a crash would; claims are not logged (the store dies with a crash), and
    the payer's retry resolves it read-only once stale: in flight, then being resolved, then not
    charged, then paid normally."""
    from fastx402.testing import FakeFacilitator

    network, seller = "eip155:84532", PrivateKey.generate().address
    fake, payer = FakeFacilitator([network]), PrivateKey.generate()
    now = [time.time()]
    app = FastAPI()
    started, go_on = asyncio.Event(), asyncio.Event()
    runs: list[int] = []

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        runs.append(1)
        started.set()
        await asyncio.wait_for(go_on.wait(), 30)
        return {"content": "slow"}

    mw = PaymentMiddleware(
        app,
        facilitator=fake,
        routes={"GET /slow": Route([PaymentOption("$0.001", network, seller)])},
        clock=lambda: now[0],
        reconcile_interval=None,
        reconcile_grace=GRACE,
        stale_after=STALE_AFTER,
        settle_margin=SETTLE_MARGIN,
    )

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=mw)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as c:
            first = await c.get("/slow")
            required = PaymentRequired.from_header(first.headers["payment-required"])
            header = {"PAYMENT-SIGNATURE": fastx402.create_payment(required, payer).to_header()}
            lost = asyncio.ensure_future(c.get("/slow", headers=header))
            await asyncio.wait_for(started.wait(), 10)
            lost.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lost
            go_on.set()
            assert (await c.get("/slow", headers=header)).status_code == 409
            now[0] += STALE_AFTER + 0.5
            pending = await c.get("/slow", headers=header)
            assert pending.status_code == 503 and "retry-after" in pending.headers
            now[0] += GRACE
            unpaid = await c.get("/slow", headers=header)
            assert unpaid.status_code == 402 and "not charged" in unpaid.text
            assert not fake.settled
            paid = await c.get("/slow", headers=header)
            assert paid.status_code == 200 and paid.json() == {"content": "slow"}
            assert len(fake.settled) == 1
            assert await mw.store.read(UNKNOWN_LOG, after=0, limit=10) == []

    asyncio.run(scenario())
    assert len(runs) == 2  # the lost run (never answered) and the paid one
