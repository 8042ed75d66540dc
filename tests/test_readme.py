"""The README's and docs/reference.md's Python examples run as written, and can fail.

The README's three journeys (marked ``<!-- readme-test: NAME -->``) run as a reader runs them:
against ``fastx402 demo --serve`` (started here as a subprocess, stopped by PID), with the
environment it prints, in an empty working directory. Each test then uses what its example built
and checks the chain: the agent's receipt moved the money, the seller's app (under uvicorn) is paid
by a paying client, the facilitator's app settles a payment over HTTP.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

import fastx402
from asgi_server import running
from chain import anvil_binary
from fastx402 import PaymentRequired, PrivateKey, RemoteFacilitator
from fastx402.client import SpendPolicy, paying_client, receipt_of
from fastx402.demo.chain import Chain, Rpc

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "README.md", ROOT / "docs" / "reference.md")
JOURNEY = re.compile(r"<!-- readme-test: (\w+) -->\n```python\n(.*?)```", re.S)
SERVE_STARTUP = 60.0  # interpreter, anvil, deploy, two uvicorn servers
SERVE_STOP = 20.0


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def journeys() -> dict[str, str]:
    found = dict(JOURNEY.findall(DOCS[0].read_text(encoding="utf-8")))
    assert set(found) == {"agent", "seller", "facilitator"}, sorted(found)
    return found


def test_reference_examples_run() -> None:
    marked = set(journeys().values())
    blocks = [b for path in DOCS for b in python_blocks(path) if b not in marked]
    assert len(blocks) >= 4, "the reference lost its examples"
    for block in blocks:
        exec(compile(block, "docs", "exec"), {})


def test_expected_errors_fail_when_nothing_raises() -> None:
    """An example that shows an error (``try: ... except E:``) must fail when nothing is raised:
    every ``try`` has an ``else:`` branch that raises."""
    tries = 0
    for path in DOCS:
        for block in python_blocks(path):
            for node in ast.walk(ast.parse(block)):
                if isinstance(node, ast.Try):
                    tries += 1
                    line = block.splitlines()[node.lineno - 1]
                    assert node.orelse, f"`try` without `else: raise ...` in {path.name}: {line!r}"
                    assert isinstance(node.orelse[-1], ast.Raise), line
    assert tries == 3


# --- the journeys, against `fastx402 demo --serve` ------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, str]]:
    """``fastx402 demo --serve``: its environment while it runs; it must stop cleanly."""
    cmd = [sys.executable, "-m", "fastx402.cli", "demo", "--serve", "--json", "--no-langchain"]
    cmd += ["--serve-seconds", "600", "--anvil", str(anvil_binary())]
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    proc = subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    timer = threading.Timer(SERVE_STARTUP, proc.kill)  # a start-up that hangs fails, bounded
    timer.start()
    try:
        first = proc.stdout.readline()
    finally:
        timer.cancel()
    try:
        assert first, f"demo --serve printed nothing: {proc.stderr.read()[-2000:]}"
        yield json.loads(first)["serving"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=SERVE_STOP)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise AssertionError("demo --serve did not stop on SIGTERM") from None
    assert proc.returncode == 0, err[-2000:]
    assert json.loads(out)["ok"] is True
    assert "Traceback" not in err


@pytest.fixture
def reader(served: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Chain:
    """A reader's shell: the served environment, an empty working directory."""
    for name, value in served.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return Chain(Rpc(served["FASTX402_RPC"]))


def run_journey(name: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(journeys()[name], f"README.md ({name})", "exec"), namespace)
    return namespace


def moved(chain: Chain, tx: str, token: str, payer: str, pay_to: str, amount: int) -> bool:
    receipt = chain.wait_receipt(tx, token)
    return receipt.ok and (payer, pay_to, amount) in receipt.transfers


def test_agent_journey_pays_and_the_chain_agrees(reader: Chain) -> None:
    ns = run_journey("agent")
    receipt, spending = ns["receipt"], ns["spending"]
    buyer = PrivateKey.from_hex(os.environ["FASTX402_KEY"]).address
    assert receipt.outcome == "paid" and receipt.payer == buyer
    token = os.environ["FASTX402_TOKEN"]
    assert moved(reader, receipt.transaction, token, buyer, receipt.quote.pay_to, 1000)
    assert spending.ledger.spent("day").settled == Decimal("0.001")
    assert Path("ledger.db").is_file()  # in the reader's directory, not the user's ledger


def _agent_client(url: str) -> httpx.Client:
    policy = SpendPolicy(max_per_call=Decimal("0.01"), hosts=frozenset({url}), allow_http=True)
    return paying_client(PrivateKey.from_hex(os.environ["FASTX402_KEY"]), policy)


def test_seller_journey_charges_per_request(reader: Chain) -> None:
    ns = run_journey("seller")
    token, seller = os.environ["FASTX402_TOKEN"], ns["SELLER"]
    before = reader.token_balance(token, seller)
    with running(ns["app"]) as url:
        unpaid = httpx.get(f"{url}/forecast/paris", timeout=10)
        assert unpaid.status_code == 402 and "payment-required" in unpaid.headers
        assert unpaid.json()["accepts"][0]["amount"] == "2000"  # $0.002 in 6 decimals
        with _agent_client(url) as client:
            paid = client.get(f"{url}/forecast/paris")
    receipt = receipt_of(paid)
    assert paid.status_code == 200 and paid.json()["paid_by"] == receipt.payer
    assert receipt.outcome == "paid"
    assert moved(reader, receipt.transaction, token, receipt.payer, seller, 2000)
    assert reader.token_balance(token, seller) == before + 2000


def test_facilitator_journey_settles_over_http(reader: Chain) -> None:
    ns = run_journey("facilitator")
    network, token = os.environ["FASTX402_NETWORK"], os.environ["FASTX402_TOKEN"]
    pay_to = PrivateKey.generate().address
    required = PaymentRequired.from_dict(
        {
            "x402Version": 2,
            "resource": {"url": "http://127.0.0.1/thing"},
            "accepts": [
                {
                    "scheme": "exact", "network": network, "amount": "1234", "asset": token,
                    "payTo": pay_to, "maxTimeoutSeconds": 300,
                    "extra": {"name": "USD Coin", "version": "2"},
                }
            ],
        }
    )  # fmt: skip
    buyer = PrivateKey.from_hex(os.environ["FASTX402_KEY"])
    payment = fastx402.create_payment(required, buyer)
    with running(ns["app"]) as url, contextlib.closing(httpx.Client(timeout=10)) as http:
        kinds = http.get(f"{url}/supported").json()["kinds"]
        assert {"x402Version": 2, "scheme": "exact", "network": network} in kinds
        remote = RemoteFacilitator(url)
        verdict = remote.verify_blocking(payment, required.accepts[0])
        assert verdict.is_valid, verdict.invalid_reason
        settled = remote.settle_blocking(payment, required.accepts[0])
    assert settled.success and settled.payer == buyer.address
    assert moved(reader, settled.transaction, token, buyer.address, pay_to, 1234)
    assert Path("settlements.journal").read_text().count(settled.transaction[2:]) >= 1
