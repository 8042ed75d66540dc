"""LangChain 1.x tools that pay x402 APIs under a :class:`~fastx402.client.SpendPolicy`
(``pip install fastx402[langchain]``).

```python
from decimal import Decimal
from langchain.agents import create_agent
from fastx402 import PrivateKey
from fastx402.client import SpendPolicy
from fastx402.langchain import X402Toolkit

policy = SpendPolicy(max_per_call=Decimal("0.05"), hosts=frozenset({"*.example.com"}))
tools = X402Toolkit(key=PrivateKey.from_hex(KEY), policy=policy).get_tools()
agent = create_agent(model, tools)
result = agent.invoke({"messages": [("user", "What is the weather in Paris?")]})
# Each paid call: ToolMessage.artifact is its receipt (a JSON-able ReceiptRecord: outcome,
# transaction, quote), also dispatched as the custom callback event "x402_receipt".
# Over the cap: the model reads a refusal, nothing is paid.
```

The toolkit's tools share one :class:`Purse` (budgets, breakers, ledger, kill switch), on the sync
and the async path; ``x402_budget`` tells the model what is left. Beyond that:

```python
# One typed tool per paid endpoint, its price in the description (and the most it pays):
kit = X402Toolkit.from_endpoints([Endpoint("https://api.example.com/weather/{city}",
                                           price=Decimal("0.01"), symbol="USDC")], key=k)
kit = X402Toolkit.from_rate_card("https://api.example.com/.well-known/x402", key=k)
# Per-user budgets: Budget(per="user") charged to the user id in the runtime context.
agent = create_agent(model, kit.get_tools(), context_schema=Ctx,
                     middleware=[X402BudgetMiddleware.of(kit)],  # guards every tool
                     checkpointer=InMemorySaver())
agent.invoke(question, config, context=Ctx(user_id="alice"))
# ask_above=Decimal("0.05"): dearer quotes pause the run with interrupt({... the quote ...});
# agent.invoke(Command(resume=True), config) pays it, unless the price drifted (asked again).
kit.kill()  # the kill switch: no tool signs or sends anything any more
```

Soft refusals (``ToolException``, the model reads them) and hard stops (they end the run):
:mod:`fastx402.langchain.errors`.
"""

from __future__ import annotations

from fastx402.langchain.approval import ApprovalRequest
from fastx402.langchain.budget import BudgetLine, BudgetReport, X402BudgetTool
from fastx402.langchain.endpoints import Endpoint, RateCardError
from fastx402.langchain.errors import (
    ApprovalDenied,
    BudgetExhausted,
    HostNotAllowed,
    OfferNotAllowed,
    PaymentNotCharged,
    PriceAboveCap,
    RequestFailed,
    SpendingHalted,
    SpendUnconfirmed,
    X402HardStop,
    X402ToolError,
)
from fastx402.langchain.middleware import X402BudgetMiddleware
from fastx402.langchain.purse import Purse
from fastx402.langchain.records import OffersRecord, QuoteRecord, ReceiptRecord
from fastx402.langchain.toolkit import X402Toolkit
from fastx402.langchain.tools import (
    DEFAULT_MAX_BODY_CHARS,
    RECEIPT_EVENT,
    QuoteArgs,
    RequestArgs,
    X402QuoteTool,
    X402RequestTool,
)

__all__ = [
    "DEFAULT_MAX_BODY_CHARS",
    "RECEIPT_EVENT",
    "ApprovalDenied",
    "ApprovalRequest",
    "BudgetExhausted",
    "BudgetLine",
    "BudgetReport",
    "Endpoint",
    "HostNotAllowed",
    "OfferNotAllowed",
    "OffersRecord",
    "PaymentNotCharged",
    "PriceAboveCap",
    "Purse",
    "QuoteArgs",
    "QuoteRecord",
    "RateCardError",
    "ReceiptRecord",
    "RequestArgs",
    "RequestFailed",
    "SpendUnconfirmed",
    "SpendingHalted",
    "X402BudgetMiddleware",
    "X402BudgetTool",
    "X402HardStop",
    "X402QuoteTool",
    "X402RequestTool",
    "X402ToolError",
    "X402Toolkit",
]
