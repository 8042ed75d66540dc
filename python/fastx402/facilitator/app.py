"""The facilitator HTTP service (FastAPI), per the x402 v2 facilitator API; v1 bodies too.

Request bodies go to Rust as bytes and the answers come back as JSON bytes: parsing,
checks, reason codes and the exactly-once ledger live in the core. This module only
caps body sizes, routes, and reconciles pending settlements in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fastx402._core import Facilitator

__all__ = ["MAX_BODY_BYTES", "create_app"]

# Same cap as the core's request parser: a payment is ~1 KiB.
MAX_BODY_BYTES = 64 * 1024

log = logging.getLogger("fastx402.facilitator")


class _BadBody(Exception):
    """A request body refused before the core sees it: HTTP ``status`` and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _check_declared_length(request: Request, limit: int) -> None:
    """Checks the Content-Length, if any. Malformed (not plain ASCII digits, or several different
    values) is a 400 and over ``limit`` a 413: an ASGI server may pass any header through."""
    values = {v.strip(" \t") for v in request.headers.getlist("content-length")}
    if not values:
        return
    if len(values) > 1:
        raise _BadBody(400, "conflicting Content-Length headers")
    (declared,) = values
    if not (declared.isascii() and declared.isdigit()):
        raise _BadBody(400, "Content-Length is not a decimal number of bytes")
    # Length first: int() refuses more than 4300 digits (sys.int_info), leading zeros too.
    digits = declared.lstrip("0") or "0"
    if len(digits) > len(str(limit)) or int(digits) > limit:
        raise _BadBody(413, f"body over {limit} bytes")


async def _read_capped(request: Request, limit: int) -> bytes:
    """The body, read no further than ``limit`` bytes; raises ``_BadBody`` if refused."""
    _check_declared_length(request, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BadBody(413, f"body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _refusal(route: str, network: str, error: _BadBody) -> JSONResponse:
    """The core's typed answer shape for a body refused here (``invalid_payload``)."""
    if error.status == 413:  # kept as before: reason and ``error``
        key = {"verify": "invalidReason", "settle": "errorReason"}[route]
        return JSONResponse({key: "invalid_payload", "error": error.message}, status_code=413)
    body: dict[str, object]
    if route == "verify":
        body = {
            "isValid": False,
            "invalidReason": "invalid_payload",
            "invalidMessage": error.message,
        }
    else:
        body = {
            "success": False,
            "errorReason": "invalid_payload",
            "errorMessage": error.message,
            "transaction": "",
            "network": network,
        }
    return JSONResponse(body, status_code=error.status)


def create_app(
    facilitator: Facilitator,
    *,
    reconcile_interval: float = 5.0,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """A FastAPI app serving ``facilitator``.

    Every ``reconcile_interval`` seconds, settlements whose outcome is unknown are
    reconciled against the chain (``0`` disables the background task).
    """

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = None
        if reconcile_interval > 0:
            task = asyncio.create_task(_reconcile_forever(facilitator, reconcile_interval))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="fastx402 facilitator",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # `/verify/` is a 404, not a 307 to `/verify`: no redirect of payment bodies (clients
        # such as the official SDK's follow redirects with the body), one path per route.
        redirect_slashes=False,
    )

    async def answer(route: str, request: Request) -> Response:
        try:
            body = await _read_capped(request, max_body_bytes)
        except _BadBody as e:
            return _refusal(route, facilitator.network, e)
        status, data = await facilitator.handle(route, body)
        return Response(data, status_code=status, media_type="application/json")

    @app.post("/verify")
    async def verify(request: Request) -> Response:
        return await answer("verify", request)

    @app.post("/settle")
    async def settle(request: Request) -> Response:
        return await answer("settle", request)

    @app.get("/supported")
    async def supported() -> JSONResponse:
        return JSONResponse(facilitator.supported().to_dict())

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse(
            {
                "network": facilitator.network,
                "address": facilitator.address,
                "pending": len(facilitator.pending()),
            }
        )

    return app


async def _reconcile_forever(facilitator: Facilitator, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        if not facilitator.pending():
            continue
        try:
            report = await facilitator.reconcile()
        except Exception:  # keep reconciling; the next pass may reach the chain
            log.exception("reconciliation pass failed")
            continue
        log.info("reconciled pending settlements: %s", report)
