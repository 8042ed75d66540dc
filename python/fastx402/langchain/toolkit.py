"""``X402Toolkit``: the x402 tools of one agent, sharing one key, policy, approver, kill switch
and :class:`~fastx402.langchain.purse.Purse` (budgets, breakers, ledger).

* ``X402Toolkit(key=..., policy=...).get_tools()``: ``x402_quote``, ``x402_paid_request`` (any
  URL the policy allows) and ``x402_budget``;
* ``X402Toolkit.from_endpoints([Endpoint(...), ...], key=..., policy=...)``: one typed tool per
  paid endpoint (its price in the description) and ``x402_budget``;
* ``X402Toolkit.from_rate_card("https://api.example.com/.well-known/x402", ...)``: the same from
  what a seller publishes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import ConfigDict, Field, InstanceOf

from fastx402._core import PrivateKey
from fastx402.client import Approver, SpendPolicy, origin_of
from fastx402.langchain.budget import X402BudgetTool
from fastx402.langchain.context import DEFAULT_USER_FIELD
from fastx402.langchain.endpoints import (
    Endpoint,
    endpoint_tool,
    endpoints_from_rate_card,
    read_rate_card,
)
from fastx402.langchain.purse import Purse
from fastx402.langchain.tools import DEFAULT_MAX_BODY_CHARS, X402QuoteTool, X402RequestTool


class X402Toolkit(BaseToolkit):
    """The x402 tools of one agent (see the module docs). ``endpoints`` empty: the generic
    ``x402_paid_request`` and ``x402_quote``; else one tool per endpoint."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    key: InstanceOf[PrivateKey] = Field(repr=False, exclude=True)
    policy: InstanceOf[SpendPolicy] = Field(default_factory=SpendPolicy)
    approve: Approver | None = Field(default=None, exclude=True)
    halt: InstanceOf[threading.Event] | None = Field(default=None, exclude=True)
    # Budgets, breakers, ledger: a new in-memory purse (with the per-user SQLite ledger) unless
    # one is given (e.g. over Redis, shared by several agent processes).
    purse: InstanceOf[Purse] = Field(default_factory=Purse, exclude=True)
    user_field: str = DEFAULT_USER_FIELD
    ask_above: Decimal | None = None
    timeout: float = 30.0
    headers: dict[str, str] = Field(default_factory=dict)
    max_body_chars: int = DEFAULT_MAX_BODY_CHARS
    endpoints: tuple[Endpoint, ...] = ()

    def kill(self) -> None:
        """The kill switch: every tool stops spending (the run ends at the next paid call), in
        this process and in every process sharing the purse's store."""
        if self.halt is not None:
            self.halt.set()
        self.purse.kill()

    def payer(self) -> X402RequestTool:
        """The paying tool every generated tool pays through."""
        return X402RequestTool(
            key=self.key,
            approve=self.approve,
            halt=self.halt,
            max_body_chars=self.max_body_chars,
            ask_above=self.ask_above,
            purse=self.purse,
            user_field=self.user_field,
            **self._common(),
        )

    def _common(self) -> dict[str, Any]:
        return {"policy": self.policy, "timeout": self.timeout, "headers": self.headers}

    def budget_tool(self) -> X402BudgetTool:
        return X402BudgetTool(
            policy=self.policy, purse=self.purse, user_field=self.user_field, halt=self.halt
        )

    def get_tools(self) -> list[BaseTool]:
        if self.endpoints:
            payer = self.payer()
            generated: list[BaseTool] = [endpoint_tool(e, payer) for e in self.endpoints]
            names = [t.name for t in generated]
            if len(set(names)) != len(names):
                raise ValueError(f"endpoint tools need distinct names: {names}")
            return [*generated, self.budget_tool()]
        return [X402QuoteTool(**self._common()), self.payer(), self.budget_tool()]

    @classmethod
    def from_endpoints(cls, endpoints: Iterable[Endpoint], **kwargs: Any) -> X402Toolkit:
        """One typed tool per endpoint, its price in the description (``kwargs``: the fields)."""
        found = tuple(endpoints)
        if not found:
            raise ValueError("from_endpoints: no endpoint given")
        return cls(endpoints=found, **kwargs)

    @classmethod
    def from_rate_card(
        cls, card: str | Mapping[str, Any], *, base_url: str | None = None, **kwargs: Any
    ) -> X402Toolkit:
        """One tool per route of a seller's rate card (``GET /.well-known/x402``) that the
        policy could pay: ``card`` is its URL, or the card already read (then ``base_url``
        names the seller). Routes nothing payable is offered for are left out."""
        if isinstance(card, str):
            base_url = base_url or card
            card = read_rate_card(card, timeout=float(kwargs.get("timeout", 10.0)))
        if base_url is None:
            raise ValueError("from_rate_card: base_url names the seller of a card given as a dict")
        policy = kwargs.get("policy") or SpendPolicy()
        found = endpoints_from_rate_card(card, origin_of(base_url), policy)
        if not found:
            raise ValueError(f"rate card of {origin_of(base_url)}: no route the policy can pay")
        return cls(endpoints=tuple(found), **{**kwargs, "policy": policy})


__all__ = ["X402Toolkit"]
