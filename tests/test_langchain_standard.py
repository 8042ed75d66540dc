"""LangChain's own standard tool tests (``langchain-tests``) for ``x402_paid_request``,
``x402_quote`` and ``x402_budget``: the unit suite on the bare tools, the integration suite
against fastx402's seller under uvicorn settling on the session anvil (each paid invocation is
a real payment: its receipt is the artifact the suite requires)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from chain import Token
from fastx402 import PrivateKey
from fastx402.client import Budget, SpendPolicy
from fastx402.langchain import Purse, X402BudgetTool, X402QuoteTool, X402RequestTool
from test_server import PRICE, Shop, facilitator, funded, shop, token  # noqa: F401

# The suite's async tests are plain ``async def``: run them on pytest-asyncio (a module mark,
# as the standard tests may not be overridden; its note on the sync ones is expected).
pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.filterwarnings("ignore:The test <Function .* is marked with '@pytest.mark"),
]

POLICY = SpendPolicy(
    max_per_call=Decimal("0.02"),
    allow_http=True,
    budgets=(Budget(window="day", limit=Decimal("1")),),
)


class Seller:
    """Points the suite at a live seller: ``url`` and a funded ``payer`` per test."""

    url = "https://api.example.com"
    payer: PrivateKey = PrivateKey.generate()

    @pytest.fixture(autouse=True)
    def _seller(self, shop: tuple[Shop, str], token: Token) -> None:  # noqa: F811
        self.url = shop[1]
        self.payer = funded(token, PRICE)


class TestRequestToolUnit(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return X402RequestTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"key": PrivateKey.generate(), "policy": POLICY}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"url": "https://api.example.com/weather/oslo", "max_price": "0.01"}


class TestRequestToolIntegration(Seller, ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return X402RequestTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"key": self.payer, "policy": POLICY, "purse": Purse(ledger="memory://")}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"url": f"{self.url}/weather/standard", "max_price": "0.01"}


class TestQuoteToolUnit(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return X402QuoteTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"policy": POLICY}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"url": "https://api.example.com/weather/oslo"}


class TestQuoteToolIntegration(Seller, ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return X402QuoteTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"policy": POLICY}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"url": f"{self.url}/premium"}


class TestBudgetToolUnit(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return X402BudgetTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"policy": POLICY, "purse": Purse(ledger="memory://")}


class TestBudgetToolIntegration(ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return X402BudgetTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"policy": POLICY, "purse": Purse(ledger="memory://")}
