//! Header values: standard padded base64 of compact JSON out; in, a size cap
//! before any decoding, then the standard or URL-safe alphabet (padded or not,
//! canonical trailing bits, nothing else), then strict JSON.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::Value;

use super::error::{ErrorKind, ProtocolError};
use super::reason;
use crate::json::parse_strict;

/// Default cap on a header value, in bytes, checked before decoding.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 8 * 1024;

const LENIENT_PADDING: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(false);
const STANDARD_DECODER: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT_PADDING);
const URL_SAFE_DECODER: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT_PADDING);

/// Encodes a JSON value as a header: standard, padded base64 of compact JSON.
pub fn encode_header(value: &Value) -> String {
    STANDARD.encode(value.to_string())
}

/// Base64-decodes a header value after checking its size. One alphabet per value:
/// `+`/`/` (standard) or `-`/`_` (URL-safe), never both.
pub fn decode_base64(header: &str, max_bytes: usize) -> Result<Vec<u8>, ProtocolError> {
    if header.len() > max_bytes {
        return Err(ProtocolError::new(
            ErrorKind::TooLarge,
            reason::INVALID_PAYLOAD,
            "$",
            format_args!(
                "header is {} bytes, over the {max_bytes}-byte limit",
                header.len()
            ),
        ));
    }
    let bytes = header.as_bytes();
    // One branch-free pass (it vectorizes; two early-exit `any` scans did not): a 1 MiB header
    // allowed by a raised cap is scanned in tens of microseconds.
    let (mut standard, mut url_safe) = (0u8, 0u8);
    for &c in bytes {
        standard |= u8::from(c == b'+') | u8::from(c == b'/');
        url_safe |= u8::from(c == b'-') | u8::from(c == b'_');
    }
    let (standard, url_safe) = (standard != 0, url_safe != 0);
    let engine = match (standard, url_safe) {
        (true, true) => {
            return Err(base64_error("mixes the standard and URL-safe alphabets"));
        }
        (false, true) => &URL_SAFE_DECODER,
        _ => &STANDARD_DECODER,
    };
    if header.is_empty() {
        return Err(base64_error("is empty"));
    }
    engine
        .decode(bytes)
        .map_err(|e| base64_error(format_args!("is not valid base64: {e}")))
}

fn base64_error(what: impl std::fmt::Display) -> ProtocolError {
    ProtocolError::new(
        ErrorKind::Base64,
        reason::INVALID_PAYLOAD,
        "$",
        format_args!("header {what}"),
    )
}

/// Decodes a header value into strict JSON (no duplicate keys, depth ≤ 128).
pub fn decode_header_json(header: &str, max_bytes: usize) -> Result<Value, ProtocolError> {
    let bytes = decode_base64(header, max_bytes)?;
    parse_json(&bytes)
}

/// Parses a JSON body or decoded header strictly.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ProtocolError> {
    parse_strict(bytes).map_err(|e| {
        ProtocolError::new(
            ErrorKind::Json,
            reason::INVALID_PAYLOAD,
            "$",
            format_args!("invalid JSON: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_alphabets() {
        let v: Value = serde_json::from_str(r#"{"a":"~~~???>>>","b":1}"#).unwrap();
        let h = encode_header(&v);
        assert!(h.ends_with('=') || h.len().is_multiple_of(4));
        assert_eq!(decode_header_json(&h, 8192).unwrap(), v);
        let url = h.replace('+', "-").replace('/', "_");
        assert_eq!(decode_header_json(&url, 8192).unwrap(), v);
        let unpadded = h.trim_end_matches('=');
        assert_eq!(decode_header_json(unpadded, 8192).unwrap(), v);
    }

    #[test]
    fn rejects() {
        let h = encode_header(&serde_json::json!({"x": "??>>"}));
        let kind = |s: &str| decode_header_json(s, 8192).unwrap_err().kind;
        assert_eq!(kind(&format!("{h}=")), ErrorKind::Base64); // extra padding
        assert_eq!(kind(&format!(" {h}")), ErrorKind::Base64);
        assert_eq!(kind(&format!("{h}\n")), ErrorKind::Base64);
        assert_eq!(kind(""), ErrorKind::Base64);
        assert_eq!(kind("QR=="), ErrorKind::Base64); // non-canonical trailing bits
        assert_eq!(kind("ab+-"), ErrorKind::Base64); // mixed alphabets
        assert_eq!(kind(&STANDARD.encode(br#"{"a":1,"a":2}"#)), ErrorKind::Json);
        let big = "A".repeat(8193);
        assert_eq!(
            decode_header_json(&big, 8192).unwrap_err().kind,
            ErrorKind::TooLarge
        );
    }
}
