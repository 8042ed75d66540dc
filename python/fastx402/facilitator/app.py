"""The facilitator HTTP service (FastAPI), per the x402 v2 facilitator API; v1 bodies too.

Every answer of ``/verify``, ``/settle``, ``/supported`` and ``/health`` is made in Rust
(:meth:`Facilitator.handle`), refusals included (400, 404, 405, 413, in one shape): parsing,
checks, reason codes and the exactly-once ledger live in the core. This module only moves
bytes — it asks the core whether a request is refused before reading its body, reads the body
no further than the core's cap, and returns the core's status and body — and reconciles
pending settlements in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import Response

from fastx402._core import Facilitator

__all__ = ["MAX_BODY_BYTES", "create_app"]

# The core's cap on a request body (a payment is ~1 KiB), defined in Rust.
MAX_BODY_BYTES = Facilitator.MAX_BODY_BYTES

_JSON = "application/json"
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

log = logging.getLogger("fastx402.facilitator")


async def _read_capped(request: Request) -> bytes:
    """The body, read no further than ``MAX_BODY_BYTES + 1`` bytes (the core refuses more)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            break
    return b"".join(chunks)[: MAX_BODY_BYTES + 1]


def _response(route: str, status: int, body: bytes) -> Response:
    headers = {}
    if status == 405:
        headers["Allow"] = Facilitator.allow(route) or ""
    return Response(body, status_code=status, media_type=_JSON, headers=headers)


def create_app(facilitator: Facilitator, *, reconcile_interval: float = 5.0) -> FastAPI:
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
        # One path per route (the core answers `/verify/` 404): no redirect of payment
        # bodies (clients such as the official SDK's follow redirects with the body).
        redirect_slashes=False,
    )

    @app.api_route("/{route:path}", methods=_METHODS)
    async def answer(request: Request) -> Response:
        route, method = "/" + request.path_params["route"], request.method
        lengths = [v for k, v in request.headers.raw if k.lower() == b"content-length"]
        refused = facilitator.refuse_head(route, method=method, content_length=lengths)
        if refused is not None:
            return _response(route, *refused)
        body = await _read_capped(request)
        status, data = await facilitator.handle(route, body, method=method, content_length=lengths)
        return _response(route, status, data)

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
