//! Rust errors → the exceptions defined in `fastx402.errors` (pyca/cryptography's
//! pattern: Python owns the hierarchy, Rust only raises it).

use pyo3::import_exception;
use pyo3::PyErr;

use crate::error::Error;
use crate::facilitator::remote::RemoteError;

import_exception!(fastx402.errors, InvalidAddress);
import_exception!(fastx402.errors, InvalidSignature);
import_exception!(fastx402.errors, InvalidKey);
import_exception!(fastx402.errors, InvalidTypedData);
import_exception!(fastx402.errors, InvalidDigest);
import_exception!(fastx402.errors, ProtocolError);
import_exception!(fastx402.errors, HeaderTooLarge);
import_exception!(fastx402.errors, FacilitatorError);
import_exception!(fastx402.errors, FacilitatorUnavailable);
import_exception!(fastx402.errors, SettlementOutcomeUnknown);

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        match err {
            Error::Address(e) => InvalidAddress::new_err(e.to_string()),
            Error::Signature(e) => InvalidSignature::new_err((e.to_string(), e.code())),
            Error::Key(e) => InvalidKey::new_err(e.to_string()),
            Error::TypedData(e) => InvalidTypedData::new_err((e.to_string(), e.path)),
            Error::Protocol(e) => {
                let args = (e.to_string(), e.reason, e.path.clone());
                if e.kind == crate::x402::error::ErrorKind::TooLarge {
                    HeaderTooLarge::new_err(args)
                } else {
                    ProtocolError::new_err(args)
                }
            }
            e @ Error::DigestLength(_) => InvalidDigest::new_err(e.to_string()),
        }
    }
}

/// A typed-data error raised while converting Python input.
pub fn typed_data_error(path: String, message: impl std::fmt::Display) -> PyErr {
    let text = format!("{path}: {message}");
    InvalidTypedData::new_err((text, path))
}

/// A remote facilitator call that failed: `FacilitatorUnavailable` when the request
/// was certainly not sent, else `FacilitatorError` (message, code).
pub fn remote_error(err: &RemoteError) -> PyErr {
    let args = (err.to_string(), err.code());
    if err.not_sent() {
        FacilitatorUnavailable::new_err(args)
    } else {
        FacilitatorError::new_err(args)
    }
}
