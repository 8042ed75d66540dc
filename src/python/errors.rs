//! Rust errors → the exceptions defined in `fastx402.errors` (pyca/cryptography's
//! pattern: Python owns the hierarchy, Rust only raises it). Every exception the
//! extension raises is made here: [`From<Error>`] for the one core error type, and
//! the few helpers below for what only the binding knows (a conversion path, a
//! settle answer to attach, a panic).

use pyo3::import_exception;
use pyo3::prelude::*;
use pyo3::PyErr;

use crate::error::Error;
use crate::unwind::Panicked;
use crate::x402::error::ErrorKind;

import_exception!(fastx402.errors, InvalidAddress);
import_exception!(fastx402.errors, InvalidSignature);
import_exception!(fastx402.errors, InvalidKey);
import_exception!(fastx402.errors, InvalidTypedData);
import_exception!(fastx402.errors, InvalidDigest);
import_exception!(fastx402.errors, ProtocolError);
import_exception!(fastx402.errors, HeaderTooLarge);
import_exception!(fastx402.errors, InvalidNetwork);
import_exception!(fastx402.errors, InvalidAsset);
import_exception!(fastx402.errors, InvalidPrice);
import_exception!(fastx402.errors, FacilitatorError);
import_exception!(fastx402.errors, ConfigError);
import_exception!(fastx402.errors, FacilitatorUnavailable);
import_exception!(fastx402.errors, SettlementOutcomeUnknown);

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        let message = err.to_string();
        match err {
            Error::Address(_) => InvalidAddress::new_err(message),
            Error::Signature(e) => InvalidSignature::new_err((message, e.code())),
            Error::Key(_) => InvalidKey::new_err(message),
            Error::TypedData(e) => InvalidTypedData::new_err((message, e.path)),
            Error::Protocol(e) => {
                let args = (message, e.reason, e.path.clone());
                if e.kind == ErrorKind::TooLarge {
                    HeaderTooLarge::new_err(args)
                } else {
                    ProtocolError::new_err(args)
                }
            }
            Error::DigestLength(_) => InvalidDigest::new_err(message),
            Error::Network(e) => {
                let args = (message, e.reason(), e.code());
                if e.is_asset_error() {
                    InvalidAsset::new_err(args)
                } else {
                    InvalidNetwork::new_err(args)
                }
            }
            Error::Price { error, .. } => {
                InvalidPrice::new_err((message, error.reason(), error.code()))
            }
            Error::Decimals { asset, .. } => {
                let args = (
                    message,
                    crate::x402::reason::INVALID_PAYMENT_REQUIREMENTS,
                    "invalid_decimals",
                );
                if asset {
                    InvalidAsset::new_err(args)
                } else {
                    InvalidPrice::new_err(args)
                }
            }
            // `FacilitatorUnavailable` when the request was certainly not sent.
            Error::Remote(e) if e.not_sent() => {
                FacilitatorUnavailable::new_err((message, e.code()))
            }
            Error::Remote(e) => FacilitatorError::new_err((message, e.code())),
            Error::Config(_) => ConfigError::new_err((message, "config")),
            Error::Facilitator { code, .. } => FacilitatorError::new_err((message, code)),
        }
    }
}

/// A typed-data error raised while converting Python input.
pub fn typed_data_error(path: String, message: impl std::fmt::Display) -> PyErr {
    let text = format!("{path}: {message}");
    InvalidTypedData::new_err((text, path))
}

/// A signature argument that is not bytes nor `0x` hex (`reason` `malformed`).
pub fn signature_input_error(message: String) -> PyErr {
    InvalidSignature::new_err((message, "malformed"))
}

/// A settlement whose outcome is unknown: `code` names the cause, `response` is
/// the answer read, if any (a `SettleResponse`).
pub fn outcome_unknown<T>(message: String, code: &str, response: Option<Py<T>>) -> PyErr
where
    T: pyo3::PyClass,
{
    SettlementOutcomeUnknown::new_err((message, code.to_owned(), response))
}

/// A Rust panic as the exception every binding raises for it:
/// `FacilitatorError` with code `internal` (no panic crosses into Python as
/// `PanicException`, which is not an `Exception`).
pub fn panic_error(p: Panicked) -> PyErr {
    FacilitatorError::new_err((p.to_string(), "internal"))
}
