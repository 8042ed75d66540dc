"""The LangChain agent side beyond one paid call, each inside a real ``create_agent`` run driven by
a scripted model, paying sellers under uvicorn that settle on the session anvil: what is left of
the budgets (``x402_budget``), per-user budgets from ``ToolRuntime.context``, tools generated
from endpoints and from a seller's rate card, price-aware approval through ``interrupt()`` with
price drift on resume, the budget middleware, and 20 parallel paid calls against a budget for 7."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import ToolException, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import BaseModel, Field

from asgi_server import running
from chain import NETWORK, Token
from fastx402 import PrivateKey
from fastx402.client import Budget, SpendPolicy
from fastx402.langchain import (
    Endpoint,
    Purse,
    RateCardError,
    SpendingHalted,
    X402BudgetMiddleware,
    X402BudgetTool,
    X402Toolkit,
)
from fastx402.server import Atomic, PaymentMiddleware, PaymentOption, Route, payment_of
from test_langchain import Events, call, calls, echo_tools, script, tool_messages
from test_server import PRICE, Shop, facilitator, funded, shop, token  # noqa: F401

CAP = Decimal("0.02")


def policy(*budgets: Budget, cap: Decimal = CAP) -> SpendPolicy:
    return SpendPolicy(max_per_call=cap, allow_http=True, budgets=budgets)


def purse() -> Purse:
    """Counters and ledger of this test only (the default ledger is shared by the session)."""
    return Purse("memory://", ledger="memory://")


@dataclass
class Ctx:
    user_id: str


def by_id(result: dict[str, Any]) -> dict[str, ToolMessage]:
    return {m.tool_call_id: m for m in tool_messages(result)}


def finals(p: Purse) -> list[str]:
    phases = [r["phase"] for r in p.spending.ledger.records()]
    return sorted(x for x in phases if x in ("settled", "not_charged", "unknown"))


# --- x402_budget ---------------------------------------------------------------------------------


@pytest.mark.parametrize("run_async", [False, True], ids=["invoke", "ainvoke"])
def test_the_budget_tool_says_what_is_left_per_window_asset_and_user(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
    run_async: bool,
) -> None:
    s, url = shop
    payer = funded(token, 2 * PRICE)
    rules = policy(
        Budget(window="session", limit=Decimal("0.05")),
        Budget(window="day", limit=Decimal("0.03"), per="user"),
        Budget(window="hour", limit=Decimal("1"), asset=(NETWORK, token.address)),
    )
    kit = X402Toolkit(key=payer, policy=rules, purse=purse())
    (budget_tool,) = [t for t in kit.get_tools() if t.name == "x402_budget"]
    # Before any payment: the limits, nothing used (the per-asset one names its asset).
    before = budget_tool.invoke({})
    assert "At most 0.02 token units per paid call." in before
    assert "- session budget: 0.05 of 0.05 left (any asset; used 0)" in before
    assert f"- hour budget: 1 of 1 left (tUSDC on {NETWORK}; used 0" in before

    model = script(
        calls(
            call("x402_paid_request", "a", url=f"{url}/weather/oslo"),
            call("x402_paid_request", "b", url=f"{url}/weather/rome"),
        ),
        calls(call("x402_budget", "left")),
        echo_tools,
    )
    agent = create_agent(model, kit.get_tools(), context_schema=Ctx)
    question = {"messages": [("user", "Oslo, Rome, then what is left?")]}
    if run_async:
        result = asyncio.run(agent.ainvoke(question, context=Ctx("alice")))
    else:
        result = agent.invoke(question, context=Ctx("alice"))
    report = by_id(result)["left"].artifact
    lines = {(b["window"], b["per"], b["who"]): b for b in report["budgets"]}
    session = lines[("session", "all", None)]
    assert (session["used"], session["left"], session["symbol"]) == ("0.02", "0.03", "tUSDC")
    assert session["resets_at"] is None and session["asset"] == token.address
    alice = lines[("day", "user", "alice")]
    assert (alice["used"], alice["left"], alice["limit"]) == ("0.02", "0.01", "0.03")
    assert alice["resets_at"] is not None and alice["resets_at"] % 86400 == 0
    assert lines[("hour", "all", None)]["left"] == "0.98"
    assert not report["halted"] and report["max_per_call"] == "0.02"
    # The model read it as text.
    text = str(by_id(result)["left"].content)
    assert "- day budget for user alice: 0.01 of 0.03 left (tUSDC" in text
    assert token.balance_of(s.seller) == 2 * PRICE
    # Another user's per-user budget is untouched; the kill switch shows (the toolkit's own
    # Event too).
    halt = threading.Event()
    own = X402Toolkit(key=payer, policy=rules, purse=kit.purse, halt=halt).budget_tool()
    assert not own._run()[1]["halted"]
    halt.set()
    assert own._run()[1]["halted"]
    kit.kill()
    other = X402BudgetTool(policy=rules, purse=kit.purse)._run(
        runtime=type("R", (), {"context": {"user_id": "bob"}})()
    )[1]
    bob = {(b["window"], b["per"], b["who"]): b for b in other["budgets"]}
    assert (bob[("day", "user", "bob")]["used"], bob[("day", "user", "bob")]["left"]) == (
        "0",
        "0.03",
    )
    assert other["halted"]
    # Outside an agent (no user): the anonymous per-user counter, as the reservation uses.
    anonymous = X402BudgetTool(policy=rules, purse=kit.purse)._run()[1]["budgets"]
    assert [(b["who"], b["used"]) for b in anonymous if b["per"] == "user"] == [(None, "0")]


# --- per-user budgets from ToolRuntime.context ----------------------------------------------------


def test_two_users_in_one_agent_each_have_their_own_budget(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token, 6 * PRICE)
    p = purse()
    kit = X402Toolkit(
        key=payer,
        policy=policy(Budget(window="day", limit=Decimal("0.02"), per="user")),
        purse=p,
        user_field="account",
    )

    @dataclass
    class Account:
        account: str

    def turn(user: str) -> dict[str, Any]:
        model = script(
            calls(
                *(
                    call("x402_paid_request", f"{user}{i}", url=f"{url}/weather/{user}{i}")
                    for i in range(3)
                )
            ),
            echo_tools,
        )
        agent = create_agent(model, kit.get_tools(), context_schema=Account)
        return agent.invoke({"messages": [("user", "three cities")]}, context=Account(user))

    for user in ("alice", "bob"):
        messages = by_id(turn(user))
        paid = [m for m in messages.values() if m.status == "success"]
        refused = [m for m in messages.values() if m.status == "error"]
        assert len(paid) == 2 and len(refused) == 1, messages
        assert f"budget_exhausted: day budget of 0.02 tUSDC for user {user} has 0 left" in str(
            refused[0].content
        )
    assert token.balance_of(s.seller) == 4 * PRICE and s.runs == {"weather": 4}
    ledger = p.spending.ledger
    for user in ("alice", "bob"):
        spent = ledger.spent("day", by={"user": user})
        assert spent.settled == Decimal("0.02") and spent.payments == 2
    # Who spent is on every record: this user, this tool.
    settled = [r for r in ledger.records() if r["phase"] == "settled"]
    assert sorted(r["user"] for r in settled) == ["alice", "alice", "bob", "bob"]
    assert {r["tool"] for r in settled} == {"x402_paid_request"}


# --- tools from endpoints and from a rate card ----------------------------------------------------


class Note(BaseModel):
    note: str = Field(description="What the job is about.")


def test_toolkit_from_endpoints_one_typed_tool_per_endpoint(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token, 3 * PRICE)
    p = purse()
    kit = X402Toolkit.from_endpoints(
        [
            Endpoint(
                f"{url}/weather/{{city}}",
                name="weather",
                price=Decimal("0.01"),
                symbol="tUSDC",
                description="Weather report for a city",
            ),
            Endpoint(f"{url}/job", method="POST", name="job", params=Note),
            # The card said 0.005: the seller asking 0.01 is refused, never paid.
            Endpoint(f"{url}/weather/{{city}}", name="cheap_weather", price=Decimal("0.005")),
        ],
        key=payer,
        policy=policy(),
        purse=p,
    )
    weather, job, cheap, budget = kit.get_tools()
    assert [t.name for t in (weather, job, cheap, budget)] == [
        "weather",
        "job",
        "cheap_weather",
        "x402_budget",
    ]
    assert weather.description.startswith("Weather report for a city. GET ")
    assert "PAID API: Costs 0.01 tUSDC per call." in weather.description
    assert "price is asked at call time (at most 0.02 token units)" in job.description
    schema = weather.tool_call_schema.model_json_schema()
    assert schema["required"] == ["city"] and "runtime" not in schema["properties"]
    assert set(job.tool_call_schema.model_json_schema()["properties"]) == {"note"}
    model = script(
        calls(
            call("weather", "w", city="São Paulo"),
            call("job", "j", note="index"),
            call("cheap_weather", "c", city="lima"),
        ),
        echo_tools,
    )
    events = Events()
    result = create_agent(model, kit.get_tools()).invoke(
        {"messages": [("user", "go")]}, {"callbacks": [events]}
    )
    messages = by_id(result)
    assert messages["w"].artifact["outcome"] == "paid"
    assert '"city":"São Paulo"' in str(messages["w"].content)
    assert messages["w"].artifact["quote"]["url"] == f"{url}/weather/S%C3%A3o%20Paulo"
    assert messages["j"].artifact["outcome"] == "paid" and messages["j"].status == "success"
    assert messages["c"].status == "error" and "over_cap: 0.01 tUSDC > 0.005" in str(
        messages["c"].content
    )
    assert len(events.receipts) == 2
    assert token.balance_of(s.seller) == 2 * PRICE and s.runs == {"weather": 1, "job": 1}
    tools = {r["tool"] for r in p.spending.ledger.records() if r["phase"] == "settled"}
    assert tools == {"weather", "job"}


def test_an_endpoint_with_a_json_schema_sends_its_arguments_as_the_query(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token, PRICE)
    units = {"type": "object", "properties": {"units": {"type": "string", "enum": ["C", "F"]}}}
    kit = X402Toolkit.from_endpoints(
        [Endpoint(f"{url}/weather/{{city}}", name="weather", params=units)],
        key=payer,
        policy=policy(),
        purse=purse(),
    )
    weather, _ = kit.get_tools()
    schema = weather.tool_call_schema
    assert isinstance(schema, dict) and schema["required"] == ["city"]
    assert schema["properties"] == {
        "city": {"type": "string", "description": "The 'city' part of the URL path."},
        "units": {"type": "string", "enum": ["C", "F"]},
    }
    model = script(
        calls(call("weather", "w", city="oslo", units="C"), call("weather", "x")), echo_tools
    )
    messages = by_id(create_agent(model, kit.get_tools()).invoke({"messages": [("user", "oslo")]}))
    assert messages["w"].artifact["quote"]["url"] == f"{url}/weather/oslo?units=C"
    assert messages["x"].status == "error" and "missing path parameters: city" in str(
        messages["x"].content
    )
    assert token.balance_of(s.seller) == PRICE


def test_a_path_parameter_never_changes_the_host_or_the_path() -> None:
    e = Endpoint("https://api.example.com/weather/{city}")
    url, body = e.request({"city": "../admin?x=1#@evil.test/"})
    assert url == "https://api.example.com/weather/..%2Fadmin%3Fx%3D1%23%40evil.test%2F"
    assert body is None and httpx.URL(url).host == "api.example.com"
    for dots in (".", ".."):
        url, _ = e.request({"city": dots})
        assert httpx.Request("GET", url).url.raw_path.startswith(b"/weather/%2E")
    with pytest.raises(ToolException, match="missing path parameters: city"):
        e.request({"city": ""})
    post = Endpoint("https://api.example.com/jobs/{id}", method="POST")
    assert post.request({"id": 7, "price": Decimal("0.5"), "note": None}) == (
        "https://api.example.com/jobs/7",
        {"price": "0.5"},
    )
    q, _ = Endpoint("https://api.example.com/s", name="s").request({"q": "a b", "n": 2})
    assert q == "https://api.example.com/s?q=a+b&n=2"
    for bad in ("ftp://x/y", "/relative"):
        with pytest.raises(ValueError):
            Endpoint(bad)
    with pytest.raises(ValueError, match="method"):
        Endpoint("https://a.test/x", method="TRACE")


def test_toolkit_from_the_sellers_rate_card(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token, PRICE)
    kit = X402Toolkit.from_rate_card(
        f"{url}/.well-known/x402", key=payer, policy=policy(), purse=purse()
    )
    tools = {t.name: t for t in kit.get_tools()}
    # /premium costs 0.03, above the 0.02 cap: the model is not even offered it.
    assert "get_premium" not in tools and "x402_budget" in tools
    weather = tools["get_weather_city"]
    assert weather.description.startswith("Weather report. GET ")
    assert "Costs 0.01 tUSDC per call." in weather.description
    assert tools["post_job"].tool_call_schema.model_json_schema()["properties"] == {}
    model = script(calls(call("get_weather_city", "w", city="oslo")), echo_tools)
    result = create_agent(model, list(tools.values())).invoke({"messages": [("user", "oslo")]})
    assert by_id(result)["w"].artifact["outcome"] == "paid"
    assert token.balance_of(s.seller) == PRICE
    # A card read before: the seller named by base_url; bad cards are typed errors.
    card = httpx.get(f"{url}/.well-known/x402").json()
    again = X402Toolkit.from_rate_card(card, base_url=url, key=payer, policy=policy())
    assert "get_weather_city" in {t.name for t in again.get_tools()}
    with pytest.raises(RateCardError, match="routes"):
        X402Toolkit.from_rate_card({"x402Version": 2}, base_url=url, key=payer)
    with pytest.raises(RateCardError, match="HTTP 404"):
        X402Toolkit.from_rate_card(f"{url}/nothing-here", key=payer)


# --- approval through interrupt() -------------------------------------------------------------


class Drifting:
    """A fastx402 seller whose price (and payee) the test changes between quote and resume."""

    def __init__(self, usdc: Token, settler: Any) -> None:
        self.price = PRICE
        self.seller = PrivateKey.generate().address
        self.other = PrivateKey.generate().address
        self.runs = 0
        app = FastAPI()
        option = PaymentOption(
            lambda _: Atomic(self.price), NETWORK, lambda _: self.seller, asset=usdc.address
        )
        app.add_middleware(
            PaymentMiddleware, facilitator=settler, routes={"GET /report": Route([option])}
        )

        @app.get("/report")
        def report(request: Request) -> dict[str, Any]:
            self.runs += 1
            return {"paid": payment_of(request).amount}

        self.app = app


@pytest.fixture
def drifting(token: Token, facilitator: Any) -> Iterator[tuple[Drifting, str]]:  # noqa: F811
    d = Drifting(token, facilitator)
    with running(d.app) as url:
        yield d, url


def _approval_agent(kit: X402Toolkit, url: str) -> tuple[Any, RunnableConfig]:
    model = script(calls(call("x402_paid_request", "pay-1", url=f"{url}/report")), echo_tools)
    agent = create_agent(model, kit.get_tools(), checkpointer=InMemorySaver())
    return agent, {"configurable": {"thread_id": "approval"}}


def _interrupt(result: dict[str, Any]) -> dict[str, Any]:
    (pending,) = result["__interrupt__"]
    return pending.value  # type: ignore[no-any-return]


@pytest.mark.parametrize("run_async", [False, True], ids=["invoke", "ainvoke"])
def test_approval_shows_the_real_quote_and_pays_it_on_yes(
    drifting: tuple[Drifting, str],
    token: Token,  # noqa: F811
    run_async: bool,
) -> None:
    d, url = drifting
    payer = funded(token, PRICE)
    kit = X402Toolkit(key=payer, policy=policy(), purse=purse(), ask_above=Decimal("0"))
    agent, config = _approval_agent(kit, url)

    def run(arg: Any) -> dict[str, Any]:
        if run_async:
            return asyncio.run(agent.ainvoke(arg, config))  # type: ignore[no-any-return]
        return agent.invoke(arg, config)  # type: ignore[no-any-return]

    asked = _interrupt(run({"messages": [("user", "report")]}))
    assert asked["kind"] == "x402_approval" and asked["tool_call_id"] == "pay-1"
    assert asked["quote"]["price"] == "0.01" and asked["quote"]["pay_to"] == d.seller
    assert asked["previous"] is None and asked["drift"] == []
    assert asked["question"].startswith(f"Pay 0.01 tUSDC to {d.seller} for {url}/report")
    assert token.balance_of(payer.address) == PRICE and d.runs == 0  # nothing signed yet
    result = run(Command(resume=True))
    (message,) = tool_messages(result)
    assert message.artifact["outcome"] == "paid" and d.runs == 1
    assert token.balance_of(d.seller) == PRICE


def test_a_price_rise_on_resume_is_asked_again_never_paid_silently(
    drifting: tuple[Drifting, str],
    token: Token,  # noqa: F811
) -> None:
    d, url = drifting
    payer = funded(token, 2 * PRICE)
    p = purse()
    kit = X402Toolkit(key=payer, policy=policy(), purse=p, ask_above=Decimal("0.001"))
    agent, config = _approval_agent(kit, url)
    first = _interrupt(agent.invoke({"messages": [("user", "report")]}, config))
    assert first["quote"]["price"] == "0.01"
    d.price = PRICE + PRICE // 2  # the seller raises its price while the human reads
    second = _interrupt(agent.invoke(Command(resume=True), config))
    assert second["quote"]["price"] == "0.015" and second["previous"] == first["quote"]
    assert second["drift"] == ["price 0.01 -> 0.015 tUSDC"]
    assert "The quote changed (price 0.01 -> 0.015 tUSDC)" in second["question"]
    assert d.runs == 0 and token.balance_of(payer.address) == 2 * PRICE
    d.seller = d.other  # and now another payee: asked once more
    third = _interrupt(agent.invoke(Command(resume=True), config))
    assert any(c.startswith("pay_to ") for c in third["drift"])
    assert d.runs == 0
    (message,) = tool_messages(agent.invoke(Command(resume=True), config))
    assert message.artifact["outcome"] == "paid"
    assert message.artifact["quote"] == third["quote"]  # exactly what was approved last
    assert token.balance_of(d.other) == PRICE + PRICE // 2 and d.runs == 1


def test_a_cheaper_price_on_resume_is_paid_without_asking_again(
    drifting: tuple[Drifting, str],
    token: Token,  # noqa: F811
) -> None:
    d, url = drifting
    payer = funded(token, PRICE)
    kit = X402Toolkit(key=payer, policy=policy(), purse=purse(), ask_above=Decimal("0"))
    agent, config = _approval_agent(kit, url)
    _interrupt(agent.invoke({"messages": [("user", "report")]}, config))
    d.price = PRICE // 2
    result = agent.invoke(Command(resume="yes"), config)
    assert "__interrupt__" not in result
    (message,) = tool_messages(result)
    assert message.artifact["quote"]["price"] == "0.005" and d.runs == 1
    assert token.balance_of(d.seller) == PRICE // 2


def test_resumed_where_the_question_is_not_cached_only_a_named_quote_is_paid(
    drifting: tuple[Drifting, str],
    token: Token,  # noqa: F811
) -> None:
    """Another process resumes the run (same checkpointer, a new toolkit): a bare yes cannot
    say which price it approved, so it is refused; a yes naming the quote shown is paid."""
    d, url = drifting
    payer = funded(token, PRICE)
    saver = InMemorySaver()

    def agent(thread: str) -> tuple[Any, RunnableConfig]:
        kit = X402Toolkit(key=payer, policy=policy(), purse=purse(), ask_above=Decimal("0"))
        model = script(calls(call("x402_paid_request", "p", url=f"{url}/report")), echo_tools)
        return create_agent(model, kit.get_tools(), checkpointer=saver), {
            "configurable": {"thread_id": thread}
        }

    first, config = agent("bare")
    asked = _interrupt(first.invoke({"messages": [("user", "report")]}, config))
    second, _ = agent("bare")
    result = second.invoke(Command(resume=True), config)
    (message,) = tool_messages(result)
    assert message.status == "error"
    assert "the approval is not for this quote" in str(message.content)
    assert d.runs == 0

    first, config = agent("named")
    asked = _interrupt(first.invoke({"messages": [("user", "report")]}, config))
    d.price = PRICE + 1  # a higher price than the one named: refused as well
    second, _ = agent("named")
    (message,) = tool_messages(
        second.invoke(Command(resume={"approved": True, "quote": asked["quote"]}), config)
    )
    assert message.status == "error"
    assert "the approval is not for this quote" in str(message.content)
    assert d.runs == 0
    d.price = PRICE
    first, config = agent("named-ok")
    asked = _interrupt(first.invoke({"messages": [("user", "report")]}, config))
    second, _ = agent("named-ok")
    (message,) = tool_messages(
        second.invoke(Command(resume={"approved": True, "quote": asked["quote"]}), config)
    )
    assert message.artifact["outcome"] == "paid" and d.runs == 1
    assert message.artifact["quote"] == asked["quote"]


def test_a_call_paid_in_the_same_turn_is_not_paid_again_on_resume(
    shop: tuple[Shop, str],  # noqa: F811
    drifting: tuple[Drifting, str],
    token: Token,  # noqa: F811
) -> None:
    """Two calls of one turn: the cheap one is paid at once, the dear one waits for a human.
    Resuming re-runs only the interrupted call: the cheap one is never paid twice."""
    s, shop_url = shop
    d, url = drifting
    d.price = PRICE + PRICE // 2
    payer = funded(token, 3 * PRICE)
    kit = X402Toolkit(key=payer, policy=policy(), purse=purse(), ask_above=Decimal("0.012"))
    model = script(
        calls(
            call("x402_paid_request", "cheap", url=f"{shop_url}/weather/now"),
            call("x402_paid_request", "dear", url=f"{url}/report"),
        ),
        echo_tools,
    )
    agent = create_agent(model, kit.get_tools(), checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "two"}}
    asked = _interrupt(agent.invoke({"messages": [("user", "both")]}, config))
    assert asked["tool_call_id"] == "dear" and asked["quote"]["price"] == "0.015"
    assert s.runs == {"weather": 1} and d.runs == 0
    messages = by_id(agent.invoke(Command(resume=True), config))
    assert messages["cheap"].artifact["outcome"] == "paid"
    assert messages["dear"].artifact["outcome"] == "paid"
    assert s.runs == {"weather": 1} and d.runs == 1
    assert token.balance_of(payer.address) == 3 * PRICE - PRICE - (PRICE + PRICE // 2)


def test_two_approvals_of_one_turn_are_answered_each_by_its_own_id(
    drifting: tuple[Drifting, str],
    token: Token,  # noqa: F811
) -> None:
    d, url = drifting
    payer = funded(token, 2 * PRICE)
    kit = X402Toolkit(key=payer, policy=policy(), purse=purse(), ask_above=Decimal("0"))
    model = script(
        calls(
            call("x402_paid_request", "yes", url=f"{url}/report?n=1"),
            call("x402_paid_request", "no", url=f"{url}/report?n=2"),
        ),
        echo_tools,
    )
    agent = create_agent(model, kit.get_tools(), checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "pair"}}
    pending = agent.invoke({"messages": [("user", "both")]}, config)["__interrupt__"]
    by_call = {p.value["tool_call_id"]: p for p in pending}
    assert sorted(by_call) == ["no", "yes"]
    answers = {by_call["yes"].id: True, by_call["no"].id: False}
    messages = by_id(agent.invoke(Command(resume=answers), config))
    assert messages["yes"].artifact["outcome"] == "paid"
    assert messages["no"].status == "error" and "did not approve" in str(messages["no"].content)
    assert d.runs == 1 and token.balance_of(payer.address) == PRICE


def test_a_no_is_a_refusal_the_model_reads_and_nothing_is_paid(
    drifting: tuple[Drifting, str],
    token: Token,  # noqa: F811
) -> None:
    d, url = drifting
    payer = funded(token, PRICE)
    kit = X402Toolkit(key=payer, policy=policy(), purse=purse(), ask_above=Decimal("0"))
    agent, config = _approval_agent(kit, url)
    _interrupt(agent.invoke({"messages": [("user", "report")]}, config))
    d.price = PRICE // 2  # cheaper on resume: still the human's no that counts
    result = agent.invoke(Command(resume={"approved": False}), config)
    (message,) = tool_messages(result)
    assert message.status == "error" and "did not approve" in str(message.content)
    assert d.runs == 0 and token.balance_of(payer.address) == PRICE


def test_below_the_threshold_nothing_is_asked(
    drifting: tuple[Drifting, str],
    token: Token,  # noqa: F811
) -> None:
    d, url = drifting
    payer = funded(token, PRICE)
    kit = X402Toolkit(key=payer, policy=policy(), purse=purse(), ask_above=Decimal("0.01"))
    agent, config = _approval_agent(kit, url)
    result = agent.invoke({"messages": [("user", "report")]}, config)
    assert "__interrupt__" not in result and d.runs == 1


# --- the budget middleware ------------------------------------------------------------------------


def test_middleware_streams_receipts_and_refuses_once_the_budget_is_spent(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token, 3 * PRICE)
    p = purse()
    kit = X402Toolkit(
        key=payer, policy=policy(Budget(window="session", limit=Decimal("0.01"))), purse=p
    )
    model = script(
        calls(call("x402_paid_request", "one", url=f"{url}/weather/a")),
        calls(call("x402_paid_request", "two", url=f"{url}/weather/b")),
        echo_tools,
    )
    agent = create_agent(model, kit.get_tools(), middleware=[X402BudgetMiddleware.of(kit)])
    chunks = list(agent.stream({"messages": [("user", "a then b")]}, stream_mode="custom"))
    assert len(chunks) == 1 and chunks[0]["x402_receipt"]["outcome"] == "paid"
    assert chunks[0]["x402_receipt"]["quote"]["url"] == f"{url}/weather/a"
    prompt = model.prompts[-1]
    (refused,) = [m for m in prompt if isinstance(m, ToolMessage) and m.tool_call_id == "two"]
    assert refused.status == "error" and "budget_exhausted: the session budget" in str(
        refused.content
    )
    # The second call never reached the paying tool: no new intent in the ledger.
    assert [r["phase"] for r in p.spending.ledger.records()].count("intent") == 1
    assert token.balance_of(s.seller) == PRICE and s.runs == {"weather": 1}


def test_middleware_refuses_only_the_user_whose_budget_is_spent(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token, 3 * PRICE)
    p = purse()
    kit = X402Toolkit(
        key=payer,
        policy=policy(Budget(window="day", limit=Decimal("0.01"), per="user")),
        purse=p,
    )
    guard = X402BudgetMiddleware.of(kit)

    def ask(user: str, city: str) -> ToolMessage:
        model = script(
            calls(call("x402_paid_request", city, url=f"{url}/weather/{city}")), echo_tools
        )
        agent = create_agent(model, kit.get_tools(), context_schema=Ctx, middleware=[guard])
        (message,) = tool_messages(agent.invoke({"messages": [("user", city)]}, context=Ctx(user)))
        return message

    assert ask("alice", "a1").artifact["outcome"] == "paid"
    refused = ask("alice", "a2")
    assert refused.status == "error"
    assert "the day budget for user alice of 0.01 tUSDC has nothing left" in str(refused.content)
    assert ask("bob", "b1").artifact["outcome"] == "paid"
    intents = [r["url"] for r in p.spending.ledger.records() if r["phase"] == "intent"]
    assert [u.rsplit("/", 1)[1] for u in intents] == ["a1", "b1"]  # a2 never reached the tool
    assert token.balance_of(s.seller) == 2 * PRICE


def test_middleware_kill_switch_refuses_every_tool_and_ends_the_run(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    payer = funded(token, 2 * PRICE)
    kit = X402Toolkit(key=payer, policy=policy(), purse=purse())
    looked_up: list[str] = []

    @tool
    def lookup(word: str) -> str:
        """A plain tool that spends nothing: the kill switch stops it too."""
        looked_up.append(word)
        return word

    def then_kill(messages: list[BaseMessage]) -> AIMessage:
        kit.kill()  # the operator pulls the switch while the model thinks
        return calls(
            call("x402_paid_request", "after", url=f"{url}/weather/b"),
            call("x402_quote", "free", url=f"{url}/weather/b"),
            call("lookup", "plain", word="b"),
        )

    model = script(
        calls(
            call("x402_paid_request", "before", url=f"{url}/weather/a"),
            call("lookup", "first", word="a"),
        ),
        then_kill,
    )
    tools = [*kit.get_tools(), lookup]
    agent = create_agent(model, tools, middleware=[X402BudgetMiddleware.of(kit)])
    result = asyncio.run(agent.ainvoke({"messages": [("user", "a, b")]}))
    messages = by_id(result)
    assert messages["before"].artifact["outcome"] == "paid" and looked_up == ["a"]
    for id_ in ("after", "free", "plain"):
        assert messages[id_].status == "error"
        assert "Not run: x402 spending is halted" in str(messages[id_].content)
    final = result["messages"][-1]
    assert isinstance(final, AIMessage) and final.content.startswith("Stopped: x402 spending")
    assert len(model.prompts) == 2  # the model was not called again after the kill
    assert token.balance_of(s.seller) == PRICE and s.runs == {"weather": 1}


# --- must show: 20 parallel paid calls, a budget for 7 ----------------------------------------


@pytest.mark.parametrize(
    ("run_async", "store"),
    [(False, "memory"), (True, "memory"), (True, "sqlite")],
    ids=["invoke", "ainvoke", "ainvoke-sqlite"],
)
def test_twenty_parallel_paid_calls_against_a_budget_for_seven(
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
    run_async: bool,
    store: str,
    tmp_path: Path,
) -> None:
    """On the async path over SQLite, budgets and ledger go through the purse's async view of
    the sync store (the same counters the sync path uses)."""
    s, url = shop
    payer = funded(token, 20 * PRICE)
    if store == "sqlite":
        p = Purse(f"sqlite:///{tmp_path / 'spend.db'}", ledger=f"sqlite:///{tmp_path / 'l.db'}")
    else:
        p = purse()
    kit = X402Toolkit(
        key=payer, policy=policy(Budget(window="session", limit=Decimal("0.07"))), purse=p
    )
    twenty = calls(
        *(call("x402_paid_request", f"c{i}", url=f"{url}/weather/c{i}") for i in range(20))
    )
    seen: list[list[BaseMessage]] = []

    def kill_then_pay(messages: list[BaseMessage]) -> AIMessage:
        seen.append(messages)
        kit.kill()
        return calls(call("x402_paid_request", "late", url=f"{url}/weather/late"))

    model = script(twenty, kill_then_pay)
    agent = create_agent(model, kit.get_tools())
    question = {"messages": [("user", "twenty cities")]}
    with pytest.raises(SpendingHalted):
        if run_async:
            asyncio.run(agent.ainvoke(question))
        else:
            agent.invoke(question)
    # The model was shown one tool message per call: 7 receipts, 13 refusals.
    shown = [m for m in seen[0] if isinstance(m, ToolMessage)]
    assert len(shown) == 20 and len({m.tool_call_id for m in shown}) == 20
    paid = [m for m in shown if m.status == "success"]
    refused = [m for m in shown if m.status == "error"]
    assert len(paid) == 7 and len(refused) == 13
    assert all(m.artifact["outcome"] == "paid" for m in paid)
    assert len({m.artifact["transaction"] for m in paid}) == 7
    assert all(
        str(m.content).startswith("Payment refused, nothing was paid (budget_exhausted: session")
        for m in refused
    )
    # Exactly 7 payments on chain, one per paid call; the budget never exceeded.
    assert token.balance_of(s.seller) == 7 * PRICE
    assert token.balance_of(payer.address) == 13 * PRICE
    assert s.runs == {"weather": 7}
    assert finals(p) == ["not_charged"] * 13 + ["settled"] * 7
    records = p.spending.ledger.records()
    signed = [r["id"] for r in records if r["phase"] == "signed"]
    assert len(signed) == 7 and len(set(signed)) == 7  # nothing refused was ever signed
    assert p.spending.ledger.spent("day").settled == Decimal("0.07")
    # The kill switch ended the run before the late call was even sent (nothing quoted).
    assert not any(r["url"].endswith("/weather/late") for r in records)


def test_the_kill_switch_is_shared_by_every_process_on_the_store(tmp_path: Path) -> None:
    """A purse over a SQLite store: killing one stops the other (same store, another purse)."""
    url = f"sqlite:///{tmp_path / 'budgets.db'}"
    first, second = Purse(url, ledger="memory://"), Purse(url, ledger="memory://")
    rules = policy()
    assert second.halted(rules) is None
    first.kill()
    assert first.halted(rules) is not None
    # The second learns it from the store's flag, not from its own Event.
    assert not second.halt.is_set()
    assert second.halted(rules) == "x402 spending is halted in the shared store"
