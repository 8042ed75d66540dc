//! One entry point per side for every payment kind fastx402 speaks: `exact` over
//! EIP-3009, `exact` over Permit2, and `upto` (Permit2). Callers never pick the
//! module; the requirements do.

use super::create::CreateOptions;
use super::error::ProtocolError;
use super::permit2::{self, Permit2Kind};
use super::reason;
use super::schemes::{exact, upto};
use super::types::{PaymentPayload, PaymentRequired, Requirements};
use super::verify::{Verification, VerifyOptions};
use crate::crypto::ecdsa::SecretKey;

/// The offer a client should pay: the first EIP-3009 `exact` entry (no allowance
/// needed), else the first Permit2 entry (`exact` or `upto`), in the server's order.
pub fn select_requirements(required: &PaymentRequired) -> Result<&Requirements, ProtocolError> {
    exact::eip3009::select_requirements(required)
        .or_else(|_| permit2::select_permit2_requirements(required))
        .map_err(|_| {
            ProtocolError::field(
                reason::UNSUPPORTED_SCHEME,
                "accepts",
                "no payment option fastx402 can pay (exact over EIP-3009 or Permit2, upto) is offered",
            )
        })
}

/// Signs a payment for `requirements`, whichever kind they ask for.
pub fn create_payment(
    required: &PaymentRequired,
    requirements: &Requirements,
    signer: &SecretKey,
    options: &CreateOptions,
) -> Result<PaymentPayload, ProtocolError> {
    match Permit2Kind::of(requirements) {
        Some(Permit2Kind::Exact) => {
            exact::permit2::create_payment(required, requirements, signer, options)
        }
        Some(Permit2Kind::Upto) => upto::create_payment(required, requirements, signer, options),
        None => exact::eip3009::create_payment(required, requirements, signer, options),
    }
}

/// Verifies a payment locally against the requirements it claims to meet.
pub fn verify_payment(
    payload: &PaymentPayload,
    requirements: &Requirements,
    options: &VerifyOptions,
) -> Verification {
    match Permit2Kind::of(requirements) {
        Some(Permit2Kind::Exact) => exact::permit2::verify_payment(payload, requirements, options),
        Some(Permit2Kind::Upto) => upto::verify_payment(payload, requirements, options),
        None => exact::eip3009::verify_payment(payload, requirements, options),
    }
}
