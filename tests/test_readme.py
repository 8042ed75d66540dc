"""The README's and docs/reference.md's Python examples run as written, and can fail.

The README's three journeys (marked ``<!-- readme-test: NAME -->``) run as a reader runs them:
against ``fastx402 demo --serve`` (started here as a subprocess, stopped by PID), each in a Python
process of its own (their asset registrations never touch this one's), with the environment it
prints, in an empty working directory. The tests check what each built, on the chain: the agent's
receipt moved the money; the seller's ``app.py`` under ``uvicorn app:app`` answers 402 and is paid
with a payment made here; the facilitator's app, served, settles a payment over HTTP.
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
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import fastx402
from chain import anvil_binary, free_port
from fastx402 import PaymentRequired, PrivateKey, RemoteFacilitator, SettleResponse
from fastx402.demo.chain import Chain, Rpc

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "README.md", ROOT / "docs" / "reference.md")
JOURNEY = re.compile(r"<!-- readme-test: (\w+) -->\n```python\n(.*?)```", re.S)
SERVE_STARTUP = 60.0  # interpreter, anvil, deploy, two uvicorn servers
SERVE_STOP = 20.0
JOURNEY_TIMEOUT = 60.0  # a fresh interpreter, imports, one paid call or a server start


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
def reader(served: dict[str, str], tmp_path: Path) -> Iterator[tuple[Chain, dict[str, str]]]:
    """A reader's shell: the served environment (no proxies), an empty working directory."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(served, PYTHONUNBUFFERED="1")
    rpc = Rpc(served["FASTX402_RPC"])
    try:
        yield Chain(rpc), env
    finally:
        rpc.close()


def run_journey(name: str, cwd: Path, env: dict[str, str], probe: str = "") -> str:
    """Runs the example (then ``probe``) as ``cwd/<name>.py`` in a process of its own; returns
    its stdout."""
    script = cwd / f"{name}.py"
    script.write_text(journeys()[name] + probe, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=JOURNEY_TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@contextlib.contextmanager
def serving(cmd: list[str], cwd: Path, env: dict[str, str], port: int) -> Iterator[str]:
    """``cmd`` (a server on 127.0.0.1:``port``) as a subprocess, once it answers; stopped by
    PID."""
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + JOURNEY_TIMEOUT
        while True:
            try:
                httpx.get(url, timeout=1.0, trust_env=False)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    _, err = proc.communicate(timeout=SERVE_STOP)
                    raise AssertionError(f"{cmd} did not start: {err[-3000:]}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=SERVE_STOP)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def moved(chain: Chain, tx: str, token: str, payer: str, pay_to: str, amount: int) -> bool:
    receipt = chain.wait_receipt(tx, token)
    return receipt.ok and (payer, pay_to, amount) in receipt.transfers


def pay_here(url: str, key: PrivateKey) -> httpx.Response:
    """Pays ``url``'s 402 with a payment made in this process (no asset registry needed)."""
    with httpx.Client(timeout=30, trust_env=False) as http:
        unpaid = http.get(url)
        assert unpaid.status_code == 402 and "payment-required" in unpaid.headers
        required = PaymentRequired.from_header(unpaid.headers["payment-required"])
        payment = fastx402.create_payment(required, key)
        return http.get(url, headers={"PAYMENT-SIGNATURE": payment.to_header()})


AGENT_PROBE = """
print(json.dumps({"tx": receipt.transaction, "payer": receipt.payer, "pay_to": receipt.quote.pay_to,
                  "amount": receipt.amount, "settled": str(spending.ledger.spent("day").settled)}))
"""


def test_agent_journey_pays_and_the_chain_agrees(
    reader: tuple[Chain, dict[str, str]], tmp_path: Path
) -> None:
    chain, env = reader
    out = run_journey("agent", tmp_path, env, "\nimport json" + AGENT_PROBE)
    paid = json.loads(out.strip().splitlines()[-1])
    buyer = PrivateKey.from_hex(env["FASTX402_KEY"]).address
    assert paid["payer"] == buyer and paid["amount"] == 1000 and paid["settled"] == "0.001"
    assert moved(chain, paid["tx"], env["FASTX402_TOKEN"], buyer, paid["pay_to"], 1000)
    assert (tmp_path / "ledger.db").is_file()  # in the reader's directory, not the user's ledger


def test_seller_journey_charges_per_request(
    reader: tuple[Chain, dict[str, str]], tmp_path: Path
) -> None:
    chain, env = reader
    (tmp_path / "app.py").write_text(journeys()["seller"], encoding="utf-8")
    seller = re.search(r'SELLER = "(0x[0-9a-fA-F]{40})"', journeys()["seller"])
    assert seller is not None
    token, pay_to = env["FASTX402_TOKEN"], seller.group(1)
    before = chain.token_balance(token, pay_to)
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "app:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    buyer = PrivateKey.from_hex(env["FASTX402_KEY"])
    with serving(cmd, tmp_path, env, port) as url:
        unpaid = httpx.get(f"{url}/forecast/paris", timeout=10, trust_env=False)
        assert unpaid.json()["accepts"][0]["amount"] == "2000"  # $0.002 in 6 decimals
        paid = pay_here(f"{url}/forecast/paris", buyer)
    assert paid.status_code == 200 and paid.json()["paid_by"] == buyer.address
    settle = SettleResponse.from_header(paid.headers["payment-response"])
    assert settle.success and moved(chain, settle.transaction, token, buyer.address, pay_to, 2000)
    assert chain.token_balance(token, pay_to) == before + 2000


FACILITATOR_PROBE = """
import uvicorn
uvicorn.run(app, host="127.0.0.1", port=int(os.environ["JOURNEY_PORT"]), log_level="warning")
"""


def test_facilitator_journey_settles_over_http(
    reader: tuple[Chain, dict[str, str]], tmp_path: Path
) -> None:
    chain, env = reader
    network, token = env["FASTX402_NETWORK"], env["FASTX402_TOKEN"]
    script = tmp_path / "facilitator.py"
    script.write_text(journeys()["facilitator"] + FACILITATOR_PROBE, encoding="utf-8")
    port = free_port()
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
    buyer = PrivateKey.from_hex(env["FASTX402_KEY"])
    payment = fastx402.create_payment(required, buyer)
    with serving(
        [sys.executable, str(script)], tmp_path, env | {"JOURNEY_PORT": str(port)}, port
    ) as url:
        kinds = httpx.get(f"{url}/supported", timeout=10, trust_env=False).json()["kinds"]
        assert {"x402Version": 2, "scheme": "exact", "network": network} in kinds
        remote = RemoteFacilitator(url)
        verdict = remote.verify_blocking(payment, required.accepts[0])
        assert verdict.is_valid, verdict.invalid_reason
        settled = remote.settle_blocking(payment, required.accepts[0])
    assert settled.success and settled.payer == buyer.address
    assert moved(chain, settled.transaction, token, buyer.address, pay_to, 1234)
    journal = (tmp_path / "settlements.journal").read_text()
    assert settled.transaction[2:] in journal
