"""One paid call's decisions, written once for every HTTP client (sans-I/O).

:func:`pay` is a generator: given the request and its 402 answer, it chooses the quote, reserves
it, asks the approver, signs the quote's own requirements, and sends the *same* signed header
again (bounded) while the answer is lost; then it reads the receipt and commits it. It does no I/O
itself: it yields effects (:class:`Call`, :class:`Send`, :class:`Sleep`) and a driver runs them,
sync (:func:`drive`) or async (:func:`adrive`), over httpx or requests. An exception raised by an
effect is thrown back into the flow, which finishes the reservation (released when provably
not sent, kept when it may have been) before it propagates.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, Union

import httpx

from fastx402._core import PrivateKey, create_payment
from fastx402.client.policy import SpendPolicy
from fastx402.client.quote import Offers, Quote, offers, parse_402
from fastx402.client.receipt import Receipt, read_receipt
from fastx402.client.spending import AsyncSpending, Spender, Spending, SpendingHalted
from fastx402.errors import X402Error

Approver = Callable[[Quote], bool | Awaitable[bool]]
RECEIPT = "fastx402_receipt"
# On an answer whose outcome is unknown: the signed request, to resend later (never re-sign).
PAID_REQUEST = "fastx402_paid_request"


class PaymentRefused(X402Error):
    """Nothing was signed: no offer the policy allows, or the approver said no. ``reasons``
    names each offer's refusal (``over_cap: …``, ``host_not_allowed: …``, ``denied``)."""

    def __init__(self, message: str, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = reasons


class WouldPay(X402Error):
    """A dry run's verdict *yes*: the policy, the budgets and the approver accept ``quote``,
    and nothing was signed or sent (a *no* is :class:`PaymentRefused`, as in a real run). The
    budget reservation is released; the ledger shows the quote, not charged (``dry run``)."""

    def __init__(self, quote: Quote) -> None:
        super().__init__(f"dry run: would pay {quote.describe()}")
        self.quote = quote


class PaymentUnconfirmed(X402Error):
    """The payment was signed and sent, and no answer came back after the bounded resends:
    it may have settled. ``receipt`` (outcome ``unknown``) holds the quote; the same signed
    payment must be resent, never a new one signed."""

    def __init__(self, receipt: Receipt, request: Any) -> None:
        super().__init__(f"payment outcome unknown: {receipt.quote.describe()} ({receipt.reason})")
        self.receipt = receipt
        # The paid request (an httpx.Request or a requests.PreparedRequest), signed header
        # included: send exactly this again to learn the outcome.
        self.request = request


def _mark(response: object, name: str) -> Any:
    if isinstance(response, httpx.Response):
        return response.extensions.get(name)
    return getattr(response, name, None)


def receipt_of(response: object) -> Receipt | None:
    """The receipt of a paid call, from an httpx or a requests response (None: not paid)."""
    found = _mark(response, RECEIPT)
    return found if isinstance(found, Receipt) else None


def paid_request_of(response: object) -> Any:
    """When a paid call's outcome is ``unknown`` though an answer came (a 5xx after the
    resends): the signed request (``httpx.Request`` or ``requests.PreparedRequest``) to send
    again later and reconcile with; None otherwise."""
    return _mark(response, PAID_REQUEST)


@dataclass
class Settings:
    """A paying client's fixed choices (``resends`` of the same signed header on a lost answer,
    ``resend_wait`` seconds apart unless the seller's Retry-After says otherwise)."""

    key: PrivateKey
    policy: SpendPolicy
    approve: Approver | None = None
    resends: int = 3
    resend_wait: float = 0.5
    spender: Spender | None = None
    # The whole decision (offer, policy, budgets, approval) and no signature: WouldPay.
    dry_run: bool = False


# --- effects ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """Run ``fn(*args)`` (awaited by the async driver). ``shield``: finishing a reservation,
    which a cancelled caller must not interrupt."""

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    shield: bool = False


@dataclass(frozen=True)
class Send:
    """Send the request again, to the same URL, with this header; the answer comes back (an
    httpx view of its status and headers), or None when it was lost on the wire."""

    header: tuple[str, str]


@dataclass(frozen=True)
class Sleep:
    seconds: float


Effect = Union[Call, Send, Sleep]  # noqa: UP007 (a runtime alias on Python 3.10)


@dataclass(frozen=True)
class Paid:
    """The flow's end: the receipt, the header that was sent, whether any answer came back."""

    receipt: Receipt
    header: tuple[str, str]
    answered: bool


# --- the decisions ------------------------------------------------------------------------------


def choose(request: httpx.Request, response: httpx.Response, policy: SpendPolicy) -> Quote:
    found: Offers = offers(request, parse_402(response), policy)
    if not found.quotes:
        reasons = tuple(reason for _, reason in found.refused)
        raise PaymentRefused(
            f"no payable offer for {request.url}: " + "; ".join(reasons or ("none offered",)),
            reasons,
        )
    return found.quotes[0]


def payment_id(ledger_id: str) -> str:
    """The official ``payment-identifier`` id of a payment: its ledger id, the same on every
    resend of the same signed payment (sellers that honour it deduplicate on it)."""
    return f"pay_{ledger_id}"


def lost(status: int | None) -> bool:
    """No usable answer: nothing came back, a 5xx, or a 409 (the seller has it in flight)."""
    return status is None or status >= 500 or status == 409


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
    if isinstance(error, WouldPay):
        return "dry run: nothing signed"
    return f"not sent: {type(error).__name__}"


def pay(
    request: httpx.Request,
    response: httpx.Response,
    s: Settings,
    spending: Spending | AsyncSpending,
    spender: Spender,
) -> Generator[Effect, Any, Paid]:
    """The paid call after its 402 (``request``: its method and URL; ``response``: the 402)."""
    quote = choose(request, response, s.policy)
    # Budgets first: the approver never sees a quote the budgets refuse; a no releases it.
    held = yield Call(spending.reserve, (quote, s.policy, spender))
    try:
        if s.approve is not None and not (yield Call(s.approve, (quote,))):
            raise PaymentRefused(f"approval denied: {quote.describe()}", ("denied",))
        if s.dry_run:
            raise WouldPay(quote)
        # The quote's own requirements are signed: what the policy and approver saw, exactly.
        payment = create_payment(quote.required, s.key, requirements=quote.requirements)
        if quote.required.x402_version == 2:  # a v1 payload has no extensions to carry it
            payment = payment.with_payment_identifier(payment_id(held.id))
        yield Call(held.signed, (payment,))
        name = "PAYMENT-SIGNATURE" if quote.required.x402_version == 2 else "X-PAYMENT"
        header = (name, payment.to_header())
        yield Call(held.sent)
    except BaseException as e:
        yield Call(held.release, (_not_sent(e),), shield=True)
        raise
    answer: httpx.Response | None = None
    try:
        for attempt in range(s.resends + 1):
            if attempt:
                yield Sleep(_retry_after(answer, s.resend_wait))
            answer = yield Send(header)
            if not lost(None if answer is None else answer.status_code):
                break
    except BaseException as e:
        yield Call(held.keep, (f"interrupted after sending: {type(e).__name__}",), shield=True)
        raise
    receipt = read_receipt(answer, quote, s.key.address, held.id)
    yield Call(held.commit, (receipt,))
    return Paid(receipt, header, answer is not None)


# --- drivers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Done:
    """What the last effect gave: its result, or the error to throw into the flow."""

    result: Any = None
    error: BaseException | None = None

    def next(self, flow: Generator[Effect, Any, Paid]) -> Effect | Paid:
        """The flow's next effect, or its end."""
        try:
            return flow.throw(self.error) if self.error is not None else flow.send(self.result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


def _effect(effect: Effect, send: Callable[[tuple[str, str]], httpx.Response | None]) -> _Done:
    try:
        if isinstance(effect, Send):
            return _Done(send(effect.header))
        if isinstance(effect, Sleep):
            time.sleep(effect.seconds)
            return _Done()
        result = effect.fn(*effect.args)
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            raise TypeError("an async approver needs an async client")
        return _Done(result)
    except BaseException as e:
        return _Done(error=e)


def drive(
    flow: Generator[Effect, Any, Paid], send: Callable[[tuple[str, str]], httpx.Response | None]
) -> Paid:
    """Run a flow synchronously; ``send`` performs :class:`Send` (None: lost on the wire)."""
    done = _Done()
    while not isinstance(effect := done.next(flow), Paid):
        done = _effect(effect, send)
    return effect


async def adrive(
    flow: Generator[Effect, Any, Paid],
    send: Callable[[tuple[str, str]], Awaitable[httpx.Response | None]],
) -> Paid:
    """The asyncio twin of :func:`drive`: effects that return awaitables are awaited (those
    marked ``shield`` even when the caller is cancelled)."""
    done = _Done()
    while not isinstance(effect := done.next(flow), Paid):
        try:
            if isinstance(effect, Call):
                result = effect.fn(*effect.args)
                if inspect.isawaitable(result):
                    result = await (asyncio.shield(result) if effect.shield else result)
            elif isinstance(effect, Sleep):
                await asyncio.sleep(effect.seconds)
                result = None
            else:
                result = await send(effect.header)
            done = _Done(result)
        except BaseException as e:
            done = _Done(error=e)
    return effect
