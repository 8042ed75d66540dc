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

Rolling budgets, breakers and the kill switch live on the policy; the ledger and the budget
counters on a :class:`Spending` (any :mod:`fastx402.store` URL)::

    policy = SpendPolicy(budgets=(Budget(window="day", limit=Decimal("1.00"), per="user"),))
    spending = Spending("redis://budgets:6379/0", "sqlite:////var/lib/agent/ledger.db")
    client = paying_client(wallet_from_env("AGENT_KEY"), policy, spending=spending,
                           spender=Spender(agent="scout"))
    client.get(url, extensions={SPENDER: Spender(tool="weather", user="alice")})
    spending.ledger.spent("day", by={"user": "alice"})   # Spent(settled=..., unknown=...)
    client.kill()                                         # SpendingHalted from now on

Also: ``fastx402.client.requests_adapter`` (``PaymentAdapter``, ``paying_session``: the same
flow for requests), ``SpendPolicy.from_file("policy.toml")`` / ``SpendPolicy.from_env()``,
``Approval(auto_below=..., deny_above=..., ask=...)`` as ``approve=``, and
``Spending.reconcile(receipt_of_answer(lost.receipt, answer), policy)`` for a payment whose
outcome was unknown.
"""

from __future__ import annotations

from typing import Any

import httpx

from fastx402._core import PrivateKey
from fastx402.client.approval import Approval
from fastx402.client.ledger import (
    DEFAULT_LEDGER_URL,
    AsyncLedger,
    Ledger,
    Phase,
    Spent,
    StatementLine,
)
from fastx402.client.policy import Budget, PolicyError, SpendPolicy, host_allowed, origin_of
from fastx402.client.quote import NotA402, Offers, Quote, offers, parse_402
from fastx402.client.receipt import Outcome, Receipt
from fastx402.client.reconcile import receipt_of_answer
from fastx402.client.spending import (
    SPENDER,
    AsyncReservation,
    AsyncSpending,
    ReconcileError,
    Reservation,
    Spender,
    Spending,
    SpendingHalted,
)
from fastx402.client.transport import (
    Approver,
    AsyncPaymentTransport,
    PaymentRefused,
    PaymentTransport,
    PaymentUnconfirmed,
    WouldPay,
    paid_request_of,
    receipt_of,
)
from fastx402.client.wallet import (
    WalletError,
    wallet_from_env,
    wallet_from_file,
    wallet_from_keystore,
)


class PayingClient(httpx.Client):
    """An ``httpx.Client`` over a :class:`PaymentTransport`, with its kill switch."""

    payments: PaymentTransport

    def kill(self) -> None:
        """Stop all spending at once: every later payment raises :class:`SpendingHalted`."""
        self.payments.kill()

    @property
    def ledger(self) -> Ledger:
        return self.payments.spending.ledger


class AsyncPayingClient(httpx.AsyncClient):
    """The asyncio twin of :class:`PayingClient`."""

    payments: AsyncPaymentTransport

    def kill(self) -> None:
        self.payments.kill()

    @property
    def ledger(self) -> AsyncLedger:
        return self.payments.spending.ledger


def paying_client(
    key: PrivateKey,
    policy: SpendPolicy | None = None,
    *,
    approve: Approver | None = None,
    spending: Spending | None = None,
    spender: Spender | None = None,
    dry_run: bool = False,
    **kwargs: Any,
) -> PayingClient:
    """An ``httpx.Client`` that pays 402 answers (redirects are not followed). ``dry_run``:
    decide (offer, policy, budgets, approval) and sign nothing: :class:`WouldPay` or
    :class:`PaymentRefused`."""
    transport = PaymentTransport(
        key,
        policy,
        approve=approve,
        inner=kwargs.pop("transport", None),
        spending=spending,
        spender=spender,
        dry_run=dry_run,
    )
    client = PayingClient(transport=transport, follow_redirects=False, **kwargs)
    client.payments = transport
    return client


def async_paying_client(
    key: PrivateKey,
    policy: SpendPolicy | None = None,
    *,
    approve: Approver | None = None,
    spending: AsyncSpending | None = None,
    spender: Spender | None = None,
    dry_run: bool = False,
    **kwargs: Any,
) -> AsyncPayingClient:
    """The asyncio twin of :func:`paying_client`."""
    transport = AsyncPaymentTransport(
        key,
        policy,
        approve=approve,
        inner=kwargs.pop("transport", None),
        spending=spending,
        spender=spender,
        dry_run=dry_run,
    )
    client = AsyncPayingClient(transport=transport, follow_redirects=False, **kwargs)
    client.payments = transport
    return client


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
    "DEFAULT_LEDGER_URL",
    "SPENDER",
    "Approval",
    "Approver",
    "AsyncLedger",
    "AsyncPayingClient",
    "AsyncPaymentTransport",
    "AsyncReservation",
    "AsyncSpending",
    "Budget",
    "Ledger",
    "NotA402",
    "Offers",
    "Outcome",
    "PayingClient",
    "PaymentRefused",
    "PaymentTransport",
    "PaymentUnconfirmed",
    "Phase",
    "PolicyError",
    "Quote",
    "Receipt",
    "ReconcileError",
    "Reservation",
    "SpendPolicy",
    "Spender",
    "Spending",
    "SpendingHalted",
    "Spent",
    "StatementLine",
    "WalletError",
    "WouldPay",
    "async_paying_client",
    "host_allowed",
    "origin_of",
    "paid_request_of",
    "paying_client",
    "quote",
    "receipt_of",
    "receipt_of_answer",
    "wallet_from_env",
    "wallet_from_file",
    "wallet_from_keystore",
]
