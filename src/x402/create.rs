//! What every scheme's payment creation shares: the client's options, the nonce
//! (from the OS CSPRNG unless given), the x402 v2 envelope `{x402Version, payload,
//! accepted, resource?, extensions?}`, and creation's own error (never a verify one).

use serde_json::{json, Value};

use super::error::{ErrorKind, ProtocolError};
use super::reason;
use super::types::{PaymentPayload, PaymentRequired, Requirements, SchemePayload};

/// Client choices; `nonce` is drawn from the OS CSPRNG unless given (tests).
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub now: u64,
    pub nonce: Option<[u8; 32]>,
}

/// A failure to build a payment that is no fault of the requirements (the OS could not
/// supply randomness): [`ErrorKind::Create`], reason [`reason::PAYMENT_CREATION_FAILED`].
pub fn creation_error(path: &str, message: impl std::fmt::Display) -> ProtocolError {
    ProtocolError::new(
        ErrorKind::Create,
        reason::PAYMENT_CREATION_FAILED,
        path,
        message,
    )
}

/// The 32-byte nonce of a new payment: `options.nonce`, else 32 bytes from the OS CSPRNG.
pub fn nonce(options: &CreateOptions) -> Result<[u8; 32], ProtocolError> {
    if let Some(n) = options.nonce {
        return Ok(n);
    }
    let mut n = [0u8; 32];
    getrandom::fill(&mut n)
        .map_err(|e| creation_error("nonce", format_args!("OS randomness failed: {e}")))?;
    Ok(n)
}

/// The x402 v2 envelope of a payment for `requirements` (one entry of `required`): the
/// scheme's `payload` JSON, `accepted` echoing the server's JSON unchanged, and the
/// offer's `resource` when it names one. Key order as the official Python SDK serializes
/// its model (the TypeScript client puts `resource` before `accepted`; both parse either).
pub fn v2_payment(
    required: &PaymentRequired,
    requirements: &Requirements,
    payload_json: Value,
    payload: SchemePayload,
) -> PaymentPayload {
    let mut raw = json!({"x402Version": 2, "payload": payload_json, "accepted": requirements.raw});
    if let Some(resource) = &required.resource {
        raw["resource"] = resource.raw.clone();
    }
    PaymentPayload {
        version: 2,
        scheme: requirements.scheme.clone(),
        network: requirements.network.clone(),
        accepted: Some(requirements.clone()),
        payload,
        resource: required.resource.clone(),
        extensions: None,
        raw,
    }
}
