"""The demo's seller: a FastAPI app with fixed-price routes behind ``PaymentMiddleware``.

``GET /weather`` and ``GET /joke`` answer JSON; ``POST /inference`` streams tokens as
server-sent events like an LLM endpoint (the default ``after`` mode settles when the handler
starts its 200 and then streams the body through). ``GET /health`` is free.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from fastx402 import Facilitator, RemoteFacilitator
from fastx402.server import PaymentEvent, PaymentMiddleware, PaymentOption, Route, payment_of


@dataclass(frozen=True)
class Priced:
    method: str
    path: str
    price: str  # a money string: exact, never a float
    description: str
    streaming: bool = False

    @property
    def pattern(self) -> str:
        return f"{self.method} {self.path}"


ROUTES = (
    Priced("GET", "/weather", "$0.001", "Today's weather"),
    Priced("GET", "/joke", "$0.0005", "A joke"),
    Priced("POST", "/inference", "$0.01", "Model inference, streamed (SSE)", streaming=True),
)
ANSWER = "x402 turns HTTP 402 into a price tag : the agent pays per call , in one round trip ."
TOKEN_DELAY = 0.02  # seconds between streamed tokens


class Prompt(BaseModel):
    # A bad body is a 422 before the handler runs: not charged (``after`` mode).
    prompt: str = Field(default="", max_length=2000)


def create_app(
    facilitator: Facilitator | RemoteFacilitator,
    network: str,
    pay_to: str,
    asset: str,
    events: list[PaymentEvent] | None = None,
    *,
    idempotent_settle: bool | None = None,
) -> FastAPI:
    """The priced app; ``events`` collects the middleware's payment events.
    ``idempotent_settle``: the facilitator answers a repeated settle with the first result
    (fastx402's own service does), so a lost answer is reconciled by asking again."""
    app = FastAPI(title="fastx402 demo seller", docs_url=None, redoc_url=None)
    routes: Mapping[str, Route] = {
        r.pattern: Route(
            [PaymentOption(r.price, network, pay_to, asset=asset)],
            description=r.description,
            mime_type="text/event-stream" if r.streaming else "application/json",
        )
        for r in ROUTES
    }
    app.add_middleware(
        PaymentMiddleware,
        facilitator=facilitator,
        routes=routes,
        on_event=None if events is None else events.append,
        idempotent_settle=idempotent_settle,
    )

    @app.get("/weather")
    def weather(request: Request) -> dict[str, Any]:
        return {
            "city": "Lisbon",
            "sky": "clear",
            "celsius": 21,
            "paid_by": payment_of(request).payer,
        }

    @app.get("/joke")
    def joke() -> dict[str, str]:
        return {"joke": "I'd tell you a UDP joke, but you might not get it."}

    @app.post("/inference")
    async def inference(body: Prompt) -> StreamingResponse:
        prompt = body.prompt

        async def tokens() -> AsyncIterator[bytes]:
            for token in ANSWER.split(" "):
                yield f"data: {json.dumps({'token': token})}\n\n".encode()
                await asyncio.sleep(TOKEN_DELAY)
            yield f"data: {json.dumps({'done': True, 'prompt_chars': len(prompt)})}\n\n".encode()

        return StreamingResponse(tokens(), media_type="text/event-stream")

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    return app
