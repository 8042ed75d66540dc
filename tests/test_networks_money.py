"""Networks, default assets and exact prices (fastx402._core over src/x402/networks.rs
and src/x402/money.rs), cross-checked against the official x402 SDK's data."""

from __future__ import annotations

import importlib
import threading
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fastx402 import _core
from fastx402.errors import InvalidAsset, InvalidNetwork, InvalidPrice, X402Error

MAX_UINT256 = 2**256 - 1

# Chain ids no default uses, one per test that registers something: the registry
# is process-wide.
TEST_CHAIN = 990_000


# --------------------------------------------------------------------------- networks


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        ("eip155:8453", ("eip155:8453", 8453, "base")),
        ("base", ("eip155:8453", 8453, "base")),
        ("base-sepolia", ("eip155:84532", 84532, "base-sepolia")),
        ("polygon-amoy", ("eip155:80002", 80002, "polygon-amoy")),
        ("avalanche-fuji", ("eip155:43113", 43113, "avalanche-fuji")),
        ("eip155:42161", ("eip155:42161", 42161, None)),
        ("eip155:1", ("eip155:1", 1, "ethereum")),
        ("eip155:123456789", ("eip155:123456789", 123456789, None)),
        ("eip155:18446744073709551615", ("eip155:18446744073709551615", 2**64 - 1, None)),
    ],
)
def test_parse_network(network: str, expected: tuple[str, int, str | None]) -> None:
    assert _core.parse_network(network) == expected


@pytest.mark.parametrize(
    ("network", "code"),
    [
        ("", "empty"),
        ("bäse", "non_ascii"),
        ("eip155:\uff18\uff14\uff15\uff13", "non_ascii"),
        ("eip155:" + "1" * 80, "too_long"),
        ("Base", "malformed"),
        (" base", "malformed"),
        ("base\n", "malformed"),
        ("base_sepolia", "malformed"),
        ("EIP155:8453", "malformed"),
        ("arbitrum", "unknown_network"),
        ("sepolia", "unknown_network"),
        ("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "unsupported_namespace"),
        ("eip155:", "invalid_chain_id"),
        ("eip155:0", "invalid_chain_id"),
        ("eip155:08453", "invalid_chain_id"),
        ("eip155:+8453", "invalid_chain_id"),
        ("eip155:0x2105", "invalid_chain_id"),
        ("eip155:8453 ", "invalid_chain_id"),
        ("eip155:18446744073709551616", "invalid_chain_id"),
    ],
)
def test_parse_network_rejects(network: str, code: str) -> None:
    with pytest.raises(InvalidNetwork) as info:
        _core.parse_network(network)
    assert info.value.reason == "invalid_network"
    assert info.value.code == code
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, X402Error)


def test_parse_network_type() -> None:
    with pytest.raises(TypeError):
        _core.parse_network(8453)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the SDK's data


def _sdk() -> tuple[Any, Any]:
    default_assets = importlib.import_module("x402.mechanisms.evm.default_assets")
    v1 = importlib.import_module("x402.mechanisms.evm.v1.constants")
    return default_assets, v1


def _as_ours(entry: dict[str, Any]) -> dict[str, Any]:
    """An SDK ``DEFAULT_ASSETS`` entry in the shape ``_core.default_asset`` returns."""
    return {
        "address": entry["asset"],
        "name": entry["name"],
        "version": entry["version"],
        "decimals": entry["decimals"],
        "symbol": entry["symbol"],
        "transfer_method": entry.get("asset_transfer_method", "eip3009"),
        "supports_eip2612": entry.get("supports_eip2612", False),
    }


def test_v1_names_match_the_sdk() -> None:
    _, v1 = _sdk()
    for name, chain_id in v1.V1_NETWORK_CHAIN_IDS.items():
        assert _core.parse_network(name) == (f"eip155:{chain_id}", chain_id, name)
    for name in v1.V1_NETWORKS:
        assert name in v1.V1_NETWORK_CHAIN_IDS
        _core.parse_network(name)


def test_default_assets_match_the_sdk() -> None:
    default_assets, _ = _sdk()
    sdk = default_assets.DEFAULT_ASSETS
    assert len(sdk) >= 29
    for network, entries in sdk.items():
        ours = _core.network_assets(network)
        assert ours == [_as_ours(e) for e in entries], network
        assert _core.default_asset(network) == _as_ours(entries[0])
        for e in entries:
            assert _core.find_asset(network, e["asset"]) == _as_ours(e)
            assert _core.find_asset(network, e["asset"].lower()) == _as_ours(e)


def test_default_assets_by_v1_name_match_the_sdk() -> None:
    default_assets, v1 = _sdk()
    for name in v1.V1_NETWORK_CHAIN_IDS:
        try:
            sdk = default_assets.get_default_asset(name)
        except ValueError:
            if name == "avalanche-fuji":  # ours is fastx402's own entry (assets.json source)
                continue
            with pytest.raises(InvalidAsset) as info:
                _core.default_asset(name)
            assert info.value.code == "no_default_asset"
            assert info.value.reason == "invalid_payment_requirements"
            continue
        assert _core.default_asset(name) == _as_ours(sdk)


def test_only_documented_extras() -> None:
    """Every default we have that the SDK lacks is listed here, with its source."""
    default_assets, _ = _sdk()
    extras = {
        # fastx402's own default-asset table (src/x402/assets.json, source 'fastx402');
        # not in x402 2.25's DEFAULT_ASSETS.
        "eip155:43113": {
            "address": "0x5425890298aed601595a70AB815c96711a31Bc65",
            "name": "USD Coin",
            "version": "2",
            "decimals": 6,
            "symbol": "USDC",
            "transfer_method": "eip3009",
            "supports_eip2612": False,
        },
    }
    for network, asset in extras.items():
        assert network not in default_assets.DEFAULT_ASSETS
        assert _core.network_assets(network) == [asset]


def test_protocol_table() -> None:
    table = [
        ("eip155:8453", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "USD Coin"),
        ("eip155:84532", "0x036CbD53842c5426634e7929541eC2318f3dCF7e", "USDC"),
        ("eip155:137", "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359", "USD Coin"),
        ("eip155:42161", "0xaf88d065e77c8cC2239327C5EDb3A432268e5831", "USD Coin"),
        ("eip155:421614", "0x75faf114eafb1BDbe2F0316DF893fd58CE46AA4d", "USD Coin"),
        ("eip155:1", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "USD Coin"),
        ("eip155:43114", "0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E", "USD Coin"),
        ("eip155:43113", "0x5425890298aed601595a70AB815c96711a31Bc65", "USD Coin"),
        ("eip155:143", "0x754704Bc059F8C67012fEd69BC8A327a5aafb603", "USDC"),
    ]
    for network, address, name in table:
        asset = _core.default_asset(network)
        assert (asset["address"], asset["name"], asset["version"], asset["decimals"]) == (
            address,
            name,
            "2",
            6,
        )


def test_asset_lookup_errors() -> None:
    with pytest.raises(InvalidAsset) as info:
        _core.default_asset("polygon-amoy")
    assert info.value.code == "no_default_asset"
    with pytest.raises(InvalidAsset) as info:
        _core.find_asset("base", "0x036CbD53842c5426634e7929541eC2318f3dCF7e")
    assert info.value.code == "unknown_asset"
    with pytest.raises(InvalidAsset) as info:
        _core.find_asset("base", "0x036cbD53842c5426634e7929541eC2318f3dCF7e")
    assert info.value.code == "invalid_address"
    assert _core.network_assets("eip155:424242") == []
    with pytest.raises(InvalidNetwork):
        _core.default_asset("nowhere")


# --------------------------------------------------------------------------- prices


@pytest.mark.parametrize(
    ("price", "network", "expected"),
    [
        ("$0.001", "base", "1000"),
        ("0.001", "eip155:8453", "1000"),
        ("$0.01", "base-sepolia", "10000"),
        ("1.5 USDC", "base", "1500000"),
        ("$1.5 USDC", "base", "1500000"),
        ("10", "base", "10000000"),
        ("0", "base", "0"),
        ("0.000001", "base", "1"),
        (Decimal("0.001"), "base", "1000"),
        (Decimal("0.0010"), "base", "1000"),
        (Decimal("1E+2"), "base", "100000000"),
        (Decimal("1e-6"), "base", "1"),
        (Decimal("0"), "base", "0"),
        (10, "base", "10000000"),
        (0, "base", "0"),
        ("0.5", "megaeth", "500000000000000000"),  # 18 decimals
        ("2 USDT", "celo", "2000000"),  # the symbol picks Celo's USDT
        ("1 USAT", "eip155:42220", "1000000"),
        ("1 USDC.e", "eip155:36900", "1000000"),
        ("1 mUSD", "eip155:31612", "1000000000000000000"),
    ],
)
def test_price_to_atomic(price: str | Decimal | int, network: str, expected: str) -> None:
    assert _core.price_to_atomic(price, network) == expected


@pytest.mark.parametrize(
    ("price", "code"),
    [
        ("", "empty"),
        ("1" * 300, "too_long"),
        ("\uff11\uff10", "non_ascii"),
        ("0.00\uff11", "non_ascii"),
        ("NaN", "non_finite"),
        ("Infinity", "non_finite"),
        (" 1", "whitespace"),
        ("1 ", "whitespace"),
        ("1  USDC", "whitespace"),
        ("1\tUSDC", "whitespace"),
        ("$ 1", "whitespace"),
        ("$", "missing_amount"),
        ("-1", "negative"),
        ("$-0.01", "negative"),
        ("+1", "plus_sign"),
        ("1e-3", "exponent"),
        ("1E3", "exponent"),
        ("1,000", "separator"),
        ("1_000", "separator"),
        (".5", "leading_dot"),
        ("5.", "trailing_dot"),
        ("1.2.3", "multiple_dots"),
        ("01", "leading_zero"),
        ("0x10", "invalid_character"),
        ("1USDC", "invalid_character"),
        ("0.0000001", "too_precise"),
        ("0.0010000000", "too_precise"),  # zeros beyond 6 decimals too: nothing is rounded
        (str(MAX_UINT256), "overflow"),
        ("1 US-DC", "invalid_symbol"),
        ("1 USDT", "unknown_symbol"),
        ("1 usdc", "unknown_symbol"),  # symbols are case-sensitive
        ("1 USD", "unknown_symbol"),  # and USD is not an alias
        (Decimal("NaN"), "non_finite"),
        (Decimal("sNaN"), "non_finite"),
        (Decimal("-Infinity"), "non_finite"),
        (Decimal("-0.01"), "negative"),
        (Decimal("-0"), "negative"),
        (Decimal("0.0000001"), "too_precise"),
        (Decimal("0E-7"), "too_precise"),
        (-1, "negative"),
        (2**256, "overflow"),
    ],
)
def test_price_to_atomic_rejects(price: str | Decimal | int, code: str) -> None:
    with pytest.raises((InvalidPrice, InvalidAsset)) as info:
        _core.price_to_atomic(price, "base")
    assert info.value.code == code
    assert info.value.reason == "invalid_payment_requirements"
    assert isinstance(info.value, ValueError)
    exc_type = InvalidAsset if code == "unknown_symbol" else InvalidPrice
    assert type(info.value) is exc_type


@pytest.mark.parametrize("price", [0.001, 1.0, True, False, None, b"1", [1]])
def test_price_types(price: Any) -> None:
    with pytest.raises(TypeError):
        _core.price_to_atomic(price, "base")


def test_price_message_names_the_input() -> None:
    with pytest.raises(InvalidPrice, match=r'invalid price "1e-3": .*not an exponent'):
        _core.price_to_atomic("1e-3", "base")
    with pytest.raises(InvalidPrice) as info:
        _core.price_to_atomic("9" * 250 + "x", "base")
    assert len(str(info.value)) < 300


def test_price_with_explicit_asset() -> None:
    usdt = "0x48065fbBE25f71C9282ddf5e1cD6D6A887483D5e"
    assert _core.price_to_atomic("3", "celo", asset=usdt) == "3000000"
    assert _core.price_to_atomic("3 USDT", "celo", asset=usdt) == "3000000"
    with pytest.raises(InvalidPrice) as info:
        _core.price_to_atomic("3 USDC", "celo", asset=usdt)
    assert info.value.code == "symbol_mismatch"
    with pytest.raises(InvalidAsset) as info:
        _core.price_to_atomic("3", "base", asset=usdt)
    assert info.value.code == "unknown_asset"
    amount, asset = _core.resolve_price("2 USDT", "celo")
    assert amount == "2000000"
    assert asset["address"] == usdt
    assert asset["symbol"] == "USDT"


def test_price_network_errors() -> None:
    with pytest.raises(InvalidNetwork):
        _core.price_to_atomic("1", "arbitrum")
    with pytest.raises(InvalidAsset) as info:
        _core.price_to_atomic("1", "polygon-amoy")
    assert info.value.code == "no_default_asset"


def test_agrees_with_the_sdk_where_it_is_exact() -> None:
    helpers = importlib.import_module("x402.schemas.helpers")
    for text in ["0.001", "0.01", "1", "1.5", "123.456789", "0", "1000000", "0.000001"]:
        for decimals, network in [(6, "base"), (18, "megaeth")]:
            sdk = helpers.convert_to_token_amount(helpers.parse_money(text)["amount"], decimals)
            assert _core.price_to_atomic(text, network) == sdk
            assert _core.price_to_atomic("$" + text, network) == sdk


@given(
    st.integers(min_value=0, max_value=10**30),
    st.sampled_from([("base", 6), ("megaeth", 18)]),
)
def test_decimal_prices_are_exact(atomic: int, network_decimals: tuple[str, int]) -> None:
    network, decimals = network_decimals
    price = Decimal(f"{atomic}E-{decimals}")  # exact, unlike arithmetic
    assert _core.price_to_atomic(price, network) == str(atomic)
    text = _core.atomic_to_price(str(atomic), decimals)
    assert Decimal(text) == price
    assert _core.price_to_atomic(text, network) == str(atomic)


# --------------------------------------------------------------------------- atomic_to_price


@pytest.mark.parametrize(
    ("amount", "decimals", "expected"),
    [
        ("0", 6, "0"),
        ("1", 6, "0.000001"),
        ("1000", 6, "0.001"),
        ("10000", 6, "0.01"),
        ("1000000", 6, "1"),
        ("1500000", 6, "1.5"),
        (1500000, 6, "1.5"),
        ("100", 0, "100"),
        ("1", 18, "0.000000000000000001"),
        ("1", 36, "0." + "0" * 35 + "1"),
        (str(MAX_UINT256), 0, str(MAX_UINT256)),
    ],
)
def test_atomic_to_price(amount: str | int, decimals: int, expected: str) -> None:
    assert _core.atomic_to_price(amount, decimals) == expected


@pytest.mark.parametrize(
    ("amount", "decimals", "code"),
    [
        ("01", 6, "invalid_atomic"),
        ("-1", 6, "invalid_atomic"),
        ("1.5", 6, "invalid_atomic"),
        (" 1", 6, "invalid_atomic"),
        ("", 6, "invalid_atomic"),
        (str(MAX_UINT256 + 1), 6, "invalid_atomic"),
        (-1, 6, "invalid_atomic"),
        ("1", 37, "invalid_decimals"),
        ("1", -1, "invalid_decimals"),
        ("1", 2**70, "invalid_decimals"),
    ],
)
def test_atomic_to_price_rejects(amount: str | int, decimals: int, code: str) -> None:
    with pytest.raises(InvalidPrice) as info:
        _core.atomic_to_price(amount, decimals)
    assert info.value.code == code


@pytest.mark.parametrize(("amount", "decimals"), [(1.5, 6), (b"1", 6), ("1", 6.0), ("1", True)])
def test_atomic_to_price_types(amount: Any, decimals: Any) -> None:
    with pytest.raises(TypeError):
        _core.atomic_to_price(amount, decimals)


# --------------------------------------------------------------------------- registration

TOKEN_A = "0x1111111111111111111111111111111111111111"
TOKEN_B = "0x2222222222222222222222222222222222222222"


def test_register_network() -> None:
    chain = TEST_CHAIN + 1
    with pytest.raises(InvalidNetwork) as info:
        _core.parse_network("fastx402-test-one")
    assert info.value.code == "unknown_network"
    assert _core.register_network("fastx402-test-one", chain) == (
        f"eip155:{chain}",
        chain,
        "fastx402-test-one",
    )
    assert _core.parse_network("fastx402-test-one") == (
        f"eip155:{chain}",
        chain,
        "fastx402-test-one",
    )
    assert _core.parse_network(f"eip155:{chain}")[2] == "fastx402-test-one"
    # Idempotent; conflicts are errors unless replace=True.
    _core.register_network("fastx402-test-one", chain)
    for name, chain_id, code in [
        ("fastx402-test-one", chain + 1, "name_taken"),
        ("fastx402-test-two", chain, "chain_named"),
        ("Upper", chain + 2, "invalid_v1_name"),
        ("has space", chain + 2, "invalid_v1_name"),
        ("zero", 0, "invalid_chain_id"),
        ("negative", -1, "invalid_chain_id"),
        ("huge", 2**64, "invalid_chain_id"),
    ]:
        with pytest.raises(InvalidNetwork) as info:
            _core.register_network(name, chain_id)
        assert info.value.code == code, name
        assert info.value.reason == "invalid_network"
    _core.register_network("fastx402-test-two", chain, replace=True)
    assert _core.parse_network(f"eip155:{chain}")[2] == "fastx402-test-two"
    with pytest.raises(InvalidNetwork):
        _core.parse_network("fastx402-test-one")
    # A chain without a name.
    assert _core.register_network(None, chain + 5) == (f"eip155:{chain + 5}", chain + 5, None)
    with pytest.raises(TypeError):
        _core.register_network("x", "1")


def test_register_asset() -> None:
    chain = TEST_CHAIN + 2
    network = f"eip155:{chain}"
    _core.register_asset(network, TOKEN_A, "Test Dollar", "1", 6, symbol="TD")
    expected = {
        "address": TOKEN_A,
        "name": "Test Dollar",
        "version": "1",
        "decimals": 6,
        "symbol": "TD",
        "transfer_method": "eip3009",
        "supports_eip2612": False,
    }
    assert _core.default_asset(network) == expected
    assert _core.price_to_atomic("$0.25", network) == "250000"
    assert _core.price_to_atomic("0.25 TD", network) == "250000"
    # Identical again: fine. Different data: a conflict unless replaced.
    _core.register_asset(network, TOKEN_A, "Test Dollar", "1", 6, symbol="TD")
    with pytest.raises(InvalidAsset) as info:
        _core.register_asset(network, TOKEN_A, "Test Dollar", "2", 6, symbol="TD")
    assert info.value.code == "asset_conflict"
    _core.register_asset(network, TOKEN_A, "Test Dollar", "2", 6, symbol="TD", mode="replace")
    assert _core.default_asset(network)["version"] == "2"
    # A second asset, then made the default; the old default stays findable.
    _core.register_asset(
        network,
        TOKEN_B,
        "Eighteen",
        "1",
        18,
        symbol="EIG",
        transfer_method="permit2",
        supports_eip2612=True,
    )
    assert _core.default_asset(network)["address"] == TOKEN_A
    assert _core.price_to_atomic("1 EIG", network) == str(10**18)
    _core.register_asset(
        network,
        TOKEN_B,
        "Eighteen",
        "1",
        18,
        symbol="EIG",
        transfer_method="permit2",
        supports_eip2612=True,
        mode="default",
    )
    default = _core.default_asset(network)
    assert (default["address"], default["transfer_method"], default["supports_eip2612"]) == (
        TOKEN_B,
        "permit2",
        True,
    )
    assert [a["address"] for a in _core.network_assets(network)] == [TOKEN_B, TOKEN_A]
    assert _core.price_to_atomic("1", network) == str(10**18)


@pytest.mark.parametrize(
    ("args", "kwargs", "code"),
    [
        ((TOKEN_A.upper().replace("0X", "0x"), "N", "1", 6), {}, None),  # uppercase is fine
        (("0x111111111111111111111111111111111111111A", "N", "1", 6), {}, None),
        (("0x1111111111111111111111111111111111111Aa1", "N", "1", 6), {}, "invalid_address"),
        (("0x1234", "N", "1", 6), {}, "invalid_address"),
        ((TOKEN_A, "N", "1", 37), {}, "invalid_decimals"),
        ((TOKEN_A, "N", "1", -1), {}, "invalid_decimals"),
        ((TOKEN_A, "", "1", 6), {}, "invalid_domain_field"),
        ((TOKEN_A, " N", "1", 6), {}, "invalid_domain_field"),
        ((TOKEN_A, "N\n", "1", 6), {}, "invalid_domain_field"),
        ((TOKEN_A, "N", "", 6), {}, "invalid_domain_field"),
        ((TOKEN_A, "N", "1", 6), {"symbol": "1X"}, "invalid_symbol"),
        ((TOKEN_A, "N", "1", 6), {"symbol": ""}, "invalid_symbol"),
        ((TOKEN_A, "N", "1", 6), {"transfer_method": "EIP3009"}, "invalid_transfer_method"),
    ],
)
def test_register_asset_validation(
    args: tuple[Any, ...], kwargs: dict[str, Any], code: str | None
) -> None:
    network = f"eip155:{TEST_CHAIN + 3}"
    if code is None:
        _core.register_asset(network, *args, **kwargs, mode="replace")
        address, name, version, decimals = args
        found = _core.find_asset(network, address)
        assert found["address"] == _core.to_checksum_address(address)
        assert (found["name"], found["version"], found["decimals"]) == (name, version, decimals)
    else:
        with pytest.raises(InvalidAsset) as info:
            _core.register_asset(network, *args, **kwargs)
        assert info.value.code == code
        assert info.value.reason == "invalid_payment_requirements"


def test_register_asset_arguments() -> None:
    with pytest.raises(ValueError, match="mode"):
        _core.register_asset(f"eip155:{TEST_CHAIN + 4}", TOKEN_A, "N", "1", 6, mode="upsert")
    with pytest.raises(TypeError):
        _core.register_asset(f"eip155:{TEST_CHAIN + 4}", TOKEN_A, "N", "1", 6.0)
    with pytest.raises(TypeError):
        _core.register_asset(f"eip155:{TEST_CHAIN + 4}", TOKEN_A, "N", "1", True)
    with pytest.raises(InvalidNetwork):
        _core.register_asset("solana:mainnet", TOKEN_A, "N", "1", 6)
    assert _core.network_assets(f"eip155:{TEST_CHAIN + 4}") == []


def test_registry_is_thread_safe() -> None:
    chain = TEST_CHAIN + 6
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            address = "0x" + f"{i + 1:02x}" * 20
            _core.register_asset(f"eip155:{chain}", address, "T", "1", 6, symbol=f"T{i}")
            for _ in range(200):
                assert _core.price_to_atomic("$0.01", "base") == "10000"
                assert _core.parse_network("base-sepolia")[1] == 84532
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(_core.network_assets(f"eip155:{chain}")) == 8
