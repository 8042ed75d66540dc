//! The one error type the core exposes to its bindings: crypto, x402 protocol,
//! networks and money, remote facilitator calls and facilitator set-up.
//! `python/errors.rs` maps it to Python exceptions in a single place.

use crate::crypto::address::AddressError;
use crate::crypto::ecdsa::{KeyError, SignatureError};
use crate::crypto::eip712::Eip712Error;
use crate::facilitator::engine::FacilitatorError;
use crate::facilitator::ledger::JournalError;
use crate::facilitator::remote::{self, RemoteError};
use crate::x402::money::{MoneyError, PriceError};
use crate::x402::networks::{NetworkError, MAX_DECIMALS};

/// At most this many characters of a refused price are quoted back.
const PRICE_SHOWN: usize = 80;

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
    /// A network that cannot be named, or an asset that cannot be registered or found.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// A price or an atomic amount that breaks the grammar; `quoted` is the refused
    /// text, quoted and cut to 80 characters.
    #[error("invalid price {quoted}: {error}")]
    Price { quoted: String, error: MoneyError },
    /// A `decimals` argument out of range (`shown`: the value as given); for an
    /// asset definition (`asset`) or for a price.
    #[error("decimals must be from 0 to {MAX_DECIMALS}, got {shown}")]
    Decimals { shown: String, asset: bool },
    /// A remote facilitator call that got no usable answer.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// A bad argument given to build a facilitator or a facilitator client.
    #[error("{0}")]
    Config(String),
    /// A facilitator that could not start for another reason than its arguments
    /// (`code`: `journal_locked`).
    #[error("{message}")]
    Facilitator { code: &'static str, message: String },
}

impl Error {
    /// A price refused by the grammar, quoting (a bounded prefix of) its text.
    pub fn price(text: &str, error: MoneyError) -> Self {
        let quoted = match text.char_indices().nth(PRICE_SHOWN) {
            None => format!("{text:?}"),
            Some((cut, _)) => format!("{:?}…", &text[..cut]),
        };
        Error::Price { quoted, error }
    }

    /// A price that could not be resolved: its asset or its grammar.
    pub fn resolve(text: &str, error: PriceError) -> Self {
        match error {
            PriceError::Asset(e) => Error::Network(e),
            PriceError::Money(e) => Error::price(text, e),
        }
    }

    /// A configuration mistake.
    pub fn config(message: impl std::fmt::Display) -> Self {
        Error::Config(message.to_string())
    }
}

impl From<remote::ConfigError> for Error {
    fn from(e: remote::ConfigError) -> Self {
        Error::Config(e.to_string())
    }
}

/// A facilitator that could not start: a locked journal is `journal_locked`,
/// anything else (RPC URL, chain, fee policy, journal file) its configuration.
impl From<FacilitatorError> for Error {
    fn from(e: FacilitatorError) -> Self {
        match e {
            FacilitatorError::Journal(JournalError::Locked { .. }) => Error::Facilitator {
                code: "journal_locked",
                message: e.to_string(),
            },
            e => Error::config(e),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
