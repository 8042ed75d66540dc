"""Approval thresholds: paid without asking below ``auto_below``, asked between, refused above
``deny_above`` (nothing signed or sent); the asker sees exactly the quote that is signed; sync
and async askers; every client takes an Approval as its ``approve=``."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest

from fastx402 import PaymentPayload, PrivateKey
from fastx402.client import (
    Approval,
    PaymentRefused,
    PolicyError,
    Quote,
    SpendPolicy,
    async_paying_client,
    paying_client,
    receipt_of,
)
from test_client_budgets import required, seller, settled  # noqa: F401
from test_server import Shop, facilitator, shop, token  # noqa: F401

POLICY = SpendPolicy(max_per_call=Decimal("0.05"), allow_http=True)
URL = "http://shop.test/weather/x"  # the quote is 0.01 tUSDC


class Asker:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.seen: list[Quote] = []

    def __call__(self, quote: Quote) -> bool:
        self.seen.append(quote)
        return self.answer


def call(approval: Approval, header: str) -> tuple[httpx.Response, httpx.MockTransport]:
    key = PrivateKey.generate()
    transport = seller(header, settled(key))
    with paying_client(key, POLICY, approve=approval, transport=transport) as client:
        return client.get(URL), transport


@pytest.mark.parametrize(
    ("auto_below", "deny_above", "answer", "asked", "paid"),
    [
        ("0.02", "1", False, False, True),  # below: paid without asking
        ("0.005", "1", True, True, True),  # between: asked, yes
        ("0.005", "1", False, True, False),  # between: asked, no
        ("0.01", "1", True, True, True),  # at auto_below: asked (strict)
        ("0", "0.01", True, True, True),  # at deny_above: asked (strict)
        ("0", "0.005", True, False, False),  # above: refused without asking
    ],
)
def test_thresholds(
    required: tuple[str, str],  # noqa: F811
    auto_below: str,
    deny_above: str,
    answer: bool,
    asked: bool,
    paid: bool,
) -> None:
    header, _ = required
    ask = Asker(answer)
    approval = Approval(Decimal(auto_below), Decimal(deny_above), ask)
    if paid:
        r, transport = call(approval, header)
        assert r.status_code == 200 and receipt_of(r).outcome == "paid"  # type: ignore[union-attr]
        assert len(transport.paid) == 1  # type: ignore[attr-defined]
    else:
        with pytest.raises(PaymentRefused) as caught:
            call(approval, header)
        assert caught.value.reasons == ("denied",)
    assert len(ask.seen) == int(asked)


def test_without_an_asker_the_middle_is_refused(required: tuple[str, str]) -> None:  # noqa: F811
    header, _ = required
    with pytest.raises(PaymentRefused):
        call(Approval(auto_below=Decimal("0.001")), header)
    r, _ = call(Approval(auto_below=Decimal("0.011")), header)
    assert r.status_code == 200


def test_the_asker_sees_exactly_what_is_signed(required: tuple[str, str]) -> None:  # noqa: F811
    header, seller_address = required
    ask = Asker(True)
    r, transport = call(Approval(deny_above=Decimal("1"), ask=ask), header)
    (quote,) = ask.seen
    (sent,) = transport.paid  # type: ignore[attr-defined]
    payment = PaymentPayload.from_header(sent.headers["payment-signature"])
    assert payment.accepted is not None
    assert payment.accepted.to_dict() == quote.requirements.to_dict()
    assert payment.amount_atomic == quote.amount and quote.pay_to == seller_address
    assert receipt_of(r).quote is quote  # type: ignore[union-attr]


def test_async_asker_on_the_async_client(required: tuple[str, str]) -> None:  # noqa: F811
    header, _ = required
    seen: list[Quote] = []

    async def ask(quote: Quote) -> bool:
        await asyncio.sleep(0)
        seen.append(quote)
        return True

    async def go() -> httpx.Response:
        key = PrivateKey.generate()
        approval = Approval(Decimal("0.001"), Decimal("1"), ask)
        transport = seller(header, settled(key))
        async with async_paying_client(key, POLICY, approve=approval, transport=transport) as c:
            return await c.get(URL)

    r = asyncio.run(go())
    assert r.status_code == 200 and len(seen) == 1
    with pytest.raises(TypeError, match="async approver"):
        call(Approval(Decimal("0.001"), Decimal("1"), ask), header)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"auto_below": 0.01},
        {"deny_above": Decimal("-1")},
        {"auto_below": Decimal("2"), "deny_above": Decimal("1")},
    ],
)
def test_bad_thresholds_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(PolicyError):
        Approval(**kwargs)  # type: ignore[arg-type]
