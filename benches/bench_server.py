"""Seller-side throughput: bare FastAPI, the official x402 FastAPI middleware and fastx402's
``PaymentMiddleware``, each under its own uvicorn process on 127.0.0.1, at 1 and 32 connections.

Contenders (one uvicorn process each, started and stopped by this script, by PID):

- ``bare``: FastAPI, ``GET /free`` and ``GET /paid`` both unpriced (the reference);
- ``official``: the same app behind ``x402.http.middleware.fastapi.payment_middleware``
  (x402 2.25.0, ``x402ResourceServer`` + ``HTTPFacilitatorClient`` + ``ExactEvmServerScheme``),
  ``GET /paid`` priced;
- ``fastx402-remote``: the same app behind ``fastx402.server.PaymentMiddleware`` with a
  ``RemoteFacilitator`` to the stub;
- ``fastx402-inproc``: the same, with an in-process facilitator object (async ``verify`` /
  ``settle`` and ``supported`` like ``fastx402.Facilitator``, answering instantly).

The **stub facilitator** is one raw-ASGI uvicorn process on 127.0.0.1 shared by ``official``
and ``fastx402-remote``: ``/supported``, ``/verify`` (valid, payer) and ``/settle`` (success,
a fresh 32-byte hash, network, payer), no chain, no balance or signature check. These figures
measure the **middleware and its HTTP round trips, not a chain**: a real settlement waits for
a block.

Scenarios: ``free`` (``GET /free``, unpriced route behind the middleware), ``402`` (``GET /paid``
without payment: the 402 answer) and ``paid`` (``GET /paid`` with a fresh ``PAYMENT-SIGNATURE``
each: fastx402 answers a header it has seen with the kept answer and the first receipt, without
asking the facilitator again, so a replayed header would measure a cache). Payments are made
before the clock starts with ``fastx402.create_payment`` from each server's own 402 answer (the
official middleware checks locally that the payload matches its requirements), for a throwaway
payer: the stub checks no balance.

Load: wrk when it is on PATH (one thread, N keep-alive connections; for ``paid`` a Lua script
feeds one pre-made header per request from a file), else a bounded asyncio loop sending
pre-encoded raw HTTP/1.1 requests over N keep-alive connections (``--engine loop``; ``both``
runs the two). One generator serves every scenario, so free, 402 and paid figures come from the
same client; wrk is preferred because a Python client takes CPU from the servers on a small
machine. Every run is bounded by a duration and, for ``paid``, by the payments made for it.
Cells are run round-robin over the contenders, ``--rounds`` times, and the median is reported.
Run ``uptime`` first: on a busy machine the figures are smoke figures.

    .venv/bin/python benches/bench_server.py                 # full run (~8 min)
    .venv/bin/python benches/bench_server.py --quick         # ~1 min smoke run, noisy
    .venv/bin/python benches/bench_server.py --json out.json --markdown
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.util
import json
import os
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

NETWORK = "eip155:84532"  # Base Sepolia: USDC is a built-in asset of fastx402 and of the SDK
PRICE = "$0.001"
PAY_TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil #1; nothing is ever transferred
STUB_SIGNER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
CONTENDERS = ("bare", "official", "fastx402-remote", "fastx402-inproc")
PAYING = CONTENDERS[1:]
SCENARIOS = ("free", "402", "paid")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

SUPPORTED = {
    "kinds": [{"x402Version": 2, "scheme": "exact", "network": NETWORK}],
    "extensions": [],
    "signers": {"eip155:*": [STUB_SIGNER]},
}


# =========================================================================== server side


def _payer_of(body: dict[str, Any]) -> str:
    try:
        return str(body["paymentPayload"]["payload"]["authorization"]["from"])
    except (KeyError, TypeError):
        return STUB_SIGNER


async def stub_facilitator(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Raw ASGI: answers instantly, no chain. Shared by every remote contender."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    path = scope["path"].rstrip("/")
    status, answer = 200, None
    if path.endswith("/supported"):
        answer = SUPPORTED
    elif path.endswith("/verify") or path.endswith("/settle"):
        body = json.loads(b"".join(chunks) or b"{}")
        payer = _payer_of(body)
        if path.endswith("/verify"):
            answer = {"isValid": True, "payer": payer}
        else:
            network = (body.get("paymentRequirements") or {}).get("network", NETWORK)
            answer = {
                "success": True,
                "transaction": "0x" + os.urandom(32).hex(),
                "network": network,
                "payer": payer,
            }
    elif path.endswith("/health"):
        answer = {"ok": True}
    else:
        status, answer = 404, {"error": "not found"}
    data = json.dumps(answer).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class InProcessFacilitator:
    """The surface ``PaymentMiddleware`` uses of ``fastx402.Facilitator`` (``supported``,
    async ``verify`` and ``settle``), answering at once like the stub: it measures the
    middleware without any facilitator I/O, not a chain."""

    def __init__(self) -> None:
        from fastx402 import SupportedResponse

        self._supported = SupportedResponse.from_dict(SUPPORTED)

    def supported(self) -> Any:
        return self._supported

    async def verify(self, payload: Any, requirements: Any) -> Any:
        from fastx402 import VerifyResponse

        payer = payload.payload["authorization"]["from"]
        return VerifyResponse.from_dict({"isValid": True, "payer": payer})

    async def settle(self, payload: Any, requirements: Any) -> Any:
        from fastx402 import SettleResponse

        return SettleResponse.from_dict(
            {
                "success": True,
                "transaction": "0x" + os.urandom(32).hex(),
                "network": requirements.network,
                "payer": payload.payload["authorization"]["from"],
            }
        )


def build_app(kind: str, facilitator_url: str) -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/free")
    async def free() -> dict[str, str]:
        return {"report": "free"}

    @app.get("/paid")
    async def paid() -> dict[str, str]:
        return {"report": "paid"}

    if kind == "bare":
        return app
    if kind == "official":
        from x402 import x402ResourceServer
        from x402.http import FacilitatorConfig, HTTPFacilitatorClient
        from x402.http.middleware.fastapi import payment_middleware
        from x402.mechanisms.evm.exact import ExactEvmServerScheme

        server = x402ResourceServer(HTTPFacilitatorClient(FacilitatorConfig(url=facilitator_url)))
        server.register(NETWORK, ExactEvmServerScheme())
        routes = {
            "GET /paid": {
                "accepts": {"scheme": "exact", "payTo": PAY_TO, "price": PRICE, "network": NETWORK},
                "description": "Paid report",
                "mimeType": "application/json",
            }
        }
        # Built once (its docs' example builds it inside the handler, i.e. per request).
        x402_mw = payment_middleware(routes, server)

        @app.middleware("http")
        async def x402_middleware(request: Any, call_next: Any) -> Any:
            return await x402_mw(request, call_next)

        return app
    from fastx402 import RemoteFacilitator
    from fastx402.server import PaymentMiddleware, PaymentOption, Route

    facilitator: Any = (
        RemoteFacilitator(facilitator_url) if kind == "fastx402-remote" else InProcessFacilitator()
    )
    app.add_middleware(
        PaymentMiddleware,
        facilitator=facilitator,
        routes={"GET /paid": Route([PaymentOption(PRICE, NETWORK, PAY_TO)], "Paid report")},
    )
    return app


def serve(kind: str, facilitator_url: str, http: str = "auto") -> None:
    """Child process: binds 127.0.0.1:0, prints ``PORT n``, serves until SIGTERM/SIGINT."""
    import uvicorn

    app: Any = stub_facilitator if kind == "stub" else build_app(kind, facilitator_url)
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when the
    # listening socket's proto is IPPROTO_TCP (a socket made with proto 0 gets Nagle's algorithm
    # and ~40 ms per keep-alive request from delayed ACKs). uvicorn's own host/port path uses
    # getaddrinfo, which gives IPPROTO_TCP.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        http=http,  # type: ignore[arg-type]
    )
    uvicorn.Server(config).run(sockets=[sock])


# =========================================================================== processes


@dataclass
class Server:
    kind: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_server(kind: str, facilitator_url: str, logdir: Path, http: str = "auto") -> Server:
    log = logdir / f"{kind}.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                kind,
                "--facilitator",
                facilitator_url,
                "--http",
                http,
            ],
            stdout=subprocess.PIPE,
            stderr=err,
        )
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    line = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                stop_server(proc)
                raise RuntimeError(f"{kind} did not start; see {log}:\n{log.read_text()[-2000:]}")
            if sel.select(timeout=min(left, 0.5)):
                chunk = os.read(proc.stdout.fileno(), 64)
                if not chunk:
                    continue
                line += chunk
    port = int(line.split()[1])
    server = Server(kind, proc, port, log)
    while True:  # ready once /health answers (lifespan start-up done)
        with contextlib.suppress(OSError):
            status, _, _ = asyncio.run(one_request(port, b"GET /health HTTP/1.1\r\n\r\n"))
            if status == 200:
                return server
        if time.monotonic() > deadline or proc.poll() is not None:
            stop_server(proc)
            raise RuntimeError(f"{kind} not ready; see {log}:\n{log.read_text()[-2000:]}")
        time.sleep(0.05)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)
    if proc.stdout is not None:
        proc.stdout.close()


@contextlib.contextmanager
def servers(kinds: list[str], logdir: Path, http: str = "auto") -> Iterator[dict[str, Server]]:
    started: dict[str, Server] = {}
    try:
        stub = start_server("stub", "", logdir, http)
        started["stub"] = stub
        for kind in kinds:
            started[kind] = start_server(kind, stub.url, logdir, http)
        yield started
    finally:
        for s in reversed(list(started.values())):
            stop_server(s.proc)


# =========================================================================== load loop


def request_bytes(port: int, path: str, payment: str | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept: application/json"]
    if payment is not None:
        lines.append(f"PAYMENT-SIGNATURE: {payment}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bytes]:
    """(status, head with its names and values lowercased, body) of one HTTP/1.1 response."""
    raw = await reader.readuntil(b"\r\n\r\n")
    head = raw.lower()
    status = int(head[9:12])
    i = head.find(b"\r\ncontent-length:")
    if i >= 0:
        j = head.index(b"\r\n", i + 2)
        body = await reader.readexactly(int(head[i + 17 : j]))
    elif b"transfer-encoding: chunked" in head:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        body = b"".join(p[:-2] for p in parts)
    else:
        body = b""
    return status, raw, body


async def one_request(port: int, raw: bytes) -> tuple[int, bytes, bytes]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
    try:
        if b"\r\nhost:" not in raw.lower():
            raw = raw.replace(b"\r\n\r\n", f"\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode(), 1)
        writer.write(raw)
        return await asyncio.wait_for(read_response(reader), 10)
    finally:
        writer.close()


@dataclass
class LoadResult:
    requests: int
    seconds: float
    statuses: dict[int, int]
    latencies_ms: list[float] = field(repr=False)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


async def load(
    port: int, requests: list[bytes], *, cycle: bool, connections: int, duration: float
) -> LoadResult:
    """``connections`` keep-alive connections send ``requests`` (each once, or cycling) until
    the list or ``duration`` runs out. The clock starts once every connection is open."""
    limit = 10_000_000 if cycle else len(requests)
    n = len(requests)
    conns = [
        await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
        for _ in range(connections)
    ]
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    next_index = 0
    t0 = time.perf_counter()
    deadline = t0 + duration
    last = t0

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal next_index, last
        perf = time.perf_counter
        while next_index < limit:
            start = perf()
            if start >= deadline:
                return
            raw = requests[next_index % n]
            next_index += 1
            writer.write(raw)
            status, head, _ = await asyncio.wait_for(read_response(reader), 30)
            end = perf()
            statuses[status] = statuses.get(status, 0) + 1
            latencies.append((end - start) * 1e3)
            last = max(last, end)
            if b"\r\nconnection: close" in head.lower():
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)

    try:
        await asyncio.gather(*(worker(r, w) for r, w in conns))
    finally:
        for _, w in conns:
            w.close()
    return LoadResult(len(latencies), last - t0, statuses, latencies)


# =========================================================================== payments


def payment_required_header(port: int) -> str:
    status, head, _ = asyncio.run(one_request(port, b"GET /paid HTTP/1.1\r\n\r\n"))
    value = header_value(head, b"payment-required")
    if status != 402 or value is None:
        raise RuntimeError(f"GET /paid on :{port} answered {status}, not 402 + PAYMENT-REQUIRED")
    return value.decode()


class Payments:
    """Fresh ``PAYMENT-SIGNATURE`` headers for one server, made from its own 402 answer."""

    def __init__(self, port: int) -> None:
        import fastx402

        self.port = port
        self.payer = fastx402.PrivateKey.generate()  # never funded: the stub checks nothing
        self.required = fastx402.PaymentRequired.from_header(payment_required_header(port))

    def headers(self, n: int) -> list[str]:
        import fastx402

        return [fastx402.create_payment(self.required, self.payer).to_header() for _ in range(n)]

    def make(self, n: int) -> list[bytes]:
        return [request_bytes(self.port, "/paid", h) for h in self.headers(n)]


# =========================================================================== checks


def check_contenders(srv: dict[str, Server], pays: dict[str, Payments]) -> None:
    """Every contender must answer as expected before anything is timed."""

    def get(port: int, raw: bytes) -> tuple[int, bytes, bytes]:
        return asyncio.run(one_request(port, raw))

    for kind, server in srv.items():
        if kind == "stub":
            continue
        status, _, _ = get(server.port, b"GET /free HTTP/1.1\r\n\r\n")
        assert status == 200, f"{kind}: GET /free -> {status}"
        if kind not in PAYING:
            continue
        status, head, _ = get(server.port, b"GET /paid HTTP/1.1\r\n\r\n")
        assert status == 402 and b"\r\npayment-required:" in head.lower(), (
            f"{kind}: 402 -> {status}"
        )
        raw = pays[kind].make(1)[0]
        status, head, body = get(server.port, raw)
        receipt = header_value(head, b"payment-response")
        assert status == 200 and receipt, (kind, status, body[:300])
        if kind.startswith("fastx402"):
            # The same header again is not settled again: the kept answer comes back with the
            # first receipt (a replay never reaches the facilitator, hence fresh payments).
            status, head, _ = get(server.port, raw)
            again = header_value(head, b"payment-response")
            assert again == receipt, f"{kind}: a replayed payment was settled again ({status})"


def header_value(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


# =========================================================================== the run


@dataclass
class Cell:
    contender: str
    scenario: str
    connections: int
    engine: str
    rates: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    unexpected: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return statistics.median(self.rates) if self.rates else float("nan")


EXPECTED = {"free": 200, "402": 402, "paid": 200}


def quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def paid_counts(
    estimate: float, warmup: float, duration: float, c: int, cap: int
) -> tuple[int, int]:
    """Fresh payments for the warm-up and the timed run: 3x the best rate seen so far."""
    timed = min(max(int(estimate * duration * 3) + 2 * c + 50, 1000), cap)
    warm = min(max(int(estimate * warmup * 3) + c, 100), cap // 4)
    return warm, timed


def run_cell(
    cell: Cell,
    server: Server,
    pays: Payments | None,
    *,
    warmup: float,
    duration: float,
    max_paid: int,
    estimate: float,
    workdir: Path,
) -> None:
    if cell.engine == "wrk":
        run_cell_wrk(cell, server, pays, warmup, duration, max_paid, estimate, workdir)
        return
    c = cell.connections
    if cell.scenario == "paid":
        assert pays is not None
        n_warm, n_timed = paid_counts(estimate, warmup, duration, c, max_paid)
        warm, timed = pays.make(n_warm), pays.make(n_timed)
        cycle = False
    else:
        path = "/free" if cell.scenario == "free" else "/paid"
        warm = timed = [request_bytes(server.port, path)]
        cycle = True
    asyncio.run(load(server.port, warm, cycle=cycle, connections=c, duration=warmup))
    result = asyncio.run(load(server.port, timed, cycle=cycle, connections=c, duration=duration))
    expected = EXPECTED[cell.scenario]
    for status, count in result.statuses.items():
        if status != expected:
            cell.unexpected[str(status)] = cell.unexpected.get(str(status), 0) + count
    ok = result.statuses.get(expected, 0)
    cell.rates.append(ok / result.seconds if result.seconds > 0 else 0.0)
    cell.requests.append(result.requests)
    cell.p50_ms.append(quantile(result.latencies_ms, 0.5))
    cell.p99_ms.append(quantile(result.latencies_ms, 0.99))


# A fresh PAYMENT-SIGNATURE per request, read from a file made before the run. Once the file is
# used up, requests go to /exhausted (404, counted as non-2xx: the cell is then flagged).
WRK_PAID_LUA = """
local headers = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do headers[#headers + 1] = line end
end
request = function()
  i = i + 1
  if i > #headers then return wrk.format("GET", "/exhausted") end
  return wrk.format("GET", "/paid",
    {["Accept"] = "application/json", ["PAYMENT-SIGNATURE"] = headers[i]})
end
"""

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


@dataclass
class WrkResult:
    requests: int
    seconds: float
    non2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float


def wrk(url: str, connections: int, duration: float, *script: str) -> WrkResult:
    """One wrk run (one thread, ``connections`` keep-alive connections); ``script``: a Lua file
    and its arguments."""
    secs = max(1, round(duration))
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{secs}s", "--timeout", "10s", "--latency"]
    cmd += ["-H", "Accept: application/json"]
    if script:
        cmd += ["-s", script[0], url, "--", *script[1:]]
    else:
        cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 30, check=True).stdout
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    if not m:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    return WrkResult(
        requests=int(m.group(1)),
        seconds=_ms(m.group(2) + m.group(3)) / 1e3,
        non2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=sum(int(x) for x in errors.groups()) if errors else 0,
        p50_ms=_ms(pct.get("50", "")),
        p99_ms=_ms(pct.get("99", "")),
    )


def run_cell_wrk(
    cell: Cell,
    server: Server,
    pays: Payments | None,
    warmup: float,
    duration: float,
    max_paid: int,
    estimate: float,
    workdir: Path,
) -> None:
    c = cell.connections
    if cell.scenario == "paid":
        assert pays is not None
        lua = workdir / "paid.lua"
        lua.write_text(WRK_PAID_LUA)
        secs = max(1, round(duration))
        f = workdir / "payments.txt"
        for attempt in range(3):
            n_warm, n_timed = paid_counts(estimate, warmup, secs, c, max_paid)
            for n, d in ((n_warm, warmup), (n_timed, secs)):
                f.write_text("\n".join(pays.headers(n)) + "\n")
                result = wrk(server.url + "/paid", c, d, str(lua), str(f))
            if not result.non2xx or n_timed >= max_paid or attempt == 2:
                break
            # The payments ran out before the clock did (404s on /exhausted): again, with more.
            estimate = max(estimate * 2, 2 * result.requests / result.seconds)
    else:
        path = "/free" if cell.scenario == "free" else "/paid"
        wrk(server.url + path, c, warmup)
        result = wrk(server.url + path, c, duration)
    good = result.requests - result.non2xx if cell.scenario != "402" else result.non2xx
    bad = result.requests - good
    if bad:
        cell.unexpected["non-2xx" if cell.scenario != "402" else "2xx"] = bad
    if result.socket_errors:
        cell.unexpected["socket errors"] = result.socket_errors
    cell.rates.append(good / result.seconds if result.seconds > 0 else 0.0)
    cell.requests.append(result.requests)
    cell.p50_ms.append(result.p50_ms)
    cell.p99_ms.append(result.p99_ms)


def stub_ceiling(stub: Server, engine: str, workdir: Path, c: int, duration: float) -> float:
    """What the shared stub alone answers: POST /settle with a typical body."""
    body = json.dumps(
        {
            "x402Version": 2,
            "paymentPayload": {"payload": {"authorization": {"from": STUB_SIGNER}}},
            "paymentRequirements": {"network": NETWORK},
        }
    )
    if engine == "wrk":
        lua = workdir / "settle.lua"
        lua.write_text(
            f'wrk.method = "POST"\nwrk.body = [[{body}]]\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        result = wrk(stub.url + "/settle", c, duration, str(lua))
        return (result.requests - result.non2xx) / result.seconds
    raw = (
        f"POST /settle HTTP/1.1\r\nHost: 127.0.0.1:{stub.port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    ).encode()
    res = asyncio.run(load(stub.port, [raw], cycle=True, connections=c, duration=duration))
    return res.statuses.get(200, 0) / res.seconds if res.seconds > 0 else 0.0


def loadavg() -> tuple[float, float, float]:
    return os.getloadavg()


def facts() -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _harness import machine_facts

    f = machine_facts(
        ["x402", "fastapi", "starlette", "uvicorn", "httpx", "pydantic", "h11", "httptools"]
    )
    f["date"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    f["nproc"] = os.cpu_count()
    # What uvicorn's "auto" picks, for every contender alike.
    f["uvicorn_loop"] = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    f["uvicorn_http"] = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}" if x == x else "-"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b and b == b and a == a else "-"


def print_table(cells: list[Cell], markdown: bool) -> None:
    by = {(c.engine, c.contender, c.scenario, c.connections): c for c in cells}
    head = ["load", "contender", "scenario", "conns", "req/s", "rounds req/s", "p50 ms", "p99 ms"]
    head += ["/ bare", "/ official", "bad statuses"]
    rows = []
    for c in cells:
        bare = by.get((c.engine, "bare", "free", c.connections))
        off = by.get((c.engine, "official", c.scenario, c.connections))
        rows.append(
            [
                c.engine,
                c.contender,
                c.scenario,
                str(c.connections),
                fmt_rate(c.rate),
                " ".join(fmt_rate(r) for r in c.rates),
                f"{statistics.median(c.p50_ms):.2f}" if c.p50_ms else "-",
                f"{statistics.median(c.p99_ms):.2f}" if c.p99_ms else "-",
                ratio(c.rate, bare.rate) if bare else "-",
                ratio(c.rate, off.rate) if off and c.contender != "official" else "-",
                json.dumps(c.unexpected) if c.unexpected else "",
            ]
        )
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---:" if i >= 3 else "---" for i in range(len(head))) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print(
        "  ".join(
            h.ljust(w) if i < 3 else h.rjust(w)
            for i, (h, w) in enumerate(zip(head, widths, strict=True))
        )
    )
    print("-" * (sum(widths) + 2 * len(widths)))
    for r in rows:
        print(
            "  ".join(
                v.ljust(w) if i < 3 else v.rjust(w)
                for i, (v, w) in enumerate(zip(r, widths, strict=True))
            )
        )


def targets(cells: list[Cell], conns: list[int], engine: str) -> list[dict[str, Any]]:
    by = {(c.contender, c.scenario, c.connections): c.rate for c in cells if c.engine == engine}
    out = []
    for n in conns:
        bare = by.get(("bare", "free", n), float("nan"))
        for who in ("fastx402-remote", "fastx402-inproc"):
            if (who, "free", n) not in by:
                continue
            for scenario, goal in (("free", 0.9), ("402", 0.8)):
                got = by.get((who, scenario, n), float("nan")) / bare
                out.append(
                    {
                        "engine": engine,
                        "target": f"{who} {scenario} >= {goal:.0%} of bare",
                        "connections": n,
                        "observed": round(got, 3),
                        "met": got >= goal,
                    }
                )
            off = by.get(("official", "paid", n), float("nan"))
            got = by.get((who, "paid", n), float("nan")) / off
            out.append(
                {
                    "engine": engine,
                    "target": f"{who} paid >= 10x official" + ("" if n == 32 else " (at 32)"),
                    "connections": n,
                    "observed": round(got, 2),
                    "met": got >= 10,
                }
            )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--facilitator", default="", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="~1 min smoke run (noisy)")
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write results as JSON")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--connections", default="1,32", help="comma-separated (default 1,32)")
    parser.add_argument("--duration", type=float, help="seconds per timed run (default 5)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per run (default 1)")
    parser.add_argument("--rounds", type=int, help="rounds over every cell (default 3)")
    parser.add_argument(
        "--engine",
        choices=("auto", "wrk", "loop", "both"),
        default="auto",
        help="load generator: wrk (if on PATH), the asyncio loop, or both (default auto: wrk)",
    )
    parser.add_argument(
        "--http",
        choices=("auto", "h11", "httptools"),
        default="auto",
        help="uvicorn's HTTP parser for every server (default auto: httptools if installed)",
    )
    parser.add_argument("--max-paid", type=int, default=60_000, help="payments per paid run cap")
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="comma-separated subset")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.facilitator, args.http)
        return 0

    duration = args.duration or (1.0 if args.quick else 5.0)
    warmup = args.warmup if args.warmup is not None else (0.3 if args.quick else 1.0)
    rounds = args.rounds or (1 if args.quick else 3)
    conns = [int(x) for x in args.connections.split(",")]
    kinds = [k for k in args.contenders.split(",") if k]
    unknown = set(kinds) - set(CONTENDERS)
    if unknown:
        parser.error(f"unknown contenders {sorted(unknown)}; choose from {CONTENDERS}")
    if "bare" not in kinds:
        kinds.insert(0, "bare")
    has_wrk = shutil.which("wrk") is not None
    if args.engine in ("wrk", "both") and not has_wrk:
        parser.error("wrk is not on PATH (apt-get install wrk)")
    engines = {
        "auto": ["wrk"] if has_wrk else ["loop"],
        "wrk": ["wrk"],
        "loop": ["loop"],
        "both": ["wrk", "loop"],
    }[args.engine]

    load_start = loadavg()
    f = facts()
    print("bench_server: seller middleware throughput on 127.0.0.1 (stub facilitator, no chain)")
    print(f"  date             {f['date']}")
    print(
        f"  cpus             nproc {f['nproc']}, {f['usable_cpus']} usable;"
        f" {f['cpu']['model_name']}"
    )
    print(
        f"  python           {f['python']}; uvicorn loop {f['uvicorn_loop']},"
        f" http {f['uvicorn_http']}"
    )
    print(
        f"  fastx402         {f['fastx402']} (git {f['git_head']},"
        f" _core {f['fastx402_core_sha256']})"
    )
    print("  packages         " + ", ".join(f"{k} {v}" for k, v in f["packages"].items()))
    print(f"  load average     {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f} (start)")
    print(
        f"  settings         {rounds} round(s) x {duration:g} s per cell (+{warmup:g} s warm-up),"
        f" connections {conns}; median over rounds"
    )
    print(f"  load generator   {', '.join(engines)} (see the module docstring)")
    t_start = time.monotonic()
    cells = [
        Cell(k, s, n, e)
        for e in engines
        for k in kinds
        for s in SCENARIOS
        for n in conns
        if k in PAYING or s == "free"
    ]
    with (
        tempfile.TemporaryDirectory(prefix="bench_server.") as tmp,
        servers(kinds, Path(tmp), args.http) as srv,
    ):
        pays = {k: Payments(srv[k].port) for k in kinds if k in PAYING}
        check_contenders(srv, pays)
        print(
            "  checks           every contender answers free 200, 402, paid 200;"
            " fastx402 serves a replayed header its kept answer, not a second settlement"
        )
        ceiling = stub_ceiling(srv["stub"], engines[0], Path(tmp), 32, min(duration, 2.0))
        print(
            f"  stub ceiling     {ceiling:,.0f} POST /settle per s at 32 connections"
            f" ({engines[0]}); a remote paid request makes 2 calls"
        )
        estimate: dict[str, float] = {}
        for rnd in range(rounds):
            for engine in engines:
                for scenario in SCENARIOS:
                    for n in conns:
                        group = [
                            c
                            for c in cells
                            if (c.engine, c.scenario, c.connections) == (engine, scenario, n)
                        ]
                        # Rotate the order each round so drift affects every contender alike.
                        k = rnd % len(group)
                        for cell in group[k:] + group[:k]:
                            key = f"{engine}/{cell.contender}/{n}"
                            run_cell(
                                cell,
                                srv[cell.contender],
                                pays.get(cell.contender),
                                warmup=warmup,
                                duration=duration,
                                max_paid=args.max_paid,
                                estimate=estimate.get(
                                    key, 500.0 if cell.contender == "official" else 5000.0
                                ),
                                workdir=Path(tmp),
                            )
                            if scenario == "paid":
                                estimate[key] = max(cell.rates)
                            print(
                                f"  round {rnd + 1}/{rounds} {engine:<4} {cell.contender:<16}"
                                f" {scenario:<4} c={n:<3} {cell.rates[-1]:>9,.0f} req/s"
                                f"  (load {loadavg()[0]:.2f})",
                                flush=True,
                            )
    load_end = loadavg()
    print()
    print_table(cells, args.markdown)
    print()
    tg = [t for e in engines for t in targets(cells, conns, e)]
    print("targets:")
    for t in tg:
        print(
            f"  {t['engine']:<4} c={t['connections']:<3} {t['target']:<40} {t['observed']:>7}"
            f"  {'met' if t['met'] else 'MISSED'}"
        )
    print(f"  load average     {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f} (end)")
    bad = [c for c in cells if c.unexpected]
    if args.json:
        payload = {
            "machine": f,
            "load_average_start": load_start,
            "load_average_end": load_end,
            "settings": {
                "duration_s": duration,
                "warmup_s": warmup,
                "rounds": rounds,
                "connections": conns,
                "engines": engines,
            },
            "results": [asdict(c) | {"median_rate": c.rate} for c in cells],
            "targets": tg,
            "stub_ceiling_settle_per_s": ceiling,
            "wall_time_s": time.monotonic() - t_start,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    if bad:
        print(
            "unexpected statuses in: "
            + ", ".join(f"{c.engine}/{c.contender}/{c.scenario}/{c.connections}" for c in bad)
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
