"""From a 402 answer to the one offer an agent will pay: the quote that is signed, exactly.

The offers are read from the ``PAYMENT-REQUIRED`` header (v2) or the JSON body (v1, or v2 servers
that put it there), parsed by the core. Each offer is checked against the policy; among the
allowed ones the preferred network wins, then the cheapest (in the asset's own units, compared as
token amounts). The :class:`Quote` is what the policy and an approver see, and what is signed:
the requirements object itself, never re-derived.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from fastx402._core import PaymentRequired, PaymentRequirements, atomic_to_price, find_asset
from fastx402.client.policy import SpendPolicy, origin_of


@dataclass(frozen=True)
class Quote:
    url: str
    origin: str
    method: str
    required: PaymentRequired
    requirements: PaymentRequirements
    network: str
    asset: str
    pay_to: str
    amount: int  # smallest units
    price: Decimal  # token units
    symbol: str

    def describe(self) -> str:
        return f"{self.price} {self.symbol} on {self.network} to {self.pay_to} for {self.url}"


@dataclass(frozen=True)
class Offers:
    """What a 402 offered, and why each refused offer was refused."""

    required: PaymentRequired
    quotes: tuple[Quote, ...]  # allowed, best first
    refused: tuple[tuple[PaymentRequirements, str], ...]


class NotA402(ValueError):
    """A 402 answer without an x402 payment request in its header or body."""


def parse_402(response: httpx.Response) -> PaymentRequired:
    header = response.headers.get("payment-required")
    if header:
        return PaymentRequired.from_header(header)
    try:
        body: Any = response.json()
    except ValueError as e:
        raise NotA402("402 without a PAYMENT-REQUIRED header or a JSON body") from e
    if not isinstance(body, dict) or "accepts" not in body:
        raise NotA402("402 body is not an x402 payment request")
    return PaymentRequired.from_dict(body)


def offers(request: httpx.Request, required: PaymentRequired, policy: SpendPolicy) -> Offers:
    url = str(request.url)
    good: list[Quote] = []
    bad: list[tuple[PaymentRequirements, str]] = []
    for r in required.accepts:
        if r.scheme != "exact":
            bad.append((r, f"unsupported_scheme: {r.scheme}"))
            continue
        amount = int(r.amount)
        reason = policy.refusal(url, r.network, r.asset, r.pay_to, amount)
        if reason is not None:
            bad.append((r, reason))
            continue
        info = find_asset(r.network, r.asset)
        good.append(
            Quote(
                url=url,
                origin=origin_of(url),
                method=request.method,
                required=required,
                requirements=r,
                network=r.network,
                asset=r.asset,
                pay_to=r.pay_to,
                amount=amount,
                price=Decimal(atomic_to_price(amount, info["decimals"])),
                symbol=str(info.get("symbol") or info["name"]),
            )
        )
    prefer = {n: i for i, n in enumerate(policy.prefer_networks)}
    good.sort(key=lambda q: (prefer.get(q.network, len(prefer)), q.price))
    return Offers(required, tuple(good), tuple(bad))
