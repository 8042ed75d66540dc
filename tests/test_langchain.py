"""The LangChain tools inside a real ``langchain.agents.create_agent`` run, driven by a scripted
chat model, paying fastx402's seller under uvicorn that settles on the session anvil: the paid
call's receipt is the ToolMessage artifact and a custom event, a refusal comes back to the model
as text (the run goes on, nothing is signed), parallel calls of one turn, the async path, and
hard stops that end the run."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from langchain.agents import create_agent
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import ToolException
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import Field

from asgi_server import running
from chain import NETWORK, Token
from fastx402.client import PaymentRefused, PaymentUnconfirmed, Quote, SpendPolicy
from fastx402.langchain import (
    RECEIPT_EVENT,
    ApprovalDenied,
    BudgetExhausted,
    HostNotAllowed,
    OfferNotAllowed,
    PriceAboveCap,
    ReceiptRecord,
    SpendingHalted,
    SpendUnconfirmed,
    X402HardStop,
    X402QuoteTool,
    X402RequestTool,
    X402ToolError,
    X402Toolkit,
)
from fastx402.langchain.errors import soft_refusal
from test_server import PRICE, Shop, facilitator, funded, shop, token  # noqa: F401

POLICY = SpendPolicy(max_per_call=Decimal("0.02"), allow_http=True)
Step = AIMessage | Callable[[list[BaseMessage]], AIMessage]


class ScriptedModel(GenericFakeChatModel):
    """Answers with the next scripted step (a message, or a function of what the model was
    shown); accepts ``bind_tools`` as create_agent needs; records every prompt."""

    steps: Iterator[Step] = Field(default_factory=lambda: iter(()))
    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    messages: Iterator[AIMessage | str] = Field(default_factory=lambda: iter(()))

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedModel:  # type: ignore[override]
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.prompts.append(list(messages))
        step = next(self.steps)
        self.messages = iter([step(messages) if callable(step) else step])
        return super()._generate(messages, *args, **kwargs)


def script(*steps: Step) -> ScriptedModel:
    return ScriptedModel(steps=iter(steps))


def call(name: str, id_: str | None = None, **args: Any) -> dict[str, Any]:
    return {"name": name, "args": args, "id": id_ or uuid.uuid4().hex, "type": "tool_call"}


def calls(*tool_calls: dict[str, Any]) -> AIMessage:
    return AIMessage(content="", tool_calls=list(tool_calls))


def echo_tools(messages: list[BaseMessage]) -> AIMessage:
    """The model's final answer: what it read in the tool messages of the last turn."""
    tail = [m for m in messages if isinstance(m, ToolMessage)]
    return AIMessage(content="I read: " + " || ".join(str(m.content) for m in tail))


def tool_messages(result: dict[str, Any]) -> list[ToolMessage]:
    return [m for m in result["messages"] if isinstance(m, ToolMessage)]


class Events(BaseCallbackHandler):
    def __init__(self) -> None:
        self.receipts: list[ReceiptRecord] = []

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        if name == RECEIPT_EVENT:
            self.receipts.append(data)


class AsyncEvents(AsyncCallbackHandler):
    def __init__(self) -> None:
        self.receipts: list[ReceiptRecord] = []

    async def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        if name == RECEIPT_EVENT:
            self.receipts.append(data)


def test_agent_pays_and_the_tool_message_artifact_is_the_receipt(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token)
    tools = X402Toolkit(key=payer, policy=POLICY).get_tools()
    model = script(calls(call("x402_paid_request", url=f"{url}/weather/paris")), echo_tools)
    events = Events()
    # With a checkpointer, as agents with memory run: the artifact must survive serialization.
    agent = create_agent(model, tools, checkpointer=InMemorySaver())
    config: RunnableConfig = {"callbacks": [events], "configurable": {"thread_id": "t1"}}
    result = agent.invoke({"messages": [("user", "Weather in Paris?")]}, config)
    (message,) = tool_messages(result)
    receipt = message.artifact
    assert receipt["outcome"] == "paid" and receipt["payer"] == payer.address
    assert receipt["transaction"] is not None and len(receipt["transaction"]) == 66
    assert receipt["quote"] == {
        "url": f"{url}/weather/paris",
        "method": "GET",
        "network": NETWORK,
        "asset": token.address,
        "pay_to": s.seller,
        "amount": str(PRICE),
        "price": "0.01",
        "symbol": "tUSDC",
    }
    assert message.status == "success" and '"city":"paris"' in str(message.content)
    final = result["messages"][-1]
    assert isinstance(final, AIMessage) and '"city":"paris"' in str(final.content)
    assert f"Paid 0.01 tUSDC on {NETWORK}" in str(final.content)
    assert receipt["transaction"] in str(final.content)
    assert events.receipts == [receipt]
    (saved,) = tool_messages(agent.get_state(config).values)
    assert saved.artifact == receipt
    # The money moved once, on chain.
    assert token.balance_of(s.seller) == PRICE and token.balance_of(payer.address) == 0
    assert s.runs == {"weather": 1}


def test_over_the_cap_is_a_refusal_the_model_reads_and_nothing_is_signed(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    """Both calls of one turn are refused: the model's max_price lowers the cap below the price,
    and a max_price above the operator's cap does not raise it (premium costs 0.03 > 0.02)."""
    s, url = shop
    payer = funded(token, 10 * PRICE)
    model = script(
        calls(
            call("x402_paid_request", "low", url=f"{url}/weather/oslo", max_price="0.001"),
            call("x402_paid_request", "high", url=f"{url}/premium", max_price=100),
        ),
        echo_tools,
    )
    result = create_agent(model, X402Toolkit(key=payer, policy=POLICY).get_tools()).invoke(
        {"messages": [("user", "Oslo weather, and the premium report")]}
    )
    by_id = {m.tool_call_id: m for m in tool_messages(result)}
    for id_, price in (("low", "0.01 tUSDC > 0.001"), ("high", "0.03 tUSDC > 0.02")):
        m = by_id[id_]
        assert m.status == "error" and m.artifact is None
        assert str(m.content).startswith("Payment refused, nothing was paid (over_cap: ")
        assert price in str(m.content)
    # The run went on: the model was shown both refusals and answered.
    assert "over_cap" in str(result["messages"][-1].content)
    assert len(model.prompts) == 2
    assert s.runs == {} and s.events == [] and token.balance_of(payer.address) == 10 * PRICE


def test_two_paid_calls_in_one_turn_are_both_paid(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token, 2 * PRICE)
    model = script(
        calls(
            call("x402_paid_request", "a", url=f"{url}/weather/rome"),
            call("x402_paid_request", "b", url=f"{url}/weather/lima"),
        ),
        echo_tools,
    )
    events = Events()
    result = create_agent(model, X402Toolkit(key=payer, policy=POLICY).get_tools()).invoke(
        {"messages": [("user", "Rome and Lima")]}, {"callbacks": [events]}
    )
    by_id = {m.tool_call_id: m for m in tool_messages(result)}
    assert '"city":"rome"' in str(by_id["a"].content)
    assert '"city":"lima"' in str(by_id["b"].content)
    receipts = [by_id[i].artifact for i in "ab"]
    assert [r["outcome"] for r in receipts] == ["paid", "paid"]
    assert len({r["transaction"] for r in receipts}) == 2
    assert sorted(events.receipts, key=str) == sorted(receipts, key=str)
    assert token.balance_of(s.seller) == 2 * PRICE and token.balance_of(payer.address) == 0
    assert s.runs == {"weather": 2}


def test_async_agent_quotes_and_pays_in_one_turn(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token)
    model = script(
        calls(
            call("x402_quote", "q", url=f"{url}/premium"),
            call("x402_paid_request", "p", url=f"{url}/weather/kyoto", max_price="0.01"),
        ),
        echo_tools,
    )
    events = AsyncEvents()
    agent = create_agent(model, X402Toolkit(key=payer, policy=POLICY).get_tools())
    result = asyncio.run(
        agent.ainvoke({"messages": [("user", "Kyoto; premium price?")]}, {"callbacks": [events]})
    )
    by_id = {m.tool_call_id: m for m in tool_messages(result)}
    quoted = by_id["q"]
    assert quoted.artifact["verdict"] == "would_not_pay" and not quoted.artifact["quotes"]
    assert quoted.artifact["refused"][0]["amount"] == str(3 * PRICE)
    assert str(quoted.content).startswith("Would NOT pay")
    assert "over_cap: 0.03 tUSDC > 0.02" in str(quoted.content)
    paid = by_id["p"]
    assert paid.artifact["outcome"] == "paid"
    assert '"city":"kyoto"' in str(result["messages"][-1].content)
    assert events.receipts == [paid.artifact]
    assert token.balance_of(s.seller) == PRICE and s.runs == {"weather": 1}


def test_tools_alone_sync_and_async(shop: tuple[Shop, str], token: Token) -> None:  # noqa: F811
    s, url = shop
    payer = funded(token)
    quote_tool = X402QuoteTool(policy=POLICY)
    within = quote_tool.invoke({"url": f"{url}/weather/x"})
    assert within.startswith("Would pay: 0.01 tUSDC")
    assert asyncio.run(quote_tool.ainvoke({"url": f"{url}/free"})).startswith("Free: HTTP 200")
    tool = X402RequestTool(key=payer, policy=POLICY, max_body_chars=10)
    free = asyncio.run(tool.ainvoke({"url": f"{url}/free"}))
    assert free == 'HTTP 200 (nothing paid).\n{"free":tr\n[... truncated: 3 more characters]'
    # Outside a ToolNode a soft refusal raised to the caller is still a ToolException.
    with pytest.raises(ToolException, match="over_cap"):
        tool._run(url=f"{url}/premium")
    assert s.runs == {} and token.balance_of(payer.address) == PRICE


def test_names_and_descriptions_say_what_costs_money() -> None:
    quote_tool, pay_tool, budget_tool = X402Toolkit(key=funded_key(), policy=POLICY).get_tools()
    assert [t.name for t in (quote_tool, pay_tool, budget_tool)] == [
        "x402_quote",
        "x402_paid_request",
        "x402_budget",
    ]
    assert budget_tool.description.startswith("FREE")
    # What the model sees: no injected runtime, never the key.
    assert "runtime" not in pay_tool.tool_call_schema.model_json_schema()["properties"]
    assert quote_tool.description.startswith("FREE")
    assert "CHARGE MONEY" in pay_tool.description and "0.02" in pay_tool.description
    assert "max_price" in pay_tool.args and pay_tool.handle_tool_error is True
    assert pay_tool.response_format == "content_and_artifact"
    assert "key" not in repr(pay_tool).lower().replace("x402_", "")


def funded_key() -> Any:
    from fastx402 import PrivateKey

    return PrivateKey.generate()


class Faulty:
    """A seller that quotes like the real one (its PAYMENT-REQUIRED header), then answers a paid
    request with ``status`` after ``delay`` seconds (never in time, 504, or a 402 refusal)."""

    def __init__(self, payment_required: str, delay: float, status: int) -> None:
        self.paid: list[str] = []
        app = FastAPI()

        @app.get("/{path:path}")
        async def anything(request: Request) -> Response:
            signature = request.headers.get("payment-signature")
            if signature is None:
                return Response(status_code=402, headers={"PAYMENT-REQUIRED": payment_required})
            self.paid.append(signature)
            await asyncio.sleep(delay)
            return Response(status_code=status, headers={"PAYMENT-REQUIRED": payment_required})

        self.app = app


@contextlib.contextmanager
def faulty_seller(url: str, delay: float, status: int) -> Iterator[tuple[Faulty, str]]:
    faulty = Faulty(httpx.get(f"{url}/weather/x").headers["payment-required"], delay, status)
    with running(faulty.app) as faulty_url:
        yield faulty, faulty_url


@pytest.mark.parametrize("run_async", [False, True], ids=["invoke", "ainvoke"])
@pytest.mark.parametrize(
    ("delay", "status", "stop"),
    [(4.0, 504, PaymentUnconfirmed), (0.0, 504, SpendUnconfirmed)],
    ids=["never-answers", "answers-504"],
)
def test_a_payment_of_unknown_outcome_ends_the_run(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
    delay: float,
    status: int,
    stop: type[Exception],
    run_async: bool,
) -> None:
    _, url = shop
    payer = funded(token)
    with faulty_seller(url, delay, status) as (faulty, faulty_url):
        model = script(calls(call("x402_paid_request", url=f"{faulty_url}/weather/x")), echo_tools)
        agent = create_agent(model, X402Toolkit(key=payer, policy=POLICY, timeout=0.3).get_tools())
        question = {"messages": [("user", "weather")]}
        with pytest.raises(stop) as caught:
            if run_async:
                asyncio.run(agent.ainvoke(question))
            else:
                agent.invoke(question)
    receipt = caught.value.receipt  # type: ignore[attr-defined]
    assert receipt.outcome == "unknown" and receipt.quote.amount == PRICE
    assert not isinstance(caught.value, ToolException)
    # One signed payment, resent identically; the model never saw a tool result.
    assert len(faulty.paid) == 4 and len(set(faulty.paid)) == 1
    assert len(model.prompts) == 1
    assert token.balance_of(payer.address) == PRICE  # nobody settled it


def test_a_payment_the_seller_refuses_is_a_soft_not_charged(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    _, url = shop
    payer = funded(token)
    events = Events()
    with faulty_seller(url, 0.0, 402) as (faulty, faulty_url):
        model = script(calls(call("x402_paid_request", url=f"{faulty_url}/weather/x")), echo_tools)
        result = create_agent(model, X402Toolkit(key=payer, policy=POLICY).get_tools()).invoke(
            {"messages": [("user", "weather")]}, {"callbacks": [events]}
        )
    (message,) = tool_messages(result)
    assert message.status == "error" and "nothing was charged" in str(message.content)
    assert len(faulty.paid) == 1 and len(model.prompts) == 2
    assert [r["outcome"] for r in events.receipts] == ["not_charged"]


def test_approval_denied_is_soft_and_an_async_approver_on_the_sync_path_is_a_hard_stop(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token)
    seen: list[Quote] = []

    async def deny(q: Quote) -> bool:
        seen.append(q)
        return False

    def agent() -> Any:
        model = script(calls(call("x402_paid_request", url=f"{url}/weather/x")), echo_tools)
        return create_agent(model, X402Toolkit(key=payer, policy=POLICY, approve=deny).get_tools())

    result = asyncio.run(agent().ainvoke({"messages": [("user", "weather")]}))
    (message,) = tool_messages(result)
    assert message.status == "error" and "did not approve" in str(message.content)
    assert [q.price for q in seen] == [Decimal("0.01")]
    with pytest.raises(TypeError, match="async approver"):
        agent().invoke({"messages": [("user", "weather")]})
    assert s.runs == {} and s.events == [] and token.balance_of(payer.address) == PRICE


def test_the_langchain_tools_never_import_the_seller() -> None:
    code = "import sys, fastx402.langchain; print(sorted(m for m in sys.modules if 'server' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "fastx402.server" not in out.stdout


def test_kill_switch_ends_the_run_before_anything_is_sent(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token)
    halt = threading.Event()
    halt.set()
    model = script(calls(call("x402_paid_request", url=f"{url}/weather/x")), echo_tools)
    tools = X402Toolkit(key=payer, policy=POLICY, halt=halt).get_tools()
    with pytest.raises(SpendingHalted) as caught:
        asyncio.run(create_agent(model, tools).ainvoke({"messages": [("user", "weather")]}))
    assert isinstance(caught.value, X402HardStop) and not isinstance(caught.value, ToolException)
    assert s.runs == {} and s.events == [] and len(model.prompts) == 1


@pytest.mark.parametrize(
    ("reasons", "kind"),
    [
        (("over_cap: 0.03 tUSDC > 0.02",), PriceAboveCap),
        (("network_not_allowed: eip155:1", "over_cap: 1 USDC > 0.1"), PriceAboveCap),
        (("budget_exhausted: daily",), BudgetExhausted),
        (("denied",), ApprovalDenied),
        (("host_not_allowed: http://a is not https",), HostNotAllowed),
        (("pay_to_not_allowed: 0x11",), OfferNotAllowed),
        ((), OfferNotAllowed),
    ],
)
def test_each_refusal_is_a_soft_tool_exception(
    reasons: tuple[str, ...], kind: type[X402ToolError]
) -> None:
    refusal = soft_refusal(PaymentRefused("no", reasons))
    assert type(refusal) is kind and isinstance(refusal, ToolException)
    assert str(refusal).startswith("Payment refused, nothing was paid (")


def test_a_negative_max_price_goes_back_to_the_model() -> None:
    model = script(
        calls(call("x402_paid_request", url="https://api.example.com/x", max_price="-1")),
        echo_tools,
    )
    tools = X402Toolkit(key=funded_key(), policy=POLICY).get_tools()
    result = create_agent(model, tools).invoke({"messages": [("user", "x")]})
    (message,) = tool_messages(result)
    assert message.status == "error" and "max_price" in str(message.content)
