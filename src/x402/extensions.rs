//! x402 extensions fastx402 reads and declares.
//!
//! `payment-identifier` (the official extension): a server declares
//! `{"info": {"required": bool}, "schema": …}` under `extensions["payment-identifier"]` of its
//! 402; a client copies the declaration into its payment and adds `info.id`, an id of 16–128
//! characters of `[A-Za-z0-9_-]` (the same id on a resend of the same payment). The extension is
//! not signed: a seller binds the id to the request it came with (fastx402's seller reserves it
//! before verification, so requests with one id settle at most once).

pub mod bazaar;

use serde_json::{json, Value};

use super::error::ProtocolError;
use super::reason;

pub const PAYMENT_IDENTIFIER: &str = "payment-identifier";
pub const PAYMENT_ID_MIN_LEN: usize = 16;
pub const PAYMENT_ID_MAX_LEN: usize = 128;

/// The declaration a server puts in its 402 `extensions["payment-identifier"]`.
pub fn payment_identifier_declaration(required: bool) -> Value {
    json!({
        "info": {"required": required},
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "required": {"type": "boolean"},
                "id": {
                    "type": "string",
                    "minLength": PAYMENT_ID_MIN_LEN,
                    "maxLength": PAYMENT_ID_MAX_LEN,
                    "pattern": "^[a-zA-Z0-9_-]+$",
                },
            },
            "required": ["required"],
        },
    })
}

/// Whether `id` is a valid payment id (16–128 characters of `[A-Za-z0-9_-]`).
pub fn is_payment_id(id: &str) -> bool {
    (PAYMENT_ID_MIN_LEN..=PAYMENT_ID_MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The payment id a payment carries in `extensions`, if any; a malformed one is an error naming
/// its path (`extensions.payment-identifier.info.id`).
pub fn payment_identifier(extensions: Option<&Value>) -> Result<Option<String>, ProtocolError> {
    let Some(ext) = extensions.and_then(|e| e.get(PAYMENT_IDENTIFIER)) else {
        return Ok(None);
    };
    let base = format!("extensions.{PAYMENT_IDENTIFIER}");
    let bad = |path: String, message: &str| {
        Err(ProtocolError::field(reason::INVALID_PAYLOAD, path, message))
    };
    let Some(ext) = ext.as_object() else {
        return bad(base, "must be an object");
    };
    let Some(info) = ext.get("info") else {
        return Ok(None);
    };
    let Some(info) = info.as_object() else {
        return bad(format!("{base}.info"), "must be an object");
    };
    match info.get("id") {
        None => Ok(None),
        Some(Value::String(id)) if is_payment_id(id) => Ok(Some(id.clone())),
        Some(_) => bad(
            format!("{base}.info.id"),
            "a payment id is 16-128 characters of A-Z a-z 0-9 _ -",
        ),
    }
}

/// `extensions` with `id` added to its `payment-identifier` declaration (created when absent).
pub fn with_payment_identifier(
    extensions: Option<&Value>,
    id: &str,
) -> Result<Value, ProtocolError> {
    if !is_payment_id(id) {
        return Err(ProtocolError::field(
            reason::INVALID_PAYLOAD,
            format!("extensions.{PAYMENT_IDENTIFIER}.info.id"),
            "a payment id is 16-128 characters of A-Z a-z 0-9 _ -",
        ));
    }
    let mut out = extensions.cloned().unwrap_or_else(|| json!({}));
    let Some(map) = out.as_object_mut() else {
        return Err(ProtocolError::field(
            reason::INVALID_PAYLOAD,
            "extensions",
            "must be an object",
        ));
    };
    let entry = map
        .entry(PAYMENT_IDENTIFIER)
        .or_insert_with(|| payment_identifier_declaration(false));
    if !entry.is_object() {
        *entry = payment_identifier_declaration(false);
    }
    let info = entry.as_object_mut().map(|o| {
        o.entry("info")
            .or_insert_with(|| json!({"required": false}))
    });
    if let Some(info) = info {
        if !info.is_object() {
            *info = json!({"required": false});
        }
        if let Some(info) = info.as_object_mut() {
            info.insert("id".into(), Value::String(id.to_owned()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_grammar() {
        assert!(is_payment_id("pay_0123456789abcdef"));
        assert!(!is_payment_id("short"));
        assert!(!is_payment_id(&"a".repeat(129)));
        assert!(!is_payment_id("pay_0123456789abcde!"));
        let ext = with_payment_identifier(None, "pay_0123456789abcdef").unwrap();
        assert_eq!(
            payment_identifier(Some(&ext)).unwrap().as_deref(),
            Some("pay_0123456789abcdef")
        );
        assert_eq!(payment_identifier(None).unwrap(), None);
        let bad = json!({"payment-identifier": {"info": {"id": 5}}});
        assert_eq!(
            payment_identifier(Some(&bad)).unwrap_err().path,
            "extensions.payment-identifier.info.id"
        );
    }
}
