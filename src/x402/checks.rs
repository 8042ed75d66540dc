//! fastx402's checks beyond the official ones, shared by every scheme. Each returns
//! the reason and message of the first failure; the schemes decide where in their
//! official order these run.

use super::reason;
use super::types::{PaymentPayload, Requirements};
use super::verify::VerifyOptions;
use crate::crypto::address::Address;
use crate::num::U256;

pub type Failure = (&'static str, String);

/// `accepted` (v2) must state exactly the offered terms.
pub fn accepted_matches(
    payload: &PaymentPayload,
    requirements: &Requirements,
) -> Result<(), Failure> {
    match &payload.accepted {
        Some(accepted) if !accepted.same_terms(requirements) => Err((
            reason::INVALID_PAYMENT_REQUIREMENTS,
            "accepted does not equal the offered requirements".into(),
        )),
        _ => Ok(()),
    }
}

/// Neither the payer, nor the payee, nor the asset may be the zero address.
pub fn no_zero_addresses(
    from: &Address,
    from_field: &str,
    requirements: &Requirements,
) -> Result<(), Failure> {
    if from.is_zero() {
        return Err((
            reason::INVALID_PAYLOAD,
            format!("{from_field} is the zero address"),
        ));
    }
    for (field, address) in [
        ("payTo", &requirements.pay_to),
        ("asset", &requirements.asset),
    ] {
        if address.is_zero() {
            return Err((
                reason::INVALID_PAYMENT_REQUIREMENTS,
                format!("{field} is the zero address"),
            ));
        }
    }
    Ok(())
}

/// An expiry (`validBefore`, `deadline`) at most `maxTimeoutSeconds` + skew ahead: a
/// signature must not stay spendable for longer than the seller asked.
pub fn within_horizon(
    expiry: &U256,
    field: &str,
    requirements: &Requirements,
    options: &VerifyOptions,
    failure_reason: &'static str,
) -> Result<(), Failure> {
    let horizon = options
        .now
        .saturating_add(requirements.max_timeout_seconds)
        .saturating_add(options.skew_seconds);
    if U256::from_u64(horizon) < *expiry {
        return Err((
            failure_reason,
            format!(
                "{field} {expiry} is more than maxTimeoutSeconds ({}) + {} s ahead",
                requirements.max_timeout_seconds, options.skew_seconds
            ),
        ));
    }
    Ok(())
}

/// When the verifier names a resource URL, the payment must be for exactly it: a v2
/// payment's `resource.url`, or for v1 (whose payment names no resource) the `resource`
/// of the v1 requirements it is verified against.
///
/// Advisory only: `resource` is not signed, so anyone holding a payment header can rewrite
/// it. This refuses honest mismatches and a seller's mistakes (a payment made for, or
/// requirements taken from, another route), not an attacker; routes that must not accept
/// each other's payments need distinct terms (`payTo`, `amount`, `asset`), and the replay
/// key is what stops a payment from being used twice.
pub fn bound_to_resource(
    payload: &PaymentPayload,
    requirements: &Requirements,
    options: &VerifyOptions,
) -> Result<(), Failure> {
    let Some(expected) = &options.resource_url else {
        return Ok(());
    };
    if payload.version == 1 {
        return match &requirements.resource {
            Some(url) if url == expected => Ok(()),
            Some(url) => Err((
                reason::INVALID_PAYMENT_REQUIREMENTS,
                format!("requirements are for resource {url:?}, not {expected:?}"),
            )),
            None => Err((
                reason::INVALID_PAYMENT_REQUIREMENTS,
                "requirements name no resource".into(),
            )),
        };
    }
    match &payload.resource {
        Some(r) if &r.url == expected => Ok(()),
        Some(r) => Err((
            reason::INVALID_PAYLOAD,
            format!("payment is for resource {:?}, not {expected:?}", r.url),
        )),
        None => Err((reason::INVALID_PAYLOAD, "payment names no resource".into())),
    }
}
