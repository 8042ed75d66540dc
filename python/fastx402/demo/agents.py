"""The demo's first agent: the plain httpx paying client under a spend policy.

It reads the price of a route without paying (``fastx402.client.quote``), pays two JSON routes
and a streamed inference within its policy, then asks once more and is refused by its session
budget before anything is signed. What happens is told to an :class:`Events` as it happens.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import httpx

from fastx402 import PrivateKey
from fastx402.client import (
    Budget,
    PaymentRefused,
    Spending,
    SpendPolicy,
    paying_client,
    quote,
    receipt_of,
)
from fastx402.demo.errors import DemoError

HTTP_TIMEOUT = 30.0
MAX_PER_CALL = Decimal("0.01")
HTTPX_BUDGET = Decimal("0.012")  # weather + joke + inference = 0.0115; one more weather is over
LANGCHAIN_BUDGET = Decimal("0.002")  # a joke (0.0005) and a weather report (0.001), not two


@dataclass(frozen=True)
class Paid:
    """One paid call, as the agent saw it."""

    agent: str
    route: str  # "GET /weather"
    amount: int  # smallest units, from the receipt
    price: Decimal
    payer: str
    pay_to: str
    transaction: str
    latency: float  # seconds: first request -> paid answer (402, sign, verify, settle)
    content: str  # what was bought, shortened


@dataclass(frozen=True)
class Refused:
    """A call the agent's policy refused: nothing was signed or paid."""

    agent: str
    route: str
    reason: str
    ledger_phase: str | None  # the ledger's last phase of that payment ("not_charged")


class Events(Protocol):
    def note(self, agent: str, text: str) -> None: ...
    def paid(self, call: Paid) -> None: ...
    def refused(self, call: Refused) -> None: ...


def policy_for(seller: str, budget: Decimal) -> SpendPolicy:
    """Pays only this seller (plain http: it is local), at most ``MAX_PER_CALL`` a call and
    ``budget`` for the session."""
    return SpendPolicy(
        max_per_call=MAX_PER_CALL,
        hosts=frozenset({seller}),
        allow_http=True,
        budgets=(Budget(window="session", limit=budget),),
    )


def short(text: str, limit: int = 72) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sse_tokens(lines: list[str]) -> list[str]:
    """The ``token`` fields of ``data:`` lines of an event stream."""
    out: list[str] = []
    for line in lines:
        if line.startswith("data:"):
            event = json.loads(line[5:])
            if isinstance(event, dict) and "token" in event:
                out.append(str(event["token"]))
    return out


def run_httpx_agent(
    key: PrivateKey, seller: str, spending: Spending, events: Events, *, agent: str = "httpx"
) -> None:
    policy = policy_for(seller, HTTPX_BUDGET)
    offers = quote(f"{seller}/weather", policy, timeout=HTTP_TIMEOUT, trust_env=False)
    if offers is None or not offers.quotes:
        why = "free" if offers is None else "; ".join(r for _, r in offers.refused)
        raise DemoError(f"the seller's GET /weather is not payable within the policy: {why}")
    q = offers.quotes[0]
    events.note(agent, f"quote GET /weather: {q.price} {q.symbol} to {q.pay_to} (within policy)")

    with paying_client(key, policy, spending=spending, timeout=HTTP_TIMEOUT, trust_env=False) as c:

        def paid(route: str, send: Callable[[], tuple[httpx.Response, float, str]]) -> None:
            response, latency, content = send()
            receipt = receipt_of(response)
            if response.status_code != 200 or receipt is None or receipt.outcome != "paid":
                outcome = "no receipt" if receipt is None else f"{receipt.outcome} {receipt.reason}"
                raise DemoError(f"{route}: HTTP {response.status_code}, {outcome}")
            assert receipt.transaction is not None
            events.paid(
                Paid(
                    agent,
                    route,
                    receipt.amount,
                    receipt.quote.price,
                    receipt.payer,
                    receipt.quote.pay_to,
                    receipt.transaction,
                    latency,
                    content,
                )
            )

        def get(path: str) -> Callable[[], tuple[httpx.Response, float, str]]:
            def send() -> tuple[httpx.Response, float, str]:
                t0 = time.perf_counter()
                response = c.get(f"{seller}{path}")
                return response, time.perf_counter() - t0, short(response.text)

            return send

        def stream() -> tuple[httpx.Response, float, str]:
            t0 = time.perf_counter()
            body = {"prompt": "What is x402?"}
            with c.stream("POST", f"{seller}/inference", json=body) as response:
                latency = time.perf_counter() - t0  # the paid answer's head: settled by now
                lines = list(response.iter_lines()) if response.status_code == 200 else []
            tokens = sse_tokens(lines)
            total = time.perf_counter() - t0
            text = f"{len(tokens)} tokens streamed in {total:.2f} s: {' '.join(tokens)}"
            return response, latency, short(text, 140)

        paid("GET /weather", get("/weather"))
        paid("GET /joke", get("/joke"))
        paid("POST /inference", stream)
        # Over the session budget now: refused before anything is signed.
        try:
            response = c.get(f"{seller}/weather")
        except PaymentRefused as e:
            records = c.ledger.records()
            phase = records[-1]["phase"] if records else None
            reason = e.reasons[0] if e.reasons else str(e)
            events.refused(Refused(agent, "GET /weather", reason, phase))
        else:
            raise DemoError(f"the budget did not stop a payment (HTTP {response.status_code})")
