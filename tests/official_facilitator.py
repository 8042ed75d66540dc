"""The official Python x402 SDK (``x402[evm]==2.25.0``) as a real peer on a local chain.

Plain, typed functions (no pytest magic) for tests and benchmarks that pit fastx402 against the
official SDK on an anvil chain (``tests/chain.py``). Every object built here is the SDK's own
code; nothing is stubbed. The functions only ever talk to ``http://127.0.0.1:<port>``.

Facilitator side
----------------
:func:`official_facilitator_signer` (rpc_url, private_key)
    A ``x402.mechanisms.evm.signers.FacilitatorWeb3Signer``: web3.py ``HTTPProvider`` on
    ``rpc_url`` + an eth-account key that pays gas and sends ``transferWithAuthorization``.
    Needs: ``rpc_url`` of a running node on 127.0.0.1 (anvil: ``Anvil.url``); ``private_key``
    (``0x`` + 64 hex) of an account **funded with ETH on that chain** (an anvil dev key, or a
    fresh key after ``anvil_setBalance``). Use one key per facilitator: the signer keeps its
    own nonce counter (it re-reads the pending count before every transaction, so sharing the
    key with sequential senders is tolerated, concurrent senders are not).

:func:`build_official_facilitator` (rpc_url, private_key, network="eip155:31337")
    ``x402FacilitatorSync`` (default) or ``x402Facilitator`` (``asynchronous=True``) with the
    exact EVM scheme registered through the SDK's own ``register_exact_evm_facilitator``:
    ``ExactEvmScheme`` (v2, for ``network``) and ``ExactEvmSchemeV1`` (v1, for the SDK's
    built-in v1 network names only). Needs, on the chain behind ``rpc_url``:

    * the token contract (``requirements.asset``), EIP-3009 with FiatToken v2 revert strings
      (TestUSDC: ``deploy_token``); the SDK checks it has code (``eth_getCode``, cached
      process-wide for 15 min per (network, asset));
    * **Multicall3 at 0xcA11bde05977b3631167028862bE2a173976CA11**
      (``install_multicall3``; the session ``anvil`` fixture has it). v2 verify maps
      FiatToken revert strings itself (used nonce, balance, signature, window) and falls back
      to a Multicall3 diagnosis (balance, name, version, authorizationState) for other
      reverts; v1 verify always diagnoses. Without Multicall3 that diagnosis fails and the
      reason degrades to ``invalid_exact_evm_transaction_simulation_failed``;
    * a v2 ``network`` of the form ``eip155:<chain id>`` equal to the node's chain id. The SDK
      needs no registration for a custom chain in v2: it parses the chain id out of CAIP-2 and
      takes the EIP-712 domain from ``requirements.extra`` (``name``, ``version``).
      ``extra`` is mandatory: there is no default-asset fallback on 31337.

    The facilitator checks ``validBefore``/``validAfter`` against the **host wall clock**
    (``time.time()``), while the token checks them against block timestamps: keep the chain's
    clock on wall time (anvil does by default; never ``evm_setNextBlockTimestamp`` a chain an
    official facilitator serves).

    ``simulate_in_settle=False`` (the SDK default) means ``settle`` re-checks everything but
    the on-chain simulation and then broadcasts: a replayed payment is mined, reverts, and
    costs the facilitator gas (reason ``transaction_failed``). With ``True`` it is refused
    before broadcast (``invalid_exact_evm_nonce_already_used``).

:func:`official_v1_network` (name, chain_id)
    Context manager for **v1 on a custom chain**, which the SDK does not support: its v1 chain
    table (``x402.mechanisms.evm.v1.constants.V1_NETWORK_CHAIN_IDS``) is a fixed dict and
    ``register_exact_evm_facilitator`` only registers the built-in names. This adds
    ``name -> chain_id`` to that dict for the duration (a data patch of the SDK, no code
    patched) and to the SDK's v1 name list, so that a facilitator or client built **inside**
    the block registers its v1 scheme for ``name`` and can sign, verify and settle v1 messages
    naming it. Not thread-safe; restores both on exit.

:func:`official_verify` / :func:`official_settle` (facilitator, payment, requirements)
    Run the SDK facilitator on wire JSON (what ``POST /verify`` / ``POST /settle`` carry):
    ``payment`` = a ``fastx402.PaymentPayload``, its dict (``to_dict()``) or its header string;
    ``requirements`` = a ``fastx402.PaymentRequirements`` or its dict. Parsed with the SDK's
    own ``parse_payment_payload`` / ``parse_payment_requirements``. Sync facilitators only
    (``await facilitator.verify(...)`` yourself with ``x402Facilitator``). Return the SDK's
    ``VerifyResponse`` / ``SettleResponse`` models; :func:`wire` turns them into JSON dicts.

Client side
-----------
:func:`official_client_payment` (payment_required, private_key, requirements=None)
    A payment made by the SDK's client: ``x402ClientSync`` + ``register_exact_evm_client``
    (``ExactEvmScheme`` v2 / ``ExactEvmSchemeV1`` v1) with an ``EthAccountSigner`` over
    ``eth_account.Account.from_key(private_key)``. Returns the ``PaymentPayload`` as wire JSON
    (``x402Version``, ``accepted``/``scheme``+``network``, ``payload``, ``resource``...).
    Needs: ``payment_required`` = a ``fastx402.PaymentRequired``, its dict or its
    ``PAYMENT-REQUIRED`` header string, **or** a bare requirements dict (wrapped into a
    ``PaymentRequired`` with that one accept; pass ``x402_version=1`` for v1 requirements);
    ``requirements`` (optional) picks one entry of ``accepts`` (dict or
    ``fastx402.PaymentRequirements``, compared as JSON). No chain access. Requirements must
    carry ``extra.name``/``extra.version`` for a custom chain. The SDK client's spend controls
    would refuse every non-default asset (TestUSDC on 31337 is one): the assets offered are
    allow-listed, uncapped, for this client. The SDK signs ``validAfter = "0"``,
    ``validBefore = now + maxTimeoutSeconds`` (wall clock) and a random nonce; none of these
    can be chosen. v1 works only for the SDK's built-in v1 names (or inside
    :func:`official_v1_network`, which also makes the v1 client accept the name).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal, overload

from eth_account import Account
from pydantic import BaseModel
from x402 import x402ClientSync, x402Facilitator, x402FacilitatorSync
from x402.client_base import SpendControlAsset
from x402.http.utils import decode_payment_required_header, decode_payment_signature_header
from x402.mechanisms.evm.exact import register_exact_evm_client, register_exact_evm_facilitator
from x402.mechanisms.evm.signers import EthAccountSigner, FacilitatorWeb3Signer
from x402.mechanisms.evm.v1.constants import V1_NETWORK_CHAIN_IDS, V1_NETWORKS
from x402.schemas import (
    PaymentPayload,
    PaymentRequired,
    PaymentRequirements,
    SettleResponse,
    VerifyResponse,
    parse_payment_payload,
    parse_payment_required,
    parse_payment_requirements,
)
from x402.schemas.v1 import PaymentPayloadV1, PaymentRequiredV1, PaymentRequirementsV1

import fastx402

__all__ = [
    "DEFAULT_CONFIRMATION_TIMEOUT",
    "build_official_facilitator",
    "official_client_payment",
    "official_client_payment_header",
    "official_facilitator_signer",
    "official_settle",
    "official_v1_network",
    "official_verify",
    "sdk_payment",
    "sdk_requirements",
    "wire",
]

#: Seconds the SDK signer waits for a settlement receipt (its default is 120 s).
DEFAULT_CONFIRMATION_TIMEOUT = 20.0

_LOCAL_RPC = re.compile(r"http://127\.0\.0\.1:\d{1,5}/?")

AnyFacilitator = x402FacilitatorSync | x402Facilitator
Payment = fastx402.PaymentPayload | dict[str, Any] | str
Requirements = fastx402.PaymentRequirements | dict[str, Any]


def _check_rpc(rpc_url: str) -> None:
    if not _LOCAL_RPC.fullmatch(rpc_url):
        raise ValueError(
            f"official facilitator RPC must be http://127.0.0.1:<port>, not {rpc_url!r}"
        )


# --- facilitator ----------------------------------------------------------------------------------


def official_facilitator_signer(
    rpc_url: str,
    private_key: str,
    *,
    confirmation_timeout_seconds: float = DEFAULT_CONFIRMATION_TIMEOUT,
) -> FacilitatorWeb3Signer:
    """The SDK's web3/eth-account facilitator signer on ``rpc_url`` (see the module docstring)."""
    _check_rpc(rpc_url)
    return FacilitatorWeb3Signer(
        private_key=private_key,
        rpc_url=rpc_url,
        confirmation_timeout_seconds=confirmation_timeout_seconds,
    )


@overload
def build_official_facilitator(
    rpc_url: str,
    private_key: str,
    network: str = ...,
    *,
    asynchronous: Literal[False] = ...,
    simulate_in_settle: bool = ...,
    confirmation_timeout_seconds: float = ...,
) -> x402FacilitatorSync: ...
@overload
def build_official_facilitator(
    rpc_url: str,
    private_key: str,
    network: str = ...,
    *,
    asynchronous: Literal[True],
    simulate_in_settle: bool = ...,
    confirmation_timeout_seconds: float = ...,
) -> x402Facilitator: ...
def build_official_facilitator(
    rpc_url: str,
    private_key: str,
    network: str = "eip155:31337",
    *,
    asynchronous: bool = False,
    simulate_in_settle: bool = False,
    confirmation_timeout_seconds: float = DEFAULT_CONFIRMATION_TIMEOUT,
) -> AnyFacilitator:
    """The official facilitator for ``network`` on the node at ``rpc_url``.

    Exactly the SDK's documented construction::

        signer = FacilitatorWeb3Signer(private_key=..., rpc_url=...)
        facilitator = x402FacilitatorSync()          # or x402Facilitator()
        register_exact_evm_facilitator(facilitator, signer, networks=network,
                                       simulate_in_settle=simulate_in_settle)

    v1: ``ExactEvmSchemeV1`` serves the SDK's built-in v1 names, plus any name added by an
    enclosing :func:`official_v1_network` (build the facilitator inside that block).
    """
    if not network.startswith("eip155:"):
        raise ValueError(f"v2 network must be CAIP-2 eip155:<chain id>, not {network!r}")
    signer = official_facilitator_signer(
        rpc_url, private_key, confirmation_timeout_seconds=confirmation_timeout_seconds
    )
    if asynchronous:
        return register_exact_evm_facilitator(
            x402Facilitator(), signer, networks=network, simulate_in_settle=simulate_in_settle
        )
    return register_exact_evm_facilitator(
        x402FacilitatorSync(), signer, networks=network, simulate_in_settle=simulate_in_settle
    )


@contextmanager
def official_v1_network(name: str, chain_id: int) -> Iterator[None]:
    """Temporarily teach the SDK a v1 network name (see the module docstring)."""
    if name in V1_NETWORK_CHAIN_IDS:
        raise ValueError(f"the SDK already knows v1 network {name!r}")
    V1_NETWORK_CHAIN_IDS[name] = chain_id
    V1_NETWORKS.append(name)  # the v1 client registers its scheme for these names
    try:
        yield
    finally:
        del V1_NETWORK_CHAIN_IDS[name]
        V1_NETWORKS.remove(name)


def _payment_json(payment: Payment) -> dict[str, Any]:
    if isinstance(payment, fastx402.PaymentPayload):
        return payment.to_dict()
    if isinstance(payment, str):
        decoded = fastx402.decode_header(payment)
        if not isinstance(decoded, dict):
            raise TypeError("payment header does not hold a JSON object")
        return decoded
    return payment


def sdk_payment(payment: Payment) -> PaymentPayload | PaymentPayloadV1:
    """A payment (fastx402 object, wire dict or header) as the SDK's pydantic model.

    A header is decoded by the SDK's own ``decode_payment_signature_header``.
    """
    if isinstance(payment, str):
        return decode_payment_signature_header(payment)
    return parse_payment_payload(_payment_json(payment))


def sdk_requirements(
    requirements: Requirements, x402_version: int = 2
) -> PaymentRequirements | PaymentRequirementsV1:
    """Requirements (fastx402 object or wire dict) as the SDK's pydantic model."""
    if isinstance(requirements, fastx402.PaymentRequirements):
        x402_version = requirements.x402_version
        requirements = requirements.to_dict()
    return parse_payment_requirements(x402_version, requirements)


def official_verify(
    facilitator: x402FacilitatorSync, payment: Payment, requirements: Requirements
) -> VerifyResponse:
    """``facilitator.verify`` on wire JSON, as the SDK's HTTP facilitator would run it."""
    payload = sdk_payment(payment)
    return facilitator.verify(payload, sdk_requirements(requirements, payload.x402_version))


def official_settle(
    facilitator: x402FacilitatorSync, payment: Payment, requirements: Requirements
) -> SettleResponse:
    """``facilitator.settle`` on wire JSON (waits for the receipt; see the module docstring)."""
    payload = sdk_payment(payment)
    return facilitator.settle(payload, sdk_requirements(requirements, payload.x402_version))


def wire(model: BaseModel) -> dict[str, Any]:
    """An SDK model as the JSON object the SDK puts on the wire (camelCase, no nulls)."""
    data: dict[str, Any] = json.loads(model.model_dump_json(by_alias=True, exclude_none=True))
    return data


# --- client ---------------------------------------------------------------------------------------


def _payment_required(
    payment_required: fastx402.PaymentRequired | dict[str, Any] | str, x402_version: int
) -> PaymentRequired | PaymentRequiredV1:
    if isinstance(payment_required, str):
        return decode_payment_required_header(payment_required)
    if isinstance(payment_required, fastx402.PaymentRequired):
        payment_required = payment_required.to_dict()
    if "accepts" not in payment_required:  # a bare requirements dict
        payment_required = {"x402Version": x402_version, "accepts": [payment_required]}
    return parse_payment_required(payment_required)


def official_client_payment(
    payment_required: fastx402.PaymentRequired | dict[str, Any] | str,
    private_key: str,
    *,
    requirements: Requirements | None = None,
    x402_version: int = 2,
) -> dict[str, Any]:
    """A payment signed by the SDK's client, as wire JSON (see the module docstring)."""
    document = _payment_required(payment_required, x402_version)
    if requirements is not None:
        wanted = (
            requirements.to_dict()
            if isinstance(requirements, fastx402.PaymentRequirements)
            else requirements
        )
        chosen = [r for r in document.accepts if wire(r) == wanted]
        if not chosen:
            raise ValueError("requirements is not one of payment_required.accepts")
        document = document.model_copy(update={"accepts": chosen[:1]})

    client = register_exact_evm_client(
        x402ClientSync(), EthAccountSigner(Account.from_key(private_key))
    )
    allowed: list[SpendControlAsset] = [
        {"network": str(r.network), "asset": r.asset} for r in document.accepts
    ]
    client.set_spend_controls({"allowed_assets": allowed})
    payload = client.create_payment_payload(document)
    return wire(payload)


def official_client_payment_header(
    payment_required: fastx402.PaymentRequired | dict[str, Any] | str,
    private_key: str,
    *,
    requirements: Requirements | None = None,
    x402_version: int = 2,
) -> str:
    """:func:`official_client_payment` encoded as a ``PAYMENT-SIGNATURE``/``X-PAYMENT`` value
    (by the SDK's own ``encode_payment_signature_header``)."""
    from x402.http.utils import encode_payment_signature_header

    payload = sdk_payment(
        official_client_payment(
            payment_required, private_key, requirements=requirements, x402_version=x402_version
        )
    )
    return encode_payment_signature_header(payload)
