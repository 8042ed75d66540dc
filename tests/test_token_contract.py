"""TestUSDC on a real anvil chain, paid with real fastx402 signatures.

The contract (tests/contracts/TestUSDC.sol) must behave like USDC's FiatToken v2.2 for EIP-3009:
these tests settle fastx402 `exact` payments through both `transferWithAuthorization` overloads
and check every rule the facilitator relies on, with FiatToken's own revert strings.
Fixtures `anvil` and `usdc` come from tests/chain.py (one chain and one deployment per session);
each test uses fresh payers and nonces, and never moves the session chain's clock.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import pytest
from eth_abi import decode as abi_decode

import fastx402
from chain import (
    DEV_KEYS,
    MULTICALL3,
    NETWORK,
    Anvil,
    RpcError,
    Token,
    TransactionFailed,
    artifact,
    deploy,
    deploy_token,
    encode_call,
    selector,
)
from fastx402 import PrivateKey
from transfer_vector import AUTHORIZATION_FIELDS, DOMAIN_FIELDS

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = SECP256K1_N // 2

_AUTH_ARGS = "address,address,uint256,uint256,uint256,bytes32"
TRANSFER_VRS = f"transferWithAuthorization({_AUTH_ARGS},uint8,bytes32,bytes32)"
TRANSFER_BYTES = f"transferWithAuthorization({_AUTH_ARGS},bytes)"
RECEIVE_VRS = f"receiveWithAuthorization({_AUTH_ARGS},uint8,bytes32,bytes32)"
RECEIVE_BYTES = f"receiveWithAuthorization({_AUTH_ARGS},bytes)"
CANCEL_VRS = "cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)"
CANCEL_BYTES = "cancelAuthorization(address,bytes32,bytes)"

USED = "FiatTokenV2: authorization is used or canceled"
NOT_YET_VALID = "FiatTokenV2: authorization is not yet valid"
EXPIRED = "FiatTokenV2: authorization is expired"
INVALID_SIGNATURE = "FiatTokenV2: invalid signature"
HIGH_S = "ECRecover: invalid signature 's' value"
BAD_V = "ECRecover: invalid signature 'v' value"
NO_BALANCE = "ERC20: transfer amount exceeds balance"

# EIP-3009 structs: the authorization fields and EIP712Domain come from the one shared vector
# (tests/vectors/transfer_with_authorization.json).
AUTH_TYPES = {
    "TransferWithAuthorization": AUTHORIZATION_FIELDS,
    "ReceiveWithAuthorization": AUTHORIZATION_FIELDS,
    "CancelAuthorization": [
        {"name": "authorizer", "type": "address"},
        {"name": "nonce", "type": "bytes32"},
    ],
}

# Accounts of the session chain (all unlocked, funded with ETH).
OWNER, FACILITATOR, OTHER_FACILITATOR, MERCHANT = 0, 1, 2, 3


# --- helpers --------------------------------------------------------------------------------------


def typed_data(token: Token, primary: str, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "types": {"EIP712Domain": DOMAIN_FIELDS, primary: AUTH_TYPES[primary]},
        "primaryType": primary,
        "domain": token.domain(),
        "message": message,
    }


def requirements(token: Token, pay_to: str, amount: int) -> dict[str, Any]:
    return {
        "scheme": "exact",
        "network": NETWORK,
        "asset": token.address,
        "amount": str(amount),
        "payTo": pay_to,
        "maxTimeoutSeconds": 300,
        "extra": token.extra,
    }


def pay(token: Token, payer: PrivateKey, pay_to: str, amount: int) -> dict[str, Any]:
    """A fastx402 `exact` payment for the token, signed against the chain's clock; the inner
    payload ``{"authorization": {...}, "signature": "0x..."}``."""
    required = {
        "x402Version": 2,
        "resource": {"url": "http://127.0.0.1/paid"},
        "accepts": [requirements(token, pay_to, amount)],
    }
    now = token.anvil.now()
    payment = fastx402.create_payment(required, payer, now=now)
    verdict = fastx402.verify_payment(payment, requirements(token, pay_to, amount), now=now)
    assert verdict.is_valid, verdict.reason
    inner: dict[str, Any] = payment.to_dict()["payload"]
    return inner


def authorization(
    payer: PrivateKey, to: str, value: int, valid_after: int, valid_before: int
) -> dict[str, str]:
    return {
        "from": payer.address,
        "to": to,
        "value": str(value),
        "validAfter": str(valid_after),
        "validBefore": str(valid_before),
        "nonce": "0x" + secrets.token_bytes(32).hex(),
    }


def sign(token: Token, key: PrivateKey, primary: str, message: dict[str, str]) -> bytes:
    return key.sign_typed_data(typed_data(token, primary, message))


def auth_args(auth: dict[str, str]) -> tuple[Any, ...]:
    return (
        auth["from"],
        auth["to"],
        int(auth["value"]),
        int(auth["validAfter"]),
        int(auth["validBefore"]),
        bytes.fromhex(auth["nonce"].removeprefix("0x")),
    )


def split(signature: bytes | str) -> tuple[int, bytes, bytes]:
    if isinstance(signature, str):
        signature = bytes.fromhex(signature.removeprefix("0x"))
    assert len(signature) == 65
    return signature[64], signature[:32], signature[32:64]


def transfer_calldata(auth: dict[str, str], signature: bytes | str, *, overload: str) -> bytes:
    if overload == "vrs":
        return encode_call(TRANSFER_VRS, *auth_args(auth), *split(signature))
    if isinstance(signature, str):
        signature = bytes.fromhex(signature.removeprefix("0x"))
    return encode_call(TRANSFER_BYTES, *auth_args(auth), signature)


def high_s_twin(signature: bytes | str) -> bytes:
    """The other valid (r, s) for the same key and digest: s -> n - s, v flipped (27 <-> 28)."""
    v, r, s = split(signature)
    twin_s = SECP256K1_N - int.from_bytes(s, "big")
    return r + twin_s.to_bytes(32, "big") + bytes([55 - v])


def funded_payer(token: Token, amount: int) -> PrivateKey:
    payer = PrivateKey.generate()
    token.mint(payer.address, amount)
    return payer


def settle(
    token: Token, payload: dict[str, Any], *, overload: str, submitter: int = FACILITATOR
) -> dict[str, Any]:
    anvil = token.anvil
    data = transfer_calldata(payload["authorization"], payload["signature"], overload=overload)
    return anvil.send(anvil.accounts[submitter], token.address, data)


def simulate(token: Token, data: bytes, *, sender: str | None = None) -> str | None:
    """Revert string of an eth_call of ``data`` on the token (None on success)."""
    return token.anvil.revert_reason(token.address, data, sender=sender)


def simulate_at(token: Token, data: bytes, timestamp: int) -> str | None:
    """:func:`simulate` with ``block.timestamp`` overridden (the chain's clock is untouched)."""
    try:
        token.anvil.rpc.call(
            "eth_call",
            {"to": token.address, "data": "0x" + data.hex()},
            "latest",
            None,
            {"time": hex(timestamp)},
        )
    except RpcError as exc:
        if exc.revert_reason is None:
            raise
        return exc.revert_reason
    return None


def topic_address(address: str) -> str:
    return "0x" + "00" * 12 + address.lower().removeprefix("0x")


def event_topic(signature: str) -> str:
    return "0x" + fastx402.keccak256(signature.encode()).hex()


TRANSFER_EVENT = event_topic("Transfer(address,address,uint256)")
USED_EVENT = event_topic("AuthorizationUsed(address,bytes32)")
CANCELED_EVENT = event_topic("AuthorizationCanceled(address,bytes32)")


# --- the chain and the contract ----------------------------------------------------------------


def test_anvil_dev_accounts_and_chain_id(anvil: Anvil) -> None:
    assert int(anvil.rpc.call("eth_chainId"), 16) == 31337
    assert fastx402.parse_network(NETWORK)[1] == anvil.chain_id
    assert anvil.accounts == [PrivateKey.from_hex(k).address for k in DEV_KEYS]
    assert all(anvil.eth_balance(a) > 10**21 for a in anvil.accounts)


def test_private_anvil_starts_and_stops_by_pid() -> None:
    with Anvil(accounts=2) as chain:
        pid = chain.pid
        assert pid is not None
        os.kill(pid, 0)  # alive
        assert chain.url.startswith("http://127.0.0.1:")
        assert len(chain.accounts) == 2
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_token_metadata(usdc: Token) -> None:
    assert usdc.call("name()", returns=["string"]) == "USD Coin"
    assert usdc.call("version()", returns=["string"]) == "2"
    assert usdc.call("symbol()", returns=["string"]) == "USDC"
    assert usdc.call("decimals()", returns=["uint8"]) == 6
    assert usdc.call("owner()", returns=["address"]).lower() == usdc.owner.lower()
    compiled = artifact("TestUSDC")["compiler"]["version"]
    assert compiled.startswith("0.8.37+"), compiled


def test_domain_separator_matches_fastx402(usdc: Token) -> None:
    on_chain = usdc.call("DOMAIN_SEPARATOR()", returns=["bytes32"])
    ours = fastx402.domain_separator(
        typed_data(
            usdc, "CancelAuthorization", {"authorizer": usdc.owner, "nonce": "0x" + "00" * 32}
        )
    )
    assert on_chain == ours
    # The published EIP-712 type hashes.
    for primary, name in [
        ("TransferWithAuthorization", "TRANSFER_WITH_AUTHORIZATION_TYPEHASH()"),
        ("ReceiveWithAuthorization", "RECEIVE_WITH_AUTHORIZATION_TYPEHASH()"),
        ("CancelAuthorization", "CANCEL_AUTHORIZATION_TYPEHASH()"),
    ]:
        assert usdc.call(name, returns=["bytes32"]) == fastx402.type_hash(AUTH_TYPES, primary)


def test_domain_separator_tracks_verifying_contract(anvil: Anvil, usdc: Token) -> None:
    other = Token(anvil, deploy_token(anvil), anvil.accounts[0])
    assert other.address != usdc.address
    assert other.call("DOMAIN_SEPARATOR()", returns=["bytes32"]) == fastx402.domain_separator(
        typed_data(
            other, "CancelAuthorization", {"authorizer": other.owner, "nonce": "0x" + "00" * 32}
        )
    )


# --- settling fastx402 payments -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overload", "submitter"), [("vrs", FACILITATOR), ("bytes", OTHER_FACILITATOR)]
)
def test_exact_payment_settles(usdc: Token, overload: str, submitter: int) -> None:
    anvil = usdc.anvil
    payer = funded_payer(usdc, 5_000_000)
    merchant = PrivateKey.generate().address
    payload = pay(usdc, payer, merchant, 1_234_567)
    auth = payload["authorization"]
    supply = usdc.call("totalSupply()", returns=["uint256"])
    assert usdc.authorization_state(payer.address, auth["nonce"]) is False

    receipt = settle(usdc, payload, overload=overload, submitter=submitter)

    assert receipt["from"].lower() == anvil.accounts[submitter].lower()
    assert usdc.balance_of(payer.address) == 5_000_000 - 1_234_567
    assert usdc.balance_of(merchant) == 1_234_567
    assert usdc.balance_of(anvil.accounts[submitter]) == 0
    assert usdc.call("totalSupply()", returns=["uint256"]) == supply
    assert usdc.authorization_state(payer.address, auth["nonce"]) is True
    # Events as FiatToken emits them: AuthorizationUsed, then Transfer.
    logs = receipt["logs"]
    assert [log["topics"][0] for log in logs] == [USED_EVENT, TRANSFER_EVENT]
    assert logs[0]["topics"][1:] == [topic_address(payer.address), auth["nonce"]]
    assert logs[1]["topics"][1:] == [topic_address(payer.address), topic_address(merchant)]
    assert int(logs[1]["data"], 16) == 1_234_567
    assert all(log["address"].lower() == usdc.address.lower() for log in logs)

    # The same authorization again, through either overload: used.
    for again in ("vrs", "bytes"):
        data = transfer_calldata(auth, payload["signature"], overload=again)
        assert simulate(usdc, data) == USED
        with pytest.raises(TransactionFailed) as failed:
            anvil.send(anvil.accounts[FACILITATOR], usdc.address, data)
        assert failed.value.reason == USED
    assert usdc.balance_of(payer.address) == 5_000_000 - 1_234_567
    assert usdc.balance_of(merchant) == 1_234_567


def test_high_s_twin_is_rejected_on_chain(usdc: Token) -> None:
    payer = funded_payer(usdc, 1_000)
    merchant = PrivateKey.generate().address
    payload = pay(usdc, payer, merchant, 1_000)
    auth, signature = payload["authorization"], payload["signature"]
    twin = high_s_twin(signature)
    assert int.from_bytes(twin[32:64], "big") > HALF_N
    # The twin recovers to the payer (ecrecover alone would accept it) ...
    digest = fastx402.hash_typed_data(typed_data(usdc, "TransferWithAuthorization", auth))
    assert fastx402.recover_digest(digest, twin, allow_high_s=True) == payer.address
    # ... fastx402 refuses it off-chain, and the token refuses it on-chain, both overloads.
    bad = dict(payload, signature="0x" + twin.hex())
    assert not fastx402.verify_payment(
        {"x402Version": 2, "payload": bad, "accepted": requirements(usdc, merchant, 1_000)},
        requirements(usdc, merchant, 1_000),
        now=usdc.anvil.now(),
    ).is_valid
    for overload in ("vrs", "bytes"):
        assert simulate(usdc, transfer_calldata(auth, twin, overload=overload)) == HIGH_S
    with pytest.raises(TransactionFailed) as failed:
        settle(usdc, bad, overload="bytes")
    assert failed.value.reason == HIGH_S
    # Nothing was consumed: the canonical signature still settles.
    assert usdc.authorization_state(payer.address, auth["nonce"]) is False
    settle(usdc, payload, overload="vrs")
    assert usdc.balance_of(merchant) == 1_000


@pytest.mark.parametrize("v", [0, 1, 26, 29, 35])
def test_v_outside_27_28_is_rejected(usdc: Token, v: int) -> None:
    payer = funded_payer(usdc, 10)
    payload = pay(usdc, payer, PrivateKey.generate().address, 10)
    sig = bytes.fromhex(payload["signature"].removeprefix("0x"))
    # v = 0/1: the same signature in the recovery-id convention; others: just wrong.
    bad = sig[:64] + bytes([sig[64] - 27 if v in (0, 1) else v])
    for overload in ("vrs", "bytes"):
        assert (
            simulate(usdc, transfer_calldata(payload["authorization"], bad, overload=overload))
            == BAD_V
        )
    assert usdc.authorization_state(payer.address, payload["authorization"]["nonce"]) is False


def test_signature_length_other_than_65_is_rejected(usdc: Token) -> None:
    payer = funded_payer(usdc, 10)
    payload = pay(usdc, payer, PrivateKey.generate().address, 10)
    sig = bytes.fromhex(payload["signature"].removeprefix("0x"))
    for bad in (sig[:64], sig + b"\x00", b""):
        data = encode_call(TRANSFER_BYTES, *auth_args(payload["authorization"]), bad)
        assert simulate(usdc, data) == "ECRecover: invalid signature length"


def test_wrong_signer_or_tampered_field_is_rejected(usdc: Token) -> None:
    payer = funded_payer(usdc, 1_000)
    payload = pay(usdc, payer, PrivateKey.generate().address, 500)
    auth = payload["authorization"]
    # Signed by someone else.
    stranger = sign(usdc, PrivateKey.generate(), "TransferWithAuthorization", auth)
    assert simulate(usdc, transfer_calldata(auth, stranger, overload="vrs")) == INVALID_SIGNATURE
    # Every field is bound by the signature.
    for field, value in [
        ("value", "501"),
        ("to", PrivateKey.generate().address),
        ("validBefore", str(int(auth["validBefore"]) + 1)),
        ("validAfter", str(int(auth["validAfter"]) - 1)),
        ("nonce", "0x" + secrets.token_bytes(32).hex()),
    ]:
        tampered = dict(auth, **{field: value})
        data = transfer_calldata(tampered, payload["signature"], overload="bytes")
        assert simulate(usdc, data) == INVALID_SIGNATURE, field
    # A signature for another token (another verifyingContract) is not valid here.
    other = Token(usdc.anvil, PrivateKey.generate().address, usdc.owner)
    # (sign_typed_data over the same domain reproduces create_payment's signature: RFC 6979.)
    assert sign(usdc, payer, "TransferWithAuthorization", auth).hex() == payload["signature"][2:]
    foreign = sign(other, payer, "TransferWithAuthorization", auth)
    assert simulate(usdc, transfer_calldata(auth, foreign, overload="vrs")) == INVALID_SIGNATURE


def test_insufficient_balance_reverts_and_keeps_the_nonce(usdc: Token) -> None:
    payer = funded_payer(usdc, 999)
    merchant = PrivateKey.generate().address
    payload = pay(usdc, payer, merchant, 1_000)
    with pytest.raises(TransactionFailed) as failed:
        settle(usdc, payload, overload="vrs")
    assert failed.value.reason == NO_BALANCE
    assert usdc.authorization_state(payer.address, payload["authorization"]["nonce"]) is False
    assert usdc.balance_of(payer.address) == 999
    usdc.mint(payer.address, 1)
    settle(usdc, payload, overload="bytes")
    assert (usdc.balance_of(payer.address), usdc.balance_of(merchant)) == (0, 1_000)


# --- the time window ------------------------------------------------------------------------------


def test_expired_and_not_yet_valid_revert(usdc: Token) -> None:
    payer = funded_payer(usdc, 100)
    merchant = PrivateKey.generate().address
    now = usdc.anvil.now()
    expired = authorization(payer, merchant, 10, 0, now - 1)
    early = authorization(payer, merchant, 10, now + 3_600, now + 7_200)
    for auth, reason in [(expired, EXPIRED), (early, NOT_YET_VALID)]:
        signature = sign(usdc, payer, "TransferWithAuthorization", auth)
        for overload in ("vrs", "bytes"):
            with pytest.raises(TransactionFailed) as failed:
                usdc.anvil.send(
                    usdc.anvil.accounts[FACILITATOR],
                    usdc.address,
                    transfer_calldata(auth, signature, overload=overload),
                )
            assert failed.value.reason == reason
        assert usdc.authorization_state(payer.address, auth["nonce"]) is False
    assert usdc.balance_of(payer.address) == 100


def test_time_window_is_exclusive_at_both_ends(usdc: Token) -> None:
    """validAfter < block.timestamp < validBefore, checked before the nonce and the signature."""
    payer = funded_payer(usdc, 100)
    start = usdc.anvil.now() + 10_000
    auth = authorization(payer, PrivateKey.generate().address, 10, start, start + 100)
    data = transfer_calldata(
        auth, sign(usdc, payer, "TransferWithAuthorization", auth), overload="vrs"
    )
    assert simulate_at(usdc, data, start - 1) == NOT_YET_VALID
    assert simulate_at(usdc, data, start) == NOT_YET_VALID
    assert simulate_at(usdc, data, start + 1) is None
    assert simulate_at(usdc, data, start + 99) is None
    assert simulate_at(usdc, data, start + 100) == EXPIRED
    # Time is checked first: a bad signature outside the window still reports the window.
    junk = transfer_calldata(
        auth, high_s_twin(sign(usdc, payer, "TransferWithAuthorization", auth)), overload="vrs"
    )
    assert simulate_at(usdc, junk, start) == NOT_YET_VALID
    assert simulate_at(usdc, junk, start + 1) == HIGH_S


def test_time_window_on_mined_blocks() -> None:
    """On a private chain with --no-mining: the block timestamp itself, at the boundaries."""
    with Anvil(no_mining=True, accounts=2) as chain:
        token_address = deploy_with_manual_mining(chain)
        token = Token(chain, token_address, chain.accounts[0])
        payer = PrivateKey.generate()
        mine_call(
            chain,
            chain.accounts[0],
            token.address,
            encode_call("mint(address,uint256)", payer.address, 50),
        )
        start = chain.timestamp() + 1_000
        auth = authorization(payer, chain.accounts[1], 20, start, start + 10)
        data = transfer_calldata(
            auth, sign(token, payer, "TransferWithAuthorization", auth), overload="bytes"
        )

        chain.set_next_block_timestamp(start)
        receipt = mine_call(chain, chain.accounts[1], token.address, data)
        assert int(chain.block(receipt["blockNumber"])["timestamp"], 16) == start
        assert int(receipt["status"], 16) == 0
        assert chain.tx_revert_reason(receipt["transactionHash"]) == NOT_YET_VALID

        chain.set_next_block_timestamp(start + 1)
        receipt = mine_call(chain, chain.accounts[1], token.address, data)
        assert int(receipt["status"], 16) == 1
        assert token.balance_of(payer.address) == 30
        assert token.authorization_state(payer.address, auth["nonce"]) is True

        late = authorization(payer, chain.accounts[1], 20, 0, start + 10)
        late_data = transfer_calldata(
            late, sign(token, payer, "TransferWithAuthorization", late), overload="vrs"
        )
        chain.set_next_block_timestamp(start + 10)
        receipt = mine_call(chain, chain.accounts[1], token.address, late_data)
        assert int(receipt["status"], 16) == 0
        assert chain.tx_revert_reason(receipt["transactionHash"]) == EXPIRED
        assert token.balance_of(payer.address) == 30


def mine_call(chain: Anvil, sender: str, to: str | None, data: bytes) -> dict[str, Any]:
    """Under --no-mining: submit, check nothing is mined yet, mine one block, return the receipt."""
    sent = chain.send(sender, to, data, gas=3_000_000, wait=False)
    assert chain.rpc.call("eth_getTransactionReceipt", sent["transactionHash"]) is None
    chain.mine()
    return chain.wait_receipt(sent["transactionHash"])


def deploy_with_manual_mining(chain: Anvil) -> str:
    code = bytes.fromhex(artifact("TestUSDC")["bytecode"].removeprefix("0x"))
    receipt = mine_call(chain, chain.accounts[0], None, code)
    assert int(receipt["status"], 16) == 1
    return fastx402.to_checksum_address(receipt["contractAddress"])


# --- cancel and receive ---------------------------------------------------------------------------


@pytest.mark.parametrize("overload", ["vrs", "bytes"])
def test_cancel_authorization(usdc: Token, overload: str) -> None:
    anvil = usdc.anvil
    payer = funded_payer(usdc, 1_000)
    payload = pay(usdc, payer, PrivateKey.generate().address, 1_000)
    nonce = payload["authorization"]["nonce"]
    cancel = {"authorizer": payer.address, "nonce": nonce}
    signature = sign(usdc, payer, "CancelAuthorization", cancel)
    nonce_bytes = bytes.fromhex(nonce.removeprefix("0x"))

    def cancel_data(sig: bytes) -> bytes:
        if overload == "vrs":
            return encode_call(CANCEL_VRS, payer.address, nonce_bytes, *split(sig))
        return encode_call(CANCEL_BYTES, payer.address, nonce_bytes, sig)

    # Only the authorizer's signature cancels; the ECRecover rules apply here too.
    assert (
        simulate(
            usdc, cancel_data(sign(usdc, PrivateKey.generate(), "CancelAuthorization", cancel))
        )
        == INVALID_SIGNATURE
    )
    assert simulate(usdc, cancel_data(high_s_twin(signature))) == HIGH_S

    receipt = anvil.send(anvil.accounts[OTHER_FACILITATOR], usdc.address, cancel_data(signature))
    assert [log["topics"] for log in receipt["logs"]] == [
        [CANCELED_EVENT, topic_address(payer.address), nonce]
    ]
    assert usdc.authorization_state(payer.address, nonce) is True
    # The canceled payment can no longer settle, and the nonce cannot be canceled twice.
    for settle_overload in ("vrs", "bytes"):
        data = transfer_calldata(
            payload["authorization"], payload["signature"], overload=settle_overload
        )
        assert simulate(usdc, data) == USED
    assert simulate(usdc, cancel_data(signature)) == USED
    assert usdc.balance_of(payer.address) == 1_000


def test_cancel_after_use_is_rejected(usdc: Token) -> None:
    payer = funded_payer(usdc, 10)
    payload = pay(usdc, payer, PrivateKey.generate().address, 10)
    settle(usdc, payload, overload="vrs")
    nonce = payload["authorization"]["nonce"]
    signature = sign(
        usdc, payer, "CancelAuthorization", {"authorizer": payer.address, "nonce": nonce}
    )
    data = encode_call(CANCEL_BYTES, payer.address, bytes.fromhex(nonce[2:]), signature)
    assert simulate(usdc, data) == USED


@pytest.mark.parametrize("overload", ["vrs", "bytes"])
def test_receive_with_authorization(usdc: Token, overload: str) -> None:
    anvil = usdc.anvil
    payee = anvil.accounts[MERCHANT]
    payer = funded_payer(usdc, 300)
    now = anvil.now()
    auth = authorization(payer, payee, 300, now - 600, now + 300)
    signature = sign(usdc, payer, "ReceiveWithAuthorization", auth)

    def data(sig: bytes) -> bytes:
        if overload == "vrs":
            return encode_call(RECEIVE_VRS, *auth_args(auth), *split(sig))
        return encode_call(RECEIVE_BYTES, *auth_args(auth), sig)

    # Only the payee may submit it.
    assert simulate(usdc, data(signature), sender=anvil.accounts[FACILITATOR]) == (
        "FiatTokenV2: caller must be the payee"
    )
    # A TransferWithAuthorization signature does not authorize a receive (another type hash).
    transfer_sig = sign(usdc, payer, "TransferWithAuthorization", auth)
    assert simulate(usdc, data(transfer_sig), sender=payee) == INVALID_SIGNATURE

    before = usdc.balance_of(payee)
    anvil.send(payee, usdc.address, data(signature))
    assert usdc.balance_of(payee) == before + 300
    assert usdc.balance_of(payer.address) == 0
    assert usdc.authorization_state(payer.address, auth["nonce"]) is True
    assert simulate(usdc, data(signature), sender=payee) == USED
    # And the nonce is now used for transfers too (one nonce space per authorizer).
    assert simulate(usdc, transfer_calldata(auth, transfer_sig, overload="vrs")) == USED


# --- EIP-1271 signers -----------------------------------------------------------------------------


def test_contract_signer_uses_eip1271(usdc: Token) -> None:
    anvil = usdc.anvil
    owner_key = PrivateKey.generate()
    wallet = deploy(anvil, "MockERC1271Wallet", ["address"], owner_key.address)
    usdc.mint(wallet, 700)
    merchant = PrivateKey.generate().address
    now = anvil.now()
    auth = authorization(owner_key, merchant, 700, now - 600, now + 300)
    auth["from"] = wallet
    signature = sign(usdc, owner_key, "TransferWithAuthorization", auth)
    # Not the wallet's key: isValidSignature says no.
    wrong = sign(usdc, PrivateKey.generate(), "TransferWithAuthorization", auth)
    assert simulate(usdc, transfer_calldata(auth, wrong, overload="bytes")) == INVALID_SIGNATURE
    # A signature that is not 65 bytes goes to the wallet too (no ECRecover length check).
    assert (
        simulate(usdc, transfer_calldata(auth, signature + b"\x00", overload="bytes"))
        == INVALID_SIGNATURE
    )
    receipt = settle(
        usdc,
        {"authorization": auth, "signature": signature},
        overload="bytes",
        submitter=OTHER_FACILITATOR,
    )
    assert int(receipt["status"], 16) == 1
    assert (usdc.balance_of(wallet), usdc.balance_of(merchant)) == (0, 700)
    assert usdc.authorization_state(wallet, auth["nonce"]) is True


# --- plain ERC-20 ---------------------------------------------------------------------------------


def test_erc20_transfer_approve_transfer_from_and_mint(usdc: Token) -> None:
    anvil = usdc.anvil
    alice, bob, carol = anvil.accounts[4], anvil.accounts[5], anvil.accounts[6]
    start = {a: usdc.balance_of(a) for a in (alice, bob, carol)}
    usdc.mint(alice, 1_000)
    anvil.send(alice, usdc.address, encode_call("transfer(address,uint256)", bob, 400))
    assert usdc.balance_of(alice) - start[alice] == 600
    assert usdc.balance_of(bob) - start[bob] == 400

    anvil.send(alice, usdc.address, encode_call("approve(address,uint256)", carol, 250))
    allowance = usdc.call("allowance(address,address)", alice, carol, returns=["uint256"])
    assert allowance == 250
    over = encode_call("transferFrom(address,address,uint256)", alice, carol, 251)
    assert simulate(usdc, over, sender=carol) == "ERC20: transfer amount exceeds allowance"
    anvil.send(
        carol, usdc.address, encode_call("transferFrom(address,address,uint256)", alice, carol, 250)
    )
    assert usdc.call("allowance(address,address)", alice, carol, returns=["uint256"]) == 0
    assert usdc.balance_of(carol) - start[carol] == 250

    too_much = encode_call("transfer(address,uint256)", bob, usdc.balance_of(alice) + 1)
    assert simulate(usdc, too_much, sender=alice) == NO_BALANCE
    mint = encode_call("mint(address,uint256)", alice, 1)
    assert simulate(usdc, mint, sender=alice) == "TestUSDC: caller is not the owner"
    assert simulate(usdc, mint, sender=usdc.owner) is None


def test_unknown_selector_reverts(usdc: Token) -> None:
    with pytest.raises(RpcError):
        usdc.anvil.call(
            usdc.address, selector("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)")
        )


# --- Multicall3 and the official SDK's view of the token ------------------------------------------


def test_multicall3_is_installed_at_its_canonical_address(usdc: Token) -> None:
    anvil = usdc.anvil
    payer = funded_payer(usdc, 42)
    calls = [
        (usdc.address, encode_call("balanceOf(address)", payer.address)),
        (usdc.address, encode_call("version()")),
        (usdc.address, selector("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)")),
    ]
    raw = anvil.call(MULTICALL3, encode_call("tryAggregate(bool,(address,bytes)[])", False, calls))
    (results,) = abi_decode(["(bool,bytes)[]"], raw)
    assert results[0] == (True, (42).to_bytes(32, "big"))
    assert results[1][0] is True and abi_decode(["string"], results[1][1]) == ("2",)
    assert results[2] == (False, b"")  # no permit (and no fallback): the failure is reported
    with_flags = [(target, True, data) for target, data in calls]
    raw = anvil.call(MULTICALL3, encode_call("aggregate3((address,bool,bytes)[])", with_flags))
    assert [ok for ok, _ in abi_decode(["(bool,bytes)[]"], raw)[0]] == [True, True, False]


def test_official_sdk_diagnoses_failures_on_this_token(usdc: Token) -> None:
    """x402 2.25's facilitator reads balanceOf/name/version/authorizationState through Multicall3
    to map a failed simulation to a reason: it must see this token as it sees USDC."""
    from x402.mechanisms.evm.exact.eip3009_utils import diagnose_eip3009_simulation_failure
    from x402.mechanisms.evm.signers import FacilitatorWeb3Signer
    from x402.mechanisms.evm.types import ExactEIP3009Authorization

    signer = FacilitatorWeb3Signer(DEV_KEYS[FACILITATOR], usdc.anvil.url)
    payer = funded_payer(usdc, 100)
    payload = pay(usdc, payer, PrivateKey.generate().address, 100)
    auth = payload["authorization"]
    sdk_auth = ExactEIP3009Authorization(
        from_address=auth["from"],
        to=auth["to"],
        value=auth["value"],
        valid_after=auth["validAfter"],
        valid_before=auth["validBefore"],
        nonce=auth["nonce"],
    )

    def diagnose(amount: int, name: str = "USD Coin", version: str = "2") -> str:
        return str(
            diagnose_eip3009_simulation_failure(
                signer, usdc.address, sdk_auth, amount, name, version
            )
        )

    assert diagnose(101) == "invalid_exact_evm_insufficient_balance"
    assert diagnose(100, name="USDC") == "invalid_exact_evm_token_name_mismatch"
    assert diagnose(100, version="1") == "invalid_exact_evm_token_version_mismatch"
    assert diagnose(100) == "invalid_exact_evm_transaction_simulation_failed"
    settle(usdc, payload, overload="vrs")
    assert diagnose(100) == "invalid_exact_evm_nonce_already_used"
