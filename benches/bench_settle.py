"""Settlements per second and verify latency on anvil: fastx402's facilitator vs the official one.

Both facilitators run against the **same local chain in the same run**: an anvil started here
on 127.0.0.1 (automine, chain id 31337) with the repo's TestUSDC (EIP-3009) and Multicall3.

- fastx402: ``fastx402.Facilitator`` (the Rust engine) with its default options, except a bounded
  ``receipt_timeout``.
- official: the official Python SDK ``x402[evm]==2.25.0`` facilitator, built the SDK's documented
  way (``x402FacilitatorSync`` / ``x402Facilitator`` + ``register_exact_evm_facilitator`` with a
  web3.py ``FacilitatorWeb3Signer``; ``tests/official_facilitator.py``), defaults otherwise
  (``simulate_in_settle=False``). eth-keys runs on its coincurve backend (``benches/README.md``).

Each facilitator gets its own fresh key, funded with ETH by ``anvil_setBalance``. Every payment is
made by fastx402's client for a payer of its own, minted exactly the amount it pays, to a seller
address fresh for each run. Payments are signed and parsed (fastx402 objects / SDK pydantic
models) before anything is timed.

1. Verify latency: ``--verify-runs N`` distinct valid payments; each is verified once by each
   implementation (fastx402 ``verify_blocking``, fastx402 ``await verify``, official sync
   ``verify``), round-robin, so each implementation sees the same N payments. Median and p90.
2. RPC round trips: one verify and one settle of each facilitator (warm) through the counting
   JSON-RPC proxy of ``tests/rpc_proxy.py``; the methods each sends are listed. The proxy adds
   about 1 ms per request, so there the first receipt poll always finds the receipt.
3. Settlement throughput: K (``--settlements``) distinct payments per run, in each mode: official
   sync sequential, official async ``x402Facilitator`` under ``asyncio.gather``, official sync
   from a thread pool, fastx402 ``settle_blocking`` sequential, fastx402 ``await settle`` under
   ``asyncio.gather`` with a semaphore of C (``--concurrency``); the fastx402 modes with the
   default ``poll_interval`` (0.25 s) and, with ``--tuned-poll S``, again with S. Each run uses
   a fresh facilitator (fresh key), warmed up by one untimed settle. Each result is checked
   (success, distinct transaction hashes), then the seller's balance is read on chain: it must be
   K x amount. A failing run of fastx402 or of the official sequential mode stops the script;
   failures of the official concurrent modes are reported, not hidden. Modes are interleaved
   over ``--rounds`` rounds; the median settlements/s is reported, with per-settle latency.

Run (from the repo root; ``make dev`` + ``make chain-tools`` + the bench extras)::

    .venv/bin/python benches/bench_settle.py            # ~2-3 min
    .venv/bin/python benches/bench_settle.py --quick    # smoke run, seconds; noisy figures
    .venv/bin/python benches/bench_settle.py --json settle.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _harness import machine_facts, print_machine, write_json

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the shared chain helpers (tests/chain.py, ...)

import fastx402  # noqa: E402
from chain import (  # noqa: E402
    NETWORK,
    Anvil,
    Token,
    anvil_binary,
    deploy_token,
    encode_call,
    install_multicall3,
)
from fastx402 import Facilitator, PaymentPayload, PaymentRequirements, PrivateKey  # noqa: E402
from official_facilitator import (  # noqa: E402
    build_official_facilitator,
    sdk_payment,
    sdk_requirements,
)
from rpc_proxy import RpcProxy  # noqa: E402

AMOUNT = 10_000  # 0.01 USDC per payment
MAX_TIMEOUT = 300  # requirements.maxTimeoutSeconds
RESOURCE = "http://127.0.0.1/paid"
GAS_ETH = 100 * 10**18  # each facilitator account's ETH for gas
RECEIPT_TIMEOUT = 20.0  # both facilitators: the longest a settle waits for its receipt
RUN_TIMEOUT = 300.0  # a whole throughput run
MINT_GAS = 100_000  # TestUSDC.mint to a fresh address uses about 70k
TARGET_RATIO = 5.0  # fastx402-best / official-best settlements per second

PACKAGES = (
    "x402",
    "web3",
    "eth-account",
    "eth-keys",
    "eth-abi",
    "pydantic",
    "pydantic-core",
    "coincurve",
    "pycryptodome",
    "requests",
    "urllib3",
)


# --------------------------------------------------------------------------- chain set-up


@dataclass(frozen=True)
class Payment:
    """One signed payment, parsed for both facilitators before anything is timed."""

    fx: PaymentPayload
    fx_req: PaymentRequirements
    sdk: Any  # x402.schemas.PaymentPayload
    sdk_req: Any  # x402.schemas.PaymentRequirements
    payer: str


def requirements(token: Token, pay_to: str) -> dict[str, Any]:
    return {
        "scheme": "exact",
        "network": NETWORK,
        "asset": token.address,
        "amount": str(AMOUNT),
        "payTo": pay_to,
        "maxTimeoutSeconds": MAX_TIMEOUT,
        "extra": token.extra,
    }


def new_gas_key(anvil: Anvil) -> tuple[PrivateKey, str]:
    """A fresh facilitator key funded with ETH: (fastx402 key, 0x-hex for the SDK)."""
    secret = secrets.token_bytes(32)
    key = PrivateKey(secret)
    anvil.rpc.call("anvil_setBalance", key.address, hex(GAS_ETH))
    return key, "0x" + secret.hex()


def new_seller() -> str:
    return PrivateKey.generate().address


def fund_payers(token: Token, n: int) -> list[PrivateKey]:
    """n fresh payers, each minted exactly AMOUNT, in as few blocks as the gas limit allows.

    Automine is paused while the mints are sent, then blocks are mined until every mint has
    its receipt: anvil's per-transaction cost grows with the number of blocks it has mined
    (``benches/README.md``), so the set-up must not lengthen the chain by one block per payer.
    """
    anvil = token.anvil
    payers = [PrivateKey.generate() for _ in range(n)]
    anvil.rpc.call("evm_setAutomine", False)
    try:
        sent = [
            anvil.send(
                token.owner,
                token.address,
                encode_call("mint(address,uint256)", p.address, AMOUNT),
                gas=MINT_GAS,
                wait=False,
            )["transactionHash"]
            for p in payers
        ]
        waiting = list(sent)
        for _ in range(n + 1):  # at least one mint per block
            if not waiting:
                break
            anvil.mine()
            receipts = {h: anvil.rpc.call("eth_getTransactionReceipt", h) for h in waiting}
            for h, r in receipts.items():
                if r is not None and int(r["status"], 16) != 1:
                    raise RuntimeError(f"mint {h} failed")
            waiting = [h for h, r in receipts.items() if r is None]
        if waiting:
            raise RuntimeError(f"{len(waiting)} mints were never mined")
    finally:
        anvil.rpc.call("evm_setAutomine", True)
    return payers


@contextlib.contextmanager
def fresh_chain() -> Iterator[Token]:
    """A new anvil (automine, 127.0.0.1) with Multicall3 and TestUSDC; stopped by PID on exit."""
    with Anvil() as anvil:
        install_multicall3(anvil)
        yield Token(anvil, deploy_token(anvil), anvil.accounts[0])


def make_payments(token: Token, pay_to: str, n: int) -> list[Payment]:
    """n payments of AMOUNT to pay_to, each from its own freshly minted payer.

    Signed by fastx402's client against the wall clock (the official facilitator checks the
    validity window against ``time.time()``; anvil runs on wall time)."""
    req = requirements(token, pay_to)
    required = {"x402Version": 2, "resource": {"url": RESOURCE}, "accepts": [req]}
    fx_req = PaymentRequirements.from_dict(req)
    sdk_req = sdk_requirements(fx_req)
    out = []
    for payer in fund_payers(token, n):
        p = fastx402.create_payment(required, payer)
        out.append(Payment(p, fx_req, sdk_payment(p), sdk_req, payer.address))
    return out


def new_fastx402(url: str, anvil: Anvil, *, poll_interval: float | None = None) -> Facilitator:
    """fastx402's facilitator with its defaults (``poll_interval=0.25``) unless told otherwise."""
    key, _ = new_gas_key(anvil)
    if poll_interval is None:
        return Facilitator(url, NETWORK, key, receipt_timeout=RECEIPT_TIMEOUT)
    return Facilitator(
        url, NETWORK, key, receipt_timeout=RECEIPT_TIMEOUT, poll_interval=poll_interval
    )


def new_official(url: str, anvil: Anvil, *, asynchronous: bool = False) -> Any:
    _, hex_key = new_gas_key(anvil)
    if asynchronous:
        return build_official_facilitator(
            url,
            hex_key,
            NETWORK,
            asynchronous=True,
            confirmation_timeout_seconds=RECEIPT_TIMEOUT,
        )
    return build_official_facilitator(
        url, hex_key, NETWORK, confirmation_timeout_seconds=RECEIPT_TIMEOUT
    )


def anvil_version() -> str:
    try:
        out = subprocess.run(
            [str(anvil_binary()), "--version"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"


# --------------------------------------------------------------------------- verify latency


@dataclass
class Latency:
    impl: str
    call: str
    samples_ms: list[float] = field(default_factory=list, repr=False)

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p90(self) -> float:
        return statistics.quantiles(self.samples_ms, n=10, method="inclusive")[-1]


def bench_verify(anvil: Anvil, token: Token, runs: int, warmup: int) -> list[Latency]:
    """Each of ``runs`` distinct valid payments verified once by each implementation."""
    fx = new_fastx402(anvil.url, anvil)
    official = new_official(anvil.url, anvil)
    payments = make_payments(token, new_seller(), runs + warmup)
    loop = asyncio.new_event_loop()

    def fx_blocking(p: Payment) -> float:
        t0 = time.perf_counter()
        v = fx.verify_blocking(p.fx, p.fx_req)
        t = time.perf_counter() - t0
        if not v.is_valid:
            raise RuntimeError(f"fastx402 verify_blocking refused a valid payment: {v.to_dict()}")
        return t

    async def fx_await_one(p: Payment) -> float:
        t0 = time.perf_counter()
        v = await fx.verify(p.fx, p.fx_req)
        t = time.perf_counter() - t0
        if not v.is_valid:
            raise RuntimeError(f"fastx402 await verify refused a valid payment: {v.to_dict()}")
        return t

    def fx_await(p: Payment) -> float:
        return loop.run_until_complete(fx_await_one(p))

    def sdk_sync(p: Payment) -> float:
        t0 = time.perf_counter()
        v = official.verify(p.sdk, p.sdk_req)
        t = time.perf_counter() - t0
        if not v.is_valid:
            raise RuntimeError(f"official verify refused a valid payment: {v}")
        return t

    impls: list[tuple[Latency, Callable[[Payment], float]]] = [
        (Latency("fastx402", "Facilitator.verify_blocking(p, req)"), fx_blocking),
        (Latency("fastx402", "await Facilitator.verify(p, req)"), fx_await),
        (Latency("official", "x402FacilitatorSync.verify(p, req)"), sdk_sync),
    ]
    try:
        for i, p in enumerate(payments):
            order = impls[i % len(impls) :] + impls[: i % len(impls)]  # rotate who goes first
            for lat, fn in order:
                t = fn(p)
                if i >= warmup:
                    lat.samples_ms.append(t * 1e3)
    finally:
        loop.close()
    return [lat for lat, _ in impls]


# --------------------------------------------------------------------------- RPC round trips


@dataclass
class RoundTrips:
    impl: str
    operation: str
    methods: list[str]

    @property
    def total(self) -> int:
        return len(self.methods)

    def summary(self) -> str:
        return ", ".join(f"{m} x{n}" if n > 1 else m for m, n in Counter(self.methods).items())


def count_round_trips(anvil: Anvil, token: Token) -> list[RoundTrips]:
    """JSON-RPC requests of one verify and one settle (after a warm-up pair) per facilitator."""
    out: list[RoundTrips] = []
    with RpcProxy(anvil.url) as proxy:
        seen = proxy.faults.seen
        payments = make_payments(token, new_seller(), 4)
        fx = new_fastx402(proxy.url, anvil)
        official = new_official(proxy.url, anvil)

        def measure(impl: str, operation: str, fn: Callable[[], bool]) -> None:
            seen.clear()
            if not fn():
                raise RuntimeError(f"{impl} {operation} failed while counting round trips")
            out.append(RoundTrips(impl, operation, list(seen)))

        # Warm-up: a first verify + settle each (chain id, fee history, nonce, caches).
        for fac_settle in (
            lambda: fx.settle_blocking(payments[0].fx, payments[0].fx_req).success,
            lambda: official.settle(payments[1].sdk, payments[1].sdk_req).success,
        ):
            if not fac_settle():
                raise RuntimeError("warm-up settle failed")
        p, q = payments[2], payments[3]
        measure("fastx402", "verify", lambda: fx.verify_blocking(p.fx, p.fx_req).is_valid)
        measure("fastx402", "settle", lambda: fx.settle_blocking(p.fx, p.fx_req).success)
        measure("official", "verify", lambda: official.verify(q.sdk, q.sdk_req).is_valid)
        measure("official", "settle", lambda: official.settle(q.sdk, q.sdk_req).success)
    return out


# --------------------------------------------------------------------------- throughput

# What one settle returns to the drivers: (success, transaction hash, reason, seconds).
Outcome = tuple[bool, str, str, float]
SyncSettle = Callable[[Payment], Outcome]
AsyncSettle = Callable[[Payment], Coroutine[Any, Any, Outcome]]
# Builds a fresh facilitator (own key) on a chain, warms it up, returns the timed run.
Prepare = Callable[[Token, list[Payment]], Callable[[], list[Outcome]]]


@dataclass
class Run:
    mode: str
    round: int
    settlements: int
    seconds: float
    succeeded: int
    failures: dict[str, int]
    seller_balance: int
    distinct_tx: int
    blocks: int  # the chain's height at the end of the run
    latencies_ms: list[float] = field(repr=False)

    @property
    def per_s(self) -> float:
        return self.succeeded / self.seconds if self.seconds > 0 else 0.0

    @property
    def clean(self) -> bool:
        return (
            self.succeeded == self.settlements
            and self.distinct_tx == self.settlements
            and self.seller_balance == self.settlements * AMOUNT
        )


@dataclass
class Mode:
    name: str
    call: str
    impl: str  # "fastx402" | "official"
    strict: bool  # a failure stops the script (else it is reported)
    # The receipt-poll sleep of this facilitator (fastx402 poll_interval; web3's poll_latency).
    poll_s: float
    prepare: Prepare


def _outcome(t0: float, ok: bool, tx: str | None, reason: str | None) -> Outcome:
    return ok, tx or "", reason or "", time.perf_counter() - t0


def fastx402_settlers(anvil: Anvil, poll: float | None) -> tuple[SyncSettle, AsyncSettle]:
    fac = new_fastx402(anvil.url, anvil, poll_interval=poll)

    def sync(p: Payment) -> Outcome:
        t0 = time.perf_counter()
        r = fac.settle_blocking(p.fx, p.fx_req)
        return _outcome(t0, r.success, r.transaction, r.error_reason)

    async def asyn(p: Payment) -> Outcome:
        t0 = time.perf_counter()
        r = await fac.settle(p.fx, p.fx_req)
        return _outcome(t0, r.success, r.transaction, r.error_reason)

    return sync, asyn


def official_sync_settler(anvil: Anvil) -> SyncSettle:
    fac = new_official(anvil.url, anvil)

    def sync(p: Payment) -> Outcome:
        t0 = time.perf_counter()
        try:
            r = fac.settle(p.sdk, p.sdk_req)
        except Exception as e:  # reported as a failure of this mode
            return _outcome(t0, False, None, f"exception {type(e).__name__}")
        return _outcome(t0, bool(r.success), r.transaction, r.error_reason)

    return sync


def official_async_settler(anvil: Anvil) -> AsyncSettle:
    fac = new_official(anvil.url, anvil, asynchronous=True)

    async def asyn(p: Payment) -> Outcome:
        t0 = time.perf_counter()
        try:
            r = await fac.settle(p.sdk, p.sdk_req)
        except Exception as e:  # reported as a failure of this mode
            return _outcome(t0, False, None, f"exception {type(e).__name__}")
        return _outcome(t0, bool(r.success), r.transaction, r.error_reason)

    return asyn


def warm_up(token: Token, settle: SyncSettle) -> None:
    """One untimed settle to a throwaway seller (connection, chain id, nonce, caches)."""
    (p,) = make_payments(token, new_seller(), 1)
    ok, _, reason, _ = settle(p)
    if not ok:
        raise RuntimeError(f"warm-up settle failed: {reason}")


def sequential(settle: SyncSettle, payments: list[Payment]) -> Callable[[], list[Outcome]]:
    return lambda: [settle(p) for p in payments]


def gathered(
    settle: AsyncSettle, payments: list[Payment], concurrency: int
) -> Callable[[], list[Outcome]]:
    async def all_of_them() -> list[Outcome]:
        sem = asyncio.Semaphore(concurrency)

        async def one(p: Payment) -> Outcome:
            async with sem:
                return await settle(p)

        return await asyncio.wait_for(
            asyncio.gather(*(one(p) for p in payments)), timeout=RUN_TIMEOUT
        )

    return lambda: asyncio.run(all_of_them())


def threaded(
    settle: SyncSettle, payments: list[Payment], threads: int
) -> Callable[[], list[Outcome]]:
    def run() -> list[Outcome]:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            futures = [pool.submit(settle, p) for p in payments]
            deadline = time.monotonic() + RUN_TIMEOUT
            return [f.result(timeout=max(0.0, deadline - time.monotonic())) for f in futures]

    return run


def build_modes(concurrency: list[int], tuned_poll: float) -> list[Mode]:
    c_max = max(concurrency)
    web3_poll = 0.1  # web3.py wait_for_transaction_receipt(poll_latency=0.1), not configurable
    fx_default_poll = 0.25  # fastx402.Facilitator(poll_interval=0.25)

    def official_seq(token: Token, payments: list[Payment]) -> Callable[[], list[Outcome]]:
        settle = official_sync_settler(token.anvil)
        warm_up(token, settle)
        return sequential(settle, payments)

    def official_gather(token: Token, payments: list[Payment]) -> Callable[[], list[Outcome]]:
        settle = official_async_settler(token.anvil)
        warm_up(token, lambda p: asyncio.run(settle(p)))
        return gathered(settle, payments, c_max)

    def official_threads(token: Token, payments: list[Payment]) -> Callable[[], list[Outcome]]:
        settle = official_sync_settler(token.anvil)
        warm_up(token, settle)
        return threaded(settle, payments, c_max)

    def fx_seq(poll: float | None) -> Prepare:
        def prepare(token: Token, payments: list[Payment]) -> Callable[[], list[Outcome]]:
            sync, _ = fastx402_settlers(token.anvil, poll)
            warm_up(token, sync)
            return sequential(sync, payments)

        return prepare

    def fx_gather(poll: float | None, c: int) -> Prepare:
        def prepare(token: Token, payments: list[Payment]) -> Callable[[], list[Outcome]]:
            sync, asyn = fastx402_settlers(token.anvil, poll)
            warm_up(token, sync)
            return gathered(asyn, payments, c)

        return prepare

    modes = [
        Mode(
            "official sequential",
            "x402FacilitatorSync.settle(p, req), one after another",
            "official",
            True,
            web3_poll,
            official_seq,
        ),
        Mode(
            f"official async gather({c_max})",
            f"await x402Facilitator.settle(p, req) under asyncio.gather, semaphore {c_max}",
            "official",
            False,
            web3_poll,
            official_gather,
        ),
        Mode(
            f"official threads({c_max})",
            f"x402FacilitatorSync.settle(p, req) from a {c_max}-thread pool (one facilitator)",
            "official",
            False,
            web3_poll,
            official_threads,
        ),
    ]
    polls: list[tuple[float | None, float, str]] = [(None, fx_default_poll, "")]
    if tuned_poll > 0:
        polls.append((tuned_poll, tuned_poll, f", poll {tuned_poll * 1e3:g} ms"))
    for poll, poll_s, suffix in polls:
        opt = "" if poll is None else f"poll_interval={poll:g}"
        modes.append(
            Mode(
                f"fastx402 sequential{suffix}",
                f"Facilitator({opt}).settle_blocking(p, req), one after another",
                "fastx402",
                True,
                poll_s,
                fx_seq(poll),
            )
        )
        modes += [
            Mode(
                f"fastx402 gather({c}){suffix}",
                f"await Facilitator({opt}).settle(p, req) under asyncio.gather, semaphore {c}",
                "fastx402",
                True,
                poll_s,
                fx_gather(poll, c),
            )
            for c in concurrency
        ]
    return modes


def throughput_run(mode: Mode, rnd: int, k: int) -> Run:
    """One run of ``mode`` on a chain of its own (every mode sees the same chain length)."""
    with fresh_chain() as token:
        seller = new_seller()
        payments = make_payments(token, seller, k)
        run = mode.prepare(token, payments)
        t0 = time.perf_counter()
        results = run()
        seconds = time.perf_counter() - t0
        balance = token.balance_of(seller)
        blocks = int(token.anvil.rpc.call("eth_blockNumber"), 16)
    failures = Counter(reason or "unknown" for ok, _, reason, _ in results if not ok)
    succeeded = sum(ok for ok, _, _, _ in results)
    distinct = len({tx for ok, tx, _, _ in results if ok and tx})
    r = Run(
        mode.name,
        rnd,
        k,
        seconds,
        succeeded,
        dict(failures),
        balance,
        distinct,
        blocks,
        [t * 1e3 for _, _, _, t in results],
    )
    if mode.strict and not r.clean:
        raise SystemExit(
            f"{mode.name}: {succeeded}/{k} succeeded, {distinct} distinct transactions, seller "
            f"balance {balance} (expected {k * AMOUNT}); failures {dict(failures)}"
        )
    if r.clean:
        assert balance == k * AMOUNT  # the on-chain check every figure rests on
    return r


# --------------------------------------------------------------------------- report


def fmt_failures(runs: list[Run]) -> str:
    total: Counter[str] = Counter()
    for r in runs:
        total.update(r.failures)
    return ", ".join(f"{k} x{v}" for k, v in total.items()) or "none"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (K=20, N=20, 1 round)")
    parser.add_argument("--settlements", type=int, default=None, help="K per run (default 200)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of all modes (default 3)")
    parser.add_argument(
        "--verify-runs", type=int, default=None, help="N verifies per implementation (default 200)"
    )
    parser.add_argument(
        "--concurrency",
        default="32,64",
        help="fastx402 gather semaphores, comma-separated (default 32,64; the largest is used "
        "for the official concurrent modes too)",
    )
    parser.add_argument(
        "--tuned-poll",
        type=float,
        default=0.0,
        help="also run fastx402 with this poll_interval in seconds (default 0 = skip; the "
        "receipt wait backs off from 2 ms, so the default 0.25 s only bounds the slowest polls)",
    )
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write results as JSON")
    args = parser.parse_args()

    k = args.settlements or (20 if args.quick else 200)
    rounds = args.rounds or (1 if args.quick else 3)
    n_verify = args.verify_runs or (20 if args.quick else 200)
    k, rounds, n_verify = max(1, min(k, 5000)), max(1, min(rounds, 20)), max(2, min(n_verify, 5000))
    concurrency = sorted({max(1, min(int(c), 1024)) for c in args.concurrency.split(",")})
    tuned_poll = max(0.0, min(args.tuned_poll, 1.0))

    load_start = os.getloadavg()
    wall0 = time.perf_counter()
    facts = machine_facts(PACKAGES)
    facts["date"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    facts["anvil"] = anvil_version()
    print_machine(
        "bench_settle: fastx402 Facilitator vs official x402 SDK facilitator", facts, load_start
    )
    print(f"  anvil            {facts['anvil']} (automine, 127.0.0.1, chain id 31337)")
    print(
        f"  settings         K={k} settlements per run, {rounds} round(s), N={n_verify} verifies,"
        f" concurrency {concurrency}, amount {AMOUNT}"
    )
    print()

    with fresh_chain() as token:
        anvil = token.anvil
        # 1. verify latency
        latencies = bench_verify(anvil, token, n_verify, warmup=5)
        ref = latencies[0].median
        print(f"verify latency ({n_verify} distinct valid payments, each verified once by each)")
        head = f"{'implementation':<10} {'call':<40} {'median ms':>10} {'p90 ms':>8}"
        print(f"  {head} {'vs fastx402':>12}")
        for lat in latencies:
            ratio = f"{lat.median / ref:.2f}x"
            print(
                f"  {lat.impl:<10} {lat.call:<40} {lat.median:>10.3f} {lat.p90:>8.3f} {ratio:>12}"
            )
        off = latencies[2].median
        print(
            f"  official / fastx402 verify_blocking: {off / latencies[0].median:.1f}x;"
            f" official / fastx402 await verify: {off / latencies[1].median:.1f}x"
        )
        print()

        # 2. round trips
        trips = count_round_trips(anvil, token)
        print(
            "JSON-RPC requests per operation (warm facilitator, through tests/rpc_proxy.py; its"
            " ~1 ms per request lets the first receipt poll find the receipt)"
        )
        for t in trips:
            print(f"  {t.impl:<9} {t.operation:<7} {t.total:>3}  {t.summary()}")
        print()

    # 3. throughput, each run on a fresh chain
    modes = build_modes(concurrency, tuned_poll)
    runs: dict[str, list[Run]] = {m.name: [] for m in modes}
    print(
        f"settlement runs (K={k} each, each on a fresh anvil; modes interleaved, {rounds} round(s))"
    )
    for rnd in range(rounds):
        for mode in modes:
            r = throughput_run(mode, rnd, k)
            runs[mode.name].append(r)
            status = "ok" if r.clean else f"FAILURES {r.failures}"
            print(
                f"  round {rnd + 1} {mode.name:<36} {r.per_s:>7.1f} settlements/s"
                f" ({r.succeeded}/{k} in {r.seconds:.2f} s, seller {r.seller_balance},"
                f" {r.blocks} blocks) {status}",
                flush=True,
            )
    print()

    def median_rate(name: str) -> float:
        return statistics.median(r.per_s for r in runs[name])

    print(f"settlement throughput (K={k} per run, median of {rounds} round(s))")
    print(
        f"  {'mode':<36} {'settle/s':>8} {'range':>13} {'lat med ms':>10} {'p90 ms':>8}"
        f" {'>=poll':>7}  failures"
    )
    for m in modes:
        rates = [r.per_s for r in runs[m.name]]
        lats = [t for r in runs[m.name] for t in r.latencies_ms]
        p90 = statistics.quantiles(lats, n=10, method="inclusive")[-1] if len(lats) > 1 else lats[0]
        # Settles that slept at least one receipt poll (the first eth_getTransactionReceipt
        # found nothing); meaningful for one-at-a-time modes only.
        slow = sum(t >= 0.8 * m.poll_s * 1e3 for t in lats)
        slept = f"{100 * slow / len(lats):.0f}%" if "sequential" in m.name else "-"
        print(
            f"  {m.name:<36} {median_rate(m.name):>8.1f} {min(rates):>6.1f}-{max(rates):<6.1f}"
            f" {statistics.median(lats):>10.2f} {p90:>8.2f} {slept:>7}"
            f"  {fmt_failures(runs[m.name])}"
        )
    print("  >=poll: share of settles that took at least 0.8 x the receipt-poll sleep")
    print(
        "  (fastx402 poll_interval, default 0.25 s; web3 poll_latency 0.1 s for the official one)"
    )
    print("  calls:")
    for m in modes:
        print(f"    {m.name:<36} {m.call}")

    def best(impl: str, tuned: bool | None = None) -> tuple[str, float]:
        candidates = [
            m
            for m in modes
            if m.impl == impl
            and all(r.clean for r in runs[m.name])
            and (tuned is None or ("poll " in m.name) == tuned)
        ]
        name = max(candidates, key=lambda m: median_rate(m.name)).name
        return name, median_rate(name)

    of_best, of_rate = best("official")
    seq = median_rate("official sequential")
    ratios: dict[str, float] = {}
    print()
    for label, tuned in (("defaults", False), (f"poll_interval={tuned_poll:g}", True)):
        if tuned and tuned_poll <= 0:
            continue
        fx_best, fx_rate = best("fastx402", tuned)
        fx_conc, fx_conc_rate = max(
            (
                (m.name, median_rate(m.name))
                for m in modes
                if m.impl == "fastx402" and "gather" in m.name and ("poll " in m.name) == tuned
            ),
            key=lambda x: x[1],
        )
        fx_seq = median_rate(
            "fastx402 sequential" + (f", poll {tuned_poll * 1e3:g} ms" if tuned else "")
        )
        ratios[label] = fx_rate / of_rate
        status = "met" if fx_rate / of_rate >= TARGET_RATIO else "MISSED"
        print(f"  fastx402 with {label}:")
        print(
            f"    fastx402-best / official-best: {fx_best} / {of_best} ="
            f" {fx_rate:.1f} / {of_rate:.1f} = {fx_rate / of_rate:.2f}x"
            f"  (target >= {TARGET_RATIO:g}x: {status})"
        )
        print(
            f"    fastx402-concurrent / official-sequential: {fx_conc} / official sequential ="
            f" {fx_conc_rate:.1f} / {seq:.1f} ="
            f" {fx_conc_rate / seq:.2f}x"
        )
        print(f"    fastx402-sequential / official-sequential: {fx_seq / seq:.2f}x")
    load_end = os.getloadavg()
    elapsed = time.perf_counter() - wall0
    print(
        f"load average {load_start[0]:.2f} at start, {load_end[0]:.2f} at end; wall {elapsed:.0f} s"
    )

    if args.json:
        write_json(
            args.json,
            {
                "machine": facts,
                "load_average_start": load_start,
                "load_average_end": load_end,
                "settings": {
                    "settlements": k,
                    "rounds": rounds,
                    "verify_runs": n_verify,
                    "concurrency": concurrency,
                    "tuned_poll": tuned_poll,
                    "amount": AMOUNT,
                },
                "verify": [
                    {"impl": lat.impl, "call": lat.call, "median_ms": lat.median, "p90_ms": lat.p90}
                    for lat in latencies
                ],
                "round_trips": [
                    {"impl": t.impl, "operation": t.operation, "methods": t.methods} for t in trips
                ],
                "runs": [
                    asdict(r) | {"per_s": r.per_s, "clean": r.clean}
                    for rs in runs.values()
                    for r in rs
                ],
                "ratio_best_vs_official_best": ratios,
                "wall_time_s": elapsed,
            },
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
