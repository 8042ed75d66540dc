//! One grammar per field. Accessors over a strict JSON object that name the path
//! of whatever they refuse. Protocol strings are ASCII; amounts, timestamps and
//! nonces are decimal strings `0|[1-9][0-9]*` ≤ 2^256 − 1; numbers and booleans
//! where strings are required are refused, and so are strings where numbers are.

use serde_json::{Map, Value};

use super::error::ProtocolError;
use crate::crypto::address::Address;
use crate::crypto::hexutil;
use crate::num::U256;

/// Longest free-text field (descriptions, error messages) accepted.
const MAX_TEXT: usize = 4096;

/// A JSON object being read, and where it sits in the message.
pub struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    pub path: String,
    reason: &'static str,
}

impl<'a> Obj<'a> {
    /// `value` must be an object; errors carry `reason`.
    pub fn new(
        value: &'a Value,
        path: impl Into<String>,
        reason: &'static str,
    ) -> Result<Self, ProtocolError> {
        let path = path.into();
        match value.as_object() {
            Some(map) => Ok(Obj { map, path, reason }),
            None => Err(ProtocolError::field(reason, path, "must be a JSON object")),
        }
    }

    pub fn child_path(&self, key: &str) -> String {
        if self.path == "$" {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn err(&self, key: &str, message: impl std::fmt::Display) -> ProtocolError {
        ProtocolError::field(self.reason, self.child_path(key), message)
    }

    /// Refuses any key not in `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<(), ProtocolError> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(self.err(k, "unexpected field")),
            None => Ok(()),
        }
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    fn required(&self, key: &str) -> Result<&'a Value, ProtocolError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Err(self.err(key, "required field is missing")),
            Some(v) => Ok(v),
        }
    }

    /// Present and not null.
    fn optional(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn string(&self, key: &str, v: &'a Value) -> Result<&'a str, ProtocolError> {
        v.as_str()
            .ok_or_else(|| self.err(key, format_args!("must be a string, not {}", kind_of(v))))
    }

    /// An ASCII protocol token: printable, no spaces, 1..=128 bytes.
    pub fn token(&self, key: &str) -> Result<&'a str, ProtocolError> {
        let s = self.string(key, self.required(key)?)?;
        check_token(s).map_err(|m| self.err(key, m))?;
        Ok(s)
    }

    /// Free text (descriptions, messages): any Unicode, length-capped. It is never
    /// interpreted; whoever displays it must escape it.
    pub fn text(&self, key: &str) -> Result<Option<&'a str>, ProtocolError> {
        let Some(v) = self.optional(key) else {
            return Ok(None);
        };
        let s = self.string(key, v)?;
        if s.len() > MAX_TEXT {
            return Err(self.err(key, format_args!("longer than {MAX_TEXT} bytes")));
        }
        Ok(Some(s))
    }

    pub fn required_text(&self, key: &str) -> Result<&'a str, ProtocolError> {
        self.required(key)?;
        Ok(self.text(key)?.expect("present"))
    }

    /// A decimal uint256 string.
    pub fn uint(&self, key: &str) -> Result<U256, ProtocolError> {
        let s = self.string(key, self.required(key)?)?;
        U256::from_dec_str(s)
            .map_err(|e| self.err(key, format_args!("not a decimal uint256 string: {e}")))
    }

    /// An EVM address string (`0x` + 40 hex digits, EIP-55 when mixed case).
    pub fn address(&self, key: &str) -> Result<Address, ProtocolError> {
        let s = self.string(key, self.required(key)?)?;
        Address::parse(s).map_err(|e| self.err(key, e))
    }

    /// `0x` + exactly 64 hex digits.
    pub fn bytes32(&self, key: &str) -> Result<[u8; 32], ProtocolError> {
        let s = self.string(key, self.required(key)?)?;
        hexutil::decode_0x_fixed::<32>(s)
            .map_err(|e| self.err(key, format_args!("not 0x + 64 hex digits: {e}")))
    }

    /// `0x` + an even number of hex digits, at most `max` bytes.
    pub fn hex_bytes(&self, key: &str, max: usize) -> Result<Vec<u8>, ProtocolError> {
        let s = self.string(key, self.required(key)?)?;
        if s.len() > 2 + 2 * max {
            return Err(self.err(key, format_args!("longer than {max} bytes")));
        }
        hexutil::decode_0x(s).map_err(|e| self.err(key, format_args!("not 0x hex: {e}")))
    }

    /// A JSON integer (never a string, float or bool) that fits in u64.
    pub fn integer(&self, key: &str) -> Result<u64, ProtocolError> {
        let v = self.required(key)?;
        let Value::Number(n) = v else {
            return Err(self.err(
                key,
                format_args!("must be a JSON integer, not {}", kind_of(v)),
            ));
        };
        let text = n.as_str();
        if !text.bytes().all(|c| c.is_ascii_digit()) || (text.len() > 1 && text.starts_with('0')) {
            return Err(self.err(key, "must be a non-negative JSON integer"));
        }
        text.parse().map_err(|_| self.err(key, "integer too large"))
    }

    pub fn object(&self, key: &str) -> Result<Obj<'a>, ProtocolError> {
        Obj::new(self.required(key)?, self.child_path(key), self.reason)
    }

    pub fn optional_object(&self, key: &str) -> Result<Option<Obj<'a>>, ProtocolError> {
        self.optional(key)
            .map(|v| Obj::new(v, self.child_path(key), self.reason))
            .transpose()
    }

    pub fn array(&self, key: &str) -> Result<&'a Vec<Value>, ProtocolError> {
        let v = self.required(key)?;
        v.as_array()
            .ok_or_else(|| self.err(key, format_args!("must be an array, not {}", kind_of(v))))
    }

    pub fn bool(&self, key: &str) -> Result<bool, ProtocolError> {
        let v = self.required(key)?;
        v.as_bool().ok_or_else(|| {
            self.err(
                key,
                format_args!("must be true or false, not {}", kind_of(v)),
            )
        })
    }
}

pub fn check_token(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("must not be empty");
    }
    if s.len() > 128 {
        return Err("longer than 128 bytes");
    }
    if !s.bytes().all(|c| c.is_ascii_graphic()) {
        return Err("must be printable ASCII without spaces");
    }
    Ok(())
}

pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: &Value) -> Obj<'_> {
        Obj::new(v, "$", crate::x402::reason::INVALID_PAYLOAD).unwrap()
    }

    #[test]
    fn uint_strings_only() {
        for (v, ok) in [
            (json!({"a": "10000"}), true),
            (json!({"a": "0"}), true),
            (json!({"a": " 10000 "}), false),
            (json!({"a": "010000"}), false),
            (json!({"a": "10_000"}), false),
            (json!({"a": "１０"}), false),
            (json!({"a": 10000}), false),
            (json!({"a": false}), false),
            (json!({"a": null}), false),
            (json!({}), false),
        ] {
            assert_eq!(obj(&v).uint("a").is_ok(), ok, "{v}");
        }
        assert_eq!(obj(&json!({"a": 5})).uint("a").unwrap_err().path, "a");
    }

    #[test]
    fn integers_only() {
        for (v, ok) in [
            (json!({"a": 60}), true),
            (json!({"a": "60"}), false),
            (json!({"a": 60.0}), false),
            (json!({"a": -1}), false),
            (json!({"a": true}), false),
        ] {
            assert_eq!(obj(&v).integer("a").is_ok(), ok, "{v}");
        }
    }

    #[test]
    fn tokens_and_paths() {
        let v = json!({"x": {"s": "exact", "t": "ex act", "u": "é"}});
        let o = obj(&v).object("x").unwrap();
        assert!(o.token("s").is_ok());
        assert_eq!(o.token("t").unwrap_err().path, "x.t");
        assert!(o.token("u").is_err());
        assert_eq!(o.only(&["s", "t"]).unwrap_err().path, "x.u");
    }
}
