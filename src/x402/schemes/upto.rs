//! The `upto` scheme: the payer permits up to `amount` (always over Permit2, witness
//! `{to, facilitator, validAfter}`, spender the x402 upto proxy), and the server
//! settles what it charged, at most that. The Permit2 machinery, shared with `exact`,
//! is in [`crate::x402::permit2`]; this module is the scheme's entry points and the
//! pure part of its settlement.

use crate::crypto::address::Address;
use crate::crypto::ecdsa::SecretKey;
use crate::num::U256;
use crate::x402::create::CreateOptions;
use crate::x402::error::ProtocolError;
use crate::x402::permit2::{self, Permit2Kind};
use crate::x402::reason;
use crate::x402::types::{PaymentPayload, PaymentRequired, Requirements};
use crate::x402::verify::{Verification, VerifyOptions};

/// The scheme's wire name.
pub const SCHEME: &str = super::UPTO;

/// Whether `requirements` ask for `upto` (whose `assetTransferMethod`, if present,
/// must be `permit2`).
pub fn accepts(requirements: &Requirements) -> bool {
    Permit2Kind::of(requirements) == Some(Permit2Kind::Upto)
}

/// The first x402 v2 `upto` entry of `accepts`.
pub fn select_requirements(required: &PaymentRequired) -> Result<&Requirements, ProtocolError> {
    super::first_v2(required, accepts, "no x402 v2 'upto' option is offered")
}

/// Signs an `upto` payment for the maximum `amount` (see
/// [`permit2::create_permit2_payment`]); `extra.facilitatorAddress` is required.
pub fn create_payment(
    required: &PaymentRequired,
    requirements: &Requirements,
    signer: &SecretKey,
    options: &CreateOptions,
) -> Result<PaymentPayload, ProtocolError> {
    if !accepts(requirements) {
        return Err(ProtocolError::field(
            reason::UNSUPPORTED_SCHEME,
            "scheme",
            format_args!("this signer pays 'upto', not {:?}", requirements.scheme),
        ));
    }
    permit2::create_permit2_payment(required, requirements, signer, options)
}

/// Verifies an `upto` payment locally; the signed `witness.facilitator` must equal
/// `extra.facilitatorAddress`. A facilitator calls [`verify_payment_with`].
pub fn verify_payment(
    payload: &PaymentPayload,
    requirements: &Requirements,
    options: &VerifyOptions,
) -> Verification {
    verify_payment_with(payload, requirements, options, &[])
}

/// [`verify_payment`] as the facilitator owning `facilitator_addresses`:
/// `witness.facilitator` must also be one of them (an empty slice skips that check).
pub fn verify_payment_with(
    payload: &PaymentPayload,
    requirements: &Requirements,
    options: &VerifyOptions,
    facilitator_addresses: &[Address],
) -> Verification {
    if !accepts(requirements) {
        return Verification::invalid(
            reason::UPTO_INVALID_SCHEME,
            format!(
                "requirements ({:?}) do not offer 'upto'",
                requirements.scheme
            ),
            payload.payer(),
        );
    }
    permit2::verify_permit2_payment_with(payload, requirements, options, facilitator_addresses)
}

/// The amount an `upto` payment settles: `requirements_amount` is the maximum the
/// server offered (and the payer permitted), `actual` what the handler charged
/// (`Settlement-Overrides`). `Ok(None)`: charge nothing, send no transaction.
pub fn settle_amount(
    requirements_amount: U256,
    permitted_amount: U256,
    actual: U256,
) -> Result<Option<U256>, ProtocolError> {
    if permitted_amount != requirements_amount {
        return Err(ProtocolError::field(
            reason::PERMIT2_AMOUNT_MISMATCH,
            "payload.permit2Authorization.permitted.amount",
            format_args!(
                "permitted {permitted_amount}, the requirements' maximum is {requirements_amount}"
            ),
        ));
    }
    if permitted_amount < actual {
        return Err(ProtocolError::field(
            reason::UPTO_SETTLEMENT_EXCEEDS_AMOUNT,
            "amount",
            format_args!("settling {actual} exceeds the permitted {permitted_amount}"),
        ));
    }
    Ok((!actual.is_zero()).then_some(actual))
}

#[cfg(test)]
mod tests;
