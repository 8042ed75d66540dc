"""Finishing a payment whose outcome was unknown, never by signing again.

A payment is ``unknown`` when it was sent and no usable answer came back
(:class:`~fastx402.client.PaymentUnconfirmed`, or a 5xx after the bounded resends). Its
reservation is kept. Later, send the *same* signed request again
(``PaymentUnconfirmed.request``, or ``paid_request_of(response)`` for a 5xx): the seller
answers with the kept response and its settlement receipt, or says it did not settle. Read that
answer against the original quote with
:func:`receipt_of_answer` and hand it to :meth:`Spending.reconcile
<fastx402.client.Spending.reconcile>`, which writes the final phase and gives the budgets back
as the receipt says::

    try:
        client.get(url)
    except PaymentUnconfirmed as lost:
        answer = httpx.Client().send(lost.request)       # the same signature, later
        spending.reconcile(receipt_of_answer(lost.receipt, answer), policy)

Reading the token's ``authorizationState(payer, nonce)`` on chain would settle it without the
seller; the core exposes no such read for clients yet, so it is not done here.
"""

from __future__ import annotations

from typing import Any

import httpx

from fastx402.client.receipt import Receipt, read_receipt


def receipt_of_answer(unknown: Receipt, answer: Any) -> Receipt:
    """The receipt that ``answer`` (an httpx or requests response to the resent payment)
    gives for the payment of ``unknown``: ``paid``, ``not_charged`` or still ``unknown``."""
    if not isinstance(answer, httpx.Response):
        answer = httpx.Response(answer.status_code, headers=list(answer.headers.items()))
    return read_receipt(answer, unknown.quote, unknown.payer, unknown.payment_id)
