"""Seller settings from the environment (``pydantic-settings``; extra ``fastx402[fastapi]``).

``FASTX402_PAY_TO``, ``FASTX402_NETWORKS`` (comma-separated CAIP-2), ``FASTX402_FACILITATOR_URL``,
``FASTX402_STORE_URL`` (``memory://`` by default), ``FASTX402_MAX_TIMEOUT_SECONDS``. A value that
is not valid (an address, a network) is refused when the settings are loaded, naming the variable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from fastx402._core import parse_network, to_checksum_address
from fastx402.server.pricing import DEFAULT_MAX_TIMEOUT_SECONDS, PaymentOption, Price


class SellerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FASTX402_", frozen=True)

    pay_to: str
    networks: Annotated[tuple[str, ...], NoDecode] = ("eip155:8453",)
    facilitator_url: str
    store_url: str = "memory://"
    max_timeout_seconds: int = DEFAULT_MAX_TIMEOUT_SECONDS

    @field_validator("pay_to")
    @classmethod
    def _address(cls, value: str) -> str:
        return to_checksum_address(value)

    @field_validator("networks", mode="before")
    @classmethod
    def _networks(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, Sequence) or not items:
            raise ValueError("at least one network")
        return tuple(parse_network(str(n).strip())[0] for n in items)

    def options(self, price: Price) -> list[PaymentOption]:
        """One payment option per configured network, at ``price``, to ``pay_to``."""
        return [
            PaymentOption(price, n, self.pay_to, max_timeout_seconds=self.max_timeout_seconds)
            for n in self.networks
        ]
