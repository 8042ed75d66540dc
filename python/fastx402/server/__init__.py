"""fastx402 for sellers: charge per request with one ASGI middleware.

```python
from fastapi import FastAPI, Request
from fastx402.server import PaymentMiddleware, PaymentOption, Route, payment_of

app = FastAPI()
app.add_middleware(
    PaymentMiddleware,
    facilitator="https://facilitator.example",
    routes={"GET /weather/{city}": Route([PaymentOption("$0.001", "eip155:8453", PAY_TO)])},
)

@app.get("/weather/{city}")
def weather(city: str, request: Request) -> dict[str, str]:
    return {"city": city, "paid_by": payment_of(request).payer}
```
"""

from __future__ import annotations

from fastx402.server.dependencies import priced
from fastx402.server.middleware import Payment, PaymentEvent, PaymentMiddleware, payment_of
from fastx402.server.pricing import Atomic, Exposure, PaymentOption, Route, SettlementMode
from fastx402.server.routes import RoutePatternError

__all__ = [
    "Atomic",
    "Exposure",
    "Payment",
    "PaymentEvent",
    "PaymentMiddleware",
    "PaymentOption",
    "Route",
    "RoutePatternError",
    "SettlementMode",
    "payment_of",
    "priced",
]
