//! Decoding errors: a reason code from the x402 vocabulary, the JSON path of the
//! offending field, and a message for humans.

use std::fmt;

/// What class of failure a decode error is; the HTTP layer maps `TooLarge` to 431.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The header is over the size cap; nothing was decoded.
    TooLarge,
    /// Not base64 in one of the accepted alphabets.
    Base64,
    /// Not strict JSON (syntax, duplicate key, nesting too deep).
    Json,
    /// JSON that breaks a field's grammar or the message's shape.
    Field,
    /// Creating a payment failed for a reason other than the requirements (the OS
    /// could not supply randomness); never a verification failure.
    Create,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ProtocolError {
    pub kind: ErrorKind,
    /// An x402 reason code (`invalid_payload`, `invalid_x402_version`, …).
    pub reason: &'static str,
    /// Where: `accepted.extra.name`, `payload.authorization.value`; `$` for the whole.
    pub path: String,
    pub message: String,
}

impl ProtocolError {
    pub fn new(
        kind: ErrorKind,
        reason: &'static str,
        path: impl Into<String>,
        message: impl fmt::Display,
    ) -> Self {
        ProtocolError {
            kind,
            reason,
            path: path.into(),
            message: message.to_string(),
        }
    }

    pub fn field(
        reason: &'static str,
        path: impl Into<String>,
        message: impl fmt::Display,
    ) -> Self {
        Self::new(ErrorKind::Field, reason, path, message)
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {}", self.reason, self.path, self.message)
    }
}
