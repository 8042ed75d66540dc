"""httpx transports that pay 402 answers under a spend policy (sync and async twins).

The flow of one paid call (:mod:`fastx402.client.flow`, shared with the requests adapter): the
request is sent; a 402 is parsed by the core; the offers are checked against the policy and the
best allowed one becomes the :class:`~fastx402.client.Quote`; the approver (if any) sees that
quote; the quote's own requirements are signed; the *same* request is sent again, to the same
URL, with the payment header. The paid answer is never followed through a redirect by this
transport, and a payment is only ever sent to the origin that quoted it.

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

from typing import Any

import httpx

from fastx402._core import PrivateKey
from fastx402.client.flow import (
    PAID_REQUEST,
    RECEIPT,
    Approver,
    Paid,
    PaymentRefused,
    PaymentUnconfirmed,
    Settings,
    WouldPay,
    adrive,
    drive,
    lost,
    paid_request_of,
    pay,
    receipt_of,
)
from fastx402.client.policy import SpendPolicy
from fastx402.client.spending import AsyncSpending, Spender, Spending, spender_of

__all__ = [
    "RECEIPT",
    "Approver",
    "AsyncPaymentTransport",
    "PaymentRefused",
    "PaymentTransport",
    "PaymentUnconfirmed",
    "WouldPay",
    "paid_request_of",
    "receipt_of",
]


def _paid_request(request: httpx.Request, header: tuple[str, str]) -> httpx.Request:
    headers = httpx.Headers(request.headers)
    headers[header[0]] = header[1]
    return httpx.Request(
        request.method,
        request.url,
        headers=headers,
        content=request.content,
        # The caller's timeout (and other per-request settings) apply to the paid request too.
        extensions=dict(request.extensions),
    )


def _answered(paid: Paid, answer: httpx.Response | None, request: httpx.Request) -> httpx.Response:
    if answer is None or not paid.answered:
        raise PaymentUnconfirmed(paid.receipt, _paid_request(request, paid.header))
    marks: dict[str, Any] = {RECEIPT: paid.receipt}
    if paid.receipt.outcome == "unknown":
        marks[PAID_REQUEST] = _paid_request(request, paid.header)
    answer.extensions = {**answer.extensions, **marks}
    return answer


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
        dry_run: bool = False,
    ) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.settings = Settings(
            key, policy or SpendPolicy(), approve, resends, resend_wait, spender, dry_run
        )
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
        last: list[httpx.Response] = []

        def send(header: tuple[str, str]) -> httpx.Response | None:
            last.clear()
            try:
                answer = self.inner.handle_request(_paid_request(request, header))
            except httpx.TransportError:
                return None
            if lost(answer.status_code):
                answer.read()
            last.append(answer)
            return answer

        spender = spender_of(request.extensions, self.settings.spender)
        paid = drive(pay(request, response, self.settings, self.spending, spender), send)
        return _answered(paid, last[0] if last else None, request)

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
        dry_run: bool = False,
    ) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.settings = Settings(
            key, policy or SpendPolicy(), approve, resends, resend_wait, spender, dry_run
        )
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
        last: list[httpx.Response] = []

        async def send(header: tuple[str, str]) -> httpx.Response | None:
            last.clear()
            try:
                answer = await self.inner.handle_async_request(_paid_request(request, header))
            except httpx.TransportError:
                return None
            if lost(answer.status_code):
                await answer.aread()
            last.append(answer)
            return answer

        spender = spender_of(request.extensions, self.settings.spender)
        paid = await adrive(pay(request, response, self.settings, self.spending, spender), send)
        return _answered(paid, last[0] if last else None, request)

    async def aclose(self) -> None:
        await self.inner.aclose()
        if self._owns_spending:
            await self.spending.close()
