"""Exceptions raised by fastx402, and the x402 reason codes.

The exceptions are defined here, in Python, and raised from the Rust core, which
maps its one error enum to them in one place (``src/python/errors.rs``). Every one
derives from :class:`X402Error`. (An argument of the wrong Python type is a plain
``TypeError``; an unknown option name, such as ``domain_types="x"`` or
``register_asset(mode="x")``, a plain ``ValueError``.)

**Which are ValueErrors.** Bad input is a ``ValueError``: every class here is also a
``ValueError`` except four. :class:`X402Error` itself (the base, which also covers
the three below); :class:`FacilitatorError`, :class:`FacilitatorUnavailable` and
:class:`SettlementOutcomeUnknown`, because they report a facilitator that gave no
usable answer, could not be reached, or settled with an unknown outcome, or a bug
(``code`` ``internal``): the input may have been fine, and a caller that catches
``ValueError`` to answer "400 bad request" must not catch them.

**Configuration mistakes.** One rule: a bad argument given to build a facilitator
or a facilitator client (``Facilitator`` or ``RemoteFacilitator``: URL, network,
timeouts, headers, factories, gas cap, log range) raises :class:`ConfigError`
(``code`` ``"config"``), which is both a :class:`FacilitatorError` and a
``ValueError``.

**Attributes.** ``message`` is the text; ``reason`` (where present) an x402 reason
code, one of :data:`Reason`; ``code`` the specific failure; ``path`` the field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal, TypeAlias

if TYPE_CHECKING:
    from fastx402._core import SettleResponse

__all__ = [
    "ConfigError",
    "FacilitatorError",
    "FacilitatorUnavailable",
    "HeaderTooLarge",
    "InvalidAddress",
    "InvalidAsset",
    "InvalidDigest",
    "InvalidKey",
    "InvalidNetwork",
    "InvalidPrice",
    "InvalidSignature",
    "InvalidTypedData",
    "ProtocolError",
    "Reason",
    "SettlementOutcomeUnknown",
    "X402Error",
]

#: Every x402 reason code fastx402 produces or accepts, as the official SDKs spell
#: them (the Rust ``x402::reason::Reason`` enum; ``fastx402._core.REASONS`` at run
#: time, which a test keeps equal to this list).
Reason: TypeAlias = Literal[
    "insufficient_funds",
    "invalid_network",
    "invalid_payload",
    "invalid_payment_requirements",
    "invalid_scheme",
    "invalid_x402_version",
    "invalid_transaction_state",
    "unexpected_verify_error",
    "unexpected_settle_error",
    "unsupported_scheme",
    "network_mismatch",
    "invalid_exact_evm_failed_to_get_network_config",
    "missing_eip712_domain",
    "invalid_exact_evm_payload_recipient_mismatch",
    "invalid_exact_evm_payload_authorization_value_mismatch",
    "invalid_exact_evm_payload_authorization_valid_before",
    "invalid_exact_evm_payload_authorization_valid_after",
    "invalid_exact_evm_payload_signature",
    "invalid_exact_evm_payload_undeployed_smart_wallet",
    "invalid_exact_evm_failed_to_verify_signature",
    "eip6492_factory_not_allowed",
    "invalid_exact_evm_nonce_already_used",
    "invalid_exact_evm_insufficient_balance",
    "invalid_exact_evm_token_name_mismatch",
    "invalid_exact_evm_token_version_mismatch",
    "invalid_exact_evm_eip3009_not_supported",
    "invalid_exact_evm_transaction_simulation_failed",
    "transaction_failed",
    "settlement_pending",
    "needs_onchain_verification",
    "payment_creation_failed",
    "invalid_permit2_spender",
    "invalid_permit2_recipient_mismatch",
    "permit2_deadline_expired",
    "permit2_not_yet_valid",
    "permit2_amount_mismatch",
    "permit2_token_mismatch",
    "invalid_permit2_signature",
    "upto_facilitator_mismatch",
    "invalid_upto_evm_scheme",
    "invalid_upto_evm_network_mismatch",
    "invalid_upto_evm_failed_to_get_network_config",
    "invalid_upto_evm_payload_settlement_exceeds_amount",
]


class X402Error(Exception):
    """Base of every fastx402 error. Not itself a ``ValueError`` (see the module)."""


class _ReasonAndCode(X402Error, ValueError):
    """Base of the input errors that carry ``(message, reason, code)``: ``reason`` the
    x402 reason code, ``code`` the specific failure. Subclasses set the defaults."""

    default_reason: ClassVar[Reason]
    default_code: ClassVar[str]
    message: str
    reason: str
    code: str

    def __init__(self, message: str, reason: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = self.default_reason if reason is None else reason
        self.code = self.default_code if code is None else code


class _Coded(X402Error):
    """Base of the facilitator errors that carry ``(message, code)``."""

    default_code: ClassVar[str]
    message: str
    code: str

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = self.default_code if code is None else code


class InvalidAddress(X402Error, ValueError):
    """Not ``0x`` + 40 hex digits, or mixed case that fails its EIP-55 checksum."""


class InvalidDigest(X402Error, ValueError):
    """A digest that is not exactly 32 bytes."""


class InvalidKey(X402Error, ValueError):
    """A private key that is malformed or outside [1, n)."""


class InvalidSignature(X402Error, ValueError):
    """A malformed, out-of-range, high-s or unrecoverable signature.

    ``reason`` is one of ``malformed``, ``bad_length``, ``bad_v``, ``r_out_of_range``,
    ``s_out_of_range``, ``high_s``, ``recovery_failed``, ``zero_address`` (a
    signature check code, not an x402 reason).
    """

    reason: str

    def __init__(self, message: str, reason: str = "malformed") -> None:
        super().__init__(message)
        self.reason = reason


class InvalidTypedData(X402Error, ValueError):
    """EIP-712 typed data that breaks a strict-v4 rule.

    ``path`` names where, e.g. ``message.to[1].wallet`` or ``types.Mail[2].type``.
    """

    path: str

    def __init__(self, message: str, path: str = "$") -> None:
        super().__init__(message)
        self.path = path


class ProtocolError(X402Error, ValueError):
    """An x402 message (header, payload, requirements, response) that breaks the protocol.

    ``reason`` is an x402 reason code (``invalid_payload``, ``invalid_x402_version``, …);
    ``path`` names the field (``accepted.extra.name``, ``payload.authorization.value``).
    """

    reason: str
    path: str

    def __init__(self, message: str, reason: str = "invalid_payload", path: str = "$") -> None:
        super().__init__(message)
        self.reason = reason
        self.path = path


class HeaderTooLarge(ProtocolError):
    """A header value over the size cap, refused before any decoding (HTTP 431)."""


class InvalidNetwork(_ReasonAndCode):
    """A network that is malformed, unknown (v1 name) or not EVM (CAIP-2 namespace).

    ``reason`` is the x402 reason code (``invalid_network``); ``code`` the specific
    failure (``unknown_network``, ``unsupported_namespace``, ``invalid_chain_id``, …).
    """

    default_reason = "invalid_network"
    default_code = "malformed"


class InvalidAsset(_ReasonAndCode):
    """An asset that is unknown on its network, or an invalid asset definition.

    ``reason`` is ``invalid_payment_requirements``; ``code`` the specific failure
    (``no_default_asset``, ``unknown_asset``, ``unknown_symbol``, ``asset_conflict``, …).
    """

    default_reason = "invalid_payment_requirements"
    default_code = "unknown_asset"


class InvalidPrice(_ReasonAndCode):
    """A price or amount that breaks the grammar or needs more precision than the asset has.

    ``reason`` is ``invalid_payment_requirements``; ``code`` the specific failure
    (``too_precise``, ``exponent``, ``negative``, ``separator``, ``symbol_mismatch``, …).
    """

    default_reason = "invalid_payment_requirements"
    default_code = "malformed"


class FacilitatorError(_Coded):
    """A facilitator could not be set up (``code`` ``config``: always the subclass
    :class:`ConfigError`), a remote facilitator call got no usable answer, or fastx402
    itself failed (``code`` ``internal``: a bug, such as a Rust panic, reported instead
    of crashing; no ``PanicException`` ever reaches Python from the facilitators).

    ``code`` names what went wrong: ``config``, ``journal_locked``, ``timeout``,
    ``connection_lost``, ``redirect``, ``http_status``, ``too_large``, ``malformed``,
    ``internal``, …; ``message`` says more (it never contains the configured headers).
    Not a ``ValueError`` (except :class:`ConfigError`).
    """

    default_code = "malformed"


class ConfigError(FacilitatorError, ValueError):
    """A bad argument given to ``Facilitator`` or ``RemoteFacilitator`` (URL, network,
    timeouts, headers, factories, gas cap, log range): ``code`` ``config``. Both a
    :class:`FacilitatorError` and a ``ValueError``."""

    default_code = "config"


class FacilitatorUnavailable(_Coded):
    """The facilitator could not be reached and the request was certainly not sent
    (connection refused, DNS, TLS, connect timeout): a settlement did not happen."""

    default_code = "unavailable"


class SettlementOutcomeUnknown(_Coded):
    """A settlement that may or may not have happened: timeout or connection lost after
    the request was sent, a 3xx or 5xx answer, garbage, or an inconsistent answer
    (success without a valid transaction, on the wrong network or for the wrong payer;
    failure naming a transaction). Never a failure: reconcile before asking the payer
    for a new payment.

    ``code`` names the cause; ``response`` is the facilitator's answer when one parsed.
    """

    default_code = "unknown"
    response: SettleResponse | None

    def __init__(
        self, message: str, code: str | None = None, response: SettleResponse | None = None
    ) -> None:
        super().__init__(message, code)
        self.response = response
