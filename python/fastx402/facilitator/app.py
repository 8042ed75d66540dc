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


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None if it is larger than ``limit`` (read no further than that)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


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
        body = await _read_capped(request, max_body_bytes)
        if body is None:
            reason = {"verify": "invalidReason", "settle": "errorReason"}[route]
            return JSONResponse(
                {reason: "invalid_payload", "error": f"body over {max_body_bytes} bytes"},
                status_code=413,
            )
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
