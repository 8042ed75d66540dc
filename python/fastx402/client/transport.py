"""httpx transports that pay 402 answers under a spend policy (sync and async twins).

The flow of one paid call: the request is sent; a 402 is parsed by the core; the offers are
checked against the policy and the best allowed one becomes the :class:`~fastx402.client.Quote`;
the approver (if any) sees that quote; the quote's own requirements are signed; the *same* request
is sent again, to the same URL, with the payment header. The paid answer is never followed through
a redirect by this transport, and a payment is only ever sent to the origin that quoted it.

A lost answer (timeout or connection lost after sending, a 5xx, a 409 "in flight") resends the
*identical* signed header, a bounded number of times: it is never re-signed, so it can settle at
most once. The response carries a :class:`~fastx402.client.Receipt` (``receipt_of(response)``).

Around each payment a :class:`~fastx402.client.Spending` (``AsyncSpending``) reserves the quote on
the policy's budgets and breakers before anything is signed (and before the approver is asked:
it never sees a quote the budgets refuse; a no releases the reservation), writes each ledger
phase before the next step, and finishes the reservation with the receipt: released when
provably not charged, kept at the quoted amount when unknown.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from fastx402._core import PrivateKey, create_payment
from fastx402.client.policy import SpendPolicy
from fastx402.client.quote import Offers, Quote, offers, parse_402
from fastx402.client.receipt import Receipt, read_receipt
from fastx402.client.spending import (
    AsyncSpending,
    Spender,
    Spending,
    SpendingHalted,
    spender_of,
)
from fastx402.errors import X402Error

Approver = Callable[[Quote], bool | Awaitable[bool]]
RECEIPT = "fastx402_receipt"


class PaymentRefused(X402Error):
    """Nothing was signed: no offer the policy allows, or the approver said no. ``reasons``
    names each offer's refusal (``over_cap: …``, ``host_not_allowed: …``, ``denied``)."""

    def __init__(self, message: str, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = reasons


def receipt_of(response: httpx.Response) -> Receipt | None:
    """The receipt of a paid call (None: the call was not paid)."""
    receipt = response.extensions.get(RECEIPT)
    return receipt if isinstance(receipt, Receipt) else None


@dataclass
class _Settings:
    key: PrivateKey
    policy: SpendPolicy
    approve: Approver | None
    resends: int
    resend_wait: float
    spender: Spender | None


def _choose(request: httpx.Request, response: httpx.Response, s: _Settings) -> Quote:
    found: Offers = offers(request, parse_402(response), s.policy)
    if not found.quotes:
        reasons = tuple(reason for _, reason in found.refused)
        raise PaymentRefused(
            f"no payable offer for {request.url}: " + "; ".join(reasons or ("none offered",)),
            reasons,
        )
    return found.quotes[0]


def _paid_request(request: httpx.Request, quote: Quote, header: str) -> httpx.Request:
    headers = httpx.Headers(request.headers)
    name = "PAYMENT-SIGNATURE" if quote.required.x402_version == 2 else "X-PAYMENT"
    headers[name] = header
    return httpx.Request(
        request.method,
        request.url,
        headers=headers,
        content=request.content,
        # The caller's timeout (and other per-request settings) apply to the paid request too.
        extensions=dict(request.extensions),
    )


def _payment_id(ledger_id: str) -> str:
    """The official ``payment-identifier`` id of a payment: its ledger id, the same on every
    resend of the same signed payment (sellers that honour it deduplicate on it)."""
    return f"pay_{ledger_id}"


def _retry_after(response: httpx.Response | None, default: float) -> float:
    if response is None:
        return default
    try:
        return min(float(response.headers.get("retry-after", default)), 10.0)
    except ValueError:
        return default


def _not_sent(error: BaseException) -> str:
    if isinstance(error, PaymentRefused) and error.reasons:
        return error.reasons[0]
    if isinstance(error, SpendingHalted):
        return str(error)
    return f"not sent: {type(error).__name__}"


def _lost(response: httpx.Response | None) -> bool:
    return response is None or response.status_code >= 500 or response.status_code == 409


class PaymentTransport(httpx.BaseTransport):
    """Wraps ``inner`` (default ``httpx.HTTPTransport()``) and pays 402 answers."""

    def __init__(
        self,
        key: PrivateKey,
        policy: SpendPolicy | None = None,
        *,
        approve: Approver | None = None,
        inner: httpx.BaseTransport | None = None,
        resends: int = 3,
        resend_wait: float = 0.5,
        spending: Spending | None = None,
        spender: Spender | None = None,
    ) -> None:
        self.inner = inner or httpx.HTTPTransport()
        s = _Settings(key, policy or SpendPolicy(), approve, resends, resend_wait, spender)
        self.settings = s
        self._owns_spending = spending is None
        self.spending = spending or Spending()

    def kill(self) -> None:
        """The kill switch: no payment is signed or sent after this (:class:`SpendingHalted`)."""
        self.spending.kill()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        response = self.inner.handle_request(request)
        if response.status_code != 402:
            return response
        response.read()
        quote = _choose(request, response, self.settings)
        spender = spender_of(request.extensions, self.settings.spender)
        held = self.spending.reserve(quote, self.settings.policy, spender)
        answer: httpx.Response | None = None
        try:
            approve = self.settings.approve
            if approve is not None:
                verdict = approve(quote)
                if inspect.isawaitable(verdict):
                    raise TypeError("an async approver needs AsyncPaymentTransport")
                if not verdict:
                    raise PaymentRefused(f"approval denied: {quote.describe()}", ("denied",))
            s = self.settings
            payment = create_payment(
                quote.required, s.key, requirements=quote.requirements
            ).with_payment_identifier(_payment_id(held.id))
            held.signed(payment)
            paid = _paid_request(request, quote, payment.to_header())
            held.sent()
        except BaseException as e:
            held.release(_not_sent(e))
            raise
        try:
            for attempt in range(self.settings.resends + 1):
                if attempt:
                    time.sleep(_retry_after(answer, self.settings.resend_wait))
                try:
                    answer = self.inner.handle_request(paid)
                except httpx.TransportError:
                    answer = None
                    continue
                if not _lost(answer):
                    break
                answer.read()
        except BaseException as e:
            held.keep(f"interrupted after sending: {type(e).__name__}")
            raise
        receipt = read_receipt(answer, quote, self.settings.key.address, held.id)
        held.commit(receipt)
        if answer is None:
            raise PaymentUnconfirmed(receipt, paid)
        answer.extensions = {**answer.extensions, RECEIPT: receipt}
        return answer

    def close(self) -> None:
        self.inner.close()
        if self._owns_spending:
            self.spending.close()


class AsyncPaymentTransport(httpx.AsyncBaseTransport):
    """The asyncio twin of :class:`PaymentTransport`."""

    def __init__(
        self,
        key: PrivateKey,
        policy: SpendPolicy | None = None,
        *,
        approve: Approver | None = None,
        inner: httpx.AsyncBaseTransport | None = None,
        resends: int = 3,
        resend_wait: float = 0.5,
        spending: AsyncSpending | None = None,
        spender: Spender | None = None,
    ) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        s = _Settings(key, policy or SpendPolicy(), approve, resends, resend_wait, spender)
        self.settings = s
        self._owns_spending = spending is None
        self.spending = spending or AsyncSpending()

    def kill(self) -> None:
        """The kill switch: no payment is signed or sent after this (:class:`SpendingHalted`)."""
        self.spending.kill()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        response = await self.inner.handle_async_request(request)
        if response.status_code != 402:
            return response
        await response.aread()
        quote = _choose(request, response, self.settings)
        spender = spender_of(request.extensions, self.settings.spender)
        held = await self.spending.reserve(quote, self.settings.policy, spender)
        answer: httpx.Response | None = None
        try:
            approve = self.settings.approve
            if approve is not None:
                verdict = approve(quote)
                if inspect.isawaitable(verdict):
                    verdict = await verdict
                if not verdict:
                    raise PaymentRefused(f"approval denied: {quote.describe()}", ("denied",))
            s = self.settings
            payment = create_payment(
                quote.required, s.key, requirements=quote.requirements
            ).with_payment_identifier(_payment_id(held.id))
            await held.signed(payment)
            paid = _paid_request(request, quote, payment.to_header())
            await held.sent()
        except BaseException as e:
            await asyncio.shield(held.release(_not_sent(e)))
            raise
        try:
            for attempt in range(self.settings.resends + 1):
                if attempt:
                    await asyncio.sleep(_retry_after(answer, self.settings.resend_wait))
                try:
                    answer = await self.inner.handle_async_request(paid)
                except httpx.TransportError:
                    answer = None
                    continue
                if not _lost(answer):
                    break
                await answer.aread()
        except BaseException as e:
            await asyncio.shield(held.keep(f"interrupted after sending: {type(e).__name__}"))
            raise
        receipt = read_receipt(answer, quote, self.settings.key.address, held.id)
        await held.commit(receipt)
        if answer is None:
            raise PaymentUnconfirmed(receipt, paid)
        answer.extensions = {**answer.extensions, RECEIPT: receipt}
        return answer

    async def aclose(self) -> None:
        await self.inner.aclose()
        if self._owns_spending:
            await self.spending.close()


class PaymentUnconfirmed(X402Error):
    """The payment was signed and sent, and no answer came back after the bounded resends:
    it may have settled. ``receipt`` (outcome ``unknown``) holds the quote; the same signed
    payment must be resent, never a new one signed."""

    def __init__(self, receipt: Receipt, request: httpx.Request) -> None:
        super().__init__(f"payment outcome unknown: {receipt.quote.describe()} ({receipt.reason})")
        self.receipt = receipt
        # The paid request, signed header included: send exactly this again to learn the outcome.
        self.request = request
