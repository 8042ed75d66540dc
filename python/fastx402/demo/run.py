"""The demo from start to end: chain, token, facilitator, seller, two agents, checks, clean-up.

Every process, server and file it starts is registered on one ExitStack and undone in reverse
order however the run ends (a failed step, Ctrl-C, SIGTERM). The checks compare what the chain
says after the run with what the receipts said: the seller gained, and the buyer lost, exactly
the sum of the receipts; the facilitator paid exactly the receipts' gas.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import signal
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import httpx

from fastx402 import (
    Facilitator,
    PrivateKey,
    RemoteFacilitator,
    X402Error,
    atomic_to_price,
    find_asset,
    register_asset,
    to_checksum_address,
)
from fastx402.client import Spending
from fastx402.client.quote import parse_402
from fastx402.demo.agents import (
    HTTPX_BUDGET,
    LANGCHAIN_BUDGET,
    MAX_PER_CALL,
    Paid,
    Refused,
    run_httpx_agent,
)
from fastx402.demo.chain import Anvil, Chain, Rpc, TokenInfo, TxReceipt, find_anvil, load_artifact
from fastx402.demo.errors import DemoError
from fastx402.demo.report import Quiet
from fastx402.demo.serve import serving

BUYER_FUNDS = 1_000_000  # 1.00 tUSDC
TEST_SYMBOL = "tUSDC"
FACILITATOR_GAS_MONEY = 10**18  # 1 ETH, from the dev chain's first account


@dataclass(frozen=True)
class Options:
    anvil: str | None = None
    rpc: str | None = None
    token: str | None = None
    buyer_key_env: str | None = None
    facilitator: str | None = None
    facilitator_key_env: str | None = None
    in_process_facilitator: bool = False
    seller: str | None = None
    langchain: bool = True
    # --serve: after setting up, keep the chain, facilitator and seller running (and print how
    # to reach them) instead of running the agents; for ``serve_seconds`` or until interrupted.
    serve: bool = False
    serve_seconds: float | None = None


@dataclass
class _Run:
    """What the run has seen so far (becomes the ``--json`` document)."""

    chain: Chain
    token: TokenInfo
    reporter: Quiet
    receipts: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)

    # -- the agents' Events --

    def note(self, agent: str, text: str) -> None:
        self.notes.append({"agent": agent, "text": text})
        self.reporter.note(agent, text)

    def paid(self, call: Paid) -> None:
        tx = self.chain.wait_receipt(call.transaction, self.token.address)
        expected = (to_checksum_address(call.payer), to_checksum_address(call.pay_to), call.amount)
        if not tx.ok or expected not in tx.transfers:
            raise DemoError(
                f"{call.route}: transaction {tx.hash} does not move {call.amount} from the "
                "buyer to the seller on chain"
            )
        row = _receipt_row(call, tx, self.token)
        self.receipts.append(row)
        self.reporter.receipt(row)

    def refused(self, call: Refused) -> None:
        row = {
            "agent": call.agent,
            "route": call.route,
            "reason": call.reason,
            "ledger_phase": call.ledger_phase,
        }
        self.refusals.append(row)
        self.reporter.refusal(row)


def _receipt_row(call: Paid, tx: TxReceipt, token: TokenInfo) -> dict[str, Any]:
    return {
        "agent": call.agent,
        "route": call.route,
        "amount": call.amount,
        "price": atomic_to_price(call.amount, token.decimals),
        "symbol": token.symbol,
        "payer": call.payer,
        "pay_to": call.pay_to,
        "transaction": call.transaction,
        "block": tx.block,
        "gas_used": tx.gas_used,
        "gas_cost_wei": tx.gas_used * tx.gas_price,
        "settled_by": tx.sender,
        "latency_ms": round(call.latency * 1000, 1),
        "content": call.content,
    }


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so every finally (anvil, servers) runs."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _env_key(name: str, what: str) -> PrivateKey:
    value = os.environ.get(name)
    if not value:
        raise DemoError(f"set ${name} to the {what}'s hex private key")
    try:
        return PrivateKey.from_hex(value.strip())
    except X402Error as e:  # the message never contains the key
        raise DemoError(f"${name}: not a private key ({e})") from None


def _register(network: str, token: TokenInfo) -> None:
    try:
        find_asset(network, token.address)
    except ValueError:
        register_asset(
            network, token.address, token.name, token.version, token.decimals, symbol=token.symbol
        )


def _port(url: str) -> int | None:
    return urlsplit(url).port


def demo(options: Options, reporter: Quiet) -> dict[str, Any]:
    """Runs the demo; returns the result document. Raises :class:`DemoError` when a step fails."""
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack, _sigterm_as_interrupt():
        return _demo(options, reporter, stack, t0)


def _demo(
    options: Options, reporter: Quiet, stack: contextlib.ExitStack, t0: float
) -> dict[str, Any]:
    doc: dict[str, Any] = {"ok": False, "anvil": None, "ports": [], "skipped": []}
    reporter.section("Setting up")
    chain, rpc_url = _start_chain(options, reporter, stack, doc)
    network = f"eip155:{chain.chain_id()}"
    doc.update(rpc=chain.rpc.shown, network=network)
    token, buyer, pay_to, buyer_hex = _token_and_buyer(options, reporter, chain, network)
    _register(network, token)
    doc["token"] = {
        "address": token.address,
        "name": token.name,
        "version": token.version,
        "decimals": token.decimals,
        "symbol": token.symbol,
    }
    doc["buyer"] = buyer.address
    _check_funds(chain, token, buyer.address)

    # -- facilitator and seller (or only the agents, against --seller) --
    facilitator_address: str | None = None
    seller_url = options.seller
    doc["facilitator"] = None
    if seller_url is None:
        pay_to = PrivateKey.generate().address  # the seller only receives: no key needed
        facilitator_address, facilitator = _start_facilitator(
            options, reporter, stack, chain, rpc_url, network, doc
        )
        with reporter.phase("starting the seller (FastAPI + PaymentMiddleware)") as step:
            seller_app = _seller_app(
                facilitator, network, pay_to, token.address, ours=doc["facilitator"]["ours"]
            )
            seller_url = stack.enter_context(serving(seller_app, "seller"))
            step.result = (
                f"seller {seller_url}: GET /weather $0.001, GET /joke $0.0005, "
                "POST /inference $0.01 (streams SSE)"
            )
        doc["ports"].append(_port(seller_url))
    assert pay_to is not None
    doc["seller"] = {"url": seller_url, "pay_to": pay_to}
    if options.serve:
        assert buyer_hex is not None  # --serve: our own chain, a buyer made here
        return _serve(options, reporter, chain, rpc_url, token, buyer_hex, doc)

    before = _balances(chain, token, buyer.address, pay_to, facilitator_address)
    doc["balances"] = {"before": before}
    reporter.balances("Balances before (read from the chain)", _rows(before, doc, token))

    run = _Run(chain, token, reporter)
    _run_agents(options, reporter, stack, run, buyer, seller_url, doc)

    after = _balances(chain, token, buyer.address, pay_to, facilitator_address)
    doc["balances"]["after"] = after
    reporter.balances("Balances after (read from the chain)", _rows(after, doc, token, before))
    doc.update(receipts=run.receipts, refusals=run.refusals, notes=run.notes)
    # The gas check only for our own facilitator: a shared one settles others' payments too.
    ours = bool(doc["facilitator"] and doc["facilitator"]["ours"])
    doc["checks"] = _checks(before, after, run, token, facilitator_address if ours else None)
    doc["summary"] = _summary(run, token)
    doc["ok"] = all(c["ok"] for c in doc["checks"])
    doc["seconds"] = round(time.perf_counter() - t0, 2)
    return doc


def _new_key() -> tuple[PrivateKey, str]:
    """A fresh key and its hex (``--serve`` hands the test keys to the user)."""
    secret = secrets.token_bytes(32)
    return PrivateKey(secret), "0x" + secret.hex()


def _serve(
    options: Options,
    reporter: Quiet,
    chain: Chain,
    rpc_url: str,
    token: TokenInfo,
    buyer_hex: str,
    doc: dict[str, Any],
) -> dict[str, Any]:
    """Keeps everything running; prints the environment an agent, a seller or a facilitator of
    the user's own needs to use it (the README's journeys read exactly these variables)."""
    if options.rpc is not None:
        raise DemoError("--serve runs on its own local chain (no --rpc)")
    spare, spare_hex = _new_key()  # the user's own facilitator: its own nonces, gas money
    chain.send(chain.dev_account(), spare.address, value=FACILITATOR_GAS_MONEY)
    facilitator = doc["facilitator"] or {}
    env = {
        "FASTX402_RPC": rpc_url,
        "FASTX402_NETWORK": doc["network"],
        "FASTX402_TOKEN": token.address,
        "SELLER_URL": doc["seller"]["url"],
        "FASTX402_KEY": buyer_hex,
        "FASTX402_FACILITATOR_URL": facilitator.get("url") or "",
        "FASTX402_FACILITATOR_KEY": spare_hex,
    }
    doc["serving"] = {k: v for k, v in env.items() if not k.endswith("_KEY")}
    reporter.serving(env)
    deadline = None if options.serve_seconds is None else time.monotonic() + options.serve_seconds
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the normal end of --serve
        pass
    doc.update(ok=True, checks=[], receipts=[], refusals=[])
    return doc


def _check_funds(chain: Chain, token: TokenInfo, buyer: str) -> None:
    """Fail before starting anything when the buyer cannot pay for what the agents will buy."""
    most = int((HTTPX_BUDGET + LANGCHAIN_BUDGET).scaleb(token.decimals))
    held = chain.token_balance(token.address, buyer)
    if held < most:
        raise DemoError(
            f"the buyer {buyer} holds {atomic_to_price(held, token.decimals)} {token.symbol}; "
            f"the demo may spend up to {atomic_to_price(most, token.decimals)}"
        )


def _start_chain(
    options: Options, reporter: Quiet, stack: contextlib.ExitStack, doc: dict[str, Any]
) -> tuple[Chain, str]:
    """``--rpc``, or anvil started here (stopped by the ExitStack)."""
    if options.rpc:
        rpc = Rpc(options.rpc)
        stack.callback(rpc.close)
        with reporter.phase(f"connecting to the chain at {rpc.shown}"):
            Chain(rpc).chain_id()
        return Chain(rpc), options.rpc
    anvil = Anvil(find_anvil(options.anvil))
    stack.callback(anvil.stop)
    with reporter.phase("starting a local chain (anvil)") as step:
        anvil.start()
        rpc = Rpc(anvil.url)
        stack.callback(rpc.close)
        Chain(rpc).chain_id()
        step.result = f"anvil {anvil.version} on {anvil.url} (pid {anvil.pid})"
    doc["anvil"] = {"pid": anvil.pid, "port": anvil.port, "version": anvil.version}
    doc["ports"].append(anvil.port)
    return Chain(rpc), anvil.url


def _token_and_buyer(
    options: Options, reporter: Quiet, chain: Chain, network: str
) -> tuple[TokenInfo, PrivateKey, str | None, str | None]:
    """The token, the buyer's key, the payee when an external seller quoted it, and the
    buyer's hex when the buyer was made here."""
    if options.seller:
        buyer = _env_key(options.buyer_key_env or "", "buyer")
        with reporter.phase(f"asking {options.seller} for its prices") as step:
            token_address, pay_to = _read_offer(options.seller, network)
            token = chain.token_info(token_address)
            step.result = f"{options.seller} sells for {token.symbol} ({token.address})"
        return token, buyer, pay_to, None
    if options.token:
        buyer = _env_key(options.buyer_key_env or "", "buyer")
        with reporter.phase(f"reading the token at {options.token}") as step:
            token = chain.token_info(to_checksum_address(options.token))
            step.result = f"token {token.name} ({token.symbol}) at {token.address}"
        return token, buyer, None, None
    dev = chain.dev_account()
    artifact = load_artifact()
    compiler = artifact["compiler"]["version"].split("+")[0]
    with reporter.phase("deploying TestUSDC") as step:
        deployed = chain.token_info(chain.deploy(dev, artifact["bytecode"]))
        token = dataclasses.replace(deployed, symbol=TEST_SYMBOL)  # test money, and says so
        step.result = (
            f"TestUSDC ({token.name}, EIP-3009) at {token.address} (shipped build, solc {compiler})"
        )
    buyer, buyer_hex = _new_key()
    with reporter.phase("funding the buyer") as step:
        chain.mint(dev, token.address, buyer.address, BUYER_FUNDS)
        funds = atomic_to_price(BUYER_FUNDS, token.decimals)
        step.result = f"buyer {buyer.address} minted {funds} {token.symbol}"
    return token, buyer, None, buyer_hex


def _run_agents(
    options: Options,
    reporter: Quiet,
    stack: contextlib.ExitStack,
    run: _Run,
    buyer: PrivateKey,
    seller_url: str,
    doc: dict[str, Any],
) -> None:
    """Each agent with its own budget and its ledger in a temp dir (never the user's)."""
    ledgers = stack.enter_context(tempfile.TemporaryDirectory(prefix="fastx402-demo-"))

    def spending(name: str) -> Spending:
        s = Spending("memory://", f"sqlite:///{os.path.join(ledgers, name)}.db")
        stack.callback(s.close)
        return s

    reporter.section(
        f"Agent 1: httpx paying client (max ${MAX_PER_CALL} a call, ${HTTPX_BUDGET} a session)"
    )
    run_httpx_agent(buyer, seller_url, spending("httpx"), run)
    if not options.langchain:
        doc["skipped"].append("langchain: --no-langchain")
        reporter.skipped("the LangChain agent (--no-langchain)")
        return
    reporter.section(
        f"Agent 2: LangChain create_agent, scripted model (${LANGCHAIN_BUDGET} a session)"
    )
    try:
        with reporter.phase("loading LangChain") as step:
            from fastx402.demo.langchain_agent import run_langchain_agent

            step.result = "LangChain loaded"
    except ImportError as e:
        missing = (e.name or "").split(".")[0]
        if missing not in ("langchain", "langchain_core", "langgraph"):
            raise
        doc["skipped"].append(f"langchain: not installed ({missing})")
        reporter.skipped(f"{missing} is not installed: pip install 'fastx402[demo]'")
        return
    run_langchain_agent(buyer, seller_url, spending("langchain"), run)


def _read_offer(seller: str, network: str) -> tuple[str, str]:
    """The asset and payee of an external seller's ``GET /weather`` offer on this network."""
    try:
        response = httpx.get(f"{seller}/weather", timeout=30.0, trust_env=False)
    except httpx.HTTPError as e:
        raise DemoError(f"cannot reach the seller at {seller} ({type(e).__name__})") from None
    if response.status_code != 402:
        raise DemoError(f"{seller}/weather answered {response.status_code}, not 402")
    try:
        required = parse_402(response)
    except (ValueError, X402Error) as e:
        raise DemoError(f"{seller}/weather: not an x402 answer ({e})") from None
    for r in required.accepts:
        if r.network == network and r.scheme == "exact":
            return to_checksum_address(r.asset), to_checksum_address(r.pay_to)
    raise DemoError(f"{seller}/weather offers nothing on {network} (the --rpc chain)")


def _start_facilitator(
    options: Options,
    reporter: Quiet,
    stack: contextlib.ExitStack,
    chain: Chain,
    rpc_url: str,
    network: str,
    doc: dict[str, Any],
) -> tuple[str | None, Facilitator | RemoteFacilitator]:
    """The seller's facilitator: a remote URL, or ours (over HTTP, or in-process)."""
    if options.facilitator:
        remote = RemoteFacilitator(options.facilitator, settle_timeout=30.0)
        with reporter.phase(f"asking the facilitator at {options.facilitator} what it supports"):
            try:
                supported = remote.supported_blocking()
            except X402Error as e:
                raise DemoError(f"facilitator {options.facilitator}: {e}") from None
        signers = [a for k, v in supported.signers.items() if k in (network, "eip155:*") for a in v]
        address = to_checksum_address(signers[0]) if len(signers) == 1 else None
        doc["facilitator"] = {"url": options.facilitator, "address": address, "ours": False}
        return address, remote
    if options.facilitator_key_env:
        key = _env_key(options.facilitator_key_env, "facilitator")
    else:
        key = PrivateKey.generate()
        with reporter.phase("funding the facilitator with 1 ETH for gas") as step:
            chain.send(chain.dev_account(), key.address, value=FACILITATOR_GAS_MONEY)
            step.result = f"facilitator {key.address} funded with 1 ETH for gas"
    try:
        engine = Facilitator(rpc_url, network, key, poll_interval=0.05, receipt_timeout=30.0)
    except X402Error as e:
        raise DemoError(f"facilitator: {e}") from None
    doc["facilitator"] = {"url": None, "address": engine.address, "ours": True}
    if options.in_process_facilitator:
        reporter.done(f"facilitator {engine.address} (in-process)")
        return engine.address, engine
    with reporter.phase("starting the facilitator service") as step:
        from fastx402.facilitator import create_app

        url = stack.enter_context(serving(create_app(engine), "facilitator"))
        step.result = f"facilitator service {url} (the seller calls it over HTTP)"
    doc["facilitator"]["url"] = url
    doc["ports"].append(_port(url))
    return engine.address, RemoteFacilitator(url, settle_timeout=30.0)


def _seller_app(
    facilitator: Facilitator | RemoteFacilitator,
    network: str,
    pay_to: str,
    asset: str,
    *,
    ours: bool,
) -> Any:
    from fastx402.demo.seller import create_app

    # fastx402's facilitator answers a repeated settle with the first result: say so (a
    # third-party one is only asked read-only questions when an answer is lost).
    return create_app(facilitator, network, pay_to, asset, idempotent_settle=ours or None)


def _balances(
    chain: Chain, token: TokenInfo, buyer: str, seller: str, facilitator: str | None
) -> dict[str, int | None]:
    return {
        "buyer": chain.token_balance(token.address, buyer),
        "seller": chain.token_balance(token.address, seller),
        "facilitator_eth": None if facilitator is None else chain.eth_balance(facilitator),
    }


def _rows(
    now: dict[str, int | None],
    doc: dict[str, Any],
    token: TokenInfo,
    then: dict[str, int | None] | None = None,
) -> list[dict[str, Any]]:
    """Balances for display; with ``then``, each one's change since then."""
    eth = Decimal("1e-9")
    parts = [
        ("buyer", doc["buyer"], "buyer", token.decimals, token.symbol),
        ("seller (payTo)", doc["seller"]["pay_to"], "seller", token.decimals, token.symbol),
    ]
    if now["facilitator_eth"] is not None:
        parts.append(("facilitator", doc["facilitator"]["address"], "facilitator_eth", 18, "ETH"))
    rows = []
    for who, address, key, decimals, unit in parts:
        value = Decimal(now[key] or 0).scaleb(-decimals)
        change = ""
        if then is not None:
            delta = Decimal((now[key] or 0) - (then[key] or 0)).scaleb(-decimals)
            change = f"{delta:+}" if decimals != 18 else f"{delta.quantize(eth):+}"
        shown = value.quantize(eth) if decimals == 18 else value
        rows.append(
            {"who": who, "address": address, "balance": str(shown), "unit": unit, "change": change}
        )
    return rows


def _signed(value: int, decimals: int) -> str:
    """An exact signed amount (``+0.0115``, ``-0.0115``)."""
    return ("-" if value < 0 else "+") + atomic_to_price(abs(value), decimals)


def _checks(
    before: dict[str, int | None],
    after: dict[str, int | None],
    run: _Run,
    token: TokenInfo,
    facilitator: str | None,
) -> list[dict[str, Any]]:
    n, d, sym = len(run.receipts), token.decimals, token.symbol
    total = sum(r["amount"] for r in run.receipts)
    receipts = f"{atomic_to_price(total, d)} {sym} in {n} receipts"
    gained = (after["seller"] or 0) - (before["seller"] or 0)
    lost = (before["buyer"] or 0) - (after["buyer"] or 0)
    checks = [
        {
            "what": f"seller {_signed(gained, d)} {sym} on chain {_eq(gained, total)} {receipts}",
            "ok": gained == total,
        },
        {
            "what": f"buyer {_signed(-lost, d)} {sym} on chain {_eq(lost, total)} {receipts}",
            "ok": lost == total,
        },
        {
            "what": f"{len(run.refusals)} refusal(s) at the budget, each not_charged in the ledger",
            "ok": bool(run.refusals)
            and all(r["ledger_phase"] == "not_charged" for r in run.refusals),
        },
    ]
    if facilitator is not None and before["facilitator_eth"] is not None:
        gas = sum(r["gas_cost_wei"] for r in run.receipts if r["settled_by"] == facilitator)
        spent = before["facilitator_eth"] - (after["facilitator_eth"] or 0)
        checks.append(
            {
                "what": f"facilitator {_signed(-spent, 18)} ETH on chain {_eq(spent, gas)} "
                "the receipts' gas",
                "ok": spent == gas,
            }
        )
    return checks


def _eq(a: int, b: int) -> str:
    return "=" if a == b else "≠"


def _summary(run: _Run, token: TokenInfo) -> dict[str, Any]:
    gas = [r["gas_used"] for r in run.receipts] or [0]
    latency = [r["latency_ms"] for r in run.receipts] or [0.0]
    agents: dict[str, int] = {}
    for r in run.receipts:
        agents[r["agent"]] = agents.get(r["agent"], 0) + 1
    return {
        "payments": len(run.receipts),
        "by_agent": [f"{n} by {a}" for a, n in agents.items()],
        "total_paid": atomic_to_price(sum(r["amount"] for r in run.receipts), token.decimals),
        "symbol": token.symbol,
        "gas_per_payment": {"mean": round(statistics.fmean(gas)), "min": min(gas), "max": max(gas)},
        "gas_eth": atomic_to_price(sum(r["gas_cost_wei"] for r in run.receipts), 18),
        "latency_ms": {"p50": statistics.median(latency), "max": max(latency)},
        "refusals": len(run.refusals),
    }
