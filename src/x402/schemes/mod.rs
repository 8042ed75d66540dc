//! The x402 payment schemes, laid out as the specification names them:
//!
//! - [`exact`]: pay exactly `amount`, over one of two asset transfer methods
//!   (`extra.assetTransferMethod`): [`exact::eip3009`] (the default) and
//!   [`exact::permit2`];
//! - [`upto`]: the payer permits up to `amount`, the server settles what it charged
//!   (always over Permit2).
//!
//! What the schemes share lives beside them, not in them: [`super::verify`] (the
//! verdict, replay key, timing constants), [`super::checks`] (fastx402's stricter
//! checks), [`super::create`] (client options, nonce, v2 envelope), [`super::payload`]
//! (typed payloads) and [`super::permit2`] (the Permit2 machinery of `exact` and
//! `upto`). [`super::payment`] picks the scheme from the requirements.

pub mod exact;
pub mod upto;

/// The `exact` scheme's wire name.
pub const EXACT: &str = "exact";
/// The `upto` scheme's wire name.
pub const UPTO: &str = "upto";

use super::error::ProtocolError;
use super::reason;
use super::types::{PaymentRequired, Requirements};

/// The first x402 v2 entry of `accepts` that `wanted` accepts; otherwise an
/// `unsupported_scheme` error with `message`.
pub(crate) fn first_v2<'a>(
    required: &'a PaymentRequired,
    wanted: fn(&Requirements) -> bool,
    message: &'static str,
) -> Result<&'a Requirements, ProtocolError> {
    required
        .accepts
        .iter()
        .find(|r| r.version == 2 && wanted(r))
        .ok_or_else(|| ProtocolError::field(reason::UNSUPPORTED_SCHEME, "accepts", message))
}
