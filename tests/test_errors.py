"""One error surface: the reason codes, which errors are ValueErrors, and one class
for every configuration mistake of a facilitator or a facilitator client."""

from __future__ import annotations

from typing import Any, get_args

import pytest

import fastx402
from fastx402 import _core, errors
from fastx402.errors import (
    ConfigError,
    FacilitatorError,
    FacilitatorUnavailable,
    InvalidAsset,
    InvalidNetwork,
    InvalidPrice,
    SettlementOutcomeUnknown,
    X402Error,
)

KEY = fastx402.PrivateKey.generate()


def test_reason_literal_is_the_rust_enum() -> None:
    assert get_args(errors.Reason) == _core.REASONS
    assert len(set(_core.REASONS)) == len(_core.REASONS)
    assert "insufficient_funds" in _core.REASONS
    assert fastx402.Reason is errors.Reason


def test_exactly_four_classes_are_not_value_errors() -> None:
    classes = [
        getattr(errors, name)
        for name in errors.__all__
        if isinstance(getattr(errors, name), type) and name != "Reason"
    ]
    assert all(issubclass(c, X402Error) for c in classes)
    not_value_errors = {c for c in classes if not issubclass(c, ValueError)}
    assert not_value_errors == {
        X402Error,
        FacilitatorError,
        FacilitatorUnavailable,
        SettlementOutcomeUnknown,
    }
    assert issubclass(ConfigError, FacilitatorError) and issubclass(ConfigError, ValueError)


@pytest.mark.parametrize(
    ("url", "kwargs"),
    [
        ("ftp://x", {}),
        ("not a url", {}),
        ("http://example.test", {"timeout": 0}),
        ("http://example.test", {"settle_timeout": float("inf")}),
        ("http://example.test", {"connect_timeout": -1}),
        ("http://example.test", {"headers": {"Host": "x"}}),
    ],
)
def test_remote_facilitator_config_mistakes(url: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as info:
        fastx402.RemoteFacilitator(url, **kwargs)
    assert info.value.code == "config"


@pytest.mark.parametrize(
    ("url", "network", "kwargs"),
    [
        ("not a url", "eip155:1", {}),
        ("ftp://x", "eip155:1", {}),
        ("http://127.0.0.1:1", "not-a-network", {}),
        ("http://127.0.0.1:1", "eip155:1", {"rpc_timeout": 0}),
        ("http://127.0.0.1:1", "eip155:1", {"receipt_timeout": float("nan")}),
        ("http://127.0.0.1:1", "eip155:1", {"poll_interval": -1.0}),
        ("http://127.0.0.1:1", "eip155:1", {"log_range_blocks": 0}),
        ("http://127.0.0.1:1", "eip155:1", {"allowed_factories": ["0x12"]}),
    ],
)
def test_facilitator_config_mistakes(url: str, network: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as info:
        fastx402.Facilitator(url, network, KEY, now=0, **kwargs)
    assert info.value.code == "config"
    assert isinstance(info.value, FacilitatorError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("cls", [InvalidNetwork, InvalidAsset, InvalidPrice])
def test_reason_and_code_share_one_init(cls: type[InvalidNetwork]) -> None:
    e = cls("boom")
    assert (e.message, e.reason, e.code) == ("boom", cls.default_reason, cls.default_code)
    e = cls("boom", "invalid_payload", "x")
    assert (str(e), e.reason, e.code) == ("boom", "invalid_payload", "x")


def test_facilitator_errors_share_one_init() -> None:
    assert (FacilitatorError("m").code, FacilitatorError("m", "timeout").code) == (
        "malformed",
        "timeout",
    )
    assert ConfigError("m").code == "config"
    assert FacilitatorUnavailable("m").message == "m"
    unknown = SettlementOutcomeUnknown("m", "pending")
    assert (unknown.code, unknown.response) == ("pending", None)


def test_network_and_price_errors_keep_their_classes() -> None:
    with pytest.raises(InvalidNetwork) as net:
        fastx402.parse_network("nope")
    assert net.value.reason == "invalid_network"
    with pytest.raises(InvalidPrice) as price:
        fastx402.price_to_atomic("0.0000001", "eip155:8453")
    assert (price.value.reason, price.value.code) == ("invalid_payment_requirements", "too_precise")
    with pytest.raises(InvalidAsset):
        fastx402.find_asset("eip155:8453", "0x" + "12" * 20)
