//! The `exact` scheme over Permit2 (`extra.assetTransferMethod == "permit2"`): the
//! payer signs a `PermitWitnessTransferFrom` with witness `{to, validAfter}` whose
//! spender is the x402 exact proxy. The machinery, shared with `upto`, is in
//! [`crate::x402::permit2`]; this module is the scheme's entry points.

use crate::crypto::ecdsa::SecretKey;
use crate::x402::create::CreateOptions;
use crate::x402::error::ProtocolError;
use crate::x402::permit2::{self, Permit2Kind};
use crate::x402::reason;
use crate::x402::types::{PaymentPayload, PaymentRequired, Requirements};
use crate::x402::verify::{Verification, VerifyOptions};

/// Whether `requirements` ask for `exact` over Permit2.
pub fn accepts(requirements: &Requirements) -> bool {
    Permit2Kind::of(requirements) == Some(Permit2Kind::Exact)
}

/// The first x402 v2 `exact` Permit2 entry of `accepts`.
pub fn select_requirements(required: &PaymentRequired) -> Result<&Requirements, ProtocolError> {
    super::super::first_v2(
        required,
        accepts,
        "no x402 v2 'exact' option with assetTransferMethod permit2 is offered",
    )
}

/// Signs an `exact` Permit2 payment (see [`permit2::create_permit2_payment`]).
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
            format_args!(
                "this signer pays 'exact' with assetTransferMethod permit2, not {:?}",
                requirements.scheme
            ),
        ));
    }
    permit2::create_permit2_payment(required, requirements, signer, options)
}

/// Verifies an `exact` Permit2 payment locally (see
/// [`permit2::verify_permit2_payment_with`] for the order and the reasons).
pub fn verify_payment(
    payload: &PaymentPayload,
    requirements: &Requirements,
    options: &VerifyOptions,
) -> Verification {
    if !accepts(requirements) {
        return Verification::invalid(
            reason::UNSUPPORTED_SCHEME,
            format!(
                "requirements ({:?}) do not offer 'exact' with assetTransferMethod permit2",
                requirements.scheme
            ),
            payload.payer(),
        );
    }
    permit2::verify_permit2_payment(payload, requirements, options)
}
