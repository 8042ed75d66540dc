"""Test paid routes without a node: a fake facilitator and a paying test client.

What ``stripe-mock`` is to Stripe users: :class:`FakeFacilitator` verifies payments with the real
Rust core (signature, terms, expiry, replay key) and "settles" each authorization exactly once in
memory, crediting ``received[pay_to]``; it never touches a chain and is never for money.
:class:`PayingClient` is an ``httpx`` client over the ASGI app that pays 402 answers with a test
key.

```python
from fastx402.testing import FakeFacilitator, PayingClient

fake = FakeFacilitator(["eip155:84532"])
app.add_middleware(PaymentMiddleware, facilitator=fake, routes=...)
with PayingClient(app) as client:
    assert client.get("/weather/paris").status_code == 200
assert fake.received[SELLER] == 1000
```

Faults for the seller's own error paths: :meth:`FakeFacilitator.fail_next` makes the next settle
``"failed"`` (definitively not charged), ``"unknown"`` (the answer lost: the payment *is* recorded
as settled, as a real facilitator would have done) or ``"unavailable"`` (never sent).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Literal

import httpx

from fastx402._core import (
    PaymentPayload,
    PaymentRequired,
    PaymentRequirements,
    PrivateKey,
    SettleResponse,
    SupportedResponse,
    VerifyResponse,
    create_payment,
    keccak256,
    verify_payment,
)
from fastx402.errors import FacilitatorUnavailable, SettlementOutcomeUnknown

Fault = Literal["failed", "unknown", "unavailable"]


class FakeFacilitator:
    """An in-memory facilitator for tests (see the module docs)."""

    # Settling a settled authorization again answers its first result (as fastx402's
    # facilitators do): the seller may reconcile an unknown outcome by asking again.
    idempotent_settle = True

    def __init__(
        self,
        networks: Sequence[str] = ("eip155:84532",),
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.networks = list(networks)
        self.clock = clock
        self.received: defaultdict[str, int] = defaultdict(int)
        self.settled: dict[str, SettleResponse] = {}  # replay key -> first result
        self._owners: dict[str, bytes] = {}  # replay key -> authorization digest
        self._faults: list[Fault] = []
        self._lock = asyncio.Lock()

    def fail_next(self, fault: Fault) -> None:
        self._faults.append(fault)

    def supported(self) -> SupportedResponse:
        return SupportedResponse.from_dict(
            {
                "kinds": [
                    {"x402Version": 2, "scheme": "exact", "network": n} for n in self.networks
                ],
                "extensions": [],
                "signers": {},
            }
        )

    def _check(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> tuple[Any, VerifyResponse]:
        result = verify_payment(payload, requirements, now=int(self.clock()))
        if result.is_valid:
            return result, VerifyResponse.from_dict({"isValid": True, "payer": result.payer})
        return result, VerifyResponse.from_dict(
            {
                "isValid": False,
                "invalidReason": result.reason,
                "invalidMessage": result.message,
                **({"payer": result.payer} if result.payer else {}),
            }
        )

    async def verify(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> VerifyResponse:
        return self._check(payload, requirements)[1]

    async def settle(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> SettleResponse:
        async with self._lock:
            result, verdict = self._check(payload, requirements)
            fault = self._faults.pop(0) if self._faults else None
            if fault == "unavailable":
                raise FacilitatorUnavailable("fake facilitator: unavailable")
            key, digest = result.replay_key, result.digest
            if key is not None and key in self.settled:
                if self._owners[key] == digest:
                    return self.settled[key]
                return self._failed(requirements, "invalid_exact_evm_nonce_already_used")
            if not verdict.is_valid or key is None or digest is None:
                return self._failed(requirements, str(verdict.invalid_reason))
            if fault == "failed":
                return self._failed(requirements, "transaction_failed")
            receipt = SettleResponse.from_dict(
                {
                    "success": True,
                    "payer": result.payer,
                    "transaction": "0x" + keccak256(digest).hex(),
                    "network": requirements.network,
                }
            )
            self.settled[key], self._owners[key] = receipt, digest
            self.received[requirements.pay_to] += int(requirements.amount)
            if fault == "unknown":
                raise SettlementOutcomeUnknown("fake facilitator: answer lost", "timeout", None)
            return receipt

    @staticmethod
    def _failed(requirements: PaymentRequirements, reason: str) -> SettleResponse:
        return SettleResponse.from_dict(
            {
                "success": False,
                "errorReason": reason,
                "transaction": "",
                "network": requirements.network,
            }
        )


class PayingClient(httpx.Client):
    """An ``httpx.Client`` over an ASGI app (or any transport) that pays each 402 once with
    ``key`` (a fresh test key by default) and retries; ``payments`` lists what it paid."""

    def __init__(
        self,
        app: Any,
        key: PrivateKey | None = None,
        *,
        base_url: str = "http://testserver",
        **kwargs: Any,
    ) -> None:
        from starlette.testclient import TestClient

        self._inner = TestClient(app, base_url=base_url)
        self.key = key or PrivateKey.generate()
        self.payments: list[PaymentPayload] = []
        super().__init__(base_url=base_url, transport=_Paying(self), **kwargs)

    def close(self) -> None:
        self._inner.close()
        super().close()


class _Paying(httpx.BaseTransport):
    def __init__(self, client: PayingClient) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        inner = self.client._inner
        first = _as_httpx(
            inner.request(
                request.method, str(request.url), headers=request.headers, content=request.content
            )
        )
        if first.status_code != 402 or "payment-required" not in first.headers:
            return first
        required = PaymentRequired.from_header(first.headers["payment-required"])
        payment = create_payment(required, self.client.key)
        self.client.payments.append(payment)
        headers = dict(request.headers)
        headers["payment-signature"] = payment.to_header()
        return _as_httpx(
            inner.request(
                request.method, str(request.url), headers=headers, content=request.content
            )
        )


def _as_httpx(response: Any) -> httpx.Response:
    """Starlette's TestClient answers with ``httpx2`` responses when that package is installed
    (langsmith pulls it in): this transport must hand ``httpx`` its own type."""
    if isinstance(response, httpx.Response):
        return response
    return httpx.Response(
        response.status_code,
        headers=list(response.headers.multi_items()),
        content=response.content,
    )
