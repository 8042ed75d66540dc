"""Price thresholds for approving payments: automatic below one amount, a question between,
refused above another. An :class:`Approval` is an approver, usable wherever ``approve=`` is::

    approve = Approval(auto_below=Decimal("0.01"), deny_above=Decimal("1"), ask=confirm)
    client = paying_client(key, policy, approve=approve)

Amounts are token units of the quoted asset (``Quote.price``). The thresholds are strict:
a price equal to ``auto_below`` or to ``deny_above`` is asked. ``ask`` gets the quote that will
be signed, exactly (the flow signs ``quote.requirements`` after the answer); it may be sync or,
on async clients, async. Without ``ask`` what falls between the thresholds is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from decimal import Decimal

from fastx402.client.flow import Approver
from fastx402.client.policy import PolicyError
from fastx402.client.quote import Quote


@dataclass(frozen=True)
class Approval:
    auto_below: Decimal = Decimal(0)
    deny_above: Decimal | None = None
    ask: Approver | None = None

    def __post_init__(self) -> None:
        for name in ("auto_below", "deny_above"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, Decimal) or value < 0):
                raise PolicyError(f"{name}: a non-negative Decimal of token units")
        if self.deny_above is not None and self.auto_below > self.deny_above:
            raise PolicyError("auto_below is above deny_above")

    def __call__(self, quote: Quote) -> bool | Awaitable[bool]:
        if self.deny_above is not None and quote.price > self.deny_above:
            return False
        if quote.price < self.auto_below:
            return True
        if self.ask is None:
            return False
        return self.ask(quote)
