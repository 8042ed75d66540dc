"""fastx402's facilitator engine on a real anvil chain with the repo's TestUSDC.

Every settlement is checked on chain: receipt status, balances read after it, the
authorization's state. Faults a real node cannot produce on demand (an answer lost after the
node took the transaction, hidden receipts, a node that hangs) come from ``tests/rpc_proxy.py``
in front of the real anvil.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

import fastx402
from chain import NETWORK, Anvil, Token, deploy_token, encode_call, install_multicall3
from fastx402 import (
    Facilitator,
    PaymentPayload,
    PaymentRequirements,
    PrivateKey,
    SettlementOutcomeUnknown,
)
from rpc_proxy import RpcProxy

AMOUNT = 10_000
TX_HASH_HEX_LEN = 66


def fund_eth(anvil: Anvil, address: str) -> None:
    anvil.rpc.call("anvil_setBalance", address, hex(10**20))


def new_facilitator(anvil: Anvil, url: str | None = None, **options: Any) -> Facilitator:
    """A facilitator with its own fresh key (so tests never share a sender nonce)."""
    key = PrivateKey.generate()
    fund_eth(anvil, key.address)
    options.setdefault("poll_interval", 0.02)
    options.setdefault("receipt_timeout", 10.0)
    return Facilitator(url or anvil.url, NETWORK, key, **options)


def requirements(token: Token, pay_to: str, amount: int = AMOUNT) -> dict[str, Any]:
    return {
        "scheme": "exact",
        "network": NETWORK,
        "asset": token.address,
        "amount": str(amount),
        "payTo": pay_to,
        "maxTimeoutSeconds": 300,
        "extra": token.extra,
    }


def payment(
    token: Token, payer: PrivateKey, pay_to: str, amount: int = AMOUNT
) -> tuple[PaymentPayload, PaymentRequirements]:
    req = requirements(token, pay_to, amount)
    required = {
        "x402Version": 2,
        "resource": {"url": "http://127.0.0.1/paid"},
        "accepts": [req],
    }
    now = token.anvil.now()
    return fastx402.create_payment(required, payer, now=now), PaymentRequirements.from_dict(req)


def funded_payer(token: Token, amount: int = AMOUNT) -> PrivateKey:
    payer = PrivateKey.generate()
    token.mint(payer.address, amount)
    return payer


def receipt(anvil: Anvil, tx_hash: str) -> dict[str, Any]:
    r: dict[str, Any] = anvil.rpc.call("eth_getTransactionReceipt", tx_hash)
    return r


def nonce_of(p: PaymentPayload) -> str:
    nonce: str = p.payload["authorization"]["nonce"]
    return nonce


def cancel_call(token: Token, payer: PrivateKey, nonce_hex: str) -> bytes:
    """Call data of ``cancelAuthorization(payer, nonce, signature)``, signed by the payer."""
    nonce = bytes.fromhex(nonce_hex[2:])
    digest = fastx402.hash_typed_data(
        {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "CancelAuthorization": [
                    {"name": "authorizer", "type": "address"},
                    {"name": "nonce", "type": "bytes32"},
                ],
            },
            "primaryType": "CancelAuthorization",
            "domain": token.domain(),
            "message": {"authorizer": payer.address, "nonce": nonce_hex},
        }
    )
    return encode_call(
        "cancelAuthorization(address,bytes32,bytes)",
        payer.address,
        nonce,
        payer.sign_digest(digest),
    )


@pytest.fixture(scope="module")
def facilitator(anvil: Anvil) -> Facilitator:
    return new_facilitator(anvil)


def test_verify_then_settle_moves_exactly_the_amount(
    anvil: Anvil, usdc: Token, facilitator: Facilitator
) -> None:
    payer, seller = funded_payer(usdc, 3 * AMOUNT), PrivateKey.generate().address
    p, req = payment(usdc, payer, seller)

    verdict = facilitator.verify_blocking(p, req)
    assert verdict.is_valid and verdict.payer == payer.address, verdict.invalid_reason

    settled = facilitator.settle_blocking(p, req)
    assert settled.success, settled.error_message
    assert settled.payer == payer.address and settled.network == NETWORK
    assert settled.transaction.startswith("0x") and len(settled.transaction) == TX_HASH_HEX_LEN
    r = receipt(anvil, settled.transaction)
    assert int(r["status"], 16) == 1
    assert r["from"].lower() == facilitator.address.lower()
    assert usdc.balance_of(payer.address) == 2 * AMOUNT
    assert usdc.balance_of(seller) == AMOUNT
    assert usdc.authorization_state(payer.address, nonce_of(p))

    # Exactly once: the same authorization again returns the first result, moves nothing.
    again = facilitator.settle_blocking(p, req)
    assert again == settled
    assert usdc.balance_of(payer.address) == 2 * AMOUNT and usdc.balance_of(seller) == AMOUNT
    # A late retry, after the authorization expired, still gets the first result, while an
    # expired payment that was never settled is refused as expired.
    unsettled, unsettled_req = payment(usdc, payer, seller)
    expired = 10 + max(int(x.payload["authorization"]["validBefore"]) for x in (p, unsettled))
    assert facilitator.settle_blocking(p, req, now=expired) == settled
    late = facilitator.settle_blocking(unsettled, unsettled_req, now=expired)
    assert (late.success, late.error_reason) == (
        False,
        "invalid_exact_evm_payload_authorization_valid_before",
    )
    # The same (public) authorization with a forged signature never reads the stored result.
    forged_body = p.to_dict()
    forged_body["payload"]["signature"] = "0x" + PrivateKey.generate().sign_digest(bytes(32)).hex()
    forged = facilitator.settle_blocking(PaymentPayload.from_dict(forged_body), req)
    assert not forged.success
    assert forged.error_reason == "invalid_exact_evm_payload_signature"
    # Verify now says the nonce is used (official reason).
    used = facilitator.verify_blocking(p, req)
    assert not used.is_valid and used.invalid_reason == "invalid_exact_evm_nonce_already_used"


def test_another_instance_returns_the_first_settlement_from_the_chain(
    anvil: Anvil, usdc: Token, facilitator: Facilitator
) -> None:
    """After a restart (a new instance, no journal), the used authorization is traced back to
    its transaction by its AuthorizationUsed log: the first result, not a failure."""
    payer, seller = funded_payer(usdc), PrivateKey.generate().address
    p, req = payment(usdc, payer, seller)
    first = facilitator.settle_blocking(p, req)
    assert first.success
    restarted = new_facilitator(anvil)
    again = restarted.settle_blocking(p, req)
    assert again.success and again.transaction == first.transaction
    assert usdc.balance_of(seller) == AMOUNT


def test_journal_survives_a_restart(anvil: Anvil, usdc: Token, tmp_path: Any) -> None:
    journal = tmp_path / "settlements.jsonl"
    key = PrivateKey.generate()
    fund_eth(anvil, key.address)
    first = Facilitator(anvil.url, NETWORK, key, journal=journal, poll_interval=0.02)
    payer, seller = funded_payer(usdc), PrivateKey.generate().address
    p, req = payment(usdc, payer, seller)
    settled = first.settle_blocking(p, req)
    assert settled.success
    lines = journal.read_text().splitlines()
    assert [line.count('"state":"pending"') for line in lines[:1]] == [1]
    assert '"state":"settled"' in lines[-1]
    del first  # the process ends (one facilitator per journal: it is locked while open)
    second = Facilitator(anvil.url, NETWORK, key, journal=journal, poll_interval=0.02)
    assert second.settle_blocking(p, req) == settled
    assert second.pending() == []


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("value", "invalid_exact_evm_payload_authorization_value_mismatch"),
        ("signature", "invalid_exact_evm_payload_signature"),
        ("network", "invalid_network"),
    ],
)
def test_bad_payments_are_refused_and_move_nothing(
    usdc: Token, facilitator: Facilitator, tamper: str, reason: str
) -> None:
    payer, seller = funded_payer(usdc), PrivateKey.generate().address
    p, req = payment(usdc, payer, seller)
    body = p.to_dict()
    req_dict = req.to_dict()
    if tamper == "value":
        body["payload"]["authorization"]["value"] = str(AMOUNT + 1)
    elif tamper == "signature":
        sig = bytearray.fromhex(body["payload"]["signature"][2:])
        sig[10] ^= 1
        body["payload"]["signature"] = "0x" + sig.hex()
    else:
        req_dict["network"] = body["accepted"]["network"] = "eip155:8453"
    bad, bad_req = PaymentPayload.from_dict(body), PaymentRequirements.from_dict(req_dict)
    verdict = facilitator.verify_blocking(bad, bad_req)
    assert not verdict.is_valid and verdict.invalid_reason == reason
    settled = facilitator.settle_blocking(bad, bad_req)
    assert not settled.success and settled.error_reason == reason and settled.transaction == ""
    assert usdc.balance_of(payer.address) == AMOUNT and usdc.balance_of(seller) == 0


def test_onchain_reasons_insufficient_balance_name_and_canceled(
    anvil: Anvil, usdc: Token, facilitator: Facilitator
) -> None:
    seller = PrivateKey.generate().address
    poor = funded_payer(usdc, AMOUNT - 1)
    p, req = payment(usdc, poor, seller)
    v = facilitator.verify_blocking(p, req)
    assert (v.is_valid, v.invalid_reason) == (False, "invalid_exact_evm_insufficient_balance")
    s = facilitator.settle_blocking(p, req)
    assert (s.success, s.error_reason) == (False, "invalid_exact_evm_insufficient_balance")

    # A domain name that is not the token's: the signature cannot match on chain.
    payer = funded_payer(usdc)
    req_dict = requirements(usdc, seller) | {"extra": {"name": "USDC", "version": "2"}}
    required = {"x402Version": 2, "resource": {"url": "http://x/"}, "accepts": [req_dict]}
    wrong = fastx402.create_payment(required, payer, now=anvil.now())
    v = facilitator.verify_blocking(wrong, PaymentRequirements.from_dict(req_dict))
    assert (v.is_valid, v.invalid_reason) == (False, "invalid_exact_evm_token_name_mismatch")

    # Canceled by the payer before settlement: nonce used, nothing to trace, nothing moves.
    p, req = payment(usdc, payer, seller)
    anvil.send(anvil.accounts[0], usdc.address, cancel_call(usdc, payer, nonce_of(p)))
    s = facilitator.settle_blocking(p, req)
    assert (s.success, s.error_reason) == (False, "invalid_exact_evm_nonce_already_used")
    assert usdc.balance_of(payer.address) == AMOUNT


def test_authorization_used_by_someone_else_is_reported_with_their_transaction(
    anvil: Anvil, usdc: Token, facilitator: Facilitator
) -> None:
    """The payer (or another facilitator) settled it directly: the seller was paid once, by
    that transaction; the facilitator reports it and sends nothing."""
    payer, seller = funded_payer(usdc), PrivateKey.generate().address
    p, req = payment(usdc, payer, seller)
    auth, sig = p.payload["authorization"], bytes.fromhex(p.payload["signature"][2:])
    direct = anvil.send(
        anvil.accounts[0],
        usdc.address,
        encode_call(
            "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)",
            auth["from"],
            auth["to"],
            int(auth["value"]),
            int(auth["validAfter"]),
            int(auth["validBefore"]),
            bytes.fromhex(auth["nonce"][2:]),
            sig,
        ),
    )
    s = facilitator.settle_blocking(p, req)
    assert s.success and s.transaction == direct["transactionHash"]
    assert usdc.balance_of(seller) == AMOUNT and usdc.balance_of(payer.address) == 0


def test_same_payment_concurrently_settles_once(usdc: Token, facilitator: Facilitator) -> None:
    payer, seller = funded_payer(usdc, 5 * AMOUNT), PrivateKey.generate().address
    p, req = payment(usdc, payer, seller)

    async def burst() -> list[Any]:
        return await asyncio.gather(*(facilitator.settle(p, req) for _ in range(20)))

    results = asyncio.run(burst())
    assert all(r.success for r in results)
    assert len({r.transaction for r in results}) == 1
    assert usdc.balance_of(seller) == AMOUNT
    assert usdc.balance_of(payer.address) == 4 * AMOUNT


@pytest.fixture(scope="module")
def interval_chain() -> Iterator[tuple[Anvil, Token]]:
    """A private chain mining every second (anvil's automine can strand a transaction that
    arrives before its predecessor nonce; real chains order by nonce)."""
    with Anvil(block_time=1) as chain:
        install_multicall3(chain)
        yield chain, Token(chain, deploy_token(chain), chain.accounts[0])


@pytest.mark.parametrize("mining", ["interval", "automine"])
def test_fifty_concurrent_settlements_all_mined_without_nonce_collision(
    request: pytest.FixtureRequest, mining: str
) -> None:
    """Under automine too: the facilitator broadcasts in nonce order, so anvil never sees a
    nonce before its predecessor. anvil 1.7.1's automine can still leave a transaction that
    arrives while it seals the previous block in its pool until something else is sent (seen
    about once in a few CI runs, always the last one): the facilitator then reports it as
    outcome unknown, and once a block is mined, reconciliation settles it with the same hash."""
    if mining == "interval":
        anvil, token = request.getfixturevalue("interval_chain")
    else:
        anvil, token = request.getfixturevalue("anvil"), request.getfixturevalue("usdc")
    fac = new_facilitator(anvil, receipt_timeout=30.0, poll_interval=0.2)
    seller = PrivateKey.generate().address
    payers = [PrivateKey.generate() for _ in range(50)]
    mints = [
        anvil.send(
            token.owner,
            token.address,
            encode_call("mint(address,uint256)", p.address, AMOUNT),
            wait=False,
        )
        for p in payers
    ]
    for m in mints:
        anvil.wait_receipt(m["transactionHash"])
    payments = [payment(token, payer, seller) for payer in payers]
    start_nonce = int(anvil.rpc.call("eth_getTransactionCount", fac.address, "latest"), 16)

    async def all_of_them() -> list[Any]:
        settles = (fac.settle(p, r) for p, r in payments)
        return await asyncio.gather(*settles, return_exceptions=True)

    results = asyncio.run(all_of_them())
    stranded = [i for i, r in enumerate(results) if isinstance(r, SettlementOutcomeUnknown)]
    if mining == "automine" and stranded:
        assert len(stranded) <= 2, results
        anvil.mine()
        assert fac.reconcile_blocking() == {
            "settled": len(stranded),
            "failed": 0,
            "still_pending": 0,
        }
        for i in stranded:
            first_hash = results[i].response.transaction
            results[i] = fac.settle_blocking(*payments[i])
            assert results[i].transaction == first_hash
    assert [r.success for r in results] == [True] * 50, results
    hashes = {r.transaction for r in results}
    assert len(hashes) == 50
    nonces = sorted(int(anvil.rpc.call("eth_getTransactionByHash", h)["nonce"], 16) for h in hashes)
    assert nonces == list(range(start_nonce, start_nonce + 50))
    assert all(int(receipt(anvil, h)["status"], 16) == 1 for h in hashes)
    assert token.balance_of(seller) == 50 * AMOUNT
    assert all(token.balance_of(p.address) == 0 for p in payers)


def test_rpc_down_fails_cleanly_and_sends_nothing(usdc: Token, anvil: Anvil) -> None:
    with RpcProxy(anvil.url) as proxy:
        url = proxy.url
    down = new_facilitator(anvil, url, rpc_timeout=1.0)  # the proxy's port is closed now
    payer, seller = funded_payer(usdc), PrivateKey.generate().address
    p, req = payment(usdc, payer, seller)
    v = down.verify_blocking(p, req)
    assert (v.is_valid, v.invalid_reason) == (False, "unexpected_verify_error")
    s = down.settle_blocking(p, req)
    assert (s.success, s.error_reason, s.transaction) == (False, "unexpected_settle_error", "")
    assert down.pending() == []
    # Nothing was charged: a healthy facilitator settles the same payment afterwards.
    assert new_facilitator(anvil).settle_blocking(p, req).success


def test_rpc_hanging_past_the_deadline_is_a_clean_refusal(usdc: Token, anvil: Anvil) -> None:
    with RpcProxy(anvil.url) as proxy:
        proxy.faults.hang = 3.0
        slow = new_facilitator(anvil, proxy.url, rpc_timeout=0.5)
        payer, seller = funded_payer(usdc), PrivateKey.generate().address
        p, req = payment(usdc, payer, seller)
        v = slow.verify_blocking(p, req)
        assert (v.is_valid, v.invalid_reason) == (False, "unexpected_verify_error")
        assert "timeout" in (v.invalid_message or "") or "answer" in (v.invalid_message or "")
    assert usdc.balance_of(payer.address) == AMOUNT


def test_lost_answer_is_outcome_unknown_then_reconciled_never_resigned(
    usdc: Token, anvil: Anvil
) -> None:
    """The node takes the transaction but its answer is lost and receipts stay hidden: the
    settlement is pending (SettlementOutcomeUnknown, never a failure). Once the node is
    reachable again, reconciliation finds the one transaction; a retry gets the same result."""
    with RpcProxy(anvil.url) as proxy:
        fac = new_facilitator(anvil, proxy.url, rpc_timeout=0.5, receipt_timeout=0.5)
        payer, seller = funded_payer(usdc), PrivateKey.generate().address
        p, req = payment(usdc, payer, seller)
        proxy.faults.hold_send_answer = 1.5
        proxy.faults.hide_receipts = True
        with pytest.raises(SettlementOutcomeUnknown) as caught:
            fac.settle_blocking(p, req)
        response = caught.value.response
        assert isinstance(response, fastx402.SettleResponse)
        assert not response.success and response.error_reason == "settlement_pending"
        tx_hash = response.transaction
        assert len(tx_hash) == TX_HASH_HEX_LEN
        assert [x["transaction"] for x in fac.pending()] == [tx_hash]
        # A retry while the chain is still hidden: still unknown, and no second transaction.
        with pytest.raises(SettlementOutcomeUnknown):
            fac.settle_blocking(p, req)
        assert proxy.faults.seen.count("eth_sendRawTransaction") == 1

        proxy.faults = type(proxy.faults)()  # healed
        report = fac.reconcile_blocking()
        assert report == {"settled": 1, "failed": 0, "still_pending": 0}
        assert fac.pending() == []
        again = fac.settle_blocking(p, req)
        assert again.success and again.transaction == tx_hash
        assert proxy.faults.seen.count("eth_sendRawTransaction") == 0
    assert usdc.balance_of(seller) == AMOUNT and usdc.balance_of(payer.address) == 0


def test_reverted_settlement_is_a_failure_that_charges_nothing() -> None:
    """The payer cancels the authorization while the settlement waits in the pool; the
    cancellation is mined first (higher tip), the settlement reverts: a definitive
    `transaction_failed`, nothing moved, and the key is free again (not stuck as settled)."""
    with Anvil(no_mining=True) as anvil:
        token = Token(anvil, _deploy_mined(anvil), anvil.accounts[0])
        fac = new_facilitator(anvil, receipt_timeout=20.0, poll_interval=0.05)
        payer, seller = PrivateKey.generate(), PrivateKey.generate().address
        _mined(anvil, lambda: token.mint(payer.address, AMOUNT))
        p, req = payment(token, payer, seller)
        outcome: list[Any] = []

        def senders_in_pool() -> set[str]:
            pool = anvil.rpc.call("txpool_content")["pending"]
            return {fastx402.to_checksum_address(a) for a in pool}

        async def settle_against_a_cancel() -> None:
            task = asyncio.ensure_future(fac.settle(p, req))
            # The pending record is written before the transaction is sent: wait for both,
            # the record first, then the transaction in the pool (bounded, not a fixed sleep).
            await until(lambda: fac.pending() or task.done(), "the settlement was recorded")
            assert not task.done(), task
            await until(lambda: fac.address in senders_in_pool(), "the settlement is in the pool")
            anvil.rpc.call(
                "eth_sendTransaction",
                {
                    "from": anvil.accounts[0],
                    "to": token.address,
                    "data": "0x" + cancel_call(token, payer, nonce_of(p)).hex(),
                    "maxPriorityFeePerGas": hex(50 * 10**9),
                    "maxFeePerGas": hex(100 * 10**9),
                },
            )
            anvil.mine()
            outcome.append(await asyncio.wait_for(task, 30))

        asyncio.run(settle_against_a_cancel())
        s = outcome[0]
        assert (s.success, s.error_reason, s.transaction) == (False, "transaction_failed", "")
        assert "reverted" in (s.error_message or "")
        assert fac.pending() == []
        assert token.balance_of(payer.address) == AMOUNT and token.balance_of(seller) == 0
        # The authorization is canceled on chain: a retry is refused, not reported settled.
        again = fac.settle_blocking(p, req)
        assert (again.success, again.error_reason) == (
            False,
            "invalid_exact_evm_nonce_already_used",
        )


def test_replaced_nonce_is_reconciled_as_not_charged_then_settles_fresh() -> None:
    """The facilitator's transaction is replaced (same sender nonce, another transaction mined
    first): reconciliation sees the nonce consumed and the authorization unused, reports the
    payment as not charged, and a retry settles it with a new transaction."""
    with Anvil(no_mining=True) as anvil:
        token = Token(anvil, _deploy_mined(anvil), anvil.accounts[0])
        key = PrivateKey.generate()
        fund_eth(anvil, key.address)
        fac = Facilitator(anvil.url, NETWORK, key, receipt_timeout=0.3, poll_interval=0.05)
        payer = PrivateKey.generate()
        _mined(anvil, lambda: token.mint(payer.address, AMOUNT))
        seller = PrivateKey.generate().address
        p, req = payment(token, payer, seller)
        with pytest.raises(SettlementOutcomeUnknown) as caught:
            fac.settle_blocking(p, req)
        ours = caught.value.response.transaction  # type: ignore[attr-defined]
        tx = anvil.rpc.call("eth_getTransactionByHash", ours)
        # Replace it: same nonce, higher fees, a plain self-transfer signed with the same key.
        anvil.rpc.call("anvil_dropTransaction", ours)
        anvil.rpc.call("anvil_impersonateAccount", key.address)
        anvil.rpc.call(
            "eth_sendTransaction",
            {"from": key.address, "to": key.address, "nonce": tx["nonce"], "value": "0x0"},
        )
        anvil.mine()
        report = fac.reconcile_blocking()
        assert report == {"settled": 0, "failed": 1, "still_pending": 0}
        assert token.balance_of(payer.address) == AMOUNT  # not charged
        done: list[Any] = []

        async def settle_while_mining() -> None:
            task = asyncio.ensure_future(fac.settle(p, req))

            def mined_and_done() -> bool:
                anvil.mine()
                return task.done()

            await until(mined_and_done, "the retry settled while mining", timeout=10.0)
            done.append(task.result())

        fac_retry = Facilitator(anvil.url, NETWORK, key, receipt_timeout=10, poll_interval=0.05)
        fac = fac_retry
        asyncio.run(settle_while_mining())
        assert done[0].success and done[0].transaction != ours
        assert token.balance_of(seller) == AMOUNT


def _mined(anvil: Anvil, send: Any) -> Any:
    """Runs ``send`` (which waits for its receipt) while mining on a no-mining chain."""
    import threading

    result: list[Any] = []
    t = threading.Thread(target=lambda: result.append(send()))
    t.start()
    for _ in range(200):  # at most ~10 s
        anvil.mine()
        t.join(timeout=0.05)
        if not t.is_alive():
            break
    assert not t.is_alive(), "the transaction was not mined"
    (value,) = result
    return value


async def until(condition: Any, what: str, *, timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Polls ``condition()`` until it is truthy and returns its value; fails after
    ``timeout`` seconds (bounded in time and in the number of polls)."""
    for _ in range(max(1, round(timeout / interval))):
        value = condition()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting until {what}")


def _deploy_mined(anvil: Anvil) -> str:
    return str(_mined(anvil, lambda: deploy_token(anvil)))


def test_supported_lists_the_network_and_signer(facilitator: Facilitator) -> None:
    s = facilitator.supported()
    assert [(k["x402Version"], k["scheme"], k["network"]) for k in s.kinds] == [
        (2, "exact", NETWORK)
    ]
    assert s.signers == {"eip155:*": [facilitator.address]}


def test_random_request_bodies_are_typed_400s(facilitator: Facilitator) -> None:
    async def run() -> list[tuple[int, bytes]]:
        bodies = [b"", b"{", b"[]", b'{"x402Version":2}', secrets.token_bytes(300)]
        return [
            await facilitator.handle(route, b) for b in bodies for route in ("verify", "settle")
        ]

    for status, body in asyncio.run(run()):
        assert status == 400
        assert b"invalid" in body
