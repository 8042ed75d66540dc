"""The ``fastx402`` commands (keygen, inspect, verify, quote, pay, ledger), each with its happy path
and bad input: bad input ends with ``fastx402: <message>`` on stderr and a non-zero exit status,
never a traceback, and a private key is printed only when asked (``keygen --print-key``).

User-facing runs are real subprocesses (``python -m fastx402.cli``); the runs against the seller
(fastx402's middleware under uvicorn on 127.0.0.1, settling on the session anvil) call ``main``
in-process, where the test token is registered as an asset.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

import fastx402
from asgi_server import running
from chain import NETWORK, Token
from fastx402 import PaymentRequired, PrivateKey
from fastx402.cli import COMMANDS, main
from fastx402.cli._common import HEX_KEY
from fastx402.client import (
    Ledger,
    Receipt,
    Spending,
    SpendPolicy,
    wallet_from_file,
    wallet_from_keystore,
)
from fastx402.client.quote import offers
from test_cli import clean_env, run_cli
from test_server import (  # noqa: F401
    PRICE,
    FaultyFront,
    Shop,
    facilitator,
    funded,
    shop,
    token,
)

BASE = "eip155:8453"
USDC = fastx402.default_asset(BASE)
PAY_TO = "0x" + "22" * 20


@pytest.fixture(autouse=True)
def _no_home_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs without --ledger never write the user's real ledger."""
    monkeypatch.setenv("FASTX402_LEDGER", str(tmp_path / "default-ledger.db"))


def no_traceback(result: Any) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


def fails_cleanly(result: Any, needle: str, status: int | None = None) -> None:
    """A non-zero exit with ``fastx402: ...needle...`` (or argparse's usage) and no traceback."""
    no_traceback(result)
    assert result.returncode != 0, (result.stdout, result.stderr)
    if status is not None:
        assert result.returncode == status, (result.returncode, result.stderr)
    assert result.stderr.startswith(("fastx402: ", "usage: ")), result.stderr
    assert needle in result.stderr, result.stderr


def call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``main(argv)`` in-process: (status, stdout, stderr); argparse's exits included."""
    try:
        status = main(argv)
    except SystemExit as e:
        status = int(e.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, err
    return status, out, err


# --- documents to inspect and verify (Base USDC: known to every process) --------------------------


def requirements(amount: int = 10_000) -> dict[str, Any]:
    return {
        "scheme": "exact",
        "network": BASE,
        "asset": USDC["address"],
        "amount": str(amount),
        "payTo": PAY_TO,
        "maxTimeoutSeconds": 60,
        "extra": {"name": USDC["name"], "version": USDC["version"]},
    }


def payment_required(amount: int = 10_000) -> PaymentRequired:
    return PaymentRequired.from_dict(
        {
            "x402Version": 2,
            "resource": {"url": "https://api.example.com/weather"},
            "accepts": [requirements(amount)],
        }
    )


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("docs")
    payer = PrivateKey.generate()
    required = payment_required()
    payment = fastx402.create_payment(required, payer)
    settled = fastx402.SettleResponse.from_dict(
        {"success": True, "transaction": "0x" + "ab" * 32, "network": BASE, "payer": payer.address}
    )
    body = folder / "402.json"
    body.write_text(json.dumps(required.to_dict()))
    other = folder / "other.json"
    other.write_text(json.dumps(requirements(20_000)))
    header_file = folder / "payment.txt"
    header_file.write_text(payment.to_header() + "\n")
    # The same authorization with its amount raised: the signature no longer matches.
    forged = payment.to_dict()
    forged["payload"]["authorization"]["value"] = "20000"
    forged["accepted"]["amount"] = "20000"
    v1 = PaymentRequired.from_dict(
        {
            "x402Version": 1,
            "accepts": [
                {
                    **{k: v for k, v in requirements().items() if k != "amount"},
                    "network": "base",
                    "maxAmountRequired": "10000",
                    "resource": "https://api.example.com/weather",
                    "description": "",
                    "mimeType": "application/json",
                }
            ],
        }
    )
    return {
        "v1_required": v1.to_header(),
        "v1_payment": fastx402.create_payment(v1, payer).to_header(),
        "payer": payer.address,
        "required": required.to_header(),
        "payment": payment.to_header(),
        "forged": fastx402.encode_header(forged),
        "settled": settled.to_header(),
        "body": str(body),
        "other": str(other),
        "payment_file": str(header_file),
    }


# --- every command --------------------------------------------------------------------------------


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(["--help"], clean_env())
    assert result.returncode == 0 and all(c in result.stdout for c in COMMANDS)
    assert {"keygen", "inspect", "verify", "quote", "pay", "ledger"} <= set(COMMANDS)
    for argv in [[c] for c in COMMANDS] + [["ledger", s] for s in ("statement", "export", "chart")]:
        status, out, _ = call([*argv, "--help"], capsys)
        assert status == 0 and out.startswith("usage: fastx402 " + " ".join(argv)), argv


def test_an_unknown_command_or_option_is_a_usage_error() -> None:
    for argv in (["nope"], ["inspect"], ["verify", "x"], ["ledger"], ["ledger", "chart"]):
        fails_cleanly(run_cli(argv, clean_env()), "usage:", status=2)


# --- keygen ---------------------------------------------------------------------------------------


def test_keygen_writes_a_private_hex_file_and_prints_only_the_address(tmp_path: Path) -> None:
    out = tmp_path / "agent.key"
    result = run_cli(["keygen", "--out", str(out)], clean_env())
    assert result.returncode == 0, result.stderr
    key = wallet_from_file(out)
    assert key.address in result.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    secret = out.read_text().strip().removeprefix("0x")
    assert secret not in (result.stdout + result.stderr).lower()

    again = run_cli(["keygen", "--out", str(out), "--json"], clean_env())
    fails_cleanly(again, "exists: pass --force")
    assert wallet_from_file(out).address == key.address  # untouched

    forced = run_cli(["keygen", "--out", str(out), "--force", "--json"], clean_env())
    assert forced.returncode == 0, forced.stderr
    data = json.loads(forced.stdout)
    assert set(data) == {"address", "path", "format"} and data["format"] == "hex"
    assert wallet_from_file(out).address == data["address"] != key.address
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_keygen_prints_the_key_only_when_asked() -> None:
    result = run_cli(["keygen", "--print-key", "--json"], clean_env())
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert PrivateKey.from_hex(data["private_key"]).address == data["address"]


def test_keygen_keystore_decrypts_to_the_printed_address(tmp_path: Path) -> None:
    path = tmp_path / "agent.json"
    env = clean_env(KS_PASSWORD="correct horse")
    result = run_cli(["keygen", "--keystore", str(path), "--password-env", "KS_PASSWORD"], env)
    assert result.returncode == 0, result.stderr
    key = wallet_from_keystore(path, "correct horse")
    assert key.address in result.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["version"] == 3
    assert not HEX_KEY.search(result.stdout + result.stderr)  # no key-shaped value printed


@pytest.mark.parametrize(
    ("args", "needle", "status"),
    [
        ([], "--out FILE, --keystore FILE", 2),
        (["--out", "/nonexistent-dir/k"], "cannot write /nonexistent-dir/k", 1),
        (["--keystore", "KS"], "no terminal to ask the keystore password", 1),
        (["--keystore", "KS", "--password-env", "UNSET_PW"], "$UNSET_PW is not set", 1),
        (["--out", "K", "--keystore", "KS"], "not allowed with", 2),
        (["--out", "K", "--password-env", "PW"], "--password-env goes with --keystore", 2),
    ],
)
def test_keygen_bad_input(tmp_path: Path, args: list[str], needle: str, status: int) -> None:
    args = [str(tmp_path / a) if a in ("K", "KS") else a for a in args]
    fails_cleanly(run_cli(["keygen", *args], clean_env()), needle, status)
    assert not list(tmp_path.iterdir())  # nothing written


# --- inspect --------------------------------------------------------------------------------------


def test_inspect_decodes_each_header_kind(docs: dict[str, Any]) -> None:
    required = run_cli(["inspect", docs["required"]], clean_env())
    assert required.returncode == 0, required.stderr
    assert "PAYMENT-REQUIRED (x402 v2)" in required.stdout
    assert "0.01 USDC (10000 atomic)" in required.stdout and PAY_TO in required.stdout
    assert "network  eip155:8453 (base, chain 8453)" in required.stdout
    named = run_cli(["inspect", f"payment-required: {docs['required']}"], clean_env())
    assert named.returncode == 0 and named.stdout == required.stdout, named.stderr

    paid = run_cli(["inspect", docs["payment_file"]], clean_env())  # from a file
    assert paid.returncode == 0, paid.stderr
    assert f"verdict: VALID, signed by {docs['payer']}" in paid.stdout
    assert "valid_before" in paid.stdout and "(in " in paid.stdout  # expiry relative to now

    settled = subprocess.run(  # from stdin
        [sys.executable, "-m", "fastx402.cli", "inspect", "-"],
        input=docs["settled"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert settled.returncode == 0, settled.stderr
    assert "PAYMENT-RESPONSE SUCCESS" in settled.stdout and "0x" + "ab" * 32 in settled.stdout


def test_inspect_json_of_a_402_body_and_a_forged_payment(docs: dict[str, Any]) -> None:
    body = run_cli(["inspect", docs["body"], "--json"], clean_env())
    data = json.loads(body.stdout)
    assert data["kind"] == "payment-required"
    assert data["offers"][0]["_price"] == "0.01 USDC"

    forged = run_cli(["inspect", docs["forged"], "--json"], clean_env())
    assert forged.returncode == 0, forged.stderr
    verdict = json.loads(forged.stdout)["verdict"]
    assert verdict["checked"] and not verdict["valid"] and verdict["reason"], verdict
    assert verdict["payer"] != docs["payer"] or not verdict["authenticated"]


def test_inspect_and_verify_a_v1_payment(docs: dict[str, Any]) -> None:
    alone = run_cli(["inspect", docs["v1_payment"]], clean_env())
    assert alone.returncode == 0, alone.stderr
    assert "PAYMENT-SIGNATURE (x402 v1, exact on base)" in alone.stdout
    assert "verdict: not checked (a v1 payment names no terms: pass --requirements)" in alone.stdout
    argv = [docs["v1_payment"], "--requirements", docs["v1_required"]]
    checked = run_cli(["inspect", *argv], clean_env())
    assert f"verdict: VALID, signed by {docs['payer']}" in checked.stdout, checked.stdout
    assert "amount   0.01 USDC" in checked.stdout
    assert run_cli(["verify", *argv], clean_env()).returncode == 0


def test_inspect_against_other_requirements(docs: dict[str, Any]) -> None:
    result = run_cli(["inspect", docs["payment"], "--requirements", docs["other"]], clean_env())
    assert result.returncode == 0, result.stderr
    assert "verdict: INVALID invalid_payment_requirements" in result.stdout


@pytest.mark.parametrize(
    ("arg", "needle"),
    [
        ("!!!not-base64!!!", "ARG: cannot decode"),
        ("aGVsbG8=", "ARG: cannot decode"),  # base64 of "hello"
        ('{"hello": 1}', "not an x402 document"),
        ('{"x402Version": 2, "accepts": "nope"}', "invalid payment-required"),
        ("", "empty input"),
        ("http://127.0.0.1:9/nothing-listens", "cannot reach http://127.0.0.1:9"),
    ],
)
def test_inspect_bad_input(arg: str, needle: str) -> None:
    fails_cleanly(run_cli(["inspect", arg], clean_env()), needle, status=1)


def test_inspect_requirements_go_with_a_payment(docs: dict[str, Any]) -> None:
    for arg in (docs["required"], "http://127.0.0.1:9/x"):
        result = run_cli(["inspect", arg, "--requirements", docs["other"]], clean_env())
        fails_cleanly(result, "--requirements goes with a payment", status=2)
    result = run_cli(["inspect", docs["payment"], "--requirements", "???"], clean_env())
    fails_cleanly(result, "--requirements: cannot decode", status=1)


def test_inspect_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    fails_cleanly(run_cli(["inspect", str(empty)], clean_env()), "empty input")


def test_inspect_a_url_shows_its_402_and_the_rate_card(
    shop: tuple[Shop, str],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    s, url = shop
    status, out, _ = call(["inspect", f"{url}/weather/paris"], capsys)
    assert status == 0
    assert "HTTP 402" in out and "0.01 tUSDC (10000 atomic)" in out and s.seller in out
    assert "rate card" in out and "GET /premium  0.03 tUSDC" in out
    status, out, _ = call(["inspect", f"{url}/weather/paris", "--json"], capsys)
    data = json.loads(out)
    assert data["status"] == 402 and data["offers"][0]["payTo"] == s.seller
    assert {r["route"] for r in data["rate_card"]["routes"]} >= {"GET /weather/{city}"}
    status, out, _ = call(["inspect", f"{url}/free"], capsys)
    assert status == 0 and "HTTP 200, no payment asked" in out
    assert s.runs == {}


# --- verify ---------------------------------------------------------------------------------------


def test_verify_valid_and_invalid(docs: dict[str, Any]) -> None:
    valid = run_cli(["verify", docs["payment"], "--requirements", docs["required"]], clean_env())
    assert valid.returncode == 0, valid.stderr
    assert valid.stdout.strip() == f"valid: paid by {docs['payer']}"

    other = run_cli(
        ["verify", docs["payment_file"], "--requirements", docs["other"], "--json"], clean_env()
    )
    assert other.returncode == 1, other.stderr
    data = json.loads(other.stdout)
    assert data["valid"] is False and data["reason"] == "invalid_payment_requirements"

    forged = run_cli(["verify", docs["forged"], "--requirements", docs["body"]], clean_env())
    assert forged.returncode == 1 and forged.stdout.startswith("invalid: "), forged.stdout
    no_traceback(forged)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["junk!", "--requirements", "REQ"], "PAYMENT: cannot decode"),
        (["REQ", "--requirements", "REQ"], "PAYMENT: a payment header, not a payment-required"),
        (["PAY", "--requirements", "%%%"], "--requirements: cannot decode"),
        (["PAY", "--requirements", "SETTLED"], "a 402 or payment requirements"),
        (["PAY"], "the following arguments are required: --requirements"),
    ],
)
def test_verify_bad_input_exits_2(docs: dict[str, Any], args: list[str], needle: str) -> None:
    names = {"REQ": docs["required"], "PAY": docs["payment"], "SETTLED": docs["settled"]}
    result = run_cli(["verify", *[names.get(a, a) for a in args]], clean_env())
    fails_cleanly(result, needle, status=2)


def test_verify_with_a_facilitator(
    token: Token,  # noqa: F811
    facilitator: fastx402.Facilitator,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    from fastx402.facilitator import create_app

    payer = funded(token)
    required = PaymentRequired.from_dict(
        {
            "x402Version": 2,
            "resource": {"url": "http://127.0.0.1/x"},
            "accepts": [
                {
                    "scheme": "exact",
                    "network": NETWORK,
                    "asset": token.address,
                    "amount": str(PRICE),
                    "payTo": PAY_TO,
                    "maxTimeoutSeconds": 60,
                    "extra": token.extra,
                }
            ],
        }
    )
    payment = fastx402.create_payment(required, payer).to_header()
    poor = fastx402.create_payment(required, PrivateKey.generate()).to_header()  # no funds
    with running(create_app(facilitator, reconcile_interval=0)) as url:
        args = ["--requirements", required.to_header(), "--facilitator", url, "--json"]
        status, out, _ = call(["verify", payment, *args], capsys)
        assert status == 0 and json.loads(out)["facilitator"]["valid"] is True, out
        status, out, _ = call(["verify", poor, *args], capsys)
        data = json.loads(out)
        assert status == 1 and data["local"]["valid"] is True, out
        assert data["reason"] == "invalid_exact_evm_insufficient_balance", data
    status, _, err = call(["verify", payment, *args[:-1]], capsys)  # the facilitator is gone
    assert status == 3 and err.startswith("fastx402: --facilitator"), err
    assert token.balance_of(PAY_TO) == 0  # verify never settles


# --- quote ----------------------------------------------------------------------------------------


def test_quote_shows_each_offer_with_the_policys_verdict(
    shop: tuple[Shop, str],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    s, url = shop
    status, out, _ = call(["quote", f"{url}/weather/paris", "--allow-http", "--json"], capsys)
    assert status == 0
    (offer,) = json.loads(out)["offers"]
    assert (offer["price"], offer["symbol"], offer["pay_to"]) == ("0.01", "tUSDC", s.seller)
    assert offer["verdict"] == "payable (chosen)"

    status, out, _ = call(["quote", f"{url}/premium", "--allow-http", "--max", "$0.02"], capsys)
    assert status == 1 and "refused: over_cap" in out, out
    status, out, _ = call(["quote", f"{url}/weather/paris"], capsys)  # plain http: refused
    assert status == 1 and "refused: host_not_allowed" in out, out
    status, out, _ = call(["quote", f"{url}/free"], capsys)
    assert status == 0 and "no payment asked" in out
    assert s.runs == {}


@pytest.mark.parametrize(
    ("args", "policy", "needle"),
    [
        (["http://127.0.0.1:9/x"], None, "cannot reach http://127.0.0.1:9/x"),
        (["ftp://example.com/x"], None, "an http(s) URL"),
        (["http://127.0.0.1:9/x", "--max", "ten"], None, "--max: not an amount"),
        (["http://127.0.0.1:9/x", "--max", "-1"], None, "--max: not a non-negative amount"),
        (["http://127.0.0.1:9/x", "--policy", "P"], "{not json", "--policy: not JSON"),
        (["http://127.0.0.1:9/x", "--policy", "P"], '{"max_spend": 1}', "unknown policy fields"),
        (["http://127.0.0.1:9/x", "--policy", "P"], '{"max_per_call": 0.1}', "never a float"),
        (["http://127.0.0.1:9/x", "--policy", "P"], "[1]", "a JSON object of policy fields"),
        (["http://127.0.0.1:9/x", "--policy", "NOFILE"], None, "--policy: no file"),
    ],
)
def test_quote_bad_input(tmp_path: Path, args: list[str], policy: str | None, needle: str) -> None:
    path = tmp_path / "policy.json"
    if policy is not None:
        path.write_text(policy)
    args = [str(path) if a == "P" else str(tmp_path / "none") if a == "NOFILE" else a for a in args]
    fails_cleanly(run_cli(["quote", *args], clean_env()), needle)


# --- pay ------------------------------------------------------------------------------------------


@pytest.fixture
def payer_env(token: Token, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:  # noqa: F811
    """A funded payer's hex key in $FASTX402_KEY (for in-process runs)."""
    raw = "0x" + os.urandom(32).hex()
    token.mint(PrivateKey.from_hex(raw).address, 2 * PRICE)
    monkeypatch.setenv("FASTX402_KEY", raw)
    monkeypatch.delenv("FASTX402_KILL", raising=False)
    yield raw


def test_pay_pays_prints_the_body_and_the_receipt_and_records_it(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
    payer_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    s, url = shop
    payer = PrivateKey.from_hex(payer_env).address
    ledger = tmp_path / "ledger.db"
    args = ["--allow-http", "--max", "$0.05", "--ledger", str(ledger), "--tool", "weather"]
    status, out, err = call(["pay", f"{url}/weather/paris", *args], capsys)
    assert status == 0, err
    assert json.loads(out) == {"city": "paris", "payer": payer, "amount": PRICE}
    assert err.startswith(f"paid: 0.01 tUSDC {payer} -> {s.seller} on {NETWORK} tx 0x"), err
    assert token.balance_of(s.seller) == PRICE

    status, out, err = call(["pay", f"{url}/weather/rome", *args, "--json"], capsys)
    assert status == 0, err
    data = json.loads(out)
    assert data["status"] == 200 and json.loads(data["body"])["city"] == "rome"
    receipt = data["receipt"]
    assert receipt["outcome"] == "paid" and receipt["payer"] == payer
    assert len(receipt["transaction"]) == 66 and receipt["network"] == NETWORK
    # The seller's balance rose by the receipts' amounts, on chain.
    assert token.balance_of(s.seller) == PRICE + int(receipt["amount"]) == 2 * PRICE
    assert s.runs == {"weather": 2}

    with contextlib.closing(Ledger(f"sqlite:///{ledger}")) as book:
        rows = book.payments()
        assert [(r["phase"], r["tool"]) for r in rows] == [("settled", "weather")] * 2
        assert receipt["transaction"] in {r["transaction"] for r in rows}
        assert book.spent("all").total == Decimal("0.02")
    assert payer_env[2:] not in out + err


def test_pay_refused_by_policy_signs_nothing(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
    payer_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    s, url = shop
    ledger = tmp_path / "ledger.db"
    args = ["--allow-http", "--ledger", str(ledger)]
    status, out, err = call(["pay", f"{url}/premium", *args, "--max", "$0.02"], capsys)
    assert status == 1 and out == "", (out, err)
    assert err.startswith("fastx402: refused by policy: no payable offer") and "over_cap" in err
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"allow_http": True, "deny_pay_to": [s.seller]}))
    status, _, err = call(["pay", f"{url}/weather/x", "--policy", str(policy)], capsys)
    assert status == 1 and "pay_to_not_allowed" in err, err
    # --dry-run quotes without signing.
    status, _, err = call(["pay", f"{url}/weather/x", *args, "--dry-run"], capsys)
    assert status == 0 and f"would pay 0.01 tUSDC to {s.seller}" in err, err
    assert s.runs == {} and token.balance_of(s.seller) == 0
    assert payer_env[2:] not in out + err


def test_pay_keeps_a_daily_budget_across_runs(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
    payer_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Budget counters live with the ledger by default: a second run sees the first's spend."""
    s, url = shop
    policy = tmp_path / "policy.json"
    policy.write_text(
        json.dumps({"allow_http": True, "budgets": [{"window": "day", "limit": "$0.015"}]})
    )
    args = ["--policy", str(policy), "--ledger", f"sqlite:///{tmp_path / 'ledger.db'}"]
    status, _, err = call(["pay", f"{url}/weather/a", *args], capsys)
    assert status == 0, err
    status, out, err = call(["pay", f"{url}/weather/b", *args], capsys)
    assert status == 1 and out == "" and "budget_exhausted: day budget" in err, err
    assert token.balance_of(s.seller) == PRICE and s.runs == {"weather": 1}
    # ... and `ledger statement --ledger` (after the subcommand) shows the one payment.
    status, out, _ = call(["ledger", "statement", *args[2:], "--by", "host", "--json"], capsys)
    assert status == 0 and json.loads(out)["total"]["settled"] == "0.01", out


def test_pay_with_a_keystore(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from eth_keyfile.keyfile import create_keyfile_json

    s, url = shop
    raw = os.urandom(32)
    payer = PrivateKey(raw).address
    token.mint(payer, PRICE)
    store = tmp_path / "agent.json"  # pbkdf2 with few rounds: a fast test, the same format
    store.write_text(json.dumps(create_keyfile_json(raw, b"pw", kdf="pbkdf2", iterations=2)))
    monkeypatch.setenv("AGENT_PW", "pw")
    args = ["--allow-http", "--keystore", str(store), "--password-env", "AGENT_PW", "--json"]
    status, out, err = call(
        ["pay", f"{url}/weather/x", *args, "--ledger", str(tmp_path / "l")], capsys
    )
    assert status == 0, err
    assert json.loads(out)["receipt"]["payer"] == payer and token.balance_of(s.seller) == PRICE
    monkeypatch.setenv("AGENT_PW", "wrong")
    status, _, err = call(["pay", f"{url}/weather/y", *args], capsys)
    assert status == 1 and "wrong password or corrupt" in err, err
    assert raw.hex() not in out + err


def test_pay_a_free_url_pays_nothing_and_sends_the_data(
    shop: tuple[Shop, str],  # noqa: F811
    payer_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, url = shop
    ledger = tmp_path / "ledger.db"
    status, out, err = call(["pay", f"{url}/free", "--allow-http", "--ledger", str(ledger)], capsys)
    assert (status, out, err) == (0, '{"free":true}', "")
    with contextlib.closing(Ledger(f"sqlite:///{ledger}")) as book:
        assert book.records() == []


def test_pay_unknown_outcome_exits_4_and_is_recorded(
    token: Token,  # noqa: F811
    facilitator: fastx402.Facilitator,  # noqa: F811
    payer_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The seller's facilitator keeps failing: after the bounded resends of the same payment the
    outcome is unknown (exit 4), the ledger says so, and nothing was served."""
    front = FaultyFront(facilitator)
    front.mode = "500"
    with running(front.app) as facilitator_url:
        remote = fastx402.RemoteFacilitator(
            facilitator_url, timeout=1.0, settle_timeout=1.0, connect_timeout=0.5
        )
        s = Shop(token, remote, unknown_retry_after=1)
        ledger = tmp_path / "ledger.db"
        with running(s.app) as url:
            argv = ["pay", f"{url}/weather/x", "--allow-http", "--ledger", str(ledger)]
            status, out, err = call(argv, capsys)
    assert status == 4, (status, out, err)
    assert err.startswith("unknown: 0.01 (quoted) tUSDC"), err
    with contextlib.closing(Ledger(f"sqlite:///{ledger}")) as book:
        assert [r["phase"] for r in book.payments()] == ["unknown"]
        assert book.spent("all").unknown == Decimal("0.01")
    assert s.runs == {"weather": 1} and '"city"' not in out  # ran, but not served unpaid
    assert front.settles >= 1


def test_pay_not_charged_exits_3(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    s, url = shop
    key_file = tmp_path / "poor.key"  # a payer without funds: the seller's facilitator refuses
    key_file.write_text("0x" + os.urandom(32).hex())
    args = ["--allow-http", "--key-file", str(key_file), "--ledger", str(tmp_path / "l.db")]
    status, _, err = call(["pay", f"{url}/weather/x", *args], capsys)
    assert status == 3 and err.startswith("not_charged: 0.01 (quoted) tUSDC"), err
    assert s.runs == {} and token.balance_of(s.seller) == 0


@pytest.mark.parametrize(
    ("setup", "args", "needle", "status"),
    [
        ("none", [], "set $FASTX402_KEY to the payer's hex private key", 1),
        ("env-garbage", [], "invalid payer key", 1),
        ("file-garbage", ["--key-file", "F"], "invalid payer key", 1),
        ("file-json", ["--key-file", "F"], "the file is JSON; pass a keystore with --keystore", 1),
        ("none", ["--key-file", "MISSING"], "--key-file: cannot read the key file", 1),
        ("keystore-garbage", ["--keystore", "F", "--password-env", "PW"], "--keystore: ", 1),
        ("env", ["-H", "no colon"], "-H: 'Name: value'", 2),
        ("env", ["-d", "@MISSING"], "-d: cannot read", 2),
        ("env", ["--ledger", "ftp://x"], "--ledger/--budget-store: unknown store URL", 1),
        ("env", [], "cannot reach http://127.0.0.1:9/x", 1),
    ],
)
def test_pay_bad_input(
    tmp_path: Path, setup: str, args: list[str], needle: str, status: int
) -> None:
    secret = "0x" + os.urandom(32).hex()
    env = clean_env(PW="pw", FASTX402_LEDGER=str(tmp_path / "default.db"))
    key_file = tmp_path / "key"
    if setup == "env":
        env["FASTX402_KEY"] = secret
    elif setup == "env-garbage":
        env["FASTX402_KEY"] = "0x" + "zz" * 32
    elif setup == "file-garbage":
        key_file.write_text("not a key at all\n")
    elif setup in ("file-json", "keystore-garbage"):
        key_file.write_text('{"version": 3, "crypto": {}}')
    names = {"F": str(key_file), "MISSING": str(tmp_path / "missing")}
    argv = ["pay", "http://127.0.0.1:9/x", "--allow-http", *[names.get(a, a) for a in args]]
    result = run_cli(argv, env)
    fails_cleanly(result, needle, status)
    assert secret[2:] not in result.stdout + result.stderr


# --- ledger ---------------------------------------------------------------------------------------

DAY = 86_400
START = int(datetime(2026, 3, 1, 12, tzinfo=timezone.utc).timestamp())


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A SQLite ledger written through the Spending API over three days: payments settled,
    one not charged, one unknown (counted as spent, flagged)."""
    path = tmp_path_factory.mktemp("ledger") / "ledger.db"
    clock = [float(START)]
    ledger = Ledger(f"sqlite:///{path}", clock=lambda: clock[0])
    spending = Spending("memory://", ledger, clock=lambda: clock[0])
    policy = SpendPolicy()
    payer = PrivateKey.generate().address
    plan = [  # (day, amount, outcome, tool, user)
        (0, 10_000, "paid", "weather", "alice"),
        (0, 25_000, "paid", "search", "bob"),
        (1, 5_000, "not_charged", "weather", "alice"),
        (2, 40_000, "paid", "weather", "alice"),
        (2, 1_000, "unknown", "search", "alice"),
    ]
    for i, (day, amount, outcome, tool, user) in enumerate(plan):
        clock[0] = START + day * DAY + i * 60
        url = f"https://api{day}.example.com/{tool}"
        q = offers(httpx.Request("GET", url), payment_required(amount), policy).quotes[0]
        held = spending.reserve(q, policy, fastx402.client.Spender(tool=tool, user=user))
        tx = "0x" + f"{i + 1:02x}" * 32 if outcome == "paid" else None
        held.commit(Receipt(outcome, q, payer, transaction=tx, reason=None))  # type: ignore[arg-type]
    spent = ledger.spent("all")
    records = ledger.records()
    spending.close()
    ledger.close()
    assert spent.total == Decimal("0.076") and spent.flagged
    return {"path": path, "spent": spent, "records": records}


def test_ledger_statements(book: dict[str, Any]) -> None:
    ledger = str(book["path"])
    by_day = run_cli(
        ["ledger", "--ledger", ledger, "statement", "--by", "day", "--json"], clean_env()
    )
    assert by_day.returncode == 0, by_day.stderr
    data = json.loads(by_day.stdout)
    assert [line["key"] for line in data["lines"]] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert data["lines"][1] == {
        "key": "2026-03-02", "settled": "0", "unknown": "0", "payments": 0, "not_charged": 1
    }  # fmt: skip
    total = Decimal(data["total"]["settled"]) + Decimal(data["total"]["unknown"])
    assert total == book["spent"].total and Decimal(data["total"]["unknown"]) == Decimal("0.001")

    by_user = run_cli(["ledger", "--ledger", ledger, "statement", "--by", "user"], clean_env())
    assert by_user.returncode == 0, by_user.stderr
    lines = by_user.stdout.splitlines()
    assert lines[0].split()[:3] == ["user", "settled", "unknown"]
    assert lines[1].split()[:3] == ["alice", "0.05", "0.001"]
    assert lines[2].split()[:3] == ["bob", "0.025", "0"]
    assert "reconcile" in by_user.stdout  # the unknown payment is flagged
    for by in ("host", "tool"):
        result = run_cli(["ledger", "--ledger", ledger, "statement", "--by", by], clean_env())
        assert result.returncode == 0 and "total" in result.stdout, result.stderr


def test_ledger_exports(book: dict[str, Any], tmp_path: Path) -> None:
    ledger = str(book["path"])
    as_json = run_cli(["ledger", "--ledger", ledger, "export", "--format", "json"], clean_env())
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == book["records"]
    out = tmp_path / "ledger.csv"
    argv = ["ledger", "--ledger", ledger, "export", "--format", "csv", "-o", str(out)]
    assert run_cli(argv, clean_env()).returncode == 0
    rows = out.read_text().splitlines()
    assert rows[0].startswith("seq,id,phase,at") and len(rows) == 1 + len(book["records"])
    fails_cleanly(run_cli(argv, clean_env()), "exists: pass --force")
    assert run_cli([*argv, "--force"], clean_env()).returncode == 0


def png_chunks(data: bytes) -> dict[bytes, list[bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: dict[bytes, list[bytes]] = {}
    at = 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.setdefault(kind, []).append(body)
        at += 12 + length
    assert b"IEND" in chunks
    return chunks


def png_text(chunks: dict[bytes, list[bytes]]) -> dict[str, str]:
    text = {}
    for body in chunks.get(b"tEXt", []):
        key, _, value = body.partition(b"\0")
        text[key.decode("latin-1")] = value.decode("latin-1")
    for body in chunks.get(b"iTXt", []):  # keyword\0 flag method lang\0 translated\0 text
        key, _, rest = body.partition(b"\0")
        _, _, rest = rest[2:].partition(b"\0")
        _, _, value = rest.partition(b"\0")
        text[key.decode("latin-1")] = value.decode("utf-8")
    return text


def test_ledger_chart_is_a_png_whose_total_is_the_ledgers(
    book: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "spend.png"
    result = run_cli(
        ["ledger", "--ledger", str(book["path"]), "chart", "-o", str(out)], clean_env()
    )
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    assert 5_000 < len(data) < 500_000, len(data)
    chunks = png_chunks(data)
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][0][:10])
    assert (width, height, depth) == (800, 450, 8) and color in (2, 6)
    text = png_text(chunks)
    assert Decimal(text["Total"]) == book["spent"].total == Decimal("0.076")
    assert "over 2 day(s)" in text["Description"]  # the day with nothing charged is not plotted
    assert "total 0.076 USDC" in result.stderr
    again = run_cli(["ledger", "--ledger", str(book["path"]), "chart", "-o", str(out)], clean_env())
    fails_cleanly(again, "exists: pass --force")


def test_ledger_chart_of_real_paid_calls(
    shop: tuple[Shop, str],  # noqa: F811
    payer_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, url = shop
    ledger = tmp_path / "ledger.db"
    for city in ("oslo", "lima"):
        status, _, err = call(
            ["pay", f"{url}/weather/{city}", "--allow-http", "--ledger", str(ledger)], capsys
        )
        assert status == 0, err
    out = tmp_path / "spend.png"
    status, _, err = call(["ledger", "--ledger", str(ledger), "chart", "-o", str(out)], capsys)
    assert status == 0, err
    with contextlib.closing(Ledger(f"sqlite:///{ledger}")) as book:
        assert Decimal(png_text(png_chunks(out.read_bytes()))["Total"]) == book.spent("all").total
        assert book.spent("all").total == Decimal("0.02")


def test_ledger_bad_input(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.db")
    for sub in (["statement"], ["export"], ["chart", "-o", str(tmp_path / "x.png")]):
        fails_cleanly(run_cli(["ledger", "--ledger", missing, *sub], clean_env()), "no ledger at")
    empty = tmp_path / "empty.db"
    with contextlib.closing(Ledger(f"sqlite:///{empty}")):
        pass
    out = tmp_path / "x.png"
    result = run_cli(["ledger", "--ledger", str(empty), "chart", "-o", str(out)], clean_env())
    fails_cleanly(result, "the ledger holds no spending to chart")
    assert not out.exists()
    fails_cleanly(
        run_cli(["ledger", "--ledger", str(empty), "statement", "--by", "week"], clean_env()),
        "invalid choice: 'week'",
        status=2,
    )
    fails_cleanly(
        run_cli(["ledger", "--ledger", "ftp://nowhere", "statement"], clean_env()), "--ledger: "
    )


def test_ledger_chart_without_matplotlib_names_the_extra(
    book: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "x.png"
    argv = ["ledger", "--ledger", str(book["path"]), "chart", "-o", str(out)]
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"  # as if not installed
        f"from fastx402.cli import main; sys.exit(main({argv!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=clean_env(), capture_output=True, text=True, timeout=30
    )
    fails_cleanly(result, "pip install 'fastx402[chart]'")
    assert not out.exists()


# --- a seller that answers 402 with garbage -------------------------------------------------------


async def garbage_402(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/header``: a 402 whose PAYMENT-REQUIRED is not base64; ``/body``: a 402 with HTML."""
    assert scope["type"] == "http"
    headers = [(b"content-type", b"text/html")]
    if scope["path"] == "/header":
        headers.append((b"payment-required", b"%%%not-base64%%%"))
    await send({"type": "http.response.start", "status": 402, "headers": headers})
    await send({"type": "http.response.body", "body": b"<html>pay me</html>"})


@pytest.mark.parametrize("path", ["/header", "/body"])
def test_a_garbage_402_is_a_clear_error_for_every_command(
    path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FASTX402_KEY", "0x" + os.urandom(32).hex())
    with running(garbage_402, lifespan="off") as url:
        for argv in (
            ["inspect", url + path],
            ["quote", url + path, "--allow-http"],
            ["pay", url + path, "--allow-http", "--ledger", str(tmp_path / "l.db")],
        ):
            status, out, err = call(argv, capsys)
            assert status == 1 and out == "", (argv, out, err)
            assert err.startswith(f"fastx402: {url}{path} answered 402 without a valid x402"), err
