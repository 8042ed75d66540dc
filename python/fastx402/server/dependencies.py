"""Pricing an endpoint where it is declared: ``@priced(Route(...))`` on a FastAPI/Starlette
endpoint. :class:`~fastx402.server.PaymentMiddleware` finds such endpoints in the app's router at
start-up, prices them like table routes, and documents their 402 answer in the OpenAPI schema."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from fastx402.server.pricing import Route

F = TypeVar("F", bound=Callable[..., Any])
_ATTRIBUTE = "__x402_route__"
_PATH_CONVERTER = re.compile(r"\{([A-Za-z_]\w*):path\}")
_CONVERTER = re.compile(r"\{([A-Za-z_]\w*):[A-Za-z_]\w*\}")

PAYMENT_REQUIRED_DOC: dict[str, Any] = {
    "description": "Payment required (x402): the price and how to pay, also in the "
    "PAYMENT-REQUIRED header (base64 JSON)",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["x402Version", "accepts"],
                "properties": {
                    "x402Version": {"type": "integer"},
                    "error": {"type": "string"},
                    "resource": {"type": "object"},
                    "accepts": {"type": "array", "items": {"type": "object"}},
                    "extensions": {"type": "object"},
                },
            }
        }
    },
}


def priced(route: Route) -> Callable[[F], F]:
    """Marks an endpoint as priced with ``route`` (apply it below ``@app.get(...)``)."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, _ATTRIBUTE, route)
        return endpoint

    return mark


def collect_priced(app: Any) -> dict[str, Route]:
    """``{"GET /path": Route}`` for every priced endpoint of a Starlette/FastAPI app."""
    found: dict[str, Route] = {}
    router = getattr(app, "router", None)
    for r in getattr(router, "routes", ()) or ():
        route = getattr(getattr(r, "endpoint", None), _ATTRIBUTE, None)
        path = getattr(r, "path", None)
        if not isinstance(route, Route) or not isinstance(path, str):
            continue
        pattern_path = _CONVERTER.sub(r"{\1}", _PATH_CONVERTER.sub("*", path))
        for method in sorted(getattr(r, "methods", None) or {"*"}):
            if method != "HEAD":
                found[f"{method} {pattern_path}"] = route
        responses = getattr(r, "responses", None)
        if isinstance(responses, dict):
            responses.setdefault(402, PAYMENT_REQUIRED_DOC)
    if found and hasattr(app, "openapi_schema"):
        app.openapi_schema = None  # rebuilt with the 402 answers
    return found
