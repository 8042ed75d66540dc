"""``x402_budget``: what is left of each budget, for the model to plan with (nothing is paid).

The counters read are the ones the paying tools reserve on (the :class:`Purse`'s store), so
what the model is told includes payments in flight. One line per budget and asset (a budget
without ``asset`` counts each asset separately: the assets of the policy's allow-list and those
the toolkit was quoted in), per host, tool or user as the budget says; a ``per="user"`` budget
is reported for the user of this run (``ToolRuntime.context``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, cast

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, ConfigDict, Field, InstanceOf

from fastx402._core import atomic_to_price, find_asset
from fastx402.client import Budget, Quote, Spender, SpendPolicy
from fastx402.client.spending import _Core
from fastx402.langchain.context import DEFAULT_USER_FIELD, Runtime, user_of
from fastx402.langchain.purse import Purse


class BudgetLine(TypedDict):
    window: str
    per: str
    who: str | None  # the host, tool, user or agent counted (None: everyone)
    network: str | None  # None: no payment in any asset yet
    asset: str | None
    symbol: str
    limit: str  # token units
    used: str  # settled, in flight, or of unknown outcome
    left: str
    resets_at: int | None  # Unix seconds (None: the session's, never)


class BudgetReport(TypedDict):
    halted: bool
    max_per_call: str
    budgets: list[BudgetLine]


class BudgetArgs(BaseModel):
    """``x402_budget`` takes no argument from the model."""

    runtime: Runtime = None


@dataclass(frozen=True)
class _Probe:
    """The parts of a quote a budget's counter key is made of."""

    network: str
    asset: str
    origin: str


def _spenders(budget: Budget, purse: Purse, user: str | None) -> list[tuple[Spender, str]]:
    """Whom to report a budget for: (spender, origin) pairs."""
    if budget.per == "all":
        return [(Spender(), "")]
    if budget.per == "host":
        return [(Spender(), h) for h in purse.hosts()]
    if budget.per == "user":
        # No user in the context: the reservation charges the anonymous ("-") counter too.
        return [(Spender(user=user), "")]
    names = {getattr(s, budget.per) for s in purse.spenders()} - {None}
    if budget.per == "tool":
        return [(Spender(tool=n), "") for n in sorted(names)]
    return [(Spender(agent=n), "") for n in sorted(names)]


def _who(budget: Budget, spender: Spender, origin: str) -> str | None:
    if budget.per == "all":
        return None
    if budget.per == "host":
        return origin
    return cast(str | None, getattr(spender, budget.per))


def budget_report(
    policy: SpendPolicy,
    purse: Purse,
    user: str | None = None,
    halt: threading.Event | None = None,
) -> BudgetReport:
    """What is left of each of ``policy``'s budgets in ``purse`` (see the module docs)."""
    spending = purse.spending
    core: _Core = spending.core
    now = core.now()
    lines: list[BudgetLine] = []
    known = purse.assets()
    listed = {a: str(find_asset(*a).get("symbol") or "") for a in policy.assets}
    for budget in policy.budgets:
        if budget.asset is not None:
            assets = {budget.asset: str(find_asset(*budget.asset).get("symbol") or "")}
        else:
            assets = {**listed, **known}
        spenders = _spenders(budget, purse, user)
        if not assets or not spenders:
            lines.append(_untouched(budget, user))
            continue
        for (network, asset), symbol in sorted(assets.items()):
            for spender, origin in spenders:
                probe = cast(Quote, _Probe(network, asset, origin))
                # The very key the reservation uses (one definition, in the client).
                key, limit, end, _ = core._budget_key(budget, probe, spender, now)
                if key is None:
                    continue
                used = spending.store.add(key, 0, expires_at=end, now=now)
                decimals = int(find_asset(network, asset)["decimals"])
                lines.append(
                    {
                        "window": budget.window,
                        "per": budget.per,
                        "who": _who(budget, spender, origin),
                        "network": network,
                        "asset": asset,
                        "symbol": symbol,
                        "limit": str(budget.limit),
                        "used": atomic_to_price(used, decimals),
                        "left": atomic_to_price(max(limit - used, 0), decimals),
                        "resets_at": end,
                    }
                )
    return {
        "halted": (halt is not None and halt.is_set()) or purse.halted(policy) is not None,
        "max_per_call": str(policy.max_per_call),
        "budgets": lines,
    }


def _untouched(budget: Budget, user: str | None) -> BudgetLine:
    return {
        "window": budget.window,
        "per": budget.per,
        "who": user if budget.per == "user" else None,
        "network": None,
        "asset": None,
        "symbol": "",
        "limit": str(budget.limit),
        "used": "0",
        "left": str(budget.limit),
        "resets_at": None,
    }


def describe_report(report: BudgetReport) -> str:
    """The budget tool's text: one line per budget, what is left first."""
    head = (
        "Spending is HALTED by the operator: no paid call will be made."
        if report["halted"]
        else f"At most {report['max_per_call']} token units per paid call."
    )
    if not report["budgets"]:
        return f"{head}\nNo rolling budget is set."
    lines = [head, "Budgets left:"]
    for b in report["budgets"]:
        scope = f" for {b['per']} {b['who']}" if b["who"] else ""
        if b["per"] != "all" and not b["who"]:
            scope = f" per {b['per']}"
        asset = f"{b['symbol'] or b['asset']} on {b['network']}" if b["asset"] else "any asset"
        lines.append(
            f"- {b['window']} budget{scope}: {b['left']} of {b['limit']} left ({asset}; "
            f"used {b['used']})"
        )
    return "\n".join(lines)


class X402BudgetTool(BaseTool):
    """What is left of each budget, the per-call cap, and whether spending is halted."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str = "x402_budget"
    description: str = (
        "FREE: how much money the agent may still spend on paid (x402) API calls: what is left "
        "of each budget (per window and token), the per-call cap, and whether spending is "
        "halted. Nothing is paid. Use it before planning several paid calls."
    )
    args_schema: type[BaseModel] = BudgetArgs
    policy: InstanceOf[SpendPolicy] = Field(default_factory=SpendPolicy)
    purse: InstanceOf[Purse] = Field(default_factory=Purse, exclude=True)
    user_field: str = DEFAULT_USER_FIELD
    # Another kill switch to report (the toolkit's own Event, if any).
    halt: InstanceOf[threading.Event] | None = Field(default=None, exclude=True)
    handle_tool_error: bool | str | Callable[[ToolException], Any] | None = True
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"

    def _run(
        self, runtime: Any = None, run_manager: CallbackManagerForToolRun | None = None
    ) -> tuple[str, BudgetReport]:
        user = user_of(runtime, self.user_field)
        report = budget_report(self.policy, self.purse, user, self.halt)
        return describe_report(report), report

    async def _arun(
        self, runtime: Any = None, run_manager: AsyncCallbackManagerForToolRun | None = None
    ) -> tuple[str, BudgetReport]:
        user = user_of(runtime, self.user_field)
        report = await asyncio.to_thread(budget_report, self.policy, self.purse, user, self.halt)
        return describe_report(report), report


__all__ = [
    "BudgetArgs",
    "BudgetLine",
    "BudgetReport",
    "X402BudgetTool",
    "budget_report",
    "describe_report",
]
