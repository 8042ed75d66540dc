"""The seller's answers that are not the handler's: 402, 409, 431, 503.

Every answer is JSON with ``Cache-Control: no-store`` and the x402 headers exposed to browsers.
A 402 carries the ``PaymentRequired`` both in the ``PAYMENT-REQUIRED`` header (v2) and in the body
(agents read bodies); a v1 client (``X-PAYMENT``) is answered in v1. ``error`` tells apart
``"no payment"``, ``"invalid payment: <reason>"`` and ``"settlement failed: <reason>"``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Send

from fastx402._core import PaymentRequired

PAYMENT_REQUIRED = "payment-required"
PAYMENT_RESPONSE = "payment-response"
PAYMENT_SIGNATURE = "payment-signature"
X_PAYMENT = "x-payment"
X_PAYMENT_RESPONSE = "x-payment-response"
EXPOSED = "PAYMENT-REQUIRED, PAYMENT-RESPONSE, X-PAYMENT-RESPONSE"

Headers = list[tuple[bytes, bytes]]


def base_headers(content_type: bytes = b"application/json") -> Headers:
    return [
        (b"content-type", content_type),
        (b"cache-control", b"no-store"),
        (b"access-control-expose-headers", EXPOSED.encode()),
    ]


async def send_answer(
    send: Send, status: int, body: bytes, headers: Headers, *, head: bool = False
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def send_json(
    send: Send,
    status: int,
    data: dict[str, Any],
    extra: Headers = (),  # type: ignore[assignment]
    *,
    head: bool = False,
) -> None:
    body = json.dumps(data, separators=(",", ":")).encode()
    await send_answer(send, status, body, [*base_headers(), *extra], head=head)


def payment_required(
    version: int,
    error: str,
    resource: dict[str, Any],
    accepts: list[dict[str, Any]],
    extensions: dict[str, Any] | None = None,
) -> PaymentRequired:
    """The 402 document, validated and encoded by the core."""
    if version == 1:
        return PaymentRequired.from_dict({"x402Version": 1, "error": error, "accepts": accepts})
    doc: dict[str, Any] = {
        "x402Version": 2,
        "error": error,
        "resource": resource,
        "accepts": accepts,
    }
    if extensions:
        doc["extensions"] = extensions
    return PaymentRequired.from_dict(doc)


async def send_402(
    send: Send,
    required: PaymentRequired,
    extra: Headers = (),  # type: ignore[assignment]
    *,
    html: bytes | None = None,
    head: bool = False,
) -> None:
    headers = list(extra)
    if required.x402_version == 2:
        headers.append((PAYMENT_REQUIRED.encode(), required.to_header().encode()))
    if html is not None:
        await send_answer(
            send, 402, html, [*base_headers(b"text/html; charset=utf-8"), *headers], head=head
        )
        return
    await send_json(send, 402, required.to_dict(), headers, head=head)


def retry_after(seconds: int) -> Headers:
    return [(b"retry-after", str(seconds).encode())]
