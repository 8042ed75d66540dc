//! x402 reason strings, exactly as the official SDKs and the spec spell them.
//! fastx402 answers with the official (facilitator) vocabulary and accepts both.
//!
//! Each reason is written once, in the [`reasons!`] table below, which makes the
//! [`Reason`] enum, one `&'static str` constant per reason (what the rest of the
//! crate compares and stores) and [`ALL`]. Python gets the same list as
//! `fastx402._core.REASONS` and the `fastx402.errors.Reason` `Literal`.

/// The reason table: `Variant = CONSTANT => "wire string"`, with doc comments.
macro_rules! reasons {
    ($($(#[$doc:meta])* $variant:ident = $name:ident => $text:literal,)*) => {
        /// An x402 reason code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Reason {
            $($(#[$doc])* $variant,)*
        }

        impl Reason {
            /// Every reason, in table order.
            pub const ALL: &'static [Reason] = &[$(Reason::$variant,)*];

            /// The reason as the wire spells it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Reason::$variant => $text,)*
                }
            }

            /// The reason a wire string names, if any.
            pub fn parse(text: &str) -> Option<Reason> {
                Reason::ALL.iter().copied().find(|r| r.as_str() == text)
            }
        }

        impl std::fmt::Display for Reason {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $($(#[$doc])* pub const $name: &str = Reason::$variant.as_str();)*

        /// Every reason fastx402 can produce or accepts from a peer, for validation of
        /// answers from remote facilitators.
        pub const ALL: &[&str] = &[$($name,)*];
    };
}

reasons! {
    // Spec vocabulary (x402 specification, error codes).
    InsufficientFunds = INSUFFICIENT_FUNDS => "insufficient_funds",
    InvalidNetwork = INVALID_NETWORK => "invalid_network",
    InvalidPayload = INVALID_PAYLOAD => "invalid_payload",
    InvalidPaymentRequirements = INVALID_PAYMENT_REQUIREMENTS => "invalid_payment_requirements",
    InvalidScheme = INVALID_SCHEME => "invalid_scheme",
    InvalidX402Version = INVALID_X402_VERSION => "invalid_x402_version",
    InvalidTransactionState = INVALID_TRANSACTION_STATE => "invalid_transaction_state",
    UnexpectedVerifyError = UNEXPECTED_VERIFY_ERROR => "unexpected_verify_error",
    UnexpectedSettleError = UNEXPECTED_SETTLE_ERROR => "unexpected_settle_error",

    // Official EVM facilitator vocabulary (x402 2.25.0 `mechanisms/evm/constants.py`).
    UnsupportedScheme = UNSUPPORTED_SCHEME => "unsupported_scheme",
    NetworkMismatch = NETWORK_MISMATCH => "network_mismatch",
    FailedToGetNetworkConfig = FAILED_TO_GET_NETWORK_CONFIG =>
        "invalid_exact_evm_failed_to_get_network_config",
    MissingEip712Domain = MISSING_EIP712_DOMAIN => "missing_eip712_domain",
    RecipientMismatch = RECIPIENT_MISMATCH => "invalid_exact_evm_payload_recipient_mismatch",
    ValueMismatch = VALUE_MISMATCH => "invalid_exact_evm_payload_authorization_value_mismatch",
    ValidBefore = VALID_BEFORE => "invalid_exact_evm_payload_authorization_valid_before",
    ValidAfter = VALID_AFTER => "invalid_exact_evm_payload_authorization_valid_after",
    InvalidSignature = INVALID_SIGNATURE => "invalid_exact_evm_payload_signature",
    UndeployedSmartWallet = UNDEPLOYED_SMART_WALLET =>
        "invalid_exact_evm_payload_undeployed_smart_wallet",
    FailedToVerifySignature = FAILED_TO_VERIFY_SIGNATURE =>
        "invalid_exact_evm_failed_to_verify_signature",
    FactoryNotAllowed = FACTORY_NOT_ALLOWED => "eip6492_factory_not_allowed",
    NonceAlreadyUsed = NONCE_ALREADY_USED => "invalid_exact_evm_nonce_already_used",
    InsufficientBalance = INSUFFICIENT_BALANCE => "invalid_exact_evm_insufficient_balance",
    TokenNameMismatch = TOKEN_NAME_MISMATCH => "invalid_exact_evm_token_name_mismatch",
    TokenVersionMismatch = TOKEN_VERSION_MISMATCH => "invalid_exact_evm_token_version_mismatch",
    Eip3009NotSupported = EIP3009_NOT_SUPPORTED => "invalid_exact_evm_eip3009_not_supported",
    TransactionSimulationFailed = TRANSACTION_SIMULATION_FAILED =>
        "invalid_exact_evm_transaction_simulation_failed",
    TransactionFailed = TRANSACTION_FAILED => "transaction_failed",
    /// Settle answered before the outcome is known: `success:false` with the
    /// transaction hash; ask again (x402 2.25 `ERR_SETTLEMENT_PENDING`).
    SettlementPending = SETTLEMENT_PENDING => "settlement_pending",

    // fastx402's own.
    /// Local verification only (`verify_payment` without a chain): the payment passed every
    /// local check but its signature is not a plain EOA signature (ERC-6492 or EIP-1271 smart
    /// wallet), so only chain state can authenticate it. The payment is NOT valid until a
    /// facilitator has verified it; no facilitator answers with this reason.
    NeedsOnchainVerification = NEEDS_ONCHAIN_VERIFICATION => "needs_onchain_verification",
    /// Client side only: a payment could not be created (the OS could not supply
    /// randomness for its nonce). Not a verification verdict.
    PaymentCreationFailed = PAYMENT_CREATION_FAILED => "payment_creation_failed",

    // Permit2 (exact with assetTransferMethod = permit2) and upto.
    Permit2InvalidSpender = PERMIT2_INVALID_SPENDER => "invalid_permit2_spender",
    Permit2RecipientMismatch = PERMIT2_RECIPIENT_MISMATCH => "invalid_permit2_recipient_mismatch",
    Permit2DeadlineExpired = PERMIT2_DEADLINE_EXPIRED => "permit2_deadline_expired",
    Permit2NotYetValid = PERMIT2_NOT_YET_VALID => "permit2_not_yet_valid",
    Permit2AmountMismatch = PERMIT2_AMOUNT_MISMATCH => "permit2_amount_mismatch",
    Permit2TokenMismatch = PERMIT2_TOKEN_MISMATCH => "permit2_token_mismatch",
    Permit2InvalidSignature = PERMIT2_INVALID_SIGNATURE => "invalid_permit2_signature",
    UptoFacilitatorMismatch = UPTO_FACILITATOR_MISMATCH => "upto_facilitator_mismatch",
    UptoInvalidScheme = UPTO_INVALID_SCHEME => "invalid_upto_evm_scheme",
    UptoNetworkMismatch = UPTO_NETWORK_MISMATCH => "invalid_upto_evm_network_mismatch",
    UptoFailedToGetNetworkConfig = UPTO_FAILED_TO_GET_NETWORK_CONFIG =>
        "invalid_upto_evm_failed_to_get_network_config",
    UptoSettlementExceedsAmount = UPTO_SETTLEMENT_EXCEEDS_AMOUNT =>
        "invalid_upto_evm_payload_settlement_exceeds_amount",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_once_and_parsed_back() {
        let mut seen = std::collections::HashSet::new();
        for (reason, text) in Reason::ALL.iter().zip(ALL) {
            assert_eq!(reason.as_str(), *text);
            assert!(seen.insert(*text), "{text} twice");
            assert_eq!(Reason::parse(text), Some(*reason));
        }
        assert_eq!(Reason::ALL.len(), ALL.len());
        assert_eq!(Reason::parse("no_such_reason"), None);
    }
}
