"""The seller's rate card: every priced route with its terms, as JSON at a well-known path.

Agents compare providers and expect deterministic prices: the card lists each route's options
(scheme, network, asset, ``payTo``, amount in the asset's smallest unit, timeout) and settlement
mode, and a ``version`` that changes whenever any term changes (a digest of the terms). A price
or ``payTo`` computed per request is listed as ``"dynamic"``. A route that declares the
``bazaar`` discovery extension lists its declaration (part of the terms the version covers).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from fastx402._core import find_asset, resolve_price
from fastx402.server.pricing import Atomic, PaymentOption, Route


def _option_terms(option: PaymentOption) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "scheme": option.scheme,
        "network": option.network,
        "maxTimeoutSeconds": option.max_timeout_seconds,
    }
    price = option.price
    if isinstance(price, Atomic):
        terms["amount"] = str(int(price))
        terms["asset"] = (
            find_asset(option.network, option.asset)["address"]
            if option.asset
            else resolve_price("0", option.network)[1]["address"]
        )
    elif isinstance(price, (str, Decimal)):
        amount, asset = resolve_price(price, option.network, asset=option.asset)
        terms["amount"], terms["asset"] = amount, asset["address"]
    else:
        terms["amount"] = "dynamic"
        terms["asset"] = option.asset or resolve_price("0", option.network)[1]["address"]
    terms["payTo"] = option.pay_to if isinstance(option.pay_to, str) else "dynamic"
    if option.extra:
        terms["extra"] = dict(option.extra)
    return terms


def rate_card(
    routes: Mapping[str, Route],
    discovery: Callable[[str], dict[str, Any] | None] = lambda _: None,
) -> dict[str, Any]:
    """The card for ``routes`` (pattern -> route), in table order; a route's ``bazaar``
    discovery declaration (``discovery(pattern)``), if any, is listed with its terms."""
    entries = []
    for pattern, route in routes.items():
        entry: dict[str, Any] = {
            "route": pattern,
            "description": route.description,
            "mimeType": route.mime_type,
            "mode": route.mode,
            "accepts": [_option_terms(o) for o in route.accepts],
        }
        declared = discovery(pattern)
        if declared is not None:
            entry["bazaar"] = declared
        entries.append(entry)
    canonical = json.dumps(entries, sort_keys=True, separators=(",", ":")).encode()
    return {
        "x402Version": 2,
        "version": hashlib.sha256(canonical).hexdigest()[:16],
        "routes": entries,
    }
