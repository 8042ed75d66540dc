"""The agent's spending controls: rolling budgets reserved atomically before anything is signed
(parallel asyncio calls against the seller on anvil never exceed one), released when provably not
charged and kept when unknown; the ledger's phases, statements and exports; wallet loaders that
never leak the key; circuit breakers and the kill switch."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from chain import NETWORK, Token
from fastx402 import PaymentRequired, PrivateKey, SettleResponse
from fastx402.client import (
    SPENDER,
    AsyncLedger,
    AsyncSpending,
    Budget,
    Ledger,
    PaymentRefused,
    Spender,
    Spending,
    SpendingHalted,
    SpendPolicy,
    WalletError,
    async_paying_client,
    paying_client,
    receipt_of,
    wallet_from_env,
    wallet_from_file,
    wallet_from_keystore,
)
from fastx402.client.quote import Quote, offers
from fastx402.store import async_from_url
from test_server import PRICE, Shop, facilitator, funded, shop, token  # noqa: F401
from test_store import url_for  # noqa: F401

BASE = SpendPolicy(max_per_call=Decimal("0.05"), allow_http=True)
DAY = 86400
T0 = 1_800_000_000 - 1_800_000_000 % DAY + 3600  # 01:00 UTC on some day


def policy(**kw: Any) -> SpendPolicy:
    return SpendPolicy(**{**BASE.__dict__, **kw})


class Clock:
    def __init__(self, t: int = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return float(self.t)


def sync_spending(clock: Clock | None = None) -> Spending:
    return Spending("memory://", Ledger("memory://"), clock=clock or Clock())


# --- offline: a seller stand-in (httpx.MockTransport) answering with a real 402 ---------------


@pytest.fixture
def required(shop: tuple[Shop, str]) -> tuple[str, str]:  # noqa: F811
    """A real PAYMENT-REQUIRED header (0.01 tUSDC) and the shop's seller address."""
    s, url = shop
    r = httpx.get(f"{url}/weather/x")
    assert r.status_code == 402
    return r.headers["payment-required"], s.seller


def seller(header: str, paid: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    """402 with ``header`` until a payment comes, then ``paid(request)``."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if "payment-signature" in request.headers:
            seen.append(request)
            return paid(request)
        return httpx.Response(402, headers={"payment-required": header})

    transport = httpx.MockTransport(handle)
    transport.paid = seen  # type: ignore[attr-defined]
    return transport


def settled(payer: PrivateKey) -> Callable[[httpx.Request], httpx.Response]:
    def answer(_: httpx.Request) -> httpx.Response:
        receipt = SettleResponse.from_dict(
            {
                "success": True,
                "transaction": "0x" + "ab" * 32,
                "network": NETWORK,
                "payer": payer.address,
            }
        )
        return httpx.Response(
            200, json={"ok": True}, headers={"payment-response": receipt.to_header()}
        )

    return answer


def refused(_: httpx.Request) -> httpx.Response:
    return httpx.Response(402, json={"error": "insufficient_funds"})


def lost(_: httpx.Request) -> httpx.Response:
    return httpx.Response(500, json={"error": "boom"})


def quote_of(header: str, url: str = "http://shop.test/weather/x") -> Quote:
    required = PaymentRequired.from_header(header)
    return offers(httpx.Request("GET", url), required, BASE).quotes[0]


# --- budgets ---------------------------------------------------------------------------------


def test_ten_parallel_calls_with_a_budget_for_three_pay_exactly_three(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token, 10 * PRICE)
    budget = policy(budgets=(Budget(window="day", limit=Decimal("0.03")),))
    spending = AsyncSpending("memory://", "memory://")

    async def ten() -> list[Any]:
        async with async_paying_client(payer, budget, spending=spending) as client:
            return await asyncio.gather(
                *(client.get(f"{url}/weather/c{i}", timeout=30) for i in range(10)),
                return_exceptions=True,
            )

    answers = asyncio.run(ten())
    paid = [a for a in answers if isinstance(a, httpx.Response)]
    refusals = [a for a in answers if isinstance(a, PaymentRefused)]
    assert len(paid) == 3 and len(refusals) == 7, answers
    assert all(receipt_of(r).outcome == "paid" for r in paid)  # type: ignore[union-attr]
    assert all(e.reasons[0].startswith("budget_exhausted: day") for e in refusals)
    assert token.balance_of(s.seller) == 3 * PRICE
    assert token.balance_of(payer.address) == 7 * PRICE
    assert s.runs == {"weather": 3}

    records = asyncio.run(spending.ledger.records())
    finals = [r["phase"] for r in records if r["phase"] in ("settled", "not_charged", "unknown")]
    assert sorted(finals) == ["not_charged"] * 7 + ["settled"] * 3
    refused_ids = {r["id"] for r in records if r["phase"] == "not_charged"}
    assert not any(r["phase"] == "signed" and r["id"] in refused_ids for r in records)
    spent = asyncio.run(spending.ledger.spent("day"))
    assert spent.settled == Decimal("0.03") and not spent.flagged and spent.payments == 3


def test_threads_never_overspend_a_budget(required: tuple[str, str]) -> None:
    header, _ = required
    spending = sync_spending()
    p = policy(budgets=(Budget(window="hour", limit=Decimal("0.03")),))
    q = quote_of(header)
    won: list[int] = []
    lost_: list[str] = []
    barrier = threading.Barrier(16)

    def go(i: int) -> None:
        barrier.wait()
        try:
            spending.reserve(q, p)
            won.append(i)
        except PaymentRefused as e:
            lost_.append(e.reasons[0])

    threads = [threading.Thread(target=go, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 3 and len(lost_) == 13
    assert all(r.startswith("budget_exhausted") for r in lost_)


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
def test_parallel_reservations_on_every_backend(
    backend: str,
    url_for: Callable[[str], str],  # noqa: F811
    required: tuple[str, str],
) -> None:
    """Two spenders (two processes' worth of objects) share one store URL: 24 parallel
    reservations against a budget for 5 win exactly 5; the ledger on the same URL sees them."""
    header, _ = required
    url = url_for(backend)
    p = policy(
        budgets=(Budget(window="day", limit=Decimal("0.05"), per="user"),), breaker_failures=None
    )
    q = quote_of(header)

    async def run() -> tuple[int, int, list[str]]:
        if backend == "memory":  # one process: one store object shared by both
            store, ledger = async_from_url(url), AsyncLedger("memory://")
            a = AsyncSpending(store, ledger, session="s")
            b = AsyncSpending(store, ledger, session="s")
        else:
            a = AsyncSpending(url, url, session="s")
            b = AsyncSpending(url, url, session="s")
        try:

            async def one(i: int) -> bool:
                try:
                    held = await (a if i % 2 else b).reserve(q, p, Spender(user="u"))
                except PaymentRefused:
                    return False
                await held.keep("test")
                return True

            wins = await asyncio.gather(*(one(i) for i in range(24)))
            other = await a.reserve(q, p, Spender(user="v"))  # another user's budget
            await other.release("test")
            phases = [r["phase"] for r in await a.ledger.records()]
            return sum(wins), len(wins) - sum(wins), phases
        finally:
            await a.close()
            await b.close()

    won, refused_, phases = asyncio.run(run())
    assert (won, refused_) == (5, 19)
    assert phases.count("intent") == 25 and phases.count("unknown") == 5
    assert phases.count("not_charged") == 20


def test_budgets_roll_over_with_the_window_and_are_kept_per_user_and_host(
    required: tuple[str, str],
) -> None:
    header, _ = required
    clock = Clock()
    spending = sync_spending(clock)
    p = policy(
        budgets=(
            Budget(window="day", limit=Decimal("0.01"), per="user"),
            Budget(window="month", limit=Decimal("0.03"), per="host"),
        )
    )
    q = quote_of(header)
    alice, bob = Spender(user="alice"), Spender(user="bob")
    spending.reserve(q, p, alice)
    with pytest.raises(PaymentRefused, match="budget_exhausted: day") as caught:
        spending.reserve(q, p, alice)
    assert "alice" in caught.value.reasons[0]
    spending.reserve(q, p, bob)  # another user's day budget
    clock.t += DAY  # the next day: alice's day budget is back
    spending.reserve(q, p, alice)
    # ... but the host's month budget (3 x 0.01) is spent, for everyone
    with pytest.raises(PaymentRefused, match="budget_exhausted: month"):
        spending.reserve(q, p, Spender(user="carol"))
    # another host has its own month budget
    spending.reserve(quote_of(header, "http://other.test/w"), p, Spender(user="carol"))


def test_not_charged_releases_the_budget_and_unknown_keeps_it(required: tuple[str, str]) -> None:
    header, _ = required
    payer = PrivateKey.generate()
    p = policy(budgets=(Budget(window="session", limit=Decimal("0.01")),), breaker_failures=None)
    spending = sync_spending()
    with paying_client(payer, p, spending=spending, transport=seller(header, refused)) as c:
        r = c.get("http://shop.test/weather/a")
        assert r.status_code == 402 and receipt_of(r).outcome == "not_charged"  # type: ignore[union-attr]
        r = c.get("http://shop.test/weather/b")  # released: the budget is whole again
        assert receipt_of(r).outcome == "not_charged"  # type: ignore[union-attr]
    assert spending.ledger.spent("all").total == 0

    inner = seller(header, lost)
    with paying_client(payer, p, spending=spending, transport=inner) as c:
        c.payments.settings.resends = 0
        r = c.get("http://shop.test/weather/c")
        assert receipt_of(r).outcome == "unknown"  # type: ignore[union-attr]
        with pytest.raises(PaymentRefused, match="budget_exhausted"):
            c.get("http://shop.test/weather/d")  # kept at the quoted amount
    assert len(inner.paid) == 1  # type: ignore[attr-defined]
    s = spending.ledger.spent("all")
    assert s.unknown == Decimal("0.01") and s.flagged and s.settled == 0


def test_commit_keeps_what_the_receipt_settled(required: tuple[str, str]) -> None:
    """A scheme that may charge less (upto) commits the settled amount, the rest goes back."""
    import dataclasses

    from fastx402.client import Receipt

    header, _ = required
    spending = sync_spending()
    p = policy(budgets=(Budget(window="day", limit=Decimal("0.015")),))
    q = quote_of(header)
    held = spending.reserve(q, p)
    receipt = Receipt("paid", q, "0x" + "00" * 20, "0x" + "cd" * 32, settled_amount=PRICE // 2)
    held.commit(receipt)
    held.commit(dataclasses.replace(receipt, settled_amount=0))  # a second finish is ignored
    spending.reserve(q, p)  # 0.005 + 0.01 <= 0.015
    assert spending.ledger.spent("day").settled == Decimal("0.005")


# --- ledger ----------------------------------------------------------------------------------


def test_a_paid_call_writes_every_phase_in_order_without_secrets(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token)
    spending = sync_spending()
    with paying_client(
        payer, BASE, spending=spending, spender=Spender(agent="scout", user="alice")
    ) as client:
        r = client.get(f"{url}/weather/oslo", extensions={SPENDER: {"tool": "weather"}})
    assert r.status_code == 200
    receipt = receipt_of(r)
    assert receipt is not None and receipt.outcome == "paid"
    records = spending.ledger.records()
    assert [x["phase"] for x in records] == ["intent", "signed", "sent", "settled"]
    assert len({x["id"] for x in records}) == 1 and records[0]["id"] == receipt.payment_id
    assert all((x["agent"], x["tool"], x["user"]) == ("scout", "weather", "alice") for x in records)
    assert records[1]["nonce"].startswith("0x") and records[1]["payer"] == payer.address
    assert records[3]["transaction"] == receipt.transaction
    assert records[3]["amount"] == PRICE and records[3]["price"] == "0.01"
    dump = json.dumps(records)
    assert "signature" not in dump and r.request.headers.get("payment-signature") is None
    assert token.balance_of(s.seller) == PRICE


def test_statements_spent_by_and_exports(required: tuple[str, str]) -> None:
    header, _ = required
    payer = PrivateKey.generate()
    clock = Clock()
    spending = sync_spending(clock)
    calls = [
        ("weather", "alice", settled(payer)),
        ("weather", "bob", settled(payer)),
        ("search", "alice", settled(payer)),
        ("search", "alice", refused),
        ("maps", "bob", lost),
    ]
    for i, (tool, user, answer) in enumerate(calls):
        with paying_client(
            payer,
            policy(breaker_failures=None),
            spending=spending,
            spender=Spender(agent="a1"),
            transport=seller(header, answer),
        ) as c:
            c.payments.settings.resends = 0
            c.get(f"http://shop.test/x/{i}", extensions={SPENDER: Spender(tool=tool, user=user)})
        clock.t += DAY if i == 1 else 60
    ledger = spending.ledger
    by_tool = {line.key: line for line in ledger.statement("tool")}
    assert by_tool["weather"].settled == Decimal("0.02") and by_tool["weather"].payments == 2
    assert by_tool["search"].settled == Decimal("0.01") and by_tool["search"].not_charged == 1
    assert by_tool["maps"].unknown == Decimal("0.01") and by_tool["maps"].settled == 0
    days = ledger.statement("day")
    assert len(days) == 2 and days[0].settled == Decimal("0.02")
    assert [line.key for line in ledger.statement("host")] == ["http://shop.test"]
    alice = ledger.spent("all", by={"user": "alice"})
    assert (alice.settled, alice.unknown) == (Decimal("0.02"), 0)
    bob = ledger.spent("all", by=Spender(user="bob"))
    assert (bob.settled, bob.unknown, bob.flagged) == (Decimal("0.01"), Decimal("0.01"), True)
    today = ledger.spent("day", now=clock.t)
    assert today.settled == Decimal("0.01") and today.unknown == Decimal("0.01")

    rows = list(csv.DictReader(io.StringIO(ledger.export_csv())))
    assert len(rows) == len(ledger.records()) and rows[0]["phase"] == "intent"
    assert {r["phase"] for r in rows} == {
        "intent",
        "signed",
        "sent",
        "settled",
        "not_charged",
        "unknown",
    }
    exported = json.loads(ledger.export_json())
    assert exported == ledger.records()


def test_ledger_on_sqlite_survives_reopening(tmp_path: Path, required: tuple[str, str]) -> None:
    header, _ = required
    url = f"sqlite:///{tmp_path}/ledger.db"
    spending = Spending("memory://", url)
    spending.reserve(quote_of(header), BASE, Spender(user="u")).release("test")
    spending.close()
    again = Ledger(url)
    assert [r["phase"] for r in again.records()] == ["intent", "not_charged"]
    again.close()


# --- wallet ----------------------------------------------------------------------------------

KEY_HEX = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def test_wallet_from_env_and_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    expected = PrivateKey.from_hex(KEY_HEX).address
    monkeypatch.setenv("AGENT_KEY", "0x" + KEY_HEX)
    assert wallet_from_env("AGENT_KEY").address == expected
    f = tmp_path / "key.hex"
    f.write_text(KEY_HEX + "\n")
    assert wallet_from_file(f).address == expected
    assert KEY_HEX not in repr(wallet_from_file(f)) and KEY_HEX not in str(wallet_from_file(f))


@pytest.mark.parametrize(
    "bad",
    [
        KEY_HEX[:-2],  # too short
        KEY_HEX + "zz",
        KEY_HEX[:-1] + "g",
        "0" * 64,  # not a valid scalar
        "ff" * 32,
    ],
)
def test_wallet_errors_never_contain_the_key(
    bad: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AGENT_KEY", bad)
    f = tmp_path / "key.hex"
    f.write_text(bad)
    for load in (lambda: wallet_from_env("AGENT_KEY"), lambda: wallet_from_file(f)):
        with pytest.raises(WalletError) as caught:
            load()
        e = caught.value
        for text in (str(e), repr(e), str(e.__cause__), repr(e.__cause__)):
            assert bad not in text and bad[:40] not in text and KEY_HEX[:40] not in text
    with pytest.raises(WalletError, match="not set"):
        wallet_from_env("FASTX402_NO_SUCH_VARIABLE")


@pytest.mark.parametrize("kdf", ["scrypt", "pbkdf2"])
def test_wallet_from_a_real_v3_keystore(kdf: str, tmp_path: Path) -> None:
    keystore = Account.encrypt(
        "0x" + KEY_HEX, "hunter2", kdf=kdf, iterations=2 if kdf == "scrypt" else 1000
    )
    path = tmp_path / "keystore.json"
    path.write_text(json.dumps(keystore))
    key = wallet_from_keystore(path, "hunter2")
    assert key.address == PrivateKey.from_hex(KEY_HEX).address
    with pytest.raises(WalletError, match="wrong password") as caught:
        wallet_from_keystore(path, "wrong")
    assert KEY_HEX not in str(caught.value) and KEY_HEX not in repr(caught.value)
    with pytest.raises(WalletError, match="wallet_from_keystore"):
        wallet_from_file(path)


def test_wallet_from_keystore_without_eth_keyfile_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "eth_keyfile.keyfile", None)
    with pytest.raises(WalletError, match=r"fastx402\[keystore\]"):
        wallet_from_keystore(tmp_path / "k.json", "x")


# --- breakers and the kill switch ------------------------------------------------------------


def test_payments_per_minute_cap(required: tuple[str, str]) -> None:
    header, _ = required
    clock = Clock()
    spending = sync_spending(clock)
    p = policy(max_payments_per_minute=2)
    q = quote_of(header)
    spending.reserve(q, p)
    spending.reserve(quote_of(header, "http://shop.test/b"), p)
    with pytest.raises(PaymentRefused, match="rate_limited"):
        spending.reserve(quote_of(header, "http://shop.test/c"), p)
    clock.t += 60
    spending.reserve(q, p)


def test_consecutive_failures_open_the_breaker_for_a_cool_down(required: tuple[str, str]) -> None:
    header, seller_address = required
    clock = Clock()
    spending = sync_spending(clock)
    payer = PrivateKey.generate()
    p = policy(breaker_failures=2, breaker_cooldown=120)
    inner = seller(header, refused)
    with paying_client(payer, p, spending=spending, transport=inner) as c:
        c.get("http://shop.test/a")
        c.get("http://shop.test/b")
        with pytest.raises(PaymentRefused, match="breaker_open") as caught:
            c.get("http://shop.test/c")
        assert seller_address in caught.value.reasons[0]
        assert len(inner.paid) == 2  # type: ignore[attr-defined]
        clock.t += 121
        c.get("http://shop.test/d")  # half-open again
        assert len(inner.paid) == 3  # type: ignore[attr-defined]


def test_a_success_resets_the_failure_count(required: tuple[str, str]) -> None:
    header, _ = required
    spending = sync_spending()
    payer = PrivateKey.generate()
    p = policy(breaker_failures=2)
    answers = iter([refused, settled(payer), refused, settled(payer)])
    inner = seller(header, lambda r: next(answers)(r))
    with paying_client(payer, p, spending=spending, transport=inner) as c:
        for i in range(4):
            c.get(f"http://shop.test/{i}")
    assert len(inner.paid) == 4  # type: ignore[attr-defined]


def test_the_same_paid_call_repeated_is_refused(required: tuple[str, str]) -> None:
    header, _ = required
    payer = PrivateKey.generate()
    p = policy(max_repeats=3, repeat_window=60)
    inner = seller(header, settled(payer))
    with paying_client(payer, p, spending=sync_spending(), transport=inner) as c:
        for _ in range(3):
            c.get("http://shop.test/loop")
        with pytest.raises(PaymentRefused, match="repeated_call"):
            c.get("http://shop.test/loop")
        c.post("http://shop.test/loop")  # another method is another call
    assert len(inner.paid) == 4  # type: ignore[attr-defined]


def test_kill_switch_stops_all_spending(
    required: tuple[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    header, _ = required
    payer = PrivateKey.generate()
    flag = tmp_path / "STOP"
    p = policy(kill_file=str(flag), kill_env="AGENT_KILL")
    inner = seller(header, settled(payer))
    with paying_client(payer, p, spending=sync_spending(), transport=inner) as c:
        c.get("http://shop.test/1")
        flag.touch()
        with pytest.raises(SpendingHalted, match="STOP"):
            c.get("http://shop.test/2")
        flag.unlink()
        monkeypatch.setenv("AGENT_KILL", "1")
        with pytest.raises(SpendingHalted, match="AGENT_KILL"):
            c.get("http://shop.test/3")
        monkeypatch.delenv("AGENT_KILL")
        c.get("http://shop.test/4")
        c.kill()
        with pytest.raises(SpendingHalted) as caught:
            c.get("http://shop.test/5")
        assert not isinstance(caught.value, PaymentRefused)
    assert len(inner.paid) == 2  # type: ignore[attr-defined]


def test_kill_between_signing_and_sending_releases(required: tuple[str, str]) -> None:
    """The switch is checked again right before the payment goes out."""
    header, _ = required
    payer = PrivateKey.generate()
    spending = sync_spending()
    p = policy(budgets=(Budget(window="day", limit=Decimal("0.01")),))

    def approve(_: Quote) -> bool:
        spending.kill()  # flips while this call is in flight
        return True

    inner = seller(header, settled(payer))
    with (
        paying_client(payer, p, spending=spending, approve=approve, transport=inner) as c,
        pytest.raises(SpendingHalted),
    ):
        c.get("http://shop.test/x")
    assert inner.paid == []  # type: ignore[attr-defined]
    phases = [r["phase"] for r in spending.ledger.records()]
    assert phases == ["intent", "signed", "not_charged"]
    spending.resume()
    spending.reserve(quote_of(header), p)  # released: the day budget is whole


def test_async_kill_switch(required: tuple[str, str]) -> None:
    header, _ = required
    payer = PrivateKey.generate()
    inner = seller(header, settled(payer))

    async def run() -> None:
        spending = AsyncSpending("memory://", "memory://")
        async with async_paying_client(payer, BASE, spending=spending, transport=inner) as c:
            await c.get("http://shop.test/1")
            c.kill()
            with pytest.raises(SpendingHalted):
                await c.get("http://shop.test/2")

    asyncio.run(run())
    assert len(inner.paid) == 1  # type: ignore[attr-defined]


def test_policy_from_dict_reads_budgets() -> None:
    p = SpendPolicy.from_dict(
        {
            "budgets": [{"window": "day", "limit": "$1.00", "per": "user"}],
            "max_payments_per_minute": 5,
            "kill_file": "/tmp/stop",
        }
    )
    assert p.budgets == (Budget(window="day", limit=Decimal("1.00"), per="user"),)
    assert p.max_payments_per_minute == 5 and p.kill_file == "/tmp/stop"
    with pytest.raises(ValueError, match="float"):
        SpendPolicy.from_dict({"budgets": [{"window": "day", "limit": 1.0}]})
    with pytest.raises(ValueError, match="window"):
        Budget(window="week", limit=Decimal(1))  # type: ignore[arg-type]
