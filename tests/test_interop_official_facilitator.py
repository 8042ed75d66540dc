"""The official x402 SDK's facilitator verifies and settles fastx402 payments on a real chain.

Real parts only: the session ``anvil`` (chain id 31337, automine, Multicall3 installed) with
TestUSDC (``usdc``), fastx402's client (``fastx402.create_payment``) and the official Python SDK
``x402[evm]==2.25.0`` facilitator built the SDK's documented way (``x402FacilitatorSync`` +
``register_exact_evm_facilitator`` with a web3/eth-account ``FacilitatorWeb3Signer`` talking
JSON-RPC to anvil; see ``tests/official_facilitator.py``). Nothing is stubbed or patched, except
the v1 test, which adds one entry to the SDK's v1 chain table (data, not code) because the SDK
has no way to register a v1 name for a custom chain.

Every test uses its own payer key and payee address; the facilitator account is a fresh key
funded with ETH. Balances and ``authorizationState`` are read from the chain.

Clock: the SDK facilitator checks the validity window against the host's wall clock, the token
against block timestamps; the session chain runs on wall time and nobody moves its clock, so
fastx402 signs with its default clock (wall time) too.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from typing import Any

import pytest
from eth_account import Account
from x402 import x402FacilitatorSync
from x402.mechanisms.evm import constants as sdk

import fastx402
from chain import NETWORK, Anvil, Token
from fastx402 import PrivateKey
from official_facilitator import (
    build_official_facilitator,
    official_client_payment,
    official_settle,
    official_v1_network,
    official_verify,
    sdk_payment,
    sdk_requirements,
    wire,
)

AMOUNT = 10_000  # 0.01 USDC
FUNDS = 1_000_000  # 1 USDC minted to each payer
MAX_TIMEOUT = 60
RESOURCE = "http://127.0.0.1/paid"
TX_HASH = re.compile(r"0x[0-9a-f]{64}")
# A v1 name for chain 31337, which neither fastx402 nor the SDK knows by default.
V1_NAME = "anvil-x402-interop"
# TestUSDC's revert strings (FiatToken's own).
USED = "FiatTokenV2: authorization is used or canceled"
NO_BALANCE = "ERC20: transfer amount exceeds balance"


# --- fixtures and builders ------------------------------------------------------------------------


def funded_key(anvil: Anvil) -> str:
    """A fresh private key whose account holds 100 ETH on the chain (for gas)."""
    key = "0x" + secrets.token_bytes(32).hex()
    anvil.rpc.call("anvil_setBalance", Account.from_key(key).address, hex(100 * 10**18))
    return key


@pytest.fixture(scope="module")
def facilitator_key(anvil: Anvil) -> str:
    return funded_key(anvil)


@pytest.fixture(scope="module")
def official(anvil: Anvil, facilitator_key: str) -> x402FacilitatorSync:
    """The SDK facilitator as configured by default (``simulate_in_settle=False``)."""
    return build_official_facilitator(anvil.url, facilitator_key, NETWORK)


@pytest.fixture(scope="module")
def official_strict(anvil: Anvil, facilitator_key: str) -> x402FacilitatorSync:
    """The SDK facilitator with ``simulate_in_settle=True`` (same account as ``official``)."""
    return build_official_facilitator(anvil.url, facilitator_key, NETWORK, simulate_in_settle=True)


def requirements(
    usdc: Token, pay_to: str, *, amount: int = AMOUNT, version: int = 2
) -> dict[str, Any]:
    if version == 2:
        return {
            "scheme": "exact",
            "network": NETWORK,
            "asset": usdc.address,
            "amount": str(amount),
            "payTo": pay_to,
            "maxTimeoutSeconds": MAX_TIMEOUT,
            "extra": usdc.extra,
        }
    return {
        "scheme": "exact",
        "network": V1_NAME,
        "maxAmountRequired": str(amount),
        "resource": RESOURCE,
        "description": "paid resource",
        "mimeType": "application/json",
        "payTo": pay_to,
        "maxTimeoutSeconds": MAX_TIMEOUT,
        "asset": usdc.address,
        "extra": usdc.extra,
    }


def payment_required(reqs: dict[str, Any], *, version: int = 2) -> dict[str, Any]:
    if version == 2:
        return {
            "x402Version": 2,
            "error": "Payment required",
            "resource": {"url": RESOURCE, "mimeType": "application/json"},
            "accepts": [reqs],
        }
    return {"x402Version": 1, "error": "X-PAYMENT header is required", "accepts": [reqs]}


def payer_with(usdc: Token, funds: int) -> PrivateKey:
    payer = PrivateKey.generate()
    if funds:
        usdc.mint(payer.address, funds)
    return payer


def fresh_address() -> str:
    return PrivateKey.generate().address


def pay(
    usdc: Token,
    payer: PrivateKey,
    pay_to: str,
    *,
    amount: int = AMOUNT,
    version: int = 2,
    now: int | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fastx402 payment (wire JSON) and the requirements it pays."""
    reqs = requirements(usdc, pay_to, amount=amount, version=version)
    payment = fastx402.create_payment(payment_required(reqs, version=version), payer, now=now)
    return payment.to_dict(), reqs


def tx_count(anvil: Anvil, address: str) -> int:
    return int(anvil.rpc.call("eth_getTransactionCount", address, "latest"), 16)


def assert_settled(
    anvil: Anvil,
    usdc: Token,
    settle: Any,
    *,
    payer: PrivateKey,
    pay_to: str,
    facilitator: str,
    network: str = NETWORK,
) -> dict[str, Any]:
    assert settle.success, wire(settle)
    assert settle.error_reason is None
    assert TX_HASH.fullmatch(settle.transaction), settle.transaction
    assert settle.network == network
    assert settle.payer == payer.address
    receipt: dict[str, Any] = anvil.rpc.call("eth_getTransactionReceipt", settle.transaction)
    assert receipt is not None
    assert int(receipt["status"], 16) == 1
    assert fastx402.to_checksum_address(receipt["from"]) == facilitator
    assert fastx402.to_checksum_address(receipt["to"]) == usdc.address
    return receipt


# =================================================================================================
# v2 (CAIP-2 eip155:31337)
# =================================================================================================


def test_official_facilitator_settles_fastx402_payment(
    anvil: Anvil, usdc: Token, official: x402FacilitatorSync, facilitator_key: str
) -> None:
    payer = payer_with(usdc, FUNDS)
    pay_to = fresh_address()
    payment, reqs = pay(usdc, payer, pay_to)
    nonce = payment["payload"]["authorization"]["nonce"]
    facilitator = Account.from_key(facilitator_key).address

    verdict = official_verify(official, payment, reqs)
    assert verdict.is_valid, wire(verdict)
    assert verdict.payer == payer.address
    assert not usdc.authorization_state(payer.address, nonce)  # verify moved nothing

    settle = official_settle(official, payment, reqs)
    assert_settled(anvil, usdc, settle, payer=payer, pay_to=pay_to, facilitator=facilitator)
    assert usdc.balance_of(payer.address) == FUNDS - AMOUNT
    assert usdc.balance_of(pay_to) == AMOUNT
    assert usdc.authorization_state(payer.address, nonce)

    # The same payment again: verify names the used nonce (found by simulation + Multicall3
    # diagnosis) ...
    again = official_verify(official, payment, reqs)
    assert (again.is_valid, again.invalid_reason) == (False, sdk.ERR_NONCE_ALREADY_USED)
    # ... while settle, by default (simulate_in_settle=False), re-checks without simulating,
    # broadcasts, and reports the reverted transaction as transaction_failed. No money moves.
    sent = tx_count(anvil, facilitator)
    replay = official_settle(official, payment, reqs)
    assert not replay.success
    assert replay.error_reason == sdk.ERR_TRANSACTION_FAILED
    assert TX_HASH.fullmatch(replay.transaction)
    receipt = anvil.rpc.call("eth_getTransactionReceipt", replay.transaction)
    assert int(receipt["status"], 16) == 0
    assert anvil.tx_revert_reason(replay.transaction) == USED
    assert tx_count(anvil, facilitator) == sent + 1  # the facilitator paid gas for the revert
    assert usdc.balance_of(payer.address) == FUNDS - AMOUNT
    assert usdc.balance_of(pay_to) == AMOUNT


def test_replay_refused_before_broadcast_with_simulate_in_settle(
    anvil: Anvil, usdc: Token, official_strict: x402FacilitatorSync, facilitator_key: str
) -> None:
    """``simulate_in_settle=True``: settling a used payment fails with the nonce reason and
    broadcasts nothing."""
    payer = payer_with(usdc, FUNDS)
    pay_to = fresh_address()
    payment, reqs = pay(usdc, payer, pay_to)
    facilitator = Account.from_key(facilitator_key).address

    first = official_settle(official_strict, payment, reqs)
    assert_settled(anvil, usdc, first, payer=payer, pay_to=pay_to, facilitator=facilitator)

    sent = tx_count(anvil, facilitator)
    replay = official_settle(official_strict, payment, reqs)
    assert (replay.success, replay.error_reason) == (False, sdk.ERR_NONCE_ALREADY_USED)
    assert replay.transaction == ""
    assert replay.payer == payer.address
    assert tx_count(anvil, facilitator) == sent
    assert usdc.balance_of(payer.address) == FUNDS - AMOUNT
    assert usdc.balance_of(pay_to) == AMOUNT


def _assert_refused(
    anvil: Anvil,
    usdc: Token,
    official: x402FacilitatorSync,
    facilitator_key: str,
    payment: dict[str, Any],
    reqs: dict[str, Any],
    reason: str,
    *,
    payer: PrivateKey,
    pay_to: str,
) -> None:
    """verify and settle both refuse with ``reason``, nothing is broadcast, no money moves."""
    before = usdc.balance_of(payer.address), usdc.balance_of(pay_to)
    facilitator = Account.from_key(facilitator_key).address
    sent = tx_count(anvil, facilitator)

    verdict = official_verify(official, payment, reqs)
    assert (verdict.is_valid, verdict.invalid_reason) == (False, reason), wire(verdict)
    settle = official_settle(official, payment, reqs)
    assert (settle.success, settle.error_reason) == (False, reason), wire(settle)
    assert settle.transaction == ""

    assert tx_count(anvil, facilitator) == sent
    assert (usdc.balance_of(payer.address), usdc.balance_of(pay_to)) == before
    nonce = payment["payload"]["authorization"]["nonce"]
    assert not usdc.authorization_state(payer.address, nonce)


def test_tampered_value_refused(
    anvil: Anvil, usdc: Token, official: x402FacilitatorSync, facilitator_key: str
) -> None:
    payer = payer_with(usdc, FUNDS)
    pay_to = fresh_address()
    payment, reqs = pay(usdc, payer, pay_to)

    # Value raised in the signed authorization only: the amount check catches it.
    tampered = fastx402.decode_header(fastx402.encode_header(payment))
    tampered["payload"]["authorization"]["value"] = str(AMOUNT * 2)
    _assert_refused(
        anvil, usdc, official, facilitator_key, tampered, reqs,
        sdk.ERR_AUTHORIZATION_VALUE_MISMATCH, payer=payer, pay_to=pay_to,
    )  # fmt: skip

    # Value, echoed requirements and the server's requirements all raised consistently: only
    # the signature can tell, and the SDK's EIP-712 recovery does.
    dearer = reqs | {"amount": str(AMOUNT * 2)}
    tampered["accepted"] = dearer
    _assert_refused(
        anvil, usdc, official, facilitator_key, tampered, dearer,
        sdk.ERR_INVALID_SIGNATURE, payer=payer, pay_to=pay_to,
    )  # fmt: skip

    # The genuine payment was not burnt by the attempts: it still settles.
    settle = official_settle(official, payment, reqs)
    facilitator = Account.from_key(facilitator_key).address
    assert_settled(anvil, usdc, settle, payer=payer, pay_to=pay_to, facilitator=facilitator)
    assert usdc.balance_of(pay_to) == AMOUNT


def test_expired_payment_refused(
    anvil: Anvil, usdc: Token, official: x402FacilitatorSync, facilitator_key: str
) -> None:
    """Signed an hour ago with maxTimeoutSeconds 60: validBefore is in the past."""
    payer = payer_with(usdc, FUNDS)
    pay_to = fresh_address()
    payment, reqs = pay(usdc, payer, pay_to, now=int(time.time()) - 3600)
    assert int(payment["payload"]["authorization"]["validBefore"]) < time.time()
    _assert_refused(
        anvil, usdc, official, facilitator_key, payment, reqs,
        sdk.ERR_VALID_BEFORE_EXPIRED, payer=payer, pay_to=pay_to,
    )  # fmt: skip


def test_insufficient_balance_refused(
    anvil: Anvil, usdc: Token, official: x402FacilitatorSync, facilitator_key: str
) -> None:
    """One atomic unit short. verify finds it by simulation (the revert string maps to the
    reason); default settle does not simulate, broadcasts, and reports transaction_failed."""
    payer = payer_with(usdc, AMOUNT - 1)
    pay_to = fresh_address()
    payment, reqs = pay(usdc, payer, pay_to)
    facilitator = Account.from_key(facilitator_key).address

    verdict = official_verify(official, payment, reqs)
    assert (verdict.is_valid, verdict.invalid_reason) == (False, sdk.ERR_INSUFFICIENT_BALANCE)
    assert verdict.payer == payer.address

    sent = tx_count(anvil, facilitator)
    settle = official_settle(official, payment, reqs)
    assert (settle.success, settle.error_reason) == (False, sdk.ERR_TRANSACTION_FAILED)
    assert anvil.tx_revert_reason(settle.transaction) == NO_BALANCE
    assert tx_count(anvil, facilitator) == sent + 1
    assert usdc.balance_of(payer.address) == AMOUNT - 1
    assert usdc.balance_of(pay_to) == 0
    assert not usdc.authorization_state(payer.address, payment["payload"]["authorization"]["nonce"])


def test_insufficient_balance_settle_with_simulate_in_settle(
    anvil: Anvil, usdc: Token, official_strict: x402FacilitatorSync, facilitator_key: str
) -> None:
    payer = payer_with(usdc, 0)
    pay_to = fresh_address()
    payment, reqs = pay(usdc, payer, pay_to)
    _assert_refused(
        anvil, usdc, official_strict, facilitator_key, payment, reqs,
        sdk.ERR_INSUFFICIENT_BALANCE, payer=payer, pay_to=pay_to,
    )  # fmt: skip


def test_async_official_facilitator_settles_fastx402_payment(anvil: Anvil, usdc: Token) -> None:
    """The SDK's async ``x402Facilitator`` (same scheme objects; its chain I/O is blocking)."""
    key = funded_key(anvil)
    facilitator = build_official_facilitator(anvil.url, key, NETWORK, asynchronous=True)
    payer = payer_with(usdc, FUNDS)
    pay_to = fresh_address()
    payment, reqs = pay(usdc, payer, pay_to)

    async def run() -> tuple[Any, Any]:
        payload, sdk_reqs = sdk_payment(payment), sdk_requirements(reqs)
        return (
            await facilitator.verify(payload, sdk_reqs),
            await facilitator.settle(payload, sdk_reqs),
        )

    verdict, settle = asyncio.run(run())
    assert verdict.is_valid, wire(verdict)
    address = Account.from_key(key).address
    assert_settled(anvil, usdc, settle, payer=payer, pay_to=pay_to, facilitator=address)
    assert (usdc.balance_of(payer.address), usdc.balance_of(pay_to)) == (FUNDS - AMOUNT, AMOUNT)


# =================================================================================================
# v1 (network names)
# =================================================================================================


def test_v1_custom_chain_unknown_to_official_facilitator(
    anvil: Anvil, usdc: Token, official: x402FacilitatorSync
) -> None:
    """The SDK cannot serve v1 on a custom chain: its v1 chain table is a fixed dict of names
    (``x402.mechanisms.evm.v1.constants``) with no registration API, and
    ``register_exact_evm_facilitator`` registers the v1 scheme for those built-in names only.
    fastx402 can name the chain (``fastx402.register_network``); the SDK finds no v1 scheme."""
    from x402.schemas import SchemeNotFoundError

    fastx402.register_network(V1_NAME, anvil.chain_id)
    payer = payer_with(usdc, 0)
    payment, reqs = pay(usdc, payer, fresh_address(), version=1)
    assert payment["network"] == V1_NAME
    with pytest.raises(SchemeNotFoundError):
        official_verify(official, payment, reqs)


def test_v1_with_sdk_chain_table_entry(anvil: Anvil, usdc: Token) -> None:
    """v1 end to end once the SDK's v1 chain table names chain 31337 (``official_v1_network``:
    one dict entry and one list entry for the duration; the SDK's code runs unchanged)."""
    fastx402.register_network(V1_NAME, anvil.chain_id)
    key = funded_key(anvil)
    payer = payer_with(usdc, FUNDS)
    pay_to = fresh_address()
    payment, reqs = pay(usdc, payer, pay_to, version=1)
    nonce = payment["payload"]["authorization"]["nonce"]
    with official_v1_network(V1_NAME, anvil.chain_id):
        official = build_official_facilitator(anvil.url, key, NETWORK)
        verdict = official_verify(official, payment, reqs)
        assert verdict.is_valid, wire(verdict)
        assert verdict.payer == payer.address
        settle = official_settle(official, payment, reqs)
        address = Account.from_key(key).address
        assert_settled(
            anvil, usdc, settle, payer=payer, pay_to=pay_to, facilitator=address, network=V1_NAME
        )
        assert (usdc.balance_of(payer.address), usdc.balance_of(pay_to)) == (FUNDS - AMOUNT, AMOUNT)
        assert usdc.authorization_state(payer.address, nonce)
        # v1 settles nothing twice either; the v1 verify reaches the reason via diagnosis.
        again = official_verify(official, payment, reqs)
        assert (again.is_valid, again.invalid_reason) == (False, sdk.ERR_NONCE_ALREADY_USED)
    assert (usdc.balance_of(payer.address), usdc.balance_of(pay_to)) == (FUNDS - AMOUNT, AMOUNT)


# =================================================================================================
# The helper's official client (used by the lead against fastx402's facilitator)
# =================================================================================================


@pytest.mark.parametrize("shape", ["payment-required", "fastx402-object", "header", "requirements"])
def test_official_client_helper_pays_on_chain(
    anvil: Anvil, usdc: Token, official: x402FacilitatorSync, facilitator_key: str, shape: str
) -> None:
    """``official_client_payment`` builds a payment the official facilitator settles, and
    fastx402's verifier accepts (its local checks)."""
    key = "0x" + secrets.token_bytes(32).hex()
    payer = PrivateKey.from_hex(key)
    usdc.mint(payer.address, FUNDS)
    pay_to = fresh_address()
    reqs = requirements(usdc, pay_to)
    document = payment_required(reqs)
    source: Any = {
        "payment-required": document,
        "fastx402-object": fastx402.PaymentRequired.from_dict(document),
        "header": fastx402.PaymentRequired.from_dict(document).to_header(),
        "requirements": reqs,
    }[shape]
    payment = official_client_payment(source, key)

    assert payment["x402Version"] == 2
    assert payment["accepted"] == reqs
    assert payment["payload"]["authorization"]["from"] == payer.address
    ours = fastx402.verify_payment(payment, reqs)
    assert ours.is_valid, (ours.reason, ours.message)
    assert ours.payer == payer.address

    settle = official_settle(official, payment, reqs)
    facilitator = Account.from_key(facilitator_key).address
    assert_settled(anvil, usdc, settle, payer=payer, pay_to=pay_to, facilitator=facilitator)
    assert (usdc.balance_of(payer.address), usdc.balance_of(pay_to)) == (FUNDS - AMOUNT, AMOUNT)
