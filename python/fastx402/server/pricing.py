"""What a route costs: payment options and how they become x402 ``PaymentRequirements``.

A price is a money string (``"$0.001"``, ``"0.001 USDC"``), a :class:`~decimal.Decimal` of token
units, or :class:`Atomic` (an amount in the token's smallest unit); more precision than the token
has is an error, never a silent truncation (the Rust core decides). Price and ``pay_to`` may be
plain values or callables of the request, sync or async (priced by the work asked for).
Requirements are assembled here and validated and encoded by the core.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, TypeAlias

from starlette.requests import Request

from fastx402._core import PaymentRequirements, find_asset, parse_network, resolve_price

SettlementMode = Literal["after", "before", "optimistic"]
BodyType = Literal["json", "form-data", "text"]


class Atomic(int):
    """An amount in the asset's smallest unit (``Atomic(1000)`` is 0.001 of a 6-decimal token)."""

    def __repr__(self) -> str:
        return f"Atomic({int(self)})"


Price: TypeAlias = str | Decimal | Atomic
PriceSource: TypeAlias = Price | Callable[[Request], Price | Awaitable[Price]]
PayToSource: TypeAlias = str | Callable[[Request], str | Awaitable[str]]

DEFAULT_MAX_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class PaymentOption:
    """One way to pay for a route: a price on a network (and asset) to ``pay_to``."""

    price: PriceSource
    network: str
    pay_to: PayToSource
    asset: str | None = None
    scheme: Literal["exact"] = "exact"
    max_timeout_seconds: int = DEFAULT_MAX_TIMEOUT_SECONDS
    extra: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.price, int) and not isinstance(self.price, Atomic):
            raise TypeError(
                "price: a bare int is ambiguous; use Atomic(n) for smallest units, "
                "or a money string / Decimal for token units"
            )
        if isinstance(self.price, float):
            raise TypeError("price: floats are never money; use a string or Decimal")
        parse_network(self.network)  # raises InvalidNetwork naming it


@dataclass(frozen=True)
class Exposure:
    """The most a payer may owe in unsettled ``optimistic`` payments at once (in the asset's
    smallest units, and in count); beyond it the route falls back to ``after``."""

    max_amount: int = 1_000_000
    max_count: int = 10


@dataclass(frozen=True)
class Route:
    """A priced route: its options (the first one is preferred) and what is sold."""

    accepts: Sequence[PaymentOption]
    description: str = ""
    mime_type: str = "application/json"
    output_schema: Mapping[str, Any] | None = None
    mode: SettlementMode = "after"
    # ``optimistic`` only: the per-payer cap on unsettled exposure.
    exposure: Exposure = field(default_factory=Exposure)
    resource: str | None = None
    extensions: Mapping[str, Any] | None = field(default=None)
    # Discovery (the ``bazaar`` extension of the 402 answer, declared when any is given): JSON
    # Schemas of the input (query parameters, or the body of a POST/PUT/PATCH route) and of the
    # path parameters, examples of the input and output (``output_schema`` above describes it).
    input_schema: Mapping[str, Any] | None = field(default=None, kw_only=True)
    input_example: Any = field(default=None, kw_only=True)
    output_example: Any = field(default=None, kw_only=True)
    path_params_schema: Mapping[str, Any] | None = field(default=None, kw_only=True)
    body_type: BodyType | None = field(default=None, kw_only=True)

    @property
    def describes_io(self) -> bool:
        """Whether the route gives anything the ``bazaar`` discovery extension declares."""
        return any(
            v is not None
            for v in (
                self.input_schema,
                self.input_example,
                self.output_schema,
                self.output_example,
                self.path_params_schema,
                self.body_type,
            )
        )

    @property
    def is_static(self) -> bool:
        """No price or payTo computed per request: the terms depend on the resource only."""
        return all(_is_static(o.price) and _is_static(o.pay_to) for o in self.accepts)

    def __post_init__(self) -> None:
        if isinstance(self.accepts, PaymentOption):
            object.__setattr__(self, "accepts", (self.accepts,))
        if not self.accepts:
            raise ValueError("a priced route needs at least one payment option")
        if self.mode not in ("after", "before", "optimistic"):
            raise ValueError(f"unknown settlement mode {self.mode!r} (after, before, optimistic)")


def _is_static(value: Any) -> bool:
    return isinstance(value, (str, Decimal, int))


async def _value(source: Any, request: Request) -> Any:
    if callable(source) and not isinstance(source, (str, Decimal, int)):
        out = source(request)
        return await out if inspect.isawaitable(out) else out
    return source


async def requirements_for(
    route: Route, request: Request, resource_url: str
) -> list[tuple[PaymentRequirements, PaymentRequirements | None]]:
    """The v2 requirements of each option, with its v1 twin when the network has a v1 name."""
    out: list[tuple[PaymentRequirements, PaymentRequirements | None]] = []
    for option in route.accepts:
        price = await _value(option.price, request)
        pay_to = await _value(option.pay_to, request)
        if isinstance(price, Atomic):
            amount = str(int(price))
            asset = (
                find_asset(option.network, option.asset)
                if option.asset
                else resolve_price("0", option.network)[1]
            )
        elif isinstance(price, (str, Decimal)):
            amount, asset = resolve_price(price, option.network, asset=option.asset)
        else:
            raise TypeError(f"price must be a money string, Decimal or Atomic, not {price!r}")
        extra: dict[str, Any] = {"name": asset["name"], "version": asset["version"]}
        if option.extra:
            extra.update(option.extra)
        v2 = {
            "scheme": option.scheme,
            "network": option.network,
            "amount": amount,
            "asset": asset["address"],
            "payTo": pay_to,
            "maxTimeoutSeconds": option.max_timeout_seconds,
            "extra": extra,
        }
        v1_name = parse_network(option.network)[2]
        v1 = None
        if v1_name is not None:
            v1 = PaymentRequirements.from_dict(
                {
                    "scheme": option.scheme,
                    "network": v1_name,
                    "maxAmountRequired": amount,
                    "resource": resource_url,
                    "description": route.description,
                    "mimeType": route.mime_type,
                    "payTo": pay_to,
                    "maxTimeoutSeconds": option.max_timeout_seconds,
                    "asset": asset["address"],
                    "extra": extra,
                    **({"outputSchema": dict(route.output_schema)} if route.output_schema else {}),
                },
                x402_version=1,
            )
        out.append((PaymentRequirements.from_dict(v2), v1))
    return out
