"""A ``requests`` transport adapter that pays 402 answers, with the httpx transport's flow.

```python
session = requests.Session()
session.mount("https://", PaymentAdapter(key, policy))
# or, ready made (redirects of a paid answer are never followed):
session = paying_session(key, policy)
receipt_of(session.get(url))
```

The decisions (quote, budgets, approval, signing, resending the same signed header on a lost
answer, the receipt) are :mod:`fastx402.client.flow`'s, the same as the httpx transports'; this
module only moves bytes with requests. The paid request goes to the URL that quoted, with the
caller's timeout, TLS and proxy settings; its answer carries the receipt
(``receipt_of(response)``). A plain ``Session`` follows redirects after the adapter returns:
:func:`paying_session` (a :class:`PayingSession`) never follows the redirect of a paid answer, so
a payment is never carried to another origin.

Needs the ``requests`` extra (``pip install fastx402[requests]``).
"""

from __future__ import annotations

from typing import Any

import httpx
import requests
from requests.adapters import HTTPAdapter

from fastx402._core import PrivateKey
from fastx402.client.flow import (
    PAID_REQUEST,
    RECEIPT,
    Approver,
    PaymentUnconfirmed,
    Settings,
    drive,
    lost,
    pay,
    receipt_of,
)
from fastx402.client.policy import SpendPolicy
from fastx402.client.spending import Spender, Spending

__all__ = ["PayingSession", "PaymentAdapter", "paying_session", "receipt_of"]

# Lost on the wire after sending: the same signed header is sent again.
_LOST = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def _view(response: requests.Response, *, body: bool) -> httpx.Response:
    """The status and headers (and the body of a 402) as an httpx response for the shared flow."""
    return httpx.Response(
        response.status_code,
        headers=list(response.headers.items()),
        content=response.content if body else b"",
    )


class PaymentAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` that pays 402 answers (mount it on ``https://``, and ``http://`` for
    local sellers with ``allow_http``). ``spender``: who spends (the ledger's agent/tool/user)."""

    def __init__(
        self,
        key: PrivateKey,
        policy: SpendPolicy | None = None,
        *,
        spending: Spending | None = None,
        approve: Approver | None = None,
        spender: Spender | None = None,
        resends: int = 3,
        resend_wait: float = 0.5,
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)  # HTTPAdapter's own: pool sizes, max_retries
        self.spending = spending or Spending()
        self._owns_spending = spending is None
        self.settings = Settings(
            key, policy or SpendPolicy(), approve, resends, resend_wait, spender, dry_run
        )

    def kill(self) -> None:
        """The kill switch: no payment is signed or sent after this (:class:`SpendingHalted`)."""
        self.spending.kill()

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        response = super().send(request, **kwargs)
        if response.status_code != 402:
            return response
        first = _view(response, body=True)
        last: list[requests.Response] = []

        def paid_request(header: tuple[str, str]) -> requests.PreparedRequest:
            paid = request.copy()
            paid.headers[header[0]] = header[1]
            return paid

        def send(header: tuple[str, str]) -> httpx.Response | None:
            last.clear()
            try:
                answer = super(PaymentAdapter, self).send(paid_request(header), **kwargs)
            except _LOST:
                return None
            if lost(answer.status_code):
                answer.content  # noqa: B018 (read: frees the connection for the resend)
            last.append(answer)
            return _view(answer, body=False)

        view = httpx.Request(request.method or "GET", request.url or "")
        spender = self.settings.spender or Spender()
        paid = drive(pay(view, first, self.settings, self.spending, spender), send)
        if not last or not paid.answered:
            raise PaymentUnconfirmed(paid.receipt, paid_request(paid.header))
        setattr(last[0], RECEIPT, paid.receipt)
        if paid.receipt.outcome == "unknown":
            setattr(last[0], PAID_REQUEST, paid_request(paid.header))
        return last[0]

    def close(self) -> None:
        super().close()  # type: ignore[no-untyped-call]
        if self._owns_spending:
            self._owns_spending = False  # mounted on both schemes: closed once
            self.spending.close()


class PayingSession(requests.Session):
    """A ``requests.Session`` whose https and http traffic goes through a :class:`PaymentAdapter`
    (``payments``), and which never follows the redirect of a paid answer."""

    payments: PaymentAdapter

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        if receipt_of(resp) is not None:
            return None  # a paid answer is final: its payment never travels to another origin
        return super().get_redirect_target(resp)

    def kill(self) -> None:
        """Stop all spending at once (the ledger: ``session.payments.spending.ledger``)."""
        self.payments.kill()


def paying_session(
    key: PrivateKey, policy: SpendPolicy | None = None, **options: Any
) -> PayingSession:
    """A ready :class:`PayingSession`; ``options`` are :class:`PaymentAdapter`'s (``approve``,
    ``spending``, ``spender``, ``resends``, ...). Both schemes are mounted: plain http is still
    refused by the policy unless ``allow_http``."""
    session = PayingSession()
    session.payments = PaymentAdapter(key, policy, **options)
    for scheme in ("https://", "http://"):
        session.mount(scheme, session.payments)
    return session
