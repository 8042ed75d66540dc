"""A budget guard for ``create_agent`` covering every tool of the agent.

``create_agent(model, tools, middleware=[X402BudgetMiddleware.of(toolkit)])``:

* kill switch set (the toolkit's, the policy's file or environment variable, or the shared
  store's): no tool runs any more (each call gets a refusal ``ToolMessage``), and the run ends
  before the model is called again (``jump_to: end`` with a final message saying why);
* a budget that applies to the call (everyone's, this run's user's, this tool's) has nothing
  left: a paid tool's call is refused without running (the model reads why); the reservation
  in the paying tool stays the atomic check, this only spares the seller a useless 402 round;
* every receipt a tool returns as its artifact is written to the graph's custom stream
  (``agent.stream(..., stream_mode="custom")`` yields ``{"x402_receipt": {...}}``); the paying
  tools also dispatch it as the ``x402_receipt`` callback event themselves.

Paid tools are the toolkit's paying tools (metadata ``{"x402": "paid"}``) and any tool named in
``paid_tools``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from langchain.agents.middleware import AgentMiddleware, hook_config
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command

from fastx402.client import SpendPolicy
from fastx402.langchain.budget import BudgetLine, budget_report
from fastx402.langchain.context import DEFAULT_USER_FIELD, user_of
from fastx402.langchain.purse import Purse
from fastx402.langchain.toolkit import X402Toolkit
from fastx402.langchain.tools import RECEIPT_EVENT

PAID = "paid"
Result = ToolMessage | Command[Any]


def is_receipt(artifact: Any) -> bool:
    return isinstance(artifact, Mapping) and "outcome" in artifact and "quote" in artifact


class X402BudgetMiddleware(AgentMiddleware):
    """Stops the run on the kill switch and refuses paid calls with no budget left (see the
    module docs)."""

    def __init__(
        self,
        purse: Purse,
        policy: SpendPolicy,
        *,
        paid_tools: Iterable[str] = (),
        user_field: str = DEFAULT_USER_FIELD,
        halt: threading.Event | None = None,
    ) -> None:
        super().__init__()
        self.purse = purse
        self.policy = policy
        self.paid_tools = frozenset(paid_tools)
        self.user_field = user_field
        self.halt = halt  # another kill switch to obey (the toolkit's own Event, if any)

    @classmethod
    def of(cls, toolkit: X402Toolkit, *, paid_tools: Iterable[str] = ()) -> X402BudgetMiddleware:
        """The guard for an :class:`~fastx402.langchain.X402Toolkit`'s purse and policy."""
        return cls(
            toolkit.purse,
            toolkit.policy,
            paid_tools=paid_tools,
            user_field=toolkit.user_field,
            halt=toolkit.halt,
        )

    # -- decisions ---------------------------------------------------------------------------

    def _paid(self, request: ToolCallRequest) -> bool:
        tool = request.tool
        if tool is not None and (tool.metadata or {}).get("x402") == PAID:
            return True
        return request.tool_call["name"] in self.paid_tools

    def _exhausted(self, request: ToolCallRequest) -> BudgetLine | None:
        """A budget applying to this call with nothing left in any asset it was counted in."""
        user = user_of(request.runtime, self.user_field)
        tool = request.tool_call["name"]
        groups: dict[tuple[str, str, str | None], list[BudgetLine]] = {}
        for line in budget_report(self.policy, self.purse, user)["budgets"]:
            if line["per"] == "host" or (line["per"] == "tool" and line["who"] != tool):
                continue  # the host is only known from the quote; other tools' budgets
            if line["network"] is not None:
                groups.setdefault((line["window"], line["per"], line["who"]), []).append(line)
        for lines in groups.values():
            if all(Decimal(line["left"]) <= 0 for line in lines):
                return lines[0]
        return None

    def _halted(self) -> str | None:
        if self.halt is not None and self.halt.is_set():
            return "x402 spending is halted by the operator's kill switch"
        return self.purse.halted(self.policy)

    def _refusal(self, request: ToolCallRequest) -> ToolMessage | None:
        call = request.tool_call
        why = self._halted()
        if why is not None:
            text = f"Not run: {why}. No tool may run; stop and tell the user."
        elif self._paid(request) and (line := self._exhausted(request)) is not None:
            who = f" for {line['per']} {line['who']}" if line["who"] else ""
            text = (
                f"Payment refused, nothing was paid (budget_exhausted: the {line['window']} "
                f"budget{who} of {line['limit']} {line['symbol']} has nothing left). "
                "The spending budget is exhausted; do not retry paid calls."
            )
        else:
            return None
        return ToolMessage(text, tool_call_id=call["id"], name=call["name"], status="error")

    def _emit(self, request: ToolCallRequest, result: Result) -> bool:
        """Writes a receipt to the custom stream; True when there was one."""
        if not isinstance(result, ToolMessage) or not is_receipt(result.artifact):
            return False
        writer = getattr(request.runtime, "stream_writer", None)
        if writer is not None:
            writer({RECEIPT_EVENT: result.artifact})
        return True

    # -- hooks ---------------------------------------------------------------------------------

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Result]
    ) -> Result:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        result = handler(request)
        self._emit(request, result)
        return result

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[Result]],
    ) -> Result:
        refusal = await asyncio.to_thread(self._refusal, request)
        if refusal is not None:
            return refusal
        result = await handler(request)
        self._emit(request, result)
        return result

    def _stop(self) -> dict[str, Any] | None:
        why = self._halted()
        if why is None:
            return None
        return {"jump_to": "end", "messages": [AIMessage(f"Stopped: {why}.")]}

    @hook_config(can_jump_to=["end"])
    def before_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        return self._stop()

    @hook_config(can_jump_to=["end"])
    async def abefore_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._stop)  # the store may be remote


__all__ = ["X402BudgetMiddleware", "is_receipt"]
