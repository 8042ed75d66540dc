"""The ``bazaar`` discovery extension in the seller's 402 answers, byte for byte the official
Python SDK's server (``x402`` 2.25: ``declare_discovery_extension`` + its FastAPI middleware with
``bazaar_resource_server_extension``) for the same route and request."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from x402.extensions.bazaar import (
    OutputConfig,
    bazaar_resource_server_extension,
    declare_discovery_extension,
    validate_discovery_extension,
    validate_discovery_extension_spec,
)

from fastx402 import decode_header
from fastx402.server import PaymentMiddleware, PaymentOption, Route
from fastx402.testing import FakeFacilitator

NETWORK = "eip155:84532"  # Base Sepolia: USDC is built in, here and in the official SDK
PAY_TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
PRICE = "$0.001"

CITY_SCHEMA = {"properties": {"units": {"type": "string", "enum": ["c", "f"]}}}
WEATHER_SCHEMA = {"properties": {"temp": {"type": "number"}}, "required": ["temp"]}
ORDER_SCHEMA = {"properties": {"item": {"type": "string"}, "qty": {"type": "integer"}}}

# (route pattern, request path, fastx402 Route discovery kwargs, official declare kwargs)
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    (
        "GET /weather/:city",
        "/weather/oslo",
        {
            "input_example": {"units": "c"},
            "input_schema": CITY_SCHEMA,
            "output_example": {"temp": 3.5},
            "output_schema": WEATHER_SCHEMA,
        },
        {
            "input": {"units": "c"},
            "input_schema": CITY_SCHEMA,
            "output": OutputConfig(example={"temp": 3.5}, schema=WEATHER_SCHEMA),
        },
    ),
    (
        "POST /orders/[shop]",
        "/orders/north",
        {
            "input_example": {"item": "tea", "qty": 2},
            "input_schema": ORDER_SCHEMA,
            "output_example": {"id": "o-1"},
            "path_params_schema": {"properties": {"shop": {"type": "string"}}},
        },
        {
            "input": {"item": "tea", "qty": 2},
            "input_schema": ORDER_SCHEMA,
            "body_type": "json",
            "path_params_schema": {"properties": {"shop": {"type": "string"}}},
            "output": OutputConfig(example={"id": "o-1"}),
        },
    ),
    (
        "GET /report",
        "/report",
        {
            "input_schema": {"properties": {}},
            "output_example": ["a", None, 1],
            "output_schema": {"type": "array"},
        },
        {
            "input_schema": {"properties": {}},
            "output": OutputConfig(example=["a", None, 1], schema={"type": "array"}),
        },
    ),
    (
        "GET /files/*",
        "/files/readme",
        {"input_example": {"v": 1}},
        {"input": {"v": 1}},
    ),
    (
        "PUT /notes/:id",
        "/notes/7",
        {"body_type": "text", "input_example": "hello", "output_example": {"ok": True}},
        {"body_type": "text", "input": "hello", "output": OutputConfig(example={"ok": True})},
    ),
]


class _OfficialFacilitator:
    """The official server's facilitator surface: ``get_supported`` is all a 402 answer needs."""

    def get_supported(self) -> Any:
        from x402.schemas import SupportedKind, SupportedResponse

        return SupportedResponse(
            kinds=[SupportedKind(x402_version=2, scheme="exact", network=NETWORK)],
            extensions=[],
            signers={},
        )

    async def verify(self, *_: Any) -> Any:
        raise AssertionError("no payment is sent in these tests")

    settle = verify


def _app() -> FastAPI:
    app = FastAPI()

    @app.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def anything(rest: str) -> dict[str, str]:
        return {"served": rest}

    return app


def _official_app(pattern: str, declared: dict[str, Any]) -> FastAPI:
    from x402 import x402ResourceServer
    from x402.http.middleware.fastapi import payment_middleware
    from x402.mechanisms.evm.exact import ExactEvmServerScheme

    server = x402ResourceServer(_OfficialFacilitator())  # type: ignore[arg-type]
    server.register(NETWORK, ExactEvmServerScheme())
    server.register_extension(bazaar_resource_server_extension)
    routes = {
        pattern: {
            "accepts": {"scheme": "exact", "payTo": PAY_TO, "price": PRICE, "network": NETWORK},
            "description": "Weather",
            "mimeType": "application/json",
            "extensions": declare_discovery_extension(**declared),
        }
    }
    app = _app()
    mw = payment_middleware(routes, server)

    @app.middleware("http")
    async def x402(request: Any, call_next: Any) -> Any:
        return await mw(request, call_next)

    return app


def _ours(pattern: str, route: Route) -> FastAPI:
    app = _app()
    app.add_middleware(
        PaymentMiddleware,
        facilitator=FakeFacilitator([NETWORK]),
        routes={pattern: route},
        paywall_html=False,
    )
    return app


def _unpaid(app: FastAPI, method: str, path: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await c.request(method, path, headers={"accept": "application/json"})

    return asyncio.run(go())


def _bazaar(response: httpx.Response) -> Any:
    assert response.status_code == 402, response.text
    return decode_header(response.headers["payment-required"])["extensions"]["bazaar"]


def _route(**discovery: Any) -> Route:
    return Route([PaymentOption(PRICE, NETWORK, PAY_TO)], "Weather", **discovery)


@pytest.mark.parametrize(("pattern", "path", "ours", "theirs"), CASES, ids=[c[0] for c in CASES])
def test_the_402_declares_bazaar_byte_for_byte_as_the_official_server(
    pattern: str, path: str, ours: dict[str, Any], theirs: dict[str, Any]
) -> None:
    method = pattern.split()[0]
    official = _bazaar(_unpaid(_official_app(pattern, theirs), method, path))
    response = _unpaid(_ours(pattern, _route(**ours)), method, path)
    mine = _bazaar(response)
    # Same JSON, same key order: the same bytes once encoded the same way.
    assert json.dumps(mine) == json.dumps(official)
    assert response.json()["extensions"]["bazaar"] == mine  # the body says the same
    assert mine["info"]["input"]["method"] == method
    # And the official facilitator's checks accept it (info valid against its own schema).
    assert validate_discovery_extension(mine).valid, validate_discovery_extension(mine).errors
    assert validate_discovery_extension_spec(mine).valid


def test_a_declaration_from_the_official_helper_is_taken_as_is() -> None:
    pattern, path, _, theirs = CASES[0]
    official = _bazaar(_unpaid(_official_app(pattern, theirs), "GET", path))
    route = Route(
        [PaymentOption(PRICE, NETWORK, PAY_TO)],
        "Weather",
        extensions=declare_discovery_extension(**theirs),
    )
    assert json.dumps(_bazaar(_unpaid(_ours(pattern, route), "GET", path))) == json.dumps(official)


def test_path_params_follow_the_request_and_fastapi_braces_work() -> None:
    app = _ours("GET /weather/{city}", _route(output_example={"temp": 1}))
    for city in ("oslo", "lima"):
        bazaar = _bazaar(_unpaid(app, "GET", f"/weather/{city}"))
        assert bazaar["info"]["input"]["pathParams"] == {"city": city}
        assert bazaar["routeTemplate"] == "/weather/:city"


def test_routes_without_schemas_declare_no_bazaar() -> None:
    response = _unpaid(_ours("GET /plain", _route()), "GET", "/plain")
    assert "bazaar" not in decode_header(response.headers["payment-required"])["extensions"]


@pytest.mark.parametrize(
    ("pattern", "discovery", "names"),
    [
        ("GET /w", {"body_type": "json"}, "body_type"),
        ("GET /w", {"input_schema": ["not", "an", "object"]}, "input_schema"),
        ("GET /w", {"input_example": "a string is not query parameters"}, "input"),
        # The official helper emits this one, and its own facilitator check refuses it.
        ("GET /w", {"output_example": [1, 2]}, "output_example"),
        ("POST /w", {"extensions": {"bazaar": {"info": {"input": {"type": "ftp"}}}}}, "type"),
    ],
)
def test_a_bad_declaration_fails_at_start_up_naming_the_route(
    pattern: str, discovery: dict[str, Any], names: str
) -> None:
    with pytest.raises(ValueError, match=rf"route '{pattern}': bazaar discovery: .*{names}"):
        PaymentMiddleware(
            _app(), facilitator=FakeFacilitator([NETWORK]), routes={pattern: _route(**discovery)}
        )


def test_the_rate_card_lists_the_declaration_and_its_version_follows_it() -> None:
    def card(schema: dict[str, Any]) -> Any:
        app = _ours("GET /weather/:city", _route(output_example={"t": 1}, output_schema=schema))
        return _unpaid(app, "GET", "/.well-known/x402").json()

    first, second = card(WEATHER_SCHEMA), card({"properties": {"temp": {"type": "string"}}})
    declared = first["routes"][0]["bazaar"]
    assert declared["info"]["output"] == {"type": "json", "example": {"t": 1}}
    assert "method" not in declared["info"]["input"]  # the static declaration, per route
    assert first["version"] != second["version"]
