"""Agent-side cost of one paid call, fastx402's clients against the official SDK's, in one run.

A paid call is the whole client round: ``GET /paid`` answers 402, the client reads the offer,
signs an EIP-3009 authorization and sends the request again with it, and reads the 200 and its
settlement receipt. Every contender pays **the same local seller**: fastx402's
``PaymentMiddleware`` with an instant in-process facilitator (``bench_server.py``'s
``fastx402-inproc``: no chain), in a uvicorn process of its own on 127.0.0.1, so that the
seller's CPU is not counted. What is counted is the **client process's CPU time**
(``time.process_time``) per paid call, and its wall time per call.

Contenders (each pays fresh: a new signature and nonce per call):

- ``fastx402`` ``async_paying_client`` (httpx) with its defaults but an in-memory ledger and no
  rate breakers (the bench pays one URL hundreds of times a minute);
- ``fastx402+sqlite``: the same with the ledger in a SQLite file (every phase written, fsync'd);
- ``official``: ``x402.http.clients.x402HttpxClient`` over ``x402Client`` +
  ``register_exact_evm_client`` + ``EthAccountSigner`` (x402 2.25.0), the SDK's documented
  async httpx client;
- and the same three for requests: ``paying_session`` and ``wrapRequestsWithPayment``.

Rounds are run round-robin over the contenders of a group (``--rounds``, ``--calls`` per round)
and the median of the rounds is reported. A second part times the policy's reserve → commit
path (``Spending.reserve`` … ``Reservation.commit`` with a paid receipt) with the SQLite
ledger, with ``timeit`` as in the other benches.

    .venv/bin/python benches/bench_client.py            # ~1 min
    .venv/bin/python benches/bench_client.py --quick    # smoke run, noisy
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import requests
from _harness import (
    Case,
    add_timing_args,
    machine_facts,
    print_machine,
    print_table,
    run_groups,
    settings_from_args,
    settings_line,
    summarize,
)
from bench_server import NETWORK, servers
from eth_account import Account

from fastx402 import PaymentRequired, PrivateKey, SettleResponse
from fastx402.client import (
    AsyncSpending,
    Budget,
    Ledger,
    Spending,
    SpendPolicy,
    async_paying_client,
)
from fastx402.client.quote import offers
from fastx402.client.receipt import read_receipt
from fastx402.client.requests_adapter import paying_session

KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
POLICY = SpendPolicy(
    max_per_call=Decimal("0.01"),
    allow_http=True,  # the local seller is plain http on 127.0.0.1
    max_payments_per_minute=None,
    max_repeats=None,
    breaker_failures=None,
)


# =========================================================================== contenders


def official_client(sync: bool) -> Any:
    from x402 import x402Client, x402ClientSync
    from x402.mechanisms.evm.exact import register_exact_evm_client
    from x402.mechanisms.evm.signers import EthAccountSigner

    base = x402ClientSync() if sync else x402Client()
    return register_exact_evm_client(base, EthAccountSigner(Account.from_key(KEY)))


def ledger_url(name: str, tmp: Path, kind: str) -> str:
    return f"sqlite:///{tmp / f'ledger-{kind}.db'}" if "sqlite" in name else "memory://"


@dataclass
class Contender:
    group: str
    name: str
    call: str
    pay: Callable[[int], None]  # pays n times
    close: Callable[[], None]
    cpu_us: list[float] = field(default_factory=list)  # user + system
    user_us: list[float] = field(default_factory=list)
    wall_us: list[float] = field(default_factory=list)


def async_contender(name: str, url: str, loop: asyncio.AbstractEventLoop, tmp: Path) -> Contender:
    if name == "bare":
        return bare_async(url, loop)
    if name == "official":
        from x402.http.clients import x402HttpxClient

        client: httpx.AsyncClient = x402HttpxClient(official_client(sync=False))
        call = "x402HttpxClient(x402Client + exact EVM).get(url)"
    else:
        ledger = ledger_url(name, tmp, "async")
        spending = AsyncSpending("memory://", ledger)
        client = async_paying_client(PrivateKey.from_hex(KEY), POLICY, spending=spending)
        call = f"async_paying_client(key, policy, ledger={ledger[:6]}).get(url)"

    async def pay(n: int) -> None:
        for _ in range(n):
            r = await client.get(url)
            if r.status_code != 200 or "payment-response" not in r.headers:
                raise RuntimeError(f"{name}: HTTP {r.status_code} {r.text[:200]}")

    return Contender(
        "paid call, httpx async",
        name,
        call,
        lambda n: loop.run_until_complete(pay(n)),
        lambda: loop.run_until_complete(client.aclose()),
    )


def bare_async(url: str, loop: asyncio.AbstractEventLoop) -> Contender:
    """Two plain round trips (what a paid call costs without paying): the baseline."""
    client = httpx.AsyncClient()
    free = url.replace("/paid", "/free")

    async def pay(n: int) -> None:
        for _ in range(n):
            (await client.get(free)).raise_for_status()
            (await client.get(free)).raise_for_status()

    return Contender(
        "paid call, httpx async",
        "bare",
        "httpx.AsyncClient().get(free) twice (two round trips, no payment)",
        lambda n: loop.run_until_complete(pay(n)),
        lambda: loop.run_until_complete(client.aclose()),
    )


def bare_requests(url: str) -> Contender:
    session = requests.Session()
    free = url.replace("/paid", "/free")

    def pay(n: int) -> None:
        for _ in range(n):
            session.get(free, timeout=30).raise_for_status()
            session.get(free, timeout=30).raise_for_status()

    return Contender(
        "paid call, requests",
        "bare",
        "requests.Session().get(free) twice (two round trips, no payment)",
        pay,
        session.close,
    )


def requests_contender(name: str, url: str, tmp: Path) -> Contender:
    if name == "bare":
        return bare_requests(url)
    if name == "official":
        from x402.http.clients import wrapRequestsWithPayment

        session = wrapRequestsWithPayment(requests.Session(), official_client(sync=True))
        call = "wrapRequestsWithPayment(Session(), x402ClientSync + exact EVM).get(url)"
    else:
        spending = Spending("memory://", ledger_url(name, tmp, "requests"))
        session = paying_session(PrivateKey.from_hex(KEY), POLICY, spending=spending)
        call = f"paying_session(key, policy, ledger={ledger_url(name, tmp, '')[:6]}).get(url)"

    def pay(n: int) -> None:
        for _ in range(n):
            r = session.get(url, timeout=30)
            if r.status_code != 200 or "payment-response" not in r.headers:
                raise RuntimeError(f"{name}: HTTP {r.status_code} {r.text[:200]}")

    return Contender("paid call, requests", name, call, pay, session.close)


def measure(contenders: list[Contender], rounds: int, calls: int) -> None:
    for c in contenders:
        c.pay(max(2, calls // 4))  # warm-up: connections, lazy imports, caches
    for _ in range(rounds):
        for c in contenders:
            user, cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime, time.process_time()
            wall = time.perf_counter()
            c.pay(calls)
            c.wall_us.append((time.perf_counter() - wall) / calls * 1e6)
            c.cpu_us.append((time.process_time() - cpu) / calls * 1e6)
            c.user_us.append(
                (resource.getrusage(resource.RUSAGE_SELF).ru_utime - user) / calls * 1e6
            )


def print_calls(contenders: list[Contender]) -> dict[str, float]:
    """The table of paid calls; returns official / fastx402 ratios of the payment's own user
    CPU (a contender's user CPU minus the bare baseline's) per group and contender."""
    head = (
        f"{'group':<23} {'client':<16} {'CPU µs':>7} {'user µs':>8} {'IQR':>11}"
        f" {'payment user µs':>16} {'wall µs':>8} {'official/this':>14}"
    )
    print("CPU = user + system of this process per paid call (the seller runs in another);")
    print("payment user = user CPU minus the bare baseline's (two round trips, no payment)")
    print(head)
    print("-" * len(head))
    ratios: dict[str, float] = {}
    for group in dict.fromkeys(c.group for c in contenders):
        members = [c for c in contenders if c.group == group]
        bare = statistics.median(next(c for c in members if c.name == "bare").user_us)
        official = statistics.median(next(c for c in members if c.name == "official").user_us)
        for c in members:
            user = statistics.median(c.user_us)
            q1, _, q3 = statistics.quantiles(c.user_us, n=4, method="inclusive")
            own = user - bare
            ratio = (official - bare) / own if c.name != "bare" and own > 0 else float("nan")
            ratios[f"{group} / {c.name}"] = ratio
            print(
                f"{group:<23} {c.name:<16} {statistics.median(c.cpu_us):>7.0f} {user:>8.0f}"
                f" {f'{q1:.0f}-{q3:.0f}':>11} {own:>16.0f} {statistics.median(c.wall_us):>8.0f}"
                f" {ratio:>13.1f}x"
            )
        print()
    print("calls:")
    for c in contenders:
        print(f"  {c.group:<23} {c.name:<16} {c.call}")
    return ratios


# =========================================================================== reserve / commit


def reserve_commit_cases(url: str, tmp: Path) -> tuple[list[Case], list[Spending]]:
    """Spending.reserve → Reservation.commit (paid) with the SQLite ledger and a memory store."""
    r = httpx.get(url)
    required = PaymentRequired.from_header(r.headers["payment-required"])
    quote = offers(httpx.Request("GET", url), required, POLICY).quotes[0]
    key = PrivateKey.from_hex(KEY)
    settle = SettleResponse.from_dict(
        {"success": True, "transaction": "0x" + "ab" * 32, "network": NETWORK, "payer": key.address}
    )
    paid = httpx.Response(200, headers={"payment-response": settle.to_header()})
    receipt = read_receipt(paid, quote, key.address, "id")
    budgeted = dataclasses.replace(
        POLICY, budgets=(Budget(window="day", limit=Decimal("1000000")),)
    )
    spendings = [
        Spending("memory://", Ledger(f"sqlite:///{tmp / 'rc.db'}")),
        Spending("memory://", Ledger(f"sqlite:///{tmp / 'rc-budget.db'}")),
        Spending("memory://", Ledger("memory://")),
        Spending("memory://", Ledger("sqlite://:memory:")),
    ]
    stmt = "held = s.reserve(quote, policy); held.commit(receipt)"
    cases = [
        Case("reserve → commit", "fastx402", "SQLite ledger, no budget", stmt,
             {"s": spendings[0], "quote": quote, "policy": POLICY, "receipt": receipt}),
        Case("reserve → commit", "fastx402 (day budget)", "SQLite ledger + a day budget", stmt,
             {"s": spendings[1], "quote": quote, "policy": budgeted, "receipt": receipt}),
        Case("reserve → commit", "fastx402 (memory ledger)", "memory ledger, no budget", stmt,
             {"s": spendings[2], "quote": quote, "policy": POLICY, "receipt": receipt}),
        Case("reserve → commit", "fastx402 (SQLite :memory:)", "SQLite without a disk", stmt,
             {"s": spendings[3], "quote": quote, "policy": POLICY, "receipt": receipt}),
    ]  # fmt: skip
    return cases, spendings


# =========================================================================== main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_timing_args(parser)
    parser.add_argument("--rounds", type=int, default=None, help="rounds per contender (9)")
    parser.add_argument("--calls", type=int, default=None, help="paid calls per round (40)")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 9)
    calls = args.calls or (10 if args.quick else 40)
    settings = settings_from_args(args)
    facts = machine_facts(["x402", "httpx", "requests", "eth-account", "uvicorn"])
    facts["date"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load_start = os.getloadavg()
    print_machine("bench_client: agent-side CPU per paid call", facts, load_start)
    print(f"  rounds           {rounds} x {calls} paid calls per contender, median of rounds")
    print(settings_line(settings))
    print()
    with (
        tempfile.TemporaryDirectory(prefix="bench-client-") as d,
        servers(["fastx402-inproc"], Path(d)) as srv,
    ):
        tmp = Path(d)
        url = srv["fastx402-inproc"].url + "/paid"
        loop = asyncio.new_event_loop()
        names = ("fastx402", "fastx402+sqlite", "official", "bare")
        contenders = [async_contender(n, url, loop, tmp) for n in names]
        contenders += [requests_contender(n, url, tmp) for n in names]
        try:
            for group in dict.fromkeys(c.group for c in contenders):
                measure([c for c in contenders if c.group == group], rounds, calls)
        finally:
            for c in contenders:
                c.close()
            loop.close()
        ratios = print_calls(contenders)
        cases, spendings = reserve_commit_cases(url, tmp)
        try:
            run_groups(cases, settings)
        finally:
            for s in spendings:
                s.close()
    results = summarize(cases)
    print_table(results, args.markdown)
    print()
    load_end = os.getloadavg()
    print(f"load average {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f} (at end)")
    print("targets (fastx402):")
    for name in ("paid call, httpx async / fastx402", "paid call, httpx async / fastx402+sqlite"):
        ok = "met" if ratios[name] >= 5 else "MISSED"
        print(f"  payment user CPU per paid call, {name}: official/fastx402 ="
              f" {ratios[name]:.1f}x (goal >= 5x) {ok}")  # fmt: skip
    sqlite_us = results[0].median_us
    ok = "met" if sqlite_us <= 20 else "MISSED"
    print(f"  reserve → commit with the SQLite ledger: {sqlite_us:.1f} µs (goal <= 20 µs) {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
