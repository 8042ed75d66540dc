"""fastx402 for agents: HTTP clients that pay x402 402 answers under a spend policy.

```python
from decimal import Decimal
from fastx402 import PrivateKey
from fastx402.client import SpendPolicy, paying_client, receipt_of

policy = SpendPolicy(max_per_call=Decimal("0.01"), hosts=frozenset({"*.example.com"}))
with paying_client(PrivateKey.from_hex(KEY), policy) as client:
    response = client.get("https://api.example.com/weather/paris")
    print(receipt_of(response))   # Receipt(outcome="paid", transaction=..., ...)
```
"""

from __future__ import annotations

from typing import Any

import httpx

from fastx402._core import PrivateKey
from fastx402.client.policy import PolicyError, SpendPolicy, host_allowed, origin_of
from fastx402.client.quote import NotA402, Offers, Quote, offers, parse_402
from fastx402.client.receipt import Outcome, Receipt
from fastx402.client.transport import (
    Approver,
    AsyncPaymentTransport,
    PaymentRefused,
    PaymentTransport,
    PaymentUnconfirmed,
    receipt_of,
)


def paying_client(
    key: PrivateKey,
    policy: SpendPolicy | None = None,
    *,
    approve: Approver | None = None,
    **kwargs: Any,
) -> httpx.Client:
    """An ``httpx.Client`` that pays 402 answers (redirects are not followed)."""
    transport = PaymentTransport(key, policy, approve=approve, inner=kwargs.pop("transport", None))
    return httpx.Client(transport=transport, follow_redirects=False, **kwargs)


def async_paying_client(
    key: PrivateKey,
    policy: SpendPolicy | None = None,
    *,
    approve: Approver | None = None,
    **kwargs: Any,
) -> httpx.AsyncClient:
    """The asyncio twin of :func:`paying_client`."""
    transport = AsyncPaymentTransport(
        key, policy, approve=approve, inner=kwargs.pop("transport", None)
    )
    return httpx.AsyncClient(transport=transport, follow_redirects=False, **kwargs)


def quote(
    url: str, policy: SpendPolicy | None = None, *, method: str = "GET", **kwargs: Any
) -> Offers | None:
    """What ``url`` asks to be paid, checked against ``policy``, without paying (None: free)."""
    with httpx.Client(follow_redirects=False, **kwargs) as client:
        request = client.build_request(method, url)
        response = client.send(request)
        if response.status_code != 402:
            return None
        return offers(request, parse_402(response), policy or SpendPolicy())


__all__ = [
    "Approver",
    "AsyncPaymentTransport",
    "NotA402",
    "Offers",
    "Outcome",
    "PaymentRefused",
    "PaymentTransport",
    "PaymentUnconfirmed",
    "PolicyError",
    "Quote",
    "Receipt",
    "SpendPolicy",
    "async_paying_client",
    "host_allowed",
    "origin_of",
    "paying_client",
    "quote",
    "receipt_of",
]
