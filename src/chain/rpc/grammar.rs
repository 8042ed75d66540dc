//! The execution-API grammar of answers: quantities (`0x0` or `0x` + lowercase
//! hex without leading zeros), data and hashes as lowercase hex of the right
//! length, and small helpers to read JSON objects strictly.

use serde_json::{Map, Value};

use crate::crypto::address::Address;
use crate::crypto::hexutil;
use crate::num::U256;

// ---------------------------------------------------------------------------
// Strict hex grammar of the execution APIs
// ---------------------------------------------------------------------------

pub(super) fn expect_str<'a>(v: &'a Value, what: &str) -> Result<&'a str, String> {
    v.as_str()
        .ok_or_else(|| format!("{what}: expected a hex string, got {}", short_json(v)))
}

pub(super) fn short_json(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(80) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s,
    }
}

/// `0x0` or `0x[1-9a-f][0-9a-f]*`: the digits after `0x`.
pub(super) fn quantity_digits<'a>(v: &'a Value, what: &str) -> Result<&'a [u8], String> {
    let s = expect_str(v, what)?;
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| format!("{what}: quantity {s:?} lacks the 0x prefix"))?
        .as_bytes();
    if digits.is_empty() {
        return Err(format!("{what}: empty quantity \"0x\""));
    }
    if let Some(i) = digits
        .iter()
        .position(|c| !matches!(c, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(format!(
            "{what}: quantity {s:?} has a non-lowercase-hex digit at offset {}",
            i + 2
        ));
    }
    if digits.len() > 1 && digits[0] == b'0' {
        return Err(format!("{what}: quantity {s:?} has leading zeros"));
    }
    Ok(digits)
}

/// A strict hex quantity that fits a `u64`.
pub fn parse_quantity_u64(v: &Value, what: &str) -> Result<u64, String> {
    let digits = quantity_digits(v, what)?;
    if digits.len() > 16 {
        return Err(format!("{what}: quantity does not fit 64 bits"));
    }
    Ok(digits.iter().fold(0u64, |acc, &c| {
        acc << 4 | u64::from((c as char).to_digit(16).expect("checked hex"))
    }))
}

/// A strict hex quantity of at most 256 bits.
pub fn parse_quantity_u256(v: &Value, what: &str) -> Result<U256, String> {
    let digits = quantity_digits(v, what)?;
    if digits.len() > 64 {
        return Err(format!("{what}: quantity does not fit 256 bits"));
    }
    U256::from_hex_digits(digits).map_err(|e| format!("{what}: {e}"))
}

/// `0x` + an even number of lowercase hex digits.
pub fn parse_data(v: &Value, what: &str) -> Result<Vec<u8>, String> {
    let s = expect_str(v, what)?;
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| format!("{what}: data lacks the 0x prefix"))?;
    if digits.bytes().any(|c| c.is_ascii_uppercase()) {
        return Err(format!("{what}: data must be lowercase hex"));
    }
    hexutil::decode_0x(s).map_err(|e| format!("{what}: {e}"))
}

pub(super) fn parse_fixed<const N: usize>(v: &Value, what: &str) -> Result<[u8; N], String> {
    let bytes = parse_data(v, what)?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("{what}: expected {N} bytes, got {}", b.len()))
}

/// A 32-byte hash in lowercase hex.
pub fn parse_hash(v: &Value, what: &str) -> Result<[u8; 32], String> {
    parse_fixed::<32>(v, what)
}

/// An address: 40 hex digits, lowercase (or EIP-55 when mixed case).
pub fn parse_address(v: &Value, what: &str) -> Result<Address, String> {
    Address::parse(expect_str(v, what)?).map_err(|e| format!("{what}: {e}"))
}

/// A `u64` as a hex quantity.
pub fn quantity(v: u64) -> String {
    format!("{v:#x}")
}

/// A `U256` as a hex quantity (no leading zeros; `0x0` for zero).
pub fn quantity_u256(v: &U256) -> String {
    let hex = hexutil::encode_0x(&v.to_be_bytes());
    let digits = hex[2..].trim_start_matches('0');
    if digits.is_empty() {
        "0x0".to_owned()
    } else {
        format!("0x{digits}")
    }
}

pub(super) fn field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<&'a Value, String> {
    obj.get(key)
        .ok_or_else(|| format!("{what}: missing field {key:?}"))
}

pub(super) fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{what}: expected an object, got {}", short_json(v)))
}

/// A field that may be absent or null.
pub(super) fn optional<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}
