"""The demo's second agent: LangChain ``create_agent`` with fastx402's tools and a scripted model.

The model is scripted (no LLM, no network): it asks the price of ``/joke`` (``x402_quote``), buys
a joke and a weather report (``x402_paid_request``), asks for a second weather report and reads
the budget refusal as a tool message, then answers. The paying tool spends from one
:class:`~fastx402.langchain.purse.Purse` over the demo's :class:`~fastx402.client.Spending`
(session budget, temp ledger).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from langchain.agents import create_agent
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import ToolException
from pydantic import Field

from fastx402 import PrivateKey
from fastx402.client import Spending
from fastx402.demo.agents import LANGCHAIN_BUDGET, Events, Paid, Refused, policy_for, short
from fastx402.demo.errors import DemoError
from fastx402.langchain import Purse, X402QuoteTool, X402RequestTool

AGENT = "langchain"


class ScriptedModel(GenericFakeChatModel):
    """Answers each turn with the next scripted message; ``bind_tools`` as create_agent needs."""

    script: Iterator[AIMessage] = Field(default_factory=lambda: iter(()))
    messages: Iterator[AIMessage | str] = Field(default_factory=lambda: iter(()))

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedModel:
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        step = next(self.script, None)
        if step is None:  # the script's last message is the answer: no turn after it
            raise DemoError("the scripted model ran out of turns")
        if step.content == "" and not step.tool_calls:  # the final answer: what it read
            step = AIMessage(content=_answer(messages))
        self.messages = iter([step])
        return super()._generate(messages, *args, **kwargs)


def _answer(messages: list[BaseMessage]) -> str:
    """The scripted model's last turn, made from the tool messages it was shown."""
    results = [m for m in messages if isinstance(m, ToolMessage) and m.name == "x402_paid_request"]
    bought = sum(1 for m in results if m.status == "success")
    refused = [str(m.content) for m in results if m.status == "error"]
    why = f"; then my budget refused the next one: {short(refused[0], 90)}" if refused else ""
    return f"I bought {bought} answers within my policy{why}."


def _call(name: str, **args: Any) -> AIMessage:
    tool_call = {"name": name, "args": args, "id": uuid.uuid4().hex[:12], "type": "tool_call"}
    return AIMessage(content="", tool_calls=[tool_call])


class DemoRequestTool(X402RequestTool):
    """``x402_paid_request`` spending from the demo's own purse (session budget, the demo's
    ledger), each call reported to the demo's :class:`Events` with its latency."""

    events: Any = Field(exclude=True)  # an Events
    path_of: dict[str, str] = Field(default_factory=dict, exclude=True)

    def _run(self, url: str, method: str = "GET", *args: Any, **kwargs: Any) -> tuple[str, Any]:
        route = f"{method} {self.path_of.get(url, url)}"
        self.events.note(AGENT, f"model calls x402_paid_request({route})")
        t0 = time.perf_counter()
        try:
            content, record = super()._run(url, method, *args, **kwargs)
        except ToolException as e:
            records = self.purse.spending.ledger.records()
            phase = records[-1]["phase"] if records else None
            reasons = getattr(e, "reasons", ())
            reason = reasons[0] if reasons else str(e)
            self.events.refused(Refused(AGENT, route, reason, phase))
            raise
        latency = time.perf_counter() - t0
        if record is None or record["outcome"] != "paid" or not record["transaction"]:
            raise DemoError(f"{route}: the tool returned no paid receipt")
        q = record["quote"]
        body = content.split("\n", 1)[1] if "\n" in content else content
        self.events.paid(
            Paid(
                AGENT,
                route,
                int(q["amount"]),
                Decimal(q["price"]),
                record["payer"],
                q["pay_to"],
                record["transaction"],
                latency,
                short(body),
            )
        )
        return content, record


class _Narrator(BaseCallbackHandler):
    """Tells the demo's Events what each tool answered, as it answers."""

    def __init__(self, events: Events) -> None:
        self.events = events

    def on_tool_end(self, output: Any, **kwargs: Any) -> None:
        # Paid calls are shown with their receipts; here: the quote, and refusals as the
        # model reads them (a tool message, the run goes on).
        if not isinstance(output, ToolMessage) or (
            output.name == "x402_paid_request" and output.status == "success"
        ):
            return
        first = str(output.content).split("\n", 1)[0]
        self.events.note(AGENT, f"tool message ({output.name}): {short(first, 110)}")


def run_langchain_agent(key: PrivateKey, seller: str, spending: Spending, events: Events) -> None:
    """Runs the scripted agent against ``seller``, paying with ``key``."""
    policy = policy_for(seller, LANGCHAIN_BUDGET)
    joke, weather = f"{seller}/joke", f"{seller}/weather"
    paths = {joke: "/joke", weather: "/weather"}
    tools = [
        X402QuoteTool(policy=policy, timeout=30.0),
        DemoRequestTool(
            key=key, policy=policy, purse=Purse(spending), events=events, path_of=paths
        ),
    ]
    model = ScriptedModel(
        script=iter(
            [
                _call("x402_quote", url=joke),
                _call("x402_paid_request", url=joke),
                _call("x402_paid_request", url=weather),
                _call("x402_paid_request", url=weather),
                AIMessage(content=""),  # the answer, made from what the model read
            ]
        )
    )
    agent = create_agent(model, tools)
    config: RunnableConfig = {"callbacks": [_Narrator(events)]}
    result = agent.invoke(
        {"messages": [HumanMessage("Buy me a joke and the weather, twice.")]}, config
    )
    final = result["messages"][-1]
    if not isinstance(final, AIMessage) or final.tool_calls:
        raise DemoError("the LangChain agent did not finish with an answer")
    events.note(AGENT, f"model answers: {short(str(final.content), 110)}")
