//! fastx402's core: sans-I/O Ethereum cryptography and x402 protocol logic.
//! The PyO3 adapter lives in `python/` and is the only code that knows Python.

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
