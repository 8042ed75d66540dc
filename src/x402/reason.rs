//! x402 reason strings, exactly as the official SDKs and the spec spell them.
//! fastx402 answers with the official (facilitator) vocabulary and accepts both.

// Spec vocabulary (x402 specification, error codes).
pub const INSUFFICIENT_FUNDS: &str = "insufficient_funds";
pub const INVALID_NETWORK: &str = "invalid_network";
pub const INVALID_PAYLOAD: &str = "invalid_payload";
pub const INVALID_PAYMENT_REQUIREMENTS: &str = "invalid_payment_requirements";
pub const INVALID_SCHEME: &str = "invalid_scheme";
pub const INVALID_X402_VERSION: &str = "invalid_x402_version";
pub const INVALID_TRANSACTION_STATE: &str = "invalid_transaction_state";
pub const UNEXPECTED_VERIFY_ERROR: &str = "unexpected_verify_error";
pub const UNEXPECTED_SETTLE_ERROR: &str = "unexpected_settle_error";

// Official EVM facilitator vocabulary (x402 2.25.0 `mechanisms/evm/constants.py`).
pub const UNSUPPORTED_SCHEME: &str = "unsupported_scheme";
pub const NETWORK_MISMATCH: &str = "network_mismatch";
pub const FAILED_TO_GET_NETWORK_CONFIG: &str = "invalid_exact_evm_failed_to_get_network_config";
pub const MISSING_EIP712_DOMAIN: &str = "missing_eip712_domain";
pub const RECIPIENT_MISMATCH: &str = "invalid_exact_evm_payload_recipient_mismatch";
pub const VALUE_MISMATCH: &str = "invalid_exact_evm_payload_authorization_value_mismatch";
pub const VALID_BEFORE: &str = "invalid_exact_evm_payload_authorization_valid_before";
pub const VALID_AFTER: &str = "invalid_exact_evm_payload_authorization_valid_after";
pub const INVALID_SIGNATURE: &str = "invalid_exact_evm_payload_signature";
pub const UNDEPLOYED_SMART_WALLET: &str = "invalid_exact_evm_payload_undeployed_smart_wallet";
pub const FAILED_TO_VERIFY_SIGNATURE: &str = "invalid_exact_evm_failed_to_verify_signature";
pub const FACTORY_NOT_ALLOWED: &str = "eip6492_factory_not_allowed";
pub const NONCE_ALREADY_USED: &str = "invalid_exact_evm_nonce_already_used";
pub const INSUFFICIENT_BALANCE: &str = "invalid_exact_evm_insufficient_balance";
pub const TOKEN_NAME_MISMATCH: &str = "invalid_exact_evm_token_name_mismatch";
pub const TOKEN_VERSION_MISMATCH: &str = "invalid_exact_evm_token_version_mismatch";
pub const EIP3009_NOT_SUPPORTED: &str = "invalid_exact_evm_eip3009_not_supported";
pub const TRANSACTION_SIMULATION_FAILED: &str = "invalid_exact_evm_transaction_simulation_failed";
pub const TRANSACTION_FAILED: &str = "transaction_failed";
/// Settle answered before the outcome is known: `success:false` with the
/// transaction hash; ask again (x402 2.25 `ERR_SETTLEMENT_PENDING`).
pub const SETTLEMENT_PENDING: &str = "settlement_pending";

// fastx402's own.
/// Local verification only (`verify_payment` without a chain): the payment passed every
/// local check but its signature is not a plain EOA signature (ERC-6492 or EIP-1271 smart
/// wallet), so only chain state can authenticate it. The payment is NOT valid until a
/// facilitator has verified it; no facilitator answers with this reason.
pub const NEEDS_ONCHAIN_VERIFICATION: &str = "needs_onchain_verification";
/// Client side only: a payment could not be created (the OS could not supply
/// randomness for its nonce). Not a verification verdict.
pub const PAYMENT_CREATION_FAILED: &str = "payment_creation_failed";

// Permit2 (exact with assetTransferMethod = permit2) and upto.
pub const PERMIT2_INVALID_SPENDER: &str = "invalid_permit2_spender";
pub const PERMIT2_RECIPIENT_MISMATCH: &str = "invalid_permit2_recipient_mismatch";
pub const PERMIT2_DEADLINE_EXPIRED: &str = "permit2_deadline_expired";
pub const PERMIT2_NOT_YET_VALID: &str = "permit2_not_yet_valid";
pub const PERMIT2_AMOUNT_MISMATCH: &str = "permit2_amount_mismatch";
pub const PERMIT2_TOKEN_MISMATCH: &str = "permit2_token_mismatch";
pub const PERMIT2_INVALID_SIGNATURE: &str = "invalid_permit2_signature";
pub const UPTO_FACILITATOR_MISMATCH: &str = "upto_facilitator_mismatch";
pub const UPTO_INVALID_SCHEME: &str = "invalid_upto_evm_scheme";
pub const UPTO_NETWORK_MISMATCH: &str = "invalid_upto_evm_network_mismatch";
pub const UPTO_FAILED_TO_GET_NETWORK_CONFIG: &str = "invalid_upto_evm_failed_to_get_network_config";
pub const UPTO_SETTLEMENT_EXCEEDS_AMOUNT: &str =
    "invalid_upto_evm_payload_settlement_exceeds_amount";

/// Every reason fastx402 can produce or accepts from a peer, for validation of
/// answers from remote facilitators.
pub const ALL: &[&str] = &[
    INSUFFICIENT_FUNDS,
    INVALID_NETWORK,
    INVALID_PAYLOAD,
    INVALID_PAYMENT_REQUIREMENTS,
    INVALID_SCHEME,
    INVALID_X402_VERSION,
    INVALID_TRANSACTION_STATE,
    UNEXPECTED_VERIFY_ERROR,
    UNEXPECTED_SETTLE_ERROR,
    UNSUPPORTED_SCHEME,
    NETWORK_MISMATCH,
    FAILED_TO_GET_NETWORK_CONFIG,
    MISSING_EIP712_DOMAIN,
    RECIPIENT_MISMATCH,
    VALUE_MISMATCH,
    VALID_BEFORE,
    VALID_AFTER,
    INVALID_SIGNATURE,
    UNDEPLOYED_SMART_WALLET,
    FAILED_TO_VERIFY_SIGNATURE,
    FACTORY_NOT_ALLOWED,
    NONCE_ALREADY_USED,
    INSUFFICIENT_BALANCE,
    TOKEN_NAME_MISMATCH,
    TOKEN_VERSION_MISMATCH,
    EIP3009_NOT_SUPPORTED,
    TRANSACTION_SIMULATION_FAILED,
    TRANSACTION_FAILED,
    SETTLEMENT_PENDING,
    NEEDS_ONCHAIN_VERIFICATION,
    PAYMENT_CREATION_FAILED,
    PERMIT2_INVALID_SPENDER,
    PERMIT2_RECIPIENT_MISMATCH,
    PERMIT2_DEADLINE_EXPIRED,
    PERMIT2_NOT_YET_VALID,
    PERMIT2_AMOUNT_MISMATCH,
    PERMIT2_TOKEN_MISMATCH,
    PERMIT2_INVALID_SIGNATURE,
    UPTO_FACILITATOR_MISMATCH,
    UPTO_INVALID_SCHEME,
    UPTO_NETWORK_MISMATCH,
    UPTO_FAILED_TO_GET_NETWORK_CONFIG,
    UPTO_SETTLEMENT_EXCEEDS_AMOUNT,
];
