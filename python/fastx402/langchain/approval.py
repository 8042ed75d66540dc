"""Human approval with the real price, through LangGraph's ``interrupt()``.

A paying tool with ``ask_above`` set pauses the run before signing any quote above that price:
``interrupt(payload)`` carries the quote that would be signed (:class:`ApprovalRequest`), the
graph's checkpointer saves the run, and ``agent.invoke(Command(resume=True), config)`` (or
``False``, or ``{"approved": bool}``; ``{"approved": True, "quote": payload["quote"]}`` also names
what was approved) resumes it. On resume the tool body runs again from the top
and asks the seller again: the quote it now gets is compared with the one shown (cached by
tool-call id). Cheaper or equal, same payee, asset and network: the approval applies. Otherwise
(a higher price, another ``payTo``, asset or network) the new quote is shown in a second
interrupt: a drift is re-asked, never silently paid, at most :data:`MAX_ASKS` times.

The cache lives in the tool's process (bounded). A run resumed where the cache does not know the
question (another process) is paid only if the resume value names the approved quote
(``{"approved": True, "quote": ...}``) and it has not drifted; a bare ``True`` is then refused.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Literal, TypedDict, cast

from langgraph.types import interrupt

from fastx402.client import PaymentRefused, Quote
from fastx402.langchain.records import QuoteRecord, quote_record

MAX_ASKS = 3
_MAX_CALLS = 1024


class ApprovalRequest(TypedDict):
    """The ``interrupt()`` payload: what the human decides on."""

    kind: Literal["x402_approval"]
    tool_call_id: str
    quote: QuoteRecord  # exactly what will be signed if approved
    previous: QuoteRecord | None  # the quote shown before, when the price drifted
    drift: list[str]  # what changed since ``previous``
    question: str


def approved(answer: Any) -> bool:
    """``True``, ``"yes"``/``"approve"``, or ``{"approved": True}``: yes; anything else: no."""
    if isinstance(answer, Mapping):
        answer = answer.get("approved")
    if isinstance(answer, str):
        return answer.strip().lower() in ("yes", "y", "approve", "approved", "true")
    return answer is True


def drift(shown: QuoteRecord, now: QuoteRecord) -> list[str]:
    """What makes ``now`` need a new approval after ``shown`` was approved (empty: nothing)."""
    changes: list[str] = []
    if int(now["amount"]) > int(shown["amount"]):
        changes.append(f"price {shown['price']} -> {now['price']} {now['symbol']}")
    for field in ("pay_to", "asset", "network", "url", "method"):
        if str(now[field]).lower() != str(shown[field]).lower():
            changes.append(f"{field} {shown[field]} -> {now[field]}")
    return changes


class InterruptApprover:
    """Asks through ``interrupt()`` and remembers, per tool call, the quotes it showed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shown: OrderedDict[str, list[QuoteRecord]] = OrderedDict()

    def _history(self, call_id: str) -> list[QuoteRecord]:
        with self._lock:
            shown = self._shown.setdefault(call_id, [])
            self._shown.move_to_end(call_id)
            while len(self._shown) > _MAX_CALLS:
                self._shown.popitem(last=False)
            return list(shown)

    def _remember(self, call_id: str, record: QuoteRecord) -> None:
        with self._lock:
            self._shown.setdefault(call_id, []).append(record)

    def _forget(self, call_id: str) -> None:
        with self._lock:
            self._shown.pop(call_id, None)

    def __call__(self, quote: Quote, call_id: str | None) -> bool:
        """True: approved for this exact quote. Pauses the run (``GraphInterrupt``) to ask."""
        if call_id is None:
            raise PaymentRefused(
                "approval needed: run the tool inside an agent (it pauses with interrupt())",
                ("denied: approval needs an agent run with a checkpointer",),
            )
        shown = self._history(call_id)
        # Replay the questions already asked, in order: LangGraph matches resume values to
        # interrupt() calls by position within the tool call.
        for i, record in enumerate(shown):
            previous = shown[i - 1] if i else None
            answer = interrupt(_request(call_id, record, previous))
            if not approved(answer):
                self._forget(call_id)
                return False
        current = quote_record(quote)
        if shown and not drift(shown[-1], current):
            self._forget(call_id)
            return True
        if len(shown) >= MAX_ASKS:
            self._forget(call_id)
            raise PaymentRefused(
                f"the price kept changing after {MAX_ASKS} approvals: {quote.describe()}",
                ("denied: price drift",),
            )
        self._remember(call_id, current)
        answer = interrupt(_request(call_id, current, shown[-1] if shown else None))
        # Only reached when this question was answered before this process cached it (resumed
        # in another process, or the cache evicted it): the answer may be about another quote.
        # It is trusted only if it names the quote it approves and that quote has not drifted.
        self._forget(call_id)
        if not approved(answer):
            return False
        named = answer.get("quote") if isinstance(answer, Mapping) else None
        if isinstance(named, Mapping) and _same_or_better(named, current):
            return True
        raise PaymentRefused(
            "the approval does not say which quote it approves (resumed without the quote "
            f"shown): not paid; call again to be asked anew ({quote.describe()})",
            ("denied: the approval is not for this quote; call again to be asked anew",),
        )


def _same_or_better(named: Mapping[str, Any], current: QuoteRecord) -> bool:
    fields = ("amount", "pay_to", "asset", "network", "url", "method", "price", "symbol")
    if not all(isinstance(named.get(f), str) for f in fields) or not named["amount"].isdigit():
        return False
    return not drift(cast(QuoteRecord, {f: named[f] for f in fields}), current)


def _request(call_id: str, record: QuoteRecord, previous: QuoteRecord | None) -> ApprovalRequest:
    changes = [] if previous is None else drift(previous, record)
    question = (
        f"Pay {record['price']} {record['symbol']} to {record['pay_to']} for {record['url']}?"
    )
    if changes:
        question = f"The quote changed ({'; '.join(changes)}). {question}"
    return {
        "kind": "x402_approval",
        "tool_call_id": call_id,
        "quote": record,
        "previous": previous,
        "drift": changes,
        "question": question,
    }


__all__ = ["MAX_ASKS", "ApprovalRequest", "InterruptApprover", "approved", "drift"]
