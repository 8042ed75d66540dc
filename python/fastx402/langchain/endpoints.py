"""One typed tool per paid endpoint, from a list or from a seller's rate card.

An :class:`Endpoint` is a URL template (``https://api.example.com/weather/{city}``), a method, and
optionally its other arguments (a pydantic model, or a JSON schema dict: query parameters for
GET/DELETE, the JSON body otherwise) and its price. :func:`endpoint_tool` makes it a
``StructuredTool`` whose arguments are the path parameters and those fields, whose description
says what a call costs, and which pays through the toolkit's :class:`X402RequestTool` (same
policy, budgets, approval, kill switch, receipts). A known price is also the most that tool pays:
a seller raising its price after the card was read is refused, never paid.

:func:`endpoints_from_rate_card` reads the card a fastx402 seller serves at
``GET /.well-known/x402`` (``{"x402Version": 2, "version": ..., "routes": [{"route": "GET
/weather/{city}", "description": ..., "accepts": [{"scheme", "network", "asset", "payTo",
"amount" (smallest units, or "dynamic"), ...}]}]}``): each route the policy could pay becomes an
endpoint priced at its cheapest allowed offer. Routes with wildcards (``*``) are skipped: a
model cannot be given a free-form path to pay for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast
from urllib.parse import quote as url_quote

import httpx
from langchain_core.callbacks import Callbacks
from langchain_core.tools import StructuredTool, ToolException
from pydantic import BaseModel, Field, create_model
from pydantic_core import to_jsonable_python

from fastx402._core import atomic_to_price, find_asset
from fastx402.client import SpendPolicy, origin_of
from fastx402.langchain.context import Runtime
from fastx402.langchain.records import ReceiptRecord
from fastx402.langchain.tools import X402RequestTool

_PARAM = re.compile(r"\{([A-Za-z_]\w*)\}")
_CARD_PARAM = re.compile(r"\{([A-Za-z_]\w*)\}|:([A-Za-z_]\w*)|\[([A-Za-z_]\w*)\]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


class RateCardError(ValueError):
    """A rate card that cannot be read (not JSON, not the x402 rate card shape)."""


@dataclass(frozen=True)
class Endpoint:
    """A paid endpoint: ``url`` with ``{name}`` path parameters, its method, its other
    arguments (``params``), and its price in token units (None: asked at call time)."""

    url: str
    method: str = "GET"
    name: str | None = None
    description: str = ""
    params: type[BaseModel] | dict[str, Any] | None = None
    price: Decimal | None = None
    symbol: str = ""

    def __post_init__(self) -> None:
        method = self.method.upper()
        if method not in _METHODS:
            raise ValueError(f"endpoint {self.url}: method one of {sorted(_METHODS)}")
        object.__setattr__(self, "method", method)
        if not self.url.startswith(("https://", "http://")):
            raise ValueError(f"endpoint {self.url!r}: an absolute http(s) URL")
        if self.price is not None and (not isinstance(self.price, Decimal) or self.price < 0):
            raise ValueError(f"endpoint {self.url}: price is a non-negative Decimal")

    @property
    def path_params(self) -> list[str]:
        return _PARAM.findall(self.url)

    def tool_name(self) -> str:
        if self.name:
            return self.name
        path = httpx.URL(self.url).path
        words = re.sub(r"[^A-Za-z0-9]+", "_", _PARAM.sub(r"\1", path)).strip("_")
        return f"{self.method.lower()}_{words or 'root'}"[:64]

    def request(self, args: Mapping[str, Any]) -> tuple[str, dict[str, Any] | None]:
        """The URL (path parameters quoted: a value can never change the host or the path's
        shape) and the JSON body, for these arguments."""
        values = dict(args)
        missing = [p for p in self.path_params if values.get(p) in (None, "")]
        if missing:
            raise ToolException(f"missing path parameters: {', '.join(missing)}")
        url = _PARAM.sub(lambda m: _segment(values.pop(m.group(1))), self.url)
        rest = {k: v for k, v in values.items() if v is not None}
        if self.method in _BODY_METHODS:
            return url, to_jsonable_python(rest) or None
        if rest:
            url = str(httpx.URL(url).copy_merge_params({k: str(v) for k, v in rest.items()}))
        return url, None

    def describe(self, cap: Decimal) -> str:
        what = self.description.rstrip(".") + ". " if self.description else ""
        if self.price is None:
            cost = f"The price is asked at call time (at most {cap} token units)."
        else:
            cost = f"Costs {self.price} {self.symbol}".rstrip() + " per call."
        return (
            f"{what}{self.method} {self.url}. PAID API: {cost} Paid automatically from the "
            "agent's wallet (x402) under the operator's policy; returns the HTTP status and body."
        )


def _segment(value: Any) -> str:
    """One path segment: every reserved character quoted, and a value of dots (which URL
    normalization would resolve as ``.``/``..``) quoted too."""
    text = url_quote(str(value), safe="")
    return text.replace(".", "%2E") if set(text) == {"."} else text


def _args_schema(endpoint: Endpoint, name: str) -> type[BaseModel] | dict[str, Any]:
    path: dict[str, Any] = {
        p: (str, Field(description=f"The '{p}' part of the URL path."))
        for p in endpoint.path_params
    }
    params = endpoint.params
    if isinstance(params, dict):
        # A JSON schema: the model sees it as given, with the path parameters added.
        props = {p: _path_prop(p) for p in endpoint.path_params}
        return {
            "title": name,
            "type": "object",
            "properties": {**props, **params.get("properties", {})},
            "required": [*endpoint.path_params, *params.get("required", [])],
        }
    base = params or BaseModel
    return create_model(name, __base__=base, runtime=(Runtime, None), **path)


def _path_prop(param: str) -> dict[str, str]:
    return {"type": "string", "description": f"The '{param}' part of the URL path."}


def endpoint_tool(endpoint: Endpoint, payer: X402RequestTool) -> StructuredTool:
    """A typed tool for ``endpoint`` that pays through ``payer`` (its policy, budgets, ...)."""
    name = endpoint.tool_name()
    cap = endpoint.price

    def call(
        runtime: Runtime = None, callbacks: Callbacks = None, **args: Any
    ) -> tuple[str, ReceiptRecord | None]:
        url, body = endpoint.request(args)
        return payer.pay(
            url, endpoint.method, body, cap, runtime=runtime, callbacks=callbacks, tool=name
        )

    async def acall(
        runtime: Runtime = None, callbacks: Callbacks = None, **args: Any
    ) -> tuple[str, ReceiptRecord | None]:
        url, body = endpoint.request(args)
        return await payer.apay(
            url, endpoint.method, body, cap, runtime=runtime, callbacks=callbacks, tool=name
        )

    return StructuredTool.from_function(
        func=call,
        coroutine=acall,
        name=name,
        description=endpoint.describe(payer.policy.max_per_call),
        args_schema=_args_schema(endpoint, name),
        infer_schema=False,
        response_format="content_and_artifact",
        handle_tool_error=True,
        metadata={"x402": "paid"},
    )


# --- rate cards ---------------------------------------------------------------------------------


def read_rate_card(url: str, *, timeout: float = 10.0) -> dict[str, Any]:
    """``GET`` a rate card (no redirects followed: the card describes the origin asked)."""
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as e:
        raise RateCardError(f"rate card {url}: {e!r}") from e
    if response.status_code != 200:
        raise RateCardError(f"rate card {url}: HTTP {response.status_code}")
    try:
        card = response.json()
    except ValueError as e:
        raise RateCardError(f"rate card {url}: not JSON") from e
    if not isinstance(card, dict):
        raise RateCardError(f"rate card {url}: not a JSON object")
    return card


def _price(
    accepts: Iterable[Any], url: str, policy: SpendPolicy
) -> tuple[Decimal, str] | bool | None:
    """The cheapest offer the policy allows, as (price, symbol); None: a dynamic price the
    policy may allow at call time; False: nothing payable."""
    best: tuple[Decimal, str] | None = None
    dynamic = False
    for offer in accepts:
        if not isinstance(offer, Mapping) or offer.get("scheme") != "exact":
            continue
        network, asset, pay_to = offer.get("network"), offer.get("asset"), offer.get("payTo")
        amount = offer.get("amount")
        if not all(isinstance(v, str) for v in (network, asset, pay_to, amount)):
            continue
        n, a, p, amt = cast(tuple[str, str, str, str], (network, asset, pay_to, amount))
        if amt == "dynamic" or p == "dynamic":
            dynamic = True
            continue
        if not amt.isdigit():
            continue
        try:
            if policy.refusal(url, n, a, p, int(amt)) is not None:
                continue
            info = find_asset(n, a)
        except ValueError:
            continue
        price = Decimal(atomic_to_price(int(amt), info["decimals"]))
        symbol = str(info.get("symbol") or info["name"])
        if best is None or price < best[0]:
            best = (price, symbol)
    if best is not None:
        return best
    return None if dynamic else False


def endpoints_from_rate_card(
    card: Mapping[str, Any], base_url: str, policy: SpendPolicy
) -> list[Endpoint]:
    """The endpoints of ``card`` (served by ``base_url``'s origin) that ``policy`` could pay."""
    routes = card.get("routes")
    if not isinstance(routes, list):
        raise RateCardError("rate card: no 'routes' list")
    origin = origin_of(base_url)
    out: list[Endpoint] = []
    for entry in routes:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("route"), str):
            raise RateCardError(f"rate card: a route entry without 'route': {entry!r}")
        parts = entry["route"].split(None, 1)
        verb, path = (parts[0].upper(), parts[1]) if len(parts) == 2 else ("*", parts[0])
        method = "GET" if verb == "*" else verb
        if method not in _METHODS or "*" in path or not path.startswith("/"):
            continue
        template = _CARD_PARAM.sub(lambda m: "{" + next(g for g in m.groups() if g) + "}", path)
        url = origin + template
        priced = _price(entry.get("accepts") or (), url, policy)
        if priced is False:
            continue
        price, symbol = priced if isinstance(priced, tuple) else (None, "")
        description = entry.get("description")
        out.append(
            Endpoint(
                url=url,
                method=method,
                description=description if isinstance(description, str) else "",
                price=price,
                symbol=symbol,
            )
        )
    return out


__all__ = [
    "Endpoint",
    "RateCardError",
    "endpoint_tool",
    "endpoints_from_rate_card",
    "read_rate_card",
]
