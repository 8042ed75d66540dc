"""Settlement correctness against adversaries, on a real anvil with the repo's TestUSDC.

Each test is one way an adversarial review broke the facilitator's promise that ``success``
means *this* authorization's money moved to *its* payee, exactly once, and that an outcome still
unknown is never reported as a failure. Every result is checked on chain (balances, nonces,
authorization state). Faults a real node cannot produce on demand (a send that never reaches the
node, a provider that caps ``eth_getLogs``) come from ``tests/rpc_proxy.py``.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from typing import Any

import pytest

import fastx402
from chain import NETWORK, Anvil, Token, deploy, encode_call, install_multicall3
from fastx402 import (
    Facilitator,
    FacilitatorError,
    PaymentPayload,
    PaymentRequirements,
    PrivateKey,
    SettlementOutcomeUnknown,
)
from rpc_proxy import RpcProxy
from test_facilitator import (
    AMOUNT,
    _deploy_mined,
    _mined,
    fund_eth,
    funded_payer,
    new_facilitator,
    requirements,
)
from test_facilitator_smart_wallet import authorization as wallet_authorization
from test_facilitator_smart_wallet import (
    code_of,
    counterfactual_wallet,
    payment_from,
    sign_authorization,
    tx_count,
    wrap_6492,
)

NONCE_USED = "invalid_exact_evm_nonce_already_used"
TWA_VRS = (
    "transferWithAuthorization("
    "address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"
)
MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"


def pay(
    token: Token,
    payer: PrivateKey,
    pay_to: str,
    amount: int,
    nonce: bytes | None = None,
) -> tuple[PaymentPayload, PaymentRequirements]:
    """A v2 payment of ``amount`` to ``pay_to``, with a chosen authorization nonce."""
    req = requirements(token, pay_to, amount)
    required = {"x402Version": 2, "resource": {"url": "http://127.0.0.1/paid"}, "accepts": [req]}
    p = fastx402.create_payment(required, payer, now=token.anvil.now(), nonce=nonce)
    return p, PaymentRequirements.from_dict(req)


def transfer_call(p: PaymentPayload) -> bytes:
    """``transferWithAuthorization(..., v, r, s)`` call data of a payment, as anyone may send it."""
    a = p.payload["authorization"]
    sig = bytes.fromhex(p.payload["signature"][2:])
    return encode_call(
        TWA_VRS,
        a["from"],
        a["to"],
        int(a["value"]),
        int(a["validAfter"]),
        int(a["validBefore"]),
        bytes.fromhex(a["nonce"][2:]),
        sig[64],
        sig[:32],
        sig[32:64],
    )


def settle_all(fac: Facilitator, payments: list[tuple[PaymentPayload, PaymentRequirements]]) -> Any:
    async def run() -> list[Any]:
        return await asyncio.wait_for(
            asyncio.gather(*(fac.settle(p, r) for p, r in payments)), timeout=60
        )

    return asyncio.run(run())


# --- 1. one key, one authorization ----------------------------------------------------------------


def test_another_authorization_with_a_settled_nonce_gets_nonce_used_not_the_first_result(
    anvil: Anvil, usdc: Token
) -> None:
    """Payment A (10,000 to seller 1, nonce N) settles; payment B (1,000,000 to seller 2, the same
    N) must not be answered with A's transaction: seller 2 got nothing."""
    fac = new_facilitator(anvil)
    payer = funded_payer(usdc, 1_010_000)
    seller1, seller2 = PrivateKey.generate().address, PrivateKey.generate().address
    nonce = secrets.token_bytes(32)
    a = pay(usdc, payer, seller1, 10_000, nonce)
    b = pay(usdc, payer, seller2, 1_000_000, nonce)
    first = fac.settle_blocking(*a)
    assert first.success, first
    second = fac.settle_blocking(*b)
    assert (second.success, second.error_reason, second.transaction) == (False, NONCE_USED, "")
    # And the same from another instance, which knows only the chain.
    other = new_facilitator(anvil).settle_blocking(*b)
    assert (other.success, other.error_reason) == (False, NONCE_USED)
    # A itself still gets its own first result.
    assert fac.settle_blocking(*a) == first
    assert usdc.balance_of(seller1) == 10_000 and usdc.balance_of(seller2) == 0
    assert usdc.balance_of(payer.address) == 1_000_000


def test_randomized_authorizations_sharing_nonces_settle_at_most_one_each(
    anvil: Anvil, usdc: Token
) -> None:
    """Rounds of concurrent settles of several authorizations that share a nonce (other payees,
    other amounts): per nonce exactly one succeeds, and the chain shows exactly that transfer."""
    rng = random.Random(8)
    fac = new_facilitator(anvil)
    for _ in range(4):
        payer = funded_payer(usdc, 10**9)
        nonce = secrets.token_bytes(32)
        offers = [
            (PrivateKey.generate().address, rng.randrange(1, 10**6))
            for _ in range(rng.randint(2, 4))
        ]
        payments = [pay(usdc, payer, to, amount, nonce) for to, amount in offers]
        # Each authorization sent twice, in random order: repeats share their own result only.
        order = [*range(len(payments)), *range(len(payments))]
        rng.shuffle(order)
        results = settle_all(fac, [payments[i] for i in order])
        won = {order[k] for k, r in enumerate(results) if r.success}
        assert len(won) == 1, results
        (winner,) = won
        for k, r in enumerate(results):
            if order[k] != winner:
                assert (r.success, r.error_reason) == (False, NONCE_USED), r
        hashes = {r.transaction for k, r in enumerate(results) if order[k] == winner}
        assert len(hashes) == 1
        for i, (to, amount) in enumerate(offers):
            assert usdc.balance_of(to) == (amount if i == winner else 0)
        assert usdc.balance_of(payer.address) == 10**9 - offers[winner][1]


# --- 2. a transfer that merely looks alike is not a settlement ------------------------------------


def test_one_real_transfer_does_not_settle_other_authorizations_whose_nonces_it_burned(
    anvil: Anvil, usdc: Token
) -> None:
    """The payer's own Multicall3 transaction makes one real payment and spends three other
    verified authorizations' nonces on 0-value transfers to the same seller: those three are not
    settled by it (three resources for the price of one)."""
    install_multicall3(anvil)
    fac = new_facilitator(anvil)
    payer = funded_payer(usdc, 4 * AMOUNT)
    seller = PrivateKey.generate().address
    nonces = [secrets.token_bytes(32) for _ in range(3)]
    owed = [pay(usdc, payer, seller, AMOUNT, n) for n in nonces]
    for p, r in owed:
        assert fac.verify_blocking(p, r).is_valid
    decoys = [pay(usdc, payer, seller, 0, n)[0] for n in nonces]
    real = pay(usdc, payer, seller, AMOUNT)[0]
    calls = [(usdc.address, False, transfer_call(p)) for p in [*decoys, real]]
    anvil.send(
        anvil.accounts[1], MULTICALL3, encode_call("aggregate3((address,bool,bytes)[])", calls)
    )
    assert usdc.balance_of(seller) == AMOUNT
    for p, r in owed:
        s = fac.settle_blocking(p, r)
        assert (s.success, s.error_reason, s.transaction) == (False, NONCE_USED, ""), s
        again = new_facilitator(anvil).settle_blocking(p, r)
        assert not again.success and again.error_reason == NONCE_USED
    # The authorization that the transaction did use is attributed to it.
    assert fac.settle_blocking(*pay_from_payload(usdc, real)).success
    assert usdc.balance_of(seller) == AMOUNT and usdc.balance_of(payer.address) == 3 * AMOUNT


def pay_from_payload(token: Token, p: PaymentPayload) -> tuple[PaymentPayload, PaymentRequirements]:
    a = p.payload["authorization"]
    return p, PaymentRequirements.from_dict(requirements(token, a["to"], int(a["value"])))


# --- 3. expired while pending ---------------------------------------------------------------------


def test_retry_after_valid_before_while_pending_is_unknown_then_the_settlement() -> None:
    """The settlement is in the pool when a retry arrives after ``validBefore`` (by the
    facilitator's clock): not a final failure while the transaction may land; once mined, the
    late retry gets it."""
    with Anvil(no_mining=True) as anvil:
        token = Token(anvil, _deploy_mined(anvil), anvil.accounts[0])
        fac = new_facilitator(anvil, receipt_timeout=0.3, poll_interval=0.05)
        payer, seller = PrivateKey.generate(), PrivateKey.generate().address
        _mined(anvil, lambda: token.mint(payer.address, AMOUNT))
        p, req = pay(token, payer, seller, AMOUNT)
        with pytest.raises(SettlementOutcomeUnknown) as caught:
            fac.settle_blocking(p, req)
        ours = caught.value.response.transaction  # type: ignore[attr-defined]
        late = int(p.payload["authorization"]["validBefore"]) + 60
        with pytest.raises(SettlementOutcomeUnknown) as again:
            fac.settle_blocking(p, req, now=late)
        assert again.value.response.transaction == ours  # type: ignore[attr-defined]
        anvil.mine()
        settled = fac.settle_blocking(p, req, now=late)
        assert settled.success and settled.transaction == ours, settled
        assert token.balance_of(seller) == AMOUNT and token.balance_of(payer.address) == 0
        # Another instance, after expiry, finds it on chain; an expired unused one is refused.
        assert new_facilitator(anvil).settle_blocking(p, req, now=late).transaction == ours
        _mined(anvil, lambda: token.mint(payer.address, AMOUNT))
        unused = pay(token, payer, seller, AMOUNT)
        expired = fac.settle_blocking(*unused, now=late)
        assert (expired.success, expired.error_reason) == (
            False,
            "invalid_exact_evm_payload_authorization_valid_before",
        )
        assert tx_count(anvil, fac.address) == 1


# --- 4. authenticate every signature path before the ledger ---------------------------------------


def test_forged_erc6492_signature_never_gets_the_result_of_a_settlement_in_flight() -> None:
    """A counterfactual wallet's genuine payment is settling (its deployment in the pool); the
    same authorization with a garbage inner signature is refused, not answered ``success``."""
    with Anvil(no_mining=True) as anvil:
        token = Token(anvil, _deploy_mined(anvil), anvil.accounts[0])
        _mined(anvil, lambda: install_multicall3(anvil))
        factory = str(_mined(anvil, lambda: deploy(anvil, "WalletFactory")))
        owner, seller = PrivateKey.generate(), PrivateKey.generate().address
        wallet, calldata = counterfactual_wallet(anvil, factory, owner)
        _mined(anvil, lambda: token.mint(wallet, AMOUNT))
        auth = wallet_authorization(wallet, seller, anvil.now())
        inner = sign_authorization(token, owner, auth)
        genuine = payment_from(token, auth, wrap_6492(factory, calldata, inner))
        forged = payment_from(token, auth, wrap_6492(factory, calldata, b"\x01" * 65))
        fac = new_facilitator(
            anvil, allowed_factories=[factory], receipt_timeout=30.0, poll_interval=0.05
        )
        results: list[Any] = []

        async def race() -> None:
            task = asyncio.ensure_future(fac.settle(*genuine))
            for _ in range(200):  # until the deployment is in the pool
                await asyncio.sleep(0.02)
                if anvil.rpc.call("txpool_status")["pending"] != "0x0":
                    break
            assert code_of(anvil, wallet) == "0x"
            results.append(await fac.settle(*forged))
            assert not task.done()
            for _ in range(200):
                anvil.mine()
                await asyncio.sleep(0.05)
                if task.done():
                    break
            results.append(await asyncio.wait_for(task, 30))

        asyncio.run(race())
        refused, settled = results
        assert not refused.success and refused.transaction == "", refused
        assert refused.error_reason == "invalid_exact_evm_payload_signature"
        assert settled.success, settled
        assert token.balance_of(seller) == AMOUNT


# --- 5. front-running by the same authorization ---------------------------------------------------


def test_front_run_by_the_same_authorization_is_reported_as_that_settlement() -> None:
    """Someone submits the same ``transferWithAuthorization`` first (higher tip); the
    facilitator's transaction reverts. The payer was charged and the seller paid: the answer is
    success with the transaction that did it, never "not charged"."""
    with Anvil(no_mining=True) as anvil:
        token = Token(anvil, _deploy_mined(anvil), anvil.accounts[0])
        fac = new_facilitator(anvil, receipt_timeout=20.0, poll_interval=0.05)
        payer, seller = PrivateKey.generate(), PrivateKey.generate().address
        _mined(anvil, lambda: token.mint(payer.address, AMOUNT))
        p, req = pay(token, payer, seller, AMOUNT)
        outcome: list[Any] = []

        async def front_run() -> None:
            task = asyncio.ensure_future(fac.settle(p, req))
            for _ in range(200):
                await asyncio.sleep(0.02)
                if fac.pending():
                    break
            theirs = anvil.rpc.call(
                "eth_sendTransaction",
                {
                    "from": anvil.accounts[2],
                    "to": token.address,
                    "data": "0x" + transfer_call(p).hex(),
                    "gas": hex(200_000),
                    "maxPriorityFeePerGas": hex(50 * 10**9),
                    "maxFeePerGas": hex(100 * 10**9),
                },
            )
            anvil.mine()
            outcome.append((theirs, await asyncio.wait_for(task, 30)))

        asyncio.run(front_run())
        theirs, s = outcome[0]
        ours = anvil.rpc.call("eth_getTransactionByHash", fac_tx(anvil, fac))
        assert int(anvil.rpc.call("eth_getTransactionReceipt", ours["hash"])["status"], 16) == 0
        assert s.success and s.transaction == theirs, s
        assert token.balance_of(seller) == AMOUNT and token.balance_of(payer.address) == 0
        assert fac.pending() == []


def fac_tx(anvil: Anvil, fac: Facilitator) -> str:
    """The hash of the facilitator's only transaction (nonce 0), from the chain."""
    block = anvil.block("latest")
    for tx_hash in block["transactions"]:
        tx = anvil.rpc.call("eth_getTransactionByHash", tx_hash)
        if tx["from"].lower() == fac.address.lower():
            return str(tx_hash)
    raise AssertionError("the facilitator's transaction is not in the latest block")


# --- 6. every signed transaction kept until mined -------------------------------------------------


def test_unclear_deployment_send_is_resent_and_leaves_no_nonce_gap(
    anvil: Anvil, usdc: Token
) -> None:
    """The deployment of an ERC-6492 wallet never reaches the node (the send times out): its
    bytes are kept, the next settlement (queued behind the gap) is pending, and reconciliation
    re-sends the identical deployment, after which everything is mined in nonce order."""
    install_multicall3(anvil)
    factory = deploy(anvil, "WalletFactory")
    owner, seller = PrivateKey.generate(), PrivateKey.generate().address
    wallet, calldata = counterfactual_wallet(anvil, factory, owner)
    usdc.mint(wallet, AMOUNT)
    auth = wallet_authorization(wallet, seller, anvil.now())
    p_wallet = payment_from(
        usdc, auth, wrap_6492(factory, calldata, sign_authorization(usdc, owner, auth))
    )
    payer = funded_payer(usdc)
    p_eoa = pay(usdc, payer, seller, AMOUNT)
    with RpcProxy(anvil.url) as proxy:
        fac = new_facilitator(
            anvil, proxy.url, allowed_factories=[factory], rpc_timeout=0.5, receipt_timeout=1.0
        )
        proxy.faults.swallow_sends = 1
        first = fac.settle_blocking(*p_wallet)
        assert not first.success and first.transaction == "", first
        assert "deploy" in (first.error_message or "")
        assert code_of(anvil, wallet) == "0x" and tx_count(anvil, fac.address) == 0
        with pytest.raises(SettlementOutcomeUnknown):
            fac.settle_blocking(*p_eoa)  # nonce 1, behind the gap at nonce 0
        assert tx_count(anvil, fac.address) == 0
        reports = []
        for _ in range(10):
            reports.append(fac.reconcile_blocking())
            if fac.pending() == []:
                break
            anvil.mine()
        assert fac.pending() == [], reports
        assert sum(r["settled"] for r in reports) == 1, reports
        assert code_of(anvil, wallet) != "0x"  # the identical deployment, re-sent
        assert tx_count(anvil, fac.address) == 2
        assert fac.settle_blocking(*p_wallet).success
        assert fac.settle_blocking(*p_eoa).success
    assert usdc.balance_of(seller) == 2 * AMOUNT and tx_count(anvil, fac.address) == 3


# --- the rest of the review -----------------------------------------------------------------------


def test_zero_amount_is_refused_and_costs_no_gas(anvil: Anvil, usdc: Token) -> None:
    fac = new_facilitator(anvil)
    payer = PrivateKey.generate()
    p, req = pay(usdc, payer, PrivateKey.generate().address, 0)
    verdict = fac.verify_blocking(p, req)
    assert (verdict.is_valid, verdict.invalid_reason) == (False, "invalid_payment_requirements")
    s = fac.settle_blocking(p, req)
    assert (s.success, s.error_reason) == (False, "invalid_payment_requirements")
    assert tx_count(anvil, fac.address) == 0


def test_capped_log_range_is_read_in_windows_and_never_taken_for_not_found(
    anvil: Anvil, usdc: Token
) -> None:
    """A provider that refuses ``eth_getLogs`` over more than 200 blocks: an instance reading in
    100-block windows finds the first settlement; one whose window is too large answers an
    error, never "nonce already used"."""
    payer, seller = funded_payer(usdc), PrivateKey.generate().address
    p, req = pay(usdc, payer, seller, AMOUNT)
    first = new_facilitator(anvil).settle_blocking(p, req)
    assert first.success
    anvil.mine(500)
    with RpcProxy(anvil.url) as proxy:
        proxy.faults.max_log_range = 200
        windowed = new_facilitator(anvil, proxy.url, log_range_blocks=100)
        assert windowed.settle_blocking(p, req).transaction == first.transaction
        assert proxy.faults.seen.count("eth_getLogs") >= 5
        too_wide = new_facilitator(anvil, proxy.url, log_range_blocks=10_000)
        s = too_wide.settle_blocking(p, req)
        assert (s.success, s.error_reason) == (False, "unexpected_settle_error"), s
        assert "max block range" in (s.error_message or "")


def test_journal_is_locked_by_one_facilitator(anvil: Anvil, tmp_path: Any) -> None:
    journal = tmp_path / "journal.jsonl"
    key = PrivateKey.generate()
    fund_eth(anvil, key.address)
    first = Facilitator(anvil.url, NETWORK, key, journal=journal)
    with pytest.raises(FacilitatorError) as caught:
        Facilitator(anvil.url, NETWORK, key, journal=journal)
    assert caught.value.code == "journal_locked"
    assert "in use" in str(caught.value)
    del first
    import gc

    gc.collect()
    Facilitator(anvil.url, NETWORK, key, journal=journal)


def test_torn_journal_tail_is_dropped_and_reported(
    anvil: Anvil, usdc: Token, tmp_path: Any
) -> None:
    journal = tmp_path / "journal.jsonl"
    key = PrivateKey.generate()
    fund_eth(anvil, key.address)
    payer, seller = funded_payer(usdc), PrivateKey.generate().address
    p, req = pay(usdc, payer, seller, AMOUNT)
    fac = Facilitator(anvil.url, NETWORK, key, journal=journal, poll_interval=0.02)
    settled = fac.settle_blocking(p, req)
    assert settled.success and fac.journal_dropped_bytes == 0
    del fac
    import gc

    gc.collect()
    with journal.open("ab") as f:
        f.write(b'{"state":"pending","key":{"chainId":313')  # a crash mid-write
    fac = Facilitator(anvil.url, NETWORK, key, journal=journal, poll_interval=0.02)
    assert fac.journal_dropped_bytes == len(b'{"state":"pending","key":{"chainId":313')
    assert fac.settle_blocking(p, req) == settled  # the complete record before it survived
    assert journal.read_bytes().endswith(b"\n")


def test_recorded_but_never_broadcast_is_resent_identically_after_a_restart(
    anvil: Anvil, usdc: Token, tmp_path: Any
) -> None:
    """The settlement is journaled, then its send never reaches the node (as if the process died
    between the record and the broadcast). A new process on the same journal re-sends the very
    same bytes: one transaction, the recorded hash, the payer charged once."""
    journal = tmp_path / "journal.jsonl"
    key = PrivateKey.generate()
    fund_eth(anvil, key.address)
    payer, seller = funded_payer(usdc), PrivateKey.generate().address
    p, req = pay(usdc, payer, seller, AMOUNT)
    with RpcProxy(anvil.url) as proxy:
        proxy.faults.swallow_sends = 1
        first = Facilitator(
            proxy.url, NETWORK, key, journal=journal, rpc_timeout=0.5, receipt_timeout=0.5
        )
        with pytest.raises(SettlementOutcomeUnknown) as caught:
            first.settle_blocking(p, req)
        recorded = caught.value.response.transaction  # type: ignore[attr-defined]
        assert tx_count(anvil, key.address) == 0 and usdc.balance_of(seller) == 0
        del first
    second = Facilitator(anvil.url, NETWORK, key, journal=journal, poll_interval=0.02)
    assert [x["transaction"] for x in second.pending()] == [recorded]
    assert second.reconcile_blocking() == {"settled": 1, "failed": 0, "still_pending": 0}
    again = second.settle_blocking(p, req)
    assert again.success and again.transaction == recorded
    assert tx_count(anvil, key.address) == 1
    assert usdc.balance_of(seller) == AMOUNT and usdc.balance_of(payer.address) == 0
