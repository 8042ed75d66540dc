"""The agent's paying clients against fastx402's seller under uvicorn, settling on anvil: payments
within the policy, refusals before anything is signed, quotes without paying, and a lost answer
resent with the identical signed payment (never re-signed)."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import httpx
import pytest

from chain import NETWORK, Token
from fastx402.client import (
    Budget,
    PaymentRefused,
    Quote,
    Spending,
    SpendPolicy,
    WouldPay,
    async_paying_client,
    host_allowed,
    paying_client,
    quote,
    receipt_of,
)
from test_server import PRICE, Shop, facilitator, funded, shop, token  # noqa: F401

POLICY = SpendPolicy(max_per_call=Decimal("0.05"), allow_http=True)


def test_pays_within_the_policy_and_returns_a_checked_receipt(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token)
    with paying_client(payer, POLICY) as client:
        r = client.get(f"{url}/weather/paris")
    assert r.status_code == 200 and r.json()["payer"] == payer.address
    receipt = receipt_of(r)
    assert receipt is not None and receipt.outcome == "paid"
    assert receipt.amount == PRICE and receipt.quote.price == Decimal("0.01")
    assert receipt.transaction is not None and len(receipt.transaction) == 66
    assert token.balance_of(s.seller) == PRICE and token.balance_of(payer.address) == 0
    assert s.runs == {"weather": 1}


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        (SpendPolicy(max_per_call=Decimal("0.001"), allow_http=True), "over_cap"),
        (
            SpendPolicy(allow_http=True, hosts=frozenset({"https://api.example.com"})),
            "host_not_allowed",
        ),
        (SpendPolicy(), "host_not_allowed"),  # plain http refused by default
        (SpendPolicy(allow_http=True, networks=frozenset({"eip155:8453"})), "network_not_allowed"),
        (
            SpendPolicy(allow_http=True, deny_pay_to=frozenset({"0x" + "11" * 20})).with_cap(
                Decimal("0.001")
            ),
            "over_cap",
        ),
    ],
)
def test_refused_by_policy_before_anything_is_signed(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
    policy: SpendPolicy,
    reason: str,
) -> None:
    s, url = shop
    payer = funded(token)
    with paying_client(payer, policy) as client, pytest.raises(PaymentRefused) as caught:
        client.get(f"{url}/weather/paris")
    assert caught.value.reasons and caught.value.reasons[0].startswith(reason), caught.value
    assert s.runs == {} and token.balance_of(payer.address) == PRICE


def test_the_cap_can_only_be_lowered() -> None:
    assert POLICY.with_cap(Decimal("100")).max_per_call == Decimal("0.05")
    assert POLICY.with_cap(Decimal("0.01")).max_per_call == Decimal("0.01")


def test_approver_sees_the_real_quote_and_can_deny(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token)
    seen: list[Quote] = []

    def deny(q: Quote) -> bool:
        seen.append(q)
        return False

    with paying_client(payer, POLICY, approve=deny) as client, pytest.raises(PaymentRefused):
        client.get(f"{url}/premium")
    (q,) = seen
    assert (q.amount, q.price, q.pay_to, q.network) == (
        3 * PRICE,
        Decimal("0.03"),
        s.seller,
        NETWORK,
    )
    assert q.url == f"{url}/premium"
    assert s.runs == {}


def test_dry_run_decides_everything_and_signs_nothing(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token)
    asked: list[Quote] = []

    def approve(q: Quote) -> bool:
        asked.append(q)
        return True

    budget = (Budget(window="day", limit=Decimal("0.02")),)
    policy = SpendPolicy(max_per_call=Decimal("0.05"), allow_http=True, budgets=budget)
    spending = Spending("memory://", "memory://")
    with paying_client(payer, policy, approve=approve, spending=spending, dry_run=True) as c:
        for _ in range(3):  # a dry run holds nothing: the budget (two calls' worth) stays whole
            with pytest.raises(WouldPay) as would:
                c.get(f"{url}/weather/paris")
            assert would.value.quote == asked[-1] and would.value.quote.amount == PRICE
        with pytest.raises(PaymentRefused) as refused:  # the verdict no: the budget's
            c.get(f"{url}/premium")
    assert refused.value.reasons[0].startswith("budget"), refused.value.reasons
    assert s.runs == {} and token.balance_of(payer.address) == PRICE  # nothing signed or paid
    phases = [r["phase"] for r in spending.ledger.records()]
    assert "signed" not in phases and "sent" not in phases
    assert phases.count("not_charged") == 4
    spending.close()


def test_quote_reads_the_offers_without_paying(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    found = quote(f"{url}/weather/paris", POLICY)
    assert found is not None
    (q,) = found.quotes
    assert (q.price, q.symbol, q.pay_to) == (Decimal("0.01"), "tUSDC", s.seller)
    assert quote(f"{url}/free", POLICY) is None
    assert s.runs == {}


def test_async_client_pays(shop: tuple[Shop, str], token: Token) -> None:  # noqa: F811
    s, url = shop
    payer = funded(token, 2 * PRICE)

    async def two() -> list[httpx.Response]:
        async with async_paying_client(payer, POLICY) as client:
            return await asyncio.gather(
                client.get(f"{url}/weather/a"), client.get(f"{url}/weather/b")
            )

    answers = asyncio.run(two())
    assert [r.status_code for r in answers] == [200, 200]
    assert all(receipt_of(r).outcome == "paid" for r in answers)  # type: ignore[union-attr]
    assert token.balance_of(s.seller) == 2 * PRICE


@pytest.mark.parametrize(
    ("url", "patterns", "allowed"),
    [
        ("https://api.example.com/x", ["*.example.com"], True),
        ("https://example.com/x", ["*.example.com"], False),
        ("https://api.example.com.evil.io/x", ["*.example.com"], False),
        ("https://api.example.com.evil.io/x", ["https://api.example.com"], False),
        ("https://evilexample.com/x", ["*.example.com"], False),
        ("https://API.Example.com:443/x", ["https://api.example.com"], True),
        ("http://api.example.com/x", ["*.example.com"], False),
        ("https://api.example.com:8443/x", ["https://api.example.com"], False),
    ],
)
def test_hosts_match_on_origin_or_label_boundary(
    url: str, patterns: list[str], allowed: bool
) -> None:
    assert host_allowed(url, patterns) is allowed


def test_policy_from_dict_refuses_floats_and_unknown_fields() -> None:
    p = SpendPolicy.from_dict({"max_per_call": "$0.02", "hosts": ["*.example.com"]})
    assert p.max_per_call == Decimal("0.02") and p.hosts == frozenset({"*.example.com"})
    with pytest.raises(ValueError, match="float"):
        SpendPolicy.from_dict({"max_per_call": 0.02})
    with pytest.raises(ValueError, match="unknown"):
        SpendPolicy.from_dict({"max_per_cal": "1"})


def test_the_callers_timeout_applies_to_the_paid_request(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    """A seller that never answers the paid request: the client's timeout bounds every send of
    the same signed payment, then the outcome is unknown (never a hang, never re-signed)."""
    from fastx402.client import PaymentUnconfirmed
    from test_langchain import faulty_seller

    _, url = shop
    payer = funded(token)
    with faulty_seller(url, 4.0, 504) as (faulty, faulty_url):
        started = time.monotonic()
        with (
            paying_client(payer, POLICY, timeout=0.3) as client,
            pytest.raises(PaymentUnconfirmed) as caught,
        ):
            client.get(f"{faulty_url}/weather/x")
        assert time.monotonic() - started < 10
    assert caught.value.receipt.outcome == "unknown"
    assert len(faulty.paid) == 4 and len(set(faulty.paid)) == 1
