"""Interop with the official Python SDK (``x402==2.25.0``), both directions, with real SDK code.

Real SDK code exercised (every call site names the function it calls):

* wire: ``x402.http.utils`` header encoders/decoders and the pydantic models of ``x402.schemas``;
* client: ``x402ClientSync`` + ``register_exact_evm_client`` + ``EthAccountSigner`` (eth-account);
* server: ``x402ResourceServerSync.find_matching_requirements`` (how the SDK resource server
  matches the ``accepted`` it decoded from ``PAYMENT-SIGNATURE`` against what it offered);
* facilitator: ``x402FacilitatorSync`` + ``register_exact_evm_facilitator`` and the scheme objects
  ``ExactEvmScheme`` / ``ExactEvmSchemeV1`` (their ``verify``), plus the exact functions their
  signature step calls: ``hash_eip3009_authorization`` and ``verify_eoa_signature``.

Only two things are stubbed, neither of them SDK logic:

* the clock: the SDK's exact client and facilitator modules call ``time.time()``; the module-level
  ``time`` name in those four modules is pinned to ``NOW`` (``sdk_clock``);
* the chain: the facilitator signer is a real ``FacilitatorWeb3Signer`` aimed at a closed local
  port, and its chain-access methods are monkeypatched (``StubChain``). Each test grants exactly
  the chain answers it needs; every other chain access is recorded and raises ``ChainReached``, so
  a test can prove which checks the SDK made without any chain.

The SDK has no v1 resource server (``register_exact_evm_server`` is v2-only), so ``accepted``
matching is v2-only; everything else runs for v1 and v2, on Base Sepolia and Base mainnet USDC.
"""

from __future__ import annotations

import base64
import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import web3  # noqa: F401  (the SDK facilitator signer needs it)
import x402  # noqa: F401
import x402.mechanisms.evm.exact.client as sdk_exact_client
import x402.mechanisms.evm.exact.facilitator as sdk_exact_facilitator
import x402.mechanisms.evm.exact.v1.client as sdk_exact_client_v1
import x402.mechanisms.evm.exact.v1.facilitator as sdk_exact_facilitator_v1
from eth_account import Account
from web3.exceptions import ContractLogicError
from x402 import x402ClientSync, x402FacilitatorSync, x402ResourceServerSync
from x402.http.utils import (
    decode_payment_required_header,
    decode_payment_response_header,
    decode_payment_signature_header,
    encode_payment_required_header,
    encode_payment_response_header,
    encode_payment_signature_header,
)
from x402.mechanisms.evm import constants as sdk_constants
from x402.mechanisms.evm.asset_cache import reset_asset_contract_cache
from x402.mechanisms.evm.default_assets import find_default_asset
from x402.mechanisms.evm.eip712 import hash_eip3009_authorization
from x402.mechanisms.evm.exact import (
    register_exact_evm_client,
    register_exact_evm_facilitator,
    register_exact_evm_server,
)
from x402.mechanisms.evm.exact.facilitator import ExactEvmScheme as SdkFacilitatorV2
from x402.mechanisms.evm.exact.v1.facilitator import (
    ExactEvmSchemeV1 as SdkFacilitatorV1,
)
from x402.mechanisms.evm.signers import EthAccountSigner, FacilitatorWeb3Signer
from x402.mechanisms.evm.types import ExactEIP3009Authorization, ExactEIP3009Payload
from x402.mechanisms.evm.utils import get_evm_chain_id as sdk_chain_id_v2
from x402.mechanisms.evm.utils import hex_to_bytes
from x402.mechanisms.evm.v1.utils import get_evm_chain_id as sdk_chain_id_v1
from x402.mechanisms.evm.verify import verify_eoa_signature
from x402.schemas import (
    PaymentPayload,
    PaymentRequired,
    PaymentRequirements,
    SettleResponse,
    VerifyResponse,
)
from x402.schemas.v1 import (
    PaymentPayloadV1,
    PaymentRequiredV1,
    PaymentRequirementsV1,
)

import fastx402
from fastx402 import PrivateKey, ProtocolError

# --- fixed inputs ---------------------------------------------------------------------------------

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil #0
PAYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OTHER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b6690d"  # anvil #1
OTHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
FACILITATOR_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"  # anvil #2
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
NOW = 1_740_000_000
AMOUNT = "10000"
MAX_TIMEOUT = 60
NONCE = bytes.fromhex("f3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480")
RESOURCE_URL = "https://api.example.com/weather"
CLOSED_PORT_RPC = "http://127.0.0.1:9"  # never contacted: every chain method is patched
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class Net:
    slug: str
    caip2: str
    v1_name: str
    chain_id: int
    usdc: str
    eip712_name: str
    eip712_version: str

    def network(self, version: int) -> str:
        return self.caip2 if version == 2 else self.v1_name


BASE_SEPOLIA = Net(
    "base-sepolia",
    "eip155:84532",
    "base-sepolia",
    84532,
    "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
    "USDC",
    "2",
)
BASE = Net(
    "base",
    "eip155:8453",
    "base",
    8453,
    "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
    "USD Coin",
    "2",
)
NETS = [BASE_SEPOLIA, BASE]
CASES = [
    pytest.param(version, net, id=f"v{version}-{net.slug}") for version in (2, 1) for net in NETS
]
V2_CASES = [pytest.param(net, id=f"v2-{net.slug}") for net in NETS]


def other_net(net: Net) -> Net:
    return BASE if net is BASE_SEPOLIA else BASE_SEPOLIA


# --- builders (keys in the SDK models' declaration order, so bytes can be compared) ---------------


def requirements_json(net: Net, version: int) -> dict[str, Any]:
    extra = {"name": net.eip712_name, "version": net.eip712_version}
    if version == 2:
        return {
            "scheme": "exact",
            "network": net.caip2,
            "asset": net.usdc,
            "amount": AMOUNT,
            "payTo": PAY_TO,
            "maxTimeoutSeconds": MAX_TIMEOUT,
            "extra": extra,
        }
    return {
        "scheme": "exact",
        "network": net.v1_name,
        "maxAmountRequired": AMOUNT,
        "resource": RESOURCE_URL,
        "description": "Weather for today",
        "mimeType": "application/json",
        "payTo": PAY_TO,
        "maxTimeoutSeconds": MAX_TIMEOUT,
        "asset": net.usdc,
        "extra": extra,
    }


def payment_required_json(net: Net, version: int, *, rich: bool = False) -> dict[str, Any]:
    """Our 402. ``rich`` (v2) adds what the SDK server can also emit: the bazaar service metadata
    on ``resource`` and a declared extension."""
    if version == 2:
        document: dict[str, Any] = {
            "x402Version": 2,
            "error": "Payment required",
            "resource": {
                "url": RESOURCE_URL,
                "description": "Weather for today",
                "mimeType": "application/json",
            },
            "accepts": [requirements_json(net, 2)],
        }
        if rich:
            document["resource"] |= {
                "serviceName": "Weather",
                "tags": ["weather", "api"],
                "iconUrl": "https://api.example.com/icon.png",
            }
            document["extensions"] = {
                "bazaar": {"info": {"input": {"type": "http", "method": "GET"}}, "schema": {}}
            }
        return document
    return {
        "x402Version": 1,
        "error": "X-PAYMENT header is required",
        "accepts": [requirements_json(net, 1)],
    }


def fx_requirements(requirements: dict[str, Any], version: int) -> fastx402.PaymentRequirements:
    return fastx402.PaymentRequirements.from_dict(requirements, x402_version=version)


def sdk_requirements(
    requirements: dict[str, Any], version: int
) -> PaymentRequirements | PaymentRequirementsV1:
    # SDK pydantic models: PaymentRequirements (v2) / PaymentRequirementsV1 (v1).
    model = PaymentRequirements if version == 2 else PaymentRequirementsV1
    return model.model_validate(requirements)


def sdk_json(model: Any) -> Any:
    """The JSON object the SDK's encoders put on the wire for a model."""
    # Same call as x402.http.utils.encode_payment_signature_header / ..._required_header.
    return json.loads(model.model_dump_json(by_alias=True, exclude_none=True))


def header_text(header: str) -> str:
    return base64.b64decode(header, validate=True).decode("utf-8")


def compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def fx_payment_header(net: Net, version: int, *, nonce: bytes = NONCE) -> str:
    """A fastx402 payment for our own 402 (create_payment is the fastx402 client)."""
    payment = fastx402.create_payment(
        payment_required_json(net, version), PrivateKey.from_hex(KEY), now=NOW, nonce=nonce
    )
    return payment.to_header()


def sdk_client_payment_header(net: Net, version: int, *, rich: bool = False) -> str:
    """The SDK client paying a 402 that fastx402 built and encoded."""
    our_402 = fastx402.PaymentRequired.from_dict(
        payment_required_json(net, version, rich=rich)
    ).to_header()
    # x402.http.utils.decode_payment_required_header: base64 -> PaymentRequired / PaymentRequiredV1.
    payment_required = decode_payment_required_header(our_402)
    # x402ClientSync + register_exact_evm_client: registers the exact EVM client for eip155:* (v2)
    # and every v1 network name; EthAccountSigner wraps an eth-account LocalAccount.
    client = register_exact_evm_client(x402ClientSync(), EthAccountSigner(Account.from_key(KEY)))
    # x402ClientSync.create_payment_payload: selects a requirement, signs EIP-3009 through
    # ExactEvmScheme / ExactEvmSchemeV1.create_payment_payload, wraps it into a PaymentPayload.
    payload = client.create_payment_payload(payment_required)
    # x402.http.utils.encode_payment_signature_header: the PAYMENT-SIGNATURE / X-PAYMENT value.
    return encode_payment_signature_header(payload)


def sdk_signed_payment_json(
    net: Net, version: int, *, valid_after: int, valid_before: int, nonce: bytes = NONCE
) -> dict[str, Any]:
    """A payment with chosen time bounds, signed by the SDK client's own signing function."""
    requirements = sdk_requirements(requirements_json(net, version), version)
    scheme: Any = (
        sdk_exact_client.ExactEvmScheme if version == 2 else sdk_exact_client_v1.ExactEvmSchemeV1
    )(EthAccountSigner(Account.from_key(KEY)))
    # ExactEIP3009Authorization: the SDK's authorization model (from/to/value/validAfter/...).
    authorization = ExactEIP3009Authorization(
        from_address=PAYER,
        to=PAY_TO,
        value=AMOUNT,
        valid_after=str(valid_after),
        valid_before=str(valid_before),
        nonce="0x" + nonce.hex(),
    )
    # ExactEvmScheme(V1)._sign_authorization: what create_payment_payload calls after choosing the
    # time bounds (build_typed_data_for_signing + ClientEvmSigner.sign_typed_data).
    signature = scheme._sign_authorization(authorization, requirements)
    # ExactEIP3009Payload.to_dict: the SDK's inner payload shape.
    inner = ExactEIP3009Payload(authorization=authorization, signature=signature).to_dict()
    if version == 2:
        return {"x402Version": 2, "payload": inner, "accepted": requirements_json(net, 2)}
    return {"x402Version": 1, "scheme": "exact", "network": net.v1_name, "payload": inner}


def high_s_twin(signature_hex: str) -> str:
    sig = bytes.fromhex(signature_hex.removeprefix("0x"))
    s = int.from_bytes(sig[32:64], "big")
    v = sig[64]
    twin = sig[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # 27 <-> 28
    return "0x" + twin.hex()


# --- the clock and the chain ----------------------------------------------------------------------


class _FrozenTime:
    """Stands in for the ``time`` module inside the SDK's exact client/facilitator modules."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def time() -> float:
        return float(NOW)


@pytest.fixture(autouse=True)
def sdk_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK reads the wall clock with time.time() in exactly these modules (client: validBefore,
    # validAfter; facilitator: the validBefore/validAfter window). Pin them all to NOW.
    for module in (
        sdk_exact_client,
        sdk_exact_client_v1,
        sdk_exact_facilitator,
        sdk_exact_facilitator_v1,
    ):
        monkeypatch.setattr(module, "time", _FrozenTime())
    # x402.mechanisms.evm.asset_cache.reset_asset_contract_cache: the SDK caches "asset is a
    # contract" process-wide; clear it so each test sees the same chain reads.
    reset_asset_contract_cache()


class ChainReached(RuntimeError):
    """A chain access the test did not grant."""


CHAIN_METHODS = (
    "get_code",
    "read_contract",
    "get_balance",
    "get_chain_id",
    "verify_typed_data",
    "write_contract",
    "send_transaction",
    "wait_for_transaction_receipt",
)


class StubChain:
    """A real ``FacilitatorWeb3Signer`` whose chain-access methods are monkeypatched.

    ``eoas`` answer ``get_code`` with no code, ``contracts`` with some code; ``simulation``
    answers the ``transferWithAuthorization`` eth_call (None = succeeds, an exception = reverts).
    Every access is recorded in ``calls``; anything not granted raises ``ChainReached``.
    """

    _NOT_GRANTED: Any = object()

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        *,
        eoas: tuple[str, ...] = (),
        contracts: tuple[str, ...] = (),
        simulation: Any = _NOT_GRANTED,
    ) -> None:
        # FacilitatorWeb3Signer(private_key, rpc_url): builds a web3 HTTPProvider, connects lazily.
        self.signer = FacilitatorWeb3Signer(private_key=FACILITATOR_KEY, rpc_url=CLOSED_PORT_RPC)
        self.calls: list[tuple[str, str]] = []
        self._code = {a.lower(): b"" for a in eoas} | {a.lower(): b"\x60\x80" for a in contracts}
        self._simulation = simulation
        for name in CHAIN_METHODS:
            monkeypatch.setattr(self.signer, name, self._refuse(name))
        monkeypatch.setattr(self.signer, "get_code", self._get_code)
        monkeypatch.setattr(self.signer, "read_contract", self._read_contract)

    def _refuse(self, name: str) -> Callable[..., Any]:
        def method(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, ""))
            raise ChainReached(name)

        return method

    def _get_code(self, address: str) -> bytes:
        self.calls.append(("get_code", address.lower()))
        if address.lower() not in self._code:
            raise ChainReached(f"get_code({address})")
        return self._code[address.lower()]

    def _read_contract(self, address: str, abi: Any, function_name: str, *args: Any) -> Any:
        self.calls.append(("read_contract", function_name))
        if function_name != "transferWithAuthorization" or self._simulation is self._NOT_GRANTED:
            raise ChainReached(f"read_contract({address}, {function_name})")
        if isinstance(self._simulation, BaseException):
            raise self._simulation
        return self._simulation


def sdk_facilitator_scheme(chain: StubChain, version: int) -> Any:
    # The SDK's exact EIP-3009 facilitator schemes, as register_exact_evm_facilitator builds them.
    return SdkFacilitatorV2(chain.signer) if version == 2 else SdkFacilitatorV1(chain.signer)


def sdk_decode_payment(header: str, version: int) -> PaymentPayload | PaymentPayloadV1:
    # x402.http.utils.decode_payment_signature_header: what the SDK resource server runs on the
    # PAYMENT-SIGNATURE header (x402HTTPServerBase._extract_payment); v1 (x402Version 1) decodes
    # into PaymentPayloadV1.
    decoded = decode_payment_signature_header(header)
    assert isinstance(decoded, PaymentPayload if version == 2 else PaymentPayloadV1)
    return decoded


# =================================================================================================
# 1. fastx402 -> SDK
# =================================================================================================


@pytest.mark.parametrize(("version", "net"), CASES)
def test_sdk_decodes_fastx402_payment_header(version: int, net: Net) -> None:
    header = fx_payment_header(net, version)
    decoded = sdk_decode_payment(header, version)

    # Nothing lost or added: the SDK's view serialises back to exactly our JSON object and bytes.
    assert sdk_json(decoded) == fastx402.decode_header(header)
    assert encode_payment_signature_header(decoded) == header
    # ExactEIP3009Payload.from_dict: the SDK facilitator's parser for the inner payload.
    inner = ExactEIP3009Payload.from_dict(decoded.payload)
    assert inner.authorization.from_address == PAYER
    assert inner.authorization.to == PAY_TO
    assert inner.authorization.value == AMOUNT
    assert inner.authorization.nonce == "0x" + NONCE.hex()
    if version == 2:
        assert isinstance(decoded, PaymentPayload)
        assert decoded.accepted == sdk_requirements(requirements_json(net, 2), 2)
        assert decoded.resource is not None
        assert decoded.resource.url == RESOURCE_URL
    else:
        assert isinstance(decoded, PaymentPayloadV1)
        assert (decoded.scheme, decoded.network) == ("exact", net.v1_name)


@pytest.mark.parametrize("net", V2_CASES)
def test_sdk_server_matches_fastx402_accepted(net: Net) -> None:
    # register_exact_evm_server(x402ResourceServerSync()): the SDK resource server with the exact
    # EVM server scheme registered for eip155:* (so its dynamic_extra_fields are honoured).
    server = register_exact_evm_server(x402ResourceServerSync())
    decoy = sdk_requirements(requirements_json(other_net(net), 2), 2)
    offered = sdk_requirements(requirements_json(net, 2), 2)
    payload = sdk_decode_payment(fx_payment_header(net, 2), 2)
    assert isinstance(payload, PaymentPayload)

    # x402ResourceServerBase.find_matching_requirements: the SDK server's accepted-vs-offered match.
    assert server.find_matching_requirements([decoy, offered], payload) is offered
    # Not vacuous: the same payload does not match an offer that differs only in amount.
    dearer = offered.model_copy(update={"amount": "10001"})
    assert server.find_matching_requirements([decoy, dearer], payload) is None


def _edit_extra(
    edit: Callable[[dict[str, Any]], dict[str, Any]],
) -> Callable[[dict[str, Any]], None]:
    def apply(accepted: dict[str, Any]) -> None:
        accepted["extra"] = edit(accepted["extra"])

    return apply


ACCEPTED_EDITS = [
    # (edit of the echoed accepted, SDK server matches?, fastx402 reason: None = valid)
    pytest.param(lambda a: None, True, None, id="exact-echo"),
    pytest.param(
        _edit_extra(lambda e: dict(reversed(e.items()))), True, None, id="extra-reordered"
    ),
    pytest.param(
        lambda a: a.update(amount="10001"), False, "invalid_payment_requirements", id="amount"
    ),
    pytest.param(
        lambda a: a.update(maxTimeoutSeconds=61),
        False,
        "invalid_payment_requirements",
        id="maxTimeoutSeconds",
    ),
    pytest.param(lambda a: a.update(network=BASE.caip2), False, "network_mismatch", id="network"),
    # Documented divergence between the official SDKs: the Python server accepts an accepted.extra
    # that is a superset of the offer (subset match); TS deep-compares. fastx402 follows TS.
    pytest.param(
        _edit_extra(lambda e: e | {"added": 1}),
        True,
        "invalid_payment_requirements",
        id="extra-superset",
    ),
    pytest.param(
        lambda a: a.update(payTo=a["payTo"].lower()),
        False,
        None,  # deliberate: fastx402 compares addresses as bytes; the SDK server compares strings
        id="payTo-lowercased",
    ),
    pytest.param(
        lambda a: a.update(asset=a["asset"].lower()),
        False,
        None,  # deliberate: fastx402 compares addresses as bytes; the SDK server compares strings
        id="asset-lowercased",
    ),
]


@pytest.mark.parametrize(("edit", "sdk_matches", "reason"), ACCEPTED_EDITS)
def test_accepted_matching_parity_with_sdk_server(
    edit: Callable[[dict[str, Any]], None], sdk_matches: bool, reason: str | None
) -> None:
    """A correctly signed payment whose ``accepted`` echo was edited (it is not signed)."""
    net = BASE_SEPOLIA
    payment = fastx402.decode_header(fx_payment_header(net, 2))
    edit(payment["accepted"])
    header = fastx402.encode_header(payment)

    server = register_exact_evm_server(x402ResourceServerSync())
    offered = sdk_requirements(requirements_json(net, 2), 2)
    payload = sdk_decode_payment(header, 2)
    assert isinstance(payload, PaymentPayload)
    # x402ResourceServerBase.find_matching_requirements (see test_sdk_server_matches_...).
    assert (server.find_matching_requirements([offered], payload) is offered) is sdk_matches

    ours = fastx402.verify_payment(header, fx_requirements(requirements_json(net, 2), 2), now=NOW)
    assert (ours.is_valid, ours.reason) == (reason is None, reason), ours.message


@pytest.mark.parametrize(("version", "net"), CASES)
def test_sdk_signature_check_recovers_fastx402_payer(version: int, net: Net) -> None:
    header = fx_payment_header(net, version)
    decoded = sdk_decode_payment(header, version)
    authorization = ExactEIP3009Payload.from_dict(decoded.payload).authorization
    signature = hex_to_bytes(decoded.payload["signature"])  # x402...evm.utils.hex_to_bytes
    # get_evm_chain_id: CAIP-2 parser (v2) / v1 network-name table (v1), as the facilitators use.
    chain_id = (sdk_chain_id_v2 if version == 2 else sdk_chain_id_v1)(net.network(version))
    assert chain_id == net.chain_id

    # The facilitator's verify cannot reach its signature step without a chain read (get_code of
    # the payer, for EOA vs EIP-1271 routing; see test_sdk_facilitator_verifies_fastx402_payment),
    # so here we call the exact local functions it calls for a payer without code:
    # classify_eip3009_signature -> hash_eip3009_authorization -> verify_universal_signature ->
    # verify_eoa_signature.
    # hash_eip3009_authorization: the digest classify_eip3009_signature computes.
    digest = hash_eip3009_authorization(
        authorization, chain_id, net.usdc, net.eip712_name, net.eip712_version
    )
    ours = fastx402.verify_payment(
        header, fx_requirements(requirements_json(net, version), version), now=NOW
    )
    assert ours.is_valid
    assert ours.digest == digest

    # verify_eoa_signature: the check verify_universal_signature runs for a payer without code.
    assert verify_eoa_signature(digest, signature, PAYER)
    assert not verify_eoa_signature(digest, signature, OTHER)


@pytest.mark.parametrize(("version", "net"), CASES)
def test_sdk_facilitator_verifies_fastx402_payment(
    version: int, net: Net, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chain answers granted: the payer has no code (plain EOA), USDC has code, the
    # transferWithAuthorization eth_call succeeds. Everything else would raise ChainReached.
    chain = StubChain(monkeypatch, eoas=(PAYER,), contracts=(net.usdc,), simulation=None)
    # x402FacilitatorSync + register_exact_evm_facilitator: the SDK facilitator with the exact EVM
    # scheme for the v2 network and for every v1 network name.
    facilitator = register_exact_evm_facilitator(
        x402FacilitatorSync(), chain.signer, networks=[net.caip2]
    )
    payload = sdk_decode_payment(fx_payment_header(net, version), version)
    requirements = sdk_requirements(requirements_json(net, version), version)

    # x402FacilitatorSync.verify: routes by version/scheme/network to ExactEvmScheme(V1).verify,
    # which runs scheme, network, chain id, EIP-712 domain, recipient, value and time-window
    # checks (at the pinned NOW), the signature check, then the chain steps.
    result = facilitator.verify(payload, requirements)
    assert result.is_valid, result
    assert result.payer == PAYER

    # The only chain reads the SDK made, all after its local checks had passed.
    expected = [("get_code", PAYER.lower())]
    if version == 2:
        expected.append(("get_code", net.usdc.lower()))  # v2 only: asset-is-a-contract check
    expected.append(("read_contract", "transferWithAuthorization"))  # the simulation
    assert chain.calls == expected


# =================================================================================================
# 2. SDK -> fastx402
# =================================================================================================


@pytest.mark.parametrize(("version", "net"), CASES)
def test_fastx402_verifies_sdk_client_payment(version: int, net: Net) -> None:
    header = sdk_client_payment_header(net, version)
    requirements = fx_requirements(requirements_json(net, version), version)

    result = fastx402.verify_payment(header, requirements, now=NOW)
    assert (result.is_valid, result.reason, result.message) == (True, None, None)
    assert result.payer == PAYER
    assert not result.needs_chain

    authorization = fastx402.decode_header(header)["payload"]["authorization"]
    if version == 2:
        # The current SDK client signs validAfter "0"; fastx402 accepts it.
        assert authorization["validAfter"] == "0"
        # The SDK copies PaymentRequired.resource into the payload: route binding works with it.
        bound = fastx402.verify_payment(header, requirements, now=NOW, resource_url=RESOURCE_URL)
        assert bound.is_valid
        elsewhere = fastx402.verify_payment(
            header, requirements, now=NOW, resource_url="https://api.example.com/other"
        )
        assert not elsewhere.is_valid
    else:
        assert authorization["validAfter"] == str(NOW - 600)  # the SDK's v1 client: now - 600
    assert authorization["validBefore"] == str(NOW + MAX_TIMEOUT)
    # A server whose clock is a little behind or ahead of the client's still accepts it.
    for later in (NOW - 20, NOW + 20, NOW + MAX_TIMEOUT - 6):
        assert fastx402.verify_payment(header, requirements, now=later).is_valid, later


def _tamper_value(p: dict[str, Any]) -> None:
    p["payload"]["authorization"]["value"] = str(int(AMOUNT) + 1)


def _tamper_to(p: dict[str, Any]) -> None:
    p["payload"]["authorization"]["to"] = OTHER


def _tamper_nonce(p: dict[str, Any]) -> None:
    nonce = bytearray.fromhex(p["payload"]["authorization"]["nonce"][2:])
    nonce[-1] ^= 1
    p["payload"]["authorization"]["nonce"] = "0x" + nonce.hex()


def _tamper_high_s(p: dict[str, Any]) -> None:
    p["payload"]["signature"] = high_s_twin(p["payload"]["signature"])


TAMPERS = [
    pytest.param(_tamper_value, sdk_constants.ERR_AUTHORIZATION_VALUE_MISMATCH, id="value"),
    pytest.param(_tamper_to, sdk_constants.ERR_RECIPIENT_MISMATCH, id="to"),
    pytest.param(_tamper_nonce, sdk_constants.ERR_INVALID_SIGNATURE, id="nonce"),
    pytest.param(_tamper_high_s, sdk_constants.ERR_INVALID_SIGNATURE, id="high-s-twin"),
]


@pytest.mark.parametrize(("tamper", "reason"), TAMPERS)
@pytest.mark.parametrize(("version", "net"), CASES)
def test_fastx402_rejects_tampered_sdk_payment(
    version: int, net: Net, tamper: Callable[[dict[str, Any]], None], reason: str
) -> None:
    payment = fastx402.decode_header(sdk_client_payment_header(net, version))
    tamper(payment)
    # Re-encode the tampered copy with the SDK's own encoder, as an attacker using it would.
    header = encode_payment_signature_header(
        sdk_decode_payment(fastx402.encode_header(payment), version)
    )
    result = fastx402.verify_payment(
        header, fx_requirements(requirements_json(net, version), version), now=NOW
    )
    assert (result.is_valid, result.reason) == (False, reason), result.message


# =================================================================================================
# 3. Wire format
# =================================================================================================


@pytest.mark.parametrize(("version", "net"), CASES)
def test_payment_required_sdk_header_decodes_in_fastx402(version: int, net: Net) -> None:
    model = (PaymentRequired if version == 2 else PaymentRequiredV1).model_validate(
        payment_required_json(net, version)
    )
    # x402.http.utils.encode_payment_required_header: the PAYMENT-REQUIRED value.
    sdk_header = encode_payment_required_header(model)
    ours = fastx402.PaymentRequired.from_header(sdk_header)
    assert ours.to_dict() == json.loads(header_text(sdk_header))
    assert ours.to_header() == sdk_header  # byte-identical re-encoding
    assert ours.x402_version == version
    assert ours.accepts[0].amount == AMOUNT
    assert ours.accepts[0].pay_to == PAY_TO


@pytest.mark.parametrize(("version", "net"), CASES)
def test_payment_required_fastx402_header_decodes_in_sdk(version: int, net: Net) -> None:
    ours = fastx402.PaymentRequired.from_dict(payment_required_json(net, version))
    header = ours.to_header()
    # x402.http.utils.decode_payment_required_header: PaymentRequired / PaymentRequiredV1.
    decoded = decode_payment_required_header(header)
    assert isinstance(decoded, PaymentRequired if version == 2 else PaymentRequiredV1)
    assert sdk_json(decoded) == ours.to_dict()
    assert encode_payment_required_header(decoded) == header  # byte-identical


def test_payment_required_extra_absent_vs_empty() -> None:
    """Documented difference: the SDK's v2 PaymentRequirements.extra defaults to {} and is always
    emitted (``"extra":{}``); fastx402 keeps an absent ``extra`` absent. Decoding works both ways;
    the JSON objects differ by exactly that key."""
    requirements = requirements_json(BASE_SEPOLIA, 2)
    del requirements["extra"]
    document = {"x402Version": 2, "accepts": [requirements]}

    sdk_header = encode_payment_required_header(PaymentRequired.model_validate(document))
    assert json.loads(header_text(sdk_header))["accepts"][0]["extra"] == {}
    assert fastx402.PaymentRequired.from_header(sdk_header).to_dict()["accepts"][0]["extra"] == {}

    ours = fastx402.PaymentRequired.from_dict(document)
    assert "extra" not in ours.to_dict()["accepts"][0]
    decoded = decode_payment_required_header(ours.to_header())
    assert decoded.accepts[0].extra == {}
    assert sdk_json(decoded) == {
        "x402Version": 2,
        "accepts": [requirements | {"extra": {}}],
    }


def test_payment_required_key_order() -> None:
    """Documented difference: fastx402 re-emits keys in the order it received them; the SDK
    re-serialises in model-declaration order. Same JSON object, different bytes."""
    shuffled = {
        "accepts": [dict(reversed(list(requirements_json(BASE, 2).items())))],
        "x402Version": 2,
    }
    ours = fastx402.PaymentRequired.from_dict(shuffled)
    assert header_text(ours.to_header()) == compact(shuffled)
    decoded = decode_payment_required_header(ours.to_header())
    sdk_header = encode_payment_required_header(decoded)
    assert sdk_header != ours.to_header()
    assert json.loads(header_text(sdk_header)) == ours.to_dict()


SETTLE_RESPONSES = [
    pytest.param(
        {
            "success": True,
            "payer": PAYER,
            "transaction": "0x" + "ab" * 32,
            "network": "eip155:84532",
            "amount": AMOUNT,
        },
        id="success",
    ),
    pytest.param(
        {
            "success": False,
            "errorReason": sdk_constants.ERR_INSUFFICIENT_BALANCE,
            "errorMessage": "transfer amount exceeds balance",
            "payer": PAYER,
            "transaction": "",
            "network": "eip155:8453",
        },
        id="failure",
    ),
    pytest.param(
        {
            "success": True,
            "payer": PAYER,
            "transaction": "0x" + "cd" * 32,
            "network": "base",
            "extensions": {"bazaar": {"info": {"a": 1}}},
            "extra": {"note": "v1 network name"},
        },
        id="extensions-extra-v1-network",
    ),
]


@pytest.mark.parametrize("settle", SETTLE_RESPONSES)
def test_settle_response_both_ways(settle: dict[str, Any]) -> None:
    """SDK -> fastx402 and back. Documented byte difference: the SDK's
    encode_payment_response_header uses json.dumps with default separators (", " and ": "),
    so its PAYMENT-RESPONSE is not compact JSON; fastx402 emits compact JSON."""
    # x402.http.utils.encode_payment_response_header: the PAYMENT-RESPONSE value.
    sdk_header = encode_payment_response_header(SettleResponse.model_validate(settle))
    assert header_text(sdk_header) == json.dumps(settle)  # spaces after ',' and ':'
    ours = fastx402.SettleResponse.from_header(sdk_header)
    assert ours.to_dict() == settle
    assert ours.success is settle["success"]
    assert ours.transaction == settle["transaction"]

    our_header = fastx402.SettleResponse.from_dict(settle).to_header()
    assert header_text(our_header) == compact(settle)
    assert our_header != sdk_header
    # x402.http.utils.decode_payment_response_header: SettleResponse.model_validate_json.
    decoded = decode_payment_response_header(our_header)
    assert decoded.model_dump(by_alias=True, exclude_none=True) == settle


@pytest.mark.parametrize(
    "verify",
    [
        {"isValid": True, "payer": PAYER},
        {
            "isValid": False,
            "invalidReason": sdk_constants.ERR_INVALID_SIGNATURE,
            "invalidMessage": "bad signature",
            "payer": PAYER,
        },
        {"isValid": True, "payer": PAYER, "extensions": {"bazaar": {}}, "extra": {"k": 1}},
    ],
    ids=["valid", "invalid", "extensions-extra"],
)
def test_verify_response_both_ways(verify: dict[str, Any]) -> None:
    # VerifyResponse: the SDK facilitator's /verify answer model.
    sdk = VerifyResponse.model_validate(verify)
    ours = fastx402.VerifyResponse.from_dict(sdk.model_dump(by_alias=True, exclude_none=True))
    assert ours.to_dict() == verify
    assert VerifyResponse.model_validate(ours.to_dict()) == sdk


@pytest.mark.parametrize(("version", "net"), CASES)
def test_sdk_client_payment_header_round_trips_through_fastx402(version: int, net: Net) -> None:
    header = sdk_client_payment_header(net, version)
    ours = fastx402.PaymentPayload.from_header(header)
    assert ours.to_dict() == json.loads(header_text(header))
    assert ours.to_header() == header  # byte-identical
    assert ours.payer == PAYER


@pytest.mark.parametrize("net", NETS, ids=lambda n: n.slug)
def test_rich_payment_required_both_ways(net: Net) -> None:
    """Service metadata on ``resource`` and declared extensions survive both directions, and the
    SDK client's payment for such a 402 (it copies resource and extensions) verifies."""
    document = payment_required_json(net, 2, rich=True)
    sdk_header = encode_payment_required_header(PaymentRequired.model_validate(document))
    assert fastx402.PaymentRequired.from_header(sdk_header).to_dict() == document
    ours = fastx402.PaymentRequired.from_dict(document)
    assert sdk_json(decode_payment_required_header(ours.to_header())) == document
    assert ours.to_header() == sdk_header

    header = sdk_client_payment_header(net, 2, rich=True)
    sent = fastx402.decode_header(header)
    assert sent["resource"] == document["resource"]
    assert sent["extensions"] == document["extensions"]
    result = fastx402.verify_payment(
        header, fx_requirements(requirements_json(net, 2), 2), now=NOW, resource_url=RESOURCE_URL
    )
    assert (result.is_valid, result.reason) == (True, None), result.message


def test_unknown_requirement_field() -> None:
    """Documented difference (fastx402 stricter): the SDK's pydantic models ignore unknown fields
    (and drop them when they re-encode); fastx402 refuses them. Nothing the 2.25 SDK emits is
    unknown to fastx402, but a field added by a future SDK or another implementation would make
    fastx402 refuse that 402."""
    requirements = requirements_json(BASE, 2) | {"futureField": "x"}
    document = {"x402Version": 2, "accepts": [requirements]}
    header = base64.b64encode(compact(document).encode()).decode()
    decoded = decode_payment_required_header(header)
    assert "futureField" not in sdk_json(decoded)["accepts"][0]
    with pytest.raises(ValueError, match="unexpected field"):
        fastx402.PaymentRequired.from_header(header)


def test_supported_response_from_sdk_facilitator(monkeypatch: pytest.MonkeyPatch) -> None:
    chain = StubChain(monkeypatch)
    facilitator = register_exact_evm_facilitator(
        x402FacilitatorSync(), chain.signer, networks=[net.caip2 for net in NETS]
    )
    # x402FacilitatorSync.get_supported: the SDK facilitator's GET /supported answer.
    supported = sdk_json(facilitator.get_supported())
    assert {(k["x402Version"], k["network"]) for k in supported["kinds"]} >= {
        (2, BASE.caip2),
        (2, BASE_SEPOLIA.caip2),
        (1, BASE.v1_name),
        (1, BASE_SEPOLIA.v1_name),
    }
    assert fastx402.SupportedResponse.from_dict(supported).to_dict() == supported
    assert chain.calls == []


@pytest.mark.parametrize("net", NETS, ids=lambda n: n.slug)
def test_eip712_domain_matches_sdk_default_asset_table(net: Net) -> None:
    # find_default_asset: the SDK's default-asset table (used when extra lacks name/version).
    for network in (net.caip2, net.v1_name):
        entry = find_default_asset(net.usdc, network)
        assert entry is not None
        assert (entry["name"], entry["version"]) == (net.eip712_name, net.eip712_version)


# =================================================================================================
# 4. Reason vocabulary
# =================================================================================================

FIELD_REASONS = {
    "unsupported_scheme": sdk_constants.ERR_UNSUPPORTED_SCHEME,
    "network_mismatch": sdk_constants.ERR_NETWORK_MISMATCH,
    "invalid_exact_evm_failed_to_get_network_config": (
        sdk_constants.ERR_FAILED_TO_GET_NETWORK_CONFIG
    ),
    "missing_eip712_domain": sdk_constants.ERR_MISSING_EIP712_DOMAIN,
    "invalid_exact_evm_payload_recipient_mismatch": sdk_constants.ERR_RECIPIENT_MISMATCH,
    "invalid_exact_evm_payload_authorization_value_mismatch": (
        sdk_constants.ERR_AUTHORIZATION_VALUE_MISMATCH
    ),
    "invalid_exact_evm_payload_authorization_valid_before": sdk_constants.ERR_VALID_BEFORE_EXPIRED,
    "invalid_exact_evm_payload_authorization_valid_after": sdk_constants.ERR_VALID_AFTER_FUTURE,
}
SIGNATURE_REASON = "invalid_exact_evm_payload_signature"


@pytest.mark.parametrize(("ours", "theirs"), [*FIELD_REASONS.items()])
def test_reason_strings_equal_sdk_constants(ours: str, theirs: str) -> None:
    assert ours == theirs


def test_signature_reason_equals_sdk_constant() -> None:
    assert SIGNATURE_REASON == sdk_constants.ERR_INVALID_SIGNATURE


Mutation = Callable[[dict[str, Any], dict[str, Any], int, Net], None]


def _mut_scheme(p: dict[str, Any], r: dict[str, Any], version: int, net: Net) -> None:
    if version == 2:
        p["accepted"]["scheme"] = "upto"
    else:
        p["scheme"] = "upto"


def _mut_scheme_everywhere(p: dict[str, Any], r: dict[str, Any], version: int, net: Net) -> None:
    r["scheme"] = "streaming"
    if version == 2:
        p["accepted"]["scheme"] = "streaming"
    else:
        p["scheme"] = "streaming"


def _mut_network(p: dict[str, Any], r: dict[str, Any], version: int, net: Net) -> None:
    if version == 2:
        p["accepted"]["network"] = other_net(net).caip2
    else:
        p["network"] = other_net(net).v1_name


def _mut_unknown_network(p: dict[str, Any], r: dict[str, Any], version: int, net: Net) -> None:
    bogus = "eip155:base" if version == 2 else "base-mainnet"
    r["network"] = bogus
    if version == 2:
        p["accepted"]["network"] = bogus
    else:
        p["network"] = bogus


def _mut_extra(extra: dict[str, Any]) -> Mutation:
    def mutate(p: dict[str, Any], r: dict[str, Any], version: int, net: Net) -> None:
        r["extra"] = copy.deepcopy(extra)
        if version == 2:
            p["accepted"]["extra"] = copy.deepcopy(extra)

    return mutate


def _mut_authorization(**fields: Callable[[Net], str]) -> Mutation:
    def mutate(p: dict[str, Any], r: dict[str, Any], version: int, net: Net) -> None:
        for name, value in fields.items():
            p["payload"]["authorization"][name] = value(net)

    return mutate


def _mut_nonce(p: dict[str, Any], r: dict[str, Any], version: int, net: Net) -> None:
    _tamper_nonce(p)


REASON_CASES = [
    pytest.param(_mut_scheme, "unsupported_scheme", id="scheme-upto"),
    pytest.param(_mut_scheme_everywhere, "unsupported_scheme", id="scheme-everywhere"),
    pytest.param(_mut_network, "network_mismatch", id="network"),
    pytest.param(
        _mut_unknown_network, "invalid_exact_evm_failed_to_get_network_config", id="bad-network"
    ),
    pytest.param(_mut_extra({}), "missing_eip712_domain", id="extra-empty"),
    pytest.param(_mut_extra({"name": "USDC"}), "missing_eip712_domain", id="extra-without-version"),
    pytest.param(
        _mut_authorization(to=lambda n: OTHER),
        "invalid_exact_evm_payload_recipient_mismatch",
        id="recipient",
    ),
    pytest.param(
        _mut_authorization(value=lambda n: "9999"),
        "invalid_exact_evm_payload_authorization_value_mismatch",
        id="value",
    ),
    pytest.param(
        _mut_authorization(validBefore=lambda n: str(NOW + 5)),
        "invalid_exact_evm_payload_authorization_valid_before",
        id="valid-before",
    ),
    pytest.param(
        _mut_authorization(validAfter=lambda n: str(NOW + 1)),
        "invalid_exact_evm_payload_authorization_valid_after",
        id="valid-after",
    ),
    pytest.param(_mut_nonce, SIGNATURE_REASON, id="signature-nonce"),
    pytest.param(
        _mut_authorization(**{"from": lambda n: OTHER}), SIGNATURE_REASON, id="signature-from"
    ),
]

ORIGINS = ["fastx402", "sdk"]


def _payment_json(origin: str, net: Net, version: int) -> dict[str, Any]:
    header = (
        fx_payment_header(net, version)
        if origin == "fastx402"
        else (sdk_client_payment_header(net, version))
    )
    return fastx402.decode_header(header)


def _both_verdicts(
    payment: dict[str, Any],
    requirements: dict[str, Any],
    version: int,
    chain: StubChain,
) -> tuple[fastx402.VerifyResult, VerifyResponse]:
    header = fastx402.encode_header(payment)
    ours = fastx402.verify_payment(header, fx_requirements(requirements, version), now=NOW)
    # ExactEvmScheme(V1).verify: the SDK facilitator's verification for the same header.
    theirs = sdk_facilitator_scheme(chain, version).verify(
        sdk_decode_payment(header, version), sdk_requirements(requirements, version)
    )
    return ours, theirs


@pytest.mark.parametrize("origin", ORIGINS)
@pytest.mark.parametrize(("mutate", "reason"), REASON_CASES)
@pytest.mark.parametrize(("version", "net"), CASES)
def test_same_reason_as_sdk_facilitator(
    version: int,
    net: Net,
    mutate: Mutation,
    reason: str,
    origin: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payment = _payment_json(origin, net, version)
    requirements = requirements_json(net, version)
    mutate(payment, requirements, version, net)
    signature_case = reason == SIGNATURE_REASON
    # Field checks: no chain at all. Signature checks: the SDK always asks for the payer's code
    # first (EOA vs EIP-1271 routing), so that one answer is granted: "no code".
    payer = payment["payload"]["authorization"]["from"]
    chain = StubChain(monkeypatch, eoas=(payer,) if signature_case else ())

    ours, theirs = _both_verdicts(payment, requirements, version, chain)

    assert (ours.is_valid, ours.reason) == (False, reason), ours.message
    assert (theirs.is_valid, theirs.invalid_reason) == (False, reason), theirs
    assert not ours.needs_chain
    assert chain.calls == ([("get_code", payer.lower())] if signature_case else [])


@pytest.mark.parametrize(("version", "net"), CASES)
@pytest.mark.parametrize(
    ("valid_after", "valid_before", "reason"),
    [
        pytest.param(NOW, NOW + 6, None, id="edges-accepted"),
        pytest.param(
            NOW + 1, NOW + 60, "invalid_exact_evm_payload_authorization_valid_after", id="after+1"
        ),
        pytest.param(
            NOW - 600,
            NOW + 5,
            "invalid_exact_evm_payload_authorization_valid_before",
            id="before-1",
        ),
        pytest.param(0, NOW + 60, None, id="after-zero"),
    ],
)
def test_time_window_edges_with_sdk_signed_payments(
    version: int,
    net: Net,
    valid_after: int,
    valid_before: int,
    reason: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Correctly signed (by the SDK's signing function) payments at the window edges: same
    verdict. validAfter == now and validBefore == now + 6 are both accepted by both."""
    payment = sdk_signed_payment_json(
        net, version, valid_after=valid_after, valid_before=valid_before
    )
    chain = StubChain(monkeypatch, eoas=(PAYER,), contracts=(net.usdc,), simulation=None)
    ours, theirs = _both_verdicts(payment, requirements_json(net, version), version, chain)
    assert (ours.is_valid, ours.reason) == (reason is None, reason), ours.message
    assert (theirs.is_valid, theirs.invalid_reason) == (reason is None, reason), theirs
    if reason is not None:
        assert chain.calls == []  # the SDK decided locally


@pytest.mark.parametrize(("version", "net"), CASES)
def test_validity_window_longer_than_max_timeout(
    version: int, net: Net, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Documented divergence (fastx402 stricter, by design): a validBefore more than
    maxTimeoutSeconds + skew ahead is refused by fastx402 with the valid_before reason; the SDK
    facilitator has no upper bound and accepts it (given the chain)."""
    payment = sdk_signed_payment_json(net, version, valid_after=NOW - 600, valid_before=NOW + 3600)
    chain = StubChain(monkeypatch, eoas=(PAYER,), contracts=(net.usdc,), simulation=None)
    ours, theirs = _both_verdicts(payment, requirements_json(net, version), version, chain)
    assert (ours.is_valid, ours.reason) == (
        False,
        "invalid_exact_evm_payload_authorization_valid_before",
    )
    assert theirs.is_valid


@pytest.mark.parametrize("origin", ORIGINS)
@pytest.mark.parametrize(("version", "net"), CASES)
def test_high_s_twin(version: int, net: Net, origin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Documented divergence in *where* the verdict is reached, not in the reason string.

    fastx402 rejects the high-s twin locally with invalid_exact_evm_payload_signature. The SDK's
    local signature check (verify_eoa_signature) accepts it, so the SDK facilitator goes on to the
    chain. The simulation is granted the revert USDC's FiatToken gives for a high-s signature
    (ECRecover: "invalid signature 's' value"); the v2 SDK maps that revert to the same reason.
    The v1 SDK facilitator does not map reverts: it runs a diagnostic multicall (balance, name,
    version, authorizationState; refused here) and, when that finds nothing specific (unused nonce,
    matching name/version, enough balance) or fails, answers
    invalid_exact_evm_transaction_simulation_failed: a different reason string from ours.
    """
    payment = _payment_json(origin, net, version)
    _tamper_high_s(payment)
    auth = ExactEIP3009Authorization(
        from_address=payment["payload"]["authorization"]["from"],
        to=payment["payload"]["authorization"]["to"],
        value=payment["payload"]["authorization"]["value"],
        valid_after=payment["payload"]["authorization"]["validAfter"],
        valid_before=payment["payload"]["authorization"]["validBefore"],
        nonce=payment["payload"]["authorization"]["nonce"],
    )
    digest = hash_eip3009_authorization(
        auth, net.chain_id, net.usdc, net.eip712_name, net.eip712_version
    )
    # verify_eoa_signature (eth_keys recovery) has no low-s rule: the twin recovers the payer.
    assert verify_eoa_signature(digest, hex_to_bytes(payment["payload"]["signature"]), PAYER)

    revert = ContractLogicError("execution reverted: ECRecover: invalid signature 's' value")
    chain = StubChain(monkeypatch, eoas=(PAYER,), contracts=(net.usdc,), simulation=revert)
    ours, theirs = _both_verdicts(payment, requirements_json(net, version), version, chain)

    assert (ours.is_valid, ours.reason) == (False, SIGNATURE_REASON), ours.message
    assert not ours.needs_chain
    assert not theirs.is_valid
    assert ("read_contract", "transferWithAuthorization") in chain.calls  # SDK needed the chain
    if version == 2:
        assert theirs.invalid_reason == SIGNATURE_REASON
    else:
        assert theirs.invalid_reason == sdk_constants.ERR_TRANSACTION_SIMULATION_FAILED


def test_v1_refuses_caip2_network_like_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """v1 names networks (base-sepolia); a CAIP-2 id in a v1 message is refused by fastx402's
    client and verifier with the reason the SDK's v1 facilitator gives
    (invalid_exact_evm_failed_to_get_network_config)."""
    requirements = requirements_json(BASE, 1) | {"network": BASE.caip2}
    document = {"x402Version": 1, "accepts": [requirements]}
    with pytest.raises(ProtocolError) as info:
        fastx402.create_payment(document, PrivateKey.from_hex(KEY), now=NOW, nonce=NONCE)
    assert info.value.reason == sdk_constants.ERR_FAILED_TO_GET_NETWORK_CONFIG
    # A v1 payment signed for that network anyway (by the raw typed-data API) is refused too.
    good = requirements_json(BASE, 1)
    header = fastx402.create_payment(
        {"x402Version": 1, "accepts": [good]}, PrivateKey.from_hex(KEY), now=NOW, nonce=NONCE
    ).to_dict()
    header["network"] = BASE.caip2
    ours = fastx402.verify_payment(header, fx_requirements(requirements, 1), now=NOW)
    assert (ours.is_valid, ours.reason) == (False, sdk_constants.ERR_FAILED_TO_GET_NETWORK_CONFIG)
    header = fastx402.encode_header(header)

    chain = StubChain(monkeypatch)
    theirs = sdk_facilitator_scheme(chain, 1).verify(
        sdk_decode_payment(header, 1), sdk_requirements(requirements, 1)
    )
    assert (theirs.is_valid, theirs.invalid_reason) == (
        False,
        sdk_constants.ERR_FAILED_TO_GET_NETWORK_CONFIG,
    )
    assert chain.calls == []
    # sdk_exact_client_v1.ExactEvmSchemeV1.create_payment_payload: the SDK v1 client refuses it.
    client = sdk_exact_client_v1.ExactEvmSchemeV1(EthAccountSigner(Account.from_key(KEY)))
    with pytest.raises(ValueError, match="Unknown v1 network"):
        client.create_payment_payload(sdk_requirements(requirements, 1))
