//! The body of `POST /verify` and `POST /settle`:
//! `{x402Version, paymentPayload, paymentRequirements}` (v1 and v2).

use serde_json::Value;

use crate::x402::codec;
use crate::x402::error::ProtocolError;
use crate::x402::fields::Obj;
use crate::x402::reason;
use crate::x402::types::{PaymentPayload, Requirements};

/// Largest request body accepted (a payment is ~1 KiB; ERC-6492 wrappers more).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A parsed facilitator request.
#[derive(Debug, Clone)]
pub struct FacilitatorRequest {
    pub version: u8,
    pub payload: PaymentPayload,
    pub requirements: Requirements,
}

impl FacilitatorRequest {
    /// Parses a request body strictly (size cap, no duplicate keys, no unknown keys).
    pub fn from_slice(body: &[u8]) -> Result<Self, ProtocolError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(ProtocolError::field(
                reason::INVALID_PAYLOAD,
                "$",
                format_args!(
                    "request body is {} bytes, over {MAX_BODY_BYTES}",
                    body.len()
                ),
            ));
        }
        Self::from_json(&codec::parse_json(body)?)
    }

    pub fn from_json(value: &Value) -> Result<Self, ProtocolError> {
        let obj = Obj::new(value, "$", reason::INVALID_PAYLOAD)?;
        obj.only(&["x402Version", "paymentPayload", "paymentRequirements"])?;
        let version = match obj.get("x402Version") {
            Some(Value::Number(n)) if n.as_str() == "1" => 1,
            Some(Value::Number(n)) if n.as_str() == "2" => 2,
            _ => {
                return Err(ProtocolError::field(
                    reason::INVALID_X402_VERSION,
                    "x402Version",
                    "must be the JSON integer 1 or 2",
                ))
            }
        };
        let payload = PaymentPayload::from_json(obj.get("paymentPayload").unwrap_or(&Value::Null))
            .map_err(|e| nest(e, "paymentPayload"))?;
        if payload.version != version {
            return Err(ProtocolError::field(
                reason::INVALID_X402_VERSION,
                "paymentPayload.x402Version",
                format_args!(
                    "payment is x402 v{}, the request says v{version}",
                    payload.version
                ),
            ));
        }
        let requirements = Requirements::from_json(
            obj.get("paymentRequirements").unwrap_or(&Value::Null),
            version,
        )
        .map_err(|e| nest(e, "paymentRequirements"))?;
        Ok(FacilitatorRequest {
            version,
            payload,
            requirements,
        })
    }
}

/// Prefixes an error's JSON path with the field it was found under.
fn nest(mut e: ProtocolError, under: &str) -> ProtocolError {
    e.path = match e.path.as_str() {
        "$" => under.to_owned(),
        p => format!("{under}.{}", p.trim_start_matches("$.")),
    };
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_oversized_unknown_keys_and_version_mismatch() {
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert!(FacilitatorRequest::from_slice(&big).is_err());
        let e = FacilitatorRequest::from_slice(br#"{"x402Version":2,"junk":1}"#).unwrap_err();
        assert_eq!(e.reason, reason::INVALID_PAYLOAD);
        let e = FacilitatorRequest::from_slice(br#"{"x402Version":3}"#).unwrap_err();
        assert_eq!(e.reason, reason::INVALID_X402_VERSION);
        let e = FacilitatorRequest::from_slice(
            br#"{"x402Version":1,"paymentPayload":{"x402Version":2},"paymentRequirements":{}}"#,
        )
        .unwrap_err();
        assert!(e.path.starts_with("paymentPayload"), "{e}");
    }
}
