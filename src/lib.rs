//! fastx402's core. Two halves:
//!
//! - without I/O: Ethereum cryptography ([`crypto`], [`abi`]), strict JSON ([`json`]) and the
//!   x402 protocol ([`x402`]: wire types, header codec, networks and money, payment creation and
//!   local verification);
//! - with network and file I/O, async on tokio: the chain layer ([`chain`]: RLP, EIP-1559
//!   transactions, a JSON-RPC client, nonces, fees) and the facilitator ([`facilitator`]: on-chain
//!   checks, settlement, an exactly-once ledger on disk, a client for a remote facilitator).
//!
//! The PyO3 adapter (`src/python/`, feature `python`) is the only code that knows Python.

pub mod abi;
mod cache;
pub mod chain;
pub mod crypto;
pub mod error;
pub mod facilitator;
mod http;
pub mod json;
pub mod num;
pub mod text;
pub mod unwind;
pub mod x402;

#[cfg(feature = "python")]
mod python;
