"""What the tools raise: soft refusals the model reads, hard stops that end the run.

Soft refusals subclass :class:`langchain_core.tools.ToolException`; the tools set
``handle_tool_error=True``, so LangGraph's ToolNode turns them into a ``ToolMessage`` (status
``error``) with text the model can act on (a cheaper call, another host, asking the user). In every
one of them nothing was charged: nothing was signed, or the seller said it did not settle.

Hard stops are deliberately *not* ``ToolException``: ToolNode re-raises them and the agent run
ends with the exception, for the operator to look at. They are the kill switch
(:class:`SpendingHalted`), a payment that may have been spent without a usable answer
(:class:`SpendUnconfirmed`, and :class:`fastx402.client.PaymentUnconfirmed` from the transport,
which propagates unchanged), and misconfiguration (``PolicyError``, an async approver on the sync
path, ...), which propagates unchanged as well.
"""

from __future__ import annotations

from langchain_core.tools import ToolException

from fastx402.client import PaymentRefused, Receipt


class X402ToolError(ToolException):
    """A soft refusal: nothing was charged. ``reasons`` are the machine-readable causes."""

    def __init__(self, message: str, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = reasons


class PriceAboveCap(X402ToolError):
    """Every offer costs more than the per-call cap (the operator's, or the lower ``max_price``)."""


class HostNotAllowed(X402ToolError):
    """The policy does not pay this host (not listed, denied, or plain http)."""


class OfferNotAllowed(X402ToolError):
    """No offer on an allowed network, asset, payee or scheme."""


class BudgetExhausted(X402ToolError):
    """A budget of the client refused the payment (``budget…`` reasons)."""


class ApprovalDenied(X402ToolError):
    """The operator's approver said no to the quote."""


class PaymentNotCharged(X402ToolError):
    """The payment was sent and the seller said it did not settle it. ``receipt`` is attached."""

    def __init__(self, message: str, receipt: Receipt) -> None:
        super().__init__(message, (receipt.reason or "not_charged",))
        self.receipt = receipt


class RequestFailed(X402ToolError):
    """The request failed before anything was signed (connection, bad URL, not an x402 402)."""


class X402HardStop(Exception):
    """Ends the agent run: never shown to the model as a tool result."""


class SpendingHalted(X402HardStop):
    """The operator's kill switch is set: no paid call is even sent."""


class SpendUnconfirmed(X402HardStop):
    """A payment was sent and its outcome is not known (no usable settlement receipt, or the paid
    answer was lost while read): it may have been charged. ``receipt`` holds the quote."""

    def __init__(self, message: str, receipt: Receipt) -> None:
        super().__init__(message)
        self.receipt = receipt


_BY_PREFIX: tuple[tuple[str, type[X402ToolError]], ...] = (
    ("over_cap", PriceAboveCap),
    ("budget", BudgetExhausted),
    ("denied", ApprovalDenied),
    ("host_not_allowed", HostNotAllowed),
)


def soft_refusal(refused: PaymentRefused) -> X402ToolError:
    """The soft refusal for a :class:`PaymentRefused` (nothing was signed): the most actionable
    class among its reasons, with a message that says what to try."""
    reasons = refused.reasons or ("refused",)
    kind: type[X402ToolError] = OfferNotAllowed
    for prefix, cls in _BY_PREFIX:
        if any(r.startswith(prefix) for r in reasons):
            kind = cls
            break
    hint = {
        PriceAboveCap: "The price is above the spending cap; do not retry this call as is.",
        BudgetExhausted: "The spending budget is exhausted; do not retry paid calls.",
        ApprovalDenied: "The operator did not approve this payment; do not retry it.",
        HostNotAllowed: "This host may not be paid; use another source.",
        OfferNotAllowed: "No offer of this API can be paid under the policy.",
    }[kind]
    return kind(f"Payment refused, nothing was paid ({'; '.join(reasons)}). {hint}", reasons)


__all__ = [
    "ApprovalDenied",
    "BudgetExhausted",
    "HostNotAllowed",
    "OfferNotAllowed",
    "PaymentNotCharged",
    "PriceAboveCap",
    "RequestFailed",
    "SpendUnconfirmed",
    "SpendingHalted",
    "X402HardStop",
    "X402ToolError",
    "soft_refusal",
]
