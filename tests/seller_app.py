"""A priced seller app for tests that run it in processes of its own (``uvicorn --factory
seller_app:create_app``), configured from the environment:

=========================  ==========================================================
``SELLER_STORE``           the replay store URL (``memory://``, ``sqlite:///...``, ``redis://...``)
``SELLER_FACILITATOR``     a facilitator service URL (``RemoteFacilitator``), or
``SELLER_RPC_URL`` +       an in-process ``Facilitator`` on that chain with that key (hex):
``SELLER_FACILITATOR_KEY`` each process then needs a key of its own (sender nonces)
``SELLER_TOKEN``           the token address (``TestUSDC``; name and version below)
``SELLER_TOKEN_NAME``,     its EIP-712 domain name and version
``SELLER_TOKEN_VERSION``
``SELLER_PAY_TO``          the seller's address
``SELLER_PRICE``           the price of ``GET /weather/{city}`` in the token's smallest unit
``SELLER_RESOURCE``        the resource URL of the route (the same for every process)
``SELLER_RUNS``            a file: each handler run appends one line ``<pid> <city>``
=========================  ==========================================================

Every answer carries ``x-seller-pid`` (which process answered); ``GET /health`` is free.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import fastx402
from fastx402.server import Atomic, PaymentMiddleware, PaymentOption, Route, payment_of

NETWORK = "eip155:31337"


class PidHeader:
    """Outermost: tags every answer with the PID of the process that made it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.pid = str(os.getpid()).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"x-seller-pid", self.pid)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, tagged if scope["type"] == "http" else send)


def _facilitator(env: os._Environ[str]) -> Any:
    if "SELLER_FACILITATOR" in env:
        return fastx402.RemoteFacilitator(env["SELLER_FACILITATOR"], settle_timeout=30.0)
    key = fastx402.PrivateKey.from_hex(env["SELLER_FACILITATOR_KEY"])
    return fastx402.Facilitator(
        env["SELLER_RPC_URL"], NETWORK, key, poll_interval=0.02, receipt_timeout=20.0
    )


def create_app() -> ASGIApp:
    env = os.environ
    token = env["SELLER_TOKEN"]
    fastx402.register_asset(
        NETWORK, token, env["SELLER_TOKEN_NAME"], env["SELLER_TOKEN_VERSION"], 6, symbol="tUSDC"
    )
    runs = env["SELLER_RUNS"]
    option = PaymentOption(Atomic(int(env["SELLER_PRICE"])), NETWORK, env["SELLER_PAY_TO"], token)
    app = FastAPI()
    app.add_middleware(
        PaymentMiddleware,
        facilitator=_facilitator(env),
        store=env["SELLER_STORE"],
        routes={
            "GET /weather/{city}": Route(
                [option], description="Weather report", resource=env["SELLER_RESOURCE"]
            )
        },
    )

    @app.get("/weather/{city}")
    def weather(city: str, request: Request) -> dict[str, Any]:
        # One write(2) on an O_APPEND file: lines of concurrent processes never interleave.
        fd = os.open(runs, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{os.getpid()} {city}\n".encode())
        finally:
            os.close(fd)
        p = payment_of(request)
        return {"city": city, "payer": p.payer, "amount": p.amount, "pid": os.getpid()}

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    return PidHeader(app)
