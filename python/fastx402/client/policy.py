"""What an agent may pay: the operator's spend policy, checked before anything is signed.

Fail-closed defaults: a small per-call cap (``$0.10`` worth of a known stablecoin), only assets the
registry knows (or that are listed), any network the registry knows. Hosts are matched on the exact
origin or a label-boundary wildcard (``*.example.com`` admits ``api.example.com``, never
``example.com.evil.io``), never by raw prefix. A tool argument or the model may only *lower* the
per-call cap (:meth:`SpendPolicy.with_cap`), never raise it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from fastx402._core import atomic_to_price, find_asset, to_checksum_address

DEFAULT_MAX_PER_CALL = Decimal("0.10")

Window = Literal["session", "hour", "day", "month"]
Per = Literal["all", "host", "tool", "user", "agent"]


@dataclass(frozen=True)
class Budget:
    """A rolling budget: at most ``limit`` token units of one asset per ``window`` (calendar
    windows in UTC; ``session``: the life of one :class:`~fastx402.client.Spending`), counted
    for everyone (``per="all"``) or separately per host (origin), tool, user or agent.
    ``asset`` (``(network, address)``) restricts it to one asset; without it every asset has
    its own counter with this limit (in that asset's units)."""

    window: Window
    limit: Decimal
    per: Per = "all"
    asset: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.window not in get_args(Window):
            raise PolicyError(f"budget window: one of {get_args(Window)}, not {self.window!r}")
        if self.per not in get_args(Per):
            raise PolicyError(f"budget per: one of {get_args(Per)}, not {self.per!r}")
        if not isinstance(self.limit, Decimal) or self.limit < 0:
            raise PolicyError("budget limit: a non-negative Decimal of token units")
        if self.asset is not None:
            network, address = self.asset
            object.__setattr__(self, "asset", (network, to_checksum_address(address)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Budget:
        limit = data.get("limit")
        if isinstance(limit, float):
            raise PolicyError("budget limit: a string or Decimal, never a float")
        asset = data.get("asset")
        return cls(
            window=data["window"],
            limit=Decimal(str(limit).lstrip("$")),
            per=data.get("per", "all"),
            asset=None if asset is None else (asset["network"], asset["address"]),
        )


class PolicyError(ValueError):
    """A policy that cannot be built (names the field)."""


def canonical_host(name: str) -> str | None:
    """A host name as it is matched: lower case, the DNS root's trailing dot dropped, labels in
    IDNA (punycode) form, so ``API.Example.COM.``, ``api.example.com`` and a Unicode spelling
    compare as the same name and a look-alike never does. None: not a usable host name."""
    host = name.strip().lower()
    if host.endswith("."):
        host = host[:-1]
    if not host or host.startswith(".") or ".." in host:
        return None
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` with the host canonical (:func:`canonical_host`), default ports
    dropped."""
    parts = urlsplit(url)
    host = canonical_host(parts.hostname or "") or ""
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    netloc = host if port is None or port == default else f"{host}:{port}"
    return f"{parts.scheme.lower()}://{netloc}"


def host_allowed(url: str, patterns: Iterable[str], *, any_port: bool = False) -> bool:
    """Exact origin (``https://api.example.com``), or a host name / ``*.example.com`` on a
    label boundary, which match https on its default port only. ``any_port`` (deny lists):
    every pattern matches the host on any scheme and port, so a port or ``http`` never slips
    past a denial. A URL that does not parse matches nothing."""
    try:
        parts = urlsplit(url)
        port = parts.port
        origin = origin_of(url)
    except ValueError:
        return False
    host = canonical_host(parts.hostname or "")
    if host is None:
        return False
    scheme = parts.scheme.lower()
    https_default = scheme == "https" and port in (None, 443)
    for pattern in patterns:
        p = pattern.strip().lower().rstrip("/")
        if "://" in p:
            if any_port:
                p = urlsplit(p).hostname or ""
            elif origin == origin_of(p):
                return True
            else:
                continue
        if not (any_port or https_default):
            continue
        if p.startswith("*."):
            suffix = canonical_host(p[2:])
            if suffix is not None and host.endswith("." + suffix):
                return True
        elif host == canonical_host(p):
            return True
    return False


@dataclass(frozen=True)
class SpendPolicy:
    """The operator's limits (see the module docs). Amounts are token units (``Decimal``)."""

    max_per_call: Decimal = DEFAULT_MAX_PER_CALL
    # Networks (CAIP-2) allowed; empty: any the registry knows.
    networks: frozenset[str] = frozenset()
    # Assets allowed as (network, address); empty: the registry's known assets only.
    assets: frozenset[tuple[str, str]] = frozenset()
    # Hosts allowed (exact origins or *.domain); empty: any https host.
    hosts: frozenset[str] = frozenset()
    deny_hosts: frozenset[str] = frozenset()
    pay_to: frozenset[str] = frozenset()
    deny_pay_to: frozenset[str] = frozenset()
    # Preferred networks, in order (ties broken by the cheapest offer).
    prefer_networks: tuple[str, ...] = ()
    allow_http: bool = False  # paying plain-http origins (tests, localhost)
    # Rolling budgets (checked atomically on the spending store before anything is signed).
    budgets: tuple[Budget, ...] = ()
    # Circuit breakers: payments per minute (None: no cap); N consecutive failures (not charged
    # or unknown) to one payee open its breaker for ``breaker_cooldown`` seconds; the same paid
    # call (method + URL) at most ``max_repeats`` times per ``repeat_window`` seconds.
    max_payments_per_minute: int | None = 60
    breaker_failures: int | None = 5
    breaker_cooldown: int = 300
    max_repeats: int | None = 20
    repeat_window: int = 60
    # Kill switch: spending stops while this file exists or this environment variable is set.
    kill_file: str | None = None
    kill_env: str | None = "FASTX402_KILL"

    def __post_init__(self) -> None:
        if not isinstance(self.max_per_call, Decimal) or self.max_per_call < 0:
            raise PolicyError("max_per_call: a non-negative Decimal of token units")
        norm = frozenset(to_checksum_address(a) for a in self.pay_to)
        object.__setattr__(self, "pay_to", norm)
        object.__setattr__(
            self, "deny_pay_to", frozenset(to_checksum_address(a) for a in self.deny_pay_to)
        )
        object.__setattr__(
            self, "assets", frozenset((n, to_checksum_address(a)) for n, a in self.assets)
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SpendPolicy:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise PolicyError(f"unknown policy fields: {sorted(unknown)}")
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name == "max_per_call":
                if isinstance(value, float):
                    raise PolicyError("max_per_call: a string or Decimal, never a float")
                values[name] = Decimal(str(value).lstrip("$"))
            elif name == "assets":
                values[name] = frozenset((a["network"], a["address"]) for a in value)
            elif name in ("prefer_networks",):
                values[name] = tuple(value)
            elif name == "allow_http":
                values[name] = bool(value)
            elif name == "budgets":
                values[name] = tuple(
                    b if isinstance(b, Budget) else Budget.from_dict(b) for b in value
                )
            elif name in (
                "max_payments_per_minute",
                "breaker_failures",
                "breaker_cooldown",
                "max_repeats",
                "repeat_window",
            ):
                values[name] = None if value is None else int(value)
            elif name in ("kill_file", "kill_env"):
                values[name] = None if value is None else str(value)
            else:
                values[name] = frozenset(value)
        return cls(**values)

    def with_cap(self, max_per_call: Decimal) -> SpendPolicy:
        """This policy with a per-call cap no higher than the operator's."""
        return dataclasses.replace(self, max_per_call=min(self.max_per_call, max_per_call))

    def refusal(self, url: str, network: str, asset: str, pay_to: str, amount: int) -> str | None:
        """Why this offer may not be paid, or None."""
        scheme = urlsplit(url).scheme.lower()
        if scheme != "https" and not (scheme == "http" and self.allow_http):
            return f"host_not_allowed: {origin_of(url)} is not https"
        if self.deny_hosts and host_allowed(url, self.deny_hosts, any_port=True):
            return f"host_not_allowed: {origin_of(url)} is denied"
        if self.hosts and not host_allowed(url, self.hosts):
            return f"host_not_allowed: {origin_of(url)} is not allowed"
        if self.networks and network not in self.networks:
            return f"network_not_allowed: {network}"
        try:
            info = find_asset(network, asset)
        except ValueError:
            return f"asset_not_allowed: {asset} on {network} is not a known asset"
        if self.assets and (network, to_checksum_address(asset)) not in self.assets:
            return f"asset_not_allowed: {asset} on {network}"
        payee = to_checksum_address(pay_to)
        if payee in self.deny_pay_to or (self.pay_to and payee not in self.pay_to):
            return f"pay_to_not_allowed: {payee}"
        price = Decimal(atomic_to_price(amount, info["decimals"]))
        if price > self.max_per_call:
            return f"over_cap: {price} {info.get('symbol') or ''} > {self.max_per_call}".rstrip()
        return None
