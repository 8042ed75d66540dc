"""``fastx402 demo`` as a real subprocess: it pays, its receipts add up on chain, it refuses at the
budget, it leaves no process or port behind (also when stopped with SIGTERM), it fails with one
clear line on bad input; and the TestUSDC artifact it ships is the one ``tests/contracts`` builds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import fastx402
from asgi_server import running
from chain import (
    CONTRACTS,
    NETWORK,
    Anvil,
    Token,
    anvil_binary,
    artifact,
    balance_of,
    free_port,
)
from fastx402 import PrivateKey
from fastx402.demo.seller import create_app as create_seller_app
from fastx402.facilitator import create_app as create_facilitator_app
from test_facilitator import fund_eth, new_facilitator

SHIPPED = Path(__file__).resolve().parent.parent / "python" / "fastx402" / "demo" / "TestUSDC.json"
CLI = [sys.executable, "-m", "fastx402.cli", "demo"]
TIMEOUT = 60
TX_HASH = re.compile(r"0x[0-9a-f]{64}")


def demo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
        env=env,
    )


def gone(pid: int, within: float = 5.0) -> bool:
    """The process has exited and was reaped (or is a zombie about to be)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def port_free(port: int) -> bool:
    """Nothing listens on it (SO_REUSEADDR: connections in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
        except OSError:
            return False
    return True


def check_ledger_untouched(env: dict[str, str]) -> None:
    assert not Path(env["FASTX402_LEDGER"]).exists(), "the demo wrote to the user's ledger"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The demo's environment: the user's default ledger points into tmp_path (must stay absent)."""
    return {
        **os.environ,
        "FASTX402_LEDGER": str(tmp_path / "user-ledger.db"),
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "FASTX402_ANVIL": "",  # the tests pass --anvil
    }


def check_document(doc: dict[str, Any]) -> None:
    """The receipts add up with the balances the demo read from the chain."""
    assert doc["ok"] is True and all(c["ok"] for c in doc["checks"]), doc["checks"]
    receipts = doc["receipts"]
    assert len(receipts) >= 3
    total = sum(r["amount"] for r in receipts)
    before, after = doc["balances"]["before"], doc["balances"]["after"]
    assert after["seller"] == before["seller"] + total
    assert after["buyer"] == before["buyer"] - total
    if any(c["what"].startswith("facilitator") for c in doc["checks"]):  # ours: gas checked
        gas = sum(r["gas_cost_wei"] for r in receipts)
        assert before["facilitator_eth"] - after["facilitator_eth"] == gas
    for r in receipts:
        assert TX_HASH.fullmatch(r["transaction"]), r
        assert r["amount"] > 0 and r["gas_used"] > 21_000 and r["block"] > 0
        assert r["payer"] == doc["buyer"] and r["pay_to"] == doc["seller"]["pay_to"]
    assert len({r["transaction"] for r in receipts}) == len(receipts)
    # Each agent was refused at its budget, before signing: nothing was paid for it.
    refused = {r["agent"]: r for r in doc["refusals"]}
    assert refused, "no budget refusal"
    for r in refused.values():
        assert r["reason"].startswith("budget_exhausted") and r["ledger_phase"] == "not_charged"
    routes = [(r["agent"], r["route"]) for r in receipts]
    assert ("httpx", "POST /inference") in routes  # the streamed, paid inference


def check_cleaned_up(pid: int, ports: Sequence[int]) -> None:
    assert gone(pid), f"anvil (pid {pid}) outlived the demo"
    for port in ports:
        assert port_free(port), f"port {port} is still taken after the demo"


def test_demo_pays_adds_up_on_chain_and_runs_twice_cleanly(env: dict[str, str]) -> None:
    anvil = str(anvil_binary())
    # 1: JSON, every part.
    first = demo("--json", "--anvil", anvil, env=env)
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    doc = json.loads(first.stdout)
    check_document(doc)
    assert {r["agent"] for r in doc["receipts"]} == {"httpx", "langchain"}
    assert {r["agent"] for r in doc["refusals"]} == {"httpx", "langchain"}
    assert doc["facilitator"]["ours"] and doc["facilitator"]["url"].startswith("http://127.0.0.1:")
    assert any(c["what"].startswith("facilitator -0.000") for c in doc["checks"])
    assert doc["skipped"] == []
    assert len(doc["ports"]) == 3  # anvil, facilitator, seller
    check_cleaned_up(doc["anvil"]["pid"], doc["ports"])

    # 2: right after, the human output: works again, shows the receipts and the summary.
    second = demo("--anvil", anvil, env=env)
    out = second.stdout
    assert second.returncode == 0, second.stderr + out
    assert "Traceback" not in second.stderr
    for line in (
        "Balances before (read from the chain)",
        "Balances after (read from the chain)",
        "Summary",
        "payments      5 (3 by httpx, 2 by langchain)",
        "total paid    0.013 tUSDC",
        "gas/payment",
        "latency/call  p50",
        "refusals      2 (nothing paid for them)",
        "demo passed",
    ):
        assert line in out, f"{line!r} missing from:\n{out}"
    assert len(TX_HASH.findall(out)) >= 5
    assert "✓ seller +0.013 tUSDC on chain = 0.013 tUSDC in 5 receipts" in out
    assert "✓ buyer -0.013 tUSDC on chain = 0.013 tUSDC in 5 receipts" in out and "✗" not in out
    match = re.search(r"anvil \S+ on http://127\.0\.0\.1:\d+ \(pid (\d+)\)", out)
    assert match, out
    pid = int(match.group(1))
    ports = [int(p) for p in re.findall(r"http://127\.0\.0\.1:(\d+)", out)]
    check_cleaned_up(pid, sorted(set(ports)))
    check_ledger_untouched(env)


def test_demo_on_an_existing_dev_chain_matches_what_the_test_reads(
    anvil: Anvil, env: dict[str, str]
) -> None:
    """--rpc: the demo deploys and funds on a chain the test reads itself afterwards; its
    facilitator settles in-process with the key named by --facilitator-key-env."""
    secret = os.urandom(32)
    fund_eth(anvil, PrivateKey(secret).address)
    env = {**env, "DEMO_FACILITATOR_KEY": secret.hex()}
    args = ["--rpc", anvil.url, "--no-langchain", "--in-process-facilitator"]
    run = demo("--json", *args, "--facilitator-key-env", "DEMO_FACILITATOR_KEY", env=env)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    check_document(doc)
    assert doc["anvil"] is None and doc["facilitator"]["url"] is None
    assert doc["facilitator"]["address"] == PrivateKey(secret).address
    assert {r["settled_by"] for r in doc["receipts"]} == {PrivateKey(secret).address}
    assert doc["skipped"] == ["langchain: --no-langchain"]
    token, total = doc["token"]["address"], sum(r["amount"] for r in doc["receipts"])
    assert balance_of(anvil, token, doc["seller"]["pay_to"]) == total
    assert balance_of(anvil, token, doc["buyer"]) == doc["balances"]["before"]["buyer"] - total
    for r in doc["receipts"]:
        receipt = anvil.rpc.call("eth_getTransactionReceipt", r["transaction"])
        assert int(receipt["status"], 16) == 1 and int(receipt["gasUsed"], 16) == r["gas_used"]
        assert int(receipt["blockNumber"], 16) == r["block"]
    check_ledger_untouched(env)


@pytest.fixture
def external(usdc: Token, anvil: Anvil) -> Iterator[tuple[str, str, bytes]]:
    """A facilitator service and the demo's seller app, run by the test on the session chain:
    (facilitator URL, seller URL, a buyer holding 0.10 of the session's TestUSDC)."""
    with contextlib.suppress(ValueError):
        fastx402.register_asset(NETWORK, usdc.address, usdc.name, usdc.version, 6, symbol="tUSDC")
    engine = new_facilitator(anvil)
    remote = fastx402.RemoteFacilitator
    with running(create_facilitator_app(engine)) as facilitator_url:
        app = create_seller_app(
            remote(facilitator_url), NETWORK, PrivateKey.generate().address, usdc.address
        )
        with running(app) as seller_url:
            secret = os.urandom(32)
            usdc.mint(PrivateKey(secret).address, 100_000)
            yield facilitator_url, seller_url, secret


def test_flags_point_the_demo_at_an_external_token_facilitator_and_seller(
    external: tuple[str, str, bytes], anvil: Anvil, usdc: Token, env: dict[str, str]
) -> None:
    facilitator_url, seller_url, secret = external
    buyer = PrivateKey(secret)
    env = {**env, "DEMO_BUYER_KEY": "0x" + secret.hex()}
    common = ["--json", "--rpc", anvil.url, "--buyer-key-env", "DEMO_BUYER_KEY", "--no-langchain"]
    # Our seller, their token and facilitator: nothing deployed or minted.
    run = demo(*common, "--token", usdc.address, "--facilitator", facilitator_url, env=env)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    check_document(doc)
    assert doc["token"]["address"] == usdc.address and doc["buyer"] == buyer.address
    assert doc["facilitator"]["url"] == facilitator_url and not doc["facilitator"]["ours"]
    # Their seller: only the agents run.
    run = demo(*common, "--seller", seller_url, env=env)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    check_document(doc)
    assert doc["seller"]["url"] == seller_url and doc["facilitator"] is None
    assert balance_of(anvil, usdc.address, buyer.address) == doc["balances"]["after"]["buyer"]
    check_ledger_untouched(env)


def test_a_buyer_without_funds_is_refused_before_anything_starts(
    anvil: Anvil, usdc: Token, env: dict[str, str]
) -> None:
    env = {**env, "DEMO_BUYER_KEY": "0x" + os.urandom(32).hex()}
    args = ["--rpc", anvil.url, "--token", usdc.address, "--buyer-key-env", "DEMO_BUYER_KEY"]
    run = demo(*args, env=env)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert re.fullmatch(
        r"fastx402: the buyer 0x[0-9a-fA-F]{40} holds 0 USDC; the demo may spend up to 0\.014\n",
        run.stderr,
    ), run.stderr
    assert "facilitator service" not in run.stdout  # nothing was started


def test_sigterm_stops_the_demo_and_everything_it_started(env: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [*CLI, "--anvil", str(anvil_binary())],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    try:
        assert proc.stdout is not None
        seen = b""
        deadline = time.monotonic() + TIMEOUT
        # Read up to the seller's line (everything is running then), with a deadline.
        while b"seller http://" not in seen and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([proc.stdout], [], [], left)
            chunk = os.read(proc.stdout.fileno(), 4096) if ready else b""
            if not chunk:
                break
            seen += chunk
        text = seen.decode()
        match = re.search(r"\(pid (\d+)\)", text)
        assert match and "✓ seller http://" in text, text
        proc.send_signal(signal.SIGTERM)
        _, raw_err = proc.communicate(timeout=TIMEOUT)
        err = raw_err.decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode != 0
    assert "Traceback" not in err and "fastx402: interrupted" in err
    ports = sorted({int(p) for p in re.findall(r"http://127\.0\.0\.1:(\d+)", text)})
    check_cleaned_up(int(match.group(1)), ports)


def test_without_langchain_the_agent_is_skipped_visibly_and_the_rest_passes(
    env: dict[str, str],
) -> None:
    """langchain not importable (as when the demo extra is not installed)."""
    code = (
        "import sys; sys.modules['langchain'] = None\n"
        "from fastx402.cli import main\n"
        f"sys.exit(main(['demo', '--anvil', {str(anvil_binary())!r}]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    assert run.returncode == 0, run.stderr + run.stdout
    assert "skipped langchain is not installed: pip install 'fastx402[demo]'" in run.stdout
    assert "payments      3 (3 by httpx)" in run.stdout and "demo passed" in run.stdout


def test_unreachable_rpc_is_one_clear_line(env: dict[str, str]) -> None:
    run = demo("--rpc", f"http://127.0.0.1:{free_port()}", env=env)
    assert run.returncode == 1
    assert run.stderr.startswith("fastx402: cannot reach the chain at http://127.0.0.1:")
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_missing_anvil_says_how_to_install_it(env: dict[str, str]) -> None:
    run = demo("--anvil", "/nonexistent", env=env)
    assert run.returncode == 1
    assert run.stderr.startswith("fastx402: --anvil /nonexistent: no executable anvil there")
    assert "install anvil" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token", "0x" + "11" * 20], "--token and --seller need --rpc"),
        (["--rpc", "http://127.0.0.1:1", "--seller", "http://127.0.0.1:2"], "--buyer-key-env"),
        (["--buyer-key-env", "0x" + "ab" * 32], "takes the NAME of an environment variable"),
    ],
)
def test_bad_options_are_refused_before_anything_starts(
    args: list[str], message: str, env: dict[str, str]
) -> None:
    run = demo(*args, env=env)
    assert run.returncode == 2 and message in run.stderr, run.stderr
    assert "ab" * 32 not in run.stderr  # a key typed where a name belongs is never echoed


def test_shipped_token_artifact_is_the_fresh_build_of_tests_contracts() -> None:
    """CI builds tests/contracts/build before pytest; regenerate the shipped copy with
    `python tests/contracts/demo_artifact.py` when TestUSDC.sol or solc changes."""
    shipped = json.loads(SHIPPED.read_text())
    build = artifact("TestUSDC")
    assert shipped["bytecode"] == build["bytecode"]
    assert shipped["abi"] == build["abi"]
    assert shipped["compiler"] == build["compiler"] and shipped["settings"] == build["settings"]
    source = (CONTRACTS / "TestUSDC.sol").read_bytes()
    assert shipped["sourceSha256"] == hashlib.sha256(source).hexdigest()
