//! The one error type the core exposes; `python/errors.rs` maps it to Python
//! exceptions in a single place.

use crate::crypto::address::AddressError;
use crate::crypto::ecdsa::{KeyError, SignatureError};
use crate::crypto::eip712::Eip712Error;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Address(#[from] AddressError),
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    TypedData(#[from] Eip712Error),
    #[error(transparent)]
    Protocol(#[from] crate::x402::error::ProtocolError),
    #[error("digest must be 32 bytes, got {0}")]
    DigestLength(usize),
}

pub type Result<T> = std::result::Result<T, Error>;
