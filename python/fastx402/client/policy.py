"""What an agent may pay: the operator's spend policy, checked before anything is signed.

Fail-closed defaults: a small per-call cap (``$0.10`` worth of a known stablecoin), only assets the
registry knows (or that are listed), any network the registry knows. Hosts are matched on the exact
origin or a label-boundary wildcard (``*.example.com`` admits ``api.example.com``, never
``example.com.evil.io``), never by raw prefix. A tool argument or the model may only *lower* the
per-call cap (:meth:`SpendPolicy.with_cap`), never raise it.
"""

from __future__ import annotations

import dataclasses
import os
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
        unknown = set(data) - {"window", "limit", "per", "asset"}
        if unknown:
            raise PolicyError(f"unknown budget fields: {sorted(unknown)}")
        limit = data.get("limit")
        if isinstance(limit, float):
            raise PolicyError("budget limit: a string or Decimal, never a float")
        if "window" not in data or limit is None:
            raise PolicyError("a budget needs a window and a limit")
        asset = data.get("asset")
        return cls(
            window=data["window"],
            limit=Decimal(str(limit).lstrip("$")),
            per=data.get("per", "all"),
            asset=None if asset is None else (asset["network"], asset["address"]),
        )


class PolicyError(ValueError):
    """A policy that cannot be built (names the field)."""


# Whole-number fields, and those of them that may be None (no limit).
INTS = (
    "max_payments_per_minute",
    "breaker_failures",
    "breaker_cooldown",
    "max_repeats",
    "repeat_window",
)
NULLABLE = ("max_payments_per_minute", "breaker_failures", "max_repeats", "kill_file", "kill_env")


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise PolicyError(f"{value!r}: a string or Decimal, never a float")
    if isinstance(value, Mapping):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _refuse_floats(item)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise PolicyError(f"a list of strings, not {type(value).__name__}")
    if not all(isinstance(v, str) for v in value):
        raise PolicyError("a list of strings")
    return list(value)


def _money(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise PolicyError(f"a string or Decimal of token units, not {type(value).__name__}")
    return Decimal(str(value).strip().lstrip("$"))


def _read_field(name: str, value: Any) -> Any:
    if name == "max_per_call":
        return _money(value)
    if name == "assets":
        return frozenset((a["network"], to_checksum_address(a["address"])) for a in value)
    if name in ("pay_to", "deny_pay_to"):
        return frozenset(to_checksum_address(a) for a in _strings(value))
    if name == "prefer_networks":
        return tuple(_strings(value))
    if name == "allow_http":
        if not isinstance(value, bool):
            raise PolicyError("true or false")
        return value
    if name == "budgets":
        return tuple(b if isinstance(b, Budget) else Budget.from_dict(b) for b in value)
    if value is None and name in NULLABLE:
        return None
    if name in INTS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PolicyError(f"a whole number, not {type(value).__name__}")
        return value
    if name in ("kill_file", "kill_env"):
        if not isinstance(value, str):
            raise PolicyError("a string")
        return value
    return frozenset(_strings(value))


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
        """A policy from plain data (JSON, TOML, YAML). Unknown fields, floats anywhere (money
        is a string or an integer) and ill-typed values are refused with the field's name."""
        if not isinstance(data, Mapping):
            raise PolicyError(f"a policy is a mapping of fields, not {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise PolicyError(f"unknown policy fields: {sorted(unknown)}")
        values: dict[str, Any] = {}
        for name, value in data.items():
            try:
                _refuse_floats(value)
                values[name] = _read_field(name, value)
            except PolicyError as e:
                raise PolicyError(f"{name}: {e}") from None
            except (KeyError, TypeError, ValueError, ArithmeticError) as e:
                raise PolicyError(f"{name}: {type(e).__name__}: {e}") from None
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> SpendPolicy:
        """A policy from a ``.toml``, ``.yaml``/``.yml`` or ``.json`` file (errors name it)."""
        from fastx402.client.policy_files import read_policy_file

        return cls.from_dict_in(read_policy_file(path), str(path))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SpendPolicy:
        """A policy from the environment: ``FASTX402_POLICY_FILE`` (a policy file), or one
        ``FASTX402_POLICY_<FIELD>`` variable per field (see :mod:`fastx402.client.policy_files`);
        nothing set: the safe defaults."""
        from fastx402.client.policy_files import FILE_VARIABLE, policy_data_from_env

        env = os.environ if environ is None else environ
        if env.get(FILE_VARIABLE):
            return cls.from_file(env[FILE_VARIABLE])
        return cls.from_dict_in(policy_data_from_env(env), "the environment")

    @classmethod
    def from_dict_in(cls, data: Mapping[str, Any], where: str) -> SpendPolicy:
        """:meth:`from_dict`, its errors naming ``where`` the data came from."""
        try:
            return cls.from_dict(data)
        except PolicyError as e:
            raise PolicyError(f"{where}: {e}") from None

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
