"""Type stubs for the Rust extension module (checked by mypy.stubtest)."""

from collections.abc import Awaitable
from decimal import Decimal
from os import PathLike
from typing import Any, ClassVar, Literal, TypeAlias, TypedDict, final

_TypedDataInput: TypeAlias = dict[str, Any] | str | bytes
_Signature: TypeAlias = bytes | str
_DomainTypes: TypeAlias = Literal["given", "infer"] | None

__all__ = [
    "DEFAULT_MAX_HEADER_BYTES",
    "MAX_DECIMALS",
    "REASONS",
    "Facilitator",
    "PaymentPayload",
    "PaymentRequired",
    "PaymentRequirements",
    "PrivateKey",
    "RemoteFacilitator",
    "SettleResponse",
    "SupportedResponse",
    "VerifyResponse",
    "VerifyResult",
    "__version__",
    "_hash_typed_data_in_place",
    "atomic_to_price",
    "bazaar_declaration",
    "bazaar_for_request",
    "create_payment",
    "decode_header",
    "default_asset",
    "domain_separator",
    "ecdsa_backend",
    "encode_header",
    "encode_type",
    "find_asset",
    "hash_message",
    "hash_struct",
    "hash_typed_data",
    "keccak256",
    "network_assets",
    "normalize_signature",
    "parse_network",
    "payment_identifier_declaration",
    "price_to_atomic",
    "recover_digest",
    "recover_message",
    "recover_typed_data",
    "register_asset",
    "register_network",
    "resolve_price",
    "to_checksum_address",
    "type_hash",
    "validate_bazaar",
    "verify_payment",
]

__version__: str

def keccak256(data: bytes) -> bytes: ...
def to_checksum_address(address: str) -> str: ...
def hash_message(message: bytes | str) -> bytes: ...
def hash_typed_data(data: _TypedDataInput, *, domain_types: _DomainTypes = None) -> bytes: ...
def domain_separator(data: _TypedDataInput, *, domain_types: _DomainTypes = None) -> bytes: ...
def _hash_typed_data_in_place(
    data: _TypedDataInput, *, domain_types: _DomainTypes = None
) -> bytes | None: ...
def encode_type(types: dict[str, Any], primary_type: str) -> str: ...
def type_hash(types: dict[str, Any], primary_type: str) -> bytes: ...
def hash_struct(types: dict[str, Any], primary_type: str, value: dict[str, Any]) -> bytes: ...
def recover_digest(digest: bytes, signature: _Signature, *, allow_high_s: bool = False) -> str: ...
def recover_typed_data(
    data: _TypedDataInput,
    signature: _Signature,
    *,
    domain_types: _DomainTypes = None,
    allow_high_s: bool = False,
) -> str: ...
def recover_message(
    message: bytes | str, signature: _Signature, *, allow_high_s: bool = False
) -> str: ...
def normalize_signature(signature: _Signature) -> bytes: ...
def ecdsa_backend() -> str: ...

@final
class PrivateKey:
    def __new__(cls, key: bytes) -> PrivateKey: ...
    @staticmethod
    def from_hex(key: str) -> PrivateKey: ...
    @staticmethod
    def generate() -> PrivateKey: ...
    @property
    def address(self) -> str: ...
    @property
    def public_key(self) -> bytes: ...
    def sign_digest(self, digest: bytes) -> bytes: ...
    def sign_typed_data(
        self, data: _TypedDataInput, *, domain_types: _DomainTypes = None
    ) -> bytes: ...
    def sign_message(self, message: bytes | str) -> bytes: ...

# --- x402 -------------------------------------------------------------------

DEFAULT_MAX_HEADER_BYTES: int
REASONS: tuple[str, ...]
"""Every x402 reason code, as ``fastx402.errors.Reason`` lists them."""
_Json: TypeAlias = dict[str, Any]

@final
class PaymentRequirements:
    @staticmethod
    def from_dict(data: _Json, *, x402_version: int = 2) -> PaymentRequirements: ...
    def to_dict(self) -> _Json: ...
    @property
    def x402_version(self) -> int: ...
    @property
    def scheme(self) -> str: ...
    @property
    def network(self) -> str: ...
    @property
    def amount(self) -> str: ...
    @property
    def amount_atomic(self) -> int:
        """``amount`` as an ``int`` (atomic units of ``asset``)."""
    @property
    def price(self) -> Decimal | None:
        """``amount`` in whole tokens, with the decimals of the asset registered at
        ``asset`` on ``network`` (``"10000"`` of USDC → ``Decimal("0.01")``); ``None``
        when the network or the asset is not registered (see ``register_asset``)."""
    @property
    def asset(self) -> str: ...
    @property
    def pay_to(self) -> str: ...
    @property
    def max_timeout_seconds(self) -> int: ...
    @property
    def extra(self) -> _Json | None: ...
    @property
    def resource(self) -> str | None: ...

@final
class PaymentRequired:
    @staticmethod
    def from_header(header: str, *, max_bytes: int = ...) -> PaymentRequired: ...
    @staticmethod
    def from_dict(data: _Json) -> PaymentRequired: ...
    def to_header(self) -> str: ...
    def to_dict(self) -> _Json: ...
    @property
    def x402_version(self) -> int: ...
    @property
    def error(self) -> str | None: ...
    @property
    def resource(self) -> _Json | None: ...
    @property
    def accepts(self) -> list[PaymentRequirements]: ...
    @property
    def extensions(self) -> _Json | None: ...

@final
class PaymentPayload:
    @staticmethod
    def from_header(header: str, *, max_bytes: int = ...) -> PaymentPayload: ...
    @staticmethod
    def from_dict(data: _Json) -> PaymentPayload: ...
    def to_header(self) -> str: ...
    def to_dict(self) -> _Json: ...
    @property
    def x402_version(self) -> int: ...
    @property
    def scheme(self) -> str: ...
    @property
    def network(self) -> str: ...
    @property
    def accepted(self) -> PaymentRequirements | None: ...
    @property
    def payload(self) -> _Json: ...
    @property
    def payment_identifier(self) -> str | None:
        """The client's ``payment-identifier`` id, or None; a malformed one raises
        ``ProtocolError`` naming its path."""
    def with_payment_identifier(self, id: str) -> PaymentPayload:
        """This payment with ``id`` as its ``payment-identifier`` (unsigned: the signature is
        unchanged)."""
    @property
    def payer(self) -> str | None: ...
    @property
    def amount_atomic(self) -> int | None:
        """The authorized amount in atomic units: EIP-3009 ``authorization.value``,
        Permit2 ``permitted.amount`` (for ``upto``, the maximum); ``None`` for a payload
        no scheme can read."""
    @property
    def valid_after(self) -> int | None:
        """Unix seconds from which the payment is valid (EIP-3009
        ``authorization.validAfter``, Permit2 ``witness.validAfter``)."""
    @property
    def valid_before(self) -> int | None:
        """EIP-3009 only: Unix seconds before which the payment must settle
        (``authorization.validBefore``, exclusive)."""
    @property
    def deadline(self) -> int | None:
        """Permit2 (``exact`` or ``upto``) only: the last Unix second the permit is
        valid (inclusive)."""
    @property
    def resource(self) -> _Json | None: ...
    @property
    def extensions(self) -> _Json | None: ...

@final
class SettleResponse:
    @staticmethod
    def from_header(header: str, *, max_bytes: int = ...) -> SettleResponse: ...
    @staticmethod
    def from_dict(data: _Json) -> SettleResponse: ...
    def to_header(self) -> str: ...
    def to_dict(self) -> _Json: ...
    def check(self, requirements: PaymentRequirements, payer: str | None = None) -> None:
        """Raises ``ProtocolError`` (reason ``unexpected_settle_error``, ``path`` the field at
        fault) unless this answer settles the payment of ``requirements`` by ``payer``:
        success, the same network, payer and amount (``upto``: at most the maximum)."""

    @property
    def success(self) -> bool: ...
    @property
    def error_reason(self) -> str | None: ...
    @property
    def error_message(self) -> str | None: ...
    @property
    def payer(self) -> str | None: ...
    @property
    def transaction(self) -> str: ...
    @property
    def network(self) -> str: ...
    @property
    def amount(self) -> str | None: ...
    @property
    def amount_atomic(self) -> int | None:
        """``amount`` as an ``int`` (atomic units); ``None`` when the answer has none."""

@final
class VerifyResponse:
    @staticmethod
    def from_dict(data: _Json) -> VerifyResponse: ...
    def to_dict(self) -> _Json: ...
    @property
    def is_valid(self) -> bool: ...
    @property
    def invalid_reason(self) -> str | None: ...
    @property
    def invalid_message(self) -> str | None: ...
    @property
    def payer(self) -> str | None: ...

@final
class SupportedResponse:
    @staticmethod
    def from_dict(data: _Json) -> SupportedResponse: ...
    def to_dict(self) -> _Json: ...
    @property
    def kinds(self) -> list[_Json]: ...
    @property
    def extensions(self) -> list[str]: ...
    @property
    def signers(self) -> dict[str, list[str]]: ...

@final
class RemoteFacilitator:
    def __new__(
        cls,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        settle_timeout: float = 60.0,
        connect_timeout: float = 3.0,
        max_response_bytes: int = 65536,
    ) -> RemoteFacilitator: ...
    def verify(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> Awaitable[VerifyResponse]: ...
    def verify_blocking(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> VerifyResponse: ...
    def settle(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> Awaitable[SettleResponse]: ...
    def settle_blocking(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> SettleResponse: ...
    def supported(self) -> Awaitable[SupportedResponse]: ...
    def supported_blocking(self) -> SupportedResponse: ...

@final
class VerifyResult:
    """The outcome of local verification (``verify_payment``).

    Test ``is_valid``, never ``reason`` alone: but a result that is not valid always has a
    ``reason`` and a ``message``, ``needs_chain`` included.
    """

    @property
    def is_valid(self) -> bool:
        """True only for a plain EOA signature that authenticates and passes every check."""
    @property
    def reason(self) -> str | None:
        """The x402 reason code; ``None`` exactly when ``is_valid``. A smart-wallet payment that
        only the chain can authenticate (``needs_chain``) is ``"needs_onchain_verification"``."""
    @property
    def message(self) -> str | None:
        """Why it is not valid, for humans; ``None`` exactly when ``is_valid``."""
    @property
    def needs_chain(self) -> bool:
        """Well-formed and passing every local check, but the signature is not a plain EOA
        signature (ERC-6492 / EIP-1271): not valid until a facilitator has verified it."""
    @property
    def payer(self) -> str | None:
        """The payer the payment claims (``from``): authenticated only when ``is_valid``."""
    @property
    def replay_key(self) -> str | None:
        """``eip155:<chain>:<contract>:<from>:<nonce>``, the same for every encoding of one
        authorization; set only when ``is_valid`` (its signature authenticated), so it is safe
        to reserve. ``None`` otherwise: see ``unauthenticated_replay_key``."""
    @property
    def digest(self) -> bytes | None:
        """The EIP-712 digest the payer signed; set only when ``is_valid``."""
    @property
    def unauthenticated_replay_key(self) -> str | None:
        """``needs_chain`` only: the replay key of an authorization whose signature nobody has
        checked. It must not be reserved (or otherwise recorded as used) before the
        facilitator has verified the signature: anyone who saw a victim's payment can send
        its authorization with a garbage smart-wallet signature and burn the victim's nonce."""
    @property
    def unauthenticated_digest(self) -> bytes | None:
        """``needs_chain`` only: the digest the smart wallet must have signed (what an
        EIP-1271 ``isValidSignature`` check takes); unauthenticated, like
        ``unauthenticated_replay_key``."""

def create_payment(
    payment_required: PaymentRequired | str | _Json,
    signer: PrivateKey,
    *,
    requirements: PaymentRequirements | _Json | None = None,
    now: int | None = None,
    nonce: bytes | None = None,
) -> PaymentPayload: ...
def verify_payment(
    payment: PaymentPayload | str | _Json,
    requirements: PaymentRequirements | _Json,
    *,
    now: int | None = None,
    skew_seconds: int = ...,
    resource_url: str | None = None,
    max_header_bytes: int = ...,
) -> VerifyResult:
    """Verifies a payment locally (no chain) against its requirements.

    ``resource_url``, if given, must be the payment's resource: a v2 payment's
    ``resource.url`` (else ``invalid_payload``), or for v1, whose payment names none, the
    ``resource`` of the v1 requirements (else ``invalid_payment_requirements``). This binding
    is advisory: ``resource`` is not signed, so a holder of the header can rewrite it. It
    refuses honest mismatches and mistakes, not an attacker; price routes with distinct terms
    (``payTo``/``amount``/``asset``) and reserve ``replay_key`` for real protection.
    """

def payment_identifier_declaration(*, required: bool = False) -> _Json: ...
def bazaar_declaration(
    *,
    method: str | None = None,
    body_type: str | None = None,
    input: Any = None,
    input_schema: _Json | None = None,
    path_params_schema: _Json | None = None,
    output_example: Any = None,
    output_schema: _Json | None = None,
) -> dict[str, Any]:
    """A route's ``bazaar`` discovery declaration (the official ``declare_discovery_extension``
    shape); raises ``ValueError`` naming the argument that is wrong."""

def bazaar_for_request(
    declaration: _Json, method: str, *, route: str | None = None, path: str = "/"
) -> dict[str, Any]:
    """``declaration`` as answered to one request: ``info.input.method``, and for a ``route``
    path with parameters ``info.input.pathParams`` (their values in ``path``) and
    ``routeTemplate``."""

def validate_bazaar(declaration: _Json) -> None:
    """Checks a ``bazaar`` extension's shape (raises ``ValueError`` naming the JSON path)."""

def encode_header(data: _Json) -> str: ...
def decode_header(header: str, *, max_bytes: int = ...) -> Any: ...

# --- networks, assets and money ----------------------------------------------

class _AssetInfo(TypedDict):
    address: str
    name: str
    version: str
    decimals: int
    symbol: str | None
    transfer_method: Literal["eip3009", "permit2"]
    supports_eip2612: bool

_Price: TypeAlias = str | Decimal | int
MAX_DECIMALS: int

def parse_network(network: str) -> tuple[str, int, str | None]: ...
def default_asset(network: str) -> _AssetInfo: ...
def network_assets(network: str) -> list[_AssetInfo]: ...
def find_asset(network: str, address: str) -> _AssetInfo: ...
def register_asset(
    network: str,
    address: str,
    name: str,
    version: str,
    decimals: int,
    *,
    transfer_method: Literal["eip3009", "permit2"] = "eip3009",
    symbol: str | None = None,
    supports_eip2612: bool = False,
    mode: Literal["add", "replace", "default"] = "add",
) -> None: ...
def register_network(
    v1_name: str | None, chain_id: int, *, replace: bool = False
) -> tuple[str, int, str | None]: ...
def price_to_atomic(price: _Price, network: str, *, asset: str | None = None) -> str: ...
def resolve_price(
    price: _Price, network: str, *, asset: str | None = None
) -> tuple[str, _AssetInfo]: ...
def atomic_to_price(amount: str | int, decimals: int) -> str: ...

class _ReconcileReport(TypedDict):
    settled: int
    failed: int
    still_pending: int

class _PendingSettlement(TypedDict):
    transaction: str
    payer: str
    pay_to: str
    amount: str
    nonce: int
    network: str

@final
class Facilitator:
    def __new__(
        cls,
        rpc_url: str,
        network: str,
        private_key: PrivateKey,
        *,
        journal: str | PathLike[str] | None = None,
        allowed_factories: list[str] = ...,
        receipt_timeout: float = 60.0,
        poll_interval: float = 0.25,
        rpc_timeout: float = 10.0,
        skew_seconds: int = 30,
        max_fee_per_gas: int | None = None,
        log_lookback_blocks: int = 100000,
        log_range_blocks: int = 10000,
        now: int | None = None,
    ) -> Facilitator: ...
    @property
    def journal_dropped_bytes(self) -> int:
        """Bytes of a torn last journal record dropped at start-up (0: none)."""
    @property
    def address(self) -> str: ...
    @property
    def network(self) -> str: ...
    @property
    def chain_id(self) -> int: ...
    def supported(self) -> SupportedResponse: ...
    def verify(
        self, payload: PaymentPayload, requirements: PaymentRequirements, *, now: int | None = None
    ) -> Awaitable[VerifyResponse]: ...
    def verify_blocking(
        self, payload: PaymentPayload, requirements: PaymentRequirements, *, now: int | None = None
    ) -> VerifyResponse: ...
    def settle(
        self, payload: PaymentPayload, requirements: PaymentRequirements, *, now: int | None = None
    ) -> Awaitable[SettleResponse]: ...
    def settle_blocking(
        self, payload: PaymentPayload, requirements: PaymentRequirements, *, now: int | None = None
    ) -> SettleResponse: ...
    MAX_BODY_BYTES: ClassVar[int]
    """Largest request body (bytes) ``handle`` reads; a longer one is a 413."""
    @staticmethod
    def allow(route: str) -> str | None:
        """The methods ``route`` answers (the ``Allow`` header of a 405); None if no such route."""
    def refuse_head(
        self, route: str, *, method: str = "POST", content_length: list[bytes] = ...
    ) -> tuple[int, bytes] | None:
        """The answer due before the body is read (404, 405, 400/413 for ``Content-Length``),
        or None: read the body, no further than ``MAX_BODY_BYTES + 1`` bytes, and ``handle`` it."""
    def handle(
        self,
        route: str,
        body: bytes,
        *,
        method: str = "POST",
        content_length: list[bytes] = ...,
        now: int | None = None,
    ) -> Awaitable[tuple[int, bytes]]:
        """One HTTP request to ``/verify``, ``/settle``, ``/supported`` or ``/health``:
        ``(status, json)``, refusals included."""
    def reconcile(self, *, now: int | None = None) -> Awaitable[_ReconcileReport]: ...
    def reconcile_blocking(self, *, now: int | None = None) -> _ReconcileReport: ...
    def pending(self) -> list[_PendingSettlement]: ...
