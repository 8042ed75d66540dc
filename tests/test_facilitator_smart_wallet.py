"""fastx402's facilitator and smart-wallet payers on anvil: EIP-1271 and ERC-6492.

The payer is a ``MockERC1271Wallet`` (tests/contracts/TestUSDC.sol) whose owner key signs the
EIP-712 digest of the ``TransferWithAuthorization``; the payment's ``from`` is the wallet. An
undeployed (counterfactual) wallet comes from ``WalletFactory`` (CREATE2,
tests/contracts/WalletFactory.sol) and signs with an ERC-6492 wrapper
``abi.encode(factory, deploy(signer, salt), innerSig) ‖ 0x6492…6492``; the facilitator deploys
it only through allow-listed factories (default deny).

Payments are built by hand (the v2 ``PaymentPayload`` JSON) and checked on chain: balances,
the wallet's code, the settling transaction's input (the ``bytes`` overload, with the inner
signature) and the facilitator's own transactions. Each test gets fresh keys, wallets (random
salts) and facilitators (fresh keys, so their transaction counts are the test's own); the
session chain's clock is never moved.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode

import fastx402
from chain import Anvil, Token, artifact, deploy, encode_call, selector
from fastx402 import Facilitator, PaymentPayload, PaymentRequirements, PrivateKey
from test_facilitator import AMOUNT, TX_HASH_HEX_LEN, new_facilitator, receipt, requirements
from test_token_contract import TRANSFER_BYTES, typed_data

ERC6492_MAGIC = bytes.fromhex("6492" * 16)
ZERO_ADDRESS = "0x" + "00" * 20
# transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)
BYTES_OVERLOAD = "0xcf092995"
TRANSFER_ARGS = ["address", "address", "uint256", "uint256", "uint256", "bytes32", "bytes"]
WALLET_DEPLOYED_TOPIC = "0x" + fastx402.keccak256(b"WalletDeployed(address,address,bytes32)").hex()

# Reason strings as src/x402/reason.rs spells them (the official SDKs' and the spec's vocabulary).
FACTORY_NOT_ALLOWED = "eip6492_factory_not_allowed"
UNDEPLOYED = "invalid_exact_evm_payload_undeployed_smart_wallet"
FAILED_TO_VERIFY = "invalid_exact_evm_failed_to_verify_signature"
INVALID_SIGNATURE = "invalid_exact_evm_payload_signature"
SIMULATION_FAILED = "invalid_exact_evm_transaction_simulation_failed"
INSUFFICIENT_BALANCE = "invalid_exact_evm_insufficient_balance"


# --- helpers --------------------------------------------------------------------------------------


def code_of(anvil: Anvil, address: str) -> str:
    code: str = anvil.rpc.call("eth_getCode", address, "latest")
    return code


def tx_count(anvil: Anvil, address: str) -> int:
    return int(anvil.rpc.call("eth_getTransactionCount", address, "latest"), 16)


def transaction(anvil: Anvil, tx_hash: str) -> dict[str, Any]:
    tx: dict[str, Any] = anvil.rpc.call("eth_getTransactionByHash", tx_hash)
    return tx


def address_word(raw: bytes) -> str:
    (address,) = abi_decode(["address"], raw)
    return fastx402.to_checksum_address(address)


def predict(anvil: Anvil, factory: str, signer: str, salt: bytes) -> str:
    return address_word(anvil.call(factory, encode_call("predict(address,bytes32)", signer, salt)))


def deploy_calldata(signer: str, salt: bytes) -> bytes:
    return encode_call("deploy(address,bytes32)", signer, salt)


def counterfactual_wallet(anvil: Anvil, factory: str, owner: PrivateKey) -> tuple[str, bytes]:
    """A fresh wallet address of ``owner`` (random salt), not deployed; and its factory calldata."""
    salt = secrets.token_bytes(32)
    wallet = predict(anvil, factory, owner.address, salt)
    assert code_of(anvil, wallet) == "0x"
    return wallet, deploy_calldata(owner.address, salt)


def deployed_wallet(anvil: Anvil, factory: str, owner: PrivateKey) -> str:
    """A fresh wallet of ``owner``, deployed through the factory by dev account 0."""
    wallet, calldata = counterfactual_wallet(anvil, factory, owner)
    anvil.send(anvil.accounts[0], factory, calldata)
    assert code_of(anvil, wallet) != "0x"
    return wallet


def wrap_6492(factory: str, factory_calldata: bytes, inner: bytes) -> bytes:
    return abi_encode(["address", "bytes", "bytes"], [factory, factory_calldata, inner]) + (
        ERC6492_MAGIC
    )


def authorization(wallet: str, pay_to: str, now: int, amount: int = AMOUNT) -> dict[str, str]:
    return {
        "from": wallet,
        "to": pay_to,
        "value": str(amount),
        "validAfter": "0",
        "validBefore": str(now + 300),
        "nonce": "0x" + secrets.token_bytes(32).hex(),
    }


def sign_authorization(token: Token, key: PrivateKey, auth: dict[str, str]) -> bytes:
    """65-byte r‖s‖v signature of the TransferWithAuthorization digest (the wallet's owner signs
    the digest itself, which is what MockERC1271Wallet checks)."""
    digest = fastx402.hash_typed_data(typed_data(token, "TransferWithAuthorization", auth))
    signature = key.sign_digest(digest)
    assert len(signature) == 65
    return signature


def payment_from(
    token: Token, auth: dict[str, str], signature: bytes
) -> tuple[PaymentPayload, PaymentRequirements]:
    req = requirements(token, auth["to"], int(auth["value"]))
    body = {
        "x402Version": 2,
        "accepted": req,
        "payload": {"authorization": auth, "signature": "0x" + signature.hex()},
        "resource": {"url": "http://127.0.0.1/paid"},
    }
    return PaymentPayload.from_dict(body), PaymentRequirements.from_dict(req)


def settled_transfer(anvil: Anvil, tx_hash: str, facilitator: Facilitator) -> tuple[Any, ...]:
    """The settling transaction: mined, status 1, sent by the facilitator to the token through
    the ``bytes`` overload; returns its decoded arguments."""
    assert tx_hash.startswith("0x") and len(tx_hash) == TX_HASH_HEX_LEN
    assert int(receipt(anvil, tx_hash)["status"], 16) == 1
    tx = transaction(anvil, tx_hash)
    assert tx["from"].lower() == facilitator.address.lower()
    data = bytes.fromhex(tx["input"].removeprefix("0x"))
    assert "0x" + data[:4].hex() == BYTES_OVERLOAD
    return tuple(abi_decode(TRANSFER_ARGS, data[4:]))


def assert_refused(
    anvil: Anvil,
    facilitator: Facilitator,
    p: PaymentPayload,
    req: PaymentRequirements,
    reasons: set[str],
) -> str:
    """verify and settle both refuse with one of ``reasons`` (the same one); nothing is sent."""
    before = tx_count(anvil, facilitator.address)
    verdict = facilitator.verify_blocking(p, req)
    assert not verdict.is_valid and verdict.invalid_reason in reasons, verdict
    settled = facilitator.settle_blocking(p, req)
    assert not settled.success and settled.transaction == "", settled
    assert settled.error_reason == verdict.invalid_reason, (settled, verdict)
    assert tx_count(anvil, facilitator.address) == before
    return str(verdict.invalid_reason)


def facilitator_on(anvil: Anvil, **options: Any) -> Facilitator:
    """A facilitator with a fresh, ETH-funded key (``new_facilitator``): its transactions are
    the test's own."""
    fac = new_facilitator(anvil, **options)
    assert tx_count(anvil, fac.address) == 0
    return fac


@pytest.fixture(scope="module")
def factory(anvil: Anvil) -> str:
    return deploy(anvil, "WalletFactory")


# --- the factory itself ---------------------------------------------------------------------------


def test_bytes_overload_selector() -> None:
    assert "0x" + selector(TRANSFER_BYTES).hex() == BYTES_OVERLOAD


def test_wallet_factory_is_create2_and_idempotent(anvil: Anvil, factory: str) -> None:
    owner = PrivateKey.generate()
    salt = secrets.token_bytes(32)
    wallet = predict(anvil, factory, owner.address, salt)
    # CREATE2: keccak256(0xff ‖ factory ‖ salt ‖ keccak256(initCode ‖ abi.encode(signer)))[12:]
    creation = artifact("MockERC1271Wallet")["bytecode"].removeprefix("0x")
    init_code = bytes.fromhex(creation) + abi_encode(["address"], [owner.address])
    expected = fastx402.keccak256(
        b"\xff" + bytes.fromhex(factory[2:]) + salt + fastx402.keccak256(init_code)
    )[12:]
    assert wallet == fastx402.to_checksum_address("0x" + expected.hex())
    assert code_of(anvil, wallet) == "0x"
    calldata = deploy_calldata(owner.address, salt)
    # eth_call of deploy returns the predicted address.
    assert address_word(anvil.call(factory, calldata)) == wallet
    first = anvil.send(anvil.accounts[0], factory, calldata)
    assert code_of(anvil, wallet) != "0x"
    signer = address_word(anvil.call(wallet, encode_call("signer()")))
    assert signer == owner.address
    assert [log["topics"][0] for log in first["logs"]] == [WALLET_DEPLOYED_TOPIC]
    # Deploying again does not revert (no CREATE2 collision): the same address, no new event.
    assert address_word(anvil.call(factory, calldata)) == wallet
    second = anvil.send(anvil.accounts[0], factory, calldata)
    assert int(second["status"], 16) == 1 and second["logs"] == []
    # Another salt or another signer: another address.
    assert predict(anvil, factory, owner.address, secrets.token_bytes(32)) != wallet
    assert predict(anvil, factory, PrivateKey.generate().address, salt) != wallet


# --- deployed wallets (EIP-1271) ------------------------------------------------------------------


def test_deployed_wallet_owner_signature_settles_through_bytes_overload(
    anvil: Anvil, usdc: Token, factory: str
) -> None:
    owner, seller = PrivateKey.generate(), PrivateKey.generate().address
    wallet = deployed_wallet(anvil, factory, owner)
    usdc.mint(wallet, 3 * AMOUNT)
    auth = authorization(wallet, seller, anvil.now())
    signature = sign_authorization(usdc, owner, auth)
    # The signature recovers to the owner, not to `from`: only EIP-1271 can accept it.
    assert (
        fastx402.recover_digest(
            fastx402.hash_typed_data(typed_data(usdc, "TransferWithAuthorization", auth)), signature
        )
        == owner.address
    )
    p, req = payment_from(usdc, auth, signature)
    fac = facilitator_on(anvil)

    verdict = fac.verify_blocking(p, req)
    assert verdict.is_valid and verdict.payer == wallet, verdict

    settled = fac.settle_blocking(p, req)
    assert settled.success, settled
    assert settled.payer == wallet and settled.transaction
    args = settled_transfer(anvil, settled.transaction, fac)
    assert args[0].lower() == wallet.lower() and args[1].lower() == seller.lower()
    assert args[2] == AMOUNT and args[6] == signature
    assert usdc.balance_of(wallet) == 2 * AMOUNT and usdc.balance_of(seller) == AMOUNT
    assert usdc.authorization_state(wallet, auth["nonce"])
    assert tx_count(anvil, fac.address) == 1

    # Exactly once: the same result again, nothing moves.
    assert fac.settle_blocking(p, req) == settled
    assert usdc.balance_of(wallet) == 2 * AMOUNT and usdc.balance_of(seller) == AMOUNT
    assert tx_count(anvil, fac.address) == 1


def test_deployed_wallet_stranger_signature_is_refused(
    anvil: Anvil, usdc: Token, factory: str
) -> None:
    owner, seller = PrivateKey.generate(), PrivateKey.generate().address
    wallet = deployed_wallet(anvil, factory, owner)
    usdc.mint(wallet, AMOUNT)
    auth = authorization(wallet, seller, anvil.now())
    p, req = payment_from(usdc, auth, sign_authorization(usdc, PrivateKey.generate(), auth))
    fac = facilitator_on(anvil)
    # The engine asks the wallet (EIP-1271) and the wallet says no: a signature failure, decided
    # before any simulation.
    assert assert_refused(anvil, fac, p, req, {FAILED_TO_VERIFY}) == FAILED_TO_VERIFY
    assert usdc.balance_of(wallet) == AMOUNT and usdc.balance_of(seller) == 0
    assert not usdc.authorization_state(wallet, auth["nonce"])


# --- undeployed wallets (ERC-6492) ----------------------------------------------------------------


def test_erc6492_factory_not_allow_listed_is_refused_and_deploys_nothing(
    anvil: Anvil, usdc: Token, factory: str
) -> None:
    owner, seller = PrivateKey.generate(), PrivateKey.generate().address
    wallet, calldata = counterfactual_wallet(anvil, factory, owner)
    usdc.mint(wallet, AMOUNT)  # a counterfactual address holds tokens before it has code
    auth = authorization(wallet, seller, anvil.now())
    signature = wrap_6492(factory, calldata, sign_authorization(usdc, owner, auth))
    p, req = payment_from(usdc, auth, signature)

    other_factory = deploy(anvil, "WalletFactory")
    for fac in (facilitator_on(anvil), facilitator_on(anvil, allowed_factories=[other_factory])):
        assert assert_refused(anvil, fac, p, req, {FACTORY_NOT_ALLOWED}) == FACTORY_NOT_ALLOWED
        assert code_of(anvil, wallet) == "0x"
        assert usdc.balance_of(wallet) == AMOUNT and usdc.balance_of(seller) == 0
        assert not usdc.authorization_state(wallet, auth["nonce"])


def test_erc6492_allow_listed_factory_deploys_then_settles(
    anvil: Anvil, usdc: Token, factory: str
) -> None:
    owner, seller = PrivateKey.generate(), PrivateKey.generate().address
    wallet, calldata = counterfactual_wallet(anvil, factory, owner)
    usdc.mint(wallet, 3 * AMOUNT)
    auth = authorization(wallet, seller, anvil.now())
    inner = sign_authorization(usdc, owner, auth)
    p, req = payment_from(usdc, auth, wrap_6492(factory, calldata, inner))
    fac = facilitator_on(anvil, allowed_factories=[factory])

    verdict = fac.verify_blocking(p, req)
    assert verdict.is_valid and verdict.payer == wallet, verdict
    # verify simulates (eth_call): nothing deployed, nothing sent.
    assert code_of(anvil, wallet) == "0x" and tx_count(anvil, fac.address) == 0

    settled = fac.settle_blocking(p, req)
    assert settled.success, settled
    assert settled.payer == wallet
    args = settled_transfer(anvil, settled.transaction, fac)
    # The transfer carries the inner (EIP-1271) signature, not the wrapper.
    assert args[0].lower() == wallet.lower() and args[6] == inner
    assert code_of(anvil, wallet) != "0x"
    assert address_word(anvil.call(wallet, encode_call("signer()"))) == owner.address
    assert usdc.balance_of(wallet) == 2 * AMOUNT and usdc.balance_of(seller) == AMOUNT
    assert usdc.authorization_state(wallet, auth["nonce"])

    # Two transactions from the facilitator: the deployment (to the factory, with the wrapper's
    # calldata), mined before the transfer.
    assert tx_count(anvil, fac.address) == 2
    logs = anvil.rpc.call(
        "eth_getLogs",
        {
            "address": factory,
            "topics": [WALLET_DEPLOYED_TOPIC, "0x" + abi_encode(["address"], [wallet]).hex()],
            "fromBlock": "0x0",
            "toBlock": "latest",
        },
    )
    assert len(logs) == 1
    deployment = transaction(anvil, logs[0]["transactionHash"])
    assert deployment["from"].lower() == fac.address.lower()
    assert deployment["to"].lower() == factory.lower()
    assert deployment["input"] == "0x" + calldata.hex()
    assert int(deployment["nonce"], 16) == 0
    assert int(transaction(anvil, settled.transaction)["nonce"], 16) == 1
    transfer_receipt = receipt(anvil, settled.transaction)
    assert (int(logs[0]["blockNumber"], 16), int(logs[0]["transactionIndex"], 16)) < (
        int(transfer_receipt["blockNumber"], 16),
        int(transfer_receipt["transactionIndex"], 16),
    )

    # Settling again returns the same transaction; nothing is deployed or moved again.
    again = fac.settle_blocking(p, req)
    assert again == settled and again.transaction == settled.transaction
    assert tx_count(anvil, fac.address) == 2
    assert usdc.balance_of(wallet) == 2 * AMOUNT and usdc.balance_of(seller) == AMOUNT
    # And verify now reports the used nonce (the wallet is deployed: EIP-1271 on the inner sig).
    used = fac.verify_blocking(p, req)
    assert not used.is_valid and used.invalid_reason == "invalid_exact_evm_nonce_already_used"

    # A second payment wrapped the same way from the now-deployed wallet: inner signature via
    # EIP-1271, no second deployment.
    auth2 = authorization(wallet, seller, anvil.now())
    inner2 = sign_authorization(usdc, owner, auth2)
    p2, req2 = payment_from(usdc, auth2, wrap_6492(factory, calldata, inner2))
    settled2 = fac.settle_blocking(p2, req2)
    assert settled2.success, settled2
    assert settled_transfer(anvil, settled2.transaction, fac)[6] == inner2
    assert tx_count(anvil, fac.address) == 3
    assert usdc.balance_of(wallet) == AMOUNT and usdc.balance_of(seller) == 2 * AMOUNT


def test_erc6492_concurrent_first_payments_of_one_counterfactual_wallet(
    anvil: Anvil, usdc: Token, factory: str
) -> None:
    """Two payments of one undeployed wallet settled at once: both may deploy; the factory's
    idempotent ``deploy`` keeps the second deployment harmless, and both transfers settle."""
    owner, seller = PrivateKey.generate(), PrivateKey.generate().address
    wallet, calldata = counterfactual_wallet(anvil, factory, owner)
    usdc.mint(wallet, 2 * AMOUNT)
    now = anvil.now()
    payments = []
    for _ in range(2):
        auth = authorization(wallet, seller, now)
        inner = sign_authorization(usdc, owner, auth)
        payments.append(payment_from(usdc, auth, wrap_6492(factory, calldata, inner)))
    fac = facilitator_on(anvil, allowed_factories=[factory])

    async def both() -> list[Any]:
        return await asyncio.wait_for(
            asyncio.gather(*(fac.settle(p, r) for p, r in payments)), timeout=60
        )

    results = asyncio.run(both())
    assert all(r.success for r in results), results
    assert results[0].transaction != results[1].transaction
    for r in results:
        settled_transfer(anvil, r.transaction, fac)
    assert code_of(anvil, wallet) != "0x"
    assert usdc.balance_of(wallet) == 0 and usdc.balance_of(seller) == 2 * AMOUNT
    assert 3 <= tx_count(anvil, fac.address) <= 4  # one or two deployments, two transfers


@pytest.mark.parametrize(
    "flaw", ["stranger's inner signature", "another wallet's calldata", "poor"]
)
def test_erc6492_payment_that_would_fail_deploys_nothing(
    anvil: Anvil, usdc: Token, factory: str, flaw: str
) -> None:
    """Allow-listed factory, but the transfer would fail after the deployment: the simulation
    (deploy then transfer, in one eth_call through Multicall3) says so, and settle never sends the
    deployment."""
    owner, seller = PrivateKey.generate(), PrivateKey.generate().address
    wallet, calldata = counterfactual_wallet(anvil, factory, owner)
    usdc.mint(wallet, AMOUNT - 1 if flaw == "poor" else AMOUNT)
    auth = authorization(wallet, seller, anvil.now())
    signer = PrivateKey.generate() if flaw == "stranger's inner signature" else owner
    inner = sign_authorization(usdc, signer, auth)
    if flaw == "another wallet's calldata":  # deploys the owner's wallet at another salt
        calldata = deploy_calldata(owner.address, secrets.token_bytes(32))
    p, req = payment_from(usdc, auth, wrap_6492(factory, calldata, inner))
    fac = facilitator_on(anvil, allowed_factories=[factory])
    if flaw == "poor":
        assert assert_refused(anvil, fac, p, req, {INSUFFICIENT_BALANCE}) == INSUFFICIENT_BALANCE
    else:
        # The engine answers invalid_exact_evm_payload_signature (the token's "invalid
        # signature" revert); the other two are also official and sensible here.
        assert_refused(anvil, fac, p, req, {INVALID_SIGNATURE, FAILED_TO_VERIFY, SIMULATION_FAILED})
    assert code_of(anvil, wallet) == "0x"
    assert usdc.balance_of(wallet) == (AMOUNT - 1 if flaw == "poor" else AMOUNT)
    assert usdc.balance_of(seller) == 0
    assert not usdc.authorization_state(wallet, auth["nonce"])


def test_erc6492_deployment_must_be_the_payers_wallet(
    anvil: Anvil, usdc: Token, factory: str
) -> None:
    """An EOA payer with a valid signature, wrapped in ERC-6492 whose factory calldata deploys an
    unrelated wallet through the allow-listed factory. Under ERC-6492 this is not a valid
    signature of ``from`` (after the deployment ``from`` still has no code, so EIP-1271 cannot
    accept it), and the deployment is not the payer's: the facilitator must not pay for it.
    Either refusal (a signature reason) or settling the plain EOA transfer without deploying is
    acceptable; deploying the unrelated wallet is not."""
    payer, seller = PrivateKey.generate(), PrivateKey.generate().address
    usdc.mint(payer.address, AMOUNT)
    unrelated, calldata = counterfactual_wallet(anvil, factory, PrivateKey.generate())
    auth = authorization(payer.address, seller, anvil.now())
    p, req = payment_from(
        usdc, auth, wrap_6492(factory, calldata, sign_authorization(usdc, payer, auth))
    )
    fac = facilitator_on(anvil, allowed_factories=[factory])
    verdict = fac.verify_blocking(p, req)
    settled = fac.settle_blocking(p, req)
    assert code_of(anvil, unrelated) == "0x", "the facilitator deployed a wallet that is not `from`"
    if settled.success:
        assert verdict.is_valid
        assert tx_count(anvil, fac.address) == 1
        assert usdc.balance_of(payer.address) == 0 and usdc.balance_of(seller) == AMOUNT
    else:
        assert not verdict.is_valid
        assert verdict.invalid_reason in {INVALID_SIGNATURE, FAILED_TO_VERIFY, UNDEPLOYED}
        assert settled.error_reason == verdict.invalid_reason
        assert tx_count(anvil, fac.address) == 0
        assert usdc.balance_of(payer.address) == AMOUNT and usdc.balance_of(seller) == 0


def test_plain_signature_for_undeployed_wallet_is_refused(
    anvil: Anvil, usdc: Token, factory: str
) -> None:
    """The owner's 65-byte signature, unwrapped, for a wallet that has no code: nothing on chain
    can accept it (the token would ecrecover it to the owner, not the wallet)."""
    owner, seller = PrivateKey.generate(), PrivateKey.generate().address
    wallet, _ = counterfactual_wallet(anvil, factory, owner)
    usdc.mint(wallet, AMOUNT)
    auth = authorization(wallet, seller, anvil.now())
    p, req = payment_from(usdc, auth, sign_authorization(usdc, owner, auth))
    fac = facilitator_on(anvil, allowed_factories=[factory])
    # As the official SDK: a 65-byte signature that does not recover to an address without code.
    assert assert_refused(anvil, fac, p, req, {INVALID_SIGNATURE}) == INVALID_SIGNATURE
    assert code_of(anvil, wallet) == "0x"
    assert usdc.balance_of(wallet) == AMOUNT and usdc.balance_of(seller) == 0


@pytest.mark.parametrize("missing", ["zero factory", "empty calldata", "both"])
def test_erc6492_without_deployment_info_is_undeployed_smart_wallet(
    anvil: Anvil, usdc: Token, factory: str, missing: str
) -> None:
    owner, seller = PrivateKey.generate(), PrivateKey.generate().address
    wallet, calldata = counterfactual_wallet(anvil, factory, owner)
    usdc.mint(wallet, AMOUNT)
    auth = authorization(wallet, seller, anvil.now())
    inner = sign_authorization(usdc, owner, auth)
    wrapper_factory = ZERO_ADDRESS if missing in ("zero factory", "both") else factory
    wrapper_calldata = b"" if missing in ("empty calldata", "both") else calldata
    p, req = payment_from(usdc, auth, wrap_6492(wrapper_factory, wrapper_calldata, inner))
    # Even with the factory allow-listed: nothing in the wrapper can deploy the wallet.
    fac = facilitator_on(anvil, allowed_factories=[factory])
    assert assert_refused(anvil, fac, p, req, {UNDEPLOYED}) == UNDEPLOYED
    assert code_of(anvil, wallet) == "0x"
    assert usdc.balance_of(wallet) == AMOUNT and usdc.balance_of(seller) == 0


def test_erc6492_wrapper_from_deployed_wallet_settles_with_inner_signature(
    anvil: Anvil, usdc: Token, factory: str
) -> None:
    """The wallet is already deployed: the wrapper's factory is never called, so no allow-list is
    needed, and the token gets the inner signature."""
    owner, seller = PrivateKey.generate(), PrivateKey.generate().address
    wallet, calldata = counterfactual_wallet(anvil, factory, owner)
    anvil.send(anvil.accounts[0], factory, calldata)
    assert code_of(anvil, wallet) != "0x"
    usdc.mint(wallet, AMOUNT)
    auth = authorization(wallet, seller, anvil.now())
    inner = sign_authorization(usdc, owner, auth)
    p, req = payment_from(usdc, auth, wrap_6492(factory, calldata, inner))
    fac = facilitator_on(anvil)  # no allow-list

    verdict = fac.verify_blocking(p, req)
    assert verdict.is_valid and verdict.payer == wallet, verdict
    settled = fac.settle_blocking(p, req)
    assert settled.success, settled
    args = settled_transfer(anvil, settled.transaction, fac)
    assert args[6] == inner
    assert tx_count(anvil, fac.address) == 1  # no deployment
    assert usdc.balance_of(wallet) == 0 and usdc.balance_of(seller) == AMOUNT
    assert fac.settle_blocking(p, req) == settled

    # A stranger's inner signature in a wrapper from a deployed wallet: EIP-1271 says no.
    auth2 = authorization(wallet, seller, anvil.now())
    usdc.mint(wallet, AMOUNT)
    bad = wrap_6492(factory, calldata, sign_authorization(usdc, PrivateKey.generate(), auth2))
    p2, req2 = payment_from(usdc, auth2, bad)
    assert assert_refused(anvil, fac, p2, req2, {FAILED_TO_VERIFY}) == FAILED_TO_VERIFY
    assert usdc.balance_of(wallet) == AMOUNT
