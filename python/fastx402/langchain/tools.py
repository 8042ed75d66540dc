"""LangChain tools that call x402 APIs and pay them under the operator's :class:`SpendPolicy`.

* :class:`X402RequestTool` (``x402_paid_request``): one HTTP call; a 402 is paid under the policy
  (the model's ``max_price`` can only lower the per-call cap). The model sees the status and the
  body (truncated); the receipt, as a JSON-able :class:`~fastx402.langchain.records.ReceiptRecord`
  (checkpointers and tracing must serialize it), is the ``ToolMessage.artifact`` and is dispatched
  as the custom callback event ``x402_receipt`` (also when not charged or of unknown outcome).
* :class:`X402QuoteTool` (``x402_quote``): what a URL asks to be paid and whether the policy would
  pay it; nothing is signed.
* :class:`X402Toolkit`: both and ``x402_budget`` (:mod:`fastx402.langchain.budget`), sharing one
  key, policy, approver, kill switch and :class:`~fastx402.langchain.purse.Purse` (budgets,
  breakers, ledger); per-endpoint tools from a list or a seller's rate card
  (:mod:`fastx402.langchain.endpoints`).

Per-user budgets: the user id is read from ``ToolRuntime.context`` (field ``user_field``), and the
payment is charged to that user's ``Budget(per="user")``. Price-aware human approval:
``ask_above`` (:mod:`fastx402.langchain.approval`).

Each tool has a real sync path (``httpx.Client``) and a real async path (``httpx.AsyncClient``);
parallel calls of one turn each get their own client. Soft refusals and hard stops:
:mod:`fastx402.langchain.errors`.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

import httpx
from langchain_core.callbacks import (
    AsyncCallbackManagerForToolRun,
    CallbackManagerForToolRun,
    Callbacks,
    adispatch_custom_event,
    dispatch_custom_event,
)
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, ConfigDict, Field, InstanceOf

from fastx402._core import PrivateKey
from fastx402.client import (
    SPENDER,
    Approver,
    NotA402,
    Offers,
    PaymentRefused,
    Quote,
    Receipt,
    Spender,
    SpendPolicy,
    async_paying_client,
    paying_client,
    receipt_of,
)
from fastx402.client.quote import offers, parse_402
from fastx402.errors import ProtocolError
from fastx402.langchain.approval import InterruptApprover
from fastx402.langchain.context import (
    DEFAULT_USER_FIELD,
    Runtime,
    spender_for,
    tool_call_id_of,
)
from fastx402.langchain.errors import (
    PaymentNotCharged,
    RequestFailed,
    SpendingHalted,
    SpendUnconfirmed,
    soft_refusal,
)
from fastx402.langchain.purse import Purse
from fastx402.langchain.records import (
    OffersRecord,
    ReceiptRecord,
    offers_record,
    receipt_record,
)

RECEIPT_EVENT = "x402_receipt"
DEFAULT_MAX_BODY_CHARS = 8_000
_PRICE_HELP = (
    "The most you accept to pay for this one call, in the token's units (USDC: '0.01' is one "
    "cent). It can only lower the operator's cap, never raise it."
)
# What a request failing before anything is signed looks like (the model may try something else).
_UNSIGNED_FAILURES = (httpx.HTTPError, httpx.InvalidURL, NotA402, ProtocolError)


class _Timed(httpx.HTTPTransport):
    """Gives the client's timeout to requests built without one: the paying transport builds the
    paid request afresh (no ``timeout`` extension), and httpcore's default is to wait forever."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = httpx.Timeout(timeout).as_dict()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions.setdefault("timeout", self.timeout)
        return super().handle_request(request)


class _AsyncTimed(httpx.AsyncHTTPTransport):
    """The asyncio twin of :class:`_Timed`."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = httpx.Timeout(timeout).as_dict()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions.setdefault("timeout", self.timeout)
        return await super().handle_async_request(request)


class RequestArgs(BaseModel):
    """Arguments of ``x402_paid_request``."""

    url: str = Field(description="Absolute URL of the API endpoint (https).")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field(
        default="GET", description="HTTP method."
    )
    body: dict[str, Any] | None = Field(
        default=None, description="JSON object sent as the request body (POST, PUT, PATCH)."
    )
    max_price: Decimal | None = Field(default=None, ge=0, description=_PRICE_HELP)
    runtime: Runtime = None


class QuoteArgs(BaseModel):
    """Arguments of ``x402_quote``."""

    url: str = Field(description="Absolute URL of the API endpoint (https).")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field(
        default="GET", description="HTTP method the call would use."
    )
    max_price: Decimal | None = Field(default=None, ge=0, description=_PRICE_HELP)


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[... truncated: {len(text) - limit} more characters]"


def _paid_line(receipt: Receipt) -> str:
    q = receipt.quote
    paid = f"Paid {q.price} {q.symbol} on {q.network} to {q.pay_to}"
    return f"{paid} (transaction {receipt.transaction})."


class _PolicyTool(BaseTool):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    policy: InstanceOf[SpendPolicy] = Field(default_factory=SpendPolicy)
    timeout: float = 30.0
    headers: dict[str, str] = Field(default_factory=dict)
    # Soft refusals (ToolException) become a ToolMessage the model reads; hard stops are not.
    handle_tool_error: bool | str | Callable[[ToolException], Any] | None = True
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"

    def _policy(self, max_price: Decimal | None) -> SpendPolicy:
        return self.policy if max_price is None else self.policy.with_cap(max_price)

    def model_post_init(self, context: Any, /) -> None:
        if not self.description:
            self.description = self._describe()
        super().model_post_init(context)

    def _describe(self) -> str:
        raise NotImplementedError


class X402RequestTool(_PolicyTool):
    """Calls an HTTP API and pays its x402 402 answer under the policy (see the module docs)."""

    name: str = "x402_paid_request"
    description: str = ""
    args_schema: type[BaseModel] = RequestArgs
    key: InstanceOf[PrivateKey] = Field(repr=False, exclude=True)
    approve: Approver | None = Field(default=None, exclude=True)
    # Budgets, breakers, ledger and kill switch: shared by the tools of one toolkit (a new one
    # by default: in memory, with the per-user SQLite ledger).
    purse: InstanceOf[Purse] = Field(default_factory=Purse, exclude=True)
    # The field of ToolRuntime.context holding the user id (Budget(per="user")).
    user_field: str = DEFAULT_USER_FIELD
    # The operator's kill switch: once set, no paid call is sent or signed (the run ends).
    halt: InstanceOf[threading.Event] | None = Field(default=None, exclude=True)
    max_body_chars: int = DEFAULT_MAX_BODY_CHARS
    # Quotes above this price pause the run with interrupt() for a human (None: never ask).
    ask_above: Decimal | None = None
    asker: InstanceOf[InterruptApprover] = Field(default_factory=InterruptApprover, exclude=True)
    # Marks a tool that spends (the budget middleware guards these).
    metadata: dict[str, Any] | None = Field(default_factory=lambda: {"x402": "paid"})

    def _describe(self) -> str:
        return (
            "Calls an HTTP API that may CHARGE MONEY: when the API asks for an x402 payment, this "
            "tool pays it automatically from the agent's wallet, at most "
            f"{self.policy.max_per_call} (token units, e.g. USDC) per call under the operator's "
            "policy. Returns the HTTP status and "
            "the response body, and what was paid. Free endpoints cost nothing. Use x402_quote "
            "first when unsure of the price; pass max_price to pay less than the cap."
        )

    # -- the kill switch, checked before sending and again just before signing --

    def _halted(self) -> None:
        if self.halt is not None and self.halt.is_set():
            raise SpendingHalted("x402 spending is halted by the operator's kill switch")
        why = self.purse.halted(self.policy, store=False)  # the store: at reservation
        if why is not None:
            raise SpendingHalted(why)

    def _gate(self, *, sync: bool, runtime: Any, spender: Spender) -> Approver:
        approve = self.approve

        def gate(quote: Quote) -> Any:
            self._halted()
            self.purse.saw(quote, spender)
            # Above ask_above: pauses the run (GraphInterrupt) until a human answers; nothing
            # is signed before.
            asks = self.ask_above is not None and quote.price > self.ask_above
            if asks and not self.asker(quote, tool_call_id_of(runtime)):
                return False
            verdict = True if approve is None else approve(quote)
            if sync and inspect.isawaitable(verdict):
                if inspect.iscoroutine(verdict):
                    verdict.close()  # never awaited: no "never awaited" warning
                raise TypeError(
                    "an async approver needs the async path (agent.ainvoke / tool.ainvoke)"
                )
            return verdict

        return gate

    def _client_kwargs(self) -> dict[str, Any]:
        return {"timeout": self.timeout, "headers": self.headers}

    # -- from the answer to what the model sees --

    def _result(
        self, response: httpx.Response, receipt: Receipt | None
    ) -> tuple[str, ReceiptRecord | None]:
        body = _truncate(response.text, self.max_body_chars)
        if receipt is None:
            return f"HTTP {response.status_code} (nothing paid).\n{body}", None
        if receipt.outcome == "paid":
            return f"{_paid_line(receipt)} HTTP {response.status_code}.\n{body}", receipt_record(
                receipt
            )
        if receipt.outcome == "not_charged":
            raise PaymentNotCharged(
                f"The seller did not accept the payment ({receipt.reason}); nothing was charged. "
                f"HTTP {response.status_code}.",
                receipt,
            )
        raise SpendUnconfirmed(
            f"payment outcome unknown: {receipt.quote.describe()} ({receipt.reason})", receipt
        )

    def pay(
        self,
        url: str,
        method: str = "GET",
        body: dict[str, Any] | None = None,
        max_price: Decimal | None = None,
        *,
        runtime: Any = None,
        callbacks: Callbacks = None,
        tool: str | None = None,
    ) -> tuple[str, ReceiptRecord | None]:
        """One call (sync), charged to ``tool`` (default: this tool's name) and the runtime's
        user; ``callbacks`` receive the ``x402_receipt`` event."""
        self._halted()
        spender = spender_for(tool or self.name, runtime, self.user_field)
        receipt: Receipt | None = None
        try:
            with paying_client(
                self.key,
                self._policy(max_price),
                approve=self._gate(sync=True, runtime=runtime, spender=spender),
                spending=self.purse.spending,
                transport=_Timed(self.timeout),
                **self._client_kwargs(),
            ) as client:
                request = client.build_request(
                    method, url, json=body, extensions={SPENDER: spender}
                )
                response = client.send(request, stream=True)
                try:
                    receipt = receipt_of(response)
                    response.read()
                finally:
                    response.close()
        except PaymentRefused as e:
            raise soft_refusal(e) from e
        except _UNSIGNED_FAILURES as e:
            if receipt is not None:  # paid, then the answer was lost while read
                raise SpendUnconfirmed(f"paid answer lost: {e}", receipt) from e
            raise RequestFailed(f"The request failed, nothing was paid: {e!r}") from e
        if receipt is not None and callbacks is not None:
            dispatch_custom_event(
                RECEIPT_EVENT, receipt_record(receipt), config={"callbacks": callbacks}
            )
        return self._result(response, receipt)

    async def apay(
        self,
        url: str,
        method: str = "GET",
        body: dict[str, Any] | None = None,
        max_price: Decimal | None = None,
        *,
        runtime: Any = None,
        callbacks: Callbacks = None,
        tool: str | None = None,
    ) -> tuple[str, ReceiptRecord | None]:
        """The asyncio twin of :meth:`pay`."""
        self._halted()
        spender = spender_for(tool or self.name, runtime, self.user_field)
        receipt: Receipt | None = None
        try:
            async with async_paying_client(
                self.key,
                self._policy(max_price),
                approve=self._gate(sync=False, runtime=runtime, spender=spender),
                spending=self.purse.aspending,
                transport=_AsyncTimed(self.timeout),
                **self._client_kwargs(),
            ) as client:
                request = client.build_request(
                    method, url, json=body, extensions={SPENDER: spender}
                )
                response = await client.send(request, stream=True)
                try:
                    receipt = receipt_of(response)
                    await response.aread()
                finally:
                    await response.aclose()
        except PaymentRefused as e:
            raise soft_refusal(e) from e
        except _UNSIGNED_FAILURES as e:
            if receipt is not None:
                raise SpendUnconfirmed(f"paid answer lost: {e}", receipt) from e
            raise RequestFailed(f"The request failed, nothing was paid: {e!r}") from e
        if receipt is not None and callbacks is not None:
            await adispatch_custom_event(
                RECEIPT_EVENT, receipt_record(receipt), config={"callbacks": callbacks}
            )
        return self._result(response, receipt)

    def _run(
        self,
        url: str,
        method: str = "GET",
        body: dict[str, Any] | None = None,
        max_price: Decimal | None = None,
        runtime: Any = None,
        run_manager: CallbackManagerForToolRun | None = None,
    ) -> tuple[str, ReceiptRecord | None]:
        callbacks = run_manager.get_child() if run_manager is not None else None
        return self.pay(url, method, body, max_price, runtime=runtime, callbacks=callbacks)

    async def _arun(
        self,
        url: str,
        method: str = "GET",
        body: dict[str, Any] | None = None,
        max_price: Decimal | None = None,
        runtime: Any = None,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
    ) -> tuple[str, ReceiptRecord | None]:
        callbacks = run_manager.get_child() if run_manager is not None else None
        return await self.apay(url, method, body, max_price, runtime=runtime, callbacks=callbacks)


def describe_offers(found: Offers | None, status: int) -> str:
    """The quote tool's text: the verdict first, then every offer."""
    if found is None:
        return f"Free: HTTP {status}, no payment asked."
    lines: list[str] = []
    if found.quotes:
        lines.append(f"Would pay: {found.quotes[0].describe()} (within the policy).")
    else:
        lines.append("Would NOT pay: no offer is allowed by the policy.")
    lines.extend(f"- allowed: {q.describe()}" for q in found.quotes)
    lines.extend(
        f"- refused: {r.amount} atomic units of {r.asset} on {r.network} to {r.pay_to}: {why}"
        for r, why in found.refused
    )
    return "\n".join(lines)


class X402QuoteTool(_PolicyTool):
    """What a URL asks to be paid and the policy's verdict; nothing is signed or paid."""

    name: str = "x402_quote"
    description: str = ""
    args_schema: type[BaseModel] = QuoteArgs

    def _describe(self) -> str:
        return (
            "FREE: shows what an HTTP API would charge (x402 price, token, network, payee) and "
            "whether the operator's policy (at most "
            f"{self.policy.max_per_call} token units per call) would pay it. Nothing is paid; "
            "use x402_paid_request to actually call it."
        )

    def _verdict(
        self, request: httpx.Request, response: httpx.Response, max_price: Decimal | None
    ) -> tuple[str, OffersRecord]:
        if response.status_code != 402:
            return describe_offers(None, response.status_code), offers_record(None)
        found = offers(request, parse_402(response), self._policy(max_price))
        return describe_offers(found, 402), offers_record(found)

    def _run(
        self,
        url: str,
        method: str = "GET",
        max_price: Decimal | None = None,
        run_manager: CallbackManagerForToolRun | None = None,
    ) -> tuple[str, OffersRecord]:
        try:
            with httpx.Client(
                follow_redirects=False, timeout=self.timeout, headers=self.headers
            ) as client:
                request = client.build_request(method, url)
                response = client.send(request)
                return self._verdict(request, response, max_price)
        except _UNSIGNED_FAILURES as e:
            raise RequestFailed(f"Could not read the price: {e!r}") from e

    async def _arun(
        self,
        url: str,
        method: str = "GET",
        max_price: Decimal | None = None,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
    ) -> tuple[str, OffersRecord]:
        try:
            async with httpx.AsyncClient(
                follow_redirects=False, timeout=self.timeout, headers=self.headers
            ) as client:
                request = client.build_request(method, url)
                response = await client.send(request)
                return self._verdict(request, response, max_price)
        except _UNSIGNED_FAILURES as e:
            raise RequestFailed(f"Could not read the price: {e!r}") from e


__all__ = [
    "DEFAULT_MAX_BODY_CHARS",
    "RECEIPT_EVENT",
    "QuoteArgs",
    "RequestArgs",
    "X402QuoteTool",
    "X402RequestTool",
    "describe_offers",
]
